/* query/bundle.h — the auditor's bundle format as written (exports and proof bundles), and the
 * checkpoints a data directory stores. Readers and checks live in cli/bundle.h;
 * docs/auditor-guide.md "Bundle format" is the user's view.
 *
 * A bundle is text, one item per line, streamed in this order:
 *   siteledger-bundle 1 KIND            KIND = full | partial | proof
 *   origin ORIGIN                       checkpoint origin ("siteledger/<site or cluster>")
 *   site SITE PUBKEY-HEX                the registry (sites and keys as at init), one per site
 *   checkpoint BASE64(NOTE)             C2SP signed checkpoints, ascending size, last = bundle's
 *   subject ITEM-ID                     proof bundles only: the serial proved
 *   entry SEQ ENTRY-HEX [PROOF-HEX|-]   ledger entries in seq order; partial and proof bundles add
 *                                       an inclusion proof against the last checkpoint, and carry
 *                                       every accepted registry record inside it (the keys in force
 *                                       their signatures are checked against, D27)
 *   lot LOT-KEY SITE C0,C1,...          full only: the source's lot counters (reconciliation)
 *   end COUNT                           number of entry lines; nothing may follow
 *
 * Rules:
 *  1. Checkpoints of a data directory live in meta: BUNDLE_META_CHECKPOINT_COUNT and
 *     BUNDLE_META_CHECKPOINT_PREFIX<i> (1-based, ascending tree size), each a C2SP signed note,
 *     signed with the data directory's site key (name = site id); origin = bundle_checkpoint_origin
 *     (the cluster's, written by `cluster init`, else BUNDLE_ORIGIN_PREFIX + site).
 *  2. A query never stores a checkpoint: when the newest stored one does not cover the ledger it
 *     signs one in memory and writes it after the stored ones (query/checkpoint.c). Ed25519 is
 *     deterministic, so the CLI storing that same checkpoint writes the same bundle bytes.
 */
#ifndef SL_QUERY_BUNDLE_H
#define SL_QUERY_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "crypto/crypto.h"
#include "crypto/merkle.h"
#include "crypto/note.h"
#include "ledger/entry.h"
#include "ledger/record.h"
#include "query/query.h"
#include "store/store.h"

#define BUNDLE_VERSION 1
/* One entry line: "entry", a seq, the hex entry, a hex proof, separators. */
#define BUNDLE_LINE_BYTES_MAX (2 * ENTRY_BYTES_MAX + 2 * MERKLE_PROOF_BYTES_MAX + 128)
#define BUNDLE_SITES_MAX 64	      /* sites of one cluster (DESIGN.md: a handful of sites) */
#define BUNDLE_CHECKPOINTS_MAX 4096   /* checkpoints carried in one bundle */
#define BUNDLE_ORIGIN_PREFIX "siteledger/"
#define BUNDLE_META_CHECKPOINT_COUNT "checkpoints"  /* decimal count of stored checkpoints */
#define BUNDLE_META_CHECKPOINT_PREFIX "checkpoint/" /* + decimal index 1..count → note text */

enum bundle_kind { BUNDLE_FULL = 1, BUNDLE_PARTIAL = 2, BUNDLE_PROOF = 3 };

struct bundle_site {
	char name[RECORD_SITE_SIZE];
	struct crypto_public_key pk;
	bool trusted; /* a trusted key file matches */
};

struct bundle_registry {
	struct bundle_site sites[BUNDLE_SITES_MAX];
	size_t count;
};

/* Writers. */
void bundle_write_hex(FILE *out, const uint8_t *bytes, size_t len);
int bundle_write_base64(FILE *out, const char *text, size_t len);
/* The lines every head opens with: the kind, the origin and one line per registry site. */
void bundle_write_preamble(FILE *out, enum bundle_kind kind, const char *origin,
			   const struct bundle_registry *registry);
/* One "checkpoint BASE64(NOTE)" line; SL_EOVERSIZE for a note over NOTE_BYTES_MAX. */
int bundle_write_checkpoint(FILE *out, const char *note, size_t len);

/* The head (kind, origin, registry, every stored checkpoint, then `fresh` when not NULL: the
 * newest stored checkpoints when there are more than BUNDLE_CHECKPOINTS_MAX) and one entry line
 * (with an inclusion proof against tree_size when with_proof). query/export.c. */
int bundle_head_write(FILE *out, enum bundle_kind kind, const char *origin, const struct bundle_registry *registry,
		      store_txn *txn, const char *fresh, size_t fresh_len);
int bundle_entry_write(FILE *out, store_txn *txn, uint64_t seq, bool with_proof, uint64_t tree_size);

/* Proofs anchored on the sites' own checkpoints (query/anchor.c): the newest cosigned checkpoint
 * kept in the ledger whose size is at least `covers` (ledger_checkpoint_newest; SL_ENOENT: none),
 * and a head whose checkpoints end with it (stored ones of its size or above left out). */
int bundle_anchor_find(store_txn *txn, const char *origin, uint64_t covers, char *note, size_t cap, size_t *len,
		       uint64_t *size);
int bundle_head_write_anchored(FILE *out, enum bundle_kind kind, const char *origin,
			       const struct bundle_registry *registry, store_txn *txn, uint64_t size, const char *anchor,
			       size_t anchor_len);

/* Stored checkpoints (rule 1; query/checkpoint.c): their number, and the i-th (1-based) note
 * copied into note (NOTE_BYTES_MAX + 1, NUL-terminated). */
int bundle_checkpoint_count(store_txn *txn, uint64_t *count);
int bundle_checkpoint_get(store_txn *txn, uint64_t index, char *note, size_t *len);
/* Store note i; with set_count, also make i the count (appending a new checkpoint). */
int bundle_checkpoint_put(store_txn *txn, uint64_t index, const char *note, size_t len, bool set_count);
/* The origin of the data directory's checkpoints: meta "origin" (`cluster init`), else
 * BUNDLE_ORIGIN_PREFIX + site (ledger/checkpoint.h "Origin"). */
void bundle_checkpoint_origin(store_txn *txn, const char *site, char out[NOTE_NAME_BYTES_MAX + 1]);
/* The registry of a data directory as at init, as bundle sites (trusted = true): sites added by
 * registry records are left out, removed ones kept, each with its first key (the audit's replay
 * applies the registry records itself). */
int bundle_registry_load(store_txn *txn, struct bundle_registry *registry);
/* The checkpoint covering the whole ledger as of txn: the newest stored one when it does
 * (*fresh = false), else one signed now with the signer (*fresh = true; rule 2). note holds
 * NOTE_BYTES_MAX + 1. On failure why says what. */
int bundle_checkpoint_latest(store_txn *txn, const char *site, const struct query_signer *signer, char *note,
			     size_t *len, bool *fresh, char *why, size_t why_size);

#endif
