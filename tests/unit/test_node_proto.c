/* tests/unit/test_node_proto.c — node/proto.h: request signing and strict decoding, responses. */
#include "node/proto.h"

#include <sodium.h>

#include "ledger/codec.h"
#include "tests/unit/test.h"

static void key_make(struct crypto_public_key *pk, struct crypto_secret_key *sk, uint8_t fill)
{
	uint8_t seed[32];
	memset(seed, fill, sizeof seed);
	REQUIRE(crypto_init() == 0);
	crypto_sign_seed_keypair(pk->bytes, sk->bytes, seed);
}

static struct proto_request req; /* large: not on the stack */
static struct proto_response resp, back;

static void test_proto_submit_round_trip(void)
{
	struct crypto_public_key pk, other_pk;
	struct crypto_secret_key sk, other_sk;
	key_make(&pk, &sk, 1);
	key_make(&other_pk, &other_sk, 2);
	const uint8_t r1[] = { 0x81, 0x00, 0x01 }, r2[] = { 0xc4, 0x01, 0x07 };
	struct ledger_input in[2] = { { r1, sizeof r1 }, { r2, sizeof r2 } };
	struct sl_buf out;
	sl_buf_init(&out, PROTO_REQUEST_BYTES_MAX);
	REQUIRE(proto_request_encode(PROTO_SUBMIT, in, 2, NULL, &sk, &out) == 0);
	REQUIRE(proto_request_decode(out.data, out.len, &req, NULL) == 0);
	CHECK_INT_EQ(req.type, PROTO_SUBMIT);
	REQUIRE(req.record_count == 2);
	CHECK(req.records[1].len == sizeof r2 && memcmp(req.records[1].bytes, r2, sizeof r2) == 0);
	struct crypto_key_id id;
	crypto_key_id_of(&pk, &id);
	CHECK(memcmp(req.key_id.bytes, id.bytes, sizeof id.bytes) == 0);
	CHECK_INT_EQ(proto_request_verify(&req, &pk), 0);
	CHECK_INT_EQ(proto_request_verify(&req, &other_pk), SL_EBADSIG);
	/* any flipped byte: refused by the decoder or the signature, or it names another key (which
	 * the node looks up by id, so the signature is checked against that key and fails) */
	for (size_t i = 0; i < out.len; i++) {
		out.data[i] ^= 0x20;
		int rc = proto_request_decode(out.data, out.len, &req, NULL);
		CHECK(rc != 0 || proto_request_verify(&req, &pk) != 0 || memcmp(req.key_id.bytes, id.bytes, sizeof id.bytes) != 0);
		out.data[i] ^= 0x20;
	}
	/* truncation and trailing bytes */
	for (size_t cut = 0; cut < out.len; cut++)
		CHECK(proto_request_decode(out.data, cut, &req, NULL) != 0);
	REQUIRE(sl_buf_append(&out, "\0", 1) == 0);
	CHECK_INT_EQ(proto_request_decode(out.data, out.len, &req, NULL), SL_ETRAILING);
	sl_buf_free(&out);
}

static void test_proto_request_shapes(void)
{
	struct crypto_public_key pk;
	struct crypto_secret_key sk;
	key_make(&pk, &sk, 3);
	struct sl_buf out;
	sl_buf_init(&out, PROTO_REQUEST_BYTES_MAX);
	REQUIRE(proto_request_encode(PROTO_ITEM_STATUS, NULL, 0, "(01)09506000134352(21)A", &sk, &out) == 0);
	REQUIRE(proto_request_decode(out.data, out.len, &req, NULL) == 0);
	CHECK_INT_EQ(req.type, PROTO_ITEM_STATUS);
	CHECK(sl_str_eq_cstr(req.item, "(01)09506000134352(21)A"));
	sl_buf_reset(&out);
	REQUIRE(proto_request_encode(PROTO_NODE_STATUS, NULL, 0, NULL, &sk, &out) == 0);
	REQUIRE(proto_request_decode(out.data, out.len, &req, NULL) == 0);
	CHECK_INT_EQ(req.type, PROTO_NODE_STATUS);
	CHECK_INT_EQ(req.record_count, 0);
	CHECK_INT_EQ(proto_request_encode(PROTO_SUBMIT, NULL, 0, NULL, &sk, &out), SL_EINVAL);
	CHECK_INT_EQ(proto_request_encode(200, NULL, 0, NULL, &sk, &out), SL_EINVAL); /* no such type */
	/* an unknown outer field is refused */
	sl_buf_reset(&out);
	REQUIRE(codec_write_map_header(&out, 1) == 0 && codec_write_uint(&out, 5) == 0 && codec_write_uint(&out, 1) == 0);
	CHECK_INT_EQ(proto_request_decode(out.data, out.len, &req, NULL), SL_EUNKNOWNFIELD);
	sl_buf_free(&out);
}

static void test_proto_response_round_trip(void)
{
	proto_response_init(&resp, PROTO_OK, "applied");
	resp.result_count = 2;
	resp.results[0] = (struct ledger_result){ .seq = 7, .outcome = 0, .item = -1 };
	resp.results[1] = (struct ledger_result){ .seq = 8, .outcome = 5, .item = 3 };
	memset(resp.results[1].record_id, 0xab, RECORD_ID_BYTES);
	resp.has_node = true;
	resp.node.id = 2;
	resp.node.term = 9;
	resp.node.ledger_size = 8;
	memset(resp.node.state_hash, 0x11, sizeof resp.node.state_hash);
	strcpy(resp.node.site, "dc-lyon");
	strcpy(resp.leader_addr, "tcp://127.0.0.1:7401");
	resp.has_item = true;
	strcpy(resp.item.site, "mfg");
	strcpy(resp.item.gtin, "09506000134352");
	resp.item.status_seq = 42;
	struct sl_buf out;
	sl_buf_init(&out, PROTO_RESPONSE_BYTES_MAX);
	REQUIRE(proto_response_encode(&resp, &out) == 0);
	REQUIRE(proto_response_decode(out.data, out.len, &back) == 0);
	CHECK_INT_EQ(back.code, PROTO_OK);
	CHECK_STR_EQ(back.message, "applied");
	CHECK_STR_EQ(back.leader_addr, "tcp://127.0.0.1:7401");
	REQUIRE(back.result_count == 2);
	CHECK_INT_EQ(back.results[1].seq, 8);
	CHECK_INT_EQ(back.results[1].outcome, 5);
	CHECK_INT_EQ(back.results[1].item, 3);
	CHECK_INT_EQ(back.results[0].item, -1);
	CHECK(memcmp(back.results[1].record_id, resp.results[1].record_id, RECORD_ID_BYTES) == 0);
	CHECK(back.has_node && back.node.term == 9 && back.node.ledger_size == 8);
	CHECK_STR_EQ(back.node.site, "dc-lyon");
	CHECK(back.has_item && back.item.status_seq == 42);
	CHECK_STR_EQ(back.item.gtin, "09506000134352");
	for (size_t cut = 0; cut < out.len; cut++)
		CHECK(proto_response_decode(out.data, cut, &back) != 0);
	CHECK_STR_EQ(proto_code_name(PROTO_REFUSED), "REFUSED");
	CHECK_STR_EQ(proto_code_name(99), "?");
	sl_buf_free(&out);
}

static const struct test_case cases[] = {
	TEST_CASE(test_proto_submit_round_trip),
	TEST_CASE(test_proto_request_shapes),
	TEST_CASE(test_proto_response_round_trip),
};
TEST_MAIN(cases)
