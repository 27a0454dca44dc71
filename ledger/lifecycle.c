/* ledger/lifecycle.c — names, lock queries and registry writes (see lifecycle.h). */
#include "ledger/lifecycle.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "ledger/hierarchy.h"
#include "util/error.h"

const char *lifecycle_status_name(int status)
{
	switch (status) {
	case ITEM_ACTIVE:
		return "active";
	case ITEM_IN_TRANSIT:
		return "in_transit";
	case ITEM_DECOMMISSIONED:
		return "decommissioned";
	default:
		return NULL;
	}
}

const char *lifecycle_counter_name(unsigned slot)
{
	if (slot == LOT_COUNTER_ACTIVE)
		return "active";
	if (slot == LOT_COUNTER_IN_TRANSIT)
		return "in_transit";
	if (slot == LOT_COUNTER_COMMISSIONED)
		return "commissioned";
	if (slot == LOT_COUNTER_REVERTED)
		return "reverted";
	if (slot >= LOT_COUNTER_DECOMMISSIONED_BASE && slot < LOT_COUNTER_COMMISSIONED)
		return decommission_reason_name((int)(slot - LOT_COUNTER_DECOMMISSIONED_BASE + 1));
	return NULL;
}

bool lifecycle_decommission_blocked_by_lock(int reason)
{
	return reason == DECOMMISSION_DISPENSED || reason == DECOMMISSION_SAMPLE ||
	       reason == DECOMMISSION_FREE_SAMPLE || reason == DECOMMISSION_EXPORTED ||
	       reason == DECOMMISSION_CHECKED_OUT;
}

bool lifecycle_decommission_irreversible(int reason)
{
	return reason == DECOMMISSION_DESTROYED || reason == DECOMMISSION_STOLEN || reason == DECOMMISSION_EXPIRED;
}

bool lifecycle_decommission_pack_level(int reason)
{
	return reason == DECOMMISSION_DISPENSED || reason == DECOMMISSION_SAMPLE ||
	       reason == DECOMMISSION_FREE_SAMPLE;
}

static bool item_is_pack(const struct store_item *item)
{
	return item->kind == GS1_KIND_PACK && strnlen(item->gtin, sizeof item->gtin) == GS1_GTIN_DIGITS;
}

int lifecycle_lot_key(const struct store_item *item, char out[GS1_LOT_KEY_SIZE])
{
	assert(item != NULL && out != NULL);
	out[0] = '\0';
	if (!item_is_pack(item) || strnlen(item->lot, sizeof item->lot) == sizeof item->lot)
		return SL_EINVAL;
	return gs1_lot_key(item->gtin, item->lot, out);
}

int lifecycle_gtin_key(const struct store_item *item, char out[LIFECYCLE_GTIN_KEY_SIZE])
{
	assert(item != NULL && out != NULL);
	out[0] = '\0';
	if (!item_is_pack(item))
		return SL_EINVAL;
	int n = snprintf(out, LIFECYCLE_GTIN_KEY_SIZE, "(01)%s", item->gtin);
	return n == LIFECYCLE_GTIN_KEY_SIZE - 1 ? 0 : SL_EINVAL;
}

/* OR the reasons of the lock on `target` (if any) into *reasons. */
static int lock_merge(store_txn *txn, const char *target, uint8_t *reasons)
{
	struct store_lock lock;
	int rc = store_lock_get(txn, target, &lock);
	if (rc == SL_ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	*reasons |= lock.reasons;
	return 0;
}

int lifecycle_item_own_locks(store_txn *txn, const char *item_id, const struct store_item *item,
			     uint8_t *reasons)
{
	assert(txn != NULL && item_id != NULL && item != NULL && reasons != NULL);
	*reasons = 0;
	int rc = lock_merge(txn, item_id, reasons);
	if (rc != 0 || !item_is_pack(item))
		return rc;
	char key[GS1_LOT_KEY_SIZE];
	if (lifecycle_lot_key(item, key) == 0) {
		rc = lock_merge(txn, key, reasons);
		if (rc != 0)
			return rc;
	}
	char gtin_key[LIFECYCLE_GTIN_KEY_SIZE];
	if (lifecycle_gtin_key(item, gtin_key) == 0)
		rc = lock_merge(txn, gtin_key, reasons);
	return rc;
}

int lifecycle_item_locks(store_txn *txn, const char *item_id, const struct store_item *item, uint8_t *reasons)
{
	int rc = lifecycle_item_own_locks(txn, item_id, item, reasons);
	if (rc != 0)
		return rc;
	char ancestors[HIERARCHY_DEPTH_MAX][STORE_ITEM_ID_SIZE];
	size_t count = 0;
	rc = hierarchy_ancestors(txn, item, ancestors, &count);
	for (size_t i = 0; rc == 0 && i < count; i++)
		rc = lock_merge(txn, ancestors[i], reasons);
	return rc;
}

int ledger_registry_add_site(store_txn *txn, const char *site, const struct crypto_public_key *pk)
{
	assert(txn != NULL && site != NULL && pk != NULL);
	size_t len = strnlen(site, STORE_SITE_SIZE);
	if (len == STORE_SITE_SIZE || !record_site_id_valid(site, len))
		return SL_EINVAL;

	struct crypto_key_id key_id;
	crypto_key_id_of(pk, &key_id);
	struct store_key key;
	int rc = store_key_get(txn, key_id.bytes, &key);
	if (rc == 0 && strncmp(key.site, site, sizeof key.site) != 0)
		return SL_EEXIST; /* one key signs for one site only: SITE_MISMATCH depends on it */
	if (rc != 0 && rc != SL_ENOENT)
		return rc;

	memset(&key, 0, sizeof key);
	key.revoked = 0;
	memcpy(key.public_key, pk->bytes, sizeof key.public_key);
	memcpy(key.site, site, len + 1);
	rc = store_key_put(txn, key_id.bytes, &key);
	if (rc != 0)
		return rc;

	struct store_site value;
	memset(&value, 0, sizeof value);
	value.active = 1;
	memcpy(value.public_key, pk->bytes, sizeof value.public_key);
	memcpy(value.key_id, key_id.bytes, sizeof value.key_id);
	return store_site_put(txn, site, &value);
}
