/* cli/audit_internal.h — state of one `siteledger audit` run, shared by cmd_audit.c (reading the
 * bundle, checkpoints, output), audit_replay.c (replaying entries into a temporary store and
 * comparing) and audit_report.c (the HTML/JSON report). Private to those files.
 *
 * Memory is bounded by the constants below, whatever the bundle's size ("memory stays flat"):
 * one line, one replay batch, the checkpoints' (size, root) pairs, the corrections list, the
 * first failures. The replayed ledger lives in a temporary LMDB directory on disk.
 */
#ifndef SL_CLI_AUDIT_INTERNAL_H
#define SL_CLI_AUDIT_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

#include "cli/audit.h"
#include "ledger/apply.h"
#include "ledger/reason.h"
#include "ledger/reconcile.h"

#define AUDIT_FAILURES_MAX 20		     /* failures listed in full; later ones are only counted */
#define AUDIT_BATCH_BYTES_MAX (16u << 20)    /* entry bytes held for one replay batch */
#define AUDIT_CORRECTIONS_MAX 100000	     /* (superseded id, correcting seq) pairs kept for the report */
#define AUDIT_OUTCOMES_MAX 64		     /* outcome codes counted (reason.h values are below) */
_Static_assert(LEDGER_OUTCOME_COUNT <= AUDIT_OUTCOMES_MAX, "every outcome is counted");
#define AUDIT_TEXT_BYTES_MAX 200	     /* expected / found text of one failure */
#define AUDIT_LOTS_MAX 4096		     /* lots whose reconciliation is listed; later ones only counted */
#define AUDIT_UNEXPLAINED_MAX 10000	     /* unexplained identities listed over all lots (the counts stay exact) */

/* File pages the process may hold mapped before the scratch store's are handed back, looked at
 * after every replay batch (audit_replay.c design note 5). A batch maps ~50 MiB at 1M records
 * (~10 random B-tree pages per record, each with the kernel's 64 KiB fault-around), so the peak
 * stays near this plus one batch plus the heap (~40 MiB) plus the write transaction's page copies
 * (AUDIT_TXN_RECORDS_MAX): ~200 MiB at 1M records, under the 256 MiB the issue sets. A larger
 * budget saves little: 128 MiB cost the same CPU with the copies ~30 MiB higher. */
#define AUDIT_MAPPED_BYTES_MAX (96ULL << 20)
/* Records per replay batch: enough for crypto_verify_batch to use every core, small enough that one
 * write transaction's dirty pages (a few per record, held in memory until commit) stay ~10 MiB. */
#define AUDIT_BATCH_RECORDS_MAX 1024
_Static_assert(AUDIT_BATCH_RECORDS_MAX <= APPLY_BATCH_RECORDS_MAX, "a replay batch is one apply batch");
/* Records applied in one write transaction of the scratch store (several batches; design note 7).
 * Each random insert (record ids above all) copies a B-tree page the first time a transaction
 * touches it and commit writes every copy out, so a longer transaction copies and writes fewer
 * pages per record; the copies live in memory until commit (~1 page per record at 1M records, ~40
 * MiB here) and LMDB keeps them for reuse, so this bounds that memory too. Measured at 1M records
 * (audit CPU, peak RSS): 1024 per transaction 52.4 s, 172 MiB; 4096 50.6 s, 219 MiB; 8192 49.7 s,
 * 231 MiB (202 MiB with the 96 MiB map budget); 16384 48.5 s, 258 MiB. */
#define AUDIT_TXN_RECORDS_MAX 8192
_Static_assert(AUDIT_TXN_RECORDS_MAX >= AUDIT_BATCH_RECORDS_MAX, "a transaction holds whole batches");

struct audit_failure {
	uint64_t entry; /* 0: not about one entry */
	char where[48];
	char what[64];
	char expected[AUDIT_TEXT_BYTES_MAX];
	char found[AUDIT_TEXT_BYTES_MAX];
};

struct audit_checkpoint {
	uint64_t size;
	uint8_t root[MERKLE_HASH_BYTES];
	size_t signers;
	size_t cosigners;
	char signer_names[96];
	bool matched;
	char *note; /* the note's text: its signature lines are checked at the end (D27) */
	size_t note_len;
};

struct audit_slot {
	uint64_t seq;
	size_t at; /* entry bytes in the batch's bytes */
	size_t len;
	size_t record_at; /* record bytes inside them */
	size_t record_len;
};

struct audit_batch {
	uint8_t *bytes; /* AUDIT_BATCH_BYTES_MAX: the entries, back to back */
	size_t len;
	struct audit_slot *slots; /* AUDIT_BATCH_RECORDS_MAX */
	size_t count;
	uint64_t time_ms; /* the ledger time shared by the batch */
	struct ledger_input *inputs;
	struct ledger_result *results;
	ledger_prepared *prepared;
	struct audit *audit;
};

/* One lot's reconciliation, recomputed by reconcile_lot over the final scratch store (the same
 * numbers `siteledger reconcile --lot` prints on the source ledger: docs/reconciliation.md). */
struct audit_lot {
	char gtin[GS1_GTIN_DIGITS + 1];
	char lot[GS1_LOT_CHARS_MAX + 1];
	int error; /* 0, or the SL_E* code reconcile_lot gave (SL_ELIMIT: the lot is beyond its limits) */
	uint64_t entries;
	uint64_t now_ms;
	uint64_t counts[RECONCILE_COUNT_MAX];
	size_t exceptions;
	size_t open_exceptions;
	bool counters_agree;
	char (*unexplained)[STORE_ITEM_ID_SIZE]; /* the first listed identities (heap), sorted */
	size_t unexplained_listed;
};

struct audit_correction {
	uint8_t superseded[RECORD_ID_BYTES];
	uint64_t by_seq;
};

/* Checkpoint records of a full bundle (cli/audit_checkpoints.c): what the summary says of them. */
struct audit_ledger_checkpoints {
	uint64_t accepted;     /* verified: note signature and root against the replayed tree */
	uint64_t refused;      /* refused by the ledger itself (the replay re-derived why) */
	uint64_t other_origin; /* accepted, but naming another log */
	uint64_t newest_size;
	char newest_signers[BUNDLE_SITES_MAX * RECORD_SITE_SIZE]; /* "a,b,c": the sites that signed it */
	char sites[BUNDLE_SITES_MAX][RECORD_SITE_SIZE];
	uint64_t per_site[BUNDLE_SITES_MAX];
	size_t site_count;
};

struct audit {
	struct bundle_reader reader;
	struct trusted_keys trusted;
	struct bundle_registry registry;
	/* keys in force (cli/bundle.h rule 4): partial bundles build them entry by entry from the
	 * registry records they carry; full bundles read them from the replayed store at the end;
	 * every checkpoint's signature lines are checked against them then */
	struct bundle_keys keys;
	enum bundle_kind kind;
	char origin[NOTE_NAME_BYTES_MAX + 1];
	unsigned threads;

	struct audit_ledger_checkpoints ledger_checkpoints; /* checkpoint records among the entries */
	struct audit_checkpoint *checkpoints; /* BUNDLE_CHECKPOINTS_MAX */
	size_t checkpoint_count;
	size_t checkpoint_next; /* full: next checkpoint to compare against the frontier */
	struct merkle_frontier frontier;

	/* replay (full bundles): two batches, one filled and verified by the main thread while the
	 * worker thread applies and compares the other (audit_replay.c design note 6), in a write
	 * transaction it keeps open over several batches (design note 7) */
	char tmpdir[PATH_MAX];
	store *st;
	atomic_bool replay_broken;
	struct audit_batch batches[2];
	unsigned filling; /* index of the batch being filled */
	pthread_t worker;
	bool worker_started;
	pthread_mutex_t worker_mutex;
	pthread_cond_t worker_cond;	/* broadcast whenever one of the three fields below changes */
	struct audit_batch *handed;	/* the batch the worker is to apply or applies; NULL: none */
	bool commit_wanted;		/* commit the open transaction; the worker clears it when done */
	bool worker_stop;		/* abort the open transaction and end */
	int worker_rc;			/* the worker's first error (not a failure of the audit) */
	store_txn *txn;			/* the worker's open write transaction, NULL when none */
	size_t txn_records;		/* records applied in it */
	pthread_mutex_t fail_mutex; /* audit_fail is called by both threads */

	uint64_t entries;
	uint64_t last_seq;
	uint64_t lot_lines;
	uint64_t outcomes[AUDIT_OUTCOMES_MAX];
	uint64_t signatures_checked; /* records whose signature the replay or the partial check verified */

	/* reconciliation of every lot of the scratch store, after a full replay (audit_replay.c) */
	bool reconciled; /* computed: a full bundle replayed to its end */
	struct audit_lot *lots; /* AUDIT_LOTS_MAX, allocated when computed */
	size_t lot_count;
	uint64_t lots_total;
	size_t unexplained_listed; /* over all lots, at most AUDIT_UNEXPLAINED_MAX */

	bool want_report; /* corrections are collected only for a report */
	struct audit_correction *corrections;
	size_t correction_count;
	bool corrections_truncated;

	struct audit_failure failures[AUDIT_FAILURES_MAX];
	size_t failure_count;
	uint64_t failures_total;
	struct progress progress;
};

/* Record a failure (kept when fewer than AUDIT_FAILURES_MAX are listed). */
void audit_fail(struct audit *a, uint64_t entry, const char *where, const char *what, const char *expected,
		const char *found);

/* audit_replay.c */
int audit_replay_open(struct audit *a);
void audit_replay_close(struct audit *a);
/* A full bundle's entry (already checked for seq order): queue it; flushes batches as needed. */
int audit_replay_entry(struct audit *a, uint64_t seq, const uint8_t *bytes, size_t len);
/* Replay everything queued and wait for it: failures of earlier entries are then listed. */
int audit_replay_drain(struct audit *a);
int audit_replay_lot(struct audit *a, const char *text);
int audit_replay_finish(struct audit *a);
/* Note a correction made by an accepted entry (for the report). */
void audit_correction_note(struct audit *a, const uint8_t *entry_bytes, size_t len);

/* After audit_replay_finish: reconcile every lot of the final scratch store into a->lots. */
int audit_replay_reconcile(struct audit *a);
void audit_lots_free(struct audit *a);

/* audit_checkpoints.c: a full bundle's entry, after it was queued for replay: when it holds a
 * checkpoint record, check it (drains the replay first); then what was found, as a summary line or
 * a JSON object. */
int audit_ledger_checkpoint(struct audit *a, uint64_t seq, const uint8_t *bytes, size_t len);
void audit_ledger_checkpoints_print(FILE *out, const struct audit *a, bool json);

/* audit_report.c: second pass over the bundle. */
int audit_report_write(struct audit *a, const char *bundle_path, const char *html_path, const char *json_path);
/* The per-lot reconciliation as a JSON object ({"computed":false,...} for partial bundles or a
 * replay that stopped), and as text lines. */
void audit_reconciliation_json(FILE *out, const struct audit *a);
void audit_reconciliation_text(FILE *out, const struct audit *a);

#endif
