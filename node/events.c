/* node/events.c — events for other systems: a nanomsg PUB socket bound to events_listen.
 *
 * Messages (docs/operations.md "Events"): a topic word and one space, then a JSON object, so a
 * subscriber filters with NN_SUB_SUBSCRIBE on "commit", "reject" or "alarm":
 *     commit {"raft_index":7,"seq":12,"ledger_time_ms":...,"record_id":"<64 hex>","type":"commission",
 *             "site":"mfg","outcome":"ACCEPTED"}
 *     reject {... the same fields, "outcome":"DUPLICATE_COMMISSION"}
 *     alarm {"alarm":"divergence"|"cycle_failed"|"checkpoint"|"spc","what":"...",
 *            "site":"...","line":"...","rule":"...","records":[seq,...],"at_ms":...}
 *            (site, line, rule and records only when the alarm has them: node/alarms.c)
 * One commit/reject per record applied on this node (every replica publishes the same records in
 * the same order; subscribe to one node, or de-duplicate on seq).
 *
 * Invariants:
 *  1. Sending never blocks the loop: NN_DONTWAIT, and PUB itself drops a message for a
 *     subscriber whose pipe is full. A send nanomsg refuses is counted, not retried.
 *  2. The JSON is ASCII: strings are escaped (quotes, backslash, controls as \u00XX; bytes
 *     >= 0x80 as \u00XX of the byte, so a subscriber's parser never sees invalid UTF-8).
 */
#include <inttypes.h>
#include <nanomsg/nn.h>
#include <nanomsg/pubsub.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ledger/reason.h"
#include "node/node.h"
#include "util/error.h"

struct json {
	char *out;
	size_t cap, len;
	bool full;
};

static void put(struct json *j, const char *format, ...) __attribute__((format(printf, 2, 3)));

static void put(struct json *j, const char *format, ...)
{
	if (j->full)
		return;
	va_list ap;
	va_start(ap, format);
	int n = vsnprintf(j->out + j->len, j->cap - j->len, format, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= j->cap - j->len)
		j->full = true;
	else
		j->len += (size_t)n;
}

/* A JSON string (invariant 2), or null for NULL; at most max_bytes of s. */
static void put_string(struct json *j, const char *s, size_t max_bytes)
{
	if (s == NULL) {
		put(j, "null");
		return;
	}
	put(j, "\"");
	for (size_t i = 0; s[i] != '\0' && i < max_bytes && !j->full; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			put(j, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			put(j, "\\u%04x", c);
		else
			put(j, "%c", c);
	}
	put(j, "\"");
}

static int json_end(struct json *j, size_t *len_out)
{
	*len_out = 0;
	if (j->full)
		return SL_ELIMIT;
	*len_out = j->len;
	return 0;
}

int node_event_record_format(const struct node_event_record *e, char *out, size_t cap, size_t *len_out)
{
	struct json j = { .out = out, .cap = cap, .full = cap == 0 };
	char hex[2 * RECORD_ID_BYTES + 1];
	crypto_hex_encode(e->record_id, RECORD_ID_BYTES, hex);
	const char *outcome = ledger_outcome_name(e->outcome);
	put(&j, "%s {\"raft_index\":%" PRIu64 ",\"seq\":%" PRIu64 ",\"ledger_time_ms\":%" PRIu64 ",\"record_id\":\"%s\"",
	    e->outcome == OUTCOME_ACCEPTED ? "commit" : "reject", e->raft_index, e->seq, e->ledger_time_ms, hex);
	put(&j, ",\"type\":");
	put_string(&j, e->type, RECORD_SITE_SIZE);
	put(&j, ",\"site\":");
	put_string(&j, e->site, RECORD_SITE_SIZE);
	put(&j, ",\"outcome\":");
	put_string(&j, outcome != NULL ? outcome : "OTHER", RECORD_SITE_SIZE);
	put(&j, "}");
	return json_end(&j, len_out);
}

int node_event_alarm_format(const char *alarm, const char *what, uint64_t at_ms, char *out, size_t cap,
			    size_t *len_out)
{
	const struct node_alarm a = { .kind = alarm, .what = what };
	return node_event_alarm_format_full(&a, at_ms, out, cap, len_out);
}

#define NODE_EVENT_RULE_BYTES_MAX 16 /* "beyond", "run" */
/* The longest alarm: kind, what and line cut at NODE_EVENT_WHAT_BYTES_MAX, site and rule at theirs,
 * every byte escaped as \u00XX (6 bytes), the records, the names and punctuation. */
_Static_assert(6 * (3 * NODE_EVENT_WHAT_BYTES_MAX + RECORD_SITE_CHARS_MAX + NODE_EVENT_RULE_BYTES_MAX) +
			       NODE_ALARM_SEQS_MAX * 21 + 128 <=
		       NODE_EVENT_BYTES_MAX,
	       "every alarm fits one event message");

int node_event_alarm_format_full(const struct node_alarm *a, uint64_t at_ms, char *out, size_t cap, size_t *len_out)
{
	struct json j = { .out = out, .cap = cap, .full = cap == 0 };
	put(&j, "alarm {\"alarm\":");
	put_string(&j, a->kind, NODE_EVENT_WHAT_BYTES_MAX);
	put(&j, ",\"what\":");
	put_string(&j, a->what, NODE_EVENT_WHAT_BYTES_MAX);
	const char *names[] = { "site", "line", "rule" };
	const char *values[] = { a->site, a->line, a->rule };
	const size_t caps[] = { RECORD_SITE_CHARS_MAX, NODE_EVENT_WHAT_BYTES_MAX, NODE_EVENT_RULE_BYTES_MAX };
	for (size_t i = 0; i < 3; i++) {
		if (values[i] == NULL)
			continue;
		put(&j, ",\"%s\":", names[i]);
		put_string(&j, values[i], caps[i]);
	}
	if (a->seq_count > 0) {
		put(&j, ",\"records\":[");
		for (size_t i = 0; i < a->seq_count && i < NODE_ALARM_SEQS_MAX; i++)
			put(&j, "%s%" PRIu64, i ? "," : "", a->seqs[i]);
		put(&j, "]");
	}
	put(&j, ",\"at_ms\":%" PRIu64 "}", at_ms);
	return json_end(&j, len_out);
}

static void publish(struct node *n, const char *text, size_t len)
{
	if (nn_send(n->events_sock, text, len, NN_DONTWAIT) < 0)
		n->metrics.events_dropped_total++;
	else
		n->metrics.events_published_total++;
}

/* One event per record of the applied entry (a snapshot carries none). */
void node_events_applied(struct node *n, const struct replica_applied *a)
{
	if (n->events_sock < 0 || a->snapshot)
		return;
	char text[NODE_EVENT_BYTES_MAX];
	for (size_t i = 0; i < a->results_count; i++) {
		const struct ledger_result *r = &a->results[i];
		struct record record;
		struct sl_error_detail detail = { "" };
		char site[RECORD_SITE_SIZE] = "";
		bool decoded = a->records != NULL &&
			       record_decode(a->records[i].bytes, a->records[i].len, &record, &detail) == 0;
		const char *type = NULL;
		if (decoded) {
			type = record_type_name(record.type);
			if (sl_str_copy(record.site, site, sizeof site) != 0)
				site[0] = '\0';
			record_clear(&record);
		}
		struct node_event_record e = { .raft_index = a->index, .seq = r->seq, .ledger_time_ms = a->ledger_time_ms,
					       .record_id = r->record_id, .type = type, .site = decoded ? site : NULL,
					       .outcome = r->outcome };
		size_t len = 0;
		if (node_event_record_format(&e, text, sizeof text, &len) == 0)
			publish(n, text, len);
		else
			n->metrics.events_dropped_total++;
	}
}

void node_events_alarm(struct node *n, const char *alarm, const char *what)
{
	const struct node_alarm a = { .kind = alarm, .what = what };
	node_events_alarm_full(n, &a);
}

void node_events_alarm_full(struct node *n, const struct node_alarm *a)
{
	n->metrics.alarms_total[node_alarm_kind_of(a->kind)]++; /* counted with or without subscribers */
	if (n->events_sock < 0)
		return;
	char text[NODE_EVENT_BYTES_MAX];
	size_t len = 0;
	if (node_event_alarm_format_full(a, node_clock_ms(), text, sizeof text, &len) == 0)
		publish(n, text, len);
	else
		n->metrics.events_dropped_total++;
}

int node_events_open(struct node *n)
{
	if (n->config.events_listen[0] == '\0')
		return 0;
	n->events_sock = nn_socket(AF_SP, NN_PUB);
	if (n->events_sock < 0 || nn_bind(n->events_sock, n->config.events_listen) < 0) {
		node_log("error", "cannot listen for event subscribers", "addr=%s err=\"%s\"", n->config.events_listen,
			 nn_strerror(nn_errno()));
		return SL_EIO;
	}
	return 0;
}

void node_events_close(struct node *n)
{
	if (n->events_sock >= 0)
		nn_close(n->events_sock);
	n->events_sock = -1;
}
