/* crypto/note.h — C2SP signed notes (c2sp.org/signed-note), tlog-checkpoint bodies
 * (c2sp.org/tlog-checkpoint) and Ed25519 signatures and tlog-cosignatures on them
 * (c2sp.org/tlog-cosignature). Pure text and crypto; no storage, no allocation.
 *
 * Formats (facts from the C2SP specifications; docs/auditor-guide.md "Checkpoints"):
 *   note       = body, then an empty line, then one or more signature lines. The body is UTF-8
 *                text of newline-terminated lines (no empty line, no CR).
 *   signature  = "— " name " " base64(key id (4 bytes) || signature bytes) "\n"  (U+2014 em dash)
 *   key id     = SHA-256(name || "\n" || type || public key)[:4]; type 0x01 = Ed25519 note
 *                signature, 0x04 = Ed25519 cosignature/v1.
 *   0x01 signature bytes = Ed25519(body) (64 bytes, plain RFC 8032, no prehash, no domain).
 *   0x04 signature bytes = timestamp (u64 big-endian, POSIX seconds) || Ed25519 over
 *                "cosignature/v1\ntime " decimal(timestamp) "\n" || body   (72 bytes).
 *   checkpoint body = origin "\n" decimal(size, no leading zero) "\n" base64(root hash) "\n",
 *                optionally followed by extension lines (we write none and refuse any on parse).
 *
 * Names: siteledger signs checkpoints with name = the site id (record.h syntax), origin =
 * "siteledger/<cluster or site>". A verifier matches a signature line by (name, key id) and
 * ignores lines it has no key for (signed-note rule), so "valid" always means "valid for a key
 * the caller trusts".
 *
 * Rules:
 *  1. Parsed notes borrow: note_parse returns views into the input text.
 *  2. Every parser refuses input beyond its named limits with SL_EOVERSIZE / SL_ELIMIT and any
 *     deviation from the grammar with SL_ESYNTAX; verifiers return 0 or SL_EBADSIG.
 */
#ifndef SL_CRYPTO_NOTE_H
#define SL_CRYPTO_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "crypto/merkle.h"

#define NOTE_BYTES_MAX 4096	     /* a whole note: body + signatures (fits a store meta value) */
#define NOTE_NAME_BYTES_MAX 64	     /* a key name / origin line */
#define NOTE_SIGNATURES_MAX 16	     /* signature lines kept per note: every site of a cluster */
#define NOTE_KEY_ID_BYTES 4
#define NOTE_SIG_BYTES_MAX (8 + 64)  /* cosignature: timestamp + Ed25519 */
#define NOTE_TYPE_ED25519 0x01
#define NOTE_TYPE_COSIGNATURE 0x04

struct note_signature {
	char name[NOTE_NAME_BYTES_MAX + 1];
	uint8_t key_id[NOTE_KEY_ID_BYTES];
	uint8_t bytes[NOTE_SIG_BYTES_MAX];
	size_t len; /* 64 (note signature) or 72 (cosignature); other lengths are kept and never verify */
};

struct note {
	const char *body; /* borrowed: the body including its final newline */
	size_t body_len;
	size_t signature_count;
	struct note_signature signatures[NOTE_SIGNATURES_MAX];
};

struct checkpoint {
	char origin[NOTE_NAME_BYTES_MAX + 1];
	uint64_t size;
	uint8_t root[MERKLE_HASH_BYTES];
};

void note_key_id(const char *name, uint8_t type, const struct crypto_public_key *pk,
		 uint8_t out[NOTE_KEY_ID_BYTES]);

/* Checkpoint body into out (size out_size, NUL-terminated); *len = bytes without the NUL.
 * SL_EINVAL for an origin that is empty, too long or holds a control character. */
int checkpoint_format(const struct checkpoint *cp, char *out, size_t out_size, size_t *len);
/* Parse a checkpoint body exactly (three lines, canonical decimal, 32-byte base64 root). */
int checkpoint_parse(const char *body, size_t len, struct checkpoint *out);

/* Split a note into body and signature lines. SL_ESYNTAX when malformed, SL_ELIMIT for more than
 * NOTE_SIGNATURES_MAX signature lines, SL_EOVERSIZE above NOTE_BYTES_MAX. */
int note_parse(const char *text, size_t len, struct note *out);

/* Append one signature line for `body` to out (NUL-terminated text of out_size bytes holding
 * *len bytes); SL_ELIMIT when it does not fit. The first line after the body also writes the
 * empty separator line when out holds only the body. */
int note_sign(const char *body, size_t body_len, const char *name, const struct crypto_secret_key *sk,
	      char *out, size_t out_size, size_t *len);
int note_cosign(const char *body, size_t body_len, const char *name, const struct crypto_secret_key *sk,
		uint64_t timestamp, char *out, size_t out_size, size_t *len);

/* Append the signature line of an existing signature (name, key id and bytes as in `sig`) for
 * `body` to out, as note_sign does; for notes rebuilt from stored signatures. SL_EINVAL for a
 * signature length other than 64 or 72 or a bad name, SL_ELIMIT when it does not fit. */
int note_signature_append(const char *body, size_t body_len, const struct note_signature *sig, char *out,
			  size_t out_size, size_t *len);

/* 0 when `sig` is a valid note signature (type 0x01) or cosignature (0x04, *timestamp set when
 * not NULL) of body by (name, pk); SL_EBADSIG otherwise (other name, key id, length, bytes). */
int note_signature_verify(const struct note *note, const struct note_signature *sig, const char *name,
			  const struct crypto_public_key *pk, uint8_t *type, uint64_t *timestamp);

#endif
