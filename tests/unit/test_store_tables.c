/* tests/unit/test_store_tables.c — store/ tables: ledger, ids, items, children, history, locks,
 * lots, registry, meta; corrupt stored values and key limits. Environment: test_store.c.
 */
#include "store/store.h"
#include "tests/unit/store_fixture.h"
#include "util/error.h"

#include <stddef.h>

static void fill_item(struct store_item *item, uint8_t status)
{
	memset(item, 0x5a, sizeof(*item)); /* garbage after every NUL: the store must zero it */
	item->kind = 1;
	item->status = status;
	item->reason = 3;
	item->flags = 0x81;
	item->child_count = 70000;
	item->status_time_ms = 1700000000123ULL;
	item->commission_seq = 12;
	item->status_seq = 40;
	strcpy(item->site, "SITE-A");
	strcpy(item->destination, "SITE-B");
	strcpy(item->status_site, "SITE-A");
	strcpy(item->parent, "00095060001343500001");
	strcpy(item->gtin, "09506000134352");
	strcpy(item->lot, "LOT-7");
	strcpy(item->expiry, "271231");
}

/* ---- ledger and ids ---- */

static void test_store_ledger(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f, NULL) == 0);
	store_txn *txn;
	uint64_t count = 99;
	REQUIRE(store_txn_begin(f.st, false, &txn) == 0);
	CHECK_INT_EQ(store_ledger_count(txn, &count), 0);
	CHECK_INT_EQ(count, 0);
	store_txn_abort(txn);
	/* 300 > 256: byte-wise order of little-endian keys would differ from integer order. */
	CHECK_INT_EQ(append_entries(f.st, 1, 100), 0);
	CHECK_INT_EQ(append_entries(f.st, 101, 300), 0);

	REQUIRE(store_txn_begin(f.st, false, &txn) == 0);
	CHECK_INT_EQ(store_ledger_count(txn, &count), 0);
	CHECK_INT_EQ(count, 300);
	const uint8_t *entry;
	size_t len;
	CHECK_INT_EQ(store_ledger_get(txn, 0, &entry, &len), SL_ENOENT);
	CHECK_INT_EQ(store_ledger_get(txn, 301, &entry, &len), SL_ENOENT);
	CHECK_INT_EQ(store_ledger_get(txn, 256, &entry, &len), 0);
	CHECK(len == 9 && memcmp(entry, "entry-256", 9) == 0);
	struct ledger_seen all = { .first = 1 };
	CHECK_INT_EQ(store_ledger_iterate(txn, 1, 0, ledger_cb, &all), 0);
	CHECK(all.calls == 300 && all.bad == 0);
	struct ledger_seen window = { .first = 250 };
	CHECK_INT_EQ(store_ledger_iterate(txn, 250, 10, ledger_cb, &window), 0);
	CHECK(window.calls == 10 && window.bad == 0);
	struct ledger_seen tail = { .first = 295 };
	CHECK_INT_EQ(store_ledger_iterate(txn, 295, 0, ledger_cb, &tail), 0);
	CHECK(tail.calls == 6 && tail.bad == 0);
	struct ledger_seen past = { .first = 301 };
	CHECK_INT_EQ(store_ledger_iterate(txn, 301, 0, ledger_cb, &past), 0);
	CHECK(past.calls == 0);
	struct ledger_seen stop = { .first = 1, .stop_at = 3 };
	CHECK_INT_EQ(store_ledger_iterate(txn, 1, 0, ledger_cb, &stop), 42);
	CHECK(stop.calls == 3);
	CHECK_INT_EQ(store_ledger_iterate(txn, 0, 0, ledger_cb, &stop), SL_EINVAL);
	store_txn_abort(txn);

	REQUIRE(store_txn_begin(f.st, true, &txn) == 0);
	CHECK_INT_EQ(store_ledger_append(txn, (const uint8_t *)"", 0, NULL), SL_EINVAL);
	CHECK_INT_EQ(store_ledger_append(txn, NULL, 3, NULL), SL_EINVAL);
	CHECK_INT_EQ(store_ledger_append(txn, (const uint8_t *)"x", 1, NULL), 0); /* still usable */
	CHECK_INT_EQ(store_txn_commit(txn), 0);
	REQUIRE(store_txn_begin(f.st, false, &txn) == 0);
	CHECK_INT_EQ(store_ledger_count(txn, &count), 0);
	CHECK_INT_EQ(count, 301);
	store_txn_abort(txn);
	fixture_close(&f);
}

static void test_store_ids(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f, NULL) == 0);
	uint8_t id1[32], id2[32];
	memset(id1, 0x11, sizeof(id1));
	memset(id2, 0x11, sizeof(id2));
	id2[31] = 0x12;
	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, true, &txn) == 0);
	CHECK_INT_EQ(store_id_put(txn, id1, 7), 0);
	CHECK_INT_EQ(store_id_put(txn, id1, 8), SL_EEXIST);
	CHECK_INT_EQ(store_id_put(txn, id2, 0), SL_EINVAL);
	uint64_t seq = 0;
	CHECK_INT_EQ(store_id_get(txn, id2, &seq), SL_ENOENT);
	CHECK_INT_EQ(store_txn_commit(txn), 0); /* EEXIST and ENOENT leave the txn usable */
	CHECK(!store_is_poisoned(f.st));
	REQUIRE(fixture_reopen(&f, NULL) == 0);
	REQUIRE(store_txn_begin(f.st, true, &txn) == 0);
	CHECK_INT_EQ(store_id_get(txn, id1, &seq), 0);
	CHECK_INT_EQ(seq, 7);
	CHECK_INT_EQ(store_id_put(txn, id1, 9), SL_EEXIST);
	store_txn_abort(txn);
	fixture_close(&f);
}

/* ---- items, children, history, locks ---- */

static void test_store_items(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f, NULL) == 0);
	struct store_item in, out;
	fill_item(&in, 2);
	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, true, &txn) == 0);
	CHECK_INT_EQ(store_item_get(txn, "ITEM-1", &out), SL_ENOENT);
	CHECK_INT_EQ(store_item_put(txn, "ITEM-1", &in), 0);
	struct store_item bad = in;
	memset(bad.lot, 'L', sizeof(bad.lot)); /* no NUL */
	CHECK_INT_EQ(store_item_put(txn, "ITEM-2", &bad), SL_EINVAL);
	CHECK_INT_EQ(store_txn_commit(txn), 0);

	/* On disk: the struct's bytes with padding and everything after each string's NUL zeroed. */
	store_close(f.st);
	f.st = NULL;
	uint8_t raw[512];
	REQUIRE(raw_get(f.dir, "items", "ITEM-1", 6, raw, sizeof(raw)) == (long)sizeof(struct store_item));
	size_t lot_end = offsetof(struct store_item, lot) + strlen("LOT-7");
	for (size_t i = lot_end; i < offsetof(struct store_item, lot) + sizeof(in.lot); i++)
		CHECK(raw[i] == 0);
	for (size_t i = offsetof(struct store_item, expiry) + sizeof(in.expiry); i < sizeof(struct store_item); i++)
		CHECK(raw[i] == 0); /* tail padding */
	CHECK(memcmp(raw + offsetof(struct store_item, lot), "LOT-7", 6) == 0);

	REQUIRE(store_open(&f.st, f.dir, NULL) == 0);
	REQUIRE(store_txn_begin(f.st, true, &txn) == 0);
	memset(&out, 0xff, sizeof(out));
	CHECK_INT_EQ(store_item_get(txn, "ITEM-1", &out), 0);
	CHECK(out.kind == 1 && out.status == 2 && out.reason == 3 && out.flags == 0x81);
	CHECK(out.child_count == 70000 && out.status_time_ms == 1700000000123ULL);
	CHECK(out.commission_seq == 12 && out.status_seq == 40);
	CHECK_STR_EQ(out.site, "SITE-A");
	CHECK_STR_EQ(out.destination, "SITE-B");
	CHECK_STR_EQ(out.status_site, "SITE-A");
	CHECK_STR_EQ(out.parent, "00095060001343500001");
	CHECK_STR_EQ(out.gtin, "09506000134352");
	CHECK_STR_EQ(out.lot, "LOT-7");
	CHECK_STR_EQ(out.expiry, "271231");
	CHECK(out.site[sizeof(out.site) - 1] == 0 && out.lot[10] == 0); /* bytes after the NUL zeroed */
	CHECK_INT_EQ(store_item_get(txn, "ITEM-2", &out), SL_ENOENT);
	fill_item(&in, 5);
	strcpy(in.parent, "");
	CHECK_INT_EQ(store_item_put(txn, "ITEM-1", &in), 0);
	CHECK_INT_EQ(store_item_get(txn, "ITEM-1", &out), 0);
	CHECK(out.status == 5);
	CHECK_STR_EQ(out.parent, "");
	CHECK_INT_EQ(store_txn_commit(txn), 0);
	fixture_close(&f);
}

struct children_seen {
	char names[8][16];
	int calls;
	int stop_after;
	int bad;
};

static int children_cb(void *ctx, const char *child, size_t len)
{
	struct children_seen *seen = ctx;
	if (strlen(child) != len || len >= 16 || seen->calls >= 8)
		seen->bad++;
	else
		memcpy(seen->names[seen->calls], child, len + 1);
	seen->calls++;
	return seen->calls == seen->stop_after ? 7 : 0;
}

static void test_store_children(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f, NULL) == 0);
	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, true, &txn) == 0);
	CHECK_INT_EQ(store_child_add(txn, "P", "C2"), 0);
	CHECK_INT_EQ(store_child_add(txn, "P", "C1"), 0);
	CHECK_INT_EQ(store_child_add(txn, "P", "C3"), 0);
	CHECK_INT_EQ(store_child_add(txn, "Q", "C9"), 0);
	CHECK_INT_EQ(store_child_add(txn, "P", "C1"), SL_EEXIST);
	CHECK_INT_EQ(store_txn_commit(txn), 0);

	REQUIRE(store_txn_begin(f.st, true, &txn) == 0);
	struct children_seen seen = { .calls = 0 };
	CHECK_INT_EQ(store_children_iterate(txn, "P", children_cb, &seen), 0);
	CHECK(seen.calls == 3 && seen.bad == 0);
	CHECK_STR_EQ(seen.names[0], "C1");
	CHECK_STR_EQ(seen.names[1], "C2");
	CHECK_STR_EQ(seen.names[2], "C3");
	CHECK_INT_EQ(store_child_del(txn, "P", "C2"), 0);
	CHECK_INT_EQ(store_child_del(txn, "P", "C2"), SL_ENOENT);
	CHECK_INT_EQ(store_child_del(txn, "NOPE", "C2"), SL_ENOENT);
	struct children_seen after = { .calls = 0 };
	CHECK_INT_EQ(store_children_iterate(txn, "P", children_cb, &after), 0);
	CHECK(after.calls == 2);
	CHECK_STR_EQ(after.names[0], "C1");
	CHECK_STR_EQ(after.names[1], "C3");
	struct children_seen none = { .calls = 0 };
	CHECK_INT_EQ(store_children_iterate(txn, "NOPE", children_cb, &none), 0);
	CHECK(none.calls == 0);
	struct children_seen stop = { .stop_after = 1 };
	CHECK_INT_EQ(store_children_iterate(txn, "P", children_cb, &stop), 7);
	CHECK(stop.calls == 1);
	CHECK_INT_EQ(store_txn_commit(txn), 0);
	fixture_close(&f);
}

struct history_seen {
	uint64_t seqs[8];
	int calls;
};

static int history_cb(void *ctx, uint64_t seq)
{
	struct history_seen *seen = ctx;
	if (seen->calls < 8)
		seen->seqs[seen->calls] = seq;
	seen->calls++;
	return 0;
}

static void test_store_history(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f, NULL) == 0);
	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, true, &txn) == 0);
	const uint64_t added[] = { 300, 5, 256, 1, 65536 };
	for (size_t i = 0; i < sizeof(added) / sizeof(added[0]); i++)
		CHECK_INT_EQ(store_history_add(txn, "I", added[i]), 0);
	CHECK_INT_EQ(store_history_add(txn, "J", 2), 0);
	CHECK_INT_EQ(store_history_add(txn, "I", 5), SL_EEXIST);
	CHECK_INT_EQ(store_history_add(txn, "I", 0), SL_EINVAL);
	CHECK_INT_EQ(store_txn_commit(txn), 0);
	REQUIRE(store_txn_begin(f.st, false, &txn) == 0);
	struct history_seen seen = { .calls = 0 };
	CHECK_INT_EQ(store_history_iterate(txn, "I", history_cb, &seen), 0);
	CHECK_INT_EQ(seen.calls, 5);
	const uint64_t expected[] = { 1, 5, 256, 300, 65536 }; /* integer order */
	for (int i = 0; i < 5; i++)
		CHECK_INT_EQ(seen.seqs[i], expected[i]);
	struct history_seen other = { .calls = 0 };
	CHECK_INT_EQ(store_history_iterate(txn, "J", history_cb, &other), 0);
	CHECK(other.calls == 1 && other.seqs[0] == 2);
	store_txn_abort(txn);
	fixture_close(&f);
}

static void test_store_locks(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f, NULL) == 0);
	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, true, &txn) == 0);
	struct store_lock in, out;
	memset(&in, 0x77, sizeof(in));
	in.reasons = 0x03;
	in.scope = 1;
	in.seq = 9;
	strcpy(in.site, "S1");
	CHECK_INT_EQ(store_lock_get(txn, "LOT-7", &out), SL_ENOENT);
	CHECK_INT_EQ(store_lock_put(txn, "LOT-7", &in), 0);
	CHECK_INT_EQ(store_txn_commit(txn), 0);
	REQUIRE(store_txn_begin(f.st, true, &txn) == 0);
	CHECK_INT_EQ(store_lock_get(txn, "LOT-7", &out), 0);
	CHECK(out.reasons == 0x03 && out.scope == 1 && out.seq == 9);
	CHECK_STR_EQ(out.site, "S1");
	memset(in.site, 'x', sizeof(in.site));
	CHECK_INT_EQ(store_lock_put(txn, "LOT-8", &in), SL_EINVAL);
	CHECK_INT_EQ(store_lock_del(txn, "LOT-7"), 0);
	CHECK_INT_EQ(store_lock_get(txn, "LOT-7", &out), SL_ENOENT);
	CHECK_INT_EQ(store_lock_del(txn, "LOT-7"), SL_ENOENT);
	CHECK_INT_EQ(store_txn_commit(txn), 0);
	fixture_close(&f);
}

/* ---- lots, registry, meta ---- */

struct lots_seen {
	char sites[4][STORE_SITE_SIZE];
	uint64_t slot0[4];
	int calls;
};

static int lots_cb(void *ctx, const char *site, const struct store_lot_counters *counters)
{
	struct lots_seen *seen = ctx;
	if (seen->calls < 4) {
		snprintf(seen->sites[seen->calls], STORE_SITE_SIZE, "%s", site);
		seen->slot0[seen->calls] = counters->counts[0];
	}
	seen->calls++;
	return 0;
}

static void test_store_lots(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f, NULL) == 0);
	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, true, &txn) == 0);
	CHECK_INT_EQ(store_lot_add(txn, "L1", "S2", 0, 5), 0);
	CHECK_INT_EQ(store_lot_add(txn, "L1", "S2", 3, 2), 0);
	CHECK_INT_EQ(store_lot_add(txn, "L1", "S2", 0, -3), 0);
	CHECK_INT_EQ(store_lot_add(txn, "L1", "S1", 0, 11), 0);
	CHECK_INT_EQ(store_lot_add(txn, "L10", "S1", 0, 100), 0); /* another lot sharing a prefix */
	CHECK_INT_EQ(store_lot_add(txn, "L", "S3", 0, 1000), 0);
	CHECK_INT_EQ(store_lot_add(txn, "L1", "S2", 0, -3), SL_ECORRUPT); /* 2 - 3 */
	CHECK_INT_EQ(store_lot_add(txn, "L1", "S9", 1, INT64_MIN), SL_ECORRUPT);
	CHECK_INT_EQ(store_lot_add(txn, "L1", "S2", STORE_LOT_COUNTERS, 1), SL_EINVAL);
	CHECK_INT_EQ(store_lot_add(txn, "L1", "", 0, 1), SL_EINVAL);
	CHECK_INT_EQ(store_lot_add(txn, "L1", "S4", 5, INT64_MAX), 0);
	CHECK_INT_EQ(store_lot_add(txn, "L1", "S4", 5, INT64_MAX), 0);
	CHECK_INT_EQ(store_lot_add(txn, "L1", "S4", 5, 2), SL_ELIMIT); /* 2^64 - 2 + 2 */
	CHECK_INT_EQ(store_txn_commit(txn), 0); /* underflow refusals leave the txn usable */

	REQUIRE(store_txn_begin(f.st, false, &txn) == 0);
	struct store_lot_counters counters;
	CHECK_INT_EQ(store_lot_get(txn, "L1", "S2", &counters), 0);
	CHECK(counters.counts[0] == 2 && counters.counts[3] == 2 && counters.counts[1] == 0);
	CHECK_INT_EQ(store_lot_get(txn, "L1", "S4", &counters), 0);
	CHECK(counters.counts[5] == UINT64_MAX - 1);
	CHECK_INT_EQ(store_lot_get(txn, "L1", "S9", &counters), SL_ENOENT);
	CHECK(counters.counts[1] == 0);
	struct lots_seen seen = { .calls = 0 };
	CHECK_INT_EQ(store_lot_iterate(txn, "L1", lots_cb, &seen), 0);
	CHECK_INT_EQ(seen.calls, 3);
	CHECK_STR_EQ(seen.sites[0], "S1");
	CHECK_STR_EQ(seen.sites[1], "S2");
	CHECK_STR_EQ(seen.sites[2], "S4");
	CHECK(seen.slot0[0] == 11 && seen.slot0[1] == 2 && seen.slot0[2] == 0);
	struct lots_seen none = { .calls = 0 };
	CHECK_INT_EQ(store_lot_iterate(txn, "L2", lots_cb, &none), 0);
	CHECK(none.calls == 0);
	store_txn_abort(txn);
	fixture_close(&f);
}

struct sites_seen {
	char sites[4][STORE_SITE_SIZE];
	uint8_t first_key_byte[4];
	int calls;
};

static int sites_cb(void *ctx, const char *site, const struct store_site *value)
{
	struct sites_seen *seen = ctx;
	if (seen->calls < 4) {
		snprintf(seen->sites[seen->calls], STORE_SITE_SIZE, "%s", site);
		seen->first_key_byte[seen->calls] = value->public_key[0];
	}
	seen->calls++;
	return 0;
}

static void test_store_registry(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f, NULL) == 0);
	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, true, &txn) == 0);
	const char *names[] = { "S2", "S1", "S3" };
	for (int i = 0; i < 3; i++) {
		struct store_site site = { .active = 1 };
		memset(site.public_key, names[i][1], sizeof(site.public_key));
		memset(site.key_id, 0xc0 + i, sizeof(site.key_id));
		CHECK_INT_EQ(store_site_put(txn, names[i], &site), 0);
	}
	struct store_site site = { 0 };
	char long_site[STORE_SITE_SIZE + 1];
	memset(long_site, 's', STORE_SITE_SIZE);
	long_site[STORE_SITE_SIZE] = '\0';
	CHECK_INT_EQ(store_site_put(txn, long_site, &site), SL_EINVAL);
	long_site[STORE_SITE_SIZE - 1] = '\0'; /* 32 characters: the maximum */
	CHECK_INT_EQ(store_site_put(txn, long_site, &site), 0);

	uint8_t key_id[16];
	memset(key_id, 0x42, sizeof(key_id));
	struct store_key key = { .revoked = 1 };
	memset(key.public_key, 0x99, sizeof(key.public_key));
	strcpy(key.site, "S1");
	CHECK_INT_EQ(store_key_put(txn, key_id, &key), 0);
	memset(key.site, 'z', sizeof(key.site));
	CHECK_INT_EQ(store_key_put(txn, key_id, &key), SL_EINVAL);
	CHECK_INT_EQ(store_txn_commit(txn), 0);

	REQUIRE(store_txn_begin(f.st, false, &txn) == 0);
	CHECK_INT_EQ(store_site_get(txn, "S2", &site), 0);
	CHECK(site.active == 1 && site.public_key[31] == '2' && site.key_id[0] == 0xc0);
	CHECK_INT_EQ(store_site_get(txn, "S4", &site), SL_ENOENT);
	struct sites_seen seen = { .calls = 0 };
	CHECK_INT_EQ(store_site_iterate(txn, sites_cb, &seen), 0);
	CHECK_INT_EQ(seen.calls, 4);
	CHECK_STR_EQ(seen.sites[0], "S1");
	CHECK_STR_EQ(seen.sites[1], "S2");
	CHECK_STR_EQ(seen.sites[2], "S3");
	CHECK_STR_EQ(seen.sites[3], long_site); /* 's' sorts after 'S' */
	CHECK(seen.first_key_byte[0] == '1' && seen.first_key_byte[2] == '3');
	struct store_key got;
	CHECK_INT_EQ(store_key_get(txn, key_id, &got), 0);
	CHECK(got.revoked == 1 && got.public_key[0] == 0x99);
	CHECK_STR_EQ(got.site, "S1");
	key_id[0] = 0;
	CHECK_INT_EQ(store_key_get(txn, key_id, &got), SL_ENOENT);
	store_txn_abort(txn);
	fixture_close(&f);
}

static void test_store_meta(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f, NULL) == 0);
	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, true, &txn) == 0);
	const void *value;
	size_t len;
	CHECK_INT_EQ(store_meta_get(txn, "schema", &value, &len), 0);
	CHECK(len == 4 && memcmp(value, "\x01\x00\x00\x00", 4) == 0);
	CHECK_INT_EQ(store_meta_get(txn, "missing", &value, &len), SL_ENOENT);
	static uint8_t big[STORE_META_VALUE_BYTES_MAX + 1];
	memset(big, 0xee, sizeof(big));
	CHECK_INT_EQ(store_meta_put(txn, "big", big, sizeof(big)), SL_ELIMIT);
	CHECK_INT_EQ(store_meta_put(txn, "big", big, STORE_META_VALUE_BYTES_MAX), 0);
	CHECK_INT_EQ(store_meta_put(txn, "empty", NULL, 0), 0);
	CHECK_INT_EQ(store_meta_put(txn, "site", "S1", 2), 0);
	CHECK_INT_EQ(store_meta_put(txn, "site", "S22", 3), 0);
	CHECK_INT_EQ(store_txn_commit(txn), 0);
	REQUIRE(store_txn_begin(f.st, false, &txn) == 0);
	CHECK_INT_EQ(store_meta_get(txn, "big", &value, &len), 0);
	CHECK(len == STORE_META_VALUE_BYTES_MAX && memcmp(value, big, len) == 0);
	CHECK_INT_EQ(store_meta_get(txn, "empty", &value, &len), 0);
	CHECK_INT_EQ(len, 0);
	CHECK_INT_EQ(store_meta_get(txn, "site", &value, &len), 0);
	CHECK(len == 3 && memcmp(value, "S22", 3) == 0);
	store_txn_abort(txn);
	fixture_close(&f);
}

/* ---- corrupt values, key limits ---- */

static void test_store_corrupt_values(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f, NULL) == 0);
	CHECK_INT_EQ(append_entries(f.st, 1, 3), 0);
	store_close(f.st);
	f.st = NULL;
	uint8_t garbage[256];
	memset(garbage, 'A', sizeof(garbage));
	uint8_t id[32] = { 1 }, key_id[16] = { 2 };
	size_t gap_seq = 5;
	CHECK_INT_EQ(raw_put(f.dir, "items", 0, "SHORT", 5, garbage, 3), 0);
	CHECK_INT_EQ(raw_put(f.dir, "items", 0, "UNTERM", 6, garbage, sizeof(struct store_item)), 0);
	CHECK_INT_EQ(raw_put(f.dir, "locks", 0, "L", 1, garbage, 10), 0);
	CHECK_INT_EQ(raw_put(f.dir, "lots", 0, "LOT\0S1", 6, garbage, 5), 0);
	CHECK_INT_EQ(raw_put(f.dir, "ids", 0, id, sizeof(id), garbage, 4), 0);
	CHECK_INT_EQ(raw_put(f.dir, "sites", 0, "S1", 2, garbage, 3), 0);
	CHECK_INT_EQ(raw_put(f.dir, "keys", 0, key_id, sizeof(key_id), garbage, sizeof(struct store_key)), 0);
	CHECK_INT_EQ(raw_put(f.dir, "children", MDB_DUPSORT, "P", 1, "a\0b", 3), 0);
	CHECK_INT_EQ(raw_put(f.dir, "history", MDB_DUPSORT | MDB_DUPFIXED | MDB_INTEGERDUP, "H", 1, garbage, 4), 0);
	CHECK_INT_EQ(raw_put(f.dir, "ledger", MDB_INTEGERKEY, &gap_seq, sizeof(gap_seq), "entry-5", 7), 0);

	REQUIRE(store_open(&f.st, f.dir, NULL) == 0);
	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, false, &txn) == 0);
	struct store_item item;
	memset(&item, 0x33, sizeof(item));
	CHECK_INT_EQ(store_item_get(txn, "SHORT", &item), SL_ECORRUPT);
	CHECK_INT_EQ(store_item_get(txn, "UNTERM", &item), SL_ECORRUPT);
	CHECK(item.kind == 0x33); /* untouched on failure */
	struct store_lock lock;
	CHECK_INT_EQ(store_lock_get(txn, "L", &lock), SL_ECORRUPT);
	struct store_lot_counters counters;
	CHECK_INT_EQ(store_lot_get(txn, "LOT", "S1", &counters), SL_ECORRUPT);
	struct lots_seen lots = { .calls = 0 };
	CHECK_INT_EQ(store_lot_iterate(txn, "LOT", lots_cb, &lots), SL_ECORRUPT);
	CHECK(lots.calls == 0);
	uint64_t seq;
	CHECK_INT_EQ(store_id_get(txn, id, &seq), SL_ECORRUPT);
	struct store_site site;
	CHECK_INT_EQ(store_site_get(txn, "S1", &site), SL_ECORRUPT);
	struct sites_seen sites = { .calls = 0 };
	CHECK_INT_EQ(store_site_iterate(txn, sites_cb, &sites), SL_ECORRUPT);
	struct store_key key;
	CHECK_INT_EQ(store_key_get(txn, key_id, &key), SL_ECORRUPT);
	struct children_seen children = { .calls = 0 };
	CHECK_INT_EQ(store_children_iterate(txn, "P", children_cb, &children), SL_ECORRUPT);
	CHECK(children.calls == 0);
	struct history_seen history = { .calls = 0 };
	CHECK_INT_EQ(store_history_iterate(txn, "H", history_cb, &history), SL_ECORRUPT);
	struct ledger_seen ledger = { .first = 1 };
	CHECK_INT_EQ(store_ledger_iterate(txn, 1, 0, ledger_cb, &ledger), SL_ECORRUPT); /* gap 3 → 5 */
	CHECK(ledger.calls == 3);
	store_txn_abort(txn);
	CHECK(!store_is_poisoned(f.st));
	fixture_close(&f);
}

static void test_store_key_limits(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f, NULL) == 0);
	char key[513];
	memset(key, 'k', 512);
	key[512] = '\0'; /* 512 bytes: one over LMDB's 511 */
	struct store_item item, out;
	fill_item(&item, 1);
	struct store_lock lock = { .seq = 1 };
	struct history_seen seen = { .calls = 0 };
	store_txn *txn;
	REQUIRE(store_txn_begin(f.st, true, &txn) == 0);
	CHECK_INT_EQ(store_item_put(txn, key, &item), SL_EINVAL);
	CHECK(strstr(store_last_error(f.st), "items") != NULL);
	CHECK_INT_EQ(store_item_put(txn, "", &item), SL_EINVAL);
	CHECK_INT_EQ(store_item_put(txn, NULL, &item), SL_EINVAL);
	CHECK_INT_EQ(store_item_get(txn, key, &out), SL_EINVAL);
	CHECK_INT_EQ(store_meta_put(txn, key, "v", 1), SL_EINVAL);
	CHECK_INT_EQ(store_lock_put(txn, key, &lock), SL_EINVAL);
	CHECK_INT_EQ(store_history_add(txn, key, 1), SL_EINVAL);
	CHECK_INT_EQ(store_history_iterate(txn, key, history_cb, &seen), SL_EINVAL);
	CHECK_INT_EQ(store_child_add(txn, "P", key), SL_EINVAL);
	CHECK_INT_EQ(store_lot_add(txn, key, "S1", 0, 1), SL_EINVAL);
	key[511] = '\0'; /* 511 bytes: the maximum */
	CHECK_INT_EQ(store_item_put(txn, key, &item), 0);
	CHECK_INT_EQ(store_child_add(txn, "P", key), 0);
	CHECK_INT_EQ(store_item_get(txn, key, &out), 0);
	CHECK_STR_EQ(out.lot, "LOT-7");
	CHECK_INT_EQ(store_txn_commit(txn), 0); /* EINVAL refusals leave the txn usable */
	CHECK(!store_is_poisoned(f.st));
	fixture_close(&f);
}

static const struct test_case cases[] = {
	TEST_CASE(test_store_ledger),
	TEST_CASE(test_store_ids),
	TEST_CASE(test_store_items),
	TEST_CASE(test_store_children),
	TEST_CASE(test_store_history),
	TEST_CASE(test_store_locks),
	TEST_CASE(test_store_lots),
	TEST_CASE(test_store_registry),
	TEST_CASE(test_store_meta),
	TEST_CASE(test_store_corrupt_values),
	TEST_CASE(test_store_key_limits),
};

TEST_MAIN(cases)
