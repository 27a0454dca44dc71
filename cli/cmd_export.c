/* cli/cmd_export.c — `siteledger export`: write a self-contained bundle (cli/bundle.h) of a data
 * directory for an auditor, streaming from one read transaction (a consistent snapshot).
 *
 * Full export: every entry, the registry, every checkpoint (a fresh one signed when the latest
 * stored one does not cover the whole ledger), and the lot counters for reconciliation.
 * Partial export (--lot GTIN/LOT, --since N): the selected entries, each with an inclusion proof
 * against the last checkpoint; no lot counters (an auditor cannot replay a part of a ledger).
 *
 * --lot selects an entry when its record commissions packs of that lot, names a pack of that lot
 * (as the store knows it now), or locks/unlocks that lot. Containers are selected only when they
 * are named next to a pack of the lot (docs/auditor-guide.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/audit.h"
#include "ledger/gs1.h"
#include "ledger/lifecycle.h"
#include "store/merkle_store.h"
#include "util/error.h"

struct export_ctx {
	FILE *out;
	store_txn *txn;
	uint64_t tree_size;
	uint64_t since;
	const char *lot_key; /* NULL: no lot filter */
	bool with_proof;
	uint64_t written;
	struct progress progress;
	int error;
};

int cli_bundle_head_write(FILE *out, enum bundle_kind kind, const char *origin,
			  const struct bundle_registry *registry, store_txn *txn)
{
	static const char *const kinds[] = { "", "full", "partial", "proof" };
	fprintf(out, "siteledger-bundle %d %s\norigin %s\n", BUNDLE_VERSION, kinds[kind], origin);
	for (size_t i = 0; i < registry->count; i++) {
		fprintf(out, "site %s ", registry->sites[i].name);
		bundle_write_hex(out, registry->sites[i].pk.bytes, sizeof registry->sites[i].pk.bytes);
		fputc('\n', out);
	}
	uint64_t total = 0;
	int rc = cli_checkpoint_count(txn, &total);
	/* Beyond the limit the oldest are left out: the last one covers the whole ledger. */
	uint64_t first = total > BUNDLE_CHECKPOINTS_MAX ? total - BUNDLE_CHECKPOINTS_MAX + 1 : 1;
	char note[NOTE_BYTES_MAX + 1];
	for (uint64_t i = first; rc == 0 && i <= total; i++) {
		size_t len = 0;
		rc = cli_checkpoint_get(txn, i, note, &len);
		if (rc == 0) {
			fputs("checkpoint ", out);
			rc = bundle_write_base64(out, note, len);
			fputc('\n', out);
		}
	}
	return rc;
}

int cli_bundle_entry_write(FILE *out, store_txn *txn, uint64_t seq, bool with_proof, uint64_t tree_size)
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

static int export_entry_cb(void *ctx, uint64_t seq, const uint8_t *bytes, size_t len)
{
	struct export_ctx *e = ctx;
	progress_update(&e->progress, seq);
	if (seq > e->tree_size)
		return 1; /* entries beyond the last checkpoint: none (single writer), but never export them */
	if (e->lot_key != NULL && !entry_in_lot(e->txn, bytes, len, e->lot_key))
		return 0;
	e->error = cli_bundle_entry_write(e->out, e->txn, seq, e->with_proof, e->tree_size);
	if (e->error != 0)
		return 1;
	e->written++;
	return 0;
}

static int lot_row_write(void *ctx, const char *lot_key, const char *site, const struct store_lot_counters *c)
{
	FILE *out = ctx;
	fprintf(out, "lot %s %s ", lot_key, site);
	for (unsigned i = 0; i < STORE_LOT_COUNTERS; i++)
		fprintf(out, "%s%" PRIu64, i ? "," : "", c->counts[i]);
	fputc('\n', out);
	return 0;
}

static int export_write(struct export_ctx *e, const struct cli_ledger *ledger)
{
	struct bundle_registry registry;
	char origin[NOTE_NAME_BYTES_MAX + 1];
	cli_checkpoint_origin(ledger, origin);
	int rc = cli_registry_load(e->txn, &registry);
	if (rc == 0)
		rc = store_merkle_size(e->txn, &e->tree_size);
	if (rc == 0)
		rc = cli_bundle_head_write(e->out, e->with_proof ? BUNDLE_PARTIAL : BUNDLE_FULL, origin, &registry, e->txn);
	if (rc != 0)
		return rc;
	progress_start(&e->progress, "export", e->tree_size);
	if (e->tree_size > 0 && e->since <= e->tree_size)
		rc = store_ledger_iterate(e->txn, e->since, 0, export_entry_cb, e);
	progress_finish(&e->progress);
	if (rc == 1 || rc == 0)
		rc = e->error;
	if (rc == 0 && !e->with_proof)
		rc = store_lot_iterate_all(e->txn, lot_row_write, e->out);
	if (rc == 0)
		fprintf(e->out, "end %" PRIu64 "\n", e->written);
	return rc;
}

/* "GTIN/LOT" → lot key. */
static int lot_option_parse(const char *text, char key[GS1_LOT_KEY_SIZE])
{
	const char *slash = strchr(text, '/');
	char gtin_text[32], gtin[GS1_GTIN_DIGITS + 1];
	if (slash == NULL || (size_t)(slash - text) >= sizeof gtin_text)
		return cli_fail("--lot: expected GTIN/LOT, got '%s'", text);
	memcpy(gtin_text, text, (size_t)(slash - text));
	gtin_text[slash - text] = '\0';
	if (gs1_gtin_normalize(gtin_text, gtin, NULL) != 0 || gs1_lot_key(gtin, slash + 1, key) != 0)
		return cli_fail("--lot: '%s' is not a valid GTIN/LOT", text);
	return 0;
}

int cli_cmd_export(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	const char *path = cli_arg(args, "out");
	if (path == NULL)
		return cli_fail("--out FILE is required");
	struct export_ctx e = { .since = 1 };
	char lot_key[GS1_LOT_KEY_SIZE];
	int rc = 0;
	if (cli_arg(args, "lot") != NULL && (rc = lot_option_parse(cli_arg(args, "lot"), lot_key)) != 0)
		return rc;
	e.lot_key = cli_arg(args, "lot") != NULL ? lot_key : NULL;
	if (cli_arg(args, "since") != NULL && (rc = cli_parse_u64("since", cli_arg(args, "since"), UINT64_MAX, &e.since)) != 0)
		return rc;
	e.with_proof = e.lot_key != NULL || e.since > 1;
	struct cli_ledger ledger;
	char note[NOTE_BYTES_MAX + 1];
	size_t len = 0;
	if ((rc = cli_ledger_open_checkpointed(args, &ledger, note, &len)) != 0)
		return rc;
	e.out = fopen(path, "w");
	if (e.out == NULL) {
		cli_ledger_close(&ledger);
		return cli_fail("cannot write %s: %s", path, strerror(errno));
	}
	rc = store_txn_begin(ledger.st, false, &e.txn);
	if (rc == 0) {
		rc = export_write(&e, &ledger);
		store_txn_abort(e.txn);
	}
	cli_ledger_close(&ledger);
	int io = ferror(e.out) | fclose(e.out);
	if (rc != 0 || io != 0)
		return cli_fail("export to %s failed: %s", path, rc != 0 ? sl_strerror(rc) : "write error");
	if (cli_flag(args, "json")) {
		printf("{\"out\":");
		cli_json_cstring(stdout, path);
		printf(",\"entries\":%" PRIu64 ",\"tree_size\":%" PRIu64 ",\"partial\":%s}\n", e.written, e.tree_size,
		       e.with_proof ? "true" : "false");
	} else {
		printf("exported %" PRIu64 " of %" PRIu64 " entries to %s%s\n", e.written, e.tree_size, path,
		       e.with_proof ? " (partial, with inclusion proofs)" : "");
	}
	return CLI_EXIT_ACCEPTED;
}
