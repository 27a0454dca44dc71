/* tests/unit/test_epcis_map.c — validation of capture documents and the mapping of EPCIS events
 * to siteledger records (docs/epcis.md "Mapping"), on the project's own documents in
 * tests/data/epcis/ (run from the repository root).
 */
#include "epcis/map.h"
#include "tests/unit/test.h"

#define DATA "tests/data/epcis/"

static epcis_doc *load(const char *path)
{
	epcis_doc *doc = NULL;
	struct sl_error_detail detail = { { 0 } };
	if (epcis_doc_read_file(path, &doc, &detail) != 0)
		printf("  %s: %s\n", path, detail.text);
	return doc;
}

static void sites_default(struct epcis_site_map *sites)
{
	memset(sites, 0, sizeof(*sites));
	CHECK_INT_EQ(epcis_site_map_add(sites, "9506000000008", "mfg", NULL), 0);
	CHECK_INT_EQ(epcis_site_map_add(sites, "urn:epc:id:sgln:9506000.00001.0", "dc", NULL), 0);
}

static bool str_is(struct sl_str s, const char *text)
{
	return sl_str_eq_cstr(s, text);
}

static void test_json_flow_maps_to_records(void)
{
	epcis_doc *doc = load(DATA "flow.json");
	REQUIRE(doc != NULL);
	CHECK_INT_EQ(epcis_doc_validate(doc, NULL), 0);
	struct epcis_site_map sites;
	sites_default(&sites);
	struct epcis_mapping m;
	REQUIRE(epcis_map_document(doc, "mfg", &sites, NULL, &m) == 0);
	REQUIRE(m.event_count == 7);
	static const char *const as[] = { "commission", "commission-container", "aggregate", "aggregate", "ship", "",
					  "decommission" };
	for (size_t i = 0; i < 7; i++) {
		CHECK_INT_EQ(m.events[i].status, i == 5 ? EPCIS_EVENT_NOT_MODELLED : EPCIS_EVENT_MAPPED);
		CHECK_STR_EQ(m.events[i].mapped_as, as[i]);
		CHECK(strncmp(m.events[i].hash_id, "ni:///sha-256;", 14) == 0);
	}
	CHECK_STR_EQ(m.events[0].event_id, "urn:uuid:7d0c6c1e-0001-4000-8000-000000000001");
	REQUIRE(m.record_count == 6);
	const struct record *commission = &m.records[0];
	CHECK_INT_EQ(commission->type, RECORD_COMMISSION);
	CHECK(str_is(commission->gtin, "09506000134352"));
	CHECK(str_is(commission->lot, "LOT-EP1"));
	CHECK(str_is(commission->expiry, "281130"));
	REQUIRE(commission->item_count == 4);
	CHECK(str_is(commission->items[1], "EP-A2")); /* the EPC URI form of the same GTIN */
	CHECK_INT_EQ(commission->event_time_ms, 1795161600000LL); /* 2026-11-20T08:00:00Z (date -u -d ... +%s) */
	CHECK(commission->has_reason && strncmp(commission->reason.ptr, "epcis ni:///sha-256;", 20) == 0);
	CHECK(str_is(m.records[1].items[1], "(00)095060001000000036"));
	CHECK(str_is(m.records[2].parent, "(00)095060001000000012"));
	CHECK_INT_EQ(m.records[2].item_count, 3);
	CHECK(str_is(m.records[4].to, "dc")); /* the location destination, not the owning party */
	CHECK_INT_EQ(m.records[5].decommission_reason, DECOMMISSION_DAMAGED);
	epcis_mapping_free(&m);
	epcis_doc_free(doc);
}

static void test_xml_flow_maps_recall_and_destruction(void)
{
	epcis_doc *doc = load(DATA "flow.xml");
	REQUIRE(doc != NULL);
	CHECK_INT_EQ(epcis_doc_validate(doc, NULL), 0);
	struct epcis_site_map sites;
	sites_default(&sites);
	struct epcis_mapping m;
	REQUIRE(epcis_map_document(doc, "mfg", &sites, NULL, &m) == 0);
	REQUIRE(m.event_count == 4);
	CHECK_INT_EQ(m.events[0].status, EPCIS_EVENT_MAPPED);
	CHECK(strstr(m.events[0].note, "not SGTIN or SSCC") != NULL); /* the GRAI is named, not dropped */
	REQUIRE(m.record_count == 3);
	CHECK_INT_EQ(m.records[0].item_count, 3);
	CHECK(str_is(m.records[0].expiry, "290228"));
	CHECK_INT_EQ(m.records[1].type, RECORD_DECOMMISSION);
	CHECK_INT_EQ(m.records[1].decommission_reason, DECOMMISSION_DESTROYED);
	CHECK_INT_EQ(m.records[2].type, RECORD_LOCK);
	CHECK_INT_EQ(m.records[2].lock_scope, LOCK_SCOPE_LOT);
	CHECK_INT_EQ(m.records[2].lock_reason, LOCK_RECALL);
	CHECK(str_is(m.records[2].lock_target, "(01)09506000134352(10)LOT-XB"));
	CHECK_INT_EQ(m.events[3].status, EPCIS_EVENT_NOT_MODELLED);
	CHECK(strstr(m.events[3].note, "TransformationEvent") != NULL);
	epcis_mapping_free(&m);
	epcis_doc_free(doc);
}

static void test_unmapped_destination_fails_naming_the_field(void)
{
	epcis_doc *doc = load(DATA "flow.json");
	REQUIRE(doc != NULL);
	struct epcis_site_map none;
	memset(&none, 0, sizeof none);
	struct epcis_mapping m;
	REQUIRE(epcis_map_document(doc, "mfg", &none, NULL, &m) == 0);
	CHECK_INT_EQ(m.events[4].status, EPCIS_EVENT_FAILED);
	CHECK(strstr(m.events[4].note, "destinationList") != NULL);
	CHECK_INT_EQ(m.events[4].record_count, 0);
	CHECK_INT_EQ(m.record_count, 5); /* the others still map */
	epcis_mapping_free(&m);
	epcis_doc_free(doc);
}

static const char head[] = "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"],"
			   "\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":\"2026-01-01T00:00:00Z\","
			   "\"epcisBody\":{\"eventList\":[";
#define EVENT_START "{\"type\":\"ObjectEvent\",\"eventTime\":\"2026-01-01T00:00:00Z\",\"eventTimeZoneOffset\":\"+00:00\","

static epcis_doc *doc_of(const char *events)
{
	static char text[200000];
	snprintf(text, sizeof text, "%s%s]}}", head, events);
	epcis_doc *doc = NULL;
	struct sl_error_detail detail = { { 0 } };
	if (epcis_doc_parse(text, strlen(text), &doc, &detail) != 0)
		printf("  parse: %s\n", detail.text);
	return doc;
}

static void test_invalid_documents_name_event_and_field(void)
{
	struct {
		const char *events;
		const char *field;
	} cases[] = {
		{ EVENT_START "\"epcList\":[]}", "'action'" },
		{ "{\"type\":\"ObjectEvent\",\"eventTime\":\"2026-13-01T00:00:00Z\",\"eventTimeZoneOffset\":\"+00:00\","
		  "\"epcList\":[],\"action\":\"ADD\"}",
		  "'eventTime'" },
		{ EVENT_START "\"action\":\"ADD\"}", "'epcList'" },
		{ EVENT_START "\"epcList\":[],\"action\":\"ADD\",\"bizStep\":\"transforming\"}", "'bizStep'" },
		{ EVENT_START "\"epcList\":[],\"action\":\"ADD\",\"ilmd\":{\"lot\":\"1\"}}", "'ilmd'" },
		{ EVENT_START "\"action\":\"ADD\",\"quantityList\":[{\"epcClass\":\"urn:x\",\"weight\":5}]}", "'quantityList'" },
		{ EVENT_START "\"epcList\":[],\"action\":\"OBSERVE\",\"sourceList\":[{\"type\":\"place\",\"source\":\"urn:x\"}]}",
		  "'sourceList'" },
		{ "{\"type\":\"ThingEvent\",\"eventTime\":\"2026-01-01T00:00:00Z\"}", "'type'" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		epcis_doc *doc = doc_of(cases[i].events);
		REQUIRE(doc != NULL);
		struct sl_error_detail detail = { { 0 } };
		CHECK_INT_EQ(epcis_doc_validate(doc, &detail), SL_EVALUE);
		CHECK(strstr(detail.text, "event 1") != NULL);
		if (strstr(detail.text, cases[i].field) == NULL)
			printf("  case %zu: '%s' does not name %s\n", i, detail.text, cases[i].field);
		CHECK(strstr(detail.text, cases[i].field) != NULL);
		epcis_doc_free(doc);
	}
	epcis_doc *doc = load(DATA "invalid_disposition.json");
	REQUIRE(doc != NULL);
	struct sl_error_detail detail = { { 0 } };
	CHECK_INT_EQ(epcis_doc_validate(doc, &detail), SL_EVALUE);
	CHECK(strstr(detail.text, "event 2 (eventID urn:uuid:7d0c6c1e-0002-4000-8000-0000000000ff)") != NULL);
	CHECK(strstr(detail.text, "'disposition'") != NULL);
	epcis_doc_free(doc);
}

static void test_commission_without_lot_fails(void)
{
	epcis_doc *doc = doc_of(EVENT_START "\"epcList\":[\"https://id.gs1.org/01/09506000134352/21/Q1\"],"
					    "\"action\":\"ADD\",\"bizStep\":\"commissioning\"}");
	REQUIRE(doc != NULL);
	struct epcis_site_map none;
	memset(&none, 0, sizeof none);
	struct epcis_mapping m;
	REQUIRE(epcis_map_document(doc, "mfg", &none, NULL, &m) == 0);
	CHECK_INT_EQ(m.events[0].status, EPCIS_EVENT_FAILED);
	CHECK(strstr(m.events[0].note, "ilmd.lotNumber") != NULL);
	CHECK_INT_EQ(m.record_count, 0);
	epcis_mapping_free(&m);
	epcis_doc_free(doc);
}

/* Cases identified by an SGTIN of their own GTIN are parents (GS1 US DSCSA practice); a parent
 * that is neither an SSCC nor an SGTIN (here a GRAI) is not modelled, and says so. */
static void test_aggregation_into_a_serialised_case(void)
{
	epcis_doc *doc = doc_of("{\"type\":\"AggregationEvent\",\"eventTime\":\"2026-01-01T00:00:00Z\","
				"\"eventTimeZoneOffset\":\"+00:00\",\"parentID\":\"urn:epc:id:sgtin:9506000.113435.C1\","
				"\"childEPCs\":[\"urn:epc:id:sgtin:9506000.013435.U1\"],\"action\":\"ADD\",\"bizStep\":\"packing\"}");
	REQUIRE(doc != NULL);
	struct epcis_site_map none;
	memset(&none, 0, sizeof none);
	struct epcis_mapping m;
	REQUIRE(epcis_map_document(doc, "mfg", &none, NULL, &m) == 0);
	CHECK_INT_EQ(m.events[0].status, EPCIS_EVENT_MAPPED);
	REQUIRE(m.record_count == 1);
	CHECK_INT_EQ(m.records[0].type, RECORD_AGGREGATE);
	CHECK(str_is(m.records[0].parent, "(01)19506000134359(21)C1"));
	CHECK(str_is(m.records[0].items[0], "(01)09506000134352(21)U1"));
	epcis_mapping_free(&m);
	epcis_doc_free(doc);

	doc = doc_of("{\"type\":\"AggregationEvent\",\"eventTime\":\"2026-01-01T00:00:00Z\","
		     "\"eventTimeZoneOffset\":\"+00:00\",\"parentID\":\"urn:epc:id:grai:9506000.12345.7\","
		     "\"childEPCs\":[\"urn:epc:id:sgtin:9506000.013435.U1\"],\"action\":\"ADD\",\"bizStep\":\"packing\"}");
	REQUIRE(doc != NULL);
	REQUIRE(epcis_map_document(doc, "mfg", &none, NULL, &m) == 0);
	CHECK_INT_EQ(m.events[0].status, EPCIS_EVENT_NOT_MODELLED);
	CHECK(strstr(m.events[0].note, "neither an SSCC nor an SGTIN") != NULL);
	CHECK_INT_EQ(m.record_count, 0);
	epcis_mapping_free(&m);
	epcis_doc_free(doc);
}

/* 1500 serials: two commission records of at most RECORD_ITEMS_MAX. */
static void test_large_commission_splits_into_records(void)
{
	static char events[160000];
	size_t len = (size_t)snprintf(events, sizeof events, EVENT_START "\"epcList\":[");
	for (int i = 0; i < 1500; i++)
		len += (size_t)snprintf(events + len, sizeof events - len, "%s\"https://id.gs1.org/01/09506000134352/21/S%d\"",
					i ? "," : "", i);
	snprintf(events + len, sizeof events - len,
		 "],\"action\":\"ADD\",\"bizStep\":\"commissioning\",\"ilmd\":{\"cbvmda:lotNumber\":\"L9\","
		 "\"cbvmda:itemExpirationDate\":\"2030-01-31\"}}");
	epcis_doc *doc = doc_of(events);
	REQUIRE(doc != NULL);
	struct epcis_site_map none;
	memset(&none, 0, sizeof none);
	struct epcis_mapping m;
	REQUIRE(epcis_map_document(doc, "mfg", &none, NULL, &m) == 0);
	CHECK_INT_EQ(m.events[0].status, EPCIS_EVENT_MAPPED);
	REQUIRE(m.record_count == 2);
	CHECK_INT_EQ(m.records[0].item_count, RECORD_ITEMS_MAX);
	CHECK_INT_EQ(m.records[1].item_count, 500);
	CHECK(str_is(m.records[1].items[0], "S1000"));
	CHECK(str_is(m.records[1].expiry, "300131"));
	epcis_mapping_free(&m);
	epcis_doc_free(doc);
}

static void test_site_map(void)
{
	char gln[GS1_GLN_DIGITS + 1];
	CHECK_INT_EQ(epcis_gln_parse("urn:epc:id:sgln:9506000.00001.0", gln), 0);
	CHECK_STR_EQ(gln, "9506000000015");
	CHECK_INT_EQ(epcis_gln_parse("urn:epc:id:pgln:9506000.00001", gln), 0);
	CHECK_STR_EQ(gln, "9506000000015");
	CHECK_INT_EQ(epcis_gln_parse("https://id.gs1.org/414/9506000000015/254/7", gln), 0);
	CHECK_STR_EQ(gln, "9506000000015");
	CHECK_INT_EQ(epcis_gln_parse("9506000000016", gln), SL_EINVAL); /* check digit */
	CHECK_INT_EQ(epcis_gln_parse("https://id.gs1.org/01/09506000134352", gln), SL_EINVAL);
	struct epcis_site_map sites;
	sites_default(&sites);
	CHECK_STR_EQ(epcis_site_map_site(&sites, "9506000000015"), "dc");
	CHECK_STR_EQ(epcis_site_map_gln(&sites, "mfg"), "9506000000008");
	CHECK(epcis_site_map_site(&sites, "9506000000022") == NULL);
	struct sl_error_detail detail = { { 0 } };
	CHECK_INT_EQ(epcis_site_map_add(&sites, "9506000000015", "Bad Site", &detail), SL_EINVAL);
	CHECK(strstr(detail.text, "site id") != NULL);
	CHECK_INT_EQ(epcis_site_map_add(&sites, "9506000000015", "dc-2", NULL), 0); /* replaces */
	CHECK_STR_EQ(epcis_site_map_site(&sites, "9506000000015"), "dc-2");
	CHECK_INT_EQ(sites.count, 2);
}

static const struct test_case cases[] = {
	TEST_CASE(test_json_flow_maps_to_records),
	TEST_CASE(test_xml_flow_maps_recall_and_destruction),
	TEST_CASE(test_unmapped_destination_fails_naming_the_field),
	TEST_CASE(test_invalid_documents_name_event_and_field),
	TEST_CASE(test_commission_without_lot_fails),
	TEST_CASE(test_aggregation_into_a_serialised_case),
	TEST_CASE(test_large_commission_splits_into_records),
	TEST_CASE(test_site_map),
};
TEST_MAIN(cases)
