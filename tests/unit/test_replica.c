/* tests/unit/test_replica.c — replica/: the batch codec, and a 3-node in-process cluster driven
 * through replica_cycle: records commit and apply identically on every node (ledger, running
 * hash, lifecycle hash), a restart restores raft and applied state from the store, a node that
 * was down past the compaction point catches up through the ledger snapshot, and a failed
 * commit leaves the replica to be reopened with nothing of that cycle visible, and an apply-only
 * cycle an OS crash undid (committed undoable, D24) applies again to the same ledger.
 */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include "tests/unit/test.h"

#include "ledger/lifecycle.h"
#include "ledger/reason.h"
#include "ledger/record.h"
#include "replica/replica.h"
#include "store/store_testing.h"
#include "util/error.h"

#define NODES 3
#define QUEUE_MAX 4096
#define T0_MS 1750000000000ull

struct qmsg {
	uint64_t to;
	uint64_t from;
	uint8_t *bytes;
	size_t len;
	uint8_t *snap;
	size_t snap_len;
};

struct world {
	char root[PATH_MAX];
	char dirs[NODES + 1][PATH_MAX];
	replica *rp[NODES + 1];
	struct crypto_public_key pk[NODES + 1];
	struct crypto_secret_key sk[NODES + 1];
	struct qmsg q[QUEUE_MAX];
	size_t qn;
	uint8_t *snap[NODES + 1];
	size_t snap_len[NODES + 1];
	uint64_t applied_records[NODES + 1];
	uint64_t answered_records[NODES + 1];
	uint64_t answered_index[NODES + 1];
	int answer_order_errors; /* rule 7: answered before published, applied after answered */
	int last_outcome[NODES + 1];
	int snapshots[NODES + 1];
	bool suffix;	 /* ship snapshots as the suffix the receiver lacks (D30) */
	uint64_t suffix_behind; /* cut it this many entries before the receiver's end (it applied more since) */
	int suffixes;	 /* shipped so */
	uint64_t nonce;
	uint64_t compact_every, compact_keep, compact_bytes;
	/* the durable node (durable_node): its cycles, and a copy of its data file after each sync */
	uint64_t persisted[NODES + 1];
	uint64_t undoable_cycles;   /* cycles that committed without a sync */
	uint64_t undoable_since_copy;
	uint64_t unsynced_entries;  /* cycles that made entries durable without a sync: a bug */
	char copy[PATH_MAX];
	int copy_rc;
};

static uint64_t durable_node; /* 0: every store no_sync; else this node's store syncs */

static struct world *current_world;
static uint64_t current_node;

static void hook_send(void *ctx, const struct raft_msg *m)
{
	struct world *w = ctx;
	if (w->qn >= QUEUE_MAX)
		return;
	struct qmsg *q = &w->q[w->qn];
	size_t cap = raft_msg_encoded_bytes_max(m);
	q->bytes = malloc(cap);
	if (q->bytes == NULL || raft_msg_encode(m, q->bytes, cap, &q->len) != 0) {
		free(q->bytes);
		return;
	}
	q->to = m->to;
	q->from = current_node;
	q->snap = NULL;
	q->snap_len = 0;
	if (m->type == RAFT_MSG_SNAPSHOT) {
		struct sl_buf blob;
		struct raft_snapshot_meta meta;
		sl_buf_init(&blob, REPLICA_SNAPSHOT_BYTES_MAX);
		if (replica_snapshot_export(w->rp[current_node], &blob, &meta) == 0) {
			q->snap = blob.data;
			q->snap_len = blob.len;
		} else {
			sl_buf_free(&blob);
		}
	}
	w->qn++;
}

/* Rule 7: the outcomes are told before the cycle's commit is published (replica_applied_get
 * still returns the previous cycle's state), and the same entries are applied after. */
static void hook_answered(void *ctx, const struct replica_applied *a)
{
	struct world *w = ctx;
	struct store_raft_applied published;
	replica_applied_get(w->rp[current_node], &published);
	if (published.index >= a->index || a->index <= w->answered_index[current_node])
		w->answer_order_errors++;
	w->answered_index[current_node] = a->index;
	w->answered_records[current_node] += a->results_count;
}

static void hook_applied(void *ctx, const struct replica_applied *a)
{
	struct world *w = ctx;
	if (!a->snapshot && a->index > w->answered_index[current_node])
		w->answer_order_errors++;
	w->applied_records[current_node] += a->results_count;
	w->snapshots[current_node] += a->snapshot;
	if (a->results_count > 0)
		w->last_outcome[current_node] = a->results[a->results_count - 1].outcome;
}

static int hook_snapshot_data(void *ctx, const struct raft_snapshot_meta *meta, const uint8_t **data, size_t *len)
{
	struct world *w = ctx;
	(void)meta;
	if (w->snap[current_node] == NULL)
		return SL_ENOENT;
	*data = w->snap[current_node];
	*len = w->snap_len[current_node];
	return 0;
}

static void hook_persisted(void *ctx, const struct raft_entry *entry)
{
	struct world *w = ctx;
	(void)entry;
	w->persisted[current_node]++;
}

static const struct replica_hooks hooks_template = {
	.send = hook_send, .applied = hook_applied, .snapshot_data = hook_snapshot_data, .persisted = hook_persisted,
	.answered = hook_answered
};

static int file_copy(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	int rc = in != NULL && out != NULL ? 0 : -1;
	char buf[1 << 16];
	size_t got;
	while (rc == 0 && (got = fread(buf, 1, sizeof buf, in)) > 0)
		rc = fwrite(buf, 1, got, out) == got ? 0 : -1;
	if (in != NULL && ferror(in))
		rc = -1;
	if (in != NULL)
		fclose(in);
	if (out != NULL && fclose(out) != 0)
		rc = -1;
	return rc;
}

/* After a cycle of the durable node: a cycle that synced leaves the disk as the page cache holds
 * it, so a copy of the data file then is the oldest state an OS crash could leave afterwards. */
static void durable_cycle_done(struct world *w, uint64_t id, uint64_t syncs_before, uint64_t persisted_before)
{
	bool synced = store_syncs(replica_store(w->rp[id])) > syncs_before;
	if (w->persisted[id] > persisted_before && !synced)
		w->unsynced_entries++;
	if (!synced) {
		w->undoable_cycles++;
		w->undoable_since_copy++;
		return;
	}
	char from[PATH_MAX + 16];
	snprintf(from, sizeof from, "%s/data.mdb", w->dirs[id]);
	w->copy_rc |= file_copy(from, w->copy);
	w->undoable_since_copy = 0;
}

/* The export cut to what the receiver lacks, as a node's leader ships it (D30); 1 when cut. */
static int to_suffix(replica *to, uint64_t behind, uint8_t **snap, size_t *len)
{
	struct store_raft_applied a;
	replica_applied_get(to, &a);
	struct sl_buf out;
	sl_buf_init(&out, REPLICA_SNAPSHOT_BYTES_MAX);
	if (a.ledger_seq <= behind || replica_snapshot_suffix(*snap, *len, a.ledger_seq - behind, &out) != 0) {
		sl_buf_free(&out);
		return 0;
	}
	free(*snap);
	*snap = out.data;
	*len = out.len;
	return 1;
}

static int node_open(struct world *w, uint64_t id)
{
	struct replica_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.raft.id = id;
	for (uint64_t i = 1; i <= NODES; i++)
		cfg.raft.initial.voters[cfg.raft.initial.voters_count++] = i;
	cfg.raft.election_ticks = 10;
	cfg.raft.heartbeat_ticks = 1;
	cfg.raft.pre_vote = true;
	cfg.raft.seed = id;
	cfg.dir = w->dirs[id];
	cfg.store = (struct store_options){ .map_bytes = 64ull << 20, .no_sync = id != durable_node };
	cfg.verify_threads = 1;
	cfg.compact_every = w->compact_every;
	cfg.compact_keep = w->compact_keep;
	cfg.compact_bytes = w->compact_bytes;
	return replica_open(&cfg, &w->rp[id]);
}

/* Compaction (replica.h rule 8): every, keep and bytes as replica_config's. */
static int world_open_compacting(struct world *w, uint64_t compact_every, uint64_t keep, uint64_t bytes)
{
	memset(w, 0, sizeof *w);
	current_world = w;
	w->compact_every = compact_every;
	w->compact_keep = keep;
	w->compact_bytes = bytes;
	if (crypto_init() != 0 || test_tmpdir(w->root) != 0)
		return -1;
	for (uint64_t i = 1; i <= NODES; i++)
		if (crypto_keypair_generate(&w->pk[i], &w->sk[i]) != 0)
			return -1;
	for (uint64_t i = 1; i <= NODES; i++) {
		snprintf(w->dirs[i], sizeof w->dirs[i], "%s/n%llu", w->root, (unsigned long long)i);
		store *st;
		struct store_options options = { .map_bytes = 64ull << 20, .no_sync = true };
		if (store_open(&st, w->dirs[i], &options) != 0)
			return -1;
		store_txn *txn;
		int rc = store_txn_begin(st, true, &txn);
		for (uint64_t k = 1; rc == 0 && k <= NODES; k++) {
			char site[16];
			snprintf(site, sizeof site, "site-%llu", (unsigned long long)k);
			rc = ledger_registry_add_site(txn, site, &w->pk[k]);
		}
		rc = rc == 0 ? store_txn_commit(txn) : (store_txn_abort(txn), rc);
		store_close(st);
		if (rc != 0 || node_open(w, i) != 0)
			return -1;
	}
	return 0;
}

static int world_open(struct world *w, uint64_t compact_every)
{
	return world_open_compacting(w, compact_every, 0, 0);
}

static void world_close(struct world *w)
{
	for (uint64_t i = 1; i <= NODES; i++) {
		replica_close(w->rp[i]);
		free(w->snap[i]);
	}
	for (size_t i = 0; i < w->qn; i++) {
		free(w->q[i].bytes);
		free(w->q[i].snap);
	}
	test_rmtree(w->root);
}

/* Cycles on every up node, then deliver everything queued (to up nodes); `rounds` times. */
static int world_run(struct world *w, int rounds, bool tick)
{
	for (int r = 0; r < rounds; r++) {
		for (uint64_t i = 1; i <= NODES; i++) {
			if (w->rp[i] == NULL)
				continue;
			if (tick)
				raft_tick(replica_raft(w->rp[i]));
			struct replica_hooks hooks = hooks_template;
			hooks.ctx = w;
			current_node = i;
			int rc;
			for (;;) {
				uint64_t syncs = store_syncs(replica_store(w->rp[i])), persisted = w->persisted[i];
				if ((rc = replica_cycle(w->rp[i], &hooks)) != 1)
					break;
				if (i == durable_node)
					durable_cycle_done(w, i, syncs, persisted);
			}
			if (rc < 0)
				return rc;
		}
		size_t n = w->qn;
		w->qn = 0;
		struct qmsg *batch = malloc((n ? n : 1) * sizeof *batch);
		if (batch == NULL)
			return SL_ENOMEM;
		memcpy(batch, w->q, n * sizeof *batch);
		for (size_t k = 0; k < n; k++) {
			struct qmsg *q = &batch[k];
			replica *to = q->to <= NODES ? w->rp[q->to] : NULL;
			struct raft_entry ents[RAFT_MSG_ENTRIES_MAX];
			struct raft_msg m;
			if (to != NULL && raft_msg_decode(q->bytes, q->len, &m, ents, RAFT_MSG_ENTRIES_MAX) == 0) {
				if (q->snap != NULL && w->suffix)
					w->suffixes += to_suffix(to, w->suffix_behind, &q->snap, &q->snap_len);
				if (q->snap != NULL) {
					free(w->snap[q->to]);
					w->snap[q->to] = q->snap;
					w->snap_len[q->to] = q->snap_len;
					q->snap = NULL;
				}
				(void)raft_step(replica_raft(to), &m);
				if (m.type == RAFT_MSG_SNAPSHOT && w->rp[q->from] != NULL)
					raft_report_snapshot(replica_raft(w->rp[q->from]), q->to, true);
			}
			free(q->bytes);
			free(q->snap);
		}
		free(batch);
	}
	return 0;
}

static int make_record(struct world *w, uint64_t site_node, const char *serial, struct sl_buf *out)
{
	struct record r;
	char site[16];
	snprintf(site, sizeof site, "site-%llu", (unsigned long long)site_node);
	record_init(&r);
	r.type = RECORD_COMMISSION;
	r.site = sl_str_from_cstr(site);
	r.actor = SL_STR("qa");
	r.meaning = MEANING_AUTHORED;
	r.event_time_ms = (int64_t)T0_MS;
	w->nonce++;
	memcpy(r.nonce, &w->nonce, sizeof w->nonce);
	r.gtin = SL_STR("09506000134352");
	r.lot = SL_STR("L1");
	r.expiry = SL_STR("281231");
	struct sl_str items[1] = { sl_str_from_cstr(serial) };
	r.items = items;
	r.item_count = 1;
	sl_buf_init(out, 2 * RECORD_BYTES_MAX);
	int rc = record_sign(&r, &w->sk[site_node]);
	return rc == 0 ? record_encode(&r, out) : rc;
}

static uint64_t leader_of(struct world *w)
{
	for (uint64_t i = 1; i <= NODES; i++)
		if (w->rp[i] != NULL && raft_leader(replica_raft(w->rp[i])) == i)
			return i;
	return 0;
}

static int propose_serials(struct world *w, uint64_t leader, int first, int count)
{
	for (int k = first; k < first + count; k++) {
		char serial[16];
		struct sl_buf rec;
		snprintf(serial, sizeof serial, "S%d", k);
		int rc = make_record(w, 1 + (uint64_t)k % NODES, serial, &rec);
		struct ledger_input in = { rec.data, rec.len };
		if (rc == 0)
			rc = replica_propose(w->rp[leader], T0_MS + (uint64_t)k, &in, 1, NULL);
		sl_buf_free(&rec);
		if (rc == 0)
			rc = world_run(w, 4, true);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static void same_state(struct world *w, uint64_t a, uint64_t b)
{
	struct store_raft_applied x, y;
	replica_applied_get(w->rp[a], &x);
	replica_applied_get(w->rp[b], &y);
	CHECK_INT_EQ(x.index, y.index);
	CHECK_INT_EQ(x.ledger_seq, y.ledger_seq);
	CHECK(memcmp(x.state_hash, y.state_hash, REPLICA_HASH_BYTES) == 0);
	uint8_t hx[REPLICA_HASH_BYTES], hy[REPLICA_HASH_BYTES];
	CHECK_INT_EQ(replica_lifecycle_hash(w->rp[a], hx), 0);
	CHECK_INT_EQ(replica_lifecycle_hash(w->rp[b], hy), 0);
	CHECK(memcmp(hx, hy, sizeof hx) == 0);
}

static void test_batch_codec(void)
{
	static const uint8_t r1[] = { 1, 2, 3 };
	uint8_t r2[300];
	memset(r2, 7, sizeof r2);
	struct ledger_input in[2] = { { r1, sizeof r1 }, { r2, sizeof r2 } };
	struct sl_buf b;
	sl_buf_init(&b, 1 << 20);
	REQUIRE(replica_batch_encode(1750000000000ull, in, 2, &b) == 0);
	CHECK(b.data[0] == 0x92 && b.data[1] == 0xcf); /* [ uint64 time, ... ] */
	struct ledger_input out[4];
	size_t n = 0;
	uint64_t t = 0;
	CHECK_INT_EQ(replica_batch_decode(b.data, b.len, &t, out, 4, &n), 0);
	CHECK_INT_EQ(n, 2);
	CHECK(t == 1750000000000ull);
	CHECK(out[1].len == 300 && out[1].bytes[299] == 7);
	CHECK_INT_EQ(replica_batch_decode(b.data, b.len - 1, &t, out, 4, &n), SL_ETRUNCATED);
	CHECK_INT_EQ(replica_batch_decode(b.data, b.len, &t, out, 1, &n), SL_EOVERSIZE);
	/* a time written in a wider form than needed is not canonical */
	static const uint8_t wide[] = { 0x92, 0xcd, 0x00, 0x05, 0x91, 0xc4, 0x01, 0xaa };
	CHECK_INT_EQ(replica_batch_decode(wide, sizeof wide, &t, out, 4, &n), SL_ENONCANONICAL);
	static const uint8_t empty[] = { 0x92, 0x05, 0x90 };
	CHECK_INT_EQ(replica_batch_decode(empty, sizeof empty, &t, out, 4, &n), SL_EOVERSIZE);
	CHECK_INT_EQ(replica_batch_encode(1, in, 0, &b), SL_EINVAL);
	sl_buf_free(&b);
}

static void test_replica_cluster_commits(void)
{
	struct world *w = calloc(1, sizeof *w);
	REQUIRE(w != NULL);
	REQUIRE(world_open(w, 0) == 0);
	REQUIRE(world_run(w, 2, false) == 0); /* bootstrap entries persisted and applied */
	REQUIRE(raft_campaign(replica_raft(w->rp[1])) == 0);
	REQUIRE(world_run(w, 6, false) == 0);
	uint64_t leader = leader_of(w);
	REQUIRE(leader == 1);
	REQUIRE(propose_serials(w, leader, 0, 10) == 0);
	for (uint64_t i = 1; i <= NODES; i++) {
		CHECK_INT_EQ(w->applied_records[i], 10);
		CHECK_INT_EQ(w->answered_records[i], 10);
		CHECK_INT_EQ(w->last_outcome[i], OUTCOME_ACCEPTED);
	}
	CHECK_INT_EQ(w->answer_order_errors, 0);
	same_state(w, 1, 2);
	same_state(w, 1, 3);
	/* the same record again is refused identically everywhere */
	struct sl_buf rec;
	w->nonce = 9; /* S9 was signed with nonce 10: same bytes again */
	REQUIRE(make_record(w, 1 + 9 % NODES, "S9", &rec) == 0);
	struct ledger_input in = { rec.data, rec.len };
	CHECK_INT_EQ(replica_propose(w->rp[leader], T0_MS, &in, 1, NULL), 0);
	sl_buf_free(&rec);
	REQUIRE(world_run(w, 4, true) == 0);
	for (uint64_t i = 1; i <= NODES; i++)
		CHECK_INT_EQ(w->last_outcome[i], OUTCOME_DUPLICATE_RECORD);
	same_state(w, 2, 3);

	/* restart node 2 from its store */
	struct store_raft_applied before, after;
	replica_applied_get(w->rp[2], &before);
	struct raft_status s1;
	raft_status_get(replica_raft(w->rp[2]), &s1);
	replica_close(w->rp[2]);
	w->rp[2] = NULL;
	REQUIRE(node_open(w, 2) == 0);
	replica_applied_get(w->rp[2], &after);
	CHECK(memcmp(&before, &after, sizeof before) == 0);
	struct raft_status s2;
	raft_status_get(replica_raft(w->rp[2]), &s2);
	CHECK_INT_EQ(s2.term, s1.term);
	CHECK_INT_EQ(s2.last_index, s1.last_index);
	CHECK_INT_EQ(s2.applied, s1.applied);
	CHECK_INT_EQ(s2.conf.voters_count, 3);
	REQUIRE(propose_serials(w, leader, 20, 2) == 0);
	same_state(w, 1, 2);
	world_close(w);
	free(w);
}

/* Three replicas compacting every 4 entries (keeping `keep`, or when the log holds `bytes`), node 1
 * leading; NULL when that fails. */
static struct world *compacting_world(uint64_t keep, uint64_t bytes)
{
	struct world *w = calloc(1, sizeof *w);
	if (w == NULL || world_open_compacting(w, 4, keep, bytes) != 0 || world_run(w, 2, false) != 0 ||
	    raft_campaign(replica_raft(w->rp[1])) != 0 || world_run(w, 6, false) != 0 || leader_of(w) != 1) {
		free(w);
		return NULL;
	}
	return w;
}

static void test_replica_snapshot_catch_up(void)
{
	struct world *w = compacting_world(0, 0);
	REQUIRE(w != NULL);
	replica_close(w->rp[3]); /* down while the others move past the compaction point */
	w->rp[3] = NULL;
	REQUIRE(propose_serials(w, 1, 0, 12) == 0);
	struct raft_status st;
	raft_status_get(replica_raft(w->rp[1]), &st);
	CHECK(st.snapshot.index > 5);
	REQUIRE(node_open(w, 3) == 0);
	REQUIRE(world_run(w, 30, true) == 0);
	same_state(w, 1, 3);
	CHECK_INT_EQ(w->snapshots[3], 1); /* caught up through the ledger, not the log */
	CHECK_INT_EQ(w->applied_records[1], 12);
	world_close(w);
	free(w);
}

struct capped_sink {
	struct sl_buf buf;
	size_t fail_after; /* bytes accepted before the writer fails with SL_ENOSPC */
	size_t calls;
};

static int capped_write(void *ctx, const uint8_t *bytes, size_t len)
{
	struct capped_sink *k = ctx;
	k->calls++;
	if (k->buf.len + len > k->fail_after)
		return SL_ENOSPC;
	return sl_buf_append(&k->buf, bytes, len);
}

/* replica_snapshot_write (a node exports on its thread pool into a file, D28) writes the bytes
 * replica_snapshot_export builds, from a copy of the compaction point, and stops at the writer's
 * first error. */
static void test_replica_snapshot_write(void)
{
	struct world *w = compacting_world(0, 0);
	REQUIRE(w != NULL);
	REQUIRE(propose_serials(w, 1, 0, 12) == 0);
	struct sl_buf whole;
	struct raft_snapshot_meta meta, meta2;
	sl_buf_init(&whole, REPLICA_SNAPSHOT_BYTES_MAX);
	REQUIRE(replica_snapshot_export(w->rp[1], &whole, &meta) == 0);
	CHECK(meta.index > 5);
	struct store_raft_compaction point = *replica_snapshot_point(w->rp[1]);
	struct capped_sink k = { .fail_after = SIZE_MAX };
	sl_buf_init(&k.buf, REPLICA_SNAPSHOT_BYTES_MAX);
	CHECK_INT_EQ(replica_snapshot_write(replica_store(w->rp[1]), &point, capped_write, &k, &meta2), 0);
	CHECK(k.buf.len == whole.len && memcmp(k.buf.data, whole.data, whole.len) == 0);
	CHECK(meta2.index == meta.index && meta2.term == meta.term && meta2.conf.voters_count == meta.conf.voters_count);
	CHECK(k.calls > 12); /* header fields, then a length and the bytes per entry */
	sl_buf_free(&k.buf);
	struct capped_sink full = { .fail_after = whole.len / 2 };
	sl_buf_init(&full.buf, REPLICA_SNAPSHOT_BYTES_MAX);
	CHECK_INT_EQ(replica_snapshot_write(replica_store(w->rp[1]), &point, capped_write, &full, &meta2), SL_ENOSPC);
	CHECK(full.buf.len <= whole.len / 2);
	sl_buf_free(&full.buf);
	point.index = 0; /* never compacted */
	CHECK_INT_EQ(replica_snapshot_write(replica_store(w->rp[1]), &point, capped_write, &k, &meta2), SL_ENOENT);
	sl_buf_free(&whole);
	world_close(w);
	free(w);
}

/* Rule 8: a compaction that keeps 16 entries lets a follower down for fewer catch up from the
 * log; a log holding compact_bytes is compacted whatever the count. */
static void test_replica_compaction_keeps_a_tail(void)
{
	struct world *w = compacting_world(16, 0);
	REQUIRE(w != NULL);
	REQUIRE(propose_serials(w, 1, 0, 24) == 0);
	struct raft_status st;
	raft_status_get(replica_raft(w->rp[1]), &st);
	CHECK(st.snapshot.index > 0);				 /* compacted ... */
	CHECK(st.snapshot.index + 16 <= st.applied);		 /* ... keeping the tail */
	CHECK(st.snapshot.index + 16 + 4 > st.applied);	 /* and not lazily */
	struct store_raft_applied down;
	replica_applied_get(w->rp[3], &down);
	replica_close(w->rp[3]);
	w->rp[3] = NULL;
	REQUIRE(propose_serials(w, 1, 24, 10) == 0);
	raft_status_get(replica_raft(w->rp[1]), &st);
	CHECK(st.snapshot.index > down.index - 10); /* it compacted meanwhile */
	CHECK(st.first_index <= down.index + 1);    /* yet the log still holds what node 3 lacks */
	REQUIRE(node_open(w, 3) == 0);
	REQUIRE(world_run(w, 30, true) == 0);
	same_state(w, 1, 3);
	CHECK_INT_EQ(w->snapshots[3], 0); /* caught up from the log */
	world_close(w);
	free(w);

	w = compacting_world(0, 1); /* compact_every 4 would wait; one byte in the log is enough */
	REQUIRE(w != NULL);
	raft_status_get(replica_raft(w->rp[1]), &st);
	uint64_t before = st.snapshot.index;
	REQUIRE(propose_serials(w, 1, 0, 2) == 0);
	raft_status_get(replica_raft(w->rp[1]), &st);
	CHECK(st.snapshot.index > before);
	CHECK(st.snapshot.index + 1 >= st.applied); /* nothing kept */
	world_close(w);
	free(w);
}

/* Flip the last byte of node id's ledger entry seq where it lies in its data file (LMDB keeps no
 * checksum: a changed disk block, or a tool writing where it should not); 0 when done. */
static int entry_corrupt_on_disk(struct world *w, uint64_t id, uint64_t seq)
{
	store_txn *txn = NULL;
	const uint8_t *entry = NULL;
	size_t len = 0;
	uint8_t copy[4096];
	int rc = store_txn_begin(replica_store(w->rp[id]), false, &txn);
	if (rc == 0)
		rc = store_ledger_get(txn, seq, &entry, &len);
	if (rc == 0 && len <= sizeof copy)
		memcpy(copy, entry, len);
	if (txn != NULL)
		store_txn_abort(txn);
	if (rc != 0 || len > sizeof copy)
		return -1;
	replica_close(w->rp[id]);
	w->rp[id] = NULL;
	char path[PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/data.mdb", w->dirs[id]);
	FILE *f = fopen(path, "r+b");
	if (f == NULL)
		return -1;
	static uint8_t file[64u << 20];
	size_t size = fread(file, 1, sizeof file, f);
	int found = -1;
	for (size_t at = 0; found != 0 && at + len <= size; at++)
		if (memcmp(file + at, copy, len) == 0 && fseek(f, (long)(at + len - 1), SEEK_SET) == 0 &&
		    fputc(file[at + len - 1] ^ 0x01, f) != EOF)
			found = 0;
	return fclose(f) == 0 ? found : -1;
}

/* Node 3 holds the first 6 records, goes down (its entry 2 changed on its disk when `corrupt`),
 * comes back after 12 more past compaction points and is sent suffixes cut `behind` entries before
 * its end; what the catch-up's cycles returned. */
static int suffix_catch_up(struct world *w, uint64_t behind, bool corrupt)
{
	w->suffix = true;
	w->suffix_behind = behind;
	int rc = propose_serials(w, 1, 0, 6);
	if (rc == 0 && corrupt)
		rc = entry_corrupt_on_disk(w, 3, 2); /* closes node 3 */
	else if (rc == 0) {
		replica_close(w->rp[3]);
		w->rp[3] = NULL;
	}
	if (rc == 0)
		rc = propose_serials(w, 1, 6, 12);
	if (rc == 0)
		rc = node_open(w, 3);
	return rc == 0 ? world_run(w, 30, true) : -1000;
}

/* D30: a follower that holds part of the ledger installs the suffix it lacks; the running hash
 * carries on from its own. The format's edges: where an entry starts, which suffixes exist. */
static void test_replica_snapshot_suffix(void)
{
	struct world *w = compacting_world(0, 0);
	REQUIRE(w != NULL);
	REQUIRE(suffix_catch_up(w, 0, false) == 0);
	same_state(w, 1, 3);
	CHECK_INT_EQ(w->snapshots[3], 1);
	CHECK(w->suffixes >= 1);

	struct sl_buf whole;
	struct raft_snapshot_meta meta;
	sl_buf_init(&whole, REPLICA_SNAPSHOT_BYTES_MAX);
	REQUIRE(replica_snapshot_export(w->rp[1], &whole, &meta) == 0);
	uint64_t first = 0, total = 0;
	for (size_t i = 0; i < 8; i++)
		total |= (uint64_t)whole.data[24 + i] << (8 * i);
	CHECK(total > 2);
	CHECK_INT_EQ(replica_snapshot_first_seq(whole.data, whole.len, &first), 0);
	CHECK_INT_EQ(first, 1);
	size_t at1 = 0, at2 = 0, end = 0;
	CHECK_INT_EQ(replica_snapshot_entry_offset(whole.data, whole.len, 1, &at1), 0);
	CHECK_INT_EQ(at1, REPLICA_SNAPSHOT_SUFFIX_HEADER_BYTES - 8);
	CHECK_INT_EQ(replica_snapshot_entry_offset(whole.data, whole.len, 2, &at2), 0);
	CHECK(at2 > at1 + 4);
	CHECK_INT_EQ(replica_snapshot_entry_offset(whole.data, whole.len, total + 1, &end), 0);
	CHECK(end == whole.len);
	CHECK_INT_EQ(replica_snapshot_entry_offset(whole.data, whole.len, total + 2, &end), SL_EINVAL);
	size_t walked = 0; /* from a known start (a node's index of the export) */
	CHECK_INT_EQ(replica_snapshot_entry_walk(whole.data, whole.len, 2, at2, total + 1, &walked), 0);
	CHECK(walked == end);
	CHECK_INT_EQ(replica_snapshot_entry_walk(whole.data, whole.len, 2, at2, 2, &walked), 0);
	CHECK(walked == at2);
	CHECK_INT_EQ(replica_snapshot_entry_walk(whole.data, whole.len, 3, at2, 2, &walked), SL_EINVAL);
	CHECK_INT_EQ(replica_snapshot_entry_walk(whole.data, whole.len, 2, whole.len + 1, 3, &walked), SL_EINVAL);
	CHECK_INT_EQ(replica_snapshot_entry_offset(whole.data, whole.len - 1, total + 1, &end), SL_ETRUNCATED);
	uint8_t head[REPLICA_SNAPSHOT_SUFFIX_HEADER_BYTES];
	CHECK_INT_EQ(replica_snapshot_suffix_header(whole.data, whole.len, 1, head), SL_EINVAL); /* a whole export */
	CHECK_INT_EQ(replica_snapshot_suffix_header(whole.data, whole.len, total + 2, head), SL_EINVAL);
	CHECK_INT_EQ(replica_snapshot_suffix_header(whole.data, whole.len, 3, head), 0);
	CHECK_INT_EQ(replica_snapshot_first_seq(head, sizeof head, &first), 0);
	CHECK_INT_EQ(first, 3);
	head[0] ^= 1;
	CHECK_INT_EQ(replica_snapshot_first_seq(head, sizeof head, &first), SL_EINVAL);
	CHECK_INT_EQ(replica_snapshot_first_seq(whole.data, 10, &first), SL_EINVAL);
	sl_buf_free(&whole);
	world_close(w);
	free(w);

	/* a suffix from before the follower's end (it applied more after it said what it holds): the
	 * entries it holds are compared, the rest applied */
	w = compacting_world(0, 0);
	REQUIRE(w != NULL);
	REQUIRE(suffix_catch_up(w, 2, false) == 0);
	same_state(w, 1, 3);
	CHECK_INT_EQ(w->snapshots[3], 1);
	CHECK(w->suffixes >= 1);
	world_close(w);
	free(w);

	/* an entry the follower holds changed on its disk (its stored running hash did not): the suffix
	 * it is sent does not carry that entry, yet the install finds the difference */
	w = compacting_world(0, 0);
	REQUIRE(w != NULL);
	CHECK_INT_EQ(suffix_catch_up(w, 0, true), SL_ECORRUPT);
	CHECK(w->suffixes >= 1);
	world_close(w);
	free(w);
}

static void test_replica_failed_commit(void)
{
	struct world *w = calloc(1, sizeof *w);
	REQUIRE(w != NULL);
	REQUIRE(world_open(w, 0) == 0);
	REQUIRE(world_run(w, 2, false) == 0);
	REQUIRE(raft_campaign(replica_raft(w->rp[1])) == 0);
	REQUIRE(world_run(w, 6, false) == 0);
	REQUIRE(propose_serials(w, 1, 0, 2) == 0);
	struct store_raft_applied before, after;
	replica_applied_get(w->rp[2], &before);
	REQUIRE(store_fault_inject_commit(replica_store(w->rp[2]), 1, SL_EIO) == 0);
	struct sl_buf rec;
	REQUIRE(make_record(w, 1, "F1", &rec) == 0);
	struct ledger_input in = { rec.data, rec.len };
	CHECK_INT_EQ(replica_propose(w->rp[1], T0_MS, &in, 1, NULL), 0);
	sl_buf_free(&rec);
	CHECK_INT_EQ(world_run(w, 3, false), SL_EIO); /* node 2's cycle fails */
	replica_close(w->rp[2]); /* replica.h rule 2: close and reopen */
	w->rp[2] = NULL;
	REQUIRE(node_open(w, 2) == 0);
	replica_applied_get(w->rp[2], &after);
	CHECK(memcmp(&before, &after, sizeof before) == 0); /* nothing of the failed cycle */
	REQUIRE(world_run(w, 20, true) == 0);
	same_state(w, 1, 2);
	world_close(w);
	free(w);
}

/* D24, replica.h rule 6: an apply-only cycle commits undoable; an OS crash that undoes it (staged
 * by restoring the data file as it was after the node's last sync) leaves the applied index
 * behind, and the entries, durable in the log, apply again to the same ledger. Every cycle that
 * made entries durable synced. */
static void test_replica_undone_apply_cycle(void)
{
	struct world *w = calloc(1, sizeof *w);
	REQUIRE(w != NULL);
	durable_node = 2;
	REQUIRE(world_open(w, 0) == 0);
	snprintf(w->copy, sizeof w->copy, "%s/n2-synced.mdb", w->root);
	REQUIRE(world_run(w, 2, false) == 0);
	REQUIRE(raft_campaign(replica_raft(w->rp[1])) == 0);
	REQUIRE(world_run(w, 6, false) == 0);
	REQUIRE(propose_serials(w, 1, 0, 6) == 0);
	CHECK_INT_EQ(w->unsynced_entries, 0);
	CHECK_INT_EQ(w->copy_rc, 0);
	CHECK(w->undoable_cycles > 0);
	REQUIRE(w->undoable_since_copy > 0); /* the node applied after its last sync */
	same_state(w, 1, 2);
	struct store_raft_applied before, undone;
	replica_applied_get(w->rp[2], &before);
	replica_close(w->rp[2]);
	w->rp[2] = NULL;
	char path[PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/data.mdb", w->dirs[2]);
	REQUIRE(file_copy(w->copy, path) == 0);
	snprintf(path, sizeof path, "%s/lock.mdb", w->dirs[2]);
	(void)remove(path); /* as after a reboot */
	REQUIRE(node_open(w, 2) == 0);
	replica_applied_get(w->rp[2], &undone);
	CHECK(undone.index < before.index); /* the crash did undo applied entries */
	CHECK(undone.ledger_seq < before.ledger_seq);
	REQUIRE(world_run(w, 20, true) == 0);
	same_state(w, 1, 2);
	REQUIRE(propose_serials(w, 1, 10, 2) == 0); /* and it goes on */
	same_state(w, 1, 2);
	CHECK_INT_EQ(w->unsynced_entries, 0);
	durable_node = 0;
	world_close(w);
	free(w);
}

static const struct test_case cases[] = {
	TEST_CASE(test_batch_codec),
	TEST_CASE(test_replica_cluster_commits),
	TEST_CASE(test_replica_snapshot_catch_up),
	TEST_CASE(test_replica_snapshot_write),
	TEST_CASE(test_replica_compaction_keeps_a_tail),
	TEST_CASE(test_replica_snapshot_suffix),
	TEST_CASE(test_replica_failed_commit),
	TEST_CASE(test_replica_undone_apply_cycle),
};

TEST_MAIN(cases)
