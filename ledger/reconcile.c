/* ledger/reconcile.c — reconciliation of lots: the ledger scan, each pack's counts and identities.
 *
 * Pass 1 of ledger/reconcile.h; pass 2 (exceptions) is ledger/reconcile_exceptions.c.
 * Design notes:
 *  1. The lot's packs come from accepted commission records, not from a scan of the items
 *     table: the ledger is the one source every replica and every export share, and ledger
 *     order makes the identity lists deterministic.
 *  2. The counts of each pack are ledger/reconcile_packs.c's (state counts partition the packs,
 *     event counts are sets of packs).
 *  3. One scan: the packs of the lots are found in it and examined in batches (reconcile_packs.c),
 *     and what pass 2 needs of each is kept (the containers above it, the entry that took it out
 *     when damaged or stolen, an overdue shipment, no state at all); the pack itself only when
 *     identities are asked for. The entries pass 2 reads again are noted in the same scan.
 *  4. Several lots share the scan (reconcile_lots): the scan and the per-pack work do not depend
 *     on how many lots are asked for, and each lot's numbers do not depend on which others are.
 *  5. Filters. Site: per count, as docs/reconciliation.md says. Line: only packs whose commission
 *     record was signed by that actor are in scope. Window [from, to) of ledger time: an event
 *     counts when its entry is in the window; a state counts when the entry that put the pack in
 *     it (store_item.status_time_ms) is. The stored-counter check ignores every filter: it checks
 *     the data, over every pack of the lot.
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

#define BIT(count) (1u << (unsigned)(count))

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

/* Append `len` bytes at out[*at]; false when the id would not fit (with its NUL). */
static bool id_append(char out[STORE_ITEM_ID_SIZE], size_t *at, const char *bytes, size_t len)
{
	if (len >= STORE_ITEM_ID_SIZE - *at)
		return false;
	memcpy(out + *at, bytes, len);
	*at += len;
	return true;
}

int reconcile_record_item_id(const struct record *record, size_t i, char out[STORE_ITEM_ID_SIZE])
{
	if (i >= record->item_count)
		return SL_EINVAL;
	const struct sl_str *s = &record->items[i];
	size_t at = 0;
	bool ok = record->type != RECORD_COMMISSION ||
		  (id_append(out, &at, "(01)", 4) && id_append(out, &at, record->gtin.ptr, record->gtin.len) &&
		   id_append(out, &at, "(21)", 4));
	if (!ok || !id_append(out, &at, s->ptr, s->len) || at == 0)
		return SL_ELIMIT;
	out[at] = '\0';
	return 0;
}

bool reconcile_site_match(const struct reconcile_options *options, const char *site, size_t len)
{
	if (options->site == NULL)
		return true;
	return strlen(options->site) == len && memcmp(options->site, site, len) == 0;
}

bool reconcile_line_match(const struct reconcile_options *options, const struct record *commission)
{
	return options->line == NULL || sl_str_eq_cstr(commission->actor, options->line);
}

bool reconcile_in_window(const struct reconcile_run *run, uint64_t ledger_time_ms)
{
	return ledger_time_ms >= run->from_ms && ledger_time_ms < run->to_ms;
}

int reconcile_read_note(struct reconcile_run *run)
{
	if (++run->reads < RECONCILE_TRIM_EVERY)
		return 0;
	run->reads = 0;
	return store_txn_map_trim(run->txn, RECONCILE_MAPPED_BYTES_MAX);
}

/* ---- the lots of a run, found by (gtin, lot) */

static int key_compare(const void *a, const void *b)
{
	const struct reconcile_key *x = a, *y = b;
	int c = strcmp(x->gtin, y->gtin);
	return c != 0 ? c : strcmp(x->lot, y->lot);
}

long reconcile_lot_find(const struct reconcile_run *run, struct sl_str gtin, struct sl_str lot)
{
	struct reconcile_key key;
	if (sl_str_copy(gtin, key.gtin, sizeof key.gtin) != 0 || sl_str_copy(lot, key.lot, sizeof key.lot) != 0)
		return -1;
	const struct reconcile_key *found = bsearch(&key, run->by_key, run->lot_count, sizeof key, key_compare);
	return found != NULL ? (long)found->lot_index : -1;
}

void reconcile_lots_of_gtin(const struct reconcile_run *run, const char *gtin, size_t *first, size_t *end)
{
	size_t lo = 0, hi = run->lot_count;
	while (lo < hi) { /* first key with gtin >= the one asked for */
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(run->by_key[mid].gtin, gtin) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (lo < run->lot_count && strcmp(run->by_key[lo].gtin, gtin) == 0)
		lo++;
	*end = lo;
}

/* "(01)" GTIN-14 "(10)" LOT: the form gs1_lot_key writes. */
static int lot_key_split(const char *key, struct reconcile_report *report)
{
	size_t len = key != NULL ? strlen(key) : 0;
	const size_t head = 4 + GS1_GTIN_DIGITS + 4;
	if (len <= head || len - head > GS1_LOT_CHARS_MAX || strncmp(key, "(01)", 4) != 0 ||
	    strncmp(key + 4 + GS1_GTIN_DIGITS, "(10)", 4) != 0)
		return SL_EINVAL;
	for (size_t i = 4; i < 4 + GS1_GTIN_DIGITS; i++)
		if (key[i] < '0' || key[i] > '9')
			return SL_EINVAL;
	if (gs1_cset82_validate(key + head, len - head, GS1_LOT_CHARS_MAX, NULL) != 0)
		return SL_EINVAL;
	memcpy(report->gtin, key + 4, GS1_GTIN_DIGITS);
	report->gtin[GS1_GTIN_DIGITS] = '\0';
	memcpy(report->lot, key + head, len - head + 1);
	memcpy(report->lot_key, key, len + 1);
	return 0;
}

/* ---- pass 1: the scan (the packs are examined in ledger/reconcile_packs.c) */

static int scan_cb(void *ctx, uint64_t seq, const uint8_t *bytes, size_t len)
{
	struct reconcile_run *run = ctx;
	struct ledger_entry entry;
	struct record record;
	(void)seq;
	run->entries++;
	if (entry_decode(bytes, len, &entry, NULL) != 0)
		return SL_ECORRUPT;
	int rc = reconcile_read_note(run);
	if (rc != 0 || record_decode(entry.record, entry.record_len, &record, NULL) != 0)
		return rc; /* refused at decoding: names nothing reliably */
	rc = reconcile_candidate_note(run, &entry, &record);
	if (rc == 0 && entry.outcome == OUTCOME_ACCEPTED && record.type == RECORD_COMMISSION) {
		long index = reconcile_lot_find(run, record.gtin, record.lot);
		if (index >= 0)
			rc = reconcile_packs_queue(run, (uint32_t)index, &entry, &record);
	}
	record_clear(&record);
	return rc;
}

/* ---- the run */

/* Totals of the stored lot counters against the packs' states (design note 5). */
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

static int counters_check(store_txn *txn, struct reconcile_lot_run *lot)
{
	struct counter_totals stored = { { 0 } };
	int rc = store_lot_iterate(txn, lot->report->lot_key, counter_totals_cb, &stored);
	if (rc < 0 && rc != SL_ENOENT)
		return rc;
	lot->report->counters_agree = true;
	for (unsigned slot = 0; slot < LOT_COUNTER_REVERTED; slot++)
		if (stored.counts[slot] != lot->derived[slot])
			lot->report->counters_agree = false;
	return 0;
}

/* "now": the ledger time of the last entry (0 for an empty ledger). */
static int now_read(struct reconcile_run *run)
{
	uint64_t count = 0;
	int rc = store_ledger_count(run->txn, &count);
	if (rc != 0 || count == 0)
		return rc;
	const uint8_t *bytes = NULL;
	size_t len = 0;
	struct ledger_entry last;
	rc = store_ledger_get(run->txn, count, &bytes, &len);
	if (rc != 0)
		return rc;
	if (entry_decode(bytes, len, &last, NULL) != 0)
		return SL_ECORRUPT;
	run->now_ms = last.ledger_time_ms;
	return 0;
}

static bool options_valid(const struct reconcile_options *o)
{
	if (o->overdue_days > RECONCILE_OVERDUE_DAYS_MAX || (o->to_ms != 0 && o->from_ms >= o->to_ms))
		return false;
	if (o->site != NULL && !record_site_id_valid(o->site, strlen(o->site)))
		return false;
	return o->line == NULL || (o->line[0] != '\0' && strlen(o->line) <= RECONCILE_LINE_BYTES_MAX);
}

static int run_init(struct reconcile_run *run, store_txn *txn, const char *const *lots, size_t count,
		    const struct reconcile_options *options, struct reconcile_report *reports)
{
	memset(run, 0, sizeof *run);
	run->txn = txn;
	run->options = options;
	run->from_ms = options->from_ms;
	run->to_ms = options->to_ms != 0 ? options->to_ms : UINT64_MAX;
	run->candidates_max = options->candidates_max ? options->candidates_max : RECONCILE_CANDIDATES_MAX;
	run->lot_count = count;
	run->lots = calloc(count ? count : 1, sizeof *run->lots);
	run->by_key = calloc(count ? count : 1, sizeof *run->by_key);
	if (run->lots == NULL || run->by_key == NULL)
		return SL_ENOMEM;
	for (size_t i = 0; i < count; i++) {
		if (lot_key_split(lots[i], &reports[i]) != 0)
			return SL_EINVAL;
		run->lots[i].report = &reports[i];
		memcpy(run->by_key[i].gtin, reports[i].gtin, sizeof run->by_key[i].gtin);
		memcpy(run->by_key[i].lot, reports[i].lot, sizeof run->by_key[i].lot);
		run->by_key[i].lot_index = (uint32_t)i;
	}
	qsort(run->by_key, count, sizeof *run->by_key, key_compare);
	for (size_t i = 1; i < count; i++)
		if (key_compare(&run->by_key[i - 1], &run->by_key[i]) == 0)
			return SL_EINVAL; /* a lot asked for twice */
	return now_read(run);
}

static void run_free(struct reconcile_run *run)
{
	for (size_t i = 0; run->lots != NULL && i < run->lot_count; i++) {
		free(run->lots[i].taken_out);
		free(run->lots[i].overdue);
		free(run->lots[i].stateless);
	}
	free(run->lots);
	free(run->by_key);
	free(run->candidates);
	free(run->pending);
	free(run->containers);
	free(run->scratch);
}

int reconcile_lots(store_txn *txn, const char *const *lots, size_t count, const struct reconcile_options *options,
		   struct reconcile_report *reports)
{
	if (reports == NULL || count > RECONCILE_LOTS_MAX)
		return SL_EINVAL;
	memset(reports, 0, count * sizeof(*reports));
	if (txn == NULL || (lots == NULL && count > 0) || options == NULL || !options_valid(options))
		return SL_EINVAL;
	if (count == 0)
		return 0; /* nothing to scan for */
	struct reconcile_run run;
	int rc = run_init(&run, txn, lots, count, options, reports);
	if (rc == 0)
		rc = store_ledger_iterate(txn, 1, 0, scan_cb, &run);
	if (rc == 0)
		rc = reconcile_packs_flush(&run);
	if (rc == 0)
		rc = reconcile_exceptions_find(&run);
	for (size_t i = 0; rc == 0 && i < count; i++) {
		reports[i].entries = run.entries;
		reports[i].now_ms = run.now_ms;
		rc = counters_check(txn, &run.lots[i]);
	}
	run_free(&run);
	return rc < 0 ? rc : 0;
}

int reconcile_lot(store_txn *txn, const char *gtin14, const char *lot, const struct reconcile_options *options,
		  struct reconcile_report *report)
{
	memset(report, 0, sizeof(*report));
	char key[GS1_LOT_KEY_SIZE];
	if (gtin14 == NULL || lot == NULL || strlen(gtin14) != GS1_GTIN_DIGITS ||
	    gs1_cset82_validate(lot, strlen(lot), GS1_LOT_CHARS_MAX, NULL) != 0 || gs1_lot_key(gtin14, lot, key) != 0)
		return SL_EINVAL;
	const char *lots[1] = { key };
	int rc = reconcile_lots(txn, lots, 1, options, report);
	return rc != 0 ? rc : report->error;
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

/* ---- views of a report */

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
