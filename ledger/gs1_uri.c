/* ledger/gs1_uri.c — the percent-encoding codec and EPC pure-identity URIs (TDS §6.3):
 *     urn:epc:id:sgtin:CompanyPrefix.IndicatorAndItemReference.SerialNumber
 *     urn:epc:id:sscc:CompanyPrefix.SerialReference
 *
 * Design notes:
 *  1. SGTIN (TDS §6.3.1): company prefix (6–12 digits) + indicator-and-item-reference = 13 digits.
 *     GTIN-14 = indicator (first digit of the second field) + company prefix + the rest of the item
 *     reference + the check digit (computed; the URI carries none).
 *  2. SSCC (TDS §6.3.2): company prefix (6–12 digits) + serial reference = 17 digits; the first digit
 *     of the serial reference is the extension digit, which comes first in the SSCC, then the
 *     company prefix, the rest of the serial reference and the check digit.
 *  3. Serial numbers use the TDS escaping of CSET 82 (TDS Table A-1): " % & / < > ? must appear as
 *     %22 %25 %26 %2F %3C %3E %3F; the other CSET 82 characters appear literally. The decoder also
 *     accepts any other %HH (either hex case) as long as it decodes to a CSET 82 character; the
 *     formatter writes only the required escapes, upper case. An unescaped character that must be
 *     escaped is SL_ESYNTAX.
 *  4. "urn:" and the "epc" namespace are case-insensitive (RFC 8141 §3.1); the rest is matched as TDS
 *     writes it. Only the sgtin and sscc schemes are accepted.
 *  5. A company prefix length outside 6–12 is SL_EPREFIX, when parsing and when formatting. Pure
 *     identity URIs carry neither lot nor expiry: the formatter drops them.
 */
#include <assert.h>
#include <string.h>

#include "ledger/gs1.h"
#include "ledger/gs1_internal.h"

#define EPC_PREFIX_DIGITS_MIN 6	  /* GS1 company prefixes are 6 to 12 digits (TDS §6.3.1) */
#define EPC_PREFIX_DIGITS_MAX 12
#define EPC_SGTIN_FIELD_DIGITS 13 /* company prefix + indicator and item reference */
#define EPC_SSCC_FIELD_DIGITS 17  /* company prefix + serial reference */

_Static_assert(EPC_SGTIN_FIELD_DIGITS == GS1_GTIN_DIGITS - 1, "SGTIN fields are the GTIN body");
_Static_assert(EPC_SSCC_FIELD_DIGITS == GS1_SSCC_DIGITS - 1, "SSCC fields are the SSCC body");

static const char epc_sgtin_prefix[] = "urn:epc:id:sgtin:";
static const char epc_sscc_prefix[] = "urn:epc:id:sscc:";
#define EPC_URN_NID_CHARS 8 /* "urn:epc:" — the case-insensitive part */

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool uri_char_is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || gs1_char_is_digit(c) || c == '-' ||
	       c == '.' || c == '_' || c == '~';
}

/* RFC 3986 §3.3: pchar = unreserved / pct-encoded / sub-delims / ":" / "@". */
static bool uri_char_is_pchar(unsigned char c)
{
	return uri_char_is_unreserved(c) || (c != '\0' && strchr("!$&'()*+,;=:@", c) != NULL);
}

/* May `c` appear unescaped in `part`? ('%' never: it always starts an escape.) */
static bool uri_char_is_raw(enum gs1_uri_part part, unsigned char c)
{
	switch (part) {
	case GS1_URI_EPC_SERIAL:
		return gs1_char_is_cset82(c) && c != '%' && (c == '\0' || strchr("\"&/<>?", c) == NULL);
	case GS1_URI_PATH_SEGMENT:
		return uri_char_is_pchar(c);
	default:
		assert(part == GS1_URI_QUERY);
		return (uri_char_is_pchar(c) || c == '/' || c == '?') && c != '&';
	}
}

int gs1_uri_decode(const char *text, size_t len, enum gs1_uri_part part, char *dst, size_t dst_max,
		   size_t *dst_len, const char *name, struct sl_error_detail *detail)
{
	assert(text != NULL || len == 0);
	assert(name != NULL);
	size_t count = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '%') {
			if (len - i < 3 || hex_value((unsigned char)text[i + 1]) < 0 ||
			    hex_value((unsigned char)text[i + 2]) < 0)
				return sl_error_set(detail, SL_ESYNTAX, "%s: malformed %%-escape at offset %zu",
						    name, i);
			c = (unsigned char)(hex_value((unsigned char)text[i + 1]) * 16 +
					    hex_value((unsigned char)text[i + 2]));
			i += 2;
		} else if (!uri_char_is_raw(part, c)) {
			return sl_error_set(detail, SL_ESYNTAX,
					    "%s: byte 0x%02x at offset %zu must be %%-escaped", name, c, i);
		}
		if (dst != NULL) {
			if (count >= dst_max)
				return sl_error_set(detail, SL_ELENGTH, "%s is longer than %zu characters",
						    name, dst_max);
			dst[count] = (char)c;
		}
		count++;
	}
	if (dst != NULL)
		dst[count] = '\0';
	if (dst_len != NULL)
		*dst_len = count;
	return 0;
}

void gs1_uri_encode(struct gs1_out *out, const char *text, size_t len, enum gs1_uri_part part)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		/* EPC serials escape only what TDS Table A-1 requires; Digital Link escapes every
		 * character that is not unreserved (RFC 3986 §2.3), so no sub-delim is ever ambiguous. */
		bool raw = part == GS1_URI_EPC_SERIAL ? uri_char_is_raw(part, c) : uri_char_is_unreserved(c);
		if (raw) {
			gs1_out_append(out, (const char *)&text[i], 1);
		} else {
			char escape[3] = { '%', hex[c >> 4], hex[c & 0x0f] };
			gs1_out_append(out, escape, sizeof escape);
		}
	}
}

static int epc_digits_check(const char *text, size_t len, const char *name, struct sl_error_detail *detail)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (!gs1_char_is_digit(c))
			return sl_error_set(detail, SL_ESYNTAX, "%s: byte 0x%02x at offset %zu is not a digit",
					    name, c, i);
	}
	return 0;
}

/* Split "CompanyPrefix.Rest" and check both digit runs; `total` is their combined length. */
static int epc_fields_check(const char *prefix, size_t prefix_len, const char *rest, size_t rest_len,
			    size_t total, struct sl_error_detail *detail)
{
	int rc = epc_digits_check(prefix, prefix_len, "company prefix", detail);
	if (rc == 0)
		rc = epc_digits_check(rest, rest_len, "reference", detail);
	if (rc != 0)
		return rc;
	if (prefix_len < EPC_PREFIX_DIGITS_MIN || prefix_len > EPC_PREFIX_DIGITS_MAX)
		return sl_error_set(detail, SL_EPREFIX, "company prefix has %zu digits, expected 6-12",
				    prefix_len);
	if (prefix_len + rest_len != total)
		return sl_error_set(detail, SL_ELENGTH,
				    "company prefix and reference have %zu digits together, expected %zu",
				    prefix_len + rest_len, total);
	return 0;
}

/* body = rest[0] + prefix + rest[1..], then the check digit: TDS §6.3.1 / §6.3.2 (design notes 1, 2). */
static void epc_key_build(const char *prefix, size_t prefix_len, const char *rest, size_t rest_len,
			  char *key, size_t key_size)
{
	size_t body = prefix_len + rest_len;
	assert(rest_len >= 1);
	assert(body + 2 == key_size);
	key[0] = rest[0];
	memcpy(key + 1, prefix, prefix_len);
	memcpy(key + 1 + prefix_len, rest + 1, rest_len - 1);
	int check = gs1_check_digit(key, body);
	assert(check >= 0);
	key[body] = (char)('0' + check);
	key[body + 1] = '\0';
}

static int epc_sgtin_parse(const char *text, size_t len, struct gs1_item *out, struct sl_error_detail *detail)
{
	const char *dot1 = memchr(text, '.', len);
	const char *dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - text)) : NULL;
	if (dot2 == NULL)
		return sl_error_set(detail, SL_ESYNTAX,
				    "expected urn:epc:id:sgtin:CompanyPrefix.ItemReference.Serial");
	size_t prefix_len = (size_t)(dot1 - text);
	size_t ref_len = (size_t)(dot2 - dot1 - 1);
	int rc = epc_fields_check(text, prefix_len, dot1 + 1, ref_len, EPC_SGTIN_FIELD_DIGITS, detail);
	if (rc != 0)
		return rc;
	const char *serial = dot2 + 1;
	size_t serial_text_len = len - (size_t)(serial - text);
	size_t serial_len = 0;
	rc = gs1_uri_decode(serial, serial_text_len, GS1_URI_EPC_SERIAL, out->serial, GS1_SERIAL_CHARS_MAX,
			    &serial_len, "serial", detail);
	if (rc == 0)
		rc = gs1_cset82_validate(out->serial, serial_len, GS1_SERIAL_CHARS_MAX, detail);
	if (rc != 0)
		return rc;
	epc_key_build(text, prefix_len, dot1 + 1, ref_len, out->gtin, sizeof out->gtin);
	out->kind = GS1_KIND_PACK;
	return 0;
}

static int epc_sscc_parse(const char *text, size_t len, struct gs1_item *out, struct sl_error_detail *detail)
{
	const char *dot = memchr(text, '.', len);
	if (dot == NULL)
		return sl_error_set(detail, SL_ESYNTAX, "expected urn:epc:id:sscc:CompanyPrefix.SerialReference");
	size_t prefix_len = (size_t)(dot - text);
	int rc = epc_fields_check(text, prefix_len, dot + 1, len - prefix_len - 1, EPC_SSCC_FIELD_DIGITS,
				  detail);
	if (rc != 0)
		return rc;
	epc_key_build(text, prefix_len, dot + 1, len - prefix_len - 1, out->sscc, sizeof out->sscc);
	out->kind = GS1_KIND_CONTAINER;
	return 0;
}

/* Does text start with `prefix`, its first EPC_URN_NID_CHARS case-insensitively (design note 4)? */
static bool epc_prefix_match(const char *text, size_t len, const char *prefix, size_t prefix_len)
{
	return len >= prefix_len && gs1_prefix_equal_ci(text, len, "urn:epc:") &&
	       memcmp(text + EPC_URN_NID_CHARS, prefix + EPC_URN_NID_CHARS, prefix_len - EPC_URN_NID_CHARS) == 0;
}

int gs1_epc_parse(const char *text, size_t len, struct gs1_item *out, struct sl_error_detail *detail)
{
	assert(text != NULL);
	assert(len <= GS1_TEXT_CHARS_MAX);
	size_t sgtin_len = sizeof epc_sgtin_prefix - 1;
	size_t sscc_len = sizeof epc_sscc_prefix - 1;
	if (epc_prefix_match(text, len, epc_sgtin_prefix, sgtin_len))
		return epc_sgtin_parse(text + sgtin_len, len - sgtin_len, out, detail);
	if (epc_prefix_match(text, len, epc_sscc_prefix, sscc_len))
		return epc_sscc_parse(text + sscc_len, len - sscc_len, out, detail);
	return sl_error_set(detail, SL_ESYNTAX, "only urn:epc:id:sgtin: and urn:epc:id:sscc: URIs are supported");
}

int gs1_format_epc_uri(const struct gs1_item *item, unsigned company_prefix_digits, char *out,
		       size_t out_size)
{
	assert(item != NULL);
	assert(out != NULL && out_size > 0);
	out[0] = '\0';
	int rc = gs1_item_check(item, NULL);
	if (rc != 0)
		return rc;
	if (company_prefix_digits < EPC_PREFIX_DIGITS_MIN || company_prefix_digits > EPC_PREFIX_DIGITS_MAX)
		return SL_EPREFIX;
	const char *key = item->kind == GS1_KIND_PACK ? item->gtin : item->sscc;
	size_t body = item->kind == GS1_KIND_PACK ? EPC_SGTIN_FIELD_DIGITS : EPC_SSCC_FIELD_DIGITS;
	struct gs1_out writer;
	gs1_out_init(&writer, out, out_size);
	gs1_out_append_cstr(&writer, item->kind == GS1_KIND_PACK ? epc_sgtin_prefix : epc_sscc_prefix);
	/* key = lead digit + company prefix + rest + check (design notes 1, 2); the URI moves the lead
	 * digit (indicator or extension) behind the company prefix and drops the check digit. */
	gs1_out_append(&writer, key + 1, company_prefix_digits);
	gs1_out_append(&writer, ".", 1);
	gs1_out_append(&writer, key, 1);
	gs1_out_append(&writer, key + 1 + company_prefix_digits, body - 1 - company_prefix_digits);
	if (item->kind == GS1_KIND_PACK) {
		gs1_out_append(&writer, ".", 1);
		gs1_uri_encode(&writer, item->serial, strlen(item->serial), GS1_URI_EPC_SERIAL);
	}
	return gs1_out_finish(&writer);
}
