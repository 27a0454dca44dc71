/* query/report_html.c — self-contained HTML reports for QA: reconciliation of a lot and SPC control
 * charts. One file each, inline CSS, hand-written SVG, no scripts and no external assets, so the
 * file can be mailed, archived with a batch record and opened offline.
 *
 * Chart layout (each series): x = days in order, y = rate in percent from 0; a solid centre line
 * (p̄), dashed upper and lower control limits drawn as steps (they depend on each day's record
 * count), blue points, red larger points for signals with a tooltip saying which rule fired.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/reason.h"
#include "ledger/reconcile.h"
#include "ledger/spc.h"
#include "query/query_internal.h"

#define CHART_WIDTH 760
#define CHART_HEIGHT 240
#define CHART_LEFT 64
#define CHART_RIGHT 16
#define CHART_TOP 16
#define CHART_BOTTOM 44
#define CHART_X_LABELS_MAX 8 /* day labels under one chart */

static const char STYLE[] =
	"<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
	"td,th{border:1px solid #bbb;padding:4px 8px;text-align:left}th{background:#eee}td.n{text-align:right}"
	".bad{color:#b00;font-weight:bold}.ok{color:#070;font-weight:bold}code{font-size:90%}"
	"svg{border:1px solid #ddd;margin:0.5em 0}</style>\n";

static void html_text(FILE *out, const char *text)
{
	for (const char *p = text; *p; p++) {
		switch (*p) {
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&quot;", out); break;
		default: fputc(*p, out);
		}
	}
}


/* ---- reconciliation */

static void exception_row(FILE *out, const struct reconcile_exception *e)
{
	char when[32], hex[2 * RECORD_ID_BYTES + 1];
	query_time_format(e->ledger_time_ms, when);
	crypto_hex_encode(e->record_id, sizeof e->record_id, hex);
	fprintf(out, "<tr><td>%s</td><td>", deviation_category_name(e->category));
	html_text(out, e->what);
	fprintf(out, "</td><td class=\"n\">%" PRIu64 "</td><td>%s</td><td>", e->seq, when);
	html_text(out, e->site);
	if (e->other_site[0]) {
		fputs(" &rarr; ", out);
		html_text(out, e->other_site);
	}
	fprintf(out, "</td><td>%s</td><td><code>%.16s</code></td><td>", ledger_outcome_name((int)e->outcome), hex);
	for (size_t k = 0; k < e->item_count; k++) {
		html_text(out, e->items[k]);
		fputs("<br>", out);
	}
	if (e->resolved) {
		crypto_hex_encode(e->deviation_id, sizeof e->deviation_id, hex);
		fprintf(out, "</td><td class=\"ok\">resolved by deviation entry %" PRIu64 " <code>%.16s</code></td></tr>\n",
			e->deviation_seq, hex);
	} else {
		fputs("</td><td class=\"bad\">open</td></tr>\n", out);
	}
}

static void sites_table(FILE *out, const struct reconcile_report *r)
{
	struct reconcile_site_row *rows = NULL;
	size_t count = 0;
	if (reconcile_sites(r, &rows, &count) != 0 || count == 0) {
		free(rows);
		return;
	}
	fputs("<h2>Per site</h2>\n<table><tr><th>Site</th><th>Commissioned</th><th>On hand</th><th>Sent, in transit</th>"
	      "<th>Arriving</th><th>Decommissioned</th></tr>\n", out);
	for (size_t i = 0; i < count; i++) {
		fputs("<tr><td>", out);
		html_text(out, rows[i].site);
		fprintf(out, "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
			     "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64 "</td></tr>\n",
			rows[i].commissioned, rows[i].on_hand, rows[i].in_transit_out, rows[i].in_transit_in,
			rows[i].decommissioned);
	}
	fputs("</table>\n", out);
	free(rows);
}

void report_html_reconcile(FILE *out, const struct reconcile_report *r, const struct reconcile_options *o)
{
	char now[32], from[32], to[32];
	const char *site = o->site;
	query_time_format(r->now_ms, now);
	query_time_format(o->from_ms, from);
	query_time_format(o->to_ms, to);
	fputs("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Reconciliation</title>\n", out);
	fputs(STYLE, out);
	fputs("</head><body><h1>Reconciliation of lot ", out);
	html_text(out, r->lot);
	fprintf(out, " (GTIN %s)</h1>\n<p>%s", r->gtin, site ? "Site " : "All sites");
	if (site)
		html_text(out, site);
	fprintf(out, ". Ledger as of %s, %" PRIu64 " entries. Definitions: docs/reconciliation.md.</p>\n", now,
		r->entries);
	if (o->line != NULL) {
		fputs("<p>Packs commissioned by line ", out);
		html_text(out, o->line);
		fputs(" only.</p>\n", out);
	}
	if (o->from_ms != 0 || o->to_ms != 0)
		fprintf(out, "<p>Period (ledger time): from %s to %s, end excluded.</p>\n",
			o->from_ms ? from : "the first entry", o->to_ms ? to : "now");
	uint64_t unexplained = r->counts[RECONCILE_UNEXPLAINED];
	fprintf(out, "<p class=\"%s\">%s</p>\n", unexplained ? "bad" : "ok",
		unexplained ? "NOT releasable: unexplained items remain (see the exceptions)"
			    : "Unexplained is 0: nothing blocks release on reconciliation grounds.");
	fputs("<table><tr><th>Count</th><th>Packs</th></tr>\n", out);
	for (unsigned k = 0; k < RECONCILE_COUNT_MAX; k++)
		fprintf(out, "<tr><td>%s</td><td class=\"n\">%" PRIu64 "</td></tr>\n", reconcile_count_name(k), r->counts[k]);
	fprintf(out, "</table>\n<p>Stored lot counters %s the ledger.</p>\n",
		r->counters_agree ? "agree with" : "<span class=\"bad\">DO NOT AGREE</span> with");
	sites_table(out, r);
	fprintf(out, "<h2>Exceptions (%zu)</h2>\n", r->exception_count);
	fputs("<table><tr><th>Category</th><th>What</th><th>Entry</th><th>Ledger time</th><th>Site</th>"
	      "<th>Outcome</th><th>Record</th><th>Items</th><th>Status</th></tr>\n", out);
	for (size_t i = 0; i < r->exception_count; i++)
		exception_row(out, &r->exceptions[i]);
	fputs("</table>\n<h2>Unexplained identities</h2>\n<p>", out);
	for (size_t i = 0; i < r->unexplained_count; i++) {
		html_text(out, r->unexplained[i]);
		fputs("<br>", out);
	}
	fputs(r->unexplained_count ? "</p>\n" : "none</p>\n", out);
	fputs("</body></html>\n", out);
}

/* ---- SPC */

static double chart_y(double value, double y_max)
{
	double plot = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM;
	return CHART_TOP + plot * (1.0 - value / y_max);
}

static double chart_x(size_t i, size_t count)
{
	double plot = CHART_WIDTH - CHART_LEFT - CHART_RIGHT;
	return count < 2 ? CHART_LEFT + plot / 2 : CHART_LEFT + plot * (double)i / (double)(count - 1);
}

/* A limit line as steps: each day's limit spans half a day either side. */
static void limit_steps(FILE *out, const struct spc_series *s, bool upper, double y_max)
{
	fputs("<polyline fill=\"none\" stroke=\"#c33\" stroke-dasharray=\"5,3\" points=\"", out);
	double half = s->count < 2 ? 20 : (chart_x(1, s->count) - chart_x(0, s->count)) / 2;
	for (size_t i = 0; i < s->count; i++) {
		double v = upper ? s->chart[i].ucl : s->chart[i].lcl;
		double x = chart_x(i, s->count), y = chart_y(v, y_max);
		fprintf(out, "%.1f,%.1f %.1f,%.1f ", x - half, y, x + half, y);
	}
	fputs("\"/>\n", out);
}

static void chart_axes(FILE *out, const struct spc_series *s, double y_max)
{
	double bottom = chart_y(0, y_max), right = CHART_WIDTH - CHART_RIGHT;
	fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%.1f\" stroke=\"black\"/>\n", CHART_LEFT, CHART_TOP, CHART_LEFT, bottom);
	fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", CHART_LEFT, bottom, right, bottom);
	for (int t = 0; t <= 4; t++) {
		double v = y_max * t / 4;
		fprintf(out, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%.2f%%</text>\n", CHART_LEFT - 4,
			chart_y(v, y_max) + 4, 100.0 * v);
	}
	size_t step = s->count / CHART_X_LABELS_MAX + 1;
	for (size_t i = 0; i < s->count; i += step) {
		char day[16];
		query_day_format(s->points[i].day, day);
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">%s</text>\n", chart_x(i, s->count),
			bottom + 16, day);
	}
	fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"11\">day (UTC)</text>\n", CHART_WIDTH / 2, CHART_HEIGHT - 6);
}

static void chart_svg(FILE *out, const struct spc_series *s)
{
	double y_max = s->centre;
	for (size_t i = 0; i < s->count; i++) {
		y_max = s->chart[i].ucl > y_max ? s->chart[i].ucl : y_max;
		y_max = s->chart[i].p > y_max ? s->chart[i].p : y_max;
	}
	y_max = y_max > 0 ? y_max * 1.1 : 0.01;
	if (y_max > 1.0)
		y_max = 1.0; /* a rate never exceeds 100 % */
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n",
		CHART_WIDTH, CHART_HEIGHT, CHART_WIDTH, CHART_HEIGHT);
	chart_axes(out, s, y_max);
	double cy = chart_y(s->centre, y_max);
	fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#070\"/>\n", CHART_LEFT, cy, CHART_WIDTH - CHART_RIGHT,
		cy);
	limit_steps(out, s, true, y_max);
	limit_steps(out, s, false, y_max);
	fputs("<polyline fill=\"none\" stroke=\"#36c\" points=\"", out);
	for (size_t i = 0; i < s->count; i++)
		fprintf(out, "%.1f,%.1f ", chart_x(i, s->count), chart_y(s->chart[i].p, y_max));
	fputs("\"/>\n", out);
	for (size_t i = 0; i < s->count; i++) {
		const struct spc_chart_point *c = &s->chart[i];
		char day[16];
		query_day_format(s->points[i].day, day);
		fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" fill=\"%s\"><title>%s: %" PRIu64 " of %" PRIu64
			     " (%.2f%%)%s%s</title></circle>\n",
			chart_x(i, s->count), chart_y(c->p, y_max), c->rules ? 6 : 3, c->rules ? "#d00" : "#36c", day,
			s->points[i].defects, s->points[i].size, 100.0 * c->p,
			c->rules & SPC_RULE_BEYOND ? " SIGNAL: beyond the control limits" : "",
			c->rules & SPC_RULE_RUN ? " SIGNAL: 8 or more in a row on one side of the centre" : "");
	}
	fprintf(out, "<text x=\"%d\" y=\"12\" font-size=\"11\">green: average %.2f%%; red dashed: control limits (3 sigma);"
		     " red dots: signals</text>\n</svg>\n",
		CHART_LEFT + 8, 100.0 * s->centre);
}

static void series_title(FILE *out, const struct spc_series *s)
{
	html_text(out, s->metric);
	fputs(" at site ", out);
	html_text(out, s->site);
	if (s->line[0]) {
		fputs(", line ", out);
		html_text(out, s->line);
	}
	if (s->shift >= 0)
		fprintf(out, ", shift %d", s->shift);
}

static void signal_row(void *ctx, const struct spc_series *s, size_t k, const char *day)
{
	FILE *out = ctx;
	const struct spc_chart_point *c = &s->chart[k];
	fprintf(out, "<tr><td>%s</td><td>", day);
	series_title(out, s);
	fprintf(out, "</td><td class=\"n\">%.2f%% (%" PRIu64 "/%" PRIu64 ")</td><td>%.2f%% &ndash; %.2f%%</td><td>%s%s</td></tr>\n",
		100.0 * c->p, s->points[k].defects, s->points[k].size, 100.0 * c->lcl, 100.0 * c->ucl,
		c->rules & SPC_RULE_BEYOND ? "beyond the limits " : "", c->rules & SPC_RULE_RUN ? "8 in a row on one side" : "");
}

static void signals_table(FILE *out, const struct spc_report *r)
{
	fputs("<table><tr><th>Day</th><th>Series</th><th>Rate</th><th>Limits</th><th>Rule</th></tr>\n", out);
	query_spc_signals_each(r, signal_row, out);
	fputs("</table>\n", out);
}

void report_html_spc(FILE *out, const struct spc_report *r)
{
	fputs("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>SPC</title>\n", out);
	fputs(STYLE, out);
	fprintf(out, "</head><body><h1>Rejection and exception rates</h1>\n<p>%" PRIu64 " records, %zu charts, "
		     "%zu signal(s). Daily subgroups; p-charts with 3-sigma limits; a signal is a point beyond the "
		     "limits or the 8th point in a row on one side of the average. Shifts are %u h, UTC. "
		     "See docs/reconciliation.md.</p>\n",
		r->records, r->count, r->signals, r->shift_hours);
	fprintf(out, "<h2>Signals (%zu)</h2>\n", r->signals);
	signals_table(out, r);
	fputs("<h2>Charts</h2>\n", out);
	for (size_t i = 0; i < r->count; i++) {
		fputs("<h3>", out);
		series_title(out, &r->series[i]);
		fprintf(out, " &mdash; %zu signal(s)</h3>\n", r->series[i].signals);
		chart_svg(out, &r->series[i]);
	}
	fputs("</body></html>\n", out);
}
