/* node/peer.c — the peer transport: nanomsg PULL bound per node, PUSH per peer, every raft
 * message encoded (raft_msg_encode) and sealed (crypto/seal.h) with the pair's precomputed key.
 *
 * Envelope: sender node id (8 bytes, big-endian) || nonce (24) || box (tag 16 || message).
 * The receiver looks the sender up in its configuration, opens the box with that pair's key,
 * decodes strictly and checks from == sender and to == itself; anything else is dropped and
 * counted (node.h invariant 3). Sends never block: a message waits in the peer's bounded queue
 * while its socket is busy (nanomsg takes one message per pipe at a time), the oldest is dropped
 * when the queue is full, and Raft's retries cover every drop (§3.5: RPCs are idempotent). */
#include <errno.h>
#include <inttypes.h>
#include <nanomsg/nn.h>
#include <nanomsg/pipeline.h>
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
		if (n->peers[i].config->id == id)
			return &n->peers[i];
	return NULL;
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

void node_peer_send(struct node *n, const struct raft_msg *msg)
{
	struct node_peer *p = peer_by_id(n, msg->to);
	if (p == NULL)
		return; /* not in our configuration (membership changes are a later issue) */
	if (msg->type == RAFT_MSG_SNAPSHOT) {
		/* the log is never compacted in this slice (compact_every = 0), so no snapshot exists */
		raft_report_snapshot(replica_raft(n->rp), msg->to, false);
		return;
	}
	size_t len = 0;
	uint8_t *plain = n->plain;
	int rc = raft_msg_encode(msg, plain, RAFT_MSG_BYTES_MAX, &len);
	uint8_t *sealed = rc == 0 ? malloc(len + NODE_PEER_ENVELOPE_BYTES) : NULL;
	size_t sealed_len = 0;
	if (sealed != NULL) {
		be64_put(sealed, n->config.id);
		rc = crypto_seal(&p->key, plain, len, sealed + 8, len + CRYPTO_SEAL_OVERHEAD_BYTES, &sealed_len);
	}
	if (rc != 0 || sealed == NULL) {
		free(sealed);
		node_log("error", "cannot encode a raft message", "to=%" PRIu64 " type=%s err=%d", msg->to,
			 raft_msg_type_name(msg->type), rc);
		return;
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
	if (crypto_seal_open(&p->key, bytes + 8, len - 8, n->plain, NODE_PEER_MSG_BYTES_MAX, &plain_len) != 0) {
		n->counters.peer_dropped_unopened++;
		p->dropped_unopened++;
		return;
	}
	static struct raft_entry entries[RAFT_MSG_ENTRIES_MAX]; /* loop thread only */
	struct raft_msg msg;
	int rc = raft_msg_decode(n->plain, plain_len, &msg, entries, RAFT_MSG_ENTRIES_MAX);
	if (rc != 0 || msg.from != from || msg.to != n->config.id || msg.type == RAFT_MSG_SNAPSHOT) {
		n->counters.peer_dropped_malformed++;
		p->dropped_malformed++;
		return;
	}
	p->last_heard_ms = node_clock_ms(); /* authenticated and well formed: the peer is alive */
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

static int peer_open(struct node *n, struct node_peer *p, const struct node_peer_config *config)
{
	p->config = config;
	struct crypto_public_key pk;
	char label[RECORD_SITE_SIZE];
	int rc = crypto_public_key_read(config->public_key_path, &pk, label, sizeof label);
	if (rc != 0) {
		node_log("error", "cannot read a peer's public key", "peer=%s path=%s err=%s", config->name,
			 config->public_key_path, sl_errname(rc));
		return rc;
	}
	rc = crypto_seal_key_derive(&n->sk, &pk, &p->key);
	p->sock = nn_socket(AF_SP, NN_PUSH);
	int fd = -1;
	if (rc == 0 && (p->sock < 0 || nn_connect(p->sock, config->peer_addr) < 0 ||
			fd_of(p->sock, NN_SNDFD, &fd) != 0)) {
		node_log("error", "cannot connect to a peer", "peer=%s addr=%s err=\"%s\"", config->name,
			 config->peer_addr, nn_strerror(nn_errno()));
		rc = SL_EIO;
	}
	if (rc == 0 && uv_poll_init(n->loop, &p->send_poll, fd) != 0)
		rc = SL_EIO;
	p->send_poll.data = p;
	return rc;
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
		int rc = peer_open(n, &n->peers[i], &n->config.peers[i]);
		n->peer_count = i + 1;
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
		crypto_seal_key_wipe(&p->key);
	}
	if (n->peer_sock >= 0)
		nn_close(n->peer_sock);
	n->peer_sock = -1;
}
