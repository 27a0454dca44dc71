/* bench/bench_etcd.c — load driver for a running etcd 3.4 cluster, the side-by-side reference of
 * bench_cluster: N concurrent clients put values through etcd's HTTP gRPC gateway.
 *
 *   bench_etcd --endpoint A.B.C.D:PORT [--endpoint ...]... [--clients 1,4,16] [--seconds S]
 *              [--value-bytes 256] [--ops-max M] [--tag T] [--pids P,P,P]
 *
 * First the leader is found (POST /v3/maintenance/status on each endpoint: the one whose member id
 * is the leader's; bounded wait), and every client talks to it, as bench_cluster's clients talk to
 * siteledger's leader after its redirect (no follower forwarding on either side). For each client
 * count (one window each, bench/load.h) every client keeps one keep-alive HTTP/1.1 connection
 * (bench/http.h) and does one POST /v3/kv/put at a time: a unique key, a value of --value-bytes
 * random bytes, both base64 in JSON. etcd answers after the put is committed (its WAL fsynced on a
 * quorum) and applied. A put counts when the answer is 200 with a response header.
 *
 * Prints one "result system=etcd ..." line per client count (bench/load.h; with --pids, the members'
 * CPU time per put), then a "check ..." line: the number of
 * keys under the benchmark's prefix on every member (serializable count, bounded wait until they
 * agree) beside the puts the clients saw acknowledged. Exit 0 when every window ran without errors
 * and every member holds exactly the acknowledged keys; 1 otherwise; 2 on bad arguments.
 */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/http.h"
#include "bench/load.h"
#include "util/error.h"

#define ETCD_ENDPOINTS_MAX 7
#define ETCD_VALUE_BYTES_MAX 8192 /* one put's value: etcd's own limit is far higher, ours is a benchmark's */
#define ETCD_KEY_BYTES_MAX 96
#define ETCD_WAIT_MS 30000 /* a leader elected, or members agreeing after the run */
#define ETCD_PREFIX "siteledger-bench/"

struct options {
	const char *endpoints[ETCD_ENDPOINTS_MAX];
	size_t endpoint_count;
	unsigned counts[BENCH_LOAD_COUNTS_MAX];
	size_t count_count;
	double seconds;
	size_t value_bytes, ops_max;
	unsigned tag;
	int pids[BENCH_LOAD_SERVERS_MAX]; /* --pids: the servers, for their CPU time per operation */
	size_t pid_count;
};

struct client {
	const struct options *opt;
	unsigned run, index;
	struct bench_http_conn conn;
	char value[sodium_base64_ENCODED_LEN(ETCD_VALUE_BYTES_MAX, sodium_base64_VARIANT_ORIGINAL)];
	char body[sizeof(char[sodium_base64_ENCODED_LEN(ETCD_VALUE_BYTES_MAX, sodium_base64_VARIANT_ORIGINAL)]) + 256];
	char answer[BENCH_HTTP_RESPONSE_BYTES_MAX];
	uint64_t acked;
	bool reported;
};

static void pause_ms(unsigned ms)
{
	struct timespec t = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	nanosleep(&t, NULL);
}

/* The decimal digits after "\"name\":\"" in json (etcd's JSON writes 64-bit numbers as strings). */
static bool json_number(const char *json, const char *name, uint64_t *out)
{
	char pattern[64];
	snprintf(pattern, sizeof pattern, "\"%s\":\"", name);
	const char *p = strstr(json, pattern);
	if (p == NULL)
		return false;
	char *end = NULL;
	*out = strtoull(p + strlen(pattern), &end, 10);
	return end != NULL && *end == '"';
}

/* POST path with body to one endpoint on a fresh connection; the answer's body in answer. */
static int post_once(const char *endpoint, const char *path, const char *body, char *answer, size_t answer_size)
{
	static struct bench_http_conn conn;
	struct bench_http_response resp;
	int rc = bench_http_init(&conn, endpoint);
	if (rc == 0)
		rc = bench_http_post(&conn, path, body, strlen(body), &resp, answer, answer_size);
	bench_http_close(&conn);
	return rc == 0 && resp.status == 200 ? 0 : SL_EIO;
}

/* The endpoint of the member that is leader (bounded wait); NULL when none is found. */
static const char *leader_find(const struct options *opt)
{
	static char answer[BENCH_HTTP_RESPONSE_BYTES_MAX];
	for (int waited_ms = 0; waited_ms <= ETCD_WAIT_MS; waited_ms += 100) {
		for (size_t i = 0; i < opt->endpoint_count; i++) {
			uint64_t member = 0, leader = 0;
			if (post_once(opt->endpoints[i], "/v3/maintenance/status", "{}", answer, sizeof answer) == 0 &&
			    json_number(answer, "member_id", &member) && json_number(answer, "leader", &leader) &&
			    member == leader && leader != 0)
				return opt->endpoints[i];
		}
		pause_ms(100);
	}
	return NULL;
}

static int client_setup(void *context)
{
	struct client *c = context;
	uint8_t raw[ETCD_VALUE_BYTES_MAX];
	randombytes_buf(raw, c->opt->value_bytes);
	sodium_bin2base64(c->value, sizeof c->value, raw, c->opt->value_bytes, sodium_base64_VARIANT_ORIGINAL);
	return 0;
}

static void client_report(struct client *c, const char *what)
{
	if (!c->reported)
		fprintf(stderr, "bench_etcd: client %u at %s: %s\n", c->index, c->conn.host, what);
	c->reported = true;
}

/* One put of a unique key (load.h rule 1). */
static int client_op(void *context, size_t index)
{
	struct client *c = context;
	char key[ETCD_KEY_BYTES_MAX], key64[sodium_base64_ENCODED_LEN(ETCD_KEY_BYTES_MAX, sodium_base64_VARIANT_ORIGINAL)];
	int n = snprintf(key, sizeof key, ETCD_PREFIX "%u/%u/%u/%zu", c->opt->tag, c->run, c->index, index);
	sodium_bin2base64(key64, sizeof key64, (const unsigned char *)key, (size_t)n, sodium_base64_VARIANT_ORIGINAL);
	int len = snprintf(c->body, sizeof c->body, "{\"key\":\"%s\",\"value\":\"%s\"}", key64, c->value);
	struct bench_http_response resp;
	if (len < 0 || (size_t)len >= sizeof c->body)
		return SL_ELIMIT;
	int rc = bench_http_post(&c->conn, "/v3/kv/put", c->body, (size_t)len, &resp, c->answer, sizeof c->answer);
	if (rc != 0) {
		client_report(c, "connection failed or timed out");
		return rc;
	}
	if (resp.status != 200 || strstr(c->answer, "\"header\"") == NULL) {
		client_report(c, c->answer);
		return SL_EIO;
	}
	c->acked++;
	return 0;
}

/* Keys under the benchmark's prefix on every member (serializable: each member's own state) once they
 * agree (bounded); true when they do. */
static bool members_agree(const struct options *opt, uint64_t *count_out)
{
	static char answer[BENCH_HTTP_RESPONSE_BYTES_MAX];
	char key64[64], end64[64], body[256];
	sodium_bin2base64(key64, sizeof key64, (const unsigned char *)ETCD_PREFIX, strlen(ETCD_PREFIX),
			  sodium_base64_VARIANT_ORIGINAL);
	char end[] = ETCD_PREFIX;
	end[sizeof end - 2]++; /* the prefix's range end: last byte + 1 */
	sodium_bin2base64(end64, sizeof end64, (const unsigned char *)end, strlen(end), sodium_base64_VARIANT_ORIGINAL);
	snprintf(body, sizeof body, "{\"key\":\"%s\",\"range_end\":\"%s\",\"count_only\":true,\"serializable\":true}",
		 key64, end64);
	for (int waited_ms = 0; waited_ms <= ETCD_WAIT_MS; waited_ms += 100) {
		uint64_t first = 0, count = 0;
		bool same = true;
		for (size_t i = 0; i < opt->endpoint_count && same; i++) {
			same = post_once(opt->endpoints[i], "/v3/kv/range", body, answer, sizeof answer) == 0;
			count = 0; /* an empty range omits "count" */
			if (same)
				json_number(answer, "count", &count);
			if (i == 0)
				first = count;
			same = same && count == first;
		}
		if (same) {
			*count_out = first;
			return true;
		}
		pause_ms(100);
	}
	return false;
}

static int window_run(const struct options *opt, const char *leader, unsigned run, unsigned clients,
		      uint64_t *acked)
{
	static void *pointers[BENCH_LOAD_CLIENTS_MAX];
	struct client *contexts = calloc(clients, sizeof *contexts);
	if (contexts == NULL)
		return SL_ENOMEM;
	int rc = 0;
	for (unsigned i = 0; i < clients && rc == 0; i++) {
		contexts[i].opt = opt;
		contexts[i].run = run;
		contexts[i].index = i;
		pointers[i] = &contexts[i];
		rc = bench_http_init(&contexts[i].conn, leader);
	}
	struct bench_load_spec spec = { .clients = clients, .seconds = opt->seconds, .warmup_ops = 1,
					.ops_max = opt->ops_max, .contexts = pointers, .setup = client_setup,
					.op = client_op,
					.server_pids = opt->pids, .server_count = opt->pid_count };
	struct bench_load_result r;
	if (rc == 0)
		rc = bench_load_run(&spec, &r);
	if (rc == 0) {
		uint64_t connects = 0;
		for (unsigned i = 0; i < clients; i++)
			connects += contexts[i].conn.connects;
		bench_load_print("etcd", &r);
		printf(" value_bytes=%zu connects=%" PRIu64 "\n", opt->value_bytes, connects);
		fflush(stdout);
		rc = r.errors == 0 ? 0 : SL_EIO;
	}
	for (unsigned i = 0; i < clients; i++) {
		*acked += contexts[i].acked;
		bench_http_close(&contexts[i].conn);
	}
	free(contexts);
	return rc;
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_etcd --endpoint A.B.C.D:PORT [--endpoint ...]... [--clients 1,4,16] [--seconds S]\n"
			"                  [--value-bytes 1..%d] [--ops-max 1..%d] [--tag T]\n"
			"                     [--pids PID,PID,...]\n",
		ETCD_VALUE_BYTES_MAX, BENCH_LOAD_OPS_MAX);
	return 2;
}

static int options_parse(int argc, char **argv, struct options *opt)
{
	*opt = (struct options){ .seconds = 5, .value_bytes = 256, .ops_max = 100000 };
	const char *clients = "1,4,16";
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *name = argv[i], *value = argv[i + 1];
		if (strcmp(name, "--endpoint") == 0 && opt->endpoint_count < ETCD_ENDPOINTS_MAX)
			opt->endpoints[opt->endpoint_count++] = value;
		else if (strcmp(name, "--clients") == 0)
			clients = value;
		else if (strcmp(name, "--seconds") == 0)
			opt->seconds = strtod(value, NULL);
		else if (strcmp(name, "--value-bytes") == 0)
			opt->value_bytes = strtoul(value, NULL, 10);
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
	if (argc % 2 == 0 || opt->endpoint_count == 0 ||
	    bench_clients_parse(clients, opt->counts, BENCH_LOAD_COUNTS_MAX, &opt->count_count) != 0)
		return usage();
	struct bench_http_conn probe;
	for (size_t i = 0; i < opt->endpoint_count; i++)
		if (bench_http_init(&probe, opt->endpoints[i]) != 0)
			return usage();
	if (!(opt->seconds > 0 && opt->seconds <= BENCH_LOAD_SECONDS_MAX) || opt->value_bytes < 1 ||
	    opt->value_bytes > ETCD_VALUE_BYTES_MAX || opt->ops_max < 1 || opt->ops_max > BENCH_LOAD_OPS_MAX)
		return usage();
	return 0;
}

int main(int argc, char **argv)
{
	struct options opt;
	int rc = options_parse(argc, argv, &opt);
	if (rc != 0)
		return rc;
	if (sodium_init() < 0)
		return 1;
	uint64_t before = 0, after = 0, acked = 0;
	const char *leader = leader_find(&opt);
	bool ok = leader != NULL && members_agree(&opt, &before);
	if (!ok)
		fprintf(stderr, "bench_etcd: no leader, or the members do not answer, before the run\n");
	for (size_t i = 0; ok && i < opt.count_count; i++)
		ok = window_run(&opt, leader, (unsigned)i, opt.counts[i], &acked) == 0;
	bool agree = members_agree(&opt, &after);
	uint64_t added = agree && after >= before ? after - before : 0;
	printf("check system=etcd nodes=%zu agree=%d keys_added=%" PRIu64 " acked_puts=%" PRIu64 "\n",
	       opt.endpoint_count, agree ? 1 : 0, added, acked);
	return ok && agree && added == acked ? 0 : 1;
}
