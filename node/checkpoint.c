/* node/checkpoint.c — this node's checkpoints as ledger records (node.h "node/checkpoint.c";
 * docs/operations.md "Checkpoints"; ledger/checkpoint.h for the record and its rule).
 *
 * What is signed: the tree head of this node's applied ledger at content_seq, the last entry that
 * is not a checkpoint record. Checkpoint records themselves grow the tree, so signing the whole
 * head would make every site's checkpoint a reason for the others to sign again; leaving trailing
 * checkpoint records out stops that, and sites that sign while the ledger is idle sign the same
 * size — one tree head with every site's signature, a cosigned checkpoint. A node signs on its
 * timer only when content_seq passed the size of its own last checkpoint.
 *
 * How it is submitted: as any client would (the record is the site's own, signed with the site
 * key, as is the request): a nanomsg REQ socket to the leader's client address — this node's own
 * client_listen when it leads — following REDIRECT, retrying UNAVAILABLE, BUSY and TIMEOUT (a
 * retry of the same bytes is harmless: a record id seen before is DUPLICATE_RECORD), within
 * NODE_CHECKPOINT_SUBMIT_MS. The socket's descriptor is watched with a uv_poll handle, so the
 * loop never blocks.
 *
 * Invariants:
 *  1. At most one submission is in flight, and at most one PROTO_CHECKPOINT request waits for it
 *     (another gets BUSY). The waiting request is answered exactly once: when the submission ends,
 *     or UNAVAILABLE at shutdown.
 *  2. Every loop is bounded: attempts by the deadline, the start-up scan by
 *     NODE_CHECKPOINT_SCAN_MAX entries.
 *  3. A socket's poll handle is closed before the socket (its close callback closes the socket),
 *     so libuv never watches a descriptor nanomsg has released.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/checkpoint.h"
#include "ledger/entry.h"
#include "ledger/reason.h"
#include "node/node.h"
#include "store/merkle_store.h"
#include "util/error.h"

#define NODE_CHECKPOINT_SUBMIT_MS 11000 /* one submission, every attempt: a CLI waits 12 s for its answer */
#define NODE_CHECKPOINT_RETRY_MS 100	/* between attempts: no connection yet, no leader, busy */
#define NODE_CHECKPOINT_SCAN_MAX 1000	/* entries read back at start for content_seq and our last size */
#define NODE_CHECKPOINT_ACTOR "siteledgerd" /* the actor of records the node makes itself */

struct pending {
	uv_poll_t poll;
	int sock; /* NN_REQ connected to the target */
	struct node_checkpoint *owner;
};

struct node_checkpoint {
	struct node *n;
	uv_timer_t every; /* checkpoint_every_ms, when not 0 */
	uv_timer_t retry; /* the submission's next attempt */
	char origin[NOTE_NAME_BYTES_MAX + 1];
	uint64_t content_seq; /* last applied entry that is not a checkpoint record */
	uint64_t signed_size; /* size of this node's last checkpoint (submitted, or found at start) */
	/* the submission in flight (invariant 1) */
	bool active;
	uint64_t size;
	struct sl_buf record;
	char note[NOTE_BYTES_MAX + 1];
	uint64_t deadline_ms;
	unsigned attempts;
	bool redirected; /* the next attempt goes to target (a REDIRECT named it) */
	char target[NODE_CONFIG_ADDR_BYTES];
	struct pending *pending; /* the current attempt's socket; NULL between attempts */
	void *waiter;		 /* a PROTO_CHECKPOINT route waiting for the submission */
};

/* The type of canonical record bytes without decoding them: the map starts with key 0 (version 1)
 * then key 1 and the type as a positive fixint (docs/record-format.md); 0 when not that shape. */
static int type_peek(const uint8_t *bytes, size_t len)
{
	if (bytes == NULL || len < 5 || (bytes[0] & 0xf0) != 0x80 || bytes[1] != 0x00 || bytes[2] != 0x01 ||
	    bytes[3] != 0x01 || bytes[4] >= 0x80)
		return 0;
	return bytes[4];
}

static void pending_closed(uv_handle_t *handle)
{
	struct pending *p = handle->data;
	nn_close(p->sock); /* invariant 3 */
	free(p);
}

static void pending_drop(struct node_checkpoint *c)
{
	if (c->pending == NULL)
		return;
	if (!uv_is_closing((uv_handle_t *)&c->pending->poll))
		uv_close((uv_handle_t *)&c->pending->poll, pending_closed);
	c->pending = NULL;
}

/* Answer the waiting request (if any) and end the submission. */
static void submission_end(struct node_checkpoint *c, uint8_t code, const char *message,
			   const struct ledger_result *result)
{
	struct node *n = c->n;
	assert(c->active);
	assert(code != PROTO_OK || result != NULL);
	const char *outcome = result != NULL ? ledger_outcome_name(result->outcome) : NULL;
	node_log(code == PROTO_OK && result->outcome == OUTCOME_ACCEPTED ? "info" : "warn", "checkpoint submitted",
		 "size=%" PRIu64 " code=%s outcome=%s seq=%" PRIu64 " attempts=%u why=\"%s\"", c->size,
		 proto_code_name(code), outcome != NULL ? outcome : "-", result != NULL ? result->seq : 0, c->attempts,
		 message);
	if (c->waiter != NULL) {
		static struct proto_response resp; /* loop thread only; large */
		proto_response_init(&resp, code, message);
		if (result != NULL) {
			resp.results[0] = *result;
			resp.result_count = 1;
		}
		resp.has_note = code == PROTO_OK;
		snprintf(resp.note, sizeof resp.note, "%s", c->note);
		node_clients_reply(n, c->waiter, &resp);
		c->waiter = NULL;
	}
	if (code == PROTO_OK && c->size > c->signed_size)
		c->signed_size = c->size; /* applied, accepted or not: the timer does not sign it again; a
					   * submission without an outcome is tried again on the next tick */
	pending_drop(c);
	uv_timer_stop(&c->retry);
	c->active = false;
}

static void retry_cb(uv_timer_t *timer);

static void retry_after(struct node_checkpoint *c, uint64_t ms)
{
	uv_timer_start(&c->retry, retry_cb, ms, 0);
}

/* The leader's client address, or "" when no leader is known. */
static void leader_target(struct node_checkpoint *c, char out[NODE_CONFIG_ADDR_BYTES])
{
	struct node *n = c->n;
	uint64_t leader = raft_leader(replica_raft(n->rp));
	const struct node_peer_config *p = node_peer_by_id(n, leader);
	if (leader == n->config.id)
		snprintf(out, NODE_CONFIG_ADDR_BYTES, "%s", n->config.client_listen);
	else
		snprintf(out, NODE_CONFIG_ADDR_BYTES, "%s", p != NULL ? p->client_addr : "");
}

static void poll_cb(uv_poll_t *handle, int status, int events);

static int pending_open(struct node_checkpoint *c)
{
	struct pending *p = calloc(1, sizeof *p);
	if (p == NULL)
		return SL_ENOMEM;
	p->sock = nn_socket(AF_SP, NN_REQ);
	int resend_ms = 2 * NODE_CHECKPOINT_SUBMIT_MS; /* never: we retry ourselves */
	int max = (int)PROTO_RESPONSE_BYTES_MAX;
	int fd = -1;
	size_t size = sizeof fd;
	if (p->sock < 0 || nn_setsockopt(p->sock, NN_REQ, NN_REQ_RESEND_IVL, &resend_ms, sizeof resend_ms) < 0 ||
	    nn_setsockopt(p->sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &max, sizeof max) < 0 ||
	    nn_connect(p->sock, c->target) < 0 || nn_getsockopt(p->sock, NN_SOL_SOCKET, NN_RCVFD, &fd, &size) < 0 ||
	    uv_poll_init(c->n->loop, &p->poll, fd) != 0) {
		node_log("warn", "checkpoint: cannot reach the leader", "target=%s err=\"%s\"", c->target,
			 nn_strerror(nn_errno()));
		if (p->sock >= 0)
			nn_close(p->sock);
		free(p);
		return SL_EIO;
	}
	p->poll.data = p;
	p->owner = c;
	c->pending = p;
	if (uv_poll_start(&p->poll, UV_READABLE, poll_cb) != 0) {
		pending_drop(c);
		return SL_EIO;
	}
	return 0;
}

/* One attempt: (re)connect when the target changed, send the request (a fresh nonce each time). */
static void attempt(struct node_checkpoint *c)
{
	struct node *n = c->n;
	assert(c->active);
	assert(c->record.len > 0);
	char target[NODE_CONFIG_ADDR_BYTES];
	if (c->redirected)
		snprintf(target, sizeof target, "%s", c->target);
	else
		leader_target(c, target);
	c->redirected = false;
	c->attempts++;
	if (c->attempts > 1 && node_clock_ms() > c->deadline_ms) { /* the first attempt always runs */
		submission_end(c, PROTO_TIMEOUT, "not submitted in time", NULL);
		return;
	}
	if (target[0] == '\0') {
		retry_after(c, NODE_CHECKPOINT_RETRY_MS); /* no leader known yet */
		return;
	}
	if (c->pending != NULL && strcmp(target, c->target) != 0)
		pending_drop(c);
	snprintf(c->target, sizeof c->target, "%s", target);
	struct sl_buf request;
	sl_buf_init(&request, PROTO_REQUEST_BYTES_MAX);
	const struct ledger_input input = { c->record.data, c->record.len };
	int rc = c->pending == NULL ? pending_open(c) : 0;
	if (rc == 0)
		rc = proto_request_encode(PROTO_SUBMIT, &input, 1, NULL, &n->sk, &request);
	if (rc == 0 && nn_send(c->pending->sock, request.data, request.len, NN_DONTWAIT) < 0)
		rc = SL_EIO; /* not connected yet (EAGAIN): try again shortly */
	sl_buf_free(&request);
	retry_after(c, rc == 0 ? NODE_CHECKPOINT_SUBMIT_MS : NODE_CHECKPOINT_RETRY_MS); /* rc == 0: the deadline */
}

static void retry_cb(uv_timer_t *timer)
{
	struct node_checkpoint *c = timer->data;
	if (c->active && !c->n->stopping)
		attempt(c);
}

/* The leader's answer to the current attempt. */
static void answer(struct node_checkpoint *c, const struct proto_response *resp)
{
	if (resp->code == PROTO_OK && resp->result_count == 1) {
		submission_end(c, PROTO_OK, "submitted", &resp->results[0]);
	} else if (resp->code == PROTO_REDIRECT && resp->leader_addr[0] != '\0') {
		pending_drop(c);
		snprintf(c->target, sizeof c->target, "%s", resp->leader_addr);
		c->redirected = true; /* the next attempt follows the named leader, not our own view */
		retry_after(c, 0);
	} else if (resp->code == PROTO_UNAVAILABLE || resp->code == PROTO_BUSY || resp->code == PROTO_TIMEOUT ||
		   resp->code == PROTO_REDIRECT) {
		retry_after(c, NODE_CHECKPOINT_RETRY_MS);
	} else {
		submission_end(c, resp->code, resp->message, NULL);
	}
}

static void poll_cb(uv_poll_t *handle, int status, int events)
{
	(void)status;
	(void)events;
	struct pending *p = handle->data;
	struct node_checkpoint *c = p->owner;
	if (c->pending != p)
		return; /* an old attempt's socket, being closed */
	void *reply = NULL;
	int len = nn_recv(p->sock, &reply, NN_MSG, NN_DONTWAIT);
	if (len < 0)
		return;
	static struct proto_response resp; /* loop thread only; large */
	int rc = proto_response_decode(reply, (size_t)len, &resp);
	nn_freemsg(reply);
	if (rc != 0) {
		submission_end(c, PROTO_INVALID, "the leader's answer did not decode", NULL);
		return;
	}
	answer(c, &resp);
}

/* Sign (size, this node's root at size) into c->record and c->note. */
static int record_make(struct node_checkpoint *c, uint64_t size)
{
	struct node *n = c->n;
	uint8_t root[MERKLE_HASH_BYTES];
	store_txn *txn = NULL;
	int rc = store_txn_begin(replica_store(n->rp), false, &txn);
	if (rc == 0) {
		rc = store_merkle_root(txn, size, root);
		store_txn_abort(txn);
	}
	struct record r;
	record_init(&r);
	r.site = sl_str_from_cstr(n->config.site);
	r.actor = SL_STR(NODE_CHECKPOINT_ACTOR);
	r.meaning = MEANING_AUTHORED;
	r.event_time_ms = (int64_t)node_clock_ms();
	if (rc == 0)
		rc = ledger_checkpoint_fill(&r, c->origin, size, root, n->config.site, &n->sk);
	if (rc == 0)
		rc = record_sign(&r, &n->sk);
	sl_buf_reset(&c->record);
	if (rc == 0)
		rc = record_encode(&r, &c->record);
	size_t len = 0;
	if (rc == 0)
		rc = ledger_checkpoint_note(&r, c->note, sizeof c->note, &len);
	return rc;
}

static int submission_start(struct node_checkpoint *c, uint64_t size)
{
	assert(!c->active); /* invariant 1 */
	assert(size > 0);
	int rc = record_make(c, size);
	if (rc != 0) {
		node_log("error", "checkpoint: cannot sign", "size=%" PRIu64 " err=%s", size, sl_errname(rc));
		return rc;
	}
	c->active = true;
	c->size = size;
	c->attempts = 0;
	c->redirected = false;
	c->target[0] = '\0';
	c->deadline_ms = node_clock_ms() + NODE_CHECKPOINT_SUBMIT_MS;
	attempt(c);
	return 0;
}

static void every_cb(uv_timer_t *timer)
{
	struct node_checkpoint *c = timer->data;
	if (!c->active && !c->n->stopping && c->content_seq > c->signed_size)
		(void)submission_start(c, c->content_seq); /* logged; the next tick tries again */
}

void node_checkpoint_request(struct node *n, void *control)
{
	struct node_checkpoint *c = n->checkpoint;
	static struct proto_response resp;
	const char *why = c == NULL ? "checkpoints are not running on this node" : NULL;
	uint8_t code = PROTO_UNAVAILABLE;
	struct store_raft_applied applied;
	if (why == NULL && c->active && c->waiter != NULL) {
		why = "a checkpoint is being submitted; retry";
		code = PROTO_BUSY;
	} else if (why == NULL && !c->active) {
		replica_applied_get(n->rp, &applied);
		if (applied.ledger_seq == 0) {
			why = "the ledger is empty: nothing to checkpoint";
			code = PROTO_INVALID;
		} else if (submission_start(c, applied.ledger_seq) != 0) {
			why = "cannot sign a checkpoint (see the node's log)";
		}
	}
	if (why != NULL) {
		proto_response_init(&resp, code, why);
		node_clients_reply(n, control, &resp);
		return;
	}
	assert(c->active); /* submission_start ends nothing synchronously: its deadline lies ahead */
	c->waiter = control; /* answered by submission_end (invariant 1) */
}

static void refused_alarm(struct node *n, const struct ledger_input *input, const struct ledger_result *result)
{
	struct record r;
	char site[RECORD_SITE_SIZE] = "?", what[NODE_EVENT_WHAT_BYTES_MAX];
	uint64_t size = 0;
	if (record_decode(input->bytes, input->len, &r, NULL) == 0) {
		(void)sl_str_copy(r.site, site, sizeof site);
		size = r.checkpoint_size;
		record_clear(&r);
	}
	bool signature = result->outcome == OUTCOME_CHECKPOINT_BAD_NOTE_SIGNATURE;
	snprintf(what, sizeof what, "checkpoint of size %" PRIu64 " by %s refused: %s", size, site,
		 ledger_outcome_name(result->outcome));
	const struct node_alarm alarm = { .kind = signature ? "checkpoint" : "divergence",
					  .what = what,
					  .site = site,
					  .seqs = &result->seq,
					  .seq_count = 1 };
	node_alarm_raise(n, &alarm);
}

void node_checkpoint_applied(struct node *n, const struct replica_applied *a)
{
	struct node_checkpoint *c = n->checkpoint;
	if (c == NULL)
		return;
	if (a->snapshot) { /* a ledger installed whole: its content is unknown here, count it all */
		if (a->ledger_seq > c->content_seq)
			c->content_seq = a->ledger_seq;
		return;
	}
	for (size_t i = 0; a->records != NULL && i < a->results_count; i++) {
		const struct ledger_result *r = &a->results[i];
		if (type_peek(a->records[i].bytes, a->records[i].len) != RECORD_CHECKPOINT) {
			if (r->seq > c->content_seq)
				c->content_seq = r->seq;
		} else if (r->outcome == OUTCOME_CHECKPOINT_BEYOND_LEDGER ||
			   r->outcome == OUTCOME_CHECKPOINT_ROOT_MISMATCH ||
			   r->outcome == OUTCOME_CHECKPOINT_BAD_NOTE_SIGNATURE) {
			refused_alarm(n, &a->records[i], r);
		}
	}
}

/* Read back up to NODE_CHECKPOINT_SCAN_MAX entries: the last that is not a checkpoint record, and
 * the largest size among this site's accepted checkpoint records there. */
static int scan_back(struct node_checkpoint *c, store_txn *txn)
{
	uint64_t count = 0;
	int rc = store_ledger_count(txn, &count);
	uint64_t stop = count > NODE_CHECKPOINT_SCAN_MAX ? count - NODE_CHECKPOINT_SCAN_MAX : 0;
	c->content_seq = stop; /* all checkpoint records in the window: count the rest as content */
	bool content_found = false;
	for (uint64_t seq = count; rc == 0 && seq > stop; seq--) {
		const uint8_t *bytes = NULL;
		size_t len = 0;
		struct ledger_entry entry;
		rc = store_ledger_get(txn, seq, &bytes, &len);
		if (rc == 0)
			rc = entry_decode(bytes, len, &entry, NULL);
		if (rc != 0)
			break;
		if (type_peek(entry.record, entry.record_len) != RECORD_CHECKPOINT) {
			if (!content_found)
				c->content_seq = seq;
			content_found = true;
			continue;
		}
		struct record r;
		if (entry.outcome != OUTCOME_ACCEPTED || record_decode(entry.record, entry.record_len, &r, NULL) != 0)
			continue;
		if (sl_str_eq_cstr(r.site, c->n->config.site) && r.checkpoint_size > c->signed_size)
			c->signed_size = r.checkpoint_size;
		record_clear(&r);
	}
	return rc;
}

int node_checkpoint_open(struct node *n)
{
	struct node_checkpoint *c = calloc(1, sizeof *c);
	if (c == NULL)
		return SL_ENOMEM;
	c->n = n;
	n->checkpoint = c;
	sl_buf_init(&c->record, RECORD_BYTES_MAX);
	store_txn *txn = NULL;
	int rc = store_txn_begin(replica_store(n->rp), false, &txn);
	if (rc == 0)
		rc = ledger_checkpoint_origin(txn, n->config.site, c->origin);
	if (rc == 0)
		rc = scan_back(c, txn);
	if (txn != NULL)
		store_txn_abort(txn);
	if (rc == 0 && (uv_timer_init(n->loop, &c->every) != 0 || uv_timer_init(n->loop, &c->retry) != 0))
		rc = SL_EIO;
	c->every.data = c->retry.data = c;
	if (rc == 0 && n->config.checkpoint_every_ms > 0 &&
	    uv_timer_start(&c->every, every_cb, n->config.checkpoint_every_ms, n->config.checkpoint_every_ms) != 0)
		rc = SL_EIO;
	if (rc != 0)
		node_log("error", "checkpoints cannot start", "err=%s", sl_errname(rc));
	else
		node_log("info", "checkpoints", "origin=%s every_ms=%u content_seq=%" PRIu64 " signed_size=%" PRIu64,
			 c->origin, n->config.checkpoint_every_ms, c->content_seq, c->signed_size);
	return rc;
}

void node_checkpoint_close(struct node *n)
{
	struct node_checkpoint *c = n->checkpoint;
	if (c == NULL)
		return;
	if (c->waiter != NULL) {
		static struct proto_response resp;
		proto_response_init(&resp, PROTO_UNAVAILABLE, "node shutting down; retry");
		node_clients_reply(n, c->waiter, &resp);
	}
	if (c->pending != NULL) { /* the loop's walk closed its handle (node.c node_stop) */
		nn_close(c->pending->sock);
		free(c->pending);
	}
	sl_buf_free(&c->record);
	free(c);
	n->checkpoint = NULL;
}
