/* store/raft_tables.c — raft log and raft meta tables, and the lifecycle-table scan
 * (store/raft_store.h).
 *
 * Invariants:
 *  1. raft_log keys are native size_t indexes (MDB_INTEGERKEY), >= 1; values are the term as a
 *     little-endian u64, the entry type byte, then the data (possibly empty).
 *  2. raft_meta values are the raw bytes of the fixed structs of raft_store.h (native ABI, like
 *     the other fixed-size tables: docs/storage.md); a value of another size is SL_ECORRUPT.
 *  3. Truncation and compaction walk with a cursor and delete in index order; both are bounded by
 *     the number of stored entries (the replica compacts, so that number stays small).
 */
#include "store/raft_store.h"
#include "store/store_internal.h"
#include "util/error.h"

#include <assert.h>
#include <string.h>

#define RAFT_LOG_HEADER_BYTES 9 /* term (8) + type (1) */

_Static_assert(sizeof(struct store_raft_hard_state) == 24, "raft hard state layout");
_Static_assert(sizeof(struct store_raft_applied) == 56, "raft applied layout");

static void u64_le_put(uint8_t *out, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t u64_le_get(const uint8_t *in)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | in[i];
	return v;
}

static int raft_index_read(store_txn *txn, const MDB_val *key, uint64_t *index)
{
	if (key->mv_size != sizeof(size_t))
		return store_error_set(txn->st, SL_ECORRUPT, "raft_log: key has %zu bytes", key->mv_size);
	size_t v;
	memcpy(&v, key->mv_data, sizeof v);
	*index = v;
	return 0;
}

int store_raft_log_put(store_txn *txn, uint64_t index, uint64_t term, uint8_t type, const uint8_t *data,
		       size_t len)
{
	int rc = store_txn_usable(txn, true, STORE_TABLE_RAFT_LOG, "put");
	if (rc != 0)
		return rc;
	if (index == 0 || (len > 0 && data == NULL))
		return store_error_set(txn->st, SL_EINVAL, "raft_log put: index 0 or missing data");
	if (len > STORE_VALUE_BYTES_MAX - RAFT_LOG_HEADER_BYTES)
		return store_error_set(txn->st, SL_ELIMIT, "raft_log put: %zu bytes", len);
	size_t k = (size_t)index;
	MDB_val key = { sizeof k, &k };
	MDB_val value = { RAFT_LOG_HEADER_BYTES + len, NULL };
	rc = store_value_put(txn, STORE_TABLE_RAFT_LOG, "put", &key, &value, MDB_RESERVE);
	if (rc != 0)
		return rc;
	uint8_t *out = value.mv_data;
	u64_le_put(out, term);
	out[8] = type;
	if (len > 0)
		memcpy(out + RAFT_LOG_HEADER_BYTES, data, len);
	return 0;
}

static int raft_value_split(store_txn *txn, const MDB_val *value, uint64_t *term, uint8_t *type,
			    const uint8_t **data, size_t *len)
{
	if (value->mv_size < RAFT_LOG_HEADER_BYTES)
		return store_error_set(txn->st, SL_ECORRUPT, "raft_log: value of %zu bytes", value->mv_size);
	const uint8_t *bytes = value->mv_data;
	*term = u64_le_get(bytes);
	*type = bytes[8];
	*len = value->mv_size - RAFT_LOG_HEADER_BYTES;
	*data = *len > 0 ? bytes + RAFT_LOG_HEADER_BYTES : NULL;
	return 0;
}

int store_raft_log_get(store_txn *txn, uint64_t index, uint64_t *term, uint8_t *type, const uint8_t **data,
		       size_t *len)
{
	assert(term != NULL && type != NULL && data != NULL && len != NULL);
	size_t k = (size_t)index;
	MDB_val key = { sizeof k, &k };
	MDB_val value;
	int rc = store_value_get(txn, STORE_TABLE_RAFT_LOG, "get", &key, &value);
	if (rc != 0)
		return rc;
	return raft_value_split(txn, &value, term, type, data, len);
}

/* Delete entries from `from` on (forward) or up to `through` (from the start). */
static int raft_log_delete(store_txn *txn, uint64_t lo, uint64_t hi, const char *op)
{
	int rc = store_txn_usable(txn, true, STORE_TABLE_RAFT_LOG, op);
	if (rc != 0)
		return rc;
	MDB_cursor *cursor;
	rc = store_cursor_open(txn, STORE_TABLE_RAFT_LOG, op, &cursor);
	if (rc != 0)
		return rc;
	size_t k = (size_t)lo;
	MDB_val key = { sizeof k, &k }, value;
	int mdb_rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
	while (mdb_rc == 0) {
		uint64_t index = 0;
		rc = raft_index_read(txn, &key, &index);
		if (rc != 0 || index > hi)
			break;
		mdb_rc = mdb_cursor_del(cursor, 0);
		k = (size_t)lo; /* seek again: the next entry is the first at or after lo */
		key = (MDB_val){ sizeof k, &k };
		if (mdb_rc == 0)
			mdb_rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
	}
	if (rc == 0 && mdb_rc != 0 && mdb_rc != MDB_NOTFOUND)
		rc = store_txn_mdb_error(txn, mdb_rc, STORE_TABLE_RAFT_LOG, op);
	mdb_cursor_close(cursor);
	return rc;
}

int store_raft_log_truncate(store_txn *txn, uint64_t from_index)
{
	return raft_log_delete(txn, from_index, UINT64_MAX, "truncate");
}

int store_raft_log_compact(store_txn *txn, uint64_t through_index)
{
	return raft_log_delete(txn, 0, through_index, "compact");
}

int store_raft_log_iterate(store_txn *txn, uint64_t first,
			   int (*cb)(void *ctx, uint64_t index, uint64_t term, uint8_t type, const uint8_t *data,
				     size_t len),
			   void *ctx)
{
	assert(cb != NULL);
	MDB_cursor *cursor;
	int rc = store_cursor_open(txn, STORE_TABLE_RAFT_LOG, "iterate", &cursor);
	if (rc != 0)
		return rc;
	size_t k = (size_t)first;
	MDB_val key = { sizeof k, &k }, value;
	int mdb_rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
	while (mdb_rc == 0 && rc == 0) {
		uint64_t index = 0, term = 0;
		uint8_t type;
		const uint8_t *data;
		size_t len;
		rc = raft_index_read(txn, &key, &index);
		if (rc == 0)
			rc = raft_value_split(txn, &value, &term, &type, &data, &len);
		if (rc == 0)
			rc = cb(ctx, index, term, type, data, len);
		if (rc == 0)
			mdb_rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
	}
	if (rc == 0 && mdb_rc != MDB_NOTFOUND)
		rc = store_txn_mdb_error(txn, mdb_rc, STORE_TABLE_RAFT_LOG, "iterate");
	mdb_cursor_close(cursor);
	return rc;
}

int store_raft_log_last(store_txn *txn, uint64_t *last_index)
{
	assert(last_index != NULL);
	MDB_cursor *cursor;
	int rc = store_cursor_open(txn, STORE_TABLE_RAFT_LOG, "last", &cursor);
	if (rc != 0)
		return rc;
	MDB_val key, value;
	int mdb_rc = mdb_cursor_get(cursor, &key, &value, MDB_LAST);
	*last_index = 0;
	if (mdb_rc == 0)
		rc = raft_index_read(txn, &key, last_index);
	else if (mdb_rc != MDB_NOTFOUND)
		rc = store_txn_mdb_error(txn, mdb_rc, STORE_TABLE_RAFT_LOG, "last");
	mdb_cursor_close(cursor);
	return rc;
}

/* ---- raft meta ---- */

static int meta_put(store_txn *txn, const char *name, const void *value, size_t size)
{
	MDB_val key = { strlen(name), store_mutable(name) };
	MDB_val data = { size, store_mutable(value) };
	return store_value_put(txn, STORE_TABLE_RAFT_META, "put", &key, &data, 0);
}

static int meta_get(store_txn *txn, const char *name, void *out, size_t size)
{
	memset(out, 0, size);
	MDB_val key = { strlen(name), store_mutable(name) };
	int rc = store_value_get_fixed(txn, STORE_TABLE_RAFT_META, "get", &key, out, size);
	if (rc == SL_ENOENT)
		memset(out, 0, size);
	return rc;
}

int store_raft_hard_state_put(store_txn *txn, const struct store_raft_hard_state *hs)
{
	return meta_put(txn, "hard", hs, sizeof *hs);
}

int store_raft_hard_state_get(store_txn *txn, struct store_raft_hard_state *out)
{
	return meta_get(txn, "hard", out, sizeof *out);
}

int store_raft_compaction_put(store_txn *txn, const struct store_raft_compaction *c)
{
	if (c->voters_count > STORE_RAFT_MEMBERS_MAX || c->learners_count > STORE_RAFT_MEMBERS_MAX)
		return store_error_set(txn->st, SL_EINVAL, "raft_meta put: too many members");
	struct store_raft_compaction copy;
	memset(&copy, 0, sizeof copy); /* deterministic bytes on disk */
	copy.index = c->index;
	copy.term = c->term;
	memcpy(copy.voters, c->voters, sizeof copy.voters);
	memcpy(copy.learners, c->learners, sizeof copy.learners);
	copy.voters_count = c->voters_count;
	copy.learners_count = c->learners_count;
	copy.ledger_seq = c->ledger_seq;
	copy.ledger_time_ms = c->ledger_time_ms;
	memcpy(copy.state_hash, c->state_hash, sizeof copy.state_hash);
	return meta_put(txn, "snap", &copy, sizeof copy);
}

int store_raft_compaction_get(store_txn *txn, struct store_raft_compaction *out)
{
	int rc = meta_get(txn, "snap", out, sizeof *out);
	if (rc == 0 && (out->voters_count > STORE_RAFT_MEMBERS_MAX || out->learners_count > STORE_RAFT_MEMBERS_MAX))
		rc = store_error_set(txn->st, SL_ECORRUPT, "raft_meta snap: member counts out of range");
	return rc;
}

int store_raft_applied_put(store_txn *txn, const struct store_raft_applied *a)
{
	return meta_put(txn, "applied", a, sizeof *a);
}

int store_raft_applied_get(store_txn *txn, struct store_raft_applied *out)
{
	return meta_get(txn, "applied", out, sizeof *out);
}

/* ---- lifecycle scan ---- */

static int scan_table(store_txn *txn, enum store_table table, int id,
		      int (*cb)(void *ctx, int table, const void *key, size_t key_len, const void *value,
				size_t value_len),
		      void *ctx)
{
	MDB_cursor *cursor;
	int rc = store_cursor_open(txn, table, "scan", &cursor);
	if (rc != 0)
		return rc;
	MDB_val key, value;
	int mdb_rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST);
	while (mdb_rc == 0 && rc == 0) {
		rc = cb(ctx, id, key.mv_data, key.mv_size, value.mv_data, value.mv_size);
		if (rc == 0)
			mdb_rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
	}
	if (rc == 0 && mdb_rc != MDB_NOTFOUND)
		rc = store_txn_mdb_error(txn, mdb_rc, table, "scan");
	mdb_cursor_close(cursor);
	return rc;
}

int store_scan_lifecycle(store_txn *txn,
			 int (*cb)(void *ctx, int table, const void *key, size_t key_len, const void *value,
				   size_t value_len),
			 void *ctx)
{
	assert(cb != NULL);
	int rc = scan_table(txn, STORE_TABLE_ITEMS, STORE_SCAN_ITEMS, cb, ctx);
	if (rc == 0)
		rc = scan_table(txn, STORE_TABLE_CHILDREN, STORE_SCAN_CHILDREN, cb, ctx);
	if (rc == 0)
		rc = scan_table(txn, STORE_TABLE_LOCKS, STORE_SCAN_LOCKS, cb, ctx);
	if (rc == 0)
		rc = scan_table(txn, STORE_TABLE_LOTS, STORE_SCAN_LOTS, cb, ctx);
	return rc;
}
