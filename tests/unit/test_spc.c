/* tests/unit/test_spc.c — p-chart arithmetic and run rules (ledger/spc.h) on synthetic series whose
 * limits and signals are known independently (limits computed by hand / Python from
 * p̄ ± 3·sqrt(p̄(1−p̄)/n)), and the rate series spc_collect derives from a real ledger. */
#include "tests/unit/apply_fixture.h"

#include "ledger/spc.h"

#define EPS 1e-9

static bool close_to(double a, double b)
{
	return a - b < EPS && b - a < EPS;
}

static void fill(struct spc_point *points, size_t count, uint64_t defects, uint64_t size)
{
	for (size_t i = 0; i < count; i++)
		points[i] = (struct spc_point){ (int64_t)i, defects, size };
}

static void test_constant_series_limits(void)
{
	struct spc_point points[10];
	struct spc_chart_point chart[10];
	double centre = -1;
	fill(points, 10, 5, 100);
	REQUIRE(spc_pchart(points, 10, &centre, chart) == 0);
	CHECK(close_to(centre, 0.05));
	for (size_t i = 0; i < 10; i++) {
		CHECK(close_to(chart[i].p, 0.05));
		CHECK(close_to(chart[i].ucl, 0.1153834841531101));
		CHECK(close_to(chart[i].lcl, 0.0)); /* 0.05 − 0.0654 clipped at 0 */
		CHECK_INT_EQ(chart[i].rules, 0);    /* on the centre line: no run, nothing beyond */
	}
}

static void test_variable_subgroup_sizes(void)
{
	struct spc_point points[2] = { { 0, 5, 50 }, { 1, 20, 200 } }; /* p̄ = 25/250 = 0.1 */
	struct spc_chart_point chart[2];
	double centre = 0;
	REQUIRE(spc_pchart(points, 2, &centre, chart) == 0);
	CHECK(close_to(centre, 0.1));
	CHECK(close_to(chart[0].ucl, 0.22727922061357855));
	CHECK(close_to(chart[0].lcl, 0.0)); /* negative, clipped */
	CHECK(close_to(chart[1].ucl, 0.16363961030678928));
	CHECK(close_to(chart[1].lcl, 0.03636038969321073));
}

/* 20 days of 2/100 with one day of 20/100 at index 10: p̄ = 58/2000 = 0.029, UCL = 0.0793.
 * Index 10 is beyond; indices 0..9 are a run of 10 below (signals at 7, 8, 9), 11..19 a run of
 * 9 below (signals at 18, 19). */
static void test_one_point_beyond_and_runs(void)
{
	struct spc_point points[20];
	struct spc_chart_point chart[20];
	double centre = 0;
	fill(points, 20, 2, 100);
	points[10].defects = 20;
	REQUIRE(spc_pchart(points, 20, &centre, chart) == 0);
	CHECK(close_to(centre, 0.029));
	CHECK(close_to(chart[10].ucl, 0.07934193083305406));
	for (size_t i = 0; i < 20; i++) {
		unsigned want = 0;
		if (i == 10)
			want = SPC_RULE_BEYOND;
		if ((i >= 7 && i <= 9) || i >= 18)
			want = SPC_RULE_RUN;
		CHECK_INT_EQ(chart[i].rules, want);
	}
}

/* Eight below then eight above the centre (1/100 and 3/100, p̄ = 0.02, UCL 0.062): exactly the
 * eighth point of each side signals; nothing is beyond. */
static void test_run_of_eight_exactly(void)
{
	struct spc_point points[16];
	struct spc_chart_point chart[16];
	double centre = 0;
	fill(points, 16, 1, 100);
	for (size_t i = 8; i < 16; i++)
		points[i].defects = 3;
	REQUIRE(spc_pchart(points, 16, &centre, chart) == 0);
	CHECK(close_to(centre, 0.02));
	CHECK(close_to(chart[0].ucl, 0.062));
	for (size_t i = 0; i < 16; i++)
		CHECK_INT_EQ(chart[i].rules, (i == 7 || i == 15) ? SPC_RULE_RUN : 0);
}

/* Seven below, seven above, two on the centre line: no signal at all. */
static void test_seven_is_not_a_run(void)
{
	struct spc_point points[16];
	struct spc_chart_point chart[16];
	double centre = 0;
	fill(points, 16, 1, 100);
	for (size_t i = 7; i < 14; i++)
		points[i].defects = 3;
	points[14].defects = points[15].defects = 2; /* p̄ = (7 + 21 + 4) / 1600 = 0.02 */
	REQUIRE(spc_pchart(points, 16, &centre, chart) == 0);
	CHECK(close_to(centre, 0.02));
	for (size_t i = 0; i < 16; i++)
		CHECK_INT_EQ(chart[i].rules, 0);
}

/* An empty day breaks a run: 9 days of 1/100, an empty day, 7 days of 3/100. p̄ = 30/1600; the
 * 9 low points signal at 7 and 8; the 7 high points after the gap do not reach 8. */
static void test_run_broken_by_empty_day(void)
{
	struct spc_point points[17];
	struct spc_chart_point chart[17];
	double centre = 0;
	fill(points, 17, 1, 100);
	points[9] = (struct spc_point){ 9, 0, 0 };
	for (size_t i = 10; i < 17; i++)
		points[i].defects = 3;
	REQUIRE(spc_pchart(points, 17, &centre, chart) == 0);
	CHECK(close_to(centre, 30.0 / 1600.0));
	for (size_t i = 0; i < 17; i++)
		CHECK_INT_EQ(chart[i].rules, (i == 7 || i == 8) ? SPC_RULE_RUN : 0);
	CHECK(close_to(chart[9].p, 0.0));
	CHECK(close_to(chart[9].ucl, 0.0));
}

static void test_exact_centre_breaks_run(void)
{
	/* 4 low, one exactly on the centre, 4 low, one far above */
	struct spc_point points[10] = {
		{ 0, 1, 100 }, { 1, 1, 100 }, { 2, 1, 100 }, { 3, 1, 100 }, { 4, 2, 100 },
		{ 5, 1, 100 }, { 6, 1, 100 }, { 7, 1, 100 }, { 8, 1, 100 }, { 9, 10, 100 },
	}; /* Σd = 20, Σn = 1000: p̄ = 0.02, point 4 is exactly on it */
	struct spc_chart_point chart[10];
	double centre = 0;
	REQUIRE(spc_pchart(points, 10, &centre, chart) == 0);
	CHECK(close_to(centre, 0.02));
	for (size_t i = 0; i < 9; i++)
		CHECK_INT_EQ(chart[i].rules, 0); /* 4 + 4 below, split by the centre point */
	CHECK_INT_EQ(chart[9].rules, SPC_RULE_BEYOND);
}

static void test_invalid_input(void)
{
	struct spc_point bad = { 0, 5, 4 };
	struct spc_chart_point chart[1];
	double centre = 0;
	CHECK_INT_EQ(spc_pchart(&bad, 1, &centre, chart), SL_EINVAL);
	CHECK_INT_EQ(spc_pchart(&bad, 0, &centre, chart), SL_EINVAL);
	CHECK_INT_EQ(spc_pchart(NULL, 1, &centre, chart), SL_EINVAL);
	struct spc_point huge[2] = { { 0, 0, UINT64_MAX }, { 1, 0, 1 } };
	struct spc_chart_point two[2];
	CHECK_INT_EQ(spc_pchart(huge, 2, &centre, two), SL_ELIMIT);
	struct spc_point all[3] = { { 0, 3, 3 }, { 1, 4, 4 }, { 2, 0, 0 } }; /* p̄ = 1: zero-width limits */
	struct spc_chart_point three[3];
	REQUIRE(spc_pchart(all, 3, &centre, three) == 0);
	CHECK(close_to(centre, 1.0));
	CHECK_INT_EQ(three[0].rules | three[1].rules | three[2].rules, 0);
}

static void test_day_and_shift(void)
{
	int64_t t = 1793610000000LL; /* 2026-11-02T09:00:00Z */
	CHECK_INT_EQ(spc_day_of(t), 20759);
	CHECK_INT_EQ(spc_day_of(0), 0);
	CHECK_INT_EQ(spc_day_of(-1), -1);
	CHECK_INT_EQ(spc_shift_of(t, 8), 1);
	CHECK_INT_EQ(spc_shift_of(20759LL * 86400000 + 86399999, 8), 2);
	CHECK_INT_EQ(spc_shift_of(20759LL * 86400000, 8), 0);
	CHECK_INT_EQ(spc_shift_of(t, 12), 0);
	CHECK_INT_EQ(spc_shift_of(-1, 8), 2);
}

/* 12 days, 10 records a day at site A, all commissions: each day one is a duplicate of serial
 * BASE (refused), except day 0 where BASE is first commissioned (accepted) and day 11 where 8
 * are. p̄ = 18/120 = 0.15. Day 11 (0.8) is beyond its UCL (0.15 + 3·sqrt(0.15·0.85/10) = 0.489);
 * days 0..10 (0 and 0.1) are 11 in a row below the centre: run signals on days 7, 8, 9, 10. */
/* spc_collect over the fixture's ledger in a read transaction of its own. */
static int collect(struct fixture *f, const struct spc_options *options, struct spc_report *report)
{
	store_txn *txn = NULL;
	int rc = store_txn_begin(f->st, false, &txn);
	if (rc == 0) {
		rc = spc_collect(txn, options, report);
		store_txn_abort(txn);
	}
	return rc;
}

static void test_collect_from_ledger(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	f.now_ms = 20759ULL * DAY_MS + 9 * 3600 * 1000ULL; /* 09:00 UTC: shift 1 */
	char serial[16];
	for (int day = 0; day < 12; day++) {
		int bad = day == 11 ? 8 : 1;
		for (int k = 0; k < 10; k++) {
			if (k < bad)
				snprintf(serial, sizeof serial, "BASE");
			else
				snprintf(serial, sizeof serial, "D%dK%d", day, k);
			struct spec s = { .type = RECORD_COMMISSION, .items = serial };
			CHECK(fixture_do(&f, &s, NULL) >= 0);
		}
		f.now_ms += DAY_MS - 10 * FIXTURE_STEP_MS;
	}
	struct spc_options options = { NULL, NULL, INT64_MIN, 8 };
	struct spc_report report;
	REQUIRE(collect(&f, &options, &report) == 0);
	store_txn *txn = NULL;
	CHECK_INT_EQ(report.records, 120);
	REQUIRE(report.count >= 1);
	const struct spc_series *s = &report.series[0];
	CHECK_STR_EQ(s->site, SITE_A);
	CHECK_STR_EQ(s->metric, "rejected");
	REQUIRE(s->count == 12);
	CHECK_INT_EQ(s->points[0].defects, 0);
	CHECK_INT_EQ(s->points[5].defects, 1);
	CHECK_INT_EQ(s->points[11].defects, 8);
	CHECK_INT_EQ(s->points[11].size, 10);
	CHECK_INT_EQ(s->points[11].day, 20770);
	CHECK(close_to(s->centre, 0.15));
	CHECK(close_to(s->chart[11].ucl, 0.15 + 3 * 0.11291589790636213));
	CHECK_INT_EQ(s->chart[11].rules, SPC_RULE_BEYOND);
	for (size_t i = 0; i < 11; i++)
		CHECK_INT_EQ(s->chart[i].rules, i >= 7 ? SPC_RULE_RUN : 0);
	CHECK_INT_EQ(s->signals, 5);
	/* the per-outcome series, the line (actor) and shift 1 carry the same refusals */
	bool outcome_series = false, line_series = false, shift_series = false;
	for (size_t i = 0; i < report.count; i++) {
		const struct spc_series *x = &report.series[i];
		outcome_series |= strcmp(x->metric, "rejected:DUPLICATE_COMMISSION") == 0 && x->points[11].defects == 8;
		line_series |= strcmp(x->line, "jane.doe@qa") == 0 && x->points[11].defects == 8;
		shift_series |= x->shift == 1 && x->count == 12 && x->points[11].defects == 8;
		CHECK(x->shift != 0 || x->count == 0); /* no record falls in shift 0 */
	}
	CHECK(outcome_series);
	CHECK(line_series);
	CHECK(shift_series);
	spc_report_free(&report);
	/* filters: another site has nothing; --since after day 5 keeps 6 days */
	REQUIRE(store_txn_begin(f.st, false, &txn) == 0);
	options.site = SITE_B;
	CHECK_INT_EQ(spc_collect(txn, &options, &report), 0);
	CHECK_INT_EQ(report.count, 0);
	spc_report_free(&report);
	options.site = NULL;
	options.since_ms = (int64_t)(20765ULL * DAY_MS);
	CHECK_INT_EQ(spc_collect(txn, &options, &report), 0);
	CHECK(report.count > 0 && report.series[0].count == 6);
	spc_report_free(&report);
	options.shift_hours = 7;
	CHECK_INT_EQ(spc_collect(txn, &options, &report), SL_EINVAL);
	spc_report_free(&report);
	store_txn_abort(txn);
	fixture_close(&f);
}

/* Every outcome has its series, the last codes (registry refusals) too. */
static void test_collect_every_outcome(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	struct spec no_majority = { .type = RECORD_REGISTRY, .reg_op = REGISTRY_KEY_ADD, .reg_key = KEY_A2 + 1 };
	struct spec commission = { .type = RECORD_COMMISSION, .items = "S1" };
	CHECK_INT_EQ(fixture_do(&f, &no_majority, NULL), OUTCOME_REGISTRY_NO_MAJORITY);
	CHECK_INT_EQ(fixture_do(&f, &commission, NULL), OUTCOME_ACCEPTED);
	struct spc_options options = { NULL, NULL, INT64_MIN, 8 };
	struct spc_report report;
	REQUIRE(collect(&f, &options, &report) == 0);
	bool found = false;
	for (size_t i = 0; i < report.count; i++)
		found |= strcmp(report.series[i].metric, "rejected:REGISTRY_NO_MAJORITY") == 0 &&
			 report.series[i].count == 1 && report.series[i].points[0].defects == 1 &&
			 report.series[i].points[0].size == 2;
	CHECK(found);
	spc_report_free(&report);
	fixture_close(&f);
}

static const struct test_case cases[] = {
	TEST_CASE(test_constant_series_limits),
	TEST_CASE(test_variable_subgroup_sizes),
	TEST_CASE(test_one_point_beyond_and_runs),
	TEST_CASE(test_run_of_eight_exactly),
	TEST_CASE(test_seven_is_not_a_run),
	TEST_CASE(test_run_broken_by_empty_day),
	TEST_CASE(test_exact_centre_breaks_run),
	TEST_CASE(test_invalid_input),
	TEST_CASE(test_day_and_shift),
	TEST_CASE(test_collect_from_ledger),
	TEST_CASE(test_collect_every_outcome),
};
TEST_MAIN(cases)
