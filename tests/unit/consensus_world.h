/* tests/unit/consensus_world.h — the simulated world of the Raft scenario runner
 * (test_consensus_scenarios.c): nodes with what a real node keeps on disk (hard state,
 * compaction point, log, applied index) plus their application state, and a network of encoded
 * messages with partitions. Header-only, included once. Links only libslraft.a and libc.
 *
 * Rules:
 *  1. A Ready is processed as a node would: install the snapshot, persist entries and hard state,
 *     encode and queue messages (only after persisting), apply committed entries, advance.
 *  2. A snapshot's state travels out of band: the receiver copies the sender's applied data up
 *     to the snapshot index (the sender compacted only what it had applied).
 *  3. A crash loses the core (volatile state); the persisted fields survive for restart.
 *  4. Partitions apply at delivery time; a dropped snapshot is reported to its sender.
 */
#ifndef SL_TESTS_UNIT_CONSENSUS_WORLD_H
#define SL_TESTS_UNIT_CONSENSUS_WORLD_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consensus/raft.h"

#define NODES_MAX 32 /* ids 1..31 */
#define QUEUE_MAX 100000 /* in-flight messages; a scenario beyond this is broken */
#define STABILIZE_ROUNDS_MAX 200 /* a quiet cluster settles in a handful; more means a livelock */
#define APP_ITEMS_MAX 100000 /* applied data items per node */
#define READS_MAX 1024 /* read states kept per node */

struct stored_entry {
	struct raft_entry e; /* data owned (malloc) */
};

struct app_item {
	uint64_t index;
	char *data;
};

struct node {
	bool exists;
	bool up;
	raft *r;
	struct raft_config cfg;
	/* persisted */
	struct raft_hard_state hs;
	struct raft_snapshot_meta snap;
	struct stored_entry *log;
	size_t log_count;
	uint64_t applied;
	struct app_item *app;
	size_t app_count;
	/* observed */
	struct raft_read_state reads[READS_MAX];
	size_t reads_count;
	uint64_t snapshot_from; /* sender of the last snapshot delivered */
};

struct wire_msg {
	uint64_t from;
	uint64_t to;
	uint8_t type;
	uint8_t *bytes;
	size_t len;
};

struct world {
	const char *file;
	int line;
	bool failed;
	bool trace;
	struct node nodes[NODES_MAX];
	struct raft_config base;
	struct wire_msg *queue;
	size_t queue_count;
	int group[NODES_MAX]; /* partition group; 0 = no partition */
};

static void fail(struct world *w, const char *format, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct world *w, const char *format, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, format);
	vsnprintf(text, sizeof text, format, ap);
	va_end(ap);
	printf("  %s:%d: %s\n", w->file, w->line, text);
	w->failed = true;
}

/* ---- parsing helpers ---- */

static bool parse_u64(const char *s, uint64_t *out)
{
	if (s == NULL || *s == '\0')
		return false;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end != '\0' || s[0] == '-')
		return false;
	*out = v;
	return true;
}

static struct node *node_arg(struct world *w, const char *s, bool must_be_up)
{
	uint64_t id;
	if (!parse_u64(s, &id) || id == 0 || id >= NODES_MAX) {
		fail(w, "bad node id '%s'", s ? s : "(missing)");
		return NULL;
	}
	struct node *n = &w->nodes[id];
	if (!n->exists || (must_be_up && !n->up)) {
		fail(w, "node %" PRIu64 " is %s", id, n->exists ? "down" : "unknown");
		return NULL;
	}
	return n;
}

static uint64_t node_id(const struct world *w, const struct node *n)
{
	return (uint64_t)(n - w->nodes);
}

/* ---- persistence and application ---- */

static void stored_truncate(struct node *n, uint64_t from_index)
{
	while (n->log_count > 0 && n->log[n->log_count - 1].e.index >= from_index) {
		n->log_count--;
		free((void *)(uintptr_t)n->log[n->log_count].e.data);
	}
}

static void stored_clear(struct node *n)
{
	stored_truncate(n, 0);
	free(n->log);
	n->log = NULL;
	n->log_count = 0;
}

static void stored_append(struct world *w, struct node *n, const struct raft_entry *e)
{
	uint64_t expect = n->log_count ? n->log[n->log_count - 1].e.index + 1 : n->snap.index + 1;
	if (e->index != expect) {
		fail(w, "node %" PRIu64 ": persisted entry %" PRIu64 " leaves a gap (expected %" PRIu64 ")",
		     node_id(w, n), e->index, expect);
		return;
	}
	n->log = realloc(n->log, (n->log_count + 1) * sizeof *n->log);
	if (n->log == NULL)
		abort();
	struct raft_entry *copy = &n->log[n->log_count++].e;
	*copy = *e;
	copy->data = NULL;
	if (e->len) {
		uint8_t *bytes = malloc(e->len);
		if (bytes == NULL)
			abort();
		memcpy(bytes, e->data, e->len);
		copy->data = bytes;
	}
}

static void app_clear(struct node *n)
{
	for (size_t i = 0; i < n->app_count; i++)
		free(n->app[i].data);
	free(n->app);
	n->app = NULL;
	n->app_count = 0;
}

static void app_push(struct node *n, uint64_t index, const uint8_t *data, size_t len)
{
	if (n->app_count >= APP_ITEMS_MAX)
		abort();
	n->app = realloc(n->app, (n->app_count + 1) * sizeof *n->app);
	char *copy = malloc(len + 1);
	if (n->app == NULL || copy == NULL)
		abort();
	memcpy(copy, data, len);
	copy[len] = '\0';
	n->app[n->app_count].index = index;
	n->app[n->app_count].data = copy;
	n->app_count++;
}

static void install_snapshot(struct world *w, struct node *n, const struct raft_snapshot_meta *snap)
{
	/* the snapshot's data travels out of band: copy the sender's state up to snap->index */
	struct node *src = n->snapshot_from ? &w->nodes[n->snapshot_from] : NULL;
	if (src == NULL || src->applied < snap->index) {
		fail(w, "node %" PRIu64 ": snapshot at %" PRIu64 " has no source state", node_id(w, n), snap->index);
		return;
	}
	stored_clear(n);
	n->snap = *snap;
	app_clear(n);
	for (size_t i = 0; i < src->app_count && src->app[i].index <= snap->index; i++)
		app_push(n, src->app[i].index, (const uint8_t *)src->app[i].data, strlen(src->app[i].data));
	n->applied = snap->index;
}

static void queue_push(struct world *w, const struct raft_msg *m)
{
	size_t cap = raft_msg_encoded_bytes_max(m);
	uint8_t *bytes = malloc(cap);
	size_t len = 0;
	if (bytes == NULL || w->queue_count >= QUEUE_MAX)
		abort();
	int rc = raft_msg_encode(m, bytes, cap, &len);
	if (rc != 0) {
		fail(w, "encode %s: %s", raft_msg_type_name(m->type), raft_errname(rc));
		free(bytes);
		return;
	}
	w->queue = realloc(w->queue, (w->queue_count + 1) * sizeof *w->queue);
	if (w->queue == NULL)
		abort();
	w->queue[w->queue_count++] = (struct wire_msg){ m->from, m->to, m->type, bytes, len };
}

static void apply_committed(struct world *w, struct node *n, const struct raft_ready *rd)
{
	for (size_t i = 0; i < rd->committed_count; i++) {
		const struct raft_entry *e = &rd->committed[i];
		if (e->index != n->applied + 1) {
			fail(w, "node %" PRIu64 ": applies %" PRIu64 " after %" PRIu64, node_id(w, n), e->index,
			     n->applied);
			return;
		}
		if (e->type == RAFT_ENTRY_NORMAL && e->len > 0)
			app_push(n, e->index, e->data, e->len);
		n->applied = e->index;
	}
}

static bool node_ready(struct world *w, struct node *n)
{
	if (!n->up || !raft_has_ready(n->r))
		return false;
	struct raft_ready rd;
	int rc = raft_ready(n->r, &rd);
	if (rc != 0) {
		fail(w, "raft_ready: %s", raft_errname(rc));
		return false;
	}
	if (rd.has_snapshot)
		install_snapshot(w, n, &rd.snapshot);
	if (rd.entries_count > 0)
		stored_truncate(n, rd.entries[0].index);
	for (size_t i = 0; i < rd.entries_count; i++)
		stored_append(w, n, &rd.entries[i]);
	if (rd.has_hard_state)
		n->hs = rd.hard_state;
	for (size_t i = 0; i < rd.messages_count; i++) /* only after persisting (raft.h Rule 1) */
		queue_push(w, &rd.messages[i]);
	apply_committed(w, n, &rd);
	for (size_t i = 0; i < rd.read_states_count && n->reads_count < READS_MAX; i++)
		n->reads[n->reads_count++] = rd.read_states[i];
	raft_advance(n->r, &rd);
	return true;
}

/* ---- network ---- */

static bool connected(const struct world *w, uint64_t a, uint64_t b)
{
	return w->group[a] == w->group[b] || w->group[a] == 0 || w->group[b] == 0;
}

static void deliver_one(struct world *w, struct wire_msg *m)
{
	struct node *to = &w->nodes[m->to];
	struct node *from = &w->nodes[m->from];
	if (!to->up || !connected(w, m->from, m->to)) {
		if (m->type == RAFT_MSG_SNAPSHOT && from->up)
			raft_report_snapshot(from->r, m->to, false); /* the transport noticed */
		return;
	}
	struct raft_entry entries[RAFT_MSG_ENTRIES_MAX];
	struct raft_msg msg;
	int rc = raft_msg_decode(m->bytes, m->len, &msg, entries, RAFT_MSG_ENTRIES_MAX);
	if (rc != 0) {
		fail(w, "decode: %s", raft_errname(rc));
		return;
	}
	if (msg.type == RAFT_MSG_SNAPSHOT)
		to->snapshot_from = msg.from;
	rc = raft_step(to->r, &msg);
	if (w->trace)
		printf("    %" PRIu64 "->%" PRIu64 " %s term=%" PRIu64 " index=%" PRIu64 " logterm=%" PRIu64
		       " commit=%" PRIu64 " n=%zu%s => %s\n",
		       msg.from, msg.to, raft_msg_type_name(msg.type), msg.term, msg.index, msg.log_term, msg.commit,
		       msg.entries_count, (msg.flags & RAFT_MSG_FLAG_REJECT) ? " reject" : "", raft_errname(rc));
}

static bool id_listed(char **ids, int count, uint64_t id)
{
	if (count == 0)
		return true;
	for (int i = 0; i < count; i++) {
		uint64_t v;
		if (parse_u64(ids[i], &v) && v == id)
			return true;
	}
	return false;
}

static bool deliver(struct world *w, char **ids, int count)
{
	size_t n = w->queue_count;
	struct wire_msg *batch = w->queue;
	struct wire_msg *keep = NULL;
	size_t kept = 0;
	w->queue = NULL;
	w->queue_count = 0;
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		if (!id_listed(ids, count, batch[i].to)) {
			keep = realloc(keep, (kept + 1) * sizeof *keep);
			if (keep == NULL)
				abort();
			keep[kept++] = batch[i];
			continue;
		}
		deliver_one(w, &batch[i]);
		free(batch[i].bytes);
		any = true;
	}
	free(batch);
	/* undelivered messages stay ahead of the new ones */
	if (kept > 0) {
		keep = realloc(keep, (kept + w->queue_count) * sizeof *keep);
		if (keep == NULL)
			abort();
		if (w->queue_count)
			memcpy(keep + kept, w->queue, w->queue_count * sizeof *keep);
		free(w->queue);
		w->queue = keep;
		w->queue_count += kept;
	} else {
		free(keep);
	}
	return any;
}

static bool all_ready(struct world *w)
{
	bool any = false;
	for (size_t id = 1; id < NODES_MAX; id++)
		any |= node_ready(w, &w->nodes[id]);
	return any;
}

static void stabilize(struct world *w)
{
	for (int round = 0; round < STABILIZE_ROUNDS_MAX && !w->failed; round++) {
		bool moved = all_ready(w);
		moved |= deliver(w, NULL, 0);
		if (!moved)
			return;
	}
	if (!w->failed)
		fail(w, "stabilize did not settle in %d rounds", STABILIZE_ROUNDS_MAX);
}

/* ---- node lifecycle ---- */

static void node_start(struct world *w, uint64_t id, const struct raft_storage_state *st)
{
	struct node *n = &w->nodes[id];
	int rc = raft_create(&n->cfg, st, &n->r);
	if (rc != 0) {
		fail(w, "raft_create(%" PRIu64 "): %s", id, raft_errname(rc));
		return;
	}
	n->up = true;
}

static void node_create(struct world *w, uint64_t id, const struct raft_conf_state *initial)
{
	if (id == 0 || id >= NODES_MAX || w->nodes[id].exists) {
		fail(w, "node %" PRIu64 " cannot be created", id);
		return;
	}
	struct node *n = &w->nodes[id];
	memset(n, 0, sizeof *n);
	n->exists = true;
	n->cfg = w->base;
	n->cfg.id = id;
	n->cfg.initial = *initial;
	node_start(w, id, NULL);
}

static void node_crash(struct node *n)
{
	raft_destroy(n->r);
	n->r = NULL;
	n->up = false;
}

static void node_restart(struct world *w, struct node *n)
{
	struct raft_entry *entries = calloc(n->log_count + 1, sizeof *entries);
	if (entries == NULL)
		abort();
	for (size_t i = 0; i < n->log_count; i++)
		entries[i] = n->log[i].e;
	struct raft_storage_state st = {
		.hard_state = n->hs,
		.snapshot = n->snap,
		.entries = entries,
		.entries_count = n->log_count,
		.applied = n->applied,
	};
	node_start(w, node_id(w, n), &st);
	free(entries);
}

static void node_free(struct node *n)
{
	if (n->up)
		node_crash(n);
	stored_clear(n);
	app_clear(n);
}

#endif
