/* epcis/normalise.c — canonical forms of EPCIS values: timestamps, identifiers, vocabulary.
 *
 * These are the normalisation rules of the CBV 2.0 event hash (CBV 2.0 §8.9.2): timestamps in
 * UTC at millisecond precision; EPC URIs, EPC class and pattern URIs and GS1 Digital Link URIs on
 * any host as canonical Digital Link URIs on id.gs1.org (TDS 2.0 §7 EPC URI ↔ Digital Link,
 * Digital Link 1.2 §4 "uncompressed, primary key + key qualifiers"); CBV values as GS1 Web URIs
 * https://ref.gs1.org/cbv/<Kind>-<word> from bare words, CBV 1.x URNs and CURIEs.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "epcis/epcis_internal.h"
#include "ledger/gs1.h"
#include "util/date.h"

#define EPC_PARTS_MAX 6 /* itip has five components plus the scheme */

static bool all_digits(const char *text, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (text[i] < '0' || text[i] > '9')
			return false;
	return true;
}

/* --- timestamps (xsd:dateTime with mandatory offset, EPCIS 2.0 §7.4.4) --- */

static bool digits_at(const char *text, size_t count, unsigned *out)
{
	unsigned value = 0;
	for (size_t i = 0; i < count; i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
		value = value * 10 + (unsigned)(text[i] - '0');
	}
	*out = value;
	return true;
}

static const unsigned month_days[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

int epcis_time_parse_ms(const char *text, int64_t *out_ms)
{
	unsigned year, month, day, hour, minute, second;
	if (strlen(text) < 20 || !digits_at(text, 4, &year) || text[4] != '-' || !digits_at(text + 5, 2, &month) ||
	    text[7] != '-' || !digits_at(text + 8, 2, &day) || text[10] != 'T' || !digits_at(text + 11, 2, &hour) ||
	    text[13] != ':' || !digits_at(text + 14, 2, &minute) || text[16] != ':' ||
	    !digits_at(text + 17, 2, &second))
		return SL_EINVAL;
	if (year < 1 || month < 1 || month > 12 || day < 1 || day > month_days[month - 1] || hour > 23 ||
	    minute > 59 || second > 60)
		return SL_EINVAL;
	const char *rest = text + 19;
	unsigned frac = 0; /* 1/10000 s: the 4th decimal decides the rounding */
	if (*rest == '.') {
		rest++;
		size_t digits = 0;
		for (; *rest >= '0' && *rest <= '9'; rest++, digits++)
			if (digits < 4)
				frac = frac * 10 + (unsigned)(*rest - '0');
		if (digits == 0)
			return SL_EINVAL;
		for (; digits < 4; digits++)
			frac *= 10;
	}
	int offset_min = 0;
	if (strcmp(rest, "Z") != 0) {
		unsigned oh, om;
		if ((rest[0] != '+' && rest[0] != '-') || !digits_at(rest + 1, 2, &oh) || rest[3] != ':' ||
		    !digits_at(rest + 4, 2, &om) || rest[6] != '\0' || oh > 14 || om > 59)
			return SL_EINVAL;
		offset_min = (int)(oh * 60 + om) * (rest[0] == '-' ? -1 : 1);
	}
	int64_t days = sl_date_days_from_civil(year, month, day);
	int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - (int64_t)offset_min * 60;
	*out_ms = seconds * 1000 + frac / 10 + (frac % 10 >= 5 ? 1 : 0);
	return 0;
}

int epcis_time_normalise(const char *text, char *out, size_t out_size)
{
	int64_t ms;
	int rc = epcis_time_parse_ms(text, &ms);
	return rc != 0 ? rc : epcis_time_format(ms, out, out_size);
}

int epcis_time_format(int64_t ms, char *out, size_t out_size)
{
	if (ms < -62135596800000LL || ms > 253402300799999LL) /* 0001-01-01 .. 9999-12-31 */
		return SL_EINVAL;
	int64_t seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	unsigned millis = (unsigned)(ms - seconds * 1000);
	int64_t days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400;
	unsigned day_seconds = (unsigned)(seconds - days * 86400);
	int year;
	unsigned month, day;
	sl_date_civil_from_days(days, &year, &month, &day);
	if (year < 1 || year > 9999)
		return SL_EINVAL;
	snprintf(out, out_size, "%04d-%02u-%02uT%02u:%02u:%02u.%03uZ", year, month, day, day_seconds / 3600,
		 day_seconds / 60 % 60, day_seconds % 60, millis);
	return 0;
}

/* --- EPC URIs (TDS 2.0 §6) to Digital Link (TDS 2.0 §7.x "EPC URI to GS1 element string") --- */

/* body + its GS1 check digit; false when not all digits or too long */
static bool key_with_check(const char *body, char *out, size_t out_size)
{
	size_t len = strlen(body);
	int check = gs1_check_digit(body, len);
	if (check < 0 || len + 2 > out_size)
		return false;
	memcpy(out, body, len);
	out[len] = (char)('0' + check);
	out[len + 1] = '\0';
	return true;
}

/* GTIN-14 from company prefix and indicator + item reference (TDS §7.1). */
static bool gtin_from_epc(const char *cp, const char *ir, char out[GS1_GTIN_DIGITS + 1])
{
	char body[32];
	if (strlen(cp) + strlen(ir) != 13 || !all_digits(cp, strlen(cp)) || !all_digits(ir, strlen(ir)))
		return false;
	snprintf(body, sizeof body, "%c%s%s", ir[0], cp, ir + 1);
	return key_with_check(body, out, GS1_GTIN_DIGITS + 1);
}

/* cp + ref (+ check digit when `digits` > 0: the key's total length). */
static bool key_from_epc(const char *lead, const char *cp, const char *ref, size_t digits, char *out, size_t size)
{
	char body[64];
	if (!all_digits(cp, strlen(cp)) || strlen(cp) < 6 || strlen(cp) > 12)
		return false;
	int n = snprintf(body, sizeof body, "%s%s%s", lead, cp, ref);
	if (n < 0 || (size_t)n >= sizeof body)
		return false;
	if (digits == 0) {
		snprintf(out, size, "%s", body);
		return true;
	}
	return (size_t)n + 1 == digits && all_digits(body, (size_t)n) && key_with_check(body, out, size);
}

static size_t split_dots(char *text, char **parts, size_t max)
{
	size_t count = 0;
	for (char *p = text; count < max;) {
		parts[count++] = p;
		char *dot = strchr(p, '.');
		if (dot == NULL)
			return count;
		*dot = '\0';
		p = dot + 1;
	}
	return max + 1; /* too many components */
}

static int epc_scheme_convert(const char *kind, const char *scheme, char **p, size_t n, char *out, size_t size)
{
	char key[64], gtin[GS1_GTIN_DIGITS + 1];
	bool pattern = strcmp(kind, "idpat") == 0;
	if (pattern && (n < 2 || strcmp(p[n - 1], "*") != 0))
		return SL_EINVAL;
	if (pattern)
		n--; /* drop the "*": the class-level key remains */
	const char *base = "https://id.gs1.org";
#define OUT(...) (snprintf(out, size, __VA_ARGS__) < (int)size ? 0 : SL_EINVAL)
	if (strcmp(kind, "class") == 0)
		return strcmp(scheme, "lgtin") == 0 && n == 3 && gtin_from_epc(p[0], p[1], gtin)
			       ? OUT("%s/01/%s/10/%s", base, gtin, p[2])
			       : SL_EINVAL;
	if (strcmp(scheme, "sgtin") == 0 && n == (pattern ? 2u : 3u) && gtin_from_epc(p[0], p[1], gtin))
		return pattern ? OUT("%s/01/%s", base, gtin) : OUT("%s/01/%s/21/%s", base, gtin, p[2]);
	if (strcmp(scheme, "upui") == 0 && n == 3 && !pattern && gtin_from_epc(p[0], p[1], gtin))
		return OUT("%s/01/%s/235/%s", base, gtin, p[2]);
	if (strcmp(scheme, "itip") == 0 && n == (pattern ? 4u : 5u) && gtin_from_epc(p[0], p[1], gtin))
		return pattern ? OUT("%s/8006/%s%s%s", base, gtin, p[2], p[3])
			       : OUT("%s/8006/%s%s%s/21/%s", base, gtin, p[2], p[3], p[4]);
	if (strcmp(scheme, "sscc") == 0 && n == 2 && !pattern && p[1][0] != '\0') {
		char ref[32];
		snprintf(ref, sizeof ref, "%s", p[1] + 1);
		char lead[2] = { p[1][0], '\0' };
		return key_from_epc(lead, p[0], ref, GS1_SSCC_DIGITS, key, sizeof key) ? OUT("%s/00/%s", base, key)
										       : SL_EINVAL;
	}
	if (strcmp(scheme, "sgln") == 0 && n == 3 && !pattern && key_from_epc("", p[0], p[1], 13, key, sizeof key))
		return strcmp(p[2], "0") == 0 ? OUT("%s/414/%s", base, key) : OUT("%s/414/%s/254/%s", base, key, p[2]);
	if (strcmp(scheme, "pgln") == 0 && n == 2 && !pattern && key_from_epc("", p[0], p[1], 13, key, sizeof key))
		return OUT("%s/417/%s", base, key);
	if (strcmp(scheme, "grai") == 0 && n == (pattern ? 2u : 3u) && key_from_epc("0", p[0], p[1], 14, key, sizeof key))
		return pattern ? OUT("%s/8003/%s", base, key) : OUT("%s/8003/%s%s", base, key, p[2]);
	if (strcmp(scheme, "gdti") == 0 && n == (pattern ? 2u : 3u) && key_from_epc("", p[0], p[1], 13, key, sizeof key))
		return pattern ? OUT("%s/253/%s", base, key) : OUT("%s/253/%s%s", base, key, p[2]);
	if (strcmp(scheme, "sgcn") == 0 && n == (pattern ? 2u : 3u) && key_from_epc("", p[0], p[1], 13, key, sizeof key))
		return pattern ? OUT("%s/255/%s", base, key) : OUT("%s/255/%s%s", base, key, p[2]);
	if (strcmp(scheme, "cpi") == 0 && n == (pattern ? 2u : 3u) && key_from_epc("", p[0], p[1], 0, key, sizeof key))
		return pattern ? OUT("%s/8010/%s", base, key) : OUT("%s/8010/%s/8011/%s", base, key, p[2]);
	if (pattern)
		return SL_EINVAL;
	if (strcmp(scheme, "giai") == 0 && n == 2 && key_from_epc("", p[0], p[1], 0, key, sizeof key))
		return OUT("%s/8004/%s", base, key);
	if (strcmp(scheme, "ginc") == 0 && n == 2 && key_from_epc("", p[0], p[1], 0, key, sizeof key))
		return OUT("%s/401/%s", base, key);
	if (strcmp(scheme, "gsrn") == 0 && n == 2 && key_from_epc("", p[0], p[1], 18, key, sizeof key))
		return OUT("%s/8018/%s", base, key);
	if (strcmp(scheme, "gsrnp") == 0 && n == 2 && key_from_epc("", p[0], p[1], 18, key, sizeof key))
		return OUT("%s/8017/%s", base, key);
	if (strcmp(scheme, "gsin") == 0 && n == 2 && key_from_epc("", p[0], p[1], 17, key, sizeof key))
		return OUT("%s/402/%s", base, key);
#undef OUT
	return SL_EINVAL;
}

static int epc_uri_convert(const char *text, char *out, size_t out_size)
{
	const char *kinds[] = { "urn:epc:id:", "urn:epc:class:", "urn:epc:idpat:" };
	const char *names[] = { "id", "class", "idpat" };
	for (size_t k = 0; k < 3; k++) {
		size_t plen = strlen(kinds[k]);
		if (strncmp(text, kinds[k], plen) != 0)
			continue;
		char copy[512];
		if (strlen(text + plen) >= sizeof copy)
			return SL_EINVAL;
		snprintf(copy, sizeof copy, "%s", text + plen);
		char *colon = strchr(copy, ':');
		if (colon == NULL)
			return SL_EINVAL;
		*colon = '\0';
		char *parts[EPC_PARTS_MAX];
		size_t n = split_dots(colon + 1, parts, EPC_PARTS_MAX);
		if (n > EPC_PARTS_MAX)
			return SL_EINVAL;
		return epc_scheme_convert(names[k], copy, parts, n, out, out_size);
	}
	return SL_EINVAL;
}

/* --- Digital Link URIs on any host (Digital Link 1.2 §4.1: primary key, then key qualifiers) --- */

struct dl_key {
	const char *ai;
	const char *qualifiers[4]; /* allowed in this order; NULL-terminated */
};

static const struct dl_key dl_keys[] = {
	{ "01", { "22", "10", "21", "235" } }, { "8006", { "22", "10", "21", NULL } },
	{ "414", { "254", "7040", NULL, NULL } }, { "8010", { "8011", NULL, NULL, NULL } },
	{ "00", { NULL } }, { "253", { NULL } }, { "255", { NULL } }, { "401", { NULL } }, { "402", { NULL } },
	{ "417", { "7040", NULL, NULL, NULL } }, { "8003", { NULL } }, { "8004", { "7040", NULL, NULL, NULL } },
	{ "8013", { "7040", NULL, NULL, NULL } }, { "8017", { "8019", NULL, NULL, NULL } },
	{ "8018", { "8019", NULL, NULL, NULL } },
};

static const struct dl_key *dl_key_find(const char *segment, size_t len)
{
	for (size_t i = 0; i < sizeof(dl_keys) / sizeof(dl_keys[0]); i++)
		if (strlen(dl_keys[i].ai) == len && memcmp(dl_keys[i].ai, segment, len) == 0)
			return &dl_keys[i];
	return NULL;
}

static bool dl_qualifier_allowed(const struct dl_key *key, const char *ai, size_t len)
{
	for (size_t i = 0; i < 4 && key->qualifiers[i] != NULL; i++)
		if (strlen(key->qualifiers[i]) == len && memcmp(key->qualifiers[i], ai, len) == 0)
			return true;
	return false;
}

#define DL_SEGMENTS_MAX 16 /* primary key + qualifiers as AI/value pairs, with room for a path prefix */

static int dl_convert(const char *text, char *out, size_t out_size)
{
	const char *path = NULL;
	if (strncmp(text, "https://", 8) == 0)
		path = strchr(text + 8, '/');
	else if (strncmp(text, "http://", 7) == 0)
		path = strchr(text + 7, '/');
	if (path == NULL)
		return SL_EINVAL;
	size_t path_len = strcspn(path, "?#");
	const char *seg[DL_SEGMENTS_MAX];
	size_t seg_len[DL_SEGMENTS_MAX], n = 0;
	for (size_t i = 0; i < path_len;) {
		if (path[i] != '/' || n == DL_SEGMENTS_MAX)
			return SL_EINVAL;
		i++;
		seg[n] = path + i;
		while (i < path_len && path[i] != '/')
			i++;
		seg_len[n] = (size_t)(path + i - seg[n]);
		n++;
	}
	size_t start = 0;
	while (start + 1 < n && dl_key_find(seg[start], seg_len[start]) == NULL)
		start++; /* custom path prefix before the primary key (Digital Link 1.2 §4.4) */
	const struct dl_key *key = start + 1 < n ? dl_key_find(seg[start], seg_len[start]) : NULL;
	if (key == NULL || (n - start) % 2 != 0)
		return SL_EINVAL;
	char value[GS1_GTIN_DIGITS + 1];
	const char *primary = seg[start + 1];
	size_t primary_len = seg_len[start + 1];
	if (strcmp(key->ai, "01") == 0) { /* GTIN-8/12/13 → GTIN-14 */
		if (!all_digits(primary, primary_len) || primary_len > 14 ||
		    (primary_len != 8 && primary_len != 12 && primary_len != 13 && primary_len != 14))
			return SL_EINVAL;
		memset(value, '0', 14 - primary_len);
		memcpy(value + 14 - primary_len, primary, primary_len);
		value[14] = '\0';
		primary = value;
		primary_len = 14;
	} else if ((strcmp(key->ai, "00") == 0 && (primary_len != 18 || !all_digits(primary, 18))) ||
		   ((strcmp(key->ai, "414") == 0 || strcmp(key->ai, "417") == 0) &&
		    (primary_len != 13 || !all_digits(primary, 13)))) {
		return SL_EINVAL;
	}
	bool has_serial = false;
	for (size_t i = start + 2; i < n; i += 2) {
		if (!dl_qualifier_allowed(key, seg[i], seg_len[i]))
			return SL_EINVAL;
		has_serial |= seg_len[i] == 2 && memcmp(seg[i], "21", 2) == 0;
	}
	int used = snprintf(out, out_size, "https://id.gs1.org/%s/%.*s", key->ai, (int)primary_len, primary);
	for (size_t i = start + 2; i < n && used >= 0 && (size_t)used < out_size; i += 2) {
		/* instance level keeps the serial only: CPV (22) and lot (10) are class attributes */
		if ((seg_len[i] == 2 && memcmp(seg[i], "22", 2) == 0) ||
		    (has_serial && seg_len[i] == 2 && memcmp(seg[i], "10", 2) == 0))
			continue;
		used += snprintf(out + used, out_size - (size_t)used, "/%.*s/%.*s", (int)seg_len[i], seg[i],
				 (int)seg_len[i + 1], seg[i + 1]);
	}
	return used >= 0 && (size_t)used < out_size ? 0 : SL_EINVAL;
}

int epcis_id_to_digital_link(const char *text, char *out, size_t out_size)
{
	if (strncmp(text, "urn:epc:", 8) == 0)
		return epc_uri_convert(text, out, out_size);
	return dl_convert(text, out, out_size);
}

/* --- CBV vocabulary (CBV 2.0 §6–7, §8.9.2) --- */

struct vocab_urn {
	const char *urn;
	const char *kind;
};

static const struct vocab_urn vocab_urns[] = {
	{ "urn:epcglobal:cbv:bizstep:", "BizStep" }, { "urn:epcglobal:cbv:disp:", "Disp" },
	{ "urn:epcglobal:cbv:btt:", "BTT" },	       { "urn:epcglobal:cbv:sdt:", "SDT" },
	{ "urn:epcglobal:cbv:er:", "ER" },
};

int epcis_vocab_normalise(const epcis_doc *doc, const char *kind, const char *text, char *out, size_t out_size)
{
	for (size_t i = 0; i < sizeof(vocab_urns) / sizeof(vocab_urns[0]); i++) {
		size_t len = strlen(vocab_urns[i].urn);
		if (strncmp(text, vocab_urns[i].urn, len) == 0)
			return snprintf(out, out_size, "https://ref.gs1.org/cbv/%s-%s", vocab_urns[i].kind, text + len) <
					       (int)out_size
				       ? 0
				       : SL_EINVAL;
	}
	const char *colon = strchr(text, ':');
	if (colon == NULL && kind != NULL && text[0] != '\0') {
		int n = strcmp(kind, "gs1") == 0 ? snprintf(out, out_size, "https://gs1.org/voc/%s", text)
						 : snprintf(out, out_size, "https://ref.gs1.org/cbv/%s-%s", kind, text);
		return n < (int)out_size ? 0 : SL_EINVAL;
	}
	if (colon != NULL && strncmp(colon + 1, "//", 2) != 0 && strncmp(text, "urn:", 4) != 0) {
		const char *uri = epcis_prefix_uri(doc, text, (size_t)(colon - text));
		if (uri != NULL)
			return snprintf(out, out_size, "%s%s", uri, colon + 1) < (int)out_size ? 0 : SL_EINVAL;
	}
	/* GS1 Web vocabulary form of a CBV value: the same value */
	const char *web = "https://gs1.org/voc/";
	if (kind != NULL && strcmp(kind, "gs1") != 0 && strncmp(text, web, strlen(web)) == 0 &&
	    strncmp(text + strlen(web), kind, strlen(kind)) == 0 && text[strlen(web) + strlen(kind)] == '-')
		return snprintf(out, out_size, "https://ref.gs1.org/cbv/%s", text + strlen(web)) < (int)out_size
			       ? 0
			       : SL_EINVAL;
	return snprintf(out, out_size, "%s", text) < (int)out_size ? 0 : SL_EINVAL;
}

const char *epcis_vocab_word(const epcis_doc *doc, const char *kind, const char *text, char *buf, size_t buf_size)
{
	char full[1024];
	if (text == NULL || epcis_vocab_normalise(doc, kind, text, full, sizeof full) != 0)
		return NULL;
	char prefix[64];
	snprintf(prefix, sizeof prefix, "https://ref.gs1.org/cbv/%s-", kind);
	size_t len = strlen(prefix);
	if (strncmp(full, prefix, len) != 0 || snprintf(buf, buf_size, "%s", full + len) >= (int)buf_size)
		return NULL;
	return buf;
}
