/* ledger/codec.c — strict canonical msgpack reader and writer (see codec.h).
 *
 * The msgpack specification (github.com/msgpack/msgpack/blob/master/spec.md, "Formats") allows
 * several encodings of one value; canonical form picks the shortest, so every value has exactly
 * one encoding and a signature over the bytes is a signature over the value.
 *
 * Invariants:
 *  1. reader->pos <= reader->len before and after every call.
 *  2. No length or count from the input is used to index memory before it is checked against
 *     the bytes left.
 */
#include "ledger/codec.h"

#include <assert.h>
#include <string.h>

/* First bytes of the msgpack formats used here (spec "Overview"). */
enum {
	MP_POSITIVE_FIXINT_MAX = 0x7f,
	MP_FIXMAP = 0x80,
	MP_FIXARRAY = 0x90,
	MP_FIXSTR = 0xa0,
	MP_NIL = 0xc0,
	MP_FALSE = 0xc2,
	MP_TRUE = 0xc3,
	MP_BIN8 = 0xc4,
	MP_BIN16 = 0xc5,
	MP_BIN32 = 0xc6,
	MP_UINT8 = 0xcc,
	MP_UINT16 = 0xcd,
	MP_UINT32 = 0xce,
	MP_UINT64 = 0xcf,
	MP_INT8 = 0xd0,
	MP_INT16 = 0xd1,
	MP_INT32 = 0xd2,
	MP_INT64 = 0xd3,
	MP_STR8 = 0xd9,
	MP_STR16 = 0xda,
	MP_STR32 = 0xdb,
	MP_ARRAY16 = 0xdc,
	MP_ARRAY32 = 0xdd,
	MP_MAP16 = 0xde,
	MP_MAP32 = 0xdf,
	MP_NEGATIVE_FIXINT = 0xe0,
};

#define FIX_STR_MAX 31	   /* fixstr holds lengths 0..31 */
#define FIX_COLLECTION_MAX 15 /* fixarray and fixmap hold counts 0..15 */

void codec_reader_init(struct codec_reader *reader, const uint8_t *bytes, size_t len)
{
	assert(reader != NULL);
	assert(bytes != NULL || len == 0);
	reader->bytes = bytes;
	reader->len = len;
	reader->pos = 0;
}

size_t codec_reader_remaining(const struct codec_reader *reader)
{
	assert(reader->pos <= reader->len);
	return reader->len - reader->pos;
}

int codec_reader_finish(const struct codec_reader *reader)
{
	return codec_reader_remaining(reader) == 0 ? 0 : SL_ETRAILING;
}

enum codec_kind codec_peek_kind(const struct codec_reader *reader)
{
	if (codec_reader_remaining(reader) == 0)
		return CODEC_KIND_END;
	uint8_t b = reader->bytes[reader->pos];
	if (b <= MP_POSITIVE_FIXINT_MAX || (b >= MP_UINT8 && b <= MP_UINT64))
		return CODEC_KIND_UINT;
	if (b >= MP_NEGATIVE_FIXINT || (b >= MP_INT8 && b <= MP_INT64))
		return CODEC_KIND_NEGATIVE; /* int 8..64 hold negatives only when canonical */
	if (b >= MP_FIXMAP && b < MP_FIXARRAY)
		return CODEC_KIND_MAP;
	if (b >= MP_FIXARRAY && b < MP_FIXSTR)
		return CODEC_KIND_ARRAY;
	if (b >= MP_FIXSTR && b < MP_NIL)
		return CODEC_KIND_STR;
	switch (b) {
	case MP_NIL:
		return CODEC_KIND_NIL;
	case MP_FALSE:
	case MP_TRUE:
		return CODEC_KIND_BOOL;
	case MP_BIN8:
	case MP_BIN16:
	case MP_BIN32:
		return CODEC_KIND_BIN;
	case MP_STR8:
	case MP_STR16:
	case MP_STR32:
		return CODEC_KIND_STR;
	case MP_ARRAY16:
	case MP_ARRAY32:
		return CODEC_KIND_ARRAY;
	case MP_MAP16:
	case MP_MAP32:
		return CODEC_KIND_MAP;
	default:
		return CODEC_KIND_OTHER;
	}
}

/* Big-endian unsigned of `width` bytes (1, 2, 4 or 8) after the current byte. */
static int read_be(struct codec_reader *reader, size_t width, uint64_t *out)
{
	if (codec_reader_remaining(reader) < width)
		return SL_ETRUNCATED;
	uint64_t value = 0;
	for (size_t i = 0; i < width; i++)
		value = (value << 8) | reader->bytes[reader->pos + i];
	reader->pos += width;
	*out = value;
	return 0;
}

static int read_first(struct codec_reader *reader, uint8_t *first)
{
	if (codec_reader_remaining(reader) == 0)
		return SL_ETRUNCATED;
	*first = reader->bytes[reader->pos++];
	return 0;
}

/* Two's complement reinterpretation of the low `width` bytes, without implementation-defined casts. */
static int64_t sign_extend(uint64_t raw, size_t width)
{
	if (width == 8)
		return raw > (uint64_t)INT64_MAX ? -(int64_t)(~raw) - 1 : (int64_t)raw;
	uint64_t half = UINT64_C(1) << (width * 8 - 1);
	return raw >= half ? (int64_t)raw - (int64_t)(half * 2) : (int64_t)raw;
}

/* Any integer. Non-negative values come back in *magnitude with *negative false; negative ones in
 * *value_negative. Rejects every non-shortest form. */
static int read_integer(struct codec_reader *reader, bool *negative, uint64_t *magnitude,
			int64_t *value_negative)
{
	uint8_t b;
	int rc = read_first(reader, &b);
	if (rc != 0)
		return rc;
	*negative = false;
	if (b <= MP_POSITIVE_FIXINT_MAX) {
		*magnitude = b;
		return 0;
	}
	if (b >= MP_NEGATIVE_FIXINT) {
		*negative = true;
		*value_negative = (int64_t)b - 256;
		return 0;
	}
	if (b >= MP_UINT8 && b <= MP_UINT64) {
		size_t width = (size_t)1 << (b - MP_UINT8);
		rc = read_be(reader, width, magnitude);
		if (rc != 0)
			return rc;
		/* shortest: the value must not fit the next smaller form (uint 8 excludes fixint) */
		uint64_t floor = width == 1 ? MP_POSITIVE_FIXINT_MAX + 1u : UINT64_C(1) << (width * 4);
		return *magnitude < floor ? SL_ENONCANONICAL : 0;
	}
	if (b >= MP_INT8 && b <= MP_INT64) {
		size_t width = (size_t)1 << (b - MP_INT8);
		uint64_t raw;
		rc = read_be(reader, width, &raw);
		if (rc != 0)
			return rc;
		int64_t value = sign_extend(raw, width);
		/* non-negative values belong in the uint forms; negative ones in the smallest int form */
		int64_t ceiling = width == 1 ? -32 : -(INT64_C(1) << (width * 4 - 1));
		if (value >= ceiling)
			return SL_ENONCANONICAL;
		*negative = true;
		*value_negative = value;
		return 0;
	}
	return SL_ETYPE;
}

int codec_read_nil(struct codec_reader *reader)
{
	uint8_t b;
	int rc = read_first(reader, &b);
	if (rc != 0)
		return rc;
	return b == MP_NIL ? 0 : SL_ETYPE;
}

int codec_read_bool(struct codec_reader *reader, bool *out)
{
	uint8_t b;
	int rc = read_first(reader, &b);
	if (rc != 0)
		return rc;
	if (b != MP_FALSE && b != MP_TRUE)
		return SL_ETYPE;
	*out = b == MP_TRUE;
	return 0;
}

int codec_read_uint(struct codec_reader *reader, uint64_t max, uint64_t *out)
{
	bool negative;
	uint64_t magnitude = 0;
	int64_t value_negative = 0;
	int rc = read_integer(reader, &negative, &magnitude, &value_negative);
	if (rc != 0)
		return rc;
	if (negative || magnitude > max)
		return SL_EVALUE;
	*out = magnitude;
	return 0;
}

int codec_read_int(struct codec_reader *reader, int64_t min, int64_t max, int64_t *out)
{
	assert(min <= max);
	bool negative;
	uint64_t magnitude = 0;
	int64_t value = 0;
	int rc = read_integer(reader, &negative, &magnitude, &value);
	if (rc != 0)
		return rc;
	if (!negative) {
		if (magnitude > (uint64_t)INT64_MAX)
			return SL_EVALUE;
		value = (int64_t)magnitude;
	}
	if (value < min || value > max)
		return SL_EVALUE;
	*out = value;
	return 0;
}

/* Length after a str/bin first byte; `fix_max` is the largest length the previous form holds. */
static int read_length(struct codec_reader *reader, size_t width, uint64_t fix_max, uint64_t *len)
{
	int rc = read_be(reader, width, len);
	if (rc != 0)
		return rc;
	if (fix_max > 0 && *len <= fix_max) /* bin 8 passes fix_max 0: no shorter form exists */
		return SL_ENONCANONICAL;
	return 0;
}

static int read_str_header(struct codec_reader *reader, uint64_t *len)
{
	uint8_t b;
	int rc = read_first(reader, &b);
	if (rc != 0)
		return rc;
	if (b >= MP_FIXSTR && b < MP_NIL) {
		*len = b & FIX_STR_MAX;
		return 0;
	}
	switch (b) {
	case MP_STR8:
		return read_length(reader, 1, FIX_STR_MAX, len);
	case MP_STR16:
		return read_length(reader, 2, UINT8_MAX, len);
	case MP_STR32:
		return read_length(reader, 4, UINT16_MAX, len);
	default:
		return SL_ETYPE;
	}
}

static int read_bin_header(struct codec_reader *reader, uint64_t *len)
{
	uint8_t b;
	int rc = read_first(reader, &b);
	if (rc != 0)
		return rc;
	switch (b) {
	case MP_BIN8:
		return read_length(reader, 1, 0, len); /* bin 8 is the shortest for 0..255 */
	case MP_BIN16:
		return read_length(reader, 2, UINT8_MAX, len);
	case MP_BIN32:
		return read_length(reader, 4, UINT16_MAX, len);
	default:
		return SL_ETYPE;
	}
}

/* Take `len` payload bytes after a header whose length was already checked against a maximum. */
static int take_bytes(struct codec_reader *reader, uint64_t len, const uint8_t **out)
{
	if (len > codec_reader_remaining(reader))
		return SL_ETRUNCATED;
	*out = reader->bytes + reader->pos;
	reader->pos += (size_t)len;
	return 0;
}

int codec_read_str(struct codec_reader *reader, size_t max_bytes, struct sl_str *out)
{
	uint64_t len;
	int rc = read_str_header(reader, &len);
	if (rc != 0)
		return rc;
	if (len > max_bytes)
		return SL_EOVERSIZE;
	const uint8_t *bytes;
	rc = take_bytes(reader, len, &bytes);
	if (rc != 0)
		return rc;
	if (!codec_utf8_valid(bytes, (size_t)len, NULL))
		return SL_EVALUE;
	out->ptr = (const char *)bytes;
	out->len = (size_t)len;
	return 0;
}

int codec_read_bin(struct codec_reader *reader, size_t max_bytes, const uint8_t **out, size_t *out_len)
{
	uint64_t len;
	int rc = read_bin_header(reader, &len);
	if (rc != 0)
		return rc;
	if (len > max_bytes)
		return SL_EOVERSIZE;
	rc = take_bytes(reader, len, out);
	if (rc != 0)
		return rc;
	*out_len = (size_t)len;
	return 0;
}

int codec_read_bin_exact(struct codec_reader *reader, size_t len, const uint8_t **out)
{
	uint64_t got;
	int rc = read_bin_header(reader, &got);
	if (rc != 0)
		return rc;
	if (got != len)
		return SL_EVALUE;
	return take_bytes(reader, got, out);
}

/* Array or map header: `fix_base` is 0x90 or 0x80, `form16` 0xdc or 0xde (form32 follows it). */
static int read_collection_header(struct codec_reader *reader, uint8_t fix_base, uint8_t form16,
				  uint64_t *count)
{
	uint8_t b;
	int rc = read_first(reader, &b);
	if (rc != 0)
		return rc;
	if (b >= fix_base && b <= fix_base + FIX_COLLECTION_MAX) {
		*count = b & FIX_COLLECTION_MAX;
		return 0;
	}
	if (b == form16)
		return read_length(reader, 2, FIX_COLLECTION_MAX, count);
	if (b == form16 + 1)
		return read_length(reader, 4, UINT16_MAX, count);
	return SL_ETYPE;
}

int codec_read_array_header(struct codec_reader *reader, uint32_t max_count, uint32_t *count)
{
	uint64_t n;
	int rc = read_collection_header(reader, MP_FIXARRAY, MP_ARRAY16, &n);
	if (rc != 0)
		return rc;
	if (n > max_count)
		return SL_EOVERSIZE;
	if (n > codec_reader_remaining(reader)) /* every element takes at least one byte */
		return SL_ETRUNCATED;
	*count = (uint32_t)n;
	return 0;
}

int codec_read_map_header(struct codec_reader *reader, uint32_t max_count, uint32_t *count)
{
	uint64_t n;
	int rc = read_collection_header(reader, MP_FIXMAP, MP_MAP16, &n);
	if (rc != 0)
		return rc;
	if (n > max_count)
		return SL_EOVERSIZE;
	if (n > codec_reader_remaining(reader) / 2) /* every entry takes at least two bytes */
		return SL_ETRUNCATED;
	*count = (uint32_t)n;
	return 0;
}

/* One scalar or collection header; *more is how many values a collection header announces. */
static int skip_one(struct codec_reader *reader, uint64_t *more)
{
	bool negative;
	uint64_t magnitude;
	int64_t value_negative;
	struct sl_str str;
	const uint8_t *bin;
	size_t bin_len;
	uint32_t count;
	int rc;
	*more = 0;
	switch (codec_peek_kind(reader)) {
	case CODEC_KIND_END:
		return SL_ETRUNCATED;
	case CODEC_KIND_NIL:
		return codec_read_nil(reader);
	case CODEC_KIND_BOOL:
		return codec_read_bool(reader, &negative);
	case CODEC_KIND_UINT:
	case CODEC_KIND_NEGATIVE:
		return read_integer(reader, &negative, &magnitude, &value_negative);
	case CODEC_KIND_STR:
		return codec_read_str(reader, SIZE_MAX, &str);
	case CODEC_KIND_BIN:
		return codec_read_bin(reader, SIZE_MAX, &bin, &bin_len);
	case CODEC_KIND_ARRAY:
		rc = codec_read_array_header(reader, UINT32_MAX, &count);
		*more = count;
		return rc;
	case CODEC_KIND_MAP:
		rc = codec_read_map_header(reader, UINT32_MAX, &count);
		*more = 2 * (uint64_t)count;
		return rc;
	default:
		return SL_ETYPE;
	}
}

int codec_skip_value(struct codec_reader *reader)
{
	uint64_t pending = 1;
	while (pending > 0) {
		/* each pending value takes at least one byte, so pending stays below len: no overflow */
		if (pending > codec_reader_remaining(reader))
			return SL_ETRUNCATED;
		uint64_t more;
		int rc = skip_one(reader, &more);
		if (rc != 0)
			return rc;
		pending = pending - 1 + more;
	}
	return 0;
}

int codec_map_begin(struct codec_reader *reader, struct codec_map *map)
{
	uint32_t count;
	int rc = codec_read_map_header(reader, UINT32_MAX, &count);
	if (rc != 0)
		return rc;
	map->remaining = count;
	map->last_key = -1;
	map->seen = 0;
	return 0;
}

int codec_map_next(struct codec_reader *reader, struct codec_map *map, unsigned *key)
{
	if (map->remaining == 0)
		return 0;
	uint64_t magnitude = 0;
	int rc = codec_read_uint(reader, CODEC_MAP_KEY_MAX, &magnitude);
	if (rc == SL_EVALUE) /* a negative key, or one beyond every known key */
		return SL_EUNKNOWNFIELD;
	if (rc != 0)
		return rc;
	unsigned k = (unsigned)magnitude;
	if (map->seen & (UINT64_C(1) << k))
		return SL_EDUPFIELD;
	if ((int)k < map->last_key)
		return SL_ENONCANONICAL;
	map->seen |= UINT64_C(1) << k;
	map->last_key = (int)k;
	map->remaining--;
	*key = k;
	return 1;
}

int codec_map_missing(const struct codec_map *map, uint64_t required)
{
	uint64_t missing = required & ~map->seen;
	for (int k = 0; k <= CODEC_MAP_KEY_MAX; k++) {
		if (missing & (UINT64_C(1) << k))
			return k;
	}
	return -1;
}

/* Length of the UTF-8 sequence starting at bytes[i], or 0 when invalid (RFC 3629 §4 syntax:
 * shortest forms only, no UTF-16 surrogates, nothing above U+10FFFF). */
static size_t utf8_sequence(const uint8_t *bytes, size_t len, size_t i)
{
	uint8_t b = bytes[i];
	if (b < 0x80)
		return 1;
	size_t n;
	uint8_t low = 0x80, high = 0xbf; /* range of the second byte */
	if (b >= 0xc2 && b <= 0xdf) {
		n = 2;
	} else if (b >= 0xe0 && b <= 0xef) {
		n = 3;
		if (b == 0xe0)
			low = 0xa0; /* overlong */
		if (b == 0xed)
			high = 0x9f; /* surrogates */
	} else if (b >= 0xf0 && b <= 0xf4) {
		n = 4;
		if (b == 0xf0)
			low = 0x90; /* overlong */
		if (b == 0xf4)
			high = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (len - i < n)
		return 0;
	if (bytes[i + 1] < low || bytes[i + 1] > high)
		return 0;
	for (size_t k = 2; k < n; k++) {
		if ((bytes[i + k] & 0xc0) != 0x80)
			return 0;
	}
	return n;
}

bool codec_utf8_valid(const uint8_t *bytes, size_t len, size_t *chars)
{
	size_t count = 0;
	for (size_t i = 0; i < len; count++) {
		size_t n = utf8_sequence(bytes, len, i);
		if (n == 0)
			return false;
		i += n;
	}
	if (chars != NULL)
		*chars = count;
	return true;
}

/* Append `first` and then `value` big-endian in `width` bytes (0 = first byte only). */
static int write_head(struct sl_buf *out, uint8_t first, uint64_t value, size_t width)
{
	uint8_t head[9];
	head[0] = first;
	for (size_t i = 0; i < width; i++)
		head[1 + i] = (uint8_t)(value >> (8 * (width - 1 - i)));
	return sl_buf_append(out, head, 1 + width);
}

int codec_write_nil(struct sl_buf *out)
{
	return write_head(out, MP_NIL, 0, 0);
}

int codec_write_bool(struct sl_buf *out, bool value)
{
	return write_head(out, value ? MP_TRUE : MP_FALSE, 0, 0);
}

int codec_write_uint(struct sl_buf *out, uint64_t value)
{
	if (value <= MP_POSITIVE_FIXINT_MAX)
		return write_head(out, (uint8_t)value, 0, 0);
	if (value <= UINT8_MAX)
		return write_head(out, MP_UINT8, value, 1);
	if (value <= UINT16_MAX)
		return write_head(out, MP_UINT16, value, 2);
	if (value <= UINT32_MAX)
		return write_head(out, MP_UINT32, value, 4);
	return write_head(out, MP_UINT64, value, 8);
}

int codec_write_int(struct sl_buf *out, int64_t value)
{
	if (value >= 0)
		return codec_write_uint(out, (uint64_t)value);
	/* two's complement bit pattern; write_head keeps the low `width` bytes */
	uint64_t raw = (uint64_t)value;
	if (value >= -32)
		return write_head(out, (uint8_t)(raw & 0xff), 0, 0);
	if (value >= INT8_MIN)
		return write_head(out, MP_INT8, raw, 1);
	if (value >= INT16_MIN)
		return write_head(out, MP_INT16, raw, 2);
	if (value >= INT32_MIN)
		return write_head(out, MP_INT32, raw, 4);
	return write_head(out, MP_INT64, raw, 8);
}

int codec_write_str(struct sl_buf *out, const char *text, size_t len)
{
	assert(text != NULL || len == 0);
	int rc;
	if (len <= FIX_STR_MAX)
		rc = write_head(out, (uint8_t)(MP_FIXSTR | len), 0, 0);
	else if (len <= UINT8_MAX)
		rc = write_head(out, MP_STR8, len, 1);
	else if (len <= UINT16_MAX)
		rc = write_head(out, MP_STR16, len, 2);
	else if (len <= UINT32_MAX)
		rc = write_head(out, MP_STR32, len, 4);
	else
		rc = SL_ELIMIT;
	return rc != 0 ? rc : sl_buf_append(out, text, len);
}

int codec_write_bin(struct sl_buf *out, const uint8_t *bytes, size_t len)
{
	assert(bytes != NULL || len == 0);
	int rc;
	if (len <= UINT8_MAX)
		rc = write_head(out, MP_BIN8, len, 1);
	else if (len <= UINT16_MAX)
		rc = write_head(out, MP_BIN16, len, 2);
	else if (len <= UINT32_MAX)
		rc = write_head(out, MP_BIN32, len, 4);
	else
		rc = SL_ELIMIT;
	return rc != 0 ? rc : sl_buf_append(out, bytes, len);
}

static int write_collection_header(struct sl_buf *out, uint8_t fix_base, uint8_t form16, uint32_t count)
{
	if (count <= FIX_COLLECTION_MAX)
		return write_head(out, (uint8_t)(fix_base | count), 0, 0);
	if (count <= UINT16_MAX)
		return write_head(out, form16, count, 2);
	return write_head(out, (uint8_t)(form16 + 1), count, 4);
}

int codec_write_array_header(struct sl_buf *out, uint32_t count)
{
	return write_collection_header(out, MP_FIXARRAY, MP_ARRAY16, count);
}

int codec_write_map_header(struct sl_buf *out, uint32_t count)
{
	return write_collection_header(out, MP_FIXMAP, MP_MAP16, count);
}
