/* ledger/apply_internal.h — what the batch pipeline (apply.c) shares with the rule files
 * (rules_items.c, rules_movement.c, rules_locks.c) and their helpers (rules_common.c). Private to
 * ledger/: other modules use ledger/apply.h and ledger/lifecycle.h.
 *
 * Conventions of the rule code:
 *  1. A rule function returns 0 after deciding (ctx->outcome, ctx->item) or a negative SL_E* store
 *     error, which aborts the whole batch (nothing is committed).
 *  2. Helpers that check one thing return an outcome: 0 (OUTCOME_ACCEPTED, passes), a positive
 *     enum ledger_outcome (refused), or a negative SL_E* error. apply_verdict() turns that into
 *     the rule's decision.
 *  3. Two passes: every check of the record runs before the first write, so a rejected record
 *     changes nothing (apply.h rule 3). The write pass may assume what the check pass proved.
 *  4. Accepted records add their entry's seq to the history of every item they change, contents of
 *     containers included; the pipeline adds rejected authentic records to the items they name.
 */
#ifndef SL_LEDGER_APPLY_INTERNAL_H
#define SL_LEDGER_APPLY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/gs1.h"
#include "ledger/hierarchy.h"
#include "ledger/reason.h"
#include "ledger/record.h"
#include "store/store.h"

/* Items one record may reach through its containers (each top container is also bounded by
 * HIERARCHY_ITEMS_MAX): a few full trucks; bounds the time one record can take to apply. */
#define APPLY_RECORD_REACH_MAX 1000000
/* Distinct (lot, site, slot) counter changes buffered before they are written. */
#define APPLY_COUNTER_DELTAS_MAX 64

struct apply_counter_delta {
	char lot_key[GS1_LOT_KEY_SIZE];
	char site[STORE_SITE_SIZE];
	unsigned slot;
	int64_t delta;
};

struct apply_name {
	const char *name;
	uint32_t index;
};

struct apply_ctx {
	store_txn *txn;
	const struct record *record;
	uint64_t seq;		 /* the seq this record's entry gets */
	uint64_t ledger_time_ms; /* of the batch */
	char site[STORE_SITE_SIZE];
	/* Item ids named by the record, NUL-terminated, in record order (commission: built from
	 * GTIN + serial). first[i] is the index of the first occurrence of names[i]. */
	char (*names)[STORE_ITEM_ID_SIZE];
	uint32_t *first;
	struct apply_name *sorted; /* names sorted by (name, index), for apply_name_find */
	size_t name_count;
	char parent[STORE_ITEM_ID_SIZE]; /* aggregate, disaggregate */
	size_t reach;			 /* items visited by this record's check walks */
	struct apply_counter_delta deltas[APPLY_COUNTER_DELTAS_MAX];
	size_t delta_count;
	int outcome;
	int32_t item;
};

/* Rules, one per record type (docs/lifecycle.md). */
int rules_commission(struct apply_ctx *ctx);
int rules_commission_container(struct apply_ctx *ctx);
int rules_aggregate(struct apply_ctx *ctx);
int rules_disaggregate(struct apply_ctx *ctx);
int rules_ship(struct apply_ctx *ctx);
int rules_receive(struct apply_ctx *ctx);
int rules_decommission(struct apply_ctx *ctx);
int rules_revert(struct apply_ctx *ctx);
int rules_lock(struct apply_ctx *ctx);
int rules_unlock(struct apply_ctx *ctx);
int rules_deviation(struct apply_ctx *ctx);
int rules_checkpoint(struct apply_ctx *ctx); /* ledger/rules_checkpoint.c */
int rules_registry(struct apply_ctx *ctx);   /* ledger/rules_registry.c */

/* rc < 0: return it; rc > 0: reject with outcome rc at `item` (-1: none); 0: passes. Returns 0
 * for a decision, the error otherwise, so callers write `return apply_verdict(...)`. */
int apply_verdict(struct apply_ctx *ctx, int rc, int32_t item);
static inline bool apply_rejected(const struct apply_ctx *ctx)
{
	return ctx->outcome != OUTCOME_ACCEPTED;
}

/* Index of the first occurrence of `name` among the record's names, -1 when absent. */
int32_t apply_name_find(const struct apply_ctx *ctx, const char *name);

/* "The item must be active at the record's site": UNKNOWN_ITEM, NOT_AT_SITE, IN_TRANSIT,
 * DECOMMISSIONED, 0 when it is (item filled), or an error. */
int apply_item_check_here(struct apply_ctx *ctx, const char *item_id, struct store_item *item);
/* As store_item_get, with SL_ENOENT mapped to OUTCOME_UNKNOWN_ITEM. */
int apply_item_get(struct apply_ctx *ctx, const char *item_id, struct store_item *item);

/* Walk the tree under root (ledger/hierarchy.h). check = true for the check pass: the walk counts
 * against APPLY_RECORD_REACH_MAX and a limit becomes OUTCOME_LIMIT_EXCEEDED. A visit returning a
 * positive outcome stops the walk with it. */
int apply_walk(struct apply_ctx *ctx, const char *root, bool check, void *visit_ctx, hierarchy_visit_fn visit);

/* A status change applied to a whole tree by the write pass (apply_transition_visit). */
struct apply_transition {
	struct apply_ctx *ctx;
	uint8_t status;
	uint8_t reason;		 /* decommission reason, 0 otherwise */
	const char *site;	 /* new store_item.site, NULL = unchanged */
	const char *destination; /* new destination ("" when none) */
	bool clear_root_parent;	 /* decommission: implicit disaggregation of the root */
	bool revert;		 /* only items decommissioned by match_seq change; count a revert */
	uint64_t match_seq;
};
int apply_transition_visit(void *transition, const char *item_id, struct store_item *item, unsigned level);

/* Lot counters (packs only; containers are ignored). The move takes the pack out of the slot of
 * its old status at its old site and into the slot of its new status at its new site. */
int apply_counter_add(struct apply_ctx *ctx, const struct store_item *item, const char *site, unsigned slot,
		      int64_t delta);
int apply_counter_move(struct apply_ctx *ctx, const struct store_item *before, const struct store_item *after);
int apply_counters_flush(struct apply_ctx *ctx);

int apply_history_add(struct apply_ctx *ctx, const char *item_id);

/* Copy a borrowed string into a NUL-terminated buffer; false when it does not fit. */
bool apply_str_copy(struct sl_str text, char *out, size_t out_size);

#endif
