/* node/query.c — reads for clients (PROTO_QUERY, PROTO_EXPORT): the read commands' queries, run
 * on this node's copy of the ledger by the same code the CLI runs on a data directory
 * (query/query.h), and the export bundle streamed in bounded chunks.
 *
 * A read becomes a session (one of NODE_QUERY_SESSIONS_MAX, bound to the key that asked and
 * named by a random id). Its query runs on the libuv thread pool (at most NODE_QUERY_RUNNING_MAX
 * at once, so signature checks keep their workers; the others queue), with its own read
 * transaction: the loop keeps ticking, the storage thread keeps writing. The documents come back
 * in chunks of at most PROTO_CHUNK_BYTES_MAX; the client asks for each next chunk with the
 * session's cursor (document, offset).
 *   QUERY   the query renders its documents at once into memory (at most
 *           NODE_QUERY_RESULT_BYTES_MAX each: more is an error naming the limit), then the read
 *           transaction ends; the chunks are served from memory.
 *   EXPORT  the session keeps its read transaction (one snapshot, whatever is applied meanwhile)
 *           and the export's state; each chunk the client asks for runs one more step on the
 *           thread pool. Bytes stay until the client asks past them, so a lost answer is asked
 *           for again. A bundle of any size needs memory for about one chunk.
 * A session nobody asked for NODE_QUERY_IDLE_MS is dropped (its transaction ends).
 *
 * Linearizable reads (§6.4): before the query runs, the node asks raft for a read index
 * (raft_read_index; a follower's core forwards it to the leader) and waits, at most
 * NODE_QUERY_READ_INDEX_MS, until the read state arrives and this node has applied up to it.
 * Without a leader, or when the wait ends, the answer is UNAVAILABLE. Plain reads are answered
 * from what this node has applied, which may lag the leader, but never from before an outcome
 * this node already told a client (plain_start).
 *
 * Threads: everything here runs on the loop thread except query_work, which touches only its
 * session's results, transaction and export state (state SESSION_RUNNING: the loop leaves them
 * alone until query_done).
 */
#define _GNU_SOURCE /* fopencookie: a FILE over a bounded buffer */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/random.h"
#include "node/node.h"
#include "query/query.h"
#include "store/raft_store.h"
#include "util/error.h"

#define NODE_QUERY_SESSIONS_MAX 8	  /* reads held at once; more: BUSY */
#define NODE_QUERY_RUNNING_MAX 2	  /* reads on the thread pool at once (it has 4 workers) */
#define NODE_QUERY_IDLE_MS 30000	  /* a session not asked for this long is dropped */
#define NODE_QUERY_READ_INDEX_MS 5000	  /* a linearizable read waits this long for its read index */
#define NODE_QUERY_RESULT_BYTES_MAX (32u << 20) /* one query document in memory */
#define NODE_QUERY_CONTEXT_BITS 40	  /* read contexts: node id above, a counter below */

_Static_assert(PROTO_QUERY_OPTIONS_MAX == QUERY_OPTIONS_MAX && PROTO_QUERY_ARGS_MAX == QUERY_ARGS_MAX,
	       "the wire carries every query");
_Static_assert(PROTO_QUERY_NAME_BYTES_MAX + 1 == QUERY_NAME_BYTES &&
		       PROTO_QUERY_VALUE_BYTES_MAX + 1 == QUERY_VALUE_BYTES,
	       "names and values fit the query's");
_Static_assert(PROTO_DOCS_MAX == QUERY_DOCS && PROTO_STATS == QUERY_STATS && PROTO_EXIT_MAX == QUERY_EXIT_USAGE,
	       "documents, stats and exit statuses travel as they are");
_Static_assert(NODE_ID_MAX < (1u << (64 - NODE_QUERY_CONTEXT_BITS)), "a node id fits a read context");

enum session_state {
	SESSION_FREE = 0,
	SESSION_WAIT_READ, /* linearizable: waiting for the read index, then for apply */
	SESSION_QUEUED,	   /* waiting for a thread pool slot */
	SESSION_RUNNING,   /* a worker owns the results, txn and export */
	SESSION_READY,	   /* documents (or the export's next bytes) wait for the client's cursor */
};

struct node_query_session {
	enum session_state state;
	uv_work_t work;
	struct node *n;
	uint8_t id[PROTO_SESSION_BYTES];
	struct crypto_key_id key_id;
	uint8_t type; /* PROTO_QUERY or PROTO_EXPORT */
	uint64_t arrival;
	struct query_params params;
	void *control; /* the request being answered; NULL between requests */
	uint64_t deadline_ms;
	uint64_t read_context, read_index;
	bool read_known;
	/* results: the worker writes them while RUNNING */
	struct query_out out;
	uint64_t applied;
	struct sl_buf docs[QUERY_DOCS]; /* QUERY: the documents; EXPORT: docs[0] = bytes from `base` on */
	uint64_t base;
	bool complete; /* QUERY: always after the run; EXPORT: the stream has ended */
	store_txn *txn; /* EXPORT: the snapshot, from the first step to the end */
	query_export *x;
	int failed; /* an SL_E* code of the run or step */
	/* the cursor being answered */
	uint32_t doc;
	uint64_t offset;
};

struct node_queries {
	struct node_query_session sessions[NODE_QUERY_SESSIONS_MAX];
	size_t running;
	uint64_t arrivals;
	uint64_t next_context;
};

static struct proto_response reply; /* loop thread only; large */

/* ---- a FILE over a bounded buffer (QUERY documents) */

static ssize_t sink_write(void *cookie, const char *bytes, size_t len)
{
	return sl_buf_append(cookie, bytes, len) == 0 ? (ssize_t)len : -1;
}

static FILE *sink_open(struct sl_buf *buf)
{
	cookie_io_functions_t io = { NULL, sink_write, NULL, NULL };
	return fopencookie(buf, "w", io);
}

/* ---- sessions */

static void session_free(struct node *n, struct node_query_session *s)
{
	assert(s->state != SESSION_RUNNING);
	assert(s->control == NULL);
	query_export_end(s->x);
	if (s->txn != NULL)
		store_txn_abort(s->txn);
	for (size_t i = 0; i < QUERY_DOCS; i++)
		sl_buf_free(&s->docs[i]);
	memset(s, 0, sizeof *s);
	(void)n;
}

static void session_answer(struct node *n, struct node_query_session *s, uint8_t code, const char *message)
{
	proto_response_init(&reply, code, message);
	node_clients_reply(n, s->control, &reply);
	s->control = NULL;
}

/* Fail the request in hand and drop the session. */
static void session_fail(struct node *n, struct node_query_session *s, uint8_t code, const char *message)
{
	session_answer(n, s, code, message);
	session_free(n, s);
}

static struct node_query_session *session_take(struct node_queries *q)
{
	for (size_t i = 0; i < NODE_QUERY_SESSIONS_MAX; i++)
		if (q->sessions[i].state == SESSION_FREE)
			return &q->sessions[i];
	return NULL;
}

static struct node_query_session *session_find(struct node_queries *q, const uint8_t id[PROTO_SESSION_BYTES])
{
	for (size_t i = 0; i < NODE_QUERY_SESSIONS_MAX; i++) {
		struct node_query_session *s = &q->sessions[i];
		if (s->state != SESSION_FREE && memcmp(s->id, id, PROTO_SESSION_BYTES) == 0)
			return s;
	}
	return NULL;
}

/* ---- the work (thread pool) */

static struct node_query_session *session_of(uv_work_t *work)
{
	return (struct node_query_session *)(void *)((char *)work - offsetof(struct node_query_session, work));
}

static uint64_t applied_of(store_txn *txn)
{
	struct store_raft_applied a = { 0 };
	return store_raft_applied_get(txn, &a) == 0 ? a.index : 0;
}

/* A query's documents, whole, into the session's buffers. */
static void run_query(struct node_query_session *s, struct node *n)
{
	store_txn *txn = NULL;
	int rc = store_txn_begin(replica_store(n->rp), false, &txn);
	if (rc != 0) {
		s->failed = rc;
		return;
	}
	s->applied = applied_of(txn);
	FILE *docs[QUERY_DOCS] = { NULL, NULL };
	bool html = query_wants_html(&s->params);
	for (size_t i = 0; i < QUERY_DOCS; i++)
		sl_buf_init(&s->docs[i], NODE_QUERY_RESULT_BYTES_MAX);
	docs[0] = sink_open(&s->docs[0]);
	docs[1] = html ? sink_open(&s->docs[1]) : NULL;
	if (docs[0] == NULL || (html && docs[1] == NULL)) {
		rc = SL_ENOMEM;
	} else {
		struct query_env env = { txn, n->config.site, { &n->sk, NULL } };
		memcpy(s->out.doc, docs, sizeof docs);
		query_run(&env, &s->params, &s->out);
		memset(s->out.doc, 0, sizeof s->out.doc);
	}
	for (size_t i = 0; i < QUERY_DOCS; i++)
		if (docs[i] != NULL && (ferror(docs[i]) | fclose(docs[i])) != 0 && rc == 0)
			rc = SL_ELIMIT; /* the only write that fails is one past the buffer's limit */
	store_txn_abort(txn);
	s->failed = rc;
	s->complete = true;
}

/* The export's next step (the first one opens the snapshot and begins). */
static void run_export_step(struct node_query_session *s, struct node *n)
{
	int rc = 0;
	if (s->txn == NULL) {
		sl_buf_init(&s->docs[0], NODE_QUERY_RESULT_BYTES_MAX);
		if ((rc = store_txn_begin(replica_store(n->rp), false, &s->txn)) != 0) {
			s->failed = rc;
			return;
		}
		s->applied = applied_of(s->txn);
		struct query_env env = { s->txn, n->config.site, { &n->sk, NULL } };
		if (query_export_begin(&env, &s->params, &s->x, &s->out) != 0) {
			s->complete = true; /* an answer with the exit status and message, no bundle */
			return;
		}
	}
	char *bytes = NULL;
	size_t size = 0;
	bool done = false;
	FILE *f = open_memstream(&bytes, &size);
	if (f == NULL)
		rc = SL_ENOMEM;
	if (rc == 0)
		rc = query_export_step(s->x, f, PROTO_CHUNK_BYTES_MAX, &done);
	if (f != NULL && fclose(f) != 0 && rc == 0)
		rc = SL_ENOMEM;
	if (rc == 0)
		rc = sl_buf_append(&s->docs[0], bytes, size);
	free(bytes);
	query_export_stats(s->x, s->out.stats);
	s->failed = rc;
	s->complete = done;
}

static void query_work(uv_work_t *work)
{
	struct node_query_session *s = session_of(work);
	if (s->type == PROTO_EXPORT)
		run_export_step(s, s->n);
	else
		run_query(s, s->n);
}

/* ---- answers (loop thread) */

/* Answer the cursor in hand (s->doc, s->offset) with the next chunk. */
static void chunk_answer(struct node *n, struct node_query_session *s)
{
	uint32_t doc = s->doc;
	uint64_t offset = s->offset, start = 0, end = 0;
	if (s->type == PROTO_QUERY) {
		while (doc + 1 < QUERY_DOCS && offset == s->docs[doc].len) {
			doc++; /* this document is complete: on to the next */
			offset = 0;
		}
		end = s->docs[doc].len;
	} else {
		start = s->base;
		end = s->base + s->docs[0].len;
	}
	if (offset < start || offset > end) {
		session_fail(n, s, PROTO_INVALID, "cursor outside the documents");
		return;
	}
	uint64_t len = end - offset < PROTO_CHUNK_BYTES_MAX ? end - offset : PROTO_CHUNK_BYTES_MAX;
	const uint8_t *data = len > 0 ? s->docs[doc].data + (offset - start) : NULL;
	bool done = s->complete && offset + len == end;
	for (uint32_t later = doc + 1; s->type == PROTO_QUERY && later < QUERY_DOCS; later++)
		done = done && s->docs[later].len == 0;
	proto_response_init(&reply, PROTO_OK, s->out.message);
	reply.has_chunk = true;
	reply.chunk = (struct proto_chunk){ .exit_code = (uint8_t)s->out.exit_code, .has_session = !done,
					    .doc = doc, .offset = offset, .done = done, .applied = s->applied,
					    .data = data, .data_len = (size_t)len };
	memcpy(reply.chunk.session, s->id, sizeof s->id);
	memcpy(reply.chunk.stats, s->out.stats, sizeof reply.chunk.stats);
	node_clients_reply(n, s->control, &reply);
	s->control = NULL;
	if (done) {
		session_free(n, s);
		return;
	}
	s->state = SESSION_READY;
	s->deadline_ms = node_clock_ms() + NODE_QUERY_IDLE_MS;
}

static void queue_start(struct node *n);

static void query_done(uv_work_t *work, int status)
{
	struct node_query_session *s = session_of(work);
	struct node *n = s->n;
	assert(s->state == SESSION_RUNNING);
	n->queries->running--;
	s->state = SESSION_READY;
	if (status != 0 || n->stopping)
		session_fail(n, s, PROTO_UNAVAILABLE, "node shutting down; retry");
	else if (s->failed == SL_ELIMIT)
		session_fail(n, s, PROTO_INVALID, "the answer is larger than a node holds for one read (32 MiB); "
						  "narrow the query, or read a data directory");
	else if (s->failed != 0)
		session_fail(n, s, PROTO_UNAVAILABLE, sl_strerror(s->failed));
	else
		chunk_answer(n, s);
	queue_start(n);
}

/* Start queued sessions, oldest first, while the thread pool has room for reads. */
static void queue_start(struct node *n)
{
	struct node_queries *q = n->queries;
	while (q->running < NODE_QUERY_RUNNING_MAX && !n->stopping) {
		struct node_query_session *next = NULL;
		for (size_t i = 0; i < NODE_QUERY_SESSIONS_MAX; i++) {
			struct node_query_session *s = &q->sessions[i];
			if (s->state == SESSION_QUEUED && (next == NULL || s->arrival < next->arrival))
				next = s;
		}
		if (next == NULL)
			return;
		next->state = SESSION_RUNNING;
		next->work.data = n;
		if (uv_queue_work(n->loop, &next->work, query_work, query_done) != 0) {
			next->state = SESSION_READY;
			session_fail(n, next, PROTO_UNAVAILABLE, "cannot run the read now; retry");
			continue;
		}
		q->running++;
	}
}

static void session_queue(struct node *n, struct node_query_session *s)
{
	s->state = SESSION_QUEUED;
	queue_start(n);
}

/* ---- requests (loop thread) */

static int params_from_wire(const struct proto_query *w, struct query_params *p, char *why, size_t why_size)
{
	if (query_params_init(p, w->kind) != 0) {
		snprintf(why, why_size, "unknown query kind %u", (unsigned)w->kind);
		return SL_EVALUE;
	}
	for (size_t i = 0; i < w->option_count; i++) {
		int rc = query_params_option(p, w->names[i].ptr, w->names[i].len, w->values[i].ptr, w->values[i].len);
		if (rc != 0) {
			snprintf(why, why_size, "%s: option '%.*s': %s", query_kind_name(w->kind), (int)w->names[i].len,
				 w->names[i].ptr, sl_strerror(rc));
			return rc;
		}
	}
	for (size_t i = 0; i < w->arg_count; i++) {
		int rc = query_params_arg(p, w->args[i].ptr, w->args[i].len);
		if (rc != 0) {
			snprintf(why, why_size, "%s: argument %zu: %s", query_kind_name(w->kind), i + 1, sl_strerror(rc));
			return rc;
		}
	}
	return 0;
}

/* Ask raft for a read index; the query waits in SESSION_WAIT_READ (§6.4). */
static void linearizable_start(struct node *n, struct node_query_session *s)
{
	raft *r = replica_raft(n->rp);
	if (raft_leader(r) == 0) {
		session_fail(n, s, PROTO_UNAVAILABLE,
			     "no leader known: a linearizable read needs one (a plain read answers from this node's copy)");
		return;
	}
	struct node_queries *q = n->queries;
	uint64_t mask = (1ull << NODE_QUERY_CONTEXT_BITS) - 1;
	s->read_context = (n->config.id << NODE_QUERY_CONTEXT_BITS) | (q->next_context++ & mask);
	int rc = raft_read_index(r, s->read_context);
	if (rc != 0) {
		session_fail(n, s, PROTO_UNAVAILABLE, raft_strerror(rc));
		return;
	}
	s->state = SESSION_WAIT_READ;
	s->deadline_ms = node_clock_ms() + NODE_QUERY_READ_INDEX_MS;
}

/* A plain read runs at once, unless this node told a client an outcome its store does not show
 * yet (D25: answers go out while the cycle commits): then it waits for that commit, so a client
 * reads its own writes on the node that answered them. */
static void plain_start(struct node *n, struct node_query_session *s)
{
	struct store_raft_applied a;
	replica_applied_get(n->rp, &a);
	if (a.index >= n->answered_index) {
		session_queue(n, s);
		return;
	}
	s->read_index = n->answered_index;
	s->read_known = true;
	s->state = SESSION_WAIT_READ;
	s->deadline_ms = node_clock_ms() + NODE_QUERY_READ_INDEX_MS;
}

static void read_new(struct node *n, void *control, const struct proto_request *req)
{
	struct node_query_session *s = session_take(n->queries);
	if (s == NULL) {
		proto_response_init(&reply, PROTO_BUSY, "too many reads in progress; retry");
		node_clients_reply(n, control, &reply);
		return;
	}
	memset(s, 0, sizeof *s);
	s->state = SESSION_READY; /* held, not yet queued */
	s->n = n;
	s->control = control;
	s->type = req->type;
	s->key_id = req->key_id;
	s->arrival = ++n->queries->arrivals;
	crypto_random_bytes(s->id, sizeof s->id);
	char why[PROTO_TEXT_BYTES];
	if (params_from_wire(&req->query, &s->params, why, sizeof why) != 0) {
		n->counters.client_invalid++;
		session_fail(n, s, PROTO_INVALID, why);
	} else if ((req->type == PROTO_EXPORT) != (s->params.kind == QUERY_EXPORT)) {
		n->counters.client_invalid++;
		session_fail(n, s, PROTO_INVALID, "the export goes with an export request, and only it");
	} else if (req->query.linearizable) {
		linearizable_start(n, s);
	} else {
		plain_start(n, s);
	}
}

/* The next chunk of a session: from memory, or (export) after one more step. */
static void read_next(struct node *n, void *control, const struct proto_request *req)
{
	struct node_query_session *s = session_find(n->queries, req->cursor.session);
	uint8_t code = PROTO_OK;
	const char *why = NULL;
	if (s == NULL || memcmp(&s->key_id, &req->key_id, sizeof s->key_id) != 0) {
		code = PROTO_NOT_FOUND;
		why = "no such read (it ended, or was idle too long): ask again";
	} else if (s->state != SESSION_READY || s->control != NULL) {
		code = PROTO_BUSY;
		why = "this read is still making its previous chunk; retry";
	} else if (s->type != req->type || (s->type == PROTO_EXPORT && req->cursor.doc != 0)) {
		code = PROTO_INVALID;
		why = "cursor of another kind of read";
	}
	if (why != NULL) {
		proto_response_init(&reply, code, why);
		node_clients_reply(n, control, &reply);
		return;
	}
	s->control = control;
	s->doc = req->cursor.doc;
	s->offset = req->cursor.offset;
	if (s->type == PROTO_EXPORT && s->offset > s->base && s->offset <= s->base + s->docs[0].len) {
		size_t acked = (size_t)(s->offset - s->base); /* the client has them: drop */
		memmove(s->docs[0].data, s->docs[0].data + acked, s->docs[0].len - acked);
		s->docs[0].len -= acked;
		s->base = s->offset;
	}
	if (s->type == PROTO_EXPORT && !s->complete && s->docs[0].len < PROTO_CHUNK_BYTES_MAX &&
	    s->offset == s->base)
		session_queue(n, s); /* one more step, answered by query_done */
	else
		chunk_answer(n, s);
}

void node_query_request(struct node *n, void *control, const struct proto_request *req)
{
	assert(req->type == PROTO_QUERY || req->type == PROTO_EXPORT);
	if (req->has_cursor)
		read_next(n, control, req);
	else
		read_new(n, control, req);
}

/* ---- raft and time */

void node_queries_applied(struct node *n)
{
	if (n->queries == NULL)
		return;
	struct store_raft_applied a;
	replica_applied_get(n->rp, &a);
	for (size_t i = 0; i < NODE_QUERY_SESSIONS_MAX; i++) {
		struct node_query_session *s = &n->queries->sessions[i];
		if (s->state == SESSION_WAIT_READ && s->read_known && s->read_index <= a.index)
			session_queue(n, s);
	}
}

void node_queries_read_states(struct node *n, const struct raft_read_state *states, size_t count)
{
	for (size_t k = 0; n->queries != NULL && k < count; k++)
		for (size_t i = 0; i < NODE_QUERY_SESSIONS_MAX; i++) {
			struct node_query_session *s = &n->queries->sessions[i];
			if (s->state == SESSION_WAIT_READ && !s->read_known && s->read_context == states[k].context) {
				s->read_index = states[k].index;
				s->read_known = true;
			}
		}
	node_queries_applied(n);
}

void node_queries_expire(struct node *n)
{
	uint64_t now = node_clock_ms();
	for (size_t i = 0; n->queries != NULL && i < NODE_QUERY_SESSIONS_MAX; i++) {
		struct node_query_session *s = &n->queries->sessions[i];
		if (s->state == SESSION_WAIT_READ && now > s->deadline_ms)
			session_fail(n, s, PROTO_UNAVAILABLE,
				     "the read index was not confirmed in time (no leader, or no quorum); retry");
		else if (s->state == SESSION_READY && s->control == NULL && now > s->deadline_ms)
			session_free(n, s);
	}
}

int node_queries_open(struct node *n)
{
	n->queries = calloc(1, sizeof *n->queries);
	if (n->queries == NULL)
		return SL_ENOMEM;
	crypto_random_bytes(&n->queries->next_context, sizeof n->queries->next_context); /* fresh after a restart */
	query_init();
	return 0;
}

void node_queries_fail_all(struct node *n, const char *why)
{
	for (size_t i = 0; n->queries != NULL && i < NODE_QUERY_SESSIONS_MAX; i++) {
		struct node_query_session *s = &n->queries->sessions[i];
		if (s->state == SESSION_WAIT_READ || s->state == SESSION_QUEUED)
			session_fail(n, s, PROTO_UNAVAILABLE, why);
		else if (s->state == SESSION_READY && s->control == NULL)
			session_free(n, s); /* query_done answers the RUNNING ones */
	}
}

void node_queries_close(struct node *n)
{
	node_queries_fail_all(n, "node shutting down; retry");
	free(n->queries); /* the loop has ended: no session is RUNNING */
	n->queries = NULL;
}
