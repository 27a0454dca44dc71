/* cli/cmd_commission.c — commission packs: serials given, read from a file, or generated.
 *
 * Generated serials: 12 characters drawn uniformly from 0-9A-Z with the OS CSPRNG. EU FMD
 * (Delegated Regulation (EU) 2016/161, Art. 4(b)) requires the probability of guessing a serial to
 * be negligible and below 1/10,000: with 36^12 ≈ 4.7e18 possible serials, even 10^9 packs of one
 * GTIN give a guess probability of about 2e-10.
 * More serials than RECORD_ITEMS_MAX are split into several records applied as one batch.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "crypto/random.h"
#include "util/error.h"

#define SERIAL_GENERATED_CHARS 12
#define SERIAL_ALPHABET "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
/* One command commissions at most this many packs: a whole lot of a typical line-day fits, and
 * memory stays ~25 MB. */
#define COMMISSION_SERIALS_MAX 1000000
#define SERIALS_FILE_LINE_MAX 1024

struct commission {
	char gtin[GS1_GTIN_DIGITS + 1];
	char lot[GS1_LOT_CHARS_MAX + 1];
	char expiry[GS1_DATE_DIGITS + 1];
	char (*serials)[GS1_SERIAL_CHARS_MAX + 1];
	size_t count;
	size_t cap;
	bool generated;
};

static int serial_add(struct commission *c, const char *serial, size_t len)
{
	struct sl_error_detail detail = { "" };
	int rc = gs1_cset82_validate(serial, len, GS1_SERIAL_CHARS_MAX, &detail);
	if (rc != 0)
		return cli_fail("serial '%.*s': %s %s", (int)len, serial, sl_strerror(rc), detail.text);
	if (c->count >= COMMISSION_SERIALS_MAX)
		return cli_fail("more than %d serials in one command", COMMISSION_SERIALS_MAX);
	if (c->count == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		void *grown = realloc(c->serials, cap * sizeof(*c->serials));
		if (grown == NULL)
			return cli_fail("out of memory");
		c->serials = grown;
		c->cap = cap;
	}
	memcpy(c->serials[c->count], serial, len);
	c->serials[c->count][len] = '\0';
	c->count++;
	return 0;
}

/* Take GTIN, lot, expiry from a full identifier when the options did not give them, else check. */
static int attributes_merge(struct commission *c, const struct gs1_item *item, const char *text)
{
	if (item->kind != GS1_KIND_PACK)
		return cli_fail("'%s' is not a pack (SGTIN) identifier", text);
	if (c->gtin[0] == '\0')
		strcpy(c->gtin, item->gtin);
	if (c->lot[0] == '\0')
		strcpy(c->lot, item->lot);
	if (c->expiry[0] == '\0')
		strcpy(c->expiry, item->expiry);
	if (strcmp(c->gtin, item->gtin) != 0 || (item->lot[0] && strcmp(c->lot, item->lot) != 0) ||
	    (item->expiry[0] && strcmp(c->expiry, item->expiry) != 0))
		return cli_fail("'%s' does not match the GTIN, lot or expiry of the others", text);
	return serial_add(c, item->serial, strlen(item->serial));
}

static int serial_or_identifier_add(struct commission *c, const char *text)
{
	if (text[0] == '(' || strchr(text, ':') != NULL) {
		char id[GS1_ITEM_ID_SIZE];
		struct gs1_item item;
		int rc = cli_item_id_parse(text, id, &item);
		return rc != 0 ? rc : attributes_merge(c, &item, text);
	}
	return serial_add(c, text, strlen(text));
}

static int serials_file_read(struct commission *c, const char *path)
{
	FILE *file = fopen(path, "r");
	if (file == NULL)
		return cli_fail("cannot open %s: %s", path, strerror(errno));
	char line[SERIALS_FILE_LINE_MAX];
	int rc = 0;
	unsigned long number = 0;
	while (rc == 0 && fgets(line, sizeof line, file) != NULL) {
		number++;
		size_t len = strcspn(line, "\r\n");
		if (line[len] == '\0' && !feof(file)) {
			rc = cli_fail("%s:%lu: line longer than %d characters", path, number, SERIALS_FILE_LINE_MAX - 2);
			break;
		}
		line[len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		rc = serial_or_identifier_add(c, line);
	}
	fclose(file);
	return rc;
}

static int serials_generate(struct commission *c, uint64_t count)
{
	c->generated = true;
	for (uint64_t i = 0; i < count; i++) {
		char serial[SERIAL_GENERATED_CHARS];
		for (size_t j = 0; j < SERIAL_GENERATED_CHARS; j++)
			serial[j] = SERIAL_ALPHABET[crypto_random_uniform(sizeof(SERIAL_ALPHABET) - 1)];
		int rc = serial_add(c, serial, SERIAL_GENERATED_CHARS);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int commission_collect(struct commission *c, const struct cli_args *args)
{
	struct sl_error_detail detail = { "" };
	const char *gtin = cli_arg(args, "gtin");
	if (gtin != NULL && gs1_gtin_normalize(gtin, c->gtin, &detail) != 0)
		return cli_fail("--gtin '%s' is not a valid GTIN: %s", gtin, detail.text);
	const char *lot = cli_arg(args, "lot");
	if (lot != NULL && (gs1_cset82_validate(lot, strlen(lot), GS1_LOT_CHARS_MAX, &detail) != 0))
		return cli_fail("--lot '%s': %s", lot, detail.text);
	if (lot != NULL)
		strcpy(c->lot, lot);
	const char *expiry = cli_arg(args, "expiry");
	if (expiry != NULL && gs1_date_validate(expiry, strlen(expiry), &detail) != 0)
		return cli_fail("--expiry '%s': %s (expected YYMMDD)", expiry, detail.text);
	if (expiry != NULL)
		strcpy(c->expiry, expiry);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < cli_arg_count(args, "serial"); i++)
		rc = serial_add(c, cli_arg_nth(args, "serial", i), strlen(cli_arg_nth(args, "serial", i)));
	for (size_t i = 0; rc == 0 && i < args->positional_count; i++)
		rc = serial_or_identifier_add(c, args->positional[i]);
	if (rc == 0 && cli_arg(args, "serials-file") != NULL)
		rc = serials_file_read(c, cli_arg(args, "serials-file"));
	if (rc == 0 && cli_arg(args, "count") != NULL) {
		uint64_t count = 0;
		rc = cli_parse_u64("count", cli_arg(args, "count"), COMMISSION_SERIALS_MAX, &count);
		if (rc == 0)
			rc = serials_generate(c, count);
	}
	if (rc != 0)
		return rc;
	if (c->gtin[0] == '\0' || c->lot[0] == '\0' || c->expiry[0] == '\0')
		return cli_fail("--gtin, --lot and --expiry are required (or identifiers that carry them)");
	if (c->count == 0)
		return cli_fail("no serials: give --serial, --count, --serials-file or identifiers");
	return 0;
}

static void serials_print(void *ctx, FILE *out, bool json)
{
	const struct commission *c = ctx;
	if (!c->generated)
		return;
	if (json) {
		fprintf(out, ",\"serials\":[");
		for (size_t i = 0; i < c->count; i++) {
			if (i)
				fputc(',', out);
			cli_json_cstring(out, c->serials[i]);
		}
		fputc(']', out);
		return;
	}
	for (size_t i = 0; i < c->count; i++)
		fprintf(out, "(01)%s(21)%s(10)%s(17)%s\n", c->gtin, c->serials[i], c->lot, c->expiry);
}

int cli_cmd_commission(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	struct commission c;
	memset(&c, 0, sizeof c);
	int rc = commission_collect(&c, args);
	size_t record_count = (c.count + RECORD_ITEMS_MAX - 1) / RECORD_ITEMS_MAX;
	struct record *records = NULL;
	struct sl_str *views = NULL;
	if (rc == 0) {
		records = calloc(record_count, sizeof(*records));
		views = calloc(c.count, sizeof(*views));
		if (records == NULL || views == NULL)
			rc = cli_fail("out of memory");
	}
	for (size_t i = 0; rc == 0 && i < c.count; i++)
		views[i] = sl_str_from_cstr(c.serials[i]);
	for (size_t r = 0; rc == 0 && r < record_count; r++) {
		record_init(&records[r]);
		records[r].type = RECORD_COMMISSION;
		records[r].gtin = sl_str_from_cstr(c.gtin);
		records[r].lot = sl_str_from_cstr(c.lot);
		records[r].expiry = sl_str_from_cstr(c.expiry);
		records[r].items = views + r * RECORD_ITEMS_MAX;
		size_t left = c.count - r * RECORD_ITEMS_MAX;
		records[r].item_count = left < RECORD_ITEMS_MAX ? left : RECORD_ITEMS_MAX;
	}
	if (rc == 0) {
		struct cli_extra_output extra = { serials_print, &c };
		rc = cli_records_finish(args, records, record_count, &extra);
	}
	free(records);
	free(views);
	free(c.serials);
	return rc;
}
