/* query/anchor.c — proof bundles anchored on the sites' own checkpoints (query/bundle.h
 * bundle_anchor_find, bundle_head_write_anchored): when the newest cosigned checkpoint kept in the
 * ledger (ledger/checkpoint.h ledger_checkpoint_newest) covers every entry a proof carries, the
 * proof's inclusion proofs are made against it, so the proof is backed by every site that signed
 * that tree head rather than by the exporting site alone.
 *
 * The bundle's checkpoints stay in ascending order with the anchor last (cli/bundle.h; the partial
 * checks prove inclusion against the last one): stored checkpoints of the data directory at or
 * above the anchor's size are left out of such a bundle.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/checkpoint.h"
#include "query/bundle.h"
#include "util/error.h"

int bundle_anchor_find(store_txn *txn, const char *origin, uint64_t covers, char *note, size_t cap, size_t *len,
		       uint64_t *size)
{
	if (covers == 0)
		return SL_ENOENT;
	return ledger_checkpoint_newest(txn, origin, covers, LEDGER_CHECKPOINT_SCAN_MAX, note, cap, len, size);
}

/* Tree size of a stored note; 0 when it does not parse (then it is left out). */
static uint64_t stored_size(const char *text, size_t len)
{
	struct note *note = malloc(sizeof *note); /* ~2 KiB */
	struct checkpoint cp = { .size = 0 };
	if (note != NULL && note_parse(text, len, note) == 0 && checkpoint_parse(note->body, note->body_len, &cp) != 0)
		cp.size = 0;
	free(note);
	return cp.size;
}

int bundle_head_write_anchored(FILE *out, enum bundle_kind kind, const char *origin,
			       const struct bundle_registry *registry, store_txn *txn, uint64_t size, const char *anchor,
			       size_t anchor_len)
{
	bundle_write_preamble(out, kind, origin, registry);
	uint64_t stored = 0;
	int rc = bundle_checkpoint_count(txn, &stored);
	/* the newest stored ones below the anchor, at most BUNDLE_CHECKPOINTS_MAX - 1 of them */
	uint64_t below = 0, first = 1;
	char note[NOTE_BYTES_MAX + 1];
	for (uint64_t i = stored; rc == 0 && i >= 1; i--) {
		size_t len = 0;
		rc = bundle_checkpoint_get(txn, i, note, &len);
		if (rc == 0 && stored_size(note, len) < size && ++below == BUNDLE_CHECKPOINTS_MAX - 1) {
			first = i;
			break;
		}
	}
	for (uint64_t i = first; rc == 0 && i <= stored; i++) {
		size_t len = 0;
		rc = bundle_checkpoint_get(txn, i, note, &len);
		uint64_t at = rc == 0 ? stored_size(note, len) : 0;
		if (rc == 0 && at > 0 && at < size)
			rc = bundle_write_checkpoint(out, note, len);
	}
	return rc == 0 ? bundle_write_checkpoint(out, anchor, anchor_len) : rc;
}
