/* consensus/raft.h — the Raft consensus core: a pure state machine in the etcd style.
 *
 * The core does no I/O, reads no clock and owns no random source: time is raft_tick(), the
 * network is raft_step() in and Ready.messages out, the disk is Ready.hard_state/entries/snapshot
 * out and raft_create(restored) in, randomness is a generator seeded from raft_config.seed.
 * Citations are to Ongaro, "Consensus: Bridging Theory and Practice", 2014 (§ numbers); the full
 * protocol notes and the scenario language are in docs/consensus.md. Depends on libc only.
 *
 * The loop (one thread owns a raft at a time; nothing here is thread-safe):
 *
 *     raft_tick / raft_step / raft_propose / ...     (any number of calls)
 *     if (raft_has_ready(r)) {
 *             raft_ready(r, &rd);
 *             1. persist rd.snapshot (if has_snapshot), rd.entries (replacing every stored entry
 *                with index >= rd.entries[0].index) and rd.hard_state (if has_hard_state);
 *                fsync when rd.must_sync;
 *             2. only then send rd.messages (Rule 1; when rd.messages_early, any time from
 *                raft_ready on, before step 1 included);
 *             3. apply rd.committed in order (entries and the store's applied index may go into
 *                the same atomic transaction as step 1, never before it);
 *             4. raft_advance(r, &rd);
 *     }
 *
 * Rules:
 *  1. Persist before you promise (§3.8, etcd node.go): Ready.messages may be sent only after
 *     the same Ready's hard state, entries and snapshot are durable. A vote response is in the
 *     same Ready as the vote it reports, so sending early could grant two votes in one term.
 *     One exception (§10.2.1): Ready.messages_early is set when the Ready is a leader's whose
 *     term and vote are durable already (no snapshot, hard state at most a new commit index).
 *     Its messages (appends, heartbeats, ...) promise nothing about its own disk: the leader
 *     counts itself toward a commit only for entries made durable (raft_advance), so they may
 *     leave while its entries are being written, and the followers' writes overlap its own.
 *  2. Ownership: everything a Ready points to (entries, their data, messages, read states) is
 *     owned by the core and valid until raft_advance() for that Ready. Calling raft_step,
 *     raft_tick, raft_propose, ... between raft_ready and raft_advance is allowed and does not
 *     invalidate the outstanding Ready; raft_ready may not be called again before raft_advance.
 *  3. Input is borrowed: raft_step and raft_create copy what they keep (entry data included);
 *     raft_propose copies the proposal's bytes. The caller may free its buffers on return.
 *  4. raft_msg_decode borrows: decoded entry data points into the input bytes.
 *  5. Membership changes take effect on a node when their entry is applied (raft_advance after
 *     the Ready that carried it in `committed`), one single-server change at a time (§4.1-4.3).
 *     The node bootstraps a fresh cluster from raft_config.initial; after a restart the state
 *     restored from disk wins and raft_config.initial is ignored.
 *  6. Bad input (a malformed or stale message, a bad argument) returns a negative RAFT_E* code
 *     and leaves the state unchanged; assertions guard only the core's own invariants.
 *  7. Empty normal entries are the leader's no-op at the start of each term (§5.4.2, §6.4);
 *     the application skips them. raft_propose refuses empty data.
 */
#ifndef SL_CONSENSUS_RAFT_H
#define SL_CONSENSUS_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- limits: every queue, message and set is bounded ---- */
#define RAFT_VOTERS_MAX 9 /* 9 voters tolerate 4 failures; more only slows commits */
#define RAFT_LEARNERS_MAX 7 /* read-only replicas (auditors) */
#define RAFT_NODES_MAX (RAFT_VOTERS_MAX + RAFT_LEARNERS_MAX)
#define RAFT_ENTRY_BYTES_MAX (1u << 20) /* one entry's data: a batch of records (64 KiB each) */
#define RAFT_MSG_ENTRIES_MAX 64 /* entries in one append message */
#define RAFT_MSG_BYTES_MAX (4u << 20) /* one encoded message, entries included */
#define RAFT_INFLIGHT_MSGS_MAX 256 /* ceiling for raft_config.max_inflight_msgs */
#define RAFT_INFLIGHT_BYTES_MAX (64u << 20) /* ceiling for raft_config.max_inflight_bytes */
#define RAFT_LOG_ENTRIES_MAX (1u << 20) /* in-memory log between compaction point and last index */
#define RAFT_LOG_BYTES_MAX (256u << 20) /* data bytes of that in-memory log */
#define RAFT_UNCOMMITTED_ENTRIES_MAX 4096 /* pending proposals a leader holds before refusing */
#define RAFT_UNCOMMITTED_BYTES_MAX (32u << 20) /* their data bytes */
#define RAFT_READS_PENDING_MAX 256 /* ReadIndex requests waiting for a quorum */
#define RAFT_READY_MSGS_MAX 1024 /* messages queued for one Ready; more are dropped (retried) */
#define RAFT_READY_APPLY_BYTES_MAX (8u << 20) /* committed data per Ready (at least one entry) */
#define RAFT_ELECTION_TICKS_MAX 100000 /* sanity bound for the election timeout */

_Static_assert(RAFT_VOTERS_MAX % 2 == 1, "an odd voter maximum: an even one adds no tolerance");
_Static_assert(RAFT_ENTRY_BYTES_MAX + 4096 <= RAFT_MSG_BYTES_MAX, "one entry always fits a message");
_Static_assert(RAFT_ENTRY_BYTES_MAX <= RAFT_UNCOMMITTED_BYTES_MAX, "one proposal always fits");

/* ---- errors: 0 on success, a negative code otherwise ---- */
#define RAFT_ERROR_LIST(X)                                                                 \
	X(RAFT_ENOMEM, -1, "out of memory")                                                \
	X(RAFT_EINVAL, -2, "invalid argument or message")                                  \
	X(RAFT_ENOTLEADER, -3, "not the leader; raft_leader() names the node to try")      \
	X(RAFT_ELIMIT, -4, "a named limit was reached; retry later")                       \
	X(RAFT_EBUSY, -5, "a leader transfer or configuration change is in progress")      \
	X(RAFT_ECOMPACTED, -6, "the index is at or before the compaction point")           \
	X(RAFT_EUNAVAILABLE, -7, "the index is past the last entry")                       \
	X(RAFT_ETRUNCATED, -8, "encoded message is truncated")                             \
	X(RAFT_EMALFORMED, -9, "encoded message is malformed or not canonical")            \
	X(RAFT_EOVERSIZE, -10, "encoded message exceeds a named limit")                    \
	X(RAFT_ESTALE, -11, "message is from an older term or already superseded")         \
	X(RAFT_ECONFIG, -12, "membership change is not valid for the current configuration")

enum raft_error {
#define RAFT_ERROR_ENUM(name, value, message) name = (value),
	RAFT_OK = 0,
	RAFT_ERROR_LIST(RAFT_ERROR_ENUM)
#undef RAFT_ERROR_ENUM
};

const char *raft_strerror(int code); /* static string, never NULL */
const char *raft_errname(int code); /* "RAFT_EINVAL"; "RAFT_OK" for 0; "RAFT_E?" otherwise */

/* ---- plain data ---- */
enum raft_role { RAFT_FOLLOWER = 0, RAFT_PRE_CANDIDATE, RAFT_CANDIDATE, RAFT_LEADER };

enum raft_entry_type {
	RAFT_ENTRY_NORMAL = 0, /* application data; empty = the leader's no-op */
	RAFT_ENTRY_CONF_CHANGE = 1, /* data = raft_conf_change_encode() */
};

struct raft_entry {
	uint64_t term;
	uint64_t index;
	uint8_t type; /* enum raft_entry_type */
	const uint8_t *data; /* NULL when len == 0 */
	size_t len;
};

/* Membership, ids sorted ascending; a node id is never 0 (0 means "none"). */
struct raft_conf_state {
	uint64_t voters[RAFT_VOTERS_MAX];
	uint8_t voters_count;
	uint64_t learners[RAFT_LEARNERS_MAX];
	uint8_t learners_count;
};

/* The compaction point: everything up to and including index is in the application's state. */
struct raft_snapshot_meta {
	uint64_t index;
	uint64_t term;
	struct raft_conf_state conf; /* configuration as of index */
};

/* What must be durable before messages go out (§3.8: currentTerm, votedFor; commit is a hint). */
struct raft_hard_state {
	uint64_t term;
	uint64_t vote;
	uint64_t commit;
};

enum raft_conf_change_type {
	RAFT_CONF_ADD_VOTER = 1, /* add a voter, or promote a learner (§4.2.1 catch-up first) */
	RAFT_CONF_ADD_LEARNER = 2, /* add a non-voting member */
	RAFT_CONF_REMOVE = 3, /* remove a voter or a learner */
};

struct raft_conf_change {
	uint8_t type; /* enum raft_conf_change_type */
	uint64_t node_id;
};

enum raft_msg_type {
	RAFT_MSG_APPEND = 1, /* AppendEntries (§3.5) */
	RAFT_MSG_APPEND_RESP = 2,
	RAFT_MSG_VOTE = 3, /* RequestVote (§3.4) */
	RAFT_MSG_VOTE_RESP = 4,
	RAFT_MSG_PRE_VOTE = 5, /* §9.6 */
	RAFT_MSG_PRE_VOTE_RESP = 6,
	RAFT_MSG_HEARTBEAT = 7, /* empty AppendEntries carrying commit and a ReadIndex context */
	RAFT_MSG_HEARTBEAT_RESP = 8,
	RAFT_MSG_SNAPSHOT = 9, /* InstallSnapshot metadata (§5.3); data travels out of band */
	RAFT_MSG_TIMEOUT_NOW = 10, /* leader transfer (§3.10) */
	RAFT_MSG_READ_INDEX = 11, /* follower asks the leader for a read index (§6.4) */
	RAFT_MSG_READ_INDEX_RESP = 12,
};
#define RAFT_MSG_TYPE_MAX RAFT_MSG_READ_INDEX_RESP

#define RAFT_MSG_FLAG_REJECT 0x1u /* a response that refuses */
#define RAFT_MSG_FLAG_TRANSFER 0x2u /* vote request caused by TimeoutNow: ignores leases (§3.10) */

struct raft_msg {
	uint8_t type; /* enum raft_msg_type */
	uint8_t flags; /* RAFT_MSG_FLAG_* */
	uint64_t from;
	uint64_t to;
	uint64_t term; /* sender's term; a pre-vote carries the term it would campaign in */
	uint64_t log_term; /* APPEND: term at index; VOTE: last log term; APPEND_RESP reject: hint term */
	uint64_t index; /* APPEND: index before entries; VOTE: last index; *_RESP: match or rejected */
	uint64_t commit; /* leader's commit index */
	uint64_t reject_hint; /* APPEND_RESP reject: follower's guess of the match point (§5.3 note) */
	uint64_t context; /* ReadIndex request context; 0 = none */
	const struct raft_entry *entries; /* APPEND only: indexes index+1, index+2, ... */
	size_t entries_count;
	struct raft_snapshot_meta snapshot; /* SNAPSHOT only */
};

struct raft_read_state {
	uint64_t index; /* apply up to here, then serve the read identified by context */
	uint64_t context;
};

struct raft_ready {
	enum raft_role role; /* soft state: never persisted */
	uint64_t leader;
	bool has_hard_state;
	struct raft_hard_state hard_state;
	bool has_snapshot; /* install the application state as of snapshot.index, drop the log */
	struct raft_snapshot_meta snapshot;
	const struct raft_entry *entries; /* to persist; replaces stored entries from entries[0].index */
	size_t entries_count;
	const struct raft_entry *committed; /* to apply, in order, after entries are durable */
	size_t committed_count;
	const struct raft_msg *messages; /* to send after persisting (Rule 1) */
	size_t messages_count;
	const struct raft_read_state *read_states;
	size_t read_states_count;
	bool must_sync; /* term, vote or entries changed: fsync before sending */
	bool messages_early; /* a leader's Ready, term and vote durable: send before persisting (Rule 1) */
};

struct raft_config {
	uint64_t id; /* this node, nonzero */
	struct raft_conf_state initial; /* bootstrap membership of a new cluster; empty = joining */
	unsigned election_ticks; /* base election timeout; randomized in [e, 2e) (§3.4) */
	unsigned heartbeat_ticks; /* leader heartbeat interval, < election_ticks */
	bool pre_vote; /* §9.6 */
	bool check_quorum; /* leader steps down without a quorum; followers keep leases (§6.2, §4.2.3) */
	uint64_t seed; /* for the election-timeout generator */
	size_t max_msg_bytes; /* entries' data per append message; 0 = 1 MiB; <= RAFT_MSG_BYTES_MAX */
	size_t max_inflight_msgs; /* pipelined appends per follower; 0 = 64; <= RAFT_INFLIGHT_MSGS_MAX */
	size_t max_inflight_bytes; /* their data bytes; 0 = 8 MiB; <= RAFT_INFLIGHT_BYTES_MAX */
};

/* State read back from disk at restart. Entries are those after snapshot.index, in order. */
struct raft_storage_state {
	struct raft_hard_state hard_state;
	struct raft_snapshot_meta snapshot; /* zero when never compacted */
	const struct raft_entry *entries; /* borrowed; copied by raft_create */
	size_t entries_count;
	uint64_t applied; /* last index the application has applied (>= snapshot.index) */
};

struct raft_progress_status {
	uint64_t id;
	bool learner;
	uint64_t match;
	uint64_t next;
	uint8_t state; /* 0 probe, 1 replicate, 2 snapshot */
	size_t inflight_msgs;
	bool recent_active;
};

struct raft_status {
	uint64_t id;
	enum raft_role role;
	uint64_t term;
	uint64_t vote;
	uint64_t leader;
	uint64_t commit;
	uint64_t applied;
	uint64_t first_index; /* first entry still in memory */
	uint64_t last_index;
	uint64_t log_bytes; /* data bytes of the in-memory log (at most RAFT_LOG_BYTES_MAX) */
	struct raft_snapshot_meta snapshot; /* compaction point */
	struct raft_conf_state conf; /* applied configuration */
	uint64_t transferee; /* leader transfer in progress to this node; 0 = none */
	size_t progress_count; /* leader only */
	struct raft_progress_status progress[RAFT_NODES_MAX];
	uint64_t messages_dropped; /* over RAFT_READY_MSGS_MAX since creation */
};

typedef struct raft raft;

/* ---- lifecycle ---- */
/* restored may be NULL (a new node). A new node whose config.initial has voters bootstraps the
 * cluster: its first Ready persists one conf-change entry per member at term 1, committed. */
int raft_create(const struct raft_config *config, const struct raft_storage_state *restored, raft **out);
void raft_destroy(raft *r);

/* ---- inputs ---- */
void raft_tick(raft *r);
/* Process a message from a peer. RAFT_EINVAL for a malformed one (ignored); RAFT_ESTALE for one
 * from an older term (answered when that helps the sender step down, else ignored). */
int raft_step(raft *r, const struct raft_msg *msg);
/* Start an election now (pre-vote first when enabled), as if the election timeout fired. */
int raft_campaign(raft *r);
/* Leader only: append data (copied, 1..RAFT_ENTRY_BYTES_MAX bytes). Proposals are batched: all
 * made before the next raft_ready go out in as few append messages as the limits allow.
 * RAFT_ENOTLEADER (raft_leader() is a hint), RAFT_EBUSY during a leader transfer,
 * RAFT_ELIMIT when RAFT_UNCOMMITTED_* is reached. *index_out (may be NULL) = the entry's index. */
int raft_propose(raft *r, const void *data, size_t len, uint64_t *index_out);
/* Leader only: propose a single-server membership change (§4.1). RAFT_EBUSY while an earlier
 * change is not yet applied; RAFT_ECONFIG when the change is not valid now. */
int raft_propose_conf_change(raft *r, const struct raft_conf_change *change, uint64_t *index_out);
/* Linearizable read (§6.4): a later Ready carries read_state {index, context} once this node
 * knows the leader was still leader when the request arrived; apply up to index, then serve.
 * context must be nonzero and unique among outstanding reads (cluster-wide when followers
 * forward: put the node id in it). RAFT_ENOTLEADER when no leader is known. */
int raft_read_index(raft *r, uint64_t context);
/* Leader only: hand leadership to voter `to` (§3.10). Proposals are refused until the transfer
 * completes or is aborted after an election timeout. */
int raft_transfer_leader(raft *r, uint64_t to);
/* The snapshot sent to `to` was installed (ok) or could not be delivered (!ok). */
void raft_report_snapshot(raft *r, uint64_t to, bool ok);
/* The transport could not reach `to`: stop pipelining to it and probe again. */
void raft_report_unreachable(raft *r, uint64_t to);

/* ---- outputs ---- */
bool raft_has_ready(const raft *r);
/* Fill rd (see the loop above). Returns 0, or RAFT_EINVAL when a Ready is still outstanding. */
int raft_ready(raft *r, struct raft_ready *rd);
/* The Ready was persisted, sent and applied. Releases everything it pointed to. */
void raft_advance(raft *r, struct raft_ready *rd);
/* Drop the in-memory log up to index (<= applied, <= durable). Followers behind it then catch
 * up through RAFT_MSG_SNAPSHOT. *meta_out (may be NULL) = the new compaction point, to persist
 * with the application state so that raft_create can restore it. */
int raft_compact(raft *r, uint64_t index, struct raft_snapshot_meta *meta_out);

/* ---- inspection ---- */
void raft_status_get(const raft *r, struct raft_status *out);
uint64_t raft_leader(const raft *r); /* 0 = unknown */
/* Entry at index, borrowed until the next call that takes a non-const raft. */
int raft_log_entry(const raft *r, uint64_t index, struct raft_entry *out);
const char *raft_role_name(enum raft_role role);
const char *raft_msg_type_name(uint8_t type); /* "APPEND", ...; "?" when unknown */

/* ---- codecs (consensus/codec.c) ---- */
/* Upper bound of raft_msg_encode's output for msg. */
size_t raft_msg_encoded_bytes_max(const struct raft_msg *msg);
/* Encode into out[0..cap). RAFT_ELIMIT when cap is too small, RAFT_EINVAL for a message this
 * codec cannot represent (bad type, too many entries or bytes). */
int raft_msg_encode(const struct raft_msg *msg, uint8_t *out, size_t cap, size_t *len_out);
/* Strict decode: bounds-checked, canonical varints only, no trailing bytes. Entries land in
 * entries[0..entries_cap) (entries_cap >= RAFT_MSG_ENTRIES_MAX accepts every valid message) and
 * borrow their data from bytes. Never reads outside bytes[0..len). */
int raft_msg_decode(const uint8_t *bytes, size_t len, struct raft_msg *msg, struct raft_entry *entries,
		    size_t entries_cap);

#define RAFT_CONF_CHANGE_BYTES_MAX 16 /* version, type, varint id */
int raft_conf_change_encode(const struct raft_conf_change *change, uint8_t out[RAFT_CONF_CHANGE_BYTES_MAX],
			    size_t *len_out);
int raft_conf_change_decode(const uint8_t *bytes, size_t len, struct raft_conf_change *change);

#endif
