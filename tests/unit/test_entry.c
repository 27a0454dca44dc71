/* tests/unit/test_entry.c — ledger entry encoding and strict decoding. */
#include "ledger/entry.h"

#include "ledger/codec.h"
#include "ledger/reason.h"
#include "ledger/record.h"
#include "tests/unit/record_samples.h"
/* test.h's messages snprintf into fixed buffers; GCC's truncation warning there is about the harness */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include "tests/unit/test.h"

#define BUF_LIMIT (1 << 20)

static const uint8_t record_bytes[] = { 0x81, 0x00, 0x01 }; /* opaque to the entry codec */

static int decode_hex(const char *hex, struct ledger_entry *entry)
{
	uint8_t bytes[128];
	size_t n = strlen(hex) / 2;
	if (n > sizeof bytes || crypto_hex_decode(hex, bytes, n) != 0)
		abort();
	return entry_decode(bytes, n, entry, NULL);
}

static void test_golden_encoding(void)
{
	struct ledger_entry entry = { 7, 1700000000123u, OUTCOME_LOCKED, record_bytes, sizeof record_bytes, true, 2 };
	struct sl_buf buf;
	sl_buf_init(&buf, BUF_LIMIT);
	REQUIRE(entry_encode(&entry, &buf) == 0);
	char hex[128];
	REQUIRE(buf.len < 64);
	crypto_hex_encode(buf.data, buf.len, hex);
	/* {0: 7, 1: 1700000000123 (uint 64), 2: 6, 3: bin 3, 4: 2}, written out by hand */
	CHECK_STR_EQ(hex, "85000701cf0000018bcfe5687b020603c40381000104" "02");
	struct ledger_entry back;
	CHECK_INT_EQ(entry_decode(buf.data, buf.len, &back, NULL), 0);
	CHECK(back.seq == 7 && back.ledger_time_ms == 1700000000123u && back.outcome == OUTCOME_LOCKED);
	CHECK(back.has_item && back.item == 2);
	CHECK(back.record_len == 3 && back.record == buf.data + buf.len - 5); /* borrowed from the input */
	sl_buf_free(&buf);
}

static void test_round_trip_with_real_record(void)
{
	REQUIRE(crypto_init() == 0);
	struct sl_buf record, buf, again;
	sl_buf_init(&record, BUF_LIMIT);
	sl_buf_init(&buf, BUF_LIMIT);
	sl_buf_init(&again, BUF_LIMIT);
	sample_encode(RECORD_COMMISSION, &record);
	struct ledger_entry entry = { 1, 0, OUTCOME_ACCEPTED, record.data, record.len, false, 0 };
	REQUIRE(entry_encode(&entry, &buf) == 0);
	struct ledger_entry back;
	CHECK_INT_EQ(entry_decode(buf.data, buf.len, &back, NULL), 0);
	CHECK(back.record_len == record.len && memcmp(back.record, record.data, record.len) == 0);
	CHECK(!back.has_item);
	CHECK_INT_EQ(entry_encode(&back, &again), 0);
	CHECK(again.len == buf.len && memcmp(again.data, buf.data, buf.len) == 0);
	struct record decoded;
	CHECK_INT_EQ(record_decode(back.record, back.record_len, &decoded, NULL), 0);
	record_clear(&decoded);
	/* every prefix is truncated */
	for (size_t len = 0; len < buf.len; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		REQUIRE(copy != NULL);
		memcpy(copy, buf.data, len);
		int rc = entry_decode(copy, len, &back, NULL);
		if (rc != SL_ETRUNCATED)
			printf("  prefix %zu: %s\n", len, sl_errname(rc));
		CHECK_INT_EQ(rc, SL_ETRUNCATED);
		free(copy);
	}
	/* a record that does not decode is still carried (MALFORMED_RECORD) */
	static const uint8_t garbage[] = { 0xc1, 0xff, 0x00 };
	entry = (struct ledger_entry){ 2, 5, OUTCOME_MALFORMED_RECORD, garbage, sizeof garbage, false, 0 };
	sl_buf_reset(&buf);
	CHECK_INT_EQ(entry_encode(&entry, &buf), 0);
	CHECK_INT_EQ(entry_decode(buf.data, buf.len, &back, NULL), 0);
	entry.record_len = 0;
	entry.record = NULL;
	sl_buf_reset(&buf);
	CHECK_INT_EQ(entry_encode(&entry, &buf), 0);
	CHECK_INT_EQ(entry_decode(buf.data, buf.len, &back, NULL), 0);
	CHECK_INT_EQ(back.record_len, 0);
	sl_buf_free(&record);
	sl_buf_free(&buf);
	sl_buf_free(&again);
}

static void test_malformed(void)
{
	struct ledger_entry e;
	struct sl_error_detail detail;
	CHECK_INT_EQ(decode_hex("8400010101020203c403810001", &e), 0); /* the base case below */
	CHECK_INT_EQ(decode_hex("8400010101020203c40381000100", &e), SL_ETRAILING);
	CHECK_INT_EQ(decode_hex("8400cc010101020203c403810001", &e), SL_ENONCANONICAL); /* seq 1 as uint 8 */
	CHECK_INT_EQ(decode_hex("840001020201010301", &e), SL_ENONCANONICAL); /* keys 0, 2, 1 */
	CHECK_INT_EQ(decode_hex("840001000203c403810001", &e), SL_EDUPFIELD); /* key 0 twice */
	CHECK_INT_EQ(decode_hex("8500010101020203c4038100010501", &e), SL_EUNKNOWNFIELD); /* key 5 */
	CHECK_INT_EQ(decode_hex("83000101010202", &e), SL_EMISSING); /* no record */
	CHECK_INT_EQ(decode_hex("8400000101020203c403810001", &e), SL_EVALUE); /* seq 0 */
	CHECK_INT_EQ(decode_hex("840001010102cc8003c403810001", &e), SL_EVALUE); /* outcome 128 */
	CHECK_INT_EQ(decode_hex("8400010101020203a3810001", &e), SL_ETYPE); /* record as str */
	CHECK_INT_EQ(decode_hex("8400010101020203c50003810001", &e), SL_ENONCANONICAL); /* record as bin 16 */
	CHECK_INT_EQ(decode_hex("8400cb3ff00000000000000101020203c403810001", &e), SL_ETYPE); /* seq as float 64 */
	CHECK_INT_EQ(decode_hex("8500010101020003c4038100010401", &e), SL_EVALUE); /* item on an accepted entry */
	CHECK_INT_EQ(decode_hex("8500010101020603c40381000104cd03e8", &e), SL_EVALUE); /* item 1000 */
	CHECK_INT_EQ(decode_hex("8500010101020603c40381000104cd03e7", &e), 0); /* item 999 */
	CHECK_INT_EQ(decode_hex("84000101010202", &e), SL_ETRUNCATED); /* map ends early */
	CHECK_INT_EQ(decode_hex("", &e), SL_ETRUNCATED);
	CHECK_INT_EQ(decode_hex("90", &e), SL_ETYPE);
	/* oversize: input and record */
	uint8_t *big = calloc(ENTRY_BYTES_MAX + 1, 1);
	REQUIRE(big != NULL);
	CHECK_INT_EQ(entry_decode(big, ENTRY_BYTES_MAX + 1, &e, &detail), SL_EOVERSIZE);
	struct ledger_entry too_big = { 1, 1, OUTCOME_ACCEPTED, big, RECORD_BYTES_MAX + 1, false, 0 };
	struct sl_buf buf;
	sl_buf_init(&buf, BUF_LIMIT);
	CHECK_INT_EQ(entry_encode(&too_big, &buf), SL_EOVERSIZE);
	/* a hand-made entry with a record of RECORD_BYTES_MAX + 1 bytes */
	REQUIRE(codec_write_map_header(&buf, 4) == 0);
	REQUIRE(sl_buf_append(&buf, "\x00\x01\x01\x01\x02\x00\x03", 7) == 0);
	REQUIRE(codec_write_bin(&buf, big, RECORD_BYTES_MAX + 1) == 0);
	CHECK_INT_EQ(entry_decode(buf.data, buf.len, &e, &detail), SL_EOVERSIZE);
	CHECK(strstr(detail.text, "record") != NULL);
	/* the largest record fits */
	too_big.record_len = RECORD_BYTES_MAX;
	sl_buf_reset(&buf);
	CHECK_INT_EQ(entry_encode(&too_big, &buf), 0);
	CHECK(buf.len <= ENTRY_BYTES_MAX);
	CHECK_INT_EQ(entry_decode(buf.data, buf.len, &e, NULL), 0);
	sl_buf_free(&buf);
	free(big);
}

static void test_encode_refuses_invalid(void)
{
	struct sl_buf buf;
	sl_buf_init(&buf, BUF_LIMIT);
	struct ledger_entry entry = { 0, 1, OUTCOME_ACCEPTED, record_bytes, sizeof record_bytes, false, 0 };
	CHECK_INT_EQ(entry_encode(&entry, &buf), SL_EVALUE); /* seq 0 */
	entry.seq = 1;
	entry.outcome = 9999;
	CHECK_INT_EQ(entry_encode(&entry, &buf), SL_EVALUE);
	entry.outcome = OUTCOME_ACCEPTED;
	entry.has_item = true;
	CHECK_INT_EQ(entry_encode(&entry, &buf), SL_EVALUE);
	entry.outcome = OUTCOME_UNKNOWN_ITEM;
	CHECK_INT_EQ(entry_encode(&entry, &buf), 0);
	CHECK(buf.len > 0);
	sl_buf_free(&buf);
}

static const struct test_case cases[] = {
	TEST_CASE(test_golden_encoding),
	TEST_CASE(test_round_trip_with_real_record),
	TEST_CASE(test_malformed),
	TEST_CASE(test_encode_refuses_invalid),
};

TEST_MAIN(cases)
