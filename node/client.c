/* node/client.c — the client API: raw nanomsg REP (many requests in flight, each reply routed by
 * its SP header), request authentication, local reads, and group commit of submissions.
 *
 * A request that decodes takes a slot and goes to the libuv thread pool (node/verify.c): its key
 * id must name a registered, unrevoked key in this node's keys table and its signature must
 * verify (proto.h); a submission arriving at the leader is then checked there too: every record
 * decodes, names the key's own site (a site writes only its own records) and carries no bad
 * signature. Back on the loop thread (verify_done) a refusal is answered, a read is served with
 * the loop's own read transaction, and a submission is queued (D15). Followers answer REDIRECT
 * with the leader's client address (the CLI follows it; docs/decisions.md D12). The leader
 * queues the request; node_clients_propose packs whole queued requests, oldest
 * first, into one raft entry of at most batch_records records (group commit, DESIGN.md step 3),
 * stamped with the leader's clock; node_clients_applied answers each request with its outcomes
 * when that entry is applied here, or UNAVAILABLE when another entry took its index. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/lifecycle.h"
#include "node/node.h"
#include "util/error.h"

const struct node_peer_config *node_peer_by_id(const struct node *n, uint64_t id)
{
	for (size_t i = 0; i < n->config.peer_count; i++)
		if (n->config.peers[i].id == id)
			return &n->config.peers[i];
	return node_membership_peer(n, id); /* a node added by a registry record */
}

/* Send resp on the route `control` (ownership passes to nanomsg on success) and free it otherwise. */
static void reply_send(struct node *n, void *control, const struct proto_response *resp)
{
	struct sl_buf out;
	sl_buf_init(&out, PROTO_RESPONSE_BYTES_MAX);
	int rc = proto_response_encode(resp, &out);
	struct nn_iovec iov = { out.data, out.len };
	struct nn_msghdr hdr;
	memset(&hdr, 0, sizeof hdr);
	hdr.msg_iov = &iov;
	hdr.msg_iovlen = 1;
	hdr.msg_control = &control;
	hdr.msg_controllen = NN_MSG;
	if (rc != 0 || nn_sendmsg(n->client_sock, &hdr, NN_DONTWAIT) < 0) {
		node_log("warn", "client reply not sent", "code=%s err=%d", proto_code_name(resp->code), rc);
		nn_freemsg(control);
	}
	sl_buf_free(&out);
}

static void reply_simple(struct node *n, void *control, uint8_t code, const char *message)
{
	static struct proto_response resp; /* loop thread only; large */
	proto_response_init(&resp, code, message);
	reply_send(n, control, &resp);
}

static void slot_free(struct node_slot *s)
{
	if (s->bytes != NULL)
		nn_freemsg(s->bytes);
	s->bytes = NULL;
	s->control = NULL;
	s->state = SLOT_FREE;
}

static void slot_reply(struct node *n, struct node_slot *s, uint8_t code, const char *message)
{
	reply_simple(n, s->control, code, message);
	s->control = NULL;
	slot_free(s);
}

/* Not the leader: name it, or say none is known. */
static void reply_not_leader(struct node *n, void *control)
{
	uint64_t leader = raft_leader(replica_raft(n->rp));
	const struct node_peer_config *p = node_peer_by_id(n, leader);
	if (p == NULL) {
		reply_simple(n, control, PROTO_UNAVAILABLE, "no leader known; retry");
		return;
	}
	static struct proto_response resp;
	proto_response_init(&resp, PROTO_REDIRECT, "not the leader");
	snprintf(resp.leader_addr, sizeof resp.leader_addr, "%s", p->client_addr);
	reply_send(n, control, &resp);
}

static void reply_node_status(struct node *n, void *control)
{
	static struct proto_response resp;
	proto_response_init(&resp, PROTO_OK, "");
	struct raft_status st;
	raft_status_get(replica_raft(n->rp), &st);
	struct store_raft_applied a;
	replica_applied_get(n->rp, &a);
	resp.has_node = true;
	resp.node = (struct proto_node_status){ .id = n->config.id, .role = st.role, .term = st.term,
						.leader = st.leader, .commit = st.commit, .applied = a.index,
						.ledger_size = a.ledger_seq };
	memcpy(resp.node.state_hash, a.state_hash, sizeof resp.node.state_hash);
	snprintf(resp.node.site, sizeof resp.node.site, "%s", n->config.site);
	const struct node_peer_config *p = node_peer_by_id(n, st.leader);
	if (p != NULL)
		snprintf(resp.leader_addr, sizeof resp.leader_addr, "%s", p->client_addr);
	else if (st.leader == n->config.id)
		snprintf(resp.leader_addr, sizeof resp.leader_addr, "%s", n->config.client_listen);
	reply_send(n, control, &resp);
}

static void reply_item_status(struct node *n, void *control, store_txn *txn, struct sl_str item)
{
	char id[GS1_ITEM_ID_SIZE];
	static struct proto_response resp;
	proto_response_init(&resp, PROTO_OK, "");
	if (sl_str_copy(item, id, sizeof id) != 0) {
		reply_simple(n, control, PROTO_INVALID, "item id too long");
		return;
	}
	int rc = store_item_get(txn, id, &resp.item);
	if (rc != 0) {
		reply_simple(n, control, rc == SL_ENOENT ? PROTO_NOT_FOUND : PROTO_UNAVAILABLE,
			     rc == SL_ENOENT ? "no such item in the ledger" : sl_strerror(rc));
		return;
	}
	resp.has_item = true;
	reply_send(n, control, &resp);
}

static enum raft_role role_of(const struct node *n)
{
	struct raft_status st;
	raft_status_get(replica_raft(n->rp), &st);
	return st.role;
}

static struct node_slot *slot_take(struct node *n)
{
	for (size_t i = 0; i < NODE_CLIENT_PENDING_MAX; i++)
		if (n->slots[i].state == SLOT_FREE)
			return &n->slots[i];
	return NULL;
}

static struct node_slot *slot_of_work(uv_work_t *work)
{
	return (struct node_slot *)(void *)((char *)work - offsetof(struct node_slot, work));
}

/* Thread pool: the request's verdict into its slot (node/verify.c). */
static void verify_work(uv_work_t *work)
{
	struct node *n = work->data;
	struct node_slot *s = slot_of_work(work);
	node_verify_request(replica_store(n->rp), n->verified, &s->req, s->verify_records, &s->verdict);
}

/* An authentic request: answer a read, queue a submission (the leader's), or redirect. */
static void request_dispatch(struct node *n, struct node_slot *s)
{
	if (s->req.type == PROTO_NODE_STATUS) {
		reply_node_status(n, s->control);
	} else if (s->req.type == PROTO_ITEM_STATUS) {
		store_txn *txn = NULL; /* the loop's own read txn: never blocks the storage thread */
		int rc = store_txn_begin(replica_store(n->rp), false, &txn);
		if (rc == 0)
			reply_item_status(n, s->control, txn, s->req.item);
		else
			reply_simple(n, s->control, PROTO_UNAVAILABLE, sl_strerror(rc));
		if (txn != NULL)
			store_txn_abort(txn);
	} else if (s->req.type == PROTO_CHECKPOINT) {
		node_checkpoint_request(n, s->control); /* any node signs its own; answered when submitted */
	} else if (s->req.type == PROTO_QUERY || s->req.type == PROTO_EXPORT) {
		node_query_request(n, s->control, &s->req); /* served locally by any node (node/query.c) */
	} else if (s->req.type == PROTO_MEMBERS || s->req.type == PROTO_MEMBER_CHANGE ||
		   s->req.type == PROTO_LEADER_TRANSFER) {
		node_admin_request(n, s->control, &s->req); /* node/admin.c */
	} else if (s->req.type != PROTO_SUBMIT) {
		n->counters.client_invalid++;
		reply_simple(n, s->control, PROTO_INVALID, "request type not served by this node");
	} else if (role_of(n) != RAFT_LEADER) {
		reply_not_leader(n, s->control);
	} else if (!s->verify_records) {
		reply_simple(n, s->control, PROTO_UNAVAILABLE, "became the leader during the request; retry");
	} else {
		s->state = SLOT_QUEUED; /* node_drive proposes it (arrival order kept) */
		s->deadline_ms = node_clock_ms() + NODE_CLIENT_TIMEOUT_MS;
		return;
	}
	s->control = NULL; /* the reply took it */
	slot_free(s);
}

/* Loop thread, after verify_work (or its cancellation). */
static void verify_done(uv_work_t *work, int status)
{
	struct node *n = work->data;
	struct node_slot *s = slot_of_work(work);
	assert(s->state == SLOT_VERIFYING);
	const struct node_verdict *v = &s->verdict;
	if (status != 0 || n->stopping) {
		slot_reply(n, s, PROTO_UNAVAILABLE, "node shutting down; retry");
	} else if (v->code != PROTO_OK) {
		if (v->count_invalid)
			n->counters.client_invalid++;
		else if (v->code == PROTO_REFUSED)
			n->counters.client_refused++;
		if (v->log)
			node_log("warn", "client refused", "why=\"%s\"", v->message);
		slot_reply(n, s, v->code, v->message);
	} else {
		request_dispatch(n, s);
	}
}

/* Decode, then hand the request to the thread pool in a slot. Takes ownership of control and bytes. */
static void request_handle(struct node *n, void *control, void *bytes, size_t len)
{
	static struct proto_request req; /* loop thread only; copied into the slot */
	struct sl_error_detail detail = { "" };
	int rc = proto_request_decode(bytes, len, &req, &detail);
	struct node_slot *s = rc == 0 ? slot_take(n) : NULL;
	if (rc != 0) {
		char why[PROTO_TEXT_BYTES];
		snprintf(why, sizeof why, "malformed request: %s %.160s", sl_strerror(rc), detail.text);
		n->counters.client_invalid++;
		reply_simple(n, control, PROTO_INVALID, why);
	} else if (s == NULL) {
		reply_simple(n, control, PROTO_BUSY, "too many pending requests; retry");
	}
	if (s == NULL) {
		nn_freemsg(bytes);
		return;
	}
	s->state = SLOT_VERIFYING;
	s->control = control;
	s->bytes = bytes;
	s->req = req; /* borrows from bytes, which the slot now owns */
	s->arrival = ++n->arrivals;
	s->index = s->term = 0;
	s->deadline_ms = node_clock_ms() + NODE_CLIENT_TIMEOUT_MS;
	s->verify_records = req.type == PROTO_SUBMIT && role_of(n) == RAFT_LEADER;
	s->work.data = n;
	if (uv_queue_work(n->loop, &s->work, verify_work, verify_done) != 0)
		slot_reply(n, s, PROTO_UNAVAILABLE, "cannot verify the request now; retry");
}

static void client_poll_cb(uv_poll_t *handle, int status, int events)
{
	(void)status;
	(void)events;
	struct node *n = handle->data;
	for (int i = 0; i < NODE_CLIENT_RECV_PER_WAKE_MAX && !n->stopping; i++) {
		void *body = NULL;
		void *control = NULL;
		struct nn_iovec iov = { &body, NN_MSG };
		struct nn_msghdr hdr;
		memset(&hdr, 0, sizeof hdr);
		hdr.msg_iov = &iov;
		hdr.msg_iovlen = 1;
		hdr.msg_control = &control;
		hdr.msg_controllen = NN_MSG;
		int len = nn_recvmsg(n->client_sock, &hdr, NN_DONTWAIT);
		if (len < 0)
			break;
		if (control == NULL) { /* no route back: cannot answer */
			nn_freemsg(body);
			continue;
		}
		request_handle(n, control, body, (size_t)len);
	}
	node_drive(n);
}

/* Queued slots, oldest first, into out[]; returns how many. */
static size_t queued_in_order(struct node *n, struct node_slot **out)
{
	size_t count = 0;
	for (size_t i = 0; i < NODE_CLIENT_PENDING_MAX; i++)
		if (n->slots[i].state == SLOT_QUEUED)
			out[count++] = &n->slots[i];
	for (size_t i = 1; i < count; i++) /* insertion sort: count <= NODE_CLIENT_PENDING_MAX */
		for (size_t j = i; j > 0 && out[j - 1]->arrival > out[j]->arrival; j--) {
			struct node_slot *t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return count;
}

/* One group-commit batch: whole requests, oldest first, up to batch_records records and
 * PROTO_RECORDS_BYTES_MAX bytes. Returns the number of requests proposed (0: none queued). */
static size_t propose_one(struct node *n, struct node_slot **queued, size_t count)
{
	static struct ledger_input inputs[REPLICA_BATCH_RECORDS_MAX];
	size_t records = 0, bytes = 0, taken = 0;
	for (; taken < count; taken++) {
		const struct proto_request *req = &queued[taken]->req;
		size_t req_bytes = 0;
		for (size_t i = 0; i < req->record_count; i++)
			req_bytes += req->records[i].len;
		if (records + req->record_count > n->config.batch_records || bytes + req_bytes > PROTO_RECORDS_BYTES_MAX)
			break;
		memcpy(inputs + records, req->records, req->record_count * sizeof inputs[0]);
		queued[taken]->offset = records;
		records += req->record_count;
		bytes += req_bytes;
	}
	if (taken == 0 && count > 0) /* a request larger than batch_records: a batch of its own */
		return SIZE_MAX;
	uint64_t index = 0;
	int rc = replica_propose(n->rp, node_clock_ms(), inputs, records, &index);
	struct raft_status st;
	raft_status_get(replica_raft(n->rp), &st);
	for (size_t i = 0; i < taken; i++) {
		if (rc != 0) {
			slot_reply(n, queued[i], rc == RAFT_ELIMIT ? PROTO_BUSY : PROTO_UNAVAILABLE, raft_strerror(rc));
			continue;
		}
		queued[i]->state = SLOT_PROPOSED;
		queued[i]->index = index;
		queued[i]->term = st.term;
	}
	return taken;
}

void node_clients_propose(struct node *n)
{
	static struct node_slot *queued[NODE_CLIENT_PENDING_MAX];
	size_t count = queued_in_order(n, queued);
	size_t done = 0;
	while (done < count) {
		size_t taken = propose_one(n, queued + done, count - done);
		if (taken == SIZE_MAX) {
			slot_reply(n, queued[done], PROTO_INVALID, "more records than batch_records in one request");
			taken = 1;
		}
		done += taken;
	}
}

/* Outcomes of an applied entry for the requests proposed into it; requests whose index was
 * taken by another entry (leadership lost before commit) are told to retry. */
void node_clients_applied(struct node *n, const struct replica_applied *a)
{
	static struct proto_response resp;
	for (size_t i = 0; i < NODE_CLIENT_PENDING_MAX; i++) {
		struct node_slot *s = &n->slots[i];
		if (s->state != SLOT_PROPOSED || s->index > a->index)
			continue;
		bool mine = !a->snapshot && s->index == a->index && s->term == a->term &&
			    s->offset + s->req.record_count <= a->results_count;
		if (!mine) {
			slot_reply(n, s, PROTO_UNAVAILABLE, "leadership changed before the records committed; retry");
			continue;
		}
		proto_response_init(&resp, PROTO_OK, "applied");
		resp.result_count = s->req.record_count;
		memcpy(resp.results, a->results + s->offset, s->req.record_count * sizeof resp.results[0]);
		reply_send(n, s->control, &resp);
		s->control = NULL;
		slot_free(s);
	}
}

void node_clients_expire(struct node *n)
{
	uint64_t now = node_clock_ms();
	for (size_t i = 0; i < NODE_CLIENT_PENDING_MAX; i++) {
		struct node_slot *s = &n->slots[i];
		bool waiting = s->state == SLOT_QUEUED || s->state == SLOT_PROPOSED; /* a worker owns VERIFYING */
		if (waiting && now > s->deadline_ms)
			slot_reply(n, s, PROTO_TIMEOUT, "not applied in time; outcome unknown (a retry is safe)");
	}
	node_queries_expire(n);
}

int node_clients_open(struct node *n)
{
	if (node_queries_open(n) != 0)
		return SL_ENOMEM;
	n->slots = calloc(NODE_CLIENT_PENDING_MAX, sizeof *n->slots);
	if (n->slots == NULL)
		return SL_ENOMEM;
	n->client_sock = nn_socket(AF_SP_RAW, NN_REP);
	int max = (int)PROTO_REQUEST_BYTES_MAX;
	int fd = -1;
	size_t size = sizeof fd;
	if (n->client_sock < 0 ||
	    nn_setsockopt(n->client_sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &max, sizeof max) < 0 ||
	    nn_bind(n->client_sock, n->config.client_listen) < 0 ||
	    nn_getsockopt(n->client_sock, NN_SOL_SOCKET, NN_RCVFD, &fd, &size) < 0) {
		node_log("error", "cannot listen for clients", "addr=%s err=\"%s\"", n->config.client_listen,
			 nn_strerror(nn_errno()));
		return SL_EIO;
	}
	if (uv_poll_init(n->loop, &n->client_poll, fd) != 0)
		return SL_EIO;
	n->client_poll.data = n;
	return uv_poll_start(&n->client_poll, UV_READABLE, client_poll_cb) == 0 ? 0 : SL_EIO;
}

void node_clients_fail_all(struct node *n, const char *why)
{
	node_queries_fail_all(n, why);
	for (size_t i = 0; n->slots != NULL && i < NODE_CLIENT_PENDING_MAX; i++)
		if (n->slots[i].state == SLOT_QUEUED || n->slots[i].state == SLOT_PROPOSED) /* verify_done answers */
			slot_reply(n, &n->slots[i], PROTO_UNAVAILABLE, why);
}

void node_clients_close(struct node *n)
{
	node_clients_fail_all(n, "node shutting down; retry");
	node_queries_close(n);
	free(n->slots);
	n->slots = NULL;
	if (n->client_sock >= 0)
		nn_close(n->client_sock);
	n->client_sock = -1;
}

void node_clients_reply(struct node *n, void *control, const struct proto_response *resp)
{
	reply_send(n, control, resp);
}
