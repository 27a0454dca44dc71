/* ledger/rules_checkpoint.c — checkpoint records: building and checking their C2SP note
 * (ledger/checkpoint.h) and the apply rule (rules_checkpoint, docs/lifecycle.md "Checkpoints").
 *
 * Design notes:
 *  1. The rule needs nothing but the Merkle tree of the same write transaction: apply appends
 *     each entry's leaf with the entry (store/merkle_store.h rule 1), so when the record at seq s
 *     is checked the tree holds exactly the s - 1 entries before it, on every replica alike.
 *  2. An accepted checkpoint equals the tree's own root at its size and the tree only grows, so
 *     accepted checkpoints never contradict each other: two checkpoints of one size with
 *     different roots, or one inconsistent with an earlier one, means the later is refused
 *     (CHECKPOINT_ROOT_MISMATCH) — the divergence the node raises an alarm for.
 *  3. The note signature is verified inside the write transaction (one Ed25519 verification per
 *     checkpoint record, a few per minute): the record's own signature was verified with the
 *     batch, the note signature is the C2SP artifact auditors check without siteledger's format.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/apply_internal.h"
#include "ledger/checkpoint.h"
#include "store/merkle_store.h"
#include "util/error.h"

/* Room for a checkpoint body: origin, 20 digits, base64 of 32 bytes, newlines. */
#define CHECKPOINT_BODY_BYTES_MAX (RECORD_ORIGIN_CHARS_MAX + 20 + 45 + 4)

static int checkpoint_of(const struct record *record, struct checkpoint *cp)
{
	if (record->type != RECORD_CHECKPOINT || record->origin.len == 0 ||
	    record->origin.len > RECORD_ORIGIN_CHARS_MAX || record->checkpoint_size == 0)
		return SL_EINVAL;
	memset(cp, 0, sizeof *cp);
	memcpy(cp->origin, record->origin.ptr, record->origin.len);
	cp->size = record->checkpoint_size;
	memcpy(cp->root, record->checkpoint_root, sizeof cp->root);
	return 0;
}

int ledger_checkpoint_body(const struct record *record, char *out, size_t cap, size_t *len)
{
	struct checkpoint cp;
	int rc = checkpoint_of(record, &cp);
	return rc != 0 ? rc : checkpoint_format(&cp, out, cap, len);
}

int ledger_checkpoint_signature(const struct record *record, struct note_signature *sig)
{
	size_t len = record->note_signature_len;
	memset(sig, 0, sizeof *sig);
	if (record->site.len == 0 || record->site.len > RECORD_SITE_CHARS_MAX ||
	    (len != NOTE_KEY_ID_BYTES + 64 && len != NOTE_KEY_ID_BYTES + 72))
		return SL_EINVAL;
	memcpy(sig->name, record->site.ptr, record->site.len);
	memcpy(sig->key_id, record->note_signature, NOTE_KEY_ID_BYTES);
	sig->len = len - NOTE_KEY_ID_BYTES;
	memcpy(sig->bytes, record->note_signature + NOTE_KEY_ID_BYTES, sig->len);
	return 0;
}

int ledger_checkpoint_note(const struct record *record, char *out, size_t cap, size_t *len)
{
	struct note_signature sig;
	int rc = ledger_checkpoint_body(record, out, cap, len);
	size_t body_len = *len;
	if (rc == 0)
		rc = ledger_checkpoint_signature(record, &sig);
	if (rc == 0)
		rc = note_signature_append(out, body_len, &sig, out, cap, len);
	return rc;
}

int ledger_checkpoint_verify(const struct record *record, const struct crypto_public_key *pk, uint8_t *type)
{
	char body[CHECKPOINT_BODY_BYTES_MAX + 1];
	struct note note;
	size_t len = 0;
	memset(&note, 0, sizeof note);
	if (ledger_checkpoint_body(record, body, sizeof body, &len) != 0 ||
	    ledger_checkpoint_signature(record, &note.signatures[0]) != 0)
		return SL_EBADSIG;
	note.body = body;
	note.body_len = len;
	note.signature_count = 1;
	return note_signature_verify(&note, &note.signatures[0], note.signatures[0].name, pk, type, NULL) == 0
		       ? 0
		       : SL_EBADSIG;
}

int ledger_checkpoint_fill(struct record *record, const char *origin, uint64_t size,
			   const uint8_t root[MERKLE_HASH_BYTES], const char *site, const struct crypto_secret_key *sk)
{
	record->type = RECORD_CHECKPOINT;
	record->origin = sl_str_from_cstr(origin);
	record->checkpoint_size = size;
	memcpy(record->checkpoint_root, root, MERKLE_HASH_BYTES);
	char note_text[NOTE_BYTES_MAX + 1];
	size_t len = 0;
	int rc = ledger_checkpoint_body(record, note_text, sizeof note_text, &len);
	size_t body_len = len;
	if (rc == 0)
		rc = note_sign(note_text, body_len, site, sk, note_text, sizeof note_text, &len);
	struct note *parsed = rc == 0 ? calloc(1, sizeof *parsed) : NULL; /* ~2 KiB: not on the stack */
	if (rc == 0 && parsed == NULL)
		rc = SL_ENOMEM;
	if (rc == 0)
		rc = note_parse(note_text, len, parsed);
	if (rc == 0 && parsed->signature_count != 1)
		rc = SL_ECRYPTO;
	if (rc == 0) {
		const struct note_signature *sig = &parsed->signatures[0];
		memcpy(record->note_signature, sig->key_id, NOTE_KEY_ID_BYTES);
		memcpy(record->note_signature + NOTE_KEY_ID_BYTES, sig->bytes, sig->len);
		record->note_signature_len = NOTE_KEY_ID_BYTES + sig->len;
	}
	free(parsed);
	return rc == SL_ELIMIT ? SL_EINVAL : rc;
}

int ledger_checkpoint_origin(store_txn *txn, const char *site, char out[NOTE_NAME_BYTES_MAX + 1])
{
	const void *value = NULL;
	size_t len = 0;
	int rc = store_meta_get(txn, LEDGER_META_ORIGIN, &value, &len);
	if (rc == SL_ENOENT) {
		int n = snprintf(out, NOTE_NAME_BYTES_MAX + 1, "%s%s", CHECKPOINT_ORIGIN_PREFIX, site);
		return n > 0 && n <= NOTE_NAME_BYTES_MAX ? 0 : SL_EINVAL;
	}
	if (rc != 0)
		return rc;
	const unsigned char *text = value; /* one a checkpoint record can carry (record_check.c) */
	if (len == 0 || len > NOTE_NAME_BYTES_MAX)
		return SL_ECORRUPT;
	for (size_t i = 0; i < len; i++)
		if (text[i] <= 0x20 || text[i] >= 0x7f)
			return SL_ECORRUPT;
	memcpy(out, value, len);
	out[len] = '\0';
	return 0;
}

/* The rule (checkpoint.h rule 2). */
int rules_checkpoint(struct apply_ctx *ctx)
{
	const struct record *r = ctx->record;
	struct store_key key;
	int rc = store_key_get(ctx->txn, r->key_id.bytes, &key);
	if (rc != 0)
		return rc == SL_ENOENT ? SL_ECORRUPT : rc; /* check_envelope found it in this txn */
	struct crypto_public_key pk;
	memcpy(pk.bytes, key.public_key, sizeof pk.bytes);
	if (ledger_checkpoint_verify(r, &pk, NULL) != 0)
		return apply_verdict(ctx, OUTCOME_CHECKPOINT_BAD_NOTE_SIGNATURE, -1);
	if (r->checkpoint_size > ctx->seq - 1) /* design note 1: seq - 1 entries precede it */
		return apply_verdict(ctx, OUTCOME_CHECKPOINT_BEYOND_LEDGER, -1);
	uint8_t root[MERKLE_HASH_BYTES];
	rc = store_merkle_root(ctx->txn, r->checkpoint_size, root);
	if (rc != 0)
		return rc == SL_EINVAL ? SL_ECORRUPT : rc; /* the tree holds seq - 1 leaves */
	if (memcmp(root, r->checkpoint_root, sizeof root) != 0)
		return apply_verdict(ctx, OUTCOME_CHECKPOINT_ROOT_MISMATCH, -1);
	return 0; /* accepted: a checkpoint changes no item, lot or index */
}
