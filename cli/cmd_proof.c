/* cli/cmd_proof.c — proofs for one serial and raw Merkle proof checks:
 *   prove ID --out FILE          a proof bundle (query/bundle.h, kind "proof", written by
 *                                query/export.c on --data or on a node): the registry, the
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

int cli_cmd_prove(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	const char *path = cli_arg(args, "out");
	if (path == NULL || args->positional_count != 1)
		return cli_fail("usage: siteledger prove (--data DIR | --node ADDR --key FILE) ID --out FILE");
	uint64_t stats[QUERY_STATS] = { 0 };
	int rc = cli_read_to_file(args, QUERY_PROVE, path, stats);
	if (rc == 0)
		printf("wrote %s: %" PRIu64 " entries for %s with inclusion proofs\n", path, stats[0], args->positional[0]);
	return rc;
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
