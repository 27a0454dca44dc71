/* crypto/note.c — C2SP signed notes, checkpoints and cosignatures (see note.h for the formats).
 *
 * Design notes:
 *  1. Parsing is strict and bounded: every line is scanned once, lengths are checked before any
 *     copy, base64 is decoded with libsodium's strict original-variant decoder (padding required,
 *     no whitespace), so one note has exactly one reading.
 *  2. Signing messages are built on the stack (NOTE_BYTES_MAX bounds the body).
 *  3. Signatures use libsodium's detached Ed25519 directly: the C2SP formats sign the body as is,
 *     without siteledger's domain prefix (crypto.h rule 4 is for siteledger's own messages; the
 *     "cosignature/v1" header and the distinct key id types give the C2SP formats their own
 *     domain separation).
 */
#include "crypto/note.h"

#include <assert.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "util/error.h"

#define NOTE_DASH "\xe2\x80\x94" /* U+2014 EM DASH */
#define NOTE_DASH_BYTES 3
#define NOTE_B64_BYTES_MAX 128	    /* base64 of key id + 72 bytes is 104 characters */
#define NOTE_COSIGN_HEADER "cosignature/v1\ntime "
#define NOTE_DECIMAL_BYTES_MAX 20   /* UINT64_MAX */

void note_key_id(const char *name, uint8_t type, const struct crypto_public_key *pk,
		 uint8_t out[NOTE_KEY_ID_BYTES])
{
	uint8_t buffer[NOTE_NAME_BYTES_MAX + 2 + CRYPTO_PUBLIC_KEY_BYTES];
	size_t name_len = strnlen(name, NOTE_NAME_BYTES_MAX);
	memcpy(buffer, name, name_len);
	buffer[name_len] = '\n';
	buffer[name_len + 1] = type;
	memcpy(buffer + name_len + 2, pk->bytes, CRYPTO_PUBLIC_KEY_BYTES);
	uint8_t hash[CRYPTO_SHA256_BYTES];
	crypto_sha256(buffer, name_len + 2 + CRYPTO_PUBLIC_KEY_BYTES, hash);
	memcpy(out, hash, NOTE_KEY_ID_BYTES);
}

/* A key name or origin: 1..NOTE_NAME_BYTES_MAX bytes, no space, no control character, no '+'
 * in the first position is not required by C2SP for names; we are stricter (no spaces). */
static bool note_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > NOTE_NAME_BYTES_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] <= 0x20 || name[i] == 0x7f)
			return false;
	return true;
}

int checkpoint_format(const struct checkpoint *cp, char *out, size_t out_size, size_t *len)
{
	if (!note_name_valid(cp->origin, strnlen(cp->origin, sizeof cp->origin)))
		return SL_EINVAL;
	char root[sodium_base64_ENCODED_LEN(MERKLE_HASH_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(root, sizeof root, cp->root, MERKLE_HASH_BYTES, sodium_base64_VARIANT_ORIGINAL);
	int n = snprintf(out, out_size, "%s\n%" PRIu64 "\n%s\n", cp->origin, cp->size, root);
	if (n < 0 || (size_t)n >= out_size)
		return SL_ELIMIT;
	*len = (size_t)n;
	return 0;
}

/* One line of text[at..len): [*start, *end) without the newline; SL_ESYNTAX when unterminated. */
static int line_next(const char *text, size_t len, size_t *at, size_t *start, size_t *end)
{
	const char *nl = *at < len ? memchr(text + *at, '\n', len - *at) : NULL;
	if (nl == NULL)
		return SL_ESYNTAX;
	*start = *at;
	*end = (size_t)(nl - text);
	*at = *end + 1;
	return 0;
}

static int decimal_parse(const char *text, size_t len, uint64_t *out)
{
	if (len == 0 || len > NOTE_DECIMAL_BYTES_MAX || (len > 1 && text[0] == '0'))
		return SL_ESYNTAX;
	uint64_t value = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return SL_ESYNTAX;
		unsigned digit = (unsigned)(text[i] - '0');
		if (value > (UINT64_MAX - digit) / 10)
			return SL_ESYNTAX;
		value = value * 10 + digit;
	}
	*out = value;
	return 0;
}

static int base64_decode_exact(const char *text, size_t len, uint8_t *out, size_t out_max, size_t *out_len)
{
	if (len == 0 || len > NOTE_B64_BYTES_MAX)
		return SL_ESYNTAX;
	const char *end = NULL;
	if (sodium_base642bin(out, out_max, text, len, NULL, out_len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != text + len)
		return SL_ESYNTAX;
	/* One spelling per value (design note 1): unused low bits of the last character must be 0. */
	char again[NOTE_B64_BYTES_MAX + 4];
	if (sodium_base64_ENCODED_LEN(*out_len, sodium_base64_VARIANT_ORIGINAL) != len + 1)
		return SL_ESYNTAX;
	sodium_bin2base64(again, sizeof again, out, *out_len, sodium_base64_VARIANT_ORIGINAL);
	return memcmp(again, text, len) == 0 ? 0 : SL_ESYNTAX;
}

int checkpoint_parse(const char *body, size_t len, struct checkpoint *out)
{
	memset(out, 0, sizeof *out);
	if (len > NOTE_BYTES_MAX)
		return SL_EOVERSIZE;
	size_t at = 0, s[3], e[3];
	for (int i = 0; i < 3; i++)
		if (line_next(body, len, &at, &s[i], &e[i]) != 0)
			return SL_ESYNTAX;
	if (at != len) /* extension lines: siteledger writes none */
		return SL_ESYNTAX;
	if (!note_name_valid(body + s[0], e[0] - s[0]))
		return SL_ESYNTAX;
	memcpy(out->origin, body + s[0], e[0] - s[0]);
	int rc = decimal_parse(body + s[1], e[1] - s[1], &out->size);
	size_t root_len = 0;
	if (rc == 0)
		rc = base64_decode_exact(body + s[2], e[2] - s[2], out->root, sizeof out->root, &root_len);
	if (rc == 0 && root_len != MERKLE_HASH_BYTES)
		rc = SL_ESYNTAX;
	return rc;
}

/* "— name base64" (without the newline) into sig. */
static int signature_line_parse(const char *line, size_t len, struct note_signature *sig)
{
	memset(sig, 0, sizeof *sig);
	if (len < NOTE_DASH_BYTES + 1 || memcmp(line, NOTE_DASH " ", NOTE_DASH_BYTES + 1) != 0)
		return SL_ESYNTAX;
	const char *name = line + NOTE_DASH_BYTES + 1;
	const char *space = memchr(name, ' ', len - NOTE_DASH_BYTES - 1);
	if (space == NULL || !note_name_valid(name, (size_t)(space - name)))
		return SL_ESYNTAX;
	memcpy(sig->name, name, (size_t)(space - name));
	uint8_t raw[NOTE_KEY_ID_BYTES + NOTE_SIG_BYTES_MAX];
	size_t raw_len = 0;
	const char *b64 = space + 1;
	if (base64_decode_exact(b64, (size_t)(line + len - b64), raw, sizeof raw, &raw_len) != 0 ||
	    raw_len <= NOTE_KEY_ID_BYTES)
		return SL_ESYNTAX;
	memcpy(sig->key_id, raw, NOTE_KEY_ID_BYTES);
	sig->len = raw_len - NOTE_KEY_ID_BYTES;
	memcpy(sig->bytes, raw + NOTE_KEY_ID_BYTES, sig->len);
	return 0;
}

int note_parse(const char *text, size_t len, struct note *out)
{
	memset(out, 0, sizeof *out);
	if (len > NOTE_BYTES_MAX)
		return SL_EOVERSIZE;
	if (memchr(text, '\0', len) != NULL || memchr(text, '\r', len) != NULL)
		return SL_ESYNTAX;
	size_t at = 0, start, end;
	/* Body: non-empty lines up to the first empty line. */
	for (;;) {
		if (line_next(text, len, &at, &start, &end) != 0)
			return SL_ESYNTAX;
		if (start == end)
			break;
	}
	if (start == 0)
		return SL_ESYNTAX; /* an empty body */
	out->body = text;
	out->body_len = start;
	while (at < len) {
		if (line_next(text, len, &at, &start, &end) != 0)
			return SL_ESYNTAX;
		if (out->signature_count == NOTE_SIGNATURES_MAX)
			return SL_ELIMIT;
		int rc = signature_line_parse(text + start, end - start, &out->signatures[out->signature_count]);
		if (rc != 0)
			return rc;
		out->signature_count++;
	}
	return out->signature_count > 0 ? 0 : SL_ESYNTAX;
}

static int line_append(const char *name, const uint8_t key_id[NOTE_KEY_ID_BYTES], const uint8_t *sig,
		       size_t sig_len, size_t body_len, char *out, size_t out_size, size_t *len)
{
	uint8_t raw[NOTE_KEY_ID_BYTES + NOTE_SIG_BYTES_MAX];
	assert(sig_len <= NOTE_SIG_BYTES_MAX);
	memcpy(raw, key_id, NOTE_KEY_ID_BYTES);
	memcpy(raw + NOTE_KEY_ID_BYTES, sig, sig_len);
	char b64[NOTE_B64_BYTES_MAX + 1];
	sodium_bin2base64(b64, sizeof b64, raw, NOTE_KEY_ID_BYTES + sig_len, sodium_base64_VARIANT_ORIGINAL);
	const char *separator = *len == body_len ? "\n" : "";
	int n = snprintf(out + *len, out_size - *len, "%s" NOTE_DASH " %s %s\n", separator, name, b64);
	if (n < 0 || (size_t)n >= out_size - *len) {
		out[*len] = '\0';
		return SL_ELIMIT;
	}
	*len += (size_t)n;
	return 0;
}

static int sign_args_check(const char *body, size_t body_len, const char *name, size_t out_size, size_t len)
{
	if (body_len == 0 || body_len > NOTE_BYTES_MAX || body[body_len - 1] != '\n')
		return SL_EINVAL;
	if (!note_name_valid(name, strnlen(name, NOTE_NAME_BYTES_MAX + 1)))
		return SL_EINVAL;
	return len < body_len || len >= out_size ? SL_EINVAL : 0;
}

int note_sign(const char *body, size_t body_len, const char *name, const struct crypto_secret_key *sk,
	      char *out, size_t out_size, size_t *len)
{
	int rc = sign_args_check(body, body_len, name, out_size, *len);
	if (rc != 0)
		return rc;
	struct crypto_public_key pk;
	crypto_secret_key_public(sk, &pk);
	uint8_t key_id[NOTE_KEY_ID_BYTES], sig[64];
	note_key_id(name, NOTE_TYPE_ED25519, &pk, key_id);
	if (crypto_sign_detached(sig, NULL, (const uint8_t *)body, body_len, sk->bytes) != 0)
		return SL_ECRYPTO;
	return line_append(name, key_id, sig, sizeof sig, body_len, out, out_size, len);
}

int note_signature_append(const char *body, size_t body_len, const struct note_signature *sig, char *out,
			  size_t out_size, size_t *len)
{
	int rc = sign_args_check(body, body_len, sig->name, out_size, *len);
	if (rc != 0 || (sig->len != 64 && sig->len != 72))
		return rc != 0 ? rc : SL_EINVAL;
	return line_append(sig->name, sig->key_id, sig->bytes, sig->len, body_len, out, out_size, len);
}

/* "cosignature/v1\ntime T\n" || body into message; SL_ELIMIT when too long. */
static int cosign_message(const char *body, size_t body_len, uint64_t timestamp, uint8_t *message,
			  size_t message_size, size_t *message_len)
{
	int n = snprintf((char *)message, message_size, NOTE_COSIGN_HEADER "%" PRIu64 "\n", timestamp);
	if (n < 0 || (size_t)n >= message_size || body_len > message_size - (size_t)n)
		return SL_ELIMIT;
	memcpy(message + n, body, body_len);
	*message_len = (size_t)n + body_len;
	return 0;
}

int note_cosign(const char *body, size_t body_len, const char *name, const struct crypto_secret_key *sk,
		uint64_t timestamp, char *out, size_t out_size, size_t *len)
{
	int rc = sign_args_check(body, body_len, name, out_size, *len);
	if (rc != 0 || timestamp > (uint64_t)INT64_MAX) /* tlog-cosignature: at most 2^63 - 1 */
		return rc != 0 ? rc : SL_EINVAL;
	uint8_t message[NOTE_BYTES_MAX + 64];
	size_t message_len = 0;
	rc = cosign_message(body, body_len, timestamp, message, sizeof message, &message_len);
	if (rc != 0)
		return rc;
	struct crypto_public_key pk;
	crypto_secret_key_public(sk, &pk);
	uint8_t key_id[NOTE_KEY_ID_BYTES], sig[8 + 64];
	note_key_id(name, NOTE_TYPE_COSIGNATURE, &pk, key_id);
	for (int i = 0; i < 8; i++)
		sig[i] = (uint8_t)(timestamp >> (56 - 8 * i));
	if (crypto_sign_detached(sig + 8, NULL, message, message_len, sk->bytes) != 0)
		return SL_ECRYPTO;
	return line_append(name, key_id, sig, sizeof sig, body_len, out, out_size, len);
}

static int verify_cosignature(const struct note *note, const struct note_signature *sig,
			      const struct crypto_public_key *pk, uint64_t *timestamp)
{
	uint64_t t = 0;
	for (int i = 0; i < 8; i++)
		t = t << 8 | sig->bytes[i];
	if (t > (uint64_t)INT64_MAX)
		return SL_EBADSIG;
	uint8_t message[NOTE_BYTES_MAX + 64];
	size_t message_len = 0;
	if (cosign_message(note->body, note->body_len, t, message, sizeof message, &message_len) != 0)
		return SL_EBADSIG;
	if (crypto_sign_verify_detached(sig->bytes + 8, message, message_len, pk->bytes) != 0)
		return SL_EBADSIG;
	if (timestamp != NULL)
		*timestamp = t;
	return 0;
}

int note_signature_verify(const struct note *note, const struct note_signature *sig, const char *name,
			  const struct crypto_public_key *pk, uint8_t *type, uint64_t *timestamp)
{
	if (strcmp(sig->name, name) != 0)
		return SL_EBADSIG;
	uint8_t id[NOTE_KEY_ID_BYTES];
	note_key_id(name, NOTE_TYPE_ED25519, pk, id);
	if (sig->len == 64 && memcmp(id, sig->key_id, sizeof id) == 0) {
		if (crypto_sign_verify_detached(sig->bytes, (const uint8_t *)note->body, note->body_len, pk->bytes) != 0)
			return SL_EBADSIG;
		if (type != NULL)
			*type = NOTE_TYPE_ED25519;
		return 0;
	}
	note_key_id(name, NOTE_TYPE_COSIGNATURE, pk, id);
	if (sig->len == 72 && memcmp(id, sig->key_id, sizeof id) == 0) {
		if (type != NULL)
			*type = NOTE_TYPE_COSIGNATURE;
		return verify_cosignature(note, sig, pk, timestamp);
	}
	return SL_EBADSIG;
}
