/* crypto/merkle.c — RFC 9162 Merkle tree hashes, frontier, proofs and their verification (see merkle.h).
 *
 * Design notes:
 *  1. Every subtree the RFC recursion visits, D[begin:end), has begin a multiple of the largest power
 *     of two <= end - begin (a left part starts at its parent's start; a right part starts at a power
 *     of two greater than its length). So it splits into the perfect nodes of the binary
 *     decomposition of its length, largest first, and its MTH is their right fold (range_hash).
 *  2. In both proof recursions at most one sibling is not a perfect node: the right part of the first
 *     split that goes left (it ends at the tree size); after that every range lies inside a perfect
 *     subtree. So a proof costs O(log n) gets and hashes, not O(log^2 n).
 *  3. The recursions of §2.1.3.1 and §2.1.4.1 are unrolled into loops that walk from the root down;
 *     they emit hashes root side first, and the RFC order (leaf side first) is their reverse.
 *  4. The verifiers are the RFC 9162 §2.1.3.2 and §2.1.4.2 algorithms step by step; each consumes
 *     every proof hash and insists on sn == 0 at the end, so a missing, extra or reordered hash fails.
 */
#include "crypto/merkle.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>

#include "crypto/crypto.h"
#include "util/error.h"

_Static_assert(MERKLE_HASH_BYTES == CRYPTO_SHA256_BYTES, "the tree hash is SHA-256");
_Static_assert(MERKLE_LEVELS_MAX == 64, "one level per bit of a uint64_t size");

static const uint8_t LEAF_PREFIX = 0x00; /* RFC 9162 §2.1.1 domain separation of leaves */
static const uint8_t NODE_PREFIX = 0x01; /* ... and of interior nodes */

static uint64_t level_bit(unsigned level)
{
	assert(level < MERKLE_LEVELS_MAX);
	return (uint64_t)1 << level;
}

/* The largest power of two strictly less than n (RFC 9162 §2.1.1's k), n >= 2. */
static uint64_t split_size(uint64_t n)
{
	assert(n >= 2);
	return (uint64_t)1 << (63 - __builtin_clzll(n - 1));
}

void merkle_leaf_hash(const uint8_t *data, size_t len, uint8_t out[MERKLE_HASH_BYTES])
{
	assert(data != NULL || len == 0);
	assert(out != NULL);
	crypto_sha256_2(&LEAF_PREFIX, 1, data, len, out);
}

/* out may alias left or right. */
void merkle_node_hash(const uint8_t left[MERKLE_HASH_BYTES], const uint8_t right[MERKLE_HASH_BYTES],
		      uint8_t out[MERKLE_HASH_BYTES])
{
	assert(left != NULL && right != NULL);
	assert(out != NULL);
	uint8_t joined[1 + 2 * MERKLE_HASH_BYTES];
	joined[0] = NODE_PREFIX;
	memcpy(joined + 1, left, MERKLE_HASH_BYTES);
	memcpy(joined + 1 + MERKLE_HASH_BYTES, right, MERKLE_HASH_BYTES);
	crypto_sha256(joined, sizeof joined, out);
}

void merkle_empty_root(uint8_t out[MERKLE_HASH_BYTES])
{
	assert(out != NULL);
	crypto_sha256(NULL, 0, out);
}

/* MTH(D[begin:end)) from perfect nodes (note 1): walk the set bits of the length from the lowest,
 * i.e. the chunks from the right end, folding each new chunk in on the left. */
static int range_hash(uint64_t begin, uint64_t end, merkle_node_get_fn get, void *ctx,
		      uint8_t out[MERKLE_HASH_BYTES])
{
	assert(begin < end);
	uint64_t length = end - begin;
	uint64_t chunk_end = end;
	bool have = false;
	for (unsigned level = 0; level < MERKLE_LEVELS_MAX; level++) {
		if ((length & level_bit(level)) == 0)
			continue;
		uint64_t chunk_begin = chunk_end - level_bit(level);
		assert(chunk_begin % level_bit(level) == 0); /* note 1: callers pass aligned ranges */
		uint8_t chunk[MERKLE_HASH_BYTES];
		int rc = get(ctx, level, chunk_begin >> level, have ? chunk : out);
		if (rc != 0)
			return rc;
		if (have)
			merkle_node_hash(chunk, out, out);
		have = true;
		chunk_end = chunk_begin;
	}
	assert(chunk_end == begin);
	return 0;
}

void merkle_frontier_init(struct merkle_frontier *frontier)
{
	assert(frontier != NULL);
	memset(frontier, 0, sizeof *frontier);
}

uint64_t merkle_frontier_size(const struct merkle_frontier *frontier)
{
	assert(frontier != NULL);
	return frontier->size;
}

/* A binary counter increment: each set low bit of size is a full subtree that merges with the new
 * one (carry); the first clear bit receives the result. Nothing is written before every put
 * succeeded, so a failed put leaves the frontier as it was. */
int merkle_frontier_append(struct merkle_frontier *frontier, const uint8_t leaf_hash[MERKLE_HASH_BYTES],
			   merkle_node_put_fn put, void *ctx)
{
	assert(frontier != NULL);
	assert(leaf_hash != NULL);
	if (frontier->size == UINT64_MAX)
		return SL_ELIMIT;
	uint64_t leaf_index = frontier->size;
	uint8_t hash[MERKLE_HASH_BYTES];
	memcpy(hash, leaf_hash, sizeof hash);
	unsigned level = 0;
	for (;;) {
		if (put != NULL) {
			int rc = put(ctx, level, leaf_index >> level, hash);
			if (rc != 0)
				return rc;
		}
		if ((frontier->size & level_bit(level)) == 0)
			break;
		merkle_node_hash(frontier->roots[level], hash, hash);
		level++; /* size < UINT64_MAX has a clear bit, so level stays < MERKLE_LEVELS_MAX */
	}
	memcpy(frontier->roots[level], hash, sizeof hash);
	frontier->size++;
	return 0;
}

/* Right fold of the subtree roots: the lowest level is the rightmost subtree (RFC 9162 §2.1.1). */
void merkle_frontier_root(const struct merkle_frontier *frontier, uint8_t out[MERKLE_HASH_BYTES])
{
	assert(frontier != NULL);
	assert(out != NULL);
	if (frontier->size == 0) {
		merkle_empty_root(out);
		return;
	}
	bool have = false;
	for (unsigned level = 0; level < MERKLE_LEVELS_MAX; level++) {
		if ((frontier->size & level_bit(level)) == 0)
			continue;
		if (have)
			merkle_node_hash(frontier->roots[level], out, out);
		else
			memcpy(out, frontier->roots[level], MERKLE_HASH_BYTES);
		have = true;
	}
}

/* The subtree at level l of a frontier of `size` leaves is the last complete one there:
 * perfect node (l, (size >> l) - 1). */
int merkle_frontier_load(struct merkle_frontier *frontier, uint64_t size, merkle_node_get_fn get,
			 void *ctx)
{
	assert(frontier != NULL);
	assert(get != NULL);
	merkle_frontier_init(frontier);
	for (unsigned level = 0; level < MERKLE_LEVELS_MAX; level++) {
		if ((size & level_bit(level)) == 0)
			continue;
		int rc = get(ctx, level, (size >> level) - 1, frontier->roots[level]);
		if (rc != 0) {
			merkle_frontier_init(frontier);
			return rc;
		}
	}
	frontier->size = size;
	return 0;
}

int merkle_root_at(uint64_t size, merkle_node_get_fn get, void *ctx, uint8_t out[MERKLE_HASH_BYTES])
{
	assert(get != NULL);
	assert(out != NULL);
	if (size == 0) {
		merkle_empty_root(out);
		return 0;
	}
	return range_hash(0, size, get, ctx, out);
}

/* Note 3: from root-side-first to the RFC's leaf-side-first order. */
static void proof_reverse(uint8_t *hashes, size_t count)
{
	for (size_t i = 0, j = count; i + 1 < j; i++, j--) {
		uint8_t swap[MERKLE_HASH_BYTES];
		memcpy(swap, hashes + i * MERKLE_HASH_BYTES, MERKLE_HASH_BYTES);
		memcpy(hashes + i * MERKLE_HASH_BYTES, hashes + (j - 1) * MERKLE_HASH_BYTES, MERKLE_HASH_BYTES);
		memcpy(hashes + (j - 1) * MERKLE_HASH_BYTES, swap, MERKLE_HASH_BYTES);
	}
}

/* RFC 9162 §2.1.3.1: PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) when m < k,
 * PATH(m - k, D[k:n]) : MTH(D[0:k]) otherwise; PATH(0, {d0}) = {}. */
int merkle_inclusion_proof(uint64_t size, uint64_t leaf_index, merkle_node_get_fn get, void *ctx,
			   uint8_t out_hashes[MERKLE_PROOF_BYTES_MAX], size_t *count)
{
	assert(get != NULL);
	assert(out_hashes != NULL && count != NULL);
	*count = 0;
	if (leaf_index >= size)
		return SL_EINVAL;
	uint64_t begin = 0, end = size;
	size_t emitted = 0;
	while (end - begin > 1) {
		assert(emitted < MERKLE_LEVELS_MAX); /* each split halves the range at least */
		uint64_t mid = begin + split_size(end - begin);
		uint8_t *sibling = out_hashes + emitted * MERKLE_HASH_BYTES;
		int rc;
		if (leaf_index < mid) {
			rc = range_hash(mid, end, get, ctx, sibling);
			end = mid;
		} else {
			rc = range_hash(begin, mid, get, ctx, sibling);
			begin = mid;
		}
		if (rc != 0)
			return rc;
		emitted++;
	}
	proof_reverse(out_hashes, emitted);
	*count = emitted;
	return 0;
}

/* RFC 9162 §2.1.4.1: PROOF(m, D[n]) = SUBPROOF(m, D[n], true);
 * SUBPROOF(m, D[m], true) = {}, SUBPROOF(m, D[m], false) = {MTH(D[m])};
 * for m < n: SUBPROOF(m, D[0:k], b) : MTH(D[k:n]) when m <= k,
 *            SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k]) otherwise.
 * Here m stays absolute (size1): the subtree is D[begin:end), m - begin <= k iff size1 <= mid. */
int merkle_consistency_proof(uint64_t size1, uint64_t size2, merkle_node_get_fn get, void *ctx,
			     uint8_t out_hashes[MERKLE_PROOF_BYTES_MAX], size_t *count)
{
	assert(get != NULL);
	assert(out_hashes != NULL && count != NULL);
	*count = 0;
	if (size1 == 0 || size1 > size2)
		return SL_EINVAL;
	uint64_t begin = 0, end = size2;
	bool is_prefix = true; /* SUBPROOF's b: D[begin:end) starts at leaf 0, whose old root the verifier holds */
	size_t emitted = 0;
	int rc;
	while (size1 != end) { /* begin < size1 < end, so the range has >= 2 leaves */
		assert(emitted < MERKLE_LEVELS_MAX);
		uint64_t mid = begin + split_size(end - begin);
		uint8_t *sibling = out_hashes + emitted * MERKLE_HASH_BYTES;
		if (size1 <= mid) {
			rc = range_hash(mid, end, get, ctx, sibling);
			end = mid;
		} else {
			rc = range_hash(begin, mid, get, ctx, sibling);
			begin = mid;
			is_prefix = false;
		}
		if (rc != 0)
			return rc;
		emitted++;
	}
	if (!is_prefix) {
		assert(emitted < MERKLE_PROOF_HASHES_MAX);
		rc = range_hash(begin, end, get, ctx, out_hashes + emitted * MERKLE_HASH_BYTES);
		if (rc != 0)
			return rc;
		emitted++;
	}
	proof_reverse(out_hashes, emitted);
	*count = emitted;
	return 0;
}

/* Right-shift fn and sn together until fn's lowest bit is set or fn is 0 (§2.1.3.2 step 4.b.2,
 * §2.1.4.2 step 6.b.3). At most 64 shifts. */
static void shift_to_odd(uint64_t *fn, uint64_t *sn)
{
	while (*fn != 0 && (*fn & 1) == 0) {
		*fn >>= 1;
		*sn >>= 1;
	}
}

int merkle_verify_inclusion(const uint8_t leaf_hash[MERKLE_HASH_BYTES], uint64_t index, uint64_t size,
			    const uint8_t *proof, size_t count, const uint8_t root[MERKLE_HASH_BYTES])
{
	assert(leaf_hash != NULL && root != NULL);
	assert(proof != NULL || count == 0);
	if (index >= size || count > MERKLE_PROOF_HASHES_MAX) /* step 1, and rule 1 of merkle.h */
		return SL_EPROOF;
	uint64_t fn = index, sn = size - 1; /* step 2 */
	uint8_t r[MERKLE_HASH_BYTES];
	memcpy(r, leaf_hash, sizeof r); /* step 3 */
	for (size_t i = 0; i < count; i++) { /* step 4 */
		const uint8_t *p = proof + i * MERKLE_HASH_BYTES;
		if (sn == 0)
			return SL_EPROOF; /* more hashes than levels */
		if ((fn & 1) != 0 || fn == sn) {
			merkle_node_hash(p, r, r);
			shift_to_odd(&fn, &sn);
		} else {
			merkle_node_hash(r, p, r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || memcmp(r, root, sizeof r) != 0) /* step 5 */
		return SL_EPROOF;
	return 0;
}

int merkle_verify_consistency(uint64_t size1, uint64_t size2, const uint8_t root1[MERKLE_HASH_BYTES],
			      const uint8_t root2[MERKLE_HASH_BYTES], const uint8_t *proof, size_t count)
{
	assert(root1 != NULL && root2 != NULL);
	assert(proof != NULL || count == 0);
	if (size1 == 0 || size1 > size2 || count > MERKLE_PROOF_HASHES_MAX)
		return SL_EPROOF;
	if (size1 == size2) /* PROOF(m, D[m]) = {}: the trees are the same tree */
		return count == 0 && memcmp(root1, root2, MERKLE_HASH_BYTES) == 0 ? 0 : SL_EPROOF;
	if (count == 0) /* step 1 */
		return SL_EPROOF;
	/* step 2: when size1 is a power of two the old root is a node of the new tree and the proof
	 * leaves it out; start from it instead of prepending it. */
	bool first_is_root1 = (size1 & (size1 - 1)) == 0;
	const uint8_t *first = first_is_root1 ? root1 : proof;
	uint64_t fn = size1 - 1, sn = size2 - 1; /* step 3 */
	while ((fn & 1) != 0) { /* step 4 */
		fn >>= 1;
		sn >>= 1;
	}
	uint8_t fr[MERKLE_HASH_BYTES], sr[MERKLE_HASH_BYTES];
	memcpy(fr, first, sizeof fr); /* step 5 */
	memcpy(sr, first, sizeof sr);
	for (size_t i = first_is_root1 ? 0 : 1; i < count; i++) { /* step 6 */
		const uint8_t *c = proof + i * MERKLE_HASH_BYTES;
		if (sn == 0)
			return SL_EPROOF;
		if ((fn & 1) != 0 || fn == sn) {
			merkle_node_hash(c, fr, fr);
			merkle_node_hash(c, sr, sr);
			shift_to_odd(&fn, &sn);
		} else {
			merkle_node_hash(sr, c, sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	/* step 7 */
	if (sn != 0 || memcmp(fr, root1, sizeof fr) != 0 || memcmp(sr, root2, sizeof sr) != 0)
		return SL_EPROOF;
	return 0;
}

int merkle_proof_count(size_t proof_bytes, size_t *count)
{
	assert(count != NULL);
	*count = 0;
	if (proof_bytes % MERKLE_HASH_BYTES != 0 || proof_bytes > MERKLE_PROOF_BYTES_MAX)
		return SL_EPROOF;
	*count = proof_bytes / MERKLE_HASH_BYTES;
	return 0;
}

/* Recompute perfect node (level, index) by appending its 2^level leaves to a scratch frontier. */
int merkle_memory_node_get(void *ctx, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH_BYTES])
{
	const struct merkle_memory_tree *tree = ctx;
	assert(tree != NULL && out != NULL);
	assert(tree->leaf_hashes != NULL || tree->count == 0);
	/* (index + 1) << level <= count, without overflow */
	if (level >= MERKLE_LEVELS_MAX || index >= (tree->count >> level))
		return SL_ENOENT;
	struct merkle_frontier scratch;
	merkle_frontier_init(&scratch);
	uint64_t first = index << level;
	for (uint64_t i = 0; i < level_bit(level); i++) {
		int rc = merkle_frontier_append(&scratch, tree->leaf_hashes + (first + i) * MERKLE_HASH_BYTES,
						NULL, NULL);
		assert(rc == 0); /* fewer than UINT64_MAX leaves */
		(void)rc;
	}
	merkle_frontier_root(&scratch, out);
	return 0;
}
