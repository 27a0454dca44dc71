/* consensus/read_only.c — linearizable reads without log writes: ReadIndex (§6.4).
 *
 * Leader procedure (§6.4, steps 1-4):
 *  1. The leader must have committed an entry of its current term (the no-op) so that its commit
 *     index is at least that of any earlier leader; requests before that wait in `waiting`.
 *  2. readIndex = commit index when the request is admitted.
 *  3. It sends a heartbeat round carrying the request's context; once a quorum of voters answers
 *     that round, no newer leader existed when the request arrived (it would have needed that
 *     quorum). A quorum for a later request confirms all earlier ones too (they queued first).
 *  4. The requester applies up to readIndex, then serves the read (Ready.read_states).
 * A follower forwards its request to the leader and gets {index, context} back (§6.4 "followers
 * can help"). A deposed leader cannot collect the quorum, so it never answers (the partitioned
 * old leader scenario). Everything pending is dropped when the role changes; callers retry.
 */
#include <string.h>

#include "consensus/internal.h"

void read_only_reset(struct read_only *ro)
{
	ro->count = 0;
	ro->waiting_count = 0;
}

static bool committed_in_term(const struct raft *r)
{
	uint64_t term = 0;
	return log_term(&r->log, r->log.committed, &term) == 0 && term == r->term;
}

static bool context_pending(const struct read_only *ro, uint64_t context)
{
	for (size_t i = 0; i < ro->count; i++) {
		if (ro->queue[i].context == context)
			return true;
	}
	for (size_t i = 0; i < ro->waiting_count; i++) {
		if (ro->waiting[i].context == context)
			return true;
	}
	return false;
}

int read_only_push_state(struct raft *r, uint64_t index, uint64_t context)
{
	if (r->read_states_count >= RAFT_READS_PENDING_MAX)
		return RAFT_ELIMIT;
	r->read_states[r->read_states_count].index = index;
	r->read_states[r->read_states_count].context = context;
	r->read_states_count++;
	return 0;
}

static void respond(struct raft *r, const struct read_request *req)
{
	if (req->from == r->id) {
		(void)read_only_push_state(r, req->index, req->context); /* full: dropped, retried */
		return;
	}
	struct raft_msg m = {
		.type = RAFT_MSG_READ_INDEX_RESP,
		.to = req->from,
		.index = req->index,
		.context = req->context,
	};
	raft_send(r, &m);
}

/* Step 2-3 for an admitted request; the caller sends the heartbeat round. */
static int admit(struct raft *r, uint64_t context, uint64_t from, bool *need_round)
{
	struct read_request req = { .context = context, .index = r->log.committed, .from = from };
	if (r->trk.conf.voters_count == 1 && conf_is_voter(&r->trk.conf, r->id)) {
		respond(r, &req); /* a single voter is its own quorum */
		return 0;
	}
	if (r->ro.count >= RAFT_READS_PENDING_MAX)
		return RAFT_ELIMIT;
	req.acks[0] = r->id;
	req.acks_count = 1;
	r->ro.queue[r->ro.count++] = req;
	*need_round = true;
	return 0;
}

int read_only_request(struct raft *r, uint64_t context, uint64_t from)
{
	assert(r->role == RAFT_LEADER);
	if (context == 0 || context_pending(&r->ro, context))
		return RAFT_EINVAL;
	if (!committed_in_term(r)) { /* step 1 */
		if (r->ro.waiting_count >= RAFT_READS_PENDING_MAX)
			return RAFT_ELIMIT;
		struct read_request *w = &r->ro.waiting[r->ro.waiting_count++];
		memset(w, 0, sizeof *w);
		w->context = context;
		w->from = from;
		return 0;
	}
	bool need_round = false;
	int rc = admit(r, context, from, &need_round);
	if (rc == 0 && need_round)
		replication_bcast_heartbeat(r, context);
	return rc;
}

void read_only_on_commit(struct raft *r)
{
	if (r->role != RAFT_LEADER || r->ro.waiting_count == 0 || !committed_in_term(r))
		return;
	bool need_round = false;
	for (size_t i = 0; i < r->ro.waiting_count; i++) {
		const struct read_request *w = &r->ro.waiting[i];
		(void)admit(r, w->context, w->from, &need_round); /* full: dropped, retried */
	}
	r->ro.waiting_count = 0;
	if (need_round)
		replication_bcast_heartbeat(r, read_only_last_context(r));
}

void read_only_recv_ack(struct raft *r, uint64_t from, uint64_t context)
{
	size_t at = r->ro.count;
	for (size_t i = 0; i < r->ro.count; i++) {
		if (r->ro.queue[i].context == context) {
			at = i;
			break;
		}
	}
	if (at == r->ro.count)
		return; /* an answer to a round already released or dropped */
	struct read_request *req = &r->ro.queue[at];
	for (size_t i = 0; i < req->acks_count; i++) {
		if (req->acks[i] == from)
			return;
	}
	if (req->acks_count >= RAFT_NODES_MAX)
		return;
	req->acks[req->acks_count++] = from;
	if (tracker_voters_in(&r->trk, req->acks, req->acks_count) < tracker_quorum(&r->trk))
		return;
	for (size_t i = 0; i <= at; i++) /* step 3: this quorum confirms every earlier request */
		respond(r, &r->ro.queue[i]);
	memmove(r->ro.queue, r->ro.queue + at + 1, (r->ro.count - at - 1) * sizeof r->ro.queue[0]);
	r->ro.count -= at + 1;
}

uint64_t read_only_last_context(const struct raft *r)
{
	return r->ro.count ? r->ro.queue[r->ro.count - 1].context : 0;
}

int read_only_handle_resp(struct raft *r, const struct raft_msg *m)
{
	if (m->context == 0)
		return RAFT_EINVAL;
	return read_only_push_state(r, m->index, m->context);
}
