/* ledger/rules_movement.c — rules that move items through the supply chain: ship, receive,
 * decommission, revert (docs/lifecycle.md "Movement" and "Decommission and revert").
 *
 * Every rule acts on whole trees: a container carries its contents (recursive inference), so the
 * check pass walks each listed item's tree for locks and limits, and the write pass walks it again
 * applying one struct apply_transition to every item in it.
 *
 * State diagram (per item; contents follow their top container):
 *
 *     commission ──► ACTIVE ──ship──► IN_TRANSIT ──receive (destination)──► ACTIVE
 *                      │  ▲
 *           decommission  revert (same site, ≤ 10 days, reason and locks allow)
 *                      ▼  │
 *                 DECOMMISSIONED
 */
#include <assert.h>
#include <string.h>

#include "ledger/apply.h"
#include "ledger/apply_internal.h"
#include "ledger/entry.h"
#include "ledger/lifecycle.h"
#include "util/error.h"

/* Visit of the check pass: refuse the tree when an item in it carries a lock in `mask`. */
struct lock_probe {
	struct apply_ctx *ctx;
	uint8_t mask;
	int outcome; /* returned when a lock matches */
};

static int lock_probe_visit(void *probe_ctx, const char *item_id, struct store_item *item, unsigned level)
{
	const struct lock_probe *probe = probe_ctx;
	uint8_t reasons = 0;
	(void)level;
	if (probe->mask == 0)
		return 0; /* a walk for its limits only */
	int rc = lifecycle_item_own_locks(probe->ctx->txn, item_id, item, &reasons);
	if (rc != 0)
		return rc;
	return (reasons & probe->mask) ? probe->outcome : 0;
}

static int check_tree_locks(struct apply_ctx *ctx, const char *root, uint8_t mask, int outcome)
{
	struct lock_probe probe = { ctx, mask, outcome };
	return apply_walk(ctx, root, true, &probe, lock_probe_visit);
}

#define LOCK_REASONS_ANY (LOCK_REASON_BIT(LOCK_QUARANTINE) | LOCK_REASONS_IRREVERSIBLE)

static int write_trees(struct apply_ctx *ctx, struct apply_transition *t)
{
	for (size_t i = 0; i < ctx->name_count; i++) {
		int rc = apply_walk(ctx, ctx->names[i], false, t, apply_transition_visit);
		if (rc != 0)
			return rc > 0 ? SL_ECORRUPT : rc; /* the check pass proved the walk possible */
	}
	return 0;
}

/* The site whose record commissioned `item` (the entry at its commission_seq). */
static int commissioning_site(struct apply_ctx *ctx, const struct store_item *item, char site[STORE_SITE_SIZE])
{
	const uint8_t *bytes;
	size_t len;
	struct ledger_entry entry;
	struct record record;
	int rc = store_ledger_get(ctx->txn, item->commission_seq, &bytes, &len);
	if (rc == 0)
		rc = entry_decode(bytes, len, &entry, NULL);
	if (rc == 0)
		rc = record_decode(entry.record, entry.record_len, &record, NULL);
	if (rc != 0)
		return rc == SL_ENOMEM ? rc : SL_ECORRUPT; /* an accepted commissioning entry decodes */
	rc = apply_str_copy(record.site, site, STORE_SITE_SIZE) ? 0 : SL_ECORRUPT;
	record_clear(&record);
	return rc;
}

/* Containment lets locked stock go back where it came from (docs/lifecycle.md "Locks and containment"):
 * a locked tree may travel to, and be received at, the site that commissioned its top item. Returns
 * 1 when `site` is that site, 0 when not, or an error. */
static int is_return_to(struct apply_ctx *ctx, const struct store_item *item, const char *site)
{
	char origin[STORE_SITE_SIZE];
	int rc = commissioning_site(ctx, item, origin);
	return rc != 0 ? rc : strcmp(origin, site) == 0;
}

/* The lock check of a ship or receive: LOCKED unless the goods return to their commissioning site. */
static int check_movement_locks(struct apply_ctx *ctx, size_t i, const struct store_item *item, const char *to)
{
	int rc = check_tree_locks(ctx, ctx->names[i], LOCK_REASONS_ANY, OUTCOME_LOCKED);
	if (rc != OUTCOME_LOCKED)
		return rc;
	int back = is_return_to(ctx, item, to);
	if (back < 0)
		return back;
	return back ? check_tree_locks(ctx, ctx->names[i], 0, 0) : OUTCOME_LOCKED;
}

static int check_ship_item(struct apply_ctx *ctx, size_t i, const char *to)
{
	struct store_item item;
	if (ctx->first[i] != i)
		return OUTCOME_IN_TRANSIT; /* the first occurrence ships it */
	int rc = apply_item_check_here(ctx, ctx->names[i], &item);
	if (rc != 0)
		return rc;
	if (item.parent[0] != '\0')
		return OUTCOME_AGGREGATED;
	return check_movement_locks(ctx, i, &item, to);
}

int rules_ship(struct apply_ctx *ctx)
{
	char to[STORE_SITE_SIZE];
	struct store_site site;
	if (!apply_str_copy(ctx->record->to, to, sizeof to) || !record_site_id_valid(to, strlen(to)))
		return apply_verdict(ctx, OUTCOME_UNKNOWN_SITE, -1);
	int rc = store_site_get(ctx->txn, to, &site);
	if (rc == SL_ENOENT || (rc == 0 && !site.active))
		return apply_verdict(ctx, OUTCOME_UNKNOWN_SITE, -1);
	if (rc != 0)
		return rc;
	if (strcmp(to, ctx->site) == 0)
		return apply_verdict(ctx, OUTCOME_SAME_SITE, -1);
	for (size_t i = 0; i < ctx->name_count; i++) {
		rc = check_ship_item(ctx, i, to);
		if (rc != 0)
			return apply_verdict(ctx, rc, (int32_t)i);
	}

	struct apply_transition t = { .ctx = ctx, .status = ITEM_IN_TRANSIT, .destination = to };
	return write_trees(ctx, &t);
}

static int check_receive_item(struct apply_ctx *ctx, size_t i)
{
	struct store_item item;
	if (ctx->first[i] != i)
		return OUTCOME_NOT_IN_TRANSIT; /* the first occurrence receives it */
	int rc = apply_item_get(ctx, ctx->names[i], &item);
	if (rc != 0)
		return rc;
	if (item.status != ITEM_IN_TRANSIT)
		return OUTCOME_NOT_IN_TRANSIT;
	if (strncmp(item.destination, ctx->site, sizeof item.destination) != 0)
		return OUTCOME_NOT_DESTINATION;
	if (item.parent[0] != '\0')
		return OUTCOME_AGGREGATED; /* receive the container it travels in */
	/* Containment: a locked item is not taken into saleable stock, except back at the site that
	 * commissioned it (a return; the lock still holds there) (docs/lifecycle.md). */
	return check_movement_locks(ctx, i, &item, ctx->site);
}

int rules_receive(struct apply_ctx *ctx)
{
	for (size_t i = 0; i < ctx->name_count; i++) {
		int rc = check_receive_item(ctx, i);
		if (rc != 0)
			return apply_verdict(ctx, rc, (int32_t)i);
	}
	struct apply_transition t = { .ctx = ctx, .status = ITEM_ACTIVE, .site = ctx->site, .destination = "" };
	return write_trees(ctx, &t);
}

/* A listed item inside another listed item would be decommissioned twice. */
static int check_not_inside_listed(struct apply_ctx *ctx, const struct store_item *item)
{
	char ancestors[HIERARCHY_DEPTH_MAX][STORE_ITEM_ID_SIZE];
	size_t count = 0;
	int rc = hierarchy_ancestors(ctx->txn, item, ancestors, &count);
	for (size_t a = 0; rc == 0 && a < count; a++)
		if (apply_name_find(ctx, ancestors[a]) >= 0)
			return OUTCOME_DECOMMISSIONED;
	return rc;
}

static int check_decommission_item(struct apply_ctx *ctx, size_t i, int reason)
{
	struct store_item item;
	if (ctx->first[i] != i)
		return OUTCOME_DECOMMISSIONED;
	int rc = apply_item_check_here(ctx, ctx->names[i], &item);
	if (rc == 0)
		rc = check_not_inside_listed(ctx, &item);
	if (rc != 0)
		return rc;
	if (item.child_count > 0 && lifecycle_decommission_pack_level(reason)) /* a container or an SGTIN case */
		return OUTCOME_HAS_CHILDREN;
	if (!lifecycle_decommission_blocked_by_lock(reason))
		return check_tree_locks(ctx, ctx->names[i], 0, 0); /* limits only */
	uint8_t reasons = 0;
	rc = lifecycle_item_locks(ctx->txn, ctx->names[i], &item, &reasons); /* containers above too */
	if (rc != 0)
		return rc;
	if (reasons != 0)
		return OUTCOME_LOCKED;
	return check_tree_locks(ctx, ctx->names[i], LOCK_REASONS_ANY, OUTCOME_LOCKED);
}

/* Implicit disaggregation: a pack (or case) decommissioned out of an opened container leaves it. */
static int detach_from_parent(struct apply_ctx *ctx, const char *item_id)
{
	struct store_item item, parent;
	int rc = store_item_get(ctx->txn, item_id, &item);
	if (rc != 0 || item.parent[0] == '\0')
		return rc;
	rc = store_item_get(ctx->txn, item.parent, &parent);
	if (rc == SL_ENOENT || (rc == 0 && parent.child_count == 0))
		return SL_ECORRUPT;
	if (rc == 0)
		rc = store_child_del(ctx->txn, item.parent, item_id);
	if (rc != 0)
		return rc;
	parent.child_count--;
	rc = store_item_put(ctx->txn, item.parent, &parent);
	if (rc == 0)
		rc = apply_history_add(ctx, item.parent);
	return rc;
}

int rules_decommission(struct apply_ctx *ctx)
{
	int reason = (int)ctx->record->decommission_reason;
	if (reason < 1 || reason > DECOMMISSION_REASON_MAX)
		return apply_verdict(ctx, OUTCOME_MALFORMED_RECORD, -1); /* the decoder refuses it first */
	for (size_t i = 0; i < ctx->name_count; i++) {
		int rc = check_decommission_item(ctx, i, reason);
		if (rc != 0)
			return apply_verdict(ctx, rc, (int32_t)i);
	}

	for (size_t i = 0; i < ctx->name_count; i++) {
		int rc = detach_from_parent(ctx, ctx->names[i]);
		if (rc != 0)
			return rc;
	}
	struct apply_transition t = {
		.ctx = ctx, .status = ITEM_DECOMMISSIONED, .reason = (uint8_t)reason, .destination = "",
		.clear_root_parent = true,
	};
	return write_trees(ctx, &t);
}

/* Check pass of revert: the tree must not hold recalled or withdrawn items. */
static int check_revert_item(struct apply_ctx *ctx, size_t i)
{
	struct store_item item;
	if (ctx->first[i] != i)
		return OUTCOME_NOT_DECOMMISSIONED; /* the first occurrence reverts it */
	int rc = apply_item_get(ctx, ctx->names[i], &item);
	if (rc != 0)
		return rc;
	if (item.status != ITEM_DECOMMISSIONED)
		return OUTCOME_NOT_DECOMMISSIONED;
	if (strncmp(item.status_site, ctx->site, sizeof item.status_site) != 0)
		return OUTCOME_NOT_AT_SITE;
	if (item.parent[0] != '\0')
		return OUTCOME_AGGREGATED; /* decommissioned with its container: revert the container */
	if (lifecycle_decommission_irreversible(item.reason))
		return OUTCOME_IRREVERSIBLE_STATE;
	rc = check_tree_locks(ctx, ctx->names[i], LOCK_REASONS_IRREVERSIBLE, OUTCOME_IRREVERSIBLE_STATE);
	if (rc != 0)
		return rc;
	/* Ledger times only; a batch stamped before the decommission counts as no time elapsed. */
	uint64_t elapsed_ms = ctx->ledger_time_ms > item.status_time_ms ? ctx->ledger_time_ms - item.status_time_ms : 0;
	if (elapsed_ms > APPLY_REVERT_WINDOW_MS)
		return OUTCOME_REVERT_WINDOW_EXCEEDED;
	return 0;
}

static int revert_tree(struct apply_ctx *ctx, const char *root)
{
	struct store_item item;
	int rc = store_item_get(ctx->txn, root, &item);
	if (rc != 0)
		return rc == SL_ENOENT ? SL_ECORRUPT : rc;
	struct apply_transition t = {
		.ctx = ctx, .status = ITEM_ACTIVE, .destination = "", .revert = true, .match_seq = item.status_seq,
	};
	rc = apply_walk(ctx, root, false, &t, apply_transition_visit);
	return rc > 0 ? SL_ECORRUPT : rc;
}

int rules_revert(struct apply_ctx *ctx)
{
	for (size_t i = 0; i < ctx->name_count; i++) {
		int rc = check_revert_item(ctx, i);
		if (rc != 0)
			return apply_verdict(ctx, rc, (int32_t)i);
	}
	for (size_t i = 0; i < ctx->name_count; i++) {
		int rc = revert_tree(ctx, ctx->names[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}
