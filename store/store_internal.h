/* store/store_internal.h — definitions shared by the .c files of store/; never included outside store/.
 *
 * Owns: the layout of struct store and struct store_txn, the list of named tables, and the small
 * helpers every table file uses (key checks, error mapping, fixed-size value reads).
 *
 * Rules:
 *  1. Every LMDB call's result goes through store_txn_mdb_error() (inside a transaction) or
 *     store_env_mdb_error() (outside one), so error mapping and the per-store text live in one place.
 *  2. A helper that fails has set the store's last-error text, except for SL_ENOENT (an outcome,
 *     not a failure) and for refusals of a transaction that already failed (the first failure's
 *     text is kept).
 *  3. Values are copied out of LMDB memory with memcpy (LMDB guarantees no alignment), never cast.
 *  4. Adding a table: append to enum store_table and to the table list in env.c; bump
 *     STORE_SCHEMA_VERSION when an existing table's layout changes.
 */
#ifndef SL_STORE_STORE_INTERNAL_H
#define SL_STORE_STORE_INTERNAL_H

#include "store/store.h"

#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

/* LMDB's compiled-in default MDB_MAXKEYSIZE; store_open refuses a library built with less.
 * Dupsort data (children) are keys of a sub-database, so the same bound applies to them. */
#define STORE_KEY_BYTES_MAX 511
/* One log line's worth of error text (table, operation, LMDB message, directory). */
#define STORE_ERROR_TEXT_BYTES_MAX 256
/* Named databases the environment may hold: STORE_TABLE_COUNT today, with spare for later schema
 * versions. */
#define STORE_DBS_MAX 32
/* Largest value (ledger entry) accepted: far above any batch ledger/ builds, and well inside
 * LMDB's 32-bit overflow-page arithmetic. */
#define STORE_VALUE_BYTES_MAX (256u << 20)

/* Seqs are stored as size_t: MDB_INTEGERKEY / MDB_INTEGERDUP compare native unsigned int or size_t. */
_Static_assert(sizeof(size_t) == sizeof(uint64_t), "store needs a 64-bit size_t for uint64 seq keys");

/* On-disk value layouts are these structs' raw bytes (native ABI). A change here changes the
 * format: bump STORE_SCHEMA_VERSION, then update the sizes below (docs/storage.md). */
_Static_assert(sizeof(struct store_item) == 224, "store_item layout changed: bump STORE_SCHEMA_VERSION");
_Static_assert(sizeof(struct store_lock) == 56, "store_lock layout changed: bump STORE_SCHEMA_VERSION");
_Static_assert(sizeof(struct store_lot_counters) == 128, "lot counters changed: bump STORE_SCHEMA_VERSION");
_Static_assert(sizeof(struct store_site) == 49, "store_site layout changed: bump STORE_SCHEMA_VERSION");
_Static_assert(sizeof(struct store_key) == 66, "store_key layout changed: bump STORE_SCHEMA_VERSION");
_Static_assert(sizeof(struct store_key_event) == 16, "store_key_event layout changed: bump STORE_SCHEMA_VERSION");
_Static_assert(sizeof(struct store_site_node) == 544, "store_site_node layout changed: bump STORE_SCHEMA_VERSION");
_Static_assert(STORE_LOCK_TARGET_SIZE - 1 <= STORE_KEY_BYTES_MAX, "lock targets must fit a key");
_Static_assert(STORE_SITE_SIZE - 1 <= STORE_KEY_BYTES_MAX, "site ids must fit a key");

enum store_table {
	STORE_TABLE_META,
	STORE_TABLE_LEDGER,
	STORE_TABLE_IDS,
	STORE_TABLE_ITEMS,
	STORE_TABLE_CHILDREN,
	STORE_TABLE_HISTORY,
	STORE_TABLE_LOCKS,
	STORE_TABLE_LOTS,
	STORE_TABLE_SITES,
	STORE_TABLE_KEYS,
	STORE_TABLE_RAFT_LOG,  /* raft_store.h; added without a schema bump: new tables only */
	STORE_TABLE_RAFT_META,
	STORE_TABLE_MERKLE_NODES, /* merkle_store.h; new table, no schema bump */
	STORE_TABLE_KEY_EVENTS,	  /* registry records (registry.c); new tables, no schema bump */
	STORE_TABLE_SITE_NODES,
	STORE_TABLE_COUNT
};
_Static_assert(STORE_TABLE_COUNT <= STORE_DBS_MAX, "raise STORE_DBS_MAX");

struct store {
	MDB_env *env;
	MDB_dbi dbi[STORE_TABLE_COUNT]; /* opened once in store_open, valid until store_close */
	int lock_fd;			/* DIR/LOCK, flock held for the store's life; -1 when not open */
	dev_t lock_dev;			/* identity of DIR/LOCK for the in-process registry */
	ino_t lock_ino;
	pid_t owner_pid;		/* process that opened it (registry entries survive fork) */
	bool registered;		/* present in the in-process registry */
	struct store *registry_next;
	bool read_only;
	bool no_sync;
	bool scratch; /* options.scratch: never synced, not even by store_close */
	atomic_bool writer_active; /* a write transaction is open (single writer) */
	atomic_bool poisoned;	   /* a commit failed: writes refused until reopen */
	atomic_int open_txns;	   /* transactions not yet committed or aborted */
	uint64_t syncs;		   /* store_env_sync calls that succeeded (store_testing.h) */
	int fault_countdown;	   /* store_testing.h: commits until the injected failure; 0 = off */
	int fault_error;
	pthread_mutex_t error_mutex; /* serialises writers of last_error */
	char last_error[STORE_ERROR_TEXT_BYTES_MAX];
	char dir[PATH_MAX];
};

/* Merkle levels cached per transaction (crypto/merkle.h MERKLE_LEVELS_MAX; checked in merkle_tables.c). */
#define STORE_MERKLE_LEVELS 64

/* Copies of values this transaction read or wrote, so the apply hot path does not look them up
 * again (each is a B-tree descent). They stay true because only the owning file writes its
 * table, and it updates the copy after each successful write; they die with the transaction. */
struct store_txn_cache {
	bool ledger_last_known; /* ledger_tables.c: last seq of the ledger table */
	uint64_t ledger_last;
	/* merkle_tables.c: the last node written or read per level; nodes never change (rule 3). */
	struct {
		bool known;
		uint64_t index;
		uint8_t hash[32];
	} merkle[STORE_MERKLE_LEVELS];
	/* lots.c: the row last written by store_lot_add (key bytes and counters). */
	size_t lot_key_len; /* 0: nothing cached */
	char lot_key[STORE_KEY_BYTES_MAX];
	struct store_lot_counters lot_counters;
};

struct store_txn {
	store *st;
	MDB_txn *txn;
	bool write;
	int error; /* first SL_E* failure that left the LMDB txn unusable; 0 while usable */
	struct store_txn_cache cache; /* zeroed by store_txn_begin (calloc) */
	/* Write txns: one cursor per table, opened on first use and closed before the LMDB txn ends.
	 * A cursor put or get starting where the last one left the cursor skips the descent from the
	 * root when the key lies on the same leaf page; LMDB keeps open cursors valid across writes. */
	MDB_cursor *cursors[STORE_TABLE_COUNT];
};

/* LMDB's MDB_val is not const-qualified, but get/put/del never write through keys or data they
 * are given: this drops the qualifier without a cast LMDB would need. */
static inline void *store_mutable(const void *ptr)
{
	return (void *)(uintptr_t)ptr;
}

/* txn.c: errors */
const char *store_table_name(enum store_table table);
int store_error_from_mdb(int mdb_rc);
int store_error_set(store *st, int code, const char *format, ...) __attribute__((format(printf, 3, 4)));
int store_env_mdb_error(store *st, int mdb_rc, const char *op);
int store_env_sync(store *st); /* flush data and meta (mdb_env_sync); counts store_syncs */
int store_txn_mdb_error(store_txn *txn, int mdb_rc, enum store_table table, const char *op);

/* txn.c: shared table helpers */
int store_txn_usable(store_txn *txn, bool write_needed, enum store_table table, const char *op);
int store_key_from_str(store_txn *txn, enum store_table table, const char *op, const char *str, MDB_val *key);
int store_value_get(store_txn *txn, enum store_table table, const char *op, MDB_val *key, MDB_val *data);
int store_value_get_fixed(store_txn *txn, enum store_table table, const char *op, MDB_val *key, void *out,
			  size_t size);
int store_value_put(store_txn *txn, enum store_table table, const char *op, MDB_val *key, MDB_val *data,
		    unsigned flags);
int store_value_del(store_txn *txn, enum store_table table, const char *op, MDB_val *key, MDB_val *data);
int store_cursor_open(store_txn *txn, enum store_table table, const char *op, MDB_cursor **out);
/* Copy a C string field of `size` bytes into a zeroed field (deterministic bytes on disk);
 * false when `src` has no NUL within `size`. */
bool store_str_field_copy(char *dst, const char *src, size_t size);
/* True when the field holds a NUL within its `size` bytes (checked on every read). */
bool store_str_field_valid(const char *field, size_t size);

#endif
