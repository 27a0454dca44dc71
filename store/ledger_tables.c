/* store/ledger_tables.c — the append-only ledger (seq → entry) and the record id index (id → seq).
 *
 * Invariants:
 *  1. ledger keys are size_t seqs 1, 2, 3, ... with no gap (MDB_INTEGERKEY: native integer order).
 *     store_ledger_append computes last + 1 and puts with MDB_APPEND, which LMDB refuses for a key
 *     not above the last one, so a non-monotonic seq cannot be written.
 *  2. store_ledger_count is the last key (0 when empty); with invariant 1 it equals the number of
 *     entries. store_ledger_iterate checks the keys it visits are consecutive (SL_ECORRUPT if not).
 *  3. Entries are never empty and never larger than STORE_VALUE_BYTES_MAX.
 *  4. ids values are one native uint64 seq (>= 1); an id is written once (MDB_NOOVERWRITE).
 */
#include "store/store_internal.h"
#include "util/error.h"

#include <assert.h>
#include <string.h>

#define STORE_RECORD_ID_BYTES 32 /* SHA-256 of the signed record (DESIGN.md "Records") */

static int ledger_seq_read(store_txn *txn, const char *op, const MDB_val *key, uint64_t *seq)
{
	if (key->mv_size != sizeof(size_t))
		return store_error_set(txn->st, SL_ECORRUPT, "ledger %s: key has %zu bytes, expected %zu", op,
				       key->mv_size, sizeof(size_t));
	size_t value;
	memcpy(&value, key->mv_data, sizeof(value));
	*seq = value;
	return 0;
}

/* Last seq in the ledger, 0 when empty. Remembered for the rest of the transaction: only
 * store_ledger_append writes this table, and it keeps the copy current. */
static int ledger_last(store_txn *txn, const char *op, uint64_t *last)
{
	if (txn->cache.ledger_last_known) {
		int rc = store_txn_usable(txn, false, STORE_TABLE_LEDGER, op);
		if (rc == 0)
			*last = txn->cache.ledger_last;
		return rc;
	}
	MDB_cursor *cursor;
	int rc = store_cursor_open(txn, STORE_TABLE_LEDGER, op, &cursor);
	if (rc != 0)
		return rc;
	MDB_val key, data;
	int mdb_rc = mdb_cursor_get(cursor, &key, &data, MDB_LAST);
	if (mdb_rc == MDB_NOTFOUND) {
		*last = 0;
	} else if (mdb_rc != 0) {
		rc = store_txn_mdb_error(txn, mdb_rc, STORE_TABLE_LEDGER, op);
	} else {
		rc = ledger_seq_read(txn, op, &key, last);
		if (rc == 0 && *last == 0)
			rc = store_error_set(txn->st, SL_ECORRUPT, "ledger %s: seq 0 present", op);
	}
	mdb_cursor_close(cursor);
	if (rc == 0) {
		txn->cache.ledger_last = *last;
		txn->cache.ledger_last_known = true;
	}
	return rc;
}

int store_ledger_append(store_txn *txn, const uint8_t *entry, size_t len, uint64_t *seq_out)
{
	int rc = store_txn_usable(txn, true, STORE_TABLE_LEDGER, "append");
	if (rc != 0)
		return rc;
	if (entry == NULL || len == 0)
		return store_error_set(txn->st, SL_EINVAL, "ledger append: empty entry");
	if (len > STORE_VALUE_BYTES_MAX)
		return store_error_set(txn->st, SL_ELIMIT, "ledger append: entry of %zu bytes > %u", len,
				       STORE_VALUE_BYTES_MAX);
	uint64_t last;
	rc = ledger_last(txn, "append", &last);
	if (rc != 0)
		return rc;
	if (last == UINT64_MAX)
		return store_error_set(txn->st, SL_ELIMIT, "ledger append: seq space exhausted");
	size_t next = (size_t)last + 1;
	MDB_val key = { sizeof(next), &next };
	MDB_val data = { len, store_mutable(entry) };
	txn->cache.ledger_last_known = false;
	rc = store_value_put(txn, STORE_TABLE_LEDGER, "append", &key, &data, MDB_APPEND); /* invariant 1 */
	if (rc == 0) {
		txn->cache.ledger_last = next;
		txn->cache.ledger_last_known = true;
	}
	if (rc == 0 && seq_out != NULL)
		*seq_out = next;
	return rc;
}

int store_ledger_get(store_txn *txn, uint64_t seq, const uint8_t **entry, size_t *len)
{
	assert(entry != NULL);
	assert(len != NULL);
	if (seq == 0) {
		int rc = store_txn_usable(txn, false, STORE_TABLE_LEDGER, "get");
		return rc != 0 ? rc : SL_ENOENT; /* seqs are 1-based */
	}
	size_t key_seq = (size_t)seq;
	MDB_val key = { sizeof(key_seq), &key_seq };
	MDB_val data;
	int rc = store_value_get(txn, STORE_TABLE_LEDGER, "get", &key, &data);
	if (rc != 0)
		return rc;
	*entry = data.mv_data;
	*len = data.mv_size;
	return 0;
}

int store_ledger_count(store_txn *txn, uint64_t *count)
{
	assert(count != NULL);
	return ledger_last(txn, "count", count); /* invariant 2 */
}

int store_ledger_iterate(store_txn *txn, uint64_t first, uint64_t limit,
			 int (*cb)(void *ctx, uint64_t seq, const uint8_t *entry, size_t len), void *ctx)
{
	assert(cb != NULL);
	if (first == 0)
		return store_error_set(txn->st, SL_EINVAL, "ledger iterate: seqs start at 1");
	MDB_cursor *cursor;
	int rc = store_cursor_open(txn, STORE_TABLE_LEDGER, "iterate", &cursor);
	if (rc != 0)
		return rc;
	size_t start = (size_t)first;
	MDB_val key = { sizeof(start), &start };
	MDB_val data;
	uint64_t expected = first;
	uint64_t visited = 0;
	int mdb_rc = mdb_cursor_get(cursor, &key, &data, MDB_SET_RANGE);
	while (mdb_rc == 0 && (limit == 0 || visited < limit)) {
		uint64_t seq = 0;
		rc = ledger_seq_read(txn, "iterate", &key, &seq);
		if (rc == 0 && seq != expected) /* invariant 2 */
			rc = store_error_set(txn->st, SL_ECORRUPT, "ledger iterate: seq %llu where %llu expected",
					     (unsigned long long)seq, (unsigned long long)expected);
		if (rc == 0)
			rc = cb(ctx, seq, data.mv_data, data.mv_size);
		if (rc != 0)
			break;
		expected++;
		visited++;
		mdb_rc = mdb_cursor_get(cursor, &key, &data, MDB_NEXT);
	}
	if (rc == 0 && mdb_rc != 0 && mdb_rc != MDB_NOTFOUND)
		rc = store_txn_mdb_error(txn, mdb_rc, STORE_TABLE_LEDGER, "iterate");
	mdb_cursor_close(cursor);
	return rc;
}

int store_id_put(store_txn *txn, const uint8_t id[32], uint64_t seq)
{
	assert(id != NULL);
	if (seq == 0)
		return store_error_set(txn->st, SL_EINVAL, "ids put: seq 0");
	MDB_val key = { STORE_RECORD_ID_BYTES, store_mutable(id) };
	MDB_val data = { sizeof(seq), &seq };
	return store_value_put(txn, STORE_TABLE_IDS, "put", &key, &data, MDB_NOOVERWRITE); /* invariant 4 */
}

int store_id_get(store_txn *txn, const uint8_t id[32], uint64_t *seq)
{
	assert(id != NULL);
	assert(seq != NULL);
	MDB_val key = { STORE_RECORD_ID_BYTES, store_mutable(id) };
	uint64_t value;
	int rc = store_value_get_fixed(txn, STORE_TABLE_IDS, "get", &key, &value, sizeof(value));
	if (rc != 0)
		return rc;
	if (value == 0)
		return store_error_set(txn->st, SL_ECORRUPT, "ids get: seq 0");
	*seq = value;
	return 0;
}
