/* consensus/raft.c — creation, message dispatch, proposals and inspection (see raft.h).
 *
 * Step processing order (etcd raft.go Step, dissertation references inline):
 *  1. Validate the message as untrusted input (rule 6 of raft.h).
 *  2. Term handling: a higher term makes us a follower (§3.3) — except a pre-vote (§9.6), a
 *     granted pre-vote response, and vote requests during a CheckQuorum lease (§4.2.3) unless
 *     the request comes from a leader transfer (§3.10). A lower term is ignored, but appends
 *     and heartbeats are answered so a deposed leader learns the new term, and pre-votes are
 *     rejected so a pre-candidate with a stale term is not stuck.
 *  3. Vote requests are handled the same way by every role; the rest by role.
 */
#include <stdlib.h>
#include <string.h>

#include "consensus/internal.h"

#define DEFAULT_MSG_BYTES (1u << 20)
#define DEFAULT_INFLIGHT_MSGS 64
#define DEFAULT_INFLIGHT_BYTES (8u << 20)
#define MSG_BYTES_HEADROOM (64u << 10) /* message headers on top of entry data */

const char *raft_strerror(int code)
{
	switch (code) {
	case 0:
		return "success";
#define RAFT_ERROR_MESSAGE(name, value, message) \
	case value:                              \
		return message;
		RAFT_ERROR_LIST(RAFT_ERROR_MESSAGE)
#undef RAFT_ERROR_MESSAGE
	default:
		return "unknown error";
	}
}

const char *raft_errname(int code)
{
	switch (code) {
	case 0:
		return "RAFT_OK";
#define RAFT_ERROR_NAME(name, value, message) \
	case value:                           \
		return #name;
		RAFT_ERROR_LIST(RAFT_ERROR_NAME)
#undef RAFT_ERROR_NAME
	default:
		return "RAFT_E?";
	}
}

const char *raft_role_name(enum raft_role role)
{
	static const char *const names[] = { "follower", "pre-candidate", "candidate", "leader" };
	return (unsigned)role < 4 ? names[role] : "?";
}

const char *raft_msg_type_name(uint8_t type)
{
	static const char *const names[] = { "?",	  "APPEND",	   "APPEND_RESP", "VOTE",
					     "VOTE_RESP", "PRE_VOTE",	   "PRE_VOTE_RESP", "HEARTBEAT",
					     "HEARTBEAT_RESP", "SNAPSHOT", "TIMEOUT_NOW", "READ_INDEX",
					     "READ_INDEX_RESP" };
	return type <= RAFT_MSG_TYPE_MAX ? names[type] : "?";
}

bool raft_promotable(const struct raft *r)
{
	return conf_is_voter(&r->trk.conf, r->id);
}

/* ---- creation ---- */

static int config_check(const struct raft_config *in, struct raft_config *out)
{
	*out = *in;
	if (in->id == 0 || in->election_ticks < 2 || in->election_ticks > RAFT_ELECTION_TICKS_MAX ||
	    in->heartbeat_ticks == 0 || in->heartbeat_ticks >= in->election_ticks || !conf_valid(&in->initial))
		return RAFT_EINVAL;
	if (out->max_msg_bytes == 0)
		out->max_msg_bytes = DEFAULT_MSG_BYTES;
	if (out->max_inflight_msgs == 0)
		out->max_inflight_msgs = DEFAULT_INFLIGHT_MSGS;
	if (out->max_inflight_bytes == 0)
		out->max_inflight_bytes = DEFAULT_INFLIGHT_BYTES;
	if (out->max_msg_bytes > RAFT_MSG_BYTES_MAX - MSG_BYTES_HEADROOM ||
	    out->max_inflight_msgs > RAFT_INFLIGHT_MSGS_MAX || out->max_inflight_bytes > RAFT_INFLIGHT_BYTES_MAX)
		return RAFT_EINVAL;
	return 0;
}

static int bootstrap(struct raft *r)
{
	/* One conf change per founding member at term 1, committed: every founder writes the same
	 * entries (sorted ids), and a node joining later learns the membership from the log. */
	const struct raft_conf_state *conf = &r->cfg.initial;
	for (size_t i = 0; i < (size_t)conf->voters_count + conf->learners_count; i++) {
		bool voter = i < conf->voters_count;
		struct raft_conf_change cc = {
			.type = voter ? RAFT_CONF_ADD_VOTER : RAFT_CONF_ADD_LEARNER,
			.node_id = voter ? conf->voters[i] : conf->learners[i - conf->voters_count],
		};
		const uint8_t *data;
		size_t len;
		int rc = codec_conf_change_block(&cc, &data, &len);
		if (rc == 0)
			rc = log_append_owned(&r->log, 1, RAFT_ENTRY_CONF_CHANGE, data, len);
		if (rc != 0) {
			data_unref(data);
			return rc;
		}
	}
	r->term = 1;
	log_commit_to(&r->log, log_last_index(&r->log));
	r->trk.conf = *conf;
	return 0;
}

static int restore_check(const struct raft_storage_state *st)
{
	const struct raft_snapshot_meta *snap = &st->snapshot;
	if (!conf_valid(&snap->conf) || st->hard_state.term < snap->term || st->entries_count > RAFT_LOG_ENTRIES_MAX)
		return RAFT_EINVAL;
	if (st->entries_count > 0 && st->entries == NULL)
		return RAFT_EINVAL;
	uint64_t prev_term = snap->term;
	for (size_t i = 0; i < st->entries_count; i++) {
		const struct raft_entry *e = &st->entries[i];
		if (e->index != snap->index + 1 + i || e->term < prev_term || e->term > st->hard_state.term ||
		    e->type > RAFT_ENTRY_CONF_CHANGE || e->len > RAFT_ENTRY_BYTES_MAX || (e->len && e->data == NULL))
			return RAFT_EINVAL;
		prev_term = e->term;
	}
	uint64_t last = snap->index + st->entries_count;
	uint64_t commit = st->hard_state.commit > snap->index ? st->hard_state.commit : snap->index;
	if (st->hard_state.commit > last || st->applied > commit)
		return RAFT_EINVAL; /* a log that lost committed or applied entries */
	return 0;
}

static int restore(struct raft *r, const struct raft_storage_state *st)
{
	int rc = restore_check(st);
	if (rc != 0)
		return rc;
	const struct raft_snapshot_meta *snap = &st->snapshot;
	log_init(&r->log, snap);
	rc = log_append(&r->log, st->entries, st->entries_count);
	if (rc != 0)
		return rc;
	r->log.stable = log_last_index(&r->log);
	r->log.snap_unstable = false;
	log_commit_to(&r->log, st->hard_state.commit);
	uint64_t applied = st->applied > snap->index ? st->applied : snap->index;
	r->log.applied = applied;
	r->log.applying = applied;
	r->term = st->hard_state.term;
	r->vote = st->hard_state.vote;
	r->prev_hs = st->hard_state;
	r->prev_hs.commit = r->log.committed;
	membership_conf_at(&r->log, applied, &r->trk.conf);
	return 0;
}

static bool restored_empty(const struct raft_storage_state *st)
{
	return st == NULL || (st->hard_state.term == 0 && st->entries_count == 0 && st->snapshot.index == 0);
}

int raft_create(const struct raft_config *config, const struct raft_storage_state *restored, raft **out)
{
	if (config == NULL || out == NULL)
		return RAFT_EINVAL;
	*out = NULL;
	struct raft *r = calloc(1, sizeof *r);
	if (r == NULL)
		return RAFT_ENOMEM;
	int rc = config_check(config, &r->cfg);
	if (rc == 0) {
		r->id = config->id;
		/* mix the id in so that nodes given one seed still draw different timeouts */
		r->rng = config->seed ^ (config->id * 0x9e3779b97f4a7c15ULL);
		log_init(&r->log, NULL);
		if (restored_empty(restored))
			rc = config->initial.voters_count ? bootstrap(r) : 0;
		else
			rc = restore(r, restored);
	}
	if (rc != 0) {
		log_free(&r->log);
		free(r);
		return rc;
	}
	struct raft_conf_state conf = r->trk.conf;
	tracker_set_conf(&r->trk, &conf, log_last_index(&r->log) + 1, r->cfg.max_inflight_msgs,
			 r->cfg.max_inflight_bytes);
	uint64_t vote = r->vote;
	election_become_follower(r, r->term, 0);
	r->vote = vote;
	r->prev_role = RAFT_FOLLOWER;
	*out = r;
	return 0;
}

void raft_destroy(raft *r)
{
	if (r == NULL)
		return;
	ready_release(r); /* an outstanding Ready dies with the node */
	raft_msgs_free(r->msgs, r->msgs_count);
	log_free(&r->log);
	free(r);
}

/* ---- step ---- */

static int validate_entries(const struct raft_msg *m)
{
	if (m->entries_count > RAFT_MSG_ENTRIES_MAX || (m->entries_count && m->type != RAFT_MSG_APPEND) ||
	    (m->entries_count && m->entries == NULL) || m->index > UINT64_MAX - m->entries_count)
		return RAFT_EINVAL;
	uint64_t prev_term = m->log_term;
	for (size_t i = 0; i < m->entries_count; i++) {
		const struct raft_entry *e = &m->entries[i];
		if (e->index != m->index + 1 + i || e->term < prev_term || e->term > m->term ||
		    e->type > RAFT_ENTRY_CONF_CHANGE || e->len > RAFT_ENTRY_BYTES_MAX || (e->len && e->data == NULL))
			return RAFT_EINVAL;
		prev_term = e->term;
	}
	return 0;
}

static int validate(const struct raft *r, const struct raft_msg *m)
{
	if (m->type < RAFT_MSG_APPEND || m->type > RAFT_MSG_TYPE_MAX || m->from == 0 || m->from == r->id ||
	    m->to != r->id)
		return RAFT_EINVAL;
	if ((m->type == RAFT_MSG_READ_INDEX) != (m->term == 0))
		return RAFT_EINVAL; /* only a forwarded read travels without a term */
	if (m->type == RAFT_MSG_APPEND && m->log_term > m->term)
		return RAFT_EINVAL;
	if (m->type == RAFT_MSG_SNAPSHOT &&
	    (!conf_valid(&m->snapshot.conf) || m->snapshot.term > m->term || m->snapshot.index == 0))
		return RAFT_EINVAL;
	return validate_entries(m);
}

static int step_term(struct raft *r, const struct raft_msg *m)
{
	bool vote_request = m->type == RAFT_MSG_VOTE || m->type == RAFT_MSG_PRE_VOTE;
	if (m->term > r->term) {
		if (vote_request) {
			bool forced = m->flags & RAFT_MSG_FLAG_TRANSFER;
			bool in_lease = r->cfg.check_quorum && r->leader != 0 &&
					r->election_elapsed < r->cfg.election_ticks;
			if (in_lease && !forced)
				return RAFT_ESTALE; /* §4.2.3: we heard from a live leader recently */
		}
		if (m->type == RAFT_MSG_PRE_VOTE)
			return 0; /* §9.6: answer without adopting the hypothetical term */
		if (m->type == RAFT_MSG_PRE_VOTE_RESP && !(m->flags & RAFT_MSG_FLAG_REJECT))
			return 0; /* our own future term, granted; the term moves when we campaign */
		bool from_leader = m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_HEARTBEAT ||
				   m->type == RAFT_MSG_SNAPSHOT;
		election_become_follower(r, m->term, from_leader ? m->from : 0);
		return 0;
	}
	if (m->term < r->term) {
		if ((r->cfg.check_quorum || r->cfg.pre_vote) &&
		    (m->type == RAFT_MSG_HEARTBEAT || m->type == RAFT_MSG_APPEND)) {
			/* a deposed leader whose followers keep leases would never hear a higher term */
			struct raft_msg resp = { .type = RAFT_MSG_APPEND_RESP, .to = m->from };
			raft_send(r, &resp);
		} else if (m->type == RAFT_MSG_PRE_VOTE) {
			struct raft_msg resp = { .type = RAFT_MSG_PRE_VOTE_RESP,
						 .to = m->from,
						 .term = r->term,
						 .flags = RAFT_MSG_FLAG_REJECT };
			raft_send(r, &resp);
		}
		return RAFT_ESTALE;
	}
	return 0;
}

static int step_follower(struct raft *r, const struct raft_msg *m)
{
	switch (m->type) {
	case RAFT_MSG_APPEND:
	case RAFT_MSG_HEARTBEAT:
	case RAFT_MSG_SNAPSHOT:
		r->election_elapsed = 0;
		r->leader = m->from;
		if (m->type == RAFT_MSG_APPEND)
			return replication_handle_append(r, m);
		if (m->type == RAFT_MSG_HEARTBEAT)
			return replication_handle_heartbeat(r, m);
		return replication_handle_snapshot(r, m);
	case RAFT_MSG_TIMEOUT_NOW:
		return election_hup(r, true); /* §3.10: campaign at once, leases do not apply */
	case RAFT_MSG_READ_INDEX_RESP:
		return read_only_handle_resp(r, m);
	default:
		return RAFT_ESTALE;
	}
}

static int step_candidate(struct raft *r, const struct raft_msg *m)
{
	switch (m->type) {
	case RAFT_MSG_APPEND:
	case RAFT_MSG_HEARTBEAT:
	case RAFT_MSG_SNAPSHOT:
		/* §3.4: a leader of our term exists; stand down and follow it */
		election_become_follower(r, m->term, m->from);
		return step_follower(r, m);
	case RAFT_MSG_VOTE_RESP:
	case RAFT_MSG_PRE_VOTE_RESP:
		return election_handle_vote_resp(r, m);
	default:
		return RAFT_ESTALE;
	}
}

static int step_leader(struct raft *r, const struct raft_msg *m)
{
	switch (m->type) {
	case RAFT_MSG_APPEND_RESP:
		return replication_handle_append_resp(r, m);
	case RAFT_MSG_HEARTBEAT_RESP:
		return replication_handle_heartbeat_resp(r, m);
	default:
		return RAFT_ESTALE;
	}
}

int raft_step(raft *r, const struct raft_msg *m)
{
	if (r == NULL || m == NULL)
		return RAFT_EINVAL;
	int rc = validate(r, m);
	if (rc != 0)
		return rc;
	if (m->type == RAFT_MSG_READ_INDEX) /* forwarded by a follower (§6.4) */
		return r->role == RAFT_LEADER ? read_only_request(r, m->context, m->from) : RAFT_ENOTLEADER;
	rc = step_term(r, m);
	if (rc != 0)
		return rc;
	if (m->type == RAFT_MSG_VOTE || m->type == RAFT_MSG_PRE_VOTE)
		return election_handle_vote(r, m);
	switch (r->role) {
	case RAFT_LEADER:
		return step_leader(r, m);
	case RAFT_FOLLOWER:
		return step_follower(r, m);
	default:
		return step_candidate(r, m);
	}
}

/* ---- other inputs ---- */

void raft_tick(raft *r)
{
	election_tick(r);
}

int raft_campaign(raft *r)
{
	return election_hup(r, false);
}

static int uncommitted_check(const struct raft *r, size_t len)
{
	uint64_t last = log_last_index(&r->log);
	if (last - r->log.committed >= RAFT_UNCOMMITTED_ENTRIES_MAX)
		return RAFT_ELIMIT;
	size_t bytes = len;
	for (uint64_t i = r->log.committed + 1; i <= last; i++) { /* <= RAFT_UNCOMMITTED_ENTRIES_MAX */
		bytes += log_entry(&r->log, i)->len;
		if (bytes > RAFT_UNCOMMITTED_BYTES_MAX)
			return RAFT_ELIMIT;
	}
	return 0;
}

int raft_propose(raft *r, const void *data, size_t len, uint64_t *index_out)
{
	if (data == NULL || len == 0 || len > RAFT_ENTRY_BYTES_MAX)
		return RAFT_EINVAL;
	if (r->role != RAFT_LEADER)
		return RAFT_ENOTLEADER;
	if (r->transferee != 0)
		return RAFT_EBUSY; /* §3.10: the leader stops accepting proposals during a transfer */
	int rc = uncommitted_check(r, len);
	if (rc != 0)
		return rc;
	bool ok;
	const uint8_t *copy = data_new(data, len, &ok);
	if (!ok)
		return RAFT_ENOMEM;
	rc = log_append_owned(&r->log, r->term, RAFT_ENTRY_NORMAL, copy, len);
	if (rc != 0) {
		data_unref(copy);
		return rc;
	}
	r->broadcast_pending = true; /* batching: one append round per Ready */
	if (index_out != NULL)
		*index_out = log_last_index(&r->log);
	return 0;
}

int raft_read_index(raft *r, uint64_t context)
{
	if (context == 0)
		return RAFT_EINVAL;
	if (r->role == RAFT_LEADER)
		return read_only_request(r, context, r->id);
	if (r->role != RAFT_FOLLOWER || r->leader == 0)
		return RAFT_ENOTLEADER;
	struct raft_msg m = { .type = RAFT_MSG_READ_INDEX, .to = r->leader, .context = context };
	raft_send(r, &m);
	return 0;
}

void raft_report_snapshot(raft *r, uint64_t to, bool ok)
{
	struct progress *pr = r->role == RAFT_LEADER ? tracker_get(&r->trk, to) : NULL;
	if (pr == NULL || pr->state != PROGRESS_SNAPSHOT)
		return;
	if (!ok)
		pr->pending_snapshot = 0; /* resume probing from the match point */
	progress_become_probe(pr);
	pr->probe_sent = true; /* wait for the next heartbeat response before probing (etcd) */
}

void raft_report_unreachable(raft *r, uint64_t to)
{
	struct progress *pr = r->role == RAFT_LEADER ? tracker_get(&r->trk, to) : NULL;
	if (pr != NULL && pr->state == PROGRESS_REPLICATE)
		progress_become_probe(pr);
}

/* ---- inspection ---- */

void raft_status_get(const raft *r, struct raft_status *st)
{
	memset(st, 0, sizeof *st);
	st->id = r->id;
	st->role = r->role;
	st->term = r->term;
	st->vote = r->vote;
	st->leader = r->leader;
	st->commit = r->log.committed;
	st->applied = r->log.applied;
	st->first_index = log_first_index(&r->log);
	st->last_index = log_last_index(&r->log);
	st->log_bytes = r->log.bytes;
	st->snapshot = r->log.snap;
	st->conf = r->trk.conf;
	st->transferee = r->transferee;
	st->messages_dropped = r->msgs_dropped;
	if (r->role != RAFT_LEADER)
		return;
	for (size_t i = 0; i < r->trk.count; i++) {
		const struct progress *pr = &r->trk.prs[i];
		struct raft_progress_status *ps = &st->progress[st->progress_count++];
		ps->id = pr->id;
		ps->learner = pr->learner;
		ps->match = pr->match;
		ps->next = pr->next;
		ps->state = (uint8_t)pr->state;
		ps->inflight_msgs = pr->inflight.count;
		ps->recent_active = pr->recent_active;
	}
}

uint64_t raft_leader(const raft *r)
{
	return r->leader;
}

int raft_log_entry(const raft *r, uint64_t index, struct raft_entry *out)
{
	uint64_t term;
	int rc = log_term(&r->log, index, &term);
	if (rc != 0)
		return rc;
	if (index == r->log.snap.index)
		return RAFT_ECOMPACTED;
	*out = *log_entry(&r->log, index);
	return 0;
}
