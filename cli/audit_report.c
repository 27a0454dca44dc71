/* cli/audit_report.c — `audit --report FILE.html` / `--report-json FILE`: for each record the
 * signer's printed name (actor), its site, the time, the meaning of the signature, the type, the
 * outcome, and whether a later accepted record superseded it (a correction); the summary first.
 *
 * Written by a second streaming pass over the bundle after the audit, so the summary (known only
 * at the end of the first pass) comes first and memory stays bounded (the corrections list,
 * AUDIT_CORRECTIONS_MAX, sorted for lookup). Text from records is escaped for HTML and JSON.
 * The summary includes the per-lot reconciliation recomputed from the replay (audit_replay.c);
 * audit_reconciliation_json/_text print it for `audit --json` and the text summary too.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/audit_internal.h"
#include "util/error.h"

struct report {
	FILE *html;
	FILE *json;
	const struct audit *a;
	uint64_t rows;
};

static void html_text(FILE *out, const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (c == '<')
			fputs("&lt;", out);
		else if (c == '>')
			fputs("&gt;", out);
		else if (c == '&')
			fputs("&amp;", out);
		else if (c == '"')
			fputs("&quot;", out);
		else if ((unsigned char)c < 0x20)
			fputc(' ', out);
		else
			fputc(c, out);
	}
}

static void time_text(int64_t ms, char out[32])
{
	time_t seconds = (time_t)(ms / 1000);
	struct tm tm;
	if (ms < 0 || gmtime_r(&seconds, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "%" PRId64 " ms", ms);
}

static int correction_compare(const void *x, const void *y)
{
	return memcmp(((const struct audit_correction *)x)->superseded, ((const struct audit_correction *)y)->superseded,
		      RECORD_ID_BYTES);
}

static uint64_t superseded_by(const struct audit *a, const uint8_t id[RECORD_ID_BYTES])
{
	struct audit_correction key;
	memcpy(key.superseded, id, RECORD_ID_BYTES);
	const struct audit_correction *hit =
		bsearch(&key, a->corrections, a->correction_count, sizeof key, correction_compare);
	return hit != NULL ? hit->by_seq : 0;
}

/* Why there are no per-lot numbers, or NULL when there are. */
static const char *reconciliation_missing(const struct audit *a)
{
	if (a->kind != BUNDLE_FULL)
		return "reconciliation needs a full export";
	return a->reconciled ? NULL : "the replay did not complete";
}

static void lot_json(FILE *out, const struct audit_lot *lot)
{
	fprintf(out, "{\"gtin\":\"%s\",\"lot\":", lot->gtin);
	cli_json_cstring(out, lot->lot);
	if (lot->error != 0) {
		fprintf(out, ",\"error\":");
		cli_json_cstring(out, sl_strerror(lot->error));
		fputc('}', out);
		return;
	}
	char now[32];
	query_time_format(lot->now_ms, now);
	/* the keys and meanings of `siteledger reconcile --json` (cmd_reconcile.c) */
	fprintf(out, ",\"as_of\":\"%s\",\"entries\":%" PRIu64 ",\"counts\":{", now, lot->entries);
	for (unsigned k = 0; k < RECONCILE_COUNT_MAX; k++)
		fprintf(out, "%s\"%s\":%" PRIu64, k ? "," : "", reconcile_count_name(k), lot->counts[k]);
	fprintf(out, "},\"releasable\":%s,\"counters_agree\":%s,\"exceptions\":%zu,\"open_exceptions\":%zu,\"unexplained\":[",
		lot->counts[RECONCILE_UNEXPLAINED] == 0 ? "true" : "false", lot->counters_agree ? "true" : "false",
		lot->exceptions, lot->open_exceptions);
	for (size_t i = 0; i < lot->unexplained_listed; i++) {
		fprintf(out, "%s", i ? "," : "");
		cli_json_cstring(out, lot->unexplained[i]);
	}
	fprintf(out, "],\"unexplained_truncated\":%s}",
		lot->unexplained_listed < lot->counts[RECONCILE_UNEXPLAINED] ? "true" : "false");
}

void audit_reconciliation_json(FILE *out, const struct audit *a)
{
	const char *missing = reconciliation_missing(a);
	if (missing != NULL) {
		fprintf(out, "{\"computed\":false,\"reason\":\"%s\"}", missing);
		return;
	}
	fprintf(out, "{\"computed\":true,\"lots_total\":%" PRIu64 ",\"lots_listed\":%zu,\"lots\":[", a->lots_total,
		a->lot_count);
	for (size_t i = 0; i < a->lot_count; i++) {
		fprintf(out, "%s", i ? "," : "");
		lot_json(out, &a->lots[i]);
	}
	fprintf(out, "]}");
}

void audit_reconciliation_text(FILE *out, const struct audit *a)
{
	const char *missing = reconciliation_missing(a);
	if (missing != NULL) {
		fprintf(out, "reconciliation: not computed (%s)\n", missing);
		return;
	}
	fprintf(out, "reconciliation recomputed from the replay: %" PRIu64 " %s\n", a->lots_total,
		a->lots_total == 1 ? "lot" : "lots");
	for (size_t i = 0; i < a->lot_count; i++) {
		const struct audit_lot *lot = &a->lots[i];
		fprintf(out, "  lot %s of GTIN %s:", lot->lot, lot->gtin);
		if (lot->error != 0) {
			fprintf(out, " not reconciled (%s)\n", sl_strerror(lot->error));
			continue;
		}
		for (unsigned k = 0; k < RECONCILE_COUNT_MAX; k++)
			if (lot->counts[k] != 0 || k == RECONCILE_COMMISSIONED || k == RECONCILE_UNEXPLAINED)
				fprintf(out, " %s %" PRIu64, reconcile_count_name(k), lot->counts[k]);
		fprintf(out, "; %zu exceptions (%zu open)%s\n", lot->exceptions, lot->open_exceptions,
			lot->counts[RECONCILE_UNEXPLAINED] ? "; unexplained must be 0 before release" : "");
		for (size_t k = 0; k < lot->unexplained_listed; k++)
			fprintf(out, "    unexplained: %s\n", lot->unexplained[k]);
	}
	if (a->lots_total > a->lot_count)
		fprintf(out, "  ... and %" PRIu64 " more lots (not listed)\n", a->lots_total - a->lot_count);
}

static void reconciliation_html(FILE *out, const struct audit *a)
{
	const char *missing = reconciliation_missing(a);
	fputs("<h2>Reconciliation (recomputed from the replay)</h2>\n", out);
	if (missing != NULL) {
		fprintf(out, "<p>Not computed: %s.</p>\n", missing);
		return;
	}
	fputs("<table class=\"lots\">\n<tr><th>GTIN</th><th>lot</th>", out);
	for (unsigned k = 0; k < RECONCILE_COUNT_MAX; k++)
		fprintf(out, "<th>%s</th>", reconcile_count_name(k));
	fputs("<th>exceptions (open)</th></tr>\n", out);
	for (size_t i = 0; i < a->lot_count; i++) {
		const struct audit_lot *lot = &a->lots[i];
		fprintf(out, "<tr><td>%s</td><td>", lot->gtin);
		html_text(out, lot->lot, strlen(lot->lot));
		fputs("</td>", out);
		if (lot->error != 0) {
			fprintf(out, "<td colspan=\"%d\" class=\"bad\">not reconciled: %s</td></tr>\n", RECONCILE_COUNT_MAX + 1,
				sl_strerror(lot->error));
			continue;
		}
		for (unsigned k = 0; k < RECONCILE_COUNT_MAX; k++)
			fprintf(out, "<td%s>%" PRIu64 "</td>",
				k == RECONCILE_UNEXPLAINED && lot->counts[k] ? " class=\"bad\"" : "", lot->counts[k]);
		fprintf(out, "<td>%zu (%zu)</td></tr>\n", lot->exceptions, lot->open_exceptions);
	}
	fputs("</table>\n", out);
	if (a->lots_total > a->lot_count)
		fprintf(out, "<p>%" PRIu64 " more lots not listed.</p>\n", a->lots_total - a->lot_count);
}

static void summary_write(struct report *r)
{
	const struct audit *a = r->a;
	const char *result = a->failures_total == 0 ? "PASSED" : "FAILED";
	if (r->html != NULL) {
		fprintf(r->html, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>siteledger audit</title>\n"
				 "<style>body{font-family:sans-serif}td,th{padding:2px 8px;border-bottom:1px solid #ddd}"
				 ".bad{color:#b00}</style></head><body>\n<h1>Audit of ");
		html_text(r->html, a->origin, strlen(a->origin));
		fprintf(r->html, ": %s</h1>\n<ul><li>%" PRIu64 " entries</li><li>%zu checkpoints</li><li>%" PRIu64
				 " signatures checked</li><li>%" PRIu64 " failures</li>",
			result, a->entries, a->checkpoint_count, a->signatures_checked, a->failures_total);
		for (int o = 0; o < AUDIT_OUTCOMES_MAX; o++)
			if (a->outcomes[o] > 0)
				fprintf(r->html, "<li>%s: %" PRIu64 "</li>", ledger_outcome_name(o) ? ledger_outcome_name(o) : "?",
					a->outcomes[o]);
		fprintf(r->html, "</ul>\n");
		reconciliation_html(r->html, a);
		for (size_t i = 0; i < a->failure_count; i++) {
			const struct audit_failure *f = &a->failures[i];
			fprintf(r->html, "<p class=\"bad\">entry %" PRIu64 " ", f->entry);
			html_text(r->html, f->where, strlen(f->where));
			fputs(": ", r->html);
			html_text(r->html, f->what, strlen(f->what));
			fputs(": expected ", r->html);
			html_text(r->html, f->expected, strlen(f->expected));
			fputs(", found ", r->html);
			html_text(r->html, f->found, strlen(f->found));
			fputs("</p>\n", r->html);
		}
		fprintf(r->html, "<table>\n<tr><th>seq</th><th>ledger time</th><th>signed at</th><th>site</th><th>signer</th>"
				 "<th>meaning</th><th>type</th><th>outcome</th><th>record id</th><th>superseded by</th></tr>\n");
	}
	if (r->json != NULL) {
		fprintf(r->json, "{\"summary\":{\"result\":\"%s\",\"origin\":", result);
		cli_json_cstring(r->json, a->origin);
		fprintf(r->json, ",\"entries\":%" PRIu64 ",\"checkpoints\":%zu,\"signatures_checked\":%" PRIu64
				 ",\"failures\":%" PRIu64 ",\"corrections_truncated\":%s,\"reconciliation\":",
			a->entries, a->checkpoint_count, a->signatures_checked, a->failures_total,
			a->corrections_truncated ? "true" : "false");
		audit_reconciliation_json(r->json, a);
		fputs("},\"records\":[", r->json);
	}
}

struct row {
	uint64_t seq;
	char ledger_time[32];
	char event_time[32];
	struct sl_str site, actor;
	const char *meaning, *type, *outcome;
	char id[2 * RECORD_ID_BYTES + 1];
	uint64_t superseded_by;
};

static void row_write(struct report *r, const struct row *w)
{
	if (r->html != NULL) {
		fprintf(r->html, "<tr><td>%" PRIu64 "</td><td>%s</td><td>%s</td><td>", w->seq, w->ledger_time, w->event_time);
		html_text(r->html, w->site.ptr, w->site.len);
		fputs("</td><td>", r->html);
		html_text(r->html, w->actor.ptr, w->actor.len);
		fprintf(r->html, "</td><td>%s</td><td>%s</td><td>%s</td><td><code>%.16s</code></td><td>", w->meaning, w->type,
			w->outcome, w->id);
		if (w->superseded_by != 0)
			fprintf(r->html, "%" PRIu64, w->superseded_by);
		fputs("</td></tr>\n", r->html);
	}
	if (r->json != NULL) {
		fprintf(r->json, "%s{\"seq\":%" PRIu64 ",\"ledger_time\":\"%s\",\"signed_at\":\"%s\",\"site\":",
			r->rows ? "," : "", w->seq, w->ledger_time, w->event_time);
		cli_json_string(r->json, w->site.ptr, w->site.len);
		fputs(",\"signer\":", r->json);
		cli_json_string(r->json, w->actor.ptr, w->actor.len);
		fprintf(r->json, ",\"meaning\":\"%s\",\"type\":\"%s\",\"outcome\":\"%s\",\"record_id\":\"%s\"", w->meaning,
			w->type, w->outcome, w->id);
		if (w->superseded_by != 0)
			fprintf(r->json, ",\"superseded_by\":%" PRIu64, w->superseded_by);
		fputc('}', r->json);
	}
	r->rows++;
}

static void entry_row(struct report *r, const uint8_t *bytes, size_t len)
{
	struct ledger_entry entry;
	struct record rec;
	struct row w;
	memset(&w, 0, sizeof w);
	if (entry_decode(bytes, len, &entry, NULL) != 0)
		return; /* the audit has named it */
	bool decoded = record_decode(entry.record, entry.record_len, &rec, NULL) == 0;
	w.seq = entry.seq;
	time_text((int64_t)entry.ledger_time_ms, w.ledger_time);
	w.outcome = ledger_outcome_name((int)entry.outcome) ? ledger_outcome_name((int)entry.outcome) : "?";
	w.meaning = w.type = "-";
	w.site = w.actor = SL_STR("");
	strcpy(w.event_time, "-");
	strcpy(w.id, "-");
	if (decoded) {
		uint8_t id[RECORD_ID_BYTES];
		time_text(rec.event_time_ms, w.event_time);
		w.site = rec.site;
		w.actor = rec.actor;
		w.meaning = record_meaning_name(rec.meaning) ? record_meaning_name(rec.meaning) : "?";
		w.type = record_type_name(rec.type) ? record_type_name(rec.type) : "?";
		if (record_id(&rec, id) == 0) {
			crypto_hex_encode(id, sizeof id, w.id);
			w.superseded_by = entry.outcome == OUTCOME_ACCEPTED ? superseded_by(r->a, id) : 0;
		}
	}
	row_write(r, &w);
	if (decoded)
		record_clear(&rec);
}

static int report_pass(struct report *r, const char *bundle_path)
{
	struct bundle_reader reader;
	int rc = bundle_reader_open(&reader, bundle_path);
	uint8_t *bytes = malloc(ENTRY_BYTES_MAX);
	if (rc == 0 && bytes == NULL)
		rc = SL_ENOMEM;
	while (rc == 0 && bundle_reader_next(&reader) == 0) {
		const char *rest = bundle_line_rest(&reader, "entry");
		if (rest == NULL)
			continue;
		const char *hex = strchr(rest, ' ');
		if (hex == NULL)
			continue;
		hex++;
		const char *space = strchr(hex, ' ');
		size_t len = 0;
		if (bundle_hex_decode(hex, space ? (size_t)(space - hex) : strlen(hex), bytes, ENTRY_BYTES_MAX, &len) == 0)
			entry_row(r, bytes, len);
	}
	free(bytes);
	if (reader.file != NULL || reader.line != NULL)
		bundle_reader_close(&reader);
	return rc;
}

int audit_report_write(struct audit *a, const char *bundle_path, const char *html_path, const char *json_path)
{
	struct report r = { .a = a };
	qsort(a->corrections, a->correction_count, sizeof *a->corrections, correction_compare);
	if (html_path != NULL && (r.html = fopen(html_path, "w")) == NULL)
		return SL_EIO;
	if (json_path != NULL && (r.json = fopen(json_path, "w")) == NULL) {
		if (r.html != NULL)
			fclose(r.html);
		return SL_EIO;
	}
	summary_write(&r);
	int rc = report_pass(&r, bundle_path);
	if (r.html != NULL) {
		fputs("</table>\n</body></html>\n", r.html);
		if (ferror(r.html) | fclose(r.html))
			rc = rc ? rc : SL_EIO;
	}
	if (r.json != NULL) {
		fputs("]}\n", r.json);
		if (ferror(r.json) | fclose(r.json))
			rc = rc ? rc : SL_EIO;
	}
	return rc;
}
