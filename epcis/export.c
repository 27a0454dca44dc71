/* epcis/export.c — accepted ledger records as EPCIS 2.0 events (docs/epcis.md "Export").
 *
 *   commission, commission-container → ObjectEvent ADD commissioning (ilmd lot, expiry)
 *   aggregate / disaggregate         → AggregationEvent ADD packing / DELETE unpacking
 *   ship / receive                   → ObjectEvent OBSERVE shipping (destinationList) / receiving
 *   decommission                     → ObjectEvent DELETE with the bizStep and disposition of the reason
 *   lock with reason recall          → ObjectEvent OBSERVE holding, disposition recalled (epcList for a
 *                                      serial, quantityList epcClass for a lot or GTIN)
 * The JSON and XML writers render the same neutral event (struct out_event).
 */
#include <assert.h>
#include <jansson.h>
#include <libxml/tree.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "epcis/export.h"
#include "ledger/entry.h"
#include "ledger/hierarchy.h"
#include "ledger/lifecycle.h"
#include "ledger/reason.h"
#include "ledger/record.h"

#define XC(text) ((const xmlChar *)(text)) /* libxml2 strings are UTF-8 bytes */
#define URI_SIZE 192 /* a Digital Link of the longest item id, with room */

struct out_event {
	const char *type;
	char time[32];
	char id[96];
	const char *action;
	const char *step;	 /* bare CBV word */
	const char *disposition; /* bare CBV word or NULL */
	bool aggregation;	 /* parentID + childEPCs */
	char parent[URI_SIZE];
	char (*epcs)[URI_SIZE];
	size_t epc_count;
	char epc_class[URI_SIZE]; /* one quantity element (recall of a lot or GTIN) */
	char lot[GS1_LOT_CHARS_MAX + 1];
	char expiry_date[11];
	char expiry_raw[GS1_DATE_DIGITS + 1];
	char location[URI_SIZE];
	char destination[URI_SIZE];
	char destination_site[RECORD_SITE_SIZE];
	const char *reason; /* decommission reason name */
};

struct exporter {
	store_txn *txn;
	const struct epcis_export_options *options;
	struct epcis_export_stats *stats;
	char (*subtree)[GS1_ITEM_ID_SIZE]; /* --id: sorted ids of the item and its contents */
	size_t subtree_count;
	struct out_event event;
	json_t *json_events;
	xmlNodePtr xml_events;
	xmlNsPtr xml_cbvmda;
	xmlNsPtr xml_sl;
	int rc;
};

/* --- filters --- */

static int id_compare(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int subtree_add(void *ctx, const char *item_id, struct store_item *item, unsigned level)
{
	(void)item;
	(void)level;
	struct exporter *x = ctx;
	if (x->subtree_count == EPCIS_EXPORT_ITEMS_MAX)
		return SL_ELIMIT;
	snprintf(x->subtree[x->subtree_count++], GS1_ITEM_ID_SIZE, "%s", item_id);
	return 0;
}

static int lot_visit(void *ctx, const char *item_id, struct store_item *item, unsigned level)
{
	(void)item_id;
	(void)level;
	const char *lot_key = ctx;
	char key[GS1_LOT_KEY_SIZE];
	return item->kind == GS1_KIND_PACK && lifecycle_lot_key(item, key) == 0 && strcmp(key, lot_key) == 0;
}

/* A pack of the lot, or a container holding one now (so shipments of pallets of the lot count). */
static bool in_lot(struct exporter *x, const char *item_id)
{
	return hierarchy_walk(x->txn, item_id, HIERARCHY_ITEMS_MAX, (void *)(uintptr_t)x->options->lot_key,
			      lot_visit) == 1;
}

static bool item_selected(struct exporter *x, const char *item_id)
{
	if (x->subtree != NULL && bsearch(item_id, x->subtree, x->subtree_count, GS1_ITEM_ID_SIZE, id_compare) == NULL)
		return false;
	return x->options->lot_key == NULL || in_lot(x, item_id);
}

/* --- records to neutral events --- */

static int item_link(const char *item_id, char out[URI_SIZE])
{
	struct gs1_item item;
	int rc = gs1_item_id_parse(item_id, strlen(item_id), &item, NULL);
	return rc == 0 ? gs1_format_digital_link(&item, NULL, out, URI_SIZE) : rc;
}

static void location_link(struct exporter *x, const char *site, char out[URI_SIZE])
{
	const char *gln = x->options->sites != NULL ? epcis_site_map_gln(x->options->sites, site) : NULL;
	if (gln != NULL)
		snprintf(out, URI_SIZE, "https://id.gs1.org/414/%s", gln);
	else
		out[0] = '\0';
}

/* Selected items of a record as Digital Links; commission items are serials of record->gtin. */
static int items_fill(struct exporter *x, const struct record *record)
{
	struct out_event *e = &x->event;
	e->epc_count = 0;
	for (size_t i = 0; i < record->item_count; i++) {
		char id[GS1_ITEM_ID_SIZE];
		if (record->type == RECORD_COMMISSION)
			snprintf(id, sizeof id, "(01)%.*s(21)%.*s", (int)record->gtin.len, record->gtin.ptr,
				 (int)record->items[i].len, record->items[i].ptr);
		else
			snprintf(id, sizeof id, "%.*s", (int)record->items[i].len, record->items[i].ptr);
		bool parent_selected = record->parent.len > 0 && x->subtree != NULL &&
				       bsearch(e->parent, x->subtree, x->subtree_count, GS1_ITEM_ID_SIZE, id_compare);
		if (!parent_selected && !item_selected(x, id))
			continue;
		int rc = item_link(id, e->epcs[e->epc_count]);
		if (rc != 0)
			return rc;
		e->epc_count++;
	}
	return 0;
}

static const struct {
	int reason;
	const char *step;
	const char *disposition;
} decommission_vocab[] = {
	{ DECOMMISSION_DISPENSED, "dispensing", "dispensed" },	{ DECOMMISSION_DESTROYED, "destroying", "destroyed" },
	{ DECOMMISSION_SAMPLE, "sampling", NULL },		{ DECOMMISSION_FREE_SAMPLE, "sampling", NULL },
	{ DECOMMISSION_EXPORTED, "decommissioning", "inactive" }, { DECOMMISSION_STOLEN, "decommissioning", "stolen" },
	{ DECOMMISSION_EXPIRED, "decommissioning", "expired" },	{ DECOMMISSION_DAMAGED, "decommissioning", "damaged" },
	{ DECOMMISSION_CHECKED_OUT, "decommissioning", "inactive" },
};

/* Recall locks: a serial (epcList) or a lot or GTIN (quantityList epcClass). */
static int lock_fill(struct exporter *x, const struct record *record)
{
	struct out_event *e = &x->event;
	if (record->lock_reason != LOCK_RECALL)
		return 1;
	e->action = "OBSERVE", e->step = "holding", e->disposition = "recalled";
	if (record->lock_scope == LOCK_SCOPE_SERIAL) {
		struct record one = *record;
		one.items = &one.lock_target;
		one.item_count = 1;
		return items_fill(x, &one) == 0 && e->epc_count > 0 ? 0 : 2;
	}
	if (x->subtree != NULL)
		return 2;
	char gtin[GS1_GTIN_DIGITS + 1];
	snprintf(gtin, sizeof gtin, "%.*s", GS1_GTIN_DIGITS, record->lock_target.ptr + 4);
	if (record->lock_scope == LOCK_SCOPE_LOT) /* "(01)" 14 digits "(10)" lot: the lot starts at 22 */
		snprintf(e->epc_class, sizeof e->epc_class, "https://id.gs1.org/01/%s/10/%.*s", gtin,
			 (int)(record->lock_target.len - 22), record->lock_target.ptr + 22);
	else
		snprintf(e->epc_class, sizeof e->epc_class, "https://id.gs1.org/01/%s", gtin);
	bool lot_selected = record->lock_scope == LOCK_SCOPE_LOT &&
			    sl_str_eq_cstr(record->lock_target, x->options->lot_key ? x->options->lot_key : "");
	return x->options->lot_key == NULL || lot_selected ? 0 : 2;
}

static void lot_fill(struct out_event *e, const struct record *record)
{
	snprintf(e->lot, sizeof e->lot, "%.*s", (int)record->lot.len, record->lot.ptr);
	snprintf(e->expiry_raw, sizeof e->expiry_raw, "%.*s", (int)record->expiry.len, record->expiry.ptr);
	/* xsd:date for the standard field; day 00 (end of month, GS1 GenSpecs §3.4.10) becomes day 28,
	 * which is why the exact YYMMDD also travels in the siteledger extension */
	snprintf(e->expiry_date, sizeof e->expiry_date, "20%.2s-%.2s-%.2s", e->expiry_raw, e->expiry_raw + 2,
		 strcmp(e->expiry_raw + 4, "00") == 0 ? "28" : e->expiry_raw + 4);
}

/* The event of one accepted record; 1 when EPCIS has no event for it (skipped), 2 when the
 * filters leave nothing of it. */
static int event_fill(struct exporter *x, const struct record *record, const uint8_t id[RECORD_ID_BYTES])
{
	struct out_event *e = &x->event;
	char (*epcs)[URI_SIZE] = e->epcs;
	memset(e, 0, sizeof(*e));
	e->epcs = epcs;
	e->type = "ObjectEvent";
	char hex[2 * RECORD_ID_BYTES + 1];
	crypto_hex_encode(id, RECORD_ID_BYTES, hex);
	snprintf(e->id, sizeof e->id, "urn:siteledger:record:%s", hex);
	if (epcis_time_format(record->event_time_ms, e->time, sizeof e->time) != 0)
		return 1;
	char site[RECORD_SITE_SIZE];
	snprintf(site, sizeof site, "%.*s", (int)record->site.len, record->site.ptr);
	location_link(x, site, e->location);
	if (record->parent.len > 0) {
		char parent[GS1_ITEM_ID_SIZE];
		snprintf(parent, sizeof parent, "%.*s", (int)record->parent.len, record->parent.ptr);
		if (item_link(parent, e->parent) != 0)
			return 1;
	}
	switch (record->type) {
	case RECORD_COMMISSION:
		lot_fill(e, record);
		/* fall through */
	case RECORD_COMMISSION_CONTAINER:
		e->action = "ADD", e->step = "commissioning", e->disposition = "active";
		break;
	case RECORD_AGGREGATE:
	case RECORD_DISAGGREGATE:
		e->type = "AggregationEvent";
		e->aggregation = true;
		e->action = record->type == RECORD_AGGREGATE ? "ADD" : "DELETE";
		e->step = record->type == RECORD_AGGREGATE ? "packing" : "unpacking";
		break;
	case RECORD_SHIP:
		e->action = "OBSERVE", e->step = "shipping", e->disposition = "in_transit";
		snprintf(e->destination_site, sizeof e->destination_site, "%.*s", (int)record->to.len, record->to.ptr);
		location_link(x, e->destination_site, e->destination);
		break;
	case RECORD_RECEIVE:
		e->action = "OBSERVE", e->step = "receiving", e->disposition = "in_progress";
		break;
	case RECORD_DECOMMISSION:
		e->action = "DELETE";
		e->reason = decommission_reason_name((int)record->decommission_reason);
		for (size_t i = 0; i < sizeof(decommission_vocab) / sizeof(decommission_vocab[0]); i++)
			if (decommission_vocab[i].reason == (int)record->decommission_reason)
				e->step = decommission_vocab[i].step, e->disposition = decommission_vocab[i].disposition;
		break;
	case RECORD_LOCK:
		return lock_fill(x, record);
	default:
		return 1; /* revert, unlock, deviation */
	}
	int rc = items_fill(x, record);
	if (rc != 0)
		return rc;
	if (e->epc_count > 0 || (record->type == RECORD_DISAGGREGATE && record->item_count == 0 &&
				 (x->subtree == NULL || item_selected(x, record->parent.ptr))))
		return 0;
	return 2;
}

/* --- JSON writer (EPCIS 2.0 §10, JSON-LD) --- */

/* Strings are built with json_stringn (length known, no NUL scan of untrusted text twice). */
static json_t *jstr(const char *text)
{
	return json_stringn(text, strlen(text));
}

static int json_set(json_t *object, const char *key, json_t *value)
{
	return value != NULL && json_object_set_new(object, key, value) == 0 ? 0 : SL_ENOMEM;
}

static json_t *json_epcs(const struct out_event *e)
{
	json_t *list = json_array();
	for (size_t i = 0; list != NULL && i < e->epc_count; i++)
		if (json_array_append_new(list, jstr(e->epcs[i])) != 0) {
			json_decref(list);
			return NULL;
		}
	return list;
}

static json_t *json_id_object(const char *key, const char *value, const char *type)
{
	json_t *object = json_object();
	if (object != NULL && type != NULL)
		json_object_set_new(object, "type", jstr(type));
	if (object != NULL)
		json_object_set_new(object, key, jstr(value));
	return object;
}

static int json_event(struct exporter *x)
{
	const struct out_event *e = &x->event;
	json_t *event = json_object();
	int rc = event != NULL ? 0 : SL_ENOMEM;
	if (rc == 0)
		rc = json_set(event, "type", jstr(e->type));
	if (rc == 0)
		rc = json_set(event, "eventTime", jstr(e->time));
	if (rc == 0)
		rc = json_set(event, "eventTimeZoneOffset", jstr("+00:00"));
	if (rc == 0)
		rc = json_set(event, "eventID", jstr(e->id));
	if (rc == 0 && e->aggregation)
		rc = json_set(event, "parentID", jstr(e->parent));
	if (rc == 0)
		rc = json_set(event, e->aggregation ? "childEPCs" : "epcList", json_epcs(e));
	if (rc == 0 && e->epc_class[0] != '\0')
		rc = json_set(event, "quantityList", json_pack("[{s:s}]", "epcClass", e->epc_class));
	if (rc == 0)
		rc = json_set(event, "action", jstr(e->action));
	if (rc == 0 && e->step != NULL)
		rc = json_set(event, "bizStep", jstr(e->step));
	if (rc == 0 && e->disposition != NULL)
		rc = json_set(event, "disposition", jstr(e->disposition));
	if (rc == 0 && e->location[0] != '\0')
		rc = json_set(event, "bizLocation", json_id_object("id", e->location, NULL));
	if (rc == 0 && e->destination[0] != '\0')
		rc = json_set(event, "destinationList",
			      json_pack("[o]", json_id_object("destination", e->destination, "location")));
	if (rc == 0 && e->lot[0] != '\0')
		rc = json_set(event, "ilmd",
			      json_pack("{s:s,s:s,s:s}", "cbvmda:lotNumber", e->lot, "cbvmda:itemExpirationDate",
					e->expiry_date, "sl:expiry", e->expiry_raw));
	if (rc == 0 && e->reason != NULL)
		rc = json_set(event, "sl:decommissionReason", jstr(e->reason));
	if (rc == 0 && e->destination_site[0] != '\0')
		rc = json_set(event, "sl:destinationSite", jstr(e->destination_site));
	if (rc == 0 && json_array_append(x->json_events, event) != 0)
		rc = SL_ENOMEM;
	json_decref(event);
	return rc;
}

static int json_document_write(struct exporter *x, FILE *out)
{
	char now[32];
	if (epcis_time_format(x->options->now_ms, now, sizeof now) != 0)
		return SL_EINVAL;
	json_t *doc = json_pack("{s:[s,{s:s,s:s}],s:s,s:s,s:s,s:{s:O}}", "@context",
				"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", "cbvmda",
				"urn:epcglobal:cbv:mda#", "sl", EPCIS_SITELEDGER_NS, "type", "EPCISDocument",
				"schemaVersion", "2.0", "creationDate", now, "epcisBody", "eventList", x->json_events);
	if (doc == NULL)
		return SL_ENOMEM;
	int rc = json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 ? 0 : SL_EIO;
	json_decref(doc);
	if (rc == 0 && fputc('\n', out) == EOF)
		rc = SL_EIO;
	return rc;
}

/* --- XML writer (EPCIS 2.0 §9, XSD element order) --- */

static const char *cbv_uri(const char *kind, const char *word, char *buf, size_t size)
{
	snprintf(buf, size, "https://ref.gs1.org/cbv/%s-%s", kind, word);
	return buf;
}

/* A child element in namespace `ns` (NULL: unqualified, as EPCIS 2.0 XML standard fields are;
 * xmlNewChild would make it inherit the parent's namespace), with escaped text when non-NULL. */
static xmlNodePtr xml_child(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *text)
{
	xmlNodePtr node = xmlNewDocNode(parent->doc, ns, XC(name), NULL);
	if (node == NULL)
		return NULL;
	if (text != NULL)
		xmlNodeAddContent(node, XC(text));
	if (xmlAddChild(parent, node) == NULL) {
		xmlFreeNode(node);
		return NULL;
	}
	return node;
}

static bool xml_text(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *text)
{
	return xml_child(parent, ns, name, text) != NULL;
}

static int xml_event(struct exporter *x)
{
	const struct out_event *e = &x->event;
	char uri[URI_SIZE];
	xmlNodePtr event = xml_child(x->xml_events, NULL, e->type, NULL);
	bool ok = event != NULL && xml_text(event, NULL, "eventTime", e->time) &&
		  xml_text(event, NULL, "eventTimeZoneOffset", "+00:00") && xml_text(event, NULL, "eventID", e->id);
	if (ok && e->aggregation)
		ok = xml_text(event, NULL, "parentID", e->parent);
	xmlNodePtr list = ok ? xml_child(event, NULL, e->aggregation ? "childEPCs" : "epcList", NULL) : NULL;
	ok = list != NULL;
	for (size_t i = 0; ok && i < e->epc_count; i++)
		ok = xml_text(list, NULL, "epc", e->epcs[i]);
	ok = ok && xml_text(event, NULL, "action", e->action);
	if (ok && e->step != NULL)
		ok = xml_text(event, NULL, "bizStep", cbv_uri("BizStep", e->step, uri, sizeof uri));
	if (ok && e->disposition != NULL)
		ok = xml_text(event, NULL, "disposition", cbv_uri("Disp", e->disposition, uri, sizeof uri));
	if (ok && e->location[0] != '\0') {
		xmlNodePtr location = xml_child(event, NULL, "bizLocation", NULL);
		ok = location != NULL && xml_text(location, NULL, "id", e->location);
	}
	if (ok && e->epc_class[0] != '\0') {
		xmlNodePtr quantities = xml_child(event, NULL, "quantityList", NULL);
		xmlNodePtr element = quantities ? xml_child(quantities, NULL, "quantityElement", NULL) : NULL;
		ok = element != NULL && xml_text(element, NULL, "epcClass", e->epc_class);
	}
	if (ok && e->destination[0] != '\0') {
		xmlNodePtr destinations = xml_child(event, NULL, "destinationList", NULL);
		xmlNodePtr one = destinations ? xml_child(destinations, NULL, "destination", e->destination)
					      : NULL;
		ok = one != NULL && xmlNewProp(one, XC("type"), XC(cbv_uri("SDT", "location", uri, sizeof uri)));
	}
	if (ok && e->lot[0] != '\0') {
		xmlNodePtr ilmd = xml_child(event, NULL, "ilmd", NULL);
		ok = ilmd != NULL && xml_text(ilmd, x->xml_cbvmda, "lotNumber", e->lot) &&
		     xml_text(ilmd, x->xml_cbvmda, "itemExpirationDate", e->expiry_date) &&
		     xml_text(ilmd, x->xml_sl, "expiry", e->expiry_raw);
	}
	if (ok && e->reason != NULL)
		ok = xml_text(event, x->xml_sl, "decommissionReason", e->reason);
	if (ok && e->destination_site[0] != '\0')
		ok = xml_text(event, x->xml_sl, "destinationSite", e->destination_site);
	return ok ? 0 : SL_ENOMEM;
}

static int xml_document_start(struct exporter *x, xmlDocPtr *out)
{
	char now[32];
	if (epcis_time_format(x->options->now_ms, now, sizeof now) != 0)
		return SL_EINVAL;
	xmlDocPtr doc = xmlNewDoc(XC("1.0"));
	xmlNodePtr root = doc ? xmlNewNode(NULL, XC("EPCISDocument")) : NULL;
	if (root == NULL) {
		xmlFreeDoc(doc);
		return SL_ENOMEM;
	}
	xmlDocSetRootElement(doc, root);
	xmlNsPtr epcis = xmlNewNs(root, XC("urn:epcglobal:epcis:xsd:2"), XC("epcis"));
	x->xml_cbvmda = xmlNewNs(root, XC("urn:epcglobal:cbv:mda"), XC("cbvmda"));
	x->xml_sl = xmlNewNs(root, XC(EPCIS_SITELEDGER_NS), XC("sl"));
	xmlSetNs(root, epcis);
	xmlNodePtr body = xml_child(root, NULL, "EPCISBody", NULL);
	x->xml_events = body ? xml_child(body, NULL, "EventList", NULL) : NULL;
	bool ok = epcis != NULL && x->xml_cbvmda != NULL && x->xml_sl != NULL && x->xml_events != NULL &&
		  xmlNewProp(root, XC("schemaVersion"), XC("2.0")) != NULL &&
		  xmlNewProp(root, XC("creationDate"), XC(now)) != NULL;
	if (!ok) {
		xmlFreeDoc(doc);
		return SL_ENOMEM;
	}
	*out = doc;
	return 0;
}

static int xml_document_write(xmlDocPtr doc, FILE *out)
{
	xmlChar *text = NULL;
	int len = 0;
	xmlDocDumpFormatMemoryEnc(doc, &text, &len, "UTF-8", 1);
	if (text == NULL)
		return SL_ENOMEM;
	int rc = fwrite(text, 1, (size_t)len, out) == (size_t)len ? 0 : SL_EIO;
	xmlFree(text);
	return rc;
}

/* --- the ledger walk --- */

static int entry_export(void *ctx, uint64_t seq, const uint8_t *bytes, size_t len)
{
	(void)seq;
	struct exporter *x = ctx;
	struct ledger_entry entry;
	struct record record;
	x->stats->entries++;
	if (entry_decode(bytes, len, &entry, NULL) != 0)
		return SL_ECORRUPT;
	if (entry.outcome != OUTCOME_ACCEPTED)
		return 0;
	if (record_decode(entry.record, entry.record_len, &record, NULL) != 0)
		return SL_ECORRUPT;
	uint8_t id[RECORD_ID_BYTES];
	int rc = record_id(&record, id);
	int made = rc == 0 ? event_fill(x, &record, id) : rc;
	record_clear(&record);
	if (made < 0)
		return made;
	if (made == 1)
		x->stats->skipped++;
	if (made != 0)
		return 0;
	x->stats->exported++;
	return x->json_events != NULL ? json_event(x) : xml_event(x);
}

int epcis_export(store_txn *txn, const struct epcis_export_options *options, FILE *out,
		 struct epcis_export_stats *stats, struct sl_error_detail *detail)
{
	memset(stats, 0, sizeof(*stats));
	struct exporter x = { .txn = txn, .options = options, .stats = stats };
	x.event.epcs = calloc(RECORD_ITEMS_MAX, sizeof(*x.event.epcs));
	int rc = x.event.epcs != NULL ? 0 : SL_ENOMEM;
	if (rc == 0 && options->item_id != NULL) {
		x.subtree = calloc(EPCIS_EXPORT_ITEMS_MAX, sizeof(*x.subtree));
		rc = x.subtree != NULL ? hierarchy_walk(txn, options->item_id, EPCIS_EXPORT_ITEMS_MAX, &x, subtree_add)
				       : SL_ENOMEM;
		if (rc == SL_ENOENT)
			rc = sl_error_set(detail, rc, "%s is not in the ledger", options->item_id);
		qsort(x.subtree, x.subtree_count, GS1_ITEM_ID_SIZE, id_compare);
	}
	xmlDocPtr doc = NULL;
	if (rc == 0 && options->syntax == EPCIS_SYNTAX_JSON)
		rc = (x.json_events = json_array()) != NULL ? 0 : SL_ENOMEM;
	else if (rc == 0)
		rc = xml_document_start(&x, &doc);
	if (rc == 0)
		rc = store_ledger_iterate(txn, options->since_seq + 1, 0, entry_export, &x);
	if (rc == 0)
		rc = x.json_events != NULL ? json_document_write(&x, out) : xml_document_write(doc, out);
	json_decref(x.json_events);
	xmlFreeDoc(doc);
	free(x.subtree);
	free(x.event.epcs);
	return rc;
}
