/* tests/unit/test_seal.c — crypto/seal.h: key agreement from Ed25519 site keys, seal and open. */
#include "crypto/seal.h"

#include <sodium.h>

#include "tests/unit/test.h"
#include "util/error.h"

struct pair {
	struct crypto_public_key pk;
	struct crypto_secret_key sk;
};

static void pair_from_seed(struct pair *p, uint8_t fill)
{
	uint8_t seed[32];
	memset(seed, fill, sizeof seed);
	REQUIRE(crypto_init() == 0);
	crypto_sign_seed_keypair(p->pk.bytes, p->sk.bytes, seed);
}

static void test_seal_key_symmetric(void)
{
	struct pair a, b, c;
	pair_from_seed(&a, 1);
	pair_from_seed(&b, 2);
	pair_from_seed(&c, 3);
	struct crypto_seal_key ab, ba, ac;
	REQUIRE(crypto_seal_key_derive(&a.sk, &b.pk, &ab) == 0);
	REQUIRE(crypto_seal_key_derive(&b.sk, &a.pk, &ba) == 0);
	REQUIRE(crypto_seal_key_derive(&a.sk, &c.pk, &ac) == 0);
	CHECK(memcmp(ab.bytes, ba.bytes, sizeof ab.bytes) == 0);
	CHECK(memcmp(ab.bytes, ac.bytes, sizeof ab.bytes) != 0);
	/* independent check: libsodium's own X25519 agreement after conversion */
	uint8_t ax[32], bx[32], k[32];
	REQUIRE(crypto_sign_ed25519_sk_to_curve25519(ax, a.sk.bytes) == 0);
	REQUIRE(crypto_sign_ed25519_pk_to_curve25519(bx, b.pk.bytes) == 0);
	REQUIRE(crypto_box_beforenm(k, bx, ax) == 0);
	CHECK(memcmp(k, ab.bytes, 32) == 0);
	crypto_seal_key_wipe(&ab);
	uint8_t zero[32] = { 0 };
	CHECK(memcmp(ab.bytes, zero, 32) == 0);
}

static void test_seal_round_trip(void)
{
	struct pair a, b;
	pair_from_seed(&a, 4);
	pair_from_seed(&b, 5);
	struct crypto_seal_key ab, ba;
	REQUIRE(crypto_seal_key_derive(&a.sk, &b.pk, &ab) == 0);
	REQUIRE(crypto_seal_key_derive(&b.sk, &a.pk, &ba) == 0);
	const uint8_t msg[] = "append entries 1..3";
	uint8_t sealed[64], plain[64];
	size_t sealed_len = 0, plain_len = 0;
	REQUIRE(crypto_seal(&ab, msg, sizeof msg, sealed, sizeof sealed, &sealed_len) == 0);
	CHECK_INT_EQ(sealed_len, sizeof msg + CRYPTO_SEAL_OVERHEAD_BYTES);
	REQUIRE(crypto_seal_open(&ba, sealed, sealed_len, plain, sizeof plain, &plain_len) == 0);
	CHECK_INT_EQ(plain_len, sizeof msg);
	CHECK(memcmp(plain, msg, sizeof msg) == 0);
	/* two seals of the same message differ (random nonce) */
	uint8_t again[64];
	size_t again_len = 0;
	REQUIRE(crypto_seal(&ab, msg, sizeof msg, again, sizeof again, &again_len) == 0);
	CHECK(memcmp(again, sealed, sealed_len) != 0);
	/* an empty message seals to the overhead alone */
	REQUIRE(crypto_seal(&ab, NULL, 0, again, sizeof again, &again_len) == 0);
	CHECK_INT_EQ(again_len, CRYPTO_SEAL_OVERHEAD_BYTES);
	CHECK_INT_EQ(crypto_seal_open(&ba, again, again_len, plain, sizeof plain, &plain_len), 0);
	CHECK_INT_EQ(plain_len, 0);
}

static void test_seal_refuses_tampering(void)
{
	struct pair a, b, c;
	pair_from_seed(&a, 6);
	pair_from_seed(&b, 7);
	pair_from_seed(&c, 8);
	struct crypto_seal_key ab, ba, cb;
	REQUIRE(crypto_seal_key_derive(&a.sk, &b.pk, &ab) == 0);
	REQUIRE(crypto_seal_key_derive(&b.sk, &a.pk, &ba) == 0);
	REQUIRE(crypto_seal_key_derive(&c.sk, &b.pk, &cb) == 0);
	const uint8_t msg[] = "vote for me";
	uint8_t sealed[64], plain[64];
	size_t sealed_len = 0, plain_len = 0;
	REQUIRE(crypto_seal(&ab, msg, sizeof msg, sealed, sizeof sealed, &sealed_len) == 0);
	for (size_t i = 0; i < sealed_len; i += 7) {
		sealed[i] ^= 0x01;
		CHECK_INT_EQ(crypto_seal_open(&ba, sealed, sealed_len, plain, sizeof plain, &plain_len), SL_EBADSIG);
		sealed[i] ^= 0x01;
	}
	/* a third site's key does not open it */
	CHECK_INT_EQ(crypto_seal_open(&cb, sealed, sealed_len, plain, sizeof plain, &plain_len), SL_EBADSIG);
	CHECK_INT_EQ(crypto_seal_open(&ba, sealed, sealed_len - 1, plain, sizeof plain, &plain_len), SL_EBADSIG);
	CHECK_INT_EQ(crypto_seal_open(&ba, sealed, CRYPTO_SEAL_OVERHEAD_BYTES - 1, plain, sizeof plain, &plain_len),
		     SL_ETRUNCATED);
	CHECK_INT_EQ(crypto_seal_open(&ba, sealed, sealed_len, plain, 3, &plain_len), SL_ELIMIT);
	CHECK_INT_EQ(crypto_seal(&ab, msg, sizeof msg, sealed, sizeof msg, &sealed_len), SL_ELIMIT);
	CHECK_INT_EQ(crypto_seal_open(&ba, sealed, sealed_len, plain, sizeof plain, &plain_len), 0);
}

static void test_seal_refuses_bad_public_key(void)
{
	struct pair a;
	pair_from_seed(&a, 9);
	struct crypto_public_key bad;
	memset(bad.bytes, 0, sizeof bad.bytes); /* small order point */
	bad.bytes[0] = 1;
	struct crypto_seal_key k;
	CHECK_INT_EQ(crypto_seal_key_derive(&a.sk, &bad, &k), SL_ECRYPTO);
}

static const struct test_case cases[] = {
	TEST_CASE(test_seal_key_symmetric),
	TEST_CASE(test_seal_round_trip),
	TEST_CASE(test_seal_refuses_tampering),
	TEST_CASE(test_seal_refuses_bad_public_key),
};
TEST_MAIN(cases)
