/* consensus/progress.c — configuration sets, per-peer progress, flow control and quorum math.
 *
 * Progress states (etcd tracker/progress.go), per follower, on the leader:
 *
 *   PROBE ──ack──▶ REPLICATE ──reject / unreachable──▶ PROBE
 *     │                                                  ▲
 *     └──next before compaction point──▶ SNAPSHOT ──ack >= snapshot / report──┘
 *
 *   PROBE: one append per heartbeat interval until the match point is found (§3.5).
 *   REPLICATE: optimistic pipelining; next advances on send, bounded by the inflight window
 *              (max_inflight_msgs messages and max_inflight_bytes bytes).
 *   SNAPSHOT: paused until the snapshot is installed or reported failed (§5.3).
 *
 * Quorum math: only voters count (learners never do, §4.2.1); quorum = voters/2 + 1.
 */
#include <string.h>

#include "consensus/internal.h"

/* ---- configuration sets ---- */

static bool ids_contain(const uint64_t *ids, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n; i++) {
		if (ids[i] == id)
			return true;
	}
	return false;
}

static void ids_insert(uint64_t *ids, uint8_t *n, uint64_t id)
{ /* keep sorted */
	size_t at = *n;
	while (at > 0 && ids[at - 1] > id) {
		ids[at] = ids[at - 1];
		at--;
	}
	ids[at] = id;
	(*n)++;
}

static void ids_remove(uint64_t *ids, uint8_t *n, uint64_t id)
{
	size_t w = 0;
	for (size_t i = 0; i < *n; i++) {
		if (ids[i] != id)
			ids[w++] = ids[i];
	}
	*n = (uint8_t)w;
}

bool conf_is_voter(const struct raft_conf_state *conf, uint64_t id)
{
	return ids_contain(conf->voters, conf->voters_count, id);
}

bool conf_is_learner(const struct raft_conf_state *conf, uint64_t id)
{
	return ids_contain(conf->learners, conf->learners_count, id);
}

int conf_apply(struct raft_conf_state *conf, const struct raft_conf_change *change)
{
	uint64_t id = change->node_id;
	if (id == 0)
		return RAFT_ECONFIG;
	switch (change->type) {
	case RAFT_CONF_ADD_VOTER:
		if (conf_is_voter(conf, id) || conf->voters_count >= RAFT_VOTERS_MAX)
			return RAFT_ECONFIG;
		ids_remove(conf->learners, &conf->learners_count, id); /* promotion */
		ids_insert(conf->voters, &conf->voters_count, id);
		return 0;
	case RAFT_CONF_ADD_LEARNER:
		/* demotion is a removal followed by an add: one voter change at a time (§4.1) */
		if (conf_is_voter(conf, id) || conf_is_learner(conf, id) ||
		    conf->learners_count >= RAFT_LEARNERS_MAX)
			return RAFT_ECONFIG;
		ids_insert(conf->learners, &conf->learners_count, id);
		return 0;
	case RAFT_CONF_REMOVE:
		if (conf_is_learner(conf, id)) {
			ids_remove(conf->learners, &conf->learners_count, id);
			return 0;
		}
		/* never remove the last voter: nothing could commit again */
		if (!conf_is_voter(conf, id) || conf->voters_count == 1)
			return RAFT_ECONFIG;
		ids_remove(conf->voters, &conf->voters_count, id);
		return 0;
	default:
		return RAFT_ECONFIG;
	}
}

static bool ids_valid(const uint64_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ids[i] == 0 || (i > 0 && ids[i - 1] >= ids[i]))
			return false;
	}
	return true;
}

bool conf_valid(const struct raft_conf_state *conf)
{
	if (conf->voters_count > RAFT_VOTERS_MAX || conf->learners_count > RAFT_LEARNERS_MAX)
		return false;
	if (!ids_valid(conf->voters, conf->voters_count) || !ids_valid(conf->learners, conf->learners_count))
		return false;
	for (size_t i = 0; i < conf->learners_count; i++) {
		if (conf_is_voter(conf, conf->learners[i]))
			return false;
	}
	return true;
}

/* ---- inflights ---- */

void inflights_reset(struct inflights *in)
{
	in->start = 0;
	in->count = 0;
	in->total_bytes = 0;
}

bool inflights_full(const struct inflights *in)
{
	return in->count >= in->max_count || (in->max_bytes > 0 && in->total_bytes >= in->max_bytes);
}

void inflights_add(struct inflights *in, uint64_t last_index, size_t bytes)
{
	assert(!inflights_full(in));
	assert(in->count < RAFT_INFLIGHT_MSGS_MAX);
	size_t slot = (in->start + in->count) % RAFT_INFLIGHT_MSGS_MAX;
	in->last_index[slot] = last_index;
	in->bytes[slot] = bytes;
	in->count++;
	in->total_bytes += bytes;
}

void inflights_free_to(struct inflights *in, uint64_t index)
{
	while (in->count > 0 && in->last_index[in->start] <= index) {
		in->total_bytes -= in->bytes[in->start];
		in->start = (in->start + 1) % RAFT_INFLIGHT_MSGS_MAX;
		in->count--;
	}
	if (in->count == 0)
		in->start = 0;
}

/* ---- progress ---- */

static void progress_reset_state(struct progress *pr, enum progress_state state)
{
	pr->probe_sent = false;
	pr->pending_snapshot = 0;
	pr->state = state;
	inflights_reset(&pr->inflight);
}

void progress_become_probe(struct progress *pr)
{
	if (pr->state == PROGRESS_SNAPSHOT) {
		/* resume after the snapshot if it was installed, else from the match point */
		uint64_t pending = pr->pending_snapshot;
		progress_reset_state(pr, PROGRESS_PROBE);
		pr->next = (pr->match > pending ? pr->match : pending) + 1;
		return;
	}
	progress_reset_state(pr, PROGRESS_PROBE);
	pr->next = pr->match + 1;
}

void progress_become_replicate(struct progress *pr)
{
	progress_reset_state(pr, PROGRESS_REPLICATE);
	pr->next = pr->match + 1;
}

void progress_become_snapshot(struct progress *pr, uint64_t snapshot_index)
{
	progress_reset_state(pr, PROGRESS_SNAPSHOT);
	pr->pending_snapshot = snapshot_index;
}

bool progress_is_paused(const struct progress *pr)
{
	switch (pr->state) {
	case PROGRESS_PROBE:
		return pr->probe_sent;
	case PROGRESS_REPLICATE:
		return inflights_full(&pr->inflight);
	default:
		return true;
	}
}

bool progress_maybe_update(struct progress *pr, uint64_t index)
{
	bool updated = false;
	if (pr->match < index) {
		pr->match = index;
		updated = true;
		pr->probe_sent = false; /* the probe found its answer */
	}
	if (pr->next < index + 1)
		pr->next = index + 1;
	return updated;
}

bool progress_maybe_decr_to(struct progress *pr, uint64_t rejected, uint64_t match_hint)
{
	if (pr->state == PROGRESS_REPLICATE) {
		/* a rejection at or below match is stale (reordered); else fall back to match */
		if (rejected <= pr->match)
			return false;
		pr->next = pr->match + 1;
		return true;
	}
	/* PROBE: only the answer to the probe in flight counts */
	if (pr->next == 0 || pr->next - 1 != rejected)
		return false;
	uint64_t next = match_hint + 1 < rejected ? match_hint + 1 : rejected;
	if (next < pr->match + 1)
		next = pr->match + 1;
	pr->next = next;
	pr->probe_sent = false;
	return true;
}

/* ---- tracker ---- */

static const struct progress *tracker_find(const struct tracker *trk, uint64_t id)
{
	for (size_t i = 0; i < trk->count; i++) {
		if (trk->prs[i].id == id)
			return &trk->prs[i];
	}
	return NULL;
}

struct progress *tracker_get(struct tracker *trk, uint64_t id)
{
	for (size_t i = 0; i < trk->count; i++) {
		if (trk->prs[i].id == id)
			return &trk->prs[i];
	}
	return NULL;
}

static void tracker_add(struct tracker *trk, const struct tracker *old, uint64_t id, bool learner, uint64_t next,
			size_t max_msgs, size_t max_bytes)
{
	assert(trk->count < RAFT_NODES_MAX);
	struct progress *pr = &trk->prs[trk->count++];
	const struct progress *prev = tracker_find(old, id);
	if (prev != NULL) {
		*pr = *prev;
	} else {
		memset(pr, 0, sizeof *pr);
		pr->id = id;
		pr->next = next;
		pr->state = PROGRESS_PROBE;
		/* a new member counts as active so that adding it cannot trip CheckQuorum at once */
		pr->recent_active = true;
	}
	pr->learner = learner;
	pr->inflight.max_count = max_msgs;
	pr->inflight.max_bytes = max_bytes;
}

void tracker_set_conf(struct tracker *trk, const struct raft_conf_state *conf, uint64_t next,
		      size_t max_inflight_msgs, size_t max_inflight_bytes)
{
	assert(conf_valid(conf));
	struct tracker old = *trk; /* ~64 KiB on the stack: RAFT_NODES_MAX inflight windows */
	struct tracker *copy = &old;
	trk->conf = *conf;
	trk->count = 0;
	for (size_t i = 0; i < conf->voters_count; i++)
		tracker_add(trk, copy, conf->voters[i], false, next, max_inflight_msgs, max_inflight_bytes);
	for (size_t i = 0; i < conf->learners_count; i++)
		tracker_add(trk, copy, conf->learners[i], true, next, max_inflight_msgs, max_inflight_bytes);
}

size_t tracker_quorum(const struct tracker *trk)
{
	return trk->conf.voters_count == 0 ? 0 : (size_t)trk->conf.voters_count / 2 + 1;
}

uint64_t tracker_committed(const struct tracker *trk)
{
	/* The quorum-th largest match among voters is on a majority (§3.6.2). Insertion sort of
	 * at most RAFT_VOTERS_MAX values, descending. */
	uint64_t matches[RAFT_VOTERS_MAX];
	size_t n = 0;
	for (size_t i = 0; i < trk->count; i++) {
		if (trk->prs[i].learner)
			continue;
		uint64_t m = trk->prs[i].match;
		size_t at = n++;
		while (at > 0 && matches[at - 1] < m) {
			matches[at] = matches[at - 1];
			at--;
		}
		matches[at] = m;
	}
	size_t quorum = tracker_quorum(trk);
	if (quorum == 0)
		return 0;
	return matches[quorum - 1];
}

void tracker_reset_votes(struct tracker *trk)
{
	for (size_t i = 0; i < trk->count; i++)
		trk->prs[i].vote = 0;
}

void tracker_record_vote(struct tracker *trk, uint64_t id, bool granted)
{
	struct progress *pr = tracker_get(trk, id);
	if (pr == NULL || pr->learner || pr->vote != 0)
		return; /* learners and strangers do not count; the first answer stands */
	pr->vote = granted ? 1 : -1;
}

enum vote_result tracker_tally(const struct tracker *trk)
{
	size_t granted = 0, rejected = 0;
	for (size_t i = 0; i < trk->count; i++) {
		if (trk->prs[i].learner)
			continue;
		granted += trk->prs[i].vote > 0;
		rejected += trk->prs[i].vote < 0;
	}
	size_t quorum = tracker_quorum(trk);
	if (quorum == 0)
		return VOTE_LOST;
	if (granted >= quorum)
		return VOTE_WON;
	if (trk->conf.voters_count - rejected < quorum)
		return VOTE_LOST;
	return VOTE_PENDING;
}

bool tracker_quorum_active(const struct tracker *trk, uint64_t self)
{
	size_t active = 0;
	for (size_t i = 0; i < trk->count; i++) {
		const struct progress *pr = &trk->prs[i];
		if (!pr->learner && (pr->id == self || pr->recent_active))
			active++;
	}
	return tracker_quorum(trk) > 0 && active >= tracker_quorum(trk);
}

size_t tracker_voters_in(const struct tracker *trk, const uint64_t *ids, size_t n)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		count += conf_is_voter(&trk->conf, ids[i]);
	return count;
}
