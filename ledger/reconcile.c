/* ledger/reconcile.c — reconciliation of one lot: its packs, their counts and identities.
 *
 * Passes 1 and 2 of ledger/reconcile.h; pass 3 (exceptions) is ledger/reconcile_exceptions.c.
 * Design notes:
 *  1. The lot's packs come from accepted commission records, not from a scan of the items
 *     table: the ledger is the one source every replica and every export share, and ledger
 *     order makes the identity lists deterministic.
 *  2. State counts (on hand, in transit, one per decommission reason) partition the packs: each
 *     pack is in exactly one (docs/lifecycle.md "Lot counters"). A pack in none (missing from the
 *     items table, unknown status or reason) is unexplained: it cannot be accounted for.
 *  3. Event counts (shipped, received, reverted) count packs, not records: a pack shipped twice
 *     counts once, so each count is a set of identities.
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

static const char *const count_names[RECONCILE_COUNT_MAX] = {
	"commissioned", "aggregated", "shipped", "in_transit", "received", "on_hand",
	"dispensed",	"destroyed",  "sampled", "exported",   "stolen",   "expired",
	"damaged",	"checked_out", "locked", "reverted",   "unexplained",
};

const char *reconcile_count_name(unsigned count)
{
	return count < RECONCILE_COUNT_MAX ? count_names[count] : NULL;
}

int reconcile_count_from_name(const char *name)
{
	for (unsigned i = 0; name != NULL && i < RECONCILE_COUNT_MAX; i++)
		if (strcmp(name, count_names[i]) == 0)
			return (int)i;
	return -1;
}

int reconcile_grow(void **array, size_t *cap, size_t need, size_t size, size_t max)
{
	assert(size > 0);
	if (need <= *cap)
		return 0;
	if (need > max)
		return SL_ELIMIT;
	size_t n = *cap ? *cap : 64;
	while (n < need)
		n = n > max / 2 ? max : n * 2;
	if (n > SIZE_MAX / size)
		return SL_ELIMIT;
	void *p = realloc(*array, n * size);
	if (p == NULL)
		return SL_ENOMEM;
	*array = p;
	*cap = n;
	return 0;
}

int reconcile_entry_load(store_txn *txn, uint64_t seq, struct ledger_entry *entry, struct record *record)
{
	const uint8_t *bytes = NULL;
	size_t len = 0;
	int rc = store_ledger_get(txn, seq, &bytes, &len);
	if (rc != 0)
		return rc;
	rc = entry_decode(bytes, len, entry, NULL);
	if (rc != 0)
		return SL_ECORRUPT;
	return record_decode(entry->record, entry->record_len, record, NULL) == 0 ? 1 : 0;
}

int reconcile_record_item_id(const struct record *record, size_t i, char out[STORE_ITEM_ID_SIZE])
{
	if (i >= record->item_count)
		return SL_EINVAL;
	const struct sl_str *s = &record->items[i];
	int n;
	if (record->type == RECORD_COMMISSION)
		n = snprintf(out, STORE_ITEM_ID_SIZE, "(01)%.*s(21)%.*s", (int)record->gtin.len, record->gtin.ptr,
			     (int)s->len, s->ptr);
	else
		n = snprintf(out, STORE_ITEM_ID_SIZE, "%.*s", (int)s->len, s->ptr);
	return n > 0 && n < STORE_ITEM_ID_SIZE ? 0 : SL_ELIMIT;
}

bool reconcile_site_match(const struct reconcile_options *options, const char *site, size_t len)
{
	if (options->site == NULL)
		return true;
	return strlen(options->site) == len && memcmp(options->site, site, len) == 0;
}

/* ---- pass 1: the lot's packs from accepted commission records */

struct collect {
	struct reconcile_report *report;
	size_t cap;
};

static int collect_commission(struct collect *c, const struct record *record)
{
	struct reconcile_report *r = c->report;
	for (size_t i = 0; i < record->item_count; i++) {
		int rc = reconcile_grow((void **)&r->items, &c->cap, r->item_count + 1, sizeof(*r->items),
					RECONCILE_ITEMS_MAX);
		if (rc != 0)
			return rc;
		struct reconcile_item *item = &r->items[r->item_count];
		memset(item, 0, sizeof(*item));
		rc = reconcile_record_item_id(record, i, item->id);
		if (rc == 0)
			rc = sl_str_copy(record->site, item->commission_site, sizeof item->commission_site);
		if (rc != 0)
			return rc;
		r->item_count++;
	}
	return 0;
}

static int collect_cb(void *ctx, uint64_t seq, const uint8_t *bytes, size_t len)
{
	struct collect *c = ctx;
	struct ledger_entry entry;
	(void)seq;
	c->report->entries++;
	if (entry_decode(bytes, len, &entry, NULL) != 0)
		return SL_ECORRUPT;
	if (entry.ledger_time_ms > c->report->now_ms)
		c->report->now_ms = entry.ledger_time_ms;
	if (entry.outcome != OUTCOME_ACCEPTED)
		return 0;
	struct record record;
	if (record_decode(entry.record, entry.record_len, &record, NULL) != 0)
		return 0; /* an accepted record always decodes; nothing to count otherwise */
	int rc = 0;
	if (record.type == RECORD_COMMISSION && sl_str_eq_cstr(record.gtin, c->report->gtin) &&
	    sl_str_eq_cstr(record.lot, c->report->lot))
		rc = collect_commission(c, &record);
	record_clear(&record);
	return rc;
}

/* ---- pass 2: state, locks and history of each pack */

#define BIT(count) (1u << (unsigned)(count))

static int reason_count(int reason)
{
	switch (reason) {
	case DECOMMISSION_DISPENSED: return RECONCILE_DISPENSED;
	case DECOMMISSION_DESTROYED: return RECONCILE_DESTROYED;
	case DECOMMISSION_SAMPLE:
	case DECOMMISSION_FREE_SAMPLE: return RECONCILE_SAMPLED;
	case DECOMMISSION_EXPORTED: return RECONCILE_EXPORTED;
	case DECOMMISSION_STOLEN: return RECONCILE_STOLEN;
	case DECOMMISSION_EXPIRED: return RECONCILE_EXPIRED;
	case DECOMMISSION_DAMAGED: return RECONCILE_DAMAGED;
	case DECOMMISSION_CHECKED_OUT: return RECONCILE_CHECKED_OUT;
	default: return -1;
	}
}

/* The state category of a pack (on hand, in transit, a decommission reason); -1 for none. */
static int state_count(const struct store_item *state)
{
	switch (state->status) {
	case ITEM_ACTIVE: return RECONCILE_ON_HAND;
	case ITEM_IN_TRANSIT: return RECONCILE_IN_TRANSIT;
	case ITEM_DECOMMISSIONED: return reason_count(state->reason);
	default: return -1;
	}
}

struct history_walk {
	store_txn *txn;
	const struct reconcile_options *options;
	struct reconcile_item *item;
	size_t entries;
};

static int history_cb(void *ctx, uint64_t seq)
{
	struct history_walk *h = ctx;
	if (++h->entries > RECONCILE_HISTORY_MAX)
		return SL_ELIMIT;
	struct ledger_entry entry;
	struct record record;
	int rc = reconcile_entry_load(h->txn, seq, &entry, &record);
	if (rc <= 0)
		return rc;
	if (entry.outcome == OUTCOME_ACCEPTED && reconcile_site_match(h->options, record.site.ptr, record.site.len)) {
		if (record.type == RECORD_SHIP)
			h->item->counts |= BIT(RECONCILE_SHIPPED);
		else if (record.type == RECORD_RECEIVE)
			h->item->counts |= BIT(RECONCILE_RECEIVED);
		else if (record.type == RECORD_REVERT)
			h->item->counts |= BIT(RECONCILE_REVERTED);
	}
	record_clear(&record);
	return 0;
}

static int item_examine(store_txn *txn, const struct reconcile_options *options, struct reconcile_item *item)
{
	int rc = store_item_get(txn, item->id, &item->state);
	if (rc == SL_ENOENT) {
		memset(&item->state, 0, sizeof item->state); /* unexplained: see design note 2 */
		if (reconcile_site_match(options, item->commission_site, strlen(item->commission_site)))
			item->counts |= BIT(RECONCILE_UNEXPLAINED);
		return 0;
	}
	if (rc != 0)
		return rc;
	if (reconcile_site_match(options, item->commission_site, strlen(item->commission_site)))
		item->counts |= BIT(RECONCILE_COMMISSIONED);
	const struct store_item *s = &item->state;
	if (reconcile_site_match(options, s->site, strlen(s->site))) {
		int state = state_count(s);
		item->counts |= state >= 0 ? BIT(state) : BIT(RECONCILE_UNEXPLAINED);
		if (s->parent[0] != '\0' && s->status != ITEM_DECOMMISSIONED)
			item->counts |= BIT(RECONCILE_AGGREGATED);
	}
	if (s->status == ITEM_ACTIVE || s->status == ITEM_IN_TRANSIT) {
		rc = lifecycle_item_locks(txn, item->id, s, &item->lock_reasons);
		if (rc != 0)
			return rc;
		if (item->lock_reasons != 0 && reconcile_site_match(options, s->site, strlen(s->site)))
			item->counts |= BIT(RECONCILE_LOCKED);
	}
	struct history_walk h = { txn, options, item, 0 };
	rc = store_history_iterate(txn, item->id, history_cb, &h);
	return rc < 0 ? rc : 0;
}

/* Totals of the stored lot counters against the packs' states (design note 2; no site filter). */
struct counter_totals {
	uint64_t counts[STORE_LOT_COUNTERS];
};

static int counter_totals_cb(void *ctx, const char *site, const struct store_lot_counters *counters)
{
	struct counter_totals *t = ctx;
	(void)site;
	for (unsigned slot = 0; slot < STORE_LOT_COUNTERS; slot++) {
		if (t->counts[slot] > UINT64_MAX - counters->counts[slot])
			return SL_ECORRUPT;
		t->counts[slot] += counters->counts[slot];
	}
	return 0;
}

static int counters_check(store_txn *txn, struct reconcile_report *r)
{
	struct counter_totals stored = { { 0 } }, derived = { { 0 } };
	int rc = store_lot_iterate(txn, r->lot_key, counter_totals_cb, &stored);
	if (rc < 0 && rc != SL_ENOENT)
		return rc;
	for (size_t i = 0; i < r->item_count; i++) {
		const struct store_item *s = &r->items[i].state;
		if (s->status == ITEM_ACTIVE)
			derived.counts[LOT_COUNTER_ACTIVE]++;
		else if (s->status == ITEM_IN_TRANSIT)
			derived.counts[LOT_COUNTER_IN_TRANSIT]++;
		else if (s->status == ITEM_DECOMMISSIONED && s->reason >= 1 && s->reason <= DECOMMISSION_REASON_MAX)
			derived.counts[LOT_COUNTER_DECOMMISSIONED(s->reason)]++;
	}
	derived.counts[LOT_COUNTER_COMMISSIONED] = r->item_count;
	r->counters_agree = true;
	for (unsigned slot = 0; slot < LOT_COUNTER_REVERTED; slot++)
		if (stored.counts[slot] != derived.counts[slot])
			r->counters_agree = false;
	return 0;
}

int reconcile_lot(store_txn *txn, const char *gtin14, const char *lot, const struct reconcile_options *options,
		  struct reconcile_report *report)
{
	memset(report, 0, sizeof(*report));
	if (txn == NULL || gtin14 == NULL || lot == NULL || options == NULL || strlen(gtin14) != GS1_GTIN_DIGITS ||
	    gs1_cset82_validate(lot, strlen(lot), GS1_LOT_CHARS_MAX, NULL) != 0 ||
	    options->overdue_days > RECONCILE_OVERDUE_DAYS_MAX)
		return SL_EINVAL;
	memcpy(report->gtin, gtin14, GS1_GTIN_DIGITS + 1);
	memcpy(report->lot, lot, strlen(lot) + 1);
	int rc = gs1_lot_key(gtin14, lot, report->lot_key);
	if (rc != 0)
		return SL_EINVAL;
	struct collect c = { report, 0 };
	rc = store_ledger_iterate(txn, 1, 0, collect_cb, &c);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < report->item_count; i++) {
		rc = item_examine(txn, options, &report->items[i]);
		if (rc != 0)
			return rc;
	}
	rc = counters_check(txn, report);
	if (rc == 0)
		rc = reconcile_exceptions_find(txn, options, report);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < report->item_count; i++)
		for (unsigned k = 0; k < RECONCILE_UNEXPLAINED; k++)
			if (report->items[i].counts & BIT(k))
				report->counts[k]++;
	report->counts[RECONCILE_UNEXPLAINED] = report->unexplained_count;
	return 0;
}

void reconcile_report_free(struct reconcile_report *report)
{
	if (report == NULL)
		return;
	for (size_t i = 0; i < report->exception_count; i++)
		free(report->exceptions[i].items);
	free(report->exceptions);
	free(report->items);
	free(report->unexplained);
	report->exceptions = NULL;
	report->items = NULL;
	report->unexplained = NULL;
	report->exception_count = report->item_count = report->unexplained_count = 0;
}

static int site_row(struct reconcile_site_row **rows, size_t *count, size_t *cap, const char *site,
		    struct reconcile_site_row **out)
{
	for (size_t i = 0; i < *count; i++)
		if (strcmp((*rows)[i].site, site) == 0)
			return *out = &(*rows)[i], 0;
	int rc = reconcile_grow((void **)rows, cap, *count + 1, sizeof(**rows), RECONCILE_SITES_MAX);
	if (rc != 0)
		return rc;
	*out = &(*rows)[(*count)++];
	memset(*out, 0, sizeof(**out));
	snprintf((*out)->site, sizeof (*out)->site, "%s", site);
	return 0;
}

static int site_row_compare(const void *a, const void *b)
{
	return strcmp(((const struct reconcile_site_row *)a)->site, ((const struct reconcile_site_row *)b)->site);
}

int reconcile_sites(const struct reconcile_report *report, struct reconcile_site_row **rows, size_t *count)
{
	*rows = NULL;
	*count = 0;
	size_t cap = 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < report->item_count; i++) {
		const struct reconcile_item *item = &report->items[i];
		const struct store_item *s = &item->state;
		struct reconcile_site_row *row = NULL;
		rc = site_row(rows, count, &cap, item->commission_site, &row);
		if (rc == 0)
			row->commissioned++;
		if (rc == 0 && s->status != 0)
			rc = site_row(rows, count, &cap, s->site, &row);
		if (rc != 0 || s->status == 0)
			continue;
		row->on_hand += s->status == ITEM_ACTIVE;
		row->in_transit_out += s->status == ITEM_IN_TRANSIT;
		row->decommissioned += s->status == ITEM_DECOMMISSIONED;
		if (s->status == ITEM_IN_TRANSIT) {
			rc = site_row(rows, count, &cap, s->destination, &row);
			if (rc == 0)
				row->in_transit_in++;
		}
	}
	if (rc != 0) {
		free(*rows);
		*rows = NULL;
		*count = 0;
		return rc;
	}
	if (*count > 1)
		qsort(*rows, *count, sizeof(**rows), site_row_compare);
	return 0;
}

int reconcile_count_items(const struct reconcile_report *report, unsigned count,
			  int (*cb)(void *ctx, const char *id), void *ctx)
{
	if (count >= RECONCILE_COUNT_MAX)
		return SL_EINVAL;
	int rc = 0;
	if (count == RECONCILE_UNEXPLAINED) {
		for (size_t i = 0; rc == 0 && i < report->unexplained_count; i++)
			rc = cb(ctx, report->unexplained[i]);
		return rc;
	}
	for (size_t i = 0; rc == 0 && i < report->item_count; i++)
		if (report->items[i].counts & BIT(count))
			rc = cb(ctx, report->items[i].id);
	return rc;
}
