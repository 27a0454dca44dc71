/* ledger/apply.h — apply a batch of records to the ledger: verify, run the lifecycle rules,
 * append entries with outcomes, update indexes. Deterministic: the result depends only on the
 * record bytes, the batch's ledger time and the store's current state.
 *
 * Rules:
 *  1. Signatures of the whole batch are verified on all cores (crypto_verify_batch) BEFORE the
 *     write transaction is opened; the write transaction then runs single-threaded.
 *  2. One write transaction per batch: every record of the batch is appended (accepted or
 *     rejected with a reason code) and committed together, or nothing is (store error returned,
 *     results undefined, store poisoned if the commit itself failed).
 *  3. Each record is accepted whole or rejected whole: a rejection changes no item state.
 *  4. Records within a batch see the effects of earlier records of the same batch.
 */
#ifndef SL_LEDGER_APPLY_H
#define SL_LEDGER_APPLY_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/verify_cache.h"
#include "ledger/record.h"
#include "store/store.h"

#define APPLY_BATCH_RECORDS_MAX 4096 /* bounds the verify job array and one transaction's size */
#define APPLY_REVERT_WINDOW_MS (10ULL * 24 * 3600 * 1000) /* EU FMD: undo within 10 days */

struct ledger_input {
	const uint8_t *bytes; /* record bytes as received; must stay valid during the call */
	size_t len;
};

struct ledger_result {
	uint64_t seq;			 /* ledger sequence of the entry */
	int outcome;			 /* enum ledger_outcome */
	uint8_t record_id[RECORD_ID_BYTES]; /* zero when the record did not decode */
	int32_t item;			 /* index of the offending item, -1 when none */
};

/* threads = 0: one verify thread per online core. */
int ledger_apply_batch(store *st, const struct ledger_input *inputs, size_t count, uint64_t ledger_time_ms,
		       struct ledger_result *results, unsigned threads);

/* The same inside the caller's write transaction, for a node that persists Raft state and the
 * application of committed entries in one transaction (DESIGN.md "The path of one record", step 4).
 * Keys are read and all signatures verified through `txn` before this call's first write (so the
 * writer is held during verification: verify early elsewhere if that matters). Nothing is
 * committed here; on an error the caller must abort `txn` (rules 2 and 3 then hold for the
 * caller's commit). */
int ledger_apply_batch_txn(store_txn *txn, const struct ledger_input *inputs, size_t count,
			   uint64_t ledger_time_ms, struct ledger_result *results, unsigned threads);
/* The same; a signature `known` holds as verified (crypto/verify_cache.h; may be NULL) is taken
 * from it instead of verified again. Outcomes are those of ledger_apply_batch_txn: a verification
 * is a pure function of key, message and signature, and keys are still looked up here. */
int ledger_apply_batch_txn_known(store_txn *txn, const struct ledger_input *inputs, size_t count,
				 uint64_t ledger_time_ms, struct ledger_result *results, unsigned threads,
				 crypto_verify_cache *known);

/* The same pipeline in two halves, so verification of one batch can overlap the write transaction
 * of the previous one (the node verifies on its thread pool while its storage thread writes):
 *   ledger_prepare:  decode, look up keys in a read transaction, verify every signature on
 *                    `threads` cores; holds no writer. `inputs` must stay valid until the
 *                    prepared batch is freed.
 *   ledger_apply_prepared(_txn): run the rules and append the entries (one write transaction and
 *                    commit, or inside the caller's). Keys are re-read in the write transaction;
 *                    a record whose key changed since prepare is verified again there, so the
 *                    outcome depends only on the state the write transaction sees (rule 4 of
 *                    determinism). A prepared batch is applied at most once.
 * ledger_apply_batch is exactly prepare + apply + free. */
typedef struct ledger_prepared ledger_prepared;
int ledger_prepare(store *st, const struct ledger_input *inputs, size_t count, unsigned threads,
		   ledger_prepared **out);
int ledger_apply_prepared(store *st, ledger_prepared *prepared, uint64_t ledger_time_ms,
			  struct ledger_result *results);
int ledger_apply_prepared_txn(store_txn *txn, ledger_prepared *prepared, uint64_t ledger_time_ms,
			      struct ledger_result *results);
void ledger_prepared_free(ledger_prepared *prepared);
/* What prepare learnt of input i (< count), for a caller that refuses bad input before proposing
 * it (the node). Not authoritative: the write half decides every outcome. *record_out is the
 * decoded record (valid until the prepared batch is freed), or NULL when input i does not decode;
 * the return is then the decode error. Otherwise: 0 when the signature verified with the key
 * the registry held at prepare, SL_EBADSIG when it did not, SL_ENOENT when that key was unknown
 * or revoked (nothing verified). A key id names one public key, so SL_EBADSIG stays true. */
int ledger_prepared_check(const ledger_prepared *prepared, size_t i, const struct record **record_out);
/* Add every signature prepare verified successfully to `known`, for ledger_apply_batch_txn_known. */
void ledger_prepared_remember(const ledger_prepared *prepared, crypto_verify_cache *known);

#endif
