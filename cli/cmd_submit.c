/* cli/cmd_submit.c — apply pre-signed records: files of hex lines as written by --sign-only
 * (a packaging line's own host signs; the site's ledger host submits). Records that do not decode
 * are refused before anything is applied, naming file, line and field; records that decode are
 * applied as one batch, and each outcome (including BAD_SIGNATURE, UNKNOWN_KEY) is recorded.
 * Also the reader of such files (cli_record_file_read), which `registry cosign` uses too. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/error.h"

#define RECORD_LINE_BYTES_MAX (2 * RECORD_BYTES_MAX + 2) /* hex of the largest record + newline + NUL */

struct submission {
	struct sl_buf bytes;
	size_t *offsets; /* start of each record in bytes */
	size_t count;
};

/* One line: cut its end, skip it when blank or a comment (*len = 0), else decode its hex into
 * bytes (RECORD_BYTES_MAX) and set *len. */
static int record_line_decode(const char *path, unsigned long number, char *line, uint8_t *bytes, size_t *len)
{
	size_t hex_len = strcspn(line, "\r\n");
	line[hex_len] = '\0';
	*len = 0;
	if (hex_len == 0 || line[0] == '#')
		return 0;
	if (hex_len % 2 != 0 || hex_len / 2 > RECORD_BYTES_MAX)
		return cli_fail("%s:%lu: not a record (odd length or over %d bytes)", path, number, RECORD_BYTES_MAX);
	int rc = crypto_hex_decode(line, bytes, hex_len / 2);
	if (rc != 0)
		return cli_fail("%s:%lu: not hex (%s)", path, number, sl_strerror(rc));
	*len = hex_len / 2;
	return 0;
}

int cli_record_file_read(const char *path, unsigned long lines_max,
			 int (*record)(void *ctx, const char *path, unsigned long number, const uint8_t *bytes,
				       size_t len),
			 void *ctx)
{
	FILE *file = fopen(path, "r");
	if (file == NULL)
		return cli_fail("cannot open %s: %s", path, strerror(errno));
	char *line = malloc(RECORD_LINE_BYTES_MAX + 1);
	uint8_t *bytes = malloc(RECORD_BYTES_MAX);
	int rc = line == NULL || bytes == NULL ? cli_fail("out of memory") : 0;
	unsigned long number = 0;
	while (rc == 0 && number < lines_max && fgets(line, RECORD_LINE_BYTES_MAX + 1, file) != NULL) {
		size_t len = 0;
		number++;
		if (strchr(line, '\n') == NULL && !feof(file))
			rc = cli_fail("%s:%lu: line too long for a record", path, number);
		else
			rc = record_line_decode(path, number, line, bytes, &len);
		if (rc == 0 && len > 0)
			rc = record(ctx, path, number, bytes, len);
	}
	if (rc == 0 && ferror(file))
		rc = cli_fail("reading %s failed", path);
	free(bytes);
	free(line);
	fclose(file);
	return rc;
}

/* One record of a file: it must decode; then its bytes join the submission. */
static int submission_add(void *ctx, const char *path, unsigned long number, const uint8_t *bytes, size_t len)
{
	struct submission *s = ctx;
	if (s->count >= APPLY_BATCH_RECORDS_MAX)
		return cli_fail("%s:%lu: more than %d records in one submission", path, number,
				APPLY_BATCH_RECORDS_MAX);
	struct record record;
	struct sl_error_detail detail = { "" };
	int rc = record_decode(bytes, len, &record, &detail);
	if (rc != 0)
		return cli_fail("%s:%lu: malformed record: %s%s%s", path, number, sl_strerror(rc),
				detail.text[0] ? ": " : "", detail.text);
	record_clear(&record);
	size_t start = s->bytes.len;
	rc = sl_buf_append(&s->bytes, bytes, len);
	if (rc != 0)
		return cli_fail("%s:%lu: %s", path, number, sl_strerror(rc));
	s->offsets[s->count++] = start;
	return 0;
}

int cli_cmd_submit(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	if (args->positional_count == 0)
		return cli_fail("give one or more files of signed records (from --sign-only)");
	struct submission s;
	memset(&s, 0, sizeof s);
	sl_buf_init(&s.bytes, (size_t)RECORD_BYTES_MAX * APPLY_BATCH_RECORDS_MAX);
	s.offsets = calloc(APPLY_BATCH_RECORDS_MAX, sizeof(*s.offsets));
	struct ledger_input *inputs = calloc(APPLY_BATCH_RECORDS_MAX, sizeof(*inputs));
	int rc = (s.offsets == NULL || inputs == NULL) ? cli_fail("out of memory") : 0;
	for (size_t i = 0; rc == 0 && i < args->positional_count; i++)
		rc = cli_record_file_read(args->positional[i], ULONG_MAX, submission_add, &s);
	if (rc == 0 && s.count == 0)
		rc = cli_fail("no records in the given files");
	for (size_t i = 0; rc == 0 && i < s.count; i++) {
		size_t end = i + 1 < s.count ? s.offsets[i + 1] : s.bytes.len;
		inputs[i].bytes = s.bytes.data + s.offsets[i];
		inputs[i].len = end - s.offsets[i];
	}
	if (rc == 0 && cli_arg(args, "node") != NULL) {
		rc = cli_node_submit(args, inputs, s.count, NULL);
	} else if (rc == 0) {
		struct cli_ledger ledger;
		rc = cli_ledger_open(args, true, &ledger);
		if (rc == 0) {
			rc = cli_records_apply(args, &ledger, inputs, s.count, NULL);
			cli_ledger_close(&ledger);
		}
	}
	free(inputs);
	free(s.offsets);
	sl_buf_free(&s.bytes);
	return rc;
}
