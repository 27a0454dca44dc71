/* tests/unit/test_reconcile.c — reconcile_lot and reconcile_lots (ledger/reconcile.h) on ledgers
 * built record by record with controlled ledger time: counts, identities, the overdue-shipment rule
 * measured in ledger days, stolen packs, resolution by deviation, site, line and time-window
 * filters with known answers, several lots in one run against each alone, the counts-only mode,
 * the rescan when pass 2 has too many entries to remember, and argument checks. The CLI scenario
 * with every exception category is tests/integration/test_reconcile.sh. */
#include "tests/unit/apply_fixture.h"

#include "ledger/reconcile.h"

static int reconcile_with(struct fixture *f, const char *lot, const struct reconcile_options *options,
			  struct reconcile_report *report)
{
	store_txn *txn = NULL;
	int rc = store_txn_begin(f->st, false, &txn);
	if (rc != 0)
		return rc;
	rc = reconcile_lot(txn, GTIN, lot, options, report);
	store_txn_abort(txn);
	return rc;
}

static int reconcile_at(struct fixture *f, const char *lot, const char *site, uint32_t overdue_days,
			struct reconcile_report *report)
{
	struct reconcile_options options = { .site = site, .overdue_days = overdue_days };
	return reconcile_with(f, lot, &options, report);
}

/* Apply a deviation citing `id`. */
static int deviation_citing(struct fixture *f, const uint8_t id[RECORD_ID_BYTES])
{
	uint8_t ids[1][32];
	memcpy(ids[0], id, 32);
	struct spec s = { .type = RECORD_DEVIATION, .ref_step = 1 }; /* category "other" */
	struct sl_buf rec;
	struct ledger_result result;
	int rc = fixture_build(f, &s, (const uint8_t(*)[32])ids, &rec);
	if (rc == 0)
		rc = fixture_apply(f, &rec, 1, &result);
	sl_buf_free(&rec);
	f->now_ms += FIXTURE_STEP_MS;
	return rc == 0 ? result.outcome : rc;
}

struct id_list {
	char text[512];
};

static int id_list_cb(void *ctx, const char *id)
{
	struct id_list *l = ctx;
	size_t n = strlen(l->text);
	snprintf(l->text + n, sizeof l->text - n, "%s%s", n ? " " : "", id);
	return 0;
}

static const char *ids_of(const struct reconcile_report *r, unsigned count, struct id_list *l)
{
	l->text[0] = '\0';
	reconcile_count_items(r, count, id_list_cb, l);
	return l->text;
}

static void test_lost_shipment_and_theft(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	struct ledger_result ship;
	struct spec commission = { .type = RECORD_COMMISSION, .items = "S1 S2 S3 S4" };
	struct spec other_lot = { .type = RECORD_COMMISSION, .items = "X1", .lot = "L2" };
	struct spec ship_b = { .type = RECORD_SHIP, .items = P("S1") " " P("S2"), .to = SITE_B };
	struct spec receive_b = { .type = RECORD_RECEIVE, .key = KEY_B, .items = P("S1") };
	struct spec stolen_b = { .type = RECORD_DECOMMISSION, .key = KEY_B, .items = P("S1"),
				 .reason = DECOMMISSION_STOLEN };
	REQUIRE(fixture_do(&f, &commission, NULL) == OUTCOME_ACCEPTED);
	REQUIRE(fixture_do(&f, &other_lot, NULL) == OUTCOME_ACCEPTED);
	REQUIRE(fixture_do(&f, &ship_b, &ship) == OUTCOME_ACCEPTED);
	REQUIRE(fixture_do(&f, &receive_b, NULL) == OUTCOME_ACCEPTED);
	f.now_ms += 6 * DAY_MS; /* S2 never arrives */
	REQUIRE(fixture_do(&f, &stolen_b, NULL) == OUTCOME_ACCEPTED);

	struct reconcile_report r;
	struct id_list l;
	REQUIRE(reconcile_at(&f, "L1", NULL, RECONCILE_OVERDUE_DAYS_DEFAULT, &r) == 0);
	CHECK_INT_EQ(r.item_count, 4);
	CHECK_INT_EQ(r.counts[RECONCILE_COMMISSIONED], 4);
	CHECK_INT_EQ(r.counts[RECONCILE_SHIPPED], 2);
	CHECK_INT_EQ(r.counts[RECONCILE_RECEIVED], 1);
	CHECK_INT_EQ(r.counts[RECONCILE_IN_TRANSIT], 1);
	CHECK_INT_EQ(r.counts[RECONCILE_ON_HAND], 2);
	CHECK_INT_EQ(r.counts[RECONCILE_STOLEN], 1);
	CHECK_INT_EQ(r.counts[RECONCILE_UNEXPLAINED], 2);
	CHECK(r.counters_agree);
	CHECK_STR_EQ(ids_of(&r, RECONCILE_ON_HAND, &l), P("S3") " " P("S4"));
	CHECK_STR_EQ(ids_of(&r, RECONCILE_UNEXPLAINED, &l), P("S1") " " P("S2"));
	REQUIRE(r.exception_count == 2);
	CHECK_INT_EQ(r.exceptions[0].category, DEVIATION_DATA_NO_PRODUCT); /* the overdue shipment */
	CHECK_INT_EQ(r.exceptions[0].seq, ship.seq);
	CHECK_STR_EQ(r.exceptions[0].other_site, SITE_B);
	REQUIRE(r.exceptions[0].item_count == 1);
	CHECK_STR_EQ(r.exceptions[0].items[0], P("S2"));
	CHECK(memcmp(r.exceptions[0].record_id, ship.record_id, RECORD_ID_BYTES) == 0);
	CHECK_INT_EQ(r.exceptions[1].category, DEVIATION_DATA_NO_PRODUCT); /* stolen */
	CHECK_STR_EQ(r.exceptions[1].site, SITE_B);
	CHECK(!r.exceptions[0].resolved && !r.exceptions[1].resolved);
	struct reconcile_site_row *rows = NULL;
	size_t row_count = 0;
	REQUIRE(reconcile_sites(&r, &rows, &row_count) == 0);
	REQUIRE(row_count == 2);
	CHECK_STR_EQ(rows[0].site, SITE_A);
	CHECK_INT_EQ(rows[0].commissioned, 4);
	CHECK_INT_EQ(rows[0].on_hand, 2);
	CHECK_INT_EQ(rows[0].in_transit_out, 1);
	CHECK_STR_EQ(rows[1].site, SITE_B);
	CHECK_INT_EQ(rows[1].in_transit_in, 1);
	CHECK_INT_EQ(rows[1].decommissioned, 1);
	CHECK_INT_EQ(rows[1].commissioned, 0);
	free(rows);
	reconcile_report_free(&r);

	/* six days in transit is not overdue at seven */
	REQUIRE(reconcile_at(&f, "L1", NULL, 7, &r) == 0);
	CHECK_INT_EQ(r.exception_count, 1);
	CHECK_INT_EQ(r.counts[RECONCILE_UNEXPLAINED], 1);
	reconcile_report_free(&r);

	/* a deviation citing the shipment resolves it and names itself */
	REQUIRE(deviation_citing(&f, ship.record_id) == OUTCOME_ACCEPTED);
	REQUIRE(reconcile_at(&f, "L1", NULL, RECONCILE_OVERDUE_DAYS_DEFAULT, &r) == 0);
	REQUIRE(r.exception_count == 2);
	CHECK(r.exceptions[0].resolved);
	CHECK_INT_EQ(r.exceptions[0].deviation_seq, fixture_ledger_count(&f));
	CHECK_INT_EQ(r.counts[RECONCILE_UNEXPLAINED], 1);
	CHECK_STR_EQ(ids_of(&r, RECONCILE_UNEXPLAINED, &l), P("S1"));
	reconcile_report_free(&r);

	/* site B: nothing commissioned or shipped there; one received, one stolen */
	REQUIRE(reconcile_at(&f, "L1", SITE_B, RECONCILE_OVERDUE_DAYS_DEFAULT, &r) == 0);
	CHECK_INT_EQ(r.counts[RECONCILE_COMMISSIONED], 0);
	CHECK_INT_EQ(r.counts[RECONCILE_SHIPPED], 0);
	CHECK_INT_EQ(r.counts[RECONCILE_RECEIVED], 1);
	CHECK_INT_EQ(r.counts[RECONCILE_STOLEN], 1);
	CHECK_INT_EQ(r.counts[RECONCILE_ON_HAND], 0);
	reconcile_report_free(&r);

	/* the other lot is separate */
	REQUIRE(reconcile_at(&f, "L2", NULL, RECONCILE_OVERDUE_DAYS_DEFAULT, &r) == 0);
	CHECK_INT_EQ(r.counts[RECONCILE_COMMISSIONED], 1);
	CHECK_INT_EQ(r.counts[RECONCILE_ON_HAND], 1);
	CHECK_INT_EQ(r.exception_count, 0);
	reconcile_report_free(&r);
	fixture_close(&f);
}

static void test_empty_lot_and_bad_arguments(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	struct reconcile_report r;
	REQUIRE(reconcile_at(&f, "NONE", NULL, 5, &r) == 0);
	CHECK_INT_EQ(r.item_count, 0);
	for (unsigned k = 0; k < RECONCILE_COUNT_MAX; k++)
		CHECK_INT_EQ(r.counts[k], 0);
	CHECK(r.counters_agree);
	reconcile_report_free(&r);
	CHECK_INT_EQ(reconcile_at(&f, "bad lot", NULL, 5, &r), SL_EINVAL);
	reconcile_report_free(&r);
	CHECK_INT_EQ(reconcile_at(&f, "L1", NULL, RECONCILE_OVERDUE_DAYS_MAX + 1, &r), SL_EINVAL);
	reconcile_report_free(&r);
	CHECK_STR_EQ(reconcile_count_name(RECONCILE_UNEXPLAINED), "unexplained");
	CHECK_INT_EQ(reconcile_count_from_name("on_hand"), RECONCILE_ON_HAND);
	CHECK_INT_EQ(reconcile_count_from_name("nonsense"), -1);
	CHECK(reconcile_count_name(RECONCILE_COUNT_MAX) == NULL);
	fixture_close(&f);
}


/* A commission of lot `lot` signed by site A with `actor` (the line, docs/reconciliation.md). */
static int commission_by(struct fixture *f, const char *actor, const char *lot, const char *serial1,
			 const char *serial2)
{
	struct sl_str serials[2] = { sl_str_from_cstr(serial1), sl_str_from_cstr(serial2) };
	struct record r;
	record_init(&r);
	r.type = RECORD_COMMISSION;
	r.site = SL_STR(SITE_A);
	r.actor = sl_str_from_cstr(actor);
	r.meaning = MEANING_AUTHORED;
	r.event_time_ms = (int64_t)f->now_ms;
	r.gtin = SL_STR(GTIN);
	r.lot = sl_str_from_cstr(lot);
	r.expiry = SL_STR("281130");
	r.items = serials;
	r.item_count = 2;
	struct sl_buf rec;
	sl_buf_init(&rec, RECORD_BYTES_MAX);
	struct ledger_result result;
	int rc = record_sign(&r, &f->sk[KEY_A]);
	if (rc == 0)
		rc = record_encode(&r, &rec);
	if (rc == 0)
		rc = fixture_apply(f, &rec, 1, &result);
	sl_buf_free(&rec);
	f->now_ms += FIXTURE_STEP_MS;
	return rc == 0 ? result.outcome : rc;
}

#define LINE_1 "jane.doe@qa" /* the fixture's actor */
#define LINE_2 "line-2"

/* Day 0: line 1 commissions S1 S2, line 2 S3 S4 (and X1 X2 of lot L2). Day 2: S1 and S3 shipped to
 * B. Day 3: B receives S1. Day 4: S2 dispensed at A. Day 5: B "receives" S4, which nobody shipped
 * (refused: an exception). Now = day 5; S3 has been in transit three days. */
static int windows_ledger(struct fixture *f)
{
	struct spec ship = { .type = RECORD_SHIP, .items = P("S1") " " P("S3"), .to = SITE_B };
	struct spec receive = { .type = RECORD_RECEIVE, .key = KEY_B, .items = P("S1") };
	struct spec dispense = { .type = RECORD_DECOMMISSION, .items = P("S2"), .reason = DECOMMISSION_DISPENSED };
	struct spec overage = { .type = RECORD_RECEIVE, .key = KEY_B, .items = P("S4") };
	int rc = commission_by(f, LINE_1, "L1", "S1", "S2") == OUTCOME_ACCEPTED &&
				 commission_by(f, LINE_2, "L1", "S3", "S4") == OUTCOME_ACCEPTED &&
				 commission_by(f, LINE_2, "L2", "X1", "X2") == OUTCOME_ACCEPTED
			 ? 0
			 : -1;
	f->now_ms = FIXTURE_T0_MS + 2 * DAY_MS;
	if (rc == 0 && fixture_do(f, &ship, NULL) != OUTCOME_ACCEPTED)
		rc = -1;
	f->now_ms = FIXTURE_T0_MS + 3 * DAY_MS;
	if (rc == 0 && fixture_do(f, &receive, NULL) != OUTCOME_ACCEPTED)
		rc = -1;
	f->now_ms = FIXTURE_T0_MS + 4 * DAY_MS;
	if (rc == 0 && fixture_do(f, &dispense, NULL) != OUTCOME_ACCEPTED)
		rc = -1;
	f->now_ms = FIXTURE_T0_MS + 5 * DAY_MS;
	if (rc == 0 && fixture_do(f, &overage, NULL) != OUTCOME_NOT_IN_TRANSIT)
		rc = -1;
	return rc;
}

/* commissioned, shipped, received, in_transit, on_hand, dispensed, exceptions, unexplained */
static void counts_check(struct fixture *f, const struct reconcile_options *o, const char *what, const int want[8])
{
	struct reconcile_report r;
	int rc = reconcile_with(f, "L1", o, &r);
	const unsigned counts[6] = { RECONCILE_COMMISSIONED, RECONCILE_SHIPPED, RECONCILE_RECEIVED,
				     RECONCILE_IN_TRANSIT, RECONCILE_ON_HAND, RECONCILE_DISPENSED };
	char got[160], expected[160];
	snprintf(got, sizeof got, "%s: rc %d", what, rc);
	snprintf(expected, sizeof expected, "%s: rc 0", what);
	for (int k = 0; rc == 0 && k < 6; k++) {
		size_t n = strlen(got), m = strlen(expected);
		snprintf(got + n, sizeof got - n, " %llu", (unsigned long long)r.counts[counts[k]]);
		snprintf(expected + m, sizeof expected - m, " %d", want[k]);
	}
	size_t n = strlen(got), m = strlen(expected);
	snprintf(got + n, sizeof got - n, " / %zu %llu", r.exception_count,
		 (unsigned long long)r.counts[RECONCILE_UNEXPLAINED]);
	snprintf(expected + m, sizeof expected - m, " / %d %d", want[6], want[7]);
	CHECK_STR_EQ(got, expected);
	CHECK(rc != 0 || r.counters_agree); /* whatever the filters: a check of the data */
	reconcile_report_free(&r);
}

static void test_windows_sites_and_lines(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	REQUIRE(windows_ledger(&f) == 0);
	const uint64_t day = DAY_MS, t0 = FIXTURE_T0_MS;
	struct reconcile_options o = { .overdue_days = 2 };
	counts_check(&f, &o, "whole ledger", (const int[8]){ 4, 2, 1, 1, 2, 1, 2, 2 });
	o.from_ms = t0, o.to_ms = t0 + day; /* day 0: the commissions; S4 is still as commissioned */
	counts_check(&f, &o, "day 0", (const int[8]){ 4, 0, 0, 0, 1, 0, 0, 0 });
	o.from_ms = t0 + 2 * day, o.to_ms = t0 + 4 * day; /* days 2-3: the shipment and the receipt */
	counts_check(&f, &o, "days 2-3", (const int[8]){ 0, 2, 1, 1, 1, 0, 1, 1 });
	o.from_ms = t0 + 4 * day, o.to_ms = 0; /* from day 4 on: the dispensing and the overage */
	counts_check(&f, &o, "day 4 on", (const int[8]){ 0, 0, 0, 0, 0, 1, 1, 1 });
	o.from_ms = 0, o.to_ms = t0 + 4 * day; /* up to day 4: the end is exclusive */
	counts_check(&f, &o, "up to day 4", (const int[8]){ 4, 2, 1, 1, 2, 0, 1, 1 });
	o.to_ms = 0, o.line = LINE_2; /* S3, S4: the overdue S3 and the overage S4 are line 2's */
	counts_check(&f, &o, "line 2", (const int[8]){ 2, 1, 0, 1, 1, 0, 2, 2 });
	o.line = LINE_1; /* S1, S2: S1's shipment is not overdue (received) */
	counts_check(&f, &o, "line 1", (const int[8]){ 2, 1, 1, 0, 1, 1, 0, 0 });
	o.line = "line-9";
	counts_check(&f, &o, "no such line", (const int[8]){ 0, 0, 0, 0, 0, 0, 0, 0 });
	o.line = NULL, o.site = SITE_B; /* B received S1 and holds it; the overage and S3 on its way */
	counts_check(&f, &o, "site B", (const int[8]){ 0, 0, 1, 0, 1, 0, 2, 2 });
	o.from_ms = t0 + 4 * day; /* B from day 4 on: the overage only */
	counts_check(&f, &o, "site B day 4 on", (const int[8]){ 0, 0, 0, 0, 0, 0, 1, 1 });
	o.site = NULL, o.line = LINE_2, o.from_ms = t0 + 2 * day, o.to_ms = t0 + 3 * day;
	counts_check(&f, &o, "line 2 day 2", (const int[8]){ 0, 1, 0, 1, 0, 0, 1, 1 });

	/* identities with filters: line 2's packs only, in commissioning order */
	struct reconcile_options line2 = { .overdue_days = 2, .line = LINE_2 };
	struct reconcile_report r;
	struct id_list l;
	REQUIRE(reconcile_with(&f, "L1", &line2, &r) == 0);
	CHECK_INT_EQ(r.item_count, 2);
	CHECK_STR_EQ(ids_of(&r, RECONCILE_COMMISSIONED, &l), P("S3") " " P("S4"));
	CHECK_STR_EQ(ids_of(&r, RECONCILE_UNEXPLAINED, &l), P("S3") " " P("S4"));
	reconcile_report_free(&r);

	/* bad filters */
	struct reconcile_options bad = { .overdue_days = 2, .from_ms = t0 + day, .to_ms = t0 + day };
	CHECK_INT_EQ(reconcile_with(&f, "L1", &bad, &r), SL_EINVAL);
	reconcile_report_free(&r);
	bad.to_ms = 0, bad.line = "";
	CHECK_INT_EQ(reconcile_with(&f, "L1", &bad, &r), SL_EINVAL);
	reconcile_report_free(&r);
	bad.line = NULL, bad.site = "Not A Site";
	CHECK_INT_EQ(reconcile_with(&f, "L1", &bad, &r), SL_EINVAL);
	reconcile_report_free(&r);
	fixture_close(&f);
}

static void reports_same(const struct reconcile_report *a, const struct reconcile_report *b, const char *what)
{
	bool same = a->error == b->error && a->entries == b->entries && a->now_ms == b->now_ms &&
		    a->counters_agree == b->counters_agree && a->exception_count == b->exception_count &&
		    a->unexplained_count == b->unexplained_count && memcmp(a->counts, b->counts, sizeof a->counts) == 0;
	for (size_t i = 0; same && i < a->exception_count; i++) {
		const struct reconcile_exception *x = &a->exceptions[i], *y = &b->exceptions[i];
		same = x->seq == y->seq && x->category == y->category && x->resolved == y->resolved &&
		       x->item_count == y->item_count;
		for (size_t k = 0; same && k < x->item_count; k++)
			same = strcmp(x->items[k], y->items[k]) == 0;
	}
	for (size_t i = 0; same && i < a->unexplained_count; i++)
		same = strcmp(a->unexplained[i], b->unexplained[i]) == 0;
	if (!same)
		test_fail(__FILE__, __LINE__, what);
}

/* reconcile_lots gives each lot what reconcile_lot gives it alone (rule 3), in counts-only mode
 * too, and the rescan of pass 2 (candidates_max = 1) finds the same exceptions. */
static void test_several_lots_counts_only_and_rescan(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	REQUIRE(windows_ledger(&f) == 0);
	struct spec lost = { .type = RECORD_SHIP, .items = Q("Z1"), .to = SITE_B }; /* another GTIN */
	struct spec other_gtin = { .type = RECORD_COMMISSION, .gtin = GTIN2, .items = "Z1" };
	REQUIRE(fixture_do(&f, &other_gtin, NULL) == OUTCOME_ACCEPTED);
	REQUIRE(fixture_do(&f, &lost, NULL) == OUTCOME_ACCEPTED);
	/* a case holding packs of two lots; L2 quarantined; shipping the case is refused (LOCKED) and
	 * concerns both lots through the case */
	struct spec container = { .type = RECORD_COMMISSION_CONTAINER, .items = C1 };
	struct spec pack = { .type = RECORD_AGGREGATE, .parent = C1, .items = P("S4") " " P("X1") };
	struct spec quarantine = { .type = RECORD_LOCK, .scope = LOCK_SCOPE_LOT, .target = LOT_KEY("L2"),
				   .reason = LOCK_QUARANTINE };
	struct spec ship_case = { .type = RECORD_SHIP, .items = C1, .to = SITE_C };
	REQUIRE(fixture_do(&f, &container, NULL) == OUTCOME_ACCEPTED);
	REQUIRE(fixture_do(&f, &pack, NULL) == OUTCOME_ACCEPTED);
	REQUIRE(fixture_do(&f, &quarantine, NULL) == OUTCOME_ACCEPTED);
	REQUIRE(fixture_do(&f, &ship_case, NULL) == OUTCOME_LOCKED);
	f.now_ms += 9 * DAY_MS;
	struct spec unknown = { .type = RECORD_RECEIVE, .key = KEY_B, .items = P("NEVER") };
	REQUIRE(fixture_do(&f, &unknown, NULL) == OUTCOME_UNKNOWN_ITEM);

	const char *names[3] = { LOT_KEY("L2"), "(01)" GTIN2 "(10)L1", LOT_KEY("L1") };
	struct reconcile_options o = { .overdue_days = 2 };
	struct reconcile_report together[3], alone, counts_only[3], rescan;
	store_txn *txn = NULL;
	REQUIRE(store_txn_begin(f.st, false, &txn) == 0);
	CHECK_INT_EQ(reconcile_lots(txn, names, 3, &o, together), 0);
	struct reconcile_options quiet = { .overdue_days = 2, .counts_only = true };
	CHECK_INT_EQ(reconcile_lots(txn, names, 3, &quiet, counts_only), 0);
	const char *gtins[3] = { GTIN, GTIN2, GTIN }, *lots[3] = { "L2", "L1", "L1" };
	for (int i = 0; i < 3; i++) {
		CHECK_INT_EQ(reconcile_lot(txn, gtins[i], lots[i], &o, &alone), 0);
		reports_same(&together[i], &alone, names[i]);
		reports_same(&counts_only[i], &alone, names[i]);
		CHECK(counts_only[i].items == NULL && counts_only[i].item_count == 0);
		reconcile_report_free(&alone);
	}
	/* L1: the overdue S3, the overage S4, the case refused, the unknown serial of its GTIN; L2: the
	 * case and the unknown serial (a serial of its GTIN too); GTIN2's lot: the lost Z1 */
	CHECK_INT_EQ(together[2].exception_count, 4);
	CHECK_INT_EQ(together[1].exception_count, 1);
	CHECK_INT_EQ(together[0].exception_count, 2);
	CHECK_INT_EQ(together[2].counts[RECONCILE_AGGREGATED], 1);
	CHECK_INT_EQ(together[0].counts[RECONCILE_LOCKED], 2);
	REQUIRE(together[0].exception_count == 2 && together[0].exceptions[0].item_count == 1);
	CHECK_STR_EQ(together[0].exceptions[0].items[0], C1);
	CHECK_INT_EQ(together[0].exceptions[0].category, DEVIATION_UNAVAILABLE_FOR_DISTRIBUTION);
	struct reconcile_options once = { .overdue_days = 2, .candidates_max = 1 };
	CHECK_INT_EQ(reconcile_lot(txn, GTIN, "L1", &once, &rescan), 0);
	reports_same(&rescan, &together[2], "rescan");
	reconcile_report_free(&rescan);
	for (int i = 0; i < 3; i++) {
		reconcile_report_free(&together[i]);
		reconcile_report_free(&counts_only[i]);
	}
	const char *twice[2] = { LOT_KEY("L1"), LOT_KEY("L1") }, *malformed[1] = { "(01)" GTIN "L1" };
	CHECK_INT_EQ(reconcile_lots(txn, twice, 2, &o, together), SL_EINVAL);
	for (int i = 0; i < 2; i++)
		reconcile_report_free(&together[i]);
	CHECK_INT_EQ(reconcile_lots(txn, malformed, 1, &o, together), SL_EINVAL);
	reconcile_report_free(&together[0]);
	store_txn_abort(txn);
	fixture_close(&f);
}

static const struct test_case cases[] = {
	TEST_CASE(test_lost_shipment_and_theft),
	TEST_CASE(test_empty_lot_and_bad_arguments),
	TEST_CASE(test_windows_sites_and_lines),
	TEST_CASE(test_several_lots_counts_only_and_rescan),
};
TEST_MAIN(cases)
