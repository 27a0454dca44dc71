/* tests/unit/test_record.c — record encoding, signatures, record ids, names.
 *
 * The decoder's rejections are in test_record_decode.c. Setting SL_WRITE_FUZZ_CORPUS=DIR writes
 * the fuzz seed corpus (sample records and entries) to DIR (tests/fuzz/corpus/record).
 */
#include "ledger/record.h"

#include <sodium.h>

#include "ledger/codec.h"
#include "ledger/entry.h"
#include "ledger/reason.h"
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

static bool str_same(struct sl_str a, struct sl_str b)
{
	return sl_str_eq(a, b);
}

/* Field-by-field equality of two records (the body fields of their type). */
static bool records_equal(const struct record *a, const struct record *b)
{
	bool same = a->version == b->version && a->type == b->type && str_same(a->site, b->site) &&
		    memcmp(&a->key_id, &b->key_id, sizeof a->key_id) == 0 && str_same(a->actor, b->actor) &&
		    a->meaning == b->meaning && a->event_time_ms == b->event_time_ms &&
		    memcmp(a->nonce, b->nonce, sizeof a->nonce) == 0 && a->has_reason == b->has_reason &&
		    a->has_supersedes == b->has_supersedes && a->has_signature == b->has_signature &&
		    memcmp(a->signature, b->signature, sizeof a->signature) == 0;
	if (a->has_reason && b->has_reason)
		same = same && str_same(a->reason, b->reason);
	if (a->has_supersedes && b->has_supersedes)
		same = same && memcmp(a->supersedes, b->supersedes, sizeof a->supersedes) == 0;
	same = same && str_same(a->gtin, b->gtin) && str_same(a->lot, b->lot) && str_same(a->expiry, b->expiry) &&
	       str_same(a->parent, b->parent) && str_same(a->to, b->to) &&
	       a->decommission_reason == b->decommission_reason && a->lock_scope == b->lock_scope &&
	       str_same(a->lock_target, b->lock_target) && a->lock_reason == b->lock_reason &&
	       a->deviation_category == b->deviation_category && str_same(a->text, b->text) &&
	       a->item_count == b->item_count && a->ref_count == b->ref_count;
	same = same && str_same(a->origin, b->origin) && a->checkpoint_size == b->checkpoint_size &&
	       memcmp(a->checkpoint_root, b->checkpoint_root, sizeof a->checkpoint_root) == 0 &&
	       a->note_signature_len == b->note_signature_len &&
	       memcmp(a->note_signature, b->note_signature, a->note_signature_len) == 0;
	for (size_t i = 0; same && i < a->item_count; i++)
		same = str_same(a->items[i], b->items[i]);
	for (size_t i = 0; same && i < a->ref_count; i++)
		same = memcmp(a->refs[i], b->refs[i], RECORD_ID_BYTES) == 0;
	return same;
}

static void test_round_trip_every_type(void)
{
	REQUIRE(crypto_init() == 0);
	struct crypto_public_key pk;
	struct crypto_secret_key sk;
	sample_keypair(&pk, &sk);
	for (int type = RECORD_TYPE_MIN; type <= RECORD_TYPE_MAX; type++) {
		struct sample s;
		sample_make(&s, (enum record_type)type);
		CHECK_INT_EQ(record_validate(&s.record, NULL), 0);
		CHECK_INT_EQ(record_sign(&s.record, &sk), 0);
		struct sl_buf buf, again;
		sl_buf_init(&buf, BUF_LIMIT);
		sl_buf_init(&again, BUF_LIMIT);
		REQUIRE(record_encode(&s.record, &buf) == 0);
		CHECK(buf.len < 4096);
		struct record decoded;
		struct sl_error_detail detail = { "" };
		int rc = record_decode(buf.data, buf.len, &decoded, &detail);
		if (rc != 0)
			printf("  type %s: %s %s\n", record_type_name(type), sl_errname(rc), detail.text);
		CHECK_INT_EQ(rc, 0);
		CHECK(decoded.owns_arrays);
		CHECK(records_equal(&s.record, &decoded));
		CHECK_INT_EQ(record_encode(&decoded, &again), 0);
		CHECK(again.len == buf.len && memcmp(again.data, buf.data, buf.len) == 0);
		CHECK_INT_EQ(record_verify(&decoded, &pk), 0);
		uint8_t id1[RECORD_ID_BYTES], id2[RECORD_ID_BYTES];
		CHECK_INT_EQ(record_id(&s.record, id1), 0);
		CHECK_INT_EQ(record_id(&decoded, id2), 0);
		CHECK(memcmp(id1, id2, sizeof id1) == 0);
		record_clear(&decoded);
		CHECK(decoded.items == NULL && decoded.item_count == 0 && decoded.version == RECORD_FORMAT_VERSION);
		record_clear(&decoded); /* twice is harmless */
		sl_buf_free(&buf);
		sl_buf_free(&again);
	}
	crypto_secret_key_wipe(&sk);
}

/* Hand-derived encoding (docs/record-format.md worked example of the layout, without signature). */
static void test_golden_unsigned_encoding(void)
{
	struct record r;
	record_init(&r);
	r.type = RECORD_RECEIVE;
	r.site = SL_STR("site-a");
	for (int i = 0; i < 16; i++) {
		r.key_id.bytes[i] = (uint8_t)(0x10 + i);
		r.nonce[i] = (uint8_t)(1 + i);
	}
	r.actor = SL_STR("qa1");
	r.meaning = MEANING_AUTHORED;
	r.event_time_ms = SAMPLE_EVENT_TIME_MS;
	struct sl_str items[1] = { SL_STR(SAMPLE_SSCC_1) };
	r.items = items;
	r.item_count = 1;
	struct sl_buf buf;
	sl_buf_init(&buf, BUF_LIMIT);
	REQUIRE(record_encode_unsigned(&r, &buf) == 0);
	char hex[2 * 256 + 1];
	REQUIRE(buf.len < 256);
	crypto_hex_encode(buf.data, buf.len, hex);
	CHECK_STR_EQ(hex, "890001010602a6736974652d6103c410101112131415161718191a1b1c1d1e1f04a3716131050106cf"
			  "0000018bcfe5680007c4100102030405060708090a0b0c0d0e0f100a810091b6283030293130363134"
			  "31343132333435363738393038");
	/* without a signature there is no full encoding */
	sl_buf_reset(&buf);
	CHECK_INT_EQ(record_encode(&r, &buf), SL_EMISSING);
	CHECK_INT_EQ(buf.len, 0);
	sl_buf_free(&buf);
}

static void test_lock_targets(void)
{
	REQUIRE(crypto_init() == 0);
	struct sample s;
	struct sl_buf buf;
	sl_buf_init(&buf, BUF_LIMIT);
	static const struct {
		uint32_t scope;
		const char *target;
		bool valid;
	} cases[] = {
		{ LOCK_SCOPE_GTIN, "(01)" SAMPLE_GTIN, true },
		{ LOCK_SCOPE_GTIN, "(01)09506000134353", false },
		{ LOCK_SCOPE_GTIN, SAMPLE_GTIN, false },
		{ LOCK_SCOPE_GTIN, "(01)" SAMPLE_GTIN "(10)LOT-42A", false },
		{ LOCK_SCOPE_LOT, "(01)" SAMPLE_GTIN "(10)LOT-42A", true },
		{ LOCK_SCOPE_LOT, "(01)" SAMPLE_GTIN "(10)", false },
		{ LOCK_SCOPE_LOT, "(01)" SAMPLE_GTIN "(21)LOT-42A", false },
		{ LOCK_SCOPE_LOT, "(01)" SAMPLE_GTIN, false },
		{ LOCK_SCOPE_LOT, "(01)" SAMPLE_GTIN "(10)LOT 42", false },
		{ LOCK_SCOPE_SERIAL, SAMPLE_PACK_1, true },
		{ LOCK_SCOPE_SERIAL, SAMPLE_SSCC_1, true },
		{ LOCK_SCOPE_SERIAL, "(01)" SAMPLE_GTIN, false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sample_make(&s, RECORD_LOCK);
		s.record.lock_scope = cases[i].scope;
		s.record.lock_target = sl_str_from_cstr(cases[i].target);
		int rc = record_validate(&s.record, NULL);
		if ((rc == 0) != cases[i].valid)
			printf("  target %s scope %u: %s\n", cases[i].target, cases[i].scope, sl_errname(rc));
		CHECK((rc == 0) == cases[i].valid);
		/* and the decoder agrees: encode a valid copy, then swap in this target */
		if (cases[i].valid) {
			sample_sign(&s);
			sl_buf_reset(&buf);
			CHECK_INT_EQ(record_encode(&s.record, &buf), 0);
			CHECK_INT_EQ(decode_buf_rc(&buf), 0);
		}
	}
	sl_buf_free(&buf);
}

static void test_signature_and_tampering(void)
{
	REQUIRE(crypto_init() == 0);
	struct crypto_public_key pk, other_pk;
	struct crypto_secret_key other_sk;
	struct crypto_secret_key sk;
	sample_keypair(&pk, &sk);
	REQUIRE(crypto_keypair_generate(&other_pk, &other_sk) == 0);
	struct sample s;
	sample_make(&s, RECORD_DECOMMISSION);
	CHECK_INT_EQ(record_verify(&s.record, &pk), SL_EBADSIG); /* not signed yet */
	REQUIRE(record_sign(&s.record, &sk) == 0);
	CHECK(s.record.has_signature);
	CHECK_INT_EQ(record_verify(&s.record, &pk), 0);
	CHECK_INT_EQ(record_verify(&s.record, &other_pk), SL_EBADSIG);
	/* a record signed by another key under this record's key id */
	struct sample forged;
	sample_make(&forged, RECORD_DECOMMISSION);
	REQUIRE(record_sign(&forged.record, &other_sk) == 0);
	forged.record.key_id = s.record.key_id;
	CHECK_INT_EQ(record_verify(&forged.record, &pk), SL_EBADSIG);
	/* any field changed after signing */
	s.record.event_time_ms++;
	CHECK_INT_EQ(record_verify(&s.record, &pk), SL_EBADSIG);
	s.record.event_time_ms--;
	s.record.has_reason = false;
	CHECK_INT_EQ(record_verify(&s.record, &pk), SL_EBADSIG);
	s.record.has_reason = true;
	CHECK_INT_EQ(record_verify(&s.record, &pk), 0);

	/* flip bits in every byte of the encoding: decode fails or the signature does */
	struct sl_buf buf;
	sl_buf_init(&buf, BUF_LIMIT);
	REQUIRE(record_encode(&s.record, &buf) == 0);
	static const uint8_t masks[] = { 0x01, 0x80, 0xff };
	size_t decoded = 0;
	for (size_t i = 0; i < buf.len; i++) {
		for (size_t m = 0; m < sizeof masks; m++) {
			buf.data[i] ^= masks[m];
			struct record r;
			if (record_decode(buf.data, buf.len, &r, NULL) == 0) {
				decoded++;
				int rc = record_verify(&r, &pk);
				if (rc != SL_EBADSIG)
					printf("  byte %zu mask %02x still verifies\n", i, masks[m]);
				CHECK_INT_EQ(rc, SL_EBADSIG);
			}
			record_clear(&r);
			buf.data[i] ^= masks[m];
		}
	}
	CHECK(decoded > 0); /* some flips do decode (e.g. inside the nonce): the signature catches them */
	sl_buf_free(&buf);
	crypto_secret_key_wipe(&sk);
	crypto_secret_key_wipe(&other_sk);
}

static void test_record_id_and_signed_bytes(void)
{
	REQUIRE(crypto_init() == 0);
	struct sample s;
	sample_make(&s, RECORD_SHIP);
	sample_sign(&s);
	struct sl_buf signed_bytes, encoded;
	sl_buf_init(&signed_bytes, BUF_LIMIT);
	sl_buf_init(&encoded, BUF_LIMIT);
	REQUIRE(record_signed_bytes(&s.record, &signed_bytes) == 0);
	REQUIRE(record_encode(&s.record, &encoded) == 0);
	/* signed bytes = "siteledger/record/v1" NUL || the encoding without its last field */
	CHECK(memcmp(signed_bytes.data, "siteledger/record/v1\0", 21) == 0);
	CHECK_INT_EQ(signed_bytes.len, 21 + encoded.len - 67);
	CHECK_INT_EQ(signed_bytes.data[21], encoded.data[0] - 1); /* one entry fewer */
	CHECK(memcmp(signed_bytes.data + 22, encoded.data + 1, encoded.len - 68) == 0);
	CHECK(memcmp(encoded.data + encoded.len - 67, "\x0b\xc4\x40", 3) == 0);
	/* id = SHA-256(signed bytes), stable */
	uint8_t id[RECORD_ID_BYTES], id_again[RECORD_ID_BYTES], expect[32];
	crypto_hash_sha256(expect, signed_bytes.data, signed_bytes.len);
	REQUIRE(record_id(&s.record, id) == 0);
	REQUIRE(record_id(&s.record, id_again) == 0);
	CHECK(memcmp(id, expect, sizeof id) == 0);
	CHECK(memcmp(id, id_again, sizeof id) == 0);
	/* the signature is not part of the id */
	s.record.signature[0] ^= 1;
	REQUIRE(record_id(&s.record, id_again) == 0);
	CHECK(memcmp(id, id_again, sizeof id) == 0);
	/* the signed message verifies with plain libsodium */
	struct crypto_public_key pk;
	struct crypto_secret_key sk;
	sample_keypair(&pk, &sk);
	s.record.signature[0] ^= 1;
	CHECK_INT_EQ(crypto_sign_verify_detached(s.record.signature, signed_bytes.data, signed_bytes.len, pk.bytes), 0);
	/* record_encode_unsigned is the message of a batch verification job */
	struct sl_buf message;
	sl_buf_init(&message, BUF_LIMIT);
	REQUIRE(record_encode_unsigned(&s.record, &message) == 0);
	struct crypto_verify_job job = { &pk, RECORD_SIGN_DOMAIN, message.data, message.len, s.record.signature };
	int result = 1;
	CHECK_INT_EQ(crypto_verify_batch(&job, 1, &result, 1), 0);
	CHECK_INT_EQ(result, 0);
	/* the sign call filled the key id */
	struct crypto_key_id key_id;
	crypto_key_id_of(&pk, &key_id);
	CHECK(memcmp(key_id.bytes, s.record.key_id.bytes, sizeof key_id.bytes) == 0);
	crypto_secret_key_wipe(&sk);
	sl_buf_free(&message);
	sl_buf_free(&signed_bytes);
	sl_buf_free(&encoded);
}

static void test_sign_fills_nonce(void)
{
	REQUIRE(crypto_init() == 0);
	struct sample a, b;
	sample_make(&a, RECORD_RECEIVE);
	sample_make(&b, RECORD_RECEIVE);
	memset(a.record.nonce, 0, sizeof a.record.nonce);
	memset(b.record.nonce, 0, sizeof b.record.nonce);
	sample_sign(&a);
	sample_sign(&b);
	static const uint8_t zero[RECORD_NONCE_BYTES];
	CHECK(memcmp(a.record.nonce, zero, sizeof zero) != 0);
	CHECK(memcmp(a.record.nonce, b.record.nonce, sizeof zero) != 0);
	uint8_t id_a[RECORD_ID_BYTES], id_b[RECORD_ID_BYTES];
	REQUIRE(record_id(&a.record, id_a) == 0 && record_id(&b.record, id_b) == 0);
	CHECK(memcmp(id_a, id_b, sizeof id_a) != 0); /* same content, two records */
	/* a non-zero nonce is kept (retries of one record keep one id) */
	uint8_t kept[RECORD_NONCE_BYTES];
	memcpy(kept, a.record.nonce, sizeof kept);
	sample_sign(&a);
	CHECK(memcmp(kept, a.record.nonce, sizeof kept) == 0);
	/* an invalid record is not signed */
	a.record.site = SL_STR("Not A Site");
	a.record.has_signature = false;
	struct crypto_public_key pk;
	struct crypto_secret_key sk;
	sample_keypair(&pk, &sk);
	CHECK_INT_EQ(record_sign(&a.record, &sk), SL_EVALUE);
	CHECK(!a.record.has_signature);
	crypto_secret_key_wipe(&sk);
}

static void test_names(void)
{
	for (int t = RECORD_TYPE_MIN; t <= RECORD_TYPE_MAX; t++) {
		REQUIRE(record_type_name(t) != NULL);
		CHECK_INT_EQ(record_type_from_name(record_type_name(t)), t);
	}
	CHECK_STR_EQ(record_type_name(RECORD_COMMISSION_CONTAINER), "commission-container");
	CHECK_STR_EQ(decommission_reason_name(DECOMMISSION_FREE_SAMPLE), "free_sample");
	CHECK_INT_EQ(decommission_reason_from_name("checked_out"), DECOMMISSION_CHECKED_OUT);
	CHECK_STR_EQ(record_meaning_name(MEANING_APPROVED), "approved");
	CHECK_INT_EQ(record_meaning_from_name("reviewed"), MEANING_REVIEWED);
	CHECK_STR_EQ(lock_scope_name(LOCK_SCOPE_LOT), "lot");
	CHECK_INT_EQ(lock_reason_from_name("withdrawal"), LOCK_WITHDRAWAL);
	CHECK_STR_EQ(deviation_category_name(DEVIATION_PRODUCT_NO_DATA), "product_no_data");
	CHECK_INT_EQ(deviation_category_from_name("unavailable_for_distribution"),
		     DEVIATION_UNAVAILABLE_FOR_DISTRIBUTION);
	CHECK(record_type_name(0) == NULL);
	CHECK(record_type_name(RECORD_TYPE_MAX + 1) == NULL);
	CHECK(lock_scope_name(-1) == NULL);
	CHECK_INT_EQ(record_type_from_name("Commission"), -1);
	CHECK_INT_EQ(record_type_from_name(NULL), -1);
	CHECK(record_site_id_valid("a", 1));
	CHECK(record_site_id_valid("site-a-01", 9));
	CHECK(!record_site_id_valid("-a", 2));
	CHECK(!record_site_id_valid("a b", 3));
	CHECK(!record_site_id_valid(NULL, 0));
}

/* Seed corpus for tests/fuzz/fuzz_record: every sample record, plus two entries. */
static void write_file(const char *dir, const char *name, const uint8_t *bytes, size_t len)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(bytes, 1, len, f) != len)
		abort();
	fclose(f);
}

static void test_fuzz_corpus(void)
{
	REQUIRE(crypto_init() == 0);
	const char *dir = getenv("SL_WRITE_FUZZ_CORPUS");
	for (int type = RECORD_TYPE_MIN; type <= RECORD_TYPE_MAX; type++) {
		struct sl_buf buf, entry_buf;
		sl_buf_init(&buf, BUF_LIMIT);
		sl_buf_init(&entry_buf, BUF_LIMIT);
		sample_encode((enum record_type)type, &buf);
		CHECK_INT_EQ(decode_buf_rc(&buf), 0);
		char name[64];
		snprintf(name, sizeof name, "record-%02d-%s", type, record_type_name(type));
		if (dir != NULL)
			write_file(dir, name, buf.data, buf.len);
		if (type == RECORD_SHIP || type == RECORD_DEVIATION) {
			struct ledger_entry entry = { (uint64_t)type, 1700000000123u,
						      type == RECORD_SHIP ? OUTCOME_ACCEPTED : OUTCOME_LOCKED,
						      buf.data, buf.len, type != RECORD_SHIP, 0 };
			REQUIRE(entry_encode(&entry, &entry_buf) == 0);
			snprintf(name, sizeof name, "entry-%02d-%s", type, record_type_name(type));
			if (dir != NULL)
				write_file(dir, name, entry_buf.data, entry_buf.len);
		}
		sl_buf_free(&buf);
		sl_buf_free(&entry_buf);
	}
}

/* The unsigned bytes cut out of an encoding equal the re-encoded ones for every type (apply relies
 * on it to skip re-encoding), and bytes without the canonical signature tail are refused. A
 * registry record is refused too: its cosignatures, inside the body, are not signed bytes. */
static void test_unsigned_bytes_from_encoding(void)
{
	for (int type = RECORD_TYPE_MIN; type <= RECORD_TYPE_MAX; type++) {
		struct sample s;
		sample_make(&s, (enum record_type)type);
		sample_sign(&s);
		struct sl_buf encoded, cut, reencoded;
		sl_buf_init(&encoded, RECORD_BYTES_MAX);
		sl_buf_init(&cut, RECORD_BYTES_MAX);
		sl_buf_init(&reencoded, RECORD_BYTES_MAX);
		REQUIRE(record_encode(&s.record, &encoded) == 0);
		bool registry = type == RECORD_REGISTRY;
		CHECK_INT_EQ(record_unsigned_from_bytes(encoded.data, encoded.len, &cut), registry ? SL_EINVAL : 0);
		CHECK_INT_EQ(record_encode_unsigned(&s.record, &reencoded), 0);
		if (!registry) {
			CHECK_INT_EQ(cut.len, reencoded.len);
			CHECK(cut.len == reencoded.len && memcmp(cut.data, reencoded.data, cut.len) == 0);
		} else {
			CHECK_INT_EQ(cut.len, 0);
			CHECK(reencoded.len + 3 + CRYPTO_SIGNATURE_BYTES < encoded.len); /* no cosignatures either */
		}
		sl_buf_reset(&cut);
		encoded.data[encoded.len - CRYPTO_SIGNATURE_BYTES - 3] = 0x0a; /* not key 11 */
		CHECK_INT_EQ(record_unsigned_from_bytes(encoded.data, encoded.len, &cut), SL_EINVAL);
		CHECK_INT_EQ(cut.len, 0);
		CHECK_INT_EQ(record_unsigned_from_bytes(encoded.data, 10, &cut), SL_EINVAL);
		sl_buf_free(&encoded);
		sl_buf_free(&cut);
		sl_buf_free(&reencoded);
	}
}

static const struct test_case cases[] = {
	TEST_CASE(test_round_trip_every_type),
	TEST_CASE(test_golden_unsigned_encoding),
	TEST_CASE(test_unsigned_bytes_from_encoding),
	TEST_CASE(test_lock_targets),
	TEST_CASE(test_signature_and_tampering),
	TEST_CASE(test_record_id_and_signed_bytes),
	TEST_CASE(test_sign_fills_nonce),
	TEST_CASE(test_names),
	TEST_CASE(test_fuzz_corpus),
};

TEST_MAIN(cases)
