/* crypto/random.c — thin wrapper over libsodium's CSPRNG (see random.h). */
#include "crypto/random.h"

#include <assert.h>
#include <sodium.h>

void crypto_random_bytes(void *out, size_t len)
{
	randombytes_buf(out, len);
}

uint32_t crypto_random_uniform(uint32_t upper)
{
	assert(upper > 0);
	return randombytes_uniform(upper);
}
