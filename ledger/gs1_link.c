/* ledger/gs1_link.c — GS1 Digital Link URIs (GS1 Digital Link Standard: URI syntax), reduced to
 * the keys this ledger uses:
 *     https://id.gs1.org/01/{gtin}/21/{serial}?10={lot}&17={expiry}
 *     https://example.com/some/prefix/01/{gtin}/10/{lot}/21/{serial}
 *     https://example.com/00/{sscc}
 *
 * Design notes:
 *  1. Grammar accepted:
 *         scheme "://" host ["/" prefix-segment]* key-path ["?" param *("&" param)]
 *     scheme is http or https in any case (RFC 3986 §3.1); host is letters, digits, '-' and '.',
 *     with an optional ":" port of 1–5 digits (no user info, no IP literals); every path segment is
 *     non-empty RFC 3986 pchar text; a fragment ("#") is refused.
 *  2. The key path is matched at the END of the path, so a custom prefix may hold anything, even a
 *     segment "01": it is /01/{gtin}/21/{serial}, /01/{gtin}/10/{lot}/21/{serial} (the standard's
 *     qualifier order for AI 01 is 22, 10, 21, so a lot segment comes BEFORE the serial) or
 *     /00/{sscc}. A path ending /21/{serial}/10/{lot} is refused with a detail saying so, as is
 *     /01/{gtin} without a serial and /22/{cpv} (AI 22 is not supported).
 *  3. The GTIN in the path may be 8, 12, 13 or 14 digits; it is normalised to GTIN-14.
 *  4. Query: keys 10 (lot) and 17 (expiry) are read; any other all-digit key is a GS1 AI we do not
 *     support (SL_ESYNTAX); other keys (e.g. linkType) are checked for URI syntax and otherwise
 *     ignored, as the standard lets non-GS1 parameters through. A lot both in the path and the
 *     query, or any key twice, is SL_ESYNTAX; a container takes no lot or expiry. '+' is a literal
 *     plus (a CSET 82 character), never a space.
 *  5. Values are percent-decoded (%HH, either hex case) and then validated (digits, CSET 82); raw
 *     characters outside the part's RFC 3986 set must be escaped. The formatter escapes every
 *     character that is not unreserved, in upper-case hex, and puts lot and expiry in the query:
 *         {base}/01/{gtin14}/21/{serial}?10={lot}&17={expiry}
 *     Output longer than GS1_TEXT_CHARS_MAX is SL_ELENGTH, so whatever we write we can read back.
 */
#include <assert.h>
#include <string.h>

#include "ledger/gs1.h"
#include "ledger/gs1_internal.h"
#include "util/buf.h"

#define LINK_BASE_DEFAULT "https://id.gs1.org"
/* Every accepted segment is "/" plus at least one byte, so GS1_TEXT_CHARS_MAX bounds the count. */
#define LINK_SEGMENTS_MAX (GS1_TEXT_CHARS_MAX / 2)
#define LINK_PORT_DIGITS_MAX 5 /* TCP ports are at most 65535 */

enum link_shape {
	LINK_SHAPE_NONE = 0,
	LINK_SHAPE_SSCC,       /* .../00/{sscc} */
	LINK_SHAPE_SERIAL,     /* .../01/{gtin}/21/{serial} */
	LINK_SHAPE_LOT_SERIAL, /* .../01/{gtin}/10/{lot}/21/{serial} */
};

#define LINK_SEEN_LOT 1u
#define LINK_SEEN_EXPIRY 2u

static bool link_host_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || gs1_char_is_digit(c) || c == '-' ||
	       c == '.';
}

static int link_host_check(const char *host, size_t len, struct sl_error_detail *detail)
{
	const char *colon = memchr(host, ':', len);
	size_t name_len = colon != NULL ? (size_t)(colon - host) : len;
	if (name_len == 0)
		return sl_error_set(detail, SL_ESYNTAX, "Digital Link has an empty host");
	for (size_t i = 0; i < name_len; i++)
		if (!link_host_char((unsigned char)host[i]))
			return sl_error_set(detail, SL_ESYNTAX, "host: byte 0x%02x at offset %zu is not allowed",
					    (unsigned char)host[i], i);
	if (colon == NULL)
		return 0;
	size_t port_len = len - name_len - 1;
	bool port_ok = port_len >= 1 && port_len <= LINK_PORT_DIGITS_MAX;
	for (size_t i = 0; port_ok && i < port_len; i++)
		port_ok = gs1_char_is_digit((unsigned char)colon[1 + i]);
	if (!port_ok)
		return sl_error_set(detail, SL_ESYNTAX, "host: port must be 1-5 digits");
	return 0;
}

/* "http(s)://host"; sets *end to the offset just past the host. */
static int link_authority_parse(const char *text, size_t len, size_t *end, struct sl_error_detail *detail)
{
	size_t pos;
	if (gs1_prefix_equal_ci(text, len, "https://"))
		pos = 8;
	else if (gs1_prefix_equal_ci(text, len, "http://"))
		pos = 7;
	else
		return sl_error_set(detail, SL_ESYNTAX, "Digital Link must start with https:// or http://");
	size_t host = pos;
	while (pos < len && text[pos] != '/' && text[pos] != '?' && text[pos] != '#')
		pos++;
	*end = pos;
	return link_host_check(text + host, pos - host, detail);
}

/* Validate a path prefix "/seg/seg…" (possibly empty): non-empty pchar segments (design note 1). */
static int link_prefix_check(const char *path, size_t len, struct sl_error_detail *detail)
{
	size_t pos = 0;
	while (pos < len) {
		if (path[pos] != '/')
			return sl_error_set(detail, SL_ESYNTAX, "Digital Link path must start with '/'");
		size_t start = pos + 1;
		size_t end = start;
		while (end < len && path[end] != '/')
			end++;
		if (end == start)
			return sl_error_set(detail, SL_ESYNTAX, "Digital Link path has an empty segment");
		int rc = gs1_uri_decode(path + start, end - start, GS1_URI_PATH_SEGMENT, NULL, 0, NULL,
					"path prefix", detail);
		if (rc != 0)
			return rc;
		pos = end;
	}
	return 0;
}

static int link_segments_split(const char *path, size_t len, struct sl_str *segments, size_t *count,
			       struct sl_error_detail *detail)
{
	size_t pos = 0;
	*count = 0;
	while (pos < len) {
		assert(path[pos] == '/');
		size_t start = pos + 1;
		size_t end = start;
		while (end < len && path[end] != '/')
			end++;
		if (end == start)
			return sl_error_set(detail, SL_ESYNTAX, "Digital Link path has an empty segment");
		if (*count == LINK_SEGMENTS_MAX)
			return sl_error_set(detail, SL_ELENGTH, "Digital Link path has too many segments");
		segments[*count].ptr = path + start;
		segments[*count].len = end - start;
		(*count)++;
		pos = end;
	}
	return 0;
}

static bool link_segment_is(struct sl_str segment, const char *ai)
{
	return segment.len == 2 && memcmp(segment.ptr, ai, 2) == 0;
}

/* Design note 2: the key path is matched at the end; the shapes are mutually exclusive. */
static enum link_shape link_shape_match(const struct sl_str *seg, size_t n)
{
	if (n >= 2 && link_segment_is(seg[n - 2], "00"))
		return LINK_SHAPE_SSCC;
	if (n >= 4 && link_segment_is(seg[n - 4], "01") && link_segment_is(seg[n - 2], "21"))
		return LINK_SHAPE_SERIAL;
	if (n >= 6 && link_segment_is(seg[n - 6], "01") && link_segment_is(seg[n - 4], "10") &&
	    link_segment_is(seg[n - 2], "21"))
		return LINK_SHAPE_LOT_SERIAL;
	return LINK_SHAPE_NONE;
}

static int link_shape_error(const struct sl_str *seg, size_t n, struct sl_error_detail *detail)
{
	if (n >= 2 && link_segment_is(seg[n - 2], "01"))
		return sl_error_set(detail, SL_ESYNTAX, "Digital Link is missing the serial /21/{serial}");
	if (n >= 4 && link_segment_is(seg[n - 4], "21") && link_segment_is(seg[n - 2], "10"))
		return sl_error_set(detail, SL_ESYNTAX, "Digital Link path order is /01/{gtin}/10/{lot}/21/{serial}");
	return sl_error_set(detail, SL_ESYNTAX,
			    "Digital Link path must end in /01/{gtin}/21/{serial}, /01/{gtin}/10/{lot}/21/{serial} or /00/{sscc}");
}

/* Percent-decode a value into dst (dst_max characters + NUL) and check it is CSET 82. */
static int link_text_decode(const char *text, size_t len, enum gs1_uri_part part, char *dst, size_t dst_max,
			    const char *name, struct sl_error_detail *detail)
{
	size_t n = 0;
	int rc = gs1_uri_decode(text, len, part, dst, dst_max, &n, name, detail);
	if (rc == 0)
		rc = gs1_cset82_validate(dst, n, dst_max, detail);
	return rc;
}

/* Percent-decode a numeric value into dst; every decoded byte must be a digit (so an escaped NUL
 * cannot shorten the string before it is validated). */
static int link_digits_decode(struct sl_str value, char *dst, size_t dst_max, const char *name,
			      struct sl_error_detail *detail)
{
	size_t n = 0;
	int rc = gs1_uri_decode(value.ptr, value.len, GS1_URI_PATH_SEGMENT, dst, dst_max, &n, name, detail);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (!gs1_char_is_digit((unsigned char)dst[i]))
			return sl_error_set(detail, SL_ESYNTAX, "%s: decoded byte 0x%02x at offset %zu is not a digit",
					    name, (unsigned char)dst[i], i);
	return 0;
}

/* Fill the item from the key path segments key[0..] of the given shape. */
static int link_key_path_set(struct gs1_item *item, const struct sl_str *key, enum link_shape shape,
			     struct sl_error_detail *detail)
{
	if (shape == LINK_SHAPE_SSCC) {
		int rc = link_digits_decode(key[1], item->sscc, GS1_SSCC_DIGITS, "SSCC", detail);
		if (rc == 0)
			rc = gs1_sscc_validate(item->sscc, strlen(item->sscc), detail);
		if (rc == 0)
			item->kind = GS1_KIND_CONTAINER;
		return rc;
	}
	char gtin[GS1_GTIN_DIGITS + 1];
	int rc = link_digits_decode(key[1], gtin, GS1_GTIN_DIGITS, "GTIN", detail);
	if (rc == 0)
		rc = gs1_gtin_normalize(gtin, item->gtin, detail);
	if (rc == 0 && shape == LINK_SHAPE_LOT_SERIAL) {
		rc = link_text_decode(key[3].ptr, key[3].len, GS1_URI_PATH_SEGMENT, item->lot,
				      GS1_LOT_CHARS_MAX, "lot", detail);
		key += 2;
	}
	if (rc == 0)
		rc = link_text_decode(key[3].ptr, key[3].len, GS1_URI_PATH_SEGMENT, item->serial,
				      GS1_SERIAL_CHARS_MAX, "serial", detail);
	if (rc == 0)
		item->kind = GS1_KIND_PACK;
	return rc;
}

/* One "key=value" query parameter (design note 4). */
static int link_param_apply(struct gs1_item *item, const char *param, size_t len, unsigned *seen,
			    struct sl_error_detail *detail)
{
	const char *eq = memchr(param, '=', len);
	if (eq == NULL || eq == param)
		return sl_error_set(detail, SL_ESYNTAX, "query parameter must be key=value");
	const char *value = eq + 1;
	size_t value_len = len - (size_t)(value - param);
	char key[GS1_TEXT_CHARS_MAX + 1];
	size_t key_len = 0;
	int rc = gs1_uri_decode(param, (size_t)(eq - param), GS1_URI_QUERY, key, GS1_TEXT_CHARS_MAX, &key_len,
				"query key", detail);
	if (rc != 0)
		return rc;
	bool numeric = true;
	for (size_t i = 0; i < key_len; i++)
		numeric = numeric && gs1_char_is_digit((unsigned char)key[i]);
	if (!numeric) /* a non-GS1 parameter: syntax only */
		return gs1_uri_decode(value, value_len, GS1_URI_QUERY, NULL, 0, NULL, "query value", detail);
	unsigned bit = strcmp(key, "10") == 0 ? LINK_SEEN_LOT : strcmp(key, "17") == 0 ? LINK_SEEN_EXPIRY : 0;
	if (bit == 0)
		return sl_error_set(detail, SL_ESYNTAX, "unsupported AI %.4s%s in query", key,
				    key_len > 4 ? "..." : "");
	if (item->kind == GS1_KIND_CONTAINER)
		return sl_error_set(detail, SL_ESYNTAX, "an SSCC carries no lot or expiry");
	if (*seen & bit)
		return sl_error_set(detail, SL_ESYNTAX, "AI %s appears twice", key);
	*seen |= bit;
	if (bit == LINK_SEEN_LOT)
		return link_text_decode(value, value_len, GS1_URI_QUERY, item->lot, GS1_LOT_CHARS_MAX, "lot",
					detail);
	size_t n = 0;
	rc = gs1_uri_decode(value, value_len, GS1_URI_QUERY, item->expiry, GS1_DATE_DIGITS, &n, "expiry",
			    detail);
	return rc != 0 ? rc : gs1_date_validate(item->expiry, n, detail);
}

static int link_query_parse(struct gs1_item *item, const char *query, size_t len, unsigned seen,
			    struct sl_error_detail *detail)
{
	size_t pos = 0;
	for (;;) {
		const char *amp = memchr(query + pos, '&', len - pos);
		size_t end = amp != NULL ? (size_t)(amp - query) : len;
		if (end == pos)
			return sl_error_set(detail, SL_ESYNTAX, "empty query parameter");
		int rc = link_param_apply(item, query + pos, end - pos, &seen, detail);
		if (rc != 0)
			return rc;
		if (end == len)
			return 0;
		pos = end + 1;
	}
}

int gs1_link_parse(const char *text, size_t len, struct gs1_item *out, struct sl_error_detail *detail)
{
	assert(text != NULL);
	assert(len <= GS1_TEXT_CHARS_MAX);
	if (memchr(text, '#', len) != NULL)
		return sl_error_set(detail, SL_ESYNTAX, "Digital Link fragments (#) are not supported");
	size_t path_start = 0;
	int rc = link_authority_parse(text, len, &path_start, detail);
	if (rc != 0)
		return rc;
	const char *query = memchr(text + path_start, '?', len - path_start);
	size_t path_end = query != NULL ? (size_t)(query - text) : len;
	struct sl_str segments[LINK_SEGMENTS_MAX];
	size_t count = 0;
	rc = link_segments_split(text + path_start, path_end - path_start, segments, &count, detail);
	if (rc != 0)
		return rc;
	enum link_shape shape = link_shape_match(segments, count);
	if (shape == LINK_SHAPE_NONE)
		return link_shape_error(segments, count, detail);
	size_t key_index = count - (shape == LINK_SHAPE_SSCC ? 2 : shape == LINK_SHAPE_SERIAL ? 4 : 6);
	/* The prefix is the text between the host and the "/" before the key path. */
	size_t prefix_len = (size_t)(segments[key_index].ptr - 1 - (text + path_start));
	rc = link_prefix_check(text + path_start, prefix_len, detail);
	if (rc == 0)
		rc = link_key_path_set(out, segments + key_index, shape, detail);
	if (rc == 0 && query != NULL)
		rc = link_query_parse(out, query + 1, len - path_end - 1,
				      shape == LINK_SHAPE_LOT_SERIAL ? LINK_SEEN_LOT : 0, detail);
	return rc;
}

static void link_pack_append(struct gs1_out *writer, const struct gs1_item *item)
{
	gs1_out_append_cstr(writer, "/01/");
	gs1_out_append_cstr(writer, item->gtin);
	gs1_out_append_cstr(writer, "/21/");
	gs1_uri_encode(writer, item->serial, strlen(item->serial), GS1_URI_PATH_SEGMENT);
	const char *separator = "?";
	if (item->lot[0] != '\0') {
		gs1_out_append_cstr(writer, "?10=");
		gs1_uri_encode(writer, item->lot, strlen(item->lot), GS1_URI_QUERY);
		separator = "&";
	}
	if (item->expiry[0] != '\0') {
		gs1_out_append_cstr(writer, separator);
		gs1_out_append_cstr(writer, "17=");
		gs1_out_append_cstr(writer, item->expiry);
	}
}

int gs1_format_digital_link(const struct gs1_item *item, const char *base, char *out, size_t out_size)
{
	assert(item != NULL);
	assert(out != NULL && out_size > 0);
	out[0] = '\0';
	int rc = gs1_item_check(item, NULL);
	if (rc != 0)
		return rc;
	if (base == NULL)
		base = LINK_BASE_DEFAULT;
	size_t base_len = strnlen(base, GS1_TEXT_CHARS_MAX + 1);
	if (base_len > GS1_TEXT_CHARS_MAX)
		return SL_ELENGTH;
	if (base_len > 0 && base[base_len - 1] == '/') /* "https://id.gs1.org/" is a natural spelling */
		base_len--;
	size_t path_start = 0;
	if (link_authority_parse(base, base_len, &path_start, NULL) != 0 ||
	    link_prefix_check(base + path_start, base_len - path_start, NULL) != 0)
		return SL_EINVAL;
	struct gs1_out writer;
	gs1_out_init(&writer, out, out_size);
	gs1_out_append(&writer, base, base_len);
	if (item->kind == GS1_KIND_CONTAINER) {
		gs1_out_append_cstr(&writer, "/00/");
		gs1_out_append_cstr(&writer, item->sscc);
	} else {
		link_pack_append(&writer, item);
	}
	rc = gs1_out_finish(&writer);
	if (rc == 0 && writer.len > GS1_TEXT_CHARS_MAX) { /* design note 5: keep it readable */
		out[0] = '\0';
		return SL_ELENGTH;
	}
	return rc;
}
