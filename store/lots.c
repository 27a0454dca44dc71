/* store/lots.c — per (lot, site) counters: key "lot key" '\0' "site" → struct store_lot_counters.
 *
 * Invariants:
 *  1. Keys are lot key bytes, one NUL, site bytes: the lot key and the site are non-empty and
 *     NUL-free, the site shorter than STORE_SITE_SIZE, the whole at most STORE_KEY_BYTES_MAX.
 *     The NUL separator sorts before every other byte, so all sites of one lot are contiguous and
 *     a prefix scan on "lot key" '\0' finds exactly them (lot "L1" never sees lot "L10").
 *  2. Counters never go below 0 (underflow is SL_ECORRUPT: ledger/ asked to remove more than it
 *     counted) nor wrap above UINT64_MAX (SL_ELIMIT); either way nothing is written.
 *  3. A missing row reads as all-zero counters (and SL_ENOENT from store_lot_get).
 */
#include "store/store_internal.h"
#include "util/error.h"

#include <assert.h>
#include <string.h>

struct lot_key {
	char bytes[STORE_KEY_BYTES_MAX];
	size_t len;
	size_t prefix_len; /* lot key + separator */
};

/* Invariant 1. `site` may be NULL to build the prefix only. */
static int lot_key_make(store_txn *txn, const char *op, const char *lot, const char *site, struct lot_key *out)
{
	size_t lot_len = lot == NULL ? 0 : strnlen(lot, STORE_KEY_BYTES_MAX);
	if (lot_len == 0 || lot_len + 1 >= STORE_KEY_BYTES_MAX)
		return store_error_set(txn->st, SL_EINVAL, "lots %s: lot key must be 1..%d bytes", op,
				       STORE_KEY_BYTES_MAX - 2);
	size_t site_len = 0;
	if (site != NULL) {
		site_len = strnlen(site, STORE_SITE_SIZE);
		if (site_len == 0 || site_len >= STORE_SITE_SIZE)
			return store_error_set(txn->st, SL_EINVAL, "lots %s: site must be 1..%d bytes", op,
					       STORE_SITE_SIZE - 1);
		if (lot_len + 1 + site_len > STORE_KEY_BYTES_MAX)
			return store_error_set(txn->st, SL_EINVAL, "lots %s: lot key and site exceed %d bytes", op,
					       STORE_KEY_BYTES_MAX);
	}
	memcpy(out->bytes, lot, lot_len);
	out->bytes[lot_len] = '\0';
	if (site_len > 0)
		memcpy(out->bytes + lot_len + 1, site, site_len);
	out->prefix_len = lot_len + 1;
	out->len = lot_len + 1 + site_len;
	return 0;
}

/* Invariant 2: applies `delta` to *count, or leaves it and returns an error. */
static int lot_counter_apply(store_txn *txn, uint64_t *count, int64_t delta, unsigned slot)
{
	if (delta >= 0) {
		uint64_t up = (uint64_t)delta;
		if (*count > UINT64_MAX - up)
			return store_error_set(txn->st, SL_ELIMIT, "lots add: slot %u would pass UINT64_MAX", slot);
		*count += up;
		return 0;
	}
	uint64_t down = (uint64_t)(-(delta + 1)) + 1; /* |delta| without overflow at INT64_MIN */
	if (down > *count)
		return store_error_set(txn->st, SL_ECORRUPT, "lots add: slot %u holds %llu, cannot remove %llu", slot,
				       (unsigned long long)*count, (unsigned long long)down);
	*count -= down;
	return 0;
}

int store_lot_add(store_txn *txn, const char *lot_key, const char *site, unsigned slot, int64_t delta)
{
	int rc = store_txn_usable(txn, true, STORE_TABLE_LOTS, "add");
	if (rc != 0)
		return rc;
	if (slot >= STORE_LOT_COUNTERS)
		return store_error_set(txn->st, SL_EINVAL, "lots add: slot %u >= %d", slot, STORE_LOT_COUNTERS);
	if (site == NULL)
		return store_error_set(txn->st, SL_EINVAL, "lots add: no site");
	struct lot_key key_bytes;
	rc = lot_key_make(txn, "add", lot_key, site, &key_bytes);
	if (rc != 0)
		return rc;
	MDB_val key = { key_bytes.len, key_bytes.bytes };
	struct store_lot_counters counters;
	struct store_txn_cache *cache = &txn->cache;
	if (cache->lot_key_len == key_bytes.len && memcmp(cache->lot_key, key_bytes.bytes, key_bytes.len) == 0) {
		counters = cache->lot_counters; /* this function wrote the row last: no lookup */
	} else {
		rc = store_value_get_fixed(txn, STORE_TABLE_LOTS, "add", &key, &counters, sizeof(counters));
		if (rc == SL_ENOENT) {
			memset(&counters, 0, sizeof(counters)); /* invariant 3 */
			rc = 0;
		}
	}
	if (rc == 0)
		rc = lot_counter_apply(txn, &counters.counts[slot], delta, slot);
	if (rc != 0)
		return rc;
	MDB_val data = { sizeof(counters), &counters };
	cache->lot_key_len = 0;
	rc = store_value_put(txn, STORE_TABLE_LOTS, "add", &key, &data, 0);
	if (rc == 0) { /* only this function writes lots rows, so the copy stays true */
		memcpy(cache->lot_key, key_bytes.bytes, key_bytes.len);
		cache->lot_key_len = key_bytes.len;
		cache->lot_counters = counters;
	}
	return rc;
}

int store_lot_get(store_txn *txn, const char *lot_key, const char *site, struct store_lot_counters *out)
{
	assert(out != NULL);
	memset(out, 0, sizeof(*out)); /* invariant 3: zeros for a missing row */
	if (site == NULL)
		return store_error_set(txn->st, SL_EINVAL, "lots get: no site");
	struct lot_key key_bytes;
	int rc = lot_key_make(txn, "get", lot_key, site, &key_bytes);
	if (rc != 0)
		return rc;
	MDB_val key = { key_bytes.len, key_bytes.bytes };
	struct store_lot_counters counters;
	rc = store_value_get_fixed(txn, STORE_TABLE_LOTS, "get", &key, &counters, sizeof(counters));
	if (rc == 0)
		*out = counters;
	return rc;
}

/* The site part of a key found by the prefix scan, as a C string; SL_ECORRUPT when malformed. */
static int lot_site_read(store_txn *txn, const MDB_val *key, size_t prefix_len, char site[STORE_SITE_SIZE])
{
	size_t site_len = key->mv_size - prefix_len;
	const char *bytes = (const char *)key->mv_data + prefix_len;
	if (site_len == 0 || site_len >= STORE_SITE_SIZE || memchr(bytes, '\0', site_len) != NULL)
		return store_error_set(txn->st, SL_ECORRUPT, "lots iterate: malformed site of %zu bytes", site_len);
	memcpy(site, bytes, site_len);
	site[site_len] = '\0';
	return 0;
}

int store_lot_iterate(store_txn *txn, const char *lot_key,
		      int (*cb)(void *ctx, const char *site, const struct store_lot_counters *counters), void *ctx)
{
	assert(cb != NULL);
	struct lot_key prefix;
	int rc = lot_key_make(txn, "iterate", lot_key, NULL, &prefix);
	if (rc != 0)
		return rc;
	MDB_cursor *cursor;
	rc = store_cursor_open(txn, STORE_TABLE_LOTS, "iterate", &cursor);
	if (rc != 0)
		return rc;
	MDB_val key = { prefix.len, prefix.bytes };
	MDB_val data;
	int mdb_rc = mdb_cursor_get(cursor, &key, &data, MDB_SET_RANGE);
	while (mdb_rc == 0 && key.mv_size >= prefix.prefix_len &&
	       memcmp(key.mv_data, prefix.bytes, prefix.prefix_len) == 0) {
		char site[STORE_SITE_SIZE];
		struct store_lot_counters counters;
		rc = lot_site_read(txn, &key, prefix.prefix_len, site);
		if (rc == 0 && data.mv_size != sizeof(counters))
			rc = store_error_set(txn->st, SL_ECORRUPT, "lots iterate: value has %zu bytes, expected %zu",
					     data.mv_size, sizeof(counters));
		if (rc == 0) {
			memcpy(&counters, data.mv_data, sizeof(counters));
			rc = cb(ctx, site, &counters);
		}
		if (rc != 0)
			break;
		mdb_rc = mdb_cursor_get(cursor, &key, &data, MDB_NEXT);
	}
	if (rc == 0 && mdb_rc != 0 && mdb_rc != MDB_NOTFOUND)
		rc = store_txn_mdb_error(txn, mdb_rc, STORE_TABLE_LOTS, "iterate");
	mdb_cursor_close(cursor);
	return rc;
}
