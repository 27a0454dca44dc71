/* consensus/election.c — roles, timers and leader election (§3.4, §9.6 PreVote, §6.2 CheckQuorum).
 *
 * Roles:
 *
 *              timeout (pre_vote)         pre-vote quorum
 *   FOLLOWER ───────────────────▶ PRE_CANDIDATE ─────────────▶ CANDIDATE ──quorum──▶ LEADER
 *      ▲  │ timeout (no pre_vote) or TimeoutNow                    ▲  │                  │
 *      │  └────────────────────────────────────────────────────────┘  │                  │
 *      └──── higher term, a current leader's message, lost vote ──────┴──────────────────┘
 *                                          (leader: higher term, CheckQuorum failure, removal)
 *
 * Rules:
 *  1. A node votes at most once per term (§3.4) and the vote is durable before the response is
 *     sent (raft.h Rule 1: the response and the new hard state share one Ready).
 *  2. Vote only for a candidate whose log is at least as up-to-date (§3.6.1).
 *  3. PreVote (§9.6): a pre-candidate asks with term+1 but does not change its term; a voter
 *     answers without changing its own term or vote. Only a pre-vote quorum starts a real
 *     election, so a partitioned node cannot inflate terms and depose a healthy leader.
 *  4. Election timeouts are randomized in [election_ticks, 2*election_ticks) (§3.4) from the
 *     configured seed — the core has no random source of its own.
 *  5. Learners and removed nodes never campaign (§4.2.1); a node with committed but unapplied
 *     configuration changes waits until they are applied (it may not know its own membership).
 */
#include <string.h>

#include "consensus/internal.h"

static uint64_t rng_next(uint64_t *state)
{ /* splitmix64: small, seedable, good enough to spread timeouts */
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void election_reset_randomized_timeout(struct raft *r)
{
	unsigned base = r->cfg.election_ticks;
	r->randomized_timeout = base + (unsigned)(rng_next(&r->rng) % base);
}

void election_reset(struct raft *r, uint64_t term)
{
	if (r->term != term) {
		r->term = term;
		r->vote = 0;
	}
	r->leader = 0;
	r->election_elapsed = 0;
	r->heartbeat_elapsed = 0;
	election_reset_randomized_timeout(r);
	membership_abort_transfer(r);
	tracker_reset_votes(&r->trk);
	uint64_t last = log_last_index(&r->log);
	for (size_t i = 0; i < r->trk.count; i++) {
		struct progress *pr = &r->trk.prs[i];
		pr->match = pr->id == r->id ? r->log.stable : 0;
		pr->recent_active = pr->id == r->id;
		progress_become_probe(pr);
		pr->next = last + 1;
	}
	read_only_reset(&r->ro);
	r->pending_conf_index = 0;
	r->broadcast_pending = false;
}

void election_become_follower(struct raft *r, uint64_t term, uint64_t leader)
{
	election_reset(r, term);
	r->leader = leader;
	r->role = RAFT_FOLLOWER;
}

static void become_pre_candidate(struct raft *r)
{
	assert(r->role != RAFT_LEADER);
	/* §9.6: neither term nor vote changes, so a failed pre-vote leaves no trace */
	tracker_reset_votes(&r->trk);
	r->leader = 0;
	r->role = RAFT_PRE_CANDIDATE;
}

static void become_candidate(struct raft *r)
{
	assert(r->role != RAFT_LEADER);
	election_reset(r, r->term + 1); /* §3.4: increment the term, vote for self */
	r->vote = r->id;
	r->role = RAFT_CANDIDATE;
}

void election_become_leader(struct raft *r)
{
	assert(r->role == RAFT_CANDIDATE || r->role == RAFT_LEADER);
	election_reset(r, r->term);
	r->leader = r->id;
	r->role = RAFT_LEADER;
	struct progress *self = tracker_get(&r->trk, r->id);
	assert(self != NULL);
	progress_become_replicate(self);
	self->match = r->log.stable; /* I3: the leader counts only what is durable */
	/* §5.4.2 / §6.4: a no-op in the new term lets the leader commit (and so learn the commit
	 * index, which ReadIndex needs) without waiting for a client. */
	if (log_append_owned(&r->log, r->term, RAFT_ENTRY_NORMAL, NULL, 0) != 0) {
		/* in-memory log full: a leader that cannot append cannot serve; let another lead */
		election_become_follower(r, r->term, 0);
		return;
	}
	/* Entries of earlier terms may hold a configuration change not yet applied, and the no-op
	 * must commit before any change (§4.1 and the 2015 single-server fix): block changes until
	 * everything up to and including the no-op is applied. */
	r->pending_conf_index = log_last_index(&r->log);
	replication_bcast_append(r);
}

static void campaign(struct raft *r, bool pre, bool transfer)
{
	uint64_t term;
	uint8_t type;
	if (pre) {
		become_pre_candidate(r);
		type = RAFT_MSG_PRE_VOTE;
		term = r->term + 1; /* the term it would campaign in; own term unchanged */
	} else {
		become_candidate(r);
		type = RAFT_MSG_VOTE;
		term = r->term;
	}
	tracker_record_vote(&r->trk, r->id, true);
	if (tracker_tally(&r->trk) == VOTE_WON) { /* a single voter wins alone */
		if (pre)
			campaign(r, false, false); /* depth one: the next call has pre == false */
		else
			election_become_leader(r);
		return;
	}
	for (size_t i = 0; i < r->trk.conf.voters_count; i++) {
		uint64_t id = r->trk.conf.voters[i];
		if (id == r->id)
			continue;
		struct raft_msg m = {
			.type = type,
			.to = id,
			.term = term,
			.index = log_last_index(&r->log),
			.log_term = log_last_term(&r->log),
			.flags = transfer ? RAFT_MSG_FLAG_TRANSFER : 0,
		};
		raft_send(r, &m);
	}
}

int election_hup(struct raft *r, bool transfer)
{
	if (r->role == RAFT_LEADER)
		return 0;
	if (!raft_promotable(r))
		return RAFT_ECONFIG;
	if (membership_unapplied_changes(r))
		return RAFT_EBUSY; /* rule 5 */
	/* §3.10: a transfer target skips PreVote; its voters know the leader asked for it */
	campaign(r, r->cfg.pre_vote && !transfer, transfer);
	return 0;
}

static void tick_election(struct raft *r)
{
	if (r->election_elapsed < UINT32_MAX)
		r->election_elapsed++;
	if (raft_promotable(r) && r->election_elapsed >= r->randomized_timeout) {
		r->election_elapsed = 0;
		(void)election_hup(r, false); /* not promotable or waiting: try next timeout */
	}
}

static void tick_heartbeat(struct raft *r)
{
	r->heartbeat_elapsed++;
	r->election_elapsed++;
	if (r->election_elapsed >= r->cfg.election_ticks) {
		r->election_elapsed = 0;
		if (r->cfg.check_quorum) {
			/* §6.2: a leader that has not heard from a quorum within an election timeout
			 * steps down, so clients go elsewhere and its lease-keeping followers free up. */
			if (!tracker_quorum_active(&r->trk, r->id)) {
				election_become_follower(r, r->term, 0);
				return;
			}
			for (size_t i = 0; i < r->trk.count; i++) {
				if (r->trk.prs[i].id != r->id)
					r->trk.prs[i].recent_active = false;
			}
		}
		membership_abort_transfer(r); /* §3.10: a transfer gets one election timeout */
	}
	if (r->heartbeat_elapsed >= r->cfg.heartbeat_ticks) {
		r->heartbeat_elapsed = 0;
		replication_bcast_heartbeat(r, read_only_last_context(r));
	}
}

void election_tick(struct raft *r)
{
	if (r->role == RAFT_LEADER)
		tick_heartbeat(r);
	else
		tick_election(r);
}

int election_handle_vote(struct raft *r, const struct raft_msg *m)
{
	bool pre = m->type == RAFT_MSG_PRE_VOTE;
	/* §3.4: one vote per term; a follower that knows this term's leader does not vote. A
	 * pre-vote for a future term is hypothetical and binds nothing (§9.6). */
	bool can_vote = r->vote == m->from || (r->vote == 0 && r->leader == 0) || (pre && m->term > r->term);
#if SL_PLANT_BUG_B
	can_vote = can_vote || (!pre && r->leader == 0); /* planted: a second vote in the same term */
#endif
	struct raft_msg resp = { .to = m->from, .type = pre ? RAFT_MSG_PRE_VOTE_RESP : RAFT_MSG_VOTE_RESP };
	if (can_vote && log_is_up_to_date(&r->log, m->index, m->log_term)) {
		/* the granting response carries the candidate's term (for pre-vote, a future one) */
		resp.term = m->term;
		if (!pre) {
			r->election_elapsed = 0;
			r->vote = m->from; /* persisted by the Ready that carries resp (Rule 1) */
#if SL_PLANT_BUG_D
			/* planted: pretend the vote is already durable so the Ready omits it */
			r->prev_hs.term = r->term;
			r->prev_hs.vote = r->vote;
#endif
		}
	} else {
		resp.term = r->term;
		resp.flags = RAFT_MSG_FLAG_REJECT;
	}
	raft_send(r, &resp);
	return 0;
}

int election_handle_vote_resp(struct raft *r, const struct raft_msg *m)
{
	uint8_t expected = r->role == RAFT_PRE_CANDIDATE ? RAFT_MSG_PRE_VOTE_RESP : RAFT_MSG_VOTE_RESP;
	if ((r->role != RAFT_PRE_CANDIDATE && r->role != RAFT_CANDIDATE) || m->type != expected)
		return RAFT_ESTALE;
	tracker_record_vote(&r->trk, m->from, !(m->flags & RAFT_MSG_FLAG_REJECT));
	switch (tracker_tally(&r->trk)) {
	case VOTE_WON:
		if (r->role == RAFT_PRE_CANDIDATE)
			campaign(r, false, false);
		else
			election_become_leader(r);
		break;
	case VOTE_LOST:
		/* a pre-candidate keeps its term; a candidate keeps its (durable) vote */
		election_become_follower(r, r->term, 0);
		break;
	default:
		break;
	}
	return 0;
}
