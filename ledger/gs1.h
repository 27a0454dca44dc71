/* ledger/gs1.h — GS1 identifiers: parse, validate, normalise, format.
 *
 * Owns: GTIN-8/12/13/14 (normalised to GTIN-14), SSCC-18, GLN-13 check digits; serial (AI 21) and
 * lot (AI 10) as 1–20 characters of GS1 AI encodable character set 82; expiry (AI 17) YYMMDD with
 * day 00 allowed; SGTIN and SSCC EPC pure-identity URIs; element strings; GS1 Digital Link URIs.
 * References: GS1 General Specifications §3.2 (AI table), §7.9 (check digit), §7.11 (CSET 82),
 * GS1 EPC Tag Data Standard §6 (EPC URIs), GS1 Digital Link Standard (URI syntax).
 *
 * Canonical internal identifier ("item id") of one pack or container, used in records and as the
 * store key (GS1 element-string form, serial last so its CSET 82 parentheses cannot confuse):
 *     pack:      "(01)" GTIN-14 "(21)" serial          e.g. (01)09506000134352(21)ABC123
 *     container: "(00)" SSCC-18                         e.g. (00)106141412345678908
 * Lot key (for lot-scoped locks and counters): "(01)" GTIN-14 "(10)" lot.
 * GTIN key (GTIN-scoped locks): "(01)" GTIN-14.
 *
 * Rules:
 *  1. All functions are pure and thread-safe; outputs are NUL-terminated into caller buffers.
 *  2. Bad input returns SL_ESYNTAX, SL_ECHECKDIGIT, SL_ECHARSET, SL_ELENGTH, SL_EDATE or SL_EPREFIX,
 *     with an optional struct sl_error_detail saying what was wrong.
 */
#ifndef SL_LEDGER_GS1_H
#define SL_LEDGER_GS1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define GS1_GTIN_DIGITS 14
#define GS1_SSCC_DIGITS 18
#define GS1_GLN_DIGITS 13
#define GS1_SERIAL_CHARS_MAX 20 /* AI 21: X..20 */
#define GS1_LOT_CHARS_MAX 20	/* AI 10: X..20 */
#define GS1_DATE_DIGITS 6	/* AI 17: N6 YYMMDD */
/* "(01)" + 14 + "(21)" + 20 */
#define GS1_ITEM_ID_CHARS_MAX (4 + GS1_GTIN_DIGITS + 4 + GS1_SERIAL_CHARS_MAX)
#define GS1_ITEM_ID_SIZE (GS1_ITEM_ID_CHARS_MAX + 1)
/* "(01)" + 14 + "(10)" + 20 */
#define GS1_LOT_KEY_SIZE (4 + GS1_GTIN_DIGITS + 4 + GS1_LOT_CHARS_MAX + 1)
/* Longest URI or element string we accept as input; longer input is SL_ELENGTH. */
#define GS1_TEXT_CHARS_MAX 512

enum gs1_kind {
	GS1_KIND_PACK = 1,	/* SGTIN: GTIN + serial */
	GS1_KIND_CONTAINER = 2, /* SSCC */
};

/* A parsed identifier with whatever attributes the input carried. */
struct gs1_item {
	enum gs1_kind kind;
	char gtin[GS1_GTIN_DIGITS + 1];		/* packs */
	char serial[GS1_SERIAL_CHARS_MAX + 1];	/* packs */
	char sscc[GS1_SSCC_DIGITS + 1];		/* containers */
	char lot[GS1_LOT_CHARS_MAX + 1];	/* "" when the input carried none */
	char expiry[GS1_DATE_DIGITS + 1];	/* "" when the input carried none */
};

/* GS1 mod-10 check digit over `digits` (the body without its check digit). */
int gs1_check_digit(const char *digits, size_t len);

/* Validate a GTIN-8/12/13/14 and write its GTIN-14 form (left-padded with zeros). */
int gs1_gtin_normalize(const char *text, char out[GS1_GTIN_DIGITS + 1], struct sl_error_detail *detail);
int gs1_sscc_validate(const char *text, size_t len, struct sl_error_detail *detail);
int gs1_gln_validate(const char *text, size_t len, struct sl_error_detail *detail);
/* 1–20 chars of CSET 82 (serial and lot alike). */
int gs1_cset82_validate(const char *text, size_t len, size_t max_chars, struct sl_error_detail *detail);
/* YYMMDD; month 01–12; day 00 (meaning end of month) or a valid day of that month. */
int gs1_date_validate(const char *text, size_t len, struct sl_error_detail *detail);

/* Parse any supported form: element string "(01)..(21)..(10)..(17)..", "(00)...", EPC pure identity
 * URI "urn:epc:id:sgtin:CompanyPrefix.ItemRefAndIndicator.Serial" / "urn:epc:id:sscc:CP.SerialRef",
 * or GS1 Digital Link "https://id.gs1.org/01/{gtin}/21/{serial}?10=..&17=.." (any host; path
 * "/00/{sscc}" for containers; percent-encoding decoded). */
int gs1_parse(const char *text, struct gs1_item *out, struct sl_error_detail *detail);

/* Canonical item id of a parsed item (see top of file). */
int gs1_item_id(const struct gs1_item *item, char out[GS1_ITEM_ID_SIZE]);
/* Check that `text` is exactly a canonical item id (what records carry); fills `out` if non-NULL. */
int gs1_item_id_parse(const char *text, size_t len, struct gs1_item *out, struct sl_error_detail *detail);
int gs1_lot_key(const char *gtin14, const char *lot, char out[GS1_LOT_KEY_SIZE]);

/* Formatting. company_prefix_digits is 6–12 (GS1 company prefix length, TDS §6.3.1). */
int gs1_format_element_string(const struct gs1_item *item, char *out, size_t out_size);
int gs1_format_epc_uri(const struct gs1_item *item, unsigned company_prefix_digits, char *out,
		       size_t out_size);
int gs1_format_digital_link(const struct gs1_item *item, const char *base /* NULL = https://id.gs1.org */,
			    char *out, size_t out_size);

#endif
