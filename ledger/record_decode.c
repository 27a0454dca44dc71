/* ledger/record_decode.c — strict decoding of records (see record.h; docs/record-format.md
 * "Decoding").
 *
 * The decoder reads the envelope map and the body map key by key with the codec (ledger/codec.h),
 * which enforces shortest forms and ascending, unique keys; it rejects unknown keys, reads each
 * value with the type and byte bound its field has, then checks values with record_validate.
 *
 * Invariants:
 *  1. Input larger than RECORD_BYTES_MAX is refused before any byte is read.
 *  2. The only allocations are the items and refs arrays, one malloc each, sized by a count that
 *     was checked against its limit (RECORD_ITEMS_MAX, RECORD_REFS_MAX) and against the bytes left.
 *     A body key appears at most once (the codec refuses duplicates), so neither is allocated twice.
 *  3. On any error the record is cleared (arrays freed): the caller has nothing to release.
 *  4. Every strict prefix of a valid record fails with SL_ETRUNCATED: the decoder reads in order
 *     and checks completeness (required keys) and values only after the last byte.
 */
#include "ledger/record.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/codec.h"
#include "ledger/record_internal.h"

/* Envelope text fields: byte bounds while reading (record_validate counts characters). */
#define SITE_BYTES_MAX RECORD_SITE_CHARS_MAX
#define ACTOR_BYTES_MAX (RECORD_ACTOR_CHARS_MAX * RECORD_UTF8_BYTES_PER_CHAR)
#define REASON_BYTES_MAX (RECORD_REASON_CHARS_MAX * RECORD_UTF8_BYTES_PER_CHAR)

static int key_error(struct sl_error_detail *detail, int rc, const char *map, const struct codec_map *state)
{
	const char *after = state->last_key < 0 ? "start" : "key";
	return sl_error_set(detail, rc, "%s: bad key after %s %d (%s)", map, after, state->last_key,
			    sl_strerror(rc));
}

static int read_items(struct codec_reader *reader, struct record *record, enum record_field field)
{
	uint32_t count;
	int rc = codec_read_array_header(reader, RECORD_ITEMS_MAX, &count);
	if (rc != 0 || count == 0)
		return rc;
	struct sl_str *items = calloc(count, sizeof *items);
	if (items == NULL)
		return SL_ENOMEM;
	record->items = items;
	size_t bytes_max = record_field_bytes_max(field);
	for (uint32_t i = 0; i < count; i++) {
		rc = codec_read_str(reader, bytes_max, &items[i]);
		if (rc != 0)
			return rc;
		record->item_count = i + 1;
	}
	return 0;
}

static int read_refs(struct codec_reader *reader, struct record *record)
{
	uint32_t count;
	int rc = codec_read_array_header(reader, RECORD_REFS_MAX, &count);
	if (rc != 0 || count == 0)
		return rc;
	uint8_t(*refs)[RECORD_ID_BYTES] = calloc(count, sizeof *refs);
	if (refs == NULL)
		return SL_ENOMEM;
	record->refs = (const uint8_t(*)[RECORD_ID_BYTES])refs;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *ref;
		rc = codec_read_bin_exact(reader, RECORD_ID_BYTES, &ref);
		if (rc != 0)
			return rc;
		memcpy(refs[i], ref, RECORD_ID_BYTES);
		record->ref_count = i + 1;
	}
	return 0;
}

static int read_u32(struct codec_reader *reader, uint32_t *out)
{
	uint64_t value;
	int rc = codec_read_uint(reader, UINT32_MAX, &value);
	if (rc == 0)
		*out = (uint32_t)value;
	return rc;
}

static int read_body_field(struct codec_reader *reader, struct record *record, enum record_field field)
{
	size_t bytes_max = record_field_bytes_max(field);
	switch (field) {
	case RECORD_FIELD_GTIN:
		return codec_read_str(reader, bytes_max, &record->gtin);
	case RECORD_FIELD_LOT:
		return codec_read_str(reader, bytes_max, &record->lot);
	case RECORD_FIELD_EXPIRY:
		return codec_read_str(reader, bytes_max, &record->expiry);
	case RECORD_FIELD_SERIALS:
	case RECORD_FIELD_ITEMS:
		return read_items(reader, record, field);
	case RECORD_FIELD_PARENT:
		return codec_read_str(reader, bytes_max, &record->parent);
	case RECORD_FIELD_TO:
		return codec_read_str(reader, bytes_max, &record->to);
	case RECORD_FIELD_DECOMMISSION_REASON:
		return read_u32(reader, &record->decommission_reason);
	case RECORD_FIELD_SCOPE:
		return read_u32(reader, &record->lock_scope);
	case RECORD_FIELD_TARGET:
		return codec_read_str(reader, bytes_max, &record->lock_target);
	case RECORD_FIELD_LOCK_REASON:
		return read_u32(reader, &record->lock_reason);
	case RECORD_FIELD_CATEGORY:
		return read_u32(reader, &record->deviation_category);
	case RECORD_FIELD_REFS:
		return read_refs(reader, record);
	case RECORD_FIELD_TEXT:
		return codec_read_str(reader, bytes_max, &record->text);
	default:
		assert(false && "no body field to read");
		return SL_EINVAL;
	}
}

/* The body map; *missing is set to the lowest required body key absent (-1 when none), for the
 * caller to report once the whole input was read (invariant 4). */
static int read_body(struct codec_reader *reader, struct record *record, int *missing,
		     struct sl_error_detail *detail)
{
	const enum record_field *schema = record_body_schema[record->type];
	uint64_t required = 0;
	for (unsigned key = 0; key < RECORD_BODY_KEYS_MAX; key++) {
		if (schema[key] != RECORD_FIELD_NONE)
			required |= UINT64_C(1) << key;
	}
	struct codec_map map;
	int rc = codec_map_begin(reader, &map);
	if (rc != 0)
		return sl_error_set(detail, rc, "body: %s", sl_strerror(rc));
	unsigned key;
	while ((rc = codec_map_next(reader, &map, &key)) == 1) {
		if (key >= RECORD_BODY_KEYS_MAX || schema[key] == RECORD_FIELD_NONE)
			return sl_error_set(detail, SL_EUNKNOWNFIELD, "body: key %u is not a %s field", key,
					    record_type_name(record->type));
		rc = read_body_field(reader, record, schema[key]);
		if (rc != 0)
			return sl_error_set(detail, rc, "body.%s: %s", record_field_name(schema[key]),
					    sl_strerror(rc));
	}
	if (rc != 0)
		return key_error(detail, rc, "body", &map);
	*missing = codec_map_missing(&map, required);
	return 0;
}

static int read_str_field(struct codec_reader *reader, size_t bytes_max, struct sl_str *out)
{
	return codec_read_str(reader, bytes_max, out);
}

static int read_fixed_bin(struct codec_reader *reader, uint8_t *out, size_t len)
{
	const uint8_t *bytes;
	int rc = codec_read_bin_exact(reader, len, &bytes);
	if (rc == 0)
		memcpy(out, bytes, len);
	return rc;
}

/* One envelope value; `key` is known to be 0..11. */
static int read_envelope_field(struct codec_reader *reader, struct record *record, unsigned key,
			       int *body_missing, struct sl_error_detail *detail)
{
	uint32_t value = 0;
	int rc;
	switch (key) {
	case RECORD_KEY_VERSION:
		rc = read_u32(reader, &record->version);
		if (rc == 0 && record->version != RECORD_FORMAT_VERSION)
			return sl_error_set(detail, SL_EVERSION, "version: %u, expected %d", record->version,
					    RECORD_FORMAT_VERSION);
		return rc;
	case RECORD_KEY_TYPE:
		/* checked now: the body's layout depends on it */
		rc = read_u32(reader, &value);
		if (rc == 0 && (value < RECORD_TYPE_MIN || value > RECORD_TYPE_MAX))
			return sl_error_set(detail, SL_EVALUE, "type: %u out of range", value);
		record->type = (enum record_type)value;
		return rc;
	case RECORD_KEY_SITE:
		return read_str_field(reader, SITE_BYTES_MAX, &record->site);
	case RECORD_KEY_KEY_ID:
		return read_fixed_bin(reader, record->key_id.bytes, sizeof record->key_id.bytes);
	case RECORD_KEY_ACTOR:
		return read_str_field(reader, ACTOR_BYTES_MAX, &record->actor);
	case RECORD_KEY_MEANING:
		rc = read_u32(reader, &value);
		record->meaning = (enum record_meaning)value;
		return rc;
	case RECORD_KEY_EVENT_TIME:
		return codec_read_int(reader, INT64_MIN, INT64_MAX, &record->event_time_ms);
	case RECORD_KEY_NONCE:
		return read_fixed_bin(reader, record->nonce, sizeof record->nonce);
	case RECORD_KEY_REASON:
		record->has_reason = true;
		return read_str_field(reader, REASON_BYTES_MAX, &record->reason);
	case RECORD_KEY_SUPERSEDES:
		record->has_supersedes = true;
		return read_fixed_bin(reader, record->supersedes, sizeof record->supersedes);
	case RECORD_KEY_BODY:
		if (record->type == 0)
			return sl_error_set(detail, SL_EMISSING, "type: missing before body");
		return read_body(reader, record, body_missing, detail);
	case RECORD_KEY_SIGNATURE:
		record->has_signature = true;
		return read_fixed_bin(reader, record->signature, sizeof record->signature);
	default:
		return SL_EUNKNOWNFIELD;
	}
}

static int read_envelope(struct codec_reader *reader, struct record *record, struct sl_error_detail *detail)
{
	struct codec_map map;
	int rc = codec_map_begin(reader, &map);
	if (rc != 0)
		return sl_error_set(detail, rc, "record: %s", sl_strerror(rc));
	unsigned key;
	int body_missing = -1;
	while ((rc = codec_map_next(reader, &map, &key)) == 1) {
		if (key >= RECORD_KEY_COUNT)
			return sl_error_set(detail, SL_EUNKNOWNFIELD, "record: unknown key %u", key);
		struct sl_error_detail inner;
		inner.text[0] = '\0';
		rc = read_envelope_field(reader, record, key, &body_missing, &inner);
		if (rc != 0 && inner.text[0] != '\0')
			return sl_error_set(detail, rc, "%s", inner.text);
		if (rc != 0)
			return sl_error_set(detail, rc, "%s: %s", record_key_name(key), sl_strerror(rc));
	}
	if (rc != 0)
		return key_error(detail, rc, "record", &map);
	rc = codec_reader_finish(reader);
	if (rc != 0)
		return sl_error_set(detail, rc, "record: %zu bytes after the record", codec_reader_remaining(reader));
	int missing = codec_map_missing(&map, RECORD_KEYS_REQUIRED);
	if (missing >= 0)
		return sl_error_set(detail, SL_EMISSING, "%s: missing", record_key_name((unsigned)missing));
	if (body_missing >= 0)
		return sl_error_set(detail, SL_EMISSING, "body.%s: missing",
				    record_field_name(record_body_schema[record->type][body_missing]));
	return 0;
}

int record_decode(const uint8_t *bytes, size_t len, struct record *record, struct sl_error_detail *detail)
{
	assert(record != NULL);
	record_init(record);
	if (detail != NULL)
		detail->text[0] = '\0';
	if (bytes == NULL && len > 0)
		return sl_error_set(detail, SL_EINVAL, "record: no bytes");
	if (len > RECORD_BYTES_MAX)
		return sl_error_set(detail, SL_EOVERSIZE, "record: %zu bytes, more than %d", len, RECORD_BYTES_MAX);
	record->owns_arrays = true;
	struct codec_reader reader;
	codec_reader_init(&reader, bytes, len);
	int rc = read_envelope(&reader, record, detail);
	if (rc == 0)
		rc = record_validate(record, detail);
	if (rc != 0)
		record_clear(record);
	return rc;
}
