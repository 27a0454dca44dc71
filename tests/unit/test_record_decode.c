/* tests/unit/test_record_decode.c — the strict record decoder: every malformed class gets its code.
 *
 * Malformed inputs are made by cutting a valid encoding into its map entries (record_samples.h)
 * and putting them back with one thing wrong, so each case fails for the one reason it names.
 */
#include "ledger/record.h"

#include <sodium.h>

#include "ledger/codec.h"
#include "ledger/gs1.h"
#include "tests/unit/record_samples.h"
/* test.h's messages and test_rmtree snprintf into fixed buffers; GCC's truncation warning there
 * is about the harness, not this file */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include "tests/unit/test.h"

#define BUF_LIMIT (1 << 20)

static int decode_rc(const uint8_t *bytes, size_t len)
{
	struct record record;
	int rc = record_decode(bytes, len, &record, NULL);
	record_clear(&record);
	return rc;
}

static int decode_buf_rc(const struct sl_buf *buf)
{
	return decode_rc(buf->data, buf->len);
}

static void test_every_prefix_is_truncated(void)
{
	REQUIRE(crypto_init() == 0);
	for (int type = RECORD_TYPE_MIN; type <= RECORD_TYPE_MAX; type++) {
		struct sl_buf buf;
		sl_buf_init(&buf, BUF_LIMIT);
		sample_encode((enum record_type)type, &buf);
		/* exact-size copies so the sanitizer build catches any read past the end */
		for (size_t len = 0; len < buf.len; len++) {
			uint8_t *copy = malloc(len ? len : 1);
			REQUIRE(copy != NULL);
			memcpy(copy, buf.data, len);
			int rc = decode_rc(copy, len);
			if (rc != SL_ETRUNCATED)
				printf("  type %d prefix %zu: %s\n", type, len, sl_errname(rc));
			CHECK_INT_EQ(rc, SL_ETRUNCATED);
			free(copy);
		}
		sl_buf_free(&buf);
	}
}

/* The sample of `type`, signed, cut into envelope fields (and body fields). */
struct cut {
	struct sl_buf encoded;
	struct sample_field fields[SAMPLE_FIELDS_MAX];
	size_t count;
	struct sample_field body[SAMPLE_FIELDS_MAX];
	size_t body_count;
	size_t body_index;
	bool body_raw; /* use fields[body_index] as it is, not re-joined from body[] */
};

static void cut_make(struct cut *cut, enum record_type type)
{
	sl_buf_init(&cut->encoded, BUF_LIMIT);
	sample_encode(type, &cut->encoded);
	cut->count = sample_split(cut->encoded.data, cut->encoded.len, cut->fields);
	cut->body_count = 0;
	cut->body_raw = false;
	for (size_t i = 0; i < cut->count; i++) {
		if (cut->fields[i].key == 10) {
			cut->body_index = i;
			cut->body_count = sample_split(cut->fields[i].value, cut->fields[i].len, cut->body);
		}
	}
}

static size_t cut_find(const struct cut *cut, uint64_t key)
{
	for (size_t i = 0; i < cut->count; i++) {
		if (cut->fields[i].key == key)
			return i;
	}
	abort();
}

/* Re-join with the body re-joined from cut->body; the result is decoded and its code returned. */
static int cut_decode(struct cut *cut, struct sl_error_detail *detail)
{
	struct sl_buf body, out;
	sl_buf_init(&body, BUF_LIMIT);
	sl_buf_init(&out, BUF_LIMIT);
	sample_join(cut->body, cut->body_count, &body);
	struct sample_field saved = cut->fields[cut->body_index];
	if (!cut->body_raw) {
		cut->fields[cut->body_index].value = body.data;
		cut->fields[cut->body_index].len = body.len;
	}
	sample_join(cut->fields, cut->count, &out);
	cut->fields[cut->body_index] = saved;
	struct record record;
	int rc = record_decode(out.data, out.len, &record, detail);
	record_clear(&record);
	sl_buf_free(&body);
	sl_buf_free(&out);
	return rc;
}

static void cut_free(struct cut *cut)
{
	sl_buf_free(&cut->encoded);
}

/* Replace the value of envelope key `key` with the given raw msgpack bytes and decode. */
static int with_value(enum record_type type, uint64_t key, const void *value, size_t len,
		      struct sl_error_detail *detail)
{
	struct cut cut;
	cut_make(&cut, type);
	size_t i = cut_find(&cut, key);
	cut.fields[i].value = value;
	cut.fields[i].len = len;
	cut.body_raw = key == 10;
	int rc = cut_decode(&cut, detail);
	cut_free(&cut);
	return rc;
}

/* Replace body key `key` (must exist) with raw bytes and decode. */
static int with_body_value(enum record_type type, uint64_t key, const void *value, size_t len)
{
	struct cut cut;
	cut_make(&cut, type);
	bool found = false;
	for (size_t i = 0; i < cut.body_count; i++) {
		if (cut.body[i].key == key) {
			cut.body[i].value = value;
			cut.body[i].len = len;
			found = true;
		}
	}
	if (!found)
		abort();
	int rc = cut_decode(&cut, NULL);
	cut_free(&cut);
	return rc;
}

static int with_body_str(enum record_type type, uint64_t key, const char *text)
{
	struct sl_buf buf;
	sl_buf_init(&buf, BUF_LIMIT);
	if (codec_write_str(&buf, text, strlen(text)) != 0)
		abort();
	int rc = with_body_value(type, key, buf.data, buf.len);
	sl_buf_free(&buf);
	return rc;
}

static int with_str(enum record_type type, uint64_t key, const char *text, size_t len)
{
	struct sl_buf buf;
	sl_buf_init(&buf, BUF_LIMIT);
	if (codec_write_str(&buf, text, len) != 0)
		abort();
	int rc = with_value(type, key, buf.data, buf.len, NULL);
	sl_buf_free(&buf);
	return rc;
}

static void test_cut_and_join_is_identity(void)
{
	REQUIRE(crypto_init() == 0);
	struct cut cut;
	cut_make(&cut, RECORD_SHIP);
	CHECK_INT_EQ(cut.count, 10); /* keys 0..7, 10, 11 */
	CHECK_INT_EQ(cut.body_count, 2);
	CHECK_INT_EQ(cut_decode(&cut, NULL), 0);
	cut_free(&cut);
}

static void test_non_shortest_forms(void)
{
	REQUIRE(crypto_init() == 0);
	CHECK_INT_EQ(with_value(RECORD_SHIP, 5, "\xcc\x01", 2, NULL), SL_ENONCANONICAL); /* meaning 1 as uint 8 */
	CHECK_INT_EQ(with_value(RECORD_SHIP, 5, "\xd0\x01", 2, NULL), SL_ENONCANONICAL); /* as int 8 */
	CHECK_INT_EQ(with_value(RECORD_SHIP, 0, "\xcd\x00\x01", 3, NULL), SL_ENONCANONICAL);
	CHECK_INT_EQ(with_value(RECORD_SHIP, 2, "\xd9\x06site-a", 8, NULL), SL_ENONCANONICAL); /* str 8 */
	/* event time in uint 64 when uint 32 would do */
	CHECK_INT_EQ(with_value(RECORD_SHIP, 6, "\xcf\x00\x00\x00\x00\x00\x00\x10\x00", 9, NULL), SL_ENONCANONICAL);
	/* a key written as uint 8: splice "cc 01" for the type key after "version 1" */
	struct sl_buf buf, bad;
	sl_buf_init(&buf, BUF_LIMIT);
	sl_buf_init(&bad, BUF_LIMIT);
	sample_encode(RECORD_SHIP, &buf);
	REQUIRE(buf.data[1] == 0x00 && buf.data[2] == 0x01 && buf.data[3] == 0x01);
	REQUIRE(sl_buf_append(&bad, buf.data, 3) == 0);
	REQUIRE(sl_buf_append(&bad, "\xcc", 1) == 0);
	REQUIRE(sl_buf_append(&bad, buf.data + 3, buf.len - 3) == 0);
	CHECK_INT_EQ(decode_buf_rc(&bad), SL_ENONCANONICAL);
	/* the envelope map header as map 16 */
	sl_buf_reset(&bad);
	REQUIRE(sl_buf_append(&bad, "\xde\x00", 2) == 0);
	uint8_t count = buf.data[0] & 0x0f;
	REQUIRE(sl_buf_append(&bad, &count, 1) == 0);
	REQUIRE(sl_buf_append(&bad, buf.data + 1, buf.len - 1) == 0);
	CHECK_INT_EQ(decode_buf_rc(&bad), SL_ENONCANONICAL);
	/* items array as array 16 */
	CHECK_INT_EQ(with_body_value(RECORD_RECEIVE, 0, "\xdc\x00\x01\xb6" SAMPLE_SSCC_1, 26), SL_ENONCANONICAL);
	sl_buf_free(&buf);
	sl_buf_free(&bad);
}

static void test_key_order_duplicates_unknown(void)
{
	REQUIRE(crypto_init() == 0);
	struct cut cut;
	struct sl_error_detail detail;
	/* out of order: site and key_id swapped */
	cut_make(&cut, RECORD_SHIP);
	struct sample_field t = cut.fields[2];
	cut.fields[2] = cut.fields[3];
	cut.fields[3] = t;
	CHECK_INT_EQ(cut_decode(&cut, NULL), SL_ENONCANONICAL);
	cut_free(&cut);
	/* duplicated: site twice */
	cut_make(&cut, RECORD_SHIP);
	memmove(&cut.fields[3], &cut.fields[2], (cut.count - 2) * sizeof cut.fields[0]);
	cut.count++;
	cut.body_index++;
	CHECK_INT_EQ(cut_decode(&cut, NULL), SL_EDUPFIELD);
	cut_free(&cut);
	/* unknown envelope key 12 after the signature, and key 63, and key 64 */
	static const uint64_t unknown_keys[] = { 12, 63, 64, 1000 };
	for (size_t k = 0; k < sizeof unknown_keys / sizeof unknown_keys[0]; k++) {
		cut_make(&cut, RECORD_SHIP);
		cut.fields[cut.count++] = (struct sample_field){ unknown_keys[k], (const uint8_t *)"\x01", 1 };
		CHECK_INT_EQ(cut_decode(&cut, &detail), SL_EUNKNOWNFIELD);
		cut_free(&cut);
	}
	/* unknown body key: ship has keys 0 and 1 only */
	cut_make(&cut, RECORD_SHIP);
	cut.body[cut.body_count++] = (struct sample_field){ 2, (const uint8_t *)"\x01", 1 };
	CHECK_INT_EQ(cut_decode(&cut, &detail), SL_EUNKNOWNFIELD);
	CHECK(strstr(detail.text, "body") != NULL);
	cut_free(&cut);
	/* duplicated body key */
	cut_make(&cut, RECORD_SHIP);
	cut.body[2] = cut.body[1];
	cut.body_count = 3;
	CHECK_INT_EQ(cut_decode(&cut, NULL), SL_EDUPFIELD);
	cut_free(&cut);
	/* body keys out of order */
	cut_make(&cut, RECORD_SHIP);
	t = cut.body[0];
	cut.body[0] = cut.body[1];
	cut.body[1] = t;
	CHECK_INT_EQ(cut_decode(&cut, NULL), SL_ENONCANONICAL);
	cut_free(&cut);
}

static void test_missing_fields(void)
{
	REQUIRE(crypto_init() == 0);
	static const uint64_t required[] = { 0, 1, 2, 3, 4, 5, 6, 7, 10, 11 };
	for (size_t k = 0; k < sizeof required / sizeof required[0]; k++) {
		struct cut cut;
		cut_make(&cut, RECORD_SHIP);
		size_t i = cut_find(&cut, required[k]);
		memmove(&cut.fields[i], &cut.fields[i + 1], (cut.count - i - 1) * sizeof cut.fields[0]);
		cut.count--;
		if (cut.body_index > i)
			cut.body_index--;
		if (required[k] == 10)
			cut.body_index = cut.count; /* no body to re-join: point past the end */
		int rc;
		if (required[k] == 10) {
			struct sl_buf out;
			sl_buf_init(&out, BUF_LIMIT);
			sample_join(cut.fields, cut.count, &out);
			rc = decode_buf_rc(&out);
			sl_buf_free(&out);
		} else {
			rc = cut_decode(&cut, NULL);
		}
		if (rc != SL_EMISSING)
			printf("  without key %" PRIu64 ": %s\n", required[k], sl_errname(rc));
		CHECK_INT_EQ(rc, SL_EMISSING);
		cut_free(&cut);
	}
	/* body fields: ship without "to", lock without target */
	struct cut cut;
	cut_make(&cut, RECORD_SHIP);
	cut.body_count = 1;
	struct sl_error_detail detail;
	CHECK_INT_EQ(cut_decode(&cut, &detail), SL_EMISSING);
	CHECK(strstr(detail.text, "to") != NULL);
	cut_free(&cut);
	cut_make(&cut, RECORD_LOCK);
	cut.body[1] = cut.body[2];
	cut.body_count = 2;
	CHECK_INT_EQ(cut_decode(&cut, NULL), SL_EMISSING);
	cut_free(&cut);
	/* the empty map and empty input */
	CHECK_INT_EQ(decode_rc((const uint8_t *)"\x80", 1), SL_EMISSING);
	CHECK_INT_EQ(decode_rc((const uint8_t *)"", 0), SL_ETRUNCATED);
	CHECK_INT_EQ(decode_rc(NULL, 0), SL_ETRUNCATED);
}

static void test_version_trailing_types(void)
{
	REQUIRE(crypto_init() == 0);
	struct sl_error_detail detail;
	CHECK_INT_EQ(with_value(RECORD_SHIP, 0, "\x02", 1, &detail), SL_EVERSION);
	CHECK(strstr(detail.text, "version") != NULL);
	CHECK_INT_EQ(with_value(RECORD_SHIP, 0, "\x00", 1, NULL), SL_EVERSION);
	/* trailing byte */
	struct sl_buf buf;
	sl_buf_init(&buf, BUF_LIMIT);
	sample_encode(RECORD_SHIP, &buf);
	REQUIRE(sl_buf_append(&buf, "\x00", 1) == 0);
	CHECK_INT_EQ(decode_buf_rc(&buf), SL_ETRAILING);
	/* a second record appended is trailing bytes too */
	struct sl_buf twice;
	sl_buf_init(&twice, BUF_LIMIT);
	REQUIRE(sl_buf_append(&twice, buf.data, buf.len - 1) == 0);
	REQUIRE(sl_buf_append(&twice, buf.data, buf.len - 1) == 0);
	CHECK_INT_EQ(decode_buf_rc(&twice), SL_ETRAILING);
	sl_buf_free(&twice);
	sl_buf_free(&buf);
	/* wrong types */
	CHECK_INT_EQ(with_value(RECORD_SHIP, 6, "\xcb\x42\x78\xbc\xfe\x56\x80\x00\x00", 9, NULL), SL_ETYPE); /* float */
	CHECK_INT_EQ(with_value(RECORD_SHIP, 6, "\xca\x53\x45\xe7\xf2", 5, NULL), SL_ETYPE);
	CHECK_INT_EQ(with_value(RECORD_SHIP, 5, "\xc0", 1, NULL), SL_ETYPE);			/* nil */
	CHECK_INT_EQ(with_value(RECORD_SHIP, 4, "\xc3", 1, NULL), SL_ETYPE);			/* bool */
	CHECK_INT_EQ(with_value(RECORD_SHIP, 2, "\xc4\x06site-a", 8, NULL), SL_ETYPE);	/* bin */
	CHECK_INT_EQ(with_value(RECORD_SHIP, 3, "\xa2hi", 3, NULL), SL_ETYPE);		/* str for bin */
	CHECK_INT_EQ(with_value(RECORD_SHIP, 10, "\x90", 1, NULL), SL_ETYPE);		/* body array */
	CHECK_INT_EQ(with_value(RECORD_SHIP, 6, "\xd4\x01\x00", 3, NULL), SL_ETYPE);	/* fixext */
	CHECK_INT_EQ(with_body_value(RECORD_SHIP, 0, "\xb6" SAMPLE_SSCC_1, 23), SL_ETYPE); /* str for array */
	CHECK_INT_EQ(decode_rc((const uint8_t *)"\x91\x00", 2), SL_ETYPE); /* not a map */
	/* fixed-size bins of the wrong size */
	uint8_t bin[70];
	memset(bin, 1, sizeof bin);
	bin[0] = 0xc4;
	bin[1] = 15;
	CHECK_INT_EQ(with_value(RECORD_SHIP, 3, bin, 17, NULL), SL_EVALUE); /* key id */
	bin[1] = 17;
	CHECK_INT_EQ(with_value(RECORD_SHIP, 7, bin, 19, NULL), SL_EVALUE); /* nonce */
	bin[1] = 63;
	CHECK_INT_EQ(with_value(RECORD_SHIP, 11, bin, 65, NULL), SL_EVALUE); /* signature */
}

static void test_value_ranges(void)
{
	REQUIRE(crypto_init() == 0);
	CHECK_INT_EQ(with_value(RECORD_SHIP, 1, "\x00", 1, NULL), SL_EVALUE);  /* type 0 */
	const uint8_t beyond = RECORD_TYPE_MAX + 1; /* the first type number not yet defined */
	CHECK_INT_EQ(with_value(RECORD_SHIP, 1, &beyond, 1, NULL), SL_EVALUE);
	CHECK_INT_EQ(with_value(RECORD_SHIP, 5, "\x00", 1, NULL), SL_EVALUE);  /* meaning 0 */
	CHECK_INT_EQ(with_value(RECORD_SHIP, 5, "\x04", 1, NULL), SL_EVALUE);  /* meaning 4 */
	CHECK_INT_EQ(with_value(RECORD_SHIP, 6, "\xff", 1, NULL), SL_EVALUE);  /* time -1 */
	CHECK_INT_EQ(with_value(RECORD_SHIP, 5, "\xce\x00\x01\x00\x00", 5, NULL), SL_EVALUE);
	CHECK_INT_EQ(with_body_value(RECORD_DECOMMISSION, 1, "\x0a", 1), SL_EVALUE);
	CHECK_INT_EQ(with_body_value(RECORD_DECOMMISSION, 1, "\x00", 1), SL_EVALUE);
	CHECK_INT_EQ(with_body_value(RECORD_DECOMMISSION, 1, "\x09", 1), 0); /* checked_out */
	CHECK_INT_EQ(with_body_value(RECORD_LOCK, 0, "\x04", 1), SL_EVALUE);
	CHECK_INT_EQ(with_body_value(RECORD_LOCK, 2, "\x04", 1), SL_EVALUE);
	CHECK_INT_EQ(with_body_value(RECORD_DEVIATION, 0, "\x07", 1), SL_EVALUE);
	/* site ids */
	CHECK_INT_EQ(with_str(RECORD_SHIP, 2, "Site-A", 6), SL_EVALUE);
	CHECK_INT_EQ(with_str(RECORD_SHIP, 2, "1site", 5), SL_EVALUE);
	CHECK_INT_EQ(with_str(RECORD_SHIP, 2, "", 0), SL_EVALUE);
	CHECK_INT_EQ(with_str(RECORD_SHIP, 2, "site_a", 6), SL_EVALUE);
	CHECK_INT_EQ(with_str(RECORD_SHIP, 2, "a-very-long-site-name-of-32-char", 32), 0);
	CHECK_INT_EQ(with_str(RECORD_SHIP, 2, "a-very-long-site-name-of-33-chars", 33), SL_EOVERSIZE);
	CHECK_INT_EQ(with_body_str(RECORD_SHIP, 1, "Site-B"), SL_EVALUE);
	/* actor: printable UTF-8 */
	CHECK_INT_EQ(with_str(RECORD_SHIP, 4, "J\xc3\xb6rg M\xc3\xbcller", 13), 0);
	CHECK_INT_EQ(with_str(RECORD_SHIP, 4, "a\nb", 3), SL_EVALUE);
	CHECK_INT_EQ(with_str(RECORD_SHIP, 4, "a\xc2\x85" "b", 4), SL_EVALUE); /* C1 control */
	CHECK_INT_EQ(with_str(RECORD_SHIP, 4, "", 0), SL_EVALUE);
	CHECK_INT_EQ(with_value(RECORD_SHIP, 4, "\xa2\xc3\x28", 3, NULL), SL_EVALUE); /* bad UTF-8 */
}

static void test_oversize(void)
{
	REQUIRE(crypto_init() == 0);
	char text[5000];
	memset(text, 'x', sizeof text);
	struct sl_error_detail detail;
	CHECK_INT_EQ(with_str(RECORD_SHIP, 4, text, RECORD_ACTOR_CHARS_MAX), 0);
	CHECK_INT_EQ(with_str(RECORD_SHIP, 4, text, RECORD_ACTOR_CHARS_MAX + 1), SL_EOVERSIZE);
	CHECK_INT_EQ(with_str(RECORD_DECOMMISSION, 8, text, RECORD_REASON_CHARS_MAX), 0);
	CHECK_INT_EQ(with_str(RECORD_DECOMMISSION, 8, text, RECORD_REASON_CHARS_MAX + 1), SL_EOVERSIZE);
	/* a string longer than its field's byte bound is refused while reading */
	CHECK_INT_EQ(with_str(RECORD_DECOMMISSION, 8, text, 4 * RECORD_REASON_CHARS_MAX + 1), SL_EOVERSIZE);
	text[RECORD_TEXT_CHARS_MAX + 1] = '\0';
	CHECK_INT_EQ(with_body_str(RECORD_DEVIATION, 2, text), SL_EOVERSIZE);
	text[RECORD_TEXT_CHARS_MAX] = '\0';
	CHECK_INT_EQ(with_body_str(RECORD_DEVIATION, 2, text), 0);
	/* serials over 20 characters, item ids over 42 */
	CHECK_INT_EQ(with_body_value(RECORD_COMMISSION, 3, "\x91\xb5" "ABCDEFGHIJKLMNOPQRSTU", 23), SL_EOVERSIZE);
	/* whole input above RECORD_BYTES_MAX */
	uint8_t *big = calloc(RECORD_BYTES_MAX + 1, 1);
	REQUIRE(big != NULL);
	struct record record;
	CHECK_INT_EQ(record_decode(big, RECORD_BYTES_MAX + 1, &record, &detail), SL_EOVERSIZE);
	free(big);
	/* 65 refs */
	struct sl_buf refs;
	sl_buf_init(&refs, BUF_LIMIT);
	REQUIRE(codec_write_array_header(&refs, RECORD_REFS_MAX + 1) == 0);
	uint8_t ref[RECORD_ID_BYTES] = { 0 };
	for (int i = 0; i <= RECORD_REFS_MAX; i++)
		REQUIRE(codec_write_bin(&refs, ref, sizeof ref) == 0);
	CHECK_INT_EQ(with_body_value(RECORD_DEVIATION, 1, refs.data, refs.len), SL_EOVERSIZE);
	sl_buf_free(&refs);
}

/* A commission body with `count` serials, decoded; 1000 is the maximum. */
static int commission_with_serials(uint32_t count)
{
	struct sl_buf serials;
	sl_buf_init(&serials, BUF_LIMIT);
	if (codec_write_array_header(&serials, count) != 0)
		abort();
	for (uint32_t i = 0; i < count; i++) {
		char serial[21];
		snprintf(serial, sizeof serial, "SERIAL%014u", i);
		if (codec_write_str(&serials, serial, strlen(serial)) != 0)
			abort();
	}
	int rc = with_body_value(RECORD_COMMISSION, 3, serials.data, serials.len);
	sl_buf_free(&serials);
	return rc;
}

static void test_item_limits(void)
{
	REQUIRE(crypto_init() == 0);
	CHECK_INT_EQ(commission_with_serials(RECORD_ITEMS_MAX), 0);
	CHECK_INT_EQ(commission_with_serials(RECORD_ITEMS_MAX + 1), SL_EOVERSIZE);
	CHECK_INT_EQ(commission_with_serials(0), SL_EVALUE);
	CHECK_INT_EQ(with_body_value(RECORD_SHIP, 0, "\x90", 1), SL_EVALUE); /* ship nothing */
	CHECK_INT_EQ(with_body_value(RECORD_DISAGGREGATE, 1, "\x90", 1), 0); /* all children */
	/* the largest legal commission encodes, signs and decodes */
	struct sample s;
	sample_make(&s, RECORD_COMMISSION);
	static char serials[RECORD_ITEMS_MAX][21];
	static struct sl_str items[RECORD_ITEMS_MAX];
	for (int i = 0; i < RECORD_ITEMS_MAX; i++) {
		snprintf(serials[i], sizeof serials[i], "S%019d", i);
		items[i] = sl_str_from_cstr(serials[i]);
	}
	s.record.items = items;
	s.record.item_count = RECORD_ITEMS_MAX;
	sample_sign(&s);
	struct sl_buf buf;
	sl_buf_init(&buf, BUF_LIMIT);
	REQUIRE(record_encode(&s.record, &buf) == 0);
	CHECK(buf.len <= RECORD_BYTES_MAX);
	CHECK_INT_EQ(decode_buf_rc(&buf), 0);
	s.record.item_count = RECORD_ITEMS_MAX + 1; /* the encoder refuses what the decoder would */
	sl_buf_reset(&buf);
	CHECK_INT_EQ(record_encode(&s.record, &buf), SL_EOVERSIZE);
	CHECK_INT_EQ(buf.len, 0);
	sl_buf_free(&buf);
}

static void test_identifiers(void)
{
	REQUIRE(crypto_init() == 0);
	static const char bad_check[] = "(01)09506000134353(21)SN0001";
	int gs1_rc = gs1_item_id_parse(bad_check, strlen(bad_check), NULL, NULL);
	CHECK(gs1_rc < 0);
	struct sl_buf items;
	sl_buf_init(&items, BUF_LIMIT);
	REQUIRE(codec_write_array_header(&items, 1) == 0);
	REQUIRE(codec_write_str(&items, bad_check, strlen(bad_check)) == 0);
	CHECK_INT_EQ(with_body_value(RECORD_SHIP, 0, items.data, items.len), gs1_rc);
	CHECK_INT_EQ(with_body_value(RECORD_RECEIVE, 0, items.data, items.len), gs1_rc);
	/* a pack id where a container is required */
	sl_buf_reset(&items);
	REQUIRE(codec_write_array_header(&items, 1) == 0);
	REQUIRE(codec_write_str(&items, SAMPLE_PACK_1, strlen(SAMPLE_PACK_1)) == 0);
	CHECK_INT_EQ(with_body_value(RECORD_COMMISSION_CONTAINER, 0, items.data, items.len), SL_EVALUE);
	CHECK_INT_EQ(with_body_value(RECORD_SHIP, 0, items.data, items.len), 0);
	/* other spellings of an item are not item ids */
	sl_buf_reset(&items);
	REQUIRE(codec_write_array_header(&items, 1) == 0);
	REQUIRE(codec_write_str(&items, "urn:epc:id:sscc:0614141.1234567890", 34) == 0);
	CHECK(with_body_value(RECORD_SHIP, 0, items.data, items.len) < 0);
	sl_buf_free(&items);
	CHECK(with_body_str(RECORD_AGGREGATE, 0, "(00)106141412345678907") < 0); /* parent check digit */
	/* commission fields */
	CHECK_INT_EQ(with_body_str(RECORD_COMMISSION, 0, "9506000134352"), SL_EVALUE); /* GTIN-13 form */
	CHECK_INT_EQ(with_body_str(RECORD_COMMISSION, 0, "09506000134353"), SL_ECHECKDIGIT);
	CHECK_INT_EQ(with_body_str(RECORD_COMMISSION, 0, "095060001343520"), SL_EOVERSIZE);
	CHECK(with_body_str(RECORD_COMMISSION, 1, "LOT 42") < 0); /* space is not CSET 82 */
	CHECK(with_body_str(RECORD_COMMISSION, 1, "") < 0);
	CHECK_INT_EQ(with_body_str(RECORD_COMMISSION, 1, "ABCDEFGHIJKLMNOPQRSTU"), SL_EOVERSIZE);
	CHECK(with_body_str(RECORD_COMMISSION, 2, "261332") < 0);
	CHECK_INT_EQ(with_body_str(RECORD_COMMISSION, 2, "2612310"), SL_EOVERSIZE);
	CHECK_INT_EQ(with_body_str(RECORD_COMMISSION, 2, "261200"), 0); /* day 00 */
	CHECK(with_body_value(RECORD_COMMISSION, 3, "\x91\xa6SN 001", 8) < 0);
}

static void test_error_detail_names_field(void)
{
	REQUIRE(crypto_init() == 0);
	struct sl_error_detail detail;
	struct sl_buf items;
	sl_buf_init(&items, BUF_LIMIT);
	REQUIRE(codec_write_array_header(&items, 2) == 0);
	REQUIRE(codec_write_str(&items, SAMPLE_PACK_1, strlen(SAMPLE_PACK_1)) == 0);
	REQUIRE(codec_write_str(&items, "(01)bad", 7) == 0);
	struct cut cut;
	cut_make(&cut, RECORD_SHIP);
	cut.body[0].value = items.data;
	cut.body[0].len = items.len;
	CHECK(cut_decode(&cut, &detail) < 0);
	CHECK(strstr(detail.text, "body.items[1]") != NULL);
	cut_free(&cut);
	sl_buf_free(&items);
	CHECK_INT_EQ(with_value(RECORD_SHIP, 6, "\xca\x53\x45\xe7\xf2", 5, &detail), SL_ETYPE);
	CHECK(strstr(detail.text, "event_time_ms") != NULL);
}

/* Checkpoint bodies: origin syntax, size, root and note signature lengths. */
static void test_checkpoint_body(void)
{
	REQUIRE(crypto_init() == 0);
	CHECK_INT_EQ(with_body_str(RECORD_CHECKPOINT, 0, "siteledger/eu-cluster"), 0);
	CHECK_INT_EQ(with_body_str(RECORD_CHECKPOINT, 0, "siteledger/eu cluster"), SL_EVALUE); /* space */
	CHECK_INT_EQ(with_body_str(RECORD_CHECKPOINT, 0, "siteledger/caf\xc3\xa9"), SL_EVALUE); /* not ASCII */
	CHECK_INT_EQ(with_body_str(RECORD_CHECKPOINT, 0, ""), SL_EVALUE);
	char origin[RECORD_ORIGIN_CHARS_MAX + 2];
	memset(origin, 'o', sizeof origin - 1);
	origin[sizeof origin - 1] = '\0';
	CHECK_INT_EQ(with_body_str(RECORD_CHECKPOINT, 0, origin), SL_EOVERSIZE);
	origin[RECORD_ORIGIN_CHARS_MAX] = '\0';
	CHECK_INT_EQ(with_body_str(RECORD_CHECKPOINT, 0, origin), 0);
	CHECK_INT_EQ(with_body_value(RECORD_CHECKPOINT, 1, "\x00", 1), SL_EVALUE); /* size 0 */
	CHECK_INT_EQ(with_body_value(RECORD_CHECKPOINT, 1, "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9), 0);
	CHECK_INT_EQ(with_body_value(RECORD_CHECKPOINT, 1, "\xa1" "1", 2), SL_ETYPE);
	uint8_t bin[2 + RECORD_NOTE_SIGNATURE_BYTES_MAX + 1];
	memset(bin, 7, sizeof bin);
	bin[0] = 0xc4;
	bin[1] = 31;
	CHECK_INT_EQ(with_body_value(RECORD_CHECKPOINT, 2, bin, 33), SL_EVALUE); /* root of 31 bytes */
	for (size_t len = 0; len <= RECORD_NOTE_SIGNATURE_BYTES_MAX + 1; len++) {
		bin[1] = (uint8_t)len;
		int want = len == 68 || len == 76 ? 0 : len > RECORD_NOTE_SIGNATURE_BYTES_MAX ? SL_EOVERSIZE : SL_EVALUE;
		CHECK_INT_EQ(with_body_value(RECORD_CHECKPOINT, 3, bin, 2 + len), want);
	}
}

static const struct test_case cases[] = {
	TEST_CASE(test_every_prefix_is_truncated),
	TEST_CASE(test_cut_and_join_is_identity),
	TEST_CASE(test_non_shortest_forms),
	TEST_CASE(test_key_order_duplicates_unknown),
	TEST_CASE(test_missing_fields),
	TEST_CASE(test_version_trailing_types),
	TEST_CASE(test_value_ranges),
	TEST_CASE(test_oversize),
	TEST_CASE(test_item_limits),
	TEST_CASE(test_identifiers),
	TEST_CASE(test_error_detail_names_field),
	TEST_CASE(test_checkpoint_body),
};

TEST_MAIN(cases)
