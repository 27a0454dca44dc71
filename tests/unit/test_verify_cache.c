/* tests/unit/test_verify_cache.c — crypto/verify_cache.h and its use by apply (D15): a job added
 * is taken once, any change of key, domain, message or signature misses, a full table overwrites;
 * ledger_prepared_remember keeps exactly the signatures prepare verified, and
 * ledger_apply_batch_txn_known takes a signature from the cache instead of verifying it (shown
 * with an entry no verification could have produced) while giving the same outcomes otherwise.
 */
#include "tests/unit/test.h"

#include "crypto/verify_cache.h"
#include "ledger/apply.h"
#include "ledger/lifecycle.h"
#include "ledger/reason.h"
#include "ledger/record.h"
#include "util/error.h"

#define T0_MS 1750000000000ull

static struct crypto_public_key pk;
static struct crypto_secret_key sk;

static int keys_once(void)
{
	static bool made;
	if (!made && (crypto_init() != 0 || crypto_keypair_generate(&pk, &sk) != 0))
		return -1;
	made = true;
	return 0;
}

static struct crypto_verify_job job_of(const struct crypto_public_key *key, const char *domain, const char *message,
				       const uint8_t *signature)
{
	return (struct crypto_verify_job){ key, domain, (const uint8_t *)message, strlen(message), signature };
}

static void test_cache_take_once_and_exact(void)
{
	REQUIRE(keys_once() == 0);
	crypto_verify_cache *c = NULL;
	CHECK_INT_EQ(crypto_verify_cache_create(0, &c), SL_EINVAL);
	CHECK_INT_EQ(crypto_verify_cache_create(CRYPTO_VERIFY_CACHE_ENTRIES_MAX + 1u, &c), SL_EINVAL);
	REQUIRE(crypto_verify_cache_create(64, &c) == 0);
	uint8_t sig[CRYPTO_SIGNATURE_BYTES], other_sig[CRYPTO_SIGNATURE_BYTES];
	REQUIRE(crypto_sign(&sk, "test/v1", (const uint8_t *)"hello", 5, sig) == 0);
	memcpy(other_sig, sig, sizeof sig);
	other_sig[0] ^= 1;
	struct crypto_public_key other_pk;
	struct crypto_secret_key other_sk;
	REQUIRE(crypto_keypair_generate(&other_pk, &other_sk) == 0);
	struct crypto_verify_job job = job_of(&pk, "test/v1", "hello", sig);
	CHECK(!crypto_verify_cache_take(c, &job));
	crypto_verify_cache_add(c, &job);
	struct crypto_verify_job changed[4] = { job_of(&other_pk, "test/v1", "hello", sig),
						job_of(&pk, "test/v2", "hello", sig),
						job_of(&pk, "test/v1", "hellO", sig),
						job_of(&pk, "test/v1", "hello", other_sig) };
	for (size_t i = 0; i < 4; i++)
		CHECK(!crypto_verify_cache_take(c, &changed[i]));
	CHECK(crypto_verify_cache_take(c, &job));
	CHECK(!crypto_verify_cache_take(c, &job)); /* taken once */
	crypto_verify_cache_destroy(c);
	/* one slot: a second add overwrites the first, which then simply misses */
	REQUIRE(crypto_verify_cache_create(1, &c) == 0);
	crypto_verify_cache_add(c, &job);
	crypto_verify_cache_add(c, &changed[0]);
	CHECK(!crypto_verify_cache_take(c, &job));
	CHECK(crypto_verify_cache_take(c, &changed[0]));
	crypto_verify_cache_destroy(c);
	crypto_verify_cache_destroy(NULL);
	crypto_secret_key_wipe(&other_sk);
}

/* A commission of `serial` by site-1, signed; `tamper` flips a bit of the signature. */
static int make_record(const char *serial, bool tamper, struct sl_buf *out)
{
	struct record r;
	record_init(&r);
	r.type = RECORD_COMMISSION;
	r.site = SL_STR("site-1");
	r.actor = SL_STR("qa");
	r.meaning = MEANING_AUTHORED;
	r.event_time_ms = (int64_t)T0_MS;
	r.gtin = SL_STR("09506000134352");
	r.lot = SL_STR("L1");
	r.expiry = SL_STR("281231");
	struct sl_str items[1] = { sl_str_from_cstr(serial) };
	r.items = items;
	r.item_count = 1;
	sl_buf_init(out, 2 * RECORD_BYTES_MAX);
	int rc = record_sign(&r, &sk);
	if (rc == 0 && tamper)
		r.signature[10] ^= 0x40;
	return rc == 0 ? record_encode(&r, out) : rc;
}

struct apply_world {
	char dir[PATH_MAX];
	store *st;
	struct sl_buf good, bad, fresh;
	struct ledger_input in[3];
};

static int world_open(struct apply_world *w)
{
	memset(w, 0, sizeof *w);
	struct store_options options = { .map_bytes = 64ull << 20, .no_sync = true };
	if (keys_once() != 0 || test_tmpdir(w->dir) != 0 || store_open(&w->st, w->dir, &options) != 0)
		return -1;
	store_txn *txn;
	int rc = store_txn_begin(w->st, true, &txn);
	if (rc == 0)
		rc = ledger_registry_add_site(txn, "site-1", &pk);
	rc = rc == 0 ? store_txn_commit(txn) : (store_txn_abort(txn), rc);
	if (rc == 0)
		rc = make_record("G1", false, &w->good);
	if (rc == 0)
		rc = make_record("B1", true, &w->bad);
	if (rc == 0)
		rc = make_record("F1", false, &w->fresh);
	w->in[0] = (struct ledger_input){ w->good.data, w->good.len };
	w->in[1] = (struct ledger_input){ w->bad.data, w->bad.len };
	w->in[2] = (struct ledger_input){ w->fresh.data, w->fresh.len };
	return rc;
}

static void world_close(struct apply_world *w)
{
	store_close(w->st);
	sl_buf_free(&w->good);
	sl_buf_free(&w->bad);
	sl_buf_free(&w->fresh);
	test_rmtree(w->dir);
}

static int apply_known(struct apply_world *w, const struct ledger_input *in, size_t count,
		       crypto_verify_cache *known, struct ledger_result *results)
{
	store_txn *txn;
	int rc = store_txn_begin(w->st, true, &txn);
	if (rc == 0)
		rc = ledger_apply_batch_txn_known(txn, in, count, T0_MS, results, 1, known);
	return rc == 0 ? store_txn_commit(txn) : (store_txn_abort(txn), rc);
}

static void test_apply_takes_prepared_signatures(void)
{
	struct apply_world w;
	REQUIRE(world_open(&w) == 0);
	crypto_verify_cache *known = NULL;
	REQUIRE(crypto_verify_cache_create(1024, &known) == 0);
	ledger_prepared *p = NULL;
	REQUIRE(ledger_prepare(w.st, w.in, 2, 1, &p) == 0);
	const struct record *r = NULL;
	CHECK_INT_EQ(ledger_prepared_check(p, 0, &r), 0);
	CHECK(r != NULL && sl_str_eq_cstr(r->site, "site-1"));
	CHECK_INT_EQ(ledger_prepared_check(p, 1, &r), SL_EBADSIG);
	ledger_prepared_remember(p, known); /* the good one only */
	ledger_prepared_free(p);
	struct ledger_result res[2];
	CHECK_INT_EQ(apply_known(&w, w.in, 2, known, res), 0);
	CHECK_INT_EQ(res[0].outcome, OUTCOME_ACCEPTED);
	CHECK_INT_EQ(res[1].outcome, OUTCOME_BAD_SIGNATURE); /* not in the cache: verified, and fails */
	/* the cache entry was taken by apply */
	struct sl_buf unsigned_bytes;
	sl_buf_init(&unsigned_bytes, RECORD_BYTES_MAX);
	REQUIRE(record_unsigned_from_bytes(w.good.data, w.good.len, &unsigned_bytes) == 0);
	struct record decoded;
	REQUIRE(record_decode(w.good.data, w.good.len, &decoded, NULL) == 0);
	struct crypto_verify_job job = { &pk, RECORD_SIGN_DOMAIN, unsigned_bytes.data, unsigned_bytes.len,
					 decoded.signature };
	CHECK(!crypto_verify_cache_take(known, &job));
	record_clear(&decoded);
	sl_buf_free(&unsigned_bytes);
	crypto_verify_cache_destroy(known);
	world_close(&w);
}

/* An entry no verification could have made (rule 2 broken on purpose): apply believes it, which
 * shows the signature came from the cache (without an entry that record is BAD_SIGNATURE: the
 * test above). */
static void test_apply_skips_cached_verification(void)
{
	struct apply_world w;
	REQUIRE(world_open(&w) == 0);
	crypto_verify_cache *known = NULL;
	REQUIRE(crypto_verify_cache_create(1024, &known) == 0);
	struct sl_buf unsigned_bytes;
	sl_buf_init(&unsigned_bytes, RECORD_BYTES_MAX);
	REQUIRE(record_unsigned_from_bytes(w.bad.data, w.bad.len, &unsigned_bytes) == 0);
	struct record decoded;
	REQUIRE(record_decode(w.bad.data, w.bad.len, &decoded, NULL) == 0);
	struct crypto_verify_job job = { &pk, RECORD_SIGN_DOMAIN, unsigned_bytes.data, unsigned_bytes.len,
					 decoded.signature };
	crypto_verify_cache_add(known, &job);
	struct ledger_result res[2];
	CHECK_INT_EQ(apply_known(&w, &w.in[1], 1, known, res), 0);
	CHECK_INT_EQ(res[0].outcome, OUTCOME_ACCEPTED);
	CHECK_INT_EQ(apply_known(&w, &w.in[2], 1, NULL, res), 0); /* no cache: as ledger_apply_batch_txn */
	CHECK_INT_EQ(res[0].outcome, OUTCOME_ACCEPTED);
	record_clear(&decoded);
	sl_buf_free(&unsigned_bytes);
	crypto_verify_cache_destroy(known);
	world_close(&w);
}

static const struct test_case cases[] = {
	TEST_CASE(test_cache_take_once_and_exact),
	TEST_CASE(test_apply_takes_prepared_signatures),
	TEST_CASE(test_apply_skips_cached_verification),
};

TEST_MAIN(cases)
