/* tests/unit/test_note.c — C2SP signed notes, checkpoints and cosignatures (crypto/note.h). */
#include "tests/unit/test.h"

#include <sodium.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/note.h"
#include "util/error.h"

static void make_checkpoint(char *body, size_t size, size_t *len)
{
	struct checkpoint cp = { .origin = "siteledger/test", .size = 12345 };
	for (int i = 0; i < MERKLE_HASH_BYTES; i++)
		cp.root[i] = (uint8_t)i;
	CHECK_INT_EQ(checkpoint_format(&cp, body, size, len), 0);
}

static void test_checkpoint_format_and_parse(void)
{
	char body[256];
	size_t len = 0;
	make_checkpoint(body, sizeof body, &len);
	/* base64 of bytes 0..31 (independently known: RFC 4648 alphabet over 00 01 02 ...). */
	CHECK_STR_EQ(body, "siteledger/test\n12345\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n");
	struct checkpoint cp;
	CHECK_INT_EQ(checkpoint_parse(body, len, &cp), 0);
	CHECK(cp.size == 12345);
	CHECK(cp.root[31] == 31);
	CHECK_STR_EQ(cp.origin, "siteledger/test");
	const char *bad[] = {
		"siteledger/test\n012\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", /* leading zero */
		"siteledger/test\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",	/* no padding */
		"siteledger/test\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\n",	/* short root */
		"siteledger/test\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nextra\n",
		"siteledger/test\n18446744073709551616\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
		"\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
		"siteledger/test\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_INT_EQ(checkpoint_parse(bad[i], strlen(bad[i]), &cp), SL_ESYNTAX);
}

static void test_key_id_matches_spec(void)
{
	/* key id = SHA-256(name || "\n" || 0x01 || pk)[:4], computed here independently. */
	struct crypto_public_key pk;
	memset(pk.bytes, 7, sizeof pk.bytes);
	uint8_t id[NOTE_KEY_ID_BYTES], want[32], buffer[4 + 2 + 32];
	memcpy(buffer, "mfg1\n\x01", 6);
	memcpy(buffer + 6, pk.bytes, 32);
	crypto_hash_sha256(want, buffer, sizeof buffer);
	note_key_id("mfg1", NOTE_TYPE_ED25519, &pk, id);
	CHECK(memcmp(id, want, 4) == 0);
	buffer[5] = 0x04;
	crypto_hash_sha256(want, buffer, sizeof buffer);
	note_key_id("mfg1", NOTE_TYPE_COSIGNATURE, &pk, id);
	CHECK(memcmp(id, want, 4) == 0);
}

static void test_sign_cosign_verify(void)
{
	REQUIRE(crypto_init() == 0);
	struct crypto_public_key pk1, pk2;
	struct crypto_secret_key sk1, sk2;
	REQUIRE(crypto_keypair_generate(&pk1, &sk1) == 0);
	REQUIRE(crypto_keypair_generate(&pk2, &sk2) == 0);
	char text[NOTE_BYTES_MAX];
	size_t body_len = 0, len = 0;
	make_checkpoint(text, sizeof text, &body_len);
	len = body_len;
	CHECK_INT_EQ(note_sign(text, body_len, "mfg", &sk1, text, sizeof text, &len), 0);
	CHECK_INT_EQ(note_cosign(text, body_len, "dc", &sk2, 1700000000, text, sizeof text, &len), 0);
	CHECK(strstr(text, "\n\n\xe2\x80\x94 mfg ") != NULL);
	struct note note;
	REQUIRE(note_parse(text, len, &note) == 0);
	CHECK(note.body_len == body_len);
	CHECK(note.signature_count == 2);
	uint8_t type = 0;
	uint64_t ts = 0;
	CHECK_INT_EQ(note_signature_verify(&note, &note.signatures[0], "mfg", &pk1, &type, NULL), 0);
	CHECK(type == NOTE_TYPE_ED25519);
	CHECK_INT_EQ(note_signature_verify(&note, &note.signatures[1], "dc", &pk2, &type, &ts), 0);
	CHECK(type == NOTE_TYPE_COSIGNATURE);
	CHECK(ts == 1700000000);
	/* wrong key, wrong name */
	CHECK_INT_EQ(note_signature_verify(&note, &note.signatures[0], "mfg", &pk2, NULL, NULL), SL_EBADSIG);
	CHECK_INT_EQ(note_signature_verify(&note, &note.signatures[1], "mfg", &pk2, NULL, NULL), SL_EBADSIG);
	/* a changed body breaks both */
	text[body_len - 3] ^= 1;
	struct note changed;
	if (note_parse(text, len, &changed) == 0) {
		CHECK_INT_EQ(note_signature_verify(&changed, &changed.signatures[0], "mfg", &pk1, NULL, NULL),
			     SL_EBADSIG);
		CHECK_INT_EQ(note_signature_verify(&changed, &changed.signatures[1], "dc", &pk2, NULL, NULL),
			     SL_EBADSIG);
	}
	crypto_secret_key_wipe(&sk1);
	crypto_secret_key_wipe(&sk2);
}

static void test_note_parse_refuses(void)
{
	struct note note;
	const char *bad[] = {
		"body\n",		      /* no signatures */
		"body\n\n",		      /* separator only */
		"\n\xe2\x80\x94 a AAAAAAA=\n", /* empty body */
		"body\n\n- a AAAAAAAA\n",     /* ascii dash */
		"body\n\n\xe2\x80\x94 a AAAA\n", /* key id only */
		"body\n\n\xe2\x80\x94 a AAAAAAAA", /* unterminated */
		"body\r\n\n\xe2\x80\x94 a AAAAAAAA\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(note_parse(bad[i], strlen(bad[i]), &note) != 0);
	const char *good = "body\n\n\xe2\x80\x94 a AAAAAAAA\n";
	CHECK_INT_EQ(note_parse(good, strlen(good), &note), 0);
}

static const struct test_case cases[] = {
	TEST_CASE(test_checkpoint_format_and_parse),
	TEST_CASE(test_key_id_matches_spec),
	TEST_CASE(test_sign_cosign_verify),
	TEST_CASE(test_note_parse_refuses),
};
TEST_MAIN(cases)
