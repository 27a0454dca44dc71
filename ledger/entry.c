/* ledger/entry.c — canonical encoding and strict decoding of ledger entries (see entry.h;
 * docs/record-format.md "Entries").
 *
 * Same rules as records: one encoding per entry (codec shortest forms, keys ascending), nothing
 * unknown, duplicated, oversize, truncated or trailing. The record bytes are carried opaquely:
 * an entry decodes even when its record does not (outcome MALFORMED_RECORD).
 *
 * Value rules: seq >= 1; outcome is a code of ledger/reason.h; record at most RECORD_BYTES_MAX
 * bytes; item (optional) below RECORD_ITEMS_MAX and only on a rejection.
 */
#include "ledger/entry.h"

#include <assert.h>
#include <string.h>

#include "ledger/codec.h"
#include "ledger/reason.h"
#include "ledger/record.h"

enum entry_key {
	ENTRY_KEY_SEQ = 0,
	ENTRY_KEY_LEDGER_TIME = 1,
	ENTRY_KEY_OUTCOME = 2,
	ENTRY_KEY_RECORD = 3,
	ENTRY_KEY_ITEM = 4,
};
#define ENTRY_KEYS_REQUIRED UINT64_C(0x0f) /* 0..3; 4 (item) is optional */

static const char *const entry_key_names[] = { "seq", "ledger_time_ms", "outcome", "record", "item" };

/* Entry fields around the record: map header, five keys, three uint 64, one uint 32, bin 32 header. */
_Static_assert(ENTRY_BYTES_MAX >= RECORD_BYTES_MAX + 1 + 5 + 3 * 9 + 5 + 5, "an entry holds the largest record");

static int entry_check(const struct ledger_entry *entry, struct sl_error_detail *detail)
{
	if (entry->seq == 0)
		return sl_error_set(detail, SL_EVALUE, "seq: 0 (sequence numbers start at 1)");
	if (entry->outcome > INT32_MAX || ledger_outcome_name((int)entry->outcome) == NULL)
		return sl_error_set(detail, SL_EVALUE, "outcome: %u is not an outcome code", entry->outcome);
	if (entry->record_len > RECORD_BYTES_MAX)
		return sl_error_set(detail, SL_EOVERSIZE, "record: %zu bytes, more than %d", entry->record_len,
				    RECORD_BYTES_MAX);
	if (entry->record == NULL && entry->record_len > 0)
		return sl_error_set(detail, SL_EINVAL, "record: no bytes");
	if (entry->has_item && entry->item >= RECORD_ITEMS_MAX)
		return sl_error_set(detail, SL_EVALUE, "item: %u not below %d", entry->item, RECORD_ITEMS_MAX);
	if (entry->has_item && entry->outcome == OUTCOME_ACCEPTED)
		return sl_error_set(detail, SL_EVALUE, "item: only a rejection names an item");
	return 0;
}

int entry_encode(const struct ledger_entry *entry, struct sl_buf *out)
{
	assert(entry != NULL);
	assert(out != NULL);
	int rc = entry_check(entry, NULL);
	if (rc != 0)
		return rc;
	size_t start = out->len;
	rc = codec_write_map_header(out, entry->has_item ? 5 : 4);
	if (rc == 0 && (rc = codec_write_uint(out, ENTRY_KEY_SEQ)) == 0)
		rc = codec_write_uint(out, entry->seq);
	if (rc == 0 && (rc = codec_write_uint(out, ENTRY_KEY_LEDGER_TIME)) == 0)
		rc = codec_write_uint(out, entry->ledger_time_ms);
	if (rc == 0 && (rc = codec_write_uint(out, ENTRY_KEY_OUTCOME)) == 0)
		rc = codec_write_uint(out, entry->outcome);
	if (rc == 0 && (rc = codec_write_uint(out, ENTRY_KEY_RECORD)) == 0)
		rc = codec_write_bin(out, entry->record_len ? entry->record : (const uint8_t *)"", entry->record_len);
	if (rc == 0 && entry->has_item && (rc = codec_write_uint(out, ENTRY_KEY_ITEM)) == 0)
		rc = codec_write_uint(out, entry->item);
	if (rc != 0)
		out->len = start;
	return rc;
}

static int entry_read_field(struct codec_reader *reader, struct ledger_entry *entry, unsigned key)
{
	uint64_t value = 0;
	int rc;
	switch (key) {
	case ENTRY_KEY_SEQ:
		return codec_read_uint(reader, UINT64_MAX, &entry->seq);
	case ENTRY_KEY_LEDGER_TIME:
		return codec_read_uint(reader, UINT64_MAX, &entry->ledger_time_ms);
	case ENTRY_KEY_OUTCOME:
		rc = codec_read_uint(reader, UINT32_MAX, &value);
		entry->outcome = (uint32_t)value;
		return rc;
	case ENTRY_KEY_RECORD:
		return codec_read_bin(reader, RECORD_BYTES_MAX, &entry->record, &entry->record_len);
	case ENTRY_KEY_ITEM:
		entry->has_item = true;
		rc = codec_read_uint(reader, UINT32_MAX, &value);
		entry->item = (uint32_t)value;
		return rc;
	default:
		return SL_EUNKNOWNFIELD;
	}
}

int entry_decode(const uint8_t *bytes, size_t len, struct ledger_entry *entry, struct sl_error_detail *detail)
{
	assert(entry != NULL);
	memset(entry, 0, sizeof *entry);
	if (bytes == NULL && len > 0)
		return sl_error_set(detail, SL_EINVAL, "entry: no bytes");
	if (len > ENTRY_BYTES_MAX)
		return sl_error_set(detail, SL_EOVERSIZE, "entry: %zu bytes, more than %d", len, ENTRY_BYTES_MAX);
	struct codec_reader reader;
	codec_reader_init(&reader, bytes, len);
	struct codec_map map;
	int rc = codec_map_begin(&reader, &map);
	if (rc != 0)
		return sl_error_set(detail, rc, "entry: %s", sl_strerror(rc));
	unsigned key;
	while ((rc = codec_map_next(&reader, &map, &key)) == 1) {
		if (key > ENTRY_KEY_ITEM)
			return sl_error_set(detail, SL_EUNKNOWNFIELD, "entry: unknown key %u", key);
		rc = entry_read_field(&reader, entry, key);
		if (rc != 0)
			return sl_error_set(detail, rc, "%s: %s", entry_key_names[key], sl_strerror(rc));
	}
	if (rc != 0)
		return sl_error_set(detail, rc, "entry: bad key after key %d (%s)", map.last_key, sl_strerror(rc));
	rc = codec_reader_finish(&reader);
	if (rc != 0)
		return sl_error_set(detail, rc, "entry: %zu bytes after the entry", codec_reader_remaining(&reader));
	int missing = codec_map_missing(&map, ENTRY_KEYS_REQUIRED);
	if (missing >= 0)
		return sl_error_set(detail, SL_EMISSING, "%s: missing", entry_key_names[missing]);
	return entry_check(entry, detail);
}
