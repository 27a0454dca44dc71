/* tests/unit/test_node_members.c — node/proto_admin.c: membership requests (MEMBERS,
 * MEMBER_CHANGE, LEADER_TRANSFER) and the members and registry an answer carries. */
#include "node/proto_internal.h"

#include <sodium.h>

#include "ledger/codec.h"
#include "tests/unit/test.h"

static struct proto_request req; /* large: not on the stack */
static struct proto_response resp, back;

static void key_make(struct crypto_public_key *pk, struct crypto_secret_key *sk, uint8_t fill)
{
	uint8_t seed[32];
	memset(seed, fill, sizeof seed);
	REQUIRE(crypto_init() == 0);
	crypto_sign_seed_keypair(pk->bytes, sk->bytes, seed);
}

static void test_admin_requests_round_trip(void)
{
	struct crypto_public_key pk;
	struct crypto_secret_key sk;
	key_make(&pk, &sk, 7);
	struct sl_buf out;
	sl_buf_init(&out, PROTO_REQUEST_BYTES_MAX);
	REQUIRE(proto_request_encode_admin(PROTO_MEMBER_CHANGE, "site-d", PROTO_CHANGE_PROMOTE, &sk, &out) == 0);
	REQUIRE(proto_request_decode(out.data, out.len, &req, NULL) == 0);
	CHECK_INT_EQ(req.type, PROTO_MEMBER_CHANGE);
	CHECK_INT_EQ(req.change, PROTO_CHANGE_PROMOTE);
	CHECK(sl_str_eq_cstr(req.site, "site-d"));
	CHECK_INT_EQ(proto_request_verify(&req, &pk), 0);
	for (size_t cut = 0; cut < out.len; cut++)
		CHECK(proto_request_decode(out.data, cut, &req, NULL) != 0);

	sl_buf_reset(&out);
	REQUIRE(proto_request_encode_admin(PROTO_LEADER_TRANSFER, "site-b", 0, &sk, &out) == 0);
	REQUIRE(proto_request_decode(out.data, out.len, &req, NULL) == 0);
	CHECK_INT_EQ(req.type, PROTO_LEADER_TRANSFER);
	CHECK(sl_str_eq_cstr(req.site, "site-b"));
	CHECK_INT_EQ(req.change, 0);

	sl_buf_reset(&out);
	REQUIRE(proto_request_encode_admin(PROTO_MEMBERS, NULL, 0, &sk, &out) == 0);
	REQUIRE(proto_request_decode(out.data, out.len, &req, NULL) == 0);
	CHECK_INT_EQ(req.type, PROTO_MEMBERS);
	CHECK_INT_EQ(req.site.len, 0);

	/* what the encoder refuses to build */
	sl_buf_reset(&out);
	CHECK_INT_EQ(proto_request_encode_admin(PROTO_MEMBER_CHANGE, "site-d", 0, &sk, &out), SL_EINVAL);
	CHECK_INT_EQ(proto_request_encode_admin(PROTO_MEMBER_CHANGE, "site-d", 4, &sk, &out), SL_EINVAL);
	CHECK_INT_EQ(proto_request_encode_admin(PROTO_LEADER_TRANSFER, NULL, 0, &sk, &out), SL_EINVAL);
	CHECK_INT_EQ(proto_request_encode_admin(PROTO_SUBMIT, "site-d", 1, &sk, &out), SL_EINVAL);
	CHECK_INT_EQ(proto_request_encode(PROTO_MEMBER_CHANGE, NULL, 0, NULL, &sk, &out), SL_EINVAL);
	sl_buf_free(&out);
}

/* A body with `extra` keys written after the common ones, wrapped and signed. */
static int decode_body(uint8_t type, const char *site, int64_t change, struct crypto_secret_key *sk)
{
	struct sl_buf body, out;
	sl_buf_init(&body, 4096);
	sl_buf_init(&out, 8192);
	uint8_t nonce[PROTO_NONCE_BYTES] = { 1 };
	int rc = codec_write_map_header(&body, 3u + (site != NULL) + (change >= 0));
	rc |= codec_write_uint(&body, 0) | codec_write_uint(&body, PROTO_VERSION);
	rc |= codec_write_uint(&body, 1) | codec_write_uint(&body, type);
	rc |= codec_write_uint(&body, 2) | codec_write_bin(&body, nonce, sizeof nonce);
	if (site != NULL)
		rc |= codec_write_uint(&body, PROTO_BODY_SITE) | codec_write_str(&body, site, strlen(site));
	if (change >= 0)
		rc |= codec_write_uint(&body, PROTO_BODY_CHANGE) | codec_write_uint(&body, (uint64_t)change);
	rc |= proto_request_wrap(&body, sk, &out);
	if (rc == 0)
		rc = proto_request_decode(out.data, out.len, &req, NULL);
	sl_buf_free(&body);
	sl_buf_free(&out);
	return rc;
}

/* The admin fields go with their types only, in range. */
static void test_admin_fields_are_strict(void)
{
	struct crypto_public_key pk;
	struct crypto_secret_key sk;
	key_make(&pk, &sk, 8);
	CHECK_INT_EQ(decode_body(PROTO_MEMBER_CHANGE, "site-d", PROTO_CHANGE_ADD, &sk), 0);
	CHECK_INT_EQ(decode_body(PROTO_MEMBER_CHANGE, "site-d", -1, &sk), SL_EMISSING);
	CHECK_INT_EQ(decode_body(PROTO_MEMBER_CHANGE, NULL, PROTO_CHANGE_ADD, &sk), SL_EMISSING);
	CHECK_INT_EQ(decode_body(PROTO_MEMBER_CHANGE, "site-d", 0, &sk), SL_EVALUE);
	CHECK_INT_EQ(decode_body(PROTO_MEMBER_CHANGE, "site-d", 4, &sk), SL_EVALUE);
	CHECK_INT_EQ(decode_body(PROTO_LEADER_TRANSFER, "site-d", PROTO_CHANGE_ADD, &sk), SL_EMISSING);
	CHECK_INT_EQ(decode_body(PROTO_MEMBERS, "site-d", -1, &sk), SL_EMISSING);
	CHECK_INT_EQ(decode_body(PROTO_NODE_STATUS, NULL, PROTO_CHANGE_ADD, &sk), SL_EMISSING);
	char long_site[STORE_SITE_SIZE + 1];
	memset(long_site, 's', STORE_SITE_SIZE);
	long_site[STORE_SITE_SIZE] = '\0';
	CHECK_INT_EQ(decode_body(PROTO_LEADER_TRANSFER, long_site, -1, &sk), SL_EOVERSIZE);
}

static void members_sample(struct proto_response *r)
{
	proto_response_init(r, PROTO_OK, "");
	r->has_members = true;
	struct proto_members *m = &r->members;
	m->member_count = 2;
	m->members[0] = (struct proto_member){ .id = 1, .site = "site-a", .role = PROTO_ROLE_VOTER, .match = 40,
					       .heard_ms = 0, .peer_addr = "tcp://127.0.0.1:7400",
					       .client_addr = "tcp://127.0.0.1:7401" };
	m->members[1] = (struct proto_member){ .id = 4, .site = "site-d", .role = PROTO_ROLE_LEARNER, .match = 38,
					       .heard_ms = PROTO_NEVER, .peer_addr = "tcp://127.0.0.1:7406",
					       .client_addr = "tcp://127.0.0.1:7407" };
	m->site_count = 2;
	m->sites[0] = (struct proto_registry_site){ .site = "site-a", .active = true, .node_id = 1, .key_count = 2 };
	memset(m->sites[0].keys[0].key_id.bytes, 0x11, 16);
	memset(m->sites[0].keys[1].key_id.bytes, 0x22, 16);
	m->sites[0].keys[1].added_seq = 12;
	m->sites[0].keys[1].revoked_seq = 30;
	m->sites[1] = (struct proto_registry_site){ .site = "site-d", .active = false, .node_id = 4, .added_seq = 2,
						    .removed_seq = 9, .key_count = 1 };
	memset(m->sites[1].keys[0].key_id.bytes, 0x44, 16);
}

static void test_members_answer_round_trip(void)
{
	members_sample(&resp);
	struct sl_buf out;
	sl_buf_init(&out, PROTO_RESPONSE_BYTES_MAX);
	REQUIRE(proto_response_encode(&resp, &out) == 0);
	REQUIRE(proto_response_decode(out.data, out.len, &back) == 0);
	CHECK(back.has_members);
	REQUIRE(back.members.member_count == 2 && back.members.site_count == 2);
	CHECK_INT_EQ(back.members.members[1].heard_ms, PROTO_NEVER);
	CHECK_INT_EQ(back.members.members[1].role, PROTO_ROLE_LEARNER);
	CHECK_STR_EQ(back.members.members[1].client_addr, "tcp://127.0.0.1:7407");
	CHECK_INT_EQ(back.members.sites[0].keys[1].revoked_seq, 30);
	CHECK(!back.members.sites[1].active);
	CHECK_INT_EQ(back.members.sites[1].removed_seq, 9);
	CHECK(memcmp(back.members.sites[1].keys[0].key_id.bytes, resp.members.sites[1].keys[0].key_id.bytes, 16) == 0);
	for (size_t cut = 0; cut < out.len; cut++)
		CHECK(proto_response_decode(out.data, cut, &back) != 0);

	/* members without the registry (or the reverse) is refused */
	sl_buf_reset(&out);
	REQUIRE(codec_write_map_header(&out, 3) == 0);
	REQUIRE(codec_write_uint(&out, 0) == 0 && codec_write_uint(&out, PROTO_OK) == 0);
	REQUIRE(codec_write_uint(&out, 1) == 0 && codec_write_str(&out, "", 0) == 0);
	REQUIRE(codec_write_uint(&out, PROTO_RESPONSE_MEMBERS) == 0 && codec_write_array_header(&out, 0) == 0);
	CHECK_INT_EQ(proto_response_decode(out.data, out.len, &back), SL_EMISSING);
	/* a role out of range */
	resp.members.members[0].role = 3;
	sl_buf_reset(&out);
	REQUIRE(proto_response_encode(&resp, &out) == 0);
	CHECK_INT_EQ(proto_response_decode(out.data, out.len, &back), SL_EVALUE);
	sl_buf_free(&out);
}

static const struct test_case cases[] = {
	TEST_CASE(test_admin_requests_round_trip),
	TEST_CASE(test_admin_fields_are_strict),
	TEST_CASE(test_members_answer_round_trip),
};
TEST_MAIN(cases)
