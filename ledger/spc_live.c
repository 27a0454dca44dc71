/* ledger/spc_live.c — the incremental p-chart monitor behind a node's SPC alarms (spc_live.h).
 *
 * Design notes:
 *  1. Cells (site, line, day) live in one fixed array with an open-addressing index; removing cells
 *     (the window moved, or the array is full) compacts the array and rebuilds the index, which
 *     happens about once a day.
 *  2. spc_live_check sorts the cells by (site, line, day) and rebuilds the index afterwards: one
 *     pass then yields every line series (consecutive cells) and, summed by day, the site series.
 *  3. "Reported once" is a ring of 64-bit hashes of (site, line, day, rule): bounded memory; a
 *     signal older than the last SPC_LIVE_REPORTED_MAX reports could be reported again, which the
 *     window (30 days of points) makes unlikely and harmless.
 *  4. The charts are spc_pchart's (ledger/spc.c): the same limits and rules as `siteledger spc`.
 */
#include "ledger/spc_live.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/reason.h"
#include "util/error.h"

#define SPC_LIVE_TABLE_SIZE 8192 /* index slots: a power of two, at least twice the cells */
#define SPC_LIVE_POINTS_MAX (SPC_LIVE_DAYS + 2) /* days a window can hold */
_Static_assert((SPC_LIVE_TABLE_SIZE & (SPC_LIVE_TABLE_SIZE - 1)) == 0, "index size is a power of two");
_Static_assert(SPC_LIVE_TABLE_SIZE >= 2 * SPC_LIVE_CELLS_MAX, "the index stays at most half full");

struct cell {
	char site[STORE_SITE_SIZE];
	char line[SPC_LINE_SIZE];
	int64_t day;
	uint64_t records, refused;
	uint64_t seqs[SPC_LIVE_SEQS_MAX];
	uint32_t seq_count;
};

/* One day of a series being charted. */
struct point {
	int64_t day;
	uint64_t refused, records;
	uint64_t seqs[SPC_LIVE_SEQS_MAX];
	size_t seq_count;
};

struct spc_live {
	struct cell *cells; /* SPC_LIVE_CELLS_MAX */
	size_t count;
	uint32_t *table;    /* SPC_LIVE_TABLE_SIZE: cell index + 1, 0 = empty */
	int64_t now_day;    /* latest ledger day seen */
	uint64_t dropped;
	uint64_t reported[SPC_LIVE_REPORTED_MAX];
	size_t reported_count, reported_next;
};

static uint64_t fnv(uint64_t h, const void *bytes, size_t len)
{
	const uint8_t *p = bytes;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static uint64_t key_hash(const char *site, const char *line, int64_t day, unsigned rule)
{
	uint64_t h = fnv(1469598103934665603ULL, site, strlen(site) + 1);
	h = line != NULL ? fnv(h, line, strlen(line) + 1) : fnv(h, "\xff", 1); /* "all lines" is no line */
	h = fnv(h, &day, sizeof day);
	return fnv(h, &rule, sizeof rule);
}

int spc_live_new(spc_live **out)
{
	*out = NULL;
	spc_live *live = calloc(1, sizeof *live);
	if (live == NULL)
		return SL_ENOMEM;
	live->cells = calloc(SPC_LIVE_CELLS_MAX, sizeof *live->cells);
	live->table = calloc(SPC_LIVE_TABLE_SIZE, sizeof *live->table);
	live->now_day = INT64_MIN;
	if (live->cells == NULL || live->table == NULL) {
		spc_live_free(live);
		return SL_ENOMEM;
	}
	*out = live;
	return 0;
}

void spc_live_free(spc_live *live)
{
	if (live == NULL)
		return;
	free(live->cells);
	free(live->table);
	free(live);
}

uint64_t spc_live_dropped(const spc_live *live)
{
	return live->dropped;
}

static size_t slot_of(const struct cell *c)
{
	return (size_t)key_hash(c->site, c->line, c->day, 0) & (SPC_LIVE_TABLE_SIZE - 1);
}

static void table_rebuild(spc_live *live)
{
	memset(live->table, 0, SPC_LIVE_TABLE_SIZE * sizeof *live->table);
	for (size_t i = 0; i < live->count; i++) {
		size_t slot = slot_of(&live->cells[i]);
		while (live->table[slot] != 0)
			slot = (slot + 1) & (SPC_LIVE_TABLE_SIZE - 1);
		live->table[slot] = (uint32_t)i + 1;
	}
}

/* Keep the cells with day >= first_day (design note 1). */
static void cells_keep_from(spc_live *live, int64_t first_day)
{
	size_t kept = 0;
	for (size_t i = 0; i < live->count; i++)
		if (live->cells[i].day >= first_day)
			live->cells[kept++] = live->cells[i];
	live->count = kept;
	table_rebuild(live);
}

static int64_t oldest_day(const spc_live *live)
{
	int64_t oldest = INT64_MAX;
	for (size_t i = 0; i < live->count; i++)
		if (live->cells[i].day < oldest)
			oldest = live->cells[i].day;
	return oldest;
}

/* The cell of (site, line, day), made when absent; NULL when there is no room for its day. */
static struct cell *cell_get(spc_live *live, const char *site, const char *line, int64_t day)
{
	struct cell probe;
	memcpy(probe.site, site, strlen(site) + 1);
	memcpy(probe.line, line, strlen(line) + 1);
	probe.day = day;
	size_t slot = slot_of(&probe);
	for (; live->table[slot] != 0; slot = (slot + 1) & (SPC_LIVE_TABLE_SIZE - 1)) {
		struct cell *c = &live->cells[live->table[slot] - 1];
		if (c->day == day && strcmp(c->site, site) == 0 && strcmp(c->line, line) == 0)
			return c;
	}
	if (live->count == SPC_LIVE_CELLS_MAX) { /* rule 1: the oldest day goes first */
		int64_t oldest = oldest_day(live);
		if (day <= oldest)
			return NULL;
		cells_keep_from(live, oldest + 1);
		return cell_get(live, site, line, day); /* one level: count < max now */
	}
	struct cell *c = &live->cells[live->count];
	memset(c, 0, sizeof *c);
	memcpy(c, &probe, offsetof(struct cell, records));
	live->table[slot] = (uint32_t)++live->count;
	return c;
}

static bool counted(const struct record *record, int outcome)
{
	return record->type != RECORD_CHECKPOINT && outcome != OUTCOME_BAD_SIGNATURE && outcome != OUTCOME_UNKNOWN_KEY &&
	       outcome != OUTCOME_SITE_MISMATCH;
}

int spc_live_add(spc_live *live, const struct record *record, int outcome, uint64_t seq, uint64_t now_ms)
{
	if (live == NULL || record == NULL || now_ms > (uint64_t)INT64_MAX)
		return SL_EINVAL;
	char site[STORE_SITE_SIZE], line[SPC_LINE_SIZE];
	if (!counted(record, outcome) || sl_str_copy(record->site, site, sizeof site) != 0 ||
	    sl_str_copy(record->actor, line, sizeof line) != 0)
		return 0;
	int64_t now_day = spc_day_of((int64_t)now_ms);
	if (now_day > live->now_day) {
		live->now_day = now_day;
		cells_keep_from(live, now_day - SPC_LIVE_DAYS + 1); /* the window moved */
	}
	int64_t day = spc_day_of(record->event_time_ms);
	if (day < live->now_day - SPC_LIVE_DAYS + 1 || day > live->now_day + 1)
		return 0; /* outside the window */
	struct cell *c = cell_get(live, site, line, day);
	if (c == NULL) {
		live->dropped++;
		return 0;
	}
	c->records++;
	if (outcome != OUTCOME_ACCEPTED) {
		c->refused++;
		if (c->seq_count < SPC_LIVE_SEQS_MAX)
			c->seqs[c->seq_count++] = seq;
	}
	return 0;
}

static int cell_order(const void *x, const void *y)
{
	const struct cell *a = x, *b = y;
	int c = strcmp(a->site, b->site);
	if (c == 0)
		c = strcmp(a->line, b->line);
	return c != 0 ? c : (a->day > b->day) - (a->day < b->day);
}

static bool reported_before(spc_live *live, uint64_t key)
{
	for (size_t i = 0; i < live->reported_count; i++)
		if (live->reported[i] == key)
			return true;
	live->reported[live->reported_next] = key;
	live->reported_next = (live->reported_next + 1) % SPC_LIVE_REPORTED_MAX;
	if (live->reported_count < SPC_LIVE_REPORTED_MAX)
		live->reported_count++;
	return false;
}

struct check {
	spc_live *live;
	spc_live_signal_fn fn;
	void *ctx;
	size_t reported;
};

/* Chart one series (points by ascending day) and report its new signals on the side that needs
 * action (spc_live.h). */
static int series_chart(struct check *k, const char *site, const char *line, const struct point *points, size_t n)
{
	struct spc_point in[SPC_LIVE_POINTS_MAX] = { { 0, 0, 0 } };
	struct spc_chart_point chart[SPC_LIVE_POINTS_MAX];
	assert(n > 0);
	assert(n <= SPC_LIVE_POINTS_MAX);
	for (size_t i = 0; i < n; i++)
		in[i] = (struct spc_point){ points[i].day, points[i].refused, points[i].records };
	double centre = 0;
	int rc = spc_pchart(in, n, &centre, chart);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		static const unsigned rules[] = { SPC_RULE_BEYOND, SPC_RULE_RUN };
		for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
			bool upward = rules[r] == SPC_RULE_BEYOND ? chart[i].p > chart[i].ucl : chart[i].p > centre;
			if (!(chart[i].rules & rules[r]) || !upward ||
			    reported_before(k->live, key_hash(site, line, points[i].day, rules[r])))
				continue;
			struct spc_live_signal s = { site, line, points[i].day, rules[r], chart[i].p, centre, chart[i].ucl,
						     points[i].refused, points[i].records, points[i].seqs,
						     points[i].seq_count };
			k->fn(k->ctx, &s);
			k->reported++;
		}
	}
	return rc;
}

static void point_add(struct point *p, const struct cell *c)
{
	p->refused += c->refused;
	p->records += c->records;
	for (uint32_t i = 0; i < c->seq_count && p->seq_count < SPC_LIVE_SEQS_MAX; i++)
		p->seqs[p->seq_count++] = c->seqs[i];
}

/* The site series of cells [first, end) (one site, sorted by line then day): summed by day. */
static int site_chart(struct check *k, size_t first, size_t end)
{
	struct point points[SPC_LIVE_POINTS_MAX];
	size_t n = 0;
	const struct cell *cells = k->live->cells;
	for (size_t i = first; i < end; i++) {
		size_t at = 0;
		while (at < n && points[at].day != cells[i].day)
			at++;
		if (at == n && n == SPC_LIVE_POINTS_MAX)
			continue; /* cannot happen: the window holds fewer days */
		if (at == n) {
			size_t j = n++; /* insertion keeps days ascending */
			while (j > 0 && points[j - 1].day > cells[i].day) {
				points[j] = points[j - 1];
				j--;
			}
			memset(&points[j], 0, sizeof points[j]);
			points[j].day = cells[i].day;
			at = j;
		}
		point_add(&points[at], &cells[i]);
	}
	return series_chart(k, cells[first].site, NULL, points, n);
}

/* Every line series of one site's cells [first, end). */
static int line_charts(struct check *k, size_t first, size_t end)
{
	const struct cell *cells = k->live->cells;
	int rc = 0;
	for (size_t a = first; rc == 0 && a < end;) {
		struct point points[SPC_LIVE_POINTS_MAX];
		size_t n = 0, b = a;
		for (; b < end && strcmp(cells[b].line, cells[a].line) == 0; b++) {
			if (n == SPC_LIVE_POINTS_MAX)
				continue;
			memset(&points[n], 0, sizeof points[n]);
			points[n].day = cells[b].day;
			point_add(&points[n++], &cells[b]);
		}
		rc = series_chart(k, cells[a].site, cells[a].line, points, n);
		a = b;
	}
	return rc;
}

int spc_live_check(spc_live *live, spc_live_signal_fn fn, void *ctx, size_t *reported)
{
	if (live == NULL || fn == NULL)
		return SL_EINVAL;
	struct check k = { live, fn, ctx, 0 };
	qsort(live->cells, live->count, sizeof *live->cells, cell_order);
	table_rebuild(live); /* design note 2 */
	int rc = 0;
	for (size_t first = 0; rc == 0 && first < live->count;) {
		size_t end = first + 1;
		while (end < live->count && strcmp(live->cells[end].site, live->cells[first].site) == 0)
			end++;
		rc = site_chart(&k, first, end);
		if (rc == 0)
			rc = line_charts(&k, first, end);
		first = end;
	}
	if (reported != NULL)
		*reported = k.reported;
	return rc;
}
