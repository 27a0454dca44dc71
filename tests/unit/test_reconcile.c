/* tests/unit/test_reconcile.c — reconcile_lot (ledger/reconcile.h) on ledgers built record by
 * record with controlled ledger time: counts, identities, the overdue-shipment rule measured in
 * ledger days, stolen packs, resolution by deviation, site filter and argument checks. The CLI
 * scenario with every exception category is tests/integration/test_reconcile.sh. */
#include "tests/unit/apply_fixture.h"

#include "ledger/reconcile.h"

static int reconcile_at(struct fixture *f, const char *lot, const char *site, uint32_t overdue_days,
			struct reconcile_report *report)
{
	store_txn *txn = NULL;
	int rc = store_txn_begin(f->st, false, &txn);
	if (rc != 0)
		return rc;
	struct reconcile_options options = { site, overdue_days };
	rc = reconcile_lot(txn, GTIN, lot, &options, report);
	store_txn_abort(txn);
	return rc;
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

static const struct test_case cases[] = {
	TEST_CASE(test_lost_shipment_and_theft),
	TEST_CASE(test_empty_lot_and_bad_arguments),
};
TEST_MAIN(cases)
