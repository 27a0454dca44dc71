/* tests/unit/test_store.c — store/ environment: open and locking, transactions, schema version,
 * sticky failure (map full, injected commit fault). Tables: test_store_tables.c.
 */
#include "store/store.h"
#include "store/store_testing.h"
#include "tests/unit/store_fixture.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>

/* ---- open, close, locking ---- */

static void test_store_open_reopen_persists(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f, NULL) == 0);
	struct stat info;
	CHECK(stat(f.dir, &info) == 0 && S_ISDIR(info.st_mode) && (info.st_mode & 0777) == 0700);
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/LOCK", f.dir);
	CHECK(access(path, F_OK) == 0);
	snprintf(path, sizeof(path), "%s/data.mdb", f.dir);
	CHECK(access(path, F_OK) == 0);

	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, true, &txn) == 0);
	uint64_t seq = 0;
	CHECK_INT_EQ(store_meta_put(txn, "site", "S1", 2), 0);
	CHECK_INT_EQ(store_ledger_append(txn, (const uint8_t *)"first", 5, &seq), 0);
	CHECK_INT_EQ(seq, 1);
	CHECK_INT_EQ(store_txn_commit(txn), 0);
	/* An aborted transaction leaves nothing behind. */
	REQUIRE(store_txn_begin(f.st, true, &txn) == 0);
	CHECK_INT_EQ(store_meta_put(txn, "aborted", "x", 1), 0);
	store_txn_abort(txn);

	REQUIRE(fixture_reopen(&f, NULL) == 0);
	CHECK_INT_EQ(meta_check(f.st, "site", "S1"), 1);
	CHECK_INT_EQ(meta_check(f.st, "aborted", "x"), 0);
	REQUIRE(store_txn_begin(f.st, false, &txn) == 0);
	const uint8_t *entry = NULL;
	size_t len = 0;
	uint64_t count = 99;
	CHECK_INT_EQ(store_ledger_count(txn, &count), 0);
	CHECK_INT_EQ(count, 1);
	CHECK_INT_EQ(store_ledger_get(txn, 1, &entry, &len), 0);
	CHECK(len == 5 && memcmp(entry, "first", 5) == 0);
	CHECK_INT_EQ(store_txn_commit(txn), 0);
	CHECK(!store_is_poisoned(f.st));
	fixture_close(&f);
}

/* A scratch store (the audit's replay) commits like any store and its data is there for the
 * process after close (page cache); close leaves it unsynced, which nothing here can observe, and
 * must not fail or poison. */
static void test_store_scratch_round_trip(void)
{
	struct fixture f;
	struct store_options scratch = { .scratch = true };
	REQUIRE(fixture_open(&f, &scratch) == 0);
	CHECK_INT_EQ(meta_put_commit(f.st, "site", "S1"), 0);
	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, true, &txn) == 0);
	CHECK_INT_EQ(store_meta_put(txn, "aborted", "x", 1), 0);
	store_txn_abort(txn);
	CHECK(!store_is_poisoned(f.st));
	REQUIRE(fixture_reopen(&f, &scratch) == 0);
	CHECK_INT_EQ(meta_check(f.st, "site", "S1"), 1);
	CHECK_INT_EQ(meta_check(f.st, "aborted", "x"), 0);
	fixture_close(&f);
}

static void test_store_second_open_same_process(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f, NULL) == 0);
	store *second = (store *)1;
	CHECK_INT_EQ(store_open(&second, f.dir, NULL), SL_EBUSY);
	CHECK(second == NULL);
	CHECK(strstr(store_last_error(NULL), f.dir) != NULL);
	struct store_options reader = { .read_only = true };
	CHECK_INT_EQ(store_open(&second, f.dir, &reader), SL_EBUSY);
	/* The flock itself: a new open file description cannot take the lock while the store lives. */
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/LOCK", f.dir);
	int fd = open(path, O_RDWR);
	REQUIRE(fd >= 0);
	CHECK(flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK);
	CHECK(flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK);
	store_close(f.st);
	f.st = NULL;
	CHECK(flock(fd, LOCK_EX | LOCK_NB) == 0); /* released by store_close */
	close(fd);
	CHECK_INT_EQ(store_open(&f.st, f.dir, NULL), 0);
	fixture_close(&f);
}


static void test_store_open_forked_child(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f, NULL) == 0);
	CHECK_INT_EQ(child_open(f.dir, false), 1); /* writer held: no writer ... */
	CHECK_INT_EQ(child_open(f.dir, true), 1);  /* ... and no reader */
	struct store_options reader = { .read_only = true };
	REQUIRE(fixture_reopen(&f, &reader) == 0);
	CHECK_INT_EQ(child_open(f.dir, true), 0);  /* readers coexist */
	CHECK_INT_EQ(child_open(f.dir, false), 1); /* but exclude a writer */
	store_close(f.st);
	f.st = NULL;
	CHECK_INT_EQ(child_open(f.dir, false), 0);
	fixture_close(&f);
}

static void test_store_read_only(void)
{
	struct fixture f;
	struct store_options reader = { .read_only = true };
	REQUIRE(test_tmpdir(f.tmp) == 0);
	snprintf(f.dir, sizeof(f.dir), "%s/data", f.tmp);
	f.st = NULL;
	CHECK_INT_EQ(store_open(&f.st, f.dir, &reader), SL_ENOENT); /* never creates */
	CHECK(access(f.dir, F_OK) != 0);
	REQUIRE(store_open(&f.st, f.dir, NULL) == 0);
	CHECK_INT_EQ(meta_put_commit(f.st, "k", "v"), 0);
	REQUIRE(fixture_reopen(&f, &reader) == 0);
	CHECK_INT_EQ(meta_check(f.st, "k", "v"), 1);
	store_txn *txn = NULL;
	CHECK_INT_EQ(store_txn_begin(f.st, true, &txn), SL_EINVAL);
	CHECK(txn == NULL);
	/* Two shared flocks would coexist: the in-process registry refuses the second open. */
	store *second = NULL;
	CHECK_INT_EQ(store_open(&second, f.dir, &reader), SL_EBUSY);
	CHECK(strstr(store_last_error(NULL), "this process") != NULL);
	CHECK_INT_EQ(store_open(&second, f.dir, NULL), SL_EBUSY);
	store_close(second); /* NULL unless the checks above failed */
	fixture_close(&f);
}

/* ---- transactions ---- */

static void *thread_read_meta(void *arg)
{
	store_txn *txn = arg;
	const void *value;
	size_t len;
	static int result;
	result = store_meta_get(txn, "k", &value, &len) == 0 && len == 1 && memcmp(value, "1", 1) == 0;
	return &result;
}

static void test_store_txn_rules(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f, NULL) == 0);
	CHECK_INT_EQ(meta_put_commit(f.st, "k", "1"), 0);
	store_txn *writer, *second = NULL, *readers[3];
	REQUIRE(store_txn_begin(f.st, true, &writer) == 0);
	CHECK_INT_EQ(store_txn_begin(f.st, true, &second), SL_EBUSY);
	CHECK(second == NULL);
	for (int i = 0; i < 3; i++) /* several readers in one thread need MDB_NOTLS */
		REQUIRE(store_txn_begin(f.st, false, &readers[i]) == 0);
	CHECK_INT_EQ(store_meta_put(writer, "k", "2", 1), 0);
	CHECK_INT_EQ(store_txn_commit(writer), 0);
	/* readers[0] keeps its snapshot, from another thread (MDB_NOTLS). */
	pthread_t thread;
	void *result = NULL;
	REQUIRE(pthread_create(&thread, NULL, thread_read_meta, readers[0]) == 0);
	REQUIRE(pthread_join(thread, &result) == 0);
	CHECK(*(int *)result == 1);
	CHECK_INT_EQ(store_meta_put(readers[1], "k", "3", 1), SL_EINVAL); /* write in a read txn */
	for (int i = 0; i < 3; i++)
		CHECK_INT_EQ(store_txn_commit(readers[i]), 0);
	CHECK_INT_EQ(meta_check(f.st, "k", "2"), 1);
	CHECK(!store_is_poisoned(f.st));
	fixture_close(&f);
}

/* ---- schema version ---- */

static void test_store_schema_mismatch(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f, NULL) == 0);
	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, true, &txn) == 0);
	CHECK_INT_EQ(store_meta_put(txn, "schema", "\x02\x00\x00\x00", 4), 0);
	CHECK_INT_EQ(store_txn_commit(txn), 0);
	CHECK_INT_EQ(fixture_reopen(&f, NULL), SL_EVERSIONDB);
	CHECK(f.st == NULL);
	CHECK(strstr(store_last_error(NULL), "schema version 2") != NULL);
	struct store_options reader = { .read_only = true };
	CHECK_INT_EQ(store_open(&f.st, f.dir, &reader), SL_EVERSIONDB);
	/* The failed opens released everything: the lock can be taken again. */
	CHECK_INT_EQ(child_open(f.dir, false), 2);
	fixture_close(&f);
}

/* ---- sticky failure: map full, injected commit fault ---- */

static void test_store_map_full_poisons(void)
{
	struct fixture f;
	struct store_options small = { .map_bytes = 256u << 10 };
	REQUIRE(fixture_open(&f, &small) == 0);
	CHECK_INT_EQ(append_entries(f.st, 1, 10), 0);
	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, true, &txn) == 0);
	static uint8_t entry[4000];
	memset(entry, 0xab, sizeof(entry));
	int rc = 0;
	for (int i = 0; i < 1000 && rc == 0; i++) /* 1000 x 4000 bytes >> 256 KiB */
		rc = store_ledger_append(txn, entry, sizeof(entry), NULL);
	CHECK_INT_EQ(rc, SL_ENOSPC);
	CHECK(strstr(store_last_error(f.st), "MDB_MAP_FULL") != NULL);
	CHECK(strstr(store_last_error(f.st), "ledger") != NULL);
	/* The txn is unusable: every later op returns the first error. */
	CHECK_INT_EQ(store_meta_put(txn, "k", "v", 1), SL_ENOSPC);
	uint64_t count;
	CHECK_INT_EQ(store_ledger_count(txn, &count), SL_ENOSPC);
	CHECK_INT_EQ(store_txn_commit(txn), SL_ENOSPC);
	CHECK(store_is_poisoned(f.st));
	CHECK(strstr(store_last_error(f.st), "MDB_MAP_FULL") != NULL);
	CHECK_INT_EQ(store_txn_begin(f.st, true, &txn), SL_EPOISONED);
	REQUIRE(store_txn_begin(f.st, false, &txn) == 0); /* reads still work */
	CHECK_INT_EQ(store_ledger_count(txn, &count), 0);
	CHECK_INT_EQ(count, 10);
	store_txn_abort(txn);

	REQUIRE(fixture_reopen(&f, &small) == 0);
	CHECK(!store_is_poisoned(f.st));
	REQUIRE(store_txn_begin(f.st, false, &txn) == 0);
	CHECK_INT_EQ(store_ledger_count(txn, &count), 0);
	CHECK_INT_EQ(count, 10);
	struct ledger_seen all = { .first = 1 };
	CHECK_INT_EQ(store_ledger_iterate(txn, 1, 0, ledger_cb, &all), 0);
	CHECK(all.calls == 10 && all.bad == 0);
	store_txn_abort(txn);
	CHECK_INT_EQ(append_entries(f.st, 11, 11), 0); /* writable again */
	fixture_close(&f);
}

static void test_store_fault_injected_commit(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f, NULL) == 0);
	CHECK_INT_EQ(store_fault_inject_commit(f.st, -1, SL_EIO), SL_EINVAL);
	CHECK_INT_EQ(store_fault_inject_commit(f.st, 1, 0), SL_EINVAL);
	CHECK_INT_EQ(store_fault_inject_commit(f.st, 2, SL_EIO), 0);
	CHECK_INT_EQ(meta_put_commit(f.st, "a", "1"), 0); /* first commit: passes */
	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, false, &txn) == 0); /* read commits do not count */
	CHECK_INT_EQ(store_txn_commit(txn), 0);
	CHECK(!store_is_poisoned(f.st));
	CHECK_INT_EQ(meta_put_commit(f.st, "b", "2"), SL_EIO); /* second: injected */
	CHECK(store_is_poisoned(f.st));
	CHECK(strstr(store_last_error(f.st), "injected") != NULL);
	CHECK_INT_EQ(meta_put_commit(f.st, "c", "3"), SL_EPOISONED);
	CHECK_INT_EQ(meta_check(f.st, "a", "1"), 1);
	CHECK_INT_EQ(meta_check(f.st, "b", "2"), 0);

	REQUIRE(fixture_reopen(&f, NULL) == 0);
	CHECK(!store_is_poisoned(f.st));
	CHECK_INT_EQ(meta_check(f.st, "a", "1"), 1);
	CHECK_INT_EQ(meta_check(f.st, "b", "2"), 0);
	CHECK_INT_EQ(meta_check(f.st, "c", "3"), 0);
	CHECK_INT_EQ(meta_put_commit(f.st, "d", "4"), 0); /* one-shot: off after firing */
	CHECK_INT_EQ(meta_put_commit(f.st, "e", "5"), 0);
	fixture_close(&f);
}

/* txn.c invariant 6: a durable commit flushes the meta page (counted by store_syncs), an undoable
 * one does not, and both are visible at once and after a clean close. A no_sync store never
 * flushes on commit. (What an OS crash undoes cannot be staged here; the replica's test of an
 * undone apply cycle restores a copy of the data file instead.) */
static void test_store_commit_undoable(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f, NULL) == 0);
	uint64_t syncs = store_syncs(f.st);
	CHECK_INT_EQ(meta_put_commit(f.st, "durable", "1"), 0);
	CHECK_INT_EQ(store_syncs(f.st), syncs + 1);
	CHECK_INT_EQ(meta_put_with(f.st, "undoable", "2", true), 0);
	CHECK_INT_EQ(meta_put_with(f.st, "undoable2", "3", true), 0);
	CHECK_INT_EQ(store_syncs(f.st), syncs + 1);
	CHECK_INT_EQ(meta_check(f.st, "undoable", "2"), 1); /* visible to readers at once */
	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, false, &txn) == 0);
	CHECK_INT_EQ(store_txn_commit_undoable(txn), 0); /* a read transaction just ends */
	CHECK_INT_EQ(store_syncs(f.st), syncs + 1);
	CHECK_INT_EQ(meta_put_commit(f.st, "durable2", "4"), 0); /* flushes the undoable ones too */
	CHECK_INT_EQ(store_syncs(f.st), syncs + 2);
	CHECK_INT_EQ(meta_put_with(f.st, "last", "5", true), 0);
	REQUIRE(fixture_reopen(&f, NULL) == 0); /* a clean close keeps the undoable commit */
	CHECK_INT_EQ(meta_check(f.st, "undoable2", "3"), 1);
	CHECK_INT_EQ(meta_check(f.st, "last", "5"), 1);
	fixture_close(&f);

	struct store_options no_sync = { .no_sync = true };
	REQUIRE(fixture_open(&f, &no_sync) == 0);
	CHECK_INT_EQ(meta_put_commit(f.st, "a", "1"), 0);
	CHECK_INT_EQ(meta_put_with(f.st, "b", "2", true), 0);
	CHECK_INT_EQ(store_syncs(f.st), 0);
	fixture_close(&f);
}

static const struct test_case cases[] = {
	TEST_CASE(test_store_open_reopen_persists),
	TEST_CASE(test_store_scratch_round_trip),
	TEST_CASE(test_store_second_open_same_process),
	TEST_CASE(test_store_open_forked_child),
	TEST_CASE(test_store_read_only),
	TEST_CASE(test_store_txn_rules),
	TEST_CASE(test_store_schema_mismatch),
	TEST_CASE(test_store_map_full_poisons),
	TEST_CASE(test_store_fault_injected_commit),
	TEST_CASE(test_store_commit_undoable),
};

TEST_MAIN(cases)
