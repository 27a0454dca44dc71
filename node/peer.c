/* node/peer.c — the peer transport: nanomsg PULL bound per node, PUSH per peer, every raft
 * message encoded (raft_msg_encode) and sealed (crypto/seal.h) with the pair's precomputed key
 * (one per key in force of the peer's site, D26: a site rotating its key stays linked).
 *
 * Envelope: sender node id (8 bytes, big-endian) || nonce (24) || box (tag 16 || message).
 * The receiver looks the sender up among its linked peers (node/membership.c: the raft members,
 * from the configuration file or the registry), opens the box with that pair's key,
 * decodes strictly and checks from == sender and to == itself; anything else is dropped and
 * counted (node.h invariant 3). Sends never block: a message waits in the peer's bounded queue
 * while its socket is busy (nanomsg takes one message per pipe at a time), the oldest is dropped
 * when the queue is full, and Raft's retries cover every drop (§3.5: RPCs are idempotent).
 * The first byte of an opened message says what it is: a raft message (codec version 1) or a
 * snapshot chunk or ack (NODE_SNAP_KIND_*: node/snapshot_codec.c), handed to node/snapshot.c; a
 * raft SNAPSHOT message goes there too, to be stepped once its data has arrived. */
#include <errno.h>
#include <inttypes.h>
#include <nanomsg/nn.h>
#include <nanomsg/pipeline.h>
#include <nanomsg/tcp.h>
#include <stdlib.h>
#include <string.h>

#include "node/node.h"
#include "util/error.h"

static void be64_put(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

static uint64_t be64_get(const uint8_t in[8])
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | in[i];
	return v;
}

static struct node_peer *peer_by_id(struct node *n, uint64_t id)
{
	for (size_t i = 0; i < n->peer_count; i++)
		if (n->peers[i].linked && n->peers[i].config->id == id)
			return &n->peers[i];
	return NULL;
}

bool node_peer_linked(const struct node *n, uint64_t id)
{
	for (size_t i = 0; i < n->peer_count; i++)
		if (n->peers[i].linked && n->peers[i].config->id == id)
			return true;
	return false;
}

static void queue_drop_head(struct node_peer *p)
{
	free(p->queue[p->queue_head]);
	p->queue_bytes -= p->queue_len[p->queue_head];
	p->queue[p->queue_head] = NULL;
	p->queue_head = (p->queue_head + 1) % NODE_PEER_QUEUE_MSGS_MAX;
	p->queue_count--;
}

static void send_poll_cb(uv_poll_t *handle, int status, int events);

/* Send queued messages until the socket pushes back; then wait for NN_SNDFD. */
static void queue_flush(struct node_peer *p)
{
	while (p->queue_count > 0) {
		int rc = nn_send(p->sock, p->queue[p->queue_head], p->queue_len[p->queue_head], NN_DONTWAIT);
		if (rc < 0 && nn_errno() == EAGAIN)
			break;
		if (rc < 0)
			p->dropped++; /* the message cannot be sent at all (EFSM, ...): Raft retries */
		queue_drop_head(p);
	}
	bool want = p->queue_count > 0;
	if (want != p->send_polling) {
		if (want)
			uv_poll_start(&p->send_poll, UV_READABLE, send_poll_cb);
		else
			uv_poll_stop(&p->send_poll);
		p->send_polling = want;
	}
}

static void send_poll_cb(uv_poll_t *handle, int status, int events)
{
	(void)status;
	(void)events;
	queue_flush(handle->data);
}

int node_peer_send_plain(struct node *n, uint64_t to, const uint8_t *plain, size_t len)
{
	struct node_peer *p = peer_by_id(n, to);
	if (p == NULL)
		return SL_ENOENT; /* not linked: not a member (node/membership.c) */
	uint8_t *sealed = malloc(len + NODE_PEER_ENVELOPE_BYTES);
	if (sealed == NULL)
		return SL_ENOMEM;
	be64_put(sealed, n->config.id);
	size_t sealed_len = 0;
	int rc = crypto_seal(&p->keys[p->key_current], plain, len, sealed + 8, len + CRYPTO_SEAL_OVERHEAD_BYTES,
			     &sealed_len);
	if (rc != 0) {
		free(sealed);
		return rc;
	}
	sealed_len += 8;
	while (p->queue_count > 0 && (p->queue_count == NODE_PEER_QUEUE_MSGS_MAX ||
				      p->queue_bytes + sealed_len > NODE_PEER_QUEUE_BYTES_MAX)) {
		queue_drop_head(p); /* oldest first: newer messages carry newer state */
		n->counters.peer_dropped_queue++;
		p->dropped_queue++;
	}
	size_t tail = (p->queue_head + p->queue_count) % NODE_PEER_QUEUE_MSGS_MAX;
	p->queue[tail] = sealed;
	p->queue_len[tail] = sealed_len;
	p->queue_count++;
	p->queue_bytes += sealed_len;
	queue_flush(p);
	return 0;
}

void node_peer_send_raft(struct node *n, const struct raft_msg *msg)
{
	size_t len = 0;
	int rc = raft_msg_encode(msg, n->plain, RAFT_MSG_BYTES_MAX, &len);
	if (rc == 0)
		rc = node_peer_send_plain(n, msg->to, n->plain, len);
	if (rc != 0 && rc != SL_ENOENT)
		node_log("error", "cannot encode a raft message", "to=%" PRIu64 " type=%s err=%d", msg->to,
			 raft_msg_type_name(msg->type), rc);
}

void node_peer_send(struct node *n, const struct raft_msg *msg)
{
	if (msg->type == RAFT_MSG_SNAPSHOT)
		node_snapshot_send(n, msg); /* the data first (node/snapshot.c), then this message */
	else
		node_peer_send_raft(n, msg);
}

/* Open a box from p with the key its last message opened with, else with its site's other keys
 * in force (D26); the key that opens it seals what goes back from then on. */
static int peer_open_sealed(struct node *n, struct node_peer *p, const uint8_t *box, size_t len, size_t *plain_len)
{
	for (size_t k = 0; k < p->key_count; k++) {
		size_t i = (p->key_current + k) % p->key_count;
		if (crypto_seal_open(&p->keys[i], box, len, n->plain, NODE_PEER_MSG_BYTES_MAX, plain_len) == 0) {
			p->key_current = i;
			return 0;
		}
	}
	return SL_EBADSIG;
}

/* One received envelope: open, decode, check, step. */
static void peer_receive(struct node *n, const uint8_t *bytes, size_t len)
{
	if (len < NODE_PEER_ENVELOPE_BYTES) {
		n->counters.peer_dropped_malformed++;
		return;
	}
	uint64_t from = be64_get(bytes);
	struct node_peer *p = peer_by_id(n, from);
	if (p == NULL) {
		n->counters.peer_dropped_unknown++;
		return;
	}
	size_t plain_len = 0;
	if (peer_open_sealed(n, p, bytes + 8, len - 8, &plain_len) != 0) {
		n->counters.peer_dropped_unopened++;
		p->dropped_unopened++;
		return;
	}
	if (plain_len > 0 && (n->plain[0] == NODE_SNAP_KIND_CHUNK || n->plain[0] == NODE_SNAP_KIND_ACK)) {
		p->last_heard_ms = node_clock_ms();
		node_snapshot_receive(n, p, n->plain, plain_len); /* counts what it drops */
		return;
	}
	static struct raft_entry entries[RAFT_MSG_ENTRIES_MAX]; /* loop thread only */
	struct raft_msg msg;
	int rc = raft_msg_decode(n->plain, plain_len, &msg, entries, RAFT_MSG_ENTRIES_MAX);
	if (rc != 0 || msg.from != from || msg.to != n->config.id) {
		n->counters.peer_dropped_malformed++;
		p->dropped_malformed++;
		return;
	}
	p->last_heard_ms = node_clock_ms(); /* authenticated and well formed: the peer is alive */
	if (msg.type == RAFT_MSG_SNAPSHOT)
		node_snapshot_step(n, &msg); /* stepped only once its data is here */
	else
		(void)raft_step(replica_raft(n->rp), &msg); /* stale or refused messages are normal */
}

static void peer_poll_cb(uv_poll_t *handle, int status, int events)
{
	(void)status;
	(void)events;
	struct node *n = handle->data;
	for (int i = 0; i < NODE_PEER_RECV_PER_WAKE_MAX && !n->stopping; i++) {
		void *buf = NULL;
		int len = nn_recv(n->peer_sock, &buf, NN_MSG, NN_DONTWAIT);
		if (len < 0)
			break;
		peer_receive(n, buf, (size_t)len);
		nn_freemsg(buf);
	}
	node_drive(n);
}

static int fd_of(int sock, int option, int *fd)
{
	size_t size = sizeof *fd;
	return nn_getsockopt(sock, NN_SOL_SOCKET, option, fd, &size) == 0 ? 0 : SL_EIO;
}

static void peer_keys_wipe(struct node_peer *p)
{
	for (size_t i = 0; i < p->key_count; i++)
		crypto_seal_key_wipe(&p->keys[i]);
	p->key_count = 0;
	p->key_current = 0;
}

/* Slot p for config: a fresh slot (sock < 0) gets its socket and poll handle, which it keeps for
 * good; a slot unlinked earlier connects its socket again (node_peer_unlink shut the endpoint). */
static int peer_open(struct node *n, struct node_peer *p, const struct node_peer_config *config,
		     const struct crypto_public_key *pk)
{
	peer_keys_wipe(p);
	int rc = crypto_seal_key_derive(&n->sk, pk, &p->keys[0]);
	if (rc == 0) {
		p->key_pks[0] = *pk;
		p->link_pk = *pk;
		p->key_count = 1;
	}
	int fd = -1;
	if (rc == 0 && p->sock < 0) {
		int sock = nn_socket(AF_SP, NN_PUSH);
		/* A PUSH link carries data one way: the peer has nothing to piggyback its ACKs on, so with
		 * Nagle's algorithm a message sent behind another waits for the delayed ACK (~40 ms on
		 * Linux). Measured by `make bench`: p99 at 4 clients 51 -> 10 ms without Nagle (D19). */
		int nodelay = 1;
		if (sock < 0 || nn_setsockopt(sock, NN_TCP, NN_TCP_NODELAY, &nodelay, sizeof nodelay) < 0 ||
		    fd_of(sock, NN_SNDFD, &fd) != 0 || uv_poll_init(n->loop, &p->send_poll, fd) != 0) {
			if (sock >= 0)
				nn_close(sock); /* the slot stays fresh: a later link starts over */
			rc = SL_EIO;
		} else {
			p->sock = sock;
		}
		p->send_poll.data = p;
	}
	p->endpoint = rc == 0 ? nn_connect(p->sock, config->peer_addr) : -1;
	if (rc == 0 && p->endpoint < 0) {
		node_log("error", "cannot connect to a peer", "peer=%s addr=%s err=\"%s\"", config->name,
			 config->peer_addr, nn_strerror(nn_errno()));
		rc = SL_EIO;
	}
	p->config = config;
	p->linked = rc == 0;
	return rc;
}

/* The slot for `id`: its own unlinked one, a fresh one, else another unlinked one. */
static struct node_peer *slot_for(struct node *n, uint64_t id)
{
	for (size_t i = 0; i < n->peer_count; i++)
		if (!n->peers[i].linked && n->peers[i].config->id == id)
			return &n->peers[i];
	if (n->peer_count < NODE_PEERS_MAX)
		return &n->peers[n->peer_count++]; /* sock < 0 (node_run) until peer_open */
	for (size_t i = 0; i < n->peer_count; i++)
		if (!n->peers[i].linked)
			return &n->peers[i];
	return NULL;
}

int node_peer_link(struct node *n, const struct node_peer_config *config, const struct crypto_public_key *pk)
{
	if (node_peer_linked(n, config->id))
		return 0;
	struct crypto_public_key from_file;
	char label[RECORD_SITE_SIZE];
	if (pk == NULL) {
		int rc = crypto_public_key_read(config->public_key_path, &from_file, label, sizeof label);
		if (rc != 0) {
			node_log("error", "cannot read a peer's public key", "peer=%s path=%s err=%s", config->name,
				 config->public_key_path, sl_errname(rc));
			return rc;
		}
		pk = &from_file;
	}
	struct node_peer *p = slot_for(n, config->id);
	if (p == NULL)
		return SL_ELIMIT;
	if (p->config == NULL)
		p->config = config; /* a fresh slot: named even if opening fails */
	return peer_open(n, p, config, pk);
}

void node_peer_unlink(struct node *n, uint64_t id)
{
	struct node_peer *p = peer_by_id(n, id);
	if (p == NULL)
		return;
	while (p->queue_count > 0)
		queue_drop_head(p);
	if (p->send_polling)
		uv_poll_stop(&p->send_poll);
	p->send_polling = false;
	if (p->endpoint >= 0)
		(void)nn_shutdown(p->sock, p->endpoint);
	p->endpoint = -1;
	p->linked = false;
	peer_keys_wipe(p);
}

static bool peer_keys_are(const struct node_peer *p, const struct crypto_public_key *pks, size_t count)
{
	if (p->key_count != count)
		return false;
	for (size_t i = 0; i < count; i++)
		if (memcmp(p->key_pks[i].bytes, pks[i].bytes, sizeof pks[i].bytes) != 0)
			return false;
	return true;
}

void node_peer_rekey(struct node *n, uint64_t id, const struct crypto_public_key *pks, size_t count)
{
	struct node_peer *p = peer_by_id(n, id);
	count = count < NODE_PEER_KEYS_MAX ? count : NODE_PEER_KEYS_MAX;
	if (p == NULL || peer_keys_are(p, pks, count))
		return;
	if (count == 0) {
		node_log("warn", "peer unlinked: its site has no key in force", "id=%" PRIu64 " site=%s", id,
			 p->config->site);
		node_peer_unlink(n, id);
		return;
	}
	struct crypto_seal_key fresh[NODE_PEER_KEYS_MAX];
	size_t derived = 0;
	while (derived < count && crypto_seal_key_derive(&n->sk, &pks[derived], &fresh[derived]) == 0)
		derived++;
	if (derived == count) {
		struct crypto_public_key current = p->key_pks[p->key_current];
		peer_keys_wipe(p);
		for (size_t i = 0; i < count; i++) {
			p->keys[i] = fresh[i];
			p->key_pks[i] = pks[i];
			if (memcmp(pks[i].bytes, current.bytes, sizeof current.bytes) == 0)
				p->key_current = i; /* still in force: the peer runs it */
		}
		p->key_count = count;
		node_log("info", "peer keys changed", "id=%" PRIu64 " site=%s keys_in_force=%zu", id, p->config->site,
			 count);
	} else {
		node_log("error", "cannot derive a peer's link key", "id=%" PRIu64 " site=%s", id, p->config->site);
	}
	for (size_t i = 0; i < derived; i++)
		crypto_seal_key_wipe(&fresh[i]);
}

int node_peers_open(struct node *n)
{
	n->peer_sock = nn_socket(AF_SP, NN_PULL);
	int max = (int)NODE_PEER_MSG_BYTES_MAX;
	int fd = -1;
	if (n->peer_sock < 0 || nn_setsockopt(n->peer_sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &max, sizeof max) < 0 ||
	    nn_bind(n->peer_sock, n->config.peer_listen) < 0 || fd_of(n->peer_sock, NN_RCVFD, &fd) != 0) {
		node_log("error", "cannot listen for peers", "addr=%s err=\"%s\"", n->config.peer_listen,
			 nn_strerror(nn_errno()));
		return SL_EIO;
	}
	if (uv_poll_init(n->loop, &n->peer_poll, fd) != 0)
		return SL_EIO;
	n->peer_poll.data = n;
	for (size_t i = 0; i < n->config.peer_count; i++) {
		int rc = node_peer_link(n, &n->config.peers[i], NULL);
		if (rc != 0)
			return rc;
	}
	return uv_poll_start(&n->peer_poll, UV_READABLE, peer_poll_cb) == 0 ? 0 : SL_EIO;
}

void node_peers_close(struct node *n)
{
	for (size_t i = 0; i < n->peer_count; i++) {
		struct node_peer *p = &n->peers[i];
		while (p->queue_count > 0)
			queue_drop_head(p);
		if (p->sock >= 0)
			nn_close(p->sock);
		p->sock = -1;
		peer_keys_wipe(p);
	}
	if (n->peer_sock >= 0)
		nn_close(n->peer_sock);
	n->peer_sock = -1;
}
