/* store/store.h — the node's LMDB environment: append-only ledger and its indexes (LMDB only).
 *
 * Owns: one LMDB environment per data directory, its named databases, transactions, and the
 * process lock on the directory. It knows the shape of each table but not the lifecycle rules
 * (ledger/ does): status and counter values are opaque small integers here.
 *
 * Tables (named LMDB databases):
 *   meta       name (str) → value bytes (schema version, site of this data dir, ...)
 *   ledger     seq (uint64, 1-based) → entry bytes                 append-only (MDB_APPEND)
 *   ids        record id (32 bytes) → seq
 *   items      item id (str) → struct store_item
 *   children   parent item id → child item id                     dupsort
 *   history    item id → seq                                      dupsort, dupfixed, integer
 *   locks      lock target (item id, lot key or GTIN key) → struct store_lock
 *   lots       lot key + '\0' + site → struct store_lot_counters
 *   sites      site id → struct store_site
 *   keys       key id (16 bytes) → struct store_key
 *   key_events key id → struct store_key_event (keys added or revoked by registry records)
 *   site_nodes site id → struct store_site_node (sites added or removed by registry records)
 *   raft_log, raft_meta (store/raft_store.h) and the Merkle tables (store/merkle_store.h)
 *
 * Rules:
 *  1. store_open takes an exclusive lock on DIR/LOCK (flock); a directory another process holds
 *     is refused with SL_EBUSY. The lock is released by store_close or process exit.
 *  2. One write transaction at a time (single writer); read transactions never block it.
 *     A transaction is used by one thread.
 *  3. Pointers returned by *_get functions point into LMDB memory: valid only until the end of
 *     the transaction or the next write in it (as mdb_get). Structs are copied out.
 *  4. Sticky failure: when a commit (or its fsync) fails, the store is poisoned and every later
 *     write transaction is refused with SL_EPOISONED until the store is closed and reopened.
 *     Nothing of the failed transaction is visible (LMDB atomicity).
 *  5. MDB_MAP_FULL and disk-full errors are reported as SL_ENOSPC; other LMDB errors as SL_EIO
 *     or SL_ECORRUPT. The LMDB error text is kept in store_last_error() for logs.
 *  6. Iteration callbacks return 0 to continue, non-zero to stop (that value is returned).
 */
#ifndef SL_STORE_STORE_H
#define SL_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION 1
#define STORE_MAP_BYTES_DEFAULT (64ULL << 30) /* address space only; the file grows as used */
#define STORE_SITE_SIZE 33		      /* site id up to 32 chars + NUL (record.h) */
#define STORE_ITEM_ID_SIZE 43		      /* GS1_ITEM_ID_SIZE (gs1.h) */
#define STORE_LOCK_TARGET_SIZE 43	      /* item id, lot key or GTIN key + NUL */
#define STORE_LOT_COUNTERS 16		      /* counter slots per (lot, site); meaning set by ledger/ */
#define STORE_META_VALUE_BYTES_MAX 4096

typedef struct store store;
typedef struct store_txn store_txn;

struct store_options {
	uint64_t map_bytes; /* 0 = STORE_MAP_BYTES_DEFAULT */
	bool no_sync;	    /* tests and benchmarks of non-durable mode only; never in production */
	bool scratch;	    /* a throwaway store its caller deletes once closed (the audit's replay):
			     * no_sync, and store_close does not sync it either */
	bool read_only;	    /* open without the write lock: for read-only tools (shared lock) */
};

struct store_item {
	uint8_t kind;	/* enum gs1_kind */
	uint8_t status; /* enum item_status (ledger/lifecycle.h) */
	uint8_t reason; /* decommission reason when decommissioned, else 0 */
	uint8_t flags;	/* ledger/lifecycle.h ITEM_FLAG_* */
	uint32_t child_count;
	uint64_t status_time_ms; /* ledger time of the last status change */
	uint64_t commission_seq; /* ledger seq of the commissioning entry */
	uint64_t status_seq;	 /* ledger seq of the last status change */
	char site[STORE_SITE_SIZE];	   /* where it is (the sender while in transit) */
	char destination[STORE_SITE_SIZE]; /* in transit: to whom; else "" */
	char status_site[STORE_SITE_SIZE]; /* site of the last status change record (revert rule) */
	char parent[STORE_ITEM_ID_SIZE];   /* containing container, "" when none */
	char gtin[15];			   /* packs: GTIN-14 */
	char lot[21];
	char expiry[7];
};

struct store_lock {
	uint8_t reasons; /* bit (1 << enum lock_reason) per active lock */
	uint8_t scope;	 /* enum lock_scope */
	uint64_t seq;	 /* ledger seq of the most recent lock */
	char site[STORE_SITE_SIZE];
};

struct store_lot_counters {
	uint64_t counts[STORE_LOT_COUNTERS];
};

struct store_site {
	uint8_t active;
	uint8_t public_key[32];
	uint8_t key_id[16];
};

struct store_key {
	uint8_t revoked;
	uint8_t public_key[32];
	char site[STORE_SITE_SIZE];
};

/* The revocation index (ledger/lifecycle.h "Registry"): when a registry record added or revoked a
 * key. A key without a row was registered at init and never revoked. */
struct store_key_event {
	uint64_t added_seq;   /* ledger seq of the site-add or key-add record; 0 = registered at init */
	uint64_t revoked_seq; /* ledger seq of the key-revoke record; 0 = in force */
};

#define STORE_ADDR_SIZE 256 /* node address up to 255 bytes + NUL (RECORD_ADDR_CHARS_MAX) */

/* A site's node as a registry record announced it; sites registered at init have no row until
 * they are removed (node_id 0: their nodes come from the node configuration files). */
struct store_site_node {
	uint64_t node_id;     /* raft id; 0 = unknown here */
	uint64_t added_seq;   /* ledger seq of the site-add record; 0 = registered at init */
	uint64_t removed_seq; /* ledger seq of the site-remove record; 0 = registered */
	uint8_t role;	      /* enum registry_role (ledger/record.h); 0 = unknown */
	char peer_addr[STORE_ADDR_SIZE];
	char client_addr[STORE_ADDR_SIZE];
};

int store_open(store **out, const char *dir, const struct store_options *options);
void store_close(store *st);
const char *store_last_error(const store *st); /* NULL: why this thread's last store_open failed */
bool store_is_poisoned(const store *st);

int store_txn_begin(store *st, bool write, store_txn **out);
int store_txn_commit(store_txn *txn); /* frees txn in all cases; poisons the store on failure */
/* As store_txn_commit, but an OS crash (not a process crash) may undo this transaction and any
 * undoable one since the last store_txn_commit; the store stays intact (txn.c invariant 6). The
 * next store_txn_commit, or store_close, makes them durable. */
int store_txn_commit_undoable(store_txn *txn);
int store_txn_commit_undoable(store_txn *txn);
void store_txn_abort(store_txn *txn); /* frees txn */

/* meta */
int store_meta_put(store_txn *txn, const char *name, const void *value, size_t len);
int store_meta_get(store_txn *txn, const char *name, const void **value, size_t *len); /* SL_ENOENT */

/* ledger */
int store_ledger_append(store_txn *txn, const uint8_t *entry, size_t len, uint64_t *seq_out);
int store_ledger_get(store_txn *txn, uint64_t seq, const uint8_t **entry, size_t *len);
int store_ledger_count(store_txn *txn, uint64_t *count);
/* Entries from `first` (1-based) on, in order, at most `limit` (0 = all). */
int store_ledger_iterate(store_txn *txn, uint64_t first, uint64_t limit,
			 int (*cb)(void *ctx, uint64_t seq, const uint8_t *entry, size_t len), void *ctx);

/* record ids: put returns SL_EEXIST when present */
int store_id_put(store_txn *txn, const uint8_t id[32], uint64_t seq);
int store_id_get(store_txn *txn, const uint8_t id[32], uint64_t *seq); /* SL_ENOENT */

/* items */
int store_item_get(store_txn *txn, const char *item_id, struct store_item *out); /* SL_ENOENT */
int store_item_put(store_txn *txn, const char *item_id, const struct store_item *item);

/* children */
int store_child_add(store_txn *txn, const char *parent, const char *child);
int store_child_del(store_txn *txn, const char *parent, const char *child); /* SL_ENOENT */
int store_children_iterate(store_txn *txn, const char *parent,
			   int (*cb)(void *ctx, const char *child, size_t len), void *ctx);

/* history */
int store_history_add(store_txn *txn, const char *item_id, uint64_t seq);
int store_history_iterate(store_txn *txn, const char *item_id, int (*cb)(void *ctx, uint64_t seq), void *ctx);

/* locks */
int store_lock_get(store_txn *txn, const char *target, struct store_lock *out); /* SL_ENOENT */
int store_lock_put(store_txn *txn, const char *target, const struct store_lock *lock);
int store_lock_del(store_txn *txn, const char *target); /* SL_ENOENT */

/* lot counters (per lot key and site); add applies a signed delta to one slot, refusing underflow
 * with SL_ECORRUPT */
int store_lot_add(store_txn *txn, const char *lot_key, const char *site, unsigned slot, int64_t delta);
int store_lot_get(store_txn *txn, const char *lot_key, const char *site,
		  struct store_lot_counters *out); /* SL_ENOENT with out zeroed */
int store_lot_iterate(store_txn *txn, const char *lot_key,
		      int (*cb)(void *ctx, const char *site, const struct store_lot_counters *counters), void *ctx);

/* registry */
int store_site_put(store_txn *txn, const char *site, const struct store_site *value);
int store_site_get(store_txn *txn, const char *site, struct store_site *out); /* SL_ENOENT */
int store_site_iterate(store_txn *txn, int (*cb)(void *ctx, const char *site, const struct store_site *value),
		       void *ctx);
int store_key_put(store_txn *txn, const uint8_t key_id[16], const struct store_key *value);
int store_key_get(store_txn *txn, const uint8_t key_id[16], struct store_key *out); /* SL_ENOENT */
int store_key_iterate(store_txn *txn, int (*cb)(void *ctx, const uint8_t key_id[16], const struct store_key *value),
		      void *ctx);
int store_key_event_put(store_txn *txn, const uint8_t key_id[16], const struct store_key_event *value);
int store_key_event_get(store_txn *txn, const uint8_t key_id[16], struct store_key_event *out); /* SL_ENOENT */
int store_site_node_put(store_txn *txn, const char *site, const struct store_site_node *value);
int store_site_node_get(store_txn *txn, const char *site, struct store_site_node *out); /* SL_ENOENT */
int store_site_node_iterate(store_txn *txn,
			    int (*cb)(void *ctx, const char *site, const struct store_site_node *value), void *ctx);

/* Memory (store/pages.c): drop the pages of the map this process has read (madvise), so a scan
 * over a large store keeps a bounded resident set. Safe at any time and with transactions open:
 * data and earlier pointers are unaffected, the next read faults pages back from the page cache.
 * _trim does it only when the process's resident file-backed pages exceed mapped_max bytes. */
int store_map_release(store *st);
int store_txn_map_release(store_txn *txn);
int store_map_trim(store *st, uint64_t mapped_max);
int store_txn_map_trim(store_txn *txn, uint64_t mapped_max);

#endif
