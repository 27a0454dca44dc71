/* epcis/map.c — EPCIS events to siteledger records (docs/epcis.md "Mapping").
 *
 *   ObjectEvent ADD + commissioning (ilmd lot, expiry)  → commission (packs, per GTIN+lot+expiry)
 *                                                        + commission-container (SSCCs)
 *   AggregationEvent ADD + packing (or no bizStep)     → aggregate (parent: an SSCC, or the SGTIN
 *                                                        of a case; the ledger's rules decide)
 *   AggregationEvent DELETE + unpacking (or none)      → disaggregate (no children = all)
 *   ObjectEvent OBSERVE + shipping                     → ship (destination mapped to a site)
 *   ObjectEvent OBSERVE + receiving                    → receive
 *   ObjectEvent DELETE, or decommissioning, destroying,
 *     dispensing, sampling, or disposition stolen,
 *     damaged, expired, destroyed, dispensed            → decommission with the matching reason
 *   ObjectEvent disposition recalled                   → lock (recall) of each item, lot or GTIN
 *   any event with errorDeclaration                    → deviation citing the records of the
 *                                                        event it declares wrong (the correction)
 *   anything else                                      → not modelled, with the reason
 * Identifiers other than SGTIN and SSCC (GRAI, GIAI, ...) are skipped and named in the note.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "epcis/map.h"

struct mapper {
	const epcis_doc *doc;
	const char *site;
	const struct epcis_site_map *sites;
	store_txn *txn;
	struct epcis_mapping *out;
	struct epcis_event_result *result;
	const struct epcis_node *event;
	int64_t event_time_ms;
};

/* Outcome of one event's mapping step: 0, or one of these, or a negative SL_E* (fatal). */
enum { NOT_MODELLED = 1, FAILED = 2 };

static int not_modelled(struct mapper *m, const char *why)
{
	snprintf(m->result->note, sizeof m->result->note, "%s", why);
	return NOT_MODELLED;
}

static int failed(struct mapper *m, const char *field, const char *what, const char *value)
{
	snprintf(m->result->note, sizeof m->result->note, "field '%s': %s%s%.120s%s", field, what, value ? " '" : "",
		 value ? value : "", value ? "'" : "");
	return FAILED;
}

static void *keep(struct epcis_mapping *out, size_t bytes)
{
	if (out->allocation_count == out->allocation_cap) {
		size_t cap = out->allocation_cap ? out->allocation_cap * 2 : 64;
		void **grown = realloc(out->allocations, cap * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		out->allocations = grown;
		out->allocation_cap = cap;
	}
	void *memory = calloc(1, bytes ? bytes : 1);
	if (memory != NULL)
		out->allocations[out->allocation_count++] = memory;
	return memory;
}

static int keep_str(struct epcis_mapping *out, const char *text, struct sl_str *str)
{
	size_t len = strlen(text);
	char *copy = keep(out, len + 1);
	if (copy == NULL)
		return SL_ENOMEM;
	memcpy(copy, text, len + 1);
	*str = (struct sl_str){ copy, len };
	return 0;
}

static int record_new(struct mapper *m, enum record_type type, struct record **out)
{
	struct epcis_mapping *map = m->out;
	*out = NULL;
	if (map->record_count >= EPCIS_RECORDS_MAX)
		return SL_ELIMIT;
	if (map->record_count == map->record_cap) {
		size_t cap = map->record_cap ? map->record_cap * 2 : 16;
		struct record *grown = realloc(map->records, cap * sizeof(*grown));
		if (grown == NULL)
			return SL_ENOMEM;
		map->records = grown;
		map->record_cap = cap;
	}
	struct record *record = &map->records[map->record_count++];
	record_init(record);
	record->type = type;
	record->event_time_ms = m->event_time_ms;
	record->has_reason = true;
	char reason[sizeof(EPCIS_REASON_PREFIX) + EPCIS_HASH_ID_SIZE];
	snprintf(reason, sizeof reason, "%s%s", EPCIS_REASON_PREFIX, m->result->hash_id);
	int rc = keep_str(map, reason, &record->reason);
	m->result->record_count++;
	if (m->result->mapped_as[0] == '\0')
		m->result->mapped_as = record_type_name(type);
	*out = record;
	return rc;
}

/* --- identifiers --- */

struct item_list {
	struct gs1_item *items;
	char (*ids)[GS1_ITEM_ID_SIZE];
	size_t count;
	size_t skipped; /* identifiers of other GS1 keys */
};

static void item_list_free(struct item_list *list)
{
	free(list->items);
	free(list->ids);
	memset(list, 0, sizeof(*list));
}

/* One SGTIN or SSCC in any form; 1 when it is another kind of identifier (skipped). */
static int item_parse(struct mapper *m, const char *field, const char *text, struct gs1_item *item,
		      char id[GS1_ITEM_ID_SIZE])
{
	char link[EPCIS_TEXT_BYTES_MAX];
	if (text == NULL)
		return failed(m, field, "empty identifier", NULL);
	if (epcis_id_to_digital_link(text, link, sizeof link) != 0)
		return 1;
	bool pack = strncmp(link, "https://id.gs1.org/01/", 22) == 0 && strstr(link, "/21/") != NULL;
	bool container = strncmp(link, "https://id.gs1.org/00/", 22) == 0;
	if (!pack && !container)
		return 1;
	struct sl_error_detail detail = { { 0 } };
	struct gs1_item extra;
	if (gs1_parse(link, item, &detail) != 0 || gs1_item_id(item, id) != 0)
		return failed(m, field, detail.text[0] ? detail.text : "malformed identifier", text);
	/* lot and expiry carried by the original form (Digital Link query ?10=..&17=..) */
	if (gs1_parse(text, &extra, NULL) == 0) {
		memcpy(item->lot, extra.lot, sizeof item->lot);
		memcpy(item->expiry, extra.expiry, sizeof item->expiry);
	}
	return 0;
}

static int items_collect(struct mapper *m, const char *list_name, struct item_list *list)
{
	const struct epcis_node *node = epcis_node_child(m->event, list_name);
	size_t n = node != NULL ? node->child_count : 0;
	list->items = calloc(n ? n : 1, sizeof(*list->items));
	list->ids = calloc(n ? n : 1, sizeof(*list->ids));
	if (list->items == NULL || list->ids == NULL)
		return SL_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char field[64];
		snprintf(field, sizeof field, "%s[%zu]", list_name, i);
		int rc = item_parse(m, field, node->children[i]->text, &list->items[list->count], list->ids[list->count]);
		if (rc == 1)
			list->skipped++;
		else if (rc != 0)
			return rc;
		else
			list->count++;
	}
	if (list->skipped > 0)
		snprintf(m->result->note, sizeof m->result->note,
			 "%zu identifier(s) in %s are not SGTIN or SSCC and were not imported", list->skipped, list_name);
	return 0;
}

/* Items (ids from index `first`, `count` of them) into a record's item list. */
static int record_items(struct mapper *m, struct record *record, char (*ids)[GS1_ITEM_ID_SIZE], size_t count)
{
	record->items = keep(m->out, count * sizeof(*record->items));
	if (record->items == NULL)
		return SL_ENOMEM;
	for (size_t i = 0; i < count; i++) {
		int rc = keep_str(m->out, ids[i], &record->items[i]);
		if (rc != 0)
			return rc;
	}
	record->item_count = count;
	return 0;
}

/* Records of one type over the item list, RECORD_ITEMS_MAX items each. */
static int records_over_items(struct mapper *m, enum record_type type, const struct item_list *list,
			      struct record **first)
{
	*first = NULL;
	for (size_t at = 0; at < list->count; at += RECORD_ITEMS_MAX) {
		size_t n = list->count - at < RECORD_ITEMS_MAX ? list->count - at : RECORD_ITEMS_MAX;
		struct record *record;
		int rc = record_new(m, type, &record);
		if (rc == 0)
			rc = record_items(m, record, list->ids + at, n);
		if (rc != 0)
			return rc;
		if (*first == NULL)
			*first = record;
	}
	return 0;
}

/* --- commissioning --- */

/* Value of the extension field {ns}local of `node` (ns: exact namespace URI). */
static const char *extension_value(const struct epcis_node *node, const char *ns, const char *local)
{
	size_t ns_len = strlen(ns);
	for (size_t i = 0; node != NULL && i < node->child_count; i++) {
		const char *name = node->children[i]->name;
		if (name[0] == '{' && strncmp(name + 1, ns, ns_len) == 0 && name[1 + ns_len] == '}' &&
		    strcmp(name + 2 + ns_len, local) == 0)
			return node->children[i]->text;
	}
	return NULL;
}

static const char *ilmd_value(const struct epcis_node *ilmd, const char *local)
{
	for (size_t i = 0; ilmd != NULL && i < ilmd->child_count; i++) {
		const char *name = ilmd->children[i]->name;
		const char *close = strchr(name, '}');
		if (name[0] == '{' && close != NULL && strcmp(close + 1, local) == 0 &&
		    strncmp(name + 1, "urn:epcglobal:cbv:mda", 21) == 0)
			return ilmd->children[i]->text;
	}
	return NULL;
}

/* "2025-03-27" (xsd:date, CBV 2.0 §8.1 itemExpirationDate) → "250327". */
static bool expiry_from_date(const char *date, char out[GS1_DATE_DIGITS + 1])
{
	if (date == NULL || strlen(date) < 10 || date[4] != '-' || date[7] != '-')
		return false;
	snprintf(out, GS1_DATE_DIGITS + 1, "%.2s%.2s%.2s", date + 2, date + 5, date + 8);
	return gs1_date_validate(out, GS1_DATE_DIGITS, NULL) == 0;
}

static int commission_packs(struct mapper *m, const struct item_list *list, const char *lot, const char *expiry)
{
	bool *done = calloc(list->count ? list->count : 1, sizeof(*done));
	if (done == NULL)
		return SL_ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < list->count && rc == 0; i++) {
		const struct gs1_item *lead = &list->items[i];
		if (done[i] || lead->kind != GS1_KIND_PACK)
			continue;
		const char *lead_lot = lot[0] ? lot : lead->lot;
		const char *lead_expiry = expiry[0] ? expiry : lead->expiry;
		if (lead_lot[0] == '\0')
			rc = failed(m, "ilmd.lotNumber", "missing: commissioning needs the lot (or ?10= in the identifier)", NULL);
		else if (lead_expiry[0] == '\0')
			rc = failed(m, "ilmd.itemExpirationDate", "missing: commissioning needs the expiry", NULL);
		struct record *record = NULL;
		while (rc == 0) { /* one record per GTIN + lot + expiry, RECORD_ITEMS_MAX serials each */
			rc = record_new(m, RECORD_COMMISSION, &record);
			if (rc == 0)
				record->items = keep(m->out, RECORD_ITEMS_MAX * sizeof(*record->items));
			if (rc == 0 && record->items == NULL)
				rc = SL_ENOMEM;
			if (rc == 0)
				rc = keep_str(m->out, lead->gtin, &record->gtin);
			if (rc == 0)
				rc = keep_str(m->out, lead_lot, &record->lot);
			if (rc == 0)
				rc = keep_str(m->out, lead_expiry, &record->expiry);
			for (size_t j = i; j < list->count && rc == 0 && record->item_count < RECORD_ITEMS_MAX; j++) {
				const struct gs1_item *item = &list->items[j];
				const char *item_lot = lot[0] ? lot : item->lot;
				const char *item_expiry = expiry[0] ? expiry : item->expiry;
				if (done[j] || item->kind != GS1_KIND_PACK || strcmp(item->gtin, lead->gtin) != 0 ||
				    strcmp(item_lot, lead_lot) != 0 || strcmp(item_expiry, lead_expiry) != 0)
					continue;
				rc = keep_str(m->out, item->serial, &record->items[record->item_count++]);
				done[j] = true;
			}
			bool more = false;
			for (size_t j = i; j < list->count && !more; j++)
				more = !done[j] && list->items[j].kind == GS1_KIND_PACK &&
				       strcmp(list->items[j].gtin, lead->gtin) == 0 &&
				       strcmp(lot[0] ? lot : list->items[j].lot, lead_lot) == 0 &&
				       strcmp(expiry[0] ? expiry : list->items[j].expiry, lead_expiry) == 0;
			if (!more)
				break;
		}
	}
	free(done);
	return rc;
}

static int map_commission(struct mapper *m)
{
	struct item_list list = { 0 };
	int rc = items_collect(m, "epcList", &list);
	const struct epcis_node *ilmd = epcis_node_child(m->event, "ilmd");
	const char *lot = ilmd_value(ilmd, "lotNumber");
	const char *date = ilmd_value(ilmd, "itemExpirationDate");
	const char *exact = extension_value(ilmd, EPCIS_SITELEDGER_NS, "expiry"); /* YYMMDD, day 00 kept */
	char expiry[GS1_DATE_DIGITS + 1] = "";
	if (rc == 0 && list.count == 0)
		rc = not_modelled(m, "commissioning without SGTIN or SSCC identifiers (quantities are not tracked)");
	if (rc == 0 && lot != NULL && gs1_cset82_validate(lot, strlen(lot), GS1_LOT_CHARS_MAX, NULL) != 0)
		rc = failed(m, "ilmd.lotNumber", "not a GS1 lot (1-20 characters of CSET 82):", lot);
	if (rc == 0 && exact != NULL && (strlen(exact) != GS1_DATE_DIGITS ||
					 gs1_date_validate(exact, GS1_DATE_DIGITS, NULL) != 0))
		rc = failed(m, "ilmd.sl:expiry", "not a GS1 date YYMMDD:", exact);
	else if (rc == 0 && exact != NULL)
		memcpy(expiry, exact, sizeof expiry);
	else if (rc == 0 && date != NULL && !expiry_from_date(date, expiry))
		rc = failed(m, "ilmd.itemExpirationDate", "not a date YYYY-MM-DD:", date);
	if (rc == 0)
		rc = commission_packs(m, &list, lot != NULL ? lot : "", expiry);
	struct item_list containers = { 0 };
	containers.ids = list.ids;
	if (rc == 0) { /* SSCCs in list order: compact the ids of containers in place */
		size_t n = 0;
		for (size_t i = 0; i < list.count; i++)
			if (list.items[i].kind == GS1_KIND_CONTAINER)
				memmove(list.ids[n++], list.ids[i], GS1_ITEM_ID_SIZE);
		containers.count = n;
		struct record *first;
		rc = records_over_items(m, RECORD_COMMISSION_CONTAINER, &containers, &first);
	}
	item_list_free(&list);
	return rc;
}

/* --- aggregation --- */

static int map_aggregation(struct mapper *m, bool add)
{
	const char *parent_text = epcis_node_text(m->event, "parentID");
	struct gs1_item parent;
	char parent_id[GS1_ITEM_ID_SIZE];
	if (parent_text == NULL)
		return not_modelled(m, "aggregation without parentID");
	int rc = item_parse(m, "parentID", parent_text, &parent, parent_id);
	if (rc == 1) /* parents are SSCCs or SGTINs (cases of their own GTIN); GRAI, GIAI, ... are not */
		return not_modelled(m, "parentID is neither an SSCC nor an SGTIN");
	if (rc != 0)
		return rc;
	struct item_list list = { 0 };
	rc = items_collect(m, "childEPCs", &list);
	if (rc == 0 && add && list.count == 0)
		rc = not_modelled(m, "packing without SGTIN or SSCC children (quantities are not tracked)");
	struct record *record = NULL;
	if (rc == 0 && list.count == 0) { /* disaggregate all */
		rc = record_new(m, RECORD_DISAGGREGATE, &record);
		if (rc == 0)
			rc = keep_str(m->out, parent_id, &record->parent);
	}
	size_t first_record = m->out->record_count;
	if (rc == 0 && list.count > 0)
		rc = records_over_items(m, add ? RECORD_AGGREGATE : RECORD_DISAGGREGATE, &list, &record);
	for (size_t i = first_record; rc == 0 && i < m->out->record_count; i++)
		rc = keep_str(m->out, parent_id, &m->out->records[i].parent);
	item_list_free(&list);
	return rc;
}

/* --- movements, decommissioning, recalls --- */

static int destination_site(struct mapper *m, const char **site)
{
	/* CBV 2.0 §7.4: the location destination names the place, the parties name owners; prefer the place */
	static const char *const types[] = { "location", "possessing_party", "owning_party", NULL };
	const struct epcis_node *list = epcis_node_child(m->event, "destinationList");
	char word[64], gln[GS1_GLN_DIGITS + 1];
	for (size_t t = 0; types[t] != NULL; t++) {
		for (size_t i = 0; list != NULL && i < list->child_count; i++) {
			const char *type = epcis_vocab_word(m->doc, "SDT", epcis_node_text(list->children[i], "type"),
							    word, sizeof word);
			if (type == NULL || strcmp(type, types[t]) != 0 || list->children[i]->text == NULL ||
			    epcis_gln_parse(list->children[i]->text, gln) != 0)
				continue;
			if ((*site = epcis_site_map_site(m->sites, gln)) != NULL)
				return 0;
		}
	}
	const char *named = extension_value(m->event, EPCIS_SITELEDGER_NS, "destinationSite");
	if (named != NULL && record_site_id_valid(named, strlen(named))) {
		*site = named; /* siteledger's own export, no GLN mapped for that site */
		return 0;
	}
	/* a bizLocation that is not this site's own (where the goods are going, as some writers put it) */
	const char *location = epcis_node_text(epcis_node_child(m->event, "bizLocation"), "id");
	if (location != NULL && epcis_gln_parse(location, gln) == 0 && (*site = epcis_site_map_site(m->sites, gln)) &&
	    strcmp(*site, m->site) != 0)
		return 0;
	return failed(m, list != NULL ? "destinationList" : "bizLocation",
		      "no destination maps to a site (give --site-map GLN=SITE)", NULL);
}

static int map_items(struct mapper *m, enum record_type type, const char *to, int reason)
{
	struct item_list list = { 0 };
	int rc = items_collect(m, "epcList", &list);
	if (rc == 0 && list.count == 0)
		rc = not_modelled(m, "no SGTIN or SSCC identifiers (quantities are not tracked)");
	size_t first = m->out->record_count;
	struct record *record;
	if (rc == 0)
		rc = records_over_items(m, type, &list, &record);
	for (size_t i = first; rc == 0 && i < m->out->record_count; i++) {
		m->out->records[i].decommission_reason = (uint32_t)reason;
		if (to != NULL)
			rc = keep_str(m->out, to, &m->out->records[i].to);
	}
	item_list_free(&list);
	return rc;
}

static int lock_record(struct mapper *m, enum lock_scope scope, const char *target)
{
	struct record *record;
	int rc = record_new(m, RECORD_LOCK, &record);
	if (rc != 0)
		return rc;
	record->lock_scope = scope;
	record->lock_reason = LOCK_RECALL;
	return keep_str(m->out, target, &record->lock_target);
}

/* Recalled: each item (serial lock), each lgtin class (lot lock), each GTIN class (GTIN lock). */
static int map_recall(struct mapper *m)
{
	struct item_list list = { 0 };
	int rc = items_collect(m, "epcList", &list);
	for (size_t i = 0; rc == 0 && i < list.count; i++)
		rc = lock_record(m, LOCK_SCOPE_SERIAL, list.ids[i]);
	item_list_free(&list);
	const struct epcis_node *quantities = epcis_node_child(m->event, "quantityList");
	for (size_t i = 0; rc == 0 && quantities != NULL && i < quantities->child_count; i++) {
		const char *class = epcis_node_text(quantities->children[i], "epcClass");
		char link[EPCIS_TEXT_BYTES_MAX], target[GS1_LOT_KEY_SIZE + 8];
		char gtin[GS1_GTIN_DIGITS + 1], lot[GS1_LOT_CHARS_MAX + 1];
		if (class == NULL || epcis_id_to_digital_link(class, link, sizeof link) != 0 ||
		    sscanf(link, "https://id.gs1.org/01/%14[0-9]", gtin) != 1 || strlen(gtin) != GS1_GTIN_DIGITS)
			continue;
		const char *lot_at = strstr(link, "/10/");
		if (lot_at != NULL && snprintf(lot, sizeof lot, "%s", lot_at + 4) < (int)sizeof lot &&
		    gs1_lot_key(gtin, lot, target) == 0)
			rc = lock_record(m, LOCK_SCOPE_LOT, target);
		else if (lot_at == NULL && snprintf(target, sizeof target, "(01)%s", gtin) > 0)
			rc = lock_record(m, LOCK_SCOPE_GTIN, target);
	}
	if (rc == 0 && m->result->record_count == 0)
		rc = not_modelled(m, "recall without SGTIN, SSCC, lot or GTIN to lock");
	return rc;
}

/* CBV 2.0 §7.2 dispositions and §7.1 steps that end a pack's life, in the order they decide. */
static int decommission_reason(struct mapper *m)
{
	static const struct {
		const char *word;
		int reason;
	} by_disposition[] = { { "stolen", DECOMMISSION_STOLEN },	 { "damaged", DECOMMISSION_DAMAGED },
			       { "expired", DECOMMISSION_EXPIRED },	 { "destroyed", DECOMMISSION_DESTROYED },
			       { "disposed", DECOMMISSION_DESTROYED }, { "dispensed", DECOMMISSION_DISPENSED } },
	  by_step[] = { { "destroying", DECOMMISSION_DESTROYED },
			{ "dispensing", DECOMMISSION_DISPENSED },
			{ "sampling", DECOMMISSION_SAMPLE } };
	char buf[64];
	const char *exact = extension_value(m->event, EPCIS_SITELEDGER_NS, "decommissionReason");
	if (exact != NULL && decommission_reason_from_name(exact) > 0)
		return decommission_reason_from_name(exact); /* siteledger's own export: the exact reason */
	const char *disposition = epcis_vocab_word(m->doc, "Disp", epcis_node_text(m->event, "disposition"), buf,
						   sizeof buf);
	for (size_t i = 0; disposition != NULL && i < sizeof(by_disposition) / sizeof(by_disposition[0]); i++)
		if (strcmp(disposition, by_disposition[i].word) == 0)
			return by_disposition[i].reason;
	const char *step = epcis_vocab_word(m->doc, "BizStep", epcis_node_text(m->event, "bizStep"), buf, sizeof buf);
	for (size_t i = 0; step != NULL && i < sizeof(by_step) / sizeof(by_step[0]); i++)
		if (strcmp(step, by_step[i].word) == 0)
			return by_step[i].reason;
	return 0;
}

/* --- error declarations (EPCIS 2.0 §7.4.1.2) --- */

/* The records an earlier import made from the event with this eventID (meta EPCIS_META_ID_PREFIX). */
static int corrected_records(struct mapper *m, const char *event_id, struct record *record)
{
	if (m->txn == NULL || event_id == NULL)
		return 0;
	uint8_t digest[CRYPTO_SHA256_BYTES];
	char name[sizeof(EPCIS_META_ID_PREFIX) + 2 * CRYPTO_SHA256_BYTES];
	char hex[2 * CRYPTO_SHA256_BYTES + 1];
	crypto_sha256((const uint8_t *)event_id, strlen(event_id), digest);
	crypto_hex_encode(digest, sizeof digest, hex);
	snprintf(name, sizeof name, "%s%s", EPCIS_META_ID_PREFIX, hex);
	const void *value;
	size_t len;
	int rc = store_meta_get(m->txn, name, &value, &len);
	if (rc == SL_ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	size_t count = (len + 1) / (2 * RECORD_ID_BYTES + 1); /* "hex,hex,...": 65 bytes per id */
	if (count > RECORD_REFS_MAX)
		count = RECORD_REFS_MAX;
	uint8_t(*refs)[RECORD_ID_BYTES] = keep(m->out, (count ? count : 1) * sizeof(*refs));
	if (refs == NULL)
		return SL_ENOMEM;
	for (size_t i = 0; i < count; i++) {
		char one[2 * RECORD_ID_BYTES + 1];
		memcpy(one, (const char *)value + i * (2 * RECORD_ID_BYTES + 1), 2 * RECORD_ID_BYTES);
		one[2 * RECORD_ID_BYTES] = '\0';
		if (crypto_hex_decode(one, refs[i], RECORD_ID_BYTES) != 0)
			return SL_ECORRUPT;
	}
	record->refs = (const uint8_t(*)[RECORD_ID_BYTES])refs;
	record->ref_count = count;
	return 0;
}

static int map_error_declaration(struct mapper *m, const struct epcis_node *declaration)
{
	const char *event_id = epcis_node_text(m->event, "eventID");
	char reason[128] = "unspecified";
	const char *given = epcis_node_text(declaration, "reason");
	if (given != NULL)
		snprintf(reason, sizeof reason, "%s", given);
	char text[RECORD_TEXT_CHARS_MAX + 1];
	int used = snprintf(text, sizeof text, "EPCIS error declaration (%s) at %s for event %s", reason,
			    epcis_node_text(declaration, "declarationTime"), event_id ? event_id : "(no eventID)");
	const struct epcis_node *corrective = epcis_node_child(declaration, "correctiveEventIDs");
	for (size_t i = 0; corrective != NULL && i < corrective->child_count && used > 0 &&
			   (size_t)used < sizeof text - 1;
	     i++)
		used += snprintf(text + used, sizeof text - (size_t)used, "%s%s", i == 0 ? "; corrective events: " : ", ",
				 corrective->children[i]->text ? corrective->children[i]->text : "");
	struct record *record;
	int rc = record_new(m, RECORD_DEVIATION, &record);
	if (rc != 0)
		return rc;
	record->deviation_category = DEVIATION_OTHER;
	rc = keep_str(m->out, text, &record->text);
	if (rc == 0)
		rc = corrected_records(m, event_id, record);
	if (rc == 0 && record->ref_count == 0)
		snprintf(m->result->note, sizeof m->result->note,
			 "the declared event was not imported here: the deviation cites no record");
	return rc;
}

/* --- one event --- */

static int map_object_event(struct mapper *m, const char *action, const char *step, const char *disposition)
{
	if (strcmp(action, "ADD") == 0) {
		if (step != NULL && strcmp(step, "commissioning") == 0)
			return map_commission(m);
		return not_modelled(m, "ObjectEvent ADD other than commissioning");
	}
	int reason = decommission_reason(m);
	if (strcmp(action, "DELETE") == 0) {
		if (reason == 0 && step != NULL && strcmp(step, "decommissioning") == 0)
			return failed(m, "disposition", "decommissioning needs a reason: stolen, damaged, expired, destroyed or dispensed", NULL);
		return reason != 0 ? map_items(m, RECORD_DECOMMISSION, NULL, reason)
				   : not_modelled(m, "ObjectEvent DELETE without a decommission reason siteledger knows");
	}
	if (disposition != NULL && strcmp(disposition, "recalled") == 0)
		return map_recall(m);
	if (step != NULL && strcmp(step, "shipping") == 0) {
		const char *to = NULL;
		int rc = destination_site(m, &to);
		return rc != 0 ? rc : map_items(m, RECORD_SHIP, to, 0);
	}
	if (step != NULL && strcmp(step, "receiving") == 0)
		return map_items(m, RECORD_RECEIVE, NULL, 0);
	if (reason != 0)
		return map_items(m, RECORD_DECOMMISSION, NULL, reason);
	return not_modelled(m, "ObjectEvent OBSERVE that siteledger does not record (no shipping, receiving, "
			       "recall or decommission)");
}

/* An event at a location mapped to another site belongs to that site's ledger. */
static int check_location(struct mapper *m)
{
	const char *location = epcis_node_text(epcis_node_child(m->event, "bizLocation"), "id");
	char gln[GS1_GLN_DIGITS + 1];
	const char *owner = location != NULL && epcis_gln_parse(location, gln) == 0 ? epcis_site_map_site(m->sites, gln)
										  : NULL;
	if (owner != NULL && strcmp(owner, m->site) != 0)
		return failed(m, "bizLocation", "is mapped to another site; import the event there:", owner);
	return 0;
}

static int map_event(struct mapper *m)
{
	const char *action = epcis_node_text(m->event, "action");
	char step_buf[64], disposition_buf[64];
	const char *step = epcis_vocab_word(m->doc, "BizStep", epcis_node_text(m->event, "bizStep"), step_buf,
					    sizeof step_buf);
	const char *disposition = epcis_vocab_word(m->doc, "Disp", epcis_node_text(m->event, "disposition"),
						   disposition_buf, sizeof disposition_buf);
	const struct epcis_node *declaration = epcis_node_child(m->event, "errorDeclaration");
	if (declaration != NULL)
		return map_error_declaration(m, declaration);
	int rc = check_location(m);
	if (rc != 0)
		return rc;
	if (strcmp(m->event->name, "ObjectEvent") == 0 && action != NULL)
		return map_object_event(m, action, step, disposition);
	if (strcmp(m->event->name, "AggregationEvent") == 0 && action != NULL) {
		bool add = strcmp(action, "ADD") == 0, del = strcmp(action, "DELETE") == 0;
		if (add && (step == NULL || strcmp(step, "packing") == 0))
			return map_aggregation(m, true);
		if (del && (step == NULL || strcmp(step, "unpacking") == 0))
			return map_aggregation(m, false);
		return not_modelled(m, "AggregationEvent other than ADD+packing or DELETE+unpacking");
	}
	snprintf(m->result->note, sizeof m->result->note, "%s: siteledger has no record of this kind", m->event->name);
	return NOT_MODELLED;
}

int epcis_map_document(const epcis_doc *doc, const char *site, const struct epcis_site_map *sites, store_txn *txn,
		       struct epcis_mapping *out)
{
	memset(out, 0, sizeof(*out));
	size_t count = epcis_doc_event_count(doc);
	out->events = calloc(count ? count : 1, sizeof(*out->events));
	if (out->events == NULL)
		return SL_ENOMEM;
	for (size_t i = 0; i < count; i++) {
		struct epcis_event_result *result = &out->events[out->event_count++];
		const struct epcis_node *event = epcis_doc_event(doc, i);
		result->index = i;
		result->event_id = epcis_node_text(event, "eventID");
		result->event_type = event->name;
		result->mapped_as = "";
		result->record_first = out->record_count;
		int rc = epcis_event_hash_id(doc, i, result->hash_id);
		struct mapper m = { doc, site, sites, txn, out, result, event, 0 };
		if (rc == 0 && epcis_time_parse_ms(epcis_node_text(event, "eventTime"), &m.event_time_ms) != 0)
			rc = SL_EINVAL; /* validated before: a caller that skipped validation */
		if (rc == 0)
			rc = map_event(&m);
		if (rc < 0)
			return rc;
		result->status = rc == 0 ? EPCIS_EVENT_MAPPED : rc == NOT_MODELLED ? EPCIS_EVENT_NOT_MODELLED
										  : EPCIS_EVENT_FAILED;
		if (rc != 0) { /* drop the records of an event that did not map whole */
			for (size_t r = result->record_first; r < out->record_count; r++)
				record_clear(&out->records[r]);
			out->record_count = result->record_first;
			result->record_count = 0;
			result->mapped_as = "";
		}
	}
	return 0;
}

void epcis_mapping_free(struct epcis_mapping *mapping)
{
	for (size_t i = 0; i < mapping->record_count; i++)
		record_clear(&mapping->records[i]);
	for (size_t i = 0; i < mapping->allocation_count; i++)
		free(mapping->allocations[i]);
	free(mapping->allocations);
	free(mapping->records);
	free(mapping->events);
	memset(mapping, 0, sizeof(*mapping));
}

const char *epcis_event_status_name(enum epcis_event_status status)
{
	switch (status) {
	case EPCIS_EVENT_MAPPED:
		return "mapped";
	case EPCIS_EVENT_NOT_MODELLED:
		return "not_modelled";
	case EPCIS_EVENT_FAILED:
		return "failed";
	case EPCIS_EVENT_DUPLICATE:
		return "duplicate";
	}
	return "?";
}
