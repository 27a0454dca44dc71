/* bench/bench_sim.c — the simulator's speed: simulated steps per second and committed raft
 * entries per second (5 nodes, one process, real consensus + apply + LMDB per node).
 *
 *   bench_sim [--seeds N] [--steps S]
 *
 * Runs seeds 1..N (default 5) of S steps (default 3000) with no faults, then the same with every
 * fault, and prints a Markdown table (scripts/bench.sh appends it to docs/benchmarks.md). The
 * workload rate is the simulator's (about one client operation every three steps), so entries/s
 * measure how fast the simulation runs, not the ledger's ceiling (bench_apply measures that).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "simulations/sim.h"

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct totals {
	uint64_t steps;
	uint64_t committed;
	uint64_t acked;
	uint64_t failures;
	double seconds;
};

static void measure(unsigned faults, uint64_t seeds, uint64_t steps, struct totals *t)
{
	memset(t, 0, sizeof *t);
	struct sim_options o = { .nodes = 5, .steps = steps, .faults = faults };
	snprintf(o.faults_text, sizeof o.faults_text, "%s", faults ? "all" : "none");
	double start = now_seconds();
	for (uint64_t seed = 1; seed <= seeds; seed++) {
		o.seed = seed;
		struct sim r;
		if (sim_run(&o, &r) != 0 || r.violation[0] != '\0' || r.liveness_failed)
			t->failures++;
		t->steps += r.now;
		t->committed += r.committed;
		t->acked += r.reqs_count; /* sim_run leaves the acknowledged count here */
	}
	t->seconds = now_seconds() - start;
}

int main(int argc, char **argv)
{
	uint64_t seeds = 5, steps = 3000;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--seeds") == 0)
			seeds = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--steps") == 0)
			steps = strtoull(argv[i + 1], NULL, 10);
	}
	if (seeds == 0 || steps == 0 || crypto_init() != 0) {
		fprintf(stderr, "usage: bench_sim [--seeds N] [--steps S]\n");
		return 2;
	}
	struct totals clean, faulty;
	measure(0, seeds, steps, &clean);
	measure(SIM_FAULT_ALL, seeds, steps, &faulty);
	printf("| measure (5 nodes, %" PRIu64 " seeds x %" PRIu64 " steps) | no faults | all faults |\n", seeds, steps);
	printf("| --- | ---: | ---: |\n");
	printf("| simulated steps/s | %.0f | %.0f |\n", (double)clean.steps / clean.seconds,
	       (double)faulty.steps / faulty.seconds);
	printf("| committed raft entries/s | %.0f | %.0f |\n", (double)clean.committed / clean.seconds,
	       (double)faulty.committed / faulty.seconds);
	printf("| acknowledged records/s | %.0f | %.0f |\n", (double)clean.acked / clean.seconds,
	       (double)faulty.acked / faulty.seconds);
	printf("| wall seconds | %.2f | %.2f |\n", clean.seconds, faulty.seconds);
	printf("| runs with a violation or liveness failure | %" PRIu64 " | %" PRIu64 " |\n", clean.failures,
	       faulty.failures);
	return clean.failures || faulty.failures ? 1 : 0;
}
