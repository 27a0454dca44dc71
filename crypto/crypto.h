/* crypto/crypto.h — keys, signatures and hashes for siteledger (libsodium only).
 *
 * Owns: Ed25519 key pairs and their files, key ids, domain-separated signing and verification,
 * SHA-256, and verification of many signatures at once on all cores.
 *
 * Rules:
 *  1. crypto_init() must succeed once before any other call (it initialises libsodium).
 *  2. Secret keys live in caller-owned struct crypto_secret_key; wipe with crypto_secret_key_wipe().
 *  3. A secret key file is written mode 0600 and refused on load when group- or world-accessible
 *     (SL_EPERM), as ssh does. Key files are text: see docs/record-format.md ("Key files").
 *  4. Every signature covers DOMAIN || message, where DOMAIN is a NUL-terminated context string
 *     (e.g. "siteledger/record/v1"): a signature made for one purpose never verifies for another.
 *  5. Verification uses libsodium's strict Ed25519 checks (canonical S, no small-order keys).
 */
#ifndef SL_CRYPTO_CRYPTO_H
#define SL_CRYPTO_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* libsodium declares its own crypto_sign() (attached signatures). Declare it first, then give ours
 * another link name, so a file may include both <sodium.h> and this header in any order, and the
 * executable never holds two definitions of one symbol. Callers still write crypto_sign(...). */
#include <sodium/crypto_hash_sha256.h>
#include <sodium/crypto_sign.h>
#define crypto_sign sl_crypto_sign

#define CRYPTO_PUBLIC_KEY_BYTES 32
#define CRYPTO_SECRET_KEY_BYTES 64 /* libsodium layout: seed || public key */
#define CRYPTO_SIGNATURE_BYTES 64
#define CRYPTO_SHA256_BYTES 32
#define CRYPTO_KEY_ID_BYTES 16 /* SHA-256("siteledger/key-id/v1\0" || public key), first 16 bytes */
#define CRYPTO_DOMAIN_BYTES_MAX 64 /* domain strings are short constants */
#define CRYPTO_VERIFY_THREADS_MAX 64 /* more cores than this are not used for one batch */

struct crypto_public_key {
	uint8_t bytes[CRYPTO_PUBLIC_KEY_BYTES];
};

struct crypto_secret_key {
	uint8_t bytes[CRYPTO_SECRET_KEY_BYTES];
};

struct crypto_key_id {
	uint8_t bytes[CRYPTO_KEY_ID_BYTES];
};

int crypto_init(void);

/* Fresh key pair from the OS random source. */
int crypto_keypair_generate(struct crypto_public_key *pk, struct crypto_secret_key *sk);
void crypto_secret_key_public(const struct crypto_secret_key *sk, struct crypto_public_key *pk);
void crypto_secret_key_wipe(struct crypto_secret_key *sk);
void crypto_key_id_of(const struct crypto_public_key *pk, struct crypto_key_id *id);

/* Key files. `site` is written into the file as a label and returned on load (site_size bytes
 * including NUL; may be NULL/0 to ignore). Writing refuses to overwrite an existing file (SL_EEXIST).
 * Loading a secret key: SL_EPERM when the file is group/world accessible, SL_EKEYFILE when malformed,
 * SL_ENOENT when missing. Also: SL_EINVAL when writing a label that is not 0-64 printable ASCII
 * characters without spaces; SL_ELIMIT when the loaded label does not fit site_size. */
int crypto_secret_key_write(const char *path, const char *site, const struct crypto_secret_key *sk);
int crypto_secret_key_read(const char *path, struct crypto_secret_key *sk, char *site, size_t site_size);
int crypto_public_key_write(const char *path, const char *site, const struct crypto_public_key *pk);
int crypto_public_key_read(const char *path, struct crypto_public_key *pk, char *site, size_t site_size);

/* Sign DOMAIN || message. */
int crypto_sign(const struct crypto_secret_key *sk, const char *domain, const uint8_t *message,
		size_t message_len, uint8_t signature[CRYPTO_SIGNATURE_BYTES]);
/* 0 when valid, SL_EBADSIG otherwise. Both calls: SL_EINVAL for a domain of 64 bytes or more,
 * SL_ENOMEM when joining a large message with its domain fails. */
int crypto_verify(const struct crypto_public_key *pk, const char *domain, const uint8_t *message,
		  size_t message_len, const uint8_t signature[CRYPTO_SIGNATURE_BYTES]);

/* SHA-256 of one buffer, and of two concatenated (prefix may be a domain string). */
void crypto_sha256(const uint8_t *data, size_t len, uint8_t out[CRYPTO_SHA256_BYTES]);
void crypto_sha256_2(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
		     uint8_t out[CRYPTO_SHA256_BYTES]);

/* SHA-256 of a stream fed in pieces (a snapshot of many chunks): init, update any number of times,
 * final once. The state is libsodium's; copy it only as a whole. */
struct crypto_sha256_stream {
	crypto_hash_sha256_state state;
};
void crypto_sha256_stream_init(struct crypto_sha256_stream *s);
void crypto_sha256_stream_update(struct crypto_sha256_stream *s, const uint8_t *data, size_t len);
void crypto_sha256_stream_final(struct crypto_sha256_stream *s, uint8_t out[CRYPTO_SHA256_BYTES]);

/* Batch verification on all cores. Each job names the key, the domain, the message and the
 * signature; results[i] is 0 or SL_EBADSIG. threads = 0 means one per online core. Jobs are
 * independent; the call returns when all are done. Pointers must stay valid during the call. */
struct crypto_verify_job {
	const struct crypto_public_key *pk;
	const char *domain;
	const uint8_t *message;
	size_t message_len;
	const uint8_t *signature;
};
int crypto_verify_batch(const struct crypto_verify_job *jobs, size_t count, int *results,
			unsigned threads);
unsigned crypto_cores_online(void);

/* Hex helpers (lowercase). hex_decode: SL_EINVAL on bad digit or length. */
void crypto_hex_encode(const uint8_t *bytes, size_t len, char *out /* 2*len+1 */);
int crypto_hex_decode(const char *hex, uint8_t *out, size_t out_len);

#endif
