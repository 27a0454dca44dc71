/* replica/replica.h — one replica of the ledger: the Raft core glued to the store and to apply.
 *
 * Owns: a node's store (one LMDB environment), its raft core, and the Ready cycle that joins them.
 * Shared by the simulator (simulations/) and the node (node/). Depends on consensus/, ledger/,
 * store/ and crypto/. Design notes: docs/simulation.md "Replica".
 *
 * One Ready cycle (replica_cycle) is ONE LMDB write transaction (DESIGN.md "The path of one
 * record", step 4; raft.h "The loop"):
 *     compact (when due) → install the snapshot (if any) → truncate/append raft log entries →
 *     hard state → apply every committed entry with ledger_apply_batch_txn → applied index and
 *     running state hash → commit: durable when the Ready must be (rd.must_sync: entries, term or
 *     vote), else undoable (store_txn_commit_undoable: data flushed, meta not; rule 6)
 * then, and only then: hooks.persisted, hooks.send for every message (raft.h Rule 1: a leader's
 * may go before the transaction, replica_ready_send_early),
 * hooks.applied for every applied entry, raft_advance. Between the apply and the commit,
 * hooks.answered sees every applied entry (rule 7: a client may be told its outcome).
 *
 * Rules:
 *  1. Entry data of a normal entry is a batch (replica_batch_encode): a canonical msgpack array
 *     [ledger time ms, [record bytes...]] stamped by the leader. Apply clamps the time to the
 *     previous batch's (max(stamped, previous)), so ledger time is monotonic on every replica
 *     and deterministic. A batch that does not decode applies as no records, identically
 *     everywhere (only replica_propose writes batches; this is defence, not a path).
 *  2. When replica_cycle fails (store error, failed commit, divergence) nothing after the failed
 *     step happened and the replica must be closed and reopened (the store is poisoned after a
 *     failed commit: never continue past it, CONVENTIONS.md 6).
 *  3. Running state hash: h' = SHA-256(h || ledger entry bytes) for every ledger entry appended,
 *     from h = 32 zero bytes. It is stored with the applied index, so replicas that applied
 *     the same raft index must hold the same hash.
 *  4. Snapshot = the ledger (DESIGN.md "Consensus"): replica_snapshot_export packs the ledger
 *     entries up to the compaction point plus its metadata; the receiver compares the entries it
 *     already has byte for byte, re-applies the others record by record at their ledger time
 *     and compares the entries it wrote with those shipped, then the running hash. Any
 *     difference is a divergence: SL_ECORRUPT from replica_cycle and hooks.diverged.
 *  5. Pointers handed to hooks are valid during the hook only.
 *  6. A Ready that promises nothing only applies (and may compact, or move the commit index):
 *     its transaction is committed undoable (docs/decisions.md D24). An OS crash may then leave
 *     the store's applied index, commit index and compaction point behind what was published;
 *     on reopen the committed entries after the applied index, all in the durable log, apply
 *     again and give the same ledger (rule 3; apply is deterministic).
 *  7. An outcome is fixed by the committed log, which a majority holds durably (Raft §3.6), and
 *     apply is deterministic (rule 3): every replica that applies the entry gets the same
 *     outcomes, before or after a crash. So hooks.answered may tell a client its outcomes once
 *     the entry is applied into the cycle's transaction, before that transaction commits
 *     (docs/decisions.md D25). Nothing else of the cycle is published before finish: readers
 *     of the store, hooks.applied and replica_applied_get see the entry after the commit.
 *  8. Compaction (docs/decisions.md D29) is due when compact_every entries were applied past the
 *     compaction point, and moves it to the applied index less compact_keep (the applied state
 *     there, kept from the last REPLICA_COMPACT_KEEP_MAX finishes, is the snapshot's: ledger
 *     size, time, running hash), so a follower that many entries behind catches up from the
 *     log, not by snapshot; until that state is known (after a restart) it waits. It is also due,
 *     to the applied index, whenever the in-memory log holds compact_bytes: the raft core
 *     refuses proposals at RAFT_LOG_BYTES_MAX, and a count alone would never come due then.
 *
 * Threads. replica_cycle is three steps, which a caller may run on two threads (the node does,
 * docs/decisions.md D15; the simulator runs replica_cycle on one):
 *     replica_ready_begin    loop thread    compaction point (raft_compact), raft_ready
 *     (replica_ready_send_early loop thread  a leader's messages, before its write; optional)
 *     replica_ready_write    storage thread the write transaction above, not committed; reads the
 *                                           in-flight Ready and writes the store, the replica's
 *                                           scratch and its copy of the applied state; calls
 *                                           hooks.snapshot_data and hooks.diverged on this thread
 *     (replica_ready_answer  loop thread    hooks.answered for the applied entries; optional,
 *                                           once written, while or after the commit runs)
 *     replica_ready_commit   storage thread commits the write transaction (rule 6)
 *     (replica_ready_persist = write, then commit, on one thread)
 *     replica_ready_finish   loop thread    publishes the applied state, then hooks.persisted,
 *                                           hooks.send, hooks.applied, raft_advance
 *  T1. The write and commit steps never touch the raft core; commit does not touch the scratch
 *      that replica_ready_answer reads, so the two may run at once. Between begin and finish the
 *      loop thread may use the core (raft_step, raft_tick, replica_propose, ...: raft.h rule 2),
 *      replica_raft, replica_applied_get (as of the last finish), replica_snapshot_export,
 *      replica_snapshot_point,
 *      replica_lifecycle_hash, replica_ready_answer once the write returned (the hand-off
 *      synchronises), and its own read transactions on replica_store (LMDB readers never
 *      block the writer; the store opens with MDB_NOTLS). It must not call replica_ready_begin,
 *      replica_cycle or replica_close until finish, nor free what hooks.snapshot_data returns.
 *  T2. One Ready in flight: begin → (write → commit, or persist, when
 *      replica_ready_needs_persist) → finish, in that order, each once. The replica has no locks: the caller's hand-off between threads
 *      must synchronise (a mutex, or uv_async_send / uv_queue_work, which do).
 *  T3. A failed write, commit or persist leaves the replica as a failed replica_cycle does (rule
 *      2): close it (a written transaction never committed is aborted by replica_close).
 */
#ifndef SL_REPLICA_REPLICA_H
#define SL_REPLICA_REPLICA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consensus/raft.h"
#include "ledger/apply.h"
#include "store/raft_store.h"
#include "store/store.h"
#include "util/buf.h"

#define REPLICA_BATCH_RECORDS_MAX 256 /* records per raft entry: bounds one apply call and its results */
#define REPLICA_HASH_BYTES STORE_RAFT_HASH_BYTES
/* One exported ledger (D28): the sender writes it to a file and maps it, the receiver to a file
 * whose space it reserves first, so it is bounded by disk, not memory; this bounds what a peer
 * can make a receiver reserve. */
#define REPLICA_SNAPSHOT_BYTES_MAX (64ULL << 30)
#define REPLICA_COMPACT_KEEP_MAX 4096 /* entries a compaction may leave for slow followers */
#define REPLICA_COMPACT_BYTES_DEFAULT (RAFT_LOG_BYTES_MAX / 2)

_Static_assert(REPLICA_BATCH_RECORDS_MAX <= APPLY_BATCH_RECORDS_MAX, "a batch is one apply call");

typedef struct replica replica;

struct replica_config {
	struct raft_config raft;
	const char *dir;		/* the data directory (store_open) */
	struct store_options store;
	unsigned verify_threads;	/* ledger apply's verify threads; 0 = one per core */
	uint64_t compact_every;		/* compact the log once this many entries are applied past the
					 * compaction point; 0 = never (rule 8) */
	uint64_t compact_keep;		/* entries a compaction leaves in the log for followers a little
					 * behind, at most REPLICA_COMPACT_KEEP_MAX; 0 = none (rule 8) */
	uint64_t compact_bytes;		/* compact (keeping no entries) once the in-memory log holds
					 * this many data bytes, 0 = REPLICA_COMPACT_BYTES_DEFAULT (rule 8) */
	crypto_verify_cache *verified;	/* optional: signatures verified before proposing (the node's
					 * thread pool, D15), not verified again by apply; NULL = none */
};

/* One applied raft entry (hooks.applied). */
struct replica_applied {
	uint64_t index;
	uint64_t term;
	uint8_t type;			/* enum raft_entry_type */
	const uint8_t *data;		/* the raft entry's data */
	size_t len;
	uint64_t ledger_time_ms;	/* after the clamp (rule 1) */
	const struct ledger_result *results; /* one per record of the batch */
	size_t results_count;
	const struct ledger_input *records;  /* the batch's records, same order */
	uint64_t ledger_seq;		/* ledger size after this entry */
	uint8_t state_hash[REPLICA_HASH_BYTES]; /* running hash after this entry (rule 3) */
	bool snapshot;			/* installed from a snapshot: index is the snapshot's, no data */
};

struct replica_hooks {
	void *ctx;
	/* every entry made durable by this cycle, in order (may be NULL) */
	void (*persisted)(void *ctx, const struct raft_entry *entry);
	/* a message to deliver to msg->to (required) */
	void (*send)(void *ctx, const struct raft_msg *msg);
	/* an entry applied by this cycle, after its commit (may be NULL) */
	void (*applied)(void *ctx, const struct replica_applied *applied);
	/* an entry applied by this cycle, before its commit (rule 7; may be NULL): its outcomes are
	 * final, the store does not show them yet; called by replica_ready_answer */
	void (*answered)(void *ctx, const struct replica_applied *applied);
	/* the bytes of the snapshot this cycle installs (as exported by the sender); required when
	 * snapshots can occur. Return 0 with data and len set, or a negative code (cycle fails).
	 * Called by the persist step (storage thread); data must stay valid until finish (T1). */
	int (*snapshot_data)(void *ctx, const struct raft_snapshot_meta *meta, const uint8_t **data, size_t *len);
	/* a divergence found while installing a snapshot (may be NULL); persist step's thread */
	void (*diverged)(void *ctx, const char *what);
	/* ReadIndex answers of this Ready (raft_read_index, §6.4), after the applied state was
	 * published and before the applied hooks (may be NULL); finish step's thread */
	void (*read_states)(void *ctx, const struct raft_read_state *states, size_t count);
};

/* Open (creating when new) the store in config->dir and restore the raft core from it: a store
 * without raft state starts the core new (config->raft.initial bootstraps), otherwise the state
 * read back wins. */
int replica_open(const struct replica_config *config, replica **out);
/* Drop everything in memory (nothing is written): a crash, or a clean stop between cycles. */
void replica_close(replica *rp);

raft *replica_raft(replica *rp);
store *replica_store(replica *rp);
/* Applied index, ledger size and time, running hash (as last committed). */
void replica_applied_get(const replica *rp, struct store_raft_applied *out);

/* Leader: propose one batch stamped with ledger_time_ms. RAFT_* codes from raft_propose;
 * SL_EINVAL for 0 or more than REPLICA_BATCH_RECORDS_MAX records. */
int replica_propose(replica *rp, uint64_t ledger_time_ms, const struct ledger_input *records, size_t count,
		    uint64_t *index_out);

/* Run one Ready cycle when the core has one: begin, persist, finish on the calling thread.
 * Returns 1 when a cycle ran, 0 when there was nothing to do, a negative SL_E* code on failure
 * (rule 2). */
int replica_cycle(replica *rp, const struct replica_hooks *hooks);

/* The cycle's steps ("Threads"). begin: 1 when a Ready was taken, 0 when the core has none,
 * SL_EINVAL when a taken Ready was not finished or a failed replica was not closed. */
int replica_ready_begin(replica *rp);
/* False when the taken Ready changes nothing durable (no snapshot, entries, hard state,
 * committed entries or compaction): the caller may skip persist and finish at once. (The
 * simulator's replica_cycle always persists: its disk faults count commits.) */
bool replica_ready_needs_persist(const replica *rp);
/* Loop thread, after begin and before persist: send the taken Ready's messages now when the core
 * allows it (rd.messages_early: a leader's appends and heartbeats, raft.h Rule 1, §10.2.1), so
 * the followers write while this node does; finish then sends nothing. A no-op otherwise. */
void replica_ready_send_early(replica *rp, const struct replica_hooks *hooks);
/* The write transaction of the taken Ready, applied and left open: 0, or a negative SL_E* code (T3). */
int replica_ready_write(replica *rp, const struct replica_hooks *hooks);
/* True once written when the Ready applied entries (replica_ready_answer has something to say). */
bool replica_ready_answerable(const replica *rp);
/* Loop thread, once written (rule 7, T1): hooks.answered for every applied entry, once. */
void replica_ready_answer(replica *rp, const struct replica_hooks *hooks);
/* Commit the written transaction (rule 6): 0, or a negative SL_E* code (T3). */
int replica_ready_commit(replica *rp);
/* write, then commit: 0, or a negative SL_E* code (T3). */
int replica_ready_persist(replica *rp, const struct replica_hooks *hooks);
/* Publish, send, tell, advance. Only after a successful persist, or when none was needed. */
void replica_ready_finish(replica *rp, const struct replica_hooks *hooks);

/* The ledger as of the compaction point, for a follower behind it (rule 4). *meta_out = that
 * point. SL_ENOENT when the log was never compacted. */
int replica_snapshot_export(replica *rp, struct sl_buf *out, struct raft_snapshot_meta *meta_out);
/* The same export in pieces: the compaction point as of the last finish (loop thread; copy it),
 * then replica_snapshot_write of that copy on any thread (its own read transaction on st; the
 * ledger below a compaction point never changes). write gets the bytes in order and returns 0 or
 * a negative code, which stops the export and is returned. */
const struct store_raft_compaction *replica_snapshot_point(const replica *rp);
/* Suffixes (D30): what a receiver holding first_seq - 1 entries lacks is the suffix header then
 * the export's entries from first_seq on (their bytes as in the export). replica_snapshot_suffix_header
 * builds the header from an export's first REPLICA_SNAPSHOT_SUFFIX_HEADER_BYTES - 8 bytes;
 * replica_snapshot_first_seq reads where shipped data starts: 1 for a whole export, first_seq for
 * a suffix (SL_EINVAL: neither). Installing a suffix that does not start right after the
 * receiver's last entry fails the cycle: check it first (a suffix may start earlier: the entries
 * the receiver holds are compared, as with a whole export). */
#define REPLICA_SNAPSHOT_SUFFIX_HEADER_BYTES (8 + 5 * 8 + REPLICA_HASH_BYTES)
int replica_snapshot_suffix_header(const uint8_t *export_header, size_t len, uint64_t first_seq,
				   uint8_t out[REPLICA_SNAPSHOT_SUFFIX_HEADER_BYTES]);
int replica_snapshot_first_seq(const uint8_t *data, size_t len, uint64_t *first);
/* The suffix of a whole export for a receiver holding `held` entries (1..ledger_seq), appended to
 * out (the simulator and tests; a node streams the export's bytes after the header instead). */
int replica_snapshot_suffix(const uint8_t *data, size_t len, uint64_t held, struct sl_buf *out);
/* Where entry seq starts in a whole export (seq = ledger_seq + 1: its end). SL_EINVAL, SL_ETRUNCATED. */
int replica_snapshot_entry_offset(const uint8_t *data, size_t len, uint64_t seq, size_t *offset);
/* The same from a known start: entry from_seq starts at from_offset (an index of a few). */
int replica_snapshot_entry_walk(const uint8_t *data, size_t len, uint64_t from_seq, size_t from_offset, uint64_t seq,
				size_t *offset);
int replica_snapshot_write(store *st, const struct store_raft_compaction *point,
			   int (*write)(void *ctx, const uint8_t *bytes, size_t len), void *ctx,
			   struct raft_snapshot_meta *meta_out);

/* SHA-256 over the lifecycle tables (items, children, locks, lots; key and value bytes). */
int replica_lifecycle_hash(replica *rp, uint8_t out[REPLICA_HASH_BYTES]);

/* Batch codec (rule 1). decode borrows: records point into bytes; at most cap records. */
int replica_batch_encode(uint64_t ledger_time_ms, const struct ledger_input *records, size_t count,
			 struct sl_buf *out);
int replica_batch_decode(const uint8_t *bytes, size_t len, uint64_t *ledger_time_ms, struct ledger_input *records,
			 size_t cap, size_t *count);

#endif
