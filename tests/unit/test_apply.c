/* tests/unit/test_apply.c — the batch pipeline of ledger/apply.c: entries and their outcomes,
 * duplicates within and across batches, the ids table and history decisions, ledger time,
 * determinism across stores and thread counts, argument errors, the site registry.
 * (The rules are in test_apply_rules.c and test_apply_state.c.)
 */
#include "tests/unit/apply_fixture.h"

static int build(struct fixture *f, const struct spec *s, struct sl_buf *out)
{
	return fixture_build(f, s, NULL, out);
}

#define SPEC(...) (&(struct spec){ __VA_ARGS__ })

static void free_all(struct sl_buf *recs, size_t count)
{
	for (size_t i = 0; i < count; i++)
		sl_buf_free(&recs[i]);
}

static void test_duplicates_within_a_batch(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	struct sl_buf recs[4];
	REQUIRE(build(&f, SPEC(.type = RECORD_COMMISSION, .items = "S1"), &recs[0]) == 0);
	REQUIRE(build(&f, SPEC(.type = RECORD_COMMISSION, .items = "S1"), &recs[2]) == 0); /* new nonce */
	sl_buf_init(&recs[1], RECORD_BYTES_MAX);
	sl_buf_init(&recs[3], RECORD_BYTES_MAX);
	REQUIRE(sl_buf_append(&recs[1], recs[0].data, recs[0].len) == 0);
	REQUIRE(sl_buf_append(&recs[3], recs[2].data, recs[2].len) == 0);
	struct ledger_result results[4];
	REQUIRE(fixture_apply(&f, recs, 4, results) == 0);
	CHECK_INT_EQ(results[0].outcome, OUTCOME_ACCEPTED);
	CHECK_INT_EQ(results[1].outcome, OUTCOME_DUPLICATE_RECORD);
	CHECK_INT_EQ(results[2].outcome, OUTCOME_DUPLICATE_COMMISSION); /* sees record 0's effect */
	CHECK_INT_EQ(results[2].item, 0);
	CHECK_INT_EQ(results[3].outcome, OUTCOME_DUPLICATE_RECORD);	/* a refused record is known too */
	for (size_t i = 0; i < 4; i++)
		CHECK_INT_EQ(results[i].seq, i + 1);
	CHECK(memcmp(results[0].record_id, results[1].record_id, 32) == 0);
	CHECK(memcmp(results[0].record_id, results[2].record_id, 32) != 0);
	CHECK_INT_EQ(fixture_ledger_count(&f), 4);
	free_all(recs, 4);
	fixture_close(&f);
}

static void test_every_record_is_appended_with_its_outcome(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	struct sl_buf recs[4];
	REQUIRE(build(&f, SPEC(.type = RECORD_COMMISSION, .items = "S1 S2"), &recs[0]) == 0);
	REQUIRE(build(&f, SPEC(.raw = "\x93\x01\x02"), &recs[1]) == 0);
	REQUIRE(build(&f, SPEC(.type = RECORD_COMMISSION, .items = "S3 S2"), &recs[2]) == 0);
	REQUIRE(build(&f, SPEC(.type = RECORD_COMMISSION, .items = "S4", .bad_signature = true), &recs[3]) == 0);
	struct ledger_result results[4];
	uint64_t time_ms = f.now_ms;
	REQUIRE(fixture_apply(&f, recs, 4, results) == 0);
	static const int outcomes[4] = { OUTCOME_ACCEPTED, OUTCOME_MALFORMED_RECORD, OUTCOME_DUPLICATE_COMMISSION,
					 OUTCOME_BAD_SIGNATURE };
	static const int items[4] = { -1, -1, 1, -1 };
	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, false, &txn) == 0);
	for (size_t i = 0; i < 4; i++) {
		const uint8_t *bytes;
		size_t len;
		struct ledger_entry entry;
		CHECK_INT_EQ(results[i].outcome, outcomes[i]);
		CHECK_INT_EQ(results[i].item, items[i]);
		REQUIRE(store_ledger_get(txn, i + 1, &bytes, &len) == 0);
		REQUIRE(entry_decode(bytes, len, &entry, NULL) == 0);
		CHECK_INT_EQ(entry.seq, i + 1);
		CHECK_INT_EQ(entry.ledger_time_ms, time_ms);
		CHECK_INT_EQ(entry.outcome, outcomes[i]);
		CHECK_INT_EQ(entry.has_item, items[i] >= 0);
		if (items[i] >= 0)
			CHECK_INT_EQ(entry.item, items[i]);
		CHECK(entry.record_len == recs[i].len && memcmp(entry.record, recs[i].data, recs[i].len) == 0);
	}
	store_txn_abort(txn);
	static const uint8_t zero[32];
	CHECK(memcmp(results[1].record_id, zero, 32) == 0);
	free_all(recs, 4);
	fixture_close(&f);
}

static void test_oversize_input_is_malformed_and_stored_empty(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	size_t len = RECORD_BYTES_MAX + 1;
	uint8_t *big = calloc(1, len);
	REQUIRE(big != NULL);
	struct ledger_input input = { big, len };
	struct ledger_result result;
	REQUIRE(ledger_apply_batch(f.st, &input, 1, f.now_ms, &result, 1) == 0);
	CHECK_INT_EQ(result.outcome, OUTCOME_MALFORMED_RECORD);
	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, false, &txn) == 0);
	const uint8_t *bytes;
	size_t entry_len;
	struct ledger_entry entry;
	REQUIRE(store_ledger_get(txn, 1, &bytes, &entry_len) == 0);
	REQUIRE(entry_decode(bytes, entry_len, &entry, NULL) == 0);
	CHECK_INT_EQ(entry.record_len, 0);
	store_txn_abort(txn);
	free(big);
	fixture_close(&f);
}

/* A forged copy (bad signature) must not block the genuine record: the id excludes the signature. */
static void test_bad_signature_does_not_claim_the_record_id(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	struct sl_buf recs[2];
	REQUIRE(build(&f, SPEC(.type = RECORD_COMMISSION, .items = "S1"), &recs[1]) == 0);
	sl_buf_init(&recs[0], RECORD_BYTES_MAX);
	REQUIRE(sl_buf_append(&recs[0], recs[1].data, recs[1].len) == 0);
	recs[0].data[recs[0].len - 1] ^= 0x01; /* the signature is the last field */
	struct ledger_result results[2];
	REQUIRE(fixture_apply(&f, recs, 2, results) == 0);
	CHECK_INT_EQ(results[0].outcome, OUTCOME_BAD_SIGNATURE);
	CHECK_INT_EQ(results[1].outcome, OUTCOME_ACCEPTED);
	CHECK(memcmp(results[0].record_id, results[1].record_id, 32) == 0);

	/* the decoded record's id is what record_id() computes */
	struct record r;
	REQUIRE(record_decode(recs[1].data, recs[1].len, &r, NULL) == 0);
	uint8_t id[32];
	CHECK(record_id(&r, id) == 0 && memcmp(id, results[1].record_id, 32) == 0);
	CHECK(record_verify(&r, &f.pk[KEY_A]) == 0);
	record_clear(&r);
	free_all(recs, 2);
	fixture_close(&f);
}

/* History: accepted and refused authentic records; not forgeries, not duplicates. */
static void test_history_shows_what_was_refused(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	struct ledger_result r1, r2, r3, r4, r5;
	CHECK_INT_EQ(fixture_do(&f, SPEC(.type = RECORD_COMMISSION, .items = "S1"), &r1), OUTCOME_ACCEPTED);
	CHECK_INT_EQ(fixture_do(&f,
				SPEC(.type = RECORD_DECOMMISSION, .key = KEY_STRANGER,
				     .reason = DECOMMISSION_DESTROYED, .items = P("S1")),
				&r2),
		     OUTCOME_UNKNOWN_KEY);
	CHECK_INT_EQ(fixture_do(&f, SPEC(.type = RECORD_SHIP, .to = SITE_X, .items = P("S1")), &r3),
		     OUTCOME_UNKNOWN_SITE);
	CHECK_INT_EQ(fixture_do(&f, SPEC(.type = RECORD_SHIP, .to = SITE_B, .items = P("S1"), .bad_signature = true),
				&r4),
		     OUTCOME_BAD_SIGNATURE);
	CHECK_INT_EQ(fixture_do(&f, SPEC(.type = RECORD_LOCK, .key = KEY_C, .scope = LOCK_SCOPE_SERIAL,
					 .target = P("S1"), .reason = LOCK_RECALL),
				&r5),
		     OUTCOME_ACCEPTED);
	struct history_list list;
	CHECK_INT_EQ(fixture_history(&f, P("S1"), &list), 3);
	CHECK(fixture_history_has(&f, P("S1"), r1.seq));
	CHECK(fixture_history_has(&f, P("S1"), r3.seq));
	CHECK(fixture_history_has(&f, P("S1"), r5.seq));
	CHECK(!fixture_history_has(&f, P("S1"), r2.seq));
	CHECK(!fixture_history_has(&f, P("S1"), r4.seq));
	fixture_close(&f);
}

static void test_ledger_time_comes_from_the_batch(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	struct sl_buf rec;
	REQUIRE(build(&f, SPEC(.type = RECORD_COMMISSION, .items = "S1"), &rec) == 0);
	struct ledger_input input = { rec.data, rec.len };
	struct ledger_result result;
	uint64_t batch_ms = f.now_ms + 123456789;
	REQUIRE(ledger_apply_batch(f.st, &input, 1, batch_ms, &result, 1) == 0);
	CHECK_INT_EQ(result.outcome, OUTCOME_ACCEPTED);
	struct store_item item;
	REQUIRE(fixture_item(&f, P("S1"), &item) == 0);
	CHECK_INT_EQ(item.status_time_ms, batch_ms); /* not the record's event time, not the clock */
	CHECK_INT_EQ(item.commission_seq, 1);
	CHECK_STR_EQ(item.site, SITE_A);
	CHECK_STR_EQ(item.lot, "L1");
	CHECK_STR_EQ(item.expiry, "271231");
	CHECK_STR_EQ(item.gtin, GTIN);
	sl_buf_free(&rec);
	fixture_close(&f);
}

/* A mixed workload, as batches of specs (index into batch_specs, batch sizes below). */
static const struct spec determinism_specs[] = {
	{ .type = RECORD_COMMISSION, .items = "S1 S2 S3 S4 S5 S6" },
	{ .type = RECORD_COMMISSION_CONTAINER, .items = C1 " " C2 },
	{ .type = RECORD_AGGREGATE, .parent = C1, .items = P("S1") " " P("S2") },
	{ .type = RECORD_AGGREGATE, .parent = C2, .items = C1 " " P("S3") },
	{ .type = RECORD_COMMISSION, .items = "S1" },
	{ .type = RECORD_SHIP, .to = SITE_B, .items = C2 },
	{ .type = RECORD_COMMISSION, .key = KEY_STRANGER, .items = "S9" },
	{ .type = RECORD_RECEIVE, .key = KEY_B, .items = C2 },
	{ .type = RECORD_DECOMMISSION, .key = KEY_B, .reason = DECOMMISSION_DISPENSED, .items = P("S1") },
	{ .raw = "garbage" },
	{ .type = RECORD_LOCK, .scope = LOCK_SCOPE_LOT, .target = LOT_KEY("L1"), .reason = LOCK_QUARANTINE },
	{ .type = RECORD_SHIP, .to = SITE_C, .items = P("S4"), .bad_signature = true },
	{ .type = RECORD_SHIP, .to = SITE_C, .items = P("S4") },
	{ .type = RECORD_REVERT, .key = KEY_B, .items = P("S1") },
	{ .type = RECORD_DECOMMISSION, .key = KEY_B, .reason = DECOMMISSION_DESTROYED, .items = C2 },
};
#define DETERMINISM_RECORDS (sizeof determinism_specs / sizeof determinism_specs[0])
static const size_t determinism_batches[] = { 2, 3, 1, 4, 5 };

static int compare_ledgers(struct fixture *a, struct fixture *b)
{
	store_txn *ta, *tb;
	uint64_t count_a = 0, count_b = 0;
	int differences = 0;
	if (store_txn_begin(a->st, false, &ta) != 0)
		return -1;
	if (store_txn_begin(b->st, false, &tb) != 0) {
		store_txn_abort(ta);
		return -1;
	}
	if (store_ledger_count(ta, &count_a) != 0 || store_ledger_count(tb, &count_b) != 0 || count_a != count_b)
		differences++;
	for (uint64_t seq = 1; differences == 0 && seq <= count_a; seq++) {
		const uint8_t *ea, *eb;
		size_t la, lb;
		if (store_ledger_get(ta, seq, &ea, &la) != 0 || store_ledger_get(tb, seq, &eb, &lb) != 0 || la != lb ||
		    memcmp(ea, eb, la) != 0)
			differences++;
	}
	store_txn_abort(ta);
	store_txn_abort(tb);
	return differences;
}

static void test_determinism_across_stores_and_threads(void)
{
	struct fixture a, b;
	REQUIRE(fixture_open(&a) == 0);
	REQUIRE(fixture_open_twin(&b, &a) == 0);
	struct sl_buf recs[DETERMINISM_RECORDS];
	for (size_t i = 0; i < DETERMINISM_RECORDS; i++)
		REQUIRE(build(&a, &determinism_specs[i], &recs[i]) == 0);
	size_t at = 0;
	for (size_t n = 0; n < sizeof determinism_batches / sizeof determinism_batches[0]; n++) {
		size_t size = determinism_batches[n];
		struct ledger_input inputs[8];
		struct ledger_result ra[8], rb[8];
		for (size_t i = 0; i < size; i++)
			inputs[i] = (struct ledger_input){ recs[at + i].data, recs[at + i].len };
		uint64_t time_ms = FIXTURE_T0_MS + n * 60000;
		REQUIRE(ledger_apply_batch(a.st, inputs, size, time_ms, ra, 1) == 0);
		REQUIRE(ledger_apply_batch(b.st, inputs, size, time_ms, rb, 4) == 0);
		for (size_t i = 0; i < size; i++) {
			CHECK_INT_EQ(ra[i].outcome, rb[i].outcome);
			CHECK_INT_EQ(ra[i].item, rb[i].item);
			CHECK_INT_EQ(ra[i].seq, rb[i].seq);
		}
		at += size;
	}
	REQUIRE(at == DETERMINISM_RECORDS);
	CHECK_INT_EQ(compare_ledgers(&a, &b), 0);
	CHECK_INT_EQ(fixture_ledger_count(&a), DETERMINISM_RECORDS);
	/* and the workload did what it says */
	CHECK_INT_EQ(fixture_status(&a, P("S1")), ITEM_ACTIVE);
	CHECK_INT_EQ(fixture_status(&a, P("S2")), ITEM_DECOMMISSIONED);
	CHECK_INT_EQ(fixture_status(&a, P("S4")), ITEM_ACTIVE); /* its lot was quarantined first */
	free_all(recs, DETERMINISM_RECORDS);
	fixture_close(&b);
	fixture_close(&a);
}

/* Many signatures, some bad, verified on several threads: same outcomes as one thread. */
static void test_parallel_verification(void)
{
	enum { N = 48 };
	struct fixture a, b;
	REQUIRE(fixture_open(&a) == 0);
	REQUIRE(fixture_open_twin(&b, &a) == 0);
	struct sl_buf recs[N];
	struct ledger_input inputs[N];
	for (size_t i = 0; i < N; i++) {
		char serial[16];
		snprintf(serial, sizeof serial, "M%zu", i);
		REQUIRE(build(&a, SPEC(.type = RECORD_COMMISSION, .items = serial, .bad_signature = i % 3 == 1,
				      .key = i % 5 == 4 ? KEY_B : KEY_A),
			      &recs[i]) == 0);
		inputs[i] = (struct ledger_input){ recs[i].data, recs[i].len };
	}
	struct ledger_result ra[N], rb[N];
	REQUIRE(ledger_apply_batch(a.st, inputs, N, FIXTURE_T0_MS, ra, 1) == 0);
	REQUIRE(ledger_apply_batch(b.st, inputs, N, FIXTURE_T0_MS, rb, 8) == 0);
	for (size_t i = 0; i < N; i++) {
		CHECK_INT_EQ(ra[i].outcome, i % 3 == 1 ? OUTCOME_BAD_SIGNATURE : OUTCOME_ACCEPTED);
		CHECK_INT_EQ(rb[i].outcome, ra[i].outcome);
	}
	CHECK_INT_EQ(compare_ledgers(&a, &b), 0);
	free_all(recs, N);
	fixture_close(&b);
	fixture_close(&a);
}

static void test_arguments(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	struct ledger_input input = { (const uint8_t *)"x", 1 };
	struct ledger_result result;
	CHECK_INT_EQ(ledger_apply_batch(NULL, &input, 1, 0, &result, 0), SL_EINVAL);
	CHECK_INT_EQ(ledger_apply_batch(f.st, NULL, 1, 0, &result, 0), SL_EINVAL);
	CHECK_INT_EQ(ledger_apply_batch(f.st, &input, 1, 0, NULL, 0), SL_EINVAL);
	CHECK_INT_EQ(ledger_apply_batch(f.st, &input, APPLY_BATCH_RECORDS_MAX + 1, 0, &result, 0), SL_ELIMIT);
	CHECK_INT_EQ(ledger_apply_batch(f.st, &input, 0, 0, &result, 0), 0);
	struct ledger_input empty = { NULL, 0 };
	CHECK_INT_EQ(ledger_apply_batch(f.st, &empty, 1, 0, &result, 0), 0);
	CHECK_INT_EQ(result.outcome, OUTCOME_MALFORMED_RECORD);
	CHECK_INT_EQ(fixture_ledger_count(&f), 1);
	fixture_close(&f);
}

static void test_registry(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, true, &txn) == 0);
	CHECK_INT_EQ(ledger_registry_add_site(txn, "Bad Site", &f.pk[KEY_STRANGER]), SL_EINVAL);
	CHECK_INT_EQ(ledger_registry_add_site(txn, "", &f.pk[KEY_STRANGER]), SL_EINVAL);
	CHECK_INT_EQ(ledger_registry_add_site(txn, SITE_B, &f.pk[KEY_A]), SL_EEXIST); /* A's key */
	CHECK_INT_EQ(ledger_registry_add_site(txn, SITE_A, &f.pk[KEY_A]), 0);	      /* idempotent */
	CHECK_INT_EQ(ledger_registry_add_site(txn, "site-e", &f.pk[KEY_STRANGER]), 0);
	struct store_site site;
	struct store_key key;
	struct crypto_key_id id;
	crypto_key_id_of(&f.pk[KEY_STRANGER], &id);
	REQUIRE(store_site_get(txn, "site-e", &site) == 0);
	CHECK_INT_EQ(site.active, 1);
	CHECK(memcmp(site.key_id, id.bytes, 16) == 0);
	CHECK(memcmp(site.public_key, f.pk[KEY_STRANGER].bytes, 32) == 0);
	REQUIRE(store_key_get(txn, id.bytes, &key) == 0);
	CHECK_STR_EQ(key.site, "site-e");
	CHECK_INT_EQ(key.revoked, 0);
	REQUIRE(store_txn_commit(txn) == 0);
	/* the stranger's key now signs for site-e only */
	CHECK_INT_EQ(fixture_do(&f, SPEC(.type = RECORD_COMMISSION, .key = KEY_STRANGER, .items = "E1"), NULL),
		     OUTCOME_SITE_MISMATCH);
	CHECK_INT_EQ(fixture_do(&f, SPEC(.type = RECORD_COMMISSION, .key = KEY_STRANGER, .site = "site-e",
					 .items = "E1"),
				NULL),
		     OUTCOME_ACCEPTED);
	fixture_close(&f);
}

/* Inside the caller's transaction: nothing is visible until the caller commits. */
static void test_apply_inside_a_caller_transaction(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	struct sl_buf rec;
	REQUIRE(build(&f, SPEC(.type = RECORD_COMMISSION, .items = "S1"), &rec) == 0);
	struct ledger_input input = { rec.data, rec.len };
	struct ledger_result result;
	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, true, &txn) == 0);
	CHECK_INT_EQ(ledger_apply_batch_txn(txn, &input, 1, f.now_ms, &result, 2), 0);
	CHECK_INT_EQ(result.outcome, OUTCOME_ACCEPTED);
	store_txn_abort(txn);
	CHECK_INT_EQ(fixture_ledger_count(&f), 0);
	CHECK_INT_EQ(fixture_status(&f, P("S1")), 0);

	REQUIRE(store_txn_begin(f.st, true, &txn) == 0);
	CHECK_INT_EQ(ledger_apply_batch_txn(txn, &input, 1, f.now_ms, &result, 2), 0);
	CHECK_INT_EQ(ledger_apply_batch_txn(txn, &input, 1, f.now_ms, &result, 2), 0);
	CHECK_INT_EQ(result.outcome, OUTCOME_DUPLICATE_RECORD);
	CHECK_INT_EQ(result.seq, 2);
	REQUIRE(store_txn_commit(txn) == 0);
	CHECK_INT_EQ(fixture_ledger_count(&f), 2);
	CHECK_INT_EQ(fixture_status(&f, P("S1")), ITEM_ACTIVE);
	CHECK_INT_EQ(ledger_apply_batch_txn(NULL, &input, 1, 0, &result, 0), SL_EINVAL);
	sl_buf_free(&rec);
	fixture_close(&f);
}

/* ledger_prepare + ledger_apply_prepared give what ledger_apply_batch gives. */
static void test_prepared_halves_match_one_call(void)
{
	struct fixture f, twin;
	REQUIRE(fixture_open(&f) == 0);
	REQUIRE(fixture_open_twin(&twin, &f) == 0);
	struct sl_buf recs[3];
	REQUIRE(build(&f, SPEC(.type = RECORD_COMMISSION, .items = "S1 S2"), &recs[0]) == 0);
	REQUIRE(build(&f, SPEC(.type = RECORD_COMMISSION, .items = "S2"), &recs[1]) == 0);
	REQUIRE(build(&f, SPEC(.type = RECORD_COMMISSION, .items = "S3", .bad_signature = true), &recs[2]) == 0);
	struct ledger_input inputs[3];
	for (int i = 0; i < 3; i++)
		inputs[i] = (struct ledger_input){ recs[i].data, recs[i].len };
	struct ledger_result halves[3], whole[3];
	ledger_prepared *prepared = NULL;
	REQUIRE(ledger_prepare(f.st, inputs, 3, 2, &prepared) == 0);
	CHECK_INT_EQ(ledger_apply_prepared(f.st, prepared, f.now_ms, halves), 0);
	ledger_prepared_free(prepared);
	CHECK_INT_EQ(ledger_apply_batch(twin.st, inputs, 3, f.now_ms, whole, 2), 0);
	CHECK_INT_EQ(halves[0].outcome, OUTCOME_ACCEPTED);
	CHECK_INT_EQ(halves[1].outcome, OUTCOME_DUPLICATE_COMMISSION);
	CHECK_INT_EQ(halves[2].outcome, OUTCOME_BAD_SIGNATURE);
	for (int i = 0; i < 3; i++) {
		CHECK_INT_EQ(halves[i].outcome, whole[i].outcome);
		CHECK_INT_EQ(halves[i].seq, whole[i].seq);
		CHECK(memcmp(halves[i].record_id, whole[i].record_id, RECORD_ID_BYTES) == 0);
	}
	CHECK_INT_EQ(ledger_prepare(NULL, inputs, 3, 0, &prepared), SL_EINVAL);
	CHECK(prepared == NULL);
	CHECK_INT_EQ(ledger_apply_prepared(f.st, NULL, 0, halves), SL_EINVAL);
	for (int i = 0; i < 3; i++)
		sl_buf_free(&recs[i]);
	fixture_close(&twin);
	fixture_close(&f);
}

/* The write transaction decides: a key registered, or revoked, between prepare and apply is
 * honoured as the write transaction sees it (apply.c decision 3). */
static void test_registry_change_between_prepare_and_apply(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	struct sl_buf stranger, normal;
	REQUIRE(build(&f, SPEC(.type = RECORD_COMMISSION, .key = KEY_STRANGER, .items = "T1"), &stranger) == 0);
	REQUIRE(build(&f, SPEC(.type = RECORD_COMMISSION, .key = KEY_A, .items = "T2"), &normal) == 0);
	struct ledger_input inputs[2] = { { stranger.data, stranger.len }, { normal.data, normal.len } };
	ledger_prepared *prepared = NULL;
	REQUIRE(ledger_prepare(f.st, inputs, 2, 0, &prepared) == 0);
	/* now register the stranger's key for site A and revoke KEY_A */
	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, true, &txn) == 0);
	CHECK_INT_EQ(ledger_registry_add_site(txn, SITE_A, &f.pk[KEY_STRANGER]), 0);
	struct crypto_key_id id;
	struct store_key key;
	crypto_key_id_of(&f.pk[KEY_A], &id);
	CHECK_INT_EQ(store_key_get(txn, id.bytes, &key), 0);
	key.revoked = 1;
	CHECK_INT_EQ(store_key_put(txn, id.bytes, &key), 0);
	REQUIRE(store_txn_commit(txn) == 0);
	struct ledger_result results[2];
	CHECK_INT_EQ(ledger_apply_prepared(f.st, prepared, f.now_ms, results), 0);
	ledger_prepared_free(prepared);
	CHECK_INT_EQ(results[0].outcome, OUTCOME_ACCEPTED);
	CHECK_INT_EQ(results[1].outcome, OUTCOME_UNKNOWN_KEY);
	sl_buf_free(&stranger);
	sl_buf_free(&normal);
	fixture_close(&f);
}

/* Seeded mutations of valid records (bit flips, byte sets, truncations) never crash apply and
 * always get a known outcome; the ledger keeps one entry per input. */
static void test_mutated_records_are_refused_cleanly(void)
{
	enum { ROUNDS = 40, PER_BATCH = 8 };
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	struct sl_buf seeds[DETERMINISM_RECORDS];
	for (size_t i = 0; i < DETERMINISM_RECORDS; i++)
		REQUIRE(build(&f, &determinism_specs[i], &seeds[i]) == 0);
	uint64_t rng = 0x9e3779b97f4a7c15ULL;
	uint8_t *copies[PER_BATCH];
	for (size_t round = 0; round < ROUNDS; round++) {
		struct ledger_input inputs[PER_BATCH];
		struct ledger_result results[PER_BATCH];
		for (size_t i = 0; i < PER_BATCH; i++) {
			rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
			const struct sl_buf *seed = &seeds[(rng >> 33) % DETERMINISM_RECORDS];
			copies[i] = malloc(seed->len);
			REQUIRE(copies[i] != NULL);
			memcpy(copies[i], seed->data, seed->len);
			size_t len = seed->len, at = (size_t)(rng >> 17) % len;
			switch ((rng >> 8) % 4) {
			case 0:
				copies[i][at] ^= (uint8_t)(1u << ((rng >> 4) % 8));
				break;
			case 1:
				copies[i][at] = (uint8_t)(rng >> 40);
				break;
			case 2:
				len = at;
				break;
			default:
				break; /* unchanged: applied again, a duplicate or a rule outcome */
			}
			inputs[i] = (struct ledger_input){ copies[i], len };
		}
		REQUIRE(ledger_apply_batch(f.st, inputs, PER_BATCH, f.now_ms, results, 2) == 0);
		for (size_t i = 0; i < PER_BATCH; i++) {
			CHECK(ledger_outcome_name(results[i].outcome) != NULL);
			CHECK_INT_EQ(results[i].seq, round * PER_BATCH + i + 1);
			free(copies[i]);
		}
		f.now_ms += DAY_MS;
	}
	CHECK_INT_EQ(fixture_ledger_count(&f), ROUNDS * PER_BATCH);
	free_all(seeds, DETERMINISM_RECORDS);
	fixture_close(&f);
}

static const struct test_case cases[] = {
	TEST_CASE(test_duplicates_within_a_batch),
	TEST_CASE(test_every_record_is_appended_with_its_outcome),
	TEST_CASE(test_oversize_input_is_malformed_and_stored_empty),
	TEST_CASE(test_bad_signature_does_not_claim_the_record_id),
	TEST_CASE(test_history_shows_what_was_refused),
	TEST_CASE(test_ledger_time_comes_from_the_batch),
	TEST_CASE(test_determinism_across_stores_and_threads),
	TEST_CASE(test_parallel_verification),
	TEST_CASE(test_arguments),
	TEST_CASE(test_registry),
	TEST_CASE(test_apply_inside_a_caller_transaction),
	TEST_CASE(test_mutated_records_are_refused_cleanly),
	TEST_CASE(test_prepared_halves_match_one_call),
	TEST_CASE(test_registry_change_between_prepare_and_apply),
};

TEST_MAIN(cases)
