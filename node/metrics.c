/* node/metrics.c — counters kept by the loop thread and their Prometheus text exposition
 * (format 0.0.4: "# HELP", "# TYPE", then `name{label="value"} number` lines; node/metrics.h).
 *
 * Rates (entries and records per second) are not computed here: the counters are exported and
 * Prometheus' rate() derives them, so a scrape interval never changes what is measured. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ledger/reason.h"
#include "node/metrics.h"
#include "util/error.h"

_Static_assert(LEDGER_OUTCOME_COUNT <= NODE_METRICS_OUTCOMES_MAX, "every ledger outcome has a counter");

/* A Ready cycle is one LMDB write transaction and fsync: sub-millisecond on tmpfs, milliseconds on
 * SSDs, up to seconds on a struggling disk. */
const double node_metrics_cycle_bounds[NODE_METRICS_CYCLE_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
};

const char *const node_snapshot_fail_names[NODE_SNAPSHOT_FAIL_COUNT] = {
	[NODE_SNAPSHOT_FAIL_OVERSIZE] = "oversize",	    [NODE_SNAPSHOT_FAIL_MALFORMED] = "malformed",
	[NODE_SNAPSHOT_FAIL_INCONSISTENT] = "inconsistent", [NODE_SNAPSHOT_FAIL_HASH] = "hash",
	[NODE_SNAPSHOT_FAIL_IO] = "io",			    [NODE_SNAPSHOT_FAIL_TIMEOUT] = "timeout",
};

const char *const node_alarm_kind_names[NODE_ALARM_KIND_COUNT] = {
	[NODE_ALARM_DIVERGENCE] = "divergence", [NODE_ALARM_CYCLE_FAILED] = "cycle_failed",
	[NODE_ALARM_CHECKPOINT] = "checkpoint", [NODE_ALARM_SPC] = "spc",
	[NODE_ALARM_OTHER] = "other",
};

enum node_alarm_kind node_alarm_kind_of(const char *name)
{
	for (int k = 0; k < NODE_ALARM_OTHER; k++)
		if (name != NULL && strcmp(name, node_alarm_kind_names[k]) == 0)
			return (enum node_alarm_kind)k;
	return NODE_ALARM_OTHER;
}

void node_metrics_cycle_observe(struct node_metrics *m, uint64_t duration_ns)
{
	double seconds = (double)duration_ns / 1e9;
	for (size_t i = 0; i < NODE_METRICS_CYCLE_BUCKETS; i++)
		if (seconds <= node_metrics_cycle_bounds[i]) {
			m->cycle_buckets[i]++;
			break;
		}
	m->cycle_count++; /* those above the last bound count only here (the +Inf bucket) */
	m->cycle_ns_sum += duration_ns;
}

void node_metrics_outcome_count(struct node_metrics *m, int outcome)
{
	if (outcome >= 0 && outcome < NODE_METRICS_OUTCOMES_MAX && ledger_outcome_name(outcome) != NULL)
		m->records_total[outcome]++;
	else
		m->records_other_total++;
}

struct text {
	char *out;
	size_t cap, len;
	bool full;
};

static void emit(struct text *t, const char *format, ...) __attribute__((format(printf, 2, 3)));

static void emit(struct text *t, const char *format, ...)
{
	if (t->full)
		return;
	va_list ap;
	va_start(ap, format);
	int n = vsnprintf(t->out + t->len, t->cap - t->len, format, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= t->cap - t->len) {
		t->full = true;
		return;
	}
	t->len += (size_t)n;
}

static void head(struct text *t, const char *name, const char *type, const char *help)
{
	emit(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void gauge(struct text *t, const char *name, const char *help, uint64_t value)
{
	head(t, name, "gauge", help);
	emit(t, "%s %" PRIu64 "\n", name, value);
}

static void counter(struct text *t, const char *name, const char *help, uint64_t value)
{
	head(t, name, "counter", help);
	emit(t, "%s %" PRIu64 "\n", name, value);
}

static void raft_section(struct text *t, const struct node_metrics *m)
{
	gauge(t, "siteledger_raft_term", "Current raft term.", m->raft_term);
	head(t, "siteledger_raft_role", "gauge", "1 for this node's raft role, 0 for the other roles.");
	static const enum raft_role roles[] = { RAFT_FOLLOWER, RAFT_PRE_CANDIDATE, RAFT_CANDIDATE, RAFT_LEADER };
	for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
		emit(t, "siteledger_raft_role{role=\"%s\"} %d\n", raft_role_name(roles[i]), m->raft_role == roles[i]);
	gauge(t, "siteledger_raft_commit_index", "Highest raft log index known committed.", m->raft_commit_index);
	gauge(t, "siteledger_raft_applied_index", "Highest raft log index applied to the ledger here.",
	      m->raft_applied_index);
	counter(t, "siteledger_raft_entries_applied_total", "Raft entries applied here since start.",
		m->raft_entries_applied_total);
}

static void ledger_section(struct text *t, const struct node_metrics *m)
{
	/* the ledger only grows, so its size is a counter: rate() is entries per second */
	counter(t, "siteledger_ledger_entries_total", "Ledger size: entries appended (accepted and rejected records).",
		m->ledger_entries);
	head(t, "siteledger_records_total", "counter",
	     "Records applied here since start, by outcome (ACCEPTED or the rejection reason).");
	for (int i = 0; i < NODE_METRICS_OUTCOMES_MAX; i++) {
		const char *name = ledger_outcome_name(i);
		if (name != NULL)
			emit(t, "siteledger_records_total{outcome=\"%s\"} %" PRIu64 "\n", name, m->records_total[i]);
	}
	emit(t, "siteledger_records_total{outcome=\"OTHER\"} %" PRIu64 "\n", m->records_other_total);
}

static void cycle_section(struct text *t, const struct node_metrics *m)
{
	const char *name = "siteledger_ready_cycle_seconds";
	head(t, name, "histogram", "Duration of one Ready cycle: write transaction, fsync, sends and apply.");
	uint64_t cumulative = 0;
	for (size_t i = 0; i < NODE_METRICS_CYCLE_BUCKETS; i++) {
		cumulative += m->cycle_buckets[i];
		emit(t, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name, node_metrics_cycle_bounds[i], cumulative);
	}
	emit(t, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, m->cycle_count);
	emit(t, "%s_sum %.9f\n", name, (double)m->cycle_ns_sum / 1e9);
	emit(t, "%s_count %" PRIu64 "\n", name, m->cycle_count);
}

static void peer_drops(struct text *t, const struct node_metrics_peer *p)
{
	const struct {
		const char *reason;
		uint64_t value;
	} drops[] = {
		{ "queue_full", p->dropped_queue },
		{ "send_failed", p->dropped_send },
		{ "unopened", p->dropped_unopened },
		{ "malformed", p->dropped_malformed },
	};
	for (size_t i = 0; i < sizeof drops / sizeof drops[0]; i++)
		emit(t, "siteledger_peer_messages_dropped_total{peer=\"%s\",reason=\"%s\"} %" PRIu64 "\n", p->name,
		     drops[i].reason, drops[i].value);
}

static void peer_section(struct text *t, const struct node_metrics *m, uint64_t now_ms)
{
	head(t, "siteledger_peer_messages_dropped_total", "counter",
	     "Peer messages dropped, by peer and reason (Raft retries every drop).");
	for (size_t i = 0; i < m->peer_count; i++)
		peer_drops(t, &m->peers[i]);
	head(t, "siteledger_peer_last_heard_seconds", "gauge",
	     "Seconds since the last authenticated message from the peer (+Inf: never).");
	for (size_t i = 0; i < m->peer_count; i++) {
		const struct node_metrics_peer *p = &m->peers[i];
		if (p->last_heard_ms == 0)
			emit(t, "siteledger_peer_last_heard_seconds{peer=\"%s\"} +Inf\n", p->name);
		else /* a clock step backwards reads as 0, not as a huge unsigned age */
			emit(t, "siteledger_peer_last_heard_seconds{peer=\"%s\"} %.3f\n", p->name,
			     now_ms > p->last_heard_ms ? (double)(now_ms - p->last_heard_ms) / 1000.0 : 0.0);
	}
	head(t, "siteledger_peer_match_index", "gauge",
	     "Leader only: highest raft log index known replicated on the peer (0 on followers).");
	for (size_t i = 0; i < m->peer_count; i++)
		emit(t, "siteledger_peer_match_index{peer=\"%s\"} %" PRIu64 "\n", m->peers[i].name,
		     m->peers[i].match_index);
	counter(t, "siteledger_peer_unknown_sender_total", "Peer messages dropped: sender not in the configuration.",
		m->peer_unknown_sender_total);
}

static void snapshot_section(struct text *t, const struct node_metrics_snapshot *s)
{
	gauge(t, "siteledger_raft_compaction_index",
	      "Raft index of the last log compaction here (a follower behind it catches up by snapshot).",
	      s->compaction_index);
	counter(t, "siteledger_snapshot_sent_total",
		"Leader: snapshot transfers a follower acknowledged complete and hash-checked.", s->sent_total);
	counter(t, "siteledger_snapshot_send_failed_total",
		"Leader: snapshot transfers refused, timed out, superseded or not exported (raft retries).",
		s->send_failed_total);
	counter(t, "siteledger_snapshot_sent_bytes_total", "Leader: snapshot bytes sent, resends included.",
		s->bytes_sent_total);
	counter(t, "siteledger_snapshot_received_total", "Follower: snapshot transfers complete and hash-checked.",
		s->received_total);
	counter(t, "siteledger_snapshot_received_bytes_total", "Follower: snapshot bytes received in order.",
		s->bytes_received_total);
	head(t, "siteledger_snapshot_receive_failed_total", "counter",
	     "Follower: snapshot transfers refused or abandoned, by reason.");
	for (size_t i = 0; i < NODE_SNAPSHOT_FAIL_COUNT; i++)
		emit(t, "siteledger_snapshot_receive_failed_total{reason=\"%s\"} %" PRIu64 "\n", node_snapshot_fail_names[i],
		     s->receive_failed_total[i]);
	counter(t, "siteledger_snapshot_chunks_ignored_total", "Stale, duplicate or unknown snapshot chunks and acks.",
		s->chunks_ignored_total);
	counter(t, "siteledger_snapshot_installed_total", "Snapshots installed into this node's ledger.",
		s->installed_total);
	counter(t, "siteledger_snapshot_divergences_total",
		"Snapshot installs that found a ledger different from the leader's (alarm; the node stops).",
		s->divergences_total);
}

int node_metrics_format(const struct node_metrics *m, uint64_t now_ms, char *out, size_t cap, size_t *len_out)
{
	struct text t = { .out = out, .cap = cap };
	*len_out = 0;
	if (cap == 0)
		return SL_ELIMIT;
	raft_section(&t, m);
	ledger_section(&t, m);
	cycle_section(&t, m);
	peer_section(&t, m, now_ms);
	snapshot_section(&t, &m->snapshot);
	counter(&t, "siteledger_client_refused_total",
		"Client requests refused (unknown or revoked key, bad signature, other site's records).",
		m->client_refused_total);
	counter(&t, "siteledger_client_invalid_total", "Client requests that did not decode or were invalid.",
		m->client_invalid_total);
	counter(&t, "siteledger_events_published_total", "Events handed to the PUB socket.", m->events_published_total);
	counter(&t, "siteledger_events_dropped_total", "Events the PUB socket did not take.", m->events_dropped_total);
	head(&t, "siteledger_alarms_total", "counter", "Alarms raised here since start, by kind.");
	for (int k = 0; k < NODE_ALARM_KIND_COUNT; k++)
		emit(&t, "siteledger_alarms_total{kind=\"%s\"} %" PRIu64 "\n", node_alarm_kind_names[k], m->alarms_total[k]);
	if (t.full)
		return SL_ELIMIT;
	*len_out = t.len;
	return 0;
}
