/* tests/unit/test_node_config.c — node/config.h: a valid file, defaults, and each error with its line. */
#include "node/config.h"

#include "tests/unit/test.h"
#include "util/error.h"

static const char valid[] = "# node a\n"
			    "id = 1\n"
			    "site = site-a\n"
			    "data = data\n"
			    "key = /keys/a.key   # absolute stays\n"
			    "peer_listen = tcp://127.0.0.1:30000\n"
			    "client_listen = tcp://127.0.0.1:30001\n"
			    "tick_ms = 20\n"
			    "\n"
			    "[peer site-b]\n"
			    "id = 2\n"
			    "site = site-b\n"
			    "peer = tcp://127.0.0.1:30002\n"
			    "client = tcp://127.0.0.1:30003\n"
			    "public_key = keys/b.key.pub\n"
			    "[peer site-c]\n"
			    "id = 3\n"
			    "site = site-c\n"
			    "peer = tcp://127.0.0.1:30004\n"
			    "client = tcp://127.0.0.1:30005\n"
			    "public_key = /keys/c.key.pub\n";

static void test_config_valid(void)
{
	struct node_config c;
	unsigned line = 99;
	struct sl_error_detail d = { "" };
	REQUIRE(node_config_parse(valid, strlen(valid), "/etc/sl", &c, &line, &d) == 0);
	CHECK_INT_EQ(line, 0);
	CHECK_INT_EQ(c.id, 1);
	CHECK_STR_EQ(c.site, "site-a");
	CHECK_STR_EQ(c.data_dir, "/etc/sl/data");
	CHECK_STR_EQ(c.key_path, "/keys/a.key");
	CHECK_STR_EQ(c.peer_listen, "tcp://127.0.0.1:30000");
	CHECK_STR_EQ(c.client_listen, "tcp://127.0.0.1:30001");
	CHECK_INT_EQ(c.tick_ms, 20);
	CHECK_INT_EQ(c.election_ticks, NODE_ELECTION_TICKS_DEFAULT);
	CHECK_INT_EQ(c.heartbeat_ticks, NODE_HEARTBEAT_TICKS_DEFAULT);
	CHECK_INT_EQ(c.batch_records, 256);
	REQUIRE(c.peer_count == 2);
	CHECK_STR_EQ(c.peers[0].name, "site-b");
	CHECK_INT_EQ(c.peers[0].id, 2);
	CHECK_STR_EQ(c.peers[0].client_addr, "tcp://127.0.0.1:30003");
	CHECK_STR_EQ(c.peers[0].public_key_path, "/etc/sl/keys/b.key.pub");
	CHECK_INT_EQ(c.peers[1].id, 3);
	CHECK_STR_EQ(c.peers[1].public_key_path, "/keys/c.key.pub");
	/* no trailing newline, CRLF line ends, no peers */
	const char crlf[] = "id = 7\r\nsite = x\r\ndata = /d\r\nkey = /k\r\npeer_listen = ipc:///tmp/p\r\n"
			    "client_listen = tcp://127.0.0.1:1\r\nbatch_records = 16";
	REQUIRE(node_config_parse(crlf, strlen(crlf), NULL, &c, &line, &d) == 0);
	CHECK_INT_EQ(c.id, 7);
	CHECK_INT_EQ(c.batch_records, 16);
	CHECK_INT_EQ(c.peer_count, 0);
}

/* Replace line `number` (1-based) of the valid file with `text` and expect an error at `want_line`. */
static void expect_error(unsigned number, const char *text, int want_rc, unsigned want_line, const char *needle)
{
	char buf[4096];
	size_t out = 0;
	unsigned line = 1;
	for (const char *s = valid; *s != '\0'; line++) {
		const char *nl = strchr(s, '\n');
		size_t n = (size_t)(nl - s);
		const char *copy = line == number ? text : s;
		size_t copy_len = line == number ? strlen(text) : n;
		memcpy(buf + out, copy, copy_len);
		out += copy_len;
		buf[out++] = '\n';
		s = nl + 1;
	}
	struct node_config c;
	unsigned got_line = 0;
	struct sl_error_detail d = { "" };
	int rc = node_config_parse(buf, out, NULL, &c, &got_line, &d);
	CHECK_INT_EQ(rc, want_rc);
	CHECK_INT_EQ(got_line, want_line);
	if (strstr(d.text, needle) == NULL) {
		printf("  detail '%s' lacks '%s'\n", d.text, needle);
		CHECK(strstr(d.text, needle) != NULL);
	}
}

static void test_config_errors_name_their_line(void)
{
	expect_error(2, "id = 0", SL_EINVAL, 2, "id must be");
	expect_error(2, "id = x1", SL_EINVAL, 2, "not a number");
	expect_error(2, "id = 01", SL_EINVAL, 2, "not a number");
	expect_error(3, "site = Site A", SL_EINVAL, 3, "site id");
	expect_error(4, "id = 5", SL_EINVAL, 4, "twice");
	expect_error(5, "colour = blue", SL_EINVAL, 5, "unknown key");
	expect_error(6, "peer_listen = http://x", SL_EINVAL, 6, "tcp://");
	expect_error(7, "client_listen", SL_EINVAL, 7, "key = value");
	expect_error(8, "tick_ms = 1", SL_EINVAL, 8, "tick_ms must be");
	expect_error(8, "batch_records = 257", SL_EINVAL, 8, "batch_records must be");
	expect_error(10, "[peer]", SL_EINVAL, 10, "section header");
	expect_error(10, "[server b]", SL_EINVAL, 10, "section header");
	expect_error(12, "site = site-a", SL_EEXIST, 0, "this node's id or site");
	expect_error(13, "listen = tcp://x:1", SL_EINVAL, 13, "unknown key in a [peer] section");
	expect_error(17, "id = 2", SL_EEXIST, 0, "repeats");
	expect_error(15, "# no key", SL_EMISSING, 16, "missing key 'public_key'");
	expect_error(21, "", SL_EMISSING, 21, "site-c: missing key 'public_key'");
	expect_error(4, "", SL_EMISSING, 10, "top level: missing key 'data'");
	expect_error(8, "heartbeat_ticks = 10", SL_EINVAL, 0, "below election_ticks");
	expect_error(8, "data2 = x", SL_EINVAL, 8, "unknown key");
}

static void test_config_limits(void)
{
	struct node_config c;
	unsigned line = 0;
	struct sl_error_detail d = { "" };
	static char big[NODE_CONFIG_LINE_BYTES_MAX + 64];
	memset(big, 'a', sizeof big - 1);
	memcpy(big, "id = 1\nsite = ", 14);
	CHECK_INT_EQ(node_config_parse(big, strlen(big), NULL, &c, &line, &d), SL_EINVAL);
	CHECK_INT_EQ(line, 2);
	const char nul[] = "id = 1\nsite\0 = a\n";
	CHECK_INT_EQ(node_config_parse(nul, sizeof nul - 1, NULL, &c, &line, &d), SL_EINVAL);
	CHECK_INT_EQ(line, 2);
	CHECK_INT_EQ(node_config_load("/nonexistent/node.conf", &c, &line, &d), SL_ENOENT);
}

static void test_config_load_resolves_relative_paths(void)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	REQUIRE(test_tmpdir(dir) == 0);
	snprintf(path, sizeof path, "%s/node.conf", dir);
	FILE *f = fopen(path, "w");
	REQUIRE(f != NULL);
	fputs(valid, f);
	fclose(f);
	struct node_config c;
	unsigned line = 0;
	struct sl_error_detail d = { "" };
	CHECK_INT_EQ(node_config_load(path, &c, &line, &d), 0);
	char want[PATH_MAX + 16];
	snprintf(want, sizeof want, "%s/data", dir);
	CHECK_STR_EQ(c.data_dir, want);
	test_rmtree(dir);
}

static const struct test_case cases[] = {
	TEST_CASE(test_config_valid),
	TEST_CASE(test_config_errors_name_their_line),
	TEST_CASE(test_config_limits),
	TEST_CASE(test_config_load_resolves_relative_paths),
};
TEST_MAIN(cases)
