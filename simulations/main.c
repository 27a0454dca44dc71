/* simulations/main.c — siteledger-sim: command line, one run per seed (run.c), summary, replay lines.
 *
 *   siteledger-sim --seed N [--nodes 3..9] [--steps S] [--faults LIST|all|none] [--trace]
 *   siteledger-sim --seeds A-B [...] [--stop-on-failure]
 * LIST is a comma-separated subset of partition,crash,loss,dup,reorder,skew,disk. A run is the
 * fault phase (S steps), then healing: every fault stops, crashed nodes restart, a probe record
 * is submitted and must be acknowledged within SIM_LIVENESS_STEPS (the documented liveness
 * bound), then every member must catch up within SIM_QUIESCE_STEPS and the final checks run.
 * Exit status: 0 when every run was clean, 1 when one had a violation or a liveness failure,
 * 2 for a usage error. Every failing run prints the command that replays it.
 */
#include "simulations/sim.h"

#include "util/error.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_STEPS_DEFAULT 2000
#define SIM_STEPS_MAX 10000000

static const char *const fault_names[] = { "partition", "crash", "loss", "dup", "reorder", "skew", "disk" };

static int parse_faults(const char *text, unsigned *out)
{
	*out = 0;
	if (strcmp(text, "none") == 0 || text[0] == '\0')
		return 0;
	if (strcmp(text, "all") == 0) {
		*out = SIM_FAULT_ALL;
		return 0;
	}
	char copy[SIM_TEXT_MAX];
	snprintf(copy, sizeof copy, "%s", text);
	for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		size_t k = 0;
		while (k < 7 && strcmp(tok, fault_names[k]) != 0)
			k++;
		if (k == 7)
			return -1;
		*out |= 1u << k;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: siteledger-sim (--seed N | --seeds A-B) [--nodes 3..9] [--steps S]\n"
			"       [--faults partition,crash,loss,dup,reorder,skew,disk|all|none] [--trace]\n"
			"       [--no-membership] [--stop-on-failure]\n");
}

static bool parse_u64(const char *text, uint64_t *out)
{
	char *end = NULL;
	if (text == NULL || *text < '0' || *text > '9')
		return false;
	unsigned long long v = strtoull(text, &end, 10);
	*out = v;
	return end != NULL && *end == '\0';
}

static void print_replay(const struct sim_options *o, uint64_t seed)
{
	printf("  replay: siteledger-sim --seed %" PRIu64 " --nodes %u --steps %" PRIu64 " --faults %s%s --trace\n", seed,
	       o->nodes, o->steps, o->faults_text, o->no_membership ? " --no-membership" : "");
}

static int run_seeds(struct sim_options *o, uint64_t first, uint64_t last, bool range, bool stop)
{
	uint64_t runs = 0, violations = 0, liveness = 0;
	for (uint64_t seed = first; seed <= last; seed++) {
		o->seed = seed;
		struct sim r;
		int rc = sim_run(o, &r);
		runs++;
		if (rc != 0) {
			printf("seed %" PRIu64 ": ERROR %s\n", seed, sl_errname(rc));
			violations++;
		} else if (r.violation[0] != '\0') {
			printf("seed %" PRIu64 ": VIOLATION %s: %s (step %" PRIu64 ")\n", seed, r.violation_check,
			       r.violation, r.now);
			print_replay(o, seed);
			violations++;
		} else if (r.liveness_failed) {
			printf("seed %" PRIu64 ": LIVENESS %s\n", seed, r.liveness_text);
			print_replay(o, seed);
			liveness++;
		} else if (!range) {
			printf("seed %" PRIu64 ": ok steps=%" PRIu64 " acked=%zu batches=%" PRIu64 " crashes=%" PRIu64
			       " disk_errors=%" PRIu64 " snapshots=%" PRIu64 " conf_changes=%" PRIu64 " msgs=%" PRIu64
			       " dropped=%" PRIu64 "\n",
			       seed, r.now, r.reqs_count, r.proposed_batches, r.crashes, r.disk_errors,
			       r.snapshots_installed, r.conf_changes, r.net.sent, r.net.dropped);
		}
		fflush(stdout);
		if (stop && (violations || liveness))
			break;
		if (seed == UINT64_MAX)
			break;
	}
	if (range)
		printf("summary: runs=%" PRIu64 " violations=%" PRIu64 " liveness_failures=%" PRIu64 "\n", runs,
		       violations, liveness);
	return violations || liveness ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct sim_options o = { .nodes = 5, .steps = SIM_STEPS_DEFAULT };
	snprintf(o.faults_text, sizeof o.faults_text, "none");
	uint64_t first = 0, last = 0, v;
	bool have = false, range = false, stop = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--seed") == 0 && parse_u64(next, &first)) {
			last = first;
			have = true;
			i++;
		} else if (strcmp(a, "--seeds") == 0 && next != NULL) {
			char lo[32], hi[32];
			const char *dash = strchr(next, '-');
			if (dash == NULL || (size_t)(dash - next) >= sizeof lo || strlen(dash + 1) >= sizeof hi)
				return usage(), 2;
			memcpy(lo, next, (size_t)(dash - next));
			lo[dash - next] = '\0';
			snprintf(hi, sizeof hi, "%s", dash + 1);
			if (!parse_u64(lo, &first) || !parse_u64(hi, &last) || last < first)
				return usage(), 2;
			have = range = true;
			i++;
		} else if (strcmp(a, "--nodes") == 0 && parse_u64(next, &v) && v >= SIM_NODES_MIN && v <= SIM_NODES_MAX) {
			o.nodes = (unsigned)v;
			i++;
		} else if (strcmp(a, "--steps") == 0 && parse_u64(next, &v) && v > 0 && v <= SIM_STEPS_MAX) {
			o.steps = v;
			i++;
		} else if (strcmp(a, "--faults") == 0 && next != NULL && parse_faults(next, &o.faults) == 0) {
			snprintf(o.faults_text, sizeof o.faults_text, "%s", next);
			i++;
		} else if (strcmp(a, "--trace") == 0) {
			o.trace = true;
		} else if (strcmp(a, "--no-membership") == 0) {
			o.no_membership = true;
		} else if (strcmp(a, "--stop-on-failure") == 0) {
			stop = true;
		} else {
			usage();
			return 2;
		}
	}
	if (!have) {
		usage();
		return 2;
	}
	if (crypto_init() != 0) {
		fprintf(stderr, "siteledger-sim: crypto_init failed\n");
		return 1;
	}
	return run_seeds(&o, first, last, range, stop);
}
