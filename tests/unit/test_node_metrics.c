/* tests/unit/test_node_metrics.c — node/metrics.h: the Prometheus text (names, labels, values,
 * cumulative histogram), the outcome and cycle tallies, the size limit, and the metrics_listen
 * address parser (node/config.h). Expected lines are written out by hand from the format
 * (Prometheus text exposition 0.0.4), not produced by the code under test. */
#include <stdlib.h>
#include <string.h>

#include "ledger/reason.h"
#include "node/config.h"
#include "node/metrics.h"
#include "tests/unit/test.h"
#include "util/error.h"

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

static char *format_ok(const struct node_metrics *m, uint64_t now_ms)
{
	char *text = malloc(NODE_METRICS_TEXT_BYTES_MAX + 1);
	size_t len = 0;
	if (text == NULL || node_metrics_format(m, now_ms, text, NODE_METRICS_TEXT_BYTES_MAX, &len) != 0) {
		free(text);
		return NULL;
	}
	text[len] = '\0';
	return text;
}

static void sample_fill(struct node_metrics *m)
{
	memset(m, 0, sizeof *m);
	m->raft_term = 7;
	m->raft_role = RAFT_LEADER;
	m->raft_commit_index = 42;
	m->raft_applied_index = 41;
	m->ledger_entries = 300;
	m->raft_entries_applied_total = 12;
	m->peer_count = 2;
	snprintf(m->peers[0].name, sizeof m->peers[0].name, "dc");
	m->peers[0].id = 2;
	m->peers[0].last_heard_ms = 1000000;
	m->peers[0].match_index = 40;
	m->peers[0].dropped_queue = 3;
	snprintf(m->peers[1].name, sizeof m->peers[1].name, "pharmacy");
	m->peers[1].id = 3;
	m->peers[1].dropped_unopened = 5;
}

static void test_metrics_text_lines(void)
{
	struct node_metrics m;
	sample_fill(&m);
	node_metrics_outcome_count(&m, OUTCOME_ACCEPTED);
	node_metrics_outcome_count(&m, OUTCOME_ACCEPTED);
	node_metrics_outcome_count(&m, OUTCOME_DUPLICATE_COMMISSION);
	node_metrics_outcome_count(&m, 999); /* not in the table */
	node_metrics_outcome_count(&m, -1);
	char *text = format_ok(&m, 1002500);
	REQUIRE(text != NULL);
	CHECK(has_line(text, "# TYPE siteledger_raft_term gauge"));
	CHECK(has_line(text, "siteledger_raft_term 7"));
	CHECK(has_line(text, "siteledger_raft_role{role=\"leader\"} 1"));
	CHECK(has_line(text, "siteledger_raft_role{role=\"follower\"} 0"));
	CHECK(has_line(text, "siteledger_raft_commit_index 42"));
	CHECK(has_line(text, "siteledger_raft_applied_index 41"));
	CHECK(has_line(text, "# TYPE siteledger_ledger_entries_total counter"));
	CHECK(has_line(text, "siteledger_ledger_entries_total 300"));
	CHECK(has_line(text, "# TYPE siteledger_records_total counter"));
	CHECK(has_line(text, "siteledger_records_total{outcome=\"ACCEPTED\"} 2"));
	CHECK(has_line(text, "siteledger_records_total{outcome=\"DUPLICATE_COMMISSION\"} 1"));
	CHECK(has_line(text, "siteledger_records_total{outcome=\"SAME_SITE\"} 0"));
	CHECK(has_line(text, "siteledger_records_total{outcome=\"OTHER\"} 2"));
	CHECK(has_line(text, "siteledger_raft_entries_applied_total 12"));
	CHECK(has_line(text, "siteledger_peer_messages_dropped_total{peer=\"dc\",reason=\"queue_full\"} 3"));
	CHECK(has_line(text, "siteledger_peer_messages_dropped_total{peer=\"pharmacy\",reason=\"unopened\"} 5"));
	CHECK(has_line(text, "siteledger_peer_last_heard_seconds{peer=\"dc\"} 2.500"));
	CHECK(has_line(text, "siteledger_peer_last_heard_seconds{peer=\"pharmacy\"} +Inf"));
	CHECK(has_line(text, "siteledger_peer_match_index{peer=\"dc\"} 40"));
	/* every metric line is "name[{labels}] value": one space, and the text ends with a newline */
	CHECK(text[strlen(text) - 1] == '\n');
	CHECK(strstr(text, "\n\n") == NULL);
	free(text);
}

static void test_metrics_histogram_cumulative(void)
{
	struct node_metrics m;
	memset(&m, 0, sizeof m);
	node_metrics_cycle_observe(&m, 300000);	    /* 0.3 ms: first bucket (0.0005) */
	node_metrics_cycle_observe(&m, 500000);	    /* exactly 0.5 ms: le is inclusive */
	node_metrics_cycle_observe(&m, 3000000);    /* 3 ms: 0.005 bucket */
	node_metrics_cycle_observe(&m, 4000000000u); /* 4 s: above every bound, +Inf only */
	CHECK_INT_EQ(m.cycle_buckets[0], 2);
	CHECK_INT_EQ(m.cycle_count, 4);
	char *text = format_ok(&m, 0);
	REQUIRE(text != NULL);
	CHECK(has_line(text, "# TYPE siteledger_ready_cycle_seconds histogram"));
	CHECK(has_line(text, "siteledger_ready_cycle_seconds_bucket{le=\"0.0005\"} 2"));
	CHECK(has_line(text, "siteledger_ready_cycle_seconds_bucket{le=\"0.0025\"} 2"));
	CHECK(has_line(text, "siteledger_ready_cycle_seconds_bucket{le=\"0.005\"} 3"));
	CHECK(has_line(text, "siteledger_ready_cycle_seconds_bucket{le=\"2.5\"} 3"));
	CHECK(has_line(text, "siteledger_ready_cycle_seconds_bucket{le=\"+Inf\"} 4"));
	CHECK(has_line(text, "siteledger_ready_cycle_seconds_count 4"));
	CHECK(has_line(text, "siteledger_ready_cycle_seconds_sum 4.003800000"));
	free(text);
}

static void test_metrics_text_limit(void)
{
	struct node_metrics m;
	sample_fill(&m);
	char small[512];
	size_t len = 99;
	CHECK_INT_EQ(node_metrics_format(&m, 0, small, sizeof small, &len), SL_ELIMIT);
	CHECK_INT_EQ(len, 0);
	CHECK_INT_EQ(node_metrics_format(&m, 0, small, 0, &len), SL_ELIMIT);
	/* a full house of peers with the longest names still fits the named maximum */
	m.peer_count = NODE_PEERS_MAX;
	for (size_t i = 0; i < NODE_PEERS_MAX; i++) {
		memset(m.peers[i].name, 'x', RECORD_SITE_SIZE - 1);
		m.peers[i].name[RECORD_SITE_SIZE - 1] = '\0';
		m.peers[i].dropped_queue = UINT64_MAX;
	}
	for (int i = 0; i < NODE_METRICS_OUTCOMES_MAX; i++)
		m.records_total[i] = UINT64_MAX;
	char *text = format_ok(&m, UINT64_MAX);
	CHECK(text != NULL);
	free(text);
}

static void test_metrics_http_addr_parse(void)
{
	uint8_t ip[4];
	uint16_t port = 0;
	REQUIRE(node_config_http_addr_parse("127.0.0.1:9400", ip, &port) == 0);
	CHECK_INT_EQ(port, 9400);
	CHECK(ip[0] == 127 && ip[1] == 0 && ip[2] == 0 && ip[3] == 1);
	REQUIRE(node_config_http_addr_parse("0.0.0.0:65535", ip, &port) == 0);
	CHECK_INT_EQ(port, 65535);
	const char *bad[] = { "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:09400",
			      "127.0.0.1:+94", "127.0.0.1:94x", "localhost:9400", ":9400", "tcp://127.0.0.1:9400",
			      "1.2.3.4.5:80", "127.0.0.1:123456" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_INT_EQ(node_config_http_addr_parse(bad[i], ip, &port), SL_EINVAL);
}

static void test_metrics_config_keys(void)
{
	static const char text[] = "id = 1\nsite = a\ndata = d\nkey = k\npeer_listen = tcp://127.0.0.1:1\n"
				   "client_listen = tcp://127.0.0.1:2\nmetrics_listen = 127.0.0.1:9400\n"
				   "events_listen = tcp://127.0.0.1:9401\n";
	struct node_config c;
	unsigned line = 0;
	struct sl_error_detail d = { "" };
	REQUIRE(node_config_parse(text, strlen(text), NULL, &c, &line, &d) == 0);
	CHECK_STR_EQ(c.metrics_listen, "127.0.0.1:9400");
	CHECK_STR_EQ(c.events_listen, "tcp://127.0.0.1:9401");
	/* both optional */
	static const char bare[] = "id = 1\nsite = a\ndata = d\nkey = k\npeer_listen = tcp://127.0.0.1:1\n"
				   "client_listen = tcp://127.0.0.1:2\n";
	REQUIRE(node_config_parse(bare, strlen(bare), NULL, &c, &line, &d) == 0);
	CHECK_STR_EQ(c.metrics_listen, "");
	CHECK_STR_EQ(c.events_listen, "");
	static const char bad_http[] = "id = 1\nmetrics_listen = localhost:80\n";
	CHECK_INT_EQ(node_config_parse(bad_http, strlen(bad_http), NULL, &c, &line, &d), SL_EINVAL);
	CHECK_INT_EQ(line, 2);
	static const char bad_events[] = "id = 1\nevents_listen = 127.0.0.1:80\n";
	CHECK_INT_EQ(node_config_parse(bad_events, strlen(bad_events), NULL, &c, &line, &d), SL_EINVAL);
	CHECK_INT_EQ(line, 2);
}

static const struct test_case cases[] = {
	TEST_CASE(test_metrics_text_lines),
	TEST_CASE(test_metrics_histogram_cumulative),
	TEST_CASE(test_metrics_text_limit),
	TEST_CASE(test_metrics_http_addr_parse),
	TEST_CASE(test_metrics_config_keys),
};
TEST_MAIN(cases)
