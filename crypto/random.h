/* crypto/random.h — the OS random source (libsodium randombytes), for nonces and serials.
 * Never used by deterministic code (apply, consensus): they take randomness as input. */
#ifndef SL_CRYPTO_RANDOM_H
#define SL_CRYPTO_RANDOM_H

#include <stddef.h>
#include <stdint.h>

void crypto_random_bytes(void *out, size_t len);
/* Uniform in [0, upper) without modulo bias; upper > 0. */
uint32_t crypto_random_uniform(uint32_t upper);

#endif
