/* ledger/checkpoint.h — checkpoint records (RECORD_CHECKPOINT): a site's C2SP checkpoint of the
 * ledger's Merkle tree head with the site's signed-note signature, kept in the ledger itself so that
 * every site holds every site's signatures (DESIGN.md "The path of one record", step 7).
 *
 * A checkpoint record carries origin, size, root and one signature line's bytes (record.h "Body key
 * numbers"); the note it stands for is
 *     checkpoint_format(origin, size, root)  "\n"  "— " site " " base64(key id || signature) "\n"
 * so a verifier with only the site's public key and crypto/note.h checks it like any C2SP note.
 *
 * Rules:
 *  1. The note signature is made with the record's own signing key under note name = the record's
 *     site id: a 0x01 Ed25519 note signature (what ledger_checkpoint_fill makes) or a 0x04
 *     tlog-cosignature; both verify.
 *  2. Apply (ledger/rules_checkpoint.c) accepts a checkpoint record whose note signature verifies
 *     under the site's registered key, whose size is at most the ledger size before the record,
 *     and whose root is the Merkle root of the first `size` entries; otherwise, checked in this
 *     order, CHECKPOINT_BAD_NOTE_SIGNATURE, CHECKPOINT_BEYOND_LEDGER, CHECKPOINT_ROOT_MISMATCH.
 *     The origin is not checked by apply (docs/decisions.md "Checkpoints are records"): the
 *     audit matches it to the bundle's origin.
 *  3. Functions of the record only (ledger_checkpoint_origin reads one meta value).
 *
 * Origin: a data directory's checkpoints name the log by meta LEDGER_META_ORIGIN, which `siteledger
 * cluster init` writes into every node's data directory (one origin per cluster); without it the
 * origin is CHECKPOINT_ORIGIN_PREFIX + the site (a single site's own ledger, as `init` makes).
 */
#ifndef SL_LEDGER_CHECKPOINT_H
#define SL_LEDGER_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/note.h"
#include "ledger/record.h"
#include "store/store.h"

#define LEDGER_META_ORIGIN "origin"	    /* meta key: the log's checkpoint origin */
#define CHECKPOINT_ORIGIN_PREFIX "siteledger/" /* default origins: this prefix + the site id */

/* The origin of the data directory in txn (meta LEDGER_META_ORIGIN, else the prefix + site) into
 * out. SL_ECORRUPT for a stored origin that is not a valid note name. */
int ledger_checkpoint_origin(store_txn *txn, const char *site, char out[NOTE_NAME_BYTES_MAX + 1]);

/* Fill the body of `record` as a checkpoint of (origin, size, root) signed for note name `site` with
 * sk (type set; the envelope, record_sign and encoding stay the caller's). record->origin points at
 * `origin`, which must outlive the record. SL_EINVAL for a bad origin, site or size 0. */
int ledger_checkpoint_fill(struct record *record, const char *origin, uint64_t size,
			   const uint8_t root[MERKLE_HASH_BYTES], const char *site, const struct crypto_secret_key *sk);

/* The checkpoint body text of a checkpoint record into out (NUL-terminated, cap >= 2 * 64 + 80);
 * *len = bytes without the NUL. SL_EINVAL when the record is not a valid checkpoint. */
int ledger_checkpoint_body(const struct record *record, char *out, size_t cap, size_t *len);
/* Its signature line as crypto/note.h sees it (name = the record's site). */
int ledger_checkpoint_signature(const struct record *record, struct note_signature *sig);
/* The whole signed note (body, empty line, the record's signature line) into out (NOTE_BYTES_MAX + 1). */
int ledger_checkpoint_note(const struct record *record, char *out, size_t cap, size_t *len);
/* 0 when the record's note signature verifies under pk (*type = NOTE_TYPE_ED25519 or
 * NOTE_TYPE_COSIGNATURE when not NULL); SL_EBADSIG otherwise. */
int ledger_checkpoint_verify(const struct record *record, const struct crypto_public_key *pk, uint8_t *type);

/* The newest cosigned checkpoint kept in the ledger of txn (ledger/checkpoint_find.c): the latest
 * accepted checkpoint record of `origin` among the last scan_max entries whose size is at least
 * min_size, as one note (into note, cap >= NOTE_BYTES_MAX + 1) carrying a signature line of every
 * site whose accepted record signed that same size and root; *size = its size. SL_ENOENT when none. */
#define LEDGER_CHECKPOINT_SCAN_MAX 100000 /* entries read back: minutes of a busy cluster's traffic */
int ledger_checkpoint_newest(store_txn *txn, const char *origin, uint64_t min_size, uint64_t scan_max, char *note,
			     size_t cap, size_t *len, uint64_t *size);

#endif
