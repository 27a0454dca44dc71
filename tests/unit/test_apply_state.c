/* tests/unit/test_apply_state.c — the state behind the lifecycle outcomes: all-or-nothing records,
 * recursive inference through containers, lot counters, implicit disaggregation, and the
 * HIERARCHY_ITEMS_MAX limit (docs/lifecycle.md).
 */
#include "tests/unit/apply_fixture.h"

#include "ledger/gs1.h"
#include "ledger/hierarchy.h"

#define LOT1 LOT_KEY("L1")

static int must(struct fixture *f, const struct spec *s)
{
	return fixture_do(f, s, NULL);
}

#define DO(f, ...) must((f), &(struct spec){ __VA_ARGS__ })

static void test_record_is_all_or_nothing(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	CHECK_INT_EQ(DO(&f, .type = RECORD_COMMISSION, .items = "S1 S2 S3"), OUTCOME_ACCEPTED);
	CHECK_INT_EQ(DO(&f, .type = RECORD_COMMISSION_CONTAINER, .items = C1), OUTCOME_ACCEPTED);
	CHECK_INT_EQ(DO(&f, .type = RECORD_LOCK, .scope = LOCK_SCOPE_SERIAL, .target = P("S2"),
			.reason = LOCK_QUARANTINE),
		     OUTCOME_ACCEPTED);
	uint64_t entries = fixture_ledger_count(&f);

	struct ledger_result result;
	CHECK_INT_EQ(fixture_do(&f, &(struct spec){ .type = RECORD_SHIP, .to = SITE_B,
						    .items = P("S1") " " P("S2") " " P("S3") },
				&result),
		     OUTCOME_LOCKED);
	CHECK_INT_EQ(result.item, 1);
	CHECK_INT_EQ(fixture_status(&f, P("S1")), ITEM_ACTIVE);
	CHECK_INT_EQ(fixture_status(&f, P("S3")), ITEM_ACTIVE);
	CHECK_INT_EQ(fixture_counter(&f, LOT1, SITE_A, LOT_COUNTER_ACTIVE), 3);
	CHECK_INT_EQ(fixture_counter(&f, LOT1, SITE_A, LOT_COUNTER_IN_TRANSIT), 0);

	CHECK_INT_EQ(DO(&f, .type = RECORD_DECOMMISSION, .reason = DECOMMISSION_DESTROYED,
			.items = P("S1") " " P("S99") " " P("S3")),
		     OUTCOME_UNKNOWN_ITEM);
	CHECK_INT_EQ(fixture_status(&f, P("S1")), ITEM_ACTIVE);
	CHECK_INT_EQ(fixture_status(&f, P("S3")), ITEM_ACTIVE);

	CHECK_INT_EQ(DO(&f, .type = RECORD_COMMISSION, .items = "S4 S5 S1"), OUTCOME_DUPLICATE_COMMISSION);
	CHECK_INT_EQ(fixture_status(&f, P("S4")), 0);
	CHECK_INT_EQ(fixture_status(&f, P("S5")), 0);
	CHECK_INT_EQ(fixture_counter(&f, LOT1, SITE_A, LOT_COUNTER_COMMISSIONED), 3);

	CHECK_INT_EQ(DO(&f, .type = RECORD_AGGREGATE, .parent = C1, .items = P("S1") " " P("S3") " " C1),
		     OUTCOME_AGGREGATION_CYCLE);
	struct store_item item;
	REQUIRE(fixture_item(&f, P("S1"), &item) == 0);
	CHECK_STR_EQ(item.parent, "");
	REQUIRE(fixture_item(&f, C1, &item) == 0);
	CHECK_INT_EQ(item.child_count, 0);
	/* every refused record is still in the ledger */
	CHECK_INT_EQ(fixture_ledger_count(&f), entries + 4);
	fixture_close(&f);
}

/* Pallet C3 of cases C1 (S1-S3) and C2 (S4-S6). */
static void build_pallet(struct fixture *f)
{
	CHECK_INT_EQ(DO(f, .type = RECORD_COMMISSION, .items = "S1 S2 S3 S4 S5 S6"), OUTCOME_ACCEPTED);
	CHECK_INT_EQ(DO(f, .type = RECORD_COMMISSION_CONTAINER, .items = C1 " " C2 " " C3), OUTCOME_ACCEPTED);
	CHECK_INT_EQ(DO(f, .type = RECORD_AGGREGATE, .parent = C1, .items = P("S1") " " P("S2") " " P("S3")),
		     OUTCOME_ACCEPTED);
	CHECK_INT_EQ(DO(f, .type = RECORD_AGGREGATE, .parent = C2, .items = P("S4") " " P("S5") " " P("S6")),
		     OUTCOME_ACCEPTED);
	CHECK_INT_EQ(DO(f, .type = RECORD_AGGREGATE, .parent = C3, .items = C1 " " C2), OUTCOME_ACCEPTED);
}

static const char *const pallet_items[] = { C3, C1, C2, P("S1"), P("S2"), P("S3"), P("S4"), P("S5"), P("S6") };
#define PALLET_ITEMS (sizeof pallet_items / sizeof pallet_items[0])

static void check_pallet(struct fixture *f, int status, const char *site, const char *destination, int reason)
{
	for (size_t i = 0; i < PALLET_ITEMS; i++) {
		struct store_item item;
		REQUIRE(fixture_item(f, pallet_items[i], &item) == 0);
		CHECK_INT_EQ(item.status, status);
		CHECK_STR_EQ(item.site, site);
		CHECK_STR_EQ(item.destination, destination);
		CHECK_INT_EQ(item.reason, reason);
	}
}

static void test_containers_carry_their_contents(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	build_pallet(&f);

	struct ledger_result ship;
	CHECK_INT_EQ(fixture_do(&f, &(struct spec){ .type = RECORD_SHIP, .to = SITE_B, .items = C3 }, &ship),
		     OUTCOME_ACCEPTED);
	check_pallet(&f, ITEM_IN_TRANSIT, SITE_A, SITE_B, 0);
	CHECK(fixture_history_has(&f, P("S5"), ship.seq)); /* inferred items get the entry too */
	CHECK(fixture_history_has(&f, C1, ship.seq));
	CHECK_INT_EQ(fixture_counter(&f, LOT1, SITE_A, LOT_COUNTER_ACTIVE), 0);
	CHECK_INT_EQ(fixture_counter(&f, LOT1, SITE_A, LOT_COUNTER_IN_TRANSIT), 6);

	CHECK_INT_EQ(DO(&f, .type = RECORD_RECEIVE, .key = KEY_B, .items = C3), OUTCOME_ACCEPTED);
	check_pallet(&f, ITEM_ACTIVE, SITE_B, "", 0);
	CHECK_INT_EQ(fixture_counter(&f, LOT1, SITE_A, LOT_COUNTER_IN_TRANSIT), 0);
	CHECK_INT_EQ(fixture_counter(&f, LOT1, SITE_B, LOT_COUNTER_ACTIVE), 6);

	struct ledger_result export;
	CHECK_INT_EQ(fixture_do(&f,
				&(struct spec){ .type = RECORD_DECOMMISSION, .key = KEY_B,
						.reason = DECOMMISSION_EXPORTED, .items = C3 },
				&export),
		     OUTCOME_ACCEPTED);
	check_pallet(&f, ITEM_DECOMMISSIONED, SITE_B, "", DECOMMISSION_EXPORTED);
	CHECK_INT_EQ(fixture_counter(&f, LOT1, SITE_B, LOT_COUNTER_DECOMMISSIONED(DECOMMISSION_EXPORTED)), 6);
	struct store_item item;
	REQUIRE(fixture_item(&f, P("S2"), &item) == 0);
	CHECK_INT_EQ(item.status_seq, export.seq);
	CHECK_STR_EQ(item.parent, C1); /* decommissioned with its case: the hierarchy is kept */

	CHECK_INT_EQ(DO(&f, .type = RECORD_REVERT, .key = KEY_B, .items = C3), OUTCOME_ACCEPTED);
	check_pallet(&f, ITEM_ACTIVE, SITE_B, "", 0);
	CHECK_INT_EQ(fixture_counter(&f, LOT1, SITE_B, LOT_COUNTER_REVERTED), 6);
	CHECK_INT_EQ(fixture_counter(&f, LOT1, SITE_B, LOT_COUNTER_ACTIVE), 6);

	/* Destroying one case takes it off the pallet, with its packs only. */
	CHECK_INT_EQ(DO(&f, .type = RECORD_DECOMMISSION, .key = KEY_B, .reason = DECOMMISSION_DESTROYED,
			.items = C1),
		     OUTCOME_ACCEPTED);
	REQUIRE(fixture_item(&f, C3, &item) == 0);
	CHECK_INT_EQ(item.child_count, 1);
	REQUIRE(fixture_item(&f, C1, &item) == 0);
	CHECK_STR_EQ(item.parent, "");
	CHECK_INT_EQ(fixture_status(&f, P("S3")), ITEM_DECOMMISSIONED);
	CHECK_INT_EQ(fixture_status(&f, P("S4")), ITEM_ACTIVE);
	CHECK_INT_EQ(fixture_counter(&f, LOT1, SITE_B, LOT_COUNTER_DECOMMISSIONED(DECOMMISSION_DESTROYED)), 3);
	fixture_close(&f);
}

static void test_dispensing_from_an_opened_case(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	build_pallet(&f);
	struct ledger_result result;
	CHECK_INT_EQ(fixture_do(&f,
				&(struct spec){ .type = RECORD_DECOMMISSION, .reason = DECOMMISSION_DISPENSED,
						.items = P("S1") " " P("S5") },
				&result),
		     OUTCOME_ACCEPTED);
	struct store_item item;
	REQUIRE(fixture_item(&f, P("S1"), &item) == 0);
	CHECK_STR_EQ(item.parent, "");
	REQUIRE(fixture_item(&f, C1, &item) == 0);
	CHECK_INT_EQ(item.child_count, 2);
	REQUIRE(fixture_item(&f, C2, &item) == 0);
	CHECK_INT_EQ(item.child_count, 2);
	CHECK(fixture_history_has(&f, C1, result.seq)); /* the case's trail shows the pack leaving */
	/* the case still ships with the two packs left */
	CHECK_INT_EQ(DO(&f, .type = RECORD_SHIP, .to = SITE_C, .items = C3), OUTCOME_ACCEPTED);
	CHECK_INT_EQ(fixture_status(&f, P("S2")), ITEM_IN_TRANSIT);
	CHECK_INT_EQ(fixture_status(&f, P("S1")), ITEM_DECOMMISSIONED);
	/* the reverted pack comes back loose, not into the case that left */
	CHECK_INT_EQ(DO(&f, .type = RECORD_REVERT, .items = P("S1")), OUTCOME_ACCEPTED);
	REQUIRE(fixture_item(&f, P("S1"), &item) == 0);
	CHECK_INT_EQ(item.status, ITEM_ACTIVE);
	CHECK_STR_EQ(item.parent, "");
	CHECK_STR_EQ(item.site, SITE_A);
	fixture_close(&f);
}

/* Every pack is in exactly one where-slot: the sum over sites equals the commissioned total. */
static void check_conservation(struct fixture *f, const char *lot_key, const char *const *sites, size_t count)
{
	uint64_t where = 0, commissioned = 0;
	for (size_t s = 0; s < count; s++) {
		for (unsigned slot = LOT_COUNTER_ACTIVE; slot < LOT_COUNTER_COMMISSIONED; slot++)
			where += fixture_counter(f, lot_key, sites[s], slot);
		commissioned += fixture_counter(f, lot_key, sites[s], LOT_COUNTER_COMMISSIONED);
	}
	CHECK_INT_EQ(where, commissioned);
}

static void test_counters_after_a_sequence(void)
{
	static const char *const sites[] = { SITE_A, SITE_B, SITE_C };
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	CHECK_INT_EQ(DO(&f, .type = RECORD_COMMISSION, .items = "S1 S2 S3 S4 S5"), OUTCOME_ACCEPTED);
	CHECK_INT_EQ(DO(&f, .type = RECORD_COMMISSION, .key = KEY_B, .items = "B1 B2"), OUTCOME_ACCEPTED);
	CHECK_INT_EQ(DO(&f, .type = RECORD_SHIP, .to = SITE_B, .items = P("S1") " " P("S2")), OUTCOME_ACCEPTED);
	CHECK_INT_EQ(DO(&f, .type = RECORD_RECEIVE, .key = KEY_B, .items = P("S1")), OUTCOME_ACCEPTED);
	CHECK_INT_EQ(DO(&f, .type = RECORD_DECOMMISSION, .reason = DECOMMISSION_DISPENSED, .items = P("S3")),
		     OUTCOME_ACCEPTED);
	CHECK_INT_EQ(DO(&f, .type = RECORD_DECOMMISSION, .reason = DECOMMISSION_DESTROYED, .items = P("S4")),
		     OUTCOME_ACCEPTED);
	CHECK_INT_EQ(DO(&f, .type = RECORD_DECOMMISSION, .reason = DECOMMISSION_SAMPLE, .items = P("S5")),
		     OUTCOME_ACCEPTED);
	CHECK_INT_EQ(DO(&f, .type = RECORD_REVERT, .items = P("S5")), OUTCOME_ACCEPTED);
	CHECK_INT_EQ(DO(&f, .type = RECORD_DECOMMISSION, .key = KEY_B, .reason = DECOMMISSION_STOLEN,
			.items = P("B2")),
		     OUTCOME_ACCEPTED);

	CHECK_INT_EQ(fixture_counter(&f, LOT1, SITE_A, LOT_COUNTER_COMMISSIONED), 5);
	CHECK_INT_EQ(fixture_counter(&f, LOT1, SITE_A, LOT_COUNTER_ACTIVE), 1); /* S5 */
	CHECK_INT_EQ(fixture_counter(&f, LOT1, SITE_A, LOT_COUNTER_IN_TRANSIT), 1); /* S2, under its sender */
	CHECK_INT_EQ(fixture_counter(&f, LOT1, SITE_A, LOT_COUNTER_DECOMMISSIONED(DECOMMISSION_DISPENSED)), 1);
	CHECK_INT_EQ(fixture_counter(&f, LOT1, SITE_A, LOT_COUNTER_DECOMMISSIONED(DECOMMISSION_DESTROYED)), 1);
	CHECK_INT_EQ(fixture_counter(&f, LOT1, SITE_A, LOT_COUNTER_DECOMMISSIONED(DECOMMISSION_SAMPLE)), 0);
	CHECK_INT_EQ(fixture_counter(&f, LOT1, SITE_A, LOT_COUNTER_REVERTED), 1);
	CHECK_INT_EQ(fixture_counter(&f, LOT1, SITE_B, LOT_COUNTER_COMMISSIONED), 2);
	CHECK_INT_EQ(fixture_counter(&f, LOT1, SITE_B, LOT_COUNTER_ACTIVE), 2); /* B1, S1 */
	CHECK_INT_EQ(fixture_counter(&f, LOT1, SITE_B, LOT_COUNTER_DECOMMISSIONED(DECOMMISSION_STOLEN)), 1);
	CHECK_INT_EQ(fixture_counter(&f, LOT1, SITE_C, LOT_COUNTER_ACTIVE), 0);
	check_conservation(&f, LOT1, sites, 3);
	/* refused records change no counter */
	CHECK_INT_EQ(DO(&f, .type = RECORD_DECOMMISSION, .reason = DECOMMISSION_DESTROYED,
			.items = P("S5") " " P("S4")),
		     OUTCOME_DECOMMISSIONED);
	CHECK_INT_EQ(fixture_counter(&f, LOT1, SITE_A, LOT_COUNTER_ACTIVE), 1);
	check_conservation(&f, LOT1, sites, 3);
	fixture_close(&f);
}

static void test_names(void)
{
	CHECK_STR_EQ(lifecycle_status_name(ITEM_ACTIVE), "active");
	CHECK_STR_EQ(lifecycle_status_name(ITEM_IN_TRANSIT), "in_transit");
	CHECK_STR_EQ(lifecycle_status_name(ITEM_DECOMMISSIONED), "decommissioned");
	CHECK(lifecycle_status_name(0) == NULL);
	CHECK_STR_EQ(lifecycle_counter_name(LOT_COUNTER_ACTIVE), "active");
	CHECK_STR_EQ(lifecycle_counter_name(LOT_COUNTER_DECOMMISSIONED(DECOMMISSION_FREE_SAMPLE)), "free_sample");
	CHECK_STR_EQ(lifecycle_counter_name(LOT_COUNTER_DECOMMISSIONED(DECOMMISSION_CHECKED_OUT)), "checked_out");
	CHECK_STR_EQ(lifecycle_counter_name(LOT_COUNTER_COMMISSIONED), "commissioned");
	CHECK_STR_EQ(lifecycle_counter_name(LOT_COUNTER_REVERTED), "reverted");
	CHECK(lifecycle_counter_name(LOT_COUNTER_COUNT) == NULL);
	CHECK_INT_EQ(LOT_COUNTER_COUNT, 13);
	CHECK_STR_EQ(ledger_outcome_name(OUTCOME_SAME_SITE), "SAME_SITE");
}

static void test_item_locks_query(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	build_pallet(&f);
	CHECK_INT_EQ(DO(&f, .type = RECORD_LOCK, .scope = LOCK_SCOPE_SERIAL, .target = C3, .reason = LOCK_RECALL),
		     OUTCOME_ACCEPTED);
	CHECK_INT_EQ(DO(&f, .type = RECORD_LOCK, .scope = LOCK_SCOPE_LOT, .target = LOT1, .reason = LOCK_QUARANTINE),
		     OUTCOME_ACCEPTED);
	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, false, &txn) == 0);
	struct store_item item;
	uint8_t reasons = 0;
	CHECK(store_item_get(txn, P("S4"), &item) == 0);
	CHECK(lifecycle_item_locks(txn, P("S4"), &item, &reasons) == 0);
	CHECK_INT_EQ(reasons, LOCK_REASON_BIT(LOCK_RECALL) | LOCK_REASON_BIT(LOCK_QUARANTINE));
	CHECK(lifecycle_item_own_locks(txn, P("S4"), &item, &reasons) == 0);
	CHECK_INT_EQ(reasons, LOCK_REASON_BIT(LOCK_QUARANTINE));
	CHECK(store_item_get(txn, C2, &item) == 0);
	CHECK(lifecycle_item_locks(txn, C2, &item, &reasons) == 0);
	CHECK_INT_EQ(reasons, LOCK_REASON_BIT(LOCK_RECALL));
	store_txn_abort(txn);
	fixture_close(&f);
}

struct visit_log {
	char ids[16][GS1_ITEM_ID_SIZE];
	unsigned levels[16];
	size_t count;
};

static int log_visit(void *ctx, const char *item_id, struct store_item *item, unsigned level)
{
	struct visit_log *log = ctx;
	(void)item;
	if (log->count < 16) {
		snprintf(log->ids[log->count], GS1_ITEM_ID_SIZE, "%s", item_id);
		log->levels[log->count] = level;
	}
	log->count++;
	return 0;
}

static void test_hierarchy_walks(void)
{
	static const char *const order[] = { C3, C1, P("S1"), P("S2"), P("S3"), C2, P("S4"), P("S5"), P("S6") };
	static const unsigned levels[] = { 1, 2, 3, 3, 3, 2, 3, 3, 3 };
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	build_pallet(&f);
	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, false, &txn) == 0);
	struct visit_log log = { .count = 0 };
	CHECK_INT_EQ(hierarchy_walk(txn, C3, HIERARCHY_ITEMS_MAX, &log, log_visit), 0);
	CHECK_INT_EQ(log.count, 9);
	for (size_t i = 0; i < 9 && i < log.count; i++) {
		CHECK_STR_EQ(log.ids[i], order[i]);
		CHECK_INT_EQ(log.levels[i], levels[i]);
	}
	CHECK_INT_EQ(hierarchy_walk(txn, C3, 8, &log, log_visit), SL_ELIMIT);
	CHECK_INT_EQ(hierarchy_walk(txn, C9, 8, &log, log_visit), SL_ENOENT);
	struct hierarchy_size size;
	CHECK_INT_EQ(hierarchy_measure(txn, C1, HIERARCHY_ITEMS_MAX, &size), 0);
	CHECK_INT_EQ(size.items, 4);
	CHECK_INT_EQ(size.levels, 2);
	struct store_item item;
	char ancestors[HIERARCHY_DEPTH_MAX][STORE_ITEM_ID_SIZE];
	size_t count = 0;
	REQUIRE(store_item_get(txn, P("S5"), &item) == 0);
	CHECK_INT_EQ(hierarchy_ancestors(txn, &item, ancestors, &count), 0);
	CHECK_INT_EQ(count, 2);
	CHECK_STR_EQ(ancestors[0], C2);
	CHECK_STR_EQ(ancestors[1], C3);
	store_txn_abort(txn);
	fixture_close(&f);
}

/* A container of more than HIERARCHY_ITEMS_MAX items is refused (LIMIT_EXCEEDED). */
#define BIG_CASES 100
#define BIG_PACKS_PER_CASE 1000

static void sscc_item(unsigned n, char out[GS1_ITEM_ID_SIZE])
{
	char body[18];
	snprintf(body, sizeof body, "20614141%09u", n);
	snprintf(out, GS1_ITEM_ID_SIZE, "(00)%s%d", body, gs1_check_digit(body, 17));
}

static char big_text[RECORD_ITEMS_MAX * (GS1_ITEM_ID_SIZE + 1)];

static int big_case(struct fixture *f, unsigned c)
{
	char sscc[GS1_ITEM_ID_SIZE];
	int rc;
	size_t at = 0;
	for (unsigned i = 0; i < BIG_PACKS_PER_CASE; i++)
		at += (size_t)snprintf(big_text + at, sizeof big_text - at, "%sN%03u-%03u", i ? " " : "", c, i);
	if ((rc = DO(f, .type = RECORD_COMMISSION, .items = big_text)) != OUTCOME_ACCEPTED)
		return rc;
	sscc_item(c, sscc);
	if ((rc = DO(f, .type = RECORD_COMMISSION_CONTAINER, .items = sscc)) != OUTCOME_ACCEPTED)
		return rc;
	at = 0;
	for (unsigned i = 0; i < BIG_PACKS_PER_CASE; i++)
		at += (size_t)snprintf(big_text + at, sizeof big_text - at, "%s" "(01)" GTIN "(21)N%03u-%03u",
				       i ? " " : "", c, i);
	return DO(f, .type = RECORD_AGGREGATE, .parent = sscc, .items = big_text);
}

static void test_items_limit(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	char pallet[GS1_ITEM_ID_SIZE], sscc[GS1_ITEM_ID_SIZE];
	sscc_item(999, pallet);
	CHECK_INT_EQ(DO(&f, .type = RECORD_COMMISSION_CONTAINER, .items = pallet), OUTCOME_ACCEPTED);
	/* 1 pallet + 99 cases of 1001 items = 99,100; the 100th case makes 100,101 > 100,000 */
	static char list[BIG_CASES * GS1_ITEM_ID_SIZE];
	size_t at = 0;
	for (unsigned c = 0; c < BIG_CASES; c++) {
		REQUIRE(big_case(&f, c) == OUTCOME_ACCEPTED);
		sscc_item(c, sscc);
		if (c < BIG_CASES - 1)
			at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", c ? " " : "", sscc);
	}
	sscc_item(BIG_CASES - 1, sscc);
	struct ledger_result result;
	CHECK_INT_EQ(fixture_do(&f, &(struct spec){ .type = RECORD_AGGREGATE, .parent = pallet, .items = list }, &result),
		     OUTCOME_ACCEPTED);
	CHECK_INT_EQ(fixture_do(&f, &(struct spec){ .type = RECORD_AGGREGATE, .parent = pallet, .items = sscc }, &result),
		     OUTCOME_LIMIT_EXCEEDED);
	CHECK_INT_EQ(result.item, 0);
	/* the big pallet still moves as one */
	CHECK_INT_EQ(DO(&f, .type = RECORD_SHIP, .to = SITE_B, .items = pallet), OUTCOME_ACCEPTED);
	CHECK_INT_EQ(fixture_counter(&f, LOT1, SITE_A, LOT_COUNTER_IN_TRANSIT), 99000);
	CHECK_INT_EQ(fixture_counter(&f, LOT1, SITE_A, LOT_COUNTER_ACTIVE), 1000);
	fixture_close(&f);
}

static const struct test_case cases[] = {
	TEST_CASE(test_record_is_all_or_nothing),
	TEST_CASE(test_containers_carry_their_contents),
	TEST_CASE(test_dispensing_from_an_opened_case),
	TEST_CASE(test_counters_after_a_sequence),
	TEST_CASE(test_names),
	TEST_CASE(test_item_locks_query),
	TEST_CASE(test_hierarchy_walks),
	TEST_CASE(test_items_limit),
};

TEST_MAIN(cases)
