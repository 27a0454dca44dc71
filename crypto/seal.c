/* crypto/seal.c — node-to-node sealing: Ed25519 → X25519 conversion, precomputed crypto_box
 * keys, seal and open (crypto/seal.h). */
#include "crypto/seal.h"

#include <assert.h>
#include <sodium.h>
#include <string.h>

#include "util/error.h"

_Static_assert(CRYPTO_SEAL_KEY_BYTES == crypto_box_BEFORENMBYTES, "precomputed key size");
_Static_assert(CRYPTO_SEAL_NONCE_BYTES == crypto_box_NONCEBYTES, "nonce size");
_Static_assert(CRYPTO_SEAL_TAG_BYTES == crypto_box_MACBYTES, "tag size");

int crypto_seal_key_derive(const struct crypto_secret_key *own, const struct crypto_public_key *peer,
			   struct crypto_seal_key *out)
{
	assert(own != NULL && peer != NULL);
	assert(out != NULL);
	uint8_t own_x[crypto_scalarmult_curve25519_BYTES];
	uint8_t peer_x[crypto_scalarmult_curve25519_BYTES];
	int rc = 0;
	if (crypto_sign_ed25519_pk_to_curve25519(peer_x, peer->bytes) != 0 ||
	    crypto_sign_ed25519_sk_to_curve25519(own_x, own->bytes) != 0 ||
	    crypto_box_beforenm(out->bytes, peer_x, own_x) != 0)
		rc = SL_ECRYPTO;
	sodium_memzero(own_x, sizeof own_x);
	if (rc != 0)
		sodium_memzero(out->bytes, sizeof out->bytes);
	return rc;
}

void crypto_seal_key_wipe(struct crypto_seal_key *key)
{
	sodium_memzero(key->bytes, sizeof key->bytes);
}

int crypto_seal(const struct crypto_seal_key *key, const uint8_t *msg, size_t len, uint8_t *out, size_t cap,
		size_t *out_len)
{
	assert(key != NULL && out != NULL);
	if (len > SIZE_MAX - CRYPTO_SEAL_OVERHEAD_BYTES || cap < len + CRYPTO_SEAL_OVERHEAD_BYTES)
		return SL_ELIMIT;
	randombytes_buf(out, CRYPTO_SEAL_NONCE_BYTES);
	if (crypto_box_easy_afternm(out + CRYPTO_SEAL_NONCE_BYTES, msg, len, out, key->bytes) != 0)
		return SL_ECRYPTO;
	*out_len = len + CRYPTO_SEAL_OVERHEAD_BYTES;
	return 0;
}

int crypto_seal_open(const struct crypto_seal_key *key, const uint8_t *sealed, size_t len, uint8_t *out,
		     size_t cap, size_t *out_len)
{
	assert(key != NULL && out != NULL);
	if (sealed == NULL || len < CRYPTO_SEAL_OVERHEAD_BYTES)
		return SL_ETRUNCATED;
	size_t plain = len - CRYPTO_SEAL_OVERHEAD_BYTES;
	if (cap < plain)
		return SL_ELIMIT;
	if (crypto_box_open_easy_afternm(out, sealed + CRYPTO_SEAL_NONCE_BYTES, len - CRYPTO_SEAL_NONCE_BYTES, sealed,
					 key->bytes) != 0)
		return SL_EBADSIG;
	*out_len = plain;
	return 0;
}
