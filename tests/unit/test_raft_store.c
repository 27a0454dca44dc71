/* tests/unit/test_raft_store.c — store/raft_store.h: raft log put/get/truncate/compact/iterate,
 * raft meta structs, the lifecycle scan, and that a failed commit leaves nothing behind.
 */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include "tests/unit/test.h"

#include "store/raft_store.h"
#include "store/store.h"
#include "store/store_testing.h"
#include "util/error.h"

struct env {
	char dir[PATH_MAX];
	store *st;
};

static int env_open(struct env *e)
{
	memset(e, 0, sizeof *e);
	if (test_tmpdir(e->dir) != 0)
		return -1;
	struct store_options options = { .map_bytes = 64ull << 20, .no_sync = true };
	return store_open(&e->st, e->dir, &options);
}

static int env_reopen(struct env *e)
{
	store_close(e->st);
	struct store_options options = { .map_bytes = 64ull << 20, .no_sync = true };
	return store_open(&e->st, e->dir, &options);
}

static void env_close(struct env *e)
{
	if (e->st != NULL)
		store_close(e->st);
	test_rmtree(e->dir);
}

struct seen {
	uint64_t index[16];
	uint64_t term[16];
	size_t len[16];
	size_t count;
};

static int visit(void *ctx, uint64_t index, uint64_t term, uint8_t type, const uint8_t *data, size_t len)
{
	struct seen *s = ctx;
	(void)type;
	(void)data;
	if (s->count < 16) {
		s->index[s->count] = index;
		s->term[s->count] = term;
		s->len[s->count] = len;
	}
	s->count++;
	return 0;
}

static int put_range(store *st, uint64_t lo, uint64_t hi, uint64_t term)
{
	store_txn *txn;
	int rc = store_txn_begin(st, true, &txn);
	for (uint64_t i = lo; rc == 0 && i <= hi; i++) {
		uint8_t data[3] = { (uint8_t)i, 0xab, 0xcd };
		rc = store_raft_log_put(txn, i, term, i % 2 ? 0 : 1, data, i == lo ? 0 : sizeof data);
	}
	if (rc != 0) {
		store_txn_abort(txn);
		return rc;
	}
	return store_txn_commit(txn);
}

static void test_raft_log_put_get(void)
{
	struct env e;
	REQUIRE(env_open(&e) == 0);
	REQUIRE(put_range(e.st, 1, 10, 3) == 0);
	store_txn *txn;
	REQUIRE(store_txn_begin(e.st, false, &txn) == 0);
	uint64_t term = 0, last = 0;
	uint8_t type = 9;
	const uint8_t *data;
	size_t len = 99;
	CHECK_INT_EQ(store_raft_log_get(txn, 1, &term, &type, &data, &len), 0);
	CHECK_INT_EQ(term, 3);
	CHECK_INT_EQ(type, 0);
	CHECK_INT_EQ(len, 0); /* an empty entry (the leader's no-op) round-trips */
	CHECK(data == NULL);
	CHECK_INT_EQ(store_raft_log_get(txn, 4, &term, &type, &data, &len), 0);
	CHECK_INT_EQ(type, 1);
	REQUIRE(len == 3);
	CHECK(data[0] == 4 && data[1] == 0xab && data[2] == 0xcd);
	CHECK_INT_EQ(store_raft_log_get(txn, 11, &term, &type, &data, &len), SL_ENOENT);
	CHECK_INT_EQ(store_raft_log_last(txn, &last), 0);
	CHECK_INT_EQ(last, 10);
	store_txn_abort(txn);
	/* index 0 and writes in a read transaction are refused */
	REQUIRE(store_txn_begin(e.st, false, &txn) == 0);
	CHECK_INT_EQ(store_raft_log_put(txn, 5, 1, 0, NULL, 0), SL_EINVAL);
	store_txn_abort(txn);
	REQUIRE(store_txn_begin(e.st, true, &txn) == 0);
	CHECK_INT_EQ(store_raft_log_put(txn, 0, 1, 0, NULL, 0), SL_EINVAL);
	store_txn_abort(txn);
	env_close(&e);
}

static void test_raft_log_truncate_compact(void)
{
	struct env e;
	REQUIRE(env_open(&e) == 0);
	REQUIRE(put_range(e.st, 1, 10, 2) == 0);
	store_txn *txn;
	REQUIRE(store_txn_begin(e.st, true, &txn) == 0);
	CHECK_INT_EQ(store_raft_log_truncate(txn, 7), 0); /* §3.5: 7.. go */
	CHECK_INT_EQ(store_raft_log_compact(txn, 3), 0);  /* §5.1: ..3 go */
	REQUIRE(store_txn_commit(txn) == 0);
	REQUIRE(put_range(e.st, 7, 8, 5) == 0); /* the new leader's entries replace them */
	REQUIRE(env_reopen(&e) == 0);
	struct seen s = { .count = 0 };
	REQUIRE(store_txn_begin(e.st, false, &txn) == 0);
	CHECK_INT_EQ(store_raft_log_iterate(txn, 0, visit, &s), 0);
	store_txn_abort(txn);
	REQUIRE(s.count == 5);
	static const uint64_t want_index[] = { 4, 5, 6, 7, 8 }, want_term[] = { 2, 2, 2, 5, 5 };
	for (size_t i = 0; i < 5; i++) {
		CHECK_INT_EQ(s.index[i], want_index[i]);
		CHECK_INT_EQ(s.term[i], want_term[i]);
	}
	/* iterate from the middle; truncating past the end is a no-op */
	s.count = 0;
	REQUIRE(store_txn_begin(e.st, true, &txn) == 0);
	CHECK_INT_EQ(store_raft_log_truncate(txn, 100), 0);
	CHECK_INT_EQ(store_raft_log_iterate(txn, 6, visit, &s), 0);
	store_txn_abort(txn);
	CHECK_INT_EQ(s.count, 3);
	CHECK_INT_EQ(s.index[0], 6);
	env_close(&e);
}

static void test_raft_meta(void)
{
	struct env e;
	REQUIRE(env_open(&e) == 0);
	store_txn *txn;
	struct store_raft_hard_state hs = { 7, 7, 7 };
	struct store_raft_compaction c;
	struct store_raft_applied a;
	REQUIRE(store_txn_begin(e.st, false, &txn) == 0);
	CHECK_INT_EQ(store_raft_hard_state_get(txn, &hs), SL_ENOENT);
	CHECK(hs.term == 0 && hs.vote == 0 && hs.commit == 0);
	CHECK_INT_EQ(store_raft_compaction_get(txn, &c), SL_ENOENT);
	CHECK_INT_EQ(store_raft_applied_get(txn, &a), SL_ENOENT);
	store_txn_abort(txn);

	memset(&c, 0, sizeof c);
	c.index = 48;
	c.term = 3;
	c.voters[0] = 1;
	c.voters[1] = 2;
	c.voters_count = 2;
	c.learners[0] = 9;
	c.learners_count = 1;
	c.ledger_seq = 40;
	c.ledger_time_ms = 1750000000123ull;
	c.state_hash[31] = 0x77;
	memset(&a, 0, sizeof a);
	a.index = 50;
	a.ledger_seq = 42;
	a.state_hash[0] = 0x11;
	REQUIRE(store_txn_begin(e.st, true, &txn) == 0);
	CHECK_INT_EQ(store_raft_hard_state_put(txn, &(struct store_raft_hard_state){ 4, 2, 50 }), 0);
	CHECK_INT_EQ(store_raft_compaction_put(txn, &c), 0);
	CHECK_INT_EQ(store_raft_applied_put(txn, &a), 0);
	struct store_raft_compaction bad = c;
	bad.voters_count = STORE_RAFT_MEMBERS_MAX + 1;
	CHECK_INT_EQ(store_raft_compaction_put(txn, &bad), SL_EINVAL);
	REQUIRE(store_txn_commit(txn) == 0);

	REQUIRE(env_reopen(&e) == 0);
	struct store_raft_compaction c2;
	struct store_raft_applied a2;
	REQUIRE(store_txn_begin(e.st, false, &txn) == 0);
	CHECK_INT_EQ(store_raft_hard_state_get(txn, &hs), 0);
	CHECK(hs.term == 4 && hs.vote == 2 && hs.commit == 50);
	CHECK_INT_EQ(store_raft_compaction_get(txn, &c2), 0);
	CHECK(memcmp(&c, &c2, sizeof c) == 0);
	CHECK_INT_EQ(store_raft_applied_get(txn, &a2), 0);
	CHECK(a2.index == 50 && a2.ledger_seq == 42 && a2.state_hash[0] == 0x11);
	store_txn_abort(txn);
	env_close(&e);
}

/* A failed commit (injected disk error) keeps neither log entries nor hard state. */
static void test_raft_failed_commit(void)
{
	struct env e;
	REQUIRE(env_open(&e) == 0);
	REQUIRE(put_range(e.st, 1, 3, 1) == 0);
	REQUIRE(store_fault_inject_commit(e.st, 1, SL_EIO) == 0);
	store_txn *txn;
	REQUIRE(store_txn_begin(e.st, true, &txn) == 0);
	CHECK_INT_EQ(store_raft_log_truncate(txn, 2), 0);
	CHECK_INT_EQ(store_raft_hard_state_put(txn, &(struct store_raft_hard_state){ 9, 9, 1 }), 0);
	CHECK_INT_EQ(store_txn_commit(txn), SL_EIO);
	CHECK(store_is_poisoned(e.st));
	REQUIRE(env_reopen(&e) == 0);
	uint64_t last = 0;
	struct store_raft_hard_state hs;
	REQUIRE(store_txn_begin(e.st, false, &txn) == 0);
	CHECK_INT_EQ(store_raft_log_last(txn, &last), 0);
	CHECK_INT_EQ(last, 3);
	CHECK_INT_EQ(store_raft_hard_state_get(txn, &hs), SL_ENOENT);
	store_txn_abort(txn);
	env_close(&e);
}

struct scan_seen {
	int tables[8];
	size_t count;
};

static int scan_visit(void *ctx, int table, const void *key, size_t key_len, const void *value, size_t value_len)
{
	struct scan_seen *s = ctx;
	(void)key;
	(void)value;
	if (key_len == 0 || value_len == 0)
		return SL_EINVAL;
	if (s->count < 8)
		s->tables[s->count] = table;
	s->count++;
	return 0;
}

static void test_scan_lifecycle(void)
{
	struct env e;
	REQUIRE(env_open(&e) == 0);
	store_txn *txn;
	struct store_item item;
	memset(&item, 0, sizeof item);
	item.kind = 1;
	item.status = 1;
	strcpy(item.site, "site-a");
	struct store_lock lock = { .reasons = 2, .scope = 1, .seq = 5, .site = "site-a" };
	REQUIRE(store_txn_begin(e.st, true, &txn) == 0);
	CHECK_INT_EQ(store_item_put(txn, "(00)106141410000000019", &item), 0);
	CHECK_INT_EQ(store_item_put(txn, "(01)09506000134352(21)A1", &item), 0);
	CHECK_INT_EQ(store_child_add(txn, "(00)106141410000000019", "(01)09506000134352(21)A1"), 0);
	CHECK_INT_EQ(store_lock_put(txn, "(01)09506000134352(21)A1", &lock), 0);
	CHECK_INT_EQ(store_lot_add(txn, "(01)09506000134352(10)L1", "site-a", 0, 1), 0);
	REQUIRE(store_txn_commit(txn) == 0);
	struct scan_seen s = { .count = 0 };
	REQUIRE(store_txn_begin(e.st, false, &txn) == 0);
	CHECK_INT_EQ(store_scan_lifecycle(txn, scan_visit, &s), 0);
	store_txn_abort(txn);
	REQUIRE(s.count == 5);
	static const int want[] = { STORE_SCAN_ITEMS, STORE_SCAN_ITEMS, STORE_SCAN_CHILDREN, STORE_SCAN_LOCKS,
				    STORE_SCAN_LOTS };
	for (size_t i = 0; i < 5; i++)
		CHECK_INT_EQ(s.tables[i], want[i]);
	env_close(&e);
}

static const struct test_case cases[] = {
	TEST_CASE(test_raft_log_put_get),
	TEST_CASE(test_raft_log_truncate_compact),
	TEST_CASE(test_raft_meta),
	TEST_CASE(test_raft_failed_commit),
	TEST_CASE(test_scan_lifecycle),
};

TEST_MAIN(cases)
