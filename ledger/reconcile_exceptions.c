/* ledger/reconcile_exceptions.c — pass 3 of reconciliation: exceptions in the HDA categories,
 * the deviation records that explain them, and the unexplained identities.
 *
 * Design notes (docs/reconciliation.md "Exceptions" is the text for QA):
 *  1. Evidence is the ledger itself. Refused records stay in the ledger with their outcome
 *     (docs/lifecycle.md "Audit trail"), so a receipt of goods nobody shipped to the site is a
 *     refused receive (NOT_DESTINATION, NOT_IN_TRANSIT, UNKNOWN_ITEM), a packaging error is a
 *     refused (dis)aggregation or a movement refused with AGGREGATED, and goods held back by a
 *     lock are a record refused with LOCKED. Accepted damaged and stolen decommissions are
 *     exceptions too (HDA "damaged"; "data with no product").
 *  2. A shipment in transit for overdue_days or more, measured in ledger time against the last
 *     entry, is "shipped but not received" (data with no product): one exception per ship entry.
 *  3. An accepted deviation whose cited records include an exception's record resolves it; the
 *     first such deviation is shown. A deviation cites records that exist, so it always comes
 *     after what it explains and one forward scan suffices.
 *  4. Unauthenticated refusals (bad signature, unknown key, wrong site) are not exceptions:
 *     anyone could write them (docs/lifecycle.md).
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/hierarchy.h"
#include "ledger/lifecycle.h"
#include "ledger/reason.h"
#include "ledger/reconcile.h"
#include "ledger/reconcile_internal.h"
#include "util/error.h"

typedef char item_id_t[STORE_ITEM_ID_SIZE];

struct id_index_row {
	item_id_t id;
	size_t item; /* index in report->items; SIZE_MAX for containers */
};

struct finder {
	store_txn *txn;
	const struct reconcile_options *options;
	struct reconcile_report *report;
	struct id_index_row *lot_items; /* sorted by id */
	item_id_t *containers;		/* containers above the lot's packs now, sorted */
	size_t container_count, container_cap;
	size_t exception_cap;
	item_id_t *scratch; /* identities of the exception being built */
	size_t scratch_count, scratch_cap;
};

static int id_compare(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static bool is_lot_item(const struct finder *f, const char *id)
{
	return f->report->item_count &&
	       bsearch(id, f->lot_items, f->report->item_count, sizeof(*f->lot_items), id_compare) != NULL;
}

static bool is_lot_container(const struct finder *f, const char *id)
{
	return f->container_count && bsearch(id, f->containers, f->container_count, sizeof(item_id_t), id_compare);
}

static size_t sort_unique(item_id_t *ids, size_t count)
{
	if (count == 0)
		return 0;
	qsort(ids, count, sizeof(item_id_t), id_compare);
	size_t out = 1;
	for (size_t i = 1; i < count; i++)
		if (strcmp(ids[i], ids[out - 1]) != 0)
			memmove(ids[out++], ids[i], sizeof(item_id_t));
	return out;
}

static int ids_push(item_id_t **ids, size_t *count, size_t *cap, const char *id)
{
	int rc = reconcile_grow((void **)ids, cap, *count + 1, sizeof(item_id_t), RECONCILE_ITEMS_MAX);
	if (rc != 0)
		return rc;
	snprintf((*ids)[*count], sizeof(item_id_t), "%s", id);
	(*count)++;
	return 0;
}

/* The lot index and the containers holding the lot's packs (walked up to the hierarchy limit). */
static int finder_index(struct finder *f)
{
	struct reconcile_report *r = f->report;
	if (r->item_count == 0)
		return 0;
	f->lot_items = calloc(r->item_count, sizeof(*f->lot_items));
	if (f->lot_items == NULL)
		return SL_ENOMEM;
	for (size_t i = 0; i < r->item_count; i++) {
		memcpy(f->lot_items[i].id, r->items[i].id, sizeof(item_id_t));
		f->lot_items[i].item = i;
		char parent[STORE_ITEM_ID_SIZE];
		memcpy(parent, r->items[i].state.parent, sizeof parent);
		for (int depth = 0; parent[0] != '\0' && depth < HIERARCHY_DEPTH_MAX; depth++) {
			int rc = ids_push(&f->containers, &f->container_count, &f->container_cap, parent);
			struct store_item above;
			if (rc == 0)
				rc = store_item_get(f->txn, parent, &above);
			if (rc != 0)
				return rc == SL_ENOENT ? SL_ECORRUPT : rc;
			memcpy(parent, above.parent, sizeof parent);
		}
		if (f->container_count > RECONCILE_ITEMS_MAX / 2)
			f->container_count = sort_unique(f->containers, f->container_count);
	}
	qsort(f->lot_items, r->item_count, sizeof(*f->lot_items), id_compare);
	f->container_count = sort_unique(f->containers, f->container_count);
	return 0;
}

static int exception_add(struct finder *f, int category, const char *what, const struct ledger_entry *entry,
			 const struct record *record)
{
	struct reconcile_report *r = f->report;
	int rc = reconcile_grow((void **)&r->exceptions, &f->exception_cap, r->exception_count + 1,
				sizeof(*r->exceptions), RECONCILE_EXCEPTIONS_MAX);
	if (rc != 0)
		return rc;
	struct reconcile_exception *e = &r->exceptions[r->exception_count];
	memset(e, 0, sizeof(*e));
	e->category = category;
	e->what = what;
	e->seq = entry->seq;
	e->ledger_time_ms = entry->ledger_time_ms;
	e->outcome = entry->outcome;
	rc = record_id(record, e->record_id);
	if (rc == 0)
		rc = sl_str_copy(record->site, e->site, sizeof e->site);
	if (rc == 0 && record->type == RECORD_SHIP)
		rc = sl_str_copy(record->to, e->other_site, sizeof e->other_site);
	if (rc != 0)
		return rc;
	f->scratch_count = sort_unique(f->scratch, f->scratch_count);
	e->items = calloc(f->scratch_count ? f->scratch_count : 1, sizeof(item_id_t));
	if (e->items == NULL)
		return SL_ENOMEM;
	if (f->scratch_count > 0)
		memcpy(e->items, f->scratch, f->scratch_count * sizeof(item_id_t));
	e->item_count = f->scratch_count;
	r->exception_count++;
	return 0;
}

/* ---- shipped, not received (design note 2) */

static int overdue_add(struct finder *f, const struct reconcile_item *item)
{
	struct reconcile_report *r = f->report;
	for (size_t i = r->exception_count; i-- > 0;) {
		struct reconcile_exception *e = &r->exceptions[i];
		if (e->seq != item->state.status_seq)
			continue;
		size_t cap = e->item_count;
		int rc = reconcile_grow((void **)&e->items, &cap, e->item_count + 1, sizeof(item_id_t),
					RECONCILE_ITEMS_MAX);
		if (rc != 0)
			return rc;
		memcpy(e->items[e->item_count++], item->id, sizeof(item_id_t));
		return 0;
	}
	struct ledger_entry entry;
	struct record record;
	int rc = reconcile_entry_load(f->txn, item->state.status_seq, &entry, &record);
	if (rc <= 0)
		return rc < 0 ? rc : SL_ECORRUPT; /* an accepted ship always decodes */
	f->scratch_count = 0;
	rc = ids_push(&f->scratch, &f->scratch_count, &f->scratch_cap, item->id);
	if (rc == 0)
		rc = exception_add(f, DEVIATION_DATA_NO_PRODUCT, "shipped, not received within the overdue period",
				   &entry, &record);
	record_clear(&record);
	return rc;
}

static int overdue_find(struct finder *f)
{
	struct reconcile_report *r = f->report;
	uint64_t limit_ms = (uint64_t)f->options->overdue_days * RECONCILE_DAY_MS;
	for (size_t i = 0; i < r->item_count; i++) {
		const struct store_item *s = &r->items[i].state;
		if (s->status != ITEM_IN_TRANSIT || r->now_ms < s->status_time_ms ||
		    r->now_ms - s->status_time_ms < limit_ms)
			continue;
		if (!reconcile_site_match(f->options, s->site, strlen(s->site)) &&
		    !reconcile_site_match(f->options, s->destination, strlen(s->destination)))
			continue;
		int rc = overdue_add(f, &r->items[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ---- the ledger scan (design notes 1, 3) */

int reconcile_classify(uint32_t outcome, const struct record *record, const char **what)
{
	uint32_t o = outcome;
	int t = record->type;
	if (o == OUTCOME_ACCEPTED) {
		if (t == RECORD_DECOMMISSION && record->decommission_reason == DECOMMISSION_DAMAGED)
			return *what = "decommissioned as damaged", DEVIATION_DAMAGED;
		if (t == RECORD_DECOMMISSION && record->decommission_reason == DECOMMISSION_STOLEN)
			return *what = "reported stolen", DEVIATION_DATA_NO_PRODUCT;
		return 0;
	}
	if (o == OUTCOME_LOCKED)
		return *what = "refused: item, lot or GTIN locked", DEVIATION_UNAVAILABLE_FOR_DISTRIBUTION;
	if (t == RECORD_RECEIVE && o == OUTCOME_NOT_DESTINATION)
		return *what = "received goods shipped to another site", DEVIATION_PRODUCT_NO_DATA;
	if (t == RECORD_RECEIVE && o == OUTCOME_NOT_IN_TRANSIT)
		return *what = "received goods nobody shipped", DEVIATION_PRODUCT_NO_DATA;
	if (t == RECORD_RECEIVE && o == OUTCOME_UNKNOWN_ITEM)
		return *what = "received an identifier never commissioned", DEVIATION_PRODUCT_NO_DATA;
	if ((t == RECORD_AGGREGATE || t == RECORD_DISAGGREGATE) &&
	    (o == OUTCOME_ALREADY_AGGREGATED || o == OUTCOME_AGGREGATION_CYCLE || o == OUTCOME_NOT_A_CONTAINER ||
	     o == OUTCOME_NOT_AGGREGATED || o == OUTCOME_LIMIT_EXCEEDED))
		return *what = "aggregation refused: packaging hierarchy does not match the data", DEVIATION_PACKAGING_LABELLING;
	if (o == OUTCOME_AGGREGATED)
		return *what = "movement refused: item is inside a container", DEVIATION_PACKAGING_LABELLING;
	return 0;
}

/* Does this identifier concern the lot? A pack of the lot, a container holding some, the lot's
 * own commission, or (for UNKNOWN_ITEM receipts) a never-commissioned serial of the lot's GTIN. */
static bool relevant(const struct finder *f, const struct ledger_entry *entry, const struct record *record,
		     const char *id)
{
	if (record->type == RECORD_COMMISSION)
		return sl_str_eq_cstr(record->gtin, f->report->gtin) && sl_str_eq_cstr(record->lot, f->report->lot);
	if (is_lot_item(f, id) || is_lot_container(f, id))
		return true;
	struct gs1_item parsed;
	return entry->outcome == OUTCOME_UNKNOWN_ITEM && gs1_item_id_parse(id, strlen(id), &parsed, NULL) == 0 &&
	       parsed.kind == GS1_KIND_PACK && strcmp(parsed.gtin, f->report->gtin) == 0;
}

static int identities_gather(struct finder *f, const struct ledger_entry *entry, const struct record *record)
{
	f->scratch_count = 0;
	size_t first = 0, end = record->item_count;
	if (entry->outcome != OUTCOME_ACCEPTED && entry->has_item && entry->item < record->item_count) {
		first = entry->item; /* the offending item (docs/lifecycle.md "One offending item") */
		end = first + 1;
	}
	for (size_t i = first; i < end; i++) {
		char id[STORE_ITEM_ID_SIZE];
		int rc = reconcile_record_item_id(record, i, id);
		if (rc == 0 && relevant(f, entry, record, id))
			rc = ids_push(&f->scratch, &f->scratch_count, &f->scratch_cap, id);
		if (rc != 0)
			return rc;
	}
	if (entry->outcome != OUTCOME_ACCEPTED || f->scratch_count == 0)
		return 0;
	/* accepted decommission: the lot's packs it took out, contents of containers included */
	const struct reconcile_report *r = f->report;
	for (size_t i = 0; i < r->item_count; i++) {
		const struct store_item *s = &r->items[i].state;
		if (s->status == ITEM_DECOMMISSIONED && s->status_seq == entry->seq) {
			int rc = ids_push(&f->scratch, &f->scratch_count, &f->scratch_cap, r->items[i].id);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

static void deviation_apply(struct finder *f, const struct ledger_entry *entry, const struct record *record)
{
	uint8_t id[RECORD_ID_BYTES];
	if (record_id(record, id) != 0)
		return;
	struct reconcile_report *r = f->report;
	for (size_t k = 0; k < record->ref_count; k++) {
		for (size_t i = 0; i < r->exception_count; i++) {
			struct reconcile_exception *e = &r->exceptions[i];
			if (e->resolved || memcmp(e->record_id, record->refs[k], RECORD_ID_BYTES) != 0)
				continue;
			e->resolved = true;
			e->deviation_seq = entry->seq;
			memcpy(e->deviation_id, id, RECORD_ID_BYTES);
		}
	}
}

static int scan_record(struct finder *f, const struct ledger_entry *entry, const struct record *record)
{
	if (entry->outcome == OUTCOME_ACCEPTED && record->type == RECORD_DEVIATION) {
		deviation_apply(f, entry, record);
		return 0;
	}
	const char *what = NULL;
	int category = reconcile_classify(entry->outcome, record, &what);
	if (category == 0)
		return 0;
	int rc = identities_gather(f, entry, record);
	if (rc != 0 || f->scratch_count == 0)
		return rc;
	bool site_ok = reconcile_site_match(f->options, record->site.ptr, record->site.len) ||
		       (record->type == RECORD_SHIP && reconcile_site_match(f->options, record->to.ptr, record->to.len));
	return site_ok ? exception_add(f, category, what, entry, record) : 0;
}

static int scan_cb(void *ctx, uint64_t seq, const uint8_t *bytes, size_t len)
{
	struct finder *f = ctx;
	struct ledger_entry entry;
	struct record record;
	(void)seq;
	if (entry_decode(bytes, len, &entry, NULL) != 0)
		return SL_ECORRUPT;
	if (record_decode(entry.record, entry.record_len, &record, NULL) != 0)
		return 0; /* refused at decoding: names nothing reliably */
	int rc = scan_record(f, &entry, &record);
	record_clear(&record);
	return rc;
}

static int exception_compare(const void *a, const void *b)
{
	const struct reconcile_exception *x = a, *y = b;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return (x->category > y->category) - (x->category < y->category);
}

/* Unexplained: identities of unresolved exceptions plus packs in no state category. */
static int unexplained_collect(struct finder *f)
{
	struct reconcile_report *r = f->report;
	size_t cap = 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < r->exception_count; i++)
		for (size_t k = 0; rc == 0 && !r->exceptions[i].resolved && k < r->exceptions[i].item_count; k++)
			rc = ids_push(&r->unexplained, &r->unexplained_count, &cap, r->exceptions[i].items[k]);
	for (size_t i = 0; rc == 0 && i < r->item_count; i++)
		if (r->items[i].counts & (1u << RECONCILE_UNEXPLAINED))
			rc = ids_push(&r->unexplained, &r->unexplained_count, &cap, r->items[i].id);
	if (rc != 0)
		return rc;
	r->unexplained_count = sort_unique(r->unexplained, r->unexplained_count);
	for (size_t i = 0; i < r->unexplained_count; i++) {
		const struct id_index_row *row = r->item_count ? bsearch(r->unexplained[i], f->lot_items, r->item_count,
									  sizeof(*f->lot_items), id_compare)
							       : NULL;
		if (row != NULL)
			r->items[row->item].counts |= 1u << RECONCILE_UNEXPLAINED;
	}
	return 0;
}

int reconcile_exceptions_find(store_txn *txn, const struct reconcile_options *options,
			      struct reconcile_report *report)
{
	assert(report->exception_count == 0);
	struct finder f = { .txn = txn, .options = options, .report = report };
	int rc = finder_index(&f);
	if (rc == 0)
		rc = overdue_find(&f);
	if (rc == 0) {
		rc = store_ledger_iterate(txn, 1, 0, scan_cb, &f);
		rc = rc < 0 ? rc : 0;
	}
	if (rc == 0 && report->exception_count > 0)
		qsort(report->exceptions, report->exception_count, sizeof(*report->exceptions), exception_compare);
	if (rc == 0)
		rc = unexplained_collect(&f);
	free(f.lot_items);
	free(f.containers);
	free(f.scratch);
	return rc;
}
