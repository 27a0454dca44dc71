/* store/items.c — item state, containment (children), per-item history, and locks.
 *
 * Invariants:
 *  1. items and locks values are the raw bytes of struct store_item / struct store_lock, written
 *     from a zeroed copy (padding and the bytes after each string's NUL are 0), so equal logical
 *     state gives equal bytes on every replica.
 *  2. A struct read back has every string field NUL-terminated inside its array, else the read
 *     is SL_ECORRUPT and the caller's struct is untouched; a value of the wrong size is
 *     SL_ECORRUPT. Corrupt data never causes an overread.
 *  3. children: parent → child pairs are unique (MDB_NODUPDATA); children are handed to the
 *     callback as NUL-terminated copies.
 *  4. history: item → seq pairs (size_t, MDB_INTEGERDUP) iterate in ascending seq order.
 */
#include "store/store_internal.h"
#include "util/error.h"

#include <assert.h>
#include <string.h>

/* Invariant 1; SL_EINVAL when a string field of `in` is not terminated. */
static int item_normalize(const struct store_item *in, struct store_item *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = in->kind;
	out->status = in->status;
	out->reason = in->reason;
	out->flags = in->flags;
	out->child_count = in->child_count;
	out->status_time_ms = in->status_time_ms;
	out->commission_seq = in->commission_seq;
	out->status_seq = in->status_seq;
	bool ok = store_str_field_copy(out->site, in->site, sizeof(out->site));
	ok = ok && store_str_field_copy(out->destination, in->destination, sizeof(out->destination));
	ok = ok && store_str_field_copy(out->status_site, in->status_site, sizeof(out->status_site));
	ok = ok && store_str_field_copy(out->parent, in->parent, sizeof(out->parent));
	ok = ok && store_str_field_copy(out->gtin, in->gtin, sizeof(out->gtin));
	ok = ok && store_str_field_copy(out->lot, in->lot, sizeof(out->lot));
	ok = ok && store_str_field_copy(out->expiry, in->expiry, sizeof(out->expiry));
	return ok ? 0 : SL_EINVAL;
}

static bool item_strings_valid(const struct store_item *item)
{
	return store_str_field_valid(item->site, sizeof(item->site)) &&
	       store_str_field_valid(item->destination, sizeof(item->destination)) &&
	       store_str_field_valid(item->status_site, sizeof(item->status_site)) &&
	       store_str_field_valid(item->parent, sizeof(item->parent)) &&
	       store_str_field_valid(item->gtin, sizeof(item->gtin)) &&
	       store_str_field_valid(item->lot, sizeof(item->lot)) &&
	       store_str_field_valid(item->expiry, sizeof(item->expiry));
}

int store_item_get(store_txn *txn, const char *item_id, struct store_item *out)
{
	assert(out != NULL);
	MDB_val key;
	int rc = store_key_from_str(txn, STORE_TABLE_ITEMS, "get", item_id, &key);
	struct store_item item;
	if (rc == 0)
		rc = store_value_get_fixed(txn, STORE_TABLE_ITEMS, "get", &key, &item, sizeof(item));
	if (rc != 0)
		return rc;
	if (!item_strings_valid(&item)) /* invariant 2 */
		return store_error_set(txn->st, SL_ECORRUPT, "items get %s: unterminated string field", item_id);
	*out = item;
	return 0;
}

int store_item_put(store_txn *txn, const char *item_id, const struct store_item *item)
{
	assert(item != NULL);
	MDB_val key;
	int rc = store_key_from_str(txn, STORE_TABLE_ITEMS, "put", item_id, &key);
	if (rc != 0)
		return rc;
	struct store_item value;
	if (item_normalize(item, &value) != 0)
		return store_error_set(txn->st, SL_EINVAL, "items put %s: unterminated string field", item_id);
	MDB_val data = { sizeof(value), &value };
	return store_value_put(txn, STORE_TABLE_ITEMS, "put", &key, &data, 0);
}

int store_child_add(store_txn *txn, const char *parent, const char *child)
{
	MDB_val key, data;
	int rc = store_key_from_str(txn, STORE_TABLE_CHILDREN, "add", parent, &key);
	if (rc == 0)
		rc = store_key_from_str(txn, STORE_TABLE_CHILDREN, "add (child)", child, &data);
	if (rc == 0)
		rc = store_value_put(txn, STORE_TABLE_CHILDREN, "add", &key, &data, MDB_NODUPDATA);
	return rc;
}

int store_child_del(store_txn *txn, const char *parent, const char *child)
{
	MDB_val key, data;
	int rc = store_key_from_str(txn, STORE_TABLE_CHILDREN, "del", parent, &key);
	if (rc == 0)
		rc = store_key_from_str(txn, STORE_TABLE_CHILDREN, "del (child)", child, &data);
	if (rc == 0)
		rc = store_value_del(txn, STORE_TABLE_CHILDREN, "del", &key, &data);
	return rc;
}

/* Visit every duplicate of `key` in `table`; `visit` gets each value. */
static int dups_iterate(store_txn *txn, enum store_table table, const char *op, MDB_val *key,
			int (*visit)(store_txn *txn, const MDB_val *value, void *state), void *state)
{
	MDB_cursor *cursor;
	int rc = store_cursor_open(txn, table, op, &cursor);
	if (rc != 0)
		return rc;
	MDB_val data;
	int mdb_rc = mdb_cursor_get(cursor, key, &data, MDB_SET_KEY);
	while (mdb_rc == 0) {
		rc = visit(txn, &data, state);
		if (rc != 0)
			break;
		mdb_rc = mdb_cursor_get(cursor, key, &data, MDB_NEXT_DUP);
	}
	if (rc == 0 && mdb_rc != MDB_NOTFOUND)
		rc = store_txn_mdb_error(txn, mdb_rc, table, op);
	mdb_cursor_close(cursor);
	return rc;
}

struct children_state {
	int (*cb)(void *ctx, const char *child, size_t len);
	void *ctx;
};

static int children_visit(store_txn *txn, const MDB_val *value, void *state)
{
	const struct children_state *children = state;
	char child[STORE_KEY_BYTES_MAX + 1];
	if (value->mv_size == 0 || value->mv_size > STORE_KEY_BYTES_MAX ||
	    memchr(value->mv_data, '\0', value->mv_size) != NULL)
		return store_error_set(txn->st, SL_ECORRUPT, "children iterate: malformed child of %zu bytes",
				       value->mv_size);
	memcpy(child, value->mv_data, value->mv_size);
	child[value->mv_size] = '\0'; /* invariant 3 */
	return children->cb(children->ctx, child, value->mv_size);
}

int store_children_iterate(store_txn *txn, const char *parent,
			   int (*cb)(void *ctx, const char *child, size_t len), void *ctx)
{
	assert(cb != NULL);
	MDB_val key;
	int rc = store_key_from_str(txn, STORE_TABLE_CHILDREN, "iterate", parent, &key);
	if (rc != 0)
		return rc;
	struct children_state state = { cb, ctx };
	return dups_iterate(txn, STORE_TABLE_CHILDREN, "iterate", &key, children_visit, &state);
}

int store_history_add(store_txn *txn, const char *item_id, uint64_t seq)
{
	if (seq == 0)
		return store_error_set(txn->st, SL_EINVAL, "history add: seq 0");
	MDB_val key;
	int rc = store_key_from_str(txn, STORE_TABLE_HISTORY, "add", item_id, &key);
	if (rc != 0)
		return rc;
	size_t value = (size_t)seq;
	MDB_val data = { sizeof(value), &value };
	return store_value_put(txn, STORE_TABLE_HISTORY, "add", &key, &data, MDB_NODUPDATA);
}

struct history_state {
	int (*cb)(void *ctx, uint64_t seq);
	void *ctx;
};

static int history_visit(store_txn *txn, const MDB_val *value, void *state)
{
	const struct history_state *history = state;
	size_t seq;
	if (value->mv_size != sizeof(seq))
		return store_error_set(txn->st, SL_ECORRUPT, "history iterate: value has %zu bytes, expected %zu",
				       value->mv_size, sizeof(seq));
	memcpy(&seq, value->mv_data, sizeof(seq));
	return history->cb(history->ctx, seq);
}

int store_history_iterate(store_txn *txn, const char *item_id, int (*cb)(void *ctx, uint64_t seq), void *ctx)
{
	assert(cb != NULL);
	MDB_val key;
	int rc = store_key_from_str(txn, STORE_TABLE_HISTORY, "iterate", item_id, &key);
	if (rc != 0)
		return rc;
	struct history_state state = { cb, ctx };
	return dups_iterate(txn, STORE_TABLE_HISTORY, "iterate", &key, history_visit, &state);
}

int store_lock_get(store_txn *txn, const char *target, struct store_lock *out)
{
	assert(out != NULL);
	MDB_val key;
	int rc = store_key_from_str(txn, STORE_TABLE_LOCKS, "get", target, &key);
	struct store_lock lock;
	if (rc == 0)
		rc = store_value_get_fixed(txn, STORE_TABLE_LOCKS, "get", &key, &lock, sizeof(lock));
	if (rc != 0)
		return rc;
	if (!store_str_field_valid(lock.site, sizeof(lock.site))) /* invariant 2 */
		return store_error_set(txn->st, SL_ECORRUPT, "locks get %s: unterminated site", target);
	*out = lock;
	return 0;
}

int store_lock_put(store_txn *txn, const char *target, const struct store_lock *lock)
{
	assert(lock != NULL);
	MDB_val key;
	int rc = store_key_from_str(txn, STORE_TABLE_LOCKS, "put", target, &key);
	if (rc != 0)
		return rc;
	struct store_lock value;
	memset(&value, 0, sizeof(value)); /* invariant 1 */
	value.reasons = lock->reasons;
	value.scope = lock->scope;
	value.seq = lock->seq;
	if (!store_str_field_copy(value.site, lock->site, sizeof(value.site)))
		return store_error_set(txn->st, SL_EINVAL, "locks put %s: unterminated site", target);
	MDB_val data = { sizeof(value), &value };
	return store_value_put(txn, STORE_TABLE_LOCKS, "put", &key, &data, 0);
}

int store_lock_del(store_txn *txn, const char *target)
{
	MDB_val key;
	int rc = store_key_from_str(txn, STORE_TABLE_LOCKS, "del", target, &key);
	if (rc == 0)
		rc = store_value_del(txn, STORE_TABLE_LOCKS, "del", &key, NULL);
	return rc; /* SL_ENOENT when no lock */
}
