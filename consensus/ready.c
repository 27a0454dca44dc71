/* consensus/ready.c — the outbound side: message queue, Ready/Advance and compaction.
 *
 * Rules:
 *  1. A Ready holds its own references (internal.h I5): entries and committed entries are
 *     copies of the log's structs with data references taken; messages are moved out of the
 *     queue. raft_advance drops all of them, so stepping between ready and advance is safe.
 *  2. Ready.hard_state appears whenever term, vote or commit changed since the last Ready; a
 *     vote and the response granting it always travel in the same Ready (raft.h Rule 1).
 *  3. The leader counts its own entries toward commit only at raft_advance, once they are
 *     durable (internal.h I3), so nothing is committed on the strength of a volatile copy.
 *  3a. Hence a leader's messages need not wait for its own write (raft.h Rule 1, §10.2.1):
 *      Ready.messages_early when the Ready is a leader's and its term and vote are those of the
 *      previous Ready, which was persisted before raft_advance let this one be taken.
 *  4. Committed entries are handed out once, in order, at most RAFT_READY_APPLY_BYTES_MAX of
 *     data per Ready (always at least one entry), and never past the commit index.
 */
#include <stdlib.h>
#include <string.h>

#include "consensus/internal.h"

/* ---- message queue ---- */

static uint64_t msg_term(const struct raft *r, const struct raft_msg *m)
{
	switch (m->type) {
	case RAFT_MSG_VOTE:
	case RAFT_MSG_PRE_VOTE:
	case RAFT_MSG_VOTE_RESP:
	case RAFT_MSG_PRE_VOTE_RESP:
		assert(m->term != 0); /* set by election.c: a campaign or a granted term */
		return m->term;
	case RAFT_MSG_READ_INDEX:
		return 0; /* forwarded read: no term, no term effects on the leader */
	default:
		return r->term;
	}
}

void raft_send(struct raft *r, struct raft_msg *m)
{
	assert(m->to != 0 && m->to != r->id);
	if (r->msgs_count >= RAFT_READY_MSGS_MAX) {
		r->msgs_dropped++; /* Raft tolerates loss: the sender retries on its timers */
		return;
	}
	if (r->msgs_count == r->msgs_cap) {
		size_t cap = r->msgs_cap ? r->msgs_cap * 2 : 16;
		struct raft_msg *msgs = realloc(r->msgs, cap * sizeof *msgs);
		if (msgs == NULL) {
			r->msgs_dropped++;
			return;
		}
		r->msgs = msgs;
		r->msgs_cap = cap;
	}
	struct raft_entry *entries = NULL;
	if (m->entries_count > 0) {
		entries = malloc(m->entries_count * sizeof *entries);
		if (entries == NULL) {
			r->msgs_dropped++;
			return;
		}
		memcpy(entries, m->entries, m->entries_count * sizeof *entries);
		for (size_t i = 0; i < m->entries_count; i++)
			data_ref(entries[i].data);
	}
	struct raft_msg *q = &r->msgs[r->msgs_count++];
	*q = *m;
	q->from = r->id;
	q->term = msg_term(r, m);
	q->entries = entries;
}

static void entries_release(struct raft_entry *entries, size_t count)
{
	for (size_t i = 0; i < count; i++)
		data_unref(entries[i].data);
	free(entries);
}

void raft_msgs_free(struct raft_msg *msgs, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		struct raft_entry *entries = (struct raft_entry *)(uintptr_t)msgs[i].entries;
		entries_release(entries, msgs[i].entries_count);
	}
	free(msgs);
}

/* ---- Ready ---- */

static struct raft_hard_state hard_state(const struct raft *r)
{
	struct raft_hard_state hs = { .term = r->term, .vote = r->vote, .commit = r->log.committed };
	return hs;
}

static bool hard_state_equal(struct raft_hard_state a, struct raft_hard_state b)
{
	return a.term == b.term && a.vote == b.vote && a.commit == b.commit;
}

static uint64_t apply_limit(const struct raft *r)
{
	uint64_t hi = r->log.committed;
#if SL_PLANT_BUG_E
	if (r->role == RAFT_FOLLOWER)
		hi = log_last_index(&r->log); /* planted: apply entries not yet committed */
#endif
	return hi;
}

static size_t committed_count(const struct raft *r)
{ /* rule 4 */
	size_t n = 0, bytes = 0;
	for (uint64_t i = r->log.applying + 1; i <= apply_limit(r); i++) {
		const struct raft_entry *e = log_entry(&r->log, i);
		if (e == NULL || (n > 0 && e->len > RAFT_READY_APPLY_BYTES_MAX - bytes))
			break;
		bytes += e->len;
		n++;
	}
	return n;
}

bool raft_has_ready(const raft *r)
{
	if (r->rd_out)
		return false;
	return (r->broadcast_pending && r->role == RAFT_LEADER) || r->role != r->prev_role ||
	       r->leader != r->prev_leader || !hard_state_equal(hard_state(r), r->prev_hs) ||
	       r->log.stable < log_last_index(&r->log) || r->log.snap_unstable || r->msgs_count > 0 ||
	       r->read_states_count > 0 || r->log.applying < apply_limit(r);
}

static struct raft_entry *entries_copy(const struct raft_log *log, uint64_t lo, size_t n, bool *ok)
{
	*ok = true;
	if (n == 0)
		return NULL;
	struct raft_entry *copy = malloc(n * sizeof *copy);
	if (copy == NULL) {
		*ok = false;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		copy[i] = *log_entry(log, lo + i);
		data_ref(copy[i].data);
	}
	return copy;
}

int raft_ready(raft *r, struct raft_ready *rd)
{
	if (r->rd_out)
		return RAFT_EINVAL;
	if (r->broadcast_pending && r->role == RAFT_LEADER)
		replication_bcast_append(r); /* proposal batching: one round for all of them */
	r->broadcast_pending = false;
	size_t n_entries = (size_t)(log_last_index(&r->log) - r->log.stable);
	size_t n_committed = committed_count(r);
	bool ok_entries, ok_committed;
	struct raft_entry *entries = entries_copy(&r->log, r->log.stable + 1, n_entries, &ok_entries);
	struct raft_entry *committed = entries_copy(&r->log, r->log.applying + 1, n_committed, &ok_committed);
	if (!ok_entries || !ok_committed) {
		entries_release(entries, ok_entries ? n_entries : 0);
		entries_release(committed, ok_committed ? n_committed : 0);
		return RAFT_ENOMEM;
	}
	memset(rd, 0, sizeof *rd);
	rd->role = r->role;
	rd->leader = r->leader;
	struct raft_hard_state hs = hard_state(r);
	rd->messages_early = r->role == RAFT_LEADER && !r->log.snap_unstable && hs.term == r->prev_hs.term &&
			     hs.vote == r->prev_hs.vote; /* rule 3a */
	if (!hard_state_equal(hs, r->prev_hs)) {
		rd->has_hard_state = true;
		rd->hard_state = hs;
		rd->must_sync = hs.term != r->prev_hs.term || hs.vote != r->prev_hs.vote;
		r->prev_hs = hs;
	}
	if (r->log.snap_unstable) {
		rd->has_snapshot = true;
		rd->snapshot = r->log.snap;
		rd->must_sync = true;
		r->log.snap_unstable = false;
	}
	r->rd_snapshot = rd->has_snapshot;
	r->rd_snapshot_index = r->log.snap.index;
	rd->entries = r->rd_entries = entries;
	rd->entries_count = r->rd_entries_count = n_entries;
	rd->must_sync = rd->must_sync || n_entries > 0;
	rd->committed = r->rd_committed = committed;
	rd->committed_count = r->rd_committed_count = n_committed;
	r->log.applying += n_committed;
	rd->messages = r->rd_msgs = r->msgs;
	rd->messages_count = r->rd_msgs_count = r->msgs_count;
	r->msgs = NULL;
	r->msgs_count = r->msgs_cap = 0;
	memcpy(r->rd_reads, r->read_states, r->read_states_count * sizeof r->read_states[0]);
	rd->read_states = r->rd_reads;
	rd->read_states_count = r->read_states_count;
	r->read_states_count = 0;
	r->prev_role = r->role;
	r->prev_leader = r->leader;
	r->rd_out = true;
	return 0;
}

void ready_release(struct raft *r)
{
	raft_msgs_free(r->rd_msgs, r->rd_msgs_count);
	entries_release(r->rd_entries, r->rd_entries_count);
	entries_release(r->rd_committed, r->rd_committed_count);
	r->rd_msgs = NULL;
	r->rd_entries = r->rd_committed = NULL;
	r->rd_msgs_count = r->rd_entries_count = r->rd_committed_count = 0;
	r->rd_snapshot = false;
	r->rd_out = false;
}

void raft_advance(raft *r, struct raft_ready *rd)
{
	assert(r->rd_out);
	if (r->rd_snapshot && r->log.applied < r->rd_snapshot_index)
		r->log.applied = r->rd_snapshot_index; /* the application state is the snapshot's */
	if (r->rd_entries_count > 0) {
		const struct raft_entry *last = &r->rd_entries[r->rd_entries_count - 1];
		log_stable_to(&r->log, last->index, last->term);
	}
	for (size_t i = 0; i < r->rd_committed_count; i++)
		membership_apply_entry(r, &r->rd_committed[i]);
	if (r->rd_committed_count > 0) {
		uint64_t last = r->rd_committed[r->rd_committed_count - 1].index;
		if (r->log.applied < last)
			r->log.applied = last;
	}
	ready_release(r);
	replication_self_stable(r); /* rule 3 */
	if (rd != NULL)
		memset(rd, 0, sizeof *rd);
}

int raft_compact(raft *r, uint64_t index, struct raft_snapshot_meta *meta_out)
{
	if (index <= r->log.snap.index)
		return RAFT_ECOMPACTED;
	if (index > r->log.applied || index > r->log.stable)
		return RAFT_EINVAL; /* only applied, durable entries may leave the log */
	struct raft_conf_state conf;
	membership_conf_at(&r->log, index, &conf);
	log_compact(&r->log, index, &conf);
	if (meta_out != NULL)
		*meta_out = r->log.snap;
	return 0;
}
