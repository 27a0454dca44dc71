/* query/reconcile.c — `reconcile` (the counts of one lot, the identities behind each, its
 * exceptions; text, JSON, one count's identities, HTML) and `where` (containment: where every pack
 * of the lot is now). Both stand on reconcile_lot (ledger/reconcile.h) over the caller's one read
 * transaction, so they speak of the same packs and print what any replica would;
 * docs/reconciliation.md defines every count.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/hierarchy.h"
#include "ledger/lifecycle.h"
#include "ledger/reason.h"
#include "ledger/reconcile.h"
#include "query/query_internal.h"
#include "util/date.h"
#include "util/error.h"

struct reconcile_query {
	char gtin[GS1_GTIN_DIGITS + 1];
	char lot[GS1_LOT_CHARS_MAX + 1];
	struct reconcile_options options;
	int show; /* enum reconcile_count, or -1 */
	bool json;
};

/* --from / --to (docs/reconciliation.md "A period"): a UTC day YYYY-MM-DD (--from: its first
 * millisecond; --to: the day is included, so the end is the next day's first) or an instant
 * 2026-11-24T10:00:00Z (optional .mmm) taken as it is. ms since the epoch; 0 or exit 2. */
static int window_bound_parse(const char *name, const char *text, bool end, uint64_t *ms, struct query_out *out)
{
	int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, consumed = 0;
	unsigned millis = 0;
	bool day = sscanf(text, "%4d-%2d-%2d%n", &y, &mo, &d, &consumed) == 3 && text[consumed] == '\0' &&
		   strlen(text) == 10;
	bool instant = !day && sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &consumed) == 6;
	const char *rest = text + consumed;
	if (instant && rest[0] == '.' && rest[1] >= '0' && rest[1] <= '9' && rest[2] >= '0' && rest[2] <= '9' &&
	    rest[3] >= '0' && rest[3] <= '9') {
		millis = (unsigned)((rest[1] - '0') * 100 + (rest[2] - '0') * 10 + (rest[3] - '0'));
		rest += 4;
	}
	bool ok = (day || (instant && strcmp(rest, "Z") == 0)) && y >= 1970 && y <= 9999 && mo >= 1 && mo <= 12 &&
		  d >= 1 && d <= 31 && h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && sec >= 0 && sec <= 59;
	int64_t days = ok ? sl_date_days_from_civil(y, (unsigned)mo, (unsigned)d) : 0;
	int cy = 0;
	unsigned cm = 0, cd = 0;
	sl_date_civil_from_days(days, &cy, &cm, &cd);
	if (!ok || cy != y || cm != (unsigned)mo || cd != (unsigned)d) /* 2026-02-30 is not a day */
		return query_fail(out, QUERY_EXIT_USAGE,
				  "--%s: expected a UTC day 2026-11-24 or 2026-11-24T10:00:00Z, got '%.40s'", name, text);
	*ms = (uint64_t)days * RECONCILE_DAY_MS + (uint64_t)(h * 3600 + mi * 60 + sec) * 1000 + millis +
	      (day && end ? RECONCILE_DAY_MS : 0);
	return 0;
}

/* line, from, to (reconcile only: ledger/reconcile.h options). */
static int reconcile_filters_parse(const struct query_params *p, struct reconcile_options *o, struct query_out *out)
{
	o->line = query_param(p, "line");
	if (o->line != NULL && (o->line[0] == '\0' || strlen(o->line) > RECONCILE_LINE_BYTES_MAX))
		return query_fail(out, QUERY_EXIT_USAGE, "--line: expected the actor id a line signs with");
	int rc = 0;
	if (query_param(p, "from") != NULL)
		rc = window_bound_parse("from", query_param(p, "from"), false, &o->from_ms, out);
	if (rc == 0 && query_param(p, "to") != NULL && (rc = window_bound_parse("to", query_param(p, "to"), true,
										&o->to_ms, out)) == 0 &&
	    (o->to_ms == 0 || o->to_ms <= o->from_ms))
		rc = query_fail(out, QUERY_EXIT_USAGE, "--to: the period must end after it begins (--from)");
	return rc;
}

/* lot, site, overdue-days, show: 0 or exit 2 (the parse part of reconcile and where). */
static int reconcile_parse(const struct query_params *p, struct reconcile_query *q, struct query_out *out)
{
	memset(q, 0, sizeof *q);
	q->options.overdue_days = RECONCILE_OVERDUE_DAYS_DEFAULT;
	q->show = -1;
	q->json = query_param(p, "json") != NULL;
	int rc = query_lot_option(p, out, q->gtin, q->lot);
	if (rc == 0)
		rc = query_site_option(p, &q->options.site, out);
	uint64_t days = q->options.overdue_days;
	if (rc == 0)
		rc = query_u64_option(p, "overdue-days", RECONCILE_OVERDUE_DAYS_MAX, &days, out);
	q->options.overdue_days = (uint32_t)days;
	if (rc == 0)
		rc = reconcile_filters_parse(p, &q->options, out);
	const char *show = query_param(p, "show");
	if (rc == 0 && show != NULL && (q->show = reconcile_count_from_name(show)) < 0)
		rc = query_fail(out, QUERY_EXIT_USAGE,
				"--show: unknown count '%.40s' (commissioned, shipped, on_hand, unexplained, ...)", show);
	return rc;
}

/* Parse, then (with a transaction) reconcile: on 0 with env->txn the caller owns the report. */
static int reconcile_begin(const struct query_env *env, const struct query_params *p, struct reconcile_query *q,
			   struct reconcile_report *report, struct query_out *out)
{
	int rc = reconcile_parse(p, q, out);
	if (rc != 0 || env->txn == NULL)
		return rc;
	rc = reconcile_lot(env->txn, q->gtin, q->lot, &q->options, report);
	if (rc != 0) {
		reconcile_report_free(report);
		return query_fail(out, QUERY_EXIT_USAGE, "reconciliation failed: %s", sl_strerror(rc));
	}
	return 0;
}

static void exception_print_json(FILE *out, const struct reconcile_exception *e)
{
	char when[32];
	query_time_format(e->ledger_time_ms, when);
	const char *outcome = ledger_outcome_name((int)e->outcome);
	fprintf(out, "{\"category\":\"%s\",\"what\":", deviation_category_name(e->category));
	query_json_cstring(out, e->what);
	fprintf(out, ",\"seq\":%" PRIu64 ",\"time\":\"%s\",\"outcome\":\"%s\",\"record_id\":", e->seq, when,
		outcome ? outcome : "?");
	query_json_hex(out, e->record_id, sizeof e->record_id);
	fprintf(out, ",\"site\":");
	query_json_cstring(out, e->site);
	fprintf(out, ",\"other_site\":");
	query_json_cstring(out, e->other_site);
	fprintf(out, ",\"items\":[");
	for (size_t k = 0; k < e->item_count; k++) {
		fprintf(out, "%s", k ? "," : "");
		query_json_cstring(out, e->items[k]);
	}
	fprintf(out, "],\"resolved\":%s,\"deviation\":", e->resolved ? "true" : "false");
	if (e->resolved) {
		fprintf(out, "{\"seq\":%" PRIu64 ",\"record_id\":", e->deviation_seq);
		query_json_hex(out, e->deviation_id, sizeof e->deviation_id);
		fprintf(out, "}}");
	} else {
		fprintf(out, "null}");
	}
}

/* ,"line":...,"from":...,"to":... (null when not given; "to" is the end of the period, excluded) */
static void filters_print_json(FILE *out, const struct reconcile_options *o)
{
	char when[32];
	fprintf(out, ",\"line\":");
	if (o->line != NULL)
		query_json_cstring(out, o->line);
	else
		fprintf(out, "null");
	query_time_format(o->from_ms, when);
	fprintf(out, o->from_ms ? ",\"from\":\"%s\"" : ",\"from\":null", when);
	query_time_format(o->to_ms, when);
	fprintf(out, o->to_ms ? ",\"to\":\"%s\"" : ",\"to\":null", when);
}

static void reconcile_print_json(FILE *out, const struct reconcile_report *r, const struct reconcile_options *o)
{
	char now[32];
	const char *site = o->site;
	query_time_format(r->now_ms, now);
	fprintf(out, "{\"gtin\":\"%s\",\"lot\":", r->gtin);
	query_json_cstring(out, r->lot);
	fprintf(out, ",\"site\":");
	if (site != NULL)
		query_json_cstring(out, site);
	else
		fprintf(out, "null");
	filters_print_json(out, o);
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
			query_json_cstring(out, rows[i].site);
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
		query_json_cstring(out, r->unexplained[i]);
	}
	fprintf(out, "]}\n");
}

static void sites_print_text(FILE *out, const struct reconcile_report *r)
{
	struct reconcile_site_row *rows = NULL;
	size_t count = 0;
	if (reconcile_sites(r, &rows, &count) != 0 || count == 0) {
		free(rows);
		return;
	}
	fprintf(out, "\n  %-20s %12s %8s %10s %10s %14s\n", "per site", "commissioned", "on hand", "sent", "arriving",
	       "decommissioned");
	for (size_t i = 0; i < count; i++)
		fprintf(out, "  %-20s %12" PRIu64 " %8" PRIu64 " %10" PRIu64 " %10" PRIu64 " %14" PRIu64 "\n", rows[i].site,
		       rows[i].commissioned, rows[i].on_hand, rows[i].in_transit_out, rows[i].in_transit_in,
		       rows[i].decommissioned);
	free(rows);
}

static void reconcile_print_text(FILE *out, const struct reconcile_report *r, const struct reconcile_options *o)
{
	char now[32], from[32], to[32];
	const char *site = o->site;
	query_time_format(r->now_ms, now);
	query_time_format(o->from_ms, from);
	query_time_format(o->to_ms, to);
	fprintf(out, "Lot %s of GTIN %s, %s%s, ledger as of %s (%" PRIu64 " entries)\n", r->lot, r->gtin,
	       site ? "site " : "all sites", site ? site : "", now, r->entries);
	if (o->line != NULL)
		fprintf(out, "Packs commissioned by line %s only\n", o->line);
	if (o->from_ms != 0 || o->to_ms != 0)
		fprintf(out, "Period (ledger time): from %s to %s, end excluded\n",
			o->from_ms ? from : "the first entry", o->to_ms ? to : "now");
	fprintf(out, "\n");
	for (unsigned k = 0; k < RECONCILE_COUNT_MAX; k++)
		fprintf(out, "  %-14s %10" PRIu64 "%s\n", reconcile_count_name(k), r->counts[k],
		       k == RECONCILE_UNEXPLAINED ? (r->counts[k] ? "   must be 0 before release" : "   (release possible)")
						  : "");
	fprintf(out, "\n  stored lot counters %s the ledger\n", r->counters_agree ? "agree with" : "DO NOT AGREE with");
	sites_print_text(out, r);
	fprintf(out, "\nExceptions: %zu\n", r->exception_count);
	for (size_t i = 0; i < r->exception_count; i++) {
		const struct reconcile_exception *e = &r->exceptions[i];
		char when[32], hex[2 * RECORD_ID_BYTES + 1];
		query_time_format(e->ledger_time_ms, when);
		crypto_hex_encode(e->record_id, sizeof e->record_id, hex);
		fprintf(out, "  [%s] %s\n    entry %" PRIu64 " at %s, site %s%s%s, outcome %s, record %.16s\n",
		       deviation_category_name(e->category), e->what, e->seq, when, e->site, e->other_site[0] ? " to " : "",
		       e->other_site, ledger_outcome_name((int)e->outcome), hex);
		for (size_t k = 0; k < e->item_count; k++)
			fprintf(out, "    %s\n", e->items[k]);
		if (e->resolved) {
			crypto_hex_encode(e->deviation_id, sizeof e->deviation_id, hex);
			fprintf(out, "    resolved by deviation entry %" PRIu64 " (record %.16s)\n", e->deviation_seq, hex);
		} else {
			fprintf(out, "    OPEN: no deviation cites this record\n");
		}
	}
}

struct show_ctx {
	FILE *out;
	bool json;
	size_t count;
};

static int show_cb(void *ctx, const char *id)
{
	struct show_ctx *s = ctx;
	if (s->json) {
		fprintf(s->out, "%s", s->count ? "," : "");
		query_json_cstring(s->out, id);
	} else {
		fprintf(s->out, "%s\n", id);
	}
	s->count++;
	return 0;
}

static int reconcile_show(FILE *out, const struct reconcile_report *r, unsigned count, bool json)
{
	struct show_ctx s = { out, json, 0 };
	if (json)
		fprintf(out, "{\"gtin\":\"%s\",\"lot\":\"%s\",\"count\":\"%s\",\"items\":[", r->gtin, r->lot,
			reconcile_count_name(count));
	int rc = reconcile_count_items(r, count, show_cb, &s);
	if (json)
		fprintf(out, "],\"total\":%zu}\n", s.count);
	return rc;
}

int query_reconcile_run(const struct query_env *env, const struct query_params *p, struct query_out *out)
{
	struct reconcile_query q;
	struct reconcile_report report;
	int rc = reconcile_begin(env, p, &q, &report, out);
	if (rc != 0 || env->txn == NULL)
		return rc;
	if (query_wants_html(p))
		report_html_reconcile(out->doc[1], &report, &q.options);
	if (q.show >= 0 && (rc = reconcile_show(out->doc[0], &report, (unsigned)q.show, q.json)) != 0)
		query_fail(out, QUERY_EXIT_USAGE, "listing failed: %s", sl_strerror(rc));
	else if (q.show < 0 && q.json)
		reconcile_print_json(out->doc[0], &report, &q.options);
	else if (q.show < 0)
		reconcile_print_text(out->doc[0], &report, &q.options);
	reconcile_report_free(&report);
	return out->exit_code;
}

/* ---- where */

#define WHERE_GROUPS_MAX 10000 /* (status, site, destination, reason) groups in the summary */

struct where_row {
	const struct reconcile_item *item;
	char top[STORE_ITEM_ID_SIZE]; /* outermost container, "" when loose */
};

struct where_group {
	int status, reason;
	const char *site, *destination;
	uint64_t count;
};

/* Outermost container above a pack (bounded by the hierarchy depth limit). */
static void top_container(store_txn *txn, const struct store_item *state, char out[STORE_ITEM_ID_SIZE])
{
	out[0] = '\0';
	char parent[STORE_ITEM_ID_SIZE];
	memcpy(parent, state->parent, sizeof parent);
	for (int depth = 0; parent[0] != '\0' && depth < HIERARCHY_DEPTH_MAX; depth++) {
		memcpy(out, parent, STORE_ITEM_ID_SIZE);
		struct store_item above;
		if (store_item_get(txn, parent, &above) != 0)
			break;
		memcpy(parent, above.parent, sizeof parent);
	}
}

static const char *where_status(const struct store_item *s)
{
	const char *name = lifecycle_status_name(s->status);
	return name ? name : "missing";
}

static void where_print_json(FILE *out, const struct reconcile_report *r, const struct where_row *rows, size_t count,
			     const struct where_group *groups, size_t group_count)
{
	fprintf(out, "{\"gtin\":\"%s\",\"lot\":", r->gtin);
	query_json_cstring(out, r->lot);
	fprintf(out, ",\"summary\":[");
	for (size_t i = 0; i < group_count; i++) {
		const struct where_group *g = &groups[i];
		fprintf(out, "%s{\"status\":\"%s\",\"site\":", i ? "," : "",
		       lifecycle_status_name(g->status) ? lifecycle_status_name(g->status) : "missing");
		query_json_cstring(out, g->site);
		fprintf(out, ",\"destination\":");
		query_json_cstring(out, g->destination);
		fprintf(out, ",\"reason\":\"%s\",\"count\":%" PRIu64 "}", g->reason ? decommission_reason_name(g->reason) : "",
		       g->count);
	}
	fprintf(out, "],\"items\":[");
	for (size_t i = 0; i < count; i++) {
		const struct store_item *s = &rows[i].item->state;
		fprintf(out, "%s{\"id\":", i ? "," : "");
		query_json_cstring(out, rows[i].item->id);
		fprintf(out, ",\"status\":\"%s\",\"site\":", where_status(s));
		query_json_cstring(out, s->site);
		fprintf(out, ",\"destination\":");
		query_json_cstring(out, s->destination);
		fprintf(out, ",\"container\":");
		query_json_cstring(out, s->parent);
		fprintf(out, ",\"top_container\":");
		query_json_cstring(out, rows[i].top);
		fprintf(out, ",\"reason\":\"%s\",\"locked\":%s}",
		       s->status == ITEM_DECOMMISSIONED && s->reason ? decommission_reason_name(s->reason) : "",
		       rows[i].item->lock_reasons ? "true" : "false");
	}
	fprintf(out, "]}\n");
}

static void where_print_text(FILE *out, const struct reconcile_report *r, const struct where_row *rows, size_t count,
			     const struct where_group *groups, size_t group_count)
{
	fprintf(out, "Lot %s of GTIN %s: %zu pack(s)\n\n", r->lot, r->gtin, count);
	for (size_t i = 0; i < group_count; i++) {
		const struct where_group *g = &groups[i];
		if (g->status == ITEM_IN_TRANSIT)
			fprintf(out, "  %8" PRIu64 "  in transit from %s to %s\n", g->count, g->site, g->destination);
		else if (g->status == ITEM_ACTIVE)
			fprintf(out, "  %8" PRIu64 "  on hand at %s\n", g->count, g->site);
		else if (g->status == ITEM_DECOMMISSIONED)
			fprintf(out, "  %8" PRIu64 "  decommissioned (%s) at %s\n", g->count, decommission_reason_name(g->reason),
			       g->site);
		else
			fprintf(out, "  %8" PRIu64 "  MISSING from the items table\n", g->count);
	}
	fprintf(out, "\n  %-42s %-14s %-12s %-12s %s\n", "item", "status", "site", "to", "container (outermost)");
	for (size_t i = 0; i < count; i++) {
		const struct store_item *s = &rows[i].item->state;
		fprintf(out, "  %-42s %-14s %-12s %-12s %s%s\n", rows[i].item->id, where_status(s), s->site,
		       s->destination[0] ? s->destination : "-", rows[i].top[0] ? rows[i].top : "-",
		       rows[i].item->lock_reasons ? "  LOCKED" : "");
	}
}

static size_t groups_build(const struct where_row *rows, size_t count, struct where_group *groups)
{
	size_t n = 0;
	for (size_t i = 0; i < count; i++) {
		const struct store_item *s = &rows[i].item->state;
		int reason = s->status == ITEM_DECOMMISSIONED ? s->reason : 0;
		size_t g = 0;
		while (g < n && !(groups[g].status == s->status && groups[g].reason == reason &&
				  strcmp(groups[g].site, s->site) == 0 && strcmp(groups[g].destination, s->destination) == 0))
			g++;
		if (g == n) {
			if (n == WHERE_GROUPS_MAX)
				continue; /* summary full: the item rows still list every pack */
			groups[n++] = (struct where_group){ s->status, reason, s->site, s->destination, 0 };
		}
		groups[g].count++;
	}
	return n;
}

/* Packs of the report at or bound for `site` (every pack when NULL), with their outermost container. */
static size_t where_rows(store_txn *txn, const struct reconcile_report *report, const char *site,
			 struct where_row *rows)
{
	size_t count = 0;
	for (size_t i = 0; i < report->item_count; i++) {
		const struct store_item *s = &report->items[i].state;
		if (site != NULL && strcmp(s->site, site) != 0 && strcmp(s->destination, site) != 0)
			continue;
		rows[count].item = &report->items[i];
		top_container(txn, s, rows[count].top);
		count++;
	}
	return count;
}

int query_where_run(const struct query_env *env, const struct query_params *p, struct query_out *out)
{
	struct reconcile_query q;
	struct reconcile_report report;
	int rc = reconcile_begin(env, p, &q, &report, out);
	if (rc != 0 || env->txn == NULL)
		return rc;
	struct where_row *rows = calloc(report.item_count ? report.item_count : 1, sizeof(*rows));
	struct where_group *groups = calloc(WHERE_GROUPS_MAX, sizeof(*groups));
	if (rows == NULL || groups == NULL) {
		query_fail(out, QUERY_EXIT_USAGE, "out of memory");
	} else {
		size_t count = where_rows(env->txn, &report, q.options.site, rows);
		size_t group_count = groups_build(rows, count, groups);
		if (q.json)
			where_print_json(out->doc[0], &report, rows, count, groups, group_count);
		else
			where_print_text(out->doc[0], &report, rows, count, groups, group_count);
	}
	free(rows);
	free(groups);
	reconcile_report_free(&report);
	return out->exit_code;
}
