/* consensus/membership.c — single-server membership changes, learners, leader transfer.
 *
 * Membership (§4.1-4.3): one voter is added or removed at a time, so any majority of the old
 * configuration overlaps any majority of the new one and no joint consensus is needed (§4.1).
 *
 * Rules:
 *  1. A change is a log entry (RAFT_ENTRY_CONF_CHANGE). It takes effect on each node when the
 *     entry is applied (etcd's choice; the dissertation switches at append, §4.1). Applied
 *     implies committed, so a truncated change never has to be undone; safety rests on rule 2.
 *  2. One change at a time: the leader refuses a new change until every earlier one (and its
 *     own term's no-op, which fixes the single-server bug Ongaro reported in 2015) is applied.
 *  3. New servers join as learners first and catch up before promotion (§4.2.1); learners
 *     receive the log but never vote in tallies, count toward commit, or campaign.
 *  4. A leader removed from the configuration steps down once the removal is applied, hence
 *     committed (§4.2.2), handing off with TimeoutNow to the most up-to-date voter.
 *  5. Disruptive removed servers (§4.2.3) are contained by PreVote and CheckQuorum leases.
 *  6. Leader transfer (§3.10): stop accepting proposals, bring the target up to date, send
 *     TimeoutNow; abort after an election timeout.
 *  7. Configuration at any in-memory index is the compaction point's conf plus the conf-change
 *     entries after it, so compaction and restart need no separate history.
 */
#include <string.h>

#include "consensus/internal.h"

bool membership_unapplied_changes(const struct raft *r)
{
	for (uint64_t i = r->log.applied + 1; i <= r->log.committed; i++) {
		const struct raft_entry *e = log_entry(&r->log, i);
		if (e != NULL && e->type == RAFT_ENTRY_CONF_CHANGE)
			return true;
	}
	return false;
}

void membership_conf_at(const struct raft_log *log, uint64_t index, struct raft_conf_state *out)
{
	*out = log->snap.conf;
	for (uint64_t i = log->snap.index + 1; i <= index; i++) {
		const struct raft_entry *e = log_entry(log, i);
		struct raft_conf_change cc;
		if (e == NULL || e->type != RAFT_ENTRY_CONF_CHANGE)
			continue;
		if (raft_conf_change_decode(e->data, e->len, &cc) == 0)
			(void)conf_apply(out, &cc); /* invalid changes are no-ops everywhere */
	}
}

static void hand_off(struct raft *r)
{ /* rule 4: let the most caught-up remaining voter campaign at once */
	uint64_t best = 0, best_match = 0;
	for (size_t i = 0; i < r->trk.count; i++) {
		const struct progress *pr = &r->trk.prs[i];
		if (!pr->learner && pr->id != r->id && pr->match >= best_match) {
			best = pr->id;
			best_match = pr->match;
		}
	}
	if (best != 0 && best_match == log_last_index(&r->log)) {
		struct raft_msg m = { .type = RAFT_MSG_TIMEOUT_NOW, .to = best };
		raft_send(r, &m);
	}
}

static void after_conf_change(struct raft *r)
{
	if (r->role != RAFT_LEADER)
		return;
	if (!conf_is_voter(&r->trk.conf, r->id)) {
		hand_off(r);
		election_become_follower(r, r->term, 0);
		return;
	}
	if (r->transferee != 0 && !conf_is_voter(&r->trk.conf, r->transferee))
		membership_abort_transfer(r);
	/* the quorum changed: a removal can commit entries at once; new members need appends */
	replication_maybe_commit(r);
	replication_bcast_append(r);
}

void membership_apply_entry(struct raft *r, const struct raft_entry *e)
{
	if (e->type != RAFT_ENTRY_CONF_CHANGE || e->index <= r->log.snap.index)
		return; /* superseded by an installed snapshot's configuration */
	struct raft_conf_change cc;
	if (raft_conf_change_decode(e->data, e->len, &cc) != 0)
		return;
	struct raft_conf_state conf = r->trk.conf;
	if (conf_apply(&conf, &cc) != 0)
		return; /* deterministic on every node: the same log, the same no-op */
	tracker_set_conf(&r->trk, &conf, log_last_index(&r->log) + 1, r->cfg.max_inflight_msgs,
			 r->cfg.max_inflight_bytes);
	after_conf_change(r);
}

int raft_propose_conf_change(raft *r, const struct raft_conf_change *change, uint64_t *index_out)
{
	if (change == NULL)
		return RAFT_EINVAL;
	if (r->role != RAFT_LEADER)
		return RAFT_ENOTLEADER;
	if (r->transferee != 0 || r->pending_conf_index > r->log.applied)
		return RAFT_EBUSY; /* rule 2 */
	struct raft_conf_state conf = r->trk.conf;
	int rc = conf_apply(&conf, change);
	if (rc != 0)
		return rc;
	const uint8_t *data;
	size_t len;
	rc = codec_conf_change_block(change, &data, &len);
	if (rc != 0)
		return rc;
	rc = log_append_owned(&r->log, r->term, RAFT_ENTRY_CONF_CHANGE, data, len);
	if (rc != 0) {
		data_unref(data);
		return rc;
	}
	r->pending_conf_index = log_last_index(&r->log);
	r->broadcast_pending = true;
	if (index_out != NULL)
		*index_out = r->pending_conf_index;
	return 0;
}

void membership_abort_transfer(struct raft *r)
{
	r->transferee = 0;
}

static void send_timeout_now(struct raft *r, uint64_t to)
{
	struct raft_msg m = { .type = RAFT_MSG_TIMEOUT_NOW, .to = to };
	raft_send(r, &m);
}

void membership_transfer_check(struct raft *r, uint64_t from)
{
	const struct progress *pr = tracker_get(&r->trk, from);
	if (r->transferee == from && pr != NULL && pr->match == log_last_index(&r->log))
		send_timeout_now(r, from);
}

int raft_transfer_leader(raft *r, uint64_t to)
{
	if (r->role != RAFT_LEADER)
		return RAFT_ENOTLEADER;
	struct progress *pr = tracker_get(&r->trk, to);
	if (to == r->id || pr == NULL || pr->learner)
		return RAFT_EINVAL;
	if (r->transferee == to)
		return 0;
	membership_abort_transfer(r);
	r->transferee = to;
	r->election_elapsed = 0; /* rule 6: one election timeout to finish */
	if (pr->match == log_last_index(&r->log))
		send_timeout_now(r, to);
	else
		replication_send_append(r, to, true);
	return 0;
}
