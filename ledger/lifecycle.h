/* ledger/lifecycle.h — the lifecycle vocabulary shared by apply, queries, audit and the CLI:
 * item statuses, lot counter slots, lock bits, the "is this item locked" query, and the
 * registry writes `siteledger init` needs. The rules themselves are in ledger/rules_*.c and
 * are specified for people in docs/lifecycle.md.
 *
 * Rules:
 *  1. Values of enum item_status and of the counter slots are persisted (store items and lots
 *     tables): never renumber, only append.
 *  2. Lot counters count packs only (containers have no lot). Every pack is counted in exactly one
 *     "where is it now" slot (active, in transit, or one decommission reason) under the site named
 *     in its store_item.site (the sender while in transit); "commissioned" and "reverted" are
 *     running totals. So for every lot: sum over sites of the where-slots == sum of commissioned.
 *  3. Functions taking a store_txn work in read or write transactions and copy what they return.
 */
#ifndef SL_LEDGER_LIFECYCLE_H
#define SL_LEDGER_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "ledger/gs1.h"
#include "ledger/record.h"
#include "store/store.h"

enum item_status {
	ITEM_ACTIVE = 1,	 /* commissioned, at store_item.site */
	ITEM_IN_TRANSIT = 2,	 /* shipped by store_item.site to store_item.destination */
	ITEM_DECOMMISSIONED = 3, /* out of the supply chain, store_item.reason says why */
};
#define ITEM_STATUS_MIN ITEM_ACTIVE
#define ITEM_STATUS_MAX ITEM_DECOMMISSIONED

/* store_item.flags: no flag is defined yet; the byte is reserved and written as 0. */
#define ITEM_FLAGS_NONE 0

/* Lot counter slots (store_lot_counters.counts[slot]) per (lot key, site). */
enum lot_counter {
	LOT_COUNTER_ACTIVE = 0,
	LOT_COUNTER_IN_TRANSIT = 1,
	/* 2 .. 10: one per enum decommission_reason, LOT_COUNTER_DECOMMISSIONED(reason) */
	LOT_COUNTER_DECOMMISSIONED_BASE = 2,
	LOT_COUNTER_COMMISSIONED = LOT_COUNTER_DECOMMISSIONED_BASE + DECOMMISSION_REASON_MAX, /* total */
	LOT_COUNTER_REVERTED = LOT_COUNTER_COMMISSIONED + 1,					/* total */
	LOT_COUNTER_COUNT = LOT_COUNTER_REVERTED + 1, /* slots in use; the rest stay 0 */
};
#define LOT_COUNTER_DECOMMISSIONED(reason) ((unsigned)LOT_COUNTER_DECOMMISSIONED_BASE + (unsigned)(reason) - 1u)

_Static_assert(LOT_COUNTER_COUNT <= STORE_LOT_COUNTERS, "lot counter slots must fit the store's counters");
_Static_assert(GS1_ITEM_ID_SIZE == STORE_ITEM_ID_SIZE, "item ids are store keys");
_Static_assert(GS1_LOT_KEY_SIZE <= STORE_LOCK_TARGET_SIZE, "lot keys are lock targets");
_Static_assert(RECORD_SITE_SIZE == STORE_SITE_SIZE, "site ids are stored as written in records");

/* store_lock.reasons: one bit per enum lock_reason. */
#define LOCK_REASON_BIT(reason) ((uint8_t)(1u << (unsigned)(reason)))
#define LOCK_REASONS_IRREVERSIBLE (LOCK_REASON_BIT(LOCK_RECALL) | LOCK_REASON_BIT(LOCK_WITHDRAWAL))

/* GTIN key "(01)" + 14 digits + NUL. */
#define LIFECYCLE_GTIN_KEY_SIZE (4 + GS1_GTIN_DIGITS + 1)

/* "active", "in_transit", "decommissioned"; NULL when unknown. */
const char *lifecycle_status_name(int status);
/* "active", "in_transit", "dispensed", ..., "checked_out", "commissioned", "reverted"; NULL when unknown. */
const char *lifecycle_counter_name(unsigned slot);

/* Decommission reasons a lock blocks (the pack would re-enter or leave towards patients or other
 * markets): dispensed, sample, free_sample, exported, checked_out. Destroyed, stolen, expired
 * and damaged are allowed under a lock: they take stock out of circulation, which containment wants. */
bool lifecycle_decommission_blocked_by_lock(int reason);
/* Reasons that can never be reverted: destroyed, stolen, expired (EU FMD Delegated Regulation
 * 2016/161 Art. 13). */
bool lifecycle_decommission_irreversible(int reason);
/* Reasons that act on one pack handed to a person (dispensed, sample, free_sample): a container
 * that still holds items cannot be decommissioned with them (HAS_CHILDREN). */
bool lifecycle_decommission_pack_level(int reason);

/* Lot key "(01)GTIN(10)LOT" and GTIN key "(01)GTIN" of a stored pack. SL_EINVAL for containers
 * (they have neither). */
int lifecycle_lot_key(const struct store_item *item, char out[GS1_LOT_KEY_SIZE]);
int lifecycle_gtin_key(const struct store_item *item, char out[LIFECYCLE_GTIN_KEY_SIZE]);

/* Locks in force on one item: the serial lock of the item itself, of its lot and GTIN (packs) and
 * the serial locks of every container above it. *reasons gets the union of their bits
 * (LOCK_REASON_BIT), 0 when unlocked. Errors: store errors; SL_ECORRUPT when the parent chain is
 * broken or deeper than HIERARCHY_DEPTH_MAX (ledger/hierarchy.h). */
int lifecycle_item_locks(store_txn *txn, const char *item_id, const struct store_item *item, uint8_t *reasons);
/* The same without the containers above (for walks that check every level themselves). */
int lifecycle_item_own_locks(store_txn *txn, const char *item_id, const struct store_item *item,
			     uint8_t *reasons);

/* Register (or re-activate) a site and its key: sites[site] = {active, pk, key id} and
 * keys[key id] = {not revoked, pk, site}. SL_EINVAL for a malformed site id; SL_EEXIST when the key
 * is already registered for another site. Used by `siteledger init` for this site and the others
 * it knows. (Registry change records signed by a majority of sites come later: DESIGN.md.) */
int ledger_registry_add_site(store_txn *txn, const char *site, const struct crypto_public_key *pk);

#endif
