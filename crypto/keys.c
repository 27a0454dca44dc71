/* crypto/keys.c — library start-up, Ed25519 key pairs and key ids (see crypto.h).
 *
 * Key id (docs/record-format.md "Key ids"): the first CRYPTO_KEY_ID_BYTES bytes of
 * SHA-256("siteledger/key-id/v1" NUL || public key). The domain string keeps a key id from ever
 * equalling another hash in the system (record ids, Merkle nodes) computed over the same 32 bytes.
 */
#include "crypto/crypto.h"

#include <assert.h>
#include <sodium.h>
#include <string.h>

#include "util/error.h"

#define KEY_ID_DOMAIN "siteledger/key-id/v1"

_Static_assert(CRYPTO_PUBLIC_KEY_BYTES == crypto_sign_PUBLICKEYBYTES, "Ed25519 public key size");
_Static_assert(CRYPTO_SECRET_KEY_BYTES == crypto_sign_SECRETKEYBYTES, "Ed25519 secret key size");
_Static_assert(CRYPTO_SIGNATURE_BYTES == crypto_sign_BYTES, "Ed25519 signature size");
_Static_assert(CRYPTO_SHA256_BYTES == crypto_hash_sha256_BYTES, "SHA-256 size");
_Static_assert(CRYPTO_KEY_ID_BYTES <= CRYPTO_SHA256_BYTES, "key id is a prefix of a SHA-256");

int crypto_init(void)
{
	/* sodium_init is thread-safe and idempotent: 0 first time, 1 after, -1 on failure */
	return sodium_init() < 0 ? SL_ECRYPTO : 0;
}

int crypto_keypair_generate(struct crypto_public_key *pk, struct crypto_secret_key *sk)
{
	assert(pk != NULL);
	assert(sk != NULL);
	return crypto_sign_keypair(pk->bytes, sk->bytes) == 0 ? 0 : SL_ECRYPTO;
}

void crypto_secret_key_public(const struct crypto_secret_key *sk, struct crypto_public_key *pk)
{
	assert(sk != NULL);
	assert(pk != NULL);
	/* libsodium's secret key is seed || public key: the second half is the public key */
	int rc = crypto_sign_ed25519_sk_to_pk(pk->bytes, sk->bytes);
	assert(rc == 0);
	(void)rc;
}

void crypto_secret_key_wipe(struct crypto_secret_key *sk)
{
	assert(sk != NULL);
	sodium_memzero(sk->bytes, sizeof sk->bytes);
}

void crypto_key_id_of(const struct crypto_public_key *pk, struct crypto_key_id *id)
{
	assert(pk != NULL);
	assert(id != NULL);
	uint8_t hash[CRYPTO_SHA256_BYTES];
	crypto_sha256_2((const uint8_t *)KEY_ID_DOMAIN, sizeof KEY_ID_DOMAIN, pk->bytes, sizeof pk->bytes, hash);
	memcpy(id->bytes, hash, sizeof id->bytes);
}
