/* crypto/sign.c — domain-separated Ed25519 signatures and SHA-256 (see crypto.h).
 *
 * Signed message (docs/record-format.md "Signatures"): DOMAIN || NUL || message, signed with
 * plain Ed25519 (RFC 8032 §5.1, not the prehashed Ed25519ph). The NUL ends the domain, so no
 * domain is a prefix of another's signed bytes ("a/b" + "c..." never equals "a/bc" + "...").
 *
 * libsodium's Ed25519 needs the whole message in one buffer, so the domain and the message are
 * joined: on the stack when small (the common case for checkpoints and notes), on the heap
 * otherwise (records up to 64 KiB). The buffer holds only public data.
 */
#include "crypto/crypto.h"

#include <assert.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

#define JOINED_STACK_BYTES 1024 /* messages up to this (with the domain) are joined on the stack */

struct joined {
	uint8_t stack[JOINED_STACK_BYTES];
	uint8_t *bytes; /* stack or heap */
	size_t len;
};

/* bytes = domain || NUL || message. SL_EINVAL for an over-long domain, SL_ENOMEM. */
static int joined_make(struct joined *joined, const char *domain, const uint8_t *message, size_t message_len)
{
	assert(domain != NULL);
	assert(message != NULL || message_len == 0);
	size_t domain_len = strnlen(domain, CRYPTO_DOMAIN_BYTES_MAX);
	if (domain_len >= CRYPTO_DOMAIN_BYTES_MAX) /* with its NUL, a domain fits in the maximum */
		return SL_EINVAL;
	if (message_len > SIZE_MAX - domain_len - 1)
		return SL_ENOMEM;
	joined->len = domain_len + 1 + message_len;
	joined->bytes = joined->stack;
	if (joined->len > sizeof joined->stack) {
		joined->bytes = malloc(joined->len);
		if (joined->bytes == NULL)
			return SL_ENOMEM;
	}
	memcpy(joined->bytes, domain, domain_len + 1);
	if (message_len > 0)
		memcpy(joined->bytes + domain_len + 1, message, message_len);
	return 0;
}

static void joined_free(struct joined *joined)
{
	if (joined->bytes != joined->stack)
		free(joined->bytes);
	joined->bytes = NULL;
}

int crypto_sign(const struct crypto_secret_key *sk, const char *domain, const uint8_t *message,
		size_t message_len, uint8_t signature[CRYPTO_SIGNATURE_BYTES])
{
	assert(sk != NULL);
	assert(signature != NULL);
	struct joined joined;
	int rc = joined_make(&joined, domain, message, message_len);
	if (rc != 0)
		return rc;
	if (crypto_sign_detached(signature, NULL, joined.bytes, joined.len, sk->bytes) != 0)
		rc = SL_ECRYPTO;
	joined_free(&joined);
	return rc;
}

int crypto_verify(const struct crypto_public_key *pk, const char *domain, const uint8_t *message,
		  size_t message_len, const uint8_t signature[CRYPTO_SIGNATURE_BYTES])
{
	assert(pk != NULL);
	assert(signature != NULL);
	struct joined joined;
	int rc = joined_make(&joined, domain, message, message_len);
	if (rc != 0)
		return rc;
	/* libsodium >= 1.0.16 rejects non-canonical S and small-order keys and R (crypto.h rule 5) */
	if (crypto_sign_verify_detached(signature, joined.bytes, joined.len, pk->bytes) != 0)
		rc = SL_EBADSIG;
	joined_free(&joined);
	return rc;
}

void crypto_sha256(const uint8_t *data, size_t len, uint8_t out[CRYPTO_SHA256_BYTES])
{
	assert(data != NULL || len == 0);
	assert(out != NULL);
	crypto_hash_sha256(out, data, len);
}

void crypto_sha256_2(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
		     uint8_t out[CRYPTO_SHA256_BYTES])
{
	assert(a != NULL || a_len == 0);
	assert(b != NULL || b_len == 0);
	crypto_hash_sha256_state state;
	crypto_hash_sha256_init(&state);
	crypto_hash_sha256_update(&state, a, a_len);
	crypto_hash_sha256_update(&state, b, b_len);
	crypto_hash_sha256_final(&state, out);
}

void crypto_sha256_stream_init(struct crypto_sha256_stream *s)
{
	assert(s != NULL);
	crypto_hash_sha256_init(&s->state);
}

void crypto_sha256_stream_update(struct crypto_sha256_stream *s, const uint8_t *data, size_t len)
{
	assert(s != NULL);
	assert(data != NULL || len == 0);
	crypto_hash_sha256_update(&s->state, data, len);
}

void crypto_sha256_stream_final(struct crypto_sha256_stream *s, uint8_t out[CRYPTO_SHA256_BYTES])
{
	assert(s != NULL && out != NULL);
	crypto_hash_sha256_final(&s->state, out);
}
