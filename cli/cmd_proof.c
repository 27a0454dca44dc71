/* cli/cmd_proof.c — proofs for one serial and raw Merkle proof checks:
 *   prove ID --out FILE          a proof bundle (cli/bundle.h, kind "proof"): the registry, the
 *                                checkpoints (the last one covers the whole ledger), the entries in
 *                                the history of the item and of its current containers, each with
 *                                an inclusion proof against the last checkpoint;
 *   verify-proof FILE --keys DIR  checks such a bundle alone (the audit's partial checks);
 *   proof verify-inclusion / verify-consistency  RFC 9162 §2.1.3.2 / §2.1.4.2 on hex input,
 *                                exit 0 when valid, 1 when not, 2 for malformed arguments.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/audit.h"
#include "store/merkle_store.h"
#include "util/error.h"

#define PROVE_DEPTH_MAX 16	/* containers above the item that a proof follows (as history) */
#define PROVE_ENTRIES_MAX 100000 /* entries in one proof bundle (an item's life is far shorter) */

struct seq_list {
	uint64_t *seqs;
	size_t count;
	bool truncated;
};

static int seq_collect(void *ctx, uint64_t seq)
{
	struct seq_list *list = ctx;
	if (list->count == PROVE_ENTRIES_MAX) {
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
	if (rc < 0)
		return rc;
	qsort(list->seqs, list->count, sizeof *list->seqs, seq_compare);
	size_t unique = 0;
	for (size_t i = 0; i < list->count; i++)
		if (unique == 0 || list->seqs[unique - 1] != list->seqs[i])
			list->seqs[unique++] = list->seqs[i];
	list->count = unique;
	return list->truncated ? SL_ELIMIT : 0;
}

static int prove_write(FILE *out, struct cli_ledger *ledger, store_txn *txn, const char *item_id,
		       struct seq_list *list)
{
	struct bundle_registry registry;
	char origin[NOTE_NAME_BYTES_MAX + 1];
	uint64_t size = 0;
	cli_checkpoint_origin(ledger, origin);
	int rc = cli_registry_load(txn, &registry);
	if (rc == 0)
		rc = store_merkle_size(txn, &size);
	if (rc == 0)
		rc = prove_collect(txn, item_id, list);
	if (rc == 0)
		rc = cli_bundle_head_write(out, BUNDLE_PROOF, origin, &registry, txn);
	if (rc != 0)
		return rc;
	fprintf(out, "subject %s\n", item_id);
	for (size_t i = 0; rc == 0 && i < list->count; i++)
		rc = cli_bundle_entry_write(out, txn, list->seqs[i], true, size);
	if (rc == 0)
		fprintf(out, "end %zu\n", list->count);
	return rc;
}

int cli_cmd_prove(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	const char *path = cli_arg(args, "out");
	char item_id[GS1_ITEM_ID_SIZE];
	if (path == NULL || args->positional_count != 1)
		return cli_fail("usage: siteledger prove --data DIR ID --out FILE");
	int rc = cli_item_id_parse(args->positional[0], item_id, NULL);
	if (rc != 0)
		return rc;
	struct cli_ledger ledger;
	char note[NOTE_BYTES_MAX + 1];
	size_t len = 0;
	if ((rc = cli_ledger_open_checkpointed(args, &ledger, note, &len)) != 0)
		return rc;
	struct seq_list list = { calloc(PROVE_ENTRIES_MAX, sizeof(uint64_t)), 0, false };
	FILE *out = list.seqs != NULL ? fopen(path, "w") : NULL;
	store_txn *txn = NULL;
	rc = out == NULL ? SL_EIO : store_txn_begin(ledger.st, false, &txn);
	if (rc == 0) {
		rc = prove_write(out, &ledger, txn, item_id, &list);
		store_txn_abort(txn);
	}
	cli_ledger_close(&ledger);
	int io = out != NULL ? (ferror(out) | fclose(out)) : 0;
	free(list.seqs);
	if (rc != 0 || io != 0)
		return cli_fail("cannot write the proof for %s to %s: %s", item_id, path, sl_strerror(rc ? rc : SL_EIO));
	if (list.count == 0)
		return cli_fail("no ledger entries name %s", item_id);
	printf("wrote %s: %zu entries for %s with inclusion proofs\n", path, list.count, item_id);
	return CLI_EXIT_ACCEPTED;
}

int cli_cmd_verify_proof(const struct cli_command *command, struct cli_args *args)
{
	return cli_cmd_audit(command, args); /* a proof bundle is audited with the partial checks */
}

/* "HEX,HEX,..." (or "" / "-" for an empty proof) into hashes; 0 or CLI_EXIT_USAGE. */
static int proof_parse(const char *text, uint8_t *proof, size_t *count)
{
	*count = 0;
	if (text == NULL || text[0] == '\0' || strcmp(text, "-") == 0)
		return 0;
	for (const char *p = text;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		size_t got = 0;
		if (*count == MERKLE_PROOF_HASHES_MAX ||
		    bundle_hex_decode(p, n, proof + *count * MERKLE_HASH_BYTES, MERKLE_HASH_BYTES, &got) != 0 ||
		    got != MERKLE_HASH_BYTES)
			return cli_fail("--proof: expected comma-separated 64-digit lowercase hex hashes");
		(*count)++;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

static int hash_arg(const struct cli_args *args, const char *name, uint8_t out[MERKLE_HASH_BYTES])
{
	const char *text = cli_arg(args, name);
	size_t got = 0;
	if (text == NULL || bundle_hex_decode(text, strlen(text), out, MERKLE_HASH_BYTES, &got) != 0 ||
	    got != MERKLE_HASH_BYTES)
		return cli_fail("--%s: expected a 64-digit lowercase hex hash", name);
	return 0;
}

static int u64_arg(const struct cli_args *args, const char *name, uint64_t *out)
{
	if (cli_arg(args, name) == NULL)
		return cli_fail("--%s N is required", name);
	return cli_parse_u64(name, cli_arg(args, name), UINT64_MAX, out);
}

static int verdict(const struct cli_args *args, int rc)
{
	if (cli_flag(args, "json"))
		printf("{\"valid\":%s}\n", rc == 0 ? "true" : "false");
	else
		printf("%s\n", rc == 0 ? "valid" : "INVALID");
	return rc == 0 ? CLI_EXIT_ACCEPTED : CLI_EXIT_REJECTED;
}

int cli_cmd_proof(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	uint8_t proof[MERKLE_PROOF_BYTES_MAX], a[MERKLE_HASH_BYTES], b[MERKLE_HASH_BYTES];
	size_t count = 0;
	uint64_t x = 0, y = 0;
	const char *sub = args->positional_count == 1 ? args->positional[0] : "";
	int rc;
	if (strcmp(sub, "verify-inclusion") == 0) {
		if ((rc = hash_arg(args, "leaf-hash", a)) != 0 || (rc = hash_arg(args, "root", b)) != 0 ||
		    (rc = u64_arg(args, "index", &x)) != 0 || (rc = u64_arg(args, "size", &y)) != 0 ||
		    (rc = proof_parse(cli_arg(args, "proof"), proof, &count)) != 0)
			return rc;
		return verdict(args, merkle_verify_inclusion(a, x, y, proof, count, b));
	}
	if (strcmp(sub, "verify-consistency") == 0) {
		if ((rc = hash_arg(args, "root1", a)) != 0 || (rc = hash_arg(args, "root2", b)) != 0 ||
		    (rc = u64_arg(args, "size1", &x)) != 0 || (rc = u64_arg(args, "size2", &y)) != 0 ||
		    (rc = proof_parse(cli_arg(args, "proof"), proof, &count)) != 0)
			return rc;
		return verdict(args, merkle_verify_consistency(x, y, a, b, proof, count));
	}
	return cli_fail("usage: siteledger proof verify-inclusion|verify-consistency [options] (see --help)");
}
