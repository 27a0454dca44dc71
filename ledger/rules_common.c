/* ledger/rules_common.c — helpers shared by the rule files: verdicts, name lookups, item checks,
 * bounded walks, status transitions, lot counters and history (see apply_internal.h). */
#include <assert.h>
#include <string.h>

#include "ledger/apply_internal.h"
#include "ledger/lifecycle.h"
#include "util/error.h"

int apply_verdict(struct apply_ctx *ctx, int rc, int32_t item)
{
	if (rc < 0)
		return rc;
	if (rc > 0) {
		ctx->outcome = rc;
		ctx->item = item;
	}
	return 0;
}

bool apply_str_copy(struct sl_str text, char *out, size_t out_size)
{
	assert(out_size > 0);
	if (text.len >= out_size || (text.len > 0 && text.ptr == NULL))
		return false;
	if (text.len > 0)
		memcpy(out, text.ptr, text.len);
	out[text.len] = '\0';
	/* An embedded NUL would make two different records name the same item. */
	return strlen(out) == text.len;
}

int32_t apply_name_find(const struct apply_ctx *ctx, const char *name)
{
	size_t low = 0, high = ctx->name_count;
	while (low < high) { /* lower bound: the first occurrence sorts first */
		size_t mid = low + (high - low) / 2;
		if (strcmp(ctx->sorted[mid].name, name) < 0)
			low = mid + 1;
		else
			high = mid;
	}
	if (low < ctx->name_count && strcmp(ctx->sorted[low].name, name) == 0)
		return (int32_t)ctx->sorted[low].index;
	return -1;
}

int apply_item_get(struct apply_ctx *ctx, const char *item_id, struct store_item *item)
{
	int rc = store_item_get(ctx->txn, item_id, item);
	if (rc == SL_ENOENT)
		return OUTCOME_UNKNOWN_ITEM;
	return rc;
}

int apply_item_check_here(struct apply_ctx *ctx, const char *item_id, struct store_item *item)
{
	int rc = apply_item_get(ctx, item_id, item);
	if (rc != 0)
		return rc;
	if (strncmp(item->site, ctx->site, sizeof item->site) != 0)
		return OUTCOME_NOT_AT_SITE;
	if (item->status == ITEM_IN_TRANSIT)
		return OUTCOME_IN_TRANSIT;
	if (item->status == ITEM_DECOMMISSIONED)
		return OUTCOME_DECOMMISSIONED;
	if (item->status != ITEM_ACTIVE)
		return SL_ECORRUPT;
	return 0;
}

struct walk_wrap {
	void *inner;
	hierarchy_visit_fn visit;
	size_t visited;
};

static int walk_wrap_visit(void *ctx, const char *item_id, struct store_item *item, unsigned level)
{
	struct walk_wrap *wrap = ctx;
	wrap->visited++;
	return wrap->visit(wrap->inner, item_id, item, level);
}

int apply_walk(struct apply_ctx *ctx, const char *root, bool check, void *visit_ctx, hierarchy_visit_fn visit)
{
	size_t budget = HIERARCHY_ITEMS_MAX;
	if (check) {
		assert(ctx->reach <= APPLY_RECORD_REACH_MAX);
		size_t left = APPLY_RECORD_REACH_MAX - ctx->reach;
		if (left < budget)
			budget = left;
	}
	struct walk_wrap wrap = { visit_ctx, visit, 0 };
	int rc = hierarchy_walk(ctx->txn, root, budget, &wrap, walk_wrap_visit);
	if (check) {
		ctx->reach += wrap.visited;
		if (rc == SL_ELIMIT)
			return OUTCOME_LIMIT_EXCEEDED;
	}
	if (rc == SL_ENOENT)
		return OUTCOME_UNKNOWN_ITEM;
	return rc;
}

int apply_transition_visit(void *transition, const char *item_id, struct store_item *item, unsigned level)
{
	const struct apply_transition *t = transition;
	struct apply_ctx *ctx = t->ctx;
	if (t->revert && (item->status != ITEM_DECOMMISSIONED || item->status_seq != t->match_seq))
		return 0; /* not decommissioned by the entry being reverted: leave it */

	struct store_item before = *item;
	item->status = t->status;
	item->reason = t->reason;
	if (t->site != NULL)
		memcpy(item->site, t->site, sizeof item->site);
	memset(item->destination, 0, sizeof item->destination);
	strncpy(item->destination, t->destination, sizeof item->destination - 1);
	memcpy(item->status_site, ctx->site, sizeof item->status_site);
	item->status_seq = ctx->seq;
	item->status_time_ms = ctx->ledger_time_ms;
	if (level == 1 && t->clear_root_parent)
		memset(item->parent, 0, sizeof item->parent);

	int rc = store_item_put(ctx->txn, item_id, item);
	if (rc == 0)
		rc = apply_counter_move(ctx, &before, item);
	if (rc == 0 && t->revert)
		rc = apply_counter_add(ctx, item, item->site, LOT_COUNTER_REVERTED, 1);
	if (rc == 0)
		rc = apply_history_add(ctx, item_id);
	return rc;
}

static int counter_slot_of(const struct store_item *item, unsigned *slot)
{
	switch (item->status) {
	case ITEM_ACTIVE:
		*slot = LOT_COUNTER_ACTIVE;
		return 0;
	case ITEM_IN_TRANSIT:
		*slot = LOT_COUNTER_IN_TRANSIT;
		return 0;
	case ITEM_DECOMMISSIONED:
		if (item->reason < 1 || item->reason > DECOMMISSION_REASON_MAX)
			return SL_ECORRUPT;
		*slot = LOT_COUNTER_DECOMMISSIONED(item->reason);
		return 0;
	default:
		return SL_ECORRUPT;
	}
}

int apply_counter_add(struct apply_ctx *ctx, const struct store_item *item, const char *site, unsigned slot,
		      int64_t delta)
{
	assert(slot < LOT_COUNTER_COUNT);
	char key[GS1_LOT_KEY_SIZE];
	if (item->kind != GS1_KIND_PACK || delta == 0)
		return 0;
	if (lifecycle_lot_key(item, key) != 0)
		return SL_ECORRUPT; /* every stored pack carries a valid GTIN and lot */
	for (size_t i = 0; i < ctx->delta_count; i++) {
		struct apply_counter_delta *d = &ctx->deltas[i];
		if (d->slot == slot && strcmp(d->lot_key, key) == 0 && strcmp(d->site, site) == 0) {
			d->delta += delta; /* |delta| <= APPLY_RECORD_REACH_MAX * 2: no overflow */
			return 0;
		}
	}
	if (ctx->delta_count == APPLY_COUNTER_DELTAS_MAX) {
		int rc = apply_counters_flush(ctx);
		if (rc != 0)
			return rc;
	}
	struct apply_counter_delta *d = &ctx->deltas[ctx->delta_count++];
	memcpy(d->lot_key, key, sizeof d->lot_key);
	memset(d->site, 0, sizeof d->site);
	strncpy(d->site, site, sizeof d->site - 1);
	d->slot = slot;
	d->delta = delta;
	return 0;
}

int apply_counter_move(struct apply_ctx *ctx, const struct store_item *before, const struct store_item *after)
{
	unsigned from, to;
	int rc = counter_slot_of(before, &from);
	if (rc == 0)
		rc = counter_slot_of(after, &to);
	if (rc == 0)
		rc = apply_counter_add(ctx, before, before->site, from, -1);
	if (rc == 0)
		rc = apply_counter_add(ctx, after, after->site, to, 1);
	return rc;
}

int apply_counters_flush(struct apply_ctx *ctx)
{
	/* Increments first: a pack moving between slots of one (lot, site) nets to zero anyway, and
	 * writing additions before subtractions never trips the store's underflow check spuriously. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < ctx->delta_count; i++) {
			const struct apply_counter_delta *d = &ctx->deltas[i];
			if (d->delta == 0 || (pass == 0) != (d->delta > 0))
				continue;
			int rc = store_lot_add(ctx->txn, d->lot_key, d->site, d->slot, d->delta);
			if (rc != 0)
				return rc;
		}
	}
	ctx->delta_count = 0;
	return 0;
}

int apply_history_add(struct apply_ctx *ctx, const char *item_id)
{
	int rc = store_history_add(ctx->txn, item_id, ctx->seq);
	return rc == SL_EEXIST ? 0 : rc; /* an item reached twice by one record keeps one entry */
}
