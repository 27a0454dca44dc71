/* bench/load.h — closed-loop load for the cluster benchmarks (bench_cluster, bench_etcd): N client
 * threads, each with its own connection, each with one operation in flight at a time.
 *
 * One run: every thread calls setup(context) (build requests, connect) and warmup_ops operations
 * outside the window (the first follows redirects, opens connections); then all start together
 * and each does operations until the deadline or ops_max, timing each one. The window ends when
 * the last thread's last operation returns, so no operation is cut short or counted twice. At the
 * start a line "bench: window starts: ..." goes to stderr (a profiler can wait for it).
 *
 * Rules:
 *  1. op(context, index) does one whole operation (retries and redirects included) and returns 0
 *     when it succeeded, a negative value otherwise; failed operations are counted, not timed.
 *     index runs 0, 1, ... per client across warm-up and window (a pre-built request per index).
 *  2. A thread stops after BENCH_LOAD_ERRORS_MAX failed operations (a broken cluster does not
 *     spin until the deadline); the run then reports its errors.
 *  3. Everything is bounded: clients ≤ BENCH_LOAD_CLIENTS_MAX, ops_max ≤ BENCH_LOAD_OPS_MAX
 *     (one latency sample per operation is kept), seconds ≤ BENCH_LOAD_SECONDS_MAX.
 */
#ifndef SL_BENCH_LOAD_H
#define SL_BENCH_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_LOAD_CLIENTS_MAX 64 /* threads on a 2-core machine: far past saturation already */
#define BENCH_LOAD_OPS_MAX 200000 /* per client and run: latency samples (8 bytes each) */
#define BENCH_LOAD_SECONDS_MAX 600.0 /* one window */
#define BENCH_LOAD_ERRORS_MAX 20 /* failed operations before a client gives up */
#define BENCH_LOAD_COUNTS_MAX 8 /* client counts in one --clients list */
#define BENCH_LOAD_SERVERS_MAX 8 /* server processes whose CPU time is accounted */

struct bench_load_spec {
	unsigned clients;
	double seconds;	   /* the window */
	size_t warmup_ops; /* per client, before the window */
	size_t ops_max;	   /* per client, in the window */
	void **contexts;   /* one per client */
	int (*setup)(void *context); /* in the client's thread, before warm-up; NULL = none */
	int (*op)(void *context, size_t index);
	const int *server_pids; /* processes whose CPU time the window accounts (/proc); may be NULL */
	size_t server_count;	/* at most BENCH_LOAD_SERVERS_MAX */
};

struct bench_load_result {
	unsigned clients;
	uint64_t ops;	  /* succeeded in the window */
	uint64_t errors;  /* failed, warm-up and setup included */
	double seconds;	  /* window: common start to the last operation's end */
	double ops_per_second;
	double p50_ms, p99_ms, max_ms;
	bool exhausted;	      /* a client reached ops_max before the deadline: raise ops_max */
	double machine_busy;  /* share of all cores' time not idle in the window (/proc/stat); -1 unknown */
	double driver_cpu;    /* this process's CPU time in the window, in cores (1.0 = one core) */
	double server_cpu_ms_per_op; /* the servers' CPU time in the window per operation; -1 unknown */
};

double bench_now_seconds(void); /* CLOCK_MONOTONIC */

/* Run one window; 0, or SL_EINVAL / SL_ENOMEM when the spec cannot run (nothing ran). */
int bench_load_run(const struct bench_load_spec *spec, struct bench_load_result *out);

/* Nearest-rank percentile (0 < p ≤ 1) of sorted[0..count); 0 when count is 0. */
double bench_percentile(const double *sorted, size_t count, double p);

/* "1,4,16" into counts[]; 0, or SL_EINVAL (empty, not a number, 0, above BENCH_LOAD_CLIENTS_MAX, or
 * more than max counts). */
int bench_clients_parse(const char *list, unsigned *counts, size_t max, size_t *count_out);
/* "123,456" into pids[] (positive process ids, at most BENCH_LOAD_SERVERS_MAX); 0 or SL_EINVAL. */
int bench_pids_parse(const char *list, int *pids, size_t *count_out);

/* The common fields of one result line (logfmt, stdout): "result system=NAME clients=... ops=...
 * errors=... seconds=... ops_per_s=... p50_ms=... p99_ms=... max_ms=... exhausted=... machine_busy=...
 * driver_cpu=... server_cpu_ms_per_op=..."; the caller
 * may append " key=value" fields and must end the line. */
void bench_load_print(const char *system, const struct bench_load_result *r);

#endif
