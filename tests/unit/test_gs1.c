/* tests/unit/test_gs1.c — GS1 identifiers (ledger/gs1.h).
 *
 * Expected values are derived by hand from the GS1 rules, not from this code. Check digits use
 * GenSpecs §7.9.1: weights 3,1,3,… from the rightmost body digit, check = (10 - sum % 10) % 10.
 * The worked sums are in the comments next to each value.
 */
#include "ledger/gs1.h"

#include "tests/unit/test.h"

/* ---- check digits ----------------------------------------------------------------------- */

struct check_case {
	const char *body;
	int check;
};

static const struct check_case check_cases[] = {
	/* GTIN 09506000134352 (GS1 example). Body reversed 5,3,4,3,1,0,0,0,6,0,5,9,0:
	 * 15+3+12+3+3+0+0+0+18+0+15+9+0 = 78 → 2 */
	{ "0950600013435", 2 },
	/* GTIN-13 4006381333931. Reversed 3,9,3,3,3,1,8,3,6,0,0,4: 9+9+9+3+9+1+24+3+18+0+0+4 = 89 → 1 */
	{ "400638133393", 1 },
	/* GTIN-8 96385074. Reversed 7,0,5,8,3,6,9: 21+0+15+8+9+6+27 = 86 → 4 */
	{ "9638507", 4 },
	/* GTIN-12 036000291452. Reversed 5,4,1,9,2,0,0,0,6,3,0: 15+4+3+9+6+0+0+0+18+3+0 = 58 → 2 */
	{ "03600029145", 2 },
	/* TDS example GTIN 80614141123458. Reversed 5,4,3,2,1,1,4,1,4,1,6,0,8:
	 * 15+4+9+2+3+1+12+1+12+1+18+0+24 = 102 → 8 */
	{ "8061414112345", 8 },
	/* TDS example SSCC 106141412345678908. Reversed 0,9,8,7,6,5,4,3,2,1,4,1,4,1,6,0,1:
	 * 0+9+24+7+18+5+12+3+6+1+12+1+12+1+18+0+3 = 132 → 8 */
	{ "10614141234567890", 8 },
	/* SSCC 376104250021234569. Reversed 6,5,4,3,2,1,2,0,0,5,2,4,0,1,6,7,3:
	 * 18+5+12+3+6+1+6+0+0+5+6+4+0+1+18+7+9 = 101 → 9 */
	{ "37610425002123456", 9 },
	/* GLN 0614141000012. Reversed 1,0,0,0,0,1,4,1,4,1,6,0: 3+0+0+0+0+1+12+1+12+1+18+0 = 48 → 2 */
	{ "061414100001", 2 },
	/* All zeros: sum 0 → 0 (the % 10 on the outside matters here). */
	{ "0000000000000", 0 },
};

static void test_check_digit_table(void)
{
	for (size_t i = 0; i < sizeof check_cases / sizeof check_cases[0]; i++) {
		const struct check_case *c = &check_cases[i];
		CHECK_INT_EQ(gs1_check_digit(c->body, strlen(c->body)), c->check);
	}
	CHECK_INT_EQ(gs1_check_digit("", 0), SL_ELENGTH);
	CHECK_INT_EQ(gs1_check_digit("123456789012345678", 18), SL_ELENGTH); /* longer than any body */
	CHECK_INT_EQ(gs1_check_digit("09506A0013435", 13), SL_ESYNTAX);
	/* Only `len` bytes are read: the trailing 'X' is outside. */
	CHECK_INT_EQ(gs1_check_digit("0950600013435X", 13), 2);
}

static void test_gtin_normalize(void)
{
	static const struct {
		const char *text;
		int rc;
		const char *gtin14;
	} cases[] = {
		{ "4006381333931", 0, "04006381333931" },
		{ "96385074", 0, "00000096385074" },
		{ "036000291452", 0, "00036000291452" },
		{ "09506000134352", 0, "09506000134352" },
		{ "80614141123458", 0, "80614141123458" },
		{ "4006381333932", SL_ECHECKDIGIT, NULL },
		{ "09506000134353", SL_ECHECKDIGIT, NULL },
		{ "96385075", SL_ECHECKDIGIT, NULL },
		{ "", SL_ELENGTH, NULL },
		{ "123", SL_ELENGTH, NULL },
		{ "4006381333", SL_ELENGTH, NULL },	      /* 10 digits: not a GTIN length */
		{ "009506000134352", SL_ELENGTH, NULL },      /* 15 digits */
		{ "40063813339A1", SL_ESYNTAX, NULL },
		{ "4006381 33931", SL_ESYNTAX, NULL },
		{ "400638133393\xc3\xa9", SL_ESYNTAX, NULL }, /* 14 bytes: a GTIN length, not digits */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[GS1_GTIN_DIGITS + 1] = "unchanged";
		struct sl_error_detail detail = { "" };
		int rc = gs1_gtin_normalize(cases[i].text, out, &detail);
		CHECK_INT_EQ(rc, cases[i].rc);
		if (cases[i].rc == 0)
			CHECK_STR_EQ(out, cases[i].gtin14);
		else
			CHECK(detail.text[0] != '\0');
	}
}

static void test_sscc_gln_validate(void)
{
	CHECK_INT_EQ(gs1_sscc_validate("106141412345678908", 18, NULL), 0);
	CHECK_INT_EQ(gs1_sscc_validate("376104250021234569", 18, NULL), 0);
	CHECK_INT_EQ(gs1_sscc_validate("106141412345678907", 18, NULL), SL_ECHECKDIGIT);
	CHECK_INT_EQ(gs1_sscc_validate("10614141234567890", 17, NULL), SL_ELENGTH);
	CHECK_INT_EQ(gs1_sscc_validate("1061414123456789080", 19, NULL), SL_ELENGTH);
	CHECK_INT_EQ(gs1_sscc_validate("10614141234567890x", 18, NULL), SL_ESYNTAX);
	CHECK_INT_EQ(gs1_gln_validate("0614141000012", 13, NULL), 0);
	CHECK_INT_EQ(gs1_gln_validate("0614141000013", 13, NULL), SL_ECHECKDIGIT);
	CHECK_INT_EQ(gs1_gln_validate("061414100001", 12, NULL), SL_ELENGTH);
}

/* ---- CSET 82 ------------------------------------------------------------------------------ */

static const char cset82_all[] = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
				 "abcdefghijklmnopqrstuvwxyz";

static void test_cset82_exact_set(void)
{
	CHECK_INT_EQ(strlen(cset82_all), 82);
	/* Every byte value: exactly the 82 listed characters pass. */
	int accepted = 0;
	for (int byte = 0; byte < 256; byte++) {
		char c = (char)byte;
		int rc = gs1_cset82_validate(&c, 1, 20, NULL);
		bool listed = byte != 0 && strchr(cset82_all, byte) != NULL;
		CHECK_INT_EQ(rc, listed ? 0 : SL_ECHARSET);
		accepted += rc == 0;
	}
	CHECK_INT_EQ(accepted, 82);
	static const char rejected[] = " #$@[\\]^`{|}~\x7f";
	for (size_t i = 0; i < sizeof rejected - 1; i++)
		CHECK_INT_EQ(gs1_cset82_validate(&rejected[i], 1, 20, NULL), SL_ECHARSET);
}

static void test_cset82_lengths(void)
{
	struct sl_error_detail detail = { "" };
	CHECK_INT_EQ(gs1_cset82_validate("ABC123", 6, 20, NULL), 0);
	CHECK_INT_EQ(gs1_cset82_validate("12345678901234567890", 20, 20, NULL), 0);
	CHECK_INT_EQ(gs1_cset82_validate("123456789012345678901", 21, 20, &detail), SL_ELENGTH);
	CHECK(strstr(detail.text, "21") != NULL);
	CHECK_INT_EQ(gs1_cset82_validate("", 0, 20, NULL), SL_ELENGTH);
	/* Length is checked before content. */
	CHECK_INT_EQ(gs1_cset82_validate("12345 789012345678901", 21, 20, NULL), SL_ELENGTH);
	CHECK_INT_EQ(gs1_cset82_validate("AB\0C", 4, 20, NULL), SL_ECHARSET); /* embedded NUL */
	CHECK_INT_EQ(gs1_cset82_validate("caf\xc3\xa9", 5, 20, NULL), SL_ECHARSET);
}

/* ---- dates -------------------------------------------------------------------------------- */

static void test_date_validate(void)
{
	static const struct {
		const char *text;
		int rc;
	} cases[] = {
		{ "270131", 0 },
		{ "271231", 0 },
		{ "270400", 0 },	       /* day 00 = end of month */
		{ "270200", 0 },
		{ "240229", 0 },	       /* 2024 is a leap year */
		{ "000229", 0 },	       /* YY taken as 2000 (leap: divisible by 400) */
		{ "230229", SL_EDATE },	       /* 2023 is not */
		{ "270230", SL_EDATE },	       /* Feb 30 */
		{ "270431", SL_EDATE },	       /* 31 April */
		{ "270132", SL_EDATE },	       /* day 32 */
		{ "271301", SL_EDATE },	       /* month 13 */
		{ "270001", SL_EDATE },	       /* month 00 */
		{ "2701", SL_ELENGTH },
		{ "2701311", SL_ELENGTH },
		{ "27013A", SL_ESYNTAX },
		{ "27-131", SL_ESYNTAX },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		CHECK_INT_EQ(gs1_date_validate(cases[i].text, strlen(cases[i].text), NULL), cases[i].rc);
}

/* ---- parsing: every form ------------------------------------------------------------------- */

struct parse_case {
	const char *text;
	enum gs1_kind kind;
	const char *key; /* GTIN-14 for packs, SSCC for containers */
	const char *serial;
	const char *lot;
	const char *expiry;
};

static const struct parse_case parse_ok_cases[] = {
	/* element strings */
	{ "(01)09506000134352(21)ABC123(10)LOT1(17)270131", GS1_KIND_PACK, "09506000134352", "ABC123", "LOT1", "270131" },
	{ "(17)270131(10)LOT1(21)ABC123(01)09506000134352", GS1_KIND_PACK, "09506000134352", "ABC123", "LOT1", "270131" },
	{ "(01)04006381333931(21)1", GS1_KIND_PACK, "04006381333931", "1", "", "" },
	{ "(01)09506000134352(21)!\"%&'()*+,-./:;<=>?_", GS1_KIND_PACK, "09506000134352", "!\"%&'()*+,-./:;<=>?_", "", "" },
	{ "(00)106141412345678908", GS1_KIND_CONTAINER, "106141412345678908", "", "", "" },
	/* ambiguity rule: "(10)" inside is a new AI, so this is serial A + lot B */
	{ "(01)09506000134352(21)A(10)B", GS1_KIND_PACK, "09506000134352", "A", "B", "" },
	/* a '(' not followed by 2-4 digits and ')' is data */
	{ "(01)09506000134352(21)A(1)B(12345)", GS1_KIND_PACK, "09506000134352", "A(1)B(12345)", "", "" },
	/* EPC pure identity URIs (TDS §6.3.1 / §6.3.2 examples) */
	{ "urn:epc:id:sgtin:0614141.812345.6789", GS1_KIND_PACK, "80614141123458", "6789", "", "" },
	{ "URN:EPC:id:sgtin:0614141.812345.6789", GS1_KIND_PACK, "80614141123458", "6789", "", "" },
	/* 12-digit prefix: item reference is only the indicator; body 0950600013435 → check 2 */
	{ "urn:epc:id:sgtin:950600013435.0.ABC", GS1_KIND_PACK, "09506000134352", "ABC", "", "" },
	/* 6-digit prefix: indicator 0, prefix 950600, rest 013435 → same GTIN */
	{ "urn:epc:id:sgtin:950600.0013435.X.Y", GS1_KIND_PACK, "09506000134352", "X.Y", "", "" },
	{ "urn:epc:id:sgtin:0614141.812345.A%2FB%25%22%26%3C%3E%3F!()*'", GS1_KIND_PACK, "80614141123458", "A/B%\"&<>?!()*'", "", "" },
	{ "urn:epc:id:sgtin:0614141.812345.%41%62", GS1_KIND_PACK, "80614141123458", "Ab", "", "" },
	{ "urn:epc:id:sscc:0614141.1234567890", GS1_KIND_CONTAINER, "106141412345678908", "", "", "" },
	/* SSCC 376104250021234569 with a 12-digit prefix: 761042500212 + serial ref 3 3456 */
	{ "urn:epc:id:sscc:761042500212.33456", GS1_KIND_CONTAINER, "376104250021234569", "", "", "" },
	/* GS1 Digital Link */
	{ "https://id.gs1.org/01/09506000134352/21/ABC123?10=LOT1&17=270131", GS1_KIND_PACK, "09506000134352", "ABC123", "LOT1", "270131" },
	{ "https://id.gs1.org/01/09506000134352/21/ABC123?17=270131&10=LOT1", GS1_KIND_PACK, "09506000134352", "ABC123", "LOT1", "270131" },
	{ "http://example.com:8080/some/prefix/01/09506000134352/10/LOT1/21/ABC123?17=270100", GS1_KIND_PACK, "09506000134352", "ABC123", "LOT1", "270100" },
	{ "HTTPS://example.com/01/9506000134352/21/X", GS1_KIND_PACK, "09506000134352", "X", "", "" },
	{ "https://example.com/01/96385074/21/X", GS1_KIND_PACK, "00000096385074", "X", "", "" },
	/* the prefix may contain "01": the key path is matched at the end */
	{ "https://example.com/01/x/01/09506000134352/21/S", GS1_KIND_PACK, "09506000134352", "S", "", "" },
	{ "https://example.com/01/09506000134352/21/A%2fB(1)%3F?10=L%26M+&linkType=gs1:pip", GS1_KIND_PACK, "09506000134352", "A/B(1)?", "L&M+", "" },
	{ "https://id.gs1.org/00/106141412345678908", GS1_KIND_CONTAINER, "106141412345678908", "", "", "" },
};

static void test_parse_table(void)
{
	for (size_t i = 0; i < sizeof parse_ok_cases / sizeof parse_ok_cases[0]; i++) {
		const struct parse_case *c = &parse_ok_cases[i];
		struct gs1_item item;
		struct sl_error_detail detail = { "" };
		int rc = gs1_parse(c->text, &item, &detail);
		if (rc != 0)
			fprintf(stdout, "  case %zu %s: %s (%s)\n", i, c->text, sl_errname(rc), detail.text);
		REQUIRE(rc == 0);
		CHECK_INT_EQ(item.kind, c->kind);
		CHECK_STR_EQ(c->kind == GS1_KIND_PACK ? item.gtin : item.sscc, c->key);
		CHECK_STR_EQ(c->kind == GS1_KIND_PACK ? item.sscc : item.gtin, "");
		CHECK_STR_EQ(item.serial, c->serial);
		CHECK_STR_EQ(item.lot, c->lot);
		CHECK_STR_EQ(item.expiry, c->expiry);
	}
}

struct bad_case {
	const char *text;
	int rc;
};

static const struct bad_case parse_bad_cases[] = {
	/* not any form */
	{ "", SL_ESYNTAX },
	{ "09506000134352", SL_ESYNTAX },
	{ "ftp://id.gs1.org/01/09506000134352/21/X", SL_ESYNTAX },
	/* element strings */
	{ "(01)09506000134353(21)X", SL_ECHECKDIGIT },
	{ "(01)9506000134352(21)X", SL_ELENGTH }, /* GTIN-13 must be padded in (01) */
	{ "(01)09506000134352(21)A B", SL_ECHARSET },
	{ "(01)09506000134352(21)A#", SL_ECHARSET },
	{ "(01)09506000134352(21)A\x80", SL_ECHARSET },
	{ "(01)09506000134352(21)123456789012345678901", SL_ELENGTH },
	{ "(01)09506000134352(21)", SL_ELENGTH },
	{ "(01)09506000134352(21)(10)L", SL_ELENGTH }, /* empty serial */
	{ "(01)09506000134352(21)X(10)", SL_ELENGTH }, /* empty lot */
	{ "(01)09506000134352(21)X(17)271301", SL_EDATE },
	{ "(01)09506000134352(21)X(17)270132", SL_EDATE },
	{ "(01)09506000134352(21)X(17)270230", SL_EDATE },
	{ "(01)09506000134352(21)X(17)270431", SL_EDATE },
	{ "(01)09506000134352(21)X(17)230229", SL_EDATE },
	{ "(01)09506000134352(21)X(17)2701", SL_ELENGTH },
	{ "(01)09506000134352(21)X(11)270101", SL_ESYNTAX }, /* unknown AI, not part of the serial */
	{ "(01)09506000134352(21)X(3103)000123", SL_ESYNTAX },
	{ "(01)09506000134352(21)X(21)Y", SL_ESYNTAX },	     /* duplicate */
	{ "(01)09506000134352(01)09506000134352(21)X", SL_ESYNTAX },
	{ "(01)09506000134352", SL_ESYNTAX },		       /* missing serial */
	{ "(01)09506000134352(10)L", SL_ESYNTAX },
	{ "(21)X", SL_ESYNTAX },			       /* missing GTIN */
	{ "(00)106141412345678908(21)X", SL_ESYNTAX },
	{ "(00)106141412345678907", SL_ECHECKDIGIT },
	{ "(00)10614141234567890", SL_ELENGTH },
	{ "(1)X", SL_ESYNTAX },
	{ "(01", SL_ESYNTAX },
	/* EPC URIs */
	{ "urn:epc:id:sgtin:0614141.812345.6789%", SL_ESYNTAX },
	{ "urn:epc:id:sgtin:0614141.812345.A%2", SL_ESYNTAX },
	{ "urn:epc:id:sgtin:0614141.812345.A%G0", SL_ESYNTAX },
	{ "urn:epc:id:sgtin:0614141.812345.A/B", SL_ESYNTAX }, /* '/' must be %2F */
	{ "urn:epc:id:sgtin:0614141.812345.A?B", SL_ESYNTAX },
	{ "urn:epc:id:sgtin:0614141.812345.A%20B", SL_ECHARSET }, /* decodes to a space */
	{ "urn:epc:id:sgtin:0614141.812345.A%80", SL_ECHARSET },
	{ "urn:epc:id:sgtin:0614141.812345.A%00B", SL_ECHARSET },
	{ "urn:epc:id:sgtin:0614141.812345.A B", SL_ESYNTAX },
	{ "urn:epc:id:sgtin:0614141.812345.123456789012345678901", SL_ELENGTH },
	{ "urn:epc:id:sgtin:0614141.812345.", SL_ELENGTH },
	{ "urn:epc:id:sgtin:0614141.812345", SL_ESYNTAX }, /* truncated */
	{ "urn:epc:id:sgtin:0614141", SL_ESYNTAX },
	{ "urn:epc:id:sgtin:", SL_ESYNTAX },
	{ "urn:epc:id:sgti", SL_ESYNTAX },
	{ "urn:epc:id:sgtin:06141.8123456.1", SL_EPREFIX },	    /* 5-digit prefix */
	{ "urn:epc:id:sgtin:0614141234567.8.1", SL_EPREFIX },   /* 13-digit prefix */
	{ "urn:epc:id:sgtin:0614141.81234.1", SL_ELENGTH },	    /* 12 digits in all */
	{ "urn:epc:id:sgtin:0614141.8123456.1", SL_ELENGTH },   /* 14 digits in all */
	{ "urn:epc:id:sgtin:0614141.81234X.1", SL_ESYNTAX },
	{ "urn:epc:id:sscc:0614141.123456789", SL_ELENGTH },
	{ "urn:epc:id:sscc:06141.123456789012", SL_EPREFIX },
	{ "urn:epc:id:sscc:0614141.12345678.0", SL_ESYNTAX },
	{ "urn:epc:id:sscc:0614141", SL_ESYNTAX },
	{ "urn:epc:id:sgln:0614141.12345.0", SL_ESYNTAX },	    /* unsupported scheme */
	{ "urn:epc:tag:sgtin-96:3.0614141.812345.6789", SL_ESYNTAX },
	/* Digital Link */
	{ "https://id.gs1.org/01/09506000134352", SL_ESYNTAX },	      /* no serial */
	{ "https://id.gs1.org/01/09506000134352/21/", SL_ESYNTAX },    /* empty segment */
	{ "https://id.gs1.org/01/09506000134352/21/X/", SL_ESYNTAX },  /* trailing slash */
	{ "https://id.gs1.org/01/09506000134352/21/X/10/L", SL_ESYNTAX }, /* lot after serial */
	{ "https://id.gs1.org/01/09506000134352/22/C/21/X", SL_ESYNTAX },
	{ "https://id.gs1.org/01/09506000134353/21/X", SL_ECHECKDIGIT },
	{ "https://id.gs1.org/01/09506000134/21/X", SL_ELENGTH },	/* 11 digits */
	{ "https://id.gs1.org/01/095060001343520/21/X", SL_ELENGTH },
	{ "https://id.gs1.org/01/0950600013435%00/21/X", SL_ESYNTAX },
	{ "https://id.gs1.org/01/09506000134352/21/A%2", SL_ESYNTAX },
	{ "https://id.gs1.org/01/09506000134352/21/A%zz", SL_ESYNTAX },
	{ "https://id.gs1.org/01/09506000134352/21/A%20B", SL_ECHARSET },
	{ "https://example.com/01/09506000134352/21/A%2FB%20C%28", SL_ECHARSET },
	{ "https://id.gs1.org/01/09506000134352/21/A\"B", SL_ESYNTAX },
	{ "https://id.gs1.org/01/09506000134352/21/A$B", SL_ECHARSET }, /* $ is pchar, not CSET 82 */
	{ "https://id.gs1.org/01/09506000134352/21/X#frag", SL_ESYNTAX },
	{ "https://id.gs1.org/01/09506000134352/10/L/21/X?10=L", SL_ESYNTAX }, /* lot twice */
	{ "https://id.gs1.org/01/09506000134352/21/X?17=270131&17=270131", SL_ESYNTAX },
	{ "https://id.gs1.org/01/09506000134352/21/X?11=270131", SL_ESYNTAX },
	{ "https://id.gs1.org/01/09506000134352/21/X?17=270230", SL_EDATE },
	{ "https://id.gs1.org/01/09506000134352/21/X?17=2702300", SL_ELENGTH },
	{ "https://id.gs1.org/01/09506000134352/21/X?10=", SL_ELENGTH },
	{ "https://id.gs1.org/01/09506000134352/21/X?10", SL_ESYNTAX },
	{ "https://id.gs1.org/01/09506000134352/21/X?", SL_ESYNTAX },
	{ "https://id.gs1.org/01/09506000134352/21/X?10=L&&17=270131", SL_ESYNTAX },
	{ "https://id.gs1.org/00/106141412345678908?10=L", SL_ESYNTAX },
	{ "https://id.gs1.org/00/106141412345678907", SL_ECHECKDIGIT },
	{ "https:///01/09506000134352/21/X", SL_ESYNTAX },		/* empty host */
	{ "https://user@host/01/09506000134352/21/X", SL_ESYNTAX },
	{ "https://host:/01/09506000134352/21/X", SL_ESYNTAX },
	{ "https://host:123456/01/09506000134352/21/X", SL_ESYNTAX },
	{ "https://host//01/09506000134352/21/X", SL_ESYNTAX },	/* empty prefix segment */
	{ "https://host/a b/01/09506000134352/21/X", SL_ESYNTAX },
	{ "https://id.gs1.org", SL_ESYNTAX },
	{ "https://", SL_ESYNTAX },
	{ "http:/", SL_ESYNTAX },
};

static void test_parse_bad_table(void)
{
	for (size_t i = 0; i < sizeof parse_bad_cases / sizeof parse_bad_cases[0]; i++) {
		const struct bad_case *c = &parse_bad_cases[i];
		struct gs1_item item;
		memset(&item, 0x5a, sizeof item);
		struct sl_error_detail detail = { "" };
		int rc = gs1_parse(c->text, &item, &detail);
		if (rc != c->rc)
			fprintf(stdout, "  case %zu %s: got %s (%s)\n", i, c->text, sl_errname(rc), detail.text);
		CHECK_INT_EQ(rc, c->rc);
		CHECK(detail.text[0] != '\0');
		CHECK(((unsigned char *)&item)[0] == 0x5a); /* out untouched on failure */
	}
}

static void test_parse_length_limit(void)
{
	char text[GS1_TEXT_CHARS_MAX + 2];
	memset(text, 'a', sizeof text - 1);
	text[sizeof text - 1] = '\0'; /* 513 characters */
	struct gs1_item item;
	CHECK_INT_EQ(gs1_parse(text, &item, NULL), SL_ELENGTH);
	text[GS1_TEXT_CHARS_MAX] = '\0'; /* 512: judged on content */
	CHECK_INT_EQ(gs1_parse(text, &item, NULL), SL_ESYNTAX);
	/* A long but valid Digital Link prefix up to the limit is fine. */
	const char *tail = "/01/09506000134352/21/X";
	char link[GS1_TEXT_CHARS_MAX + 1] = "https://h/";
	size_t fill = GS1_TEXT_CHARS_MAX - strlen(link) - strlen(tail);
	memset(link + strlen(link), 'p', fill);
	link[GS1_TEXT_CHARS_MAX - strlen(tail)] = '\0';
	strcat(link, tail);
	CHECK_INT_EQ(strlen(link), GS1_TEXT_CHARS_MAX);
	CHECK_INT_EQ(gs1_parse(link, &item, NULL), 0);
}

/* ---- canonical item id --------------------------------------------------------------------- */

static void test_item_id_parse(void)
{
	static const struct bad_case ok[] = {
		{ "(01)09506000134352(21)ABC123", 0 },
		{ "(01)09506000134352(21)12345678901234567890", 0 },
		{ "(00)106141412345678908", 0 },
		/* the serial is last, so AI-shaped text in it is serial (see docs/identifiers.md) */
		{ "(01)09506000134352(21)A(10)B", 0 },
	};
	static const struct bad_case bad[] = {
		{ "(01)9506000134352(21)ABC123", SL_ESYNTAX },	    /* GTIN-13 without padding */
		{ "(01)09506000134353(21)ABC123", SL_ECHECKDIGIT },
		{ "(01)09506000134352(10)LOT1(21)ABC123", SL_ESYNTAX }, /* lot AI */
		{ "(01)09506000134352(17)270131", SL_ESYNTAX },
		{ "(01)09506000134352(21)", SL_ESYNTAX },
		{ "(01)09506000134352", SL_ESYNTAX },
		{ "(01)09506000134352(21)123456789012345678901", SL_ELENGTH },
		{ "(01)09506000134352(21)A B", SL_ECHARSET },
		{ "(00)106141412345678907", SL_ECHECKDIGIT },
		{ "(00)10614141234567890", SL_ELENGTH },
		{ "(00)106141412345678908(21)X", SL_ELENGTH },
		{ "(21)ABC123", SL_ESYNTAX },
		{ "urn:epc:id:sgtin:0614141.812345.6789", SL_ESYNTAX },
		{ "", SL_ESYNTAX },
		{ "(0", SL_ESYNTAX },
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		struct gs1_item item;
		REQUIRE(gs1_item_id_parse(ok[i].text, strlen(ok[i].text), &item, NULL) == 0);
		char id[GS1_ITEM_ID_SIZE];
		CHECK_INT_EQ(gs1_item_id(&item, id), 0);
		CHECK_STR_EQ(id, ok[i].text);
		CHECK_INT_EQ(gs1_item_id_parse(ok[i].text, strlen(ok[i].text), NULL, NULL), 0);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct sl_error_detail detail = { "" };
		CHECK_INT_EQ(gs1_item_id_parse(bad[i].text, strlen(bad[i].text), NULL, &detail), bad[i].rc);
		CHECK(detail.text[0] != '\0');
	}
	/* Reads only len bytes: a valid id followed by junk, and a prefix cut short. */
	const char *padded = "(01)09506000134352(21)ABC123 junk";
	CHECK_INT_EQ(gs1_item_id_parse(padded, 28, NULL, NULL), 0);
	CHECK_INT_EQ(gs1_item_id_parse(padded, 3, NULL, NULL), SL_ESYNTAX);
	CHECK_INT_EQ(gs1_item_id_parse(padded, 29, NULL, NULL), SL_ECHARSET);
}

static void test_item_id_format(void)
{
	struct gs1_item item;
	memset(&item, 0, sizeof item);
	char id[GS1_ITEM_ID_SIZE];
	item.kind = GS1_KIND_PACK;
	strcpy(item.gtin, "09506000134352");
	strcpy(item.serial, "ABC123");
	strcpy(item.lot, "LOT1");
	strcpy(item.expiry, "270131");
	CHECK_INT_EQ(gs1_item_id(&item, id), 0);
	CHECK_STR_EQ(id, "(01)09506000134352(21)ABC123");
	strcpy(item.expiry, "270230");
	CHECK_INT_EQ(gs1_item_id(&item, id), SL_EDATE);
	CHECK_STR_EQ(id, "");
	item.expiry[0] = '\0';
	strcpy(item.gtin, "9506000134352"); /* formatters take GTIN-14 only */
	CHECK_INT_EQ(gs1_item_id(&item, id), SL_ELENGTH);
	strcpy(item.gtin, "09506000134352");
	strcpy(item.sscc, "106141412345678908");
	CHECK_INT_EQ(gs1_item_id(&item, id), SL_EINVAL); /* a pack with an SSCC */
	memset(&item, 0, sizeof item);
	item.kind = GS1_KIND_CONTAINER;
	strcpy(item.sscc, "106141412345678908");
	CHECK_INT_EQ(gs1_item_id(&item, id), 0);
	CHECK_STR_EQ(id, "(00)106141412345678908");
	item.kind = (enum gs1_kind)7;
	CHECK_INT_EQ(gs1_item_id(&item, id), SL_EINVAL);
}

static void test_lot_key(void)
{
	char key[GS1_LOT_KEY_SIZE];
	CHECK_INT_EQ(gs1_lot_key("09506000134352", "LOT1", key), 0);
	CHECK_STR_EQ(key, "(01)09506000134352(10)LOT1");
	CHECK_INT_EQ(gs1_lot_key("09506000134352", "12345678901234567890", key), 0);
	CHECK_STR_EQ(key, "(01)09506000134352(10)12345678901234567890");
	CHECK_INT_EQ(gs1_lot_key("09506000134353", "LOT1", key), SL_ECHECKDIGIT);
	CHECK_INT_EQ(gs1_lot_key("9506000134352", "LOT1", key), SL_ELENGTH);
	CHECK_INT_EQ(gs1_lot_key("09506000134352", "", key), SL_ELENGTH);
	CHECK_INT_EQ(gs1_lot_key("09506000134352", "L T", key), SL_ECHARSET);
	CHECK_INT_EQ(gs1_lot_key("09506000134352", "123456789012345678901", key), SL_ELENGTH);
}

/* ---- formatting and round trips -------------------------------------------------------------- */

/* Golden outputs are short; a 256-byte buffer keeps GCC's format-truncation check on CHECK_STR_EQ
 * quiet (it sizes %s by the array). */
#define GOLDEN_OUT_BYTES 256

static void test_format_golden(void)
{
	struct gs1_item item;
	char out[GOLDEN_OUT_BYTES];
	REQUIRE(gs1_parse("(01)80614141123458(21)6789", &item, NULL) == 0);
	CHECK_INT_EQ(gs1_format_epc_uri(&item, 7, out, sizeof out), 0);
	CHECK_STR_EQ(out, "urn:epc:id:sgtin:0614141.812345.6789");
	CHECK_INT_EQ(gs1_format_epc_uri(&item, 12, out, sizeof out), 0);
	CHECK_STR_EQ(out, "urn:epc:id:sgtin:061414112345.8.6789");
	CHECK_INT_EQ(gs1_format_epc_uri(&item, 5, out, sizeof out), SL_EPREFIX);
	CHECK_INT_EQ(gs1_format_epc_uri(&item, 13, out, sizeof out), SL_EPREFIX);
	CHECK_INT_EQ(gs1_format_epc_uri(&item, 0, out, sizeof out), SL_EPREFIX);

	REQUIRE(gs1_parse("(00)106141412345678908", &item, NULL) == 0);
	CHECK_INT_EQ(gs1_format_epc_uri(&item, 7, out, sizeof out), 0);
	CHECK_STR_EQ(out, "urn:epc:id:sscc:0614141.1234567890");
	CHECK_INT_EQ(gs1_format_digital_link(&item, NULL, out, sizeof out), 0);
	CHECK_STR_EQ(out, "https://id.gs1.org/00/106141412345678908");
	CHECK_INT_EQ(gs1_format_element_string(&item, out, sizeof out), 0);
	CHECK_STR_EQ(out, "(00)106141412345678908");

	REQUIRE(gs1_parse("https://x.example/01/09506000134352/21/ABC123?10=LOT1&17=270131", &item, NULL) == 0);
	CHECK_INT_EQ(gs1_format_element_string(&item, out, sizeof out), 0);
	CHECK_STR_EQ(out, "(01)09506000134352(21)ABC123(10)LOT1(17)270131");
	CHECK_INT_EQ(gs1_format_digital_link(&item, NULL, out, sizeof out), 0);
	CHECK_STR_EQ(out, "https://id.gs1.org/01/09506000134352/21/ABC123?10=LOT1&17=270131");
	CHECK_INT_EQ(gs1_format_digital_link(&item, "https://example.com/dl/", out, sizeof out), 0);
	CHECK_STR_EQ(out, "https://example.com/dl/01/09506000134352/21/ABC123?10=LOT1&17=270131");
	item.lot[0] = '\0';
	CHECK_INT_EQ(gs1_format_digital_link(&item, NULL, out, sizeof out), 0);
	CHECK_STR_EQ(out, "https://id.gs1.org/01/09506000134352/21/ABC123?17=270131");
	CHECK_INT_EQ(gs1_format_digital_link(&item, "ftp://example.com", out, sizeof out), SL_EINVAL);
	CHECK_INT_EQ(gs1_format_digital_link(&item, "https://example.com?x=1", out, sizeof out), SL_EINVAL);
	CHECK_INT_EQ(gs1_format_digital_link(&item, "https://", out, sizeof out), SL_EINVAL);

	/* escaping: TDS escapes only " % & / < > ?; Digital Link escapes all but unreserved */
	REQUIRE(gs1_parse("urn:epc:id:sgtin:0614141.812345.a%2Fb%25(c)!*'", &item, NULL) == 0);
	CHECK_STR_EQ(item.serial, "a/b%(c)!*'");
	CHECK_INT_EQ(gs1_format_epc_uri(&item, 7, out, sizeof out), 0);
	CHECK_STR_EQ(out, "urn:epc:id:sgtin:0614141.812345.a%2Fb%25(c)!*'");
	CHECK_INT_EQ(gs1_format_digital_link(&item, NULL, out, sizeof out), 0);
	CHECK_STR_EQ(out, "https://id.gs1.org/01/80614141123458/21/a%2Fb%25%28c%29%21%2A%27");

	/* buffer too small: SL_ELIMIT and an empty string */
	char small[10];
	CHECK_INT_EQ(gs1_format_epc_uri(&item, 7, small, sizeof small), SL_ELIMIT);
	CHECK_STR_EQ(small, "");
}

static void test_format_ambiguous_element_string(void)
{
	struct gs1_item item;
	char out[GOLDEN_OUT_BYTES];
	/* serial "A(10)B" is legal CSET 82: readable from the URI forms, not writable bracketed */
	REQUIRE(gs1_parse("urn:epc:id:sgtin:0614141.812345.A(10)B", &item, NULL) == 0);
	CHECK_STR_EQ(item.serial, "A(10)B");
	CHECK_INT_EQ(gs1_format_element_string(&item, out, sizeof out), SL_ESYNTAX);
	CHECK_STR_EQ(out, "");
	char id[GS1_ITEM_ID_SIZE];
	CHECK_INT_EQ(gs1_item_id(&item, id), 0);
	CHECK_STR_EQ(id, "(01)80614141123458(21)A(10)B");
	CHECK_INT_EQ(gs1_format_digital_link(&item, NULL, out, sizeof out), 0);
	CHECK_STR_EQ(out, "https://id.gs1.org/01/80614141123458/21/A%2810%29B");
	/* a lot with an AI-shaped run is refused too; one without is fine */
	strcpy(item.serial, "S");
	strcpy(item.lot, "L(17)1");
	CHECK_INT_EQ(gs1_format_element_string(&item, out, sizeof out), SL_ESYNTAX);
	strcpy(item.lot, "L(1)7(");
	CHECK_INT_EQ(gs1_format_element_string(&item, out, sizeof out), 0);
	CHECK_STR_EQ(out, "(01)80614141123458(21)S(10)L(1)7(");
}

static bool item_same_identity(const struct gs1_item *a, const struct gs1_item *b)
{
	return a->kind == b->kind && strcmp(a->gtin, b->gtin) == 0 && strcmp(a->serial, b->serial) == 0 &&
	       strcmp(a->sscc, b->sscc) == 0;
}

static bool item_same(const struct gs1_item *a, const struct gs1_item *b)
{
	return item_same_identity(a, b) && strcmp(a->lot, b->lot) == 0 && strcmp(a->expiry, b->expiry) == 0;
}

static void round_trip_one(const struct gs1_item *item)
{
	char out[GS1_TEXT_CHARS_MAX + 1];
	struct gs1_item back;
	char id[GS1_ITEM_ID_SIZE];
	REQUIRE(gs1_item_id(item, id) == 0);
	REQUIRE(gs1_item_id_parse(id, strlen(id), &back, NULL) == 0);
	CHECK(item_same_identity(item, &back));
	int rc = gs1_format_element_string(item, out, sizeof out);
	CHECK(rc == 0 || rc == SL_ESYNTAX);
	if (rc == 0) {
		REQUIRE(gs1_parse(out, &back, NULL) == 0);
		CHECK(item_same(item, &back));
	}
	static const char *const bases[] = { NULL, "http://example.com:8080/a/01/b", "HTTPS://x-y.example/" };
	for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
		REQUIRE(gs1_format_digital_link(item, bases[b], out, sizeof out) == 0);
		REQUIRE(gs1_parse(out, &back, NULL) == 0);
		CHECK(item_same(item, &back));
	}
	for (unsigned prefix = 6; prefix <= 12; prefix++) {
		REQUIRE(gs1_format_epc_uri(item, prefix, out, sizeof out) == 0);
		REQUIRE(gs1_parse(out, &back, NULL) == 0);
		CHECK(item_same_identity(item, &back));
	}
}

static void test_round_trips(void)
{
	/* every parse_ok case, then serials made of every CSET 82 character */
	for (size_t i = 0; i < sizeof parse_ok_cases / sizeof parse_ok_cases[0]; i++) {
		struct gs1_item item;
		REQUIRE(gs1_parse(parse_ok_cases[i].text, &item, NULL) == 0);
		round_trip_one(&item);
	}
	for (size_t start = 0; start < 82; start += 20) {
		struct gs1_item item;
		memset(&item, 0, sizeof item);
		item.kind = GS1_KIND_PACK;
		strcpy(item.gtin, "09506000134352");
		size_t n = 82 - start < 20 ? 82 - start : 20;
		memcpy(item.serial, cset82_all + start, n);
		memcpy(item.lot, cset82_all + (start + 7) % 62, 20);
		strcpy(item.expiry, "240229");
		round_trip_one(&item);
	}
}

static const struct test_case cases[] = {
	TEST_CASE(test_check_digit_table),
	TEST_CASE(test_gtin_normalize),
	TEST_CASE(test_sscc_gln_validate),
	TEST_CASE(test_cset82_exact_set),
	TEST_CASE(test_cset82_lengths),
	TEST_CASE(test_date_validate),
	TEST_CASE(test_parse_table),
	TEST_CASE(test_parse_bad_table),
	TEST_CASE(test_parse_length_limit),
	TEST_CASE(test_item_id_parse),
	TEST_CASE(test_item_id_format),
	TEST_CASE(test_lot_key),
	TEST_CASE(test_format_golden),
	TEST_CASE(test_format_ambiguous_element_string),
	TEST_CASE(test_round_trips),
};

TEST_MAIN(cases)
