/* query/export.c — bundles (query/bundle.h) of a data directory for an auditor, read through one
 * read transaction (a consistent snapshot):
 *   export  the full ledger (every entry, the registry, every checkpoint, the lot counters for
 *           reconciliation) or a partial one (lot, since: the selected entries, each with an
 *           inclusion proof against the last checkpoint; no lot counters), written in steps so a
 *           node can stream a ledger of any size in bounded chunks (query.h rule 5);
 *   prove   the history of one serial and of its containers, with inclusion proofs.
 *
 * The lot option selects an entry when its record commissions packs of that lot, names a pack of
 * that lot (as the store knows it now), or locks/unlocks that lot. Containers are selected only
 * when they are named next to a pack of the lot (docs/auditor-guide.md).
 *
 * Partial and proof bundles also carry every accepted registry record inside their checkpoint
 * (D27): an auditor checks each entry's signature against the keys in force at its seq, which
 * those records change. Their seqs come from the registry tables (key events: added, revoked;
 * sites' nodes: added, removed), not from a scan of the ledger.
 */
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/gs1.h"
#include "ledger/lifecycle.h"
#include "query/query_internal.h"
#include "store/merkle_store.h"
#include "util/error.h"

#define PROVE_DEPTH_MAX 16	 /* containers above the item that a proof follows (as history) */
#define PROVE_ENTRIES_MAX 100000 /* entries in one proof bundle (an item's life is far shorter) */
#define REGISTRY_RECORDS_MAX 100000 /* registry records a partial bundle carries (a handful of sites) */

void bundle_write_hex(FILE *out, const uint8_t *bytes, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		putc_unlocked(digits[bytes[i] >> 4], out);
		putc_unlocked(digits[bytes[i] & 15], out);
	}
}

int bundle_write_base64(FILE *out, const char *text, size_t len)
{
	if (len > NOTE_BYTES_MAX)
		return SL_EOVERSIZE;
	char b64[sodium_base64_ENCODED_LEN(NOTE_BYTES_MAX, sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(b64, sizeof b64, (const uint8_t *)text, len, sodium_base64_VARIANT_ORIGINAL);
	fputs(b64, out);
	return 0;
}

int bundle_write_checkpoint(FILE *out, const char *note, size_t len)
{
	fputs("checkpoint ", out);
	int rc = bundle_write_base64(out, note, len);
	fputc('\n', out);
	return rc;
}

void bundle_write_preamble(FILE *out, enum bundle_kind kind, const char *origin,
			   const struct bundle_registry *registry)
{
	static const char *const kinds[] = { "", "full", "partial", "proof" };
	fprintf(out, "siteledger-bundle %d %s\norigin %s\n", BUNDLE_VERSION, kinds[kind], origin);
	for (size_t i = 0; i < registry->count; i++) {
		fprintf(out, "site %s ", registry->sites[i].name);
		bundle_write_hex(out, registry->sites[i].pk.bytes, sizeof registry->sites[i].pk.bytes);
		fputc('\n', out);
	}
}

int bundle_head_write(FILE *out, enum bundle_kind kind, const char *origin, const struct bundle_registry *registry,
		      store_txn *txn, const char *fresh, size_t fresh_len)
{
	bundle_write_preamble(out, kind, origin, registry);
	uint64_t stored = 0;
	int rc = bundle_checkpoint_count(txn, &stored);
	uint64_t total = stored + (fresh != NULL);
	/* Beyond the limit the oldest are left out: the last one covers the whole ledger. */
	uint64_t first = total > BUNDLE_CHECKPOINTS_MAX ? total - BUNDLE_CHECKPOINTS_MAX + 1 : 1;
	char note[NOTE_BYTES_MAX + 1];
	for (uint64_t i = first; rc == 0 && i <= stored; i++) {
		size_t len = 0;
		rc = bundle_checkpoint_get(txn, i, note, &len);
		if (rc == 0)
			rc = bundle_write_checkpoint(out, note, len);
	}
	if (rc == 0 && fresh != NULL)
		rc = bundle_write_checkpoint(out, fresh, fresh_len);
	return rc;
}

int bundle_entry_write(FILE *out, store_txn *txn, uint64_t seq, bool with_proof, uint64_t tree_size)
{
	const uint8_t *bytes = NULL;
	size_t len = 0;
	int rc = store_ledger_get(txn, seq, &bytes, &len);
	if (rc != 0)
		return rc;
	if (len > ENTRY_BYTES_MAX)
		return SL_ECORRUPT;
	fprintf(out, "entry %" PRIu64 " ", seq);
	bundle_write_hex(out, bytes, len);
	if (with_proof) {
		uint8_t proof[MERKLE_PROOF_BYTES_MAX];
		size_t count = 0;
		rc = merkle_inclusion_proof(tree_size, seq - 1, store_merkle_node_get, txn, proof, &count);
		if (rc != 0)
			return rc;
		fputc(' ', out);
		if (count == 0)
			fputc('-', out);
		bundle_write_hex(out, proof, count * MERKLE_HASH_BYTES);
	}
	fputc('\n', out);
	return 0;
}

/* ---- export */

enum export_phase { PHASE_HEAD = 0, PHASE_REGISTRY, PHASE_ENTRIES, PHASE_LOTS, PHASE_END, PHASE_DONE };

/* A list of ledger seqs, at most cap of them. */
struct seq_list {
	uint64_t *seqs;
	size_t count, cap;
	bool truncated;
};

struct query_export {
	store_txn *txn;
	enum export_phase phase;
	char origin[NOTE_NAME_BYTES_MAX + 1];
	struct bundle_registry registry;
	char fresh[NOTE_BYTES_MAX + 1]; /* a checkpoint signed for this export (bundle.h rule 2) */
	size_t fresh_len;
	bool has_fresh;
	char lot_key[GS1_LOT_KEY_SIZE]; /* "": no lot filter */
	bool with_proof;
	uint64_t tree_size, since, next_seq, written;
	uint64_t lot_rows_done; /* lot lines written so far (the LOTS phase resumes after them) */
	struct seq_list registry_seqs; /* partial: the registry records to carry, ascending */
	size_t registry_next;	       /* the first of them not yet written or passed */
	/* one step */
	FILE *out;
	long step_start;
	uint64_t budget;
	uint64_t lot_rows_seen;
	int error;
	void (*progress)(void *ctx, uint64_t seq, uint64_t total);
	void *progress_ctx;
};

/* Does the item (a pack the store knows) belong to the lot? */
static bool item_in_lot(store_txn *txn, struct sl_str id, const char *lot_key)
{
	char name[GS1_ITEM_ID_SIZE], key[GS1_LOT_KEY_SIZE];
	struct store_item item;
	if (id.len >= sizeof name)
		return false;
	memcpy(name, id.ptr, id.len);
	name[id.len] = '\0';
	return store_item_get(txn, name, &item) == 0 && lifecycle_lot_key(&item, key) == 0 && strcmp(key, lot_key) == 0;
}

static bool record_in_lot(store_txn *txn, const struct record *r, const char *lot_key)
{
	char key[GS1_LOT_KEY_SIZE], gtin[GS1_GTIN_DIGITS + 1], lot[GS1_LOT_CHARS_MAX + 1];
	if (r->type == RECORD_COMMISSION) {
		if (r->gtin.len != GS1_GTIN_DIGITS || r->lot.len > GS1_LOT_CHARS_MAX)
			return false;
		memcpy(gtin, r->gtin.ptr, r->gtin.len);
		gtin[r->gtin.len] = '\0';
		memcpy(lot, r->lot.ptr, r->lot.len);
		lot[r->lot.len] = '\0';
		return gs1_lot_key(gtin, lot, key) == 0 && strcmp(key, lot_key) == 0;
	}
	if ((r->type == RECORD_LOCK || r->type == RECORD_UNLOCK) && r->lock_scope == LOCK_SCOPE_LOT)
		return r->lock_target.len == strlen(lot_key) && memcmp(r->lock_target.ptr, lot_key, r->lock_target.len) == 0;
	for (size_t i = 0; i < r->item_count; i++)
		if (item_in_lot(txn, r->items[i], lot_key))
			return true;
	return false;
}

static bool entry_in_lot(store_txn *txn, const uint8_t *bytes, size_t len, const char *lot_key)
{
	struct ledger_entry entry;
	struct record r;
	if (entry_decode(bytes, len, &entry, NULL) != 0 || record_decode(entry.record, entry.record_len, &r, NULL) != 0)
		return false;
	bool in = record_in_lot(txn, &r, lot_key);
	record_clear(&r);
	return in;
}

/* This step wrote its budget (checked only when there is one: a node's chunk). */
static bool step_full(const query_export *x)
{
	if (x->budget == UINT64_MAX)
		return false;
	long at = ftell(x->out);
	return at >= 0 && (uint64_t)(at - x->step_start) >= x->budget;
}

static int export_entry_cb(void *ctx, uint64_t seq, const uint8_t *bytes, size_t len)
{
	query_export *x = ctx;
	if (seq > x->tree_size)
		return 1; /* entries beyond the checkpoint: none in one snapshot, but never export them */
	if (step_full(x))
		return 1;
	x->next_seq = seq + 1;
	if (x->progress != NULL)
		x->progress(x->progress_ctx, seq, x->tree_size);
	const struct seq_list *reg = &x->registry_seqs;
	while (x->registry_next < reg->count && reg->seqs[x->registry_next] < seq)
		x->registry_next++;
	bool registry = x->registry_next < reg->count && reg->seqs[x->registry_next] == seq;
	if (x->lot_key[0] != '\0' && !registry && !entry_in_lot(x->txn, bytes, len, x->lot_key))
		return 0;
	x->error = bundle_entry_write(x->out, x->txn, seq, x->with_proof, x->tree_size);
	if (x->error != 0)
		return 1;
	x->written++;
	return 0;
}

static int lot_row_write(void *ctx, const char *lot_key, const char *site, const struct store_lot_counters *c)
{
	query_export *x = ctx;
	if (x->lot_rows_seen++ < x->lot_rows_done)
		return 0; /* written by an earlier step */
	if (step_full(x))
		return 1;
	fprintf(x->out, "lot %s %s ", lot_key, site);
	for (unsigned i = 0; i < STORE_LOT_COUNTERS; i++)
		fprintf(x->out, "%s%" PRIu64, i ? "," : "", c->counts[i]);
	fputc('\n', x->out);
	x->lot_rows_done++;
	return 0;
}

/* One phase's share of a step; moves to the next phase when this one is complete. */
static int export_phase_run(query_export *x)
{
	int rc = 0;
	switch (x->phase) {
	case PHASE_HEAD:
		rc = bundle_head_write(x->out, x->with_proof ? BUNDLE_PARTIAL : BUNDLE_FULL, x->origin, &x->registry,
				       x->txn, x->has_fresh ? x->fresh : NULL, x->fresh_len);
		x->phase = PHASE_REGISTRY;
		break;
	case PHASE_REGISTRY: /* the registry records before --since (D27) */
		while (rc == 0 && x->registry_next < x->registry_seqs.count &&
		       x->registry_seqs.seqs[x->registry_next] < x->since && !step_full(x)) {
			rc = bundle_entry_write(x->out, x->txn, x->registry_seqs.seqs[x->registry_next++], true, x->tree_size);
			x->written += rc == 0;
		}
		if (rc == 0 && (x->registry_next == x->registry_seqs.count ||
				x->registry_seqs.seqs[x->registry_next] >= x->since))
			x->phase = PHASE_ENTRIES;
		break;
	case PHASE_ENTRIES:
		if (x->tree_size > 0 && x->next_seq <= x->tree_size)
			rc = store_ledger_iterate(x->txn, x->next_seq, 0, export_entry_cb, x);
		rc = rc == 1 || rc == 0 ? x->error : rc;
		if (rc == 0 && (x->next_seq > x->tree_size || x->tree_size == 0))
			x->phase = x->with_proof ? PHASE_END : PHASE_LOTS;
		break;
	case PHASE_LOTS:
		x->lot_rows_seen = 0;
		rc = store_lot_iterate_all(x->txn, lot_row_write, x);
		if (rc == 0)
			x->phase = PHASE_END;
		rc = rc == 1 ? 0 : rc;
		break;
	case PHASE_END:
		fprintf(x->out, "end %" PRIu64 "\n", x->written);
		x->phase = PHASE_DONE;
		break;
	case PHASE_DONE:
		break;
	}
	return rc;
}

int query_export_step(query_export *x, FILE *out, uint64_t budget_bytes, bool *done)
{
	x->out = out;
	x->budget = budget_bytes;
	x->step_start = budget_bytes == UINT64_MAX ? 0 : ftell(out);
	int rc = 0;
	while (rc == 0 && x->phase != PHASE_DONE && !step_full(x))
		rc = export_phase_run(x);
	*done = x->phase == PHASE_DONE;
	return rc;
}

/* ---- seq lists */

static int seq_collect(void *ctx, uint64_t seq)
{
	struct seq_list *list = ctx;
	if (list->count == list->cap) {
		list->truncated = true;
		return 1;
	}
	list->seqs[list->count++] = seq;
	return 0;
}

static int seq_compare(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/* Sorted, without repeats; SL_ELIMIT when seqs were left out. */
static int seq_list_finish(struct seq_list *list)
{
	qsort(list->seqs, list->count, sizeof *list->seqs, seq_compare);
	size_t unique = 0;
	for (size_t i = 0; i < list->count; i++)
		if (unique == 0 || list->seqs[unique - 1] != list->seqs[i])
			list->seqs[unique++] = list->seqs[i];
	list->count = unique;
	return list->truncated ? SL_ELIMIT : 0;
}

struct registry_collect {
	struct seq_list *list;
	store_txn *txn;
	uint64_t max_seq;
};

static int registry_seq_add(struct registry_collect *c, uint64_t seq)
{
	return seq != 0 && seq <= c->max_seq ? seq_collect(c->list, seq) : 0;
}

static int registry_key_cb(void *ctx, const uint8_t key_id[16], const struct store_key *value)
{
	(void)value;
	struct registry_collect *c = ctx;
	struct store_key_event event = { 0, 0 };
	int rc = store_key_event_get(c->txn, key_id, &event);
	if (rc == SL_ENOENT)
		return 0; /* registered at init, never revoked */
	if (rc == 0)
		rc = registry_seq_add(c, event.added_seq);
	return rc == 0 ? registry_seq_add(c, event.revoked_seq) : rc;
}

static int registry_site_cb(void *ctx, const char *site, const struct store_site_node *value)
{
	(void)site;
	struct registry_collect *c = ctx;
	int rc = registry_seq_add(c, value->added_seq);
	return rc == 0 ? registry_seq_add(c, value->removed_seq) : rc;
}

/* Add the seqs of every accepted registry record up to max_seq to list (see the top of the file),
 * then sort it without repeats. */
static int registry_seqs_add(store_txn *txn, uint64_t max_seq, struct seq_list *list)
{
	struct registry_collect c = { list, txn, max_seq };
	int rc = store_key_iterate(txn, registry_key_cb, &c);
	if (rc == 0)
		rc = store_site_node_iterate(txn, registry_site_cb, &c);
	if (rc < 0)
		return rc;
	return seq_list_finish(list);
}

struct export_options {
	char lot_key[GS1_LOT_KEY_SIZE];
	uint64_t since;
};

static int export_parse(const struct query_params *p, struct export_options *o, struct query_out *out)
{
	char gtin[GS1_GTIN_DIGITS + 1], lot[GS1_LOT_CHARS_MAX + 1];
	o->lot_key[0] = '\0';
	o->since = 1;
	int rc = 0;
	if (query_param(p, "lot") != NULL && (rc = query_lot_option(p, out, gtin, lot)) == 0)
		gs1_lot_key(gtin, lot, o->lot_key);
	if (rc == 0)
		rc = query_u64_option(p, "since", UINT64_MAX, &o->since, out);
	return rc;
}

int query_export_check(const struct query_params *p, struct query_out *out)
{
	struct export_options o;
	return export_parse(p, &o, out);
}

int query_export_begin(const struct query_env *env, const struct query_params *p, query_export **xp,
		       struct query_out *out)
{
	query_out_reset(out);
	struct export_options o;
	if (p->kind != QUERY_EXPORT)
		return query_fail(out, QUERY_EXIT_USAGE, "not an export");
	int rc = export_parse(p, &o, out);
	if (rc != 0)
		return rc;
	query_export *x = calloc(1, sizeof *x);
	if (x == NULL)
		return query_fail(out, QUERY_EXIT_USAGE, "out of memory");
	x->txn = env->txn;
	memcpy(x->lot_key, o.lot_key, sizeof x->lot_key);
	x->since = x->next_seq = o.since;
	x->with_proof = o.lot_key[0] != '\0' || o.since > 1;
	bundle_checkpoint_origin(env->txn, env->site, x->origin);
	char why[QUERY_MESSAGE_BYTES] = "";
	rc = bundle_checkpoint_latest(env->txn, env->site, &env->signer, x->fresh, &x->fresh_len, &x->has_fresh, why,
				      sizeof why);
	if (rc == 0 && (rc = bundle_registry_load(env->txn, &x->registry)) != 0)
		snprintf(why, sizeof why, "cannot read the registry: %s", sl_strerror(rc));
	if (rc == 0 && (rc = store_merkle_size(env->txn, &x->tree_size)) != 0)
		snprintf(why, sizeof why, "cannot read the Merkle tree: %s", sl_strerror(rc));
	if (rc == 0 && x->with_proof) {
		struct seq_list *reg = &x->registry_seqs;
		reg->cap = REGISTRY_RECORDS_MAX;
		reg->seqs = malloc(reg->cap * sizeof *reg->seqs);
		rc = reg->seqs != NULL ? registry_seqs_add(env->txn, x->tree_size, reg) : SL_ENOMEM;
		if (rc != 0)
			snprintf(why, sizeof why, "cannot list the registry records: %s", sl_strerror(rc));
	}
	if (rc != 0) {
		free(x->registry_seqs.seqs);
		free(x);
		return query_fail(out, QUERY_EXIT_USAGE, "%s", why);
	}
	*xp = x;
	return QUERY_EXIT_OK;
}

void query_export_stats(const query_export *x, uint64_t stats[QUERY_STATS])
{
	stats[0] = x->written;
	stats[1] = x->tree_size;
	stats[2] = x->with_proof;
}

void query_export_progress(query_export *x, void (*cb)(void *ctx, uint64_t seq, uint64_t total), void *ctx)
{
	x->progress = cb;
	x->progress_ctx = ctx;
}

void query_export_end(query_export *x)
{
	if (x != NULL) {
		sodium_memzero(x->fresh, sizeof x->fresh);
		free(x->registry_seqs.seqs);
	}
	free(x);
}

/* ---- prove */

/* Seqs of the item's history and its containers', sorted, without repeats. */
static int prove_collect(store_txn *txn, const char *item_id, struct seq_list *list)
{
	char current[STORE_ITEM_ID_SIZE];
	snprintf(current, sizeof current, "%s", item_id);
	int rc = 0;
	for (unsigned depth = 0; rc == 0 && depth <= PROVE_DEPTH_MAX; depth++) {
		rc = store_history_iterate(txn, current, seq_collect, list);
		struct store_item item;
		if (rc < 0 || list->truncated || store_item_get(txn, current, &item) != 0 || item.parent[0] == '\0')
			break;
		snprintf(current, sizeof current, "%s", item.parent);
	}
	return rc < 0 ? rc : seq_list_finish(list);
}

static int prove_write(FILE *out, const struct query_env *env, const char *item_id, struct seq_list *list,
		       char *why, size_t why_size)
{
	struct bundle_registry registry;
	char origin[NOTE_NAME_BYTES_MAX + 1], note[NOTE_BYTES_MAX + 1];
	size_t note_len = 0;
	uint64_t size = 0;
	bool fresh = false;
	bundle_checkpoint_origin(env->txn, env->site, origin);
	int rc = bundle_checkpoint_latest(env->txn, env->site, &env->signer, note, &note_len, &fresh, why, why_size);
	if (rc != 0)
		return rc;
	rc = bundle_registry_load(env->txn, &registry);
	if (rc == 0)
		rc = store_merkle_size(env->txn, &size);
	if (rc == 0)
		rc = prove_collect(env->txn, item_id, list);
	/* anchored on the sites' own checkpoints when one covers every entry (query/anchor.c) */
	char anchor[NOTE_BYTES_MAX + 1];
	size_t anchor_len = 0;
	uint64_t anchor_size = 0;
	bool anchored = rc == 0 && list->count > 0 &&
			bundle_anchor_find(env->txn, origin, list->seqs[list->count - 1], anchor, sizeof anchor, &anchor_len,
					   &anchor_size) == 0;
	if (rc == 0 && anchored) {
		size = anchor_size;
		rc = bundle_head_write_anchored(out, BUNDLE_PROOF, origin, &registry, env->txn, size, anchor, anchor_len);
	} else if (rc == 0) {
		rc = bundle_head_write(out, BUNDLE_PROOF, origin, &registry, env->txn, fresh ? note : NULL, note_len);
	}
	if (rc == 0 && list->count > 0)
		rc = registry_seqs_add(env->txn, size, list); /* D27: the keys in force along the way */
	if (rc == 0)
		fprintf(out, "subject %s\n", item_id);
	for (size_t i = 0; rc == 0 && i < list->count; i++)
		rc = bundle_entry_write(out, env->txn, list->seqs[i], true, size);
	if (rc == 0)
		fprintf(out, "end %zu\n", list->count);
	if (rc != 0)
		snprintf(why, why_size, "%s", sl_strerror(rc));
	return rc;
}

int query_prove_run(const struct query_env *env, const struct query_params *p, struct query_out *out)
{
	char item_id[GS1_ITEM_ID_SIZE];
	int rc = query_item_arg(p, 0, item_id, out);
	if (rc != 0 || env->txn == NULL)
		return rc;
	struct seq_list list = { calloc(PROVE_ENTRIES_MAX, sizeof(uint64_t)), 0, PROVE_ENTRIES_MAX, false };
	char why[QUERY_MESSAGE_BYTES / 2];
	if (list.seqs == NULL)
		return query_fail(out, QUERY_EXIT_USAGE, "out of memory");
	if (prove_write(out->doc[0], env, item_id, &list, why, sizeof why) != 0)
		query_fail(out, QUERY_EXIT_USAGE, "cannot write the proof for %s: %s", item_id, why);
	else if (list.count == 0)
		query_fail(out, QUERY_EXIT_USAGE, "no ledger entries name %s", item_id);
	out->stats[0] = list.count;
	free(list.seqs);
	return out->exit_code;
}
