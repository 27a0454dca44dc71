/* bench/bench_cluster.c — load driver for a running siteledgerd cluster: N concurrent clients submit
 * pre-signed commission records through the real client protocol (node/proto.h over nanomsg REQ).
 *
 *   bench_cluster --node ADDR [--node ADDR]... --key FILE [--clients 1,4,16] [--seconds S]
 *                 [--per-request K] [--serials N] [--ops-max M (0: planned)] [--tag T] [--pids P,P,P]
 *
 * For each client count (one window each, bench/load.h): every client thread first builds and signs
 * its own requests (each K commission records of N serials, signed by the key's site; then the
 * request itself, signed by the key), so no signing is timed; then it opens one REQ socket to the
 * i-th node given (clients start spread over the nodes), sends one warm-up request (following the
 * REDIRECT to the leader), and in the window sends one request at a time, each timed from send to
 * the node's answer after apply on the leader. A request counts when the answer is OK and every
 * record is accepted; anything else is an error (printed once per client).
 *
 * Prints one "result system=siteledger ..." line per client count (bench/load.h; with --pids, the
 * nodes' CPU time per request) with records/s and serial events/s appended, then a "check ..."
 * line: how much every node's ledger grew once all agree on size and state hash (bounded wait),
 * beside the records the clients saw acknowledged, so a run whose numbers do not add up is visible.
 * Exit 0 when every window ran without errors and the nodes agree on a ledger that grew by at least
 * the acknowledged records (nodes add checkpoint records of their own); 1 otherwise; 2 on bad
 * arguments.
 */
#include <inttypes.h>
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/load.h"
#include "ledger/record.h"
#include "node/proto.h"

#define CLUSTER_NODES_MAX 7 /* --node addresses (RAFT_VOTERS_MAX is the cluster's own bound) */
#define CLUSTER_SERIALS_MAX 1000 /* serials per record: a commission's realistic size and more */
#define CLUSTER_ATTEMPTS_MAX 100 /* sends of one request: redirects and retries (UNAVAILABLE, BUSY) */
#define CLUSTER_RETRY_PAUSE_MS 20
#define CLUSTER_REPLY_MS 15000 /* above the node's 10 s apply timeout (NODE_CLIENT_TIMEOUT_MS) */
#define CLUSTER_SEND_MS 5000
#define CLUSTER_CHECK_WAIT_MS 30000 /* followers catching up after the last window */
#define CLUSTER_POOL_BYTES_MAX ((size_t)1 << 31) /* one client's pre-built requests */
/* Requests are built before the window, so the pool is sized for the most a window could take
 * (--ops-max overrides): CLUSTER_RATE_PLAN records/s in all (about the goal on 2 cores,
 * 0.7 x cores x verify/s / nodes; beyond it a result says exhausted=1) and at most
 * CLUSTER_CLIENT_RATE_PLAN records/s per client (a 0.3 ms round trip). */
#define CLUSTER_RATE_PLAN 12000
#define CLUSTER_CLIENT_RATE_PLAN 3000

struct options {
	const char *nodes[CLUSTER_NODES_MAX];
	size_t node_count;
	const char *key_path;
	unsigned counts[BENCH_LOAD_COUNTS_MAX];
	size_t count_count;
	double seconds;
	size_t per_request, serials, warmup;
	size_t ops_max; /* per client and window; 0 = planned (CLUSTER_RATE_PLAN) */
	unsigned tag;
	int pids[BENCH_LOAD_SERVERS_MAX]; /* --pids: the servers, for their CPU time per operation */
	size_t pid_count;
};

struct client {
	const struct options *opt;
	size_t ops_max; /* this window's */
	const struct crypto_secret_key *sk;
	const char *site;
	unsigned run, index;
	struct sl_buf pool; /* pre-built requests, back to back */
	size_t *offsets;    /* ops_max + warmup + 1 */
	size_t requests;
	int sock;
	char addr[PROTO_TEXT_BYTES];
	struct proto_response *resp;
	uint64_t acked_records;
	bool reported;
};

static void pause_ms(unsigned ms)
{
	struct timespec t = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	nanosleep(&t, NULL);
}

/* One commission record of opt->serials serials, unique per (tag, run, client, request, record). */
static int record_build(struct client *c, size_t request, size_t at, struct sl_buf *out)
{
	static _Thread_local char serials[CLUSTER_SERIALS_MAX][48]; /* room for any values; checked below */
	static _Thread_local struct sl_str views[CLUSTER_SERIALS_MAX];
	for (size_t j = 0; j < c->opt->serials; j++) {
		int n = snprintf(serials[j], sizeof serials[j], "%x-%x-%x-%zx-%zx", c->opt->tag % 4096, c->run,
				 c->index, request * c->opt->per_request + at, j);
		if (n < 0 || n > GS1_SERIAL_CHARS_MAX) /* not with the option bounds; a guard, not a path */
			return SL_ELIMIT;
		views[j] = (struct sl_str){ serials[j], (size_t)n };
	}
	struct record record;
	record_init(&record);
	record.type = RECORD_COMMISSION;
	record.site = sl_str_from_cstr(c->site);
	record.actor = SL_STR("bench-line");
	record.meaning = MEANING_AUTHORED;
	record.event_time_ms = (int64_t)time(NULL) * 1000;
	record.gtin = SL_STR("09506000134352");
	record.lot = SL_STR("BENCHLOT");
	record.expiry = SL_STR("281130");
	record.items = views;
	record.item_count = c->opt->serials;
	int rc = record_sign(&record, c->sk);
	return rc == 0 ? record_encode(&record, out) : rc;
}

/* Build and sign every request this client may send (load.h setup: in the client's thread). */
static int pool_build(struct client *c)
{
	size_t count = c->ops_max + c->opt->warmup;
	struct ledger_input inputs[PROTO_RECORDS_MAX];
	struct sl_buf records;
	sl_buf_init(&records, PROTO_RECORDS_BYTES_MAX);
	sl_buf_init(&c->pool, CLUSTER_POOL_BYTES_MAX);
	c->offsets = calloc(count + 1, sizeof *c->offsets);
	int rc = c->offsets == NULL ? SL_ENOMEM : 0;
	for (size_t r = 0; rc == 0 && r < count; r++) {
		size_t starts[PROTO_RECORDS_MAX];
		sl_buf_reset(&records);
		for (size_t k = 0; rc == 0 && k < c->opt->per_request; k++) {
			starts[k] = records.len;
			rc = record_build(c, r, k, &records);
		}
		for (size_t k = 0; rc == 0 && k < c->opt->per_request; k++) {
			size_t end = k + 1 < c->opt->per_request ? starts[k + 1] : records.len;
			inputs[k] = (struct ledger_input){ records.data + starts[k], end - starts[k] };
		}
		c->offsets[r] = c->pool.len;
		if (rc == 0)
			rc = proto_request_encode(PROTO_SUBMIT, inputs, c->opt->per_request, NULL, c->sk, &c->pool);
	}
	if (rc == 0)
		c->offsets[count] = c->pool.len;
	c->requests = rc == 0 ? count : 0;
	sl_buf_free(&records);
	if (rc != 0)
		fprintf(stderr, "bench_cluster: cannot build requests: %s\n", sl_strerror(rc));
	return rc;
}

static int sock_open(struct client *c, const char *addr)
{
	if (c->sock >= 0)
		nn_close(c->sock);
	snprintf(c->addr, sizeof c->addr, "%s", addr);
	c->sock = nn_socket(AF_SP, NN_REQ);
	int send_ms = CLUSTER_SEND_MS, reply_ms = CLUSTER_REPLY_MS, resend_ms = CLUSTER_REPLY_MS * 4;
	int max = (int)PROTO_RESPONSE_BYTES_MAX;
	if (c->sock < 0 || nn_setsockopt(c->sock, NN_SOL_SOCKET, NN_SNDTIMEO, &send_ms, sizeof send_ms) < 0 ||
	    nn_setsockopt(c->sock, NN_SOL_SOCKET, NN_RCVTIMEO, &reply_ms, sizeof reply_ms) < 0 ||
	    nn_setsockopt(c->sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &max, sizeof max) < 0 ||
	    nn_setsockopt(c->sock, NN_REQ, NN_REQ_RESEND_IVL, &resend_ms, sizeof resend_ms) < 0 ||
	    nn_connect(c->sock, addr) < 0) {
		fprintf(stderr, "bench_cluster: socket to %s: %s\n", addr, nn_strerror(nn_errno()));
		return SL_EIO;
	}
	return 0;
}

static int client_setup(void *context)
{
	struct client *c = context;
	int rc = pool_build(c);
	return rc == 0 ? sock_open(c, c->opt->nodes[c->index % c->opt->node_count]) : rc;
}

/* Send bytes to the current node and decode its answer into c->resp. */
static int exchange(struct client *c, const uint8_t *bytes, size_t len)
{
	if (nn_send(c->sock, bytes, len, 0) < 0)
		return SL_EIO;
	void *reply = NULL;
	int got = nn_recv(c->sock, &reply, NN_MSG, 0);
	if (got < 0)
		return SL_EIO;
	int rc = proto_response_decode(reply, (size_t)got, c->resp);
	nn_freemsg(reply);
	return rc;
}

static void client_report(struct client *c, const char *what)
{
	if (!c->reported)
		fprintf(stderr, "bench_cluster: client %u at %s: %s\n", c->index, c->addr, what);
	c->reported = true;
}

/* One request, following redirects and retrying UNAVAILABLE/BUSY/TIMEOUT (load.h rule 1). */
static int client_op(void *context, size_t index)
{
	struct client *c = context;
	if (index >= c->requests)
		return SL_ELIMIT;
	const uint8_t *bytes = c->pool.data + c->offsets[index];
	size_t len = c->offsets[index + 1] - c->offsets[index];
	for (int attempt = 0; attempt < CLUSTER_ATTEMPTS_MAX; attempt++) {
		int rc = exchange(c, bytes, len);
		if (rc != 0) {
			client_report(c, rc == SL_EIO ? nn_strerror(nn_errno()) : sl_strerror(rc));
			return rc;
		}
		uint8_t code = c->resp->code;
		if (code == PROTO_REDIRECT && c->resp->leader_addr[0] != '\0') {
			rc = sock_open(c, c->resp->leader_addr);
			if (rc != 0)
				return rc;
			continue;
		}
		if (code == PROTO_UNAVAILABLE || code == PROTO_BUSY || code == PROTO_TIMEOUT) {
			pause_ms(CLUSTER_RETRY_PAUSE_MS);
			continue;
		}
		if (code != PROTO_OK || c->resp->result_count != c->opt->per_request) {
			client_report(c, c->resp->message);
			return SL_EINVAL;
		}
		c->acked_records += c->resp->result_count;
		for (size_t i = 0; i < c->resp->result_count; i++)
			if (c->resp->results[i].outcome != 0) {
				client_report(c, "a record was not accepted");
				return SL_EINVAL;
			}
		return 0;
	}
	client_report(c, "no leader answered within the retry bound");
	return SL_ELIMIT;
}

/* One node's status (ledger size, state hash); 0, SL_EIO when it did not answer (retry), or
 * SL_EINVAL when it refused the request (no use retrying: the message is printed). */
static int node_status(const char *addr, const struct crypto_secret_key *sk, struct proto_node_status *out)
{
	static struct proto_response resp;
	struct client c = { .sock = -1, .resp = &resp };
	struct sl_buf request;
	sl_buf_init(&request, PROTO_REQUEST_BYTES_MAX);
	int rc = proto_request_encode(PROTO_NODE_STATUS, NULL, 0, NULL, sk, &request);
	if (rc == 0)
		rc = sock_open(&c, addr);
	if (rc == 0)
		rc = exchange(&c, request.data, request.len);
	if (rc == 0 && resp.code == PROTO_OK && resp.has_node) {
		*out = resp.node;
	} else if (rc == 0 && (resp.code == PROTO_REFUSED || resp.code == PROTO_INVALID)) {
		fprintf(stderr, "bench_cluster: %s refused the status request: %s\n", addr, resp.message);
		rc = SL_EINVAL;
	} else {
		rc = SL_EIO; /* no answer, not decodable, or not yet able to answer */
	}
	if (c.sock >= 0)
		nn_close(c.sock);
	sl_buf_free(&request);
	return rc;
}

/* Every node's ledger size once all agree on size and state hash (bounded); true when they do. */
static bool nodes_agree(const struct options *opt, const struct crypto_secret_key *sk, uint64_t *size_out)
{
	struct proto_node_status st[CLUSTER_NODES_MAX];
	for (int waited_ms = 0; waited_ms <= CLUSTER_CHECK_WAIT_MS; waited_ms += 100) {
		bool same = true;
		for (size_t i = 0; i < opt->node_count && same; i++) {
			int rc = node_status(opt->nodes[i], sk, &st[i]);
			if (rc == SL_EINVAL)
				return false;
			same = rc == 0;
			same = same && (i == 0 || (st[i].ledger_size == st[0].ledger_size &&
						   memcmp(st[i].state_hash, st[0].state_hash, sizeof st[0].state_hash) == 0));
		}
		if (same) {
			*size_out = st[0].ledger_size;
			return true;
		}
		pause_ms(100);
	}
	return false;
}

/* Requests per client the window may take (CLUSTER_RATE_PLAN), or --ops-max. */
static size_t ops_planned(const struct options *opt, unsigned clients)
{
	if (opt->ops_max != 0)
		return opt->ops_max;
	double per_client = (double)CLUSTER_RATE_PLAN / clients;
	if (per_client > CLUSTER_CLIENT_RATE_PLAN)
		per_client = CLUSTER_CLIENT_RATE_PLAN;
	double ops = opt->seconds * per_client / (double)opt->per_request + 20;
	return ops < BENCH_LOAD_OPS_MAX ? (size_t)ops : BENCH_LOAD_OPS_MAX;
}

/* One window with `clients` clients; prints its result line. Adds the acknowledged records. */
static int window_run(const struct options *opt, const struct crypto_secret_key *sk, const char *site, unsigned run,
		      unsigned clients, uint64_t *acked)
{
	static struct client contexts[BENCH_LOAD_CLIENTS_MAX];
	static void *pointers[BENCH_LOAD_CLIENTS_MAX];
	int rc = 0;
	for (unsigned i = 0; i < clients; i++) {
		contexts[i] = (struct client){ .opt = opt, .ops_max = ops_planned(opt, clients), .sk = sk,
					       .site = site, .run = run, .index = i, .sock = -1 };
		contexts[i].resp = malloc(sizeof *contexts[i].resp);
		pointers[i] = &contexts[i];
		if (contexts[i].resp == NULL)
			rc = SL_ENOMEM;
	}
	struct bench_load_spec spec = { .clients = clients, .seconds = opt->seconds, .warmup_ops = opt->warmup,
					.ops_max = ops_planned(opt, clients), .contexts = pointers, .setup = client_setup,
					.op = client_op,
					.server_pids = opt->pids, .server_count = opt->pid_count };
	struct bench_load_result r;
	if (rc == 0)
		rc = bench_load_run(&spec, &r);
	if (rc == 0) {
		bench_load_print("siteledger", &r);
		printf(" per_request=%zu serials=%zu records_per_s=%.1f serials_per_s=%.0f\n", opt->per_request,
		       opt->serials, r.ops_per_second * (double)opt->per_request,
		       r.ops_per_second * (double)(opt->per_request * opt->serials));
		fflush(stdout);
		rc = r.errors == 0 ? 0 : SL_EIO;
	}
	for (unsigned i = 0; i < clients; i++) {
		*acked += contexts[i].acked_records;
		if (contexts[i].sock >= 0)
			nn_close(contexts[i].sock);
		sl_buf_free(&contexts[i].pool);
		free(contexts[i].offsets);
		free(contexts[i].resp);
	}
	return rc;
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_cluster --node ADDR [--node ADDR]... --key FILE [--clients 1,4,16] [--seconds S]\n"
			"                     [--per-request 1..%d] [--serials 1..%d] [--ops-max 0..%d] [--tag T]\n"
			"                     [--pids PID,PID,...]\n",
		PROTO_RECORDS_MAX, CLUSTER_SERIALS_MAX, BENCH_LOAD_OPS_MAX);
	return 2;
}

static int options_parse(int argc, char **argv, struct options *opt)
{
	*opt = (struct options){ .seconds = 5, .per_request = 1, .serials = 100, .warmup = 1 };
	const char *clients = "1,4,16";
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *name = argv[i], *value = argv[i + 1];
		if (strcmp(name, "--node") == 0 && opt->node_count < CLUSTER_NODES_MAX)
			opt->nodes[opt->node_count++] = value;
		else if (strcmp(name, "--key") == 0)
			opt->key_path = value;
		else if (strcmp(name, "--clients") == 0)
			clients = value;
		else if (strcmp(name, "--seconds") == 0)
			opt->seconds = strtod(value, NULL);
		else if (strcmp(name, "--per-request") == 0)
			opt->per_request = strtoul(value, NULL, 10);
		else if (strcmp(name, "--serials") == 0)
			opt->serials = strtoul(value, NULL, 10);
		else if (strcmp(name, "--ops-max") == 0)
			opt->ops_max = strtoul(value, NULL, 10);
		else if (strcmp(name, "--tag") == 0)
			opt->tag = (unsigned)strtoul(value, NULL, 10);
		else if (strcmp(name, "--pids") == 0) {
			if (bench_pids_parse(value, opt->pids, &opt->pid_count) != 0)
				return usage();
		}
		else
			return usage();
	}
	if (argc % 2 == 0 || opt->node_count == 0 || opt->key_path == NULL ||
	    bench_clients_parse(clients, opt->counts, BENCH_LOAD_COUNTS_MAX, &opt->count_count) != 0)
		return usage();
	if (!(opt->seconds > 0 && opt->seconds <= BENCH_LOAD_SECONDS_MAX) || opt->per_request < 1 ||
	    opt->per_request > PROTO_RECORDS_MAX || opt->serials < 1 || opt->serials > CLUSTER_SERIALS_MAX ||
	    opt->ops_max > BENCH_LOAD_OPS_MAX)
		return usage();
	return 0;
}

int main(int argc, char **argv)
{
	struct options opt;
	int rc = options_parse(argc, argv, &opt);
	if (rc != 0)
		return rc;
	struct crypto_secret_key sk;
	char site[RECORD_SITE_SIZE];
	if (crypto_init() != 0 || crypto_secret_key_read(opt.key_path, &sk, site, sizeof site) != 0) {
		fprintf(stderr, "bench_cluster: cannot read the key %s\n", opt.key_path);
		return 1;
	}
	uint64_t before = 0, after = 0, acked = 0;
	bool ok = nodes_agree(&opt, &sk, &before);
	if (!ok)
		fprintf(stderr, "bench_cluster: the nodes do not answer or do not agree before the run\n");
	for (size_t i = 0; ok && i < opt.count_count; i++)
		ok = window_run(&opt, &sk, site, (unsigned)i, opt.counts[i], &acked) == 0;
	bool agree = nodes_agree(&opt, &sk, &after);
	/* >=: a node may append records of its own (checkpoints) beside the clients' */
	uint64_t added = agree && after >= before ? after - before : 0;
	bool adds_up = agree && added >= acked;
	printf("check system=siteledger nodes=%zu agree=%d ledger_added=%" PRIu64 " acked_records=%" PRIu64 "\n",
	       opt.node_count, agree ? 1 : 0, added, acked);
	crypto_secret_key_wipe(&sk);
	return ok && adds_up ? 0 : 1;
}
