/* tests/unit/test_codec.c — canonical msgpack reader and writer.
 *
 * Expected bytes come from the msgpack specification's format table, written out by hand. */
#include "ledger/codec.h"

/* test.h's messages and test_rmtree snprintf into fixed buffers; GCC's truncation warning there
 * is about the harness, not this file */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include "tests/unit/test.h"
#include "util/buf.h"
#include "util/error.h"

static size_t hex_to_bytes(const char *hex, uint8_t *out, size_t out_size)
{
	size_t n = 0;
	for (const char *p = hex; p[0] && p[1]; p += 2) {
		if (*p == ' ') {
			p--;
			continue;
		}
		unsigned v;
		if (sscanf(p, "%2x", &v) != 1 || n >= out_size)
			abort();
		out[n++] = (uint8_t)v;
	}
	return n;
}

static void buf_hex(const struct sl_buf *buf, char *out, size_t out_size)
{
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < buf->len && n + 3 < out_size; i++)
		n += (size_t)snprintf(out + n, out_size - n, "%02x", buf->data[i]);
}

#define CHECK_WRITES(call, expected_hex)                       \
	do {                                                   \
		struct sl_buf b_;                              \
		char h_[128];                                  \
		sl_buf_init(&b_, 1 << 20);                     \
		CHECK_INT_EQ(call, 0);                         \
		buf_hex(&b_, h_, sizeof h_);                   \
		CHECK_STR_EQ(h_, expected_hex);                \
		sl_buf_free(&b_);                              \
	} while (0)

static void test_write_integers_shortest(void)
{
	CHECK_WRITES(codec_write_uint(&b_, 0), "00");
	CHECK_WRITES(codec_write_uint(&b_, 127), "7f");
	CHECK_WRITES(codec_write_uint(&b_, 128), "cc80");
	CHECK_WRITES(codec_write_uint(&b_, 255), "ccff");
	CHECK_WRITES(codec_write_uint(&b_, 256), "cd0100");
	CHECK_WRITES(codec_write_uint(&b_, 65535), "cdffff");
	CHECK_WRITES(codec_write_uint(&b_, 65536), "ce00010000");
	CHECK_WRITES(codec_write_uint(&b_, UINT32_MAX), "ceffffffff");
	CHECK_WRITES(codec_write_uint(&b_, UINT64_C(0x100000000)), "cf0000000100000000");
	CHECK_WRITES(codec_write_uint(&b_, UINT64_MAX), "cfffffffffffffffff");
	CHECK_WRITES(codec_write_int(&b_, 5), "05");
	CHECK_WRITES(codec_write_int(&b_, -1), "ff");
	CHECK_WRITES(codec_write_int(&b_, -32), "e0");
	CHECK_WRITES(codec_write_int(&b_, -33), "d0df");
	CHECK_WRITES(codec_write_int(&b_, -128), "d080");
	CHECK_WRITES(codec_write_int(&b_, -129), "d1ff7f");
	CHECK_WRITES(codec_write_int(&b_, -32768), "d18000");
	CHECK_WRITES(codec_write_int(&b_, -32769), "d2ffff7fff");
	CHECK_WRITES(codec_write_int(&b_, INT32_MIN), "d280000000");
	CHECK_WRITES(codec_write_int(&b_, (int64_t)INT32_MIN - 1), "d3ffffffff7fffffff");
	CHECK_WRITES(codec_write_int(&b_, INT64_MIN), "d38000000000000000");
	CHECK_WRITES(codec_write_int(&b_, INT64_MAX), "cf7fffffffffffffff");
}

static void test_write_headers_shortest(void)
{
	CHECK_WRITES(codec_write_str(&b_, "abc", 3), "a3616263");
	CHECK_WRITES(codec_write_str(&b_, "", 0), "a0");
	CHECK_WRITES(codec_write_bin(&b_, (const uint8_t *)"\x01", 1), "c40101");
	CHECK_WRITES(codec_write_bin(&b_, NULL, 0), "c400");
	CHECK_WRITES(codec_write_array_header(&b_, 15), "9f");
	CHECK_WRITES(codec_write_array_header(&b_, 16), "dc0010");
	CHECK_WRITES(codec_write_array_header(&b_, 65536), "dd00010000");
	CHECK_WRITES(codec_write_map_header(&b_, 0), "80");
	CHECK_WRITES(codec_write_map_header(&b_, 16), "de0010");
	CHECK_WRITES(codec_write_nil(&b_), "c0");
	CHECK_WRITES(codec_write_bool(&b_, true), "c3");
	/* string length boundaries: 31 fixstr, 32 str 8, 256 str 16 */
	static char text[70000];
	memset(text, 'x', sizeof text);
	static const size_t lengths[] = { 31, 32, 255, 256, 65535, 65536 };
	static const size_t header_bytes[] = { 1, 2, 2, 3, 3, 5 };
	for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
		struct sl_buf buf;
		sl_buf_init(&buf, 1 << 20);
		REQUIRE(codec_write_str(&buf, text, lengths[i]) == 0);
		CHECK_INT_EQ(buf.len, lengths[i] + header_bytes[i]);
		struct codec_reader reader;
		codec_reader_init(&reader, buf.data, buf.len);
		struct sl_str back;
		CHECK_INT_EQ(codec_read_str(&reader, SIZE_MAX, &back), 0);
		CHECK_INT_EQ(back.len, lengths[i]);
		CHECK_INT_EQ(codec_reader_finish(&reader), 0);
		sl_buf_reset(&buf);
		REQUIRE(codec_write_bin(&buf, (const uint8_t *)text, lengths[i]) == 0);
		codec_reader_init(&reader, buf.data, buf.len);
		const uint8_t *bin;
		size_t bin_len;
		CHECK_INT_EQ(codec_read_bin(&reader, SIZE_MAX, &bin, &bin_len), 0);
		CHECK_INT_EQ(bin_len, lengths[i]);
		sl_buf_free(&buf);
	}
	/* a buffer limit is honoured */
	struct sl_buf small;
	sl_buf_init(&small, 4);
	CHECK_INT_EQ(codec_write_str(&small, "abcdef", 6), SL_ELIMIT);
	sl_buf_free(&small);
}

static int read_uint_hex(const char *hex, uint64_t max, uint64_t *out)
{
	uint8_t bytes[32];
	size_t n = hex_to_bytes(hex, bytes, sizeof bytes);
	struct codec_reader reader;
	codec_reader_init(&reader, bytes, n);
	int rc = codec_read_uint(&reader, max, out);
	return rc == 0 ? codec_reader_finish(&reader) : rc;
}

static int read_int_hex(const char *hex, int64_t *out)
{
	uint8_t bytes[32];
	size_t n = hex_to_bytes(hex, bytes, sizeof bytes);
	struct codec_reader reader;
	codec_reader_init(&reader, bytes, n);
	int rc = codec_read_int(&reader, INT64_MIN, INT64_MAX, out);
	return rc == 0 ? codec_reader_finish(&reader) : rc;
}

static void test_read_integers_strict(void)
{
	uint64_t u = 0;
	int64_t i = 0;
	CHECK_INT_EQ(read_uint_hex("7f", UINT64_MAX, &u), 0);
	CHECK_INT_EQ(u, 127);
	CHECK_INT_EQ(read_uint_hex("cc80", UINT64_MAX, &u), 0);
	CHECK_INT_EQ(u, 128);
	CHECK_INT_EQ(read_uint_hex("cfffffffffffffffff", UINT64_MAX, &u), 0);
	CHECK(u == UINT64_MAX);
	/* longer forms than needed */
	CHECK_INT_EQ(read_uint_hex("cc05", UINT64_MAX, &u), SL_ENONCANONICAL);
	CHECK_INT_EQ(read_uint_hex("cc7f", UINT64_MAX, &u), SL_ENONCANONICAL);
	CHECK_INT_EQ(read_uint_hex("cd00ff", UINT64_MAX, &u), SL_ENONCANONICAL);
	CHECK_INT_EQ(read_uint_hex("ce0000ffff", UINT64_MAX, &u), SL_ENONCANONICAL);
	CHECK_INT_EQ(read_uint_hex("cf00000000ffffffff", UINT64_MAX, &u), SL_ENONCANONICAL);
	CHECK_INT_EQ(read_uint_hex("d005", UINT64_MAX, &u), SL_ENONCANONICAL); /* int 8 holding 5 */
	/* ranges and types */
	CHECK_INT_EQ(read_uint_hex("0b", 10, &u), SL_EVALUE);
	CHECK_INT_EQ(read_uint_hex("ff", UINT64_MAX, &u), SL_EVALUE); /* -1 */
	CHECK_INT_EQ(read_uint_hex("ca3f800000", UINT64_MAX, &u), SL_ETYPE); /* float 32 */
	CHECK_INT_EQ(read_uint_hex("cb3ff0000000000000", UINT64_MAX, &u), SL_ETYPE); /* float 64 */
	CHECK_INT_EQ(read_uint_hex("c0", UINT64_MAX, &u), SL_ETYPE);		   /* nil */
	CHECK_INT_EQ(read_uint_hex("c1", UINT64_MAX, &u), SL_ETYPE);		   /* never used */
	CHECK_INT_EQ(read_uint_hex("d40100", UINT64_MAX, &u), SL_ETYPE);	   /* fixext 1 */
	CHECK_INT_EQ(read_uint_hex("a130", UINT64_MAX, &u), SL_ETYPE);		   /* "0" */
	CHECK_INT_EQ(read_uint_hex("cd01", UINT64_MAX, &u), SL_ETRUNCATED);
	CHECK_INT_EQ(read_uint_hex("", UINT64_MAX, &u), SL_ETRUNCATED);
	CHECK_INT_EQ(read_uint_hex("0101", UINT64_MAX, &u), SL_ETRAILING);
	/* signed */
	CHECK_INT_EQ(read_int_hex("e0", &i), 0);
	CHECK_INT_EQ(i, -32);
	CHECK_INT_EQ(read_int_hex("d0df", &i), 0);
	CHECK_INT_EQ(i, -33);
	CHECK_INT_EQ(read_int_hex("d38000000000000000", &i), 0);
	CHECK(i == INT64_MIN);
	CHECK_INT_EQ(read_int_hex("d0e0", &i), SL_ENONCANONICAL);		/* -32 fits a fixint */
	CHECK_INT_EQ(read_int_hex("d1ff80", &i), SL_ENONCANONICAL);		/* -128 fits int 8 */
	CHECK_INT_EQ(read_int_hex("d2ffff8000", &i), SL_ENONCANONICAL);	/* -32768 fits int 16 */
	CHECK_INT_EQ(read_int_hex("d3ffffffff80000000", &i), SL_ENONCANONICAL); /* fits int 32 */
	CHECK_INT_EQ(read_int_hex("d10005", &i), SL_ENONCANONICAL);		/* positive in int 16 */
	CHECK_INT_EQ(read_int_hex("cf8000000000000000", &i), SL_EVALUE);	/* above INT64_MAX */
	CHECK_INT_EQ(read_int_hex("cf7fffffffffffffff", &i), 0);
	CHECK(i == INT64_MAX);
}

static int read_str_hex(const char *hex, size_t max, struct sl_str *out)
{
	static uint8_t bytes[512];
	size_t n = hex_to_bytes(hex, bytes, sizeof bytes);
	struct codec_reader reader;
	codec_reader_init(&reader, bytes, n);
	int rc = codec_read_str(&reader, max, out);
	return rc == 0 ? codec_reader_finish(&reader) : rc;
}

static void test_read_strings_strict(void)
{
	struct sl_str s;
	CHECK_INT_EQ(read_str_hex("a3616263", 10, &s), 0);
	CHECK(sl_str_eq_cstr(s, "abc"));
	CHECK_INT_EQ(read_str_hex("d903616263", 10, &s), SL_ENONCANONICAL); /* str 8 for 3 bytes */
	CHECK_INT_EQ(read_str_hex("da0003616263", 10, &s), SL_ENONCANONICAL);
	CHECK_INT_EQ(read_str_hex("a3616263", 2, &s), SL_EOVERSIZE);
	CHECK_INT_EQ(read_str_hex("a46162", 10, &s), SL_ETRUNCATED);
	CHECK_INT_EQ(read_str_hex("c403616263", 10, &s), SL_ETYPE); /* bin, not str */
	/* UTF-8 */
	CHECK_INT_EQ(read_str_hex("a2c3a9", 10, &s), 0);	 /* é */
	CHECK_INT_EQ(read_str_hex("a4f09f9880", 10, &s), 0); /* U+1F600 */
	CHECK_INT_EQ(read_str_hex("a2c080", 10, &s), SL_EVALUE);     /* overlong NUL */
	CHECK_INT_EQ(read_str_hex("a3e08080", 10, &s), SL_EVALUE);   /* overlong */
	CHECK_INT_EQ(read_str_hex("a3eda080", 10, &s), SL_EVALUE);   /* surrogate */
	CHECK_INT_EQ(read_str_hex("a4f4908080", 10, &s), SL_EVALUE); /* above U+10FFFF */
	CHECK_INT_EQ(read_str_hex("a2e282", 10, &s), SL_EVALUE);     /* cut sequence */
	CHECK_INT_EQ(read_str_hex("a180", 10, &s), SL_EVALUE);	     /* lone continuation */
	size_t chars = 0;
	CHECK(codec_utf8_valid((const uint8_t *)"a\xc3\xa9\xe2\x82\xac", 6, &chars));
	CHECK_INT_EQ(chars, 3);

	uint8_t bytes[16];
	size_t n = hex_to_bytes("c5000401020304", bytes, sizeof bytes); /* bin 16 for 4 bytes */
	struct codec_reader reader;
	codec_reader_init(&reader, bytes, n);
	const uint8_t *bin;
	size_t bin_len;
	CHECK_INT_EQ(codec_read_bin(&reader, 100, &bin, &bin_len), SL_ENONCANONICAL);
	n = hex_to_bytes("c40401020304", bytes, sizeof bytes);
	codec_reader_init(&reader, bytes, n);
	CHECK_INT_EQ(codec_read_bin_exact(&reader, 3, &bin), SL_EVALUE);
	codec_reader_init(&reader, bytes, n);
	CHECK_INT_EQ(codec_read_bin_exact(&reader, 4, &bin), 0);
	CHECK_INT_EQ(bin[3], 4);
}

static void test_read_collections_strict(void)
{
	uint8_t bytes[64];
	struct codec_reader reader;
	uint32_t count;
	size_t n = hex_to_bytes("dc0003010203", bytes, sizeof bytes); /* array 16 for 3 */
	codec_reader_init(&reader, bytes, n);
	CHECK_INT_EQ(codec_read_array_header(&reader, 100, &count), SL_ENONCANONICAL);
	n = hex_to_bytes("93010203", bytes, sizeof bytes);
	codec_reader_init(&reader, bytes, n);
	CHECK_INT_EQ(codec_read_array_header(&reader, 2, &count), SL_EOVERSIZE);
	codec_reader_init(&reader, bytes, n);
	CHECK_INT_EQ(codec_read_array_header(&reader, 3, &count), 0);
	CHECK_INT_EQ(count, 3);
	/* a count larger than the bytes left is refused before anyone allocates from it */
	n = hex_to_bytes("ddffffffff00", bytes, sizeof bytes);
	codec_reader_init(&reader, bytes, n);
	CHECK_INT_EQ(codec_read_array_header(&reader, UINT32_MAX, &count), SL_ETRUNCATED);
	n = hex_to_bytes("de000101", bytes, sizeof bytes); /* map 16 for 1 */
	codec_reader_init(&reader, bytes, n);
	CHECK_INT_EQ(codec_read_map_header(&reader, 100, &count), SL_ENONCANONICAL);
}

static int walk_map_hex(const char *hex, uint64_t *seen)
{
	uint8_t bytes[64];
	size_t n = hex_to_bytes(hex, bytes, sizeof bytes);
	struct codec_reader reader;
	codec_reader_init(&reader, bytes, n);
	struct codec_map map;
	int rc = codec_map_begin(&reader, &map);
	unsigned key;
	while (rc == 0 && (rc = codec_map_next(&reader, &map, &key)) == 1)
		rc = codec_skip_value(&reader);
	*seen = map.seen;
	if (rc == 0)
		rc = codec_reader_finish(&reader);
	return rc;
}

static void test_map_keys(void)
{
	uint64_t seen;
	CHECK_INT_EQ(walk_map_hex("83000102030405", &seen), 0);
	CHECK(seen == 0x15);
	struct codec_map map = { 0, 5, 0x21 };
	CHECK_INT_EQ(codec_map_missing(&map, 0x23), 1);
	CHECK_INT_EQ(codec_map_missing(&map, 0x21), -1);
	CHECK_INT_EQ(walk_map_hex("8202010001", &seen), SL_ENONCANONICAL); /* 2 then 0 */
	CHECK_INT_EQ(walk_map_hex("8201010101", &seen), SL_EDUPFIELD);	   /* 1 twice */
	CHECK_INT_EQ(walk_map_hex("83010102020101", &seen), SL_EDUPFIELD);   /* 1, 2, 1 */
	CHECK_INT_EQ(walk_map_hex("81cc0501", &seen), SL_ENONCANONICAL);   /* key 5 as uint 8 */
	CHECK_INT_EQ(walk_map_hex("814001", &seen), SL_EUNKNOWNFIELD);     /* key 64 */
	CHECK_INT_EQ(walk_map_hex("81ff01", &seen), SL_EUNKNOWNFIELD);     /* key -1 */
	CHECK_INT_EQ(walk_map_hex("81a16101", &seen), SL_ETYPE);	   /* string key */
	CHECK_INT_EQ(walk_map_hex("820001", &seen), SL_ETRUNCATED);
	CHECK_INT_EQ(walk_map_hex("810001c0", &seen), SL_ETRAILING);
}

static void test_skip_value(void)
{
	uint8_t bytes[64];
	/* [1, {0: "a", 1: [true, nil]}, bin(2), -5] then one more byte */
	size_t n = hex_to_bytes("94018200a16101 92c3c0c4020102fb 07", bytes, sizeof bytes);
	struct codec_reader reader;
	codec_reader_init(&reader, bytes, n);
	CHECK_INT_EQ(codec_skip_value(&reader), 0);
	CHECK_INT_EQ(codec_reader_remaining(&reader), 1);
	CHECK_INT_EQ(codec_peek_kind(&reader), CODEC_KIND_UINT);
	codec_reader_init(&reader, bytes, n - 3);
	CHECK_INT_EQ(codec_skip_value(&reader), SL_ETRUNCATED);
	n = hex_to_bytes("92cb000000000000000001", bytes, sizeof bytes);
	codec_reader_init(&reader, bytes, n);
	CHECK_INT_EQ(codec_skip_value(&reader), SL_ETYPE);
	/* nesting does not recurse: a deep array of arrays is fine */
	static uint8_t deep[10001];
	memset(deep, 0x91, 10000);
	deep[10000] = 0x00;
	codec_reader_init(&reader, deep, sizeof deep);
	CHECK_INT_EQ(codec_skip_value(&reader), 0);
	codec_reader_init(&reader, deep, sizeof deep - 1);
	CHECK_INT_EQ(codec_skip_value(&reader), SL_ETRUNCATED);
}

static const struct test_case cases[] = {
	TEST_CASE(test_write_integers_shortest),
	TEST_CASE(test_write_headers_shortest),
	TEST_CASE(test_read_integers_strict),
	TEST_CASE(test_read_strings_strict),
	TEST_CASE(test_read_collections_strict),
	TEST_CASE(test_map_keys),
	TEST_CASE(test_skip_value),
};

TEST_MAIN(cases)
