/* crypto/hex.c — lowercase hex encoding and strict decoding (see crypto.h).
 *
 * Used for key files and printed ids. Decoding takes an exact length so a short or long string is
 * an error rather than a partial key. Constant-time with respect to the digit values (libsodium's
 * sodium_bin2hex/sodium_hex2bin are, too), since key files hold secrets.
 */
#include "crypto/crypto.h"

#include <assert.h>
#include <sodium.h>
#include <string.h>

#include "util/error.h"

void crypto_hex_encode(const uint8_t *bytes, size_t len, char *out)
{
	assert(bytes != NULL || len == 0);
	assert(out != NULL);
	assert(len < SIZE_MAX / 2);
	sodium_bin2hex(out, 2 * len + 1, bytes, len);
}

int crypto_hex_decode(const char *hex, uint8_t *out, size_t out_len)
{
	assert(hex != NULL);
	assert(out != NULL || out_len == 0);
	size_t hex_len = strlen(hex);
	if (out_len > SIZE_MAX / 2 || hex_len != 2 * out_len)
		return SL_EINVAL;
	size_t written = 0;
	const char *end = NULL;
	/* no ignore set: any non-hex character fails; the end must be the whole string */
	if (sodium_hex2bin(out, out_len, hex, hex_len, NULL, &written, &end) != 0 || written != out_len ||
	    end != hex + hex_len) {
		sodium_memzero(out, out_len);
		return SL_EINVAL;
	}
	return 0;
}
