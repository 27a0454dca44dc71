/* cli/cmd_registry.c — registry records (docs/operations.md "Membership", docs/record-format.md
 * "Registry records"):
 *
 *   registry site-add SITE --public-key FILE.pub --node-id N --peer ADDR --client ADDR [--role R]
 *   registry site-remove SITE
 *   registry key-add SITE --public-key FILE.pub
 *   registry key-revoke SITE --public-key FILE.pub
 *       a registry record proposed and signed by --key's site, applied (--data), submitted
 *       (--node) or, usually, printed as a hex line (--sign-only) to collect cosignatures;
 *   registry cosign --key FILE PROPOSAL [--out FILE]
 *       every record of the file (hex lines) cosigned by --key's site, printed as hex lines; what
 *       each proposes is shown on stderr first, so the cosigner sees what it signs.
 *
 * A record is accepted only when a strict majority of the registered sites signed it (the
 * proposer counts); `submit` sends the cosigned line. The record id does not cover cosignatures,
 * so a refused proposal (too few signatures) cannot be resubmitted with more: propose again.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/error.h"

#define REGISTRY_LINES_MAX APPLY_BATCH_RECORDS_MAX /* lines read of one proposal file */

/* The public key of --public-key, which must be labelled for `site`. */
static int public_key_load(const struct cli_args *args, const char *site, struct record *r)
{
	const char *path = cli_arg(args, "public-key");
	if (path == NULL)
		return cli_fail("--public-key FILE.pub is required");
	struct crypto_public_key pk;
	char label[RECORD_SITE_SIZE];
	int rc = crypto_public_key_read(path, &pk, label, sizeof label);
	if (rc != 0)
		return cli_fail("cannot read public key %s: %s", path, sl_strerror(rc));
	if (strcmp(label, site) != 0)
		return cli_fail("public key %s belongs to site '%s', not '%s'", path, label, site);
	memcpy(r->subject_key, pk.bytes, sizeof r->subject_key);
	return 0;
}

/* site-add's node: id, addresses, role. */
static int node_options(const struct cli_args *args, struct record *r)
{
	const char *id = cli_arg(args, "node-id"), *peer = cli_arg(args, "peer"), *client = cli_arg(args, "client");
	if (id == NULL || peer == NULL || client == NULL)
		return cli_fail("site-add needs --node-id N, --peer ADDR and --client ADDR (the new site's node)");
	int rc = cli_parse_u64("node-id", id, RECORD_NODE_ID_MAX, &r->node_id);
	if (rc != 0)
		return rc;
	r->peer_addr = sl_str_from_cstr(peer);
	r->client_addr = sl_str_from_cstr(client);
	const char *role = cli_arg(args, "role");
	int value = role == NULL ? REGISTRY_ROLE_VOTER : registry_role_from_name(role);
	if (value < 0)
		return cli_fail("--role: expected voter or learner");
	r->node_role = (uint32_t)value;
	return 0;
}

static int propose(struct cli_args *args, int op)
{
	if (args->positional_count != 2)
		return cli_fail("expected 'registry %s SITE [options]'", registry_op_name(op));
	const char *site = args->positional[1];
	if (!record_site_id_valid(site, strlen(site)))
		return cli_fail("'%s' is not a site id (1-32 of a-z 0-9 -, starting with a letter)", site);
	struct record r;
	record_init(&r);
	r.type = RECORD_REGISTRY;
	r.registry_op = (uint32_t)op;
	r.subject_site = sl_str_from_cstr(site);
	int rc = op == REGISTRY_SITE_REMOVE ? 0 : public_key_load(args, site, &r);
	if (rc == 0 && op == REGISTRY_SITE_ADD)
		rc = node_options(args, &r);
	struct sl_error_detail detail = { "" };
	struct record body = r; /* the body's values, checked before any key is read */
	body.site = SL_STR("a");
	body.actor = SL_STR("a");
	body.meaning = MEANING_AUTHORED;
	if (rc == 0 && record_validate(&body, &detail) != 0)
		rc = cli_fail("%s", detail.text);
	return rc != 0 ? rc : cli_records_finish(args, &r, 1, NULL);
}

/* What a proposal says, for the cosigner (stderr). */
static void proposal_describe(const struct record *r, const char *path, unsigned long line)
{
	char key[2 * CRYPTO_KEY_ID_BYTES + 1] = "-";
	struct crypto_public_key pk;
	struct crypto_key_id id;
	memcpy(pk.bytes, r->subject_key, sizeof pk.bytes);
	crypto_key_id_of(&pk, &id);
	if (r->registry_op != REGISTRY_SITE_REMOVE)
		crypto_hex_encode(id.bytes, sizeof id.bytes, key);
	fprintf(stderr, "%s:%lu: %s %.*s (key id %s", path, line, registry_op_name((int)r->registry_op),
		(int)r->subject_site.len, r->subject_site.ptr, key);
	if (r->registry_op == REGISTRY_SITE_ADD)
		fprintf(stderr, ", node %" PRIu64 " %s, peer %.*s, client %.*s", r->node_id,
			registry_role_name((int)r->node_role), (int)r->peer_addr.len, r->peer_addr.ptr,
			(int)r->client_addr.len, r->client_addr.ptr);
	fprintf(stderr, ") proposed by %.*s (%.*s); %zu cosignature(s) before this one\n", (int)r->site.len, r->site.ptr,
		(int)r->actor.len, r->actor.ptr, r->cosignature_count);
}

struct cosigner {
	const struct crypto_secret_key *sk;
	FILE *out;
};

/* One record of the proposal: decode, cosign, write the cosigned hex line. */
static int cosign_record(void *ctx, const char *path, unsigned long number, const uint8_t *bytes, size_t len)
{
	const struct cosigner *c = ctx;
	struct sl_buf encoded;
	sl_buf_init(&encoded, RECORD_BYTES_MAX);
	struct record r;
	record_init(&r);
	struct sl_error_detail detail = { "" };
	int rc = 0;
	if (record_decode(bytes, len, &r, &detail) != 0)
		rc = cli_fail("%s:%lu: malformed record: %s", path, number, detail.text);
	if (rc == 0 && r.type != RECORD_REGISTRY)
		rc = cli_fail("%s:%lu: a %s record, not a registry record", path, number, record_type_name(r.type));
	if (rc == 0)
		proposal_describe(&r, path, number);
	int crc = rc == 0 ? record_cosign(&r, c->sk) : 0;
	if (crc == SL_EEXIST)
		rc = cli_fail("%s:%lu: already cosigned by this key", path, number);
	else if (crc != 0)
		rc = cli_fail("%s:%lu: cannot cosign: %s", path, number, sl_strerror(crc));
	if (rc == 0 && record_encode(&r, &encoded) != 0)
		rc = cli_fail("%s:%lu: cannot encode the cosigned record", path, number);
	for (size_t i = 0; rc == 0 && i < encoded.len; i++)
		fprintf(c->out, "%02x", encoded.data[i]);
	if (rc == 0)
		fputc('\n', c->out);
	record_clear(&r);
	sl_buf_free(&encoded);
	return rc;
}

static int cosign(struct cli_args *args)
{
	const char *key = cli_arg(args, "key");
	if (args->positional_count != 2 || key == NULL)
		return cli_fail("expected 'registry cosign --key FILE PROPOSAL [--out FILE]'");
	struct crypto_secret_key sk;
	char label[RECORD_SITE_SIZE];
	int rc = crypto_secret_key_read(key, &sk, label, sizeof label);
	if (rc != 0)
		return cli_fail("cannot use key %s: %s", key, sl_strerror(rc));
	const char *path = cli_arg(args, "out");
	FILE *out = path != NULL ? fopen(path, "w") : stdout;
	rc = out == NULL ? cli_fail("cannot write %s: %s", path, strerror(errno)) : 0;
	struct cosigner cosigner = { &sk, out };
	if (rc == 0)
		rc = cli_record_file_read(args->positional[1], REGISTRY_LINES_MAX, cosign_record, &cosigner);
	if (path != NULL && out != NULL && fclose(out) != 0 && rc == 0)
		rc = cli_fail("writing %s failed", path);
	if (rc == 0)
		fprintf(stderr, "cosigned by site %s\n", label);
	crypto_secret_key_wipe(&sk);
	return rc;
}

int cli_cmd_registry(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	const char *what = args->positional_count > 0 ? args->positional[0] : "";
	if (strcmp(what, "cosign") == 0)
		return cosign(args);
	int op = registry_op_from_name(what);
	if (op < 0)
		return cli_fail("expected 'registry site-add|site-remove|key-add|key-revoke SITE ...' or 'registry cosign'");
	return propose(args, op);
}
