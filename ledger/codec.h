/* ledger/codec.h — a small strict reader and writer for canonical msgpack.
 *
 * Owns: the byte-level rules every siteledger wire and ledger format shares (records, entries,
 * peer and client messages). docs/record-format.md ("Canonical msgpack") is normative.
 *
 * Canonical msgpack, as this codec reads and writes it:
 *   - integers in the shortest form: non-negative values as positive fixint / uint 8/16/32/64,
 *     negative values as negative fixint / int 8/16/32/64, each the smallest that holds the value;
 *   - str, bin, array and map headers in the shortest form for their length (fixstr, str 8/16/32;
 *     bin 8/16/32; fixarray, array 16/32; fixmap, map 16/32);
 *   - str is valid UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF);
 *   - no float, no ext; nil and bool only where a reader asks for them;
 *   - maps have small unsigned integer keys (0..CODEC_MAP_KEY_MAX) in strictly ascending order.
 *
 * Rules:
 *  1. The reader never allocates and never reads outside (bytes, len): a length or count larger
 *     than the bytes left is SL_ETRUNCATED before anything relies on it. Callers still bound counts
 *     by their own named limits before allocating.
 *  2. Strings and bins are borrowed: they point into the reader's input, which must outlive them.
 *  3. Errors: SL_ETRUNCATED (input ends inside a value), SL_ENONCANONICAL (a longer form than
 *     needed, map keys out of order), SL_ETYPE (another msgpack type than asked for, float, ext),
 *     SL_EVALUE (an integer out of the asked range, invalid UTF-8), SL_EDUPFIELD (a map key twice),
 *     SL_EUNKNOWNFIELD (a map key above CODEC_MAP_KEY_MAX), SL_ETRAILING (codec_reader_finish).
 *     On error the cursor position is unspecified; callers stop reading.
 *  4. Writers append to a struct sl_buf (bounded by its limit: SL_ELIMIT) and always emit the
 *     canonical form, so anything written here reads back with the reader.
 */
#ifndef SL_LEDGER_CODEC_H
#define SL_LEDGER_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/error.h"

/* Map keys are field numbers, not data: 64 fits every message and lets a uint64_t mask track them. */
#define CODEC_MAP_KEY_MAX 63

struct codec_reader {
	const uint8_t *bytes;
	size_t len;
	size_t pos; /* next byte to read; pos <= len */
};

/* Kind of the next value, for decoders that accept one of several types. */
enum codec_kind {
	CODEC_KIND_END = 0, /* no byte left */
	CODEC_KIND_NIL,
	CODEC_KIND_BOOL,
	CODEC_KIND_UINT, /* non-negative integer */
	CODEC_KIND_NEGATIVE, /* negative integer */
	CODEC_KIND_STR,
	CODEC_KIND_BIN,
	CODEC_KIND_ARRAY,
	CODEC_KIND_MAP,
	CODEC_KIND_OTHER, /* float, ext or the never-used byte 0xc1: always refused */
};

void codec_reader_init(struct codec_reader *reader, const uint8_t *bytes, size_t len);
size_t codec_reader_remaining(const struct codec_reader *reader);
/* 0 when every byte was consumed, SL_ETRAILING otherwise. */
int codec_reader_finish(const struct codec_reader *reader);
/* Looks at the next byte only (does not check the value is complete or canonical). */
enum codec_kind codec_peek_kind(const struct codec_reader *reader);

int codec_read_nil(struct codec_reader *reader);
int codec_read_bool(struct codec_reader *reader, bool *out);
/* Unsigned integer in [0, max]; a negative integer or one above max is SL_EVALUE. */
int codec_read_uint(struct codec_reader *reader, uint64_t max, uint64_t *out);
/* Signed integer in [min, max]; outside is SL_EVALUE. */
int codec_read_int(struct codec_reader *reader, int64_t min, int64_t max, int64_t *out);
/* Borrowed UTF-8 string of at most max_bytes bytes (longer: SL_EOVERSIZE). */
int codec_read_str(struct codec_reader *reader, size_t max_bytes, struct sl_str *out);
/* Borrowed bin of at most max_bytes bytes (longer: SL_EOVERSIZE). */
int codec_read_bin(struct codec_reader *reader, size_t max_bytes, const uint8_t **out, size_t *out_len);
/* Bin of exactly `len` bytes (another length: SL_EVALUE). */
int codec_read_bin_exact(struct codec_reader *reader, size_t len, const uint8_t **out);
/* Array header with at most max_count elements (more: SL_EOVERSIZE). The count is also checked
 * against the bytes left (each element takes at least one byte), so it is safe to allocate from. */
int codec_read_array_header(struct codec_reader *reader, uint32_t max_count, uint32_t *count);
/* Map header with at most max_count entries (more: SL_EOVERSIZE); see codec_map below. */
int codec_read_map_header(struct codec_reader *reader, uint32_t max_count, uint32_t *count);

/* Skip one complete value of any type the codec reads (nested arrays and maps included, without
 * recursion; map keys inside are not checked for order). Shortest forms are still required. For
 * tools and tests that cut an encoding into fields; strict decoders never skip. */
int codec_skip_value(struct codec_reader *reader);

/* Walking a map with integer keys: codec_map_begin reads the header, codec_map_next reads each
 * key and enforces "strictly ascending, no duplicates, at most CODEC_MAP_KEY_MAX"; the caller
 * reads the value, rejects keys it does not know (SL_EUNKNOWNFIELD) and finally checks required
 * keys with codec_map_missing. */
struct codec_map {
	uint32_t remaining; /* entries not yet read */
	int last_key;	    /* -1 before the first key */
	uint64_t seen;	    /* bit k set when key k was read */
};

int codec_map_begin(struct codec_reader *reader, struct codec_map *map);
/* 1 and *key when an entry follows, 0 when the map is done, negative on error. */
int codec_map_next(struct codec_reader *reader, struct codec_map *map, unsigned *key);
/* Lowest key in `required` (bit mask) that was not seen, or -1 when all were. */
int codec_map_missing(const struct codec_map *map, uint64_t required);

/* Strict UTF-8 check (RFC 3629 §4); counts code points into *chars when non-NULL. */
bool codec_utf8_valid(const uint8_t *bytes, size_t len, size_t *chars);

/* Writers (rule 4). */
int codec_write_nil(struct sl_buf *out);
int codec_write_bool(struct sl_buf *out, bool value);
int codec_write_uint(struct sl_buf *out, uint64_t value);
int codec_write_int(struct sl_buf *out, int64_t value);
/* str and bin lengths are limited to UINT32_MAX by the format (SL_ELIMIT beyond). The writer does
 * not check UTF-8: callers validate text before encoding it. */
int codec_write_str(struct sl_buf *out, const char *text, size_t len);
int codec_write_bin(struct sl_buf *out, const uint8_t *bytes, size_t len);
int codec_write_array_header(struct sl_buf *out, uint32_t count);
int codec_write_map_header(struct sl_buf *out, uint32_t count);

#endif
