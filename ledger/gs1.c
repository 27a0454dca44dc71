/* ledger/gs1.c — GS1 check digits, field validation, canonical item ids, lot keys and the
 * gs1_parse entry point (see gs1.h). Element strings live in gs1_element.c, EPC URIs and the
 * percent codec in gs1_uri.c, GS1 Digital Link in gs1_link.c.
 *
 * Design notes:
 *  1. Every check works on (pointer, length); NUL-terminated inputs are measured with strnlen
 *     bounded by the field's own limit, so no input makes us read past its end.
 *  2. Error choice, checked in this order: wrong length → SL_ELENGTH; a non-digit in a numeric
 *     field → SL_ESYNTAX; a byte outside CSET 82 in a serial or lot → SL_ECHARSET; wrong check
 *     digit → SL_ECHECKDIGIT; month or day out of range → SL_EDATE. So a 21-character serial with a
 *     space in it is SL_ELENGTH.
 *  3. Bytes ≥ 0x80 belong to no GS1 character class used here, so UTF-8 and any other non-ASCII
 *     input is rejected byte by byte; detail texts print offending bytes as hex, never raw, so a
 *     hostile identifier cannot inject text into a log line.
 *  4. gs1_item_id_parse runs on every item of every decoded record: it is a straight-line check of
 *     the one canonical shape, with no allocation and no copying beyond filling `out`.
 */
#include "ledger/gs1.h"

#include <assert.h>
#include <string.h>

#include "ledger/gs1_internal.h"

/* The longest body we compute a check digit over: 17 digits, the SSCC-18 / GSRN-18 body, which is
 * the longest key the GenSpecs §7.9.1 check-digit table covers. */
#define GS1_CHECK_BODY_DIGITS_MAX 17
#define GS1_ITEM_ID_PACK_CHARS_MIN (4 + GS1_GTIN_DIGITS + 4 + 1) /* "(01)" GTIN "(21)" + 1 char */
#define GS1_ITEM_ID_SERIAL_OFFSET (4 + GS1_GTIN_DIGITS + 4)

_Static_assert(GS1_ITEM_ID_CHARS_MAX == GS1_ITEM_ID_SERIAL_OFFSET + GS1_SERIAL_CHARS_MAX,
	       "item id layout: (01) GTIN (21) serial");
_Static_assert(GS1_SSCC_DIGITS - 1 == GS1_CHECK_BODY_DIGITS_MAX, "SSCC body is the longest body");
_Static_assert(4 + GS1_SSCC_DIGITS <= GS1_ITEM_ID_CHARS_MAX, "a container id fits an item id buffer");

bool gs1_char_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* GenSpecs §7.11 Figure 7.11-1: the 82 characters are ! " % & ' ( ) * + , - . / 0-9 : ; < = > ?
 * A-Z _ a-z. In ASCII these are exactly the ranges below (2 + 27 + 26 + 1 + 26 = 82). */
bool gs1_char_is_cset82(unsigned char c)
{
	return (c >= 0x21 && c <= 0x22) || (c >= 0x25 && c <= 0x3f) || (c >= 0x41 && c <= 0x5a) ||
	       c == 0x5f || (c >= 0x61 && c <= 0x7a);
}

bool gs1_prefix_equal_ci(const char *text, size_t len, const char *prefix)
{
	size_t prefix_len = strlen(prefix);
	if (len < prefix_len)
		return false;
	for (size_t i = 0; i < prefix_len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c != (unsigned char)prefix[i])
			return false;
	}
	return true;
}

void gs1_field_copy(char *dst, size_t dst_size, const char *src, size_t len)
{
	assert(len < dst_size);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* GenSpecs §7.9.1: weights 3, 1, 3, 1, … from the rightmost digit of the body; the check digit
 * brings the weighted sum up to the next multiple of ten. Returns 0–9, or a negative error. */
int gs1_check_digit(const char *digits, size_t len)
{
	assert(digits != NULL || len == 0);
	if (len == 0 || len > GS1_CHECK_BODY_DIGITS_MAX)
		return SL_ELENGTH;
	unsigned sum = 0; /* at most 17 * 27: no overflow */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)digits[len - 1 - i];
		if (!gs1_char_is_digit(c))
			return SL_ESYNTAX;
		sum += (unsigned)(c - '0') * (i % 2 == 0 ? 3u : 1u);
	}
	return (int)((10 - sum % 10) % 10);
}

int gs1_key_validate(const char *text, size_t len, size_t digits, const char *name,
		     struct sl_error_detail *detail)
{
	assert(text != NULL || len == 0);
	assert(digits >= 2 && digits - 1 <= GS1_CHECK_BODY_DIGITS_MAX);
	if (len != digits)
		return sl_error_set(detail, SL_ELENGTH, "%s must be %zu digits, got %zu characters", name,
				    digits, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (!gs1_char_is_digit(c))
			return sl_error_set(detail, SL_ESYNTAX, "%s: byte 0x%02x at offset %zu is not a digit",
					    name, c, i);
	}
	int check = gs1_check_digit(text, len - 1);
	assert(check >= 0 && check <= 9);
	if (text[len - 1] - '0' != check)
		return sl_error_set(detail, SL_ECHECKDIGIT, "%s check digit is %c, expected %d", name,
				    text[len - 1], check);
	return 0;
}

int gs1_gtin_normalize(const char *text, char out[GS1_GTIN_DIGITS + 1], struct sl_error_detail *detail)
{
	assert(text != NULL);
	assert(out != NULL);
	/* GenSpecs §3.3.2: GTIN-8, -12, -13 and -14 are right-justified in a 14-digit field with leading
	 * zeros; zeros on the left carry weight 0, so the check digit is unchanged by padding. */
	size_t len = strnlen(text, GS1_GTIN_DIGITS + 1);
	if (len != 8 && len != 12 && len != 13 && len != 14)
		return sl_error_set(detail, SL_ELENGTH, "GTIN must be 8, 12, 13 or 14 digits, got %zu%s",
				    len, len > GS1_GTIN_DIGITS ? " or more" : "");
	int rc = gs1_key_validate(text, len, len, "GTIN", detail);
	if (rc != 0)
		return rc;
	size_t pad = GS1_GTIN_DIGITS - len;
	memset(out, '0', pad);
	memcpy(out + pad, text, len);
	out[GS1_GTIN_DIGITS] = '\0';
	return 0;
}

int gs1_sscc_validate(const char *text, size_t len, struct sl_error_detail *detail)
{
	return gs1_key_validate(text, len, GS1_SSCC_DIGITS, "SSCC", detail);
}

int gs1_gln_validate(const char *text, size_t len, struct sl_error_detail *detail)
{
	return gs1_key_validate(text, len, GS1_GLN_DIGITS, "GLN", detail);
}

int gs1_cset82_validate(const char *text, size_t len, size_t max_chars, struct sl_error_detail *detail)
{
	assert(text != NULL || len == 0);
	assert(max_chars > 0);
	if (len == 0)
		return sl_error_set(detail, SL_ELENGTH, "value is empty (at least 1 character)");
	if (len > max_chars)
		return sl_error_set(detail, SL_ELENGTH, "value has %zu characters, at most %zu", len,
				    max_chars);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (!gs1_char_is_cset82(c))
			return sl_error_set(detail, SL_ECHARSET, "byte 0x%02x at offset %zu is not in CSET 82",
					    c, i);
	}
	return 0;
}

static unsigned date_days_in_month(unsigned year, unsigned month)
{
	static const unsigned days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	assert(month >= 1 && month <= 12);
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	return month == 2 && leap ? 29 : days[month - 1];
}

int gs1_date_validate(const char *text, size_t len, struct sl_error_detail *detail)
{
	assert(text != NULL || len == 0);
	if (len != GS1_DATE_DIGITS)
		return sl_error_set(detail, SL_ELENGTH, "date must be 6 digits YYMMDD, got %zu characters",
				    len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (!gs1_char_is_digit(c))
			return sl_error_set(detail, SL_ESYNTAX, "date: byte 0x%02x at offset %zu is not a digit",
					    c, i);
	}
	unsigned yy = (unsigned)(text[0] - '0') * 10 + (unsigned)(text[1] - '0');
	unsigned mm = (unsigned)(text[2] - '0') * 10 + (unsigned)(text[3] - '0');
	unsigned dd = (unsigned)(text[4] - '0') * 10 + (unsigned)(text[5] - '0');
	if (mm < 1 || mm > 12)
		return sl_error_set(detail, SL_EDATE, "month %02u is not 01-12", mm);
	/* AI (17), GenSpecs §3.4: DD "00" means the last day of the month. */
	if (dd == 0)
		return 0;
	/* GenSpecs §7.12 resolves the century of YY against the current year (a sliding window of
	 * 49 years ahead, 50 back). These functions are pure and never read the clock, so we take the
	 * year as 2000 + YY. Only Feb 29 depends on it, and only for YY = 00 (2000 is leap, 1900 and
	 * 2100 are not); §7.12 itself maps YY = 00 to 2000 for every current year 2000–2049, so the
	 * results agree until 2050. */
	unsigned last = date_days_in_month(2000 + yy, mm);
	if (dd > last)
		return sl_error_set(detail, SL_EDATE, "day %02u is past the end of month %02u (%u days in 20%02u)",
				    dd, mm, last, yy);
	return 0;
}

/* Length of a NUL-terminated field inside its fixed array; sizeof when unterminated. */
static size_t item_field_len(const char *field, size_t size)
{
	return strnlen(field, size);
}

static int item_pack_check(const struct gs1_item *item, struct sl_error_detail *detail)
{
	int rc = gs1_key_validate(item->gtin, item_field_len(item->gtin, sizeof item->gtin),
				  GS1_GTIN_DIGITS, "GTIN", detail);
	if (rc != 0)
		return rc;
	rc = gs1_cset82_validate(item->serial, item_field_len(item->serial, sizeof item->serial),
				 GS1_SERIAL_CHARS_MAX, detail);
	if (rc != 0)
		return rc;
	size_t lot_len = item_field_len(item->lot, sizeof item->lot);
	if (lot_len > 0) {
		rc = gs1_cset82_validate(item->lot, lot_len, GS1_LOT_CHARS_MAX, detail);
		if (rc != 0)
			return rc;
	}
	size_t expiry_len = item_field_len(item->expiry, sizeof item->expiry);
	if (expiry_len > 0) {
		rc = gs1_date_validate(item->expiry, expiry_len, detail);
		if (rc != 0)
			return rc;
	}
	if (item->sscc[0] != '\0')
		return sl_error_set(detail, SL_EINVAL, "a pack carries no SSCC");
	return 0;
}

int gs1_item_check(const struct gs1_item *item, struct sl_error_detail *detail)
{
	assert(item != NULL);
	switch (item->kind) {
	case GS1_KIND_PACK:
		return item_pack_check(item, detail);
	case GS1_KIND_CONTAINER:
		if (item->gtin[0] != '\0' || item->serial[0] != '\0' || item->lot[0] != '\0' ||
		    item->expiry[0] != '\0')
			return sl_error_set(detail, SL_EINVAL, "a container carries only an SSCC");
		return gs1_key_validate(item->sscc, item_field_len(item->sscc, sizeof item->sscc),
					GS1_SSCC_DIGITS, "SSCC", detail);
	default:
		return sl_error_set(detail, SL_EINVAL, "unknown item kind %d", (int)item->kind);
	}
}

int gs1_item_id(const struct gs1_item *item, char out[GS1_ITEM_ID_SIZE])
{
	assert(item != NULL);
	assert(out != NULL);
	out[0] = '\0';
	int rc = gs1_item_check(item, NULL);
	if (rc != 0)
		return rc;
	struct gs1_out writer;
	gs1_out_init(&writer, out, GS1_ITEM_ID_SIZE);
	if (item->kind == GS1_KIND_CONTAINER) {
		gs1_out_append_cstr(&writer, "(00)");
		gs1_out_append_cstr(&writer, item->sscc);
	} else {
		gs1_out_append_cstr(&writer, "(01)");
		gs1_out_append_cstr(&writer, item->gtin);
		gs1_out_append_cstr(&writer, "(21)");
		gs1_out_append_cstr(&writer, item->serial);
	}
	rc = gs1_out_finish(&writer);
	assert(rc == 0); /* the longest item id is GS1_ITEM_ID_CHARS_MAX by construction */
	return rc;
}

int gs1_item_id_parse(const char *text, size_t len, struct gs1_item *out, struct sl_error_detail *detail)
{
	assert(text != NULL || len == 0);
	if (len > GS1_ITEM_ID_CHARS_MAX)
		return sl_error_set(detail, SL_ELENGTH, "item id has %zu characters, at most %d", len,
				    GS1_ITEM_ID_CHARS_MAX);
	int rc;
	if (len >= 4 && memcmp(text, "(00)", 4) == 0) {
		rc = gs1_key_validate(text + 4, len - 4, GS1_SSCC_DIGITS, "SSCC", detail);
		if (rc != 0)
			return rc;
		if (out != NULL) {
			memset(out, 0, sizeof *out);
			out->kind = GS1_KIND_CONTAINER;
			gs1_field_copy(out->sscc, sizeof out->sscc, text + 4, GS1_SSCC_DIGITS);
		}
		return 0;
	}
	if (len < 4 || memcmp(text, "(01)", 4) != 0)
		return sl_error_set(detail, SL_ESYNTAX, "item id must start with (01) or (00)");
	if (len < GS1_ITEM_ID_PACK_CHARS_MIN || memcmp(text + 4 + GS1_GTIN_DIGITS, "(21)", 4) != 0)
		return sl_error_set(detail, SL_ESYNTAX, "item id must be (01) + 14-digit GTIN + (21) + serial");
	rc = gs1_key_validate(text + 4, GS1_GTIN_DIGITS, GS1_GTIN_DIGITS, "GTIN", detail);
	if (rc != 0)
		return rc;
	size_t serial_len = len - GS1_ITEM_ID_SERIAL_OFFSET;
	rc = gs1_cset82_validate(text + GS1_ITEM_ID_SERIAL_OFFSET, serial_len, GS1_SERIAL_CHARS_MAX, detail);
	if (rc != 0)
		return rc;
	if (out != NULL) {
		memset(out, 0, sizeof *out);
		out->kind = GS1_KIND_PACK;
		gs1_field_copy(out->gtin, sizeof out->gtin, text + 4, GS1_GTIN_DIGITS);
		gs1_field_copy(out->serial, sizeof out->serial, text + GS1_ITEM_ID_SERIAL_OFFSET, serial_len);
	}
	return 0;
}

int gs1_lot_key(const char *gtin14, const char *lot, char out[GS1_LOT_KEY_SIZE])
{
	assert(gtin14 != NULL);
	assert(lot != NULL && out != NULL);
	out[0] = '\0';
	int rc = gs1_key_validate(gtin14, strnlen(gtin14, GS1_GTIN_DIGITS + 1), GS1_GTIN_DIGITS, "GTIN",
				  NULL);
	if (rc != 0)
		return rc;
	rc = gs1_cset82_validate(lot, strnlen(lot, GS1_LOT_CHARS_MAX + 1), GS1_LOT_CHARS_MAX, NULL);
	if (rc != 0)
		return rc;
	struct gs1_out writer;
	gs1_out_init(&writer, out, GS1_LOT_KEY_SIZE);
	gs1_out_append_cstr(&writer, "(01)");
	gs1_out_append_cstr(&writer, gtin14);
	gs1_out_append_cstr(&writer, "(10)");
	gs1_out_append_cstr(&writer, lot);
	return gs1_out_finish(&writer);
}

int gs1_parse(const char *text, struct gs1_item *out, struct sl_error_detail *detail)
{
	assert(text != NULL);
	assert(out != NULL);
	size_t len = strnlen(text, GS1_TEXT_CHARS_MAX + 1);
	if (len > GS1_TEXT_CHARS_MAX)
		return sl_error_set(detail, SL_ELENGTH, "identifier is longer than %d characters",
				    GS1_TEXT_CHARS_MAX);
	struct gs1_item item;
	memset(&item, 0, sizeof item);
	int rc;
	if (len > 0 && text[0] == '(')
		rc = gs1_element_parse(text, len, &item, detail);
	else if (gs1_prefix_equal_ci(text, len, "urn:"))
		rc = gs1_epc_parse(text, len, &item, detail);
	else if (gs1_prefix_equal_ci(text, len, "https://") || gs1_prefix_equal_ci(text, len, "http://"))
		rc = gs1_link_parse(text, len, &item, detail);
	else
		rc = sl_error_set(detail, SL_ESYNTAX,
				  "not an element string \"(01)...\", EPC URI \"urn:epc:id:...\" or Digital Link \"https://...\"");
	if (rc != 0)
		return rc;
	assert(gs1_item_check(&item, NULL) == 0);
	*out = item;
	return 0;
}

void gs1_out_init(struct gs1_out *out, char *buf, size_t size)
{
	assert(buf != NULL);
	assert(size > 0);
	out->buf = buf;
	out->size = size;
	out->len = 0;
	out->overflow = false;
	buf[0] = '\0';
}

void gs1_out_append(struct gs1_out *out, const char *bytes, size_t len)
{
	assert(out->len < out->size);
	if (out->overflow || len > out->size - 1 - out->len) {
		out->overflow = true;
		return;
	}
	memcpy(out->buf + out->len, bytes, len);
	out->len += len;
}

void gs1_out_append_cstr(struct gs1_out *out, const char *cstr)
{
	gs1_out_append(out, cstr, strlen(cstr));
}

int gs1_out_finish(struct gs1_out *out)
{
	if (out->overflow) {
		out->buf[0] = '\0';
		return SL_ELIMIT;
	}
	out->buf[out->len] = '\0';
	return 0;
}
