/* query/text.c — what every query's output shares: JSON strings, hex, UTC times; and the parsing
 * of identifiers and GTIN/LOT texts, so the CLI and the node read parameters alike. */
#include <string.h>
#include <time.h>

#include "query/query.h"
#include "util/error.h"

void query_json_string(FILE *out, const char *text, size_t len)
{
	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void query_json_cstring(FILE *out, const char *text)
{
	query_json_string(out, text, strlen(text));
}

void query_json_hex(FILE *out, const uint8_t *bytes, size_t len)
{
	fputc('"', out);
	for (size_t i = 0; i < len; i++)
		fprintf(out, "%02x", bytes[i]);
	fputc('"', out);
}

void query_time_format(uint64_t ms, char out[32])
{
	time_t seconds = (time_t)(ms / 1000);
	struct tm tm;
	if (gmtime_r(&seconds, &tm) == NULL) {
		snprintf(out, 32, "?");
		return;
	}
	size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03uZ", (unsigned)(ms % 1000));
}

void query_day_format(int64_t day, char out[16])
{
	char full[32];
	query_time_format((uint64_t)(day * 86400000LL), full);
	snprintf(out, 16, "%.10s", full);
}

int query_item_id_parse(const char *text, char out[GS1_ITEM_ID_SIZE], struct gs1_item *item, char *why,
			size_t why_size)
{
	struct gs1_item parsed;
	struct sl_error_detail detail = { "" };
	int rc = gs1_parse(text, &parsed, &detail);
	if (rc == 0)
		rc = gs1_item_id(&parsed, out);
	if (rc != 0) {
		snprintf(why, why_size, "%s%s%s", sl_strerror(rc), detail.text[0] ? ": " : "", detail.text);
		return rc;
	}
	if (item != NULL)
		*item = parsed;
	return 0;
}

int query_lot_parse(const char *text, char gtin[GS1_GTIN_DIGITS + 1], char lot[GS1_LOT_CHARS_MAX + 1])
{
	const char *slash = text != NULL ? strchr(text, '/') : NULL;
	char gtin_text[32];
	if (slash == NULL || (size_t)(slash - text) >= sizeof gtin_text)
		return SL_ESYNTAX;
	memcpy(gtin_text, text, (size_t)(slash - text));
	gtin_text[slash - text] = '\0';
	size_t lot_len = strlen(slash + 1);
	if (gs1_gtin_normalize(gtin_text, gtin, NULL) != 0 ||
	    gs1_cset82_validate(slash + 1, lot_len, GS1_LOT_CHARS_MAX, NULL) != 0)
		return SL_ESYNTAX;
	memcpy(lot, slash + 1, lot_len + 1);
	return 0;
}
