/* tests/unit/test_merkle.c — RFC 9162 Merkle tree: roots, frontier, inclusion and consistency proofs.
 *
 * The expected values come from an independent, deliberately naive implementation of the RFC 6962
 * §2.1 / RFC 9162 §2.1 definitions written here (recursive MTH, PATH, PROOF/SUBPROOF over arrays of
 * leaf hashes, hashing with libsodium directly), plus literal known answers: SHA-256("") and
 * SHA-256(0x00), and the roots of the 8-leaf tree used in Certificate Transparency's test data.
 * Huge sizes (up to 2^64 - 1) use a tree whose leaves are all equal, so every perfect node of one
 * level has the same hash and the definition can be evaluated in O(log n).
 */
#include "crypto/merkle.h"

#include <sodium.h>
#include <stdbool.h>

#include "crypto/crypto.h"
#include "tests/unit/test.h"
#include "util/error.h"

#define HB MERKLE_HASH_BYTES
#define SMALL_SIZE_MAX 70 /* every size, index and pair up to here */
#define NAIVE_LEAVES_MAX 4097 /* the largest tree the naive definitions are evaluated on */
#define SWAP_ALL_PAIRS_MAX 16 /* proofs up to this long get every pair of components swapped */

/* ---- the naive reference: RFC 6962 §2.1 word for word ---------------------------------------- */

struct hash_list {
	uint8_t hashes[MERKLE_PROOF_HASHES_MAX + 1][HB]; /* +1: room for a test to add one */
	size_t count;
};

static void naive_leaf(const uint8_t *data, size_t len, uint8_t out[HB])
{
	crypto_hash_sha256_state state;
	const uint8_t prefix = 0x00;
	crypto_hash_sha256_init(&state);
	crypto_hash_sha256_update(&state, &prefix, 1);
	crypto_hash_sha256_update(&state, data, len);
	crypto_hash_sha256_final(&state, out);
}

static void naive_node(const uint8_t left[HB], const uint8_t right[HB], uint8_t out[HB])
{
	crypto_hash_sha256_state state;
	const uint8_t prefix = 0x01;
	crypto_hash_sha256_init(&state);
	crypto_hash_sha256_update(&state, &prefix, 1);
	crypto_hash_sha256_update(&state, left, HB);
	crypto_hash_sha256_update(&state, right, HB);
	crypto_hash_sha256_final(&state, out);
}

static uint64_t naive_split(uint64_t n)
{
	uint64_t k = 1;
	while (k < n - k) /* largest power of two < n */
		k *= 2;
	return k;
}

/* MTH(D[n]) over leaf hashes. */
static void naive_mth(const uint8_t (*leaves)[HB], uint64_t n, uint8_t out[HB])
{
	if (n == 0) {
		crypto_hash_sha256(out, NULL, 0);
		return;
	}
	if (n == 1) {
		memcpy(out, leaves[0], HB);
		return;
	}
	uint64_t k = naive_split(n);
	uint8_t left[HB], right[HB];
	naive_mth(leaves, k, left);
	naive_mth(leaves + k, n - k, right);
	naive_node(left, right, out);
}

static void list_add(struct hash_list *list, const uint8_t hash[HB])
{
	if (list->count > MERKLE_PROOF_HASHES_MAX)
		abort();
	memcpy(list->hashes[list->count++], hash, HB);
}

/* The list D is given as its MTH over any sub-range [begin, end): the array of leaf hashes below,
 * or a tree of equal leaves (test_huge_sizes). */
struct list_d {
	void (*mth)(const void *ctx, uint64_t begin, uint64_t end, uint8_t out[HB]);
	const void *ctx;
};

/* PATH(m, D[begin:end]) */
static void naive_path(uint64_t m, const struct list_d *d, uint64_t begin, uint64_t end, struct hash_list *out)
{
	uint64_t n = end - begin;
	if (n <= 1)
		return;
	uint64_t k = naive_split(n);
	uint8_t sibling[HB];
	if (m < k) {
		naive_path(m, d, begin, begin + k, out);
		d->mth(d->ctx, begin + k, end, sibling);
	} else {
		naive_path(m - k, d, begin + k, end, out);
		d->mth(d->ctx, begin, begin + k, sibling);
	}
	list_add(out, sibling);
}

/* SUBPROOF(m, D[begin:end], b) */
static void naive_subproof(uint64_t m, const struct list_d *d, uint64_t begin, uint64_t end, bool b,
			   struct hash_list *out)
{
	uint64_t n = end - begin;
	uint8_t hash[HB];
	if (m == n) {
		if (!b) {
			d->mth(d->ctx, begin, end, hash);
			list_add(out, hash);
		}
		return;
	}
	uint64_t k = naive_split(n);
	if (m <= k) {
		naive_subproof(m, d, begin, begin + k, b, out);
		d->mth(d->ctx, begin + k, end, hash);
	} else {
		naive_subproof(m - k, d, begin + k, end, false, out);
		d->mth(d->ctx, begin, begin + k, hash);
	}
	list_add(out, hash);
}

/* ---- fixtures ------------------------------------------------------------------------------------ */

static uint8_t leaves[NAIVE_LEAVES_MAX][HB];

/* Distinct leaves: leaf i is the leaf hash of the 4 bytes of i, little-endian. */
static void leaves_make(void)
{
	for (uint32_t i = 0; i < NAIVE_LEAVES_MAX; i++) {
		uint8_t data[4] = { (uint8_t)i, (uint8_t)(i >> 8), (uint8_t)(i >> 16), (uint8_t)(i >> 24) };
		naive_leaf(data, sizeof data, leaves[i]);
	}
}

static void array_mth(const void *ctx, uint64_t begin, uint64_t end, uint8_t out[HB])
{
	(void)ctx;
	naive_mth(leaves + begin, end - begin, out);
}

static const struct list_d leaves_d = { array_mth, NULL };

static struct merkle_memory_tree tree_of(uint64_t n)
{
	return (struct merkle_memory_tree){ .leaf_hashes = &leaves[0][0], .count = n };
}

static bool hex_is(const uint8_t hash[HB], const char *hex)
{
	char text[2 * HB + 1];
	crypto_hex_encode(hash, HB, text);
	return strcmp(text, hex) == 0;
}

/* ---- mutations every verifier must reject -------------------------------------------------------- */

enum proof_kind { INCLUSION, CONSISTENCY };

struct claim { /* what a proof claims; verify() checks proof against it */
	enum proof_kind kind;
	uint64_t index, size, size1, size2;
	uint8_t leaf[HB], root[HB], root1[HB], root2[HB];
};

static int verify(const struct claim *c, const uint8_t *proof, size_t count)
{
	if (c->kind == INCLUSION)
		return merkle_verify_inclusion(c->leaf, c->index, c->size, proof, count, c->root);
	return merkle_verify_consistency(c->size1, c->size2, c->root1, c->root2, proof, count);
}

/* Count of mutated proofs that were (wrongly) accepted. */
static int mutations_accepted(const struct claim *c, const struct hash_list *good)
{
	int accepted = 0;
	struct hash_list p;
	for (size_t i = 0; i < good->count; i++) /* a flipped bit in each component */
		for (unsigned bit = 0; bit < 8; bit++) {
			p = *good;
			p.hashes[i][0] ^= (uint8_t)(1u << bit);
			accepted += verify(c, (uint8_t *)p.hashes, p.count) == 0;
			p.hashes[i][HB - 1] ^= 0x80; /* and the last byte too */
			accepted += verify(c, (uint8_t *)p.hashes, p.count) == 0;
		}
	for (size_t i = 0; i < good->count; i++) { /* a component removed */
		p = *good;
		memmove(p.hashes[i], p.hashes[i + 1], (p.count - i - 1) * HB);
		accepted += verify(c, (uint8_t *)p.hashes, p.count - 1) == 0;
	}
	for (size_t i = 0; i <= good->count; i++) { /* a component added (a copy of a neighbour or root) */
		p = *good;
		memmove(p.hashes[i + 1], p.hashes[i], (p.count - i) * HB);
		memcpy(p.hashes[i], i > 0 ? good->hashes[i - 1] : c->kind == INCLUSION ? c->root : c->root1, HB);
		accepted += verify(c, (uint8_t *)p.hashes, p.count + 1) == 0;
		if (i == good->count && good->count > 0) {
			/* an extra top hash must not lift the proof to roots one level higher */
			struct claim higher = *c;
			merkle_node_hash(p.hashes[i], c->root, higher.root);
			merkle_node_hash(p.hashes[i], c->root1, higher.root1);
			merkle_node_hash(p.hashes[i], c->root2, higher.root2);
			accepted += verify(&higher, (uint8_t *)p.hashes, p.count + 1) == 0;
		}
	}
	for (size_t i = 0; i + 1 < good->count; i++) /* two (different) components swapped */
		for (size_t j = i + 1; j < good->count; j++) {
			if (good->count > SWAP_ALL_PAIRS_MAX && j != i + 1 && j != good->count - 1)
				continue; /* long proofs: neighbours and with the last only, to stay fast */
			if (memcmp(good->hashes[i], good->hashes[j], HB) == 0)
				continue; /* no change: possible only in the tree of equal leaves */
			p = *good;
			memcpy(p.hashes[i], good->hashes[j], HB);
			memcpy(p.hashes[j], good->hashes[i], HB);
			accepted += verify(c, (uint8_t *)p.hashes, p.count) == 0;
		}
	return accepted;
}

static void generate(const struct claim *c, struct merkle_memory_tree *tree, struct hash_list *out, int *rc)
{
	if (c->kind == INCLUSION)
		*rc = merkle_inclusion_proof(c->size, c->index, merkle_memory_node_get, tree, (uint8_t *)out->hashes,
					     &out->count);
	else
		*rc = merkle_consistency_proof(c->size1, c->size2, merkle_memory_node_get, tree,
					       (uint8_t *)out->hashes, &out->count);
}

static bool lists_equal(const struct hash_list *a, const struct hash_list *b)
{
	return a->count == b->count && memcmp(a->hashes, b->hashes, a->count * HB) == 0;
}

/* ---- tests --------------------------------------------------------------------------------------- */

static void test_known_answers(void)
{
	uint8_t out[HB];
	merkle_empty_root(out);
	CHECK(hex_is(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	merkle_leaf_hash(NULL, 0, out);
	CHECK(hex_is(out, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"));

	/* Certificate Transparency's test leaves and the roots of their first n, n = 1..8. */
	static const char *const data_hex[8] = { "", "00", "10", "2021", "3031", "40414243",
						 "5051525354555657", "606162636465666768696a6b6c6d6e6f" };
	static const char *const root_hex[8] = {
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	};
	struct merkle_frontier frontier;
	merkle_frontier_init(&frontier);
	merkle_frontier_root(&frontier, out);
	CHECK(hex_is(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	for (int i = 0; i < 8; i++) {
		uint8_t data[16], leaf[HB];
		size_t len = strlen(data_hex[i]) / 2;
		REQUIRE(crypto_hex_decode(data_hex[i], data, len) == 0);
		merkle_leaf_hash(data, len, leaf);
		REQUIRE(merkle_frontier_append(&frontier, leaf, NULL, NULL) == 0);
		merkle_frontier_root(&frontier, out);
		CHECK(hex_is(out, root_hex[i]));
	}
	CHECK_INT_EQ(merkle_frontier_size(&frontier), 8);
}

static void test_hashes_match_definition(void)
{
	uint8_t a[HB], b[HB];
	const uint8_t data[3] = { 1, 2, 3 };
	merkle_leaf_hash(data, sizeof data, a);
	naive_leaf(data, sizeof data, b);
	CHECK(memcmp(a, b, HB) == 0);
	leaves_make();
	merkle_node_hash(leaves[0], leaves[1], a);
	naive_node(leaves[0], leaves[1], b);
	CHECK(memcmp(a, b, HB) == 0);
	merkle_node_hash(leaves[1], leaves[0], a); /* order matters */
	CHECK(memcmp(a, b, HB) != 0);
	memcpy(a, leaves[0], HB);
	merkle_node_hash(a, leaves[1], a); /* out may alias an input */
	CHECK(memcmp(a, b, HB) == 0);
}

struct put_log {
	uint64_t puts;
	uint64_t fail_at; /* 0: never fail */
	bool mismatch;
	struct merkle_memory_tree tree;
};

static int put_check(void *ctx, unsigned level, uint64_t index, const uint8_t hash[HB])
{
	struct put_log *log = ctx;
	if (++log->puts == log->fail_at)
		return SL_EIO;
	uint8_t expected[HB];
	if (merkle_memory_node_get(&log->tree, level, index, expected) != 0 || memcmp(expected, hash, HB) != 0)
		log->mismatch = true;
	return 0;
}

static void test_frontier(void)
{
	leaves_make();
	struct merkle_frontier frontier, loaded;
	merkle_frontier_init(&frontier);
	struct put_log log = { .tree = tree_of(NAIVE_LEAVES_MAX) };
	uint8_t got[HB], want[HB], at[HB];
	for (uint64_t n = 1; n <= NAIVE_LEAVES_MAX; n++) {
		REQUIRE(merkle_frontier_append(&frontier, leaves[n - 1], put_check, &log) == 0);
		if (n > SMALL_SIZE_MAX && n != 1000 && n != 1024 && n != NAIVE_LEAVES_MAX)
			continue;
		merkle_frontier_root(&frontier, got);
		naive_mth(leaves, n, want);
		CHECK(memcmp(got, want, HB) == 0);
		struct merkle_memory_tree tree = tree_of(n);
		CHECK_INT_EQ(merkle_root_at(n, merkle_memory_node_get, &tree, at), 0);
		CHECK(memcmp(at, want, HB) == 0);
		CHECK_INT_EQ(merkle_frontier_load(&loaded, n, merkle_memory_node_get, &tree), 0);
		CHECK_INT_EQ(merkle_frontier_size(&loaded), n);
		merkle_frontier_root(&loaded, got);
		CHECK(memcmp(got, want, HB) == 0);
	}
	CHECK(!log.mismatch);
	/* every perfect node of the tree is put exactly once: 2n - popcount(n) of them */
	CHECK_INT_EQ(log.puts, 2 * NAIVE_LEAVES_MAX - __builtin_popcountll(NAIVE_LEAVES_MAX));
}

static void test_frontier_put_failure(void)
{
	leaves_make();
	struct merkle_frontier frontier, before;
	merkle_frontier_init(&frontier);
	for (int i = 0; i < 7; i++)
		REQUIRE(merkle_frontier_append(&frontier, leaves[i], NULL, NULL) == 0);
	before = frontier;
	/* appending leaf 7 completes 4 nodes (levels 0..3); fail on the 3rd */
	struct put_log log = { .fail_at = 3, .tree = tree_of(8) };
	CHECK_INT_EQ(merkle_frontier_append(&frontier, leaves[7], put_check, &log), SL_EIO);
	CHECK(memcmp(&frontier, &before, sizeof frontier) == 0);
	log = (struct put_log){ .tree = tree_of(8) };
	CHECK_INT_EQ(merkle_frontier_append(&frontier, leaves[7], put_check, &log), 0);
	CHECK_INT_EQ(log.puts, 4);
	CHECK(!log.mismatch);
	/* loading from a store that lacks a node fails and leaves an empty frontier */
	struct merkle_memory_tree short_tree = tree_of(4);
	CHECK_INT_EQ(merkle_frontier_load(&frontier, 6, merkle_memory_node_get, &short_tree), SL_ENOENT);
	CHECK_INT_EQ(merkle_frontier_size(&frontier), 0);
}

/* Generate, compare with the definition, verify, reject mutations. */
static void check_claim(struct claim *c, struct merkle_memory_tree *tree, const struct hash_list *want)
{
	struct hash_list got = { .count = 0 };
	int rc;
	generate(c, tree, &got, &rc);
	CHECK_INT_EQ(rc, 0);
	CHECK(lists_equal(&got, want));
	CHECK_INT_EQ(verify(c, (uint8_t *)got.hashes, got.count), 0);
	CHECK_INT_EQ(mutations_accepted(c, &got), 0);
}

static void check_inclusion(uint64_t n, uint64_t m, bool all_wrong_indexes)
{
	struct claim c = { .kind = INCLUSION, .index = m, .size = n };
	struct merkle_memory_tree tree = tree_of(n);
	struct hash_list want = { .count = 0 }, got = { .count = 0 };
	memcpy(c.leaf, leaves[m], HB);
	naive_mth(leaves, n, c.root);
	naive_path(m, &leaves_d, 0, n, &want);
	check_claim(&c, &tree, &want);
	REQUIRE(merkle_inclusion_proof(n, m, merkle_memory_node_get, &tree, (uint8_t *)got.hashes, &got.count) == 0);
	const uint8_t *proof = (uint8_t *)got.hashes;
	/* wrong leaf, wrong index (every other one, or the neighbours), index >= size */
	uint8_t wrong_leaf[HB];
	memcpy(wrong_leaf, c.leaf, HB);
	wrong_leaf[HB / 2] ^= 1;
	CHECK(merkle_verify_inclusion(wrong_leaf, m, n, proof, got.count, c.root) == SL_EPROOF);
	for (uint64_t j = 0; j < n; j++)
		if (j != m && (all_wrong_indexes || j + 1 == m || j == m + 1 || j == (m ^ 1)))
			CHECK(merkle_verify_inclusion(c.leaf, j, n, proof, got.count, c.root) == SL_EPROOF);
	CHECK(merkle_verify_inclusion(c.leaf, n, n, proof, got.count, c.root) == SL_EPROOF);
	CHECK(merkle_verify_inclusion(c.leaf, UINT64_MAX, n, proof, got.count, c.root) == SL_EPROOF);
	CHECK(merkle_verify_inclusion(c.leaf, m, 0, proof, got.count, c.root) == SL_EPROOF);
	/* the proof does not verify in a tree of any other size (with that tree's root) */
	uint64_t sizes[] = { n - 1, n + 1, n + 2, 2 * n };
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		uint8_t other_root[HB];
		if (sizes[s] <= m || sizes[s] > NAIVE_LEAVES_MAX)
			continue;
		naive_mth(leaves, sizes[s], other_root);
		CHECK(merkle_verify_inclusion(c.leaf, m, sizes[s], proof, got.count, other_root) == SL_EPROOF);
		/* With this tree's root the claimed size only decides the shape of the path, and the
		 * root commits to the size (a checkpoint signs both); so a wrong size must fail at least
		 * whenever its path has another length. */
		struct hash_list other = { .count = 0 };
		naive_path(m, &leaves_d, 0, sizes[s], &other);
		if (other.count != got.count)
			CHECK(merkle_verify_inclusion(c.leaf, m, sizes[s], proof, got.count, c.root) == SL_EPROOF);
	}
}

static void test_inclusion_small(void)
{
	leaves_make();
	for (uint64_t n = 1; n <= SMALL_SIZE_MAX; n++)
		for (uint64_t m = 0; m < n; m++)
			check_inclusion(n, m, true);
}

static void check_consistency(uint64_t m, uint64_t n)
{
	struct claim c = { .kind = CONSISTENCY, .size1 = m, .size2 = n };
	struct merkle_memory_tree tree = tree_of(n);
	struct hash_list want = { .count = 0 }, got = { .count = 0 };
	naive_mth(leaves, m, c.root1);
	naive_mth(leaves, n, c.root2);
	naive_subproof(m, &leaves_d, 0, n, true, &want);
	check_claim(&c, &tree, &want);
	REQUIRE(merkle_consistency_proof(m, n, merkle_memory_node_get, &tree, (uint8_t *)got.hashes, &got.count) == 0);
	const uint8_t *proof = (uint8_t *)got.hashes;
	size_t count = got.count;
	/* sizes that do not match the roots, size1 == 0, size1 > size2 */
	uint8_t other[HB];
	for (uint64_t m2 = 1; m2 <= n; m2++) { /* another old size, with its own root */
		if (m2 == m || (n > SMALL_SIZE_MAX && m2 + 1 != m && m2 != m + 1 && m2 != n))
			continue; /* every one in small trees, the neighbours and n in large ones */
		naive_mth(leaves, m2, other);
		CHECK(merkle_verify_consistency(m2, n, other, c.root2, proof, count) == SL_EPROOF);
	}
	for (uint64_t n2 = n + 1; n2 <= n + 3 && n2 <= NAIVE_LEAVES_MAX; n2++) { /* another new size */
		naive_mth(leaves, n2, other);
		CHECK(merkle_verify_consistency(m, n2, c.root1, other, proof, count) == SL_EPROOF);
		/* the same roots with another size: must fail when its proof has another length */
		struct hash_list other_proof = { .count = 0 };
		naive_subproof(m, &leaves_d, 0, n2, true, &other_proof);
		if (other_proof.count != count)
			CHECK(merkle_verify_consistency(m, n2, c.root1, c.root2, proof, count) == SL_EPROOF);
	}
	CHECK(merkle_verify_consistency(0, n, c.root1, c.root2, proof, count) == SL_EPROOF);
	CHECK(merkle_verify_consistency(n, m, c.root2, c.root1, proof, count) == SL_EPROOF || m == n);
	if (m < n) {
		CHECK(merkle_verify_consistency(n, n, c.root2, c.root2, proof, count) == SL_EPROOF);
		CHECK(merkle_verify_consistency(m, n, c.root2, c.root1, proof, count) == SL_EPROOF);
		CHECK(merkle_verify_consistency(m, n, c.root1, c.root2, NULL, 0) == SL_EPROOF);
	} else {
		CHECK(merkle_verify_consistency(m, m, c.root1, c.root2, NULL, 0) == 0);
		memcpy(other, c.root2, HB);
		other[0] ^= 1;
		CHECK(merkle_verify_consistency(m, m, c.root1, other, NULL, 0) == SL_EPROOF);
		CHECK(merkle_verify_consistency(m, m, c.root1, c.root2, leaves[0], 1) == SL_EPROOF);
	}
}

static void test_consistency_small(void)
{
	leaves_make();
	uint8_t root[HB];
	naive_mth(leaves, 5, root);
	CHECK(merkle_verify_consistency(0, 0, root, root, NULL, 0) == SL_EPROOF);
	for (uint64_t n = 1; n <= SMALL_SIZE_MAX; n++)
		for (uint64_t m = 1; m <= n; m++)
			check_consistency(m, n);
}

/* Indexes and old sizes worth checking in a large tree: the ends, around each power of two, a stride. */
static size_t interesting(uint64_t n, uint64_t *out, size_t max)
{
	size_t count = 0;
	for (uint64_t p = 1; p < n && count + 3 <= max; p *= 2) {
		out[count++] = p - 1;
		out[count++] = p;
		if (p + 1 < n)
			out[count++] = p + 1;
	}
	for (uint64_t i = 3; i < n && count < max; i += 397)
		out[count++] = i;
	if (count + 2 <= max) {
		out[count++] = n - 2;
		out[count++] = n - 1;
	}
	return count;
}

static void test_large_sizes(void)
{
	leaves_make();
	const uint64_t sizes[] = { 1000, 1024, NAIVE_LEAVES_MAX };
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		uint64_t points[64];
		size_t count = interesting(sizes[s], points, 64);
		for (size_t i = 0; i < count; i++) {
			check_inclusion(sizes[s], points[i], false);
			if (points[i] > 0)
				check_consistency(points[i], sizes[s]);
		}
		check_consistency(sizes[s], sizes[s]);
	}
}

/* ---- huge trees: all leaves equal ---------------------------------------------------------------- */

struct uniform_tree {
	uint8_t level_hash[MERKLE_LEVELS_MAX][HB]; /* every perfect node at level l */
	uint64_t size;
	uint64_t gets;
};

static void uniform_make(struct uniform_tree *t, uint64_t size)
{
	naive_leaf((const uint8_t *)"x", 1, t->level_hash[0]);
	for (int l = 1; l < MERKLE_LEVELS_MAX; l++)
		naive_node(t->level_hash[l - 1], t->level_hash[l - 1], t->level_hash[l]);
	t->size = size;
	t->gets = 0;
}

static int uniform_get(void *ctx, unsigned level, uint64_t index, uint8_t out[HB])
{
	struct uniform_tree *t = ctx;
	t->gets++;
	if (level >= MERKLE_LEVELS_MAX || index >= (t->size >> level))
		return SL_ENOENT;
	memcpy(out, t->level_hash[level], HB);
	return 0;
}

/* MTH by definition, using that D[0:k] with k a power of two is a perfect node. */
static void uniform_mth(const struct uniform_tree *t, uint64_t n, uint8_t out[HB])
{
	if ((n & (n - 1)) == 0) {
		memcpy(out, t->level_hash[__builtin_ctzll(n)], HB);
		return;
	}
	uint64_t k = naive_split(n);
	uint8_t right[HB];
	uniform_mth(t, n - k, right);
	naive_node(t->level_hash[__builtin_ctzll(k)], right, out);
}

static void uniform_range_mth(const void *ctx, uint64_t begin, uint64_t end, uint8_t out[HB])
{
	uniform_mth(ctx, end - begin, out);
}

static void test_huge_sizes(void)
{
	static struct uniform_tree t;
	uniform_make(&t, UINT64_MAX);
	const struct list_d uniform_d = { uniform_range_mth, &t };
	const uint64_t top = (uint64_t)1 << 63;
	uint8_t root[HB], want[HB];
	struct hash_list p, expected;
	CHECK_INT_EQ(merkle_root_at(UINT64_MAX, uniform_get, &t, root), 0);
	uniform_mth(&t, UINT64_MAX, want);
	CHECK(memcmp(root, want, HB) == 0);
	struct merkle_frontier frontier;
	CHECK_INT_EQ(merkle_frontier_load(&frontier, UINT64_MAX, uniform_get, &t), 0);
	merkle_frontier_root(&frontier, want);
	CHECK(memcmp(root, want, HB) == 0);
	CHECK_INT_EQ(merkle_frontier_append(&frontier, t.level_hash[0], NULL, NULL), SL_ELIMIT);

	/* inclusion: leaf 2^63 lies 64 levels deep (right of the root, then left into a perfect 2^62) */
	const uint64_t indexes[] = { 0, 1, top - 1, top, top + 1, UINT64_MAX - 3, UINT64_MAX - 2, UINT64_MAX - 1 };
	for (size_t i = 0; i < sizeof indexes / sizeof indexes[0]; i++) {
		t.gets = 0;
		REQUIRE(merkle_inclusion_proof(UINT64_MAX, indexes[i], uniform_get, &t, (uint8_t *)p.hashes, &p.count) == 0);
		CHECK(t.gets <= 2 * MERKLE_LEVELS_MAX); /* merkle.c design note 2: O(log n) gets */
		expected.count = 0;
		naive_path(indexes[i], &uniform_d, 0, UINT64_MAX, &expected);
		CHECK(lists_equal(&p, &expected));
		CHECK(p.count <= MERKLE_LEVELS_MAX);
		CHECK(p.count == 64 || indexes[i] != top);
		struct claim c = { .kind = INCLUSION, .index = indexes[i], .size = UINT64_MAX };
		memcpy(c.leaf, t.level_hash[0], HB);
		memcpy(c.root, root, HB);
		CHECK_INT_EQ(verify(&c, (uint8_t *)p.hashes, p.count), 0);
		CHECK_INT_EQ(mutations_accepted(&c, &p), 0);
	}
	/* consistency: 2^63 + 1 → 2^64 - 1 needs MERKLE_PROOF_HASHES_MAX hashes, the longest possible */
	const uint64_t olds[] = { 1, 2, 3, top - 1, top, top + 1, top + 2, UINT64_MAX - 2, UINT64_MAX - 1 };
	for (size_t i = 0; i < sizeof olds / sizeof olds[0]; i++) {
		t.gets = 0;
		REQUIRE(merkle_consistency_proof(olds[i], UINT64_MAX, uniform_get, &t, (uint8_t *)p.hashes, &p.count) == 0);
		CHECK(t.gets <= 2 * MERKLE_LEVELS_MAX + 1);
		expected.count = 0;
		naive_subproof(olds[i], &uniform_d, 0, UINT64_MAX, true, &expected);
		CHECK(lists_equal(&p, &expected));
		CHECK(p.count == MERKLE_PROOF_HASHES_MAX || olds[i] != top + 1);
		struct claim c = { .kind = CONSISTENCY, .size1 = olds[i], .size2 = UINT64_MAX };
		uniform_mth(&t, olds[i], c.root1);
		memcpy(c.root2, root, HB);
		CHECK_INT_EQ(verify(&c, (uint8_t *)p.hashes, p.count), 0);
		CHECK_INT_EQ(mutations_accepted(&c, &p), 0);
	}
}

/* ---- arguments, limits, accessor failures -------------------------------------------------------- */

static int failing_get(void *ctx, unsigned level, uint64_t index, uint8_t out[HB])
{
	(void)ctx, (void)level, (void)index, (void)out;
	return SL_EIO;
}

static void test_arguments_and_limits(void)
{
	leaves_make();
	struct merkle_memory_tree tree = tree_of(10);
	struct hash_list p;
	uint8_t hash[HB];
	CHECK_INT_EQ(merkle_inclusion_proof(10, 10, merkle_memory_node_get, &tree, (uint8_t *)p.hashes, &p.count), SL_EINVAL);
	CHECK_INT_EQ(merkle_inclusion_proof(0, 0, merkle_memory_node_get, &tree, (uint8_t *)p.hashes, &p.count), SL_EINVAL);
	CHECK_INT_EQ(merkle_consistency_proof(0, 10, merkle_memory_node_get, &tree, (uint8_t *)p.hashes, &p.count), SL_EINVAL);
	CHECK_INT_EQ(merkle_consistency_proof(7, 6, merkle_memory_node_get, &tree, (uint8_t *)p.hashes, &p.count), SL_EINVAL);
	CHECK_INT_EQ(merkle_consistency_proof(6, 6, merkle_memory_node_get, &tree, (uint8_t *)p.hashes, &p.count), 0);
	CHECK_INT_EQ(p.count, 0);
	/* an accessor's error is returned unchanged */
	CHECK_INT_EQ(merkle_inclusion_proof(10, 3, failing_get, NULL, (uint8_t *)p.hashes, &p.count), SL_EIO);
	CHECK_INT_EQ(merkle_consistency_proof(3, 10, failing_get, NULL, (uint8_t *)p.hashes, &p.count), SL_EIO);
	CHECK_INT_EQ(merkle_root_at(10, failing_get, NULL, hash), SL_EIO);
	CHECK_INT_EQ(merkle_inclusion_proof(1, 0, failing_get, NULL, (uint8_t *)p.hashes, &p.count), 0); /* no get needed */
	/* the memory tree refuses nodes outside [0, count) */
	CHECK_INT_EQ(merkle_memory_node_get(&tree, 0, 9, hash), 0);
	CHECK_INT_EQ(merkle_memory_node_get(&tree, 0, 10, hash), SL_ENOENT);
	CHECK_INT_EQ(merkle_memory_node_get(&tree, 3, 0, hash), 0);
	CHECK_INT_EQ(merkle_memory_node_get(&tree, 3, 1, hash), SL_ENOENT); /* leaves 8..15 */
	CHECK_INT_EQ(merkle_memory_node_get(&tree, 4, 0, hash), SL_ENOENT);
	CHECK_INT_EQ(merkle_memory_node_get(&tree, 64, 0, hash), SL_ENOENT);
	CHECK_INT_EQ(merkle_memory_node_get(&tree, 0, UINT64_MAX, hash), SL_ENOENT);
	/* proof byte lengths: whole hashes only (no trailing data), at most the named maximum */
	size_t count = 99;
	CHECK_INT_EQ(merkle_proof_count(0, &count), 0);
	CHECK_INT_EQ(count, 0);
	CHECK_INT_EQ(merkle_proof_count(3 * HB, &count), 0);
	CHECK_INT_EQ(count, 3);
	for (size_t extra = 1; extra < HB; extra++)
		CHECK_INT_EQ(merkle_proof_count(3 * HB + extra, &count), SL_EPROOF);
	CHECK_INT_EQ(merkle_proof_count(MERKLE_PROOF_BYTES_MAX, &count), 0);
	CHECK_INT_EQ(count, MERKLE_PROOF_HASHES_MAX);
	CHECK_INT_EQ(merkle_proof_count(MERKLE_PROOF_BYTES_MAX + HB, &count), SL_EPROOF);
	CHECK_INT_EQ(merkle_proof_count(SIZE_MAX, &count), SL_EPROOF);
	/* over-long proofs are refused before any hashing */
	static uint8_t long_proof[(MERKLE_PROOF_HASHES_MAX + 1) * HB];
	CHECK_INT_EQ(merkle_verify_inclusion(leaves[0], 0, UINT64_MAX, long_proof, MERKLE_PROOF_HASHES_MAX + 1, hash),
		     SL_EPROOF);
	CHECK_INT_EQ(merkle_verify_consistency(1, UINT64_MAX, hash, hash, long_proof, MERKLE_PROOF_HASHES_MAX + 1),
		     SL_EPROOF);
	CHECK_INT_EQ(merkle_verify_inclusion(leaves[0], 0, 1, NULL, 0, leaves[0]), 0); /* one leaf: root = leaf */
	CHECK_INT_EQ(merkle_verify_inclusion(leaves[0], 0, 1, leaves[1], 1, leaves[0]), SL_EPROOF);
}

static const struct test_case cases[] = {
	TEST_CASE(test_known_answers),
	TEST_CASE(test_hashes_match_definition),
	TEST_CASE(test_frontier),
	TEST_CASE(test_frontier_put_failure),
	TEST_CASE(test_inclusion_small),
	TEST_CASE(test_consistency_small),
	TEST_CASE(test_large_sizes),
	TEST_CASE(test_huge_sizes),
	TEST_CASE(test_arguments_and_limits),
};

TEST_MAIN(cases)
