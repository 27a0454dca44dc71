/* store/registry.c — the site and key registry: sites (site id → struct store_site), keys
 * (16-byte key id → struct store_key), and what registry records changed: key_events (key id →
 * struct store_key_event, the revocation index) and site_nodes (site id → struct store_site_node).
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

/* One row keyed by site id (sites, site_nodes) as a C string and the value's `size` raw bytes;
 * SL_ECORRUPT when the key breaks invariant 1 or the value is of another size. */
static int site_row_read(store_txn *txn, const char *table, const MDB_val *key, const MDB_val *data,
			 char site[STORE_SITE_SIZE], void *value, size_t size)
{
	if (key->mv_size == 0 || key->mv_size >= STORE_SITE_SIZE || memchr(key->mv_data, '\0', key->mv_size) != NULL)
		return store_error_set(txn->st, SL_ECORRUPT, "%s iterate: malformed site id of %zu bytes", table,
				       key->mv_size);
	if (data->mv_size != size)
		return store_error_set(txn->st, SL_ECORRUPT, "%s iterate: value has %zu bytes, expected %zu", table,
				       data->mv_size, size);
	memcpy(site, key->mv_data, key->mv_size);
	site[key->mv_size] = '\0';
	memcpy(value, data->mv_data, size);
	return 0;
}

/* One row of a table walk; key and data point into LMDB memory, valid only during the call. */
typedef int (*registry_row_fn)(store_txn *txn, const MDB_val *key, const MDB_val *data, void *walk);

/* Visit every row of `table` in key order until `row` returns non-zero (that value is returned). */
static int registry_walk(store_txn *txn, enum store_table table, registry_row_fn row, void *walk)
{
	MDB_cursor *cursor;
	int rc = store_cursor_open(txn, table, "iterate", &cursor);
	if (rc != 0)
		return rc;
	MDB_val key, data;
	int mdb_rc = mdb_cursor_get(cursor, &key, &data, MDB_FIRST);
	while (mdb_rc == 0) {
		rc = row(txn, &key, &data, walk);
		if (rc != 0)
			break;
		mdb_rc = mdb_cursor_get(cursor, &key, &data, MDB_NEXT);
	}
	if (rc == 0 && mdb_rc != MDB_NOTFOUND)
		rc = store_txn_mdb_error(txn, mdb_rc, table, "iterate");
	mdb_cursor_close(cursor);
	return rc;
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

struct site_walk {
	int (*cb)(void *ctx, const char *site, const struct store_site *value);
	void *ctx;
};

static int site_row(store_txn *txn, const MDB_val *key, const MDB_val *data, void *walk)
{
	const struct site_walk *w = walk;
	char site[STORE_SITE_SIZE];
	struct store_site value;
	int rc = site_row_read(txn, "sites", key, data, site, &value, sizeof(value));
	return rc != 0 ? rc : w->cb(w->ctx, site, &value);
}

int store_site_iterate(store_txn *txn, int (*cb)(void *ctx, const char *site, const struct store_site *value),
		       void *ctx)
{
	assert(cb != NULL);
	struct site_walk walk = { cb, ctx };
	return registry_walk(txn, STORE_TABLE_SITES, site_row, &walk);
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

struct key_walk {
	int (*cb)(void *ctx, const uint8_t key_id[16], const struct store_key *value);
	void *ctx;
};

static int key_row(store_txn *txn, const MDB_val *key, const MDB_val *data, void *walk)
{
	const struct key_walk *w = walk;
	struct store_key value;
	if (key->mv_size != STORE_KEY_ID_BYTES || data->mv_size != sizeof(value))
		return store_error_set(txn->st, SL_ECORRUPT, "keys iterate: row of %zu/%zu bytes", key->mv_size,
				       data->mv_size);
	memcpy(&value, data->mv_data, sizeof(value));
	if (!store_str_field_valid(value.site, sizeof(value.site)))
		return store_error_set(txn->st, SL_ECORRUPT, "keys iterate: unterminated site");
	uint8_t key_id[STORE_KEY_ID_BYTES];
	memcpy(key_id, key->mv_data, sizeof(key_id));
	return w->cb(w->ctx, key_id, &value);
}

int store_key_iterate(store_txn *txn, int (*cb)(void *ctx, const uint8_t key_id[16], const struct store_key *value),
		      void *ctx)
{
	assert(cb != NULL);
	struct key_walk walk = { cb, ctx };
	return registry_walk(txn, STORE_TABLE_KEYS, key_row, &walk);
}

int store_key_event_put(store_txn *txn, const uint8_t key_id[16], const struct store_key_event *value)
{
	assert(key_id != NULL);
	assert(value != NULL);
	struct store_key_event copy;
	memset(&copy, 0, sizeof(copy));
	copy.added_seq = value->added_seq;
	copy.revoked_seq = value->revoked_seq;
	MDB_val key = { STORE_KEY_ID_BYTES, store_mutable(key_id) };
	MDB_val data = { sizeof(copy), &copy };
	return store_value_put(txn, STORE_TABLE_KEY_EVENTS, "put", &key, &data, 0);
}

int store_key_event_get(store_txn *txn, const uint8_t key_id[16], struct store_key_event *out)
{
	assert(key_id != NULL);
	assert(out != NULL);
	MDB_val key = { STORE_KEY_ID_BYTES, store_mutable(key_id) };
	return store_value_get_fixed(txn, STORE_TABLE_KEY_EVENTS, "get", &key, out, sizeof(*out));
}

int store_site_node_put(store_txn *txn, const char *site, const struct store_site_node *value)
{
	assert(value != NULL);
	MDB_val key;
	int rc = site_key_make(txn, "node put", site, &key);
	if (rc != 0)
		return rc;
	struct store_site_node copy;
	memset(&copy, 0, sizeof(copy));
	copy.node_id = value->node_id;
	copy.added_seq = value->added_seq;
	copy.removed_seq = value->removed_seq;
	copy.role = value->role;
	if (!store_str_field_copy(copy.peer_addr, value->peer_addr, sizeof(copy.peer_addr)) ||
	    !store_str_field_copy(copy.client_addr, value->client_addr, sizeof(copy.client_addr)))
		return store_error_set(txn->st, SL_EINVAL, "site_nodes put: unterminated address");
	MDB_val data = { sizeof(copy), &copy };
	return store_value_put(txn, STORE_TABLE_SITE_NODES, "put", &key, &data, 0);
}

static bool site_node_valid(const struct store_site_node *value)
{
	return store_str_field_valid(value->peer_addr, sizeof(value->peer_addr)) &&
	       store_str_field_valid(value->client_addr, sizeof(value->client_addr));
}

int store_site_node_get(store_txn *txn, const char *site, struct store_site_node *out)
{
	assert(out != NULL);
	MDB_val key;
	int rc = site_key_make(txn, "node get", site, &key);
	struct store_site_node value;
	if (rc == 0)
		rc = store_value_get_fixed(txn, STORE_TABLE_SITE_NODES, "get", &key, &value, sizeof(value));
	if (rc == 0 && !site_node_valid(&value))
		rc = store_error_set(txn->st, SL_ECORRUPT, "site_nodes get: unterminated address");
	if (rc == 0)
		*out = value;
	return rc;
}

struct site_node_walk {
	int (*cb)(void *ctx, const char *site, const struct store_site_node *value);
	void *ctx;
};

static int site_node_row(store_txn *txn, const MDB_val *key, const MDB_val *data, void *walk)
{
	const struct site_node_walk *w = walk;
	char site[STORE_SITE_SIZE];
	struct store_site_node value;
	int rc = site_row_read(txn, "site_nodes", key, data, site, &value, sizeof(value));
	if (rc != 0)
		return rc;
	if (!site_node_valid(&value))
		return store_error_set(txn->st, SL_ECORRUPT, "site_nodes iterate: unterminated address");
	return w->cb(w->ctx, site, &value);
}

int store_site_node_iterate(store_txn *txn,
			    int (*cb)(void *ctx, const char *site, const struct store_site_node *value), void *ctx)
{
	assert(cb != NULL);
	struct site_node_walk walk = { cb, ctx };
	return registry_walk(txn, STORE_TABLE_SITE_NODES, site_node_row, &walk);
}
