/* crypto/verify_cache.h — a bounded, thread-safe memory of signature verifications that succeeded.
 *
 * The node verifies a submission's record signatures on its thread pool before proposing them
 * (docs/decisions.md D15); apply on the storage thread then finds them here instead of verifying
 * them a second time. A verification is a pure function of (public key, domain, message,
 * signature), so a hit stands exactly for a verification that would succeed: outcomes cannot
 * depend on the cache, only the time apply takes. A miss (never added, or overwritten) just
 * verifies.
 *
 * Rules:
 *  1. Entries are keyed by SHA-256 over the whole job (key, domain, message, signature): a false
 *     hit needs a SHA-256 collision.
 *  2. crypto_verify_cache_add only after crypto_verify (or a batch) returned 0 for that very job.
 *  3. Bounded: a fixed table of `entries` slots; a new entry overwrites whatever held its slot.
 *     take removes what it finds (a record is applied once per replica).
 *  4. Every call is thread-safe (one mutex, held for a slot's 32-byte compare or copy only).
 */
#ifndef SL_CRYPTO_VERIFY_CACHE_H
#define SL_CRYPTO_VERIFY_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto/crypto.h"

#define CRYPTO_VERIFY_CACHE_ENTRIES_MAX (1u << 22) /* 128 MiB of keys: far above any pipeline's depth */

typedef struct crypto_verify_cache crypto_verify_cache;

/* entries: 1..CRYPTO_VERIFY_CACHE_ENTRIES_MAX (rounded up to a power of two). SL_EINVAL, SL_ENOMEM. */
int crypto_verify_cache_create(size_t entries, crypto_verify_cache **out);
void crypto_verify_cache_destroy(crypto_verify_cache *cache); /* NULL is a no-op */
void crypto_verify_cache_add(crypto_verify_cache *cache, const struct crypto_verify_job *job);
/* True when this exact job was added (and not overwritten since); the entry is removed. */
bool crypto_verify_cache_take(crypto_verify_cache *cache, const struct crypto_verify_job *job);

#endif
