/* tests/unit/test_node_checkpoint.c — the node's pieces for checkpoints and alarms that can be
 * tested without a cluster: the config keys (checkpoint_every_ms, spc_every_ms), PROTO_CHECKPOINT
 * requests and the note in responses (node/proto.h), the structured alarm event (node/events.c) and
 * siteledger_alarms_total (node/metrics.c). Expected texts are written out by hand from
 * docs/operations.md. tests/integration/test_node_checkpoint.sh drives the real nodes. */
#include <stdlib.h>
#include <string.h>

#include "node/config.h"
#include "node/metrics.h"
#include "node/node.h"
#include "node/proto.h"
#include "tests/unit/test.h"
#include "util/error.h"

static const char base_config[] = "id = 1\nsite = site-a\ndata = d\nkey = k\n"
				  "peer_listen = tcp://127.0.0.1:30000\nclient_listen = tcp://127.0.0.1:30001\n";

static int parse_with(const char *extra, struct node_config *c, unsigned *line)
{
	char text[1024];
	struct sl_error_detail detail = { "" };
	snprintf(text, sizeof text, "%s%s", base_config, extra);
	return node_config_parse(text, strlen(text), NULL, c, line, &detail);
}

static void test_config_keys(void)
{
	static struct node_config c;
	unsigned line = 0;
	REQUIRE(parse_with("", &c, &line) == 0);
	CHECK_INT_EQ(c.checkpoint_every_ms, 60000);
	CHECK_INT_EQ(c.spc_every_ms, 60000);
	REQUIRE(parse_with("checkpoint_every_ms = 0\nspc_every_ms = 250\n", &c, &line) == 0);
	CHECK_INT_EQ(c.checkpoint_every_ms, 0);
	CHECK_INT_EQ(c.spc_every_ms, 250);
	CHECK_INT_EQ(parse_with("checkpoint_every_ms = 86400001\n", &c, &line), SL_EINVAL);
	CHECK_INT_EQ(line, 7);
	CHECK_INT_EQ(parse_with("spc_every_ms = -1\n", &c, &line), SL_EINVAL);
	CHECK_INT_EQ(parse_with("spc_every_ms = 5\nspc_every_ms = 6\n", &c, &line), SL_EINVAL); /* twice */
	CHECK_INT_EQ(line, 8);
}

static void test_proto_checkpoint_request(void)
{
	REQUIRE(crypto_init() == 0);
	struct crypto_public_key pk;
	struct crypto_secret_key sk;
	REQUIRE(crypto_keypair_generate(&pk, &sk) == 0);
	struct sl_buf out;
	sl_buf_init(&out, PROTO_REQUEST_BYTES_MAX);
	REQUIRE(proto_request_encode(PROTO_CHECKPOINT, NULL, 0, NULL, &sk, &out) == 0);
	static struct proto_request req;
	REQUIRE(proto_request_decode(out.data, out.len, &req, NULL) == 0);
	CHECK_INT_EQ(req.type, PROTO_CHECKPOINT);
	CHECK_INT_EQ(req.record_count, 0);
	CHECK_INT_EQ(proto_request_verify(&req, &pk), 0);
	CHECK(proto_type_known(PROTO_CHECKPOINT));
	CHECK(!proto_type_known(200));
	sl_buf_reset(&out);
	CHECK_INT_EQ(proto_request_encode(200, NULL, 0, NULL, &sk, &out), SL_EINVAL);
	crypto_secret_key_wipe(&sk);
	sl_buf_free(&out);
}

static void test_proto_note_round_trip(void)
{
	static struct proto_response resp, back;
	proto_response_init(&resp, PROTO_OK, "submitted");
	resp.has_note = true;
	snprintf(resp.note, sizeof resp.note, "siteledger/cluster\n12\nAAAA\n\n\xe2\x80\x94 site-a QUJD\n");
	resp.result_count = 1;
	resp.results[0] = (struct ledger_result){ .seq = 13, .outcome = 0, .item = -1 };
	struct sl_buf out;
	sl_buf_init(&out, PROTO_RESPONSE_BYTES_MAX);
	REQUIRE(proto_response_encode(&resp, &out) == 0);
	REQUIRE(proto_response_decode(out.data, out.len, &back) == 0);
	CHECK(back.has_note);
	CHECK_STR_EQ(back.note, resp.note);
	CHECK_INT_EQ(back.results[0].seq, 13);
	/* no note: key 9 absent, and has_note stays false */
	resp.has_note = false;
	sl_buf_reset(&out);
	REQUIRE(proto_response_encode(&resp, &out) == 0);
	REQUIRE(proto_response_decode(out.data, out.len, &back) == 0);
	CHECK(!back.has_note);
	sl_buf_free(&out);
}

static void test_alarm_event_fields(void)
{
	char out[NODE_EVENT_BYTES_MAX];
	size_t len = 0;
	const uint64_t seqs[] = { 21, 22, 25 };
	const struct node_alarm spc = { .kind = "spc",
					.what = "refusals 5/5",
					.site = "mfg",
					.line = "line \"3\"",
					.rule = "beyond",
					.seqs = seqs,
					.seq_count = 3 };
	REQUIRE(node_event_alarm_format_full(&spc, 77, out, sizeof out, &len) == 0);
	CHECK_STR_EQ(out, "alarm {\"alarm\":\"spc\",\"what\":\"refusals 5/5\",\"site\":\"mfg\",\"line\":\"line \\\"3\\\"\","
			  "\"rule\":\"beyond\",\"records\":[21,22,25],\"at_ms\":77}");
	CHECK_INT_EQ(len, strlen(out));
	/* without the optional fields it is the plain alarm of docs/operations.md */
	const struct node_alarm plain = { .kind = "divergence", .what = "x" };
	REQUIRE(node_event_alarm_format_full(&plain, 5, out, sizeof out, &len) == 0);
	CHECK_STR_EQ(out, "alarm {\"alarm\":\"divergence\",\"what\":\"x\",\"at_ms\":5}");
	/* at most NODE_ALARM_SEQS_MAX records are named, and the longest alarm fits */
	uint64_t many[NODE_ALARM_SEQS_MAX + 4];
	for (size_t i = 0; i < sizeof many / sizeof many[0]; i++)
		many[i] = UINT64_MAX;
	char text[4 * NODE_EVENT_WHAT_BYTES_MAX];
	memset(text, 0x01, sizeof text - 1);
	text[sizeof text - 1] = '\0';
	const struct node_alarm big = { "spc", text, text, text, text, many, sizeof many / sizeof many[0] };
	REQUIRE(node_event_alarm_format_full(&big, UINT64_MAX, out, sizeof out, &len) == 0);
	size_t commas = 0;
	for (const char *p = strstr(out, "\"records\":["); p != NULL && *p != ']'; p++)
		commas += *p == ',';
	CHECK_INT_EQ(commas, NODE_ALARM_SEQS_MAX - 1);
}

static void test_alarm_metric(void)
{
	static struct node_metrics m;
	memset(&m, 0, sizeof m);
	m.alarms_total[node_alarm_kind_of("divergence")] = 2;
	m.alarms_total[node_alarm_kind_of("spc")] = 1;
	m.alarms_total[node_alarm_kind_of("no such kind")] = 4;
	CHECK_INT_EQ(node_alarm_kind_of("checkpoint"), NODE_ALARM_CHECKPOINT);
	CHECK_INT_EQ(node_alarm_kind_of(NULL), NODE_ALARM_OTHER);
	char *text = malloc(NODE_METRICS_TEXT_BYTES_MAX + 1);
	size_t len = 0;
	REQUIRE(text != NULL);
	REQUIRE(node_metrics_format(&m, 0, text, NODE_METRICS_TEXT_BYTES_MAX, &len) == 0);
	text[len] = '\0';
	CHECK(strstr(text, "\n# TYPE siteledger_alarms_total counter\n") != NULL);
	CHECK(strstr(text, "\nsiteledger_alarms_total{kind=\"divergence\"} 2\n") != NULL);
	CHECK(strstr(text, "\nsiteledger_alarms_total{kind=\"spc\"} 1\n") != NULL);
	CHECK(strstr(text, "\nsiteledger_alarms_total{kind=\"checkpoint\"} 0\n") != NULL);
	CHECK(strstr(text, "\nsiteledger_alarms_total{kind=\"cycle_failed\"} 0\n") != NULL);
	CHECK(strstr(text, "\nsiteledger_alarms_total{kind=\"other\"} 4\n") != NULL);
	free(text);
}

static const struct test_case cases[] = {
	TEST_CASE(test_config_keys),
	TEST_CASE(test_proto_checkpoint_request),
	TEST_CASE(test_proto_note_round_trip),
	TEST_CASE(test_alarm_event_fields),
	TEST_CASE(test_alarm_metric),
};

TEST_MAIN(cases)
