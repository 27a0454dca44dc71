/* simulations/run.c — one simulator run: the phases (faults, healing and the liveness bound,
 * quiescence and the final checks), the trace and the violation record (sim.h).
 *
 * Phases of a run with S steps:
 *  1. faults: S steps of workload under the fault schedule (faults.c), checks after every step;
 *  2. healing: faults_heal_all, then a probe record must be acknowledged within
 *     SIM_LIVENESS_STEPS steps (the liveness bound: a leader is elected and commits);
 *  3. quiescence: every member (voter or learner of the leader's configuration) must apply up to
 *     the leader's commit within SIM_QUIESCE_STEPS; then check_final compares lifecycle-state
 *     hashes and looks up every acknowledged record on every member.
 */
#include "simulations/sim.h"

#include "util/error.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sim_trace(struct sim *sim, const char *format, ...)
{
	if (!sim->opt.trace)
		return;
	va_list ap;
	va_start(ap, format);
	printf("[%7" PRIu64 "] ", sim->now);
	vprintf(format, ap);
	putchar('\n');
	va_end(ap);
}

void sim_violation(struct sim *sim, const char *check, const char *format, ...)
{
	if (sim->violation[0] != '\0')
		return; /* the first one is the one that matters */
	va_list ap;
	va_start(ap, format);
	vsnprintf(sim->violation, sizeof sim->violation, format, ap);
	va_end(ap);
	snprintf(sim->violation_check, sizeof sim->violation_check, "%s", check);
	sim_trace(sim, "VIOLATION %s: %s", check, sim->violation);
}

static bool quiet(struct sim *sim)
{
	struct sim_node *leader = cluster_leader(sim);
	if (leader == NULL)
		return false;
	struct raft_status ls;
	raft_status_get(replica_raft(leader->rp), &ls);
	for (unsigned i = 1; i <= sim->n; i++) {
		struct sim_node *node = &sim->nodes[i];
		bool member = false;
		for (size_t k = 0; k < ls.conf.voters_count; k++)
			member |= ls.conf.voters[k] == node->id;
		for (size_t k = 0; k < ls.conf.learners_count; k++)
			member |= ls.conf.learners[k] == node->id;
		if (member && (node->rp == NULL || node->applied != ls.commit))
			return false;
	}
	return ls.applied == ls.commit;
}

static void run_phases(struct sim *sim)
{
	while (sim->now < sim->opt.steps && cluster_step(sim) == 0)
		;
	if (sim->violation[0] != '\0')
		return;
	sim->healing = true;
	faults_heal_all(sim);
	uint32_t probe = workload_probe(sim);
	uint64_t healed = sim->now;
	while (sim->violation[0] == '\0' && sim->now - healed < SIM_LIVENESS_STEPS &&
	       (probe == UINT32_MAX || !sim->reqs[probe].acked))
		(void)cluster_step(sim);
	if (sim->violation[0] != '\0')
		return;
	if (probe == UINT32_MAX || !sim->reqs[probe].acked) {
		sim->liveness_failed = true;
		snprintf(sim->liveness_text, sizeof sim->liveness_text,
			 "no commit acknowledged within %d steps after healing (leader: %s)", SIM_LIVENESS_STEPS,
			 cluster_leader(sim) != NULL ? "yes" : "none");
		return;
	}
	sim_trace(sim, "liveness: probe acknowledged %" PRIu64 " steps after healing", sim->now - healed);
	uint64_t start = sim->now;
	while (sim->violation[0] == '\0' && !quiet(sim) && sim->now - start < SIM_QUIESCE_STEPS)
		(void)cluster_step(sim);
	if (sim->violation[0] == '\0' && !quiet(sim)) {
		sim->liveness_failed = true;
		char state[160] = "";
		size_t used = 0;
		for (unsigned i = 1; i <= sim->n && used < sizeof state; i++) {
			struct raft_status st;
			memset(&st, 0, sizeof st);
			if (sim->nodes[i].rp != NULL)
				raft_status_get(replica_raft(sim->nodes[i].rp), &st);
			int k = snprintf(state + used, sizeof state - used, " n%u:%s/%" PRIu64 "/%" PRIu64, i,
					 sim->nodes[i].rp ? raft_role_name(st.role) : "down", st.commit, st.applied);
			used += k > 0 ? (size_t)k : 0;
		}
		snprintf(sim->liveness_text, sizeof sim->liveness_text,
			 "members did not catch up within %d steps after the probe (role/commit/applied:%s)",
			 SIM_QUIESCE_STEPS, state);
		return;
	}
	check_final(sim);
}

int sim_run(const struct sim_options *opt, struct sim *out)
{
	struct sim *sim = calloc(1, sizeof *sim);
	if (sim == NULL)
		return SL_ENOMEM;
	sim->opt = *opt;
	sim->n = opt->nodes;
	rng_seed(&sim->rng, opt->seed);
	net_init(&sim->net);
	int rc = check_init(sim);
	if (rc == 0)
		rc = workload_init(sim);
	if (rc == 0)
		rc = faults_init(sim);
	if (rc == 0)
		rc = cluster_init(sim);
	if (rc == 0)
		run_phases(sim);
	cluster_free(sim);
	net_free(&sim->net);
	*out = *sim;
	out->reqs = NULL;
	out->wl = NULL;
	out->check = NULL;
	out->faults = NULL;
	if (rc == 0) {
		out->reqs_count = 0;
		for (size_t i = 0; i < sim->reqs_count; i++)
			out->reqs_count += sim->reqs[i].acked;
	}
	out->committed = sim->check != NULL ? check_committed_max(sim) : 0;
	workload_free(sim);
	check_free(sim);
	faults_free(sim);
	free(sim);
	return rc;
}

