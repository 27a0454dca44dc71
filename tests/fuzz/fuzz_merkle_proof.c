/* tests/fuzz/fuzz_merkle_proof.c — both Merkle proof verifiers on arbitrary proofs and sizes.
 *
 * Input: size1 (8 bytes, big-endian) || size2 (8) || index (8) || proof bytes. Shorter inputs are
 * ignored. The tree is a fixed one of size2 leaves: leaf i = merkle_leaf_hash(i as 8 bytes
 * big-endian) when size2 <= FUZZ_TREE_LEAVES_MAX, otherwise a tree whose leaves all equal leaf 0
 * (every perfect node of a level is then the same hash, so any size up to 2^64 - 1 is cheap).
 *
 * Checked, beyond "never crashes":
 *  - merkle_verify_inclusion(leaf index, index, size2, proof, root(size2)) and
 *    merkle_verify_consistency(size1, size2, root(size1), root(size2), proof) reject every
 *    argument the RFC rules out (index >= size2, size1 == 0, size1 > size2);
 *  - when a verifier accepts, the proof is byte for byte the one the generator makes (another
 *    accepted proof would mean a SHA-256 collision or a verifier bug);
 *  - the generated proof itself verifies.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/merkle.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TREE_LEAVES_MAX 128 /* larger trees use equal leaves: memory-tree gets cost O(2^level) */
#define HEADER_BYTES 24

struct uniform_tree {
	uint8_t level_hash[MERKLE_LEVELS_MAX][MERKLE_HASH_BYTES];
	uint64_t size;
};

static uint8_t small_leaves[FUZZ_TREE_LEAVES_MAX][MERKLE_HASH_BYTES];
static struct uniform_tree uniform;

static void leaf_of(uint64_t index, uint8_t out[MERKLE_HASH_BYTES])
{
	uint8_t bytes[8];
	for (int i = 0; i < 8; i++)
		bytes[i] = (uint8_t)(index >> (56 - 8 * i));
	merkle_leaf_hash(bytes, sizeof bytes, out);
}

static void fixtures_make(void)
{
	static bool made;
	if (made)
		return;
	for (uint64_t i = 0; i < FUZZ_TREE_LEAVES_MAX; i++)
		leaf_of(i, small_leaves[i]);
	memcpy(uniform.level_hash[0], small_leaves[0], MERKLE_HASH_BYTES);
	for (unsigned l = 1; l < MERKLE_LEVELS_MAX; l++)
		merkle_node_hash(uniform.level_hash[l - 1], uniform.level_hash[l - 1], uniform.level_hash[l]);
	made = true;
}

static int uniform_get(void *ctx, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH_BYTES])
{
	const struct uniform_tree *tree = ctx;
	if (level >= MERKLE_LEVELS_MAX || index >= (tree->size >> level))
		return SL_ENOENT;
	memcpy(out, tree->level_hash[level], MERKLE_HASH_BYTES);
	return 0;
}

static uint64_t read_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

struct fuzz_tree {
	merkle_node_get_fn get;
	void *ctx;
	struct merkle_memory_tree memory;
};

static void tree_for(struct fuzz_tree *tree, uint64_t size)
{
	if (size <= FUZZ_TREE_LEAVES_MAX) {
		tree->memory = (struct merkle_memory_tree){ .leaf_hashes = &small_leaves[0][0], .count = size };
		tree->get = merkle_memory_node_get;
		tree->ctx = &tree->memory;
	} else {
		uniform.size = size;
		tree->get = uniform_get;
		tree->ctx = &uniform;
	}
}

static void fuzz_inclusion(const struct fuzz_tree *tree, uint64_t index, uint64_t size,
			   const uint8_t root[MERKLE_HASH_BYTES], const uint8_t *proof, size_t count)
{
	uint8_t leaf[MERKLE_HASH_BYTES];
	if (size <= FUZZ_TREE_LEAVES_MAX && index < size)
		memcpy(leaf, small_leaves[index], sizeof leaf);
	else
		memcpy(leaf, small_leaves[0], sizeof leaf); /* the uniform tree's leaf */
	int rc = merkle_verify_inclusion(leaf, index, size, proof, count, root);
	if (rc != 0 && rc != SL_EPROOF)
		abort();
	if (index >= size) {
		if (rc == 0)
			abort();
		return;
	}
	uint8_t generated[MERKLE_PROOF_BYTES_MAX];
	size_t generated_count;
	if (merkle_inclusion_proof(size, index, tree->get, tree->ctx, generated, &generated_count) != 0)
		abort();
	if (merkle_verify_inclusion(leaf, index, size, generated, generated_count, root) != 0)
		abort();
	if (rc == 0 && (count != generated_count ||
			(count != 0 && memcmp(proof, generated, count * MERKLE_HASH_BYTES) != 0)))
		abort();
}

static void fuzz_consistency(const struct fuzz_tree *tree, uint64_t size1, uint64_t size2,
			     const uint8_t root2[MERKLE_HASH_BYTES], const uint8_t *proof, size_t count)
{
	uint8_t root1[MERKLE_HASH_BYTES];
	bool possible = size1 != 0 && size1 <= size2;
	if (!possible)
		memcpy(root1, root2, sizeof root1); /* any root: nothing may verify */
	else if (merkle_root_at(size1, tree->get, tree->ctx, root1) != 0)
		abort();
	int rc = merkle_verify_consistency(size1, size2, root1, root2, proof, count);
	if (rc != 0 && rc != SL_EPROOF)
		abort();
	if (!possible) {
		if (rc == 0)
			abort();
		return;
	}
	uint8_t generated[MERKLE_PROOF_BYTES_MAX];
	size_t generated_count;
	if (merkle_consistency_proof(size1, size2, tree->get, tree->ctx, generated, &generated_count) != 0)
		abort();
	if (merkle_verify_consistency(size1, size2, root1, root2, generated, generated_count) != 0)
		abort();
	if (rc == 0 && (count != generated_count ||
			(count != 0 && memcmp(proof, generated, count * MERKLE_HASH_BYTES) != 0)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < HEADER_BYTES)
		return 0;
	fixtures_make();
	uint64_t size1 = read_be64(data), size2 = read_be64(data + 8), index = read_be64(data + 16);
	const uint8_t *proof = data + HEADER_BYTES;
	size_t proof_bytes = size - HEADER_BYTES;
	size_t count;
	/* A malformed length (trailing bytes, too long) is refused by merkle_proof_count; run the
	 * verifiers on the whole hashes anyway, capped just past the limit. */
	if (merkle_proof_count(proof_bytes, &count) != 0)
		count = proof_bytes / MERKLE_HASH_BYTES < MERKLE_PROOF_HASHES_MAX + 1 ?
				proof_bytes / MERKLE_HASH_BYTES :
				MERKLE_PROOF_HASHES_MAX + 1;
	struct fuzz_tree tree;
	tree_for(&tree, size2);
	uint8_t root2[MERKLE_HASH_BYTES];
	if (merkle_root_at(size2, tree.get, tree.ctx, root2) != 0)
		abort();
	fuzz_inclusion(&tree, index, size2, root2, count ? proof : NULL, count);
	fuzz_consistency(&tree, size1, size2, root2, count ? proof : NULL, count);
	return 0;
}
