/* bench/bench_audit.c — the auditor's costs beside the Ed25519 verify rate, in one run.
 *
 *   bench_audit [--records N] [--runs R] [--cli PATH] [--baseline PATH] [--keep DIR]
 *
 * Builds a data directory of N commission records (1 serial each, batches of
 * APPLY_BATCH_RECORDS_MAX with one ledger time each, as group commit under load makes them), then
 * runs the real `siteledger export` once and `siteledger audit` R times (default 3) as child
 * processes and reports, from the run with the median wall time:
 *   audit records/s, its ratio to cores × one-core verify/s (goal ≥ 0.9), the audit's peak RSS
 *   (wait4 ru_maxrss of the child; goal ≤ 256 MiB), its CPU seconds (user + sys) and what they
 *   bound: the share of that CPU the signatures alone need (N ÷ one-core verify/s ÷ CPU s) is the
 *   ratio the audit reaches on two otherwise idle cores kept busy the whole time; the ratio
 *   measured falls below it by the time a core waited or ran another process;
 *   export records/s, bundle bytes; inclusion proof generation/s from the store and verification/s.
 * --baseline PATH audits the same bundle with another siteledger binary too, alternating run by
 * run with --cli, and prints both side by side (before/after a change, under the same load).
 * Default N = 100000; the figure is N = 1000000 (minutes to build):
 *   build/bench/bench_audit --records 1000000
 * Prints a Markdown table (scripts/bench.sh appends it to docs/benchmarks.md).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "crypto/merkle.h"
#include "ledger/apply.h"
#include "ledger/lifecycle.h"
#include "ledger/reason.h"
#include "ledger/record.h"
#include "store/merkle_store.h"
#include "store/store.h"
#include "tests/unit/test.h"

#define BENCH_RECORDS_MAX 10000000 /* a sanity bound on --records */
#define BENCH_VERIFY_SAMPLES 4000  /* signatures timed for the one-core verify rate */
#define BENCH_PROOFS 20000	   /* inclusion proofs generated and verified */
#define BENCH_RUNS_MAX 15	   /* audits per binary (--runs) */
#define BENCH_T0_MS 1795000000000ULL

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One commission record with one serial, signed. */
static int record_make(const struct crypto_secret_key *sk, uint64_t i, struct sl_buf *out)
{
	char serial[32];
	snprintf(serial, sizeof serial, "A%" PRIx64, i);
	struct sl_str item = sl_str_from_cstr(serial);
	struct record r;
	record_init(&r);
	r.type = RECORD_COMMISSION;
	r.site = SL_STR("bench");
	r.actor = SL_STR("bench-line");
	r.meaning = MEANING_AUTHORED;
	r.event_time_ms = (int64_t)BENCH_T0_MS;
	r.gtin = SL_STR("09506000134352");
	r.lot = SL_STR("BENCHLOT");
	r.expiry = SL_STR("281130");
	r.items = &item;
	r.item_count = 1;
	int rc = record_sign(&r, sk);
	return rc == 0 ? record_encode(&r, out) : rc;
}

static int data_dir_init(store *st, const char *key_path, const struct crypto_public_key *pk)
{
	store_txn *txn = NULL;
	int rc = store_txn_begin(st, true, &txn);
	if (rc != 0)
		return rc;
	rc = store_meta_put(txn, "site", "bench", 5);
	if (rc == 0)
		rc = store_meta_put(txn, "key-path", key_path, strlen(key_path));
	if (rc == 0)
		rc = ledger_registry_add_site(txn, "bench", pk);
	if (rc != 0) {
		store_txn_abort(txn);
		return rc;
	}
	return store_txn_commit(txn);
}

/* N records in batches of APPLY_BATCH_RECORDS_MAX. */
static int data_dir_fill(store *st, const struct crypto_secret_key *sk, uint64_t n)
{
	struct ledger_input *inputs = calloc(APPLY_BATCH_RECORDS_MAX, sizeof *inputs);
	struct ledger_result *results = calloc(APPLY_BATCH_RECORDS_MAX, sizeof *results);
	size_t *offsets = calloc(APPLY_BATCH_RECORDS_MAX + 1, sizeof *offsets);
	struct sl_buf bytes;
	sl_buf_init(&bytes, (size_t)APPLY_BATCH_RECORDS_MAX * RECORD_BYTES_MAX);
	int rc = inputs && results && offsets ? 0 : SL_ENOMEM;
	for (uint64_t done = 0, batch = 0; rc == 0 && done < n; batch++) {
		size_t count = n - done < APPLY_BATCH_RECORDS_MAX ? (size_t)(n - done) : APPLY_BATCH_RECORDS_MAX;
		sl_buf_reset(&bytes);
		for (size_t i = 0; rc == 0 && i < count; i++) {
			offsets[i] = bytes.len;
			rc = record_make(sk, done + i, &bytes);
			offsets[i + 1] = bytes.len;
		}
		for (size_t i = 0; rc == 0 && i < count; i++)
			inputs[i] = (struct ledger_input){ bytes.data + offsets[i], offsets[i + 1] - offsets[i] };
		if (rc == 0)
			rc = ledger_apply_batch(st, inputs, count, BENCH_T0_MS + batch * 1000, results, 0);
		for (size_t i = 0; rc == 0 && i < count; i++)
			if (results[i].outcome != OUTCOME_ACCEPTED)
				rc = SL_EINVAL;
		done += count;
	}
	sl_buf_free(&bytes);
	free(inputs);
	free(results);
	free(offsets);
	return rc;
}

static double verify_rate_one_core(const struct crypto_secret_key *sk, const struct crypto_public_key *pk)
{
	uint8_t message[200] = { 1 }, signature[CRYPTO_SIGNATURE_BYTES];
	if (crypto_sign(sk, RECORD_SIGN_DOMAIN, message, sizeof message, signature) != 0)
		return 0;
	double start = now_seconds();
	for (int i = 0; i < BENCH_VERIFY_SAMPLES; i++)
		if (crypto_verify(pk, RECORD_SIGN_DOMAIN, message, sizeof message, signature) != 0)
			return 0;
	return BENCH_VERIFY_SAMPLES / (now_seconds() - start);
}

/* One child run: wall seconds, CPU seconds (user + sys) and peak RSS from wait4. */
struct child_usage {
	double wall_s;
	double cpu_s;
	long maxrss_kib;
};

/* Run argv as a child (stdout to /dev/null); -1 when it could not run or did not exit 0. */
static int child_run(char *const argv[], struct child_usage *out)
{
	double start = now_seconds();
	pid_t pid = fork();
	if (pid == 0) {
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	int status = 0;
	struct rusage usage;
	if (pid < 0 || wait4(pid, &status, 0, &usage) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	out->wall_s = now_seconds() - start;
	out->cpu_s = (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 +
		     (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
	out->maxrss_kib = usage.ru_maxrss;
	return 0;
}

static void proof_rates(store *st, uint64_t n, double *gen_per_s, double *verify_per_s)
{
	store_txn *txn = NULL;
	*gen_per_s = *verify_per_s = 0;
	if (n == 0 || store_txn_begin(st, false, &txn) != 0)
		return;
	uint8_t root[MERKLE_HASH_BYTES], leaf[MERKLE_HASH_BYTES];
	uint8_t (*proofs)[MERKLE_PROOF_BYTES_MAX] = calloc(BENCH_PROOFS, sizeof *proofs);
	size_t *counts = calloc(BENCH_PROOFS, sizeof *counts);
	int rc = proofs && counts ? store_merkle_root(txn, n, root) : SL_ENOMEM;
	double start = now_seconds();
	for (int i = 0; rc == 0 && i < BENCH_PROOFS; i++)
		rc = merkle_inclusion_proof(n, (uint64_t)i * 7919 % n, store_merkle_node_get, txn, proofs[i], &counts[i]);
	double mid = now_seconds();
	int bad = 0;
	for (int i = 0; rc == 0 && i < BENCH_PROOFS; i++) {
		if (store_merkle_node_get(txn, 0, (uint64_t)i * 7919 % n, leaf) != 0)
			bad++;
		bad += merkle_verify_inclusion(leaf, (uint64_t)i * 7919 % n, n, proofs[i], counts[i], root) != 0;
	}
	double end = now_seconds();
	if (rc == 0 && bad == 0) {
		*gen_per_s = BENCH_PROOFS / (mid - start);
		*verify_per_s = BENCH_PROOFS / (end - mid); /* includes one leaf read per proof */
	}
	free(proofs);
	free(counts);
	store_txn_abort(txn);
}

struct options {
	uint64_t records;
	unsigned runs;
	char cli[PATH_MAX];
	const char *baseline; /* another siteledger to audit the same bundle with, or NULL */
	const char *keep;
};

static int options_parse(int argc, char **argv, struct options *o)
{
	o->records = 100000;
	o->runs = 3;
	o->baseline = NULL;
	o->keep = NULL;
	snprintf(o->cli, sizeof o->cli, "%s", argv[0]);
	char *slash = strrchr(o->cli, '/');
	snprintf(slash ? slash + 1 : o->cli, sizeof o->cli - (size_t)(slash ? slash + 1 - o->cli : 0),
		 "../bin/siteledger");
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--records") == 0)
			o->records = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--runs") == 0)
			o->runs = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--cli") == 0)
			snprintf(o->cli, sizeof o->cli, "%s", argv[i + 1]);
		else if (strcmp(argv[i], "--baseline") == 0)
			o->baseline = argv[i + 1];
		else if (strcmp(argv[i], "--keep") == 0)
			o->keep = argv[i + 1];
		else
			return -1;
	}
	if (argc % 2 == 0 || o->runs == 0 || o->runs > BENCH_RUNS_MAX)
		return -1;
	return o->records == 0 || o->records > BENCH_RECORDS_MAX ? -1 : 0;
}

/* The audits of one binary: every run, and each run's one-core verify rate measured just before
 * it (the machine's load drifts; each ratio uses the rate of its own moment). */
struct audit_runs {
	const char *cli;
	struct child_usage runs[BENCH_RUNS_MAX];
	double verify1[BENCH_RUNS_MAX];
	unsigned count;
};

static double run_ratio(const struct audit_runs *r, unsigned i, uint64_t records)
{
	return (double)records / r->runs[i].wall_s / ((double)crypto_cores_online() * r->verify1[i]);
}

/* The run with the median ratio (the lower middle one for an even count). */
static unsigned run_median(const struct audit_runs *r, uint64_t records)
{
	for (unsigned i = 0; i < r->count; i++) {
		unsigned below = 0, equal_before = 0;
		for (unsigned j = 0; j < r->count; j++) {
			below += run_ratio(r, j, records) < run_ratio(r, i, records);
			equal_before += j < i && run_ratio(r, j, records) == run_ratio(r, i, records);
		}
		if (below + equal_before == (r->count - 1) / 2)
			return i;
	}
	return 0;
}

enum audit_measure { AUDIT_RATE, AUDIT_RATIO, AUDIT_RSS, AUDIT_TIMES, AUDIT_VERIFY_SHARE, AUDIT_VERIFY1 };

static void row_print(const char *measure, const struct audit_runs *sides, unsigned side_count, uint64_t records,
		      enum audit_measure what)
{
	printf("| %s |", measure);
	for (unsigned s = 0; s < side_count; s++) {
		const struct audit_runs *r = &sides[s];
		unsigned m = run_median(r, records);
		const struct child_usage *u = &r->runs[m];
		double verify_cpu_s = (double)records / r->verify1[m];
		if (what == AUDIT_RATE)
			printf(" %.0f |", (double)records / u->wall_s);
		else if (what == AUDIT_RATIO)
			printf(" %.2f |", run_ratio(r, m, records));
		else if (what == AUDIT_RSS)
			printf(" %.1f |", (double)u->maxrss_kib / 1024);
		else if (what == AUDIT_TIMES)
			printf(" %.2f / %.2f |", u->wall_s, u->cpu_s);
		else if (what == AUDIT_VERIFY_SHARE)
			printf(" %.2f |", verify_cpu_s / u->cpu_s);
		else
			printf(" %.0f |", r->verify1[m]);
	}
	printf("\n");
}

/* The audit rows, one column per binary (the baseline first). */
static void audit_rows_print(const struct audit_runs *sides, unsigned side_count, uint64_t records)
{
	row_print("audit records/s (replay, signatures, hashes, checkpoints, reconciliation)", sides, side_count,
		  records, AUDIT_RATE);
	row_print("ratio audit records/s ÷ (cores × one-core verify/s); goal ≥ 0.9", sides, side_count, records, AUDIT_RATIO);
	row_print("audit peak RSS, MiB (goal ≤ 256)", sides, side_count, records, AUDIT_RSS);
	row_print("audit wall s / CPU s (user + sys)", sides, side_count, records, AUDIT_TIMES);
	row_print("signatures' share of the audit's CPU: the ratio on two idle cores kept busy", sides, side_count,
		  records, AUDIT_VERIFY_SHARE);
	row_print("Ed25519 verify/s, one core, just before the audit", sides, side_count, records, AUDIT_VERIFY1);
}

static void report_print(const struct options *o, double build_s, const struct child_usage *export_run,
			 const struct audit_runs *sides, unsigned side_count, off_t bundle_bytes, double gen, double ver)
{
	printf("| measure | %s |\n| --- |", side_count == 2 ? "before (--baseline) | after" : "value");
	for (unsigned s = 0; s < side_count; s++)
		printf(" ---: |");
	printf("\n| records in the export | %" PRIu64 " |%s\n", o->records, side_count == 2 ? " |" : "");
	printf("| cores online | %u |%s\n", crypto_cores_online(), side_count == 2 ? " |" : "");
	printf("| audits per binary (the median run's figures) | %u |%s\n", o->runs, side_count == 2 ? " |" : "");
	printf("| build the ledger (sign + apply), s | %.1f |%s\n", build_s, side_count == 2 ? " |" : "");
	printf("| export records/s | %.0f |%s\n", (double)o->records / export_run->wall_s, side_count == 2 ? " |" : "");
	printf("| bundle size, MiB | %.1f |%s\n", (double)bundle_bytes / (1 << 20), side_count == 2 ? " |" : "");
	audit_rows_print(sides, side_count, o->records);
	printf("| inclusion proofs generated/s (from the store) | %.0f |%s\n", gen, side_count == 2 ? " |" : "");
	printf("| inclusion proofs verified/s | %.0f |%s\n", ver, side_count == 2 ? " |" : "");
}

/* R audits of the bundle per binary, alternating binaries run by run. */
static int audits_run(const struct options *o, const char *bundle, const char *keys,
		      const struct crypto_secret_key *sk, const struct crypto_public_key *pk, struct audit_runs *sides,
		      unsigned side_count)
{
	for (unsigned run = 0; run < o->runs; run++) {
		for (unsigned s = 0; s < side_count; s++) {
			char *argv[] = { (char *)(uintptr_t)sides[s].cli, "audit", (char *)(uintptr_t)bundle, "--keys",
					 (char *)(uintptr_t)keys, NULL };
			sides[s].verify1[run] = verify_rate_one_core(sk, pk);
			if (sides[s].verify1[run] <= 0 || child_run(argv, &sides[s].runs[run]) != 0) {
				fprintf(stderr, "bench_audit: %s audit failed\n", sides[s].cli);
				return -1;
			}
			sides[s].count = run + 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	char tmp[PATH_MAX], data[PATH_MAX + 16], key[PATH_MAX + 16], keys[PATH_MAX + 16], pub[PATH_MAX + 32],
		bundle[PATH_MAX + 16];
	if (options_parse(argc, argv, &o) != 0) {
		fprintf(stderr, "usage: bench_audit [--records N] [--runs R (1-%d)] [--cli PATH] [--baseline PATH] "
				"[--keep DIR]\n",
			BENCH_RUNS_MAX);
		return 2;
	}
	struct crypto_public_key pk;
	struct crypto_secret_key sk;
	if (crypto_init() != 0 || crypto_keypair_generate(&pk, &sk) != 0 || test_tmpdir(tmp) != 0)
		return 1;
	const char *base = o.keep != NULL ? o.keep : tmp;
	snprintf(data, sizeof data, "%s/data", base);
	snprintf(key, sizeof key, "%s/bench.key", base);
	snprintf(keys, sizeof keys, "%s/keys", base);
	snprintf(pub, sizeof pub, "%s/bench.key.pub", keys);
	snprintf(bundle, sizeof bundle, "%s/export.bundle", base);
	mkdir(base, 0700);
	mkdir(keys, 0700);
	store *st = NULL;
	struct store_options options = { .no_sync = true };
	double start = now_seconds();
	int rc = crypto_secret_key_write(key, "bench", &sk);
	if (rc == 0)
		rc = crypto_public_key_write(pub, "bench", &pk);
	if (rc == 0)
		rc = store_open(&st, data, &options);
	if (rc == 0)
		rc = data_dir_init(st, key, &pk);
	if (rc == 0)
		rc = data_dir_fill(st, &sk, o.records);
	double build_s = now_seconds() - start;
	double gen = 0, ver = 0;
	if (rc == 0)
		proof_rates(st, o.records, &gen, &ver);
	store_close(st);
	if (rc != 0) {
		crypto_secret_key_wipe(&sk);
		fprintf(stderr, "bench_audit: building the ledger failed: %s\n", sl_strerror(rc));
		return 1;
	}
	static struct audit_runs sides[2];
	unsigned side_count = 0;
	if (o.baseline != NULL)
		sides[side_count++].cli = o.baseline;
	sides[side_count++].cli = o.cli;
	struct child_usage export_run;
	char *export_argv[] = { o.cli, "export", "--data", data, "--out", bundle, NULL };
	rc = child_run(export_argv, &export_run);
	if (rc != 0)
		fprintf(stderr, "bench_audit: %s export failed\n", o.cli);
	else
		rc = audits_run(&o, bundle, keys, &sk, &pk, sides, side_count);
	crypto_secret_key_wipe(&sk);
	if (rc != 0)
		return 1;
	struct stat info;
	report_print(&o, build_s, &export_run, sides, side_count, stat(bundle, &info) == 0 ? info.st_size : 0, gen,
		     ver);
	if (o.keep == NULL)
		test_rmtree(tmp);
	return 0;
}
