/* query/spc.c — `spc`: p-charts of rejection and exception rates (ledger/spc.h) and the table of
 * signals. The text output lists every series with its centre line and every signal; the "html"
 * option draws the charts (query/report_html.c).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/record.h"
#include "ledger/spc.h"
#include "query/query_internal.h"
#include "util/date.h"
#include "util/error.h"

/* "YYYY-MM-DD" (UTC midnight) → ms since the epoch; 0 or exit 2. */
static int since_parse(const char *text, int64_t *out_ms, struct query_out *out)
{
	unsigned y = 0, m = 0, d = 0;
	char tail = 0;
	if (sscanf(text, "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3 || strlen(text) != 10 || y < 1970 || m < 1 ||
	    m > 12 || d < 1 || d > 31)
		return query_fail(out, QUERY_EXIT_USAGE, "--since: expected a date YYYY-MM-DD, got '%.40s'", text);
	*out_ms = sl_date_days_from_civil((int64_t)y, m, d) * 86400000LL;
	return 0;
}

static void series_label(const struct spc_series *s, char *out, size_t size)
{
	char shift[32] = "";
	if (s->shift >= 0)
		snprintf(shift, sizeof shift, " shift %d", s->shift);
	snprintf(out, size, "%s%s%s%s %s", s->site, s->line[0] ? " line " : "", s->line, shift, s->metric);
}

void query_spc_signals_each(const struct spc_report *r,
			    void (*signal)(void *ctx, const struct spc_series *s, size_t k, const char *day), void *ctx)
{
	for (size_t i = 0; i < r->count; i++) {
		const struct spc_series *s = &r->series[i];
		for (size_t k = 0; k < s->count; k++) {
			if (s->chart[k].rules == 0)
				continue;
			char day[16];
			query_day_format(s->points[k].day, day);
			signal(ctx, s, k, day);
		}
	}
}

static void signal_print_text(void *ctx, const struct spc_series *s, size_t k, const char *day)
{
	FILE *out = ctx;
	const struct spc_chart_point *c = &s->chart[k];
	char label[512];
	series_label(s, label, sizeof label);
	fprintf(out, "  %s  %-50s p=%.4f (%" PRIu64 "/%" PRIu64 ") limits [%.4f, %.4f]%s%s\n", day, label, c->p,
		s->points[k].defects, s->points[k].size, c->lcl, c->ucl,
		c->rules & SPC_RULE_BEYOND ? "  beyond limits" : "", c->rules & SPC_RULE_RUN ? "  run of 8 on one side" : "");
}

static void spc_print_text(FILE *out, const struct spc_report *r)
{
	fprintf(out, "%" PRIu64 " record(s), %zu series, %zu signal(s); shifts of %u h (UTC)\n\n", r->records, r->count,
	       r->signals, r->shift_hours);
	fprintf(out, "  %-60s %6s %9s %8s\n", "series", "days", "centre %", "signals");
	for (size_t i = 0; i < r->count; i++) {
		char label[512];
		series_label(&r->series[i], label, sizeof label);
		fprintf(out, "  %-60s %6zu %9.3f %8zu\n", label, r->series[i].count, 100.0 * r->series[i].centre,
		       r->series[i].signals);
	}
	fprintf(out, "\nSignals\n");
	if (r->signals == 0)
		fprintf(out, "  none: every rate is within its control limits with no run of %d\n", SPC_RUN_LENGTH);
	query_spc_signals_each(r, signal_print_text, out);
}

static void spc_print_json(FILE *out, const struct spc_report *r)
{
	fprintf(out, "{\"records\":%" PRIu64 ",\"shift_hours\":%u,\"signals\":%zu,\"series\":[", r->records, r->shift_hours,
	       r->signals);
	for (size_t i = 0; i < r->count; i++) {
		const struct spc_series *s = &r->series[i];
		fprintf(out, "%s{\"site\":", i ? "," : "");
		query_json_cstring(out, s->site);
		fprintf(out, ",\"line\":");
		query_json_cstring(out, s->line);
		fprintf(out, ",\"shift\":%d,\"metric\":", s->shift);
		query_json_cstring(out, s->metric);
		fprintf(out, ",\"centre\":%.6f,\"signals\":%zu,\"points\":[", s->centre, s->signals);
		for (size_t k = 0; k < s->count; k++) {
			const struct spc_chart_point *c = &s->chart[k];
			char day[16];
			query_day_format(s->points[k].day, day);
			fprintf(out, "%s{\"day\":\"%s\",\"defects\":%" PRIu64 ",\"size\":%" PRIu64
			       ",\"p\":%.6f,\"ucl\":%.6f,\"lcl\":%.6f,\"beyond\":%s,\"run\":%s}",
			       k ? "," : "", day, s->points[k].defects, s->points[k].size, c->p, c->ucl, c->lcl,
			       c->rules & SPC_RULE_BEYOND ? "true" : "false", c->rules & SPC_RULE_RUN ? "true" : "false");
		}
		fprintf(out, "]}");
	}
	fprintf(out, "]}\n");
}

static int spc_options_parse(const struct query_params *p, struct spc_options *o, struct query_out *out)
{
	*o = (struct spc_options){ NULL, query_param(p, "line"), INT64_MIN, SPC_SHIFT_HOURS_DEFAULT };
	int rc = query_site_option(p, &o->site, out);
	if (rc == 0 && query_param(p, "since") != NULL)
		rc = since_parse(query_param(p, "since"), &o->since_ms, out);
	uint64_t hours = o->shift_hours;
	if (rc == 0)
		rc = query_u64_option(p, "shift-hours", 24, &hours, out);
	if (rc == 0 && (hours == 0 || 24 % hours != 0))
		rc = query_fail(out, QUERY_EXIT_USAGE, "--shift-hours: must divide 24 (1, 2, 3, 4, 6, 8, 12, 24)");
	o->shift_hours = (uint32_t)hours;
	return rc;
}

int query_spc_run(const struct query_env *env, const struct query_params *p, struct query_out *out)
{
	struct spc_options options;
	int rc = spc_options_parse(p, &options, out);
	if (rc != 0 || env->txn == NULL)
		return rc;
	struct spc_report report;
	memset(&report, 0, sizeof report);
	rc = spc_collect(env->txn, &options, &report);
	if (rc != 0) {
		query_fail(out, QUERY_EXIT_USAGE, "SPC failed: %s", sl_strerror(rc));
	} else {
		if (query_wants_html(p))
			report_html_spc(out->doc[1], &report);
		if (query_param(p, "json") != NULL)
			spc_print_json(out->doc[0], &report);
		else
			spc_print_text(out->doc[0], &report);
	}
	spc_report_free(&report);
	return out->exit_code;
}
