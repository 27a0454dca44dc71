/* cli/audit_replay.c — the audit's replay: apply a full bundle's records, in their original
 * order and ledger time, to a fresh temporary store with the real pipeline (ledger_prepare, then
 * ledger_apply_prepared_txn: apply.h),
 * and compare every entry it would write with the exported one, byte for byte; then compare the
 * lot counters and check the reconciliation identity (lifecycle.h rule 2); finally reconcile every
 * lot of the replayed ledger (reconcile.h), as `siteledger reconcile` does at a site.
 *
 * Design notes:
 *  1. Batching: consecutive entries with the same ledger time are applied as one batch (up to
 *     AUDIT_BATCH_RECORDS_MAX records and AUDIT_BATCH_BYTES_MAX bytes). Outcomes do not depend on
 *     how records are cut into batches: records see earlier records of their batch (apply.h rule
 *     4) and keys are re-read in the write transaction (apply.c decision 3); only ledger time is
 *     per batch, and it is kept.
 *  2. The expected entry is rebuilt from the replay's result (seq, ledger time, outcome, item,
 *     record bytes as in apply.c append_entry) and compared with the exported bytes, so nothing
 *     is read back from the temporary store (its pages need not stay in memory).
 *  3. The registry is registered from the bundle's site lines (only trusted ones: bundle.h rule 3)
 *     with ledger_registry_add_site, as `siteledger init` did at the source. Those lines are the
 *     registry as at init; registry records in the entries (site add/remove, key add/revoke)
 *     are replayed like any record, so every later record is checked against the key in force
 *     at its point of the ledger (ledger/rules_registry.c).
 *  4. After the first entry that cannot be replayed (undecodable entry, store error), replay stops
 *     (replay_broken): later comparisons would only repeat the first difference.
 *  5. After each batch, when the process holds more than AUDIT_MAPPED_BYTES_MAX of file pages, the
 *     pages of the scratch store's map are handed back (store_map_trim): LMDB reads through a
 *     mapping of the whole file, and every page touched stays resident (and counts in RSS) while
 *     mapped, so without this the process would grow to the size of the store. The pages stay in
 *     the kernel's page cache. (Closing and reopening the store every 2048 records did the same,
 *     but a no_sync store is synced when closed: an fdatasync of the scratch file each time.)
 *  6. Pipeline: while the worker thread applies batch k and compares its entries (single-
 *     threaded), the main thread reads batch k + 1 and verifies its signatures on all cores
 *     (ledger_prepare: a read transaction, allowed beside the writer). A registry record of batch
 *     k (or of any batch not yet committed, note 7) can change the keys batch k + 1 was verified
 *     with; apply re-reads every key in its write transaction and verifies again what changed
 *     (apply.c decision 3), so the outcomes are those of an unpipelined replay. Anything that
 *     lists failures in order or reads the scratch store first drains the pipeline
 *     (audit_replay_drain), which also commits (note 7).
 *  7. One write transaction spans several batches (AUDIT_TXN_RECORDS_MAX records): the worker is
 *     one long-lived thread (an LMDB write transaction stays on the thread that began it) that
 *     commits when the next batch would not fit and when the main thread drains. Ledger time and
 *     outcomes are per batch as before (note 1); what changes is how often the scratch store's
 *     touched pages are copied and written out, the largest cost of the replay after the
 *     signatures (docs/decisions.md D23). A failed apply or commit is listed and stops the
 *     replay (note 4); the batches of an aborted transaction are gone, but nothing reads them.
 *     Tried and not kept (D23): MDB_WRITEMAP for the scratch store (more CPU, and the map's dirty
 *     pages cannot be handed back: 434 MiB at 1M records) and a third stage that verified one
 *     batch while the main thread read the next (the short-lived verify threads then often
 *     shared one core: more idle time, not less).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/audit_internal.h"
#include "ledger/lifecycle.h"
#include "store/merkle_store.h"
#include "util/error.h"

static int registry_register(struct audit *a)
{
	store_txn *txn = NULL;
	int rc = store_txn_begin(a->st, true, &txn);
	for (size_t i = 0; rc == 0 && i < a->registry.count; i++)
		if (a->registry.sites[i].trusted)
			rc = ledger_registry_add_site(txn, a->registry.sites[i].name, &a->registry.sites[i].pk);
	if (rc != 0) {
		if (txn != NULL)
			store_txn_abort(txn);
		return rc;
	}
	return store_txn_commit(txn);
}

static int scratch_open(struct audit *a)
{
	/* Durability of a scratch store is worthless: never synced, not even when closed (it is
	 * deleted right after). The map size is the sites' own (STORE_MAP_BYTES_DEFAULT): a replay
	 * needs no more room than the source. */
	struct store_options options = { .scratch = true };
	int rc = store_open(&a->st, a->tmpdir, &options);
	if (rc != 0)
		fprintf(stderr, "siteledger: audit: scratch store in %s: %s\n", a->tmpdir, store_last_error(NULL));
	return rc;
}

static int batch_alloc(struct audit_batch *b, struct audit *a)
{
	memset(b, 0, sizeof *b);
	b->audit = a;
	b->bytes = malloc(AUDIT_BATCH_BYTES_MAX);
	b->slots = calloc(AUDIT_BATCH_RECORDS_MAX, sizeof *b->slots);
	b->inputs = calloc(AUDIT_BATCH_RECORDS_MAX, sizeof *b->inputs);
	b->results = calloc(AUDIT_BATCH_RECORDS_MAX, sizeof *b->results);
	return b->bytes && b->slots && b->inputs && b->results ? 0 : SL_ENOMEM;
}

static void batch_release(struct audit_batch *b)
{
	ledger_prepared_free(b->prepared);
	free(b->bytes);
	free(b->slots);
	free(b->inputs);
	free(b->results);
	memset(b, 0, sizeof *b);
}

static int worker_start(struct audit *a);

int audit_replay_open(struct audit *a)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(a->tmpdir, sizeof a->tmpdir, "%s/siteledger-audit-XXXXXX", tmp != NULL && tmp[0] ? tmp : "/tmp");
	if (mkdtemp(a->tmpdir) == NULL) {
		a->tmpdir[0] = '\0';
		return SL_EIO;
	}
	int rc = batch_alloc(&a->batches[0], a);
	if (rc == 0)
		rc = batch_alloc(&a->batches[1], a);
	if (rc == 0)
		rc = scratch_open(a);
	if (rc == 0)
		rc = registry_register(a);
	if (rc == 0)
		rc = worker_start(a);
	return rc;
}

static void tmpdir_remove(const char *dir)
{
	static const char *const files[] = { "data.mdb", "lock.mdb", "LOCK" };
	char path[PATH_MAX + 16];
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		(void)unlink(path);
	}
	(void)rmdir(dir);
}

static void worker_end(struct audit *a);

void audit_replay_close(struct audit *a)
{
	worker_end(a);
	if (a->st != NULL)
		store_close(a->st);
	a->st = NULL;
	if (a->tmpdir[0] != '\0')
		tmpdir_remove(a->tmpdir);
	a->tmpdir[0] = '\0';
	batch_release(&a->batches[0]);
	batch_release(&a->batches[1]);
}

static const char *outcome_text(int outcome)
{
	const char *name = ledger_outcome_name(outcome);
	return name != NULL ? name : "(unknown outcome)";
}

/* Name the first field where the exported entry differs from the replayed one. */
static void entry_difference(struct audit *a, uint64_t seq, const struct ledger_entry *want, const uint8_t *bytes,
			     size_t len)
{
	struct ledger_entry got;
	char e[AUDIT_TEXT_BYTES_MAX], f[AUDIT_TEXT_BYTES_MAX];
	if (entry_decode(bytes, len, &got, NULL) != 0) {
		audit_fail(a, seq, "entry", "entry does not decode", "a canonical ledger entry", "undecodable bytes");
		return;
	}
	if (got.outcome != want->outcome) {
		audit_fail(a, seq, "entry", "outcome", outcome_text((int)want->outcome), outcome_text((int)got.outcome));
	} else if (got.has_item != want->has_item || got.item != want->item) {
		snprintf(e, sizeof e, "item %d", want->has_item ? (int)want->item : -1);
		snprintf(f, sizeof f, "item %d", got.has_item ? (int)got.item : -1);
		audit_fail(a, seq, "entry", "offending item", e, f);
	} else if (got.seq != want->seq) {
		snprintf(e, sizeof e, "%" PRIu64, want->seq);
		snprintf(f, sizeof f, "%" PRIu64, got.seq);
		audit_fail(a, seq, "entry", "seq inside the entry", e, f);
	} else {
		audit_fail(a, seq, "entry", "entry bytes", "the bytes apply writes", "different bytes");
	}
}

/* Design note 2: rebuild the entry the replay wrote for slot i and compare. */
static int slot_compare(struct audit_batch *b, size_t i, struct sl_buf *buf)
{
	struct audit *a = b->audit;
	const struct audit_slot *slot = &b->slots[i];
	const struct ledger_result *r = &b->results[i];
	const struct ledger_input *input = &b->inputs[i];
	struct ledger_entry want = {
		.seq = r->seq,
		.ledger_time_ms = b->time_ms,
		.outcome = (uint32_t)r->outcome,
		.record = input->len <= RECORD_BYTES_MAX ? input->bytes : NULL,
		.record_len = input->len <= RECORD_BYTES_MAX ? input->len : 0,
		.has_item = r->item >= 0,
		.item = r->item >= 0 ? (uint32_t)r->item : 0,
	};
	sl_buf_reset(buf);
	int rc = entry_encode(&want, buf);
	if (rc != 0)
		return rc;
	const uint8_t *bytes = b->bytes + slot->at;
	if (buf->len != slot->len || memcmp(buf->data, bytes, slot->len) != 0)
		entry_difference(a, slot->seq, &want, bytes, slot->len);
	else if (r->outcome >= 0 && r->outcome < AUDIT_OUTCOMES_MAX)
		a->outcomes[r->outcome]++;
	if (r->outcome != OUTCOME_MALFORMED_RECORD && r->outcome != OUTCOME_UNKNOWN_KEY &&
	    r->outcome != OUTCOME_INVALID_IDENTIFIER)
		a->signatures_checked++;
	return 0;
}

/* Design note 7: commit the worker's open transaction (worker thread). A failure is the replay's:
 * listed, and the replay stops. */
static void worker_commit(struct audit *a)
{
	if (a->txn == NULL)
		return;
	int rc = store_txn_commit(a->txn);
	a->txn = NULL;
	a->txn_records = 0;
	if (rc != 0) {
		audit_fail(a, 0, "replay", "committing the replay failed", "a store that accepts the batches",
			   sl_strerror(rc));
		a->replay_broken = true;
	}
}

/* Apply a prepared batch in the open transaction (worker thread), then compare its entries.
 * Returns only resource errors: what the replay finds is listed. */
static int worker_apply(struct audit *a, struct audit_batch *b)
{
	int rc = a->txn == NULL ? store_txn_begin(a->st, true, &a->txn) : 0;
	if (rc == 0)
		rc = ledger_apply_prepared_txn(a->txn, b->prepared, b->time_ms, b->results);
	ledger_prepared_free(b->prepared);
	b->prepared = NULL;
	if (rc != 0) {
		if (a->txn != NULL)
			store_txn_abort(a->txn);
		a->txn = NULL;
		audit_fail(a, b->slots[0].seq, "replay", "applying the batch failed", "a store that accepts the batch",
			   sl_strerror(rc));
		a->replay_broken = true;
		return 0;
	}
	a->txn_records += b->count;
	if (a->txn_records + AUDIT_BATCH_RECORDS_MAX > AUDIT_TXN_RECORDS_MAX)
		worker_commit(a); /* the next batch would not fit */
	struct sl_buf buf;
	sl_buf_init(&buf, ENTRY_BYTES_MAX);
	for (size_t i = 0; rc == 0 && i < b->count; i++) {
		if (b->results[i].seq != b->slots[i].seq) {
			char e[32], f[32];
			snprintf(e, sizeof e, "%" PRIu64, b->slots[i].seq);
			snprintf(f, sizeof f, "%" PRIu64, b->results[i].seq);
			audit_fail(a, b->slots[i].seq, "replay", "replayed seq", e, f);
			a->replay_broken = true;
			break;
		}
		rc = slot_compare(b, i, &buf);
	}
	sl_buf_free(&buf);
	return rc == 0 ? store_map_trim(a->st, AUDIT_MAPPED_BYTES_MAX) : rc; /* design note 5 */
}

/* The worker thread (design note 6): batches in order, a commit when asked; the transaction stays
 * open in between (note 7). */
static void *worker_main(void *arg)
{
	struct audit *a = arg;
	pthread_mutex_lock(&a->worker_mutex);
	for (;;) {
		while (a->handed == NULL && !a->commit_wanted && !a->worker_stop)
			pthread_cond_wait(&a->worker_cond, &a->worker_mutex);
		struct audit_batch *b = a->handed;
		bool stop = b == NULL && !a->commit_wanted;
		pthread_mutex_unlock(&a->worker_mutex);
		int rc = 0;
		if (b != NULL)
			rc = worker_apply(a, b);
		else if (!stop)
			worker_commit(a);
		else if (a->txn != NULL)
			store_txn_abort(a->txn); /* the scratch store is being closed: nothing to keep */
		pthread_mutex_lock(&a->worker_mutex);
		a->worker_rc = a->worker_rc != 0 ? a->worker_rc : rc;
		if (b != NULL)
			a->handed = NULL;
		else
			a->commit_wanted = false;
		pthread_cond_broadcast(&a->worker_cond);
		if (stop)
			break;
	}
	pthread_mutex_unlock(&a->worker_mutex);
	return NULL;
}

static int worker_start(struct audit *a)
{
	if (pthread_mutex_init(&a->worker_mutex, NULL) != 0)
		return SL_ENOMEM;
	if (pthread_cond_init(&a->worker_cond, NULL) != 0) {
		pthread_mutex_destroy(&a->worker_mutex);
		return SL_ENOMEM;
	}
	int err = pthread_create(&a->worker, NULL, worker_main, a);
	if (err != 0) {
		pthread_cond_destroy(&a->worker_cond);
		pthread_mutex_destroy(&a->worker_mutex);
		fprintf(stderr, "siteledger: audit: cannot start the replay thread: %s\n", strerror(err));
		return SL_ENOMEM;
	}
	a->worker_started = true;
	return 0;
}

/* Wait until the worker holds no batch and no commit is pending; the batch it held is then free
 * again. Returns the worker's first error. */
static int worker_wait(struct audit *a)
{
	if (!a->worker_started)
		return 0;
	pthread_mutex_lock(&a->worker_mutex);
	while (a->handed != NULL || a->commit_wanted)
		pthread_cond_wait(&a->worker_cond, &a->worker_mutex);
	int rc = a->worker_rc;
	pthread_mutex_unlock(&a->worker_mutex);
	struct audit_batch *done = &a->batches[a->filling ^ 1u];
	done->count = 0;
	done->len = 0;
	return rc;
}

static void worker_post(struct audit *a, struct audit_batch *b, bool commit)
{
	pthread_mutex_lock(&a->worker_mutex);
	if (b != NULL)
		a->handed = b;
	a->commit_wanted = a->commit_wanted || commit;
	pthread_cond_broadcast(&a->worker_cond);
	pthread_mutex_unlock(&a->worker_mutex);
}

static void worker_end(struct audit *a)
{
	if (!a->worker_started)
		return;
	(void)worker_wait(a);
	pthread_mutex_lock(&a->worker_mutex);
	a->worker_stop = true;
	pthread_cond_broadcast(&a->worker_cond);
	pthread_mutex_unlock(&a->worker_mutex);
	pthread_join(a->worker, NULL);
	pthread_cond_destroy(&a->worker_cond);
	pthread_mutex_destroy(&a->worker_mutex);
	a->worker_started = false;
}

/* Verify the filled batch on all cores (while the worker applies the previous one), then hand it
 * to the worker and start filling the other batch. */
static int batch_flush(struct audit *a)
{
	struct audit_batch *b = &a->batches[a->filling];
	if (b->count == 0)
		return 0;
	for (size_t i = 0; i < b->count; i++)
		b->inputs[i] = (struct ledger_input){ b->bytes + b->slots[i].record_at, b->slots[i].record_len };
	int rc = a->replay_broken ? 0 : ledger_prepare(a->st, b->inputs, b->count, a->threads, &b->prepared);
	if (rc != 0) {
		audit_fail(a, b->slots[0].seq, "replay", "verifying the batch failed", "a batch that can be verified",
			   sl_strerror(rc));
		a->replay_broken = true;
	}
	int waited = worker_wait(a);
	if (waited != 0 || a->replay_broken) {
		ledger_prepared_free(b->prepared);
		b->prepared = NULL;
		b->count = 0;
		b->len = 0;
		return waited;
	}
	worker_post(a, b, false);
	a->filling ^= 1u;
	return 0;
}

int audit_replay_drain(struct audit *a)
{
	int rc = batch_flush(a);
	int waited = worker_wait(a);
	if (a->worker_started)
		worker_post(a, NULL, true); /* readers of the scratch store see committed data only */
	int committed = worker_wait(a);
	return rc != 0 ? rc : waited != 0 ? waited : committed;
}

int audit_replay_entry(struct audit *a, uint64_t seq, const uint8_t *bytes, size_t len)
{
	if (a->replay_broken)
		return 0;
	struct ledger_entry entry;
	struct sl_error_detail detail = { { 0 } };
	int rc = entry_decode(bytes, len, &entry, &detail);
	if (rc == 0 && entry.seq != seq) {
		char e[32], f[32];
		snprintf(e, sizeof e, "%" PRIu64, seq);
		snprintf(f, sizeof f, "%" PRIu64, entry.seq);
		rc = audit_replay_drain(a); /* earlier entries' failures first */
		audit_fail(a, seq, "entry", "seq inside the entry", e, f);
		a->replay_broken = true; /* design note 4 */
		return rc;
	} else if (rc != 0) {
		rc = audit_replay_drain(a);
		audit_fail(a, seq, "entry", "entry does not decode", "a canonical ledger entry", detail.text);
		a->replay_broken = true;
		return rc;
	}
	struct audit_batch *b = &a->batches[a->filling];
	if (b->count > 0 && (entry.ledger_time_ms != b->time_ms || b->count == AUDIT_BATCH_RECORDS_MAX ||
			     b->len + len > AUDIT_BATCH_BYTES_MAX))
		rc = batch_flush(a);
	if (rc != 0 || a->replay_broken)
		return rc;
	b = &a->batches[a->filling];
	struct audit_slot *slot = &b->slots[b->count++];
	b->time_ms = entry.ledger_time_ms;
	slot->seq = seq;
	slot->at = b->len;
	slot->len = len;
	slot->record_at = b->len + (size_t)(entry.record - bytes);
	slot->record_len = entry.record_len;
	memcpy(b->bytes + b->len, bytes, len);
	b->len += len;
	return 0;
}

/* "LOT-KEY SITE C0,...,C15" against the replayed counters. */
int audit_replay_lot(struct audit *a, const char *text)
{
	char lot[GS1_LOT_KEY_SIZE], site[RECORD_SITE_SIZE];
	struct store_lot_counters found, want;
	memset(&found, 0, sizeof found);
	const char *sp1 = strchr(text, ' ');
	const char *sp2 = sp1 != NULL ? strchr(sp1 + 1, ' ') : NULL;
	if (sp2 == NULL || (size_t)(sp1 - text) >= sizeof lot || (size_t)(sp2 - sp1 - 1) >= sizeof site)
		return SL_ESYNTAX;
	memcpy(lot, text, (size_t)(sp1 - text));
	lot[sp1 - text] = '\0';
	memcpy(site, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	site[sp2 - sp1 - 1] = '\0';
	const char *p = sp2 + 1;
	for (unsigned i = 0; i < STORE_LOT_COUNTERS; i++) {
		char *end = NULL;
		if (*p < '0' || *p > '9')
			return SL_ESYNTAX;
		found.counts[i] = strtoull(p, &end, 10);
		if (*end != (i + 1 < STORE_LOT_COUNTERS ? ',' : '\0'))
			return SL_ESYNTAX;
		p = end + 1;
	}
	a->lot_lines++;
	int rc = audit_replay_drain(a);
	if (rc != 0 || a->replay_broken)
		return rc;
	store_txn *txn = NULL;
	rc = store_txn_begin(a->st, false, &txn);
	if (rc != 0)
		return rc;
	rc = store_lot_get(txn, lot, site, &want);
	store_txn_abort(txn);
	if (rc != 0 && rc != SL_ENOENT)
		return rc;
	for (unsigned i = 0; i < STORE_LOT_COUNTERS; i++) {
		if (want.counts[i] == found.counts[i])
			continue;
		char where[48], what[64], e[32], f[32];
		snprintf(where, sizeof where, "lot %.30s", lot);
		snprintf(what, sizeof what, "counter %s at %s", lifecycle_counter_name(i) ? lifecycle_counter_name(i) : "?",
			 site);
		snprintf(e, sizeof e, "%" PRIu64, want.counts[i]);
		snprintf(f, sizeof f, "%" PRIu64, found.counts[i]);
		audit_fail(a, 0, where, what, e, f);
		break;
	}
	return 0;
}

struct reconcile {
	struct audit *a;
	char lot[GS1_LOT_KEY_SIZE];
	uint64_t where_total, commissioned, rows;
};

static void reconcile_close(struct reconcile *r)
{
	if (r->lot[0] == '\0' || r->where_total == r->commissioned)
		return;
	char where[48], e[64], f[64];
	snprintf(where, sizeof where, "lot %.30s", r->lot);
	snprintf(e, sizeof e, "%" PRIu64 " (commissioned)", r->commissioned);
	snprintf(f, sizeof f, "%" PRIu64 " (active+in transit+decommissioned)", r->where_total);
	audit_fail(r->a, 0, where, "reconciliation", e, f);
}

static int reconcile_row(void *ctx, const char *lot_key, const char *site, const struct store_lot_counters *c)
{
	(void)site;
	struct reconcile *r = ctx;
	if (strcmp(lot_key, r->lot) != 0) {
		reconcile_close(r);
		snprintf(r->lot, sizeof r->lot, "%s", lot_key);
		r->where_total = r->commissioned = 0;
	}
	for (unsigned slot = LOT_COUNTER_ACTIVE; slot < LOT_COUNTER_COMMISSIONED; slot++)
		r->where_total += c->counts[slot];
	r->commissioned += c->counts[LOT_COUNTER_COMMISSIONED];
	r->rows++;
	return 0;
}

/* After the last entry: flush, then the lot rows count and the reconciliation identity. */
int audit_replay_finish(struct audit *a)
{
	int rc = audit_replay_drain(a);
	if (rc != 0 || a->replay_broken)
		return rc;
	store_txn *txn = NULL;
	struct reconcile r = { .a = a };
	rc = store_txn_begin(a->st, false, &txn);
	if (rc != 0)
		return rc;
	rc = store_lot_iterate_all(txn, reconcile_row, &r);
	store_txn_abort(txn);
	if (rc != 0)
		return rc;
	reconcile_close(&r);
	if (r.rows != a->lot_lines) {
		char e[48], f[48];
		snprintf(e, sizeof e, "%" PRIu64 " rows (replay)", r.rows);
		snprintf(f, sizeof f, "%" PRIu64 " rows (export)", a->lot_lines);
		audit_fail(a, 0, "lots", "lot counter rows", e, f);
	}
	return 0;
}

void audit_correction_note(struct audit *a, const uint8_t *entry_bytes, size_t len)
{
	struct ledger_entry entry;
	struct record r;
	if (entry_decode(entry_bytes, len, &entry, NULL) != 0 || entry.outcome != OUTCOME_ACCEPTED)
		return;
	if (record_decode(entry.record, entry.record_len, &r, NULL) != 0)
		return;
	if (r.has_supersedes) {
		if (a->correction_count == AUDIT_CORRECTIONS_MAX) {
			a->corrections_truncated = true;
		} else if (a->corrections != NULL) {
			memcpy(a->corrections[a->correction_count].superseded, r.supersedes, RECORD_ID_BYTES);
			a->corrections[a->correction_count].by_seq = entry.seq;
			a->correction_count++;
		}
	}
	record_clear(&r);
}

/* Per-lot reconciliation (issue 5): the lots table of the final scratch store names the lots, and
 * reconcile_lots (ledger/reconcile.h) reconciles all of them in one run over the replayed ledger:
 * per lot exactly what reconcile_lot, the function `siteledger reconcile` runs on a site's ledger,
 * gives (reconcile.h rule 3), so an auditor gets the site's numbers from the export alone (issue
 * 6). One scan of the ledger serves every lot, counts_only keeps no per-pack array, and the run
 * hands the map's pages back as it goes: time and memory do not grow with the number of lots and
 * memory not with their size. */
struct lot_collect {
	struct audit *a;
	char last[GS1_LOT_KEY_SIZE]; /* rows come in lot-key order, one per (lot, site) */
};

/* "(01)" GTIN-14 "(10)" LOT: the form gs1_lot_key writes. */
static bool lot_key_split(const char *key, char gtin[GS1_GTIN_DIGITS + 1], char lot[GS1_LOT_CHARS_MAX + 1])
{
	size_t len = strlen(key);
	const size_t head = 4 + GS1_GTIN_DIGITS + 4;
	if (len <= head || len - head > GS1_LOT_CHARS_MAX || strncmp(key, "(01)", 4) != 0 ||
	    strncmp(key + 4 + GS1_GTIN_DIGITS, "(10)", 4) != 0)
		return false;
	memcpy(gtin, key + 4, GS1_GTIN_DIGITS);
	gtin[GS1_GTIN_DIGITS] = '\0';
	memcpy(lot, key + head, len - head + 1);
	char again[GS1_LOT_KEY_SIZE];
	return gs1_lot_key(gtin, lot, again) == 0 && strcmp(again, key) == 0;
}

static int lot_collect_row(void *ctx, const char *lot_key, const char *site, const struct store_lot_counters *c)
{
	(void)site;
	(void)c;
	struct lot_collect *l = ctx;
	struct audit *a = l->a;
	if (strcmp(lot_key, l->last) == 0)
		return 0;
	snprintf(l->last, sizeof l->last, "%s", lot_key);
	a->lots_total++;
	if (a->lot_count == AUDIT_LOTS_MAX)
		return 0; /* counted, not listed */
	struct audit_lot *lot = &a->lots[a->lot_count];
	if (!lot_key_split(lot_key, lot->gtin, lot->lot)) {
		char where[48];
		snprintf(where, sizeof where, "lot %.30s", lot_key);
		audit_fail(a, 0, where, "lot key", "(01)GTIN(10)LOT", lot_key);
		return 0;
	}
	a->lot_count++;
	return 0;
}

/* Keep what the summary prints; the identities behind unexplained up to the shared budget. */
static int lot_summarise(struct audit *a, struct audit_lot *lot, const struct reconcile_report *r)
{
	lot->entries = r->entries;
	lot->now_ms = r->now_ms;
	memcpy(lot->counts, r->counts, sizeof lot->counts);
	lot->exceptions = r->exception_count;
	for (size_t i = 0; i < r->exception_count; i++)
		lot->open_exceptions += !r->exceptions[i].resolved;
	lot->counters_agree = r->counters_agree;
	size_t room = AUDIT_UNEXPLAINED_MAX - a->unexplained_listed;
	size_t n = r->unexplained_count < room ? r->unexplained_count : room;
	if (n == 0)
		return 0;
	lot->unexplained = calloc(n, sizeof *lot->unexplained);
	if (lot->unexplained == NULL)
		return SL_ENOMEM;
	memcpy(lot->unexplained, r->unexplained, n * sizeof *lot->unexplained);
	lot->unexplained_listed = n;
	a->unexplained_listed += n;
	return 0;
}

/* Every listed lot in one reconcile_lots run, with the options `siteledger reconcile` uses by
 * default (all sites, lines and time, RECONCILE_OVERDUE_DAYS_DEFAULT). */
static int lots_reconcile(struct audit *a, store_txn *txn)
{
	struct reconcile_options options = { .overdue_days = RECONCILE_OVERDUE_DAYS_DEFAULT, .counts_only = true };
	char (*keys)[GS1_LOT_KEY_SIZE] = calloc(a->lot_count ? a->lot_count : 1, sizeof *keys);
	const char **names = calloc(a->lot_count ? a->lot_count : 1, sizeof *names);
	struct reconcile_report *reports = calloc(a->lot_count ? a->lot_count : 1, sizeof *reports);
	int rc = keys && names && reports ? 0 : SL_ENOMEM;
	for (size_t i = 0; rc == 0 && i < a->lot_count; i++) {
		rc = gs1_lot_key(a->lots[i].gtin, a->lots[i].lot, keys[i]);
		names[i] = keys[i];
	}
	if (rc == 0)
		rc = reconcile_lots(txn, names, a->lot_count, &options, reports);
	for (size_t i = 0; rc == SL_ELIMIT && i < a->lot_count; i++)
		reports[i].error = SL_ELIMIT; /* a limit of the shared run: no lot is reconciled, and it says so */
	rc = rc == SL_ELIMIT ? 0 : rc;
	for (size_t i = 0; rc == 0 && i < a->lot_count; i++) {
		a->lots[i].error = reports[i].error; /* SL_ELIMIT: beyond its limits, said in the output */
		if (reports[i].error == 0)
			rc = lot_summarise(a, &a->lots[i], &reports[i]);
	}
	for (size_t i = 0; reports != NULL && i < a->lot_count; i++)
		reconcile_report_free(&reports[i]);
	free(reports);
	free(names);
	free(keys);
	return rc;
}

int audit_replay_reconcile(struct audit *a)
{
	if (a->st == NULL || a->replay_broken || a->handed != NULL)
		return 0; /* no complete replay: the output says the reconciliation was not computed */
	a->lots = calloc(AUDIT_LOTS_MAX, sizeof *a->lots);
	if (a->lots == NULL)
		return SL_ENOMEM;
	struct lot_collect collect = { .a = a };
	store_txn *txn = NULL;
	int rc = store_txn_begin(a->st, false, &txn);
	if (rc != 0)
		return rc;
	rc = store_lot_iterate_all(txn, lot_collect_row, &collect);
	if (rc == 0)
		rc = lots_reconcile(a, txn);
	store_txn_abort(txn);
	a->reconciled = rc == 0;
	return rc == 0 ? store_map_release(a->st) : rc;
}

void audit_lots_free(struct audit *a)
{
	for (size_t i = 0; a->lots != NULL && i < a->lot_count; i++)
		free(a->lots[i].unexplained);
	free(a->lots);
	a->lots = NULL;
	a->lot_count = 0;
}
