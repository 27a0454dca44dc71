/* ledger/hierarchy.c — iterative walks of the aggregation hierarchy (see hierarchy.h).
 *
 * Design: a depth-first walk with one frame per level. A frame holds the copied ids of the
 * children of one container and the position of the next one to visit; children are copied out
 * of LMDB before any of them is visited, so visit callbacks may write items. The frames on the
 * stack hold disjoint sets of children, so their total size never exceeds items_max.
 *
 * Invariants:
 *  1. frames used <= HIERARCHY_DEPTH_MAX - 1 (a frame holds level n+1 items for a level n parent).
 *  2. visited + ids held in frames <= items_max at every step.
 */
#include "ledger/hierarchy.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/gs1.h"
#include "util/error.h"

struct walk_frame {
	char (*ids)[STORE_ITEM_ID_SIZE];
	size_t count;
	size_t next;
};

struct walk_state {
	struct walk_frame frames[HIERARCHY_DEPTH_MAX];
	size_t depth;	  /* frames in use */
	size_t held;	  /* ids held in frames, not yet visited */
	size_t visited;
	size_t items_max;
};

struct collect_ctx {
	struct walk_frame *frame;
	size_t capacity;
	size_t budget; /* ids this frame may still take */
};

static int collect_child(void *ctx, const char *child, size_t len)
{
	struct collect_ctx *collect = ctx;
	struct walk_frame *frame = collect->frame;

	if (len == 0 || len >= STORE_ITEM_ID_SIZE)
		return SL_ECORRUPT;
	if (frame->count >= collect->budget)
		return SL_ELIMIT;
	if (frame->count == collect->capacity) {
		size_t capacity = collect->capacity ? collect->capacity * 2 : 16;
		if (capacity > collect->budget)
			capacity = collect->budget;
		void *grown = realloc(frame->ids, capacity * sizeof frame->ids[0]);
		if (grown == NULL)
			return SL_ENOMEM;
		frame->ids = grown;
		collect->capacity = capacity;
	}
	memcpy(frame->ids[frame->count], child, len);
	frame->ids[frame->count][len] = '\0';
	frame->count++;
	return 0;
}

/* Push a frame with the children of `parent` (a container at `level`). */
static int walk_push_children(store_txn *txn, struct walk_state *state, const char *parent, unsigned level)
{
	assert(state->depth < HIERARCHY_DEPTH_MAX);
	struct walk_frame *frame = &state->frames[state->depth];
	memset(frame, 0, sizeof *frame);
	struct collect_ctx collect = { frame, 0, state->items_max - state->visited - state->held };

	int rc = store_children_iterate(txn, parent, collect_child, &collect);
	if (rc == 0 && frame->count > 0 && level + 1 > HIERARCHY_DEPTH_MAX)
		rc = SL_ELIMIT;
	if (rc != 0 || frame->count == 0) {
		free(frame->ids);
		frame->ids = NULL;
		return rc;
	}
	state->held += frame->count;
	state->depth++;
	return 0;
}

static int walk_visit(store_txn *txn, struct walk_state *state, const char *item_id, unsigned level, void *ctx,
		      hierarchy_visit_fn visit)
{
	struct store_item item;
	int rc = store_item_get(txn, item_id, &item);
	if (rc != 0)
		return rc;
	if (state->visited >= state->items_max)
		return SL_ELIMIT;
	state->visited++;
	/* A private copy: the callback and the push below see a string no frame can move. */
	char id[STORE_ITEM_ID_SIZE];
	size_t len = strnlen(item_id, sizeof id);
	if (len == sizeof id)
		return SL_EINVAL;
	memcpy(id, item_id, len + 1);
	rc = visit(ctx, id, &item, level);
	if (rc != 0)
		return rc;
	if (item.child_count == 0) /* packs can be parents too: cases identified by SGTIN */
		return 0;
	return walk_push_children(txn, state, id, level);
}

static void walk_free(struct walk_state *state)
{
	for (size_t i = 0; i < state->depth; i++)
		free(state->frames[i].ids);
	state->depth = 0;
}

int hierarchy_walk(store_txn *txn, const char *root, size_t items_max, void *ctx, hierarchy_visit_fn visit)
{
	assert(txn != NULL && root != NULL && visit != NULL);
	struct walk_state state;
	memset(&state, 0, sizeof state);
	state.items_max = items_max;

	int rc = walk_visit(txn, &state, root, 1, ctx, visit);
	while (rc == 0 && state.depth > 0) {
		struct walk_frame *top = &state.frames[state.depth - 1];
		if (top->next == top->count) {
			free(top->ids);
			top->ids = NULL;
			state.depth--;
			continue;
		}
		char id[STORE_ITEM_ID_SIZE];
		memcpy(id, top->ids[top->next++], sizeof id);
		state.held--;
		rc = walk_visit(txn, &state, id, (unsigned)state.depth + 1, ctx, visit);
		if (rc == SL_ENOENT)
			rc = SL_ECORRUPT; /* a child listed in the children table must exist */
	}
	walk_free(&state);
	return rc;
}

static int measure_visit(void *ctx, const char *item_id, struct store_item *item, unsigned level)
{
	struct hierarchy_size *size = ctx;
	(void)item_id;
	(void)item;
	size->items++;
	if (level > size->levels)
		size->levels = level;
	return 0;
}

int hierarchy_measure(store_txn *txn, const char *root, size_t items_max, struct hierarchy_size *out)
{
	assert(out != NULL);
	out->items = 0;
	out->levels = 0;
	return hierarchy_walk(txn, root, items_max, out, measure_visit);
}

int hierarchy_ancestors(store_txn *txn, const struct store_item *item, char out[][STORE_ITEM_ID_SIZE],
			size_t *count)
{
	assert(item != NULL && count != NULL);
	*count = 0;
	struct store_item current = *item;
	while (current.parent[0] != '\0') {
		if (*count >= HIERARCHY_DEPTH_MAX - 1)
			return SL_ECORRUPT; /* the rules never build deeper trees, so this is damage */
		size_t len = strnlen(current.parent, sizeof current.parent);
		if (len == sizeof current.parent)
			return SL_ECORRUPT;
		memcpy(out[*count], current.parent, len + 1);
		(*count)++;
		int rc = store_item_get(txn, out[*count - 1], &current);
		if (rc == SL_ENOENT)
			return SL_ECORRUPT;
		if (rc != 0)
			return rc;
	}
	return 0;
}
