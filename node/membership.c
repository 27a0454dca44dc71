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
 *  4. Syncing reads the store through the loop's own read transaction; an id that cannot be
 *     resolved is logged once until it resolves.
 *  5. Syncs run on the tick after a configuration change was applied (the core switches
 *     configuration at raft_advance, after the applied hook) and every NODE_MEMBERSHIP_SYNC_TICKS.
 *  6. Keys (D26). A link accepts every key in force of its peer's site (at most NODE_PEER_KEYS_MAX,
 *     newest first), plus the key it was linked with if the registry does not know that one: a
 *     site that adds a key and restarts its node with it stays linked, and once a key is revoked
 *     (a registry record, applied) no message sealed with it is opened, from the next sync on. A
 *     site with no key in force is not linked. A node whose own key is revoked says so in its log.
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
	bool own_key_revoked; /* logged (note 6) */
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

struct keys_in_force {
	const char *site;
	struct crypto_public_key pks[NODE_PEER_KEYS_MAX];
	uint64_t added[NODE_PEER_KEYS_MAX];
	size_t count;
	store_txn *txn;
};

/* Keep the NODE_PEER_KEYS_MAX newest keys of the site, newest first (added_seq; keys registered at
 * init have none and come last). */
static int key_in_force_cb(void *ctx, const uint8_t key_id[16], const struct store_key *value)
{
	struct keys_in_force *k = ctx;
	if (value->revoked || strcmp(value->site, k->site) != 0)
		return 0;
	struct store_key_event event = { 0, 0 };
	int rc = store_key_event_get(k->txn, key_id, &event);
	if (rc != 0 && rc != SL_ENOENT)
		return rc;
	size_t at = k->count;
	while (at > 0 && k->added[at - 1] < event.added_seq)
		at--;
	if (at == NODE_PEER_KEYS_MAX)
		return 0;
	size_t last = k->count < NODE_PEER_KEYS_MAX ? k->count : NODE_PEER_KEYS_MAX - 1;
	memmove(&k->pks[at + 1], &k->pks[at], (last - at) * sizeof k->pks[0]);
	memmove(&k->added[at + 1], &k->added[at], (last - at) * sizeof k->added[0]);
	memcpy(k->pks[at].bytes, value->public_key, sizeof k->pks[at].bytes);
	k->added[at] = event.added_seq;
	k->count = last + 1;
	return 0;
}

/* The keys a link to `site`'s node accepts (note 6): its keys in force in the registry, and the key
 * it was linked with when the registry does not know that one (a configured key never registered). */
static int keys_of(store_txn *txn, const char *site, const struct crypto_public_key *linked,
		   struct keys_in_force *k)
{
	memset(k, 0, sizeof *k);
	k->site = site;
	k->txn = txn;
	int rc = store_key_iterate(txn, key_in_force_cb, k);
	struct crypto_key_id id;
	crypto_key_id_of(linked, &id);
	struct store_key known;
	int found = rc == 0 ? store_key_get(txn, id.bytes, &known) : rc;
	if (found == SL_ENOENT && k->count < NODE_PEER_KEYS_MAX)
		k->pks[k->count++] = *linked;
	return found == SL_ENOENT ? 0 : found;
}

static int txn_need(struct node *n, store_txn **txn)
{
	return *txn != NULL ? 0 : store_txn_begin(replica_store(n->rp), false, txn);
}

/* Link one wanted id; txn is opened on first need (note 4). */
static void link_one(struct node *n, uint64_t id, store_txn **txn)
{
	const struct node_peer_config *config = config_peer(n, id);
	struct crypto_public_key pk;
	char label[RECORD_SITE_SIZE];
	int rc = txn_need(n, txn);
	if (rc == 0 && config == NULL)
		rc = learn(n, *txn, id, &config, &pk);
	else if (rc == 0)
		rc = crypto_public_key_read(config->public_key_path, &pk, label, sizeof label);
	struct keys_in_force k;
	if (rc == 0)
		rc = keys_of(*txn, config->site, &pk, &k);
	if (rc == 0 && k.count == 0)
		rc = SL_EBADSIG; /* every key of the site was revoked: nothing could open its messages */
	if (rc == 0)
		rc = node_peer_link(n, config, &pk);
	if (rc != 0) {
		unresolved_note(n, id, rc);
		return;
	}
	node_peer_rekey(n, id, k.pks, k.count);
	unresolved_clear(n, id);
	node_log("info", "peer linked", "id=%" PRIu64 " site=%s addr=%s", id, config->site, config->peer_addr);
}

/* Every link follows its site's keys in force (note 6). */
static void rekey_all(struct node *n, store_txn **txn)
{
	for (size_t i = 0; i < n->peer_count; i++) {
		struct node_peer *p = &n->peers[i];
		struct keys_in_force k;
		if (!p->linked || txn_need(n, txn) != 0 || keys_of(*txn, p->config->site, &p->link_pk, &k) != 0)
			continue;
		node_peer_rekey(n, p->config->id, k.pks, k.count);
	}
}

/* This node's own key revoked: its peers drop its messages from now on; say so once. */
static void own_key_check(struct node *n, store_txn **txn)
{
	struct crypto_public_key pk;
	struct crypto_key_id id;
	struct store_key own;
	crypto_secret_key_public(&n->sk, &pk);
	crypto_key_id_of(&pk, &id);
	bool revoked = txn_need(n, txn) == 0 && store_key_get(*txn, id.bytes, &own) == 0 && own.revoked;
	if (revoked && !n->membership->own_key_revoked)
		node_log("error", "this node's key is revoked: peers drop its messages",
			 "site=%s hint=\"start the node with a key in force (siteledger registry key-add)\"", n->config.site);
	n->membership->own_key_revoked = revoked;
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
	rekey_all(n, &txn);
	own_key_check(n, &txn);
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
