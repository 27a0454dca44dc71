/* cli/cmd_setup.c — keygen, init, and opening a data directory for the other commands. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "ledger/checkpoint.h"
#include "ledger/lifecycle.h"
#include "util/error.h"

int cli_cmd_keygen(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	const char *site = cli_arg(args, "site");
	const char *out = cli_arg(args, "out");
	if (site == NULL || out == NULL)
		return cli_fail("--site and --out are required");
	if (!record_site_id_valid(site, strlen(site)))
		return cli_fail("site id '%s' is not valid: 1-32 of a-z 0-9 -, starting with a letter", site);
	char pub_path[PATH_MAX];
	if (snprintf(pub_path, sizeof pub_path, "%s.pub", out) >= (int)sizeof pub_path)
		return cli_fail("path too long: %s", out);
	struct crypto_public_key pk;
	struct crypto_secret_key sk;
	int rc = crypto_keypair_generate(&pk, &sk);
	if (rc == 0)
		rc = crypto_secret_key_write(out, site, &sk);
	crypto_secret_key_wipe(&sk);
	if (rc != 0)
		return cli_fail("cannot write %s: %s", out, sl_strerror(rc));
	rc = crypto_public_key_write(pub_path, site, &pk);
	if (rc != 0)
		return cli_fail("cannot write %s: %s", pub_path, sl_strerror(rc));
	struct crypto_key_id key_id;
	crypto_key_id_of(&pk, &key_id);
	if (cli_flag(args, "json")) {
		printf("{\"site\":");
		cli_json_cstring(stdout, site);
		printf(",\"secret_key_file\":");
		cli_json_cstring(stdout, out);
		printf(",\"public_key_file\":");
		cli_json_cstring(stdout, pub_path);
		printf(",\"key_id\":");
		cli_json_hex(stdout, key_id.bytes, sizeof key_id.bytes);
		printf("}\n");
	} else {
		char hex[2 * CRYPTO_KEY_ID_BYTES + 1];
		crypto_hex_encode(key_id.bytes, sizeof key_id.bytes, hex);
		printf("wrote %s (secret, mode 0600) and %s for site %s, key id %s\n", out, pub_path, site, hex);
	}
	return CLI_EXIT_ACCEPTED;
}

static int init_register_site(store_txn *txn, const char *spec)
{
	const char *equals = strchr(spec, '=');
	char site[RECORD_SITE_SIZE];
	size_t site_len = (size_t)(equals - spec);
	if (site_len == 0 || site_len >= sizeof site || !record_site_id_valid(spec, site_len))
		return cli_fail("--site %s: '%.*s' is not a valid site id", spec, (int)site_len, spec);
	memcpy(site, spec, site_len);
	site[site_len] = '\0';
	struct crypto_public_key pk;
	char label[RECORD_SITE_SIZE];
	int rc = crypto_public_key_read(equals + 1, &pk, label, sizeof label);
	if (rc != 0)
		return cli_fail("--site %s: cannot read public key %s: %s", spec, equals + 1, sl_strerror(rc));
	if (strcmp(label, site) != 0)
		return cli_fail("--site %s: key file %s belongs to site '%s', not '%s'", spec, equals + 1, label,
				site);
	rc = ledger_registry_add_site(txn, site, &pk);
	if (rc != 0)
		return cli_fail("registering site %s: %s", site, sl_strerror(rc));
	return 0;
}

static int init_write(struct cli_ledger *ledger, const struct cli_args *args, const struct crypto_public_key *pk)
{
	store_txn *txn = NULL;
	int rc = store_txn_begin(ledger->st, true, &txn);
	if (rc != 0)
		return cli_fail("cannot write the data directory: %s", sl_strerror(rc));
	const void *existing;
	size_t existing_len;
	if (store_meta_get(txn, CLI_META_SITE, &existing, &existing_len) == 0) {
		store_txn_abort(txn);
		return cli_fail("%s is already initialised (site %.*s)", cli_arg(args, "data"), (int)existing_len,
				(const char *)existing);
	}
	rc = store_meta_put(txn, CLI_META_SITE, ledger->site, strlen(ledger->site));
	if (rc == 0)
		rc = store_meta_put(txn, CLI_META_KEY_PATH, ledger->key_path, strlen(ledger->key_path));
	if (rc == 0 && !cli_flag(args, "join")) /* joining: the site-add record registers it */
		rc = ledger_registry_add_site(txn, ledger->site, pk);
	const char *origin = cli_arg(args, "origin");
	if (rc == 0 && origin != NULL && (strlen(origin) == 0 || strlen(origin) > RECORD_ORIGIN_CHARS_MAX))
		rc = SL_EINVAL;
	if (rc == 0 && origin != NULL)
		rc = store_meta_put(txn, LEDGER_META_ORIGIN, origin, strlen(origin));
	if (rc != 0) {
		store_txn_abort(txn);
		return cli_fail("cannot initialise: %s", sl_strerror(rc));
	}
	for (size_t i = 0; i < cli_arg_count(args, "site"); i++) {
		const char *spec = cli_arg_nth(args, "site", i);
		if (strchr(spec, '=') == NULL)
			continue;
		rc = init_register_site(txn, spec);
		if (rc != 0) {
			store_txn_abort(txn);
			return rc;
		}
	}
	rc = store_txn_commit(txn);
	if (rc != 0)
		return cli_fail("cannot commit: %s (%s)", sl_strerror(rc), store_last_error(ledger->st));
	return 0;
}

int cli_cmd_init(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	const char *data = cli_arg(args, "data");
	const char *key = cli_arg(args, "key");
	const char *own_site = NULL;
	for (size_t i = 0; i < cli_arg_count(args, "site"); i++) {
		const char *spec = cli_arg_nth(args, "site", i);
		if (strchr(spec, '=') != NULL)
			continue;
		if (own_site != NULL)
			return cli_fail("two sites given without '=': '%s' and '%s'", own_site, spec);
		own_site = spec;
	}
	if (data == NULL || key == NULL || own_site == NULL)
		return cli_fail("--data, --site and --key are required");
	struct cli_ledger ledger;
	memset(&ledger, 0, sizeof ledger);
	if (strlen(own_site) >= sizeof ledger.site || !record_site_id_valid(own_site, strlen(own_site)))
		return cli_fail("site id '%s' is not valid: 1-32 of a-z 0-9 -, starting with a letter", own_site);
	strcpy(ledger.site, own_site);
	if (realpath(key, ledger.key_path) == NULL)
		return cli_fail("cannot find key file %s: %s", key, strerror(errno));
	struct crypto_secret_key sk;
	char label[RECORD_SITE_SIZE];
	int rc = crypto_secret_key_read(ledger.key_path, &sk, label, sizeof label);
	if (rc != 0)
		return cli_fail("cannot use key %s: %s", key, sl_strerror(rc));
	struct crypto_public_key pk;
	crypto_secret_key_public(&sk, &pk);
	crypto_secret_key_wipe(&sk);
	if (strcmp(label, own_site) != 0)
		return cli_fail("key %s belongs to site '%s', not '%s'", key, label, own_site);
	rc = store_open(&ledger.st, data, NULL);
	if (rc != 0)
		return cli_fail("cannot open %s: %s%s", data, sl_strerror(rc),
				rc == SL_EBUSY ? " (another siteledger process is using it)" : "");
	rc = init_write(&ledger, args, &pk);
	store_close(ledger.st);
	if (rc != 0)
		return rc;
	if (cli_flag(args, "json")) {
		printf("{\"data\":");
		cli_json_cstring(stdout, data);
		printf(",\"site\":");
		cli_json_cstring(stdout, own_site);
		printf("}\n");
	} else {
		printf("initialised %s for site %s\n", data, own_site);
	}
	return CLI_EXIT_ACCEPTED;
}

int cli_ledger_open(const struct cli_args *args, bool write, struct cli_ledger *ledger)
{
	memset(ledger, 0, sizeof(*ledger));
	const char *data = cli_arg(args, "data");
	if (data == NULL)
		return cli_fail("--data DIR is required (the local ledger made by 'siteledger init')");
	char marker[PATH_MAX];
	struct stat st;
	snprintf(marker, sizeof marker, "%s/data.mdb", data);
	if (stat(marker, &st) != 0)
		return cli_fail("%s is not a siteledger data directory (run 'siteledger init' first)", data);
	struct store_options options = { .read_only = !write };
	int rc = store_open(&ledger->st, data, &options);
	if (rc != 0) {
		const char *why = store_last_error(NULL);
		return cli_fail("cannot open %s: %s%s", data, why != NULL ? why : sl_strerror(rc),
				rc == SL_EBUSY ? " (another siteledger process is using it)" : "");
	}
	store_txn *txn = NULL;
	rc = store_txn_begin(ledger->st, false, &txn);
	const void *value = NULL;
	size_t len = 0;
	if (rc == 0)
		rc = store_meta_get(txn, CLI_META_SITE, &value, &len);
	if (rc == 0)
		rc = len < sizeof ledger->site ? 0 : SL_ECORRUPT;
	if (rc == 0) {
		memcpy(ledger->site, value, len);
		ledger->site[len] = '\0';
		rc = store_meta_get(txn, CLI_META_KEY_PATH, &value, &len);
		if (rc == 0 && len < sizeof ledger->key_path) {
			memcpy(ledger->key_path, value, len);
			ledger->key_path[len] = '\0';
		}
	}
	if (txn != NULL)
		store_txn_abort(txn);
	if (rc != 0) {
		store_close(ledger->st);
		ledger->st = NULL;
		return cli_fail("%s is not initialised (run 'siteledger init'): %s", data, sl_strerror(rc));
	}
	return 0;
}

void cli_ledger_close(struct cli_ledger *ledger)
{
	if (ledger->st != NULL)
		store_close(ledger->st);
	ledger->st = NULL;
}
