/* tests/unit/test_store_pages.c — store_map_release and store_map_trim (store/pages.c): the pages a
 * scan mapped leave the resident set, what was read stays readable (pointers taken before the
 * release included), the budget of _trim is respected, and bad arguments are refused. */
#include "tests/unit/test.h"

#include "store/store.h"
#include "util/error.h"

#define ENTRIES 4096
#define ENTRY_BYTES 4000 /* ~16 MiB of ledger: far above what the program itself maps */

static uint64_t shared_bytes(void)
{
	FILE *statm = fopen("/proc/self/statm", "r");
	unsigned long size = 0, resident = 0, shared = 0;
	if (statm == NULL)
		return 0;
	if (fscanf(statm, "%lu %lu %lu", &size, &resident, &shared) != 3)
		shared = 0;
	fclose(statm);
	return (uint64_t)shared * (uint64_t)sysconf(_SC_PAGESIZE);
}

struct scan {
	uint64_t sum;
	const uint8_t *first; /* a pointer into the map, kept across the release */
};

static int scan_cb(void *ctx, uint64_t seq, const uint8_t *entry, size_t len)
{
	struct scan *s = ctx;
	if (seq == 1)
		s->first = entry;
	for (size_t i = 0; i < len; i += 512)
		s->sum += entry[i];
	return 0;
}

static int fill(store *st)
{
	static uint8_t entry[ENTRY_BYTES];
	store_txn *txn = NULL;
	int rc = store_txn_begin(st, true, &txn);
	for (uint64_t i = 0; rc == 0 && i < ENTRIES; i++) {
		memset(entry, (int)(i & 0xff), sizeof entry);
		uint64_t seq = 0;
		rc = store_ledger_append(txn, entry, sizeof entry, &seq);
	}
	return rc == 0 ? store_txn_commit(txn) : (store_txn_abort(txn), rc);
}

static void test_release_and_trim(void)
{
	char dir[PATH_MAX];
	REQUIRE(test_tmpdir(dir) == 0);
	store *st = NULL;
	struct store_options options = { .no_sync = true };
	REQUIRE(store_open(&st, dir, &options) == 0);
	REQUIRE(fill(st) == 0);
	store_txn *txn = NULL;
	REQUIRE(store_txn_begin(st, false, &txn) == 0);
	struct scan before = { 0, NULL }, after = { 0, NULL };
	REQUIRE(store_ledger_iterate(txn, 1, 0, scan_cb, &before) == 0);
	uint64_t mapped = shared_bytes();
	CHECK(mapped > (uint64_t)ENTRIES * ENTRY_BYTES / 2); /* the scan left the ledger mapped */
	REQUIRE(before.first != NULL);
	uint8_t first_byte = before.first[100];

	/* under budget: nothing happens */
	CHECK_INT_EQ(store_txn_map_trim(txn, mapped + (64u << 20)), 0);
	CHECK(shared_bytes() + (4u << 20) > mapped);
	/* over budget: released, with the read transaction still open */
	CHECK_INT_EQ(store_txn_map_trim(txn, 1u << 20), 0);
	uint64_t released = shared_bytes();
	CHECK(released + (uint64_t)ENTRIES * ENTRY_BYTES / 2 < mapped);
	CHECK_INT_EQ(before.first[100], first_byte); /* an earlier pointer reads the same bytes */
	REQUIRE(store_ledger_iterate(txn, 1, 0, scan_cb, &after) == 0);
	CHECK(after.sum == before.sum);
	CHECK_INT_EQ(store_map_release(st), 0);
	CHECK(shared_bytes() + (uint64_t)ENTRIES * ENTRY_BYTES / 2 < mapped);
	store_txn_abort(txn);

	CHECK_INT_EQ(store_map_release(NULL), SL_EINVAL);
	CHECK_INT_EQ(store_txn_map_release(NULL), SL_EINVAL);
	CHECK_INT_EQ(store_map_trim(NULL, 0), SL_EINVAL);
	store_close(st);
	test_rmtree(dir);
}

static const struct test_case cases[] = {
	TEST_CASE(test_release_and_trim),
};
TEST_MAIN(cases)
