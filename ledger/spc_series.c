/* ledger/spc_series.c — rate series for SPC from the ledger (ledger/spc.h spc_collect).
 *
 * Design notes:
 *  1. One forward scan of the ledger fills (site, line, shift, day) cells with the number of
 *     records, of refusals, of refusals per outcome and of exceptions per HDA category; series
 *     are then sums of cells, one point per day with records.
 *  2. Unauthenticated refusals (BAD_SIGNATURE, UNKNOWN_KEY, SITE_MISMATCH) and records that do
 *     not decode are left out: their site and actor are not proven, so they cannot be charged to
 *     a line (docs/lifecycle.md "Audit trail").
 *  3. Days and shifts come from the record's event time: when the work was done at the site,
 *     which is what a shift supervisor compares. The ledger time only orders entries.
 *  4. Checkpoint records are left out: nodes write them on a timer, they are not work done on a
 *     line, and counting them would dilute every rate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/entry.h"
#include "ledger/reason.h"
#include "ledger/reconcile.h"
#include "ledger/reconcile_internal.h"
#include "ledger/spc.h"
#include "util/error.h"

#define SPC_OUTCOME_SLOTS LEDGER_OUTCOME_COUNT /* every outcome code has its series */
#define SPC_SHIFTS_MAX 24    /* shift_hours >= 1 */

struct cell {
	char site[STORE_SITE_SIZE];
	char line[SPC_LINE_SIZE];
	int shift;
	int64_t day;
	uint64_t records, rejected;
	uint64_t outcome[SPC_OUTCOME_SLOTS];
	uint64_t category[DEVIATION_CATEGORY_MAX + 1];
};

struct collector {
	const struct spc_options *options;
	struct spc_report *report;
	struct cell *cells;
	size_t count, cap;
	size_t *table; /* open addressing: index + 1, 0 = empty */
	size_t table_size;
	size_t series_cap;
};

static uint64_t cell_hash(const char *site, const char *line, int shift, int64_t day)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a 64 */
	for (const char *p = site; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (const char *p = line; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ULL;
	h = (h ^ (uint64_t)(uint32_t)shift) * 1099511628211ULL;
	return (h ^ (uint64_t)day) * 1099511628211ULL;
}

static int table_rebuild(struct collector *c, size_t size)
{
	size_t *table = calloc(size, sizeof(*table));
	if (table == NULL)
		return SL_ENOMEM;
	for (size_t i = 0; i < c->count; i++) {
		const struct cell *x = &c->cells[i];
		size_t slot = cell_hash(x->site, x->line, x->shift, x->day) & (size - 1);
		while (table[slot] != 0)
			slot = (slot + 1) & (size - 1);
		table[slot] = i + 1;
	}
	free(c->table);
	c->table = table;
	c->table_size = size;
	return 0;
}

static int cell_find(struct collector *c, const char *site, const char *line, int shift, int64_t day,
		     struct cell **out)
{
	if (c->table_size < 2 * (c->count + 1)) {
		int rc = table_rebuild(c, c->table_size ? c->table_size * 2 : 1024);
		if (rc != 0)
			return rc;
	}
	size_t slot = cell_hash(site, line, shift, day) & (c->table_size - 1);
	for (; c->table[slot] != 0; slot = (slot + 1) & (c->table_size - 1)) {
		struct cell *x = &c->cells[c->table[slot] - 1];
		if (x->shift == shift && x->day == day && strcmp(x->site, site) == 0 && strcmp(x->line, line) == 0) {
			*out = x;
			return 0;
		}
	}
	int rc = reconcile_grow((void **)&c->cells, &c->cap, c->count + 1, sizeof(*c->cells), SPC_CELLS_MAX);
	if (rc != 0)
		return rc;
	struct cell *x = &c->cells[c->count];
	memset(x, 0, sizeof(*x));
	snprintf(x->site, sizeof x->site, "%s", site);
	snprintf(x->line, sizeof x->line, "%s", line);
	x->shift = shift;
	x->day = day;
	c->table[slot] = ++c->count;
	*out = x;
	return 0;
}

static bool authenticated(uint32_t outcome)
{
	return outcome != OUTCOME_BAD_SIGNATURE && outcome != OUTCOME_UNKNOWN_KEY && outcome != OUTCOME_SITE_MISMATCH;
}

static int count_record(struct collector *c, const struct ledger_entry *entry, const struct record *record)
{
	const struct spc_options *o = c->options;
	char site[STORE_SITE_SIZE], line[SPC_LINE_SIZE];
	if (!authenticated(entry->outcome) || record->type == RECORD_CHECKPOINT || record->event_time_ms < o->since_ms ||
	    sl_str_copy(record->site, site, sizeof site) != 0 || sl_str_copy(record->actor, line, sizeof line) != 0)
		return 0;
	if ((o->site != NULL && strcmp(o->site, site) != 0) || (o->line != NULL && strcmp(o->line, line) != 0))
		return 0;
	struct cell *x = NULL;
	int rc = cell_find(c, site, line, spc_shift_of(record->event_time_ms, o->shift_hours),
			   spc_day_of(record->event_time_ms), &x);
	if (rc != 0)
		return rc;
	x->records++;
	c->report->records++;
	if (entry->outcome != OUTCOME_ACCEPTED) {
		x->rejected++;
		if (entry->outcome < SPC_OUTCOME_SLOTS)
			x->outcome[entry->outcome]++;
	}
	const char *what = NULL;
	int category = reconcile_classify(entry->outcome, record, &what);
	if (category > 0 && category <= DEVIATION_CATEGORY_MAX)
		x->category[category]++;
	return 0;
}

static int scan_cb(void *ctx, uint64_t seq, const uint8_t *bytes, size_t len)
{
	struct collector *c = ctx;
	struct ledger_entry entry;
	struct record record;
	(void)seq;
	if (entry_decode(bytes, len, &entry, NULL) != 0)
		return SL_ECORRUPT;
	if (record_decode(entry.record, entry.record_len, &record, NULL) != 0)
		return 0; /* design note 2 */
	int rc = count_record(c, &entry, &record);
	record_clear(&record);
	return rc;
}

/* ---- series from cells */

enum metric_kind { METRIC_REJECTED, METRIC_OUTCOME, METRIC_CATEGORY };

struct series_spec {
	const char *site;
	const char *line; /* NULL = all */
	int shift;	  /* -1 = all */
	enum metric_kind kind;
	unsigned index;
};

static uint64_t cell_defects(const struct cell *x, const struct series_spec *s)
{
	switch (s->kind) {
	case METRIC_OUTCOME: return x->outcome[s->index];
	case METRIC_CATEGORY: return x->category[s->index];
	default: return x->rejected;
	}
}

static bool cell_in(const struct cell *x, const struct series_spec *s)
{
	return strcmp(x->site, s->site) == 0 && (s->line == NULL || strcmp(x->line, s->line) == 0) &&
	       (s->shift < 0 || x->shift == s->shift);
}

static int cell_compare(const void *a, const void *b)
{
	const struct cell *x = a, *y = b;
	int c = strcmp(x->site, y->site);
	if (c != 0)
		return c;
	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	c = strcmp(x->line, y->line);
	return c != 0 ? c : (x->shift > y->shift) - (x->shift < y->shift);
}

/* Sum the site's cells [first, end) (sorted by day) into one point per day, then chart it. */
static int series_add(struct collector *c, const struct series_spec *spec, size_t first, size_t end)
{
	struct spc_report *r = c->report;
	int rc = reconcile_grow((void **)&r->series, &c->series_cap, r->count + 1, sizeof(*r->series), SPC_SERIES_MAX);
	if (rc != 0)
		return rc;
	struct spc_series *s = &r->series[r->count];
	memset(s, 0, sizeof(*s));
	size_t cap = 0;
	for (size_t i = first; i < end; i++) {
		const struct cell *x = &c->cells[i];
		if (!cell_in(x, spec))
			continue;
		if (s->count == 0 || s->points[s->count - 1].day != x->day) {
			rc = reconcile_grow((void **)&s->points, &cap, s->count + 1, sizeof(*s->points), SPC_POINTS_MAX);
			if (rc != 0)
				return free(s->points), rc;
			s->points[s->count++] = (struct spc_point){ x->day, 0, 0 };
		}
		s->points[s->count - 1].defects += cell_defects(x, spec); /* bounded by the entries in a ledger */
		s->points[s->count - 1].size += x->records;
	}
	if (s->count == 0)
		return free(s->points), 0;
	r->count++; /* owned by the report from here on */
	snprintf(s->site, sizeof s->site, "%s", spec->site);
	snprintf(s->line, sizeof s->line, "%s", spec->line ? spec->line : "");
	s->shift = spec->shift;
	if (spec->kind == METRIC_OUTCOME)
		snprintf(s->metric, sizeof s->metric, "rejected:%s", ledger_outcome_name((int)spec->index));
	else if (spec->kind == METRIC_CATEGORY)
		snprintf(s->metric, sizeof s->metric, "exception:%s", deviation_category_name((int)spec->index));
	else
		snprintf(s->metric, sizeof s->metric, "rejected");
	s->chart = calloc(s->count, sizeof(*s->chart));
	if (s->chart == NULL)
		return SL_ENOMEM;
	rc = spc_pchart(s->points, s->count, &s->centre, s->chart);
	for (size_t i = 0; rc == 0 && i < s->count; i++)
		s->signals += s->chart[i].rules != 0;
	r->signals += s->signals;
	return rc;
}

/* Every series of one site (cells [first, end), sorted by day). */
static int site_series(struct collector *c, size_t first, size_t end)
{
	const char *site = c->cells[first].site;
	struct series_spec spec = { site, NULL, -1, METRIC_REJECTED, 0 };
	int rc = series_add(c, &spec, first, end);
	for (unsigned o = 1; rc == 0 && o < SPC_OUTCOME_SLOTS; o++) {
		bool seen = false;
		for (size_t i = first; i < end && !seen; i++)
			seen = c->cells[i].outcome[o] != 0;
		spec = (struct series_spec){ site, NULL, -1, METRIC_OUTCOME, o };
		if (seen && ledger_outcome_name((int)o) != NULL)
			rc = series_add(c, &spec, first, end);
	}
	for (unsigned k = 1; rc == 0 && k <= DEVIATION_CATEGORY_MAX; k++) {
		bool seen = false;
		for (size_t i = first; i < end && !seen; i++)
			seen = c->cells[i].category[k] != 0;
		spec = (struct series_spec){ site, NULL, -1, METRIC_CATEGORY, k };
		if (seen)
			rc = series_add(c, &spec, first, end);
	}
	for (size_t i = first; rc == 0 && i < end; i++) { /* lines, each once, in first-seen order */
		bool earlier = false;
		for (size_t j = first; j < i && !earlier; j++)
			earlier = strcmp(c->cells[j].line, c->cells[i].line) == 0;
		spec = (struct series_spec){ site, c->cells[i].line, -1, METRIC_REJECTED, 0 };
		if (!earlier)
			rc = series_add(c, &spec, first, end);
	}
	for (int shift = 0; rc == 0 && shift < (int)(24 / c->options->shift_hours); shift++) {
		spec = (struct series_spec){ site, NULL, shift, METRIC_REJECTED, 0 };
		rc = series_add(c, &spec, first, end);
	}
	return rc;
}

int spc_collect(store_txn *txn, const struct spc_options *options, struct spc_report *report)
{
	memset(report, 0, sizeof(*report));
	if (txn == NULL || options == NULL || options->shift_hours == 0 || options->shift_hours > SPC_SHIFTS_MAX ||
	    24 % options->shift_hours != 0)
		return SL_EINVAL;
	report->shift_hours = options->shift_hours;
	struct collector c = { .options = options, .report = report };
	int rc = store_ledger_iterate(txn, 1, 0, scan_cb, &c);
	rc = rc < 0 ? rc : 0;
	if (rc == 0 && c.count > 0)
		qsort(c.cells, c.count, sizeof(*c.cells), cell_compare);
	for (size_t first = 0; rc == 0 && first < c.count;) {
		size_t end = first + 1;
		while (end < c.count && strcmp(c.cells[end].site, c.cells[first].site) == 0)
			end++;
		rc = site_series(&c, first, end);
		first = end;
	}
	free(c.cells);
	free(c.table);
	return rc;
}

void spc_report_free(struct spc_report *report)
{
	if (report == NULL)
		return;
	for (size_t i = 0; i < report->count; i++) {
		free(report->series[i].points);
		free(report->series[i].chart);
	}
	free(report->series);
	memset(report, 0, sizeof(*report));
}
