/* store/env.c — opening and closing a data directory: lock file, LMDB environment, tables, schema.
 *
 * Design notes (docs/storage.md has the table layouts).
 *
 * A data directory DIR holds DIR/LOCK (our process lock), DIR/data.mdb and DIR/lock.mdb (LMDB's).
 * store_open runs: prepare DIR → take DIR/LOCK → create and open the LMDB environment → open every
 * named table and check the schema in one transaction. Any failure undoes the earlier steps in
 * reverse order (store_teardown), so a failed open leaves no lock, handle or memory behind.
 *
 * Invariants:
 *  1. At most one writable store per directory on the machine: a writable open holds
 *     flock(LOCK_EX) on DIR/LOCK; read-only opens hold flock(LOCK_SH). Readers coexist with each
 *     other, never with a writer (a live node is inspected with mdb_stat or its own API instead).
 *  2. At most one store per directory per process, in any mode: LMDB forbids opening one
 *     environment twice in a process (its fcntl locks on lock.mdb are per process and the second
 *     close would drop the first's), and two shared flocks would not see each other. The
 *     in-process registry, keyed by DIR/LOCK's device and inode and the opener's pid (entries
 *     inherited across fork() are ignored by the child), refuses the second open with SL_EBUSY.
 *  3. The LMDB environment is closed before the flock is released, so no other process can open
 *     the directory while our mapping is live.
 *  4. Every table handle (MDB_dbi) is opened at store_open in one transaction that is committed
 *     before any other transaction starts; handles are then shared read-only by all threads.
 *  5. meta "schema" holds STORE_SCHEMA_VERSION as 4 bytes little-endian. A fresh directory gets
 *     it in the same transaction that creates the tables; any other value is SL_EVERSIONDB and
 *     the directory is left untouched (tables are not created before the check passes).
 *  6. MDB_NOTLS: read transactions are not tied to a thread (they may move between threads; one
 *     thread at a time uses a transaction). MDB_NOSYNC only with options.no_sync or scratch.
 *  7. store_close requires every transaction of the store to be finished (asserted).
 */
#include "store/store_internal.h"
#include "store/store_testing.h"
#include "util/error.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_LOCK_FILE "LOCK"
#define STORE_DATA_FILE "data.mdb" /* LMDB's name, inside DIR (MDB_NOSUBDIR off) */
#define STORE_DIR_MODE 0700	   /* the ledger and its indexes are the site's business */
#define STORE_FILE_MODE 0600
#define STORE_SCHEMA_KEY "schema"
#define STORE_SCHEMA_BYTES 4 /* uint32 little-endian */

struct store_table_spec {
	const char *name;
	unsigned flags;
};

/* Order and names are part of the on-disk format (enum store_table indexes this list). */
static const struct store_table_spec store_tables[STORE_TABLE_COUNT] = {
	[STORE_TABLE_META] = { "meta", 0 },
	[STORE_TABLE_LEDGER] = { "ledger", MDB_INTEGERKEY },
	[STORE_TABLE_IDS] = { "ids", 0 },
	[STORE_TABLE_ITEMS] = { "items", 0 },
	[STORE_TABLE_CHILDREN] = { "children", MDB_DUPSORT },
	[STORE_TABLE_HISTORY] = { "history", MDB_DUPSORT | MDB_DUPFIXED | MDB_INTEGERDUP },
	[STORE_TABLE_LOCKS] = { "locks", 0 },
	[STORE_TABLE_LOTS] = { "lots", 0 },
	[STORE_TABLE_SITES] = { "sites", 0 },
	[STORE_TABLE_KEYS] = { "keys", 0 },
	[STORE_TABLE_RAFT_LOG] = { "raft_log", MDB_INTEGERKEY },
	[STORE_TABLE_RAFT_META] = { "raft_meta", 0 },
	[STORE_TABLE_MERKLE_NODES] = { "merkle_nodes", 0 },
	[STORE_TABLE_KEY_EVENTS] = { "key_events", 0 },
	[STORE_TABLE_SITE_NODES] = { "site_nodes", 0 },
};

/* Why the last store_open in this thread failed (there is no store to hold it). */
static _Thread_local char store_open_error[STORE_ERROR_TEXT_BYTES_MAX] = "no error";

static pthread_mutex_t store_registry_mutex = PTHREAD_MUTEX_INITIALIZER;
static store *store_registry_head; /* stores open in this process (and, after fork, the parent's) */

const char *store_table_name(enum store_table table)
{
	assert(table < STORE_TABLE_COUNT);
	return store_tables[table].name;
}

static int store_errno_code(int err)
{
	switch (err) {
	case ENOENT:
		return SL_ENOENT;
	case ENOSPC:
	case EDQUOT:
		return SL_ENOSPC;
	case ENOMEM:
		return SL_ENOMEM;
	case ENOTDIR:
	case ENAMETOOLONG:
		return SL_EINVAL;
	default:
		return SL_EIO;
	}
}

static int store_registry_add(store *st)
{
	int rc = 0;
	pthread_mutex_lock(&store_registry_mutex);
	for (const store *it = store_registry_head; it != NULL; it = it->registry_next) {
		if (it->owner_pid == st->owner_pid && it->lock_dev == st->lock_dev && it->lock_ino == st->lock_ino) {
			rc = SL_EBUSY;
			break;
		}
	}
	if (rc == 0) {
		st->registry_next = store_registry_head;
		store_registry_head = st;
		st->registered = true;
	}
	pthread_mutex_unlock(&store_registry_mutex);
	return rc;
}

static void store_registry_remove(store *st)
{
	pthread_mutex_lock(&store_registry_mutex);
	for (store **link = &store_registry_head; *link != NULL; link = &(*link)->registry_next) {
		if (*link == st) {
			*link = st->registry_next;
			break;
		}
	}
	st->registered = false;
	pthread_mutex_unlock(&store_registry_mutex);
}

/* Create DIR when missing (writable opens only) and check it is a directory. */
static int store_dir_prepare(store *st)
{
	if (!st->read_only && mkdir(st->dir, STORE_DIR_MODE) != 0 && errno != EEXIST)
		return store_error_set(st, store_errno_code(errno), "cannot create data directory %s: %s", st->dir,
				       strerror(errno));
	struct stat info;
	if (stat(st->dir, &info) != 0)
		return store_error_set(st, store_errno_code(errno), "data directory %s: %s", st->dir,
				       strerror(errno));
	if (!S_ISDIR(info.st_mode))
		return store_error_set(st, SL_EINVAL, "data directory %s is not a directory", st->dir);
	return 0;
}

static int store_flock(int fd, int operation)
{
	int rc;
	do {
		rc = flock(fd, operation | LOCK_NB);
	} while (rc != 0 && errno == EINTR);
	return rc;
}

/* Invariants 1 and 2: registry first (same process), then the flock (other processes). */
static int store_lock_take(store *st)
{
	char path[PATH_MAX];
	int len = snprintf(path, sizeof(path), "%s/%s", st->dir, STORE_LOCK_FILE);
	if (len < 0 || (size_t)len >= sizeof(path))
		return store_error_set(st, SL_EINVAL, "data directory name too long: %s", st->dir);
	int flags = (st->read_only ? O_RDONLY : O_RDWR | O_CREAT) | O_CLOEXEC;
	st->lock_fd = open(path, flags, STORE_FILE_MODE);
	if (st->lock_fd < 0)
		return store_error_set(st, store_errno_code(errno), "cannot open lock file %s: %s", path,
				       strerror(errno));
	struct stat info;
	if (fstat(st->lock_fd, &info) != 0)
		return store_error_set(st, SL_EIO, "cannot stat lock file %s: %s", path, strerror(errno));
	st->lock_dev = info.st_dev;
	st->lock_ino = info.st_ino;
	st->owner_pid = getpid();
	if (store_registry_add(st) != 0)
		return store_error_set(st, SL_EBUSY, "data directory %s is already open in this process", st->dir);
	if (store_flock(st->lock_fd, st->read_only ? LOCK_SH : LOCK_EX) != 0) {
		if (errno == EWOULDBLOCK)
			return store_error_set(st, SL_EBUSY, "data directory %s is in use by another process (%s is locked)",
					       st->dir, path);
		return store_error_set(st, SL_EIO, "cannot lock %s: %s", path, strerror(errno));
	}
	return 0;
}

static int store_env_open(store *st, uint64_t map_bytes)
{
	int rc = mdb_env_create(&st->env);
	if (rc != 0) {
		st->env = NULL;
		return store_env_mdb_error(st, rc, "env create");
	}
	rc = mdb_env_set_maxdbs(st->env, STORE_DBS_MAX);
	if (rc == 0)
		rc = mdb_env_set_mapsize(st->env, (size_t)(map_bytes != 0 ? map_bytes : STORE_MAP_BYTES_DEFAULT));
	if (rc != 0)
		return store_env_mdb_error(st, rc, "env setup");
	if (mdb_env_get_maxkeysize(st->env) < STORE_KEY_BYTES_MAX)
		return store_error_set(st, SL_EIO, "LMDB built with max key size %d < %d", mdb_env_get_maxkeysize(st->env),
				       STORE_KEY_BYTES_MAX);
	unsigned flags = MDB_NOTLS;
	if (st->no_sync)
		flags |= MDB_NOSYNC;
	else
		flags |= MDB_NOMETASYNC;
	if (st->read_only)
		flags |= MDB_RDONLY;
	rc = mdb_env_open(st->env, st->dir, flags, STORE_FILE_MODE);
	if (rc != 0)
		return store_env_mdb_error(st, rc, "env open");
	return 0;
}

static int store_table_open(store *st, MDB_txn *txn, enum store_table table)
{
	unsigned flags = store_tables[table].flags | (st->read_only ? 0 : MDB_CREATE);
	int rc = mdb_dbi_open(txn, store_tables[table].name, flags, &st->dbi[table]);
	if (rc == MDB_NOTFOUND)
		return store_error_set(st, SL_EVERSIONDB,
				       "data directory %s has no table %s (made by an older siteledger: open it once "
				       "for writing, with siteledgerd or a record command, to add it)",
				       st->dir, store_tables[table].name);
	if (rc != 0)
		return store_error_set(st, store_error_from_mdb(rc), "open table %s in %s: %s", store_tables[table].name,
				       st->dir, mdb_strerror(rc));
	return 0;
}

/* Invariant 5. Runs after meta is open and before any other table is created. */
static int store_schema_check(store *st, MDB_txn *txn)
{
	MDB_val key = { sizeof(STORE_SCHEMA_KEY) - 1, store_mutable(STORE_SCHEMA_KEY) };
	MDB_val data;
	int rc = mdb_get(txn, st->dbi[STORE_TABLE_META], &key, &data);
	if (rc == 0) {
		if (data.mv_size != STORE_SCHEMA_BYTES)
			return store_error_set(st, SL_ECORRUPT, "meta schema in %s has %zu bytes, expected %d", st->dir,
					       data.mv_size, STORE_SCHEMA_BYTES);
		const uint8_t *bytes = data.mv_data;
		uint32_t version = (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 |
				   (uint32_t)bytes[3] << 24;
		if (version != STORE_SCHEMA_VERSION)
			return store_error_set(st, SL_EVERSIONDB, "data directory %s has schema version %u, this build uses %d",
					       st->dir, version, STORE_SCHEMA_VERSION);
		return 0;
	}
	if (rc != MDB_NOTFOUND)
		return store_error_set(st, store_error_from_mdb(rc), "read meta schema in %s: %s", st->dir,
				       mdb_strerror(rc));
	if (st->read_only)
		return store_error_set(st, SL_EVERSIONDB, "data directory %s has no schema version", st->dir);
	uint8_t bytes[STORE_SCHEMA_BYTES] = { (uint8_t)STORE_SCHEMA_VERSION, (uint8_t)(STORE_SCHEMA_VERSION >> 8),
					      (uint8_t)(STORE_SCHEMA_VERSION >> 16),
					      (uint8_t)(STORE_SCHEMA_VERSION >> 24) };
	data = (MDB_val){ sizeof(bytes), bytes };
	rc = mdb_put(txn, st->dbi[STORE_TABLE_META], &key, &data, 0);
	if (rc != 0)
		return store_error_set(st, store_error_from_mdb(rc), "write meta schema in %s: %s", st->dir,
				       mdb_strerror(rc));
	return 0;
}

/* Invariant 4: every table in one transaction, committed so the handles outlive it. */
static int store_tables_open(store *st)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(st->env, NULL, st->read_only ? MDB_RDONLY : 0, &txn);
	if (rc != 0)
		return store_env_mdb_error(st, rc, "open tables");
	int code = store_table_open(st, txn, STORE_TABLE_META);
	if (code == 0)
		code = store_schema_check(st, txn);
	for (int table = 0; code == 0 && table < STORE_TABLE_COUNT; table++) {
		if (table != STORE_TABLE_META)
			code = store_table_open(st, txn, (enum store_table)table);
	}
	if (code != 0) {
		mdb_txn_abort(txn);
		return code;
	}
	rc = mdb_txn_commit(txn);
	if (rc != 0)
		return store_env_mdb_error(st, rc, "open tables commit");
	return 0;
}

/* Undo store_open's steps in reverse (invariant 3); safe on a partly opened store. */
static void store_teardown(store *st)
{
	if (st->env != NULL)
		mdb_env_close(st->env);
	if (st->registered)
		store_registry_remove(st);
	if (st->lock_fd >= 0)
		(void)close(st->lock_fd); /* releases the flock; nothing was written to it */
	pthread_mutex_destroy(&st->error_mutex);
	free(st);
}

static int store_open_fail(int code, const char *text)
{
	snprintf(store_open_error, sizeof(store_open_error), "%s", text);
	return code;
}

int store_open(store **out, const char *dir, const struct store_options *options)
{
	assert(out != NULL);
	*out = NULL;
	const struct store_options defaults = { 0 };
	if (options == NULL)
		options = &defaults;
	if (dir == NULL || dir[0] == '\0')
		return store_open_fail(SL_EINVAL, "store_open: empty data directory name");
	/* Room for "/data.mdb" (the longest name LMDB and we append) and the NUL. */
	if (strnlen(dir, PATH_MAX) + sizeof("/" STORE_DATA_FILE) > PATH_MAX)
		return store_open_fail(SL_EINVAL, "store_open: data directory name too long");
	/* map_bytes fits size_t: store_internal.h asserts a 64-bit size_t. */
	store *st = calloc(1, sizeof(*st));
	if (st == NULL)
		return store_open_fail(SL_ENOMEM, "store_open: out of memory");
	st->lock_fd = -1;
	st->read_only = options->read_only;
	st->no_sync = options->no_sync || options->scratch;
	st->scratch = options->scratch;
	atomic_init(&st->writer_active, false);
	atomic_init(&st->poisoned, false);
	atomic_init(&st->open_txns, 0);
	if (pthread_mutex_init(&st->error_mutex, NULL) != 0) {
		free(st);
		return store_open_fail(SL_ENOMEM, "store_open: cannot create mutex");
	}
	snprintf(st->last_error, sizeof(st->last_error), "no error");
	snprintf(st->dir, sizeof(st->dir), "%s", dir);

	int rc = store_dir_prepare(st);
	if (rc == 0)
		rc = store_lock_take(st);
	if (rc == 0)
		rc = store_env_open(st, options->map_bytes);
	if (rc == 0)
		rc = store_tables_open(st);
	if (rc != 0) {
		store_open_fail(rc, st->last_error);
		store_teardown(st);
		return rc;
	}
	*out = st;
	return 0;
}

int store_env_sync(store *st)
{
	int rc = mdb_env_sync(st->env, 1);
	if (rc != 0)
		return store_env_mdb_error(st, rc, "sync");
	st->syncs++;
	return 0;
}

uint64_t store_syncs(const store *st)
{
	return st->syncs;
}

void store_close(store *st)
{
	if (st == NULL)
		return;
	assert(atomic_load(&st->open_txns) == 0); /* invariant 7 */
	assert(!atomic_load(&st->writer_active));
	/* A clean close is durable: a no_sync store's transactions and a durable store's undoable
	 * ones are flushed here. A poisoned store is never synced again: never continue past a
	 * failed fsync (CONVENTIONS 6). close cannot report an error; undoable commits and no_sync
	 * callers were never promised durability, so a failure here changes nothing. A scratch
	 * store is deleted next: syncing it would only cost time (0.2 s at the end of a 1M-record
	 * audit). */
	if (!st->scratch && !st->read_only && !atomic_load(&st->poisoned))
		(void)store_env_sync(st);
	store_teardown(st);
}

const char *store_last_error(const store *st)
{
	if (st == NULL)
		return store_open_error;
	return st->last_error;
}

bool store_is_poisoned(const store *st)
{
	assert(st != NULL);
	return atomic_load(&st->poisoned);
}

/* meta: name → value bytes. */
int store_meta_put(store_txn *txn, const char *name, const void *value, size_t len)
{
	int rc = store_txn_usable(txn, true, STORE_TABLE_META, "put");
	MDB_val key;
	if (rc == 0)
		rc = store_key_from_str(txn, STORE_TABLE_META, "put", name, &key);
	if (rc != 0)
		return rc;
	if (len > STORE_META_VALUE_BYTES_MAX)
		return store_error_set(txn->st, SL_ELIMIT, "meta put %s: %zu bytes > %d", name, len,
				       STORE_META_VALUE_BYTES_MAX);
	if (value == NULL && len != 0)
		return store_error_set(txn->st, SL_EINVAL, "meta put %s: no value", name);
	MDB_val data = { len, store_mutable(value) };
	return store_value_put(txn, STORE_TABLE_META, "put", &key, &data, 0);
}

int store_meta_get(store_txn *txn, const char *name, const void **value, size_t *len)
{
	assert(value != NULL);
	assert(len != NULL);
	MDB_val key, data;
	int rc = store_key_from_str(txn, STORE_TABLE_META, "get", name, &key);
	if (rc == 0)
		rc = store_value_get(txn, STORE_TABLE_META, "get", &key, &data);
	if (rc != 0)
		return rc;
	if (data.mv_size > STORE_META_VALUE_BYTES_MAX)
		return store_error_set(txn->st, SL_ECORRUPT, "meta get %s: %zu bytes > %d", name, data.mv_size,
				       STORE_META_VALUE_BYTES_MAX);
	*value = data.mv_data;
	*len = data.mv_size;
	return 0;
}
