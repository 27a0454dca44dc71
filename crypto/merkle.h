/* crypto/merkle.h — the RFC 9162 (RFC 6962) Merkle tree: hashes, an incremental frontier,
 * inclusion and consistency proofs and their verification. Pure functions over SHA-256; no storage.
 *
 * Definitions (RFC 9162 §2.1.1, same as RFC 6962 §2.1), with HASH = SHA-256:
 *   MTH({})          = HASH()                                   the empty tree
 *   MTH({d0})        = HASH(0x00 || d0)                         a leaf hash
 *   MTH(D[n]), n > 1 = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n]))  k = largest power of two < n
 * Every function here takes LEAF HASHES (merkle_leaf_hash of the entry bytes), never raw entries.
 *
 * Node addressing. A "perfect node" (level, index) is the root of the perfect subtree over leaves
 * [index << level, (index + 1) << level); level 0 holds the leaf hashes. Perfect nodes never change
 * once their last leaf is appended, so they are what a store keeps (the LMDB table "Merkle nodes":
 * (level, index) → hash). Every other hash (the root at any size, the right-edge siblings in proofs)
 * is computed from at most MERKLE_LEVELS_MAX perfect nodes.
 *
 * Sources:
 *  - frontier ("compact range" of the perfect subtrees covering [0, size)): one root per set bit of
 *    size, merged like a binary counter's carries; the root is their right fold (follows from §2.1.1).
 *  - inclusion proof generation: PATH(m, D[n]), RFC 9162 §2.1.3.1; verification: §2.1.3.2.
 *  - consistency proof generation: PROOF(m, D[n]) / SUBPROOF, RFC 9162 §2.1.4.1; verification:
 *    §2.1.4.2, extended as documented at merkle_verify_consistency.
 *
 * Rules:
 *  1. A proof is count hashes of MERKLE_HASH_BYTES each, concatenated, in RFC order (leaf side first).
 *     count <= MERKLE_PROOF_HASHES_MAX; output buffers are MERKLE_PROOF_BYTES_MAX bytes.
 *  2. Verifiers return 0 or SL_EPROOF, nothing else: any bad size, index, count or hash is SL_EPROOF.
 *  3. Generators return 0, SL_EINVAL for impossible arguments (index >= size, size1 > size2,
 *     size1 == 0), or the first non-zero code an accessor returned (then the output is undefined).
 *  4. Accessors are only asked for perfect nodes that lie entirely inside [0, size).
 *  5. No allocation; every loop is bounded by MERKLE_LEVELS_MAX; crypto_init() need not have run
 *     (SHA-256 needs no libsodium initialisation), though callers normally have done it.
 */
#ifndef SL_CRYPTO_MERKLE_H
#define SL_CRYPTO_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_BYTES 32 /* SHA-256 */
/* Sizes are uint64_t: at most 64 perfect subtrees (levels 0..63) cover any size. */
#define MERKLE_LEVELS_MAX 64
/* An inclusion path has at most ceil(log2 size) <= 64 hashes. A consistency proof can have one
 * more: up to 64 siblings on the way to the old tree's last perfect subtree, plus that subtree's
 * own hash (RFC 9162 §2.1.4.1, SUBPROOF with b = false), e.g. size1 = 2^63 + 1, size2 = 2^64 - 1. */
#define MERKLE_PROOF_HASHES_MAX (MERKLE_LEVELS_MAX + 1)
#define MERKLE_PROOF_BYTES_MAX (MERKLE_PROOF_HASHES_MAX * MERKLE_HASH_BYTES)

/* Accessor: write the hash of perfect node (level, index) into out; return 0, or a negative SL_E*
 * code (SL_ENOENT when the store lacks it, SL_EIO, ...) which the caller returns unchanged. */
typedef int (*merkle_node_get_fn)(void *ctx, unsigned level, uint64_t index,
				  uint8_t out[MERKLE_HASH_BYTES]);
/* Sink: told each perfect node a frontier append completes (to store it); 0 or a negative SL_E*. */
typedef int (*merkle_node_put_fn)(void *ctx, unsigned level, uint64_t index,
				  const uint8_t hash[MERKLE_HASH_BYTES]);

/* HASH(0x00 || data), HASH(0x01 || left || right), HASH() — RFC 9162 §2.1.1. */
void merkle_leaf_hash(const uint8_t *data, size_t len, uint8_t out[MERKLE_HASH_BYTES]);
void merkle_node_hash(const uint8_t left[MERKLE_HASH_BYTES], const uint8_t right[MERKLE_HASH_BYTES],
		      uint8_t out[MERKLE_HASH_BYTES]);
void merkle_empty_root(uint8_t out[MERKLE_HASH_BYTES]);

/* The frontier: the roots of the perfect subtrees that cover leaves [0, size), 2 KiB, a plain value
 * (copy it, keep it on the stack). Fields are private: use the functions. */
struct merkle_frontier {
	uint64_t size; /* leaves appended */
	uint8_t roots[MERKLE_LEVELS_MAX][MERKLE_HASH_BYTES]; /* roots[l] valid iff bit l of size is set */
};

void merkle_frontier_init(struct merkle_frontier *frontier); /* size 0 */
uint64_t merkle_frontier_size(const struct merkle_frontier *frontier);
/* Append one leaf hash. When put is not NULL it is called, in order, for every perfect node the
 * append completes: (0, old size) = the leaf itself, then each merged parent up to the new
 * subtree root. SL_ELIMIT when size is already UINT64_MAX. If put fails, its code is returned and
 * the frontier is unchanged (nodes put before the failure must be discarded by the caller, e.g. by
 * aborting the write transaction). */
int merkle_frontier_append(struct merkle_frontier *frontier, const uint8_t leaf_hash[MERKLE_HASH_BYTES],
			   merkle_node_put_fn put, void *ctx);
/* MTH of the leaves appended so far (the empty root at size 0). O(log size) hashes. */
void merkle_frontier_root(const struct merkle_frontier *frontier, uint8_t out[MERKLE_HASH_BYTES]);
/* Rebuild a frontier of `size` leaves from stored perfect nodes (one get per set bit of size), e.g.
 * on opening a store. On error the frontier is left at size 0. */
int merkle_frontier_load(struct merkle_frontier *frontier, uint64_t size, merkle_node_get_fn get,
			 void *ctx);

/* MTH(D[0:size]) from perfect nodes: at most MERKLE_LEVELS_MAX gets and as many hashes. */
int merkle_root_at(uint64_t size, merkle_node_get_fn get, void *ctx, uint8_t out[MERKLE_HASH_BYTES]);

/* PATH(leaf_index, D[size]) (RFC 9162 §2.1.3.1) into out_hashes; *count = number of hashes.
 * SL_EINVAL when leaf_index >= size. O(log size) gets and hashes. */
int merkle_inclusion_proof(uint64_t size, uint64_t leaf_index, merkle_node_get_fn get, void *ctx,
			   uint8_t out_hashes[MERKLE_PROOF_BYTES_MAX], size_t *count);
/* PROOF(size1, D[size2]) (RFC 9162 §2.1.4.1); empty when size1 == size2.
 * SL_EINVAL when size1 == 0 or size1 > size2. O(log size2) gets and hashes. */
int merkle_consistency_proof(uint64_t size1, uint64_t size2, merkle_node_get_fn get, void *ctx,
			     uint8_t out_hashes[MERKLE_PROOF_BYTES_MAX], size_t *count);

/* RFC 9162 §2.1.3.2: 0 when proof (count hashes) proves leaf_hash is leaf `index` of the tree of
 * `size` leaves whose root is `root`; SL_EPROOF otherwise (index >= size, a wrong count, any hash).
 * The root commits to the size, so (size, root) must come from one checkpoint: with the right root
 * a wrong size is caught only when it changes the shape of the path (RFC 9162 §2.1.3.2). */
int merkle_verify_inclusion(const uint8_t leaf_hash[MERKLE_HASH_BYTES], uint64_t index, uint64_t size,
			    const uint8_t *proof, size_t count, const uint8_t root[MERKLE_HASH_BYTES]);
/* RFC 9162 §2.1.4.2 for 0 < size1 < size2. Also: size1 == size2 verifies iff count == 0 and
 * root1 == root2; size1 == 0 (nothing to be consistent with) and size1 > size2 never verify.
 * 0 or SL_EPROOF. */
int merkle_verify_consistency(uint64_t size1, uint64_t size2, const uint8_t root1[MERKLE_HASH_BYTES],
			      const uint8_t root2[MERKLE_HASH_BYTES], const uint8_t *proof, size_t count);

/* Number of hashes in a proof of proof_bytes bytes (as read from a file or message): SL_EPROOF when
 * proof_bytes is not a multiple of MERKLE_HASH_BYTES (trailing data) or exceeds
 * MERKLE_PROOF_BYTES_MAX. */
int merkle_proof_count(size_t proof_bytes, size_t *count);

/* An in-memory tree over a borrowed array of `count` leaf hashes (count * MERKLE_HASH_BYTES bytes),
 * for tests, fuzzing and small offline checks: merkle_memory_node_get is a merkle_node_get_fn with
 * ctx = struct merkle_memory_tree *. It recomputes each node from the leaves, O(2^level) hashes,
 * and returns SL_ENOENT for a node not entirely inside [0, count). */
struct merkle_memory_tree {
	const uint8_t *leaf_hashes;
	uint64_t count;
};

int merkle_memory_node_get(void *ctx, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH_BYTES]);

#endif
