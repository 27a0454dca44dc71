/* cli/cmd_node.c — the client side of siteledgerd's protocol (node/proto.h) over nanomsg REQ:
 * `--node ADDR` for record commands, submit and status, and `node status`.
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
#include "util/error.h"

#define CLI_NODE_ATTEMPTS_MAX 40 /* redirects and retries of one call */
#define CLI_NODE_WAIT_MS 20000 /* one call, all attempts: an election takes well under this */
#define CLI_NODE_REPLY_MS 12000 /* one attempt: above the node's own 10 s apply timeout */
#define CLI_NODE_SEND_MS 2000 /* connecting to a node that is down */
#define CLI_NODE_RETRY_PAUSE_MS 200

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static void pause_ms(unsigned ms)
{
	struct timespec t = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	nanosleep(&t, NULL);
}

/* One request/reply with one node. 0, or CLI_EXIT_USAGE after a message. */
static int exchange(const char *addr, const struct sl_buf *request, struct proto_response *resp)
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

/* Call the node named by --node, following redirects; resp holds the final answer. */
static int node_call(const struct cli_args *args, uint8_t type, const struct ledger_input *records, size_t count,
		     const char *item, struct proto_response *resp)
{
	struct crypto_secret_key sk;
	int rc = key_for_request(args, &sk);
	if (rc != 0)
		return rc;
	char addr[PROTO_TEXT_BYTES];
	snprintf(addr, sizeof addr, "%s", cli_arg(args, "node"));
	struct sl_buf request;
	sl_buf_init(&request, PROTO_REQUEST_BYTES_MAX);
	uint64_t deadline = now_ms() + CLI_NODE_WAIT_MS;
	for (int attempt = 0; rc == 0 && attempt < CLI_NODE_ATTEMPTS_MAX; attempt++) {
		sl_buf_reset(&request);
		rc = proto_request_encode(type, records, count, item, &sk, &request);
		if (rc != 0) {
			rc = cli_fail("cannot build the request: %s", sl_strerror(rc));
			break;
		}
		rc = exchange(addr, &request, resp);
		if (rc != 0 || now_ms() > deadline)
			break;
		if (resp->code == PROTO_REDIRECT && resp->leader_addr[0] != '\0') {
			snprintf(addr, sizeof addr, "%s", resp->leader_addr);
			continue;
		}
		if (resp->code != PROTO_UNAVAILABLE && resp->code != PROTO_BUSY)
			break;
		pause_ms(CLI_NODE_RETRY_PAUSE_MS);
	}
	crypto_secret_key_wipe(&sk);
	sl_buf_free(&request);
	return rc;
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

static void item_print(const char *id, const struct store_item *item, bool json)
{
	const char *status = lifecycle_status_name(item->status);
	if (json) {
		printf("{\"id\":");
		cli_json_cstring(stdout, id);
		printf(",\"kind\":\"%s\",\"status\":", item->kind == GS1_KIND_CONTAINER ? "container" : "pack");
		cli_json_cstring(stdout, status ? status : "?");
		printf(",\"site\":");
		cli_json_cstring(stdout, item->site);
		printf(",\"destination\":");
		cli_json_cstring(stdout, item->destination);
		printf(",\"parent\":");
		cli_json_cstring(stdout, item->parent);
		printf(",\"children\":%" PRIu32 ",\"status_seq\":%" PRIu64 ",\"commission_seq\":%" PRIu64,
		       item->child_count, item->status_seq, item->commission_seq);
		if (item->kind != GS1_KIND_CONTAINER) {
			printf(",\"gtin\":");
			cli_json_cstring(stdout, item->gtin);
			printf(",\"lot\":");
			cli_json_cstring(stdout, item->lot);
			printf(",\"expiry\":");
			cli_json_cstring(stdout, item->expiry);
		}
		printf("}\n");
		return;
	}
	printf("%s\n  status      %s (entry %" PRIu64 ")\n  site        %s\n", id, status ? status : "?",
	       item->status_seq, item->site);
	if (item->destination[0])
		printf("  in transit  to %s\n", item->destination);
	if (item->parent[0])
		printf("  inside      %s\n", item->parent);
	if (item->kind != GS1_KIND_CONTAINER)
		printf("  gtin        %s\n  lot         %s\n  expiry      %s\n", item->gtin, item->lot, item->expiry);
}

int cli_node_item_status(const struct cli_args *args, const char *id)
{
	struct proto_response *resp = malloc(sizeof *resp);
	if (resp == NULL)
		return cli_fail("out of memory");
	int rc = node_call(args, PROTO_ITEM_STATUS, NULL, 0, id, resp);
	if (rc == 0 && resp->code == PROTO_NOT_FOUND) {
		fprintf(stderr, "siteledger: status: %s was never commissioned in this ledger\n", id);
		rc = CLI_EXIT_REJECTED;
	} else if (rc == 0 && (resp->code != PROTO_OK || !resp->has_item)) {
		rc = answer_fail(resp);
	} else if (rc == 0) {
		item_print(id, &resp->item, cli_flag(args, "json"));
	}
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
