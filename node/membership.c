/* node/membership.c — which peers this node keeps sealed links to, as the raft configuration and
 * the registry change (node.h "node/membership.c"; docs/operations.md "Membership").
 *
 * Design notes:
 *  1. Wanted = the applied raft configuration (voters and learners) less this node; while that is
 *     empty (a node started with `join = 1` that has applied nothing yet), the configured peers,
 *     so the leader's first messages are accepted. A link to a node no longer wanted is dropped:
 *     a removed node's messages are then dropped as from an unknown sender (and counted).
 *  2. Where a wanted node is: its [peer] section of the configuration file, else the registry. A
 *     site-add record names the site's node (id, peer and client addresses); the link is sealed
 *     with the key that record registered (store_site.public_key: the site's first key). Sites
 *     added later than this node's configuration file was written are found that way, so the
 *     existing nodes need no new configuration to reach a fourth site.
 *  3. A learnt node's struct node_peer_config lives in this module's table for the node's life (a
 *     link keeps a pointer to it); an entry is reused for the same id, and the table holds at most
 *     NODE_PEERS_MAX, as the links do.
 *  4. Syncing reads the store through the loop's own read transaction, only when a wanted node is
 *     not linked; an id that cannot be resolved is logged once until it resolves.
 *  5. Syncs run on the tick after a configuration change was applied (the core switches
 *     configuration at raft_advance, after the applied hook) and every NODE_MEMBERSHIP_SYNC_TICKS.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node.h"
#include "util/error.h"

struct node_membership {
	struct node_peer_config learned[NODE_PEERS_MAX];
	size_t learned_count;
	unsigned ticks;
	bool dirty; /* a configuration change or snapshot was applied: sync at the next tick */
	uint64_t unresolved[RAFT_NODES_MAX]; /* ids logged as unresolved (note 4) */
	size_t unresolved_count;
};

const struct node_peer_config *node_membership_peer(const struct node *n, uint64_t id)
{
	const struct node_membership *m = n->membership;
	for (size_t i = 0; m != NULL && i < m->learned_count; i++)
		if (m->learned[i].id == id)
			return &m->learned[i];
	return NULL;
}

static const struct node_peer_config *config_peer(const struct node *n, uint64_t id)
{
	for (size_t i = 0; i < n->config.peer_count; i++)
		if (n->config.peers[i].id == id)
			return &n->config.peers[i];
	return NULL;
}

/* The wanted ids (note 1) into ids[]; returns the count. */
static size_t wanted(const struct node *n, uint64_t ids[RAFT_NODES_MAX])
{
	struct raft_status st;
	raft_status_get(replica_raft(n->rp), &st);
	size_t count = 0;
	for (size_t i = 0; i < st.conf.voters_count; i++)
		if (st.conf.voters[i] != n->config.id)
			ids[count++] = st.conf.voters[i];
	for (size_t i = 0; i < st.conf.learners_count; i++)
		if (st.conf.learners[i] != n->config.id)
			ids[count++] = st.conf.learners[i];
	if (st.conf.voters_count + st.conf.learners_count > 0)
		return count;
	for (size_t i = 0; i < n->config.peer_count && count < RAFT_NODES_MAX; i++)
		ids[count++] = n->config.peers[i].id;
	return count;
}

static bool id_in(const uint64_t *ids, size_t count, uint64_t id)
{
	for (size_t i = 0; i < count; i++)
		if (ids[i] == id)
			return true;
	return false;
}

struct node_find {
	uint64_t id;
	bool found;
	char site[STORE_SITE_SIZE];
	struct store_site_node node;
};

static int node_find_cb(void *ctx, const char *site, const struct store_site_node *value)
{
	struct node_find *f = ctx;
	if (value->node_id != f->id || (f->found && value->removed_seq != 0))
		return 0; /* a site still registered wins over one removed with the same node id */
	f->found = true;
	snprintf(f->site, sizeof f->site, "%s", site);
	f->node = *value;
	return 0;
}

/* A node announced by a registry record: its entry in the learnt table (note 3) and its key. */
static int learn(struct node *n, store_txn *txn, uint64_t id, const struct node_peer_config **out,
		 struct crypto_public_key *pk)
{
	struct node_membership *m = n->membership;
	struct node_find f = { .id = id };
	int rc = store_site_node_iterate(txn, node_find_cb, &f);
	struct store_site site;
	if (rc == 0 && !f.found)
		return SL_ENOENT;
	if (rc == 0)
		rc = store_site_get(txn, f.site, &site);
	if (rc != 0)
		return rc;
	struct node_peer_config *c = (struct node_peer_config *)(uintptr_t)node_membership_peer(n, id);
	if (c == NULL && m->learned_count == NODE_PEERS_MAX)
		return SL_ELIMIT;
	if (c == NULL)
		c = &m->learned[m->learned_count++];
	memset(c, 0, sizeof *c);
	c->id = id;
	snprintf(c->name, sizeof c->name, "%s", f.site);
	snprintf(c->site, sizeof c->site, "%s", f.site);
	snprintf(c->peer_addr, sizeof c->peer_addr, "%s", f.node.peer_addr);
	snprintf(c->client_addr, sizeof c->client_addr, "%s", f.node.client_addr);
	memcpy(pk->bytes, site.public_key, sizeof pk->bytes);
	*out = c;
	return 0;
}

static void unresolved_note(struct node *n, uint64_t id, int rc)
{
	struct node_membership *m = n->membership;
	if (id_in(m->unresolved, m->unresolved_count, id) || m->unresolved_count == RAFT_NODES_MAX)
		return;
	m->unresolved[m->unresolved_count++] = id;
	node_log("warn", "a raft member has no known address", "id=%" PRIu64 " err=%s", id, sl_errname(rc));
}

static void unresolved_clear(struct node *n, uint64_t id)
{
	struct node_membership *m = n->membership;
	for (size_t i = 0; i < m->unresolved_count; i++)
		if (m->unresolved[i] == id)
			m->unresolved[i] = m->unresolved[--m->unresolved_count];
}

/* Link one wanted id; txn is opened on first need (note 4). */
static void link_one(struct node *n, uint64_t id, store_txn **txn)
{
	const struct node_peer_config *config = config_peer(n, id);
	struct crypto_public_key pk;
	int rc = 0;
	if (config == NULL && *txn == NULL)
		rc = store_txn_begin(replica_store(n->rp), false, txn);
	if (config == NULL && rc == 0)
		rc = learn(n, *txn, id, &config, &pk);
	if (rc == 0)
		rc = node_peer_link(n, config, config == config_peer(n, id) ? NULL : &pk);
	if (rc != 0) {
		unresolved_note(n, id, rc);
		return;
	}
	unresolved_clear(n, id);
	node_log("info", "peer linked", "id=%" PRIu64 " site=%s addr=%s", id, config->site, config->peer_addr);
}

static void membership_sync(struct node *n)
{
	uint64_t ids[RAFT_NODES_MAX];
	size_t count = wanted(n, ids);
	for (size_t i = 0; i < n->peer_count; i++) {
		const struct node_peer *p = &n->peers[i];
		if (p->linked && !id_in(ids, count, p->config->id)) {
			node_log("info", "peer unlinked: no longer a member", "id=%" PRIu64 " site=%s", p->config->id,
				 p->config->site);
			node_peer_unlink(n, p->config->id);
		}
	}
	store_txn *txn = NULL;
	for (size_t i = 0; i < count; i++)
		if (!node_peer_linked(n, ids[i]))
			link_one(n, ids[i], &txn);
	if (txn != NULL)
		store_txn_abort(txn);
}

int node_membership_open(struct node *n)
{
	n->membership = calloc(1, sizeof *n->membership);
	if (n->membership == NULL)
		return SL_ENOMEM;
	membership_sync(n);
	return 0;
}

/* The hook runs before raft_advance, and a configuration change takes effect in the core only
 * then (raft.h rule 5): the sync waits for the next tick. */
void node_membership_applied(struct node *n, const struct replica_applied *a)
{
	if (n->membership != NULL && (a->type == RAFT_ENTRY_CONF_CHANGE || a->snapshot))
		n->membership->dirty = true;
}

void node_membership_tick(struct node *n)
{
	struct node_membership *m = n->membership;
	if (m == NULL || (!m->dirty && ++m->ticks < NODE_MEMBERSHIP_SYNC_TICKS))
		return;
	m->ticks = 0;
	m->dirty = false;
	membership_sync(n);
}

void node_membership_close(struct node *n)
{
	free(n->membership); /* after the peers: links point into it */
	n->membership = NULL;
}
