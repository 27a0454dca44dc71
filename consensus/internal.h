/* consensus/internal.h — private structures and functions shared by the consensus/ files.
 *
 * Nothing outside consensus/ includes this. Layout of the core:
 *   log.c         in-memory log: compaction point, entries (refcounted data), stable/commit/apply
 *   progress.c    per-peer progress, inflight window, quorum math, configuration sets
 *   election.c    roles, ticks, (pre-)vote campaigns and vote handling (§3.4, §9.6, §6.2)
 *   replication.c append/heartbeat/snapshot send and receive, commitment (§3.5, §3.6, §5.3)
 *   read_only.c   ReadIndex (§6.4)
 *   membership.c  single-server changes, learners, leader transfer (§4.1-4.3, §3.10)
 *   raft.c        create/destroy, step dispatch, propose, Ready/Advance, compaction, status
 *   codec.c       message and conf-change byte codecs
 *
 * Invariants (checked by raft_check() in debug paths and by assertions):
 *  I1. log.snap.index <= log.applied <= log.applying <= log.committed <= last index.
 *  I2. log.committed never decreases; entries at or below it are never truncated.
 *  I3. A leader's progress for itself has match == log.stable (it counts only durable entries).
 *  I4. tracker.conf and the progress slots hold the same set of ids.
 *  I5. Entry data is refcounted: the log, queued messages and the outstanding Ready each hold a
 *      reference, so truncation or compaction never frees bytes someone still points to.
 */
#ifndef SL_CONSENSUS_INTERNAL_H
#define SL_CONSENSUS_INTERNAL_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consensus/raft.h"

/* Planted bugs for the simulator's checker (docs/consensus.md "Planted bugs"); all off unless
 * the build passes -DSL_PLANT_BUG_X=1 (make PLANT=X). Never in a release build.
 *   A leader commits an earlier-term entry by counting replicas (breaks §3.6.2)
 *   B a node grants two votes in one term (breaks §3.4)
 *   C a follower keeps conflicting entries instead of truncating (breaks §3.5)
 *   D a vote response goes out in a Ready whose hard state omits the vote (breaks §3.8)
 *   E a follower hands out entries for applying before they are committed */
#ifndef SL_PLANT_BUG_A
#define SL_PLANT_BUG_A 0
#endif
#ifndef SL_PLANT_BUG_B
#define SL_PLANT_BUG_B 0
#endif
#ifndef SL_PLANT_BUG_C
#define SL_PLANT_BUG_C 0
#endif
#ifndef SL_PLANT_BUG_D
#define SL_PLANT_BUG_D 0
#endif
#ifndef SL_PLANT_BUG_E
#define SL_PLANT_BUG_E 0
#endif

/* ---- refcounted entry data (log.c) ---- */
/* Copy len bytes into a new block with one reference; NULL when len == 0 or out of memory
 * (*ok tells which). */
const uint8_t *data_new(const void *src, size_t len, bool *ok);
void data_ref(const uint8_t *bytes); /* no-op for NULL */
void data_unref(const uint8_t *bytes); /* frees at zero; no-op for NULL */

/* ---- the log (log.c) ---- */
struct raft_log {
	struct raft_snapshot_meta snap; /* compaction point: first in-memory index is snap.index+1 */
	struct raft_entry *ents; /* ents[start .. start+count): indexes snap.index+1 .. last */
	size_t start;
	size_t count;
	size_t cap;
	size_t bytes; /* sum of data lengths in memory */
	uint64_t stable; /* highest index durable (Ready advanced) */
	bool snap_unstable; /* snap must go out in the next Ready */
	uint64_t committed;
	uint64_t applying; /* handed out in a Ready, not yet advanced */
	uint64_t applied;
};

void log_init(struct raft_log *log, const struct raft_snapshot_meta *snap);
void log_free(struct raft_log *log);
uint64_t log_first_index(const struct raft_log *log);
uint64_t log_last_index(const struct raft_log *log);
uint64_t log_last_term(const struct raft_log *log);
/* 0, RAFT_ECOMPACTED (index < snap.index) or RAFT_EUNAVAILABLE (index > last). */
int log_term(const struct raft_log *log, uint64_t index, uint64_t *term_out);
bool log_match_term(const struct raft_log *log, uint64_t index, uint64_t term);
/* §3.6.1: the candidate's log is at least as up-to-date as ours. */
bool log_is_up_to_date(const struct raft_log *log, uint64_t last_index, uint64_t last_term);
const struct raft_entry *log_entry(const struct raft_log *log, uint64_t index);
/* First index in ents[0..n) whose term differs from ours or lies past our last; 0 if none. */
uint64_t log_find_conflict(const struct raft_log *log, const struct raft_entry *ents, size_t n);
/* Largest index <= index whose term is <= term (etcd's findConflictByTerm); *term_out its term. */
uint64_t log_find_conflict_by_term(const struct raft_log *log, uint64_t index, uint64_t term, uint64_t *term_out);
/* Append copies of ents (consecutive; ents[0].index <= last+1, > committed), truncating any
 * entries from ents[0].index on. RAFT_ELIMIT over RAFT_LOG_*, RAFT_ENOMEM; no change on error. */
int log_append(struct raft_log *log, const struct raft_entry *ents, size_t n);
/* Append one new entry taking over data's reference (leader path). */
int log_append_owned(struct raft_log *log, uint64_t term, uint8_t type, const uint8_t *data, size_t len);
/* Count of entries from lo (inclusive) that fit max_bytes (at least one) and max_count. */
size_t log_slice_count(const struct raft_log *log, uint64_t lo, size_t max_bytes, size_t max_count,
		       size_t *bytes_out);
void log_commit_to(struct raft_log *log, uint64_t index);
void log_stable_to(struct raft_log *log, uint64_t index, uint64_t term);
/* Replace the whole log with a snapshot (follower install, §5.3). */
void log_restore(struct raft_log *log, const struct raft_snapshot_meta *snap);
/* Drop entries <= index, recording the new compaction point (conf given by the caller). */
void log_compact(struct raft_log *log, uint64_t index, const struct raft_conf_state *conf);

/* ---- configuration sets (progress.c) ---- */
bool conf_is_voter(const struct raft_conf_state *conf, uint64_t id);
bool conf_is_learner(const struct raft_conf_state *conf, uint64_t id);
/* Apply one change; RAFT_ECONFIG when it is not valid (conf unchanged). */
int conf_apply(struct raft_conf_state *conf, const struct raft_conf_change *change);
/* Validate a conf state read from input (sorted, unique, nonzero, disjoint). */
bool conf_valid(const struct raft_conf_state *conf);

/* ---- progress (progress.c) ---- */
enum progress_state { PROGRESS_PROBE = 0, PROGRESS_REPLICATE = 1, PROGRESS_SNAPSHOT = 2 };

/* Sliding window of appends sent but not acknowledged (etcd tracker/inflights.go). */
struct inflights {
	uint64_t last_index[RAFT_INFLIGHT_MSGS_MAX];
	size_t bytes[RAFT_INFLIGHT_MSGS_MAX];
	size_t start;
	size_t count;
	size_t total_bytes;
	size_t max_count;
	size_t max_bytes;
};

struct progress {
	uint64_t id;
	bool learner;
	uint64_t match;
	uint64_t next;
	enum progress_state state;
	uint64_t pending_snapshot; /* SNAPSHOT state: index of the snapshot sent */
	bool probe_sent; /* PROBE state: one append per heartbeat interval */
	bool recent_active; /* heard from in this election timeout (CheckQuorum) */
	int8_t vote; /* election tally: 0 none, 1 granted, -1 rejected */
	struct inflights inflight;
};

struct tracker {
	struct raft_conf_state conf;
	struct progress prs[RAFT_NODES_MAX];
	size_t count;
};

void inflights_reset(struct inflights *in);
bool inflights_full(const struct inflights *in);
void inflights_add(struct inflights *in, uint64_t last_index, size_t bytes);
void inflights_free_to(struct inflights *in, uint64_t index);

void progress_become_probe(struct progress *pr);
void progress_become_replicate(struct progress *pr);
void progress_become_snapshot(struct progress *pr, uint64_t snapshot_index);
bool progress_is_paused(const struct progress *pr);
/* An acknowledgement of index: raises match/next; false if stale. */
bool progress_maybe_update(struct progress *pr, uint64_t index);
/* A rejection of `rejected` with the follower's hint; false if stale (etcd MaybeDecrTo). */
bool progress_maybe_decr_to(struct progress *pr, uint64_t rejected, uint64_t match_hint);

struct progress *tracker_get(struct tracker *trk, uint64_t id);
/* Rebuild progress slots for conf, keeping existing ones; new ones start probing at next. */
void tracker_set_conf(struct tracker *trk, const struct raft_conf_state *conf, uint64_t next,
		      size_t max_inflight_msgs, size_t max_inflight_bytes);
size_t tracker_quorum(const struct tracker *trk); /* voters/2 + 1; 0 with no voters */
/* Highest index replicated on a quorum of voters (§3.6.2). */
uint64_t tracker_committed(const struct tracker *trk);
enum vote_result { VOTE_PENDING = 0, VOTE_WON, VOTE_LOST };
void tracker_reset_votes(struct tracker *trk);
void tracker_record_vote(struct tracker *trk, uint64_t id, bool granted);
enum vote_result tracker_tally(const struct tracker *trk);
bool tracker_quorum_active(const struct tracker *trk, uint64_t self);
/* Count of voters (from bitmap slots) that acknowledged; used by read_only. */
size_t tracker_voters_in(const struct tracker *trk, const uint64_t *ids, size_t n);

/* ---- read only (read_only.c) ---- */
struct read_request {
	uint64_t context;
	uint64_t index;
	uint64_t from; /* requester: self or a follower */
	uint64_t acks[RAFT_NODES_MAX];
	size_t acks_count;
};

struct read_only {
	struct read_request queue[RAFT_READS_PENDING_MAX]; /* waiting for heartbeat quorum */
	size_t count;
	struct read_request waiting[RAFT_READS_PENDING_MAX]; /* before the term's first commit */
	size_t waiting_count;
};

/* ---- the node ---- */
struct raft {
	uint64_t id;
	struct raft_config cfg;
	uint64_t term;
	uint64_t vote;
	uint64_t leader;
	enum raft_role role;
	struct raft_log log;
	struct tracker trk;
	struct read_only ro;

	unsigned election_elapsed;
	unsigned heartbeat_elapsed;
	unsigned randomized_timeout;
	uint64_t rng;

	uint64_t transferee; /* leader transfer target, 0 = none */
	uint64_t pending_conf_index; /* leader: last conf change index proposed */
	bool broadcast_pending; /* proposals batched since the last Ready */

	struct raft_msg *msgs; /* queued for the next Ready (owned, entries owned) */
	size_t msgs_count;
	size_t msgs_cap;
	uint64_t msgs_dropped;
	struct raft_read_state read_states[RAFT_READS_PENDING_MAX];
	size_t read_states_count;

	struct raft_hard_state prev_hs; /* last hard state handed out */
	enum raft_role prev_role;
	uint64_t prev_leader;

	/* the outstanding Ready */
	bool rd_out;
	struct raft_msg *rd_msgs;
	size_t rd_msgs_count;
	struct raft_entry *rd_entries;
	size_t rd_entries_count;
	struct raft_entry *rd_committed;
	size_t rd_committed_count;
	struct raft_read_state rd_reads[RAFT_READS_PENDING_MAX];
	bool rd_snapshot;
	uint64_t rd_snapshot_index;
};

/* ---- shared helpers ---- */
/* Queue a message; fills from and (unless the type keeps its own) term. Entries are copied
 * with references taken. Drops (and counts) past RAFT_READY_MSGS_MAX or on ENOMEM. */
void raft_send(struct raft *r, struct raft_msg *m);
void raft_msgs_free(struct raft_msg *msgs, size_t count);
void ready_release(struct raft *r); /* drop the outstanding Ready's references, apply nothing */
bool raft_promotable(const struct raft *r);

/* election.c */
void election_reset(struct raft *r, uint64_t term);
void election_become_follower(struct raft *r, uint64_t term, uint64_t leader);
void election_become_leader(struct raft *r);
int election_hup(struct raft *r, bool transfer); /* 0, RAFT_ECONFIG, RAFT_EBUSY */
void election_tick(struct raft *r);
int election_handle_vote(struct raft *r, const struct raft_msg *m);
int election_handle_vote_resp(struct raft *r, const struct raft_msg *m);
void election_reset_randomized_timeout(struct raft *r);

/* replication.c */
bool replication_send_append(struct raft *r, uint64_t to, bool send_if_empty);
void replication_bcast_append(struct raft *r);
void replication_send_heartbeat(struct raft *r, uint64_t to, uint64_t context);
void replication_bcast_heartbeat(struct raft *r, uint64_t context);
bool replication_maybe_commit(struct raft *r);
int replication_handle_append(struct raft *r, const struct raft_msg *m);
int replication_handle_heartbeat(struct raft *r, const struct raft_msg *m);
int replication_handle_snapshot(struct raft *r, const struct raft_msg *m);
int replication_handle_append_resp(struct raft *r, const struct raft_msg *m);
int replication_handle_heartbeat_resp(struct raft *r, const struct raft_msg *m);
void replication_self_stable(struct raft *r); /* leader: its own durable index advanced */

/* read_only.c */
void read_only_reset(struct read_only *ro);
int read_only_request(struct raft *r, uint64_t context, uint64_t from);
void read_only_recv_ack(struct raft *r, uint64_t from, uint64_t context);
void read_only_on_commit(struct raft *r); /* leader committed in its term: release waiting */
uint64_t read_only_last_context(const struct raft *r);
int read_only_handle_resp(struct raft *r, const struct raft_msg *m);
int read_only_push_state(struct raft *r, uint64_t index, uint64_t context);

/* membership.c */
bool membership_unapplied_changes(const struct raft *r);
void membership_apply_entry(struct raft *r, const struct raft_entry *e);
/* Configuration as of index (> snap.index): snap conf plus conf entries up to index. */
void membership_conf_at(const struct raft_log *log, uint64_t index, struct raft_conf_state *out);
void membership_abort_transfer(struct raft *r);
void membership_transfer_check(struct raft *r, uint64_t from); /* after an ack from `from` */

/* codec.c: encode a conf change into a fresh refcounted block. */
int codec_conf_change_block(const struct raft_conf_change *change, const uint8_t **data, size_t *len);

#endif
