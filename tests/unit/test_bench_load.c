/* tests/unit/test_bench_load.c — the cluster benchmarks' plumbing (bench/load.h, bench/http.h): the
 * HTTP/1.1 response parser, keep-alive POSTs against a loopback server, percentiles, argument lists
 * and the closed-loop runner's counting. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>

#include "bench/http.h"
#include "bench/load.h"
#include "tests/unit/test.h"
#include "util/error.h"

static char body[BENCH_HTTP_RESPONSE_BYTES_MAX];

static int parse(const char *text, struct bench_http_response *r)
{
	return bench_http_response_parse(text, strlen(text), r, body, sizeof body);
}

static void test_http_parse_content_length(void)
{
	struct bench_http_response r;
	const char *ok = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: 7\r\n\r\n{\"a\":1}";
	CHECK_INT_EQ(parse(ok, &r), 0);
	CHECK_INT_EQ(r.status, 200);
	CHECK_INT_EQ(r.body_len, 7);
	CHECK_STR_EQ(body, "{\"a\":1}");
	CHECK_INT_EQ(r.length, strlen(ok));
	CHECK(!r.close);
	/* every proper prefix is incomplete, never an error */
	char prefix[128];
	for (size_t n = 0; n < strlen(ok); n++) {
		memcpy(prefix, ok, n);
		CHECK_INT_EQ(bench_http_response_parse(prefix, n, &r, body, sizeof body), SL_ETRUNCATED);
	}
	/* bytes after the response (the next one) are not part of it */
	char two[256];
	snprintf(two, sizeof two, "%sHTTP/1.1 204 No Content\r\n\r\n", ok);
	CHECK_INT_EQ(parse(two, &r), 0);
	CHECK_INT_EQ(r.length, strlen(ok));
	CHECK_INT_EQ(parse(two + strlen(ok), &r), 0);
	CHECK_INT_EQ(r.status, 204);
	CHECK_INT_EQ(r.body_len, 0);
}

static void test_http_parse_chunked_and_close(void)
{
	struct bench_http_response r;
	const char *chunked = "HTTP/1.1 503 Unavailable\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
			      "4;ext=1\r\nabcd\r\n3\r\nefg\r\n0\r\nTrailer: x\r\n\r\n";
	CHECK_INT_EQ(parse(chunked, &r), 0);
	CHECK_INT_EQ(r.status, 503);
	CHECK_STR_EQ(body, "abcdefg");
	CHECK_INT_EQ(r.length, strlen(chunked));
	CHECK(r.close);
	char prefix[256];
	size_t len = strlen(chunked);
	for (size_t n = 0; n < len; n++) {
		memcpy(prefix, chunked, n);
		CHECK_INT_EQ(bench_http_response_parse(prefix, n, &r, body, sizeof body), SL_ETRUNCATED);
	}
}

static void test_http_parse_refuses_what_it_cannot_frame(void)
{
	struct bench_http_response r;
	/* a body that runs until the connection closes: not keep-alive */
	CHECK_INT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello", &r), SL_EINVAL);
	CHECK_INT_EQ(parse("HTTP/2 200\r\n\r\n", &r), SL_EINVAL);
	CHECK_INT_EQ(parse("HTTP/1.1 20x OK\r\nContent-Length: 0\r\n\r\n", &r), SL_EINVAL);
	CHECK_INT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", &r), SL_EINVAL);
	CHECK_INT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", &r), SL_EINVAL);
	CHECK_INT_EQ(parse("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", &r), SL_EINVAL);
	CHECK_INT_EQ(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", &r), SL_EINVAL);
	CHECK_INT_EQ(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", &r), SL_EINVAL);
	/* a body larger than the caller's buffer */
	char small[4];
	const char *big = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
	CHECK_INT_EQ(bench_http_response_parse(big, strlen(big), &r, small, sizeof small), SL_ELIMIT);
	/* a head that never ends, at the size limit */
	static char endless[BENCH_HTTP_RESPONSE_BYTES_MAX + 16];
	memset(endless, 'x', sizeof endless);
	memcpy(endless, "HTTP/1.1 200 OK\r\n", 17);
	CHECK_INT_EQ(bench_http_response_parse(endless, sizeof endless, &r, body, sizeof body), SL_ELIMIT);
}

/* A loopback server that accepts once and answers `answers` requests on that connection: one
 * framed by Content-Length, the next chunked, and so on. */
struct server {
	int listen_fd;
	int answers;
	int served;
	int accepts;
};

static void *server_thread(void *arg)
{
	struct server *s = arg;
	for (int accepted = 0; accepted < 2 && s->served < s->answers; accepted++) {
		int fd = accept(s->listen_fd, NULL, NULL);
		if (fd < 0)
			break;
		s->accepts++;
		char in[4096];
		size_t have = 0;
		while (s->served < s->answers) {
			ssize_t n = recv(fd, in + have, sizeof in - 1 - have, 0);
			if (n <= 0)
				break;
			have += (size_t)n;
			char *end = strstr(in, "\r\n\r\n"); /* requests here carry a 2-byte body: "{}" */
			if (end == NULL || (size_t)(end + 4 + 2 - in) > have)
				continue;
			have = 0;
			memset(in, 0, sizeof in);
			const char *reply = s->served % 2 == 0
						    ? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
						    : "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
			if (send(fd, reply, strlen(reply), MSG_NOSIGNAL) < 0)
				break;
			s->served++;
		}
		close(fd);
	}
	return NULL;
}

static void test_http_post_keeps_the_connection_alive(void)
{
	struct server s = { .answers = 4 };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sa_len = sizeof sa;
	s.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	REQUIRE(s.listen_fd >= 0);
	REQUIRE(bind(s.listen_fd, (struct sockaddr *)&sa, sizeof sa) == 0);
	REQUIRE(listen(s.listen_fd, 4) == 0);
	REQUIRE(getsockname(s.listen_fd, (struct sockaddr *)&sa, &sa_len) == 0);
	pthread_t thread;
	REQUIRE(pthread_create(&thread, NULL, server_thread, &s) == 0);
	char host[BENCH_HTTP_HOST_BYTES];
	snprintf(host, sizeof host, "127.0.0.1:%u", ntohs(sa.sin_port));
	static struct bench_http_conn conn;
	CHECK_INT_EQ(bench_http_init(&conn, host), 0);
	for (int i = 0; i < s.answers; i++) {
		struct bench_http_response r;
		CHECK_INT_EQ(bench_http_post(&conn, "/v3/kv/put", "{}", 2, &r, body, sizeof body), 0);
		CHECK_INT_EQ(r.status, 200);
		CHECK_STR_EQ(body, "ok");
	}
	CHECK_INT_EQ(conn.connects, 1);
	bench_http_close(&conn);
	shutdown(s.listen_fd, SHUT_RDWR);
	pthread_join(thread, NULL);
	close(s.listen_fd);
	CHECK_INT_EQ(s.accepts, 1);
	CHECK_INT_EQ(s.served, 4);
	CHECK_INT_EQ(bench_http_init(&conn, "localhost:80"), SL_EINVAL);
	CHECK_INT_EQ(bench_http_init(&conn, "127.0.0.1:0"), SL_EINVAL);
	CHECK_INT_EQ(bench_http_init(&conn, "127.0.0.1"), SL_EINVAL);
}

static void test_percentile_is_nearest_rank(void)
{
	double v[100];
	for (int i = 0; i < 100; i++)
		v[i] = i + 1;
	CHECK(bench_percentile(v, 100, 0.50) == 50);
	CHECK(bench_percentile(v, 100, 0.99) == 99);
	CHECK(bench_percentile(v, 100, 1.0) == 100);
	CHECK(bench_percentile(v, 1, 0.99) == 1);
	CHECK(bench_percentile(v, 3, 0.50) == 2);
	CHECK(bench_percentile(v, 0, 0.50) == 0);
}

static void test_lists_parse_strictly(void)
{
	unsigned counts[BENCH_LOAD_COUNTS_MAX];
	size_t n = 0;
	CHECK_INT_EQ(bench_clients_parse("1,4,16", counts, BENCH_LOAD_COUNTS_MAX, &n), 0);
	CHECK_INT_EQ(n, 3);
	CHECK(counts[0] == 1 && counts[1] == 4 && counts[2] == 16);
	CHECK_INT_EQ(bench_clients_parse("", counts, BENCH_LOAD_COUNTS_MAX, &n), SL_EINVAL);
	CHECK_INT_EQ(bench_clients_parse("0", counts, BENCH_LOAD_COUNTS_MAX, &n), SL_EINVAL);
	CHECK_INT_EQ(bench_clients_parse("1,,2", counts, BENCH_LOAD_COUNTS_MAX, &n), SL_EINVAL);
	CHECK_INT_EQ(bench_clients_parse("1,4,", counts, BENCH_LOAD_COUNTS_MAX, &n), SL_EINVAL);
	CHECK_INT_EQ(bench_clients_parse("4x", counts, BENCH_LOAD_COUNTS_MAX, &n), SL_EINVAL);
	CHECK_INT_EQ(bench_clients_parse("65", counts, BENCH_LOAD_COUNTS_MAX, &n), SL_EINVAL);
	CHECK_INT_EQ(bench_clients_parse("1,2,3", counts, 2, &n), SL_EINVAL);
	int pids[BENCH_LOAD_SERVERS_MAX];
	CHECK_INT_EQ(bench_pids_parse("12,345", pids, &n), 0);
	CHECK(n == 2 && pids[0] == 12 && pids[1] == 345);
	CHECK_INT_EQ(bench_pids_parse("-1", pids, &n), SL_EINVAL);
	CHECK_INT_EQ(bench_pids_parse("1,2,3,4,5,6,7,8,9", pids, &n), SL_EINVAL);
}

/* A fake operation: fails from an index on, may take a millisecond; counts calls. */
struct fake {
	int calls;
	size_t fail_from; /* indexes >= fail_from fail */
	bool setup_fails;
	bool slow; /* each call takes 1 ms */
};

static int fake_setup(void *context)
{
	return ((struct fake *)context)->setup_fails ? SL_EIO : 0;
}

static int fake_op(void *context, size_t index)
{
	struct fake *f = context;
	f->calls++;
	if (f->slow)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	return index >= f->fail_from ? SL_EIO : 0;
}

static void test_load_run_counts_operations_and_errors(void)
{
	struct fake fakes[3] = { { 0, 1000, false, false }, { 0, 1000, false, false }, { 0, 1000, false, false } };
	void *contexts[3] = { &fakes[0], &fakes[1], &fakes[2] };
	struct bench_load_spec spec = { .clients = 3, .seconds = 5, .warmup_ops = 2, .ops_max = 50,
					.contexts = contexts, .setup = fake_setup, .op = fake_op };
	struct bench_load_result r;
	/* ops_max reached long before the deadline: every client did exactly warm-up + ops_max */
	REQUIRE(bench_load_run(&spec, &r) == 0);
	CHECK_INT_EQ(r.ops, 150);
	CHECK_INT_EQ(r.errors, 0);
	CHECK(r.exhausted);
	CHECK(r.seconds < 4);
	CHECK(r.server_cpu_ms_per_op == -1);
	for (int i = 0; i < 3; i++)
		CHECK_INT_EQ(fakes[i].calls, 52);
	/* a client whose operations fail gives up after BENCH_LOAD_ERRORS_MAX; a failed setup skips it */
	fakes[0] = (struct fake){ 0, 10, false, false };
	fakes[1] = (struct fake){ 0, 1000, true, false };
	fakes[2] = (struct fake){ 0, 1000, false, false };
	REQUIRE(bench_load_run(&spec, &r) == 0);
	CHECK_INT_EQ(r.errors, BENCH_LOAD_ERRORS_MAX + 1);
	CHECK_INT_EQ(fakes[0].calls, 10 + BENCH_LOAD_ERRORS_MAX);
	CHECK_INT_EQ(fakes[1].calls, 0);
	CHECK_INT_EQ(r.ops, 8 + 50);
	/* the deadline ends a window that ops_max does not */
	fakes[0] = fakes[1] = fakes[2] = (struct fake){ 0, (size_t)-1, false, true };
	spec.seconds = 0.2;
	spec.ops_max = BENCH_LOAD_OPS_MAX;
	REQUIRE(bench_load_run(&spec, &r) == 0);
	CHECK(!r.exhausted);
	CHECK(r.seconds >= 0.2 && r.seconds < 2);
	CHECK(r.ops > 0 && r.ops < 3 * 400); /* at most one per millisecond and client */
	CHECK(r.p50_ms >= 1);
	/* bad specs run nothing */
	spec.clients = 0;
	CHECK_INT_EQ(bench_load_run(&spec, &r), SL_EINVAL);
	spec.clients = 1;
	spec.ops_max = 0;
	CHECK_INT_EQ(bench_load_run(&spec, &r), SL_EINVAL);
}

static void test_load_run_accounts_server_cpu(void)
{
	struct fake fake = { 0, (size_t)-1, false, false };
	void *contexts[1] = { &fake };
	int self = (int)getpid();
	struct bench_load_spec spec = { .clients = 1, .seconds = 0.1, .ops_max = 100, .contexts = contexts,
					.op = fake_op, .server_pids = &self, .server_count = 1 };
	struct bench_load_result r;
	REQUIRE(bench_load_run(&spec, &r) == 0);
	CHECK(r.server_cpu_ms_per_op >= 0);
	int gone = 1 << 22; /* above Linux's pid_max: no such process */
	spec.server_pids = &gone;
	REQUIRE(bench_load_run(&spec, &r) == 0);
	CHECK(r.server_cpu_ms_per_op == -1);
}

static const struct test_case cases[] = {
	TEST_CASE(test_http_parse_content_length),
	TEST_CASE(test_http_parse_chunked_and_close),
	TEST_CASE(test_http_parse_refuses_what_it_cannot_frame),
	TEST_CASE(test_http_post_keeps_the_connection_alive),
	TEST_CASE(test_percentile_is_nearest_rank),
	TEST_CASE(test_lists_parse_strictly),
	TEST_CASE(test_load_run_counts_operations_and_errors),
	TEST_CASE(test_load_run_accounts_server_cpu),
};
TEST_MAIN(cases)
