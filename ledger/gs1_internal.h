/* ledger/gs1_internal.h — helpers shared by ledger/gs1*.c; not part of the public API.
 *
 * Owns: the pieces the element-string, EPC URI and Digital Link parsers have in common (byte
 * classes, fixed-length key validation, whole-item validation, a bounded output writer and the
 * percent-encoding codec). Nothing outside ledger/gs1*.c may include this header.
 *
 * Rules:
 *  1. Every function takes (pointer, length) and never reads past the length; none allocates.
 *  2. Parsers write into a caller-owned struct gs1_item that the caller zeroed; gs1_parse copies it
 *     to the user's struct only on success.
 */
#ifndef SL_LEDGER_GS1_INTERNAL_H
#define SL_LEDGER_GS1_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "ledger/gs1.h"

/* Byte classes. Every byte ≥ 0x80 is outside all of them: the identifiers are ASCII. */
bool gs1_char_is_digit(unsigned char c);
bool gs1_char_is_cset82(unsigned char c);
/* ASCII-only, case-insensitive "text starts with prefix" (URI schemes and the URN NID). */
bool gs1_prefix_equal_ci(const char *text, size_t len, const char *prefix);

/* A fixed-length numeric key with a mod-10 check digit in its last position (GTIN-14, SSCC-18,
 * GLN-13; GenSpecs §7.9): SL_ELENGTH, SL_ESYNTAX (non-digit) or SL_ECHECKDIGIT. `name` goes into
 * the detail text. */
int gs1_key_validate(const char *text, size_t len, size_t digits, const char *name,
		     struct sl_error_detail *detail);

/* Validate every field of an item the way a formatter needs it: the kind's key and serial, the
 * optional lot and expiry, and fields the kind does not use must be empty (SL_EINVAL otherwise). */
int gs1_item_check(const struct gs1_item *item, struct sl_error_detail *detail);

/* Copy `len` bytes and a NUL into `dst`; the caller has checked that len < dst_size. */
void gs1_field_copy(char *dst, size_t dst_size, const char *src, size_t len);

/* Bounded writer for the formatters: appends are dropped once the buffer would overflow, and
 * gs1_out_finish reports it (SL_ELIMIT, leaving "" in the buffer). */
struct gs1_out {
	char *buf;
	size_t size; /* bytes in buf, including room for the NUL */
	size_t len;
	bool overflow;
};

void gs1_out_init(struct gs1_out *out, char *buf, size_t size);
void gs1_out_append(struct gs1_out *out, const char *bytes, size_t len);
void gs1_out_append_cstr(struct gs1_out *out, const char *cstr);
int gs1_out_finish(struct gs1_out *out);

/* Percent-encoding contexts: which bytes may appear unescaped (RFC 3986 §2, TDS §5). */
enum gs1_uri_part {
	GS1_URI_EPC_SERIAL = 1, /* EPC URI serial: CSET 82 except " % & / < > ? (TDS Table A-1) */
	GS1_URI_PATH_SEGMENT,	/* Digital Link path segment: RFC 3986 pchar */
	GS1_URI_QUERY,		/* Digital Link query key or value: pchar, "/", "?", but not "&" */
};

/* Decode `text` (percent escapes %HH, either hex case) into dst[0..dst_max) plus a NUL, or only
 * validate it when dst is NULL. SL_ESYNTAX for a malformed escape or a byte that must be escaped
 * in this part; SL_ELENGTH when more than dst_max bytes decode. The decoded bytes are not
 * otherwise checked: the caller validates them (CSET 82, digits). */
int gs1_uri_decode(const char *text, size_t len, enum gs1_uri_part part, char *dst, size_t dst_max,
		   size_t *dst_len, const char *name, struct sl_error_detail *detail);
/* Append `text` percent-encoded for `part`, upper-case hex (the canonical form we write). */
void gs1_uri_encode(struct gs1_out *out, const char *text, size_t len, enum gs1_uri_part part);

/* The three parsers behind gs1_parse; `text` has at most GS1_TEXT_CHARS_MAX bytes. */
int gs1_element_parse(const char *text, size_t len, struct gs1_item *out, struct sl_error_detail *detail);
int gs1_epc_parse(const char *text, size_t len, struct gs1_item *out, struct sl_error_detail *detail);
int gs1_link_parse(const char *text, size_t len, struct gs1_item *out, struct sl_error_detail *detail);

#endif
