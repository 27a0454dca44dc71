/* ledger/hierarchy.h — walks of the aggregation hierarchy (pallet > case > pack) stored in the
 * items and children tables.
 *
 * Rules:
 *  1. Walks are iterative with an explicit stack of at most HIERARCHY_DEPTH_MAX levels: no
 *     recursion, and no input (nor a corrupt store) can make them run or allocate without bound.
 *  2. Levels count the item itself: a lone pack has 1 level, a case of packs 2, a pallet of cases
 *     of packs 3. The apply rules never build a tree deeper than HIERARCHY_DEPTH_MAX levels or
 *     with more than HIERARCHY_ITEMS_MAX items under one top container (LIMIT_EXCEEDED).
 *  3. Order is deterministic (parents before their children, children in key order), so every
 *     replica visits the same items in the same order.
 *  4. A visit callback may change and store_item_put() the item it is given, but must not change
 *     the children table under the walk.
 */
#ifndef SL_LEDGER_HIERARCHY_H
#define SL_LEDGER_HIERARCHY_H

#include <stddef.h>

#include "store/store.h"

#define HIERARCHY_DEPTH_MAX 8	    /* levels; real logistic hierarchies use 2–5 */
#define HIERARCHY_ITEMS_MAX 100000 /* items under one top container, itself included: a full truck */

/* Called for every item of a walk; `level` is 1 for the root. Return non-zero to stop the walk
 * (that value is returned by hierarchy_walk). */
typedef int (*hierarchy_visit_fn)(void *ctx, const char *item_id, struct store_item *item, unsigned level);

/* Visit `root` and everything under it. Errors: SL_ENOENT when root does not exist; SL_ELIMIT when
 * the tree is deeper than HIERARCHY_DEPTH_MAX or holds more than items_max items (checked before
 * visiting beyond the limit); SL_ECORRUPT when a listed child is missing; store errors; SL_ENOMEM. */
int hierarchy_walk(store_txn *txn, const char *root, size_t items_max, void *ctx, hierarchy_visit_fn visit);

struct hierarchy_size {
	size_t items;	 /* the root included */
	unsigned levels; /* 1 for an item without children */
};

/* Size of the tree under `root` (errors as hierarchy_walk). */
int hierarchy_measure(store_txn *txn, const char *root, size_t items_max, struct hierarchy_size *out);

/* The containers above `item`, innermost first (out[0] is its parent), at most
 * HIERARCHY_DEPTH_MAX - 1. SL_ECORRUPT when a parent is missing or the chain is too long. */
int hierarchy_ancestors(store_txn *txn, const struct store_item *item, char out[][STORE_ITEM_ID_SIZE],
			size_t *count);

#endif
