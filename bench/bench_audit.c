/* bench/bench_audit.c — the auditor's costs beside the Ed25519 verify rate, in one run.
 *
 *   bench_audit [--records N] [--cli PATH] [--keep DIR]
 *
 * Builds a data directory of N commission records (1 serial each, batches of
 * APPLY_BATCH_RECORDS_MAX with one ledger time each, as group commit under load makes them), then
 * runs the real `siteledger export` and `siteledger audit` as child processes and reports:
 *   audit records/s, its ratio to cores × one-core verify/s (goal ≥ 0.9), the audit's peak RSS
 *   (wait4 ru_maxrss of the child; goal ≤ 256 MiB), export records/s, bundle bytes;
 *   inclusion proof generation/s from the store and verification/s.
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

/* Run argv as a child; seconds elapsed, *maxrss_kib from wait4; -1 on failure. */
static double child_run(char *const argv[], long *maxrss_kib)
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
	*maxrss_kib = usage.ru_maxrss;
	return now_seconds() - start;
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
	char cli[PATH_MAX];
	const char *keep;
};

static int options_parse(int argc, char **argv, struct options *o)
{
	o->records = 100000;
	o->keep = NULL;
	snprintf(o->cli, sizeof o->cli, "%s", argv[0]);
	char *slash = strrchr(o->cli, '/');
	snprintf(slash ? slash + 1 : o->cli, sizeof o->cli - (size_t)(slash ? slash + 1 - o->cli : 0),
		 "../bin/siteledger");
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--records") == 0)
			o->records = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--cli") == 0)
			snprintf(o->cli, sizeof o->cli, "%s", argv[i + 1]);
		else if (strcmp(argv[i], "--keep") == 0)
			o->keep = argv[i + 1];
		else
			return -1;
	}
	return o->records == 0 || o->records > BENCH_RECORDS_MAX ? -1 : 0;
}

static void report_print(const struct options *o, double build_s, double verify1, double export_s, double audit_s,
			 long audit_rss_kib, off_t bundle_bytes, double gen, double ver)
{
	unsigned cores = crypto_cores_online();
	double audit_rate = (double)o->records / audit_s;
	printf("| measure | value |\n| --- | ---: |\n");
	printf("| records in the export | %" PRIu64 " |\n", o->records);
	printf("| cores online | %u |\n", cores);
	printf("| Ed25519 verify/s, one core | %.0f |\n", verify1);
	printf("| build the ledger (sign + apply), s | %.1f |\n", build_s);
	printf("| export records/s | %.0f |\n", (double)o->records / export_s);
	printf("| bundle size, MiB | %.1f |\n", (double)bundle_bytes / (1 << 20));
	printf("| audit records/s (replay, signatures, hashes, checkpoints, reconciliation) | %.0f |\n", audit_rate);
	printf("| ratio audit records/s ÷ (cores × one-core verify/s); goal ≥ 0.9 | %.2f |\n",
	       audit_rate / ((double)cores * verify1));
	printf("| audit peak RSS, MiB (goal ≤ 256) | %.1f |\n", (double)audit_rss_kib / 1024);
	printf("| inclusion proofs generated/s (from the store) | %.0f |\n", gen);
	printf("| inclusion proofs verified/s | %.0f |\n", ver);
}

int main(int argc, char **argv)
{
	struct options o;
	char tmp[PATH_MAX], data[PATH_MAX + 16], key[PATH_MAX + 16], keys[PATH_MAX + 16], pub[PATH_MAX + 32],
		bundle[PATH_MAX + 16];
	if (options_parse(argc, argv, &o) != 0) {
		fprintf(stderr, "usage: bench_audit [--records N] [--cli PATH] [--keep DIR]\n");
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
	double verify1 = verify_rate_one_core(&sk, &pk);
	crypto_secret_key_wipe(&sk);
	if (rc != 0) {
		fprintf(stderr, "bench_audit: building the ledger failed: %s\n", sl_strerror(rc));
		return 1;
	}
	long rss = 0, audit_rss = 0;
	char *export_argv[] = { o.cli, "export", "--data", data, "--out", bundle, NULL };
	char *audit_argv[] = { o.cli, "audit", bundle, "--keys", keys, NULL };
	double export_s = child_run(export_argv, &rss);
	double audit_s = export_s > 0 ? child_run(audit_argv, &audit_rss) : -1;
	if (export_s <= 0 || audit_s <= 0) {
		fprintf(stderr, "bench_audit: %s export/audit failed\n", o.cli);
		return 1;
	}
	struct stat info;
	report_print(&o, build_s, verify1, export_s, audit_s, audit_rss, stat(bundle, &info) == 0 ? info.st_size : 0,
		     gen, ver);
	if (o.keep == NULL)
		test_rmtree(tmp);
	return 0;
}
