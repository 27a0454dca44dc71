/* store/merkle_store.h — the RFC 9162 Merkle tree over the ledger, kept in the store so inclusion
 * and consistency proofs are answered without rehashing the ledger (DESIGN.md "Audit and proofs").
 *
 * Table "merkle_nodes": key = level (1 byte) || index (8 bytes big-endian) → 32-byte hash of the
 * perfect node (level, index) (crypto/merkle.h "Node addressing"). Big-endian keys sort each
 * level's nodes in index order, so appends land at the end of their level's range.
 *
 * Also: a full scan of the lot counters (the audit's reconciliation needs every (lot, site) row,
 * store.h only offers one lot's rows).
 *
 * Rules:
 *  1. Leaf i of the tree is merkle_leaf_hash(entry bytes of ledger seq i + 1). ledger/apply.c
 *     appends each entry's leaf in the same write transaction as the entry, so after every commit
 *     the tree size equals store_ledger_count.
 *  2. store_merkle_append(txn, index, leaf) requires index == the current tree size (the leaf of
 *     index - 1 present, the leaf of index absent): SL_ECORRUPT otherwise, nothing written.
 *     It writes the leaf and every perfect node it completes (amortised 2 puts, 1 get).
 *  3. Nodes are written once and never change (MDB_NOOVERWRITE).
 *  4. store_merkle_node_get is a merkle_node_get_fn with ctx = the store_txn: pass it to
 *     merkle_root_at, merkle_inclusion_proof, merkle_consistency_proof, merkle_frontier_load.
 *  5. This module depends on crypto/merkle.h for the node hash (store/ otherwise is LMDB only).
 */
#ifndef SL_STORE_MERKLE_STORE_H
#define SL_STORE_MERKLE_STORE_H

#include <stdint.h>

#include "crypto/merkle.h"
#include "store/store.h"

int store_merkle_node_put(store_txn *txn, unsigned level, uint64_t index, const uint8_t hash[MERKLE_HASH_BYTES]);
/* SL_ENOENT when absent. */
int store_merkle_node_get(void *txn, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH_BYTES]);
int store_merkle_append(store_txn *txn, uint64_t index, const uint8_t leaf_hash[MERKLE_HASH_BYTES]);
/* Number of leaves (last level-0 index + 1; 0 when empty). */
int store_merkle_size(store_txn *txn, uint64_t *size);
/* MTH(D[0:size]); SL_EINVAL when size exceeds the tree. */
int store_merkle_root(store_txn *txn, uint64_t size, uint8_t out[MERKLE_HASH_BYTES]);

/* Every lot counter row, in key order (lot key, then site). cb returns 0 to continue. */
int store_lot_iterate_all(store_txn *txn,
			  int (*cb)(void *ctx, const char *lot_key, const char *site,
				    const struct store_lot_counters *counters),
			  void *ctx);

#endif
