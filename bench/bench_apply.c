/* bench/bench_apply.c — single-node apply throughput beside the Ed25519 verify rate, in one run.
 *
 *   bench_apply [--records N] [--batch B] [--runs R]
 *
 * Measures, each R times (median reported):
 *   verify/s on one core and on all cores (crypto_verify_batch), over N signatures;
 *   apply of N commission records with 1 serial each, and N/10 records with 100 serials each, in
 *   batches of B records, into a fresh durable store (one fsync per batch), signing excluded.
 * Prints a Markdown table (scripts/bench.sh writes it into docs/benchmarks.md). The goal from the
 * foundation issue: apply records/s ≥ 0.85 × (cores × single-core verify/s).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "ledger/apply.h"
#include "ledger/lifecycle.h"
#include "ledger/record.h"
#include "store/store.h"
#include "tests/unit/test.h"

#define BENCH_RUNS_MAX 15

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *values, int count)
{
	qsort(values, (size_t)count, sizeof(*values), compare_double);
	return count % 2 ? values[count / 2] : (values[count / 2 - 1] + values[count / 2]) / 2;
}

struct signed_set {
	struct sl_buf bytes;
	size_t *offsets;
	size_t count;
	size_t serials_per_record;
};

/* N commission records of `per` serials each, all signed by one key, serials unique per run tag. */
static int signed_set_make(struct signed_set *set, size_t count, size_t per, const struct crypto_secret_key *sk,
			   unsigned tag)
{
	sl_buf_init(&set->bytes, (size_t)1 << 34);
	set->offsets = calloc(count, sizeof(*set->offsets));
	set->count = count;
	set->serials_per_record = per;
	char (*serials)[GS1_SERIAL_CHARS_MAX + 1] = calloc(per, sizeof(*serials));
	struct sl_str *views = calloc(per, sizeof(*views));
	if (set->offsets == NULL || serials == NULL || views == NULL)
		return SL_ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < count && rc == 0; i++) {
		for (size_t j = 0; j < per; j++) {
			snprintf(serials[j], sizeof serials[j], "B%u-%x-%x", tag % 100u, (unsigned)i, (unsigned)j);
			views[j] = sl_str_from_cstr(serials[j]);
		}
		struct record record;
		record_init(&record);
		record.type = RECORD_COMMISSION;
		record.site = SL_STR("bench");
		record.actor = SL_STR("bench-line");
		record.meaning = MEANING_AUTHORED;
		record.event_time_ms = 1795000000000LL;
		record.gtin = SL_STR("09506000134352");
		record.lot = SL_STR("BENCHLOT");
		record.expiry = SL_STR("281130");
		record.items = views;
		record.item_count = per;
		set->offsets[i] = set->bytes.len;
		rc = record_sign(&record, sk);
		if (rc == 0)
			rc = record_encode(&record, &set->bytes);
	}
	free(serials);
	free(views);
	return rc;
}

static void signed_set_free(struct signed_set *set)
{
	sl_buf_free(&set->bytes);
	free(set->offsets);
}

struct prepare_job {
	store *st;
	const struct signed_set *set;
	size_t first;
	size_t count;
	struct ledger_input *inputs;
	ledger_prepared *prepared;
	int rc;
};

/* Seconds spent preparing and writing in the sequential mode (where they do not overlap). */
static double sequential_prepare_seconds, sequential_write_seconds;

static void *prepare_thread(void *arg)
{
	struct prepare_job *job = arg;
	for (size_t i = 0; i < job->count; i++) {
		size_t at = job->first + i;
		size_t end = at + 1 < job->set->count ? job->set->offsets[at + 1] : job->set->bytes.len;
		job->inputs[i].bytes = job->set->bytes.data + job->set->offsets[at];
		job->inputs[i].len = end - job->set->offsets[at];
	}
	job->rc = ledger_prepare(job->st, job->inputs, job->count, 0, &job->prepared);
	return NULL;
}

static int results_check(const struct ledger_result *results, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (results[i].outcome != 0)
			return SL_EINVAL;
	return 0;
}

/* Apply the set batch by batch. Sequential: prepare (decode + verify on all cores) then write, one
 * batch after the other. Pipelined: a second thread prepares batch k+1 while batch k is written,
 * as the node does (thread pool verifies, storage thread writes). */
static int apply_batches(store *st, const struct signed_set *set, size_t batch, bool pipelined,
			 struct ledger_result *results)
{
	struct prepare_job jobs[2];
	struct ledger_input *inputs[2] = { calloc(batch, sizeof(struct ledger_input)),
					   calloc(batch, sizeof(struct ledger_input)) };
	if (inputs[0] == NULL || inputs[1] == NULL) {
		free(inputs[0]);
		free(inputs[1]);
		return SL_ENOMEM;
	}
	size_t batches = (set->count + batch - 1) / batch;
	int rc = 0;
	jobs[0] = (struct prepare_job){ st, set, 0, set->count < batch ? set->count : batch, inputs[0], NULL, 0 };
	pthread_t next_thread;
	bool next_running = false;
	double mark = now_seconds();
	prepare_thread(&jobs[0]);
	if (!pipelined)
		sequential_prepare_seconds += now_seconds() - mark;
	for (size_t k = 0; k < batches && rc == 0; k++) {
		struct prepare_job *job = &jobs[k % 2];
		if (next_running) {
			pthread_join(next_thread, NULL);
			next_running = false;
		}
		rc = job->rc;
		struct prepare_job *next = &jobs[(k + 1) % 2];
		if (rc == 0 && k + 1 < batches) {
			size_t first = (k + 1) * batch;
			*next = (struct prepare_job){ st, set, first,
						      set->count - first < batch ? set->count - first : batch,
						      inputs[(k + 1) % 2], NULL, 0 };
			if (pipelined)
				next_running = pthread_create(&next_thread, NULL, prepare_thread, next) == 0;
		}
		mark = now_seconds();
		if (rc == 0)
			rc = ledger_apply_prepared(st, job->prepared, 1795000000000ULL + k, results);
		if (!pipelined)
			sequential_write_seconds += now_seconds() - mark;
		if (rc == 0)
			rc = results_check(results, job->count);
		ledger_prepared_free(job->prepared);
		job->prepared = NULL;
		if (rc == 0 && k + 1 < batches && !next_running) {
			mark = now_seconds();
			prepare_thread(next);
			if (!pipelined)
				sequential_prepare_seconds += now_seconds() - mark;
		}
	}
	if (next_running) {
		pthread_join(next_thread, NULL);
		ledger_prepared_free(jobs[batches % 2].prepared);
	}
	free(inputs[0]);
	free(inputs[1]);
	return rc;
}

/* Apply the set into a fresh durable store; returns seconds, or a negative value on failure. */
static double apply_run(const struct signed_set *set, size_t batch, const struct crypto_public_key *pk,
			bool pipelined)
{
	char dir[PATH_MAX];
	if (test_tmpdir(dir) != 0)
		return -1;
	store *st = NULL;
	store_txn *txn = NULL;
	int rc = store_open(&st, dir, NULL);
	if (rc == 0)
		rc = store_txn_begin(st, true, &txn);
	if (rc == 0)
		rc = ledger_registry_add_site(txn, "bench", pk);
	if (rc == 0)
		rc = store_txn_commit(txn);
	struct ledger_result *results = calloc(batch, sizeof(*results));
	double start = now_seconds();
	if (rc == 0)
		rc = results ? apply_batches(st, set, batch, pipelined, results) : SL_ENOMEM;
	double elapsed = now_seconds() - start;
	free(results);
	if (st != NULL)
		store_close(st);
	test_rmtree(dir);
	if (rc != 0) {
		fprintf(stderr, "bench_apply: apply failed: %s\n", sl_strerror(rc));
		return -1;
	}
	return elapsed;
}

static double verify_rate(const struct signed_set *set, const struct crypto_public_key *pk, unsigned threads)
{
	struct crypto_verify_job *jobs = calloc(set->count, sizeof(*jobs));
	int *results = calloc(set->count, sizeof(*results));
	struct sl_buf signed_bytes;
	sl_buf_init(&signed_bytes, (size_t)1 << 34);
	size_t *offsets = calloc(set->count, sizeof(*offsets));
	uint8_t (*signatures)[CRYPTO_SIGNATURE_BYTES] = calloc(set->count, CRYPTO_SIGNATURE_BYTES);
	for (size_t i = 0; i < set->count; i++) {
		size_t end = i + 1 < set->count ? set->offsets[i + 1] : set->bytes.len;
		struct record record;
		record_decode(set->bytes.data + set->offsets[i], end - set->offsets[i], &record, NULL);
		offsets[i] = signed_bytes.len;
		record_signed_bytes(&record, &signed_bytes);
		memcpy(signatures[i], record.signature, CRYPTO_SIGNATURE_BYTES);
		record_clear(&record);
	}
	/* signed bytes include the domain prefix; verify the part after it, as record_verify does */
	size_t domain_len = strlen(RECORD_SIGN_DOMAIN) + 1;
	for (size_t i = 0; i < set->count; i++) {
		size_t end = i + 1 < set->count ? offsets[i + 1] : signed_bytes.len;
		jobs[i] = (struct crypto_verify_job){ pk, RECORD_SIGN_DOMAIN, signed_bytes.data + offsets[i] + domain_len,
						      end - offsets[i] - domain_len, signatures[i] };
	}
	double start = now_seconds();
	crypto_verify_batch(jobs, set->count, results, threads);
	double elapsed = now_seconds() - start;
	size_t bad = 0;
	for (size_t i = 0; i < set->count; i++)
		bad += results[i] != 0;
	if (bad)
		fprintf(stderr, "bench_apply: %zu signatures failed to verify\n", bad);
	free(jobs);
	free(results);
	free(offsets);
	free(signatures);
	sl_buf_free(&signed_bytes);
	return (double)set->count / elapsed;
}

int main(int argc, char **argv)
{
	size_t records = 20000, batch = 1000;
	int runs = 5;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--records") == 0)
			records = strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--batch") == 0)
			batch = strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--runs") == 0)
			runs = atoi(argv[i + 1]);
	}
	if (runs < 1 || runs > BENCH_RUNS_MAX || batch < 1 || batch > APPLY_BATCH_RECORDS_MAX || records < 10) {
		fprintf(stderr, "usage: bench_apply [--records N>=10] [--batch 1..%d] [--runs 1..%d]\n",
			APPLY_BATCH_RECORDS_MAX, BENCH_RUNS_MAX);
		return 2;
	}
	if (crypto_init() != 0)
		return 1;
	struct crypto_public_key pk;
	struct crypto_secret_key sk;
	crypto_keypair_generate(&pk, &sk);
	unsigned cores = crypto_cores_online();
	/* 100 serials per record: batches of at most 1000 records keep one transaction's dirty pages
	 * (items, history, counters of 100,000 packs) well inside LMDB's per-transaction limit. */
	size_t batch_100 = batch < 1000 ? batch : 1000;
	double verify1[BENCH_RUNS_MAX], verify_all[BENCH_RUNS_MAX];
	double apply1[BENCH_RUNS_MAX], apply1_seq[BENCH_RUNS_MAX], apply100[BENCH_RUNS_MAX];
	for (int run = 0; run < runs; run++) {
		struct signed_set one, hundred;
		if (signed_set_make(&one, records, 1, &sk, (unsigned)run) != 0 ||
		    signed_set_make(&hundred, records / 10, 100, &sk, (unsigned)run) != 0)
			return 1;
		verify1[run] = verify_rate(&one, &pk, 1);
		verify_all[run] = verify_rate(&one, &pk, 0);
		double t1 = apply_run(&one, batch, &pk, true);
		double t1_seq = apply_run(&one, batch, &pk, false);
		double t100 = apply_run(&hundred, batch_100, &pk, true);
		if (t1 <= 0 || t1_seq <= 0 || t100 <= 0)
			return 1;
		apply1[run] = (double)one.count / t1;
		apply1_seq[run] = (double)one.count / t1_seq;
		apply100[run] = (double)hundred.count / t100;
		signed_set_free(&one);
		signed_set_free(&hundred);
	}
	double v1 = median(verify1, runs), vall = median(verify_all, runs);
	double a1 = median(apply1, runs), a1_seq = median(apply1_seq, runs), a100 = median(apply100, runs);
	printf("| measure | median of %d runs |\n| --- | ---: |\n", runs);
	printf("| cores online | %u |\n", cores);
	printf("| Ed25519 verify/s, one core | %.0f |\n", v1);
	printf("| Ed25519 verify/s, all cores (crypto_verify_batch) | %.0f |\n", vall);
	printf("| apply, 1 serial/record, pipelined: records/s (= serial events/s) | %.0f |\n", a1);
	printf("| apply, 1 serial/record, one batch after the other: records/s | %.0f |\n", a1_seq);
	printf("| apply, 100 serials/record, pipelined: records/s | %.0f |\n", a100);
	printf("| apply, 100 serials/record, pipelined: serial events/s | %.0f |\n", a100 * 100);
	printf("| one batch after the other: prepare (decode + verify on all cores), µs/record | %.1f |\n",
	       sequential_prepare_seconds * 1e6 / ((double)records * runs));
	printf("| one batch after the other: write transaction incl. fsync, µs/record | %.1f |\n",
	       sequential_write_seconds * 1e6 / ((double)records * runs));
	printf("| **ratio** apply records/s (1 serial, pipelined) ÷ (cores × one-core verify/s); goal ≥ 0.85 | **%.2f** |\n",
	       a1 / (cores * v1));
	printf("| ratio apply records/s (1 serial, one batch after the other) ÷ (cores × one-core verify/s) | %.2f |\n",
	       a1_seq / (cores * v1));
	printf("\n%zu records per run (1 serial, batches of %zu) and %zu records (100 serials, batches of %zu), durable store "
	       "(one fsync per batch), signing excluded. Pipelined: a second thread prepares (decodes and\n"
	       "verifies on all cores) batch k+1 while batch k is written (ledger_prepare / ledger_apply_prepared).\n",
	       records, batch, records / 10, batch_100);
	crypto_secret_key_wipe(&sk);
	return 0;
}
