/* tests/unit/test_crypto.c — keys, signatures, hashes, key files, batch verification. */
#include "crypto/crypto.h"

#include <sodium.h>
#include <stdbool.h>
#include <sys/stat.h>

/* test.h's test_rmtree joins PATH_MAX paths; GCC's truncation warning there is not about this file */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include "tests/unit/test.h"
#include "util/error.h"

#define DOMAIN_A "siteledger/test-a/v1"
#define DOMAIN_B "siteledger/test-b/v1"

/* RFC 8032 §7.1, TEST 1: secret seed and its public key. */
static const char rfc8032_seed_hex[] = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char rfc8032_public_hex[] = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

static void fixed_keypair(struct crypto_public_key *pk, struct crypto_secret_key *sk)
{
	uint8_t seed[32];
	int rc = crypto_hex_decode(rfc8032_seed_hex, seed, sizeof seed);
	if (rc == 0)
		rc = crypto_sign_seed_keypair(pk->bytes, sk->bytes, seed);
	if (rc != 0)
		abort();
}

static void test_init(void)
{
	CHECK_INT_EQ(crypto_init(), 0);
	CHECK_INT_EQ(crypto_init(), 0); /* idempotent */
}

static void test_sha256_known_answers(void)
{
	REQUIRE(crypto_init() == 0);
	uint8_t out[CRYPTO_SHA256_BYTES];
	char hex[2 * CRYPTO_SHA256_BYTES + 1];
	/* FIPS 180-2 Appendix B.1 and the empty message */
	crypto_sha256((const uint8_t *)"abc", 3, out);
	crypto_hex_encode(out, sizeof out, hex);
	CHECK_STR_EQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	crypto_sha256(NULL, 0, out);
	crypto_hex_encode(out, sizeof out, hex);
	CHECK_STR_EQ(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	/* two-part hash equals the hash of the concatenation */
	crypto_sha256_2((const uint8_t *)"a", 1, (const uint8_t *)"bc", 2, out);
	crypto_hex_encode(out, sizeof out, hex);
	CHECK_STR_EQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_hex_round_trip(void)
{
	uint8_t bytes[5] = { 0x00, 0x01, 0xab, 0xcd, 0xff };
	char hex[11];
	crypto_hex_encode(bytes, sizeof bytes, hex);
	CHECK_STR_EQ(hex, "0001abcdff");
	uint8_t back[5];
	CHECK_INT_EQ(crypto_hex_decode(hex, back, sizeof back), 0);
	CHECK(memcmp(back, bytes, sizeof bytes) == 0);
	CHECK_INT_EQ(crypto_hex_decode("0001ABCDFF", back, sizeof back), 0);
	CHECK(memcmp(back, bytes, sizeof bytes) == 0);
	CHECK_INT_EQ(crypto_hex_decode("0001abcdf", back, sizeof back), SL_EINVAL);   /* odd length */
	CHECK_INT_EQ(crypto_hex_decode("0001abcdff00", back, sizeof back), SL_EINVAL); /* too long */
	CHECK_INT_EQ(crypto_hex_decode("0001abcdfg", back, sizeof back), SL_EINVAL);  /* bad digit */
	CHECK_INT_EQ(crypto_hex_decode("0001abcd f", back, sizeof back), SL_EINVAL);  /* space */
	char empty[1];
	crypto_hex_encode(bytes, 0, empty);
	CHECK_STR_EQ(empty, "");
}

static void test_keypair_public_half(void)
{
	REQUIRE(crypto_init() == 0);
	struct crypto_public_key pk, derived;
	struct crypto_secret_key sk;
	fixed_keypair(&pk, &sk);
	char hex[65];
	crypto_hex_encode(pk.bytes, sizeof pk.bytes, hex);
	CHECK_STR_EQ(hex, rfc8032_public_hex);
	crypto_secret_key_public(&sk, &derived);
	CHECK(memcmp(derived.bytes, pk.bytes, sizeof pk.bytes) == 0);
	REQUIRE(crypto_keypair_generate(&pk, &sk) == 0);
	crypto_secret_key_public(&sk, &derived);
	CHECK(memcmp(derived.bytes, pk.bytes, sizeof pk.bytes) == 0);
	crypto_secret_key_wipe(&sk);
	static const struct crypto_secret_key zero;
	CHECK(memcmp(sk.bytes, zero.bytes, sizeof zero.bytes) == 0);
}

static void test_sign_verify_round_trip(void)
{
	REQUIRE(crypto_init() == 0);
	struct crypto_public_key pk;
	struct crypto_secret_key sk;
	fixed_keypair(&pk, &sk);
	const uint8_t message[] = "ship 12 cases to site-b";
	uint8_t sig[CRYPTO_SIGNATURE_BYTES];
	REQUIRE(crypto_sign(&sk, DOMAIN_A, message, sizeof message, sig) == 0);
	CHECK_INT_EQ(crypto_verify(&pk, DOMAIN_A, message, sizeof message, sig), 0);

	/* the construction: plain Ed25519 over domain || NUL || message, checked with libsodium directly */
	uint8_t joined[sizeof DOMAIN_A + sizeof message];
	memcpy(joined, DOMAIN_A, sizeof DOMAIN_A); /* includes the NUL */
	memcpy(joined + sizeof DOMAIN_A, message, sizeof message);
	CHECK_INT_EQ(crypto_sign_verify_detached(sig, joined, sizeof joined, pk.bytes), 0);

	/* empty message, and a large one (heap path) */
	REQUIRE(crypto_sign(&sk, DOMAIN_A, NULL, 0, sig) == 0);
	CHECK_INT_EQ(crypto_verify(&pk, DOMAIN_A, NULL, 0, sig), 0);
	static uint8_t big[70000];
	memset(big, 0x5a, sizeof big);
	REQUIRE(crypto_sign(&sk, DOMAIN_A, big, sizeof big, sig) == 0);
	CHECK_INT_EQ(crypto_verify(&pk, DOMAIN_A, big, sizeof big, sig), 0);
	big[69999] ^= 1;
	CHECK_INT_EQ(crypto_verify(&pk, DOMAIN_A, big, sizeof big, sig), SL_EBADSIG);

	/* a domain longer than the maximum is refused */
	char long_domain[CRYPTO_DOMAIN_BYTES_MAX + 8];
	memset(long_domain, 'x', sizeof long_domain - 1);
	long_domain[sizeof long_domain - 1] = '\0';
	CHECK_INT_EQ(crypto_sign(&sk, long_domain, message, sizeof message, sig), SL_EINVAL);
}

static void test_domain_separation(void)
{
	REQUIRE(crypto_init() == 0);
	struct crypto_public_key pk;
	struct crypto_secret_key sk;
	fixed_keypair(&pk, &sk);
	const uint8_t message[] = "payload";
	uint8_t sig[CRYPTO_SIGNATURE_BYTES];
	REQUIRE(crypto_sign(&sk, DOMAIN_A, message, sizeof message, sig) == 0);
	CHECK_INT_EQ(crypto_verify(&pk, DOMAIN_B, message, sizeof message, sig), SL_EBADSIG);
	/* the NUL separates: domain "ab" + "c" is not domain "a" + "bc" */
	REQUIRE(crypto_sign(&sk, "ab", (const uint8_t *)"c", 1, sig) == 0);
	CHECK_INT_EQ(crypto_verify(&pk, "a", (const uint8_t *)"bc", 2, sig), SL_EBADSIG);
	CHECK_INT_EQ(crypto_verify(&pk, "ab", (const uint8_t *)"c", 1, sig), 0);
}

static void test_tampering_fails(void)
{
	REQUIRE(crypto_init() == 0);
	struct crypto_public_key pk, other_pk;
	struct crypto_secret_key sk, other_sk;
	fixed_keypair(&pk, &sk);
	REQUIRE(crypto_keypair_generate(&other_pk, &other_sk) == 0);
	uint8_t message[32];
	memset(message, 7, sizeof message);
	uint8_t sig[CRYPTO_SIGNATURE_BYTES];
	REQUIRE(crypto_sign(&sk, DOMAIN_A, message, sizeof message, sig) == 0);
	for (size_t i = 0; i < sizeof message; i++) {
		message[i] ^= 0x01;
		CHECK_INT_EQ(crypto_verify(&pk, DOMAIN_A, message, sizeof message, sig), SL_EBADSIG);
		message[i] ^= 0x01;
	}
	for (size_t i = 0; i < sizeof sig; i++) {
		sig[i] ^= 0x80;
		CHECK_INT_EQ(crypto_verify(&pk, DOMAIN_A, message, sizeof message, sig), SL_EBADSIG);
		sig[i] ^= 0x80;
	}
	CHECK_INT_EQ(crypto_verify(&other_pk, DOMAIN_A, message, sizeof message, sig), SL_EBADSIG);
	CHECK_INT_EQ(crypto_verify(&pk, DOMAIN_A, message, sizeof message - 1, sig), SL_EBADSIG);
	CHECK_INT_EQ(crypto_verify(&pk, DOMAIN_A, message, sizeof message, sig), 0);
}

static void test_key_id_stable(void)
{
	REQUIRE(crypto_init() == 0);
	struct crypto_public_key pk;
	struct crypto_secret_key sk;
	fixed_keypair(&pk, &sk);
	struct crypto_key_id id1, id2;
	crypto_key_id_of(&pk, &id1);
	crypto_key_id_of(&pk, &id2);
	CHECK(memcmp(id1.bytes, id2.bytes, sizeof id1.bytes) == 0);
	/* independently: SHA-256("siteledger/key-id/v1" NUL || pk), first 16 bytes */
	uint8_t input[21 + 32];
	memcpy(input, "siteledger/key-id/v1", 21);
	memcpy(input + 21, pk.bytes, 32);
	uint8_t hash[32];
	crypto_hash_sha256(hash, input, sizeof input);
	CHECK(memcmp(id1.bytes, hash, CRYPTO_KEY_ID_BYTES) == 0);
	pk.bytes[0] ^= 1;
	crypto_key_id_of(&pk, &id2);
	CHECK(memcmp(id1.bytes, id2.bytes, sizeof id1.bytes) != 0);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		abort();
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void test_key_file_round_trip(void)
{
	REQUIRE(crypto_init() == 0);
	char dir[PATH_MAX], sk_path[PATH_MAX + 16], pk_path[PATH_MAX + 16];
	REQUIRE(test_tmpdir(dir) == 0);
	snprintf(sk_path, sizeof sk_path, "%s/site.key", dir);
	snprintf(pk_path, sizeof pk_path, "%s/site.pub", dir);
	struct crypto_public_key pk, pk2;
	struct crypto_secret_key sk, sk2;
	REQUIRE(crypto_keypair_generate(&pk, &sk) == 0);
	CHECK_INT_EQ(crypto_secret_key_write(sk_path, "site-a", &sk), 0);
	CHECK_INT_EQ(crypto_public_key_write(pk_path, "site-a", &pk), 0);
	struct stat st;
	REQUIRE(stat(sk_path, &st) == 0);
	CHECK_INT_EQ(st.st_mode & 0777, 0600);
	char site[33] = "";
	CHECK_INT_EQ(crypto_secret_key_read(sk_path, &sk2, site, sizeof site), 0);
	CHECK(memcmp(sk.bytes, sk2.bytes, sizeof sk.bytes) == 0);
	CHECK_STR_EQ(site, "site-a");
	memset(site, 0, sizeof site);
	CHECK_INT_EQ(crypto_public_key_read(pk_path, &pk2, site, sizeof site), 0);
	CHECK(memcmp(pk.bytes, pk2.bytes, sizeof pk.bytes) == 0);
	CHECK_STR_EQ(site, "site-a");
	CHECK_INT_EQ(crypto_public_key_read(pk_path, &pk2, NULL, 0), 0);
	char tiny[4];
	CHECK_INT_EQ(crypto_public_key_read(pk_path, &pk2, tiny, sizeof tiny), SL_ELIMIT);
	/* the file text is the documented format */
	char expect[256], hex[65];
	crypto_hex_encode(pk.bytes, sizeof pk.bytes, hex);
	snprintf(expect, sizeof expect, "siteledger-public-key v1\nsite: site-a\nkey: %s\n", hex);
	char got[256] = "";
	FILE *f = fopen(pk_path, "r");
	REQUIRE(f != NULL);
	size_t n = fread(got, 1, sizeof got - 1, f);
	fclose(f);
	got[n] = '\0';
	CHECK_STR_EQ(got, expect);
	/* overwrite refused, file unchanged */
	CHECK_INT_EQ(crypto_secret_key_write(sk_path, "site-b", &sk), SL_EEXIST);
	CHECK_INT_EQ(crypto_public_key_write(pk_path, "site-b", &pk), SL_EEXIST);
	CHECK_INT_EQ(crypto_secret_key_read(sk_path, &sk2, site, sizeof site), 0);
	CHECK_STR_EQ(site, "site-a");
	/* a label with a newline could forge a line: refused */
	snprintf(pk_path, sizeof pk_path, "%s/bad.pub", dir);
	CHECK_INT_EQ(crypto_public_key_write(pk_path, "a\nkey: 00", &pk), SL_EINVAL);
	CHECK_INT_EQ(crypto_public_key_read(pk_path, &pk2, NULL, 0), SL_ENOENT);
	test_rmtree(dir);
}

static void test_key_file_permissions(void)
{
	REQUIRE(crypto_init() == 0);
	char dir[PATH_MAX], path[PATH_MAX + 16];
	REQUIRE(test_tmpdir(dir) == 0);
	snprintf(path, sizeof path, "%s/site.key", dir);
	struct crypto_public_key pk;
	struct crypto_secret_key sk;
	REQUIRE(crypto_keypair_generate(&pk, &sk) == 0);
	REQUIRE(crypto_secret_key_write(path, "site-a", &sk) == 0);
	REQUIRE(chmod(path, 0644) == 0);
	CHECK_INT_EQ(crypto_secret_key_read(path, &sk, NULL, 0), SL_EPERM);
	REQUIRE(chmod(path, 0640) == 0);
	CHECK_INT_EQ(crypto_secret_key_read(path, &sk, NULL, 0), SL_EPERM);
	REQUIRE(chmod(path, 0604) == 0);
	CHECK_INT_EQ(crypto_secret_key_read(path, &sk, NULL, 0), SL_EPERM);
	REQUIRE(chmod(path, 0400) == 0);
	CHECK_INT_EQ(crypto_secret_key_read(path, &sk, NULL, 0), 0);
	snprintf(path, sizeof path, "%s/missing.key", dir);
	CHECK_INT_EQ(crypto_secret_key_read(path, &sk, NULL, 0), SL_ENOENT);
	test_rmtree(dir);
}

/* Malformed secret key file number `i` (false past the last one). */
static bool malformed_secret_text(int i, const char *hex, char *text, size_t size)
{
	switch (i) {
	case 0: /* truncated hex */
		snprintf(text, size, "siteledger-secret-key v1\nsite: s\nkey: %.127s\n", hex);
		return true;
	case 1: /* wrong header */
		snprintf(text, size, "siteledger-secret-key v2\nsite: s\nkey: %s\n", hex);
		return true;
	case 2: /* public header */
		snprintf(text, size, "siteledger-public-key v1\nsite: s\nkey: %s\n", hex);
		return true;
	case 3: /* no final LF */
		snprintf(text, size, "siteledger-secret-key v1\nsite: s\nkey: %s", hex);
		return true;
	case 4: /* extra line */
		snprintf(text, size, "siteledger-secret-key v1\nsite: s\nkey: %s\nx\n", hex);
		return true;
	case 5: /* no site line */
		snprintf(text, size, "siteledger-secret-key v1\nkey: %s\n", hex);
		return true;
	case 6: /* trailing space */
		snprintf(text, size, "siteledger-secret-key v1\nsite: s\nkey: %s \n", hex);
		return true;
	case 7: /* bad hex digits */
		snprintf(text, size, "siteledger-secret-key v1\nsite: s\nkey: zz%.126s\n", hex);
		return true;
	case 8: /* CRLF line ends */
		snprintf(text, size, "siteledger-secret-key v1\r\nsite: s\r\nkey: %s\r\n", hex);
		return true;
	case 9: /* empty file */
		snprintf(text, size, "%s", "");
		return true;
	default:
		return false;
	}
}

static void test_key_file_malformed(void)
{
	REQUIRE(crypto_init() == 0);
	char dir[PATH_MAX], path[PATH_MAX + 16];
	REQUIRE(test_tmpdir(dir) == 0);
	snprintf(path, sizeof path, "%s/k", dir);
	struct crypto_public_key pk;
	struct crypto_secret_key sk;
	REQUIRE(crypto_keypair_generate(&pk, &sk) == 0);
	char sk_hex[129], pk_hex[65], text[512];
	crypto_hex_encode(sk.bytes, sizeof sk.bytes, sk_hex);
	crypto_hex_encode(pk.bytes, sizeof pk.bytes, pk_hex);

	/* the valid text first, so the cases below fail for the reason they name */
	snprintf(text, sizeof text, "siteledger-secret-key v1\nsite: s\nkey: %s\n", sk_hex);
	write_text(path, text, 0600);
	CHECK_INT_EQ(crypto_secret_key_read(path, &sk, NULL, 0), 0);

	for (int i = 0; malformed_secret_text(i, sk_hex, text, sizeof text); i++) {
		unlink(path);
		write_text(path, text, 0600);
		int rc = crypto_secret_key_read(path, &sk, NULL, 0);
		if (rc != SL_EKEYFILE)
			printf("  secret key case %d: %s\n", i, sl_errname(rc));
		CHECK_INT_EQ(rc, SL_EKEYFILE);
	}
	/* public half that the seed does not derive */
	unlink(path);
	char flipped[129];
	memcpy(flipped, sk_hex, sizeof flipped);
	flipped[127] = flipped[127] == '0' ? '1' : '0';
	snprintf(text, sizeof text, "siteledger-secret-key v1\nsite: s\nkey: %s\n", flipped);
	write_text(path, text, 0600);
	CHECK_INT_EQ(crypto_secret_key_read(path, &sk, NULL, 0), SL_EKEYFILE);
	/* public key files */
	unlink(path);
	snprintf(text, sizeof text, "siteledger-public-key v1\nsite: s\nkey: %.62s\n", pk_hex);
	write_text(path, text, 0644);
	CHECK_INT_EQ(crypto_public_key_read(path, &pk, NULL, 0), SL_EKEYFILE);
	unlink(path);
	snprintf(text, sizeof text, "siteledger-public-key v1\nsite: s\nkey: %s\n", sk_hex); /* too long */
	write_text(path, text, 0644);
	CHECK_INT_EQ(crypto_public_key_read(path, &pk, NULL, 0), SL_EKEYFILE);
	/* a directory is not a key file */
	CHECK_INT_EQ(crypto_public_key_read(dir, &pk, NULL, 0), SL_EKEYFILE);
	/* a file larger than any key file */
	unlink(path);
	char big[1024];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	write_text(path, big, 0644);
	CHECK_INT_EQ(crypto_public_key_read(path, &pk, NULL, 0), SL_EKEYFILE);
	test_rmtree(dir);
}

#define BATCH_JOBS 100

static void run_batch(unsigned threads, size_t count, int *results)
{
	static struct crypto_public_key pks[2];
	static struct crypto_secret_key sks[2];
	static uint8_t messages[BATCH_JOBS][40];
	static uint8_t sigs[BATCH_JOBS][CRYPTO_SIGNATURE_BYTES];
	static struct crypto_verify_job jobs[BATCH_JOBS];
	fixed_keypair(&pks[0], &sks[0]);
	if (crypto_sign_seed_keypair(pks[1].bytes, sks[1].bytes, pks[0].bytes) != 0)
		abort();
	for (size_t i = 0; i < count; i++) {
		memset(messages[i], (int)i, sizeof messages[i]);
		if (crypto_sign(&sks[i % 2], DOMAIN_A, messages[i], sizeof messages[i], sigs[i]) != 0)
			abort();
		jobs[i] = (struct crypto_verify_job){ &pks[i % 2], DOMAIN_A, messages[i], sizeof messages[i],
						      sigs[i] };
		if (i % 7 == 3)
			sigs[i][5] ^= 1; /* bad signature */
		if (i % 11 == 4)
			jobs[i].pk = &pks[(i + 1) % 2]; /* wrong key */
		if (i % 13 == 5)
			jobs[i].domain = DOMAIN_B; /* wrong domain */
	}
	for (size_t i = 0; i < count; i++)
		results[i] = 12345;
	if (crypto_verify_batch(jobs, count, results, threads) != 0)
		abort();
}

static void test_verify_batch(void)
{
	REQUIRE(crypto_init() == 0);
	static const unsigned thread_counts[] = { 1, 2, 0, 3, 1000 };
	static const size_t sizes[] = { BATCH_JOBS, 5, 17, 1 };
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		int expected[BATCH_JOBS];
		for (size_t i = 0; i < sizes[s]; i++)
			expected[i] = (i % 7 == 3 || i % 11 == 4 || i % 13 == 5) ? SL_EBADSIG : 0;
		for (size_t t = 0; t < sizeof thread_counts / sizeof thread_counts[0]; t++) {
			int results[BATCH_JOBS];
			run_batch(thread_counts[t], sizes[s], results);
			for (size_t i = 0; i < sizes[s]; i++) {
				if (results[i] != expected[i])
					printf("  size %zu threads %u job %zu: %d\n", sizes[s], thread_counts[t], i,
					       results[i]);
				CHECK_INT_EQ(results[i], expected[i]);
			}
		}
	}
	CHECK_INT_EQ(crypto_verify_batch(NULL, 0, NULL, 0), 0);
	CHECK(crypto_cores_online() >= 1);
}

static const struct test_case cases[] = {
	TEST_CASE(test_init),
	TEST_CASE(test_sha256_known_answers),
	TEST_CASE(test_hex_round_trip),
	TEST_CASE(test_keypair_public_half),
	TEST_CASE(test_sign_verify_round_trip),
	TEST_CASE(test_domain_separation),
	TEST_CASE(test_tampering_fails),
	TEST_CASE(test_key_id_stable),
	TEST_CASE(test_key_file_round_trip),
	TEST_CASE(test_key_file_permissions),
	TEST_CASE(test_key_file_malformed),
	TEST_CASE(test_verify_batch),
};

TEST_MAIN(cases)
