/* ledger/checkpoint_find.c — the newest cosigned checkpoint kept in a ledger (ledger/checkpoint.h
 * ledger_checkpoint_newest), for proofs anchored on the sites' own checkpoints.
 *
 * Design notes:
 *  1. The scan runs backwards from the ledger's end over at most scan_max entries, peeking at each
 *     record's type before decoding it (a canonical record's fifth byte), so entries that are not
 *     checkpoint records cost one entry decode.
 *  2. The checkpoint chosen is the one of the latest accepted checkpoint record of the origin whose
 *     size is at least min_size. Every record signing that size was appended after it (a record's
 *     size never covers itself), so the scan continues down to seq size + 1 and merges the signature
 *     lines of the records with the same root: one note, one line per site (the first found).
 *  3. Accepted records only: apply has checked each root against the ledger and each note signature
 *     against its site's key, so the merged note verifies for every site named in it.
 */
#include <stdio.h>
#include <string.h>

#include "ledger/checkpoint.h"
#include "ledger/entry.h"
#include "ledger/reason.h"
#include "util/error.h"

struct newest {
	const char *origin;
	uint64_t min_size;
	bool found;
	uint64_t size;
	uint8_t root[RECORD_ROOT_BYTES];
	char *note;
	size_t cap, len, body_len;
	char names[NOTE_SIGNATURES_MAX][NOTE_NAME_BYTES_MAX + 1];
	size_t lines;
};

/* Start the note with the first record (the latest), or add its line to it. */
static int note_merge(struct newest *w, const struct record *r)
{
	struct note_signature sig;
	int rc = ledger_checkpoint_signature(r, &sig);
	if (rc != 0)
		return rc;
	if (!w->found) {
		rc = ledger_checkpoint_body(r, w->note, w->cap, &w->len);
		if (rc != 0)
			return rc;
		w->body_len = w->len;
		w->found = true;
		w->size = r->checkpoint_size;
		memcpy(w->root, r->checkpoint_root, sizeof w->root);
	}
	for (size_t i = 0; i < w->lines; i++)
		if (strcmp(w->names[i], sig.name) == 0)
			return 0; /* one line per site */
	if (w->lines == NOTE_SIGNATURES_MAX)
		return 0;
	rc = note_signature_append(w->note, w->body_len, &sig, w->note, w->cap, &w->len);
	if (rc == 0)
		snprintf(w->names[w->lines++], sizeof w->names[0], "%s", sig.name);
	return rc == SL_ELIMIT ? 0 : rc; /* a full note keeps the lines it has */
}

static int entry_visit(struct newest *w, const uint8_t *bytes, size_t len)
{
	struct ledger_entry entry;
	int rc = entry_decode(bytes, len, &entry, NULL);
	if (rc != 0)
		return SL_ECORRUPT;
	if (entry.outcome != OUTCOME_ACCEPTED || entry.record_len < 5 || entry.record[4] != RECORD_CHECKPOINT)
		return 0; /* design note 1 */
	struct record r;
	if (record_decode(entry.record, entry.record_len, &r, NULL) != 0)
		return 0;
	bool mine = r.type == RECORD_CHECKPOINT && sl_str_eq_cstr(r.origin, w->origin) &&
		    (w->found ? r.checkpoint_size == w->size && memcmp(r.checkpoint_root, w->root, sizeof w->root) == 0
			      : r.checkpoint_size >= w->min_size);
	rc = mine ? note_merge(w, &r) : 0;
	record_clear(&r);
	return rc;
}

int ledger_checkpoint_newest(store_txn *txn, const char *origin, uint64_t min_size, uint64_t scan_max, char *note,
			     size_t cap, size_t *len, uint64_t *size)
{
	struct newest w = { .origin = origin, .min_size = min_size, .note = note, .cap = cap };
	uint64_t count = 0;
	int rc = store_ledger_count(txn, &count);
	uint64_t stop = count > scan_max ? count - scan_max : 0;
	for (uint64_t seq = count; rc == 0 && seq > stop && !(w.found && seq <= w.size); seq--) {
		const uint8_t *bytes = NULL;
		size_t bytes_len = 0;
		rc = store_ledger_get(txn, seq, &bytes, &bytes_len);
		if (rc == 0)
			rc = entry_visit(&w, bytes, bytes_len);
	}
	if (rc != 0)
		return rc;
	if (!w.found)
		return SL_ENOENT;
	*len = w.len;
	*size = w.size;
	return 0;
}
