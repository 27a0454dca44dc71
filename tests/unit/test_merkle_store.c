/* tests/unit/test_merkle_store.c — the Merkle tree kept by the store (store/merkle_store.h) and
 * built by apply: root after N entries equals the in-memory frontier root over the same entry bytes,
 * proofs from the store verify, the tree survives a reopen, and misuse is refused. */
#include "tests/unit/apply_fixture.h"

#include "crypto/merkle.h"
#include "store/merkle_store.h"

#define TREE_RECORDS 37 /* odd, not a power of two: several partial subtrees */

static int leaf_collect(void *ctx, uint64_t seq, const uint8_t *entry, size_t len)
{
	uint8_t *leaves = ctx;
	merkle_leaf_hash(entry, len, leaves + (seq - 1) * MERKLE_HASH_BYTES);
	return 0;
}

/* Close and reopen the store: the tree must be read back from disk. */
static int fixture_reopen_check(struct fixture *f)
{
	store_close(f->st);
	f->st = NULL;
	struct store_options options = { .no_sync = true };
	return store_open(&f->st, f->dir, &options);
}

/* Apply TREE_RECORDS single-record batches (a mix of accepted and rejected). */
static void fill(struct fixture *f)
{
	char serial[16];
	for (int i = 0; i < TREE_RECORDS; i++) {
		snprintf(serial, sizeof serial, "S%d", i % 30); /* repeats: DUPLICATE_COMMISSION */
		struct spec s = { .type = RECORD_COMMISSION, .items = serial };
		CHECK(fixture_do(f, &s, NULL) >= 0);
	}
}

static void test_root_matches_frontier(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	fill(&f);
	uint8_t leaves[TREE_RECORDS * MERKLE_HASH_BYTES];
	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, false, &txn) == 0);
	uint64_t count = 0, size = 0;
	CHECK_INT_EQ(store_ledger_count(txn, &count), 0);
	CHECK_INT_EQ(store_merkle_size(txn, &size), 0);
	CHECK(count == TREE_RECORDS);
	CHECK(size == count);
	CHECK_INT_EQ(store_ledger_iterate(txn, 1, 0, leaf_collect, leaves), 0);
	struct merkle_frontier frontier;
	merkle_frontier_init(&frontier);
	for (uint64_t n = 1; n <= TREE_RECORDS; n++) {
		uint8_t want[MERKLE_HASH_BYTES], got[MERKLE_HASH_BYTES];
		CHECK_INT_EQ(merkle_frontier_append(&frontier, leaves + (n - 1) * MERKLE_HASH_BYTES, NULL, NULL), 0);
		merkle_frontier_root(&frontier, want);
		CHECK_INT_EQ(store_merkle_root(txn, n, got), 0);
		CHECK(memcmp(want, got, MERKLE_HASH_BYTES) == 0);
	}
	uint8_t root[MERKLE_HASH_BYTES];
	CHECK_INT_EQ(store_merkle_root(txn, TREE_RECORDS + 1, root), SL_EINVAL);
	struct merkle_frontier loaded;
	CHECK_INT_EQ(merkle_frontier_load(&loaded, size, store_merkle_node_get, txn), 0);
	uint8_t a[MERKLE_HASH_BYTES], b[MERKLE_HASH_BYTES];
	merkle_frontier_root(&loaded, a);
	merkle_frontier_root(&frontier, b);
	CHECK(memcmp(a, b, sizeof a) == 0);
	store_txn_abort(txn);
	fixture_close(&f);
}

static void test_proofs_from_store_verify(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	fill(&f);
	REQUIRE(fixture_reopen_check(&f) == 0);
	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, false, &txn) == 0);
	uint8_t proof[MERKLE_PROOF_BYTES_MAX], root[MERKLE_HASH_BYTES], leaf[MERKLE_HASH_BYTES];
	size_t count = 0;
	for (uint64_t size = 1; size <= TREE_RECORDS; size += 5) {
		CHECK_INT_EQ(store_merkle_root(txn, size, root), 0);
		for (uint64_t i = 0; i < size; i++) {
			CHECK_INT_EQ(store_merkle_node_get(txn, 0, i, leaf), 0);
			CHECK_INT_EQ(merkle_inclusion_proof(size, i, store_merkle_node_get, txn, proof, &count), 0);
			CHECK_INT_EQ(merkle_verify_inclusion(leaf, i, size, proof, count, root), 0);
			leaf[0] ^= 1;
			CHECK_INT_EQ(merkle_verify_inclusion(leaf, i, size, proof, count, root), SL_EPROOF);
		}
		uint8_t root2[MERKLE_HASH_BYTES];
		CHECK_INT_EQ(store_merkle_root(txn, TREE_RECORDS, root2), 0);
		CHECK_INT_EQ(merkle_consistency_proof(size, TREE_RECORDS, store_merkle_node_get, txn, proof, &count), 0);
		CHECK_INT_EQ(merkle_verify_consistency(size, TREE_RECORDS, root, root2, proof, count), 0);
	}
	store_txn_abort(txn);
	fixture_close(&f);
}

static void test_append_refuses_gaps_and_rewrites(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	store_txn *txn;
	uint8_t leaf[MERKLE_HASH_BYTES] = { 1 };
	REQUIRE(store_txn_begin(f.st, true, &txn) == 0);
	CHECK_INT_EQ(store_merkle_append(txn, 1, leaf), SL_ECORRUPT); /* gap: leaf 0 missing */
	CHECK_INT_EQ(store_merkle_append(txn, 0, leaf), 0);
	CHECK_INT_EQ(store_merkle_append(txn, 0, leaf), SL_ECORRUPT); /* rewrite */
	CHECK_INT_EQ(store_merkle_append(txn, 1, leaf), 0);
	uint8_t parent[MERKLE_HASH_BYTES], want[MERKLE_HASH_BYTES];
	CHECK_INT_EQ(store_merkle_node_get(txn, 1, 0, parent), 0);
	merkle_node_hash(leaf, leaf, want);
	CHECK(memcmp(parent, want, sizeof want) == 0);
	CHECK_INT_EQ(store_merkle_node_get(txn, 1, 1, parent), SL_ENOENT);
	uint64_t size = 0;
	CHECK_INT_EQ(store_merkle_size(txn, &size), 0);
	CHECK(size == 2);
	store_txn_abort(txn);
	fixture_close(&f);
}

static int lot_row_count(void *ctx, const char *lot_key, const char *site, const struct store_lot_counters *c)
{
	(void)lot_key;
	(void)site;
	*(uint64_t *)ctx += c->counts[LOT_COUNTER_COMMISSIONED];
	return 0;
}

static void test_lot_scan(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	fill(&f); /* 30 distinct serials accepted in lot L1 */
	struct spec s = { .type = RECORD_COMMISSION, .items = "T1 T2", .lot = "L2", .key = KEY_B };
	CHECK_INT_EQ(fixture_do(&f, &s, NULL), OUTCOME_ACCEPTED);
	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, false, &txn) == 0);
	uint64_t total = 0;
	CHECK_INT_EQ(store_lot_iterate_all(txn, lot_row_count, &total), 0);
	CHECK(total == 32);
	store_txn_abort(txn);
	fixture_close(&f);
}

static const struct test_case cases[] = {
	TEST_CASE(test_root_matches_frontier),
	TEST_CASE(test_proofs_from_store_verify),
	TEST_CASE(test_append_refuses_gaps_and_rewrites),
	TEST_CASE(test_lot_scan),
};
TEST_MAIN(cases)
