/* cli/cmd_reconcile.c — `siteledger reconcile --lot GTIN/LOT [--site S] [--show COUNT] [--json]
 * [--html FILE]`: the counts of one lot, the identities behind each, and its exceptions.
 *
 * The numbers come from reconcile_lot (ledger/reconcile.h) over one read transaction, so this
 * command prints what any replica would; docs/reconciliation.md defines every count.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/cmd_reconcile.h"
#include "ledger/reason.h"
#include "ledger/reconcile.h"
#include "util/error.h"

void cli_time_format(uint64_t ms, char out[32])
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

int cli_lot_option_parse(const char *text, char gtin[GS1_GTIN_DIGITS + 1], char lot[GS1_LOT_CHARS_MAX + 1])
{
	const char *slash = text ? strchr(text, '/') : NULL;
	char gtin_text[32];
	if (slash == NULL || (size_t)(slash - text) >= sizeof gtin_text)
		return cli_fail("--lot: expected GTIN/LOT, got '%s'", text ? text : "");
	memcpy(gtin_text, text, (size_t)(slash - text));
	gtin_text[slash - text] = '\0';
	size_t lot_len = strlen(slash + 1);
	if (gs1_gtin_normalize(gtin_text, gtin, NULL) != 0 ||
	    gs1_cset82_validate(slash + 1, lot_len, GS1_LOT_CHARS_MAX, NULL) != 0)
		return cli_fail("--lot: '%s' is not a valid GTIN/LOT", text);
	memcpy(lot, slash + 1, lot_len + 1);
	return 0;
}

int cli_reconcile_run(const struct cli_args *args, struct cli_ledger *ledger, store_txn **txn,
		      struct reconcile_report *report)
{
	char gtin[GS1_GTIN_DIGITS + 1], lot[GS1_LOT_CHARS_MAX + 1];
	int rc = cli_lot_option_parse(cli_arg(args, "lot"), gtin, lot);
	if (rc != 0)
		return rc;
	struct reconcile_options options = { cli_arg(args, "site"), RECONCILE_OVERDUE_DAYS_DEFAULT };
	if (options.site != NULL && !record_site_id_valid(options.site, strlen(options.site)))
		return cli_fail("--site: '%s' is not a site id", options.site);
	if (cli_arg(args, "overdue-days") != NULL) {
		uint64_t days = 0;
		rc = cli_parse_u64("overdue-days", cli_arg(args, "overdue-days"), RECONCILE_OVERDUE_DAYS_MAX, &days);
		if (rc != 0)
			return rc;
		options.overdue_days = (uint32_t)days;
	}
	rc = cli_ledger_open(args, false, ledger);
	if (rc != 0)
		return rc;
	rc = store_txn_begin(ledger->st, false, txn);
	if (rc != 0) {
		cli_ledger_close(ledger);
		return cli_fail("cannot read: %s", sl_strerror(rc));
	}
	rc = reconcile_lot(*txn, gtin, lot, &options, report);
	if (rc != 0) {
		reconcile_report_free(report);
		store_txn_abort(*txn);
		cli_ledger_close(ledger);
		return cli_fail("reconciliation failed: %s", sl_strerror(rc));
	}
	return 0;
}

static void exception_print_json(FILE *out, const struct reconcile_exception *e)
{
	char when[32];
	cli_time_format(e->ledger_time_ms, when);
	const char *outcome = ledger_outcome_name((int)e->outcome);
	fprintf(out, "{\"category\":\"%s\",\"what\":", deviation_category_name(e->category));
	cli_json_cstring(out, e->what);
	fprintf(out, ",\"seq\":%" PRIu64 ",\"time\":\"%s\",\"outcome\":\"%s\",\"record_id\":", e->seq, when,
		outcome ? outcome : "?");
	cli_json_hex(out, e->record_id, sizeof e->record_id);
	fprintf(out, ",\"site\":");
	cli_json_cstring(out, e->site);
	fprintf(out, ",\"other_site\":");
	cli_json_cstring(out, e->other_site);
	fprintf(out, ",\"items\":[");
	for (size_t k = 0; k < e->item_count; k++) {
		fprintf(out, "%s", k ? "," : "");
		cli_json_cstring(out, e->items[k]);
	}
	fprintf(out, "],\"resolved\":%s,\"deviation\":", e->resolved ? "true" : "false");
	if (e->resolved) {
		fprintf(out, "{\"seq\":%" PRIu64 ",\"record_id\":", e->deviation_seq);
		cli_json_hex(out, e->deviation_id, sizeof e->deviation_id);
		fprintf(out, "}}");
	} else {
		fprintf(out, "null}");
	}
}

void cli_reconcile_print_json(FILE *out, const struct reconcile_report *r, const char *site)
{
	char now[32];
	cli_time_format(r->now_ms, now);
	fprintf(out, "{\"gtin\":\"%s\",\"lot\":", r->gtin);
	cli_json_cstring(out, r->lot);
	fprintf(out, ",\"site\":");
	if (site != NULL)
		cli_json_cstring(out, site);
	else
		fprintf(out, "null");
	fprintf(out, ",\"as_of\":\"%s\",\"entries\":%" PRIu64 ",\"counts\":{", now, r->entries);
	for (unsigned k = 0; k < RECONCILE_COUNT_MAX; k++)
		fprintf(out, "%s\"%s\":%" PRIu64, k ? "," : "", reconcile_count_name(k), r->counts[k]);
	size_t open = 0;
	for (size_t i = 0; i < r->exception_count; i++)
		open += !r->exceptions[i].resolved;
	fprintf(out, "},\"releasable\":%s,\"counters_agree\":%s,\"open_exceptions\":%zu,\"exceptions\":[",
		r->counts[RECONCILE_UNEXPLAINED] == 0 ? "true" : "false", r->counters_agree ? "true" : "false", open);
	for (size_t i = 0; i < r->exception_count; i++) {
		fprintf(out, "%s", i ? "," : "");
		exception_print_json(out, &r->exceptions[i]);
	}
	fprintf(out, "],\"sites\":[");
	struct reconcile_site_row *rows = NULL;
	size_t row_count = 0;
	if (reconcile_sites(r, &rows, &row_count) == 0) {
		for (size_t i = 0; i < row_count; i++) {
			fprintf(out, "%s{\"site\":", i ? "," : "");
			cli_json_cstring(out, rows[i].site);
			fprintf(out, ",\"commissioned\":%" PRIu64 ",\"on_hand\":%" PRIu64 ",\"in_transit_out\":%" PRIu64
				     ",\"in_transit_in\":%" PRIu64 ",\"decommissioned\":%" PRIu64 "}",
				rows[i].commissioned, rows[i].on_hand, rows[i].in_transit_out, rows[i].in_transit_in,
				rows[i].decommissioned);
		}
		free(rows);
	}
	fprintf(out, "],\"unexplained\":[");
	for (size_t i = 0; i < r->unexplained_count; i++) {
		fprintf(out, "%s", i ? "," : "");
		cli_json_cstring(out, r->unexplained[i]);
	}
	fprintf(out, "]}\n");
}

static void sites_print_text(const struct reconcile_report *r)
{
	struct reconcile_site_row *rows = NULL;
	size_t count = 0;
	if (reconcile_sites(r, &rows, &count) != 0 || count == 0) {
		free(rows);
		return;
	}
	printf("\n  %-20s %12s %8s %10s %10s %14s\n", "per site", "commissioned", "on hand", "sent", "arriving",
	       "decommissioned");
	for (size_t i = 0; i < count; i++)
		printf("  %-20s %12" PRIu64 " %8" PRIu64 " %10" PRIu64 " %10" PRIu64 " %14" PRIu64 "\n", rows[i].site,
		       rows[i].commissioned, rows[i].on_hand, rows[i].in_transit_out, rows[i].in_transit_in,
		       rows[i].decommissioned);
	free(rows);
}

static void reconcile_print_text(const struct reconcile_report *r, const char *site)
{
	char now[32];
	cli_time_format(r->now_ms, now);
	printf("Lot %s of GTIN %s, %s%s, ledger as of %s (%" PRIu64 " entries)\n\n", r->lot, r->gtin,
	       site ? "site " : "all sites", site ? site : "", now, r->entries);
	for (unsigned k = 0; k < RECONCILE_COUNT_MAX; k++)
		printf("  %-14s %10" PRIu64 "%s\n", reconcile_count_name(k), r->counts[k],
		       k == RECONCILE_UNEXPLAINED ? (r->counts[k] ? "   must be 0 before release" : "   (release possible)")
						  : "");
	printf("\n  stored lot counters %s the ledger\n", r->counters_agree ? "agree with" : "DO NOT AGREE with");
	sites_print_text(r);
	printf("\nExceptions: %zu\n", r->exception_count);
	for (size_t i = 0; i < r->exception_count; i++) {
		const struct reconcile_exception *e = &r->exceptions[i];
		char when[32], hex[2 * RECORD_ID_BYTES + 1];
		cli_time_format(e->ledger_time_ms, when);
		crypto_hex_encode(e->record_id, sizeof e->record_id, hex);
		printf("  [%s] %s\n    entry %" PRIu64 " at %s, site %s%s%s, outcome %s, record %.16s\n",
		       deviation_category_name(e->category), e->what, e->seq, when, e->site, e->other_site[0] ? " to " : "",
		       e->other_site, ledger_outcome_name((int)e->outcome), hex);
		for (size_t k = 0; k < e->item_count; k++)
			printf("    %s\n", e->items[k]);
		if (e->resolved) {
			crypto_hex_encode(e->deviation_id, sizeof e->deviation_id, hex);
			printf("    resolved by deviation entry %" PRIu64 " (record %.16s)\n", e->deviation_seq, hex);
		} else {
			printf("    OPEN: no deviation cites this record\n");
		}
	}
}

struct show_ctx {
	bool json;
	size_t count;
};

static int show_cb(void *ctx, const char *id)
{
	struct show_ctx *s = ctx;
	if (s->json) {
		printf("%s", s->count ? "," : "");
		cli_json_cstring(stdout, id);
	} else {
		printf("%s\n", id);
	}
	s->count++;
	return 0;
}

static int reconcile_show(const struct reconcile_report *r, const char *name, bool json)
{
	int count = reconcile_count_from_name(name);
	if (count < 0)
		return cli_fail("--show: unknown count '%s' (commissioned, shipped, on_hand, unexplained, ...)", name);
	struct show_ctx s = { json, 0 };
	if (json)
		printf("{\"gtin\":\"%s\",\"lot\":\"%s\",\"count\":\"%s\",\"items\":[", r->gtin, r->lot, name);
	int rc = reconcile_count_items(r, (unsigned)count, show_cb, &s);
	if (json)
		printf("],\"total\":%zu}\n", s.count);
	return rc == 0 ? CLI_EXIT_ACCEPTED : cli_fail("listing failed: %s", sl_strerror(rc));
}

int cli_cmd_reconcile(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	if (args->positional_count != 0)
		return cli_fail("unexpected argument '%s'", args->positional[0]);
	struct cli_ledger ledger;
	store_txn *txn = NULL;
	struct reconcile_report report;
	int rc = cli_reconcile_run(args, &ledger, &txn, &report);
	if (rc != 0)
		return rc;
	bool json = cli_flag(args, "json");
	const char *site = cli_arg(args, "site");
	const char *html = cli_arg(args, "html");
	if (html != NULL) {
		rc = report_html_reconcile(html, &report, site);
		if (rc != 0)
			rc = cli_fail("cannot write %s: %s", html, sl_strerror(rc));
	}
	if (rc == 0 && cli_arg(args, "show") != NULL)
		rc = reconcile_show(&report, cli_arg(args, "show"), json);
	else if (rc == 0 && json)
		cli_reconcile_print_json(stdout, &report, site);
	else if (rc == 0)
		reconcile_print_text(&report, site);
	reconcile_report_free(&report);
	store_txn_abort(txn);
	cli_ledger_close(&ledger);
	return rc;
}
