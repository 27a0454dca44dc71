/* tests/unit/store_fixture.h — shared fixture for the store tests (header only).
 *
 * A fixture is a fresh temp directory whose data directory "data" does not exist before
 * store_open, so directory creation is exercised every time. raw_put/raw_get reach the tables
 * with plain LMDB behind the store's back (the store must be closed), to plant corrupt values and
 * to look at the bytes on disk. child_open forks a process that tries to open a directory.
 */
#ifndef SL_TESTS_UNIT_STORE_FIXTURE_H
#define SL_TESTS_UNIT_STORE_FIXTURE_H

#include "store/store.h"
#include "util/error.h"

/* test.h's test_rmtree joins PATH_MAX paths; GCC's truncation warning there is not about this file. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#include "tests/unit/test.h"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <lmdb.h>
#include <stdbool.h>
#include <sys/wait.h>

struct fixture {
	char tmp[PATH_MAX];
	char dir[PATH_MAX + 8]; /* tmp/data, created by store_open */
	store *st;
};

static inline int fixture_open(struct fixture *f, const struct store_options *options)
{
	f->st = NULL;
	if (test_tmpdir(f->tmp) != 0)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/data", f->tmp);
	return store_open(&f->st, f->dir, options);
}

static inline int fixture_reopen(struct fixture *f, const struct store_options *options)
{
	store_close(f->st);
	f->st = NULL;
	return store_open(&f->st, f->dir, options);
}

static inline void fixture_close(struct fixture *f)
{
	store_close(f->st);
	f->st = NULL;
	test_rmtree(f->tmp);
}

/* One meta value in a write transaction of its own, committed durably or undoably (txn.c). */
static inline int meta_put_with(store *st, const char *name, const char *value, bool undoable)
{
	store_txn *txn;
	int rc = store_txn_begin(st, true, &txn);
	if (rc != 0)
		return rc;
	rc = store_meta_put(txn, name, value, strlen(value));
	if (rc != 0) {
		store_txn_abort(txn);
		return rc;
	}
	return undoable ? store_txn_commit_undoable(txn) : store_txn_commit(txn);
}

static inline int meta_put_commit(store *st, const char *name, const char *value)
{
	return meta_put_with(st, name, value, false);
}

/* 1 when meta `name` holds exactly `value`, 0 when absent, -1 otherwise. */
static inline int meta_check(store *st, const char *name, const char *value)
{
	store_txn *txn;
	if (store_txn_begin(st, false, &txn) != 0)
		return -1;
	const void *data;
	size_t len;
	int rc = store_meta_get(txn, name, &data, &len);
	int result = -1;
	if (rc == SL_ENOENT)
		result = 0;
	else if (rc == 0 && len == strlen(value) && memcmp(data, value, len) == 0)
		result = 1;
	store_txn_abort(txn);
	return result;
}

/* Write one key/value into a table with plain LMDB (the store must be closed). */
static inline int raw_put(const char *dir, const char *table, unsigned flags, const void *key, size_t key_len,
		   const void *value, size_t value_len)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	int rc = mdb_env_create(&env);
	if (rc != 0)
		return rc;
	rc = mdb_env_set_maxdbs(env, 32);
	if (rc == 0)
		rc = mdb_env_open(env, dir, 0, 0600);
	if (rc == 0)
		rc = mdb_txn_begin(env, NULL, 0, &txn);
	if (rc == 0) {
		rc = mdb_dbi_open(txn, table, flags, &dbi);
		MDB_val k = { key_len, (void *)(uintptr_t)key }, v = { value_len, (void *)(uintptr_t)value };
		if (rc == 0)
			rc = mdb_put(txn, dbi, &k, &v, 0);
		if (rc == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
	}
	mdb_env_close(env);
	return rc;
}

/* Copy one value out of a table with plain LMDB (the store must be closed); its size or -1. */
static inline long raw_get(const char *dir, const char *table, const void *key, size_t key_len, void *out, size_t size)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	long result = -1;
	if (mdb_env_create(&env) != 0)
		return -1;
	if (mdb_env_set_maxdbs(env, 32) == 0 && mdb_env_open(env, dir, MDB_RDONLY, 0600) == 0 &&
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0) {
		MDB_val k = { key_len, (void *)(uintptr_t)key }, v;
		if (mdb_dbi_open(txn, table, 0, &dbi) == 0 && mdb_get(txn, dbi, &k, &v) == 0 && v.mv_size <= size) {
			memcpy(out, v.mv_data, v.mv_size);
			result = (long)v.mv_size;
		}
		mdb_txn_abort(txn);
	}
	mdb_env_close(env);
	return result;
}

/* Exit status of a child that opens `dir`: 0 opened, 1 SL_EBUSY, 2 other error. */
static inline int child_open(const char *dir, bool read_only)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct store_options options = { .read_only = read_only };
		store *st;
		int rc = store_open(&st, dir, &options);
		if (rc == 0)
			store_close(st);
		_exit(rc == 0 ? 0 : rc == SL_EBUSY ? 1 : 2);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

struct ledger_seen {
	uint64_t first, calls, stop_at;
	int bad;
};

static inline int ledger_cb(void *ctx, uint64_t seq, const uint8_t *entry, size_t len)
{
	struct ledger_seen *seen = ctx;
	char want[32];
	int want_len = snprintf(want, sizeof(want), "entry-%llu", (unsigned long long)seq);
	if (seq != seen->first + seen->calls || len != (size_t)want_len || memcmp(entry, want, len) != 0)
		seen->bad++;
	seen->calls++;
	return seq == seen->stop_at ? 42 : 0;
}

static inline int append_entries(store *st, uint64_t from, uint64_t to)
{
	store_txn *txn;
	int rc = store_txn_begin(st, true, &txn);
	for (uint64_t i = from; rc == 0 && i <= to; i++) {
		char entry[32];
		int len = snprintf(entry, sizeof(entry), "entry-%llu", (unsigned long long)i);
		uint64_t seq = 0;
		rc = store_ledger_append(txn, (const uint8_t *)entry, (size_t)len, &seq);
		if (rc == 0 && seq != i)
			rc = SL_ECORRUPT;
	}
	if (rc != 0) {
		store_txn_abort(txn);
		return rc;
	}
	return store_txn_commit(txn);
}

#endif
