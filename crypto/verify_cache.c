/* crypto/verify_cache.c — the memory of successful verifications (crypto/verify_cache.h).
 *
 * A direct-mapped table: the key of a job is SHA-256("siteledger/verify-cache/v1\0" || public key
 * || signature || domain || NUL || message); its first 8 bytes choose the slot. A colliding add
 * overwrites (the older job will simply be verified again), so memory is fixed at creation.
 */
#include "crypto/verify_cache.h"

#include <assert.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

#define VERIFY_CACHE_DOMAIN "siteledger/verify-cache/v1"

struct verify_cache_slot {
	bool used;
	uint8_t key[crypto_hash_sha256_BYTES];
};

struct crypto_verify_cache {
	pthread_mutex_t mutex;
	size_t mask; /* slots - 1 */
	struct verify_cache_slot *slots;
};

int crypto_verify_cache_create(size_t entries, crypto_verify_cache **out)
{
	assert(out != NULL);
	*out = NULL;
	if (entries == 0 || entries > CRYPTO_VERIFY_CACHE_ENTRIES_MAX)
		return SL_EINVAL;
	size_t slots = 1;
	while (slots < entries) /* bounded: entries <= 2^22 */
		slots <<= 1;
	crypto_verify_cache *c = calloc(1, sizeof *c);
	if (c == NULL)
		return SL_ENOMEM;
	c->slots = calloc(slots, sizeof c->slots[0]);
	if (c->slots == NULL || pthread_mutex_init(&c->mutex, NULL) != 0) {
		free(c->slots);
		free(c);
		return SL_ENOMEM;
	}
	c->mask = slots - 1;
	*out = c;
	return 0;
}

void crypto_verify_cache_destroy(crypto_verify_cache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->mutex);
	free(c->slots);
	free(c);
}

static void job_key(const struct crypto_verify_job *job, uint8_t key[crypto_hash_sha256_BYTES])
{
	assert(job->pk != NULL && job->domain != NULL && job->signature != NULL);
	crypto_hash_sha256_state state;
	crypto_hash_sha256_init(&state);
	crypto_hash_sha256_update(&state, (const uint8_t *)VERIFY_CACHE_DOMAIN, sizeof VERIFY_CACHE_DOMAIN);
	crypto_hash_sha256_update(&state, job->pk->bytes, sizeof job->pk->bytes);
	crypto_hash_sha256_update(&state, job->signature, CRYPTO_SIGNATURE_BYTES);
	crypto_hash_sha256_update(&state, (const uint8_t *)job->domain, strlen(job->domain) + 1);
	crypto_hash_sha256_update(&state, job->message, job->message_len);
	crypto_hash_sha256_final(&state, key);
}

static size_t slot_of(const crypto_verify_cache *c, const uint8_t key[crypto_hash_sha256_BYTES])
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | key[i];
	return (size_t)(v & c->mask);
}

void crypto_verify_cache_add(crypto_verify_cache *c, const struct crypto_verify_job *job)
{
	assert(c != NULL && job != NULL);
	uint8_t key[crypto_hash_sha256_BYTES];
	job_key(job, key); /* outside the lock: the hash is the costly part */
	struct verify_cache_slot *slot = &c->slots[slot_of(c, key)];
	pthread_mutex_lock(&c->mutex);
	slot->used = true;
	memcpy(slot->key, key, sizeof key);
	pthread_mutex_unlock(&c->mutex);
}

bool crypto_verify_cache_take(crypto_verify_cache *c, const struct crypto_verify_job *job)
{
	assert(c != NULL && job != NULL);
	uint8_t key[crypto_hash_sha256_BYTES];
	job_key(job, key);
	struct verify_cache_slot *slot = &c->slots[slot_of(c, key)];
	pthread_mutex_lock(&c->mutex);
	bool hit = slot->used && memcmp(slot->key, key, sizeof key) == 0;
	if (hit)
		slot->used = false;
	pthread_mutex_unlock(&c->mutex);
	return hit;
}
