/* ledger/record_decode.c — strict decoding of records (see record.h; docs/record-format.md
 * "Decoding").
 *
 * The decoder reads the envelope map and the body map key by key with the codec (ledger/codec.h),
 * which enforces shortest forms and ascending, unique keys; it rejects unknown keys, reads each
 * value with the type and byte bound its field has, then checks values with record_validate.
 *
 * Invariants:
 *  1. Input larger than RECORD_BYTES_MAX is refused before any byte is read.
 *  2. The only allocations are the items, refs and cosignatures arrays, one malloc each, sized by a
 *     count that was checked against its limit (RECORD_ITEMS_MAX, RECORD_REFS_MAX,
 *     RECORD_COSIGNATURES_MAX) and against the bytes left.
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

static int read_fixed_bin(struct codec_reader *reader, uint8_t *out, size_t len);

/* Copied (the record stays valid without the input for this field); length checked by validate. */
static int read_note_signature(struct codec_reader *reader, struct record *record)
{
	const uint8_t *bytes = NULL;
	size_t len = 0;
	int rc = codec_read_bin(reader, sizeof record->note_signature, &bytes, &len);
	if (rc == 0) {
		memcpy(record->note_signature, bytes, len);
		record->note_signature_len = len;
	}
	return rc;
}

/* Registry cosignatures: array of [bin 16, bin 64], copied into one allocation (invariant 2). */
static int read_cosignatures(struct codec_reader *reader, struct record *record)
{
	uint32_t count;
	int rc = codec_read_array_header(reader, RECORD_COSIGNATURES_MAX, &count);
	if (rc != 0 || count == 0)
		return rc;
	struct record_cosignature *all = calloc(count, sizeof *all);
	if (all == NULL)
		return SL_ENOMEM;
	record->cosignatures = all;
	record->owns_cosignatures = true;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t fields = 0;
		rc = codec_read_array_header(reader, 2, &fields);
		if (rc == 0 && fields != 2)
			rc = SL_EVALUE;
		if (rc == 0)
			rc = read_fixed_bin(reader, all[i].key_id.bytes, sizeof all[i].key_id.bytes);
		if (rc == 0)
			rc = read_fixed_bin(reader, all[i].signature, sizeof all[i].signature);
		if (rc != 0)
			return rc;
		record->cosignature_count = i + 1;
	}
	return 0;
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
	case RECORD_FIELD_ORIGIN:
		return codec_read_str(reader, bytes_max, &record->origin);
	case RECORD_FIELD_SIZE:
		return codec_read_uint(reader, UINT64_MAX, &record->checkpoint_size);
	case RECORD_FIELD_ROOT:
		return read_fixed_bin(reader, record->checkpoint_root, sizeof record->checkpoint_root);
	case RECORD_FIELD_NOTE_SIGNATURE:
		return read_note_signature(reader, record);
	case RECORD_FIELD_OPERATION:
		return read_u32(reader, &record->registry_op);
	case RECORD_FIELD_SUBJECT_SITE:
		return codec_read_str(reader, bytes_max, &record->subject_site);
	case RECORD_FIELD_PUBLIC_KEY:
		return read_fixed_bin(reader, record->subject_key, sizeof record->subject_key);
	case RECORD_FIELD_NODE_ID:
		return codec_read_uint(reader, UINT64_MAX, &record->node_id);
	case RECORD_FIELD_PEER_ADDR:
		return codec_read_str(reader, bytes_max, &record->peer_addr);
	case RECORD_FIELD_CLIENT_ADDR:
		return codec_read_str(reader, bytes_max, &record->client_addr);
	case RECORD_FIELD_ROLE:
		return read_u32(reader, &record->node_role);
	case RECORD_FIELD_COSIGNATURES:
		return read_cosignatures(reader, record);
	default:
		assert(false && "no body field to read");
		return SL_EINVAL;
	}
}

/* The body map; *seen gets the keys read, for the caller to compare with record_body_keys once
 * the whole input was read (invariant 4: a registry body's keys depend on its operation). */
static int read_body(struct codec_reader *reader, struct record *record, uint64_t *seen,
		     struct sl_error_detail *detail)
{
	const enum record_field *schema = record_body_schema[record->type];
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
	*seen = map.seen;
	return 0;
}

/* After the last byte: the body holds exactly the keys its type (and operation) carries. */
static int body_keys_check(const struct record *record, uint64_t seen, struct sl_error_detail *detail)
{
	uint64_t expected = record_body_keys(record, true);
	for (unsigned key = 0; key < RECORD_BODY_KEYS_MAX; key++) {
		uint64_t bit = UINT64_C(1) << key;
		enum record_field field = record_body_schema[record->type][key];
		if ((expected & bit) && !(seen & bit))
			return sl_error_set(detail, SL_EMISSING, "body.%s: missing", record_field_name(field));
		const char *op = registry_op_name((int)record->registry_op); /* only registry bodies vary */
		if ((seen & bit) && !(expected & bit))
			return sl_error_set(detail, SL_EUNKNOWNFIELD, "body.%s: not a field of %s", record_field_name(field),
					    op != NULL ? op : record_type_name(record->type));
	}
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
			       uint64_t *body_seen, struct sl_error_detail *detail)
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
		return read_body(reader, record, body_seen, detail);
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
	uint64_t body_seen = 0;
	while ((rc = codec_map_next(reader, &map, &key)) == 1) {
		if (key >= RECORD_KEY_COUNT)
			return sl_error_set(detail, SL_EUNKNOWNFIELD, "record: unknown key %u", key);
		struct sl_error_detail inner;
		inner.text[0] = '\0';
		rc = read_envelope_field(reader, record, key, &body_seen, &inner);
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
	return body_keys_check(record, body_seen, detail);
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
