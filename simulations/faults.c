/* simulations/faults.c — the fault schedule and the membership plan.
 *
 * While the run is in its fault phase, each step may (rates per million steps below):
 *   partition  start one (none active): symmetric (two random sides), asymmetric (1-3 one-way
 *              cut links) or partial (one node cut both ways from a random subset of its peers);
 *              it heals after 30-300 steps
 *   crash      a random up node loses its memory (replica_close) and restarts from its store
 *              after 10-200 steps
 *   disk       arm store_fault_inject_commit on a random up node: one of its next 1-3 commits
 *              fails, the node crashes (poisoned store) and restarts
 *   skew       give a random node a clock offset in [-10 s, +10 s] for the ledger time it stamps
 *   loss, dup, reorder: constant network rates for the whole fault phase (network.c)
 * faults_heal_all ends the phase: links healed, network clean, crashed nodes restarted, armed
 * disk faults disarmed (clock offsets stay: skew never blocks progress).
 *
 * Membership plan (single-server changes, docs/consensus.md), one stage at a time, each checked
 * against the leader's applied configuration so a lost proposal is simply proposed again:
 *   0 add node N as learner (N > 3: the cluster starts with voters 1..N-1)   1 promote N
 *   2 remove a voter V (not the leader)   3 add V back as a learner   4 promote V
 */
#include "simulations/sim.h"

#include "store/store_testing.h"
#include "util/error.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define PARTITION_PPM 6000
#define CRASH_PPM 3000
#define DISK_PPM 2000
#define SKEW_PPM 2000
#define LOSS_PPM 50000 /* 5% of messages */
#define DUP_PPM 20000  /* 2% */
#define JITTER_STEPS 4
#define MEMBERSHIP_FIRST_STEP 100
#define MEMBERSHIP_EVERY_STEPS 60

struct faults {
	bool partitioned;
	uint64_t heal_at;
	int stage;
	uint64_t victim; /* V of the plan */
	uint64_t next_try;
};

int faults_init(struct sim *sim)
{
	sim->faults = calloc(1, sizeof *sim->faults);
	if (sim->faults == NULL)
		return SL_ENOMEM;
	sim->faults->next_try = MEMBERSHIP_FIRST_STEP;
	if (sim->opt.no_membership)
		sim->faults->stage = 5;
	unsigned f = sim->opt.faults;
	sim->net.loss_ppm = f & SIM_FAULT_LOSS ? LOSS_PPM : 0;
	sim->net.dup_ppm = f & SIM_FAULT_DUP ? DUP_PPM : 0;
	sim->net.jitter_steps = f & SIM_FAULT_REORDER ? JITTER_STEPS : 0;
	return 0;
}

void faults_free(struct sim *sim)
{
	free(sim->faults);
	sim->faults = NULL;
}

static void partition_start(struct sim *sim)
{
	struct sim_net *net = &sim->net;
	uint64_t kind = rng_below(&sim->rng, 3);
	if (kind == 0) {
		bool side[SIM_NODES_MAX + 1];
		unsigned a = 0;
		for (unsigned i = 1; i <= sim->n; i++)
			a += side[i] = rng_below(&sim->rng, 2) == 1;
		if (a == 0 || a == sim->n)
			side[1] = !side[1];
		for (unsigned i = 1; i <= sim->n; i++)
			for (unsigned j = 1; j <= sim->n; j++)
				net->cut[i][j] = side[i] != side[j];
		sim_trace(sim, "partition: symmetric split");
	} else if (kind == 1) {
		uint64_t links = 1 + rng_below(&sim->rng, 3);
		for (uint64_t k = 0; k < links; k++) {
			unsigned a = 1 + (unsigned)rng_below(&sim->rng, sim->n);
			unsigned b = 1 + (unsigned)rng_below(&sim->rng, sim->n);
			net->cut[a][b] = a != b;
			if (a != b)
				sim_trace(sim, "partition: asymmetric n%u -> n%u cut", a, b);
		}
	} else {
		unsigned x = 1 + (unsigned)rng_below(&sim->rng, sim->n);
		for (unsigned j = 1; j <= sim->n; j++)
			if (j != x && rng_below(&sim->rng, 2) == 1)
				net->cut[x][j] = net->cut[j][x] = true;
		sim_trace(sim, "partition: partial, n%u cut from some peers", x);
	}
	sim->faults->partitioned = true;
	sim->faults->heal_at = sim->now + 30 + rng_below(&sim->rng, 271);
}

static struct sim_node *random_up(struct sim *sim)
{
	struct sim_node *node = &sim->nodes[1 + rng_below(&sim->rng, sim->n)];
	return node->rp != NULL ? node : NULL;
}

void faults_step(struct sim *sim)
{
	unsigned f = sim->opt.faults;
	struct faults *ft = sim->faults;
	if (f & SIM_FAULT_PARTITION) {
		if (ft->partitioned && sim->now >= ft->heal_at) {
			net_heal(&sim->net);
			ft->partitioned = false;
			sim_trace(sim, "partition healed");
		} else if (!ft->partitioned && rng_chance(&sim->rng, PARTITION_PPM)) {
			partition_start(sim);
		}
	}
	if ((f & SIM_FAULT_CRASH) && rng_chance(&sim->rng, CRASH_PPM)) {
		struct sim_node *node = random_up(sim);
		if (node != NULL)
			cluster_crash(sim, node, 10 + rng_below(&sim->rng, 191), "fault");
	}
	if ((f & SIM_FAULT_DISK) && rng_chance(&sim->rng, DISK_PPM)) {
		struct sim_node *node = random_up(sim);
		if (node != NULL && !node->disk_fault &&
		    store_fault_inject_commit(replica_store(node->rp), 1 + (int)rng_below(&sim->rng, 3), SL_EIO) == 0) {
			node->disk_fault = true;
			sim_trace(sim, "n%" PRIu64 " disk: a commit will fail", node->id);
		}
	}
	if ((f & SIM_FAULT_SKEW) && rng_chance(&sim->rng, SKEW_PPM)) {
		struct sim_node *node = &sim->nodes[1 + rng_below(&sim->rng, sim->n)];
		node->clock_offset_ms = (int64_t)rng_below(&sim->rng, 20001) - 10000;
		sim_trace(sim, "n%" PRIu64 " clock offset %" PRId64 " ms", node->id, node->clock_offset_ms);
	}
}

void faults_heal_all(struct sim *sim)
{
	net_heal(&sim->net);
	sim->net.loss_ppm = 0;
	sim->net.dup_ppm = 0;
	sim->net.jitter_steps = 0;
	sim->faults->partitioned = false;
	for (unsigned i = 1; i <= sim->n; i++) {
		struct sim_node *node = &sim->nodes[i];
		if (node->rp != NULL && node->disk_fault) {
			(void)store_fault_inject_commit(replica_store(node->rp), 0, 0);
			node->disk_fault = false;
		}
		if (node->rp == NULL)
			cluster_restart(sim, node);
	}
	sim_trace(sim, "heal: network clean, every node up");
}

static bool conf_voter(const struct raft_conf_state *c, uint64_t id)
{
	for (size_t i = 0; i < c->voters_count; i++)
		if (c->voters[i] == id)
			return true;
	return false;
}

static bool conf_learner(const struct raft_conf_state *c, uint64_t id)
{
	for (size_t i = 0; i < c->learners_count; i++)
		if (c->learners[i] == id)
			return true;
	return false;
}

/* The stage's goal holds in conf; else *change = what to propose. */
static bool stage_done(struct sim *sim, const struct raft_status *st, struct raft_conf_change *change)
{
	struct faults *ft = sim->faults;
	uint64_t n = sim->n;
	const struct raft_conf_state *c = &st->conf;
	switch (ft->stage) {
	case 0:
		*change = (struct raft_conf_change){ RAFT_CONF_ADD_LEARNER, n };
		return conf_voter(c, n) || conf_learner(c, n);
	case 1:
		*change = (struct raft_conf_change){ RAFT_CONF_ADD_VOTER, n };
		return conf_voter(c, n);
	case 2:
		if (ft->victim == 0) /* a voter other than the leader */
			for (uint64_t k = 0; k < n && ft->victim == 0; k++) {
				uint64_t v = 1 + (rng_below(&sim->rng, n) + k) % n;
				ft->victim = v != st->id && conf_voter(c, v) ? v : 0;
			}
		*change = (struct raft_conf_change){ RAFT_CONF_REMOVE, ft->victim };
		return ft->victim == 0 || (!conf_voter(c, ft->victim) && !conf_learner(c, ft->victim));
	case 3:
		*change = (struct raft_conf_change){ RAFT_CONF_ADD_LEARNER, ft->victim };
		return conf_learner(c, ft->victim) || conf_voter(c, ft->victim);
	case 4:
		*change = (struct raft_conf_change){ RAFT_CONF_ADD_VOTER, ft->victim };
		return conf_voter(c, ft->victim);
	default:
		return true;
	}
}

void faults_membership_step(struct sim *sim)
{
	struct faults *ft = sim->faults;
	if (ft->stage >= 5 || sim->now < ft->next_try)
		return;
	struct sim_node *leader = cluster_leader(sim);
	if (leader == NULL)
		return;
	ft->next_try = sim->now + MEMBERSHIP_EVERY_STEPS;
	struct raft_status st;
	raft_status_get(replica_raft(leader->rp), &st);
	struct raft_conf_change change;
	while (ft->stage < 5 && stage_done(sim, &st, &change))
		ft->stage++;
	if (ft->stage >= 5)
		return;
	uint64_t index = 0;
	int rc = raft_propose_conf_change(replica_raft(leader->rp), &change, &index);
	if (rc == 0) {
		sim->conf_changes++;
		sim_trace(sim, "n%" PRIu64 " proposes %s n%" PRIu64 " at %" PRIu64, leader->id,
			  change.type == RAFT_CONF_ADD_LEARNER ? "add-learner"
			  : change.type == RAFT_CONF_ADD_VOTER ? "add-voter"
							       : "remove",
			  change.node_id, index);
	}
}
