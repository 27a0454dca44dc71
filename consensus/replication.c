/* consensus/replication.c — log replication and commitment (§3.5, §3.6, §5.3).
 *
 * Rules:
 *  1. Consistency check (§3.5): a follower accepts entries only after index/log_term match its
 *     log; the first conflicting entry and everything after it is deleted, then the new entries
 *     are appended. Entries at or below commit are never truncated.
 *  2. Fast backtracking (§5.3 "the leader can skip..."; etcd findConflictByTerm): a rejecting
 *     follower returns the largest index <= the probe whose term is <= the leader's term at the
 *     probe, with that term; the leader applies the same rule to its own log, skipping whole
 *     terms per round trip instead of one entry.
 *  3. Commitment (§3.6.2, Figure 3.7): the leader commits index N only when a quorum of voters
 *     has N and log[N].term == currentTerm; earlier-term entries commit indirectly.
 *  4. The leader counts itself only for durable entries (internal.h I3).
 *  5. Flow control: REPLICATE pipelines appends up to max_inflight_msgs/bytes; PROBE sends one
 *     per heartbeat; a follower behind the compaction point gets the snapshot (§5.3).
 *  6. Commit never decreases; a follower commits min(leader commit, last new entry) (§3.5).
 */
#include <string.h>

#include "consensus/internal.h"

static size_t msg_bytes_max(const struct raft *r)
{
	return r->cfg.max_msg_bytes;
}

static bool send_snapshot(struct raft *r, struct progress *pr)
{
	if (!pr->recent_active)
		return false; /* do not ship a snapshot to a node that may be down */
	struct raft_msg m = { .type = RAFT_MSG_SNAPSHOT, .to = pr->id, .snapshot = r->log.snap };
	raft_send(r, &m);
	progress_become_snapshot(pr, r->log.snap.index);
	return true;
}

bool replication_send_append(struct raft *r, uint64_t to, bool send_if_empty)
{
	struct progress *pr = tracker_get(&r->trk, to);
	if (pr == NULL || to == r->id || progress_is_paused(pr))
		return false;
	uint64_t prev = pr->next - 1;
	uint64_t prev_term;
	if (pr->next <= r->log.snap.index || log_term(&r->log, prev, &prev_term) != 0)
		return send_snapshot(r, pr);
	size_t bytes = 0;
	size_t n = log_slice_count(&r->log, pr->next, msg_bytes_max(r), RAFT_MSG_ENTRIES_MAX, &bytes);
	if (n == 0 && !send_if_empty)
		return false;
	struct raft_msg m = {
		.type = RAFT_MSG_APPEND,
		.to = to,
		.index = prev,
		.log_term = prev_term,
		.commit = r->log.committed,
		.entries = n ? log_entry(&r->log, pr->next) : NULL,
		.entries_count = n,
	};
	raft_send(r, &m);
	if (pr->state == PROGRESS_REPLICATE && n > 0) {
		/* optimistic: assume delivery, pipeline the next batch (rule 5) */
		pr->next = prev + n + 1;
		inflights_add(&pr->inflight, prev + n, bytes);
	} else if (pr->state == PROGRESS_PROBE) {
		pr->probe_sent = true;
	}
	return true;
}

void replication_bcast_append(struct raft *r)
{
	for (size_t i = 0; i < r->trk.count; i++) {
		uint64_t id = r->trk.prs[i].id;
		if (id == r->id)
			continue;
		/* the first message may be empty (it carries commit); then fill the window (rule 5) */
		if (replication_send_append(r, id, true)) {
			while (replication_send_append(r, id, false)) {
			}
		}
	}
}

void replication_send_heartbeat(struct raft *r, uint64_t to, uint64_t context)
{
	struct progress *pr = tracker_get(&r->trk, to);
	assert(pr != NULL);
	/* never tell a follower to commit past what it is known to hold */
	uint64_t commit = pr->match < r->log.committed ? pr->match : r->log.committed;
	struct raft_msg m = { .type = RAFT_MSG_HEARTBEAT, .to = to, .commit = commit, .context = context };
	raft_send(r, &m);
}

void replication_bcast_heartbeat(struct raft *r, uint64_t context)
{
	for (size_t i = 0; i < r->trk.count; i++) {
		if (r->trk.prs[i].id != r->id)
			replication_send_heartbeat(r, r->trk.prs[i].id, context);
	}
}

bool replication_maybe_commit(struct raft *r)
{
	uint64_t index = tracker_committed(&r->trk);
	if (index <= r->log.committed)
		return false;
	uint64_t term = 0;
	if (log_term(&r->log, index, &term) != 0)
		return false;
#if !SL_PLANT_BUG_A
	/* rule 3: count replicas only for current-term entries (Figure 3.7) */
	if (term != r->term)
		return false;
#endif
	log_commit_to(&r->log, index);
	read_only_on_commit(r);
	return true;
}

void replication_self_stable(struct raft *r)
{
	if (r->role != RAFT_LEADER)
		return;
	struct progress *self = tracker_get(&r->trk, r->id);
	if (self == NULL)
		return; /* removed from the configuration; stepping down */
	if (self->match < r->log.stable)
		self->match = r->log.stable;
	if (replication_maybe_commit(r))
		replication_bcast_append(r);
}

static void send_append_resp(struct raft *r, uint64_t to, uint64_t index)
{
	struct raft_msg m = { .type = RAFT_MSG_APPEND_RESP, .to = to, .index = index };
	raft_send(r, &m);
}

static void reject_append(struct raft *r, const struct raft_msg *m)
{
	/* rule 2: hint the leader at our best guess of the match point */
	uint64_t last = log_last_index(&r->log);
	uint64_t hint = m->index < last ? m->index : last;
	uint64_t hint_term = 0;
	hint = log_find_conflict_by_term(&r->log, hint, m->log_term, &hint_term);
	struct raft_msg resp = {
		.type = RAFT_MSG_APPEND_RESP,
		.to = m->from,
		.index = m->index,
		.flags = RAFT_MSG_FLAG_REJECT,
		.reject_hint = hint,
		.log_term = hint_term,
	};
	raft_send(r, &resp);
}

int replication_handle_append(struct raft *r, const struct raft_msg *m)
{
	if (m->index < r->log.committed) { /* already have it all: tell the leader where we are */
		send_append_resp(r, m->from, r->log.committed);
		return 0;
	}
	if (!log_match_term(&r->log, m->index, m->log_term)) {
		reject_append(r, m);
		return 0;
	}
	size_t n = m->entries_count;
	uint64_t last_new = m->index + n;
	uint64_t conflict = log_find_conflict(&r->log, m->entries, n);
	if (conflict != 0) {
		if (conflict <= r->log.committed)
			return RAFT_EINVAL; /* a leader contradicting committed entries: refuse (I2) */
		size_t offset = (size_t)(conflict - m->index - 1);
#if SL_PLANT_BUG_C
		/* planted: keep conflicting entries, append only what lies past our last index */
		uint64_t last = log_last_index(&r->log);
		if (conflict <= last)
			offset = (size_t)(last - m->index) < n ? (size_t)(last - m->index) : n;
#endif
		int rc = log_append(&r->log, m->entries + offset, n - offset);
		if (rc != 0)
			return rc; /* no answer: the leader retries after the next heartbeat */
	}
	log_commit_to(&r->log, m->commit < last_new ? m->commit : last_new);
	send_append_resp(r, m->from, last_new);
	return 0;
}

int replication_handle_heartbeat(struct raft *r, const struct raft_msg *m)
{
	/* the leader sends min(match, commit): safe to adopt unless it names entries we lack */
	if (m->commit <= log_last_index(&r->log))
		log_commit_to(&r->log, m->commit);
	struct raft_msg resp = { .type = RAFT_MSG_HEARTBEAT_RESP, .to = m->from, .context = m->context };
	raft_send(r, &resp);
	return 0;
}

int replication_handle_snapshot(struct raft *r, const struct raft_msg *m)
{
	const struct raft_snapshot_meta *snap = &m->snapshot;
	if (snap->index <= r->log.committed) {
		send_append_resp(r, m->from, r->log.committed);
		return 0;
	}
	if (log_match_term(&r->log, snap->index, snap->term)) {
		/* our log already holds the snapshot's last entry: just fast-forward commit */
		log_commit_to(&r->log, snap->index);
		send_append_resp(r, m->from, r->log.committed);
		return 0;
	}
	/* A node missing from the snapshot's configuration is installed all the same: a joining
	 * node is added by an entry after the compaction point, and it learns that from the log.
	 * Until then it is not a voter, so it cannot campaign. */
	/* §5.3: discard the whole log; the application installs the state in the next Ready */
	log_restore(&r->log, snap);
	tracker_set_conf(&r->trk, &snap->conf, snap->index + 1, r->cfg.max_inflight_msgs, r->cfg.max_inflight_bytes);
	send_append_resp(r, m->from, log_last_index(&r->log));
	return 0;
}

static void append_resp_reject(struct raft *r, struct progress *pr, const struct raft_msg *m)
{
	uint64_t next_probe = m->reject_hint;
	if (m->log_term > 0) {
		uint64_t unused;
		next_probe = log_find_conflict_by_term(&r->log, m->reject_hint, m->log_term, &unused);
	}
	if (progress_maybe_decr_to(pr, m->index, next_probe)) {
		if (pr->state == PROGRESS_REPLICATE)
			progress_become_probe(pr);
		replication_send_append(r, pr->id, true);
	}
}

int replication_handle_append_resp(struct raft *r, const struct raft_msg *m)
{
	struct progress *pr = tracker_get(&r->trk, m->from);
	if (pr == NULL)
		return RAFT_ESTALE;
	pr->recent_active = true;
	if (m->flags & RAFT_MSG_FLAG_REJECT) {
		append_resp_reject(r, pr, m);
		return 0;
	}
	if (m->index > log_last_index(&r->log))
		return RAFT_EINVAL; /* acknowledges entries we never had */
	bool was_paused = progress_is_paused(pr);
	if (!progress_maybe_update(pr, m->index))
		return 0;
	if (pr->state == PROGRESS_PROBE) {
		progress_become_replicate(pr);
	} else if (pr->state == PROGRESS_SNAPSHOT) {
		if (pr->match >= pr->pending_snapshot || pr->match + 1 >= log_first_index(&r->log)) {
			progress_become_probe(pr);
			progress_become_replicate(pr);
		}
	} else {
		inflights_free_to(&pr->inflight, m->index);
	}
	if (replication_maybe_commit(r))
		replication_bcast_append(r);
	else if (was_paused)
		replication_send_append(r, pr->id, true);
	/* fill the pipeline: each round sends at least one entry or stops */
	while (replication_send_append(r, pr->id, false)) {
	}
	membership_transfer_check(r, pr->id);
	return 0;
}

int replication_handle_heartbeat_resp(struct raft *r, const struct raft_msg *m)
{
	struct progress *pr = tracker_get(&r->trk, m->from);
	if (pr == NULL)
		return RAFT_ESTALE;
	pr->recent_active = true;
	pr->probe_sent = false;
	/* a full window whose acks were lost would stall forever: free one slot so the next
	 * append either succeeds or draws a rejection that resets the progress */
	if (pr->state == PROGRESS_REPLICATE && inflights_full(&pr->inflight) && pr->inflight.count > 0)
		inflights_free_to(&pr->inflight, pr->inflight.last_index[pr->inflight.start]);
	if (pr->match < log_last_index(&r->log))
		replication_send_append(r, pr->id, true);
	if (m->context != 0)
		read_only_recv_ack(r, m->from, m->context);
	return 0;
}
