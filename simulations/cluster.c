/* simulations/cluster.c — the nodes: open, crash, restart, the replica hooks, one step.
 *
 * Each node is a site with its own LMDB environment under a temp directory (never printed), map
 * SIM_MAP_BYTES, opened with no_sync: an in-process crash (replica_close) loses exactly what was
 * not committed — an LMDB transaction is all or nothing in memory too — so fsync adds nothing
 * here (docs/simulation.md "Fault model"). A crash drops the raft core, the node's pending
 * records and unacknowledged proposals; messages already handed to the network stay in flight.
 * A failed commit (injected disk error) poisons the store: the node crashes and restarts from
 * disk (CONVENTIONS.md 6).
 */
#include "simulations/sim.h"

#include "ledger/lifecycle.h"
#include "store/store_testing.h"
#include "util/error.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SIM_CYCLES_PER_STEP 4 /* Ready cycles one node runs per step */

static bool conf_has(const struct raft_conf_state *conf, uint64_t id)
{
	for (size_t i = 0; i < conf->voters_count; i++)
		if (conf->voters[i] == id)
			return true;
	return false;
}

enum raft_role sim_node_role(const struct sim_node *node)
{
	if (node->rp == NULL)
		return RAFT_FOLLOWER;
	struct raft_status st;
	raft_status_get(replica_raft(node->rp), &st);
	return st.role;
}

struct hook_ctx {
	struct sim *sim;
	struct sim_node *node;
};

static int genesis(struct sim *sim, struct sim_node *node)
{
	store *st;
	struct store_options options = { .map_bytes = SIM_MAP_BYTES, .no_sync = true };
	int rc = store_open(&st, node->dir, &options);
	if (rc != 0)
		return rc;
	store_txn *txn;
	rc = store_txn_begin(st, true, &txn);
	for (unsigned i = 1; rc == 0 && i <= sim->n; i++)
		rc = ledger_registry_add_site(txn, sim->nodes[i].site, &sim->nodes[i].pk);
	if (rc == 0)
		rc = store_txn_commit(txn);
	else
		store_txn_abort(txn);
	store_close(st);
	return rc;
}

static void initial_conf(const struct sim *sim, struct raft_conf_state *conf)
{
	memset(conf, 0, sizeof *conf);
	unsigned voters = sim->n > 3 && !sim->opt.no_membership ? sim->n - 1 : sim->n; /* node n joins later */
	for (unsigned i = 1; i <= voters; i++)
		conf->voters[conf->voters_count++] = i;
}

static int node_open(struct sim *sim, struct sim_node *node)
{
	struct replica_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.raft.id = node->id;
	if (node->id <= sim->n)
		initial_conf(sim, &cfg.raft.initial);
	if (!conf_has(&cfg.raft.initial, node->id))
		memset(&cfg.raft.initial, 0, sizeof cfg.raft.initial); /* joins empty */
	cfg.raft.election_ticks = SIM_ELECTION_TICKS;
	cfg.raft.heartbeat_ticks = SIM_HEARTBEAT_TICKS;
	cfg.raft.pre_vote = true;
	cfg.raft.check_quorum = true;
	/* small appends (one batch each, usually) widen the windows in which a follower holds part
	 * of a new leader's log: more interleavings for the checker, and flow control exercised */
	cfg.raft.max_msg_bytes = SIM_MSG_BYTES;
	cfg.raft.seed = sim->opt.seed * 1000003ull + node->id * 101ull + node->incarnation;
	cfg.dir = node->dir;
	cfg.store = (struct store_options){ .map_bytes = SIM_MAP_BYTES, .no_sync = true };
	cfg.verify_threads = 1;
	cfg.compact_every = SIM_COMPACT_EVERY;
	cfg.compact_keep = sim->opt.seed % 2 == 1 ? SIM_COMPACT_KEEP : 0; /* both ways of compacting, by seed */
	int rc = replica_open(&cfg, &node->rp);
	if (rc == 0) {
		struct store_raft_applied a;
		replica_applied_get(node->rp, &a);
		node->applied = a.index;
	}
	return rc;
}

int cluster_init(struct sim *sim)
{
	const char *tmp = getenv("TMPDIR");
	tmp = tmp != NULL && *tmp != '\0' && strlen(tmp) < sizeof sim->root - 64 ? tmp : "/tmp";
	snprintf(sim->root, sizeof sim->root, "%s/siteledger-sim-XXXXXX", tmp);
	if (mkdtemp(sim->root) == NULL)
		return SL_EIO;
	for (unsigned i = 1; i <= sim->n; i++) {
		struct sim_node *node = &sim->nodes[i];
		node->id = i;
		node->proposals = calloc(SIM_PROPOSALS_MAX, sizeof *node->proposals);
		if (node->proposals == NULL)
			return SL_ENOMEM;
		if (strlen(sim->root) + 8 >= sizeof node->dir)
			return SL_ELIMIT;
		memcpy(node->dir, sim->root, strlen(sim->root));
		snprintf(node->dir + strlen(sim->root), 8, "/n%u", i);
		snprintf(node->site, sizeof node->site, "site-%u", i);
		unsigned char seed[32];
		for (int k = 0; k < 4; k++) {
			uint64_t v = rng_next(&sim->rng);
			memcpy(seed + 8 * k, &v, 8);
		}
		if (crypto_sign_seed_keypair(node->pk.bytes, node->sk.bytes, seed) != 0)
			return SL_ECRYPTO;
	}
	for (unsigned i = 1; i <= sim->n; i++) {
		int rc = genesis(sim, &sim->nodes[i]);
		if (rc == 0)
			rc = node_open(sim, &sim->nodes[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static void node_volatile_free(struct sim *sim, struct sim_node *node)
{
	for (size_t i = 0; i < node->pending_count; i++)
		workload_lost(sim, node->pending[i]);
	node->pending_count = 0;
	for (size_t p = 0; p < node->proposals_count; p++)
		for (size_t i = 0; i < node->proposals[p].count; i++)
			workload_lost(sim, node->proposals[p].reqs[i]);
	node->proposals_count = 0;
	free(node->snap);
	node->snap = NULL;
	node->snap_len = 0;
}

static void rmtree(const char *dir)
{
	char path[PATH_MAX + 32];
	static const char *const files[] = { "data.mdb", "lock.mdb", "LOCK" };
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		(void)remove(path);
	}
	(void)remove(dir);
}

void cluster_free(struct sim *sim)
{
	for (unsigned i = 1; i <= sim->n; i++) {
		struct sim_node *node = &sim->nodes[i];
		replica_close(node->rp);
		node->rp = NULL;
		node->pending_count = 0;
		node->proposals_count = 0;
		free(node->proposals);
		free(node->snap);
		crypto_secret_key_wipe(&node->sk);
		if (sim->root[0] != '\0')
			rmtree(node->dir);
	}
	if (sim->root[0] != '\0')
		(void)remove(sim->root);
}

void cluster_crash(struct sim *sim, struct sim_node *node, uint64_t down_steps, const char *why)
{
	if (node->rp == NULL)
		return;
	replica_close(node->rp);
	node->rp = NULL;
	node_volatile_free(sim, node);
	node->restart_at = sim->now + down_steps;
	node->disk_fault = false;
	node->role = RAFT_FOLLOWER;
	sim->crashes++;
	sim_trace(sim, "n%" PRIu64 " crash (%s), restart at step %" PRIu64, node->id, why, node->restart_at);
}

void cluster_restart(struct sim *sim, struct sim_node *node)
{
	if (node->rp != NULL)
		return;
	node->incarnation++;
	int rc = node_open(sim, node);
	if (rc != 0) {
		/* the core refuses a persisted state that contradicts itself (an entry of a term the hard
		 * state never recorded, commit past the log): what was promised was not durable */
		sim_violation(sim, "durability", "n%" PRIu64 " cannot restart from its store: %s", node->id,
			      sl_errname(rc));
		return;
	}
	struct raft_status st;
	raft_status_get(replica_raft(node->rp), &st);
	sim_trace(sim, "n%" PRIu64 " restart: term %" PRIu64 " vote %" PRIu64 " commit %" PRIu64 " applied %" PRIu64
		  " last %" PRIu64, node->id, st.term, st.vote, st.commit, st.applied, st.last_index);
}

/* ---- hooks ---- */

static void hook_persisted(void *ctx, const struct raft_entry *e)
{
	struct hook_ctx *h = ctx;
	check_persisted(h->sim, h->node, e);
}

static void hook_send(void *ctx, const struct raft_msg *msg)
{
	struct hook_ctx *h = ctx;
	if (msg->type != RAFT_MSG_SNAPSHOT) {
		net_send(h->sim, h->node->id, msg, NULL, 0);
		return;
	}
	struct sl_buf blob;
	struct raft_snapshot_meta meta;
	sl_buf_init(&blob, REPLICA_SNAPSHOT_BYTES_MAX);
	int rc = replica_snapshot_export(h->node->rp, &blob, &meta);
	if (rc == 0 && meta.index == msg->snapshot.index)
		net_send(h->sim, h->node->id, msg, blob.data, blob.len);
	else
		raft_report_snapshot(replica_raft(h->node->rp), msg->to, false);
	sl_buf_free(&blob);
}

static void proposals_settle(struct sim *sim, struct sim_node *node, const struct replica_applied *a)
{
	size_t keep = 0;
	for (size_t p = 0; p < node->proposals_count; p++) {
		struct sim_proposal *pr = &node->proposals[p];
		if (pr->index > a->index) {
			node->proposals[keep++] = *pr;
			continue;
		}
		bool mine = !a->snapshot && pr->index == a->index && pr->term == a->term &&
			    a->results_count == pr->count;
		for (size_t i = 0; i < pr->count; i++) {
			if (mine)
				workload_acked(sim, pr->reqs[i], &a->results[i], node->id);
			else
				workload_lost(sim, pr->reqs[i]);
		}
	}
	node->proposals_count = keep;
}

static void hook_applied(void *ctx, const struct replica_applied *a)
{
	struct hook_ctx *h = ctx;
	check_applied(h->sim, h->node, a);
	h->node->applied = a->index;
	if (a->snapshot) {
		h->sim->snapshots_installed++;
		sim_trace(h->sim, "n%" PRIu64 " installed snapshot at %" PRIu64 " (ledger %" PRIu64 ")", h->node->id,
			  a->index, a->ledger_seq);
	}
	proposals_settle(h->sim, h->node, a);
}

/* Clients hear their outcomes before the cycle commits (replica.h rule 7), as the node's do: a
 * commit that then fails (disk faults) must not lose what was acknowledged. */
static void hook_answered(void *ctx, const struct replica_applied *a)
{
	struct hook_ctx *h = ctx;
	proposals_settle(h->sim, h->node, a);
}

static int hook_snapshot_data(void *ctx, const struct raft_snapshot_meta *meta, const uint8_t **data, size_t *len)
{
	struct hook_ctx *h = ctx;
	struct sim_node *node = h->node;
	if (node->snap == NULL || node->snap_index != meta->index)
		return SL_ENOENT;
	/* odd seeds install the suffix the node lacks, as siteledgerd ships it (D30): the node says how
	 * many entries it holds, here as at the install */
	struct store_raft_applied own;
	replica_applied_get(node->rp, &own);
	uint64_t first = 0;
	if (h->sim->opt.seed % 2 == 1 && own.ledger_seq > 0 &&
	    replica_snapshot_first_seq(node->snap, node->snap_len, &first) == 0 && first == 1) {
		struct sl_buf suffix;
		sl_buf_init(&suffix, REPLICA_SNAPSHOT_BYTES_MAX);
		if (replica_snapshot_suffix(node->snap, node->snap_len, own.ledger_seq, &suffix) == 0) {
			free(node->snap);
			node->snap = suffix.data;
			node->snap_len = suffix.len;
		} else {
			sl_buf_free(&suffix); /* it holds more than the export: the whole one says so */
		}
	}
	*data = node->snap;
	*len = node->snap_len;
	return 0;
}

static void hook_diverged(void *ctx, const char *what)
{
	struct hook_ctx *h = ctx;
	sim_violation(h->sim, "state-machine-safety", "n%" PRIu64 " snapshot install: %s", h->node->id, what);
}

void cluster_deliver(struct sim *sim, struct sim_node *to, const struct sim_msg *m)
{
	struct raft_entry entries[RAFT_MSG_ENTRIES_MAX];
	struct raft_msg msg;
	int rc = raft_msg_decode(m->bytes, m->len, &msg, entries, RAFT_MSG_ENTRIES_MAX);
	if (rc != 0) {
		sim_violation(sim, "codec", "n%" PRIu64 ": message from n%" PRIu64 " does not decode: %s", to->id,
			      m->from, raft_errname(rc));
		return;
	}
	if (msg.type == RAFT_MSG_SNAPSHOT && m->snap != NULL) {
		free(to->snap);
		to->snap = malloc(m->snap_len);
		to->snap_len = to->snap != NULL ? m->snap_len : 0;
		if (to->snap != NULL)
			memcpy(to->snap, m->snap, m->snap_len);
		to->snap_index = msg.snapshot.index;
	}
	(void)raft_step(replica_raft(to->rp), &msg); /* stale or refused messages are normal */
	/* the stream finished: tell the sender, as a transport does (raft.h raft_report_snapshot) */
	struct sim_node *from = &sim->nodes[m->from];
	if (msg.type == RAFT_MSG_SNAPSHOT && from->rp != NULL)
		raft_report_snapshot(replica_raft(from->rp), to->id, true);
}

struct sim_node *cluster_leader(struct sim *sim)
{
	for (unsigned i = 1; i <= sim->n; i++) {
		struct sim_node *node = &sim->nodes[i];
		if (node->rp != NULL && sim_node_role(node) == RAFT_LEADER)
			return node;
	}
	return NULL;
}

bool cluster_submit(struct sim *sim, uint32_t req)
{
	struct sim_node *leader = cluster_leader(sim);
	if (leader == NULL || leader->pending_count >= SIM_PENDING_MAX)
		return false;
	leader->pending[leader->pending_count++] = req;
	return true;
}

static uint64_t node_clock_ms(const struct sim *sim, const struct sim_node *node)
{
	int64_t t = (int64_t)(SIM_T0_MS + sim->now * SIM_TICK_MS) + node->clock_offset_ms;
	return t > 0 ? (uint64_t)t : 0;
}

static void node_propose(struct sim *sim, struct sim_node *node)
{
	if (node->pending_count == 0)
		return;
	size_t n = node->pending_count < REPLICA_BATCH_RECORDS_MAX ? node->pending_count : REPLICA_BATCH_RECORDS_MAX;
	struct ledger_input inputs[REPLICA_BATCH_RECORDS_MAX];
	for (size_t i = 0; i < n; i++)
		inputs[i] = (struct ledger_input){ sim->reqs[node->pending[i]].bytes, sim->reqs[node->pending[i]].len };
	uint64_t index = 0;
	int rc = node->proposals_count < SIM_PROPOSALS_MAX
			 ? replica_propose(node->rp, node_clock_ms(sim, node), inputs, n, &index)
			 : RAFT_ELIMIT;
	if (rc == 0) {
		struct sim_proposal *pr = &node->proposals[node->proposals_count++];
		pr->index = index;
		struct raft_status st;
		raft_status_get(replica_raft(node->rp), &st);
		pr->term = st.term;
		pr->count = (uint32_t)n;
		for (size_t i = 0; i < n; i++)
			pr->reqs[i] = node->pending[i];
		sim->proposed_batches++;
	} else {
		for (size_t i = 0; i < n; i++)
			workload_lost(sim, node->pending[i]);
	}
	memmove(node->pending, node->pending + n, (node->pending_count - n) * sizeof node->pending[0]);
	node->pending_count -= n;
}

static void node_cycles(struct sim *sim, struct sim_node *node)
{
	struct hook_ctx ctx = { sim, node };
	struct replica_hooks hooks = { .ctx = &ctx,
				       .persisted = hook_persisted,
				       .send = hook_send,
				       .applied = hook_applied,
				       .answered = hook_answered,
				       .snapshot_data = hook_snapshot_data,
				       .diverged = hook_diverged };
	for (int c = 0; c < SIM_CYCLES_PER_STEP && node->rp != NULL; c++) {
		int rc = replica_cycle(node->rp, &hooks);
		if (rc == 0)
			break;
		if (rc < 0) {
			bool expected = node->disk_fault;
			if (!expected && rc != SL_ECORRUPT)
				sim_violation(sim, "store", "n%" PRIu64 ": Ready cycle failed: %s", node->id,
					      sl_errname(rc));
			if (expected)
				sim->disk_errors++;
			cluster_crash(sim, node, 1 + rng_below(&sim->rng, 20),
				      expected ? "disk error on commit" : sl_errname(rc));
		}
	}
}

int cluster_step(struct sim *sim)
{
	sim->now++;
	for (unsigned i = 1; i <= sim->n; i++) {
		struct sim_node *node = &sim->nodes[i];
		if (node->rp == NULL && node->restart_at <= sim->now)
			cluster_restart(sim, node);
	}
	if (!sim->healing)
		faults_step(sim);
	faults_membership_step(sim);
	net_deliver_due(sim);
	for (unsigned i = 1; i <= sim->n; i++)
		if (sim->nodes[i].rp != NULL)
			raft_tick(replica_raft(sim->nodes[i].rp));
	workload_step(sim);
	for (unsigned i = 1; i <= sim->n; i++) {
		struct sim_node *node = &sim->nodes[i];
		if (node->rp != NULL && sim_node_role(node) == RAFT_LEADER)
			node_propose(sim, node);
	}
	for (unsigned i = 1; i <= sim->n; i++)
		if (sim->nodes[i].rp != NULL)
			node_cycles(sim, &sim->nodes[i]);
	check_step(sim);
	return sim->violation[0] != '\0' ? -1 : 0;
}
