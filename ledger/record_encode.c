/* ledger/record_encode.c — canonical encoding, signed bytes, record id, signing and verification
 * of records, and registry cosignatures (see record.h; docs/record-format.md "Encoding", "Signed
 * bytes", "Record id", "Registry records").
 *
 * Invariants:
 *  1. Envelope keys are written in ascending order, optional ones (8 reason, 9 supersedes) only
 *     when present; body keys in ascending order per record_body_schema. With the codec's shortest
 *     forms this is the one encoding the decoder accepts.
 *  2. Nothing is encoded or signed that record_validate refuses, and no encoding longer than
 *     RECORD_BYTES_MAX is produced (SL_EOVERSIZE): what we sign, every replica can decode.
 *  3. On error, `out` is left at the length it had on entry.
 */
#include "ledger/record.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/random.h"
#include "ledger/codec.h"
#include "ledger/record_internal.h"

/* Scratch buffers hold one record's encoding (plus the domain for the signed bytes). */
#define RECORD_SCRATCH_BYTES_MAX (RECORD_BYTES_MAX + CRYPTO_DOMAIN_BYTES_MAX)

_Static_assert(sizeof RECORD_SIGN_DOMAIN <= CRYPTO_DOMAIN_BYTES_MAX, "record domain fits the crypto limit");
_Static_assert(RECORD_KEY_COUNT <= 15, "the envelope map header is one byte (fixmap)");

void record_init(struct record *record)
{
	assert(record != NULL);
	memset(record, 0, sizeof *record);
	record->version = RECORD_FORMAT_VERSION;
}

void record_clear(struct record *record)
{
	assert(record != NULL);
	if (record->owns_arrays) {
		free(record->items);
		free((void *)(uintptr_t)record->refs); /* allocated non-const by record_decode */
	}
	if (record->owns_cosignatures)
		free((void *)(uintptr_t)record->cosignatures); /* allocated non-const: decode, record_cosign */
	record_init(record);
}

static int write_str(struct sl_buf *out, struct sl_str text)
{
	return codec_write_str(out, text.len ? text.ptr : "", text.len);
}

/* Registry cosignatures: array of [key id (bin 16), signature (bin 64)]. */
static int write_cosignatures(struct sl_buf *out, const struct record *record)
{
	int rc = codec_write_array_header(out, (uint32_t)record->cosignature_count);
	for (size_t i = 0; rc == 0 && i < record->cosignature_count; i++) {
		const struct record_cosignature *c = &record->cosignatures[i];
		rc = codec_write_array_header(out, 2);
		if (rc == 0)
			rc = codec_write_bin(out, c->key_id.bytes, sizeof c->key_id.bytes);
		if (rc == 0)
			rc = codec_write_bin(out, c->signature, sizeof c->signature);
	}
	return rc;
}

static int write_field(struct sl_buf *out, const struct record *record, enum record_field field)
{
	switch (field) {
	case RECORD_FIELD_GTIN:
		return write_str(out, record->gtin);
	case RECORD_FIELD_LOT:
		return write_str(out, record->lot);
	case RECORD_FIELD_EXPIRY:
		return write_str(out, record->expiry);
	case RECORD_FIELD_SERIALS:
	case RECORD_FIELD_ITEMS: {
		int rc = codec_write_array_header(out, (uint32_t)record->item_count);
		for (size_t i = 0; rc == 0 && i < record->item_count; i++)
			rc = write_str(out, record->items[i]);
		return rc;
	}
	case RECORD_FIELD_PARENT:
		return write_str(out, record->parent);
	case RECORD_FIELD_TO:
		return write_str(out, record->to);
	case RECORD_FIELD_DECOMMISSION_REASON:
		return codec_write_uint(out, record->decommission_reason);
	case RECORD_FIELD_SCOPE:
		return codec_write_uint(out, record->lock_scope);
	case RECORD_FIELD_TARGET:
		return write_str(out, record->lock_target);
	case RECORD_FIELD_LOCK_REASON:
		return codec_write_uint(out, record->lock_reason);
	case RECORD_FIELD_CATEGORY:
		return codec_write_uint(out, record->deviation_category);
	case RECORD_FIELD_REFS: {
		int rc = codec_write_array_header(out, (uint32_t)record->ref_count);
		for (size_t i = 0; rc == 0 && i < record->ref_count; i++)
			rc = codec_write_bin(out, record->refs[i], RECORD_ID_BYTES);
		return rc;
	}
	case RECORD_FIELD_TEXT:
		return write_str(out, record->text);
	case RECORD_FIELD_ORIGIN:
		return write_str(out, record->origin);
	case RECORD_FIELD_SIZE:
		return codec_write_uint(out, record->checkpoint_size);
	case RECORD_FIELD_ROOT:
		return codec_write_bin(out, record->checkpoint_root, sizeof record->checkpoint_root);
	case RECORD_FIELD_NOTE_SIGNATURE:
		assert(record->note_signature_len <= sizeof record->note_signature); /* record_validate */
		return codec_write_bin(out, record->note_signature, record->note_signature_len);
	case RECORD_FIELD_OPERATION:
		return codec_write_uint(out, record->registry_op);
	case RECORD_FIELD_SUBJECT_SITE:
		return write_str(out, record->subject_site);
	case RECORD_FIELD_PUBLIC_KEY:
		return codec_write_bin(out, record->subject_key, sizeof record->subject_key);
	case RECORD_FIELD_NODE_ID:
		return codec_write_uint(out, record->node_id);
	case RECORD_FIELD_PEER_ADDR:
		return write_str(out, record->peer_addr);
	case RECORD_FIELD_CLIENT_ADDR:
		return write_str(out, record->client_addr);
	case RECORD_FIELD_ROLE:
		return codec_write_uint(out, record->node_role);
	case RECORD_FIELD_COSIGNATURES:
		return write_cosignatures(out, record);
	default:
		assert(false && "no body field to write");
		return SL_EINVAL;
	}
}

/* The body's keys: every schema key, or for a registry record those of its operation, the
 * cosignatures only in the signed encoding (record.h "Body key numbers"). */
static int write_body(const struct record *record, bool with_signature, struct sl_buf *out)
{
	assert(record->type >= RECORD_TYPE_MIN && record->type <= RECORD_TYPE_MAX);
	const enum record_field *schema = record_body_schema[record->type];
	uint64_t keys = record_body_keys(record, with_signature);
	uint32_t count = 0;
	for (unsigned key = 0; key < RECORD_BODY_KEYS_MAX; key++)
		count += (keys >> key) & 1;
	int rc = codec_write_map_header(out, count);
	for (unsigned key = 0; rc == 0 && key < RECORD_BODY_KEYS_MAX; key++) {
		if (!((keys >> key) & 1))
			continue;
		rc = codec_write_uint(out, key);
		if (rc == 0)
			rc = write_field(out, record, schema[key]);
	}
	return rc;
}

static int write_envelope(const struct record *record, bool with_signature, struct sl_buf *out)
{
	uint32_t count = 9 + record->has_reason + record->has_supersedes + with_signature;
	int rc = codec_write_map_header(out, count);
	if (rc == 0 && (rc = codec_write_uint(out, RECORD_KEY_VERSION)) == 0)
		rc = codec_write_uint(out, record->version);
	if (rc == 0 && (rc = codec_write_uint(out, RECORD_KEY_TYPE)) == 0)
		rc = codec_write_uint(out, (uint64_t)record->type);
	if (rc == 0 && (rc = codec_write_uint(out, RECORD_KEY_SITE)) == 0)
		rc = write_str(out, record->site);
	if (rc == 0 && (rc = codec_write_uint(out, RECORD_KEY_KEY_ID)) == 0)
		rc = codec_write_bin(out, record->key_id.bytes, sizeof record->key_id.bytes);
	if (rc == 0 && (rc = codec_write_uint(out, RECORD_KEY_ACTOR)) == 0)
		rc = write_str(out, record->actor);
	if (rc == 0 && (rc = codec_write_uint(out, RECORD_KEY_MEANING)) == 0)
		rc = codec_write_uint(out, (uint64_t)record->meaning);
	if (rc == 0 && (rc = codec_write_uint(out, RECORD_KEY_EVENT_TIME)) == 0)
		rc = codec_write_int(out, record->event_time_ms);
	if (rc == 0 && (rc = codec_write_uint(out, RECORD_KEY_NONCE)) == 0)
		rc = codec_write_bin(out, record->nonce, sizeof record->nonce);
	if (rc == 0 && record->has_reason && (rc = codec_write_uint(out, RECORD_KEY_REASON)) == 0)
		rc = write_str(out, record->reason);
	if (rc == 0 && record->has_supersedes && (rc = codec_write_uint(out, RECORD_KEY_SUPERSEDES)) == 0)
		rc = codec_write_bin(out, record->supersedes, sizeof record->supersedes);
	if (rc == 0 && (rc = codec_write_uint(out, RECORD_KEY_BODY)) == 0)
		rc = write_body(record, with_signature, out);
	if (rc == 0 && with_signature && (rc = codec_write_uint(out, RECORD_KEY_SIGNATURE)) == 0)
		rc = codec_write_bin(out, record->signature, sizeof record->signature);
	return rc;
}

int record_write(const struct record *record, bool with_signature, struct sl_buf *out)
{
	assert(record != NULL);
	assert(out != NULL);
	size_t start = out->len;
	int rc = write_envelope(record, with_signature, out);
	/* invariant 2: the signed record must fit, so count the signature field even when absent */
	size_t full = out->len - start + (with_signature ? 0 : RECORD_SIGNATURE_FIELD_BYTES);
	if (rc == 0 && full > RECORD_BYTES_MAX)
		rc = SL_EOVERSIZE;
	if (rc != 0)
		out->len = start;
	return rc;
}

int record_encode(const struct record *record, struct sl_buf *out)
{
	int rc = record_validate(record, NULL);
	if (rc != 0)
		return rc;
	if (!record->has_signature)
		return SL_EMISSING;
	return record_write(record, true, out);
}

int record_encode_unsigned(const struct record *record, struct sl_buf *out)
{
	int rc = record_validate(record, NULL);
	return rc != 0 ? rc : record_write(record, false, out);
}

/* Canonical form puts the signature last: key 11 (positive fixint 0x0b), bin8 header (0xc4) of
 * length 64 (0x40), the 64 bytes. The record map has 9-12 keys, so its header is one fixmap byte. */
#define SIGNATURE_FIELD_BYTES (3 + CRYPTO_SIGNATURE_BYTES)

int record_unsigned_from_bytes(const uint8_t *bytes, size_t len, struct sl_buf *out)
{
	if (bytes == NULL || len < 1 + SIGNATURE_FIELD_BYTES)
		return SL_EINVAL;
	const uint8_t *field = bytes + len - SIGNATURE_FIELD_BYTES;
	uint8_t header = bytes[0];
	if ((header & 0xf0) != 0x80 || (header & 0x0f) < 2 || field[0] != 0x0b || field[1] != 0xc4 ||
	    field[2] != CRYPTO_SIGNATURE_BYTES)
		return SL_EINVAL;
	/* canonical: 0x00 0x01 (version 1), 0x01 then the type as a positive fixint */
	if (len > 4 && bytes[3] == RECORD_KEY_TYPE && bytes[4] == RECORD_REGISTRY)
		return SL_EINVAL; /* its cosignatures sit inside the body: re-encode instead */
	size_t start = out->len;
	uint8_t unsigned_header = (uint8_t)(header - 1); /* one key fewer */
	int rc = sl_buf_append(out, &unsigned_header, 1);
	if (rc == 0)
		rc = sl_buf_append(out, bytes + 1, len - 1 - SIGNATURE_FIELD_BYTES);
	if (rc != 0)
		out->len = start;
	return rc;
}

int record_signed_bytes(const struct record *record, struct sl_buf *out)
{
	size_t start = out->len;
	int rc = record_validate(record, NULL);
	if (rc == 0)
		rc = sl_buf_append(out, RECORD_SIGN_DOMAIN, sizeof RECORD_SIGN_DOMAIN); /* with its NUL */
	if (rc == 0)
		rc = record_write(record, false, out);
	if (rc != 0)
		out->len = start;
	return rc;
}

static bool nonce_is_zero(const uint8_t nonce[RECORD_NONCE_BYTES])
{
	uint8_t any = 0;
	for (size_t i = 0; i < RECORD_NONCE_BYTES; i++)
		any |= nonce[i];
	return any == 0;
}

int record_sign(struct record *record, const struct crypto_secret_key *sk)
{
	assert(record != NULL);
	assert(sk != NULL);
	int rc = record_validate(record, NULL);
	if (rc != 0)
		return rc;
	struct crypto_public_key pk;
	crypto_secret_key_public(sk, &pk);
	crypto_key_id_of(&pk, &record->key_id);
	if (nonce_is_zero(record->nonce))
		crypto_random_bytes(record->nonce, sizeof record->nonce);
	struct sl_buf unsigned_bytes;
	sl_buf_init(&unsigned_bytes, RECORD_SCRATCH_BYTES_MAX);
	rc = record_write(record, false, &unsigned_bytes);
	if (rc == 0)
		rc = crypto_sign(sk, RECORD_SIGN_DOMAIN, unsigned_bytes.data, unsigned_bytes.len, record->signature);
	if (rc == 0)
		record->has_signature = true;
	sl_buf_free(&unsigned_bytes);
	return rc;
}

int record_id(const struct record *record, uint8_t id[RECORD_ID_BYTES])
{
	assert(id != NULL);
	struct sl_buf unsigned_bytes;
	sl_buf_init(&unsigned_bytes, RECORD_SCRATCH_BYTES_MAX);
	int rc = record_encode_unsigned(record, &unsigned_bytes);
	if (rc == 0)
		crypto_sha256_2((const uint8_t *)RECORD_SIGN_DOMAIN, sizeof RECORD_SIGN_DOMAIN, unsigned_bytes.data,
				unsigned_bytes.len, id);
	sl_buf_free(&unsigned_bytes);
	return rc;
}

int record_verify(const struct record *record, const struct crypto_public_key *pk)
{
	assert(record != NULL);
	assert(pk != NULL);
	if (!record->has_signature)
		return SL_EBADSIG;
	struct crypto_key_id id;
	crypto_key_id_of(pk, &id);
	if (memcmp(id.bytes, record->key_id.bytes, sizeof id.bytes) != 0)
		return SL_EBADSIG; /* the record names another signer */
	if (record->type < RECORD_TYPE_MIN || record->type > RECORD_TYPE_MAX)
		return SL_EBADSIG; /* not a decoded record: nothing to rebuild */
	struct sl_buf unsigned_bytes;
	sl_buf_init(&unsigned_bytes, RECORD_SCRATCH_BYTES_MAX);
	int rc = record_write(record, false, &unsigned_bytes);
	if (rc == 0)
		rc = crypto_verify(pk, RECORD_SIGN_DOMAIN, unsigned_bytes.data, unsigned_bytes.len,
				   record->signature);
	sl_buf_free(&unsigned_bytes);
	return rc == SL_EOVERSIZE ? SL_EBADSIG : rc;
}

static int cosign_message(const struct record *record, struct sl_buf *out)
{
	if (record->type != RECORD_REGISTRY)
		return SL_EINVAL;
	return record_write(record, false, out);
}

static int cosignature_compare(const void *a, const void *b)
{
	const struct record_cosignature *x = a, *y = b;
	return memcmp(x->key_id.bytes, y->key_id.bytes, sizeof x->key_id.bytes);
}

int record_cosign(struct record *record, const struct crypto_secret_key *sk)
{
	assert(record != NULL);
	assert(sk != NULL);
	int rc = record_validate(record, NULL);
	if (rc != 0 || record->type != RECORD_REGISTRY || !record->has_signature)
		return rc != 0 ? rc : SL_EINVAL; /* signed first: key id and nonce are then fixed */
	if (record->cosignature_count >= RECORD_COSIGNATURES_MAX)
		return SL_ELIMIT;
	struct record_cosignature mine;
	struct crypto_public_key pk;
	crypto_secret_key_public(sk, &pk);
	crypto_key_id_of(&pk, &mine.key_id);
	for (size_t i = 0; i < record->cosignature_count; i++)
		if (memcmp(record->cosignatures[i].key_id.bytes, mine.key_id.bytes, sizeof mine.key_id.bytes) == 0)
			return SL_EEXIST;
	struct sl_buf message;
	sl_buf_init(&message, RECORD_SCRATCH_BYTES_MAX);
	rc = cosign_message(record, &message);
	if (rc == 0)
		rc = crypto_sign(sk, RECORD_COSIGN_DOMAIN, message.data, message.len, mine.signature);
	sl_buf_free(&message);
	if (rc != 0)
		return rc;
	size_t count = record->cosignature_count;
	struct record_cosignature *all = malloc((count + 1) * sizeof *all);
	if (all == NULL)
		return SL_ENOMEM;
	if (count > 0)
		memcpy(all, record->cosignatures, count * sizeof *all);
	all[count] = mine;
	qsort(all, count + 1, sizeof *all, cosignature_compare); /* record_validate: ascending */
	if (record->owns_cosignatures)
		free((void *)(uintptr_t)record->cosignatures);
	record->cosignatures = all;
	record->cosignature_count = count + 1;
	record->owns_cosignatures = true;
	return 0;
}

int record_cosignature_verify(const struct record *record, size_t i, const struct crypto_public_key *pk)
{
	assert(record != NULL);
	assert(pk != NULL);
	if (record->type != RECORD_REGISTRY || i >= record->cosignature_count)
		return SL_EBADSIG;
	struct crypto_key_id id;
	crypto_key_id_of(pk, &id);
	const struct record_cosignature *c = &record->cosignatures[i];
	if (memcmp(id.bytes, c->key_id.bytes, sizeof id.bytes) != 0)
		return SL_EBADSIG; /* the cosignature names another key */
	struct sl_buf message;
	sl_buf_init(&message, RECORD_SCRATCH_BYTES_MAX);
	int rc = cosign_message(record, &message);
	if (rc == 0)
		rc = crypto_verify(pk, RECORD_COSIGN_DOMAIN, message.data, message.len, c->signature);
	sl_buf_free(&message);
	return rc == SL_EOVERSIZE || rc == SL_EINVAL ? SL_EBADSIG : rc;
}
