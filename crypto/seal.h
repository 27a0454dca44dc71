/* crypto/seal.h — authenticated encryption between two sites' nodes (libsodium crypto_box).
 *
 * Owns: converting a site's Ed25519 keys to X25519 (crypto_sign_ed25519_*_to_curve25519), the
 * precomputed shared key of a pair of sites (crypto_box_beforenm), and sealing / opening one
 * message with it (crypto_box_easy_afternm: XSalsa20-Poly1305).
 *
 * Sealed form: nonce (24 bytes, random) || box (16-byte tag || ciphertext).
 *
 * Rules:
 *  1. The shared key is symmetric: derive(a_sk, b_pk) == derive(b_sk, a_pk). Wipe it with
 *     crypto_seal_key_wipe when done (it is as secret as the site keys).
 *  2. Nonces are random (24 bytes: collisions are negligible), so no counter state is kept.
 *     Replayed sealed messages still open: the caller's protocol must tolerate duplicates
 *     (Raft does: docs/decisions.md D11).
 *  3. A box that does not open (wrong key, altered, truncated) is SL_EBADSIG; nothing is written
 *     to the plaintext output in that case beyond scratch bytes.
 */
#ifndef SL_CRYPTO_SEAL_H
#define SL_CRYPTO_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

#define CRYPTO_SEAL_KEY_BYTES 32
#define CRYPTO_SEAL_NONCE_BYTES 24
#define CRYPTO_SEAL_TAG_BYTES 16
#define CRYPTO_SEAL_OVERHEAD_BYTES (CRYPTO_SEAL_NONCE_BYTES + CRYPTO_SEAL_TAG_BYTES)

struct crypto_seal_key {
	uint8_t bytes[CRYPTO_SEAL_KEY_BYTES];
};

/* Shared key of (own secret key, peer public key), both Ed25519. SL_ECRYPTO when a key does not
 * convert (a small-order or malformed public key). */
int crypto_seal_key_derive(const struct crypto_secret_key *own, const struct crypto_public_key *peer,
			   struct crypto_seal_key *out);
void crypto_seal_key_wipe(struct crypto_seal_key *key);

/* Seal msg[0..len) into out[0..len + CRYPTO_SEAL_OVERHEAD_BYTES); cap is out's size
 * (SL_ELIMIT when too small). */
int crypto_seal(const struct crypto_seal_key *key, const uint8_t *msg, size_t len, uint8_t *out, size_t cap,
		size_t *out_len);
/* Open sealed[0..len) into out (cap >= len - CRYPTO_SEAL_OVERHEAD_BYTES). SL_ETRUNCATED when
 * shorter than the overhead, SL_ELIMIT when out is too small, SL_EBADSIG when it does not open. */
int crypto_seal_open(const struct crypto_seal_key *key, const uint8_t *sealed, size_t len, uint8_t *out,
		     size_t cap, size_t *out_len);

#endif
