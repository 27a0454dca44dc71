/* tests/unit/test_epcis_hash.c — EPCIS reading, value normalisation and CBV 2.0 event hash IDs.
 *
 * Expected values are independent of the code: the pre-hash string of tests/data/epcis/
 * hash_event.jsonld was written by hand from CBV 2.0 §8.9 and its SHA-256 computed with coreutils
 * sha256sum; identifier conversions are values printed in GS1's event-hash reference examples.
 * The shared reference files (../shared/epcis/event-hash) are checked by tests/integration/test_epcis.sh.
 * Run from the repository root (tests/data/epcis/...).
 */
#include "epcis/epcis.h"
#include "tests/unit/test.h"

#define DATA "tests/data/epcis/"

static const char expected_prehash[] =
	"eventType=ObjectEventeventTime=2026-11-24T10:00:00.123ZeventTimeZoneOffset=+01:00"
	"epcListepc=https://id.gs1.org/01/09506000134352/21/A1epc=https://id.gs1.org/01/09506000134352/21/B2"
	"action=OBSERVEbizStep=https://ref.gs1.org/cbv/BizStep-shippingdisposition=https://ref.gs1.org/cbv/"
	"Disp-in_transitreadPointid=https://id.gs1.org/414/9506000000008bizTransactionListtype=https://ref.gs1.org/"
	"cbv/BTT-pobizTransaction=urn:epcglobal:cbv:bt:9506000000008:PO-7destinationListtype=https://ref.gs1.org/"
	"cbv/SDT-locationdestination=https://id.gs1.org/414/9506000000015{https://ns.example.com/epcis/}temp=5.5";
static const char expected_hash[] =
	"ni:///sha-256;1c234fe2ba9647eee9a47dc6a1c0c056215b287a639587c44220277cd13a4eb4?ver=CBV2.0";

static epcis_doc *parse_text(const char *text)
{
	epcis_doc *doc = NULL;
	struct sl_error_detail detail = { { 0 } };
	if (epcis_doc_parse(text, strlen(text), &doc, &detail) != 0)
		printf("  parse: %s\n", detail.text);
	return doc;
}

static void test_prehash_of_hand_written_example(void)
{
	epcis_doc *doc = NULL;
	REQUIRE(epcis_doc_read_file(DATA "hash_event.jsonld", &doc, NULL) == 0);
	REQUIRE(epcis_doc_event_count(doc) == 1);
	struct sl_buf prehash;
	sl_buf_init(&prehash, EPCIS_PREHASH_BYTES_MAX);
	CHECK_INT_EQ(epcis_event_prehash(doc, 0, &prehash), 0);
	REQUIRE(sl_buf_append(&prehash, "", 1) == 0);
	CHECK_STR_EQ((const char *)prehash.data, expected_prehash);
	char id[EPCIS_HASH_ID_SIZE];
	CHECK_INT_EQ(epcis_event_hash_id(doc, 0, id), 0);
	CHECK_STR_EQ(id, expected_hash);
	sl_buf_free(&prehash);
	epcis_doc_free(doc);
}

static void test_xml_and_json_give_the_same_hash(void)
{
	epcis_doc *doc = NULL;
	REQUIRE(epcis_doc_read_file(DATA "hash_event.xml", &doc, NULL) == 0);
	CHECK_INT_EQ(epcis_doc_syntax(doc), EPCIS_SYNTAX_XML);
	char id[EPCIS_HASH_ID_SIZE];
	CHECK_INT_EQ(epcis_event_hash_id(doc, 0, id), 0);
	CHECK_STR_EQ(id, expected_hash);
	epcis_doc_free(doc);
}

static const char doc_head[] = "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"],"
			       "\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":\"2026-01-01T00:00:00Z\","
			       "\"epcisBody\":{\"eventList\":[";

static void hash_of(const char *events, char id[EPCIS_HASH_ID_SIZE])
{
	char text[4096];
	snprintf(text, sizeof text, "%s%s]}}", doc_head, events);
	epcis_doc *doc = parse_text(text);
	id[0] = '\0';
	if (doc != NULL && epcis_doc_event_count(doc) > 0)
		CHECK_INT_EQ(epcis_event_hash_id(doc, 0, id), 0);
	epcis_doc_free(doc);
}

static void test_hash_ignores_order_and_changes_with_content(void)
{
	char a[EPCIS_HASH_ID_SIZE], b[EPCIS_HASH_ID_SIZE], c[EPCIS_HASH_ID_SIZE];
	hash_of("{\"type\":\"ObjectEvent\",\"eventTime\":\"2026-01-01T00:00:00Z\",\"eventTimeZoneOffset\":\"+00:00\","
		"\"epcList\":[\"urn:epc:id:sscc:9506000.0100000001\",\"urn:epc:id:sscc:9506000.0100000003\"],"
		"\"action\":\"OBSERVE\",\"eventID\":\"urn:x:1\"}",
		a);
	hash_of("{\"action\":\"OBSERVE\",\"epcList\":[\"https://id.gs1.org/00/095060001000000036\","
		"\"https://id.gs1.org/00/095060001000000012\"],\"type\":\"ObjectEvent\",\"eventTimeZoneOffset\":\"+00:00\","
		"\"eventTime\":\"2026-01-01T01:00:00+01:00\",\"eventID\":\"urn:x:2\"}",
		b);
	hash_of("{\"type\":\"ObjectEvent\",\"eventTime\":\"2026-01-01T00:00:00.001Z\",\"eventTimeZoneOffset\":\"+00:00\","
		"\"epcList\":[\"urn:epc:id:sscc:9506000.0100000001\",\"urn:epc:id:sscc:9506000.0100000003\"],"
		"\"action\":\"OBSERVE\"}",
		c);
	CHECK(a[0] != '\0');
	CHECK_STR_EQ(a, b);
	CHECK(strcmp(a, c) != 0);
}

struct text_case {
	const char *in;
	const char *out; /* NULL: refused */
};

static void test_time_normalisation(void)
{
	static const struct text_case cases[] = {
		{ "2023-02-02T11:04:03.1415Z", "2023-02-02T11:04:03.142Z" },
		{ "2023-02-02T11:04:03.1414Z", "2023-02-02T11:04:03.141Z" },
		{ "2020-03-04T11:00:30+01:00", "2020-03-04T10:00:30.000Z" },
		{ "2019-12-31T23:59:59.9996Z", "2020-01-01T00:00:00.000Z" },
		{ "2024-03-01T00:30:00+01:00", "2024-02-29T23:30:00.000Z" },
		{ "2005-04-03T20:33:31.116-06:00", "2005-04-04T02:33:31.116Z" },
		{ "22-07-2026", NULL },
		{ "2026-02-30T00:00:00Z", NULL },
		{ "2026-01-01T00:00:00", NULL },
		{ "2026-01-01T00:00:00.Z", NULL },
		{ "2026-01-01T25:00:00Z", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[64] = "";
		int rc = epcis_time_normalise(cases[i].in, out, sizeof out);
		if (cases[i].out == NULL) {
			CHECK_INT_EQ(rc, SL_EINVAL);
		} else {
			CHECK_INT_EQ(rc, 0);
			CHECK_STR_EQ(out, cases[i].out);
		}
	}
	int64_t ms = 0;
	CHECK_INT_EQ(epcis_time_parse_ms("1970-01-01T00:00:01.5Z", &ms), 0);
	CHECK_INT_EQ(ms, 1500);
	char text[64];
	CHECK_INT_EQ(epcis_time_format(-1, text, sizeof text), 0);
	CHECK_STR_EQ(text, "1969-12-31T23:59:59.999Z");
}

static void test_identifiers_to_digital_link(void)
{
	static const struct text_case cases[] = {
		{ "urn:epc:id:sgtin:4012345.011111.9876", "https://id.gs1.org/01/04012345111118/21/9876" },
		{ "urn:epc:id:sscc:4012345.0000000333", "https://id.gs1.org/00/040123450000003338" },
		{ "urn:epc:id:sgln:4012345.00011.987", "https://id.gs1.org/414/4012345000115/254/987" },
		{ "urn:epc:id:sgln:4012345.00005.0", "https://id.gs1.org/414/4012345000054" },
		{ "urn:epc:id:giai:4000001.111", "https://id.gs1.org/8004/4000001111" },
		{ "urn:epc:id:grai:4012345.66666.87", "https://id.gs1.org/8003/0401234566666387" },
		{ "urn:epc:id:gdti:4012345.55555.98", "https://id.gs1.org/253/401234555555498" },
		{ "urn:epc:id:cpi:4012345.ABC.123", "https://id.gs1.org/8010/4012345ABC/8011/123" },
		{ "urn:epc:class:lgtin:4054739.099914.20160711", "https://id.gs1.org/01/04054739999148/10/20160711" },
		{ "urn:epc:idpat:sgtin:4054739.099914.*", "https://id.gs1.org/01/04054739999148" },
		{ "https://id.gs1.de/01/04012345999990/21/XYZ-1234", "https://id.gs1.org/01/04012345999990/21/XYZ-1234" },
		{ "https://example.com/shop/01/9506000134352/10/L1/21/S1?17=281130",
		  "https://id.gs1.org/01/09506000134352/21/S1" },
		{ "https://id.example.com/253/4012345000054987", "https://id.gs1.org/253/4012345000054987" },
		{ "urn:epc:id:sgtin:4012345.011111", NULL },
		{ "urn:epc:id:sgtin:40123X5.011111.1", NULL },
		{ "https://example.com/po/12345678", NULL },
		{ "http://www.opengis.net/def/crs/EPSG/0/27700", NULL },
		{ "https://id.gs1.org/01/123/21/1", NULL },
		{ "geo:47.5,11.1", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[EPCIS_TEXT_BYTES_MAX] = "";
		int rc = epcis_id_to_digital_link(cases[i].in, out, sizeof out);
		if (cases[i].out == NULL) {
			CHECK_INT_EQ(rc, SL_EINVAL);
		} else {
			CHECK_INT_EQ(rc, 0);
			CHECK_STR_EQ(out, cases[i].out);
		}
	}
}

static void test_vocabulary_forms(void)
{
	epcis_doc *doc = parse_text("{\"@context\":[\"x\",{\"my\":\"https://voc.example.com/\"}],\"type\":\"EPCISDocument\","
				    "\"epcisBody\":{\"eventList\":[]}}");
	REQUIRE(doc != NULL);
	struct {
		const char *kind, *in, *out;
	} cases[] = {
		{ "BizStep", "shipping", "https://ref.gs1.org/cbv/BizStep-shipping" },
		{ "BizStep", "urn:epcglobal:cbv:bizstep:receiving", "https://ref.gs1.org/cbv/BizStep-receiving" },
		{ "Disp", "cbv:Disp-in_transit", "https://ref.gs1.org/cbv/Disp-in_transit" },
		{ "BTT", "https://gs1.org/voc/BTT-po", "https://ref.gs1.org/cbv/BTT-po" },
		{ "gs1", "Temperature", "https://gs1.org/voc/Temperature" },
		{ "gs1", "gs1:ALARM_CONDITION", "https://gs1.org/voc/ALARM_CONDITION" },
		{ "BizStep", "my:grinding", "https://voc.example.com/grinding" },
		{ "BizStep", "http://epcis.example.com/user/vocab/bizstep/sampling",
		  "http://epcis.example.com/user/vocab/bizstep/sampling" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[256];
		CHECK_INT_EQ(epcis_vocab_normalise(doc, cases[i].kind, cases[i].in, out, sizeof out), 0);
		CHECK_STR_EQ(out, cases[i].out);
	}
	char word[64];
	CHECK_STR_EQ(epcis_vocab_word(doc, "Disp", "urn:epcglobal:cbv:disp:recalled", word, sizeof word), "recalled");
	CHECK(epcis_vocab_word(doc, "Disp", "https://voc.example.com/recalled", word, sizeof word) == NULL);
	CHECK(epcis_vocab_word(doc, "BizStep", NULL, word, sizeof word) == NULL);
	epcis_doc_free(doc);
}

static void test_xml_1_2_wrappers_and_attributes(void)
{
	epcis_doc *doc = NULL;
	REQUIRE(epcis_doc_read_file(DATA "flow.xml", &doc, NULL) == 0);
	REQUIRE(epcis_doc_event_count(doc) == 4);
	const struct epcis_node *commission = epcis_doc_event(doc, 0);
	const struct epcis_node *ilmd = epcis_node_child(commission, "ilmd"); /* was inside <extension> */
	REQUIRE(ilmd != NULL);
	CHECK_STR_EQ(epcis_node_text(ilmd, "{urn:epcglobal:cbv:mda}lotNumber"), "LOT-XB");
	CHECK_INT_EQ(epcis_node_count(epcis_node_child(commission, "epcList"), "epc"), 4);
	CHECK_STR_EQ(epcis_doc_event(doc, 3)->name, "TransformationEvent");
	CHECK(epcis_node_child(epcis_doc_event(doc, 2), "quantityList") != NULL);
	epcis_doc_free(doc);
}

static void test_malformed_documents_are_errors(void)
{
	static const char *const inputs[] = {
		"", "   ", "{", "{}", "[1,2]", "<x/>", "<epcis:EPCISDocument xmlns:epcis=\"urn:x\"/>", "nonsense",
		"{\"@context\":[],\"epcisBody\":{\"eventList\":[{\"eventTime\":\"x\"}]}}",
		"{\"@context\":[],\"epcisBody\":{\"eventList\":[{\"type\":1}]}}",
		"<EPCISDocument><EPCISBody><EventList><ObjectEvent><epcList>",
	};
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		epcis_doc *doc = NULL;
		struct sl_error_detail detail = { { 0 } };
		CHECK(epcis_doc_parse(inputs[i], strlen(inputs[i]), &doc, &detail) != 0);
		CHECK(doc == NULL);
		CHECK(detail.text[0] != '\0' || inputs[i][0] == '\0');
	}
}

/* Nesting beyond EPCIS_DEPTH_MAX is refused, not recursed into. */
static void test_deep_nesting_is_refused(void)
{
	char text[8192];
	size_t len = (size_t)snprintf(text, sizeof text, "%s{\"type\":\"ObjectEvent\",\"ex:deep\":", doc_head);
	for (int i = 0; i < 200; i++)
		len += (size_t)snprintf(text + len, sizeof text - len, "{\"a\":");
	len += (size_t)snprintf(text + len, sizeof text - len, "1");
	for (int i = 0; i < 200; i++)
		text[len++] = '}';
	snprintf(text + len, sizeof text - len, "}]}}");
	epcis_doc *doc = NULL;
	struct sl_error_detail detail = { { 0 } };
	CHECK_INT_EQ(epcis_doc_parse(text, strlen(text), &doc, &detail), SL_ELIMIT);
	CHECK(strstr(detail.text, "deeper") != NULL);
}

/* No external entity is ever read (XML_PARSE_NOENT is not set, XML_PARSE_NONET is). */
static void test_xml_external_entities_are_not_expanded(void)
{
	const char *text = "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY e SYSTEM \"file:///etc/hostname\">]>"
			   "<EPCISDocument><EPCISBody><EventList><ObjectEvent><eventTime>&e;</eventTime>"
			   "</ObjectEvent></EventList></EPCISBody></EPCISDocument>";
	epcis_doc *doc = NULL;
	if (epcis_doc_parse(text, strlen(text), &doc, NULL) == 0) {
		const char *time = epcis_node_text(epcis_doc_event(doc, 0), "eventTime");
		CHECK(time == NULL || strlen(time) == 0 || strchr(time, '&') != NULL || strcmp(time, "e") == 0);
		epcis_doc_free(doc);
	}
}

static const struct test_case cases[] = {
	TEST_CASE(test_prehash_of_hand_written_example),
	TEST_CASE(test_xml_and_json_give_the_same_hash),
	TEST_CASE(test_hash_ignores_order_and_changes_with_content),
	TEST_CASE(test_time_normalisation),
	TEST_CASE(test_identifiers_to_digital_link),
	TEST_CASE(test_vocabulary_forms),
	TEST_CASE(test_xml_1_2_wrappers_and_attributes),
	TEST_CASE(test_malformed_documents_are_errors),
	TEST_CASE(test_deep_nesting_is_refused),
	TEST_CASE(test_xml_external_entities_are_not_expanded),
};
TEST_MAIN(cases)
