/* replica/replica_internal.h — the replica's structure, shared by the replica/ files only. */
#ifndef SL_REPLICA_REPLICA_INTERNAL_H
#define SL_REPLICA_REPLICA_INTERNAL_H

#include "replica/replica.h"

#include <limits.h>

#define REPLICA_KEPT_STATES (REPLICA_COMPACT_KEEP_MAX + 1)

/* Per-cycle scratch: one slot per committed entry of the Ready (the core bounds a Ready's
 * committed data to RAFT_READY_APPLY_BYTES_MAX), results and records pooled. */
struct replica_scratch {
	struct replica_applied *apps;
	size_t *apps_offset; /* into the pools: pointers are set after the last realloc */
	size_t apps_count;
	size_t apps_cap;
	struct ledger_result *results;
	struct ledger_input *records;
	size_t pool_count; /* results/records used */
	size_t pool_cap;
};

/* The Ready between replica_ready_begin and replica_ready_finish (replica.h "Threads"). The
 * storage thread writes applied, snap and persisted during replica_ready_persist; the loop thread
 * reads them only after the hand-off back. */
struct replica_inflight {
	bool taken;	/* raft_ready handed rd out; raft_advance not yet called */
	bool written;	/* replica_ready_write applied rd into txn */
	bool answered;	/* replica_ready_answer ran the answered hooks */
	bool persisted; /* replica_ready_commit committed rd */
	bool sent;	/* replica_ready_send_early sent rd.messages already */
	bool compact;	/* a compaction was due at begin: snap is the new compaction point */
	struct raft_ready rd;
	store_txn *txn; /* between write and commit: rd's write transaction, open */
	struct store_raft_applied applied; /* what the store holds once rd is persisted */
	struct store_raft_compaction snap;
};

struct replica {
	struct replica_config cfg;
	char dir[PATH_MAX];
	store *st;
	raft *r;
	struct store_raft_applied applied; /* as last committed */
	struct store_raft_compaction snap; /* as last committed */
	struct replica_scratch scratch; /* owned by the in-flight Ready's persist step */
	/* the applied state after each of the last REPLICA_COMPACT_KEEP_MAX + 1 applied entries, at
	 * [index % REPLICA_KEPT_STATES] (replica.h rule 8; loop thread: written at finish, read at
	 * begin); NULL when compact_keep is 0 */
	struct store_raft_applied *kept;
	struct replica_inflight inflight;
};

/* snapshot.c */
int replica_snapshot_install(replica *rp, store_txn *txn, const struct raft_snapshot_meta *meta,
			     const struct replica_hooks *hooks, struct store_raft_applied *applied,
			     struct store_raft_compaction *snap);
void replica_conf_to_store(const struct raft_conf_state *conf, struct store_raft_compaction *c);
void replica_conf_from_store(const struct store_raft_compaction *c, struct raft_conf_state *conf);
void replica_hash_step(uint8_t hash[REPLICA_HASH_BYTES], const uint8_t *entry, size_t len);

#endif
