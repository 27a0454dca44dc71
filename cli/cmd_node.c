/* cli/cmd_node.c — the client side of siteledgerd's protocol (node/proto.h) over nanomsg REQ:
 * `--node ADDR` for record commands and submit, the read commands' queries (cli/cmd_read.c), and
 * `node status`.
 *
 * A call follows REDIRECT answers to the leader and retries UNAVAILABLE (no leader yet, leader
 * changed) after a pause, within CLI_NODE_ATTEMPTS_MAX attempts and CLI_NODE_WAIT_MS overall.
 * Retrying a submission is safe: a record id seen before is a duplicate (DESIGN.md "Records"). */
#include <errno.h>
#include <inttypes.h>
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "ledger/lifecycle.h"
#include "ledger/reason.h"
#include "node/proto.h"
#include "query/query.h"
#include "util/error.h"

#define CLI_NODE_ATTEMPTS_MAX 40 /* redirects and retries of one call */
#define CLI_NODE_WAIT_MS 20000 /* one call, all attempts: an election takes well under this */
#define CLI_NODE_REPLY_MS 12000 /* one attempt: above the node's own 10 s apply timeout */
#define CLI_NODE_SEND_MS 2000 /* connecting to a node that is down */
#define CLI_NODE_RETRY_PAUSE_MS 200
#define CLI_NODE_CHUNKS_MAX (1 << 24) /* chunks of one read: 16 TiB at 1 MiB each */

uint64_t cli_clock_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

void cli_pause_ms(unsigned ms)
{
	struct timespec t = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	nanosleep(&t, NULL);
}

/* What one call asks: records (submit), an item (item status), a query or a cursor (reads). */
struct node_request {
	uint8_t type;
	const struct ledger_input *records;
	size_t count;
	const char *item;
	const struct proto_query *query;
	const struct proto_cursor *cursor;
	const char *site; /* MEMBER_CHANGE, LEADER_TRANSFER */
	uint8_t change;	  /* MEMBER_CHANGE */
};

/* One request/reply with one node. A read's chunk data is copied into `data` (the reply is freed
 * here). 0, or CLI_EXIT_USAGE after a message. */
static int exchange(const char *addr, const struct sl_buf *request, struct proto_response *resp, struct sl_buf *data)
{
	int sock = nn_socket(AF_SP, NN_REQ);
	if (sock < 0)
		return cli_fail("cannot make a socket: %s", nn_strerror(nn_errno()));
	int send_ms = CLI_NODE_SEND_MS, reply_ms = CLI_NODE_REPLY_MS, resend_ms = CLI_NODE_WAIT_MS * 2;
	int max = (int)PROTO_RESPONSE_BYTES_MAX;
	int rc = 0;
	if (nn_setsockopt(sock, NN_SOL_SOCKET, NN_SNDTIMEO, &send_ms, sizeof send_ms) < 0 ||
	    nn_setsockopt(sock, NN_SOL_SOCKET, NN_RCVTIMEO, &reply_ms, sizeof reply_ms) < 0 ||
	    nn_setsockopt(sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &max, sizeof max) < 0 ||
	    nn_setsockopt(sock, NN_REQ, NN_REQ_RESEND_IVL, &resend_ms, sizeof resend_ms) < 0)
		rc = cli_fail("cannot configure a socket: %s", nn_strerror(nn_errno()));
	if (rc == 0 && nn_connect(sock, addr) < 0)
		rc = cli_fail("bad node address %s: %s", addr, nn_strerror(nn_errno()));
	if (rc == 0 && nn_send(sock, request->data, request->len, 0) < 0)
		rc = cli_fail("cannot send to %s: %s", addr, nn_strerror(nn_errno()));
	void *reply = NULL;
	int len = rc == 0 ? nn_recv(sock, &reply, NN_MSG, 0) : -1;
	if (rc == 0 && len < 0)
		rc = cli_fail("no answer from %s: %s", addr, nn_strerror(nn_errno()));
	if (rc == 0) {
		int drc = proto_response_decode(reply, (size_t)len, resp);
		if (drc != 0)
			rc = cli_fail("malformed answer from %s: %s", addr, sl_strerror(drc));
	}
	if (rc == 0 && resp->has_chunk) {
		if (data != NULL)
			sl_buf_reset(data);
		if (data == NULL || sl_buf_append(data, resp->chunk.data, resp->chunk.data_len) != 0)
			rc = cli_fail("unexpected read answer from %s", addr);
		else
			resp->chunk.data = data->data;
	}
	if (reply != NULL)
		nn_freemsg(reply);
	nn_close(sock);
	return rc;
}

static int key_for_request(const struct cli_args *args, struct crypto_secret_key *sk)
{
	const char *path = cli_arg(args, "key");
	if (path == NULL)
		return cli_fail("--node needs --key FILE: a key registered in the cluster signs the request");
	int rc = crypto_secret_key_read(path, sk, NULL, 0);
	if (rc != 0)
		return cli_fail("cannot use key %s: %s", path, sl_strerror(rc));
	return 0;
}

static int request_build(const struct node_request *nr, const struct crypto_secret_key *sk, struct sl_buf *out)
{
	if (nr->type == PROTO_QUERY || nr->type == PROTO_EXPORT)
		return proto_request_encode_read(nr->type, nr->query, nr->cursor, sk, out);
	if (nr->type == PROTO_MEMBERS || nr->type == PROTO_MEMBER_CHANGE || nr->type == PROTO_LEADER_TRANSFER)
		return proto_request_encode_admin(nr->type, nr->site, nr->change, sk, out);
	return proto_request_encode(nr->type, nr->records, nr->count, nr->item, sk, out);
}

/* Call the node named by --node, following redirects; resp holds the final answer (a read's data
 * in `data`). */
static int node_call_request(const struct cli_args *args, const struct node_request *nr,
			     struct proto_response *resp, struct sl_buf *data)
{
	struct crypto_secret_key sk;
	int rc = key_for_request(args, &sk);
	if (rc != 0)
		return rc;
	char addr[PROTO_TEXT_BYTES];
	snprintf(addr, sizeof addr, "%s", cli_arg(args, "node"));
	struct sl_buf request;
	sl_buf_init(&request, PROTO_REQUEST_BYTES_MAX);
	uint64_t deadline = cli_clock_ms() + CLI_NODE_WAIT_MS;
	for (int attempt = 0; rc == 0 && attempt < CLI_NODE_ATTEMPTS_MAX; attempt++) {
		sl_buf_reset(&request);
		rc = request_build(nr, &sk, &request);
		if (rc != 0) {
			rc = cli_fail("cannot build the request: %s", sl_strerror(rc));
			break;
		}
		rc = exchange(addr, &request, resp, data);
		if (rc != 0 || cli_clock_ms() > deadline)
			break;
		if (resp->code == PROTO_REDIRECT && resp->leader_addr[0] != '\0') {
			snprintf(addr, sizeof addr, "%s", resp->leader_addr);
			continue;
		}
		if (resp->code != PROTO_UNAVAILABLE && resp->code != PROTO_BUSY)
			break;
		cli_pause_ms(CLI_NODE_RETRY_PAUSE_MS);
	}
	crypto_secret_key_wipe(&sk);
	sl_buf_free(&request);
	return rc;
}

/* A call that carries records, an item, or nothing. */
static int node_call(const struct cli_args *args, uint8_t type, const struct ledger_input *records, size_t count,
		     const char *item, struct proto_response *resp)
{
	struct node_request nr = { .type = type, .records = records, .count = count, .item = item };
	return node_call_request(args, &nr, resp, NULL);
}

int cli_node_admin(const struct cli_args *args, uint8_t type, const char *site, uint8_t change,
		   struct proto_response *resp)
{
	struct node_request nr = { .type = type, .site = site, .change = change };
	return node_call_request(args, &nr, resp, NULL);
}

/* A non-OK answer as an error message and exit code. */
static int answer_fail(const struct proto_response *resp)
{
	if (resp->code == PROTO_REFUSED)
		return cli_fail("refused by the node: %s", resp->message);
	return cli_fail("node answered %s: %s", proto_code_name(resp->code), resp->message);
}

int cli_node_submit(const struct cli_args *args, const struct ledger_input *inputs, size_t count,
		    const struct cli_extra_output *extra)
{
	if (count > PROTO_RECORDS_MAX)
		return cli_fail("%zu records; at most %d per submission to a node", count, PROTO_RECORDS_MAX);
	struct proto_response *resp = malloc(sizeof *resp);
	if (resp == NULL)
		return cli_fail("out of memory");
	int rc = node_call(args, PROTO_SUBMIT, inputs, count, NULL, resp);
	if (rc == 0 && resp->code != PROTO_OK)
		rc = answer_fail(resp);
	else if (rc == 0 && resp->result_count != count)
		rc = cli_fail("the node answered %zu outcomes for %zu records", resp->result_count, count);
	else if (rc == 0)
		rc = cli_records_print(args, inputs, resp->results, count, extra);
	free(resp);
	return rc;
}

static void node_status_print(const struct proto_response *resp, bool json)
{
	const struct proto_node_status *n = &resp->node;
	char hash[2 * CRYPTO_SHA256_BYTES + 1];
	crypto_hex_encode(n->state_hash, sizeof n->state_hash, hash);
	static const char *const roles[] = { "follower", "pre-candidate", "candidate", "leader" };
	_Static_assert(RAFT_LEADER == 3, "role names follow enum raft_role");
	const char *role = n->role <= RAFT_LEADER ? roles[n->role] : "?";
	if (json) {
		printf("{\"id\":%" PRIu64 ",\"site\":", n->id);
		cli_json_cstring(stdout, n->site);
		printf(",\"role\":");
		cli_json_cstring(stdout, role);
		printf(",\"term\":%" PRIu64 ",\"leader\":%" PRIu64 ",\"leader_addr\":", n->term, n->leader);
		cli_json_cstring(stdout, resp->leader_addr);
		printf(",\"commit\":%" PRIu64 ",\"applied\":%" PRIu64 ",\"ledger_size\":%" PRIu64 ",\"state_hash\":\"%s\"}\n",
		       n->commit, n->applied, n->ledger_size, hash);
		return;
	}
	printf("node %" PRIu64 " (site %s)\n  role         %s\n  term         %" PRIu64 "\n  leader       %" PRIu64
	       " %s\n  commit       %" PRIu64 "\n  applied      %" PRIu64 "\n  ledger size  %" PRIu64
	       "\n  state hash   %s\n",
	       n->id, n->site, role, n->term, n->leader, resp->leader_addr, n->commit, n->applied, n->ledger_size, hash);
}

int cli_cmd_node(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	if (args->positional_count != 1 || strcmp(args->positional[0], "status") != 0)
		return cli_fail("expected 'node status --node ADDR --key FILE'");
	if (cli_arg(args, "node") == NULL)
		return cli_fail("--node ADDR is required");
	struct proto_response *resp = malloc(sizeof *resp);
	if (resp == NULL)
		return cli_fail("out of memory");
	/* one attempt's worth: a node's own view, never redirected */
	int rc = node_call(args, PROTO_NODE_STATUS, NULL, 0, NULL, resp);
	if (rc == 0 && (resp->code != PROTO_OK || !resp->has_node))
		rc = answer_fail(resp);
	else if (rc == 0)
		node_status_print(resp, cli_flag(args, "json"));
	free(resp);
	return rc;
}

/* checkpoint --node: the node signs its applied tree head and submits it as a checkpoint record;
 * the signed note is printed (or written to --out) once the record was applied (node/checkpoint.c). */
int cli_node_checkpoint(const struct cli_args *args)
{
	struct proto_response *resp = malloc(sizeof *resp);
	if (resp == NULL)
		return cli_fail("out of memory");
	int rc = node_call(args, PROTO_CHECKPOINT, NULL, 0, NULL, resp);
	if (rc == 0 && (resp->code != PROTO_OK || !resp->has_note || resp->result_count != 1))
		rc = resp->code == PROTO_OK ? cli_fail("the node's answer has no checkpoint") : answer_fail(resp);
	const struct ledger_result *r = rc == 0 ? &resp->results[0] : NULL;
	const char *outcome = r != NULL ? ledger_outcome_name(r->outcome) : NULL;
	const char *path = cli_arg(args, "out");
	FILE *out = rc == 0 && path != NULL ? fopen(path, "w") : stdout;
	if (rc == 0 && out == NULL)
		rc = cli_fail("cannot write %s: %s", path, strerror(errno));
	if (rc == 0 && cli_flag(args, "json")) {
		char id[2 * RECORD_ID_BYTES + 1];
		crypto_hex_encode(r->record_id, RECORD_ID_BYTES, id);
		fprintf(out, "{\"seq\":%" PRIu64 ",\"outcome\":\"%s\",\"record_id\":\"%s\",\"note\":", r->seq,
			outcome != NULL ? outcome : "?", id);
		cli_json_cstring(out, resp->note);
		fprintf(out, "}\n");
	} else if (rc == 0) {
		fputs(resp->note, out);
	}
	if (rc == 0 && path != NULL && (ferror(out) | fclose(out)) != 0)
		rc = cli_fail("write failed");
	if (rc == 0 && r->outcome != OUTCOME_ACCEPTED) {
		fprintf(stderr, "siteledger: checkpoint: the checkpoint record (seq %" PRIu64 ") was refused: %s (%s)\n",
			r->seq, outcome != NULL ? outcome : "?", ledger_outcome_description(r->outcome));
		rc = CLI_EXIT_REJECTED;
	}
	free(resp);
	return rc;
}

/* A read's query as wire views into p (which must outlive the request). */
static void query_views(const struct query_params *p, bool linearizable, struct proto_query *q)
{
	_Static_assert(PROTO_QUERY_OPTIONS_MAX == QUERY_OPTIONS_MAX && PROTO_QUERY_ARGS_MAX == QUERY_ARGS_MAX,
		       "the wire carries every query");
	_Static_assert(PROTO_DOCS_MAX == QUERY_DOCS && PROTO_STATS == QUERY_STATS, "documents and stats");
	memset(q, 0, sizeof *q);
	q->kind = p->kind;
	q->linearizable = linearizable;
	q->option_count = p->option_count;
	for (size_t i = 0; i < p->option_count; i++) {
		q->names[i] = sl_str_from_cstr(p->names[i]);
		q->values[i] = sl_str_from_cstr(p->values[i]);
	}
	q->arg_count = p->arg_count;
	for (size_t i = 0; i < p->arg_count; i++)
		q->args[i] = sl_str_from_cstr(p->args[i]);
}

/* One chunk into its document, in order; 1 when it was the last, 0 for more, or an exit code. */
static int chunk_take(const struct proto_response *resp, FILE *const docs[QUERY_DOCS], uint64_t written[QUERY_DOCS],
		      struct query_out *out)
{
	if (resp->code != PROTO_OK)
		return answer_fail(resp);
	const struct proto_chunk *c = &resp->chunk;
	if (!resp->has_chunk || c->doc >= QUERY_DOCS || c->offset != written[c->doc] ||
	    (c->data_len > 0 && docs[c->doc] == NULL))
		return cli_fail("the node's answer does not continue the documents in order");
	if (c->data_len > 0 && fwrite(c->data, 1, c->data_len, docs[c->doc]) != c->data_len)
		return cli_fail("cannot write the answer: %s", strerror(errno));
	written[c->doc] += c->data_len;
	if (!c->done && c->has_session)
		return 0;
	out->exit_code = c->exit_code;
	snprintf(out->message, sizeof out->message, "%s", resp->message);
	memcpy(out->stats, c->stats, sizeof out->stats);
	return 1;
}

int cli_node_read(const struct cli_args *args, const struct query_params *p, FILE *const docs[QUERY_DOCS],
		  struct query_out *out)
{
	struct proto_query q;
	query_views(p, cli_flag(args, "linearizable"), &q);
	struct proto_response *resp = malloc(sizeof *resp);
	if (resp == NULL)
		return cli_fail("out of memory");
	struct sl_buf data;
	sl_buf_init(&data, PROTO_CHUNK_BYTES_MAX);
	uint8_t type = p->kind == QUERY_EXPORT ? PROTO_EXPORT : PROTO_QUERY;
	struct node_request nr = { .type = type, .query = &q };
	struct proto_cursor cursor;
	uint64_t written[QUERY_DOCS] = { 0 };
	int rc = node_call_request(args, &nr, resp, &data);
	for (uint64_t chunks = 0; rc == 0; chunks++) {
		rc = chunk_take(resp, docs, written, out);
		if (rc != 0)
			break;
		if (chunks == CLI_NODE_CHUNKS_MAX) {
			rc = cli_fail("more than %d chunks in one answer", CLI_NODE_CHUNKS_MAX);
			break;
		}
		memcpy(cursor.session, resp->chunk.session, sizeof cursor.session);
		cursor.doc = resp->chunk.doc;
		cursor.offset = written[cursor.doc];
		nr = (struct node_request){ .type = type, .cursor = &cursor };
		rc = node_call_request(args, &nr, resp, &data);
	}
	sl_buf_free(&data);
	free(resp);
	return rc == 1 ? 0 : rc;
}
