/* cli/cmd_submit.c — apply pre-signed records: files of hex lines as written by --sign-only
 * (a packaging line's own host signs; the site's ledger host submits). Records that do not decode
 * are refused before anything is applied, naming file, line and field; records that decode are
 * applied as one batch, and each outcome (including BAD_SIGNATURE, UNKNOWN_KEY) is recorded. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/error.h"

#define SUBMIT_LINE_BYTES_MAX (2 * RECORD_BYTES_MAX + 2) /* hex of the largest record + newline + NUL */

struct submission {
	struct sl_buf bytes;
	size_t *offsets; /* start of each record in bytes */
	size_t count;
};

static int submission_add_line(struct submission *s, const char *path, unsigned long number, char *line)
{
	size_t len = strcspn(line, "\r\n");
	line[len] = '\0';
	if (len == 0 || line[0] == '#')
		return 0;
	if (len % 2 != 0 || len / 2 > RECORD_BYTES_MAX)
		return cli_fail("%s:%lu: not a record (odd length or over %d bytes)", path, number, RECORD_BYTES_MAX);
	if (s->count >= APPLY_BATCH_RECORDS_MAX)
		return cli_fail("%s:%lu: more than %d records in one submission", path, number,
				APPLY_BATCH_RECORDS_MAX);
	size_t start = s->bytes.len;
	int rc = sl_buf_reserve(&s->bytes, len / 2);
	if (rc == 0)
		rc = crypto_hex_decode(line, s->bytes.data + start, len / 2);
	if (rc != 0)
		return cli_fail("%s:%lu: not hex (%s)", path, number, sl_strerror(rc));
	s->bytes.len += len / 2;
	struct record record;
	struct sl_error_detail detail = { "" };
	rc = record_decode(s->bytes.data + start, len / 2, &record, &detail);
	if (rc != 0)
		return cli_fail("%s:%lu: malformed record: %s%s%s", path, number, sl_strerror(rc),
				detail.text[0] ? ": " : "", detail.text);
	record_clear(&record);
	s->offsets[s->count++] = start;
	return 0;
}

static int submission_read(struct submission *s, const char *path)
{
	FILE *file = fopen(path, "r");
	if (file == NULL)
		return cli_fail("cannot open %s: %s", path, strerror(errno));
	char *line = malloc(SUBMIT_LINE_BYTES_MAX + 1);
	if (line == NULL) {
		fclose(file);
		return cli_fail("out of memory");
	}
	int rc = 0;
	unsigned long number = 0;
	while (rc == 0 && fgets(line, SUBMIT_LINE_BYTES_MAX + 1, file) != NULL) {
		number++;
		if (strchr(line, '\n') == NULL && !feof(file))
			rc = cli_fail("%s:%lu: line too long for a record", path, number);
		else
			rc = submission_add_line(s, path, number, line);
	}
	if (rc == 0 && ferror(file))
		rc = cli_fail("reading %s failed", path);
	free(line);
	fclose(file);
	return rc;
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
		rc = submission_read(&s, args->positional[i]);
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
