/* ledger/rules_items.c — rules that create items and build the hierarchy: commission, commission
 * container, aggregate, disaggregate (docs/lifecycle.md "Commission" and "Aggregation").
 *
 * Invariants kept here:
 *  1. An item id is commissioned at most once in the whole ledger, whichever site asks.
 *  2. children[parent] holds exactly the items whose store_item.parent is that parent, and
 *     store_item.child_count is their number.
 *  3. A child and its parent always share site and status (everything moves together), so the
 *     other rules only check the top of a tree.
 *  4. No cycle, no tree deeper than HIERARCHY_DEPTH_MAX or larger than HIERARCHY_ITEMS_MAX.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/apply_internal.h"
#include "ledger/lifecycle.h"
#include "util/error.h"

/* A new item as commissioned by this record. */
static void item_new(const struct apply_ctx *ctx, uint8_t kind, struct store_item *item)
{
	memset(item, 0, sizeof *item);
	item->kind = kind;
	item->status = ITEM_ACTIVE;
	item->flags = ITEM_FLAGS_NONE;
	item->commission_seq = ctx->seq;
	item->status_seq = ctx->seq;
	item->status_time_ms = ctx->ledger_time_ms;
	memcpy(item->site, ctx->site, sizeof item->site);
	memcpy(item->status_site, ctx->site, sizeof item->status_site);
}

/* DUPLICATE_COMMISSION when names[i] repeats an earlier one or exists already. */
static int check_new_item(struct apply_ctx *ctx, size_t i)
{
	if (ctx->first[i] != i)
		return OUTCOME_DUPLICATE_COMMISSION;
	struct store_item existing;
	int rc = store_item_get(ctx->txn, ctx->names[i], &existing);
	if (rc == 0)
		return OUTCOME_DUPLICATE_COMMISSION;
	return rc == SL_ENOENT ? 0 : rc;
}

static int lock_reasons_of(struct apply_ctx *ctx, const char *target, uint8_t *reasons)
{
	struct store_lock lock;
	int rc = store_lock_get(ctx->txn, target, &lock);
	if (rc == 0)
		*reasons |= lock.reasons;
	return rc == SL_ENOENT ? 0 : rc;
}

/* Recall or withdrawal of the lot or the GTIN: nothing more of it may enter the supply chain.
 * A quarantine does not block commissioning (the packs stay locked where they are made). */
static int check_commission_locks(struct apply_ctx *ctx, const struct store_item *model)
{
	char lot_key[GS1_LOT_KEY_SIZE];
	char gtin_key[LIFECYCLE_GTIN_KEY_SIZE];
	uint8_t reasons = 0;
	if (lifecycle_lot_key(model, lot_key) != 0 || lifecycle_gtin_key(model, gtin_key) != 0)
		return OUTCOME_INVALID_IDENTIFIER;
	int rc = lock_reasons_of(ctx, lot_key, &reasons);
	if (rc == 0)
		rc = lock_reasons_of(ctx, gtin_key, &reasons);
	if (rc != 0)
		return rc;
	return (reasons & LOCK_REASONS_IRREVERSIBLE) ? OUTCOME_LOCKED : 0;
}

int rules_commission(struct apply_ctx *ctx)
{
	const struct record *r = ctx->record;
	struct store_item model;
	item_new(ctx, GS1_KIND_PACK, &model);
	/* The pipeline built names from the GTIN and serials and checked the GTIN; lot and expiry
	 * are checked here as the decoder should already have (defence in depth). */
	if (!apply_str_copy(r->gtin, model.gtin, sizeof model.gtin) ||
	    !apply_str_copy(r->lot, model.lot, sizeof model.lot) ||
	    gs1_cset82_validate(model.lot, strlen(model.lot), GS1_LOT_CHARS_MAX, NULL) != 0 ||
	    !apply_str_copy(r->expiry, model.expiry, sizeof model.expiry) ||
	    gs1_date_validate(model.expiry, strlen(model.expiry), NULL) != 0)
		return apply_verdict(ctx, OUTCOME_INVALID_IDENTIFIER, -1);

	int rc = check_commission_locks(ctx, &model);
	if (rc != 0)
		return apply_verdict(ctx, rc, -1);
	for (size_t i = 0; i < ctx->name_count; i++) {
		rc = check_new_item(ctx, i);
		if (rc != 0)
			return apply_verdict(ctx, rc, (int32_t)i);
	}

	for (size_t i = 0; i < ctx->name_count; i++) {
		rc = store_item_put(ctx->txn, ctx->names[i], &model);
		if (rc == 0)
			rc = apply_history_add(ctx, ctx->names[i]);
		if (rc != 0)
			return rc;
	}
	int64_t count = (int64_t)ctx->name_count; /* <= RECORD_ITEMS_MAX */
	rc = apply_counter_add(ctx, &model, ctx->site, LOT_COUNTER_ACTIVE, count);
	if (rc == 0)
		rc = apply_counter_add(ctx, &model, ctx->site, LOT_COUNTER_COMMISSIONED, count);
	return rc;
}

int rules_commission_container(struct apply_ctx *ctx)
{
	for (size_t i = 0; i < ctx->name_count; i++) {
		struct gs1_item parsed;
		if (gs1_item_id_parse(ctx->names[i], strlen(ctx->names[i]), &parsed, NULL) != 0 ||
		    parsed.kind != GS1_KIND_CONTAINER)
			return apply_verdict(ctx, OUTCOME_INVALID_IDENTIFIER, (int32_t)i);
		int rc = check_new_item(ctx, i);
		if (rc != 0)
			return apply_verdict(ctx, rc, (int32_t)i);
	}
	struct store_item model;
	item_new(ctx, GS1_KIND_CONTAINER, &model);
	for (size_t i = 0; i < ctx->name_count; i++) {
		int rc = store_item_put(ctx->txn, ctx->names[i], &model);
		if (rc == 0)
			rc = apply_history_add(ctx, ctx->names[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* A pack can be a parent: higher packaging levels (bundles, cases) are often identified by an SGTIN
 * of their own GTIN. GS1 General Specifications §4.2: every packaging level of a trade item has its own
 * GTIN, so a pack cannot contain a pack of its own GTIN (NOT_A_CONTAINER). */
static bool pack_parent_valid(const struct apply_ctx *ctx, const struct store_item *parent)
{
	for (size_t i = 0; i < ctx->name_count; i++)
		if (strncmp(ctx->names[i], "(01)", 4) == 0 &&
		    strncmp(ctx->names[i] + 4, parent->gtin, GS1_GTIN_DIGITS) == 0)
			return false;
	return true;
}

/* The parent of aggregate and disaggregate: an active container, or a pack of another GTIN than its
 * children, at the record's site. */
static int check_parent(struct apply_ctx *ctx, struct store_item *parent)
{
	int rc = apply_item_get(ctx, ctx->parent, parent);
	if (rc != 0)
		return rc;
	if (parent->kind == GS1_KIND_PACK && !pack_parent_valid(ctx, parent))
		return OUTCOME_NOT_A_CONTAINER;
	return apply_item_check_here(ctx, ctx->parent, parent);
}

/* What the check pass of aggregate learns about the tree the children join. */
struct aggregate_plan {
	char ancestors[HIERARCHY_DEPTH_MAX][STORE_ITEM_ID_SIZE];
	size_t ancestor_count;
	size_t items; /* items in the tree of the topmost container, the new children included */
};

static int check_aggregate_child(struct apply_ctx *ctx, struct aggregate_plan *plan, size_t i)
{
	const char *name = ctx->names[i];
	struct store_item child;
	if (ctx->first[i] != i)
		return OUTCOME_ALREADY_AGGREGATED; /* the first occurrence will have put it there */
	int rc = apply_item_check_here(ctx, name, &child);
	if (rc != 0)
		return rc;
	if (strcmp(name, ctx->parent) == 0)
		return OUTCOME_AGGREGATION_CYCLE;
	for (size_t a = 0; a < plan->ancestor_count; a++)
		if (strcmp(name, plan->ancestors[a]) == 0)
			return OUTCOME_AGGREGATION_CYCLE;
	if (child.parent[0] != '\0')
		return OUTCOME_ALREADY_AGGREGATED;

	struct hierarchy_size size;
	if (plan->items >= HIERARCHY_ITEMS_MAX)
		return OUTCOME_LIMIT_EXCEEDED;
	rc = hierarchy_measure(ctx->txn, name, HIERARCHY_ITEMS_MAX - plan->items, &size);
	if (rc == SL_ELIMIT)
		return OUTCOME_LIMIT_EXCEEDED;
	if (rc != 0)
		return rc;
	/* Levels from the top container down to the parent, plus the child's own tree. */
	if (plan->ancestor_count + 1 + size.levels > HIERARCHY_DEPTH_MAX)
		return OUTCOME_LIMIT_EXCEEDED;
	plan->items += size.items;
	if (ctx->reach > APPLY_RECORD_REACH_MAX - size.items)
		return OUTCOME_LIMIT_EXCEEDED;
	ctx->reach += size.items;
	return 0;
}

static int check_aggregate(struct apply_ctx *ctx, struct aggregate_plan *plan, struct store_item *parent)
{
	int rc = check_parent(ctx, parent);
	if (rc != 0)
		return apply_verdict(ctx, rc, -1);
	rc = hierarchy_ancestors(ctx->txn, parent, plan->ancestors, &plan->ancestor_count);
	if (rc != 0)
		return rc;
	const char *top = plan->ancestor_count ? plan->ancestors[plan->ancestor_count - 1] : ctx->parent;
	struct hierarchy_size size;
	rc = hierarchy_measure(ctx->txn, top, HIERARCHY_ITEMS_MAX, &size);
	if (rc != 0)
		return rc == SL_ELIMIT ? SL_ECORRUPT : rc; /* the rules never let a tree grow that big */
	plan->items = size.items;
	for (size_t i = 0; i < ctx->name_count; i++) {
		rc = check_aggregate_child(ctx, plan, i);
		if (rc != 0)
			return apply_verdict(ctx, rc, (int32_t)i);
	}
	return 0;
}

int rules_aggregate(struct apply_ctx *ctx)
{
	struct aggregate_plan *plan = malloc(sizeof *plan);
	if (plan == NULL)
		return SL_ENOMEM;
	struct store_item parent;
	int rc = check_aggregate(ctx, plan, &parent);
	free(plan);
	if (rc != 0 || apply_rejected(ctx))
		return rc;

	for (size_t i = 0; i < ctx->name_count; i++) {
		struct store_item child;
		rc = store_item_get(ctx->txn, ctx->names[i], &child);
		if (rc != 0)
			return rc;
		memcpy(child.parent, ctx->parent, sizeof child.parent);
		rc = store_item_put(ctx->txn, ctx->names[i], &child);
		if (rc == 0)
			rc = store_child_add(ctx->txn, ctx->parent, ctx->names[i]);
		if (rc == 0)
			rc = apply_history_add(ctx, ctx->names[i]);
		if (rc != 0)
			return rc;
	}
	/* child_count <= HIERARCHY_ITEMS_MAX, far below UINT32_MAX */
	parent.child_count += (uint32_t)ctx->name_count;
	rc = store_item_put(ctx->txn, ctx->parent, &parent);
	if (rc == 0)
		rc = apply_history_add(ctx, ctx->parent);
	return rc;
}

/* The children of one parent, copied out of the children table. */
struct child_list {
	char (*ids)[STORE_ITEM_ID_SIZE];
	size_t count;
	size_t capacity;
};

static int child_list_add(void *ctx, const char *child, size_t len)
{
	struct child_list *list = ctx;
	if (len == 0 || len >= STORE_ITEM_ID_SIZE)
		return SL_ECORRUPT;
	if (list->count == list->capacity) {
		if (list->capacity >= HIERARCHY_ITEMS_MAX)
			return SL_ECORRUPT;
		size_t capacity = list->capacity ? list->capacity * 2 : 64;
		void *grown = realloc(list->ids, capacity * sizeof list->ids[0]);
		if (grown == NULL)
			return SL_ENOMEM;
		list->ids = grown;
		list->capacity = capacity;
	}
	memcpy(list->ids[list->count], child, len);
	list->ids[list->count][len] = '\0';
	list->count++;
	return 0;
}

static int disaggregate_one(struct apply_ctx *ctx, const char *child_id)
{
	struct store_item child;
	int rc = store_item_get(ctx->txn, child_id, &child);
	if (rc != 0)
		return rc == SL_ENOENT ? SL_ECORRUPT : rc;
	memset(child.parent, 0, sizeof child.parent);
	rc = store_item_put(ctx->txn, child_id, &child);
	if (rc == 0)
		rc = store_child_del(ctx->txn, ctx->parent, child_id);
	if (rc == 0)
		rc = apply_history_add(ctx, child_id);
	return rc;
}

static int check_disaggregate(struct apply_ctx *ctx, struct store_item *parent)
{
	int rc = check_parent(ctx, parent);
	if (rc != 0)
		return apply_verdict(ctx, rc, -1);
	for (size_t i = 0; i < ctx->name_count; i++) {
		struct store_item child;
		if (ctx->first[i] != i)
			return apply_verdict(ctx, OUTCOME_NOT_AGGREGATED, (int32_t)i);
		rc = apply_item_get(ctx, ctx->names[i], &child);
		if (rc == 0 && strncmp(child.parent, ctx->parent, sizeof child.parent) != 0)
			rc = OUTCOME_NOT_AGGREGATED;
		if (rc != 0)
			return apply_verdict(ctx, rc, (int32_t)i);
	}
	return 0;
}

int rules_disaggregate(struct apply_ctx *ctx)
{
	struct store_item parent;
	int rc = check_disaggregate(ctx, &parent);
	if (rc != 0 || apply_rejected(ctx))
		return rc;

	struct child_list all = { NULL, 0, 0 };
	size_t removed = ctx->name_count;
	if (ctx->name_count == 0) { /* none listed: all of them */
		rc = store_children_iterate(ctx->txn, ctx->parent, child_list_add, &all);
		removed = all.count;
	}
	for (size_t i = 0; rc == 0 && i < removed; i++)
		rc = disaggregate_one(ctx, ctx->name_count ? ctx->names[i] : all.ids[i]);
	free(all.ids);
	if (rc != 0)
		return rc;
	if (removed > parent.child_count)
		return SL_ECORRUPT;
	parent.child_count -= (uint32_t)removed;
	rc = store_item_put(ctx->txn, ctx->parent, &parent);
	if (rc == 0)
		rc = apply_history_add(ctx, ctx->parent);
	return rc;
}
