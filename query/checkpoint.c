/* query/checkpoint.c — a data directory's checkpoints (query/bundle.h rule 1): the stored ones,
 * the registry they are checked against, and the newest covering the ledger, signed in memory
 * when none is stored yet (rule 2). `checkpoint` as a query prints that note. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/checkpoint.h"
#include "query/query_internal.h"
#include "store/merkle_store.h"
#include "util/error.h"

#define CHECKPOINT_META_NAME_BYTES 48 /* "checkpoint/" + 20 digits + NUL, with room */

void bundle_checkpoint_origin(store_txn *txn, const char *site, char out[NOTE_NAME_BYTES_MAX + 1])
{
	/* the cluster's origin when `cluster init` stored one (ledger/checkpoint.h "Origin") */
	if (ledger_checkpoint_origin(txn, site, out) != 0)
		snprintf(out, NOTE_NAME_BYTES_MAX + 1, "%s%s", BUNDLE_ORIGIN_PREFIX, site);
}

int bundle_checkpoint_count(store_txn *txn, uint64_t *count)
{
	const void *value;
	size_t len;
	*count = 0;
	int rc = store_meta_get(txn, BUNDLE_META_CHECKPOINT_COUNT, &value, &len);
	if (rc == SL_ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	char text[24];
	if (len == 0 || len >= sizeof text)
		return SL_ECORRUPT;
	memcpy(text, value, len);
	text[len] = '\0';
	char *end = NULL;
	errno = 0;
	unsigned long long n = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || n > BUNDLE_CHECKPOINTS_MAX * 1000ULL)
		return SL_ECORRUPT;
	*count = n;
	return 0;
}

int bundle_checkpoint_get(store_txn *txn, uint64_t index, char *note, size_t *len)
{
	char name[CHECKPOINT_META_NAME_BYTES];
	snprintf(name, sizeof name, "%s%" PRIu64, BUNDLE_META_CHECKPOINT_PREFIX, index);
	const void *value;
	int rc = store_meta_get(txn, name, &value, len);
	if (rc != 0)
		return rc;
	if (*len > NOTE_BYTES_MAX)
		return SL_ECORRUPT;
	memcpy(note, value, *len);
	note[*len] = '\0';
	return 0;
}

int bundle_checkpoint_put(store_txn *txn, uint64_t index, const char *note, size_t len, bool set_count)
{
	char name[CHECKPOINT_META_NAME_BYTES], count[24];
	snprintf(name, sizeof name, "%s%" PRIu64, BUNDLE_META_CHECKPOINT_PREFIX, index);
	int rc = store_meta_put(txn, name, note, len);
	int n = snprintf(count, sizeof count, "%" PRIu64, index);
	if (rc == 0 && set_count)
		rc = store_meta_put(txn, BUNDLE_META_CHECKPOINT_COUNT, count, (size_t)n);
	return rc;
}

struct registry_load {
	struct bundle_registry *registry;
	store_txn *txn;
};

/* The registry as at init (bundle.h "site" lines): a replay starts from it and applies the
 * registry records itself, so sites a record added are left out and sites a record removed are
 * kept; a site's row holds its first key (ledger/rules_registry.c note 4). */
static int site_registry_cb(void *ctx, const char *site, const struct store_site *value)
{
	struct registry_load *load = ctx;
	struct bundle_registry *registry = load->registry;
	struct store_site_node node;
	int rc = store_site_node_get(load->txn, site, &node);
	if (rc != 0 && rc != SL_ENOENT)
		return rc;
	if (rc == 0 && node.added_seq != 0)
		return 0; /* added by a registry record */
	if (registry->count == BUNDLE_SITES_MAX)
		return SL_ELIMIT;
	struct bundle_site *s = &registry->sites[registry->count++];
	snprintf(s->name, sizeof s->name, "%s", site);
	memcpy(s->pk.bytes, value->public_key, sizeof s->pk.bytes);
	s->trusted = true;
	return 0;
}

int bundle_registry_load(store_txn *txn, struct bundle_registry *registry)
{
	memset(registry, 0, sizeof *registry);
	struct registry_load load = { registry, txn };
	return store_site_iterate(txn, site_registry_cb, &load);
}

/* The signer's key: the loaded one, or the key file read now (its name must be the site). */
static int signer_key(const struct query_signer *signer, const char *site, struct crypto_secret_key *sk, char *why,
		      size_t why_size)
{
	if (signer->sk != NULL) {
		*sk = *signer->sk;
		return 0;
	}
	if (signer->key_path == NULL) {
		snprintf(why, why_size, "no key to sign a checkpoint of the whole ledger with");
		return SL_EINVAL;
	}
	char label[RECORD_SITE_SIZE];
	int rc = crypto_secret_key_read(signer->key_path, sk, label, sizeof label);
	if (rc != 0) {
		snprintf(why, why_size, "cannot use key %s: %s", signer->key_path, sl_strerror(rc));
		return rc;
	}
	if (strcmp(label, site) != 0) {
		crypto_secret_key_wipe(sk);
		snprintf(why, why_size, "key %s belongs to site '%s', not '%s'", signer->key_path, label, site);
		return SL_EINVAL;
	}
	return 0;
}

/* A revoked key (or a removed site's) attests nothing after its revocation (D27): refuse to sign
 * with it rather than write a checkpoint every audit refuses. */
static int signer_in_force(store_txn *txn, const char *site, const struct crypto_secret_key *sk, char *why,
			   size_t why_size)
{
	struct crypto_public_key pk;
	struct crypto_key_id id;
	struct store_key key;
	struct store_site row;
	crypto_secret_key_public(sk, &pk);
	crypto_key_id_of(&pk, &id);
	int rc = store_key_get(txn, id.bytes, &key);
	if (rc == 0 && key.revoked) {
		snprintf(why, why_size, "the key signing for %s is revoked in this ledger's registry: sign with a key in force",
			 site);
		return SL_EVALUE;
	}
	rc = rc == SL_ENOENT ? 0 : rc;
	if (rc == 0 && store_site_get(txn, site, &row) == 0 && !row.active) {
		snprintf(why, why_size, "site %s was removed from this ledger's registry", site);
		return SL_EVALUE;
	}
	if (rc != 0)
		snprintf(why, why_size, "cannot read the registry: %s", sl_strerror(rc));
	return rc;
}

/* Sign (size, root) of the tree in txn; note gets body + signature line. */
static int checkpoint_sign(store_txn *txn, const char *site, const struct query_signer *signer, char *note,
			   size_t *len, char *why, size_t why_size)
{
	struct checkpoint cp;
	memset(&cp, 0, sizeof cp);
	bundle_checkpoint_origin(txn, site, cp.origin);
	int rc = store_merkle_size(txn, &cp.size);
	if (rc == 0)
		rc = store_merkle_root(txn, cp.size, cp.root);
	if (rc != 0) {
		snprintf(why, why_size, "cannot read the Merkle tree: %s", sl_strerror(rc));
		return rc;
	}
	struct crypto_secret_key sk;
	rc = signer_key(signer, site, &sk, why, why_size);
	if (rc == 0)
		rc = signer_in_force(txn, site, &sk, why, why_size);
	if (rc != 0) {
		crypto_secret_key_wipe(&sk);
		return rc;
	}
	size_t body_len = 0;
	rc = checkpoint_format(&cp, note, NOTE_BYTES_MAX + 1, &body_len);
	*len = body_len;
	if (rc == 0)
		rc = note_sign(note, body_len, site, &sk, note, NOTE_BYTES_MAX + 1, len);
	crypto_secret_key_wipe(&sk);
	if (rc != 0)
		snprintf(why, why_size, "cannot sign the checkpoint: %s", sl_strerror(rc));
	return rc;
}

/* Tree size of a stored note (0 when unreadable). */
static uint64_t note_size(const char *note, size_t len)
{
	struct note *parsed = malloc(sizeof *parsed);
	struct checkpoint cp = { .size = 0 };
	if (parsed != NULL && note_parse(note, len, parsed) == 0)
		(void)checkpoint_parse(parsed->body, parsed->body_len, &cp);
	free(parsed);
	return cp.size;
}

int bundle_checkpoint_latest(store_txn *txn, const char *site, const struct query_signer *signer, char *note,
			     size_t *len, bool *fresh, char *why, size_t why_size)
{
	uint64_t count = 0, size = 0;
	int rc = bundle_checkpoint_count(txn, &count);
	if (rc == 0)
		rc = store_merkle_size(txn, &size);
	if (rc != 0) {
		snprintf(why, why_size, "cannot read the data directory: %s", sl_strerror(rc));
		return rc;
	}
	*fresh = false;
	if (count > 0 && bundle_checkpoint_get(txn, count, note, len) == 0 && note_size(note, *len) == size)
		return 0; /* the newest stored checkpoint covers the whole ledger */
	*fresh = true;
	return checkpoint_sign(txn, site, signer, note, len, why, why_size);
}

int query_checkpoint_run(const struct query_env *env, const struct query_params *p, struct query_out *out)
{
	(void)p;
	if (env->txn == NULL)
		return 0;
	char note[NOTE_BYTES_MAX + 1], why[QUERY_MESSAGE_BYTES];
	size_t len = 0;
	bool fresh = false;
	if (bundle_checkpoint_latest(env->txn, env->site, &env->signer, note, &len, &fresh, why, sizeof why) != 0)
		return query_fail(out, QUERY_EXIT_USAGE, "%s", why);
	fwrite(note, 1, len, out->doc[0]);
	return QUERY_EXIT_OK;
}
