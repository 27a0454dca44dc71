/* cli/cmd_checkpoint_record.c — `siteledger checkpoint --data DIR --sign-only [--size N]`: the data
 * directory's tree head (or its head at size N) as a signed checkpoint record (ledger/checkpoint.h),
 * printed as a hex line like every record command's --sign-only, for `submit --node` to a cluster.
 *
 * This is how a site attests a ledger its node does not hold (a replica copied for an auditor, a
 * site whose node is down), and how a checkpoint made elsewhere is checked by the cluster: the
 * cluster's apply rule accepts it only when its root is the cluster's own at that size (otherwise
 * CHECKPOINT_ROOT_MISMATCH and a divergence alarm at every node). The note signature is made with
 * the same key as the record, under the data directory's site and checkpoint origin.
 */
#include <string.h>

#include "cli/audit.h"
#include "ledger/checkpoint.h"
#include "store/merkle_store.h"
#include "util/error.h"

/* Origin, size (--size or the whole tree) and root of the data directory. */
static int head_read(const struct cli_args *args, struct cli_ledger *ledger, char origin[NOTE_NAME_BYTES_MAX + 1],
		     uint64_t *size, uint8_t root[MERKLE_HASH_BYTES])
{
	store_txn *txn = NULL;
	uint64_t tree = 0;
	int rc = store_txn_begin(ledger->st, false, &txn);
	if (rc == 0)
		rc = ledger_checkpoint_origin(txn, ledger->site, origin);
	if (rc == 0)
		rc = store_merkle_size(txn, &tree);
	*size = tree;
	if (rc == 0 && cli_arg(args, "size") != NULL) {
		rc = cli_parse_u64("size", cli_arg(args, "size"), UINT64_MAX, size);
		if (rc == 0 && *size > tree)
			rc = cli_fail("--size %llu: the ledger holds %llu entries", (unsigned long long)*size,
				      (unsigned long long)tree);
		if (rc != 0) {
			store_txn_abort(txn);
			return rc;
		}
	}
	if (rc == 0 && *size == 0)
		rc = SL_ENOENT;
	if (rc == 0)
		rc = store_merkle_root(txn, *size, root);
	if (txn != NULL)
		store_txn_abort(txn);
	if (rc != 0)
		return cli_fail("cannot read the tree head: %s", rc == SL_ENOENT ? "the ledger is empty" : sl_strerror(rc));
	return 0;
}

int cli_checkpoint_record(const struct cli_args *args)
{
	struct cli_ledger ledger;
	int rc = cli_ledger_open(args, false, &ledger);
	if (rc != 0)
		return rc;
	char origin[NOTE_NAME_BYTES_MAX + 1], site[RECORD_SITE_SIZE], label[RECORD_SITE_SIZE];
	uint8_t root[MERKLE_HASH_BYTES];
	uint64_t size = 0;
	rc = head_read(args, &ledger, origin, &size, root);
	const char *key = cli_arg(args, "key") != NULL ? cli_arg(args, "key") : ledger.key_path;
	snprintf(site, sizeof site, "%s", ledger.site);
	cli_ledger_close(&ledger);
	if (rc != 0)
		return rc;
	struct crypto_secret_key sk;
	rc = crypto_secret_key_read(key, &sk, label, sizeof label);
	if (rc != 0)
		return cli_fail("cannot use key %s: %s", key, sl_strerror(rc));
	struct record record;
	record_init(&record);
	rc = strcmp(label, site) == 0 ? ledger_checkpoint_fill(&record, origin, size, root, site, &sk) : SL_EPERM;
	crypto_secret_key_wipe(&sk);
	if (rc == SL_EPERM)
		return cli_fail("key %s belongs to site '%s', not '%s'", key, label, site);
	if (rc != 0)
		return cli_fail("cannot sign the checkpoint: %s", sl_strerror(rc));
	return cli_records_finish(args, &record, 1, NULL); /* envelope, record signature, hex line */
}
