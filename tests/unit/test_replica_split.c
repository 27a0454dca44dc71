/* tests/unit/test_replica_split.c — the Ready cycle's three steps (replica.h "Threads"):
 * begin / persist / finish give exactly what replica_cycle gives (same messages, byte for byte
 * and in order, same ledger, running hash and lifecycle tables on every node) for a scripted
 * run of a 3-node in-process cluster, with every persist on a second thread; a Ready with
 * nothing durable may skip the persist; and with messages stepped and records proposed on the
 * first thread while the persist runs on the second, every node still applies every record once
 * and all agree; a leader's messages may leave before its persist (replica_ready_send_early).
 */
#include "tests/unit/test.h"

#include <pthread.h>

#include "crypto/crypto.h"
#include "ledger/lifecycle.h"
#include "ledger/reason.h"
#include "ledger/record.h"
#include "replica/replica.h"
#include "util/error.h"

#define NODES 3
#define QUEUE_MAX 4096
#define RECORDS 18 /* proposed by the script: batches of 1, 2, 3 records */
#define T0_MS 1750000000000ull

enum mode { MODE_CYCLE, MODE_SPLIT, MODE_INTERLEAVED };

struct qmsg {
	uint64_t to;
	uint8_t *bytes;
	size_t len;
};

struct world {
	enum mode mode;
	char root[PATH_MAX];
	char dirs[NODES + 1][PATH_MAX];
	replica *rp[NODES + 1];
	struct qmsg q[QUEUE_MAX];
	size_t qn;
	uint8_t sent_hash[CRYPTO_SHA256_BYTES]; /* chained over every message sent, in order */
	uint64_t sends;
	uint64_t applied_records[NODES + 1];
	uint64_t current; /* node whose hooks run */
	int next_record;  /* MODE_INTERLEAVED: next record to propose during a persist */
	bool off_thread_hook; /* a send or applied hook ran on the persist thread */
	pthread_t main_thread;
};

static struct crypto_public_key keys_pk[NODES + 1];
static struct crypto_secret_key keys_sk[NODES + 1];

static void hook_send(void *ctx, const struct raft_msg *m)
{
	struct world *w = ctx;
	if (!pthread_equal(pthread_self(), w->main_thread))
		w->off_thread_hook = true;
	size_t cap = raft_msg_encoded_bytes_max(m);
	uint8_t *bytes = malloc(cap);
	size_t len = 0;
	if (bytes == NULL || raft_msg_encode(m, bytes, cap, &len) != 0 || w->qn >= QUEUE_MAX) {
		free(bytes);
		return;
	}
	uint8_t from[8];
	memcpy(from, &w->current, sizeof from);
	crypto_sha256_2(w->sent_hash, sizeof w->sent_hash, from, sizeof from, w->sent_hash);
	crypto_sha256_2(w->sent_hash, sizeof w->sent_hash, bytes, len, w->sent_hash);
	w->sends++;
	w->q[w->qn++] = (struct qmsg){ m->to, bytes, len };
}

static void hook_applied(void *ctx, const struct replica_applied *a)
{
	struct world *w = ctx;
	if (!pthread_equal(pthread_self(), w->main_thread))
		w->off_thread_hook = true;
	w->applied_records[w->current] += a->results_count;
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
	cfg.store = (struct store_options){ .map_bytes = 64ull << 20, .no_sync = true };
	cfg.verify_threads = 1;
	return replica_open(&cfg, &w->rp[id]);
}

static int world_open(struct world *w, enum mode mode)
{
	memset(w, 0, sizeof *w);
	w->mode = mode;
	w->main_thread = pthread_self();
	if (test_tmpdir(w->root) != 0)
		return -1;
	for (uint64_t i = 1; i <= NODES; i++) {
		int written = snprintf(w->dirs[i], sizeof w->dirs[i], "%s/n%llu", w->root, (unsigned long long)i);
		if (written < 0 || (size_t)written >= sizeof w->dirs[i])
			return -1;
		store *st;
		struct store_options options = { .map_bytes = 64ull << 20, .no_sync = true };
		if (store_open(&st, w->dirs[i], &options) != 0)
			return -1;
		store_txn *txn;
		int rc = store_txn_begin(st, true, &txn);
		for (uint64_t k = 1; rc == 0 && k <= NODES; k++) {
			char site[16];
			snprintf(site, sizeof site, "site-%llu", (unsigned long long)k);
			rc = ledger_registry_add_site(txn, site, &keys_pk[k]);
		}
		rc = rc == 0 ? store_txn_commit(txn) : (store_txn_abort(txn), rc);
		store_close(st);
		if (rc != 0 || node_open(w, i) != 0)
			return -1;
	}
	return 0;
}

static void world_close(struct world *w)
{
	for (uint64_t i = 1; i <= NODES; i++)
		replica_close(w->rp[i]);
	for (size_t i = 0; i < w->qn; i++)
		free(w->q[i].bytes);
	test_rmtree(w->root);
}

/* Record k: a commission of serial S<k> by site 1 + k % NODES (deterministic bytes). */
static int make_record(int k, struct sl_buf *out)
{
	struct record r;
	char site[16], serial[16];
	uint64_t site_node = 1 + (uint64_t)k % NODES, nonce = 1000 + (uint64_t)k;
	snprintf(site, sizeof site, "site-%llu", (unsigned long long)site_node);
	snprintf(serial, sizeof serial, "S%d", k);
	record_init(&r);
	r.type = RECORD_COMMISSION;
	r.site = sl_str_from_cstr(site);
	r.actor = SL_STR("qa");
	r.meaning = MEANING_AUTHORED;
	r.event_time_ms = (int64_t)T0_MS;
	memcpy(r.nonce, &nonce, sizeof nonce);
	r.gtin = SL_STR("09506000134352");
	r.lot = SL_STR("L1");
	r.expiry = SL_STR("281231");
	struct sl_str items[1] = { sl_str_from_cstr(serial) };
	r.items = items;
	r.item_count = 1;
	sl_buf_init(out, 2 * RECORD_BYTES_MAX);
	int rc = record_sign(&r, &keys_sk[site_node]);
	return rc == 0 ? record_encode(&r, out) : rc;
}

/* Records first..first+count-1 as one batch on node `at`. */
static int propose_records(struct world *w, uint64_t at, int first, int count)
{
	struct sl_buf bufs[3];
	struct ledger_input in[3];
	int rc = count >= 1 && count <= 3 ? 0 : SL_EINVAL;
	int made = 0;
	for (; rc == 0 && made < count; made++) {
		rc = make_record(first + made, &bufs[made]);
		in[made] = (struct ledger_input){ bufs[made].data, bufs[made].len };
	}
	if (rc == 0)
		rc = replica_propose(w->rp[at], T0_MS + (uint64_t)first, in, (size_t)count, NULL);
	for (int i = 0; i < made; i++)
		sl_buf_free(&bufs[i]);
	return rc;
}

/* Deliver the queued messages addressed to `to` (all when to == 0), in order. */
static void deliver(struct world *w, uint64_t to)
{
	size_t kept = 0;
	for (size_t k = 0; k < w->qn; k++) {
		struct qmsg *q = &w->q[k];
		if (to != 0 && q->to != to) {
			w->q[kept++] = *q;
			continue;
		}
		struct raft_entry ents[RAFT_MSG_ENTRIES_MAX];
		struct raft_msg m;
		if (q->to >= 1 && q->to <= NODES &&
		    raft_msg_decode(q->bytes, q->len, &m, ents, RAFT_MSG_ENTRIES_MAX) == 0)
			(void)raft_step(replica_raft(w->rp[q->to]), &m);
		free(q->bytes);
	}
	w->qn = kept;
}

struct persist_job {
	replica *rp;
	const struct replica_hooks *hooks;
	int rc;
};

static void *persist_main(void *arg)
{
	struct persist_job *job = arg;
	job->rc = replica_ready_persist(job->rp, job->hooks);
	return NULL;
}

/* While node i's persist runs on the other thread: step its mail, and the leader proposes. */
static void interleave(struct world *w, uint64_t i)
{
	if (w->mode != MODE_INTERLEAVED)
		return;
	deliver(w, i);
	if (raft_leader(replica_raft(w->rp[i])) == i && w->next_record < RECORDS &&
	    propose_records(w, i, w->next_record, 1) == 0)
		w->next_record++;
}

/* One Ready of node i, the way the mode says. 1 ran, 0 none, < 0 failed. */
static int node_ready(struct world *w, uint64_t i, const struct replica_hooks *hooks)
{
	if (w->mode == MODE_CYCLE)
		return replica_cycle(w->rp[i], hooks);
	int rc = replica_ready_begin(w->rp[i]);
	if (rc <= 0)
		return rc;
	replica_ready_send_early(w->rp[i], hooks); /* as the node does: a leader's appends first */
	struct persist_job job = { w->rp[i], hooks, 0 };
	pthread_t thread;
	if (pthread_create(&thread, NULL, persist_main, &job) != 0)
		return SL_ENOMEM;
	interleave(w, i);
	pthread_join(thread, NULL);
	if (job.rc != 0)
		return job.rc;
	replica_ready_finish(w->rp[i], hooks);
	return 1;
}

/* Readies on every node, then deliver everything queued; `rounds` times. */
static int world_run(struct world *w, int rounds, bool tick)
{
	struct replica_hooks hooks = { .ctx = w, .send = hook_send, .applied = hook_applied };
	for (int r = 0; r < rounds; r++) {
		for (uint64_t i = 1; i <= NODES; i++) {
			if (tick)
				raft_tick(replica_raft(w->rp[i]));
			w->current = i;
			int rc, bound = 64;
			while ((rc = node_ready(w, i, &hooks)) == 1 && --bound > 0) {
			}
			if (rc < 0)
				return rc;
		}
		deliver(w, 0);
	}
	return 0;
}

/* Bootstrap, elect node 1, then RECORDS records in batches of 1, 2, 3, ... */
static int script_run(struct world *w)
{
	int rc = world_run(w, 2, false);
	if (rc == 0)
		rc = raft_campaign(replica_raft(w->rp[1]));
	if (rc == 0)
		rc = world_run(w, 6, false);
	for (int k = 0, size = 1; rc == 0 && k < RECORDS; k += size, size = size % 3 + 1) {
		rc = propose_records(w, 1, k, size);
		if (rc == 0)
			rc = world_run(w, 3, true);
	}
	return rc == 0 ? world_run(w, 4, true) : rc;
}

struct node_state {
	struct store_raft_applied applied;
	uint8_t lifecycle[REPLICA_HASH_BYTES];
};

static void state_get(struct world *w, uint64_t i, struct node_state *out)
{
	memset(out, 0, sizeof *out);
	replica_applied_get(w->rp[i], &out->applied);
	CHECK_INT_EQ(replica_lifecycle_hash(w->rp[i], out->lifecycle), 0);
}

static int keys_once(void)
{
	static bool made;
	if (made)
		return 0;
	if (crypto_init() != 0)
		return -1;
	for (uint64_t i = 1; i <= NODES; i++)
		if (crypto_keypair_generate(&keys_pk[i], &keys_sk[i]) != 0)
			return -1;
	made = true;
	return 0;
}

static void test_split_same_as_cycle(void)
{
	REQUIRE(keys_once() == 0);
	struct world *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
	REQUIRE(a != NULL && b != NULL);
	REQUIRE(world_open(a, MODE_CYCLE) == 0);
	REQUIRE(world_open(b, MODE_SPLIT) == 0);
	CHECK_INT_EQ(script_run(a), 0);
	CHECK_INT_EQ(script_run(b), 0);
	CHECK(a->sends > 50);
	CHECK_INT_EQ(b->sends, a->sends);
	CHECK(memcmp(a->sent_hash, b->sent_hash, sizeof a->sent_hash) == 0);
	CHECK(!b->off_thread_hook); /* sends and outcomes only from finish, on the calling thread */
	for (uint64_t i = 1; i <= NODES; i++) {
		struct node_state x, y;
		state_get(a, i, &x);
		state_get(b, i, &y);
		CHECK_INT_EQ(a->applied_records[i], RECORDS);
		CHECK_INT_EQ(b->applied_records[i], RECORDS);
		CHECK_INT_EQ(y.applied.ledger_seq, RECORDS);
		CHECK_INT_EQ(y.applied.index, x.applied.index);
		CHECK(memcmp(&x, &y, sizeof x) == 0);
	}
	world_close(a);
	world_close(b);
	free(a);
	free(b);
}

/* A leader's heartbeat Ready holds only messages: no persist needed, finish sends them. */
static void test_split_skip_persist(void)
{
	REQUIRE(keys_once() == 0);
	struct world *w = calloc(1, sizeof *w);
	REQUIRE(w != NULL);
	REQUIRE(world_open(w, MODE_SPLIT) == 0);
	REQUIRE(script_run(w) == 0);
	struct replica_hooks hooks = { .ctx = w, .send = hook_send, .applied = hook_applied };
	w->current = 1;
	for (int bound = 0; bound < 16 && replica_cycle(w->rp[1], &hooks) == 1; bound++) {
	} /* node 1 idle: what it was told last is handled */
	struct store_raft_applied before, after;
	replica_applied_get(w->rp[1], &before);
	raft_tick(replica_raft(w->rp[1])); /* heartbeat_ticks = 1: a heartbeat to each follower */
	REQUIRE(replica_ready_begin(w->rp[1]) == 1);
	CHECK(!replica_ready_needs_persist(w->rp[1]));
	CHECK_INT_EQ(replica_ready_begin(w->rp[1]), 0); /* one Ready in flight: none handed out */
	uint64_t sends = w->sends;
	replica_ready_finish(w->rp[1], &hooks);
	CHECK_INT_EQ(w->sends, sends + NODES - 1);
	replica_applied_get(w->rp[1], &after);
	CHECK(memcmp(&before, &after, sizeof before) == 0);
	/* a proposal makes the next Ready durable work */
	REQUIRE(propose_records(w, 1, RECORDS, 1) == 0);
	REQUIRE(replica_ready_begin(w->rp[1]) == 1);
	CHECK(replica_ready_needs_persist(w->rp[1]));
	/* the leader's appends leave before its own write (raft.h Rule 1, §10.2.1), once */
	sends = w->sends;
	replica_ready_send_early(w->rp[1], &hooks);
	CHECK_INT_EQ(w->sends, sends + NODES - 1);
	CHECK_INT_EQ(replica_ready_persist(w->rp[1], &hooks), 0);
	replica_ready_finish(w->rp[1], &hooks);
	CHECK_INT_EQ(w->sends, sends + NODES - 1);
	REQUIRE(world_run(w, 4, true) == 0);
	for (uint64_t i = 1; i <= NODES; i++)
		CHECK_INT_EQ(w->applied_records[i], RECORDS + 1);
	world_close(w);
	free(w);
}

static void test_split_interleaved(void)
{
	REQUIRE(keys_once() == 0);
	struct world *w = calloc(1, sizeof *w);
	REQUIRE(w != NULL);
	REQUIRE(world_open(w, MODE_INTERLEAVED) == 0);
	REQUIRE(world_run(w, 2, false) == 0);
	REQUIRE(raft_campaign(replica_raft(w->rp[1])) == 0);
	REQUIRE(world_run(w, 6, false) == 0);
	/* records are proposed only while a persist runs (interleave); bounded rounds */
	for (int r = 0; r < 200 && w->next_record < RECORDS; r++)
		REQUIRE(world_run(w, 1, true) == 0);
	CHECK_INT_EQ(w->next_record, RECORDS);
	REQUIRE(world_run(w, 8, true) == 0);
	struct node_state first;
	state_get(w, 1, &first);
	CHECK_INT_EQ(first.applied.ledger_seq, RECORDS);
	for (uint64_t i = 1; i <= NODES; i++) {
		struct node_state s;
		state_get(w, i, &s);
		CHECK_INT_EQ(w->applied_records[i], RECORDS); /* each once */
		CHECK(memcmp(&s, &first, sizeof s) == 0);
	}
	CHECK(!w->off_thread_hook);
	world_close(w);
	free(w);
}

static const struct test_case cases[] = {
	TEST_CASE(test_split_same_as_cycle),
	TEST_CASE(test_split_skip_persist),
	TEST_CASE(test_split_interleaved),
};

TEST_MAIN(cases)
