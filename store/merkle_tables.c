/* store/merkle_tables.c — the Merkle nodes table (merkle_store.h) and the full lot counter scan.
 *
 * Invariants:
 *  1. A key is 9 bytes: level (0..MERKLE_LEVELS_MAX-1) then index big-endian; a value is 32 bytes.
 *  2. Level 0 holds leaves 0 .. size-1 with no gap: store_merkle_append checks its index against
 *     the last leaf before writing, and nodes are put with MDB_NOOVERWRITE.
 *  3. Node (l + 1, i) is present iff nodes (l, 2i) and (l, 2i + 1) are (a perfect node is written
 *     by the append that completes it: RFC 9162 §2.1.1 with k = 2^l).
 */
#include "store/merkle_store.h"

#include "store/store_internal.h"
#include "util/error.h"

#include <assert.h>
#include <string.h>

#define MERKLE_KEY_BYTES 9 /* level byte + uint64 index */

_Static_assert(STORE_MERKLE_LEVELS == MERKLE_LEVELS_MAX, "store_txn_cache.merkle covers every level");
_Static_assert(MERKLE_HASH_BYTES == 32, "store_txn_cache.merkle holds SHA-256 nodes");

/* The transaction's copy of the last node seen at `level` (store_internal.h): an append reads the
 * left siblings the previous appends of the same transaction wrote. Nodes never change (rule 3). */
static void merkle_cache_note(store_txn *txn, unsigned level, uint64_t index, const uint8_t hash[MERKLE_HASH_BYTES])
{
	txn->cache.merkle[level].known = true;
	txn->cache.merkle[level].index = index;
	memcpy(txn->cache.merkle[level].hash, hash, MERKLE_HASH_BYTES);
}

static void merkle_key_make(unsigned level, uint64_t index, uint8_t key[MERKLE_KEY_BYTES])
{
	assert(level < MERKLE_LEVELS_MAX);
	key[0] = (uint8_t)level;
	for (int i = 0; i < 8; i++)
		key[1 + i] = (uint8_t)(index >> (56 - 8 * i));
}

int store_merkle_node_put(store_txn *txn, unsigned level, uint64_t index, const uint8_t hash[MERKLE_HASH_BYTES])
{
	assert(hash != NULL);
	if (level >= MERKLE_LEVELS_MAX)
		return store_error_set(txn->st, SL_EINVAL, "merkle_nodes put: level %u", level);
	uint8_t key_bytes[MERKLE_KEY_BYTES];
	merkle_key_make(level, index, key_bytes);
	MDB_val key = { sizeof key_bytes, key_bytes };
	MDB_val data = { MERKLE_HASH_BYTES, store_mutable(hash) };
	int rc = store_value_put(txn, STORE_TABLE_MERKLE_NODES, "put", &key, &data, MDB_NOOVERWRITE);
	if (rc == 0)
		merkle_cache_note(txn, level, index, hash);
	return rc;
}

int store_merkle_node_get(void *ctx, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH_BYTES])
{
	store_txn *txn = ctx;
	assert(txn != NULL);
	if (level >= MERKLE_LEVELS_MAX)
		return SL_ENOENT;
	uint8_t key_bytes[MERKLE_KEY_BYTES];
	merkle_key_make(level, index, key_bytes);
	MDB_val key = { sizeof key_bytes, key_bytes };
	if (txn->cache.merkle[level].known && txn->cache.merkle[level].index == index) {
		int rc = store_txn_usable(txn, false, STORE_TABLE_MERKLE_NODES, "get");
		if (rc == 0)
			memcpy(out, txn->cache.merkle[level].hash, MERKLE_HASH_BYTES);
		return rc;
	}
	int rc = store_value_get_fixed(txn, STORE_TABLE_MERKLE_NODES, "get", &key, out, MERKLE_HASH_BYTES);
	if (rc == 0)
		merkle_cache_note(txn, level, index, out);
	return rc;
}

int store_merkle_size(store_txn *txn, uint64_t *size)
{
	assert(size != NULL);
	MDB_cursor *cursor;
	int rc = store_cursor_open(txn, STORE_TABLE_MERKLE_NODES, "size", &cursor);
	if (rc != 0)
		return rc;
	/* The last level-0 key sorts just below the first level-1 key. */
	uint8_t first_level1[MERKLE_KEY_BYTES];
	merkle_key_make(1, 0, first_level1);
	MDB_val key = { sizeof first_level1, first_level1 }, data;
	int mdb_rc = mdb_cursor_get(cursor, &key, &data, MDB_SET_RANGE);
	if (mdb_rc == 0)
		mdb_rc = mdb_cursor_get(cursor, &key, &data, MDB_PREV);
	else if (mdb_rc == MDB_NOTFOUND)
		mdb_rc = mdb_cursor_get(cursor, &key, &data, MDB_LAST);
	*size = 0;
	if (mdb_rc == 0 && key.mv_size == MERKLE_KEY_BYTES && ((const uint8_t *)key.mv_data)[0] == 0) {
		const uint8_t *bytes = key.mv_data;
		uint64_t last = 0;
		for (int i = 0; i < 8; i++)
			last = last << 8 | bytes[1 + i];
		if (last == UINT64_MAX)
			rc = store_error_set(txn->st, SL_ECORRUPT, "merkle_nodes size: leaf index overflow");
		else
			*size = last + 1;
	} else if (mdb_rc == 0 && key.mv_size != MERKLE_KEY_BYTES) {
		rc = store_error_set(txn->st, SL_ECORRUPT, "merkle_nodes size: key of %zu bytes", key.mv_size);
	} else if (mdb_rc != 0 && mdb_rc != MDB_NOTFOUND) {
		rc = store_txn_mdb_error(txn, mdb_rc, STORE_TABLE_MERKLE_NODES, "size");
	}
	mdb_cursor_close(cursor);
	return rc;
}

/* Invariant 2: leaf `index` may be written only when leaf index - 1 is present. */
static int merkle_append_check(store_txn *txn, uint64_t index)
{
	if (index == 0)
		return 0;
	uint8_t previous[MERKLE_HASH_BYTES];
	int rc = store_merkle_node_get(txn, 0, index - 1, previous);
	if (rc == SL_ENOENT)
		return store_error_set(txn->st, SL_ECORRUPT,
				       "merkle_nodes append: leaf %llu without leaf %llu (tree behind the ledger?)",
				       (unsigned long long)index, (unsigned long long)(index - 1));
	return rc;
}

int store_merkle_append(store_txn *txn, uint64_t index, const uint8_t leaf_hash[MERKLE_HASH_BYTES])
{
	assert(leaf_hash != NULL);
	int rc = merkle_append_check(txn, index);
	if (rc == 0)
		rc = store_merkle_node_put(txn, 0, index, leaf_hash);
	if (rc == SL_EEXIST)
		return store_error_set(txn->st, SL_ECORRUPT, "merkle_nodes append: leaf %llu already present",
				       (unsigned long long)index);
	uint8_t node[MERKLE_HASH_BYTES], left[MERKLE_HASH_BYTES], parent[MERKLE_HASH_BYTES];
	memcpy(node, leaf_hash, sizeof node);
	/* Each set low bit of the index closes a perfect node one level up (invariant 3). */
	for (unsigned level = 0; rc == 0 && level + 1 < MERKLE_LEVELS_MAX && ((index >> level) & 1u); level++) {
		uint64_t at = index >> level;
		rc = store_merkle_node_get(txn, level, at - 1, left);
		if (rc == SL_ENOENT)
			rc = store_error_set(txn->st, SL_ECORRUPT, "merkle_nodes append: node (%u, %llu) missing",
					     level, (unsigned long long)(at - 1));
		if (rc == 0) {
			merkle_node_hash(left, node, parent);
			memcpy(node, parent, sizeof node);
			rc = store_merkle_node_put(txn, level + 1, at >> 1, node);
		}
	}
	return rc;
}

int store_merkle_root(store_txn *txn, uint64_t size, uint8_t out[MERKLE_HASH_BYTES])
{
	uint64_t have = 0;
	int rc = store_merkle_size(txn, &have);
	if (rc != 0)
		return rc;
	if (size > have)
		return store_error_set(txn->st, SL_EINVAL, "merkle root at %llu: tree has %llu leaves",
				       (unsigned long long)size, (unsigned long long)have);
	return merkle_root_at(size, store_merkle_node_get, txn, out);
}

/* Lots key: lot key '\0' site (store/lots.c invariant 1). */
static int lot_row_visit(store_txn *txn, const MDB_val *key, const MDB_val *data,
			 int (*cb)(void *ctx, const char *lot_key, const char *site,
				   const struct store_lot_counters *counters),
			 void *ctx)
{
	char text[STORE_KEY_BYTES_MAX + 1];
	const char *bytes = key->mv_data;
	const char *nul = key->mv_size <= STORE_KEY_BYTES_MAX ? memchr(bytes, '\0', key->mv_size) : NULL;
	if (nul == NULL || data->mv_size != sizeof(struct store_lot_counters) ||
	    (size_t)(bytes + key->mv_size - (nul + 1)) >= STORE_SITE_SIZE)
		return store_error_set(txn->st, SL_ECORRUPT, "lots scan: malformed row");
	memcpy(text, bytes, key->mv_size);
	text[key->mv_size] = '\0';
	struct store_lot_counters counters;
	memcpy(&counters, data->mv_data, sizeof counters);
	return cb(ctx, text, text + (nul - bytes) + 1, &counters);
}

int store_lot_iterate_all(store_txn *txn,
			  int (*cb)(void *ctx, const char *lot_key, const char *site,
				    const struct store_lot_counters *counters),
			  void *ctx)
{
	assert(cb != NULL);
	MDB_cursor *cursor;
	int rc = store_cursor_open(txn, STORE_TABLE_LOTS, "scan", &cursor);
	if (rc != 0)
		return rc;
	MDB_val key, data;
	int mdb_rc = mdb_cursor_get(cursor, &key, &data, MDB_FIRST);
	while (rc == 0 && mdb_rc == 0) {
		rc = lot_row_visit(txn, &key, &data, cb, ctx);
		if (rc == 0)
			mdb_rc = mdb_cursor_get(cursor, &key, &data, MDB_NEXT);
	}
	if (rc == 0 && mdb_rc != MDB_NOTFOUND)
		rc = store_txn_mdb_error(txn, mdb_rc, STORE_TABLE_LOTS, "scan");
	mdb_cursor_close(cursor);
	return rc;
}
