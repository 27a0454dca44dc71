/* cli/records.c — the shared path of every record command: fill the envelope, sign, then apply
 * to the local ledger as one batch (embedded mode) or print the signed records (--sign-only),
 * and report each record's outcome. */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "ledger/entry.h"
#include "ledger/reason.h"
#include "util/error.h"

#define CLI_EVENT_TIME_MS_MAX 253402300799999LL /* 9999-12-31T23:59:59.999Z: beyond is a typo */

/* RFC 3339 UTC ("2026-11-24T10:00:00Z", optional ".mmm") or integer milliseconds since the epoch. */
static int event_time_parse(const char *text, int64_t *out_ms)
{
	if (text == NULL) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		*out_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
		return 0;
	}
	uint64_t ms = 0;
	if (strchr(text, 'T') == NULL) {
		int rc = cli_parse_u64("event-time", text, CLI_EVENT_TIME_MS_MAX, &ms);
		*out_ms = (int64_t)ms;
		return rc;
	}
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	unsigned millis = 0;
	int consumed = 0;
	if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		   &tm.tm_sec, &consumed) != 6)
		return cli_fail("--event-time: expected 2026-11-24T10:00:00Z, got '%s'", text);
	const char *rest = text + consumed;
	if (rest[0] == '.') {
		int digits = 0;
		for (rest++; *rest >= '0' && *rest <= '9'; rest++, digits++)
			if (digits < 3)
				millis = millis * 10 + (unsigned)(*rest - '0');
		for (; digits < 3; digits++)
			millis *= 10;
	}
	if (strcmp(rest, "Z") != 0 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 1970)
		return cli_fail("--event-time: expected UTC like 2026-11-24T10:00:00Z, got '%s'", text);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t seconds = timegm(&tm);
	*out_ms = (int64_t)seconds * 1000 + millis;
	return 0;
}

static const char *default_actor(void)
{
	const char *user = getenv("USER");
	if (user != NULL && user[0] != '\0')
		return user;
	struct passwd *pw = getpwuid(getuid());
	return pw != NULL ? pw->pw_name : "unknown";
}

/* Fill the envelope of every record from the options; 0 or CLI_EXIT_USAGE. */
static int envelope_fill(const struct cli_args *args, struct record *records, size_t count, const char *site,
			 uint8_t (*supersedes)[RECORD_ID_BYTES])
{
	int64_t event_time_ms = 0;
	int rc = event_time_parse(cli_arg(args, "event-time"), &event_time_ms);
	if (rc != 0)
		return rc;
	int meaning = MEANING_AUTHORED;
	if (cli_arg(args, "meaning") != NULL) {
		meaning = record_meaning_from_name(cli_arg(args, "meaning"));
		if (meaning < 0)
			return cli_fail("--meaning: expected authored, reviewed or approved");
	}
	const char *actor = cli_arg(args, "actor") ? cli_arg(args, "actor") : default_actor();
	if (strlen(actor) == 0 || strlen(actor) > RECORD_ACTOR_CHARS_MAX)
		return cli_fail("--actor: 1 to %d characters", RECORD_ACTOR_CHARS_MAX);
	const char *justification = cli_arg(args, "justification");
	if (justification != NULL && strlen(justification) > RECORD_REASON_CHARS_MAX)
		return cli_fail("--justification: at most %d characters", RECORD_REASON_CHARS_MAX);
	const char *supersedes_hex = cli_arg(args, "supersedes");
	if (supersedes_hex != NULL && crypto_hex_decode(supersedes_hex, *supersedes, RECORD_ID_BYTES) != 0)
		return cli_fail("--supersedes: expected a 64-digit hex record id");
	for (size_t i = 0; i < count; i++) {
		struct record *record = &records[i];
		record->version = RECORD_FORMAT_VERSION;
		record->site = sl_str_from_cstr(site);
		record->actor = sl_str_from_cstr(actor);
		record->meaning = (enum record_meaning)meaning;
		record->event_time_ms = event_time_ms;
		record->has_reason = justification != NULL;
		if (justification != NULL)
			record->reason = sl_str_from_cstr(justification);
		record->has_supersedes = supersedes_hex != NULL;
		if (supersedes_hex != NULL)
			memcpy(record->supersedes, *supersedes, RECORD_ID_BYTES);
	}
	return 0;
}

static int sign_only_write(const struct cli_args *args, const struct ledger_input *inputs, size_t count)
{
	const char *path = cli_arg(args, "out");
	FILE *out = path ? fopen(path, "a") : stdout;
	if (out == NULL)
		return cli_fail("cannot open %s: %s", path, strerror(errno));
	for (size_t i = 0; i < count; i++) {
		for (size_t j = 0; j < inputs[i].len; j++)
			fprintf(out, "%02x", inputs[i].bytes[j]);
		fputc('\n', out);
	}
	int failed = ferror(out);
	if (path != NULL && fclose(out) != 0)
		failed = 1;
	if (failed)
		return cli_fail("writing %s failed", path ? path : "stdout");
	return CLI_EXIT_ACCEPTED;
}

static int key_load(const struct cli_args *args, const struct cli_ledger *ledger, struct crypto_secret_key *sk,
		    char site[RECORD_SITE_SIZE])
{
	const char *path = cli_arg(args, "key");
	if (path == NULL && ledger != NULL && ledger->key_path[0] != '\0')
		path = ledger->key_path;
	if (path == NULL)
		return cli_fail("--key FILE is required with --sign-only or --node and no --data");
	int rc = crypto_secret_key_read(path, sk, site, RECORD_SITE_SIZE);
	if (rc != 0)
		return cli_fail("cannot use key %s: %s", path, sl_strerror(rc));
	return 0;
}

/* Sign and encode every record into one buffer; inputs[] point into it. */
static int records_encode(struct record *records, size_t count, const struct crypto_secret_key *sk,
			  struct sl_buf *encoded, struct ledger_input *inputs)
{
	size_t *offsets = calloc(count, sizeof(*offsets));
	if (offsets == NULL)
		return cli_fail("out of memory");
	int rc = 0;
	for (size_t i = 0; i < count && rc == 0; i++) {
		offsets[i] = encoded->len;
		rc = record_sign(&records[i], sk);
		if (rc == 0)
			rc = record_encode(&records[i], encoded);
		if (rc != 0)
			rc = cli_fail("cannot encode record %zu: %s", i + 1, sl_strerror(rc));
	}
	for (size_t i = 0; i < count && rc == 0; i++) {
		size_t end = i + 1 < count ? offsets[i + 1] : encoded->len;
		inputs[i].bytes = encoded->data + offsets[i];
		inputs[i].len = end - offsets[i];
	}
	free(offsets);
	return rc;
}

int cli_records_finish(const struct cli_args *args, struct record *records, size_t count,
		       const struct cli_extra_output *extra)
{
	bool sign_only = cli_flag(args, "sign-only");
	struct cli_ledger ledger;
	memset(&ledger, 0, sizeof ledger);
	bool remote = cli_arg(args, "node") != NULL; /* sign here, submit to a node (cli/cmd_node.c) */
	if ((!sign_only && !remote) || cli_arg(args, "data") != NULL) {
		int rc = cli_ledger_open(args, !sign_only, &ledger);
		if (rc != 0)
			return rc;
	}
	struct crypto_secret_key sk;
	char key_site[RECORD_SITE_SIZE];
	int rc = key_load(args, ledger.st ? &ledger : NULL, &sk, key_site);
	const char *site = ledger.st ? ledger.site : key_site;
	uint8_t supersedes[RECORD_ID_BYTES];
	if (rc == 0)
		rc = envelope_fill(args, records, count, site, &supersedes);
	struct sl_buf encoded;
	sl_buf_init(&encoded, (size_t)RECORD_BYTES_MAX * APPLY_BATCH_RECORDS_MAX);
	struct ledger_input *inputs = calloc(count ? count : 1, sizeof(*inputs));
	if (rc == 0 && inputs == NULL)
		rc = cli_fail("out of memory");
	if (rc == 0)
		rc = records_encode(records, count, &sk, &encoded, inputs);
	crypto_secret_key_wipe(&sk);
	if (rc == 0)
		rc = sign_only ? sign_only_write(args, inputs, count)
		     : remote  ? cli_node_submit(args, inputs, count, extra)
			       : cli_records_apply(args, &ledger, inputs, count, extra);
	free(inputs);
	sl_buf_free(&encoded);
	cli_ledger_close(&ledger);
	return rc;
}

/* Ledger time for a local batch: the wall clock, but never before the last entry's (monotonic). */
static int ledger_time_next(store *st, uint64_t *out_ms)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	uint64_t now_ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
	store_txn *txn = NULL;
	int rc = store_txn_begin(st, false, &txn);
	if (rc != 0)
		return rc;
	uint64_t count = 0;
	rc = store_ledger_count(txn, &count);
	if (rc == 0 && count > 0) {
		const uint8_t *bytes;
		size_t len;
		struct ledger_entry entry;
		rc = store_ledger_get(txn, count, &bytes, &len);
		if (rc == 0)
			rc = entry_decode(bytes, len, &entry, NULL);
		if (rc == 0 && entry.ledger_time_ms > now_ms)
			now_ms = entry.ledger_time_ms;
	}
	store_txn_abort(txn);
	*out_ms = now_ms;
	return rc;
}

static void result_print(FILE *out, bool json, const struct ledger_input *input, const struct ledger_result *result)
{
	struct record record;
	bool decoded = record_decode(input->bytes, input->len, &record, NULL) == 0;
	const char *type = decoded ? record_type_name(record.type) : "(malformed)";
	const char *outcome = ledger_outcome_name(result->outcome);
	if (json) {
		fprintf(out, "{\"seq\":%" PRIu64 ",\"type\":", result->seq);
		cli_json_cstring(out, type ? type : "?");
		fprintf(out, ",\"record_id\":");
		cli_json_hex(out, result->record_id, RECORD_ID_BYTES);
		fprintf(out, ",\"outcome\":");
		cli_json_cstring(out, outcome ? outcome : "?");
		if (result->item >= 0) {
			fprintf(out, ",\"item_index\":%d", (int)result->item);
			if (decoded && (size_t)result->item < record.item_count) {
				fprintf(out, ",\"item\":");
				cli_json_string(out, record.items[result->item].ptr, record.items[result->item].len);
			}
		}
		fprintf(out, "}");
	} else {
		char id[2 * RECORD_ID_BYTES + 1];
		crypto_hex_encode(result->record_id, RECORD_ID_BYTES, id);
		fprintf(out, "%-8s %-20s seq %-6" PRIu64 " id %.16s", result->outcome == OUTCOME_ACCEPTED ? "accepted" : "rejected",
			type ? type : "?", result->seq, id);
		if (result->outcome != OUTCOME_ACCEPTED)
			fprintf(out, "  %s: %s", outcome ? outcome : "?", ledger_outcome_description(result->outcome));
		if (result->item >= 0 && decoded && (size_t)result->item < record.item_count)
			fprintf(out, "  (item %d: %.*s)", (int)result->item, (int)record.items[result->item].len,
				record.items[result->item].ptr);
		fputc('\n', out);
	}
	if (decoded)
		record_clear(&record);
}

int cli_records_apply(const struct cli_args *args, struct cli_ledger *ledger, const struct ledger_input *inputs,
		      size_t count, const struct cli_extra_output *extra)
{
	if (count > APPLY_BATCH_RECORDS_MAX)
		return cli_fail("%zu records in one batch; at most %d", count, APPLY_BATCH_RECORDS_MAX);
	struct ledger_result *results = calloc(count ? count : 1, sizeof(*results));
	if (results == NULL)
		return cli_fail("out of memory");
	uint64_t ledger_time_ms = 0;
	int rc = ledger_time_next(ledger->st, &ledger_time_ms);
	if (rc == 0)
		rc = ledger_apply_batch(ledger->st, inputs, count, ledger_time_ms, results, 0);
	if (rc != 0) {
		free(results);
		return cli_fail("nothing was applied: %s (%s)", sl_strerror(rc), store_last_error(ledger->st));
	}
	int exit_code = cli_records_print(args, inputs, results, count, extra);
	free(results);
	return exit_code;
}

int cli_records_print(const struct cli_args *args, const struct ledger_input *inputs,
		      const struct ledger_result *results, size_t count, const struct cli_extra_output *extra)
{
	bool json = cli_flag(args, "json");
	int exit_code = CLI_EXIT_ACCEPTED;
	if (json)
		printf("{\"results\":[");
	for (size_t i = 0; i < count; i++) {
		if (json && i > 0)
			putchar(',');
		result_print(stdout, json, &inputs[i], &results[i]);
		if (results[i].outcome != OUTCOME_ACCEPTED)
			exit_code = CLI_EXIT_REJECTED;
	}
	if (json)
		printf("]");
	if (extra != NULL && extra->print != NULL)
		extra->print(extra->ctx, stdout, json);
	if (json)
		printf("}\n");
	return exit_code;
}
