/* node/alarms.c — alarms (docs/operations.md "Events", "Metrics"; docs/reconciliation.md "Alarms"):
 * node_alarm_raise writes one logfmt warn line, counts siteledger_alarms_total{kind} and publishes an
 * "alarm" event; and the SPC monitor: every applied record feeds ledger/spc_live.h, and at most once
 * per spc_every_ms, when something was applied since the last look, the charts of the recent window
 * are computed and each new out-of-control signal becomes an alarm of kind "spc".
 *
 * Cost: one record decode per applied record (while SPC alarms are on) and one chart pass over at
 * most SPC_LIVE_CELLS_MAX cells per interval, whatever the ledger's size.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ledger/spc_live.h"
#include "node/node.h"
#include "util/error.h"

struct node_alarms {
	struct node *n;
	spc_live *spc;
	uv_timer_t timer;
	bool dirty; /* records were added since the last check */
};

/* "a,b,c" of the seqs (at most NODE_ALARM_SEQS_MAX) for the log line. */
static void seqs_text(const struct node_alarm *a, char *out, size_t cap)
{
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < a->seq_count && i < NODE_ALARM_SEQS_MAX; i++) {
		int w = snprintf(out + len, cap - len, "%s%" PRIu64, i ? "," : "", a->seqs[i]);
		if (w < 0 || (size_t)w >= cap - len)
			break;
		len += (size_t)w;
	}
}

void node_alarm_raise(struct node *n, const struct node_alarm *a)
{
	char seqs[NODE_ALARM_SEQS_MAX * 21 + 1];
	seqs_text(a, seqs, sizeof seqs);
	node_log("warn", "alarm", "kind=%s site=%s line=\"%s\" rule=%s records=%s what=\"%s\"", a->kind,
		 a->site != NULL ? a->site : "-", a->line != NULL ? a->line : "", a->rule != NULL ? a->rule : "-",
		 seqs[0] ? seqs : "-", a->what);
	node_events_alarm_full(n, a);
}

static void day_text(int64_t day, char out[16])
{
	time_t t = (time_t)(day * 86400);
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL || strftime(out, 16, "%Y-%m-%d", &tm) == 0)
		snprintf(out, 16, "day %" PRId64, day);
}

static void on_signal(void *ctx, const struct spc_live_signal *s)
{
	struct node *n = ctx;
	char day[16], what[NODE_EVENT_WHAT_BYTES_MAX];
	day_text(s->day, day);
	bool beyond = s->rule == SPC_RULE_BEYOND;
	const char *where = beyond ? "above the upper limit" : "ends a run above the centre";
	double limit = 100.0 * (beyond ? s->ucl : s->centre);
	snprintf(what, sizeof what, "refusals %" PRIu64 "/%" PRIu64 " (%.1f%%) on %s %s %.1f%%", s->refused, s->records,
		 100.0 * s->p, day, where, limit);
	const struct node_alarm alarm = { .kind = "spc",
					  .what = what,
					  .site = s->site,
					  .line = s->line != NULL ? s->line : "",
					  .rule = beyond ? "beyond" : "run",
					  .seqs = s->seqs,
					  .seq_count = s->seq_count };
	node_alarm_raise(n, &alarm);
}

static void check_cb(uv_timer_t *timer)
{
	struct node_alarms *al = timer->data;
	if (!al->dirty || al->n->stopping)
		return;
	al->dirty = false;
	size_t reported = 0;
	int rc = spc_live_check(al->spc, on_signal, al->n, &reported);
	if (rc != 0)
		node_log("warn", "spc check failed", "err=%s", sl_errname(rc));
}

void node_alarms_applied(struct node *n, const struct replica_applied *a)
{
	struct node_alarms *al = n->alarms;
	if (al == NULL || al->spc == NULL || a->snapshot || a->records == NULL)
		return;
	for (size_t i = 0; i < a->results_count; i++) {
		struct record r;
		if (record_decode(a->records[i].bytes, a->records[i].len, &r, NULL) != 0)
			continue; /* undecodable: no site or line to charge (ledger/spc_series.c note 2) */
		(void)spc_live_add(al->spc, &r, a->results[i].outcome, a->results[i].seq, a->ledger_time_ms);
		record_clear(&r);
		al->dirty = true;
	}
}

int node_alarms_open(struct node *n)
{
	if (n->config.spc_every_ms == 0)
		return 0;
	struct node_alarms *al = calloc(1, sizeof *al);
	if (al == NULL)
		return SL_ENOMEM;
	al->n = n;
	n->alarms = al;
	int rc = spc_live_new(&al->spc);
	if (rc == 0 && uv_timer_init(n->loop, &al->timer) != 0)
		rc = SL_EIO;
	al->timer.data = al;
	if (rc == 0 && uv_timer_start(&al->timer, check_cb, n->config.spc_every_ms, n->config.spc_every_ms) != 0)
		rc = SL_EIO;
	if (rc != 0)
		node_log("error", "spc alarms cannot start", "err=%s", sl_errname(rc));
	return rc;
}

void node_alarms_close(struct node *n)
{
	struct node_alarms *al = n->alarms;
	if (al == NULL)
		return;
	if (al->spc != NULL && spc_live_dropped(al->spc) > 0)
		node_log("info", "spc", "records_not_charted=%" PRIu64, spc_live_dropped(al->spc));
	spc_live_free(al->spc);
	free(al);
	n->alarms = NULL;
}
