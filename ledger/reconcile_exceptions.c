/* ledger/reconcile_exceptions.c — pass 2 of reconciliation: exceptions in the HDA categories,
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
 *     entry, is "shipped but not received" (data with no product): one exception per ship entry,
 *     naming its packs in commissioning order.
 *  3. An accepted deviation whose cited records include an exception's record resolves it; the
 *     first such deviation is shown. A deviation cites records that exist, so it always comes
 *     after what it explains and one pass in ledger order suffices.
 *  4. Unauthenticated refusals (bad signature, unknown key, wrong site) are not exceptions:
 *     anyone could write them (docs/lifecycle.md).
 *  5. Pass 1 remembers the seqs of the entries that can matter here (classified ones and
 *     accepted deviations: few in a working ledger), so pass 2 reads those again instead of the
 *     whole ledger; beyond candidates_max it scans the whole ledger again (same result).
 *  6. Which lots an identity concerns: a pack of the lot (the items table gives its GTIN and lot;
 *     with a line filter its commission record must be that line's), a container holding packs
 *     of the lot now, or, for UNKNOWN_ITEM receipts, a never-commissioned serial of the lot's
 *     GTIN; a refused commission concerns the lot it names. Each identity is looked up once
 *     whatever the number of lots.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/lifecycle.h"
#include "ledger/reason.h"
#include "ledger/reconcile.h"
#include "ledger/reconcile_internal.h"
#include "util/error.h"

/* (lot, identity) pairs one entry may give: RECORD_ITEMS_MAX identities concerning this many lots
 * each on average (a mixed pallet, a GTIN's lots); beyond it the run fails with SL_ELIMIT. */
#define IDENTITY_LOTS_MAX 256

static int id_compare(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static size_t sort_unique(reconcile_id_t *ids, size_t count)
{
	if (count == 0)
		return 0;
	qsort(ids, count, sizeof(reconcile_id_t), id_compare);
	size_t out = 1;
	for (size_t i = 1; i < count; i++)
		if (strcmp(ids[i], ids[out - 1]) != 0)
			memmove(ids[out++], ids[i], sizeof(reconcile_id_t));
	return out;
}

static int ids_push(reconcile_id_t **ids, size_t *count, size_t *cap, const char *id)
{
	int rc = reconcile_grow((void **)ids, cap, *count + 1, sizeof(reconcile_id_t), RECONCILE_ITEMS_MAX);
	if (rc != 0)
		return rc;
	snprintf((*ids)[*count], sizeof(reconcile_id_t), "%s", id);
	(*count)++;
	return 0;
}

/* ---- pass 1: the entries to read again (design note 5) */

int reconcile_candidate_note(struct reconcile_run *run, const struct ledger_entry *entry,
			     const struct record *record)
{
	const char *what = NULL;
	bool deviation = entry->outcome == OUTCOME_ACCEPTED && record->type == RECORD_DEVIATION;
	if (run->candidates_overflow || (!deviation && reconcile_classify(entry->outcome, record, &what) == 0))
		return 0;
	if (run->candidate_count == run->candidates_max) {
		run->candidates_overflow = true; /* pass 2 scans the ledger instead */
		free(run->candidates);
		run->candidates = NULL;
		run->candidate_count = run->candidate_cap = 0;
		return 0;
	}
	int rc = reconcile_grow((void **)&run->candidates, &run->candidate_cap, run->candidate_count + 1,
				sizeof(*run->candidates), run->candidates_max);
	if (rc == 0)
		run->candidates[run->candidate_count++] = entry->seq;
	return rc;
}

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

/* ---- building one exception */

/* Add an exception to `lot` naming the run's scratch identities (sorted and unique first, unless
 * `keep_order`: an overdue shipment lists its packs in commissioning order). */
static int exception_add(struct reconcile_run *run, struct reconcile_lot_run *lot, int category, const char *what,
			 const struct ledger_entry *entry, const struct record *record, bool keep_order)
{
	struct reconcile_report *r = lot->report;
	int rc = reconcile_grow((void **)&r->exceptions, &lot->exception_cap, r->exception_count + 1,
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
	if (!keep_order)
		run->scratch_count = sort_unique(run->scratch, run->scratch_count);
	e->items = calloc(run->scratch_count ? run->scratch_count : 1, sizeof(reconcile_id_t));
	if (e->items == NULL)
		return SL_ENOMEM;
	if (run->scratch_count > 0)
		memcpy(e->items, run->scratch, run->scratch_count * sizeof(reconcile_id_t));
	e->item_count = run->scratch_count;
	r->exception_count++;
	return 0;
}

static int seq_id_compare(const void *a, const void *b)
{
	const struct reconcile_seq_id *x = a, *y = b;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

/* ---- shipped, not received (design note 2) */

static int overdue_exceptions(struct reconcile_run *run, struct reconcile_lot_run *lot)
{
	if (lot->overdue_count > 1)
		qsort(lot->overdue, lot->overdue_count, sizeof(*lot->overdue), seq_id_compare);
	for (size_t i = 0; i < lot->overdue_count;) {
		uint64_t seq = lot->overdue[i].seq;
		run->scratch_count = 0;
		int rc = 0;
		for (; rc == 0 && i < lot->overdue_count && lot->overdue[i].seq == seq; i++)
			rc = ids_push(&run->scratch, &run->scratch_count, &run->scratch_cap, lot->overdue[i].id);
		struct ledger_entry entry;
		struct record record;
		if (rc == 0)
			rc = reconcile_entry_load(run->txn, seq, &entry, &record);
		if (rc <= 0)
			return rc < 0 ? rc : SL_ECORRUPT; /* an accepted ship always decodes */
		rc = exception_add(run, lot, DEVIATION_DATA_NO_PRODUCT,
				   "shipped, not received within the overdue period", &entry, &record, true);
		record_clear(&record);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ---- which lots an identity concerns (design note 6) */

struct concern {
	uint32_t lot;
	uint32_t identity; /* index in the record's identities */
};

struct concerns {
	struct concern *list;
	size_t count, cap;
};

static int concern_add(struct concerns *c, uint32_t lot, uint32_t identity)
{
	int rc = reconcile_grow((void **)&c->list, &c->cap, c->count + 1, sizeof(*c->list),
				(size_t)RECORD_ITEMS_MAX * IDENTITY_LOTS_MAX);
	if (rc == 0)
		c->list[c->count++] = (struct concern){ lot, identity };
	return rc;
}

/* Is this pack of a run's lot in scope (line filter: the actor of its commission record)? */
static int pack_in_scope(struct reconcile_run *run, const struct store_item *item, bool *in_scope)
{
	*in_scope = true;
	if (run->options->line == NULL)
		return 0;
	struct ledger_entry entry;
	struct record record;
	int rc = reconcile_entry_load(run->txn, item->commission_seq, &entry, &record);
	if (rc <= 0)
		return rc < 0 ? rc : SL_ECORRUPT; /* an accepted commission always decodes */
	*in_scope = reconcile_line_match(run->options, &record);
	record_clear(&record);
	return 0;
}

static int identity_concerns(struct reconcile_run *run, const struct ledger_entry *entry, const char *id,
			     uint32_t identity, struct concerns *c)
{
	struct store_item item;
	int rc = reconcile_read_note(run);
	if (rc == 0)
		rc = store_item_get(run->txn, id, &item);
	if (rc != 0 && rc != SL_ENOENT)
		return rc;
	if (rc == 0 && item.kind == GS1_KIND_PACK) {
		long lot = reconcile_lot_find(run, sl_str_from_cstr(item.gtin), sl_str_from_cstr(item.lot));
		bool in_scope = false;
		if (lot >= 0 && (rc = pack_in_scope(run, &item, &in_scope)) != 0)
			return rc;
		if (lot >= 0 && in_scope && (rc = concern_add(c, (uint32_t)lot, identity)) != 0)
			return rc;
	}
	size_t lo = 0, hi = run->container_count;
	while (lo < hi) { /* first (container, lot) pair of this id */
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(run->containers[mid].id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (rc = 0; rc == 0 && lo < run->container_count && strcmp(run->containers[lo].id, id) == 0; lo++)
		rc = concern_add(c, run->containers[lo].lot, identity);
	struct gs1_item parsed;
	if (rc != 0 || entry->outcome != OUTCOME_UNKNOWN_ITEM || run->options->line != NULL ||
	    gs1_item_id_parse(id, strlen(id), &parsed, NULL) != 0 || parsed.kind != GS1_KIND_PACK)
		return rc; /* a serial never commissioned was made on no line */
	size_t first, end;
	reconcile_lots_of_gtin(run, parsed.gtin, &first, &end);
	for (size_t k = first; rc == 0 && k < end; k++)
		rc = concern_add(c, run->by_key[k].lot_index, identity);
	return rc;
}

static int concern_compare(const void *a, const void *b)
{
	const struct concern *x = a, *y = b;
	if (x->lot != y->lot)
		return x->lot < y->lot ? -1 : 1;
	return (x->identity > y->identity) - (x->identity < y->identity);
}

/* The identities of a classified entry: its one offending item when refused (docs/lifecycle.md
 * "One offending item"), else every item it names. */
static void identities_range(const struct ledger_entry *entry, const struct record *record, size_t *first,
			     size_t *end)
{
	*first = 0;
	*end = record->item_count;
	if (entry->outcome != OUTCOME_ACCEPTED && entry->has_item && entry->item < record->item_count) {
		*first = entry->item;
		*end = *first + 1;
	}
}

static int concerns_find(struct reconcile_run *run, const struct ledger_entry *entry, const struct record *record,
			 struct concerns *c)
{
	size_t first, end;
	identities_range(entry, record, &first, &end);
	if (record->type == RECORD_COMMISSION) { /* the lot it names, if that is the line's */
		long lot = reconcile_lot_find(run, record->gtin, record->lot);
		for (size_t i = first; lot >= 0 && reconcile_line_match(run->options, record) && i < end; i++) {
			int rc = concern_add(c, (uint32_t)lot, (uint32_t)i);
			if (rc != 0)
				return rc;
		}
		return 0;
	}
	for (size_t i = first; i < end; i++) {
		char id[STORE_ITEM_ID_SIZE];
		int rc = reconcile_record_item_id(record, i, id);
		if (rc == 0)
			rc = identity_concerns(run, entry, id, (uint32_t)i, c);
		if (rc != 0)
			return rc;
	}
	if (c->count > 1)
		qsort(c->list, c->count, sizeof(*c->list), concern_compare);
	return 0;
}

/* ---- pass 2: one classified entry, one deviation */

/* The exception `entry` shows for one lot, its identities being concerns [*at, ...) of that lot. */
static int lot_exception(struct reconcile_run *run, const struct concerns *c, size_t *at, int category,
			 const char *what, const struct ledger_entry *entry, const struct record *record)
{
	uint32_t index = c->list[*at].lot;
	struct reconcile_lot_run *lot = &run->lots[index];
	run->scratch_count = 0;
	int rc = 0;
	for (; rc == 0 && *at < c->count && c->list[*at].lot == index; (*at)++) {
		char id[STORE_ITEM_ID_SIZE];
		rc = reconcile_record_item_id(record, c->list[*at].identity, id);
		if (rc == 0)
			rc = ids_push(&run->scratch, &run->scratch_count, &run->scratch_cap, id);
	}
	if (rc != 0 || lot->report->error != 0)
		return rc;
	/* an accepted decommission: also the lot's packs it took out, contents of containers included */
	for (size_t i = 0; rc == 0 && entry->outcome == OUTCOME_ACCEPTED && i < lot->taken_out_count; i++)
		if (lot->taken_out[i].seq == entry->seq)
			rc = ids_push(&run->scratch, &run->scratch_count, &run->scratch_cap, lot->taken_out[i].id);
	const struct reconcile_options *o = run->options;
	bool site_ok = reconcile_site_match(o, record->site.ptr, record->site.len) ||
		       (record->type == RECORD_SHIP && reconcile_site_match(o, record->to.ptr, record->to.len));
	if (rc == 0 && site_ok)
		rc = exception_add(run, lot, category, what, entry, record, false);
	if (rc == SL_ELIMIT)
		lot->report->error = SL_ELIMIT, rc = 0;
	return rc;
}

static void deviation_apply(struct reconcile_run *run, const struct ledger_entry *entry, const struct record *record)
{
	uint8_t id[RECORD_ID_BYTES];
	if (record_id(record, id) != 0)
		return;
	for (size_t l = 0; l < run->lot_count; l++) {
		struct reconcile_report *r = run->lots[l].report;
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
}

static int candidate_process(struct reconcile_run *run, const struct ledger_entry *entry,
			     const struct record *record)
{
	if (entry->outcome == OUTCOME_ACCEPTED && record->type == RECORD_DEVIATION) {
		deviation_apply(run, entry, record);
		return 0;
	}
	const char *what = NULL;
	int category = reconcile_classify(entry->outcome, record, &what);
	if (category == 0 || !reconcile_in_window(run, entry->ledger_time_ms))
		return 0;
	struct concerns c = { NULL, 0, 0 };
	int rc = concerns_find(run, entry, record, &c);
	for (size_t at = 0; rc == 0 && at < c.count;)
		rc = lot_exception(run, &c, &at, category, what, entry, record);
	free(c.list);
	return rc;
}

static int candidate_load(struct reconcile_run *run, uint64_t seq)
{
	struct ledger_entry entry;
	struct record record;
	int rc = reconcile_read_note(run);
	if (rc == 0)
		rc = reconcile_entry_load(run->txn, seq, &entry, &record);
	if (rc <= 0)
		return rc; /* refused at decoding: names nothing reliably */
	rc = candidate_process(run, &entry, &record);
	record_clear(&record);
	return rc;
}

/* The whole ledger again, when pass 1 had too many candidates to keep (design note 5). */
static int rescan_cb(void *ctx, uint64_t seq, const uint8_t *bytes, size_t len)
{
	struct reconcile_run *run = ctx;
	struct ledger_entry entry;
	struct record record;
	(void)seq;
	if (entry_decode(bytes, len, &entry, NULL) != 0)
		return SL_ECORRUPT;
	int rc = reconcile_read_note(run);
	if (rc != 0 || record_decode(entry.record, entry.record_len, &record, NULL) != 0)
		return rc;
	rc = candidate_process(run, &entry, &record);
	record_clear(&record);
	return rc;
}

/* ---- the end of a lot */

static int exception_compare(const void *a, const void *b)
{
	const struct reconcile_exception *x = a, *y = b;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return (x->category > y->category) - (x->category < y->category);
}

struct id_index_row {
	reconcile_id_t id;
	size_t item;
};

/* Mark the packs listed as unexplained in the report's items (identities kept only). */
static int unexplained_mark(struct reconcile_report *r)
{
	if (r->item_count == 0 || r->unexplained_count == 0)
		return 0;
	struct id_index_row *index = calloc(r->item_count, sizeof *index);
	if (index == NULL)
		return SL_ENOMEM;
	for (size_t i = 0; i < r->item_count; i++) {
		memcpy(index[i].id, r->items[i].id, sizeof index[i].id);
		index[i].item = i;
	}
	qsort(index, r->item_count, sizeof *index, id_compare);
	for (size_t i = 0; i < r->unexplained_count; i++) {
		const struct id_index_row *row =
			bsearch(r->unexplained[i], index, r->item_count, sizeof *index, id_compare);
		if (row != NULL)
			r->items[row->item].counts |= 1u << RECONCILE_UNEXPLAINED;
	}
	free(index);
	return 0;
}

/* Unexplained: identities of unresolved exceptions plus packs in no state category. */
static int unexplained_collect(struct reconcile_lot_run *lot)
{
	struct reconcile_report *r = lot->report;
	size_t cap = 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < r->exception_count; i++)
		for (size_t k = 0; rc == 0 && !r->exceptions[i].resolved && k < r->exceptions[i].item_count; k++)
			rc = ids_push(&r->unexplained, &r->unexplained_count, &cap, r->exceptions[i].items[k]);
	for (size_t i = 0; rc == 0 && i < lot->stateless_count; i++)
		rc = ids_push(&r->unexplained, &r->unexplained_count, &cap, lot->stateless[i]);
	if (rc != 0)
		return rc;
	r->unexplained_count = sort_unique(r->unexplained, r->unexplained_count);
	r->counts[RECONCILE_UNEXPLAINED] = r->unexplained_count;
	return unexplained_mark(r);
}

static int lot_finish(struct reconcile_lot_run *lot)
{
	struct reconcile_report *r = lot->report;
	if (r->error != 0)
		return 0;
	if (r->exception_count > 1)
		qsort(r->exceptions, r->exception_count, sizeof(*r->exceptions), exception_compare);
	int rc = unexplained_collect(lot);
	if (rc == SL_ELIMIT)
		r->error = SL_ELIMIT, rc = 0;
	return rc;
}

int reconcile_exceptions_find(struct reconcile_run *run)
{
	reconcile_containers_sort(run);
	int rc = 0;
	for (size_t l = 0; rc == 0 && l < run->lot_count; l++) {
		if (run->lots[l].report->error != 0)
			continue;
		rc = overdue_exceptions(run, &run->lots[l]);
		if (rc == SL_ELIMIT)
			run->lots[l].report->error = SL_ELIMIT, rc = 0;
	}
	if (rc == 0 && run->candidates_overflow) {
		rc = store_ledger_iterate(run->txn, 1, 0, rescan_cb, run);
		rc = rc < 0 ? rc : 0;
	}
	for (size_t i = 0; rc == 0 && !run->candidates_overflow && i < run->candidate_count; i++)
		rc = candidate_load(run, run->candidates[i]);
	for (size_t l = 0; rc == 0 && l < run->lot_count; l++)
		rc = lot_finish(&run->lots[l]);
	return rc;
}
