/* tests/unit/test_node_events.c — node/events.c's formatters: the exact "commit"/"reject"/"alarm"
 * messages (written out by hand from docs/operations.md "Events"), JSON escaping, the size limit. */
#include <string.h>

#include "ledger/reason.h"
#include "node/node.h"
#include "tests/unit/test.h"
#include "util/error.h"

static void test_event_commit_exact(void)
{
	uint8_t id[RECORD_ID_BYTES];
	for (size_t i = 0; i < sizeof id; i++)
		id[i] = (uint8_t)i;
	struct node_event_record e = { .raft_index = 7, .seq = 12, .ledger_time_ms = 1790000000123u, .record_id = id,
				       .type = "commission", .site = "mfg", .outcome = OUTCOME_ACCEPTED };
	char out[NODE_EVENT_BYTES_MAX];
	size_t len = 0;
	REQUIRE(node_event_record_format(&e, out, sizeof out, &len) == 0);
	CHECK_STR_EQ(out, "commit {\"raft_index\":7,\"seq\":12,\"ledger_time_ms\":1790000000123,"
			  "\"record_id\":\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\","
			  "\"type\":\"commission\",\"site\":\"mfg\",\"outcome\":\"ACCEPTED\"}");
	CHECK_INT_EQ(len, strlen(out));
}

static void test_event_reject_and_undecoded(void)
{
	uint8_t zero[RECORD_ID_BYTES] = { 0 };
	struct node_event_record e = { .raft_index = 1, .seq = 2, .ledger_time_ms = 3, .record_id = zero,
				       .outcome = OUTCOME_MALFORMED_RECORD };
	char out[NODE_EVENT_BYTES_MAX];
	size_t len = 0;
	REQUIRE(node_event_record_format(&e, out, sizeof out, &len) == 0);
	CHECK(strncmp(out, "reject {", 8) == 0);
	CHECK(strstr(out, ",\"type\":null,\"site\":null,\"outcome\":\"MALFORMED_RECORD\"}") != NULL);
	e.outcome = OUTCOME_DUPLICATE_COMMISSION;
	e.type = "commission";
	e.site = "dc";
	REQUIRE(node_event_record_format(&e, out, sizeof out, &len) == 0);
	CHECK(strncmp(out, "reject {", 8) == 0);
	CHECK(strstr(out, "\"outcome\":\"DUPLICATE_COMMISSION\"}") != NULL);
	e.outcome = 9999; /* not in the table: named, never a crash */
	REQUIRE(node_event_record_format(&e, out, sizeof out, &len) == 0);
	CHECK(strstr(out, "\"outcome\":\"OTHER\"}") != NULL);
}

static void test_event_alarm_escaped(void)
{
	char out[NODE_EVENT_BYTES_MAX];
	size_t len = 0;
	REQUIRE(node_event_alarm_format("divergence", "entry 5 \"differs\"\\\n\x01\xc3\xa9", 42, out, sizeof out,
					&len) == 0);
	CHECK_STR_EQ(out, "alarm {\"alarm\":\"divergence\",\"what\":\"entry 5 \\\"differs\\\"\\\\\\u000a\\u0001"
			  "\\u00c3\\u00a9\",\"at_ms\":42}");
	/* the longest alarm text (cut at NODE_EVENT_WHAT_BYTES_MAX, every byte escaped) still fits */
	char what[4 * NODE_EVENT_WHAT_BYTES_MAX];
	memset(what, 0x01, sizeof what - 1);
	what[sizeof what - 1] = '\0';
	REQUIRE(node_event_alarm_format("cycle_failed", what, UINT64_MAX, out, sizeof out, &len) == 0);
	CHECK(len < sizeof out);
	CHECK(strstr(out, "\"at_ms\":18446744073709551615}") != NULL);
}

static void test_event_limit(void)
{
	uint8_t id[RECORD_ID_BYTES] = { 0 };
	struct node_event_record e = { .record_id = id, .type = "ship", .site = "mfg" };
	char out[64];
	size_t len = 5;
	CHECK_INT_EQ(node_event_record_format(&e, out, sizeof out, &len), SL_ELIMIT);
	CHECK_INT_EQ(len, 0);
	CHECK_INT_EQ(node_event_alarm_format("a", "b", 0, out, 0, &len), SL_ELIMIT);
}

static const struct test_case cases[] = {
	TEST_CASE(test_event_commit_exact),
	TEST_CASE(test_event_reject_and_undecoded),
	TEST_CASE(test_event_alarm_escaped),
	TEST_CASE(test_event_limit),
};
TEST_MAIN(cases)
