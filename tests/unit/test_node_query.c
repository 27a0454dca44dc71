/* tests/unit/test_node_query.c — reads through a node: the wire form of queries, cursors and chunks
 * (node/proto.h: strict decoding, bounds), query parameters as the node takes them
 * (query/query.h), and the export in steps giving the same bundle as in one go. */
#include "tests/unit/apply_fixture.h"

#include <sodium.h>

#include "ledger/codec.h"
#include "node/proto.h"
#include "query/bundle.h"
#include "query/query.h"

static struct proto_request req; /* large: not on the stack */
static struct proto_response resp, back;

static void key_make(struct crypto_secret_key *sk, uint8_t fill)
{
	struct crypto_public_key pk;
	uint8_t seed[32];
	memset(seed, fill, sizeof seed);
	REQUIRE(crypto_init() == 0);
	crypto_sign_seed_keypair(pk.bytes, sk->bytes, seed);
}

static struct proto_query query_sample(void)
{
	struct proto_query q;
	memset(&q, 0, sizeof q);
	q.kind = QUERY_RECONCILE;
	q.linearizable = true;
	q.option_count = 2;
	q.names[0] = SL_STR("lot");
	q.values[0] = SL_STR("09506000134352/L1");
	q.names[1] = SL_STR("json");
	q.values[1] = SL_STR("");
	return q;
}

static void test_query_request_round_trip(void)
{
	struct crypto_secret_key sk;
	key_make(&sk, 4);
	struct proto_query q = query_sample();
	q.kind = QUERY_LOT;
	q.arg_count = 2;
	q.args[0] = SL_STR("09506000134352");
	q.args[1] = SL_STR("L1");
	struct sl_buf out;
	sl_buf_init(&out, PROTO_REQUEST_BYTES_MAX);
	REQUIRE(proto_request_encode_read(PROTO_QUERY, &q, NULL, &sk, &out) == 0);
	REQUIRE(proto_request_decode(out.data, out.len, &req, NULL) == 0);
	CHECK_INT_EQ(req.type, PROTO_QUERY);
	CHECK(req.has_query && !req.has_cursor);
	CHECK_INT_EQ(req.query.kind, QUERY_LOT);
	CHECK(req.query.linearizable);
	REQUIRE(req.query.option_count == 2 && req.query.arg_count == 2);
	CHECK(sl_str_eq_cstr(req.query.names[0], "lot") && sl_str_eq_cstr(req.query.values[0], "09506000134352/L1"));
	CHECK(sl_str_eq_cstr(req.query.names[1], "json") && req.query.values[1].len == 0);
	CHECK(sl_str_eq_cstr(req.query.args[1], "L1"));
	for (size_t cut = 0; cut < out.len; cut++)
		CHECK(proto_request_decode(out.data, cut, &req, NULL) != 0);
	REQUIRE(sl_buf_append(&out, "\0", 1) == 0);
	CHECK_INT_EQ(proto_request_decode(out.data, out.len, &req, NULL), SL_ETRAILING);
	sl_buf_free(&out);
}

static void test_cursor_request_round_trip(void)
{
	struct crypto_secret_key sk;
	key_make(&sk, 5);
	struct proto_cursor c = { .doc = 1, .offset = 3u << 20 };
	memset(c.session, 0x5a, sizeof c.session);
	struct sl_buf out;
	sl_buf_init(&out, PROTO_REQUEST_BYTES_MAX);
	REQUIRE(proto_request_encode_read(PROTO_EXPORT, NULL, &c, &sk, &out) == 0);
	REQUIRE(proto_request_decode(out.data, out.len, &req, NULL) == 0);
	CHECK_INT_EQ(req.type, PROTO_EXPORT);
	CHECK(req.has_cursor && !req.has_query);
	CHECK_INT_EQ(req.cursor.doc, 1);
	CHECK_INT_EQ(req.cursor.offset, 3u << 20);
	CHECK(memcmp(req.cursor.session, c.session, sizeof c.session) == 0);
	sl_buf_free(&out);
}

static void test_read_encode_refuses(void)
{
	struct crypto_secret_key sk;
	key_make(&sk, 6);
	struct proto_query q = query_sample();
	struct proto_cursor c;
	memset(&c, 0, sizeof c);
	struct sl_buf out;
	sl_buf_init(&out, PROTO_REQUEST_BYTES_MAX);
	CHECK_INT_EQ(proto_request_encode_read(PROTO_QUERY, &q, &c, &sk, &out), SL_EINVAL);	 /* both */
	CHECK_INT_EQ(proto_request_encode_read(PROTO_QUERY, NULL, NULL, &sk, &out), SL_EINVAL); /* neither */
	CHECK_INT_EQ(proto_request_encode_read(PROTO_SUBMIT, &q, NULL, &sk, &out), SL_EINVAL);
	CHECK_INT_EQ(proto_request_encode(PROTO_QUERY, NULL, 0, NULL, &sk, &out), SL_EINVAL);
	char big[PROTO_QUERY_VALUE_BYTES_MAX + 2];
	memset(big, 'x', sizeof big);
	q.values[0] = (struct sl_str){ big, PROTO_QUERY_VALUE_BYTES_MAX + 1 };
	CHECK_INT_EQ(proto_request_encode_read(PROTO_QUERY, &q, NULL, &sk, &out), SL_EINVAL);
	q = query_sample();
	q.option_count = PROTO_QUERY_OPTIONS_MAX + 1;
	CHECK_INT_EQ(proto_request_encode_read(PROTO_QUERY, &q, NULL, &sk, &out), SL_EINVAL);
	CHECK_INT_EQ(out.len, 0); /* nothing written by a refusal */
	sl_buf_free(&out);
}

/* A signed request around a hand-made body (to reach the decoder with what the encoder refuses). */
static int body_request(const struct sl_buf *body, const struct crypto_secret_key *sk, struct sl_buf *out)
{
	uint8_t signature[CRYPTO_SIGNATURE_BYTES];
	struct crypto_public_key pk;
	struct crypto_key_id id;
	crypto_secret_key_public(sk, &pk);
	crypto_key_id_of(&pk, &id);
	sl_buf_reset(out);
	int rc = crypto_sign(sk, PROTO_REQUEST_DOMAIN, body->data, body->len, signature);
	if (rc == 0)
		rc = codec_write_map_header(out, 3);
	if (rc == 0 && (rc = codec_write_uint(out, 0)) == 0)
		rc = codec_write_bin(out, body->data, body->len);
	if (rc == 0 && (rc = codec_write_uint(out, 1)) == 0)
		rc = codec_write_bin(out, id.bytes, sizeof id.bytes);
	if (rc == 0 && (rc = codec_write_uint(out, 2)) == 0)
		rc = codec_write_bin(out, signature, sizeof signature);
	return rc;
}

/* Body head: version, type, nonce; then `extra` more fields follow. */
static void body_head(struct sl_buf *b, uint8_t type, uint32_t extra)
{
	uint8_t nonce[PROTO_NONCE_BYTES] = { 0 };
	sl_buf_reset(b);
	codec_write_map_header(b, 3 + extra);
	codec_write_uint(b, 0);
	codec_write_uint(b, PROTO_VERSION);
	codec_write_uint(b, 1);
	codec_write_uint(b, type);
	codec_write_uint(b, 2);
	codec_write_bin(b, nonce, sizeof nonce);
}

/* A query map with `options` options named "lot" and a value of value_len bytes, `args` args. */
static void query_map(struct sl_buf *b, uint64_t kind, uint32_t options, size_t value_len, uint32_t args,
		      bool with_linearizable)
{
	static char value[1024];
	memset(value, 'v', sizeof value);
	codec_write_uint(b, PROTO_BODY_QUERY);
	codec_write_map_header(b, with_linearizable ? 4 : 3);
	codec_write_uint(b, 0);
	codec_write_uint(b, kind);
	codec_write_uint(b, 1);
	codec_write_array_header(b, options);
	for (uint32_t i = 0; i < options; i++) {
		codec_write_array_header(b, 2);
		codec_write_str(b, "lot", 3);
		codec_write_str(b, value, value_len);
	}
	codec_write_uint(b, 2);
	codec_write_array_header(b, args);
	for (uint32_t i = 0; i < args; i++)
		codec_write_str(b, "a", 1);
	if (with_linearizable) {
		codec_write_uint(b, 3);
		codec_write_bool(b, false);
	}
}

static void test_read_decode_strict(void)
{
	struct crypto_secret_key sk;
	key_make(&sk, 7);
	struct sl_buf body, out;
	sl_buf_init(&body, PROTO_REQUEST_BYTES_MAX);
	sl_buf_init(&out, PROTO_REQUEST_BYTES_MAX);
	/* the shape that decodes, then one bound or rule broken at a time */
	body_head(&body, PROTO_QUERY, 1);
	query_map(&body, QUERY_LOT, 1, 10, 2, true);
	REQUIRE(body_request(&body, &sk, &out) == 0);
	CHECK_INT_EQ(proto_request_decode(out.data, out.len, &req, NULL), 0);
	struct {
		const char *what;
		uint8_t type;
		uint64_t kind;
		uint32_t options;
		size_t value_len;
		uint32_t args;
		bool linearizable;
	} bad[] = {
		{ "kind 0", PROTO_QUERY, 0, 1, 10, 0, true },
		{ "too many options", PROTO_QUERY, QUERY_LOT, PROTO_QUERY_OPTIONS_MAX + 1, 1, 0, true },
		{ "value too long", PROTO_QUERY, QUERY_LOT, 1, PROTO_QUERY_VALUE_BYTES_MAX + 1, 0, true },
		{ "too many arguments", PROTO_QUERY, QUERY_LOT, 0, 0, PROTO_QUERY_ARGS_MAX + 1, true },
		{ "field missing", PROTO_QUERY, QUERY_LOT, 1, 10, 0, false },
		{ "query on a submit", PROTO_SUBMIT, QUERY_LOT, 1, 10, 0, true },
		{ "query on node status", PROTO_NODE_STATUS, QUERY_LOT, 1, 10, 0, true },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		body_head(&body, bad[i].type, 1);
		query_map(&body, bad[i].kind, bad[i].options, bad[i].value_len, bad[i].args, bad[i].linearizable);
		REQUIRE(body_request(&body, &sk, &out) == 0);
		int rc = proto_request_decode(out.data, out.len, &req, NULL);
		if (rc == 0)
			printf("  accepted: %s\n", bad[i].what);
		CHECK(rc != 0);
	}
	/* a read without query or cursor, and with both */
	body_head(&body, PROTO_EXPORT, 0);
	REQUIRE(body_request(&body, &sk, &out) == 0);
	CHECK_INT_EQ(proto_request_decode(out.data, out.len, &req, NULL), SL_EMISSING);
	uint8_t session[PROTO_SESSION_BYTES] = { 0 };
	body_head(&body, PROTO_EXPORT, 2);
	query_map(&body, QUERY_EXPORT, 0, 0, 0, true);
	codec_write_uint(&body, PROTO_BODY_CURSOR);
	codec_write_array_header(&body, 3);
	codec_write_bin(&body, session, sizeof session);
	codec_write_uint(&body, 0);
	codec_write_uint(&body, 0);
	REQUIRE(body_request(&body, &sk, &out) == 0);
	CHECK_INT_EQ(proto_request_decode(out.data, out.len, &req, NULL), SL_EMISSING);
	/* a cursor naming a document past the last, or a short session id */
	for (int k = 0; k < 2; k++) {
		body_head(&body, PROTO_QUERY, 1);
		codec_write_uint(&body, PROTO_BODY_CURSOR);
		codec_write_array_header(&body, 3);
		codec_write_bin(&body, session, k == 0 ? sizeof session : sizeof session - 1);
		codec_write_uint(&body, k == 0 ? PROTO_DOCS_MAX : 0);
		codec_write_uint(&body, 0);
		REQUIRE(body_request(&body, &sk, &out) == 0);
		CHECK(proto_request_decode(out.data, out.len, &req, NULL) != 0);
	}
	sl_buf_free(&body);
	sl_buf_free(&out);
}

static void test_chunk_response_round_trip(void)
{
	static uint8_t data[PROTO_CHUNK_BYTES_MAX];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7);
	proto_response_init(&resp, PROTO_OK, "1 event(s) have no EPCIS form");
	resp.has_chunk = true;
	resp.chunk = (struct proto_chunk){ .exit_code = QUERY_EXIT_REJECTED, .has_session = true, .doc = 1,
					   .offset = 5u << 20, .done = false, .applied = 77, .stats = { 1, 2, 3, 4 },
					   .data = data, .data_len = sizeof data };
	memset(resp.chunk.session, 0xc3, sizeof resp.chunk.session);
	struct sl_buf out;
	sl_buf_init(&out, PROTO_RESPONSE_BYTES_MAX);
	REQUIRE(proto_response_encode(&resp, &out) == 0); /* a full chunk fits one response */
	REQUIRE(proto_response_decode(out.data, out.len, &back) == 0);
	REQUIRE(back.has_chunk);
	CHECK_INT_EQ(back.chunk.exit_code, QUERY_EXIT_REJECTED);
	CHECK(back.chunk.has_session && memcmp(back.chunk.session, resp.chunk.session, PROTO_SESSION_BYTES) == 0);
	CHECK_INT_EQ(back.chunk.doc, 1);
	CHECK_INT_EQ(back.chunk.offset, 5u << 20);
	CHECK(!back.chunk.done);
	CHECK_INT_EQ(back.chunk.applied, 77);
	CHECK_INT_EQ(back.chunk.stats[3], 4);
	REQUIRE(back.chunk.data_len == sizeof data);
	CHECK(memcmp(back.chunk.data, data, sizeof data) == 0);
	CHECK(back.chunk.data >= out.data && back.chunk.data < out.data + out.len); /* borrowed */
	CHECK_STR_EQ(back.message, "1 event(s) have no EPCIS form");
	for (size_t cut = 0; cut < 64; cut++)
		CHECK(proto_response_decode(out.data, cut, &back) != 0);
	CHECK(proto_response_decode(out.data, out.len - 1, &back) != 0);
	/* the last chunk: no session, done, empty data */
	resp.chunk = (struct proto_chunk){ .done = true };
	sl_buf_reset(&out);
	REQUIRE(proto_response_encode(&resp, &out) == 0);
	REQUIRE(proto_response_decode(out.data, out.len, &back) == 0);
	CHECK(back.has_chunk && back.chunk.done && !back.chunk.has_session && back.chunk.data_len == 0);
	/* out of range: exit status 3 */
	resp.chunk.exit_code = PROTO_EXIT_MAX + 1;
	sl_buf_reset(&out);
	REQUIRE(proto_response_encode(&resp, &out) == 0);
	CHECK(proto_response_decode(out.data, out.len, &back) != 0);
	sl_buf_free(&out);
}

static void test_query_params_bounds(void)
{
	struct query_params p;
	CHECK_INT_EQ(query_params_init(&p, 0), SL_EVALUE);
	CHECK_INT_EQ(query_params_init(&p, QUERY_KIND_MAX + 1), SL_EVALUE);
	REQUIRE(query_params_init(&p, QUERY_RECONCILE) == 0);
	CHECK_INT_EQ(query_params_option(&p, "lot", 3, "09506000134352/L1", 17), 0);
	CHECK_INT_EQ(query_params_option(&p, "lot", 3, "x", 1), SL_EDUPFIELD);
	CHECK_INT_EQ(query_params_option(&p, "data", 4, "/etc", 4), SL_EUNKNOWNFIELD); /* not a query's */
	CHECK_INT_EQ(query_params_option(&p, "site", 4, "a\0b", 3), SL_EVALUE);
	char big[QUERY_VALUE_BYTES + 1];
	memset(big, 's', sizeof big);
	CHECK_INT_EQ(query_params_option(&p, "site", 4, big, QUERY_VALUE_BYTES), SL_EOVERSIZE);
	CHECK_INT_EQ(query_params_arg(&p, "x", 1), SL_ELIMIT); /* reconcile takes none */
	CHECK_STR_EQ(query_param(&p, "lot"), "09506000134352/L1");
	CHECK(query_param(&p, "site") == NULL);
	struct query_out out;
	memset(&out, 0, sizeof out);
	CHECK_INT_EQ(query_check(&p, &out), QUERY_EXIT_OK);
	REQUIRE(query_params_init(&p, QUERY_RECONCILE) == 0);
	REQUIRE(query_params_option(&p, "lot", 3, "nonsense", 8) == 0);
	CHECK_INT_EQ(query_check(&p, &out), QUERY_EXIT_USAGE);
	CHECK(strstr(out.message, "expected GTIN/LOT") != NULL);
	REQUIRE(query_params_init(&p, QUERY_STATUS) == 0);
	CHECK_INT_EQ(query_check(&p, &out), QUERY_EXIT_USAGE); /* its identifier is missing */
	REQUIRE(query_params_arg(&p, "(01)09506000134352(21)A1", 24) == 0);
	CHECK_INT_EQ(query_params_arg(&p, "more", 4), SL_ELIMIT);
	CHECK_INT_EQ(query_check(&p, &out), QUERY_EXIT_OK);
}

/* The fixture's ledger exported with the given options: in one go, and in steps of `budget` bytes. */
static void export_both(struct fixture *f, const char *lot, uint64_t budget, char **one, size_t *one_len,
			char **steps, size_t *steps_len, uint64_t *step_count)
{
	store_txn *txn = NULL;
	REQUIRE(store_txn_begin(f->st, false, &txn) == 0);
	struct query_env env = { txn, SITE_A, { &f->sk[KEY_A], NULL } };
	struct query_params p;
	REQUIRE(query_params_init(&p, QUERY_EXPORT) == 0);
	if (lot != NULL)
		REQUIRE(query_params_option(&p, "lot", 3, lot, strlen(lot)) == 0);
	for (int pass = 0; pass < 2; pass++) {
		struct query_out out;
		memset(&out, 0, sizeof out);
		query_export *x = NULL;
		REQUIRE(query_export_begin(&env, &p, &x, &out) == 0);
		FILE *file = open_memstream(pass == 0 ? one : steps, pass == 0 ? one_len : steps_len);
		REQUIRE(file != NULL);
		bool done = false;
		uint64_t count = 0;
		while (!done && count < 100000) {
			REQUIRE(query_export_step(x, file, pass == 0 ? UINT64_MAX : budget, &done) == 0);
			count++;
		}
		if (pass == 1)
			*step_count = count;
		fclose(file);
		query_export_end(x);
	}
	store_txn_abort(txn);
}

static void test_export_in_steps_same_bundle(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	struct ledger_result r;
	CHECK_INT_EQ(fixture_do(&f, &(struct spec){ .type = RECORD_COMMISSION, .items = "S1 S2 S3 S4" }, &r), 0);
	CHECK_INT_EQ(fixture_do(&f, &(struct spec){ .type = RECORD_COMMISSION, .items = "T1 T2", .lot = "L2" }, &r), 0);
	CHECK_INT_EQ(fixture_do(&f, &(struct spec){ .type = RECORD_SHIP, .items = P("S1") " " P("T1"), .to = SITE_B }, &r),
		     0);
	CHECK_INT_EQ(fixture_do(&f, &(struct spec){ .type = RECORD_RECEIVE, .key = KEY_B, .items = P("S1") }, &r), 0);
	const char *lots[] = { NULL, GTIN "/L1" };
	for (size_t k = 0; k < 2; k++) {
		char *one = NULL, *steps = NULL;
		size_t one_len = 0, steps_len = 0;
		uint64_t count = 0;
		export_both(&f, lots[k], 1, &one, &one_len, &steps, &steps_len, &count);
		CHECK(one != NULL && steps != NULL);
		CHECK(one_len > 0 && one_len == steps_len && memcmp(one, steps, one_len) == 0);
		CHECK(count > 4); /* a step a line: head, each entry, each lot row, end */
		CHECK(one != NULL && strstr(one, k == 0 ? "siteledger-bundle 1 full\n" : "siteledger-bundle 1 partial\n") != NULL);
		free(one);
		free(steps);
	}
	fixture_close(&f);
}

/* The checkpoint query: signed by the node's key, covering the ledger, identical when asked again
 * (Ed25519 is deterministic: the bundle of a node equals the CLI's), never stored. */
static void test_checkpoint_query_in_memory(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	struct ledger_result r;
	CHECK_INT_EQ(fixture_do(&f, &(struct spec){ .type = RECORD_COMMISSION, .items = "C1 C2" }, &r), 0);
	CHECK_INT_EQ(fixture_do(&f, &(struct spec){ .type = RECORD_COMMISSION, .items = "C3", .lot = "L3" }, &r), 0);
	char *notes[2] = { NULL, NULL };
	size_t lens[2] = { 0, 0 };
	store_txn *txn = NULL;
	REQUIRE(store_txn_begin(f.st, false, &txn) == 0);
	struct query_env env = { txn, SITE_A, { &f.sk[KEY_A], NULL } };
	struct query_params p;
	REQUIRE(query_params_init(&p, QUERY_CHECKPOINT) == 0);
	for (int k = 0; k < 2; k++) {
		struct query_out out;
		memset(&out, 0, sizeof out);
		out.doc[0] = open_memstream(&notes[k], &lens[k]);
		REQUIRE(out.doc[0] != NULL);
		CHECK_INT_EQ(query_run(&env, &p, &out), QUERY_EXIT_OK);
		fclose(out.doc[0]);
	}
	uint64_t stored = 99;
	CHECK_INT_EQ(bundle_checkpoint_count(txn, &stored), 0);
	CHECK_INT_EQ(stored, 0);
	store_txn_abort(txn);
	REQUIRE(notes[0] != NULL && notes[1] != NULL);
	CHECK(lens[0] == lens[1] && memcmp(notes[0], notes[1], lens[0]) == 0);
	CHECK(strncmp(notes[0], "siteledger/" SITE_A "\n2\n", strlen("siteledger/" SITE_A "\n2\n")) == 0);
	CHECK(strstr(notes[0], "\n\n\u2014 " SITE_A " ") != NULL); /* the signature line names the site */
	/* without a key the query says so instead of signing */
	REQUIRE(store_txn_begin(f.st, false, &txn) == 0);
	env = (struct query_env){ txn, SITE_A, { NULL, NULL } };
	struct query_out out;
	memset(&out, 0, sizeof out);
	out.doc[0] = stdout;
	CHECK_INT_EQ(query_run(&env, &p, &out), QUERY_EXIT_USAGE);
	CHECK(strstr(out.message, "no key") != NULL);
	store_txn_abort(txn);
	free(notes[0]);
	free(notes[1]);
	fixture_close(&f);
}

static const struct test_case cases[] = {
	TEST_CASE(test_query_request_round_trip), TEST_CASE(test_cursor_request_round_trip),
	TEST_CASE(test_read_encode_refuses),	  TEST_CASE(test_read_decode_strict),
	TEST_CASE(test_chunk_response_round_trip), TEST_CASE(test_query_params_bounds),
	TEST_CASE(test_export_in_steps_same_bundle), TEST_CASE(test_checkpoint_query_in_memory),
};
TEST_MAIN(cases)
