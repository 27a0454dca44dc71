/* bench/load.c — closed-loop client threads, their latency samples and percentiles (bench/load.h). */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench/load.h"
#include "util/error.h"

double bench_now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Jiffies of all cores: busy (not idle, not waiting for I/O) and total; false when unreadable. */
static bool machine_jiffies(unsigned long long *busy, unsigned long long *total)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	if (f == NULL)
		return false;
	int got = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
			 &v[6], &v[7]);
	fclose(f);
	if (got < 5)
		return false;
	*total = 0;
	for (int i = 0; i < 8; i++)
		*total += v[i];
	*busy = *total - v[3] - v[4]; /* idle, iowait */
	return true;
}

static double process_cpu_seconds(void)
{
	struct rusage u;
	if (getrusage(RUSAGE_SELF, &u) != 0)
		return 0;
	return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec +
	       (double)u.ru_stime.tv_usec / 1e6;
}

/* CPU seconds (user + system) the given processes used so far; -1 when one cannot be read. */
static double servers_cpu_seconds(const int *pids, size_t count)
{
	double total = 0;
	long ticks = sysconf(_SC_CLK_TCK);
	for (size_t i = 0; i < count; i++) {
		char path[64], line[1024];
		snprintf(path, sizeof path, "/proc/%d/stat", pids[i]);
		FILE *f = fopen(path, "r");
		bool ok = f != NULL && fgets(line, sizeof line, f) != NULL;
		if (f != NULL)
			fclose(f);
		/* fields after the command name, which is in parentheses and may hold anything */
		const char *rest = ok ? strrchr(line, ')') : NULL;
		unsigned long long utime = 0, stime = 0;
		if (rest == NULL || ticks <= 0 ||
		    sscanf(rest + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
			return -1;
		total += (double)(utime + stime) / (double)ticks;
	}
	return total;
}

struct load_shared {
	const struct bench_load_spec *spec;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	unsigned ready; /* clients set up and warmed up */
	bool go;	/* start and deadline published */
	double start, deadline;
	unsigned long long busy_start, total_start;
	bool jiffies_ok;
	double cpu_start;
	double servers_start;
};

struct load_client {
	struct load_shared *shared;
	void *context;
	double *latencies_ms; /* ops_max samples */
	size_t ops;
	uint64_t errors;
	double finish;
	bool exhausted;
};

/* Set up, warm up, wait for the common start, then operate until the deadline (load.h). */
static void *client_thread(void *arg)
{
	struct load_client *c = arg;
	const struct bench_load_spec *spec = c->shared->spec;
	bool broken = spec->setup != NULL && spec->setup(c->context) != 0;
	size_t index = 0;
	c->errors += broken;
	for (; !broken && index < spec->warmup_ops; index++)
		if (spec->op(c->context, index) != 0 && ++c->errors >= BENCH_LOAD_ERRORS_MAX)
			broken = true;
	pthread_mutex_lock(&c->shared->lock);
	c->shared->ready++;
	pthread_cond_broadcast(&c->shared->changed);
	while (!c->shared->go)
		pthread_cond_wait(&c->shared->changed, &c->shared->lock);
	double deadline = c->shared->deadline;
	pthread_mutex_unlock(&c->shared->lock);
	double now = bench_now_seconds();
	while (!broken && now < deadline && c->ops < spec->ops_max) {
		double before = now;
		int rc = spec->op(c->context, index++);
		now = bench_now_seconds();
		if (rc == 0)
			c->latencies_ms[c->ops++] = (now - before) * 1e3;
		else if (++c->errors >= BENCH_LOAD_ERRORS_MAX)
			broken = true;
	}
	c->exhausted = c->ops == spec->ops_max;
	c->finish = now;
	return NULL;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Merge the clients' samples and counts into out. */
static int results_merge(const struct bench_load_spec *spec, struct load_client *clients, double start,
			 struct bench_load_result *out)
{
	size_t total = 0;
	double finish = start;
	memset(out, 0, sizeof *out);
	out->clients = spec->clients;
	for (unsigned i = 0; i < spec->clients; i++) {
		total += clients[i].ops;
		out->errors += clients[i].errors;
		out->exhausted |= clients[i].exhausted;
		if (clients[i].finish > finish)
			finish = clients[i].finish;
	}
	double *all = malloc((total ? total : 1) * sizeof *all);
	if (all == NULL)
		return SL_ENOMEM;
	size_t at = 0;
	for (unsigned i = 0; i < spec->clients; i++) {
		memcpy(all + at, clients[i].latencies_ms, clients[i].ops * sizeof *all);
		at += clients[i].ops;
	}
	qsort(all, total, sizeof *all, compare_double);
	out->ops = total;
	out->seconds = finish - start;
	out->ops_per_second = out->seconds > 0 ? (double)total / out->seconds : 0;
	out->p50_ms = bench_percentile(all, total, 0.50);
	out->p99_ms = bench_percentile(all, total, 0.99);
	out->max_ms = total ? all[total - 1] : 0;
	free(all);
	return 0;
}

static int spec_check(const struct bench_load_spec *spec)
{
	if (spec->clients < 1 || spec->clients > BENCH_LOAD_CLIENTS_MAX || spec->op == NULL)
		return SL_EINVAL;
	if (spec->ops_max < 1 || spec->ops_max > BENCH_LOAD_OPS_MAX)
		return SL_EINVAL;
	if (spec->server_count > BENCH_LOAD_SERVERS_MAX || (spec->server_count > 0 && spec->server_pids == NULL))
		return SL_EINVAL;
	if (!(spec->seconds > 0 && spec->seconds <= BENCH_LOAD_SECONDS_MAX))
		return SL_EINVAL;
	return 0;
}

/* Wait until `count` clients are ready, then publish the window and let them go. */
static void load_start(struct load_shared *shared, unsigned count, double seconds)
{
	pthread_mutex_lock(&shared->lock);
	while (shared->ready < count)
		pthread_cond_wait(&shared->changed, &shared->lock);
	shared->jiffies_ok = machine_jiffies(&shared->busy_start, &shared->total_start);
	shared->cpu_start = process_cpu_seconds();
	shared->servers_start = servers_cpu_seconds(shared->spec->server_pids, shared->spec->server_count);
	shared->start = bench_now_seconds();
	shared->deadline = shared->start + seconds;
	shared->go = true;
	pthread_cond_broadcast(&shared->changed);
	pthread_mutex_unlock(&shared->lock);
	/* the marker scripts/bench-cluster.sh waits for to profile just the window */
	fprintf(stderr, "bench: window starts: %u clients, %.1f s\n", count, seconds);
}

int bench_load_run(const struct bench_load_spec *spec, struct bench_load_result *out)
{
	int rc = spec_check(spec);
	if (rc != 0)
		return rc;
	static struct load_shared shared;
	static struct load_client clients[BENCH_LOAD_CLIENTS_MAX];
	static pthread_t threads[BENCH_LOAD_CLIENTS_MAX];
	shared = (struct load_shared){ .spec = spec };
	pthread_mutex_init(&shared.lock, NULL);
	pthread_cond_init(&shared.changed, NULL);
	for (unsigned i = 0; i < spec->clients; i++) {
		clients[i] = (struct load_client){ .shared = &shared, .context = spec->contexts[i] };
		clients[i].latencies_ms = malloc(spec->ops_max * sizeof(double));
		if (clients[i].latencies_ms == NULL)
			rc = SL_ENOMEM;
	}
	unsigned started = 0;
	for (; rc == 0 && started < spec->clients; started++)
		if (pthread_create(&threads[started], NULL, client_thread, &clients[started]) != 0)
			break;
	if (rc == 0 && started < spec->clients) {
		fprintf(stderr, "bench: could start only %u of %u client threads\n", started, spec->clients);
		rc = SL_ENOMEM;
	}
	if (started > 0) { /* the threads that started run their window (and are counted) either way */
		load_start(&shared, started, spec->seconds);
		for (unsigned i = 0; i < started; i++)
			pthread_join(threads[i], NULL);
	}
	unsigned long long busy_end = 0, total_end = 0;
	bool jiffies_ok = shared.jiffies_ok && machine_jiffies(&busy_end, &total_end) && total_end > shared.total_start;
	double cpu = process_cpu_seconds() - shared.cpu_start;
	double servers_end = servers_cpu_seconds(spec->server_pids, spec->server_count);
	if (rc == 0)
		rc = results_merge(spec, clients, shared.start, out);
	if (rc == 0) {
		out->machine_busy = jiffies_ok ? (double)(busy_end - shared.busy_start) /
							 (double)(total_end - shared.total_start)
					       : -1;
		out->driver_cpu = out->seconds > 0 ? cpu / out->seconds : 0;
		bool known = spec->server_count > 0 && shared.servers_start >= 0 && servers_end >= 0 && out->ops > 0;
		out->server_cpu_ms_per_op = known ? (servers_end - shared.servers_start) * 1e3 / (double)out->ops : -1;
	}
	pthread_cond_destroy(&shared.changed);
	pthread_mutex_destroy(&shared.lock);
	for (unsigned i = 0; i < spec->clients; i++)
		free(clients[i].latencies_ms);
	return rc;
}

double bench_percentile(const double *sorted, size_t count, double p)
{
	assert(p > 0 && p <= 1);
	if (count == 0)
		return 0;
	size_t rank = (size_t)(p * (double)count + 0.999999); /* ceil, robust to rounding */
	if (rank < 1)
		rank = 1;
	if (rank > count)
		rank = count;
	return sorted[rank - 1];
}

int bench_clients_parse(const char *list, unsigned *counts, size_t max, size_t *count_out)
{
	size_t count = 0;
	const char *p = list;
	while (*p != '\0') {
		char *end = NULL;
		unsigned long v = strtoul(p, &end, 10);
		if (end == p || (*end != ',' && *end != '\0') || v < 1 || v > BENCH_LOAD_CLIENTS_MAX || count >= max)
			return SL_EINVAL;
		if (*end == ',' && end[1] == '\0')
			return SL_EINVAL;
		counts[count++] = (unsigned)v;
		p = *end == ',' ? end + 1 : end;
	}
	if (count == 0)
		return SL_EINVAL;
	*count_out = count;
	return 0;
}

int bench_pids_parse(const char *list, int *pids, size_t *count_out)
{
	size_t count = 0;
	const char *p = list;
	while (*p != '\0') {
		char *end = NULL;
		long v = strtol(p, &end, 10);
		if (end == p || (*end != ',' && *end != '\0') || v < 1 || v > (1L << 22) || count >= BENCH_LOAD_SERVERS_MAX)
			return SL_EINVAL;
		if (*end == ',' && end[1] == '\0')
			return SL_EINVAL;
		pids[count++] = (int)v;
		p = *end == ',' ? end + 1 : end;
	}
	*count_out = count;
	return count > 0 ? 0 : SL_EINVAL;
}

void bench_load_print(const char *system, const struct bench_load_result *r)
{
	printf("result system=%s clients=%u ops=%llu errors=%llu seconds=%.3f ops_per_s=%.1f p50_ms=%.3f "
	       "p99_ms=%.3f max_ms=%.3f exhausted=%d machine_busy=%.2f driver_cpu=%.2f server_cpu_ms_per_op=%.3f",
	       system, r->clients, (unsigned long long)r->ops, (unsigned long long)r->errors, r->seconds,
	       r->ops_per_second, r->p50_ms, r->p99_ms, r->max_ms, r->exhausted ? 1 : 0, r->machine_busy,
	       r->driver_cpu, r->server_cpu_ms_per_op);
}
