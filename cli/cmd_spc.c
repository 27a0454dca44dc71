/* cli/cmd_spc.c — `siteledger spc [--site S] [--line L] [--since DATE] [--shift-hours H] [--json]
 * [--html FILE]`: p-charts of rejection and exception rates (ledger/spc.h) and the table of
 * signals. The text output lists every series with its centre line and every signal; --html
 * draws the charts (cli/report_html.c).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_reconcile.h"
#include "ledger/spc.h"
#include "util/error.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* "YYYY-MM-DD" (UTC midnight) → ms since the epoch. */
static int since_parse(const char *text, int64_t *out_ms)
{
	unsigned y = 0, m = 0, d = 0;
	char tail = 0;
	if (sscanf(text, "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3 || strlen(text) != 10 || y < 1970 || m < 1 ||
	    m > 12 || d < 1 || d > 31)
		return cli_fail("--since: expected a date YYYY-MM-DD, got '%s'", text);
	*out_ms = days_from_civil((int64_t)y, m, d) * 86400000LL;
	return 0;
}

static void day_format(int64_t day, char out[16])
{
	char full[32];
	cli_time_format((uint64_t)(day * 86400000LL), full);
	snprintf(out, 16, "%.10s", full);
}

static void series_label(const struct spc_series *s, char *out, size_t size)
{
	char shift[32] = "";
	if (s->shift >= 0)
		snprintf(shift, sizeof shift, " shift %d", s->shift);
	snprintf(out, size, "%s%s%s%s %s", s->site, s->line[0] ? " line " : "", s->line, shift, s->metric);
}

static void spc_print_text(const struct spc_report *r)
{
	printf("%" PRIu64 " record(s), %zu series, %zu signal(s); shifts of %u h (UTC)\n\n", r->records, r->count,
	       r->signals, r->shift_hours);
	printf("  %-60s %6s %9s %8s\n", "series", "days", "centre %", "signals");
	for (size_t i = 0; i < r->count; i++) {
		char label[512];
		series_label(&r->series[i], label, sizeof label);
		printf("  %-60s %6zu %9.3f %8zu\n", label, r->series[i].count, 100.0 * r->series[i].centre,
		       r->series[i].signals);
	}
	printf("\nSignals\n");
	if (r->signals == 0)
		printf("  none: every rate is within its control limits with no run of %d\n", SPC_RUN_LENGTH);
	for (size_t i = 0; i < r->count; i++) {
		const struct spc_series *s = &r->series[i];
		char label[512];
		series_label(s, label, sizeof label);
		for (size_t k = 0; k < s->count; k++) {
			const struct spc_chart_point *c = &s->chart[k];
			if (c->rules == 0)
				continue;
			char day[16];
			day_format(s->points[k].day, day);
			printf("  %s  %-50s p=%.4f (%" PRIu64 "/%" PRIu64 ") limits [%.4f, %.4f]%s%s\n", day, label, c->p,
			       s->points[k].defects, s->points[k].size, c->lcl, c->ucl,
			       c->rules & SPC_RULE_BEYOND ? "  beyond limits" : "",
			       c->rules & SPC_RULE_RUN ? "  run of 8 on one side" : "");
		}
	}
}

static void spc_print_json(const struct spc_report *r)
{
	printf("{\"records\":%" PRIu64 ",\"shift_hours\":%u,\"signals\":%zu,\"series\":[", r->records, r->shift_hours,
	       r->signals);
	for (size_t i = 0; i < r->count; i++) {
		const struct spc_series *s = &r->series[i];
		printf("%s{\"site\":", i ? "," : "");
		cli_json_cstring(stdout, s->site);
		printf(",\"line\":");
		cli_json_cstring(stdout, s->line);
		printf(",\"shift\":%d,\"metric\":", s->shift);
		cli_json_cstring(stdout, s->metric);
		printf(",\"centre\":%.6f,\"signals\":%zu,\"points\":[", s->centre, s->signals);
		for (size_t k = 0; k < s->count; k++) {
			const struct spc_chart_point *c = &s->chart[k];
			char day[16];
			day_format(s->points[k].day, day);
			printf("%s{\"day\":\"%s\",\"defects\":%" PRIu64 ",\"size\":%" PRIu64
			       ",\"p\":%.6f,\"ucl\":%.6f,\"lcl\":%.6f,\"beyond\":%s,\"run\":%s}",
			       k ? "," : "", day, s->points[k].defects, s->points[k].size, c->p, c->ucl, c->lcl,
			       c->rules & SPC_RULE_BEYOND ? "true" : "false", c->rules & SPC_RULE_RUN ? "true" : "false");
		}
		printf("]}");
	}
	printf("]}\n");
}

static int spc_options_parse(const struct cli_args *args, struct spc_options *o)
{
	*o = (struct spc_options){ cli_arg(args, "site"), cli_arg(args, "line"), INT64_MIN, SPC_SHIFT_HOURS_DEFAULT };
	if (o->site != NULL && !record_site_id_valid(o->site, strlen(o->site)))
		return cli_fail("--site: '%s' is not a site id", o->site);
	if (cli_arg(args, "since") != NULL) {
		int rc = since_parse(cli_arg(args, "since"), &o->since_ms);
		if (rc != 0)
			return rc;
	}
	if (cli_arg(args, "shift-hours") != NULL) {
		uint64_t hours = 0;
		int rc = cli_parse_u64("shift-hours", cli_arg(args, "shift-hours"), 24, &hours);
		if (rc != 0)
			return rc;
		if (hours == 0 || 24 % hours != 0)
			return cli_fail("--shift-hours: must divide 24 (1, 2, 3, 4, 6, 8, 12, 24)");
		o->shift_hours = (uint32_t)hours;
	}
	return 0;
}

int cli_cmd_spc(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	if (args->positional_count != 0)
		return cli_fail("unexpected argument '%s'", args->positional[0]);
	struct spc_options options;
	int rc = spc_options_parse(args, &options);
	if (rc != 0)
		return rc;
	struct cli_ledger ledger;
	rc = cli_ledger_open(args, false, &ledger);
	if (rc != 0)
		return rc;
	store_txn *txn = NULL;
	struct spc_report report;
	memset(&report, 0, sizeof report);
	rc = store_txn_begin(ledger.st, false, &txn);
	if (rc == 0) {
		rc = spc_collect(txn, &options, &report);
		store_txn_abort(txn);
	}
	if (rc != 0) {
		rc = cli_fail("SPC failed: %s", sl_strerror(rc));
	} else {
		const char *html = cli_arg(args, "html");
		if (html != NULL && report_html_spc(html, &report) != 0)
			rc = cli_fail("cannot write %s", html);
		if (rc == 0 && cli_flag(args, "json"))
			spc_print_json(&report);
		else if (rc == 0)
			spc_print_text(&report);
	}
	spc_report_free(&report);
	cli_ledger_close(&ledger);
	return rc;
}
