/* ledger/rules_locks.c — lock, unlock and deviation rules (docs/lifecycle.md "Locks" and
 * "Deviations").
 *
 * A lock names one target: an item (serial scope; a container's lock covers everything inside
 * it), a lot "(01)GTIN(10)LOT" or a GTIN "(01)GTIN". Each target keeps one store_lock whose
 * `reasons` holds a bit per reason in force, so a quarantine and a recall of the same lot coexist
 * and lifting the quarantine leaves the recall. Any registered site may lock any target: a
 * containment decision at one site binds every site. Only quarantine can be lifted; recall and
 * withdrawal are final (their effect ends when the stock is decommissioned).
 */
#include <string.h>

#include "ledger/apply_internal.h"
#include "ledger/lifecycle.h"
#include "util/error.h"

static bool digits_only(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (text[i] < '0' || text[i] > '9')
			return false;
	return true;
}

/* "(01)" + a valid GTIN-14 at the start of `text`. */
static bool gtin_key_prefix_valid(const char *text, size_t len)
{
	char gtin[GS1_GTIN_DIGITS + 1], normal[GS1_GTIN_DIGITS + 1];
	if (len < 4 + GS1_GTIN_DIGITS || memcmp(text, "(01)", 4) != 0 || !digits_only(text + 4, GS1_GTIN_DIGITS))
		return false;
	memcpy(gtin, text + 4, GS1_GTIN_DIGITS);
	gtin[GS1_GTIN_DIGITS] = '\0';
	return gs1_gtin_normalize(gtin, normal, NULL) == 0 && strcmp(gtin, normal) == 0;
}

static bool lot_key_valid(const char *text, size_t len)
{
	const size_t lot_at = 4 + GS1_GTIN_DIGITS + 4;
	if (len <= lot_at || !gtin_key_prefix_valid(text, len) || memcmp(text + lot_at - 4, "(10)", 4) != 0)
		return false;
	return gs1_cset82_validate(text + lot_at, len - lot_at, GS1_LOT_CHARS_MAX, NULL) == 0;
}

/* INVALID_IDENTIFIER unless the target has the exact canonical form its scope requires. */
static int check_target_syntax(uint32_t scope, const char *target)
{
	size_t len = strlen(target);
	switch (scope) {
	case LOCK_SCOPE_SERIAL:
		return gs1_item_id_parse(target, len, NULL, NULL) == 0 ? 0 : OUTCOME_INVALID_IDENTIFIER;
	case LOCK_SCOPE_LOT:
		return lot_key_valid(target, len) ? 0 : OUTCOME_INVALID_IDENTIFIER;
	case LOCK_SCOPE_GTIN:
		return len == 4 + GS1_GTIN_DIGITS && gtin_key_prefix_valid(target, len) ? 0
										: OUTCOME_INVALID_IDENTIFIER;
	default:
		return OUTCOME_MALFORMED_RECORD; /* the decoder refuses it first */
	}
}

static int lot_commissioned_visit(void *ctx, const char *site, const struct store_lot_counters *counters)
{
	(void)ctx;
	(void)site;
	return counters->counts[LOT_COUNTER_COMMISSIONED] > 0 ? 1 : 0;
}

/* Serial locks need the item, lot locks a lot that was commissioned somewhere (a typo would
 * otherwise lock nothing and look like containment). GTIN locks may precede the product. */
static int check_target_exists(struct apply_ctx *ctx, uint32_t scope, const char *target)
{
	if (scope == LOCK_SCOPE_SERIAL) {
		struct store_item item;
		return apply_item_get(ctx, target, &item);
	}
	if (scope == LOCK_SCOPE_LOT) {
		int rc = store_lot_iterate(ctx->txn, target, lot_commissioned_visit, NULL);
		if (rc < 0)
			return rc;
		return rc == 1 ? 0 : OUTCOME_UNKNOWN_ITEM;
	}
	return 0;
}

static int read_target(struct apply_ctx *ctx, char target[STORE_LOCK_TARGET_SIZE])
{
	const struct record *r = ctx->record;
	if (r->lock_reason < LOCK_QUARANTINE || r->lock_reason > LOCK_WITHDRAWAL)
		return OUTCOME_MALFORMED_RECORD; /* the decoder refuses it first */
	if (!apply_str_copy(r->lock_target, target, STORE_LOCK_TARGET_SIZE))
		return OUTCOME_INVALID_IDENTIFIER;
	return check_target_syntax(r->lock_scope, target);
}

int rules_lock(struct apply_ctx *ctx)
{
	const struct record *r = ctx->record;
	char target[STORE_LOCK_TARGET_SIZE];
	int rc = read_target(ctx, target);
	if (rc == 0)
		rc = check_target_exists(ctx, r->lock_scope, target);
	if (rc != 0)
		return apply_verdict(ctx, rc, -1);

	struct store_lock lock;
	rc = store_lock_get(ctx->txn, target, &lock);
	if (rc == SL_ENOENT) {
		memset(&lock, 0, sizeof lock);
		rc = 0;
	}
	if (rc != 0)
		return rc;
	uint8_t bit = LOCK_REASON_BIT(r->lock_reason);
	if (lock.reasons & bit)
		return apply_verdict(ctx, OUTCOME_ALREADY_LOCKED, -1);

	lock.reasons |= bit;
	lock.scope = (uint8_t)r->lock_scope;
	lock.seq = ctx->seq;
	memcpy(lock.site, ctx->site, sizeof lock.site);
	rc = store_lock_put(ctx->txn, target, &lock);
	if (rc == 0 && r->lock_scope == LOCK_SCOPE_SERIAL)
		rc = apply_history_add(ctx, target);
	return rc;
}

int rules_unlock(struct apply_ctx *ctx)
{
	const struct record *r = ctx->record;
	char target[STORE_LOCK_TARGET_SIZE];
	int rc = read_target(ctx, target);
	if (rc == 0 && r->lock_reason != LOCK_QUARANTINE)
		rc = OUTCOME_IRREVERSIBLE_STATE;
	if (rc != 0)
		return apply_verdict(ctx, rc, -1);

	struct store_lock lock;
	uint8_t bit = LOCK_REASON_BIT(r->lock_reason);
	rc = store_lock_get(ctx->txn, target, &lock);
	if (rc == SL_ENOENT || (rc == 0 && !(lock.reasons & bit)))
		return apply_verdict(ctx, OUTCOME_NOT_LOCKED, -1);
	if (rc != 0)
		return rc;

	lock.reasons &= (uint8_t)~bit;
	rc = lock.reasons ? store_lock_put(ctx->txn, target, &lock) : store_lock_del(ctx->txn, target);
	if (rc == 0 && r->lock_scope == LOCK_SCOPE_SERIAL)
		rc = apply_history_add(ctx, target);
	return rc;
}

/* A deviation documents an exception; it changes no state, but what it cites must be in the
 * ledger (accepted or rejected records alike). The offending item index is the ref's index. */
int rules_deviation(struct apply_ctx *ctx)
{
	const struct record *r = ctx->record;
	for (size_t i = 0; i < r->ref_count; i++) {
		uint64_t seq;
		int rc = store_id_get(ctx->txn, r->refs[i], &seq);
		if (rc == SL_ENOENT)
			return apply_verdict(ctx, OUTCOME_UNKNOWN_RECORD, (int32_t)i);
		if (rc != 0)
			return rc;
	}
	return 0;
}
