/* node/admin.c — membership administration over the client protocol (node/proto.h "Membership
 * administration"; docs/operations.md "Membership"): who the raft members are and what the
 * registry holds (PROTO_MEMBERS, any node, its own view), membership changes and leader transfer
 * (the leader; other nodes redirect).
 *
 * Rules:
 *  1. A membership change names a site; its node is the one the configuration files or the
 *     registry give for that site (node/membership.c). Only sites in the registry can be added or
 *     promoted: the registry record, signed by a majority of sites, is what admits a site; the
 *     raft change only makes its node a replica. Removing needs the site known to the registry
 *     (registered or already removed), so a removed site's node can still be taken out.
 *  2. Add makes a learner (§4.2.1: it catches up without counting in any quorum). Promote makes a
 *     voter of a learner whose site registered as a voter, once it has caught up: its match index
 *     within NODE_ADMIN_CATCHUP_ENTRIES of the leader's commit and heard from recently. A learner
 *     not yet there is answered BUSY, which the CLI retries.
 *  3. The answer to a change comes when it is proposed (with its raft index), not when applied:
 *     `siteledger members` shows it once applied; the CLI polls for that.
 *  4. Requests are authenticated like every request (node/verify.c: a registered key of a
 *     registered site). Any registered site may ask; the registry record is the authorisation.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "node/node.h"
#include "util/error.h"

#define NODE_ADMIN_CATCHUP_ENTRIES 16 /* a learner this close to the commit index may be promoted */

/* The node of `site`: this node, a configured peer, or a node announced by the registry. */
struct site_node {
	uint64_t id; /* 0: none known */
	uint8_t role; /* enum registry_role; configured nodes are voters */
	bool registered; /* the site is registered (active) */
	bool known;	 /* the site has a row in the registry, active or removed */
};

static int site_node_find(struct node *n, store_txn *txn, const char *site, struct site_node *out)
{
	memset(out, 0, sizeof *out);
	struct store_site row;
	int rc = store_site_get(txn, site, &row);
	if (rc != 0 && rc != SL_ENOENT)
		return rc;
	out->known = rc == 0;
	out->registered = rc == 0 && row.active;
	out->role = REGISTRY_ROLE_VOTER;
	if (strcmp(site, n->config.site) == 0)
		out->id = n->config.id;
	for (size_t i = 0; out->id == 0 && i < n->config.peer_count; i++)
		if (strcmp(n->config.peers[i].site, site) == 0)
			out->id = n->config.peers[i].id;
	struct store_site_node node;
	rc = store_site_node_get(txn, site, &node);
	if (rc != 0 && rc != SL_ENOENT)
		return rc;
	if (rc == 0 && node.node_id != 0) {
		out->id = out->id != 0 ? out->id : node.node_id;
		out->role = node.role;
	}
	return 0;
}

/* The site and addresses of node `id` as this node knows them ("" when unknown). */
static void node_describe(const struct node *n, uint64_t id, struct proto_member *m)
{
	m->id = id;
	if (id == n->config.id) {
		snprintf(m->site, sizeof m->site, "%s", n->config.site);
		snprintf(m->peer_addr, sizeof m->peer_addr, "%s", n->config.peer_listen);
		snprintf(m->client_addr, sizeof m->client_addr, "%s", n->config.client_listen);
		return;
	}
	const struct node_peer_config *c = node_peer_by_id(n, id);
	if (c == NULL)
		return;
	snprintf(m->site, sizeof m->site, "%s", c->site);
	snprintf(m->peer_addr, sizeof m->peer_addr, "%s", c->peer_addr);
	snprintf(m->client_addr, sizeof m->client_addr, "%s", c->client_addr);
}

static uint64_t heard_ms(const struct node *n, uint64_t id)
{
	if (id == n->config.id)
		return 0;
	uint64_t now = node_clock_ms();
	for (size_t i = 0; i < n->peer_count; i++) {
		const struct node_peer *p = &n->peers[i];
		if (p->linked && p->config->id == id)
			return p->last_heard_ms == 0 ? PROTO_NEVER : (now > p->last_heard_ms ? now - p->last_heard_ms : 0);
	}
	return PROTO_NEVER;
}

static void member_add(struct node *n, const struct raft_status *st, uint64_t id, uint8_t role,
		       struct proto_members *out)
{
	if (out->member_count == PROTO_MEMBERS_MAX)
		return;
	struct proto_member *m = &out->members[out->member_count++];
	memset(m, 0, sizeof *m);
	node_describe(n, id, m);
	m->role = role;
	m->heard_ms = heard_ms(n, id);
	for (size_t j = 0; st->role == RAFT_LEADER && j < st->progress_count; j++)
		if (st->progress[j].id == id)
			m->match = st->progress[j].match;
	if (st->role == RAFT_LEADER && id == n->config.id)
		m->match = st->last_index;
}

struct registry_fill {
	struct node *n;
	store_txn *txn;
	struct proto_members *out;
	struct proto_registry_site *site; /* the site whose keys are being listed */
};

static int key_fill_cb(void *ctx, const uint8_t key_id[16], const struct store_key *value)
{
	struct registry_fill *f = ctx;
	struct proto_registry_site *s = f->site;
	if (strcmp(value->site, s->site) != 0 || s->key_count == PROTO_SITE_KEYS_MAX)
		return 0;
	struct proto_registry_key *k = &s->keys[s->key_count++];
	memset(k, 0, sizeof *k);
	memcpy(k->key_id.bytes, key_id, sizeof k->key_id.bytes);
	struct store_key_event event;
	int rc = store_key_event_get(f->txn, key_id, &event);
	if (rc == 0) {
		k->added_seq = event.added_seq;
		k->revoked_seq = event.revoked_seq;
	}
	if (rc == SL_ENOENT && value->revoked)
		k->revoked_seq = 1; /* revoked without a record (a store written by hand): before any */
	return rc == SL_ENOENT ? 0 : rc;
}

static int site_fill_cb(void *ctx, const char *site, const struct store_site *value)
{
	struct registry_fill *f = ctx;
	if (f->out->site_count == PROTO_REGISTRY_SITES_MAX)
		return 0;
	struct proto_registry_site *s = &f->out->sites[f->out->site_count++];
	memset(s, 0, sizeof *s);
	snprintf(s->site, sizeof s->site, "%s", site);
	s->active = value->active != 0;
	struct site_node sn;
	int rc = site_node_find(f->n, f->txn, site, &sn);
	s->node_id = rc == 0 ? sn.id : 0;
	struct store_site_node node;
	int got = rc == 0 ? store_site_node_get(f->txn, site, &node) : rc;
	if (got == 0) {
		s->added_seq = node.added_seq;
		s->removed_seq = node.removed_seq;
	}
	f->site = s;
	return got == 0 || got == SL_ENOENT ? store_key_iterate(f->txn, key_fill_cb, f) : got;
}

static void members_answer(struct node *n, struct proto_response *resp)
{
	struct raft_status st;
	raft_status_get(replica_raft(n->rp), &st);
	struct proto_members *m = &resp->members;
	for (size_t i = 0; i < st.conf.voters_count; i++)
		member_add(n, &st, st.conf.voters[i], PROTO_ROLE_VOTER, m);
	for (size_t i = 0; i < st.conf.learners_count; i++)
		member_add(n, &st, st.conf.learners[i], PROTO_ROLE_LEARNER, m);
	store_txn *txn = NULL;
	int rc = store_txn_begin(replica_store(n->rp), false, &txn);
	struct registry_fill f = { n, txn, m, NULL };
	if (rc == 0)
		rc = store_site_iterate(txn, site_fill_cb, &f);
	if (txn != NULL)
		store_txn_abort(txn);
	if (rc != 0) {
		proto_response_init(resp, PROTO_UNAVAILABLE, sl_strerror(rc));
		return;
	}
	resp->has_members = true;
	struct store_raft_applied a;
	replica_applied_get(n->rp, &a);
	resp->has_node = true; /* who answers, and whom it follows */
	resp->node = (struct proto_node_status){ .id = n->config.id, .role = st.role, .term = st.term,
						.leader = st.leader, .commit = st.commit, .applied = a.index,
						.ledger_size = a.ledger_seq };
	memcpy(resp->node.state_hash, a.state_hash, sizeof resp->node.state_hash);
	snprintf(resp->node.site, sizeof resp->node.site, "%s", n->config.site);
}

static bool in_list(const uint64_t *ids, size_t count, uint64_t id)
{
	for (size_t i = 0; i < count; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* Not the leader: redirect to it, or UNAVAILABLE (the CLI retries). */
static void not_leader(const struct node *n, const struct raft_status *st, struct proto_response *resp)
{
	const struct node_peer_config *p = node_peer_by_id(n, st->leader);
	if (p == NULL) {
		proto_response_init(resp, PROTO_UNAVAILABLE, "no leader known; retry");
		return;
	}
	proto_response_init(resp, PROTO_REDIRECT, "not the leader");
	snprintf(resp->leader_addr, sizeof resp->leader_addr, "%s", p->client_addr);
}

static void raft_answer(struct proto_response *resp, int rc, const char *what, uint64_t id, uint64_t index)
{
	char text[PROTO_TEXT_BYTES];
	if (rc == 0)
		snprintf(text, sizeof text, "%s node %" PRIu64 ": proposed at raft index %" PRIu64, what, id, index);
	else
		snprintf(text, sizeof text, "%s node %" PRIu64 ": %s", what, id, raft_strerror(rc));
	uint8_t code = rc == 0 ? PROTO_OK : rc == RAFT_EBUSY || rc == RAFT_ELIMIT ? PROTO_BUSY
					 : rc == RAFT_ENOTLEADER			 ? PROTO_UNAVAILABLE
											 : PROTO_REFUSED;
	proto_response_init(resp, code, text);
}

/* Rule 2: the learner caught up with the leader (0), or why not (a message for BUSY). */
static const char *caught_up(const struct raft_status *st, uint64_t id, char *why, size_t why_size)
{
	for (size_t j = 0; j < st->progress_count; j++) {
		const struct raft_progress_status *p = &st->progress[j];
		if (p->id != id)
			continue;
		if (p->recent_active && p->match + NODE_ADMIN_CATCHUP_ENTRIES >= st->commit)
			return NULL;
		snprintf(why, why_size, "node %" PRIu64 " has not caught up yet (match %" PRIu64 " of commit %" PRIu64
			 "); retry", id, p->match, st->commit);
		return why;
	}
	snprintf(why, why_size, "node %" PRIu64 " has no progress at the leader yet; retry", id);
	return why;
}

/* Checks of rules 1 and 2 for `change` on the site's node: true (resp set) when it may not go ahead. */
static bool change_refused(const struct raft_status *st, uint8_t change, const char *site, const struct site_node *sn,
			   struct proto_response *resp)
{
	char why[PROTO_TEXT_BYTES];
	bool voter = in_list(st->conf.voters, st->conf.voters_count, sn->id);
	bool learner = in_list(st->conf.learners, st->conf.learners_count, sn->id);
	const char *refusal = NULL;
	if (change != PROTO_CHANGE_REMOVE && !sn->registered)
		refusal = "the site is not in the registry: register it first (siteledger registry site-add)";
	else if (change == PROTO_CHANGE_REMOVE && !sn->known)
		refusal = "the site is not in the registry";
	else if (sn->id == 0)
		refusal = "no node is known for the site";
	else if (change == PROTO_CHANGE_ADD && (voter || learner))
		refusal = "the site's node is already a member";
	else if (change == PROTO_CHANGE_PROMOTE && !learner)
		refusal = voter ? "the site's node is already a voter" : "the site's node is not a learner: add it first";
	else if (change == PROTO_CHANGE_PROMOTE && sn->role != REGISTRY_ROLE_VOTER)
		refusal = "the site registered as a learner (auditor): it is never promoted";
	else if (change == PROTO_CHANGE_REMOVE && !voter && !learner)
		refusal = "the site's node is not a member";
	if (refusal != NULL) {
		snprintf(why, sizeof why, "%s: %s", site, refusal);
		proto_response_init(resp, PROTO_REFUSED, why);
		return true;
	}
	const char *busy = change == PROTO_CHANGE_PROMOTE ? caught_up(st, sn->id, why, sizeof why) : NULL;
	if (busy != NULL)
		proto_response_init(resp, PROTO_BUSY, busy);
	return busy != NULL;
}

/* What a change only the leader makes starts from: the raft status and the named site's node;
 * false (resp answered) when this node is not the leader or the site cannot be looked up. */
static bool leader_site_lookup(struct node *n, const struct proto_request *req, struct raft_status *st,
			       char site[STORE_SITE_SIZE], struct site_node *sn, struct proto_response *resp)
{
	raft_status_get(replica_raft(n->rp), st);
	if (st->role != RAFT_LEADER) {
		not_leader(n, st, resp);
		return false;
	}
	if (sl_str_copy(req->site, site, STORE_SITE_SIZE) != 0 || !record_site_id_valid(site, strlen(site))) {
		proto_response_init(resp, PROTO_INVALID, "not a site id");
		return false;
	}
	store_txn *txn = NULL;
	int rc = store_txn_begin(replica_store(n->rp), false, &txn);
	if (rc == 0)
		rc = site_node_find(n, txn, site, sn);
	if (txn != NULL)
		store_txn_abort(txn);
	if (rc != 0)
		proto_response_init(resp, PROTO_UNAVAILABLE, sl_strerror(rc));
	return rc == 0;
}

static void member_change(struct node *n, const struct proto_request *req, struct proto_response *resp)
{
	struct raft_status st;
	char site[STORE_SITE_SIZE];
	struct site_node sn;
	if (!leader_site_lookup(n, req, &st, site, &sn, resp) || change_refused(&st, req->change, site, &sn, resp))
		return;
	static const uint8_t kinds[] = { 0, RAFT_CONF_ADD_LEARNER, RAFT_CONF_ADD_VOTER, RAFT_CONF_REMOVE };
	static const char *const names[] = { "", "add learner", "promote to voter", "remove" };
	struct raft_conf_change change = { kinds[req->change], sn.id };
	uint64_t index = 0;
	int rc = raft_propose_conf_change(replica_raft(n->rp), &change, &index);
	raft_answer(resp, rc, names[req->change], sn.id, index);
	node_log(rc == 0 ? "info" : "warn", "membership change", "site=%s id=%" PRIu64 " change=\"%s\" index=%" PRIu64
		 " err=%s", site, sn.id, names[req->change], index, raft_errname(rc));
}

static void leader_transfer(struct node *n, const struct proto_request *req, struct proto_response *resp)
{
	struct raft_status st;
	char site[STORE_SITE_SIZE];
	struct site_node sn;
	if (!leader_site_lookup(n, req, &st, site, &sn, resp))
		return;
	if (sn.id == 0 || !in_list(st.conf.voters, st.conf.voters_count, sn.id)) {
		proto_response_init(resp, PROTO_REFUSED, "the site's node is not a voter");
		return;
	}
	if (sn.id == n->config.id) {
		proto_response_init(resp, PROTO_OK, "already the leader");
		return;
	}
	int rc = raft_transfer_leader(replica_raft(n->rp), sn.id);
	raft_answer(resp, rc, "leader transfer to", sn.id, st.last_index);
	node_log(rc == 0 ? "info" : "warn", "leader transfer", "site=%s id=%" PRIu64 " err=%s", site, sn.id,
		 raft_errname(rc));
}

void node_admin_request(struct node *n, void *control, const struct proto_request *req)
{
	static struct proto_response resp; /* loop thread only; large */
	proto_response_init(&resp, PROTO_OK, "");
	if (req->type == PROTO_MEMBERS)
		members_answer(n, &resp);
	else if (req->type == PROTO_MEMBER_CHANGE)
		member_change(n, req, &resp);
	else
		leader_transfer(n, req, &resp);
	node_clients_reply(n, control, &resp);
}
