/* store/raft_store.h — Raft state in the node's LMDB environment, and raw scans of the lifecycle
 * tables (LMDB only: no consensus/ or crypto/ types; replica/ converts).
 *
 * Tables (added to store.h's list; created on open, empty in older data directories):
 *   raft_log   index (uint64, MDB_INTEGERKEY) → term (u64 LE) || type (u8) || data
 *   raft_meta  name → fixed struct: "hard" store_raft_hard_state, "snap" store_raft_compaction,
 *              "applied" store_raft_applied
 *
 * Rules:
 *  1. Writes go into the caller's write transaction, so the replica persists log entries, hard
 *     state, the application of committed entries and the applied index in ONE commit
 *     (DESIGN.md "The path of one record", step 4).
 *  2. store_raft_log_put overwrites; store_raft_log_truncate(from) deletes every index >= from
 *     (Raft §3.5 conflict truncation); store_raft_log_compact(through) deletes every index <=
 *     through (§5.1). Data pointers returned by get/iterate are LMDB memory (store.h rule 3).
 *  3. *_get of a raft_meta struct returns SL_ENOENT with the output zeroed when never written.
 *  4. store_scan_lifecycle visits items, children, locks and lots in table order, key order,
 *     handing out raw key and value bytes (valid during the callback only); table ids are the
 *     STORE_SCAN_* constants. The callback returns 0 to continue (store.h rule 6).
 */
#ifndef SL_STORE_RAFT_STORE_H
#define SL_STORE_RAFT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define STORE_RAFT_MEMBERS_MAX 16 /* voters + learners of one configuration (raft.h: 9 + 7) */
#define STORE_RAFT_HASH_BYTES 32  /* running state hash kept by the replica (SHA-256 size) */

struct store_raft_hard_state {
	uint64_t term;
	uint64_t vote;
	uint64_t commit;
};

/* Compaction point: raft index/term, membership at that index, and the ledger as of it. */
struct store_raft_compaction {
	uint64_t index;
	uint64_t term;
	uint64_t voters[STORE_RAFT_MEMBERS_MAX];
	uint64_t learners[STORE_RAFT_MEMBERS_MAX];
	uint32_t voters_count;
	uint32_t learners_count;
	uint64_t ledger_seq;	 /* ledger entries produced by raft entries <= index */
	uint64_t ledger_time_ms; /* ledger time of the last of them (monotonic clamp) */
	uint8_t state_hash[STORE_RAFT_HASH_BYTES]; /* the replica's running hash as of index */
};

/* What the application has applied: the last raft index and the ledger state after it. */
struct store_raft_applied {
	uint64_t index;
	uint64_t ledger_seq;
	uint64_t ledger_time_ms;
	uint8_t state_hash[STORE_RAFT_HASH_BYTES];
};

/* raft log */
int store_raft_log_put(store_txn *txn, uint64_t index, uint64_t term, uint8_t type, const uint8_t *data,
		       size_t len);
int store_raft_log_get(store_txn *txn, uint64_t index, uint64_t *term, uint8_t *type, const uint8_t **data,
		       size_t *len); /* SL_ENOENT */
int store_raft_log_truncate(store_txn *txn, uint64_t from_index);
int store_raft_log_compact(store_txn *txn, uint64_t through_index);
/* Entries with index >= first in index order; *last_out (may be NULL) = last index, 0 if none. */
int store_raft_log_iterate(store_txn *txn, uint64_t first,
			   int (*cb)(void *ctx, uint64_t index, uint64_t term, uint8_t type, const uint8_t *data,
				     size_t len),
			   void *ctx);
int store_raft_log_last(store_txn *txn, uint64_t *last_index); /* 0 when empty */

/* raft meta */
int store_raft_hard_state_put(store_txn *txn, const struct store_raft_hard_state *hs);
int store_raft_hard_state_get(store_txn *txn, struct store_raft_hard_state *out);
int store_raft_compaction_put(store_txn *txn, const struct store_raft_compaction *c);
int store_raft_compaction_get(store_txn *txn, struct store_raft_compaction *out);
int store_raft_applied_put(store_txn *txn, const struct store_raft_applied *a);
int store_raft_applied_get(store_txn *txn, struct store_raft_applied *out);

/* lifecycle state scan */
enum store_scan_table { STORE_SCAN_ITEMS = 1, STORE_SCAN_CHILDREN = 2, STORE_SCAN_LOCKS = 3, STORE_SCAN_LOTS = 4 };
int store_scan_lifecycle(store_txn *txn,
			 int (*cb)(void *ctx, int table, const void *key, size_t key_len, const void *value,
				   size_t value_len),
			 void *ctx);

#endif
