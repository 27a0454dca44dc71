/* tests/unit/test_spc_live.c — the incremental SPC monitor (ledger/spc_live.h): signals that must
 * be reported (above the limit, a run above the centre), once each; improvements, records outside
 * the window, checkpoints and unauthenticated refusals that must not; bounded memory.
 */
#include "tests/unit/test.h"

#include "ledger/reason.h"
#include "ledger/spc_live.h"

#define DAY_MS 86400000ULL
#define T0_DAY 20000ULL /* 2024-10-04 */

struct seen {
	size_t count;
	struct {
		char site[STORE_SITE_SIZE];
		char line[SPC_LINE_SIZE]; /* "" = the site's series */
		int64_t day;
		unsigned rule;
		uint64_t refused, records;
		uint64_t seqs[SPC_LIVE_SEQS_MAX];
		size_t seq_count;
	} signals[16];
};

static void on_signal(void *ctx, const struct spc_live_signal *s)
{
	struct seen *seen = ctx;
	if (seen->count < 16) {
		snprintf(seen->signals[seen->count].site, STORE_SITE_SIZE, "%s", s->site);
		snprintf(seen->signals[seen->count].line, SPC_LINE_SIZE, "%s", s->line ? s->line : "");
		seen->signals[seen->count].day = s->day;
		seen->signals[seen->count].rule = s->rule;
		seen->signals[seen->count].refused = s->refused;
		seen->signals[seen->count].records = s->records;
		seen->signals[seen->count].seq_count = s->seq_count;
		memcpy(seen->signals[seen->count].seqs, s->seqs, s->seq_count * sizeof s->seqs[0]);
	}
	seen->count++;
}

static uint64_t next_seq;

/* `count` records of (site, actor) dated `day`, the first `refused` of them refused. */
static void add(spc_live *live, const char *site, const char *actor, uint64_t day, int count, int refused,
		int type, uint64_t now_day)
{
	for (int i = 0; i < count; i++) {
		struct record r;
		record_init(&r);
		r.type = (enum record_type)type;
		r.site = sl_str_from_cstr(site);
		r.actor = sl_str_from_cstr(actor);
		r.event_time_ms = (int64_t)(day * DAY_MS + 3600000);
		int outcome = i < refused ? OUTCOME_DUPLICATE_COMMISSION : OUTCOME_ACCEPTED;
		CHECK_INT_EQ(spc_live_add(live, &r, outcome, ++next_seq, now_day * DAY_MS + 7200000), 0);
	}
}

/* Four clean days, then a day where every record is refused: above the upper limit, for the site's
 * series and the line's, once. */
static void test_beyond_reported_once(void)
{
	spc_live *live = NULL;
	REQUIRE(spc_live_new(&live) == 0);
	next_seq = 0;
	for (uint64_t d = 0; d < 4; d++)
		add(live, "mfg", "line-1", T0_DAY + d, 5, 0, RECORD_COMMISSION, T0_DAY + 4);
	struct seen seen = { 0 };
	size_t reported = 99;
	REQUIRE(spc_live_check(live, on_signal, &seen, &reported) == 0);
	CHECK_INT_EQ(reported, 0);
	add(live, "mfg", "line-1", T0_DAY + 4, 5, 5, RECORD_COMMISSION, T0_DAY + 4);
	REQUIRE(spc_live_check(live, on_signal, &seen, &reported) == 0);
	CHECK_INT_EQ(reported, 2);
	REQUIRE(seen.count == 2);
	for (size_t i = 0; i < 2; i++) {
		CHECK_STR_EQ(seen.signals[i].site, "mfg");
		CHECK_INT_EQ(seen.signals[i].day, T0_DAY + 4);
		CHECK_INT_EQ(seen.signals[i].rule, SPC_RULE_BEYOND);
		CHECK_INT_EQ(seen.signals[i].refused, 5);
		CHECK_INT_EQ(seen.signals[i].records, 5);
		REQUIRE(seen.signals[i].seq_count == 5);
		CHECK_INT_EQ(seen.signals[i].seqs[0], 21); /* the refused records behind the point */
		CHECK_INT_EQ(seen.signals[i].seqs[4], 25);
	}
	CHECK_STR_EQ(seen.signals[0].line, ""); /* the site's series first, then its lines */
	CHECK_STR_EQ(seen.signals[1].line, "line-1");
	REQUIRE(spc_live_check(live, on_signal, &seen, &reported) == 0);
	CHECK_INT_EQ(reported, 0); /* once */
	CHECK_INT_EQ(seen.count, 2);
	spc_live_free(live);
}

/* Eight days above the centre, then eight below: the upward run is reported (on its eighth day),
 * the downward one is an improvement and is not. Another line of the same site stays quiet. */
static void test_run_upward_only(void)
{
	spc_live *live = NULL;
	REQUIRE(spc_live_new(&live) == 0);
	next_seq = 0;
	uint64_t today = T0_DAY + 20;
	for (uint64_t d = 0; d < 16; d++) {
		add(live, "dc", "line-a", T0_DAY + 4 + d, 10, d < 8 ? 1 : 0, RECORD_RECEIVE, today);
		add(live, "dc", "line-b", T0_DAY + 4 + d, 10, 0, RECORD_RECEIVE, today);
	}
	struct seen seen = { 0 };
	size_t reported = 0;
	REQUIRE(spc_live_check(live, on_signal, &seen, &reported) == 0);
	REQUIRE(seen.count == 2);
	for (size_t i = 0; i < 2; i++) {
		CHECK_INT_EQ(seen.signals[i].rule, SPC_RULE_RUN);
		CHECK_INT_EQ(seen.signals[i].day, T0_DAY + 4 + 7);
	}
	CHECK_STR_EQ(seen.signals[0].line, "");
	CHECK_STR_EQ(seen.signals[1].line, "line-a");
	spc_live_free(live);
}

/* Not counted: checkpoints, unauthenticated refusals, records dated outside the window. */
static void test_not_counted(void)
{
	spc_live *live = NULL;
	REQUIRE(spc_live_new(&live) == 0);
	next_seq = 0;
	uint64_t today = T0_DAY + 100;
	for (uint64_t d = 0; d < 4; d++)
		add(live, "mfg", "l", today - 4 + d, 5, 0, RECORD_COMMISSION, today);
	add(live, "mfg", "l", today, 5, 5, RECORD_CHECKPOINT, today);
	add(live, "mfg", "l", today - SPC_LIVE_DAYS, 5, 5, RECORD_COMMISSION, today); /* a day too old */
	add(live, "mfg", "l", today + 2, 5, 5, RECORD_COMMISSION, today);		/* two days ahead */
	for (int i = 0; i < 5; i++) {
		struct record r;
		record_init(&r);
		r.type = RECORD_COMMISSION;
		r.site = SL_STR("mfg");
		r.actor = SL_STR("l");
		r.event_time_ms = (int64_t)(today * DAY_MS);
		CHECK_INT_EQ(spc_live_add(live, &r, OUTCOME_BAD_SIGNATURE, ++next_seq, today * DAY_MS), 0);
	}
	struct seen seen = { 0 };
	REQUIRE(spc_live_check(live, on_signal, &seen, NULL) == 0);
	CHECK_INT_EQ(seen.count, 0);
	add(live, "mfg", "l", today - SPC_LIVE_DAYS + 1, 5, 5, RECORD_COMMISSION, today); /* the window's first day */
	REQUIRE(spc_live_check(live, on_signal, &seen, NULL) == 0);
	CHECK_INT_EQ(seen.count, 2);
	spc_live_free(live);
}

/* More (site, line, day) cells than fit: the oldest day's cells go first; a record of a day no newer
 * than the oldest held is dropped (counted); memory stays fixed. */
static void test_bounded(void)
{
	spc_live *live = NULL;
	REQUIRE(spc_live_new(&live) == 0);
	next_seq = 0;
	uint64_t today = T0_DAY + 40;
	char line[16];
	for (int l = 0; l < SPC_LIVE_CELLS_MAX; l++) { /* full, all of yesterday */
		snprintf(line, sizeof line, "l%d", l);
		add(live, "mfg", line, today - 1, 1, 0, RECORD_COMMISSION, today);
	}
	CHECK_INT_EQ(spc_live_dropped(live), 0);
	add(live, "mfg", "another", today - 1, 1, 0, RECORD_COMMISSION, today);
	add(live, "mfg", "another", today - 2, 1, 0, RECORD_COMMISSION, today);
	CHECK_INT_EQ(spc_live_dropped(live), 2);
	add(live, "mfg", "l0", today - 1, 1, 1, RECORD_COMMISSION, today); /* its cell exists: counted */
	CHECK_INT_EQ(spc_live_dropped(live), 2);
	/* a newer day makes room by dropping yesterday; then a clean history and a bad day signal */
	for (uint64_t d = 0; d < 4; d++)
		add(live, "dc", "x", today + d, 5, 0, RECORD_COMMISSION, today + 5);
	CHECK_INT_EQ(spc_live_dropped(live), 2);
	add(live, "dc", "x", today + 4, 5, 5, RECORD_COMMISSION, today + 5);
	struct seen seen = { 0 };
	CHECK_INT_EQ(spc_live_check(live, on_signal, &seen, NULL), 0);
	CHECK_INT_EQ(seen.count, 2);
	CHECK_STR_EQ(seen.signals[0].site, "dc");
	CHECK_INT_EQ(spc_live_add(NULL, NULL, 0, 0, 0), SL_EINVAL);
	spc_live_free(live);
	spc_live_free(NULL);
}

static const struct test_case cases[] = {
	TEST_CASE(test_beyond_reported_once),
	TEST_CASE(test_run_upward_only),
	TEST_CASE(test_not_counted),
	TEST_CASE(test_bounded),
};

TEST_MAIN(cases)
