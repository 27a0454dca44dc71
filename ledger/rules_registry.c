/* ledger/rules_registry.c — registry records: site add/remove, key add/revoke, accepted only when
 * a strict majority of the registered sites signed them (docs/lifecycle.md "Registry").
 *
 * Check order (every check before the first write, apply_internal.h convention 3):
 *   1. cosignatures: each names a registered, unrevoked key of a registered site and verifies
 *      over the record's unsigned encoding (record_cosignature_verify), else BAD_COSIGNATURE with
 *      item = the cosignature's index;
 *   2. majority: the record's own site plus the cosigners' sites, each site counted once, must be
 *      more than half of the registered sites (REGISTRY_NO_MAJORITY);
 *   3. the operation: UNKNOWN_SITE, UNKNOWN_KEY, SITE_MISMATCH, REGISTRY_DUPLICATE, REGISTRY_LAST.
 *
 * Design notes:
 *  1. "Registered" means a row in the sites table with active = 1 as this write transaction sees
 *     it, so records earlier in the same batch count (apply.h rule 4). The pipeline drops its
 *     registry cache after an accepted registry record (apply.c decision 3): a key revoked by
 *     record s is refused for record s + 1 on (UNKNOWN_KEY); records before s stay as they were.
 *  2. A removed site's id is never registered again (REGISTRY_DUPLICATE): a site id names one
 *     period of membership in the ledger's history, so an auditor never has to ask which one.
 *  3. Cosignatures are verified here, synchronously, not with the batch: registry changes are
 *     rare and few (RECORD_COSIGNATURES_MAX), and the keys they need may be added by the batch.
 *  4. What a record changed is kept with its seq: key_events (added_seq, revoked_seq: the
 *     revocation index the audit and `siteledger members` read) and site_nodes (the node a
 *     site-add announced, and removed_seq). store_site.public_key stays the site's first key.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "ledger/apply_internal.h"
#include "ledger/lifecycle.h"
#include "util/error.h"

#define SIGNER_SITES_MAX (1 + RECORD_COSIGNATURES_MAX)

struct site_count {
	uint64_t active;
};

static int site_count_cb(void *ctx, const char *site, const struct store_site *value)
{
	(void)site;
	struct site_count *count = ctx;
	count->active += value->active != 0;
	return 0;
}

struct key_count {
	const char *site;
	uint64_t in_force;
};

static int key_count_cb(void *ctx, const uint8_t key_id[16], const struct store_key *value)
{
	(void)key_id;
	struct key_count *count = ctx;
	count->in_force += !value->revoked && strcmp(value->site, count->site) == 0;
	return 0;
}

/* Active sites in the registry. */
static int sites_active(struct apply_ctx *ctx, uint64_t *out)
{
	struct site_count count = { 0 };
	int rc = store_site_iterate(ctx->txn, site_count_cb, &count);
	*out = count.active;
	return rc;
}

/* 0 with the site's row when it is registered (active), OUTCOME_UNKNOWN_SITE otherwise. */
static int site_registered(struct apply_ctx *ctx, const char *site, struct store_site *out)
{
	int rc = store_site_get(ctx->txn, site, out);
	if (rc == SL_ENOENT || (rc == 0 && !out->active))
		return OUTCOME_UNKNOWN_SITE;
	return rc;
}

static bool signer_add(char sites[][STORE_SITE_SIZE], size_t *count, const char *site)
{
	for (size_t i = 0; i < *count; i++)
		if (strcmp(sites[i], site) == 0)
			return false;
	assert(*count < SIGNER_SITES_MAX);
	snprintf(sites[*count], STORE_SITE_SIZE, "%s", site);
	(*count)++;
	return true;
}

/* Checks 1 and 2 (see the top of the file). */
static int check_signers(struct apply_ctx *ctx)
{
	const struct record *r = ctx->record;
	char sites[SIGNER_SITES_MAX][STORE_SITE_SIZE];
	size_t count = 0;
	signer_add(sites, &count, ctx->site); /* check_envelope: its key and site are registered */
	for (size_t i = 0; i < r->cosignature_count; i++) {
		struct store_key key;
		struct store_site site;
		int rc = store_key_get(ctx->txn, r->cosignatures[i].key_id.bytes, &key);
		if (rc == SL_ENOENT || (rc == 0 && key.revoked))
			return apply_verdict(ctx, OUTCOME_BAD_COSIGNATURE, (int32_t)i);
		if (rc == 0)
			rc = site_registered(ctx, key.site, &site);
		if (rc != 0)
			return apply_verdict(ctx, rc == OUTCOME_UNKNOWN_SITE ? OUTCOME_BAD_COSIGNATURE : rc, (int32_t)i);
		struct crypto_public_key pk;
		memcpy(pk.bytes, key.public_key, sizeof pk.bytes);
		rc = record_cosignature_verify(r, i, &pk);
		if (rc != 0)
			return apply_verdict(ctx, rc == SL_EBADSIG ? OUTCOME_BAD_COSIGNATURE : rc, (int32_t)i);
		signer_add(sites, &count, key.site);
	}
	uint64_t active = 0;
	int rc = sites_active(ctx, &active);
	if (rc != 0)
		return rc;
	return apply_verdict(ctx, 2 * (uint64_t)count > active ? 0 : OUTCOME_REGISTRY_NO_MAJORITY, -1);
}

struct node_clash {
	uint64_t node_id;
	bool used;
};

static int node_clash_cb(void *ctx, const char *site, const struct store_site_node *value)
{
	(void)site;
	struct node_clash *clash = ctx;
	clash->used = clash->used || (value->node_id == clash->node_id && value->removed_seq == 0);
	return 0;
}

/* The subject site as a C string; the decoder checked its syntax. */
static void subject_of(const struct record *r, char out[STORE_SITE_SIZE])
{
	if (!apply_str_copy(r->subject_site, out, STORE_SITE_SIZE))
		out[0] = '\0'; /* an empty id matches no row: UNKNOWN_SITE */
}

static int site_add(struct apply_ctx *ctx, const char *subject, const struct crypto_key_id *key_id)
{
	const struct record *r = ctx->record;
	struct store_site site;
	struct store_key key;
	int rc = store_site_get(ctx->txn, subject, &site);
	if (rc != SL_ENOENT)
		return apply_verdict(ctx, rc == 0 ? OUTCOME_REGISTRY_DUPLICATE : rc, -1); /* note 2 */
	rc = store_key_get(ctx->txn, key_id->bytes, &key);
	if (rc != SL_ENOENT)
		return apply_verdict(ctx, rc == 0 ? OUTCOME_REGISTRY_DUPLICATE : rc, -1);
	struct node_clash clash = { r->node_id, false };
	rc = store_site_node_iterate(ctx->txn, node_clash_cb, &clash);
	if (rc != 0 || clash.used)
		return apply_verdict(ctx, rc != 0 ? rc : OUTCOME_REGISTRY_DUPLICATE, -1);

	struct crypto_public_key pk;
	memcpy(pk.bytes, r->subject_key, sizeof pk.bytes);
	rc = ledger_registry_add_site(ctx->txn, subject, &pk);
	struct store_key_event event = { .added_seq = ctx->seq };
	if (rc == 0)
		rc = store_key_event_put(ctx->txn, key_id->bytes, &event);
	struct store_site_node node;
	memset(&node, 0, sizeof node);
	node.node_id = r->node_id;
	node.added_seq = ctx->seq;
	node.role = (uint8_t)r->node_role;
	if (!apply_str_copy(r->peer_addr, node.peer_addr, sizeof node.peer_addr) ||
	    !apply_str_copy(r->client_addr, node.client_addr, sizeof node.client_addr))
		return SL_EINVAL; /* the decoder bounds them by RECORD_ADDR_CHARS_MAX */
	return rc == 0 ? store_site_node_put(ctx->txn, subject, &node) : rc;
}

static int site_remove(struct apply_ctx *ctx, const char *subject)
{
	struct store_site site;
	int rc = site_registered(ctx, subject, &site);
	uint64_t active = 0;
	if (rc == 0)
		rc = sites_active(ctx, &active);
	if (rc == 0 && active <= 1)
		rc = OUTCOME_REGISTRY_LAST;
	if (rc != 0)
		return apply_verdict(ctx, rc, -1);
	site.active = 0;
	rc = store_site_put(ctx->txn, subject, &site);
	struct store_site_node node;
	memset(&node, 0, sizeof node); /* a site registered at init: no row yet, node unknown here */
	int got = rc == 0 ? store_site_node_get(ctx->txn, subject, &node) : rc;
	if (got != 0 && got != SL_ENOENT)
		return got;
	node.removed_seq = ctx->seq;
	return store_site_node_put(ctx->txn, subject, &node);
}

/* Where key add and revoke start: OUTCOME_UNKNOWN_SITE unless the subject site is registered,
 * else what store_key_get answers for the key (0 with its row, SL_ENOENT, or an error). */
static int subject_key_get(struct apply_ctx *ctx, const char *subject, const struct crypto_key_id *key_id,
			   struct store_key *key)
{
	struct store_site site;
	int rc = site_registered(ctx, subject, &site);
	return rc != 0 ? rc : store_key_get(ctx->txn, key_id->bytes, key);
}

static int key_add(struct apply_ctx *ctx, const char *subject, const struct crypto_key_id *key_id)
{
	struct store_key key;
	int rc = subject_key_get(ctx, subject, key_id, &key);
	if (rc != SL_ENOENT)
		return apply_verdict(ctx, rc == 0 ? OUTCOME_REGISTRY_DUPLICATE : rc, -1);
	memset(&key, 0, sizeof key);
	memcpy(key.public_key, ctx->record->subject_key, sizeof key.public_key);
	snprintf(key.site, sizeof key.site, "%s", subject);
	rc = store_key_put(ctx->txn, key_id->bytes, &key);
	struct store_key_event event = { .added_seq = ctx->seq };
	return rc == 0 ? store_key_event_put(ctx->txn, key_id->bytes, &event) : rc;
}

static int key_revoke(struct apply_ctx *ctx, const char *subject, const struct crypto_key_id *key_id)
{
	struct store_key key;
	int rc = subject_key_get(ctx, subject, key_id, &key);
	if (rc == SL_ENOENT)
		return apply_verdict(ctx, OUTCOME_UNKNOWN_KEY, -1);
	if (rc == 0 && memcmp(key.public_key, ctx->record->subject_key, sizeof key.public_key) != 0)
		rc = OUTCOME_UNKNOWN_KEY; /* another key with this id is registered, not this one */
	else if (rc == 0 && strcmp(key.site, subject) != 0)
		rc = OUTCOME_SITE_MISMATCH;
	else if (rc == 0 && key.revoked)
		rc = OUTCOME_REGISTRY_DUPLICATE;
	struct key_count count = { subject, 0 };
	if (rc == 0)
		rc = store_key_iterate(ctx->txn, key_count_cb, &count);
	if (rc == 0 && count.in_force <= 1)
		rc = OUTCOME_REGISTRY_LAST;
	if (rc != 0)
		return apply_verdict(ctx, rc, -1);
	key.revoked = 1;
	rc = store_key_put(ctx->txn, key_id->bytes, &key);
	struct store_key_event event = { 0 };
	int got = rc == 0 ? store_key_event_get(ctx->txn, key_id->bytes, &event) : rc;
	if (got != 0 && got != SL_ENOENT)
		return got;
	event.revoked_seq = ctx->seq;
	return store_key_event_put(ctx->txn, key_id->bytes, &event);
}

int rules_registry(struct apply_ctx *ctx)
{
	const struct record *r = ctx->record;
	assert(r->type == RECORD_REGISTRY);
	int rc = check_signers(ctx);
	if (rc != 0 || apply_rejected(ctx))
		return rc;
	char subject[STORE_SITE_SIZE];
	subject_of(r, subject);
	struct crypto_public_key pk;
	struct crypto_key_id key_id;
	memcpy(pk.bytes, r->subject_key, sizeof pk.bytes);
	crypto_key_id_of(&pk, &key_id);
	switch (r->registry_op) {
	case REGISTRY_SITE_ADD:
		return site_add(ctx, subject, &key_id);
	case REGISTRY_SITE_REMOVE:
		return site_remove(ctx, subject);
	case REGISTRY_KEY_ADD:
		return key_add(ctx, subject, &key_id);
	case REGISTRY_KEY_REVOKE:
		return key_revoke(ctx, subject, &key_id);
	default:
		return apply_verdict(ctx, OUTCOME_MALFORMED_RECORD, -1); /* the decoder refuses it first */
	}
}
