/* cli/bundle_keys.c — the keys an auditor may rely on, each with the part of the ledger it was in
 * force for (cli/bundle.h "Keys in force", docs/decisions.md D27).
 *
 * Design notes:
 *  1. A key is in force from the record that added it (seq 0: registered at init) until the record
 *     that revoked it or removed its site. It attests a tree of size N (a checkpoint signature)
 *     when it was not revoked within the first N entries: revoked_seq == 0 or revoked_seq > N. It
 *     signs record s when, processing entries in order, it is known and unrevoked at s.
 *  2. Init keys are trusted only when a trusted key file matches (cli/bundle.h rule 3); every later
 *     key is vouched for by the majority of sites that signed the registry record adding it: the
 *     full audit's replay checks that record like any other, a partial audit checks it here
 *     (bundle_keys_registry_record), before its effect is taken.
 *  3. Loading from a store (the audit's scratch store after the replay, or a data directory) reads
 *     the keys table, the key events (added_seq, revoked_seq) and the sites' removals.
 */
#include <inttypes.h>
#include <string.h>

#include "cli/bundle.h"
#include "util/error.h"

static struct bundle_key_site *site_find(struct bundle_keys *k, const char *name)
{
	for (size_t i = 0; i < k->site_count; i++)
		if (strcmp(k->sites[i].name, name) == 0)
			return &k->sites[i];
	return NULL;
}

/* Room for one more of an array of `size`-byte items that holds *count of *cap, at most max. */
static int grow(void **items, size_t size, size_t count, size_t *cap, size_t max)
{
	if (count < *cap)
		return 0;
	if (count >= max)
		return SL_ELIMIT;
	size_t want = *cap ? *cap * 2 : 16;
	want = want < max ? want : max;
	void *more = realloc(*items, want * size);
	if (more == NULL)
		return SL_ENOMEM;
	*items = more;
	*cap = want;
	return 0;
}

void bundle_keys_free(struct bundle_keys *k)
{
	free(k->keys);
	free(k->sites);
	memset(k, 0, sizeof *k);
}

int bundle_keys_copy(struct bundle_keys *to, const struct bundle_keys *from)
{
	memset(to, 0, sizeof *to);
	to->keys = malloc((from->count ? from->count : 1) * sizeof *to->keys);
	to->sites = malloc((from->site_count ? from->site_count : 1) * sizeof *to->sites);
	if (to->keys == NULL || to->sites == NULL) {
		bundle_keys_free(to);
		return SL_ENOMEM;
	}
	memcpy(to->keys, from->keys, from->count * sizeof *to->keys);
	memcpy(to->sites, from->sites, from->site_count * sizeof *to->sites);
	to->count = to->cap = from->count;
	to->site_count = to->site_cap = from->site_count;
	return 0;
}

static int site_add(struct bundle_keys *k, const char *name, uint64_t removed_seq)
{
	struct bundle_key_site *s = site_find(k, name);
	if (s == NULL) {
		int rc = grow((void **)&k->sites, sizeof *k->sites, k->site_count, &k->site_cap, BUNDLE_KEY_SITES_MAX);
		if (rc != 0)
			return rc;
		s = &k->sites[k->site_count++];
		snprintf(s->name, sizeof s->name, "%s", name);
	}
	s->removed_seq = removed_seq;
	return 0;
}

static struct bundle_key *key_add(struct bundle_keys *k, const char *site, const struct crypto_public_key *pk,
				  uint64_t added_seq, bool trusted)
{
	if (grow((void **)&k->keys, sizeof *k->keys, k->count, &k->cap, BUNDLE_KEYS_MAX) != 0)
		return NULL;
	struct bundle_key *key = &k->keys[k->count++];
	memset(key, 0, sizeof *key);
	snprintf(key->site, sizeof key->site, "%s", site);
	key->pk = *pk;
	crypto_key_id_of(pk, &key->id);
	key->added_seq = added_seq;
	key->trusted = trusted;
	return key;
}

int bundle_keys_from_registry(struct bundle_keys *k, const struct bundle_registry *registry)
{
	k->count = 0;
	k->site_count = 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < registry->count; i++) {
		const struct bundle_site *s = &registry->sites[i];
		rc = site_add(k, s->name, 0);
		if (rc == 0 && key_add(k, s->name, &s->pk, 0, s->trusted) == NULL)
			rc = SL_ENOMEM;
	}
	return rc;
}

struct keys_load {
	struct bundle_keys *keys;
	const struct bundle_registry *init;
	store_txn *txn;
};

static int key_load_cb(void *ctx, const uint8_t key_id[16], const struct store_key *value)
{
	struct keys_load *load = ctx;
	struct store_key_event event = { 0, 0 };
	int rc = store_key_event_get(load->txn, key_id, &event);
	if (rc != 0 && rc != SL_ENOENT)
		return rc;
	struct crypto_public_key pk;
	memcpy(pk.bytes, value->public_key, sizeof pk.bytes);
	bool trusted = true; /* note 2: vouched for by the record that added it */
	if (event.added_seq == 0 && load->init != NULL) {
		const struct bundle_site *s = bundle_registry_find(load->init, value->site);
		trusted = s != NULL && s->trusted && memcmp(s->pk.bytes, pk.bytes, sizeof pk.bytes) == 0;
	}
	struct bundle_key *key = key_add(load->keys, value->site, &pk, event.added_seq, trusted);
	if (key == NULL)
		return SL_ELIMIT;
	key->revoked_seq = value->revoked ? event.revoked_seq : 0;
	if (value->revoked && key->revoked_seq == 0)
		key->revoked_seq = 1; /* revoked without a recorded seq: attests nothing */
	return 0;
}

static int site_load_cb(void *ctx, const char *site, const struct store_site *value)
{
	struct keys_load *load = ctx;
	struct store_site_node node = { .removed_seq = 0 };
	int rc = store_site_node_get(load->txn, site, &node);
	if (rc != 0 && rc != SL_ENOENT)
		return rc;
	uint64_t removed = node.removed_seq;
	if (!value->active && removed == 0)
		removed = 1; /* inactive without a recorded removal: its keys attest nothing */
	return site_add(load->keys, site, removed);
}

int bundle_keys_load(struct bundle_keys *k, store_txn *txn, const struct bundle_registry *init)
{
	k->count = 0;
	k->site_count = 0;
	struct keys_load load = { k, init, txn };
	int rc = store_site_iterate(txn, site_load_cb, &load);
	if (rc == 0)
		rc = store_key_iterate(txn, key_load_cb, &load);
	return rc;
}

/* The index of the key with this id; k->count when there is none. */
static size_t key_index(const struct bundle_keys *k, const uint8_t key_id[16])
{
	size_t i = 0;
	while (i < k->count && memcmp(k->keys[i].id.bytes, key_id, sizeof k->keys[i].id.bytes) != 0)
		i++;
	return i;
}

const struct bundle_key *bundle_keys_find(const struct bundle_keys *k, const uint8_t key_id[16])
{
	size_t i = key_index(k, key_id);
	return i < k->count ? &k->keys[i] : NULL;
}

/* The seq from which the key stops counting: its revocation or its site's removal, whichever is
 * first; 0 when neither happened. */
static uint64_t key_end(const struct bundle_keys *k, const struct bundle_key *key)
{
	uint64_t end = key->revoked_seq;
	for (size_t i = 0; i < k->site_count; i++)
		if (strcmp(k->sites[i].name, key->site) == 0 && k->sites[i].removed_seq != 0 &&
		    (end == 0 || k->sites[i].removed_seq < end))
			end = k->sites[i].removed_seq;
	return end;
}

bool bundle_key_attests(const struct bundle_keys *k, const struct bundle_key *key, uint64_t size)
{
	uint64_t end = key_end(k, key);
	return key->trusted && (end == 0 || end > size);
}

/* The key belongs to `site` and was in force at record seq (note 1). */
static bool in_force_at(const struct bundle_keys *k, const struct bundle_key *key, const char *site, uint64_t seq)
{
	uint64_t end = key_end(k, key);
	return strcmp(key->site, site) == 0 && key->added_seq < seq && (end == 0 || end > seq);
}

const struct bundle_key *bundle_keys_signer(const struct bundle_keys *k, const char *site, const uint8_t key_id[16],
					    uint64_t seq)
{
	const struct bundle_key *key = bundle_keys_find(k, key_id);
	return key != NULL && in_force_at(k, key, site, seq) ? key : NULL;
}

/* Sites registered (not removed) before seq. */
static size_t sites_active(const struct bundle_keys *k, uint64_t seq)
{
	size_t active = 0;
	for (size_t i = 0; i < k->site_count; i++)
		active += k->sites[i].removed_seq == 0 || k->sites[i].removed_seq > seq;
	return active;
}

static bool listed(const char (*names)[RECORD_SITE_SIZE], size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* Check 3 of ledger/rules_registry.c for a record the bundle says was accepted at seq: what the
 * ledger would have refused it for, or NULL. */
static const char *registry_refusal(const struct bundle_keys *k, uint64_t seq, uint32_t op, const char *subject,
				    const struct bundle_key *known)
{
	const struct bundle_key_site *site = NULL;
	for (size_t i = 0; i < k->site_count && site == NULL; i++)
		if (strcmp(k->sites[i].name, subject) == 0)
			site = &k->sites[i];
	bool registered = site != NULL && (site->removed_seq == 0 || site->removed_seq > seq);
	size_t in_force = 0; /* the subject's keys in force at seq (a revocation must leave one) */
	for (size_t i = 0; op == REGISTRY_KEY_REVOKE && i < k->count; i++)
		in_force += in_force_at(k, &k->keys[i], subject, seq);
	switch (op) {
	case REGISTRY_SITE_ADD:
		return site != NULL || known != NULL ? "a site and a key never registered before (REGISTRY_DUPLICATE)" : NULL;
	case REGISTRY_KEY_ADD:
		return !registered ? "a registered subject site (UNKNOWN_SITE)"
		       : known != NULL ? "a key never registered before (REGISTRY_DUPLICATE)"
				       : NULL;
	case REGISTRY_KEY_REVOKE:
		return !registered ? "a registered subject site (UNKNOWN_SITE)"
		       : known == NULL ? "a registered key (UNKNOWN_KEY)"
		       : strcmp(known->site, subject) != 0 ? "a key of the subject site (SITE_MISMATCH)"
		       : bundle_keys_signer(k, subject, known->id.bytes, seq) == NULL ? "a key in force (REGISTRY_DUPLICATE)"
		       : in_force <= 1 ? "another key in force for the site (REGISTRY_LAST)"
				       : NULL;
	case REGISTRY_SITE_REMOVE:
		return !registered ? "a registered subject site (UNKNOWN_SITE)"
		       : sites_active(k, seq) <= 1 ? "another registered site (REGISTRY_LAST)"
						   : NULL;
	default:
		return "a registry operation";
	}
}

int bundle_keys_registry_record(struct bundle_keys *k, uint64_t seq, const struct record *r, const char *signer_site,
				char *why, size_t why_size)
{
	char signers[1 + RECORD_COSIGNATURES_MAX][RECORD_SITE_SIZE];
	size_t count = 0;
	snprintf(signers[count++], sizeof signers[0], "%s", signer_site);
	for (size_t i = 0; i < r->cosignature_count; i++) {
		const struct bundle_key *key = bundle_keys_find(k, r->cosignatures[i].key_id.bytes);
		if (key == NULL || bundle_keys_signer(k, key->site, key->id.bytes, seq) == NULL || !key->trusted ||
		    record_cosignature_verify(r, i, &key->pk) != 0) {
			snprintf(why, why_size, "cosignature %zu by a key in force that verifies", i + 1);
			return SL_EBADSIG;
		}
		if (!listed(signers, count, key->site))
			snprintf(signers[count++], sizeof signers[0], "%s", key->site);
	}
	size_t active = sites_active(k, seq);
	if (2 * count <= active) {
		snprintf(why, why_size, "signatures of a majority of the %zu registered sites (found %zu)", active, count);
		return SL_EBADSIG;
	}
	char subject[RECORD_SITE_SIZE];
	struct crypto_public_key pk;
	memcpy(pk.bytes, r->subject_key, sizeof pk.bytes);
	if (sl_str_copy(r->subject_site, subject, sizeof subject) != 0) {
		snprintf(why, why_size, "a subject site");
		return SL_EVALUE;
	}
	struct crypto_key_id id;
	crypto_key_id_of(&pk, &id);
	size_t at = key_index(k, id.bytes);
	struct bundle_key *known = at < k->count ? &k->keys[at] : NULL;
	const char *refused = registry_refusal(k, seq, r->registry_op, subject, known);
	if (refused != NULL) {
		snprintf(why, why_size, "%s", refused);
		return SL_EVALUE;
	}
	int rc = 0;
	struct bundle_key_site *site = site_find(k, subject);
	switch (r->registry_op) {
	case REGISTRY_SITE_ADD:
		rc = site_add(k, subject, 0);
		if (rc == 0 && key_add(k, subject, &pk, seq, true) == NULL)
			rc = SL_ELIMIT;
		break;
	case REGISTRY_KEY_ADD:
		if (key_add(k, subject, &pk, seq, true) == NULL)
			rc = SL_ELIMIT;
		break;
	case REGISTRY_KEY_REVOKE:
		known->revoked_seq = seq;
		break;
	default: /* REGISTRY_SITE_REMOVE: registry_refusal knows no other operation */
		site->removed_seq = seq;
		break;
	}
	if (rc != 0)
		snprintf(why, why_size, "at most %u keys and %u sites (or memory for them)", BUNDLE_KEYS_MAX,
			 BUNDLE_KEY_SITES_MAX);
	return rc;
}
