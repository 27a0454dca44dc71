/* store/registry.c — the site and key registry: sites (site id → struct store_site) and keys
 * (16-byte key id → struct store_key).
 *
 * Invariants:
 *  1. Site ids (keys of the sites table) are 1..STORE_SITE_SIZE-1 bytes without NUL; a
 *     stored key of another shape is SL_ECORRUPT when iterated.
 *  2. Values are the structs' raw bytes written from a zeroed copy; struct store_key's site is
 *     NUL-terminated inside its array on write (else SL_EINVAL) and on read (else SL_ECORRUPT).
 */
#include "store/store_internal.h"
#include "util/error.h"

#include <assert.h>
#include <string.h>

#define STORE_KEY_ID_BYTES 16 /* key id size in records and in struct store_site */

static int site_key_make(store_txn *txn, const char *op, const char *site, MDB_val *key)
{
	size_t len = site == NULL ? 0 : strnlen(site, STORE_SITE_SIZE);
	if (len == 0 || len >= STORE_SITE_SIZE)
		return store_error_set(txn->st, SL_EINVAL, "sites %s: site id must be 1..%d bytes", op,
				       STORE_SITE_SIZE - 1);
	key->mv_size = len;
	key->mv_data = store_mutable(site);
	return 0;
}

int store_site_put(store_txn *txn, const char *site, const struct store_site *value)
{
	assert(value != NULL);
	MDB_val key;
	int rc = site_key_make(txn, "put", site, &key);
	if (rc != 0)
		return rc;
	struct store_site copy;
	memset(&copy, 0, sizeof(copy));
	copy.active = value->active;
	memcpy(copy.public_key, value->public_key, sizeof(copy.public_key));
	memcpy(copy.key_id, value->key_id, sizeof(copy.key_id));
	MDB_val data = { sizeof(copy), &copy };
	return store_value_put(txn, STORE_TABLE_SITES, "put", &key, &data, 0);
}

int store_site_get(store_txn *txn, const char *site, struct store_site *out)
{
	assert(out != NULL);
	MDB_val key;
	int rc = site_key_make(txn, "get", site, &key);
	if (rc != 0)
		return rc;
	return store_value_get_fixed(txn, STORE_TABLE_SITES, "get", &key, out, sizeof(*out));
}

/* One row of the sites table as a C string and a struct; SL_ECORRUPT when malformed. */
static int site_row_read(store_txn *txn, const MDB_val *key, const MDB_val *data, char site[STORE_SITE_SIZE],
			 struct store_site *value)
{
	if (key->mv_size == 0 || key->mv_size >= STORE_SITE_SIZE || memchr(key->mv_data, '\0', key->mv_size) != NULL)
		return store_error_set(txn->st, SL_ECORRUPT, "sites iterate: malformed site id of %zu bytes",
				       key->mv_size);
	if (data->mv_size != sizeof(*value))
		return store_error_set(txn->st, SL_ECORRUPT, "sites iterate: value has %zu bytes, expected %zu",
				       data->mv_size, sizeof(*value));
	memcpy(site, key->mv_data, key->mv_size);
	site[key->mv_size] = '\0';
	memcpy(value, data->mv_data, sizeof(*value));
	return 0;
}

int store_site_iterate(store_txn *txn, int (*cb)(void *ctx, const char *site, const struct store_site *value),
		       void *ctx)
{
	assert(cb != NULL);
	MDB_cursor *cursor;
	int rc = store_cursor_open(txn, STORE_TABLE_SITES, "iterate", &cursor);
	if (rc != 0)
		return rc;
	MDB_val key, data;
	int mdb_rc = mdb_cursor_get(cursor, &key, &data, MDB_FIRST);
	while (mdb_rc == 0) {
		char site[STORE_SITE_SIZE];
		struct store_site value;
		rc = site_row_read(txn, &key, &data, site, &value);
		if (rc == 0)
			rc = cb(ctx, site, &value);
		if (rc != 0)
			break;
		mdb_rc = mdb_cursor_get(cursor, &key, &data, MDB_NEXT);
	}
	if (rc == 0 && mdb_rc != MDB_NOTFOUND)
		rc = store_txn_mdb_error(txn, mdb_rc, STORE_TABLE_SITES, "iterate");
	mdb_cursor_close(cursor);
	return rc;
}

int store_key_put(store_txn *txn, const uint8_t key_id[16], const struct store_key *value)
{
	assert(key_id != NULL);
	assert(value != NULL);
	struct store_key copy;
	memset(&copy, 0, sizeof(copy));
	copy.revoked = value->revoked;
	memcpy(copy.public_key, value->public_key, sizeof(copy.public_key));
	if (!store_str_field_copy(copy.site, value->site, sizeof(copy.site)))
		return store_error_set(txn->st, SL_EINVAL, "keys put: unterminated site");
	MDB_val key = { STORE_KEY_ID_BYTES, store_mutable(key_id) };
	MDB_val data = { sizeof(copy), &copy };
	return store_value_put(txn, STORE_TABLE_KEYS, "put", &key, &data, 0);
}

int store_key_get(store_txn *txn, const uint8_t key_id[16], struct store_key *out)
{
	assert(key_id != NULL);
	assert(out != NULL);
	MDB_val key = { STORE_KEY_ID_BYTES, store_mutable(key_id) };
	struct store_key value;
	int rc = store_value_get_fixed(txn, STORE_TABLE_KEYS, "get", &key, &value, sizeof(value));
	if (rc != 0)
		return rc;
	if (!store_str_field_valid(value.site, sizeof(value.site)))
		return store_error_set(txn->st, SL_ECORRUPT, "keys get: unterminated site");
	*out = value;
	return 0;
}
