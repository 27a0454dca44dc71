/* ledger/gs1_element.c — bracketed GS1 element strings: "(01)GTIN(21)SERIAL(10)LOT(17)YYMMDD"
 * and "(00)SSCC" (the human-readable interpretation form, GenSpecs §4.15).
 *
 * Design notes:
 *  1. Accepted AIs (GenSpecs §3.2): 00 SSCC (N18), 01 GTIN (N14), 21 serial (X..20), 10 lot (X..20),
 *     17 expiry (N6 YYMMDD). A pack needs 01 and 21; 10 and 17 are optional; the AIs may come in any
 *     order; each at most once. (00) stands alone. Anything else is SL_ESYNTAX with a detail.
 *  2. The ambiguity rule. CSET 82 contains '(' and ')', so "A(10)B" is a legal serial, and in the
 *     bracketed form "(21)A(10)B" cannot be told from serial "A" plus lot "B": the brackets are only
 *     the human-readable rendering of the AI, and in the barcode the FNC1 separator does that job.
 *     We read every "(" + 2 to 4 digits + ")" — the shape of every AI (GenSpecs §3.2) — as the start
 *     of a new AI, known or not. So an unknown AI such as "(11)" is an error instead of silently
 *     becoming part of a serial, and a serial or lot that contains such a sequence cannot be written
 *     in this form: it must travel as an EPC URI, a Digital Link or a canonical item id (where the
 *     serial is last). gs1_format_element_string refuses such items (SL_ESYNTAX) rather than write
 *     text that would read back as a different item.
 *  3. Numeric AIs are fixed length here: (01) takes exactly 14 digits (a GTIN-13 must be padded),
 *     (00) exactly 18, (17) exactly 6.
 */
#include <assert.h>
#include <string.h>

#include "ledger/gs1.h"
#include "ledger/gs1_internal.h"

#define ELEMENT_AI_DIGITS_MIN 2 /* GenSpecs §3.2: AIs have 2 to 4 digits */
#define ELEMENT_AI_DIGITS_MAX 4

enum element_ai {
	ELEMENT_AI_SSCC,
	ELEMENT_AI_GTIN,
	ELEMENT_AI_LOT,
	ELEMENT_AI_EXPIRY,
	ELEMENT_AI_SERIAL,
	ELEMENT_AI_COUNT,
};

static const char element_ai_codes[ELEMENT_AI_COUNT][3] = { "00", "01", "10", "17", "21" };

/* Length of an AI marker "(" 2–4 digits ")" at text[0], or 0 when there is none. */
static size_t element_marker_len(const char *text, size_t len)
{
	if (len < ELEMENT_AI_DIGITS_MIN + 2 || text[0] != '(')
		return 0;
	size_t digits = 0;
	while (digits < ELEMENT_AI_DIGITS_MAX && 1 + digits < len &&
	       gs1_char_is_digit((unsigned char)text[1 + digits]))
		digits++;
	if (digits < ELEMENT_AI_DIGITS_MIN || 1 + digits >= len || text[1 + digits] != ')')
		return 0;
	return digits + 2;
}

static bool element_has_marker(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (element_marker_len(text + i, len - i) != 0)
			return true;
	return false;
}

static int element_ai_lookup(const char *digits, size_t len)
{
	if (len != 2)
		return -1;
	for (int ai = 0; ai < ELEMENT_AI_COUNT; ai++)
		if (memcmp(digits, element_ai_codes[ai], 2) == 0)
			return ai;
	return -1;
}

/* Validate one AI's value and store it in the item. */
static int element_value_set(struct gs1_item *item, int ai, const char *value, size_t len,
			     struct sl_error_detail *detail)
{
	int rc;
	switch (ai) {
	case ELEMENT_AI_SSCC:
		rc = gs1_sscc_validate(value, len, detail);
		if (rc == 0)
			gs1_field_copy(item->sscc, sizeof item->sscc, value, len);
		return rc;
	case ELEMENT_AI_GTIN:
		rc = gs1_key_validate(value, len, GS1_GTIN_DIGITS, "(01) GTIN", detail);
		if (rc == 0)
			gs1_field_copy(item->gtin, sizeof item->gtin, value, len);
		return rc;
	case ELEMENT_AI_LOT:
		rc = gs1_cset82_validate(value, len, GS1_LOT_CHARS_MAX, detail);
		if (rc == 0)
			gs1_field_copy(item->lot, sizeof item->lot, value, len);
		return rc;
	case ELEMENT_AI_EXPIRY:
		rc = gs1_date_validate(value, len, detail);
		if (rc == 0)
			gs1_field_copy(item->expiry, sizeof item->expiry, value, len);
		return rc;
	default:
		assert(ai == ELEMENT_AI_SERIAL);
		rc = gs1_cset82_validate(value, len, GS1_SERIAL_CHARS_MAX, detail);
		if (rc == 0)
			gs1_field_copy(item->serial, sizeof item->serial, value, len);
		return rc;
	}
}

static int element_finish(struct gs1_item *item, unsigned seen, struct sl_error_detail *detail)
{
	if (seen & (1u << ELEMENT_AI_SSCC)) {
		if (seen != (1u << ELEMENT_AI_SSCC))
			return sl_error_set(detail, SL_ESYNTAX, "(00) SSCC must stand alone");
		item->kind = GS1_KIND_CONTAINER;
		return 0;
	}
	if (!(seen & (1u << ELEMENT_AI_GTIN)))
		return sl_error_set(detail, SL_ESYNTAX, "missing (01) GTIN");
	if (!(seen & (1u << ELEMENT_AI_SERIAL)))
		return sl_error_set(detail, SL_ESYNTAX, "missing (21) serial");
	item->kind = GS1_KIND_PACK;
	return 0;
}

int gs1_element_parse(const char *text, size_t len, struct gs1_item *out, struct sl_error_detail *detail)
{
	assert(text != NULL);
	assert(len <= GS1_TEXT_CHARS_MAX);
	unsigned seen = 0;
	size_t pos = 0;
	if (element_marker_len(text, len) == 0)
		return sl_error_set(detail, SL_ESYNTAX, "element string must start with an AI like (01)");
	/* Each pass consumes one marker and its value; the value runs to the next marker. Every
	 * marker after the first was found by the inner scan, so the loop ends within len bytes. */
	while (pos < len) {
		size_t marker = element_marker_len(text + pos, len - pos);
		assert(marker != 0);
		const char *ai_digits = text + pos + 1;
		size_t ai_len = marker - 2;
		int ai = element_ai_lookup(ai_digits, ai_len);
		if (ai < 0)
			return sl_error_set(detail, SL_ESYNTAX, "unsupported AI (%.*s) at offset %zu",
					    (int)ai_len, ai_digits, pos);
		if (seen & (1u << ai))
			return sl_error_set(detail, SL_ESYNTAX, "AI (%s) appears twice", element_ai_codes[ai]);
		seen |= 1u << ai;
		size_t start = pos + marker;
		size_t end = start;
		while (end < len && element_marker_len(text + end, len - end) == 0)
			end++;
		int rc = element_value_set(out, ai, text + start, end - start, detail);
		if (rc != 0)
			return rc;
		pos = end;
	}
	return element_finish(out, seen, detail);
}

int gs1_format_element_string(const struct gs1_item *item, char *out, size_t out_size)
{
	assert(item != NULL);
	assert(out != NULL && out_size > 0);
	out[0] = '\0';
	int rc = gs1_item_check(item, NULL);
	if (rc != 0)
		return rc;
	struct gs1_out writer;
	gs1_out_init(&writer, out, out_size);
	if (item->kind == GS1_KIND_CONTAINER) {
		gs1_out_append_cstr(&writer, "(00)");
		gs1_out_append_cstr(&writer, item->sscc);
		return gs1_out_finish(&writer);
	}
	/* Design note 2: a serial or lot holding an AI-shaped sequence would read back differently. */
	if (element_has_marker(item->serial, strlen(item->serial)) ||
	    element_has_marker(item->lot, strlen(item->lot)))
		return SL_ESYNTAX;
	gs1_out_append_cstr(&writer, "(01)");
	gs1_out_append_cstr(&writer, item->gtin);
	gs1_out_append_cstr(&writer, "(21)");
	gs1_out_append_cstr(&writer, item->serial);
	if (item->lot[0] != '\0') {
		gs1_out_append_cstr(&writer, "(10)");
		gs1_out_append_cstr(&writer, item->lot);
	}
	if (item->expiry[0] != '\0') {
		gs1_out_append_cstr(&writer, "(17)");
		gs1_out_append_cstr(&writer, item->expiry);
	}
	return gs1_out_finish(&writer);
}
