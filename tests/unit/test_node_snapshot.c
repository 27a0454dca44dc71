/* tests/unit/test_node_snapshot.c — node/snapshot_codec.c: the chunk and ack codecs (round trip,
 * strict decoding, truncation at every length, oversize), the receiver's assembly (in order,
 * duplicates and gaps, stale and replacing transfers, inconsistent chunks, a wrong hash), and the
 * compact_every configuration key. */
#include "node/node.h"

#include "tests/unit/test.h"
#include "util/error.h"

#define BLOB_BYTES (2 * NODE_SNAP_CHUNK_BYTES_MAX + 1000) /* three chunks, the last one short */
#define FROM 2

static uint8_t blob[BLOB_BYTES];
static uint8_t wire[NODE_SNAP_CHUNK_HEADER_BYTES + NODE_SNAP_CHUNK_BYTES_MAX + CRYPTO_SHA256_BYTES + 1];

static void blob_fill(void)
{
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof blob; i++) {
		x = x * 1103515245u + 12345u;
		blob[i] = (uint8_t)(x >> 16);
	}
}

/* Chunk k (0-based) of transfer `transfer` over blob, hash of the whole blob on the last. */
static struct node_snap_chunk chunk_of(uint64_t transfer, uint64_t leader_term, size_t k)
{
	size_t offset = k * NODE_SNAP_CHUNK_BYTES_MAX;
	size_t len = sizeof blob - offset < NODE_SNAP_CHUNK_BYTES_MAX ? sizeof blob - offset : NODE_SNAP_CHUNK_BYTES_MAX;
	struct node_snap_chunk c = { .transfer = transfer, .leader_term = leader_term, .index = 40, .term = 3,
				     .total = sizeof blob, .offset = offset, .data = blob + offset, .len = len };
	if (offset + len == sizeof blob) {
		c.flags = NODE_SNAP_FLAG_LAST;
		crypto_sha256(blob, sizeof blob, c.hash);
	}
	return c;
}

static size_t encode(const struct node_snap_chunk *c)
{
	size_t len = 0;
	if (node_snap_chunk_encode(c, wire, sizeof wire, &len) != 0)
		return 0;
	return len;
}

static void test_chunk_round_trip(void)
{
	blob_fill();
	struct node_snap_chunk c = chunk_of(77, 5, 2);
	size_t len = encode(&c);
	REQUIRE(len == NODE_SNAP_CHUNK_HEADER_BYTES + 1000 + CRYPTO_SHA256_BYTES);
	CHECK_INT_EQ(wire[0], NODE_SNAP_KIND_CHUNK);
	struct node_snap_chunk d;
	REQUIRE(node_snap_chunk_decode(wire, len, &d) == 0);
	CHECK_INT_EQ(d.flags, NODE_SNAP_FLAG_LAST);
	CHECK_INT_EQ(d.transfer, 77);
	CHECK_INT_EQ(d.leader_term, 5);
	CHECK_INT_EQ(d.index, 40);
	CHECK_INT_EQ(d.term, 3);
	CHECK_INT_EQ(d.total, sizeof blob);
	CHECK_INT_EQ(d.offset, 2 * NODE_SNAP_CHUNK_BYTES_MAX);
	REQUIRE(d.len == 1000);
	CHECK(memcmp(d.data, blob + d.offset, d.len) == 0);
	CHECK(memcmp(d.hash, c.hash, sizeof c.hash) == 0);
	/* a middle chunk carries no hash */
	c = chunk_of(77, 5, 1);
	len = encode(&c);
	REQUIRE(len == NODE_SNAP_CHUNK_HEADER_BYTES + NODE_SNAP_CHUNK_BYTES_MAX);
	REQUIRE(node_snap_chunk_decode(wire, len, &d) == 0);
	CHECK_INT_EQ(d.flags, 0);
	CHECK_INT_EQ(d.len, NODE_SNAP_CHUNK_BYTES_MAX);
	/* the encoder refuses what the decoder would */
	c.flags = NODE_SNAP_FLAG_LAST;
	CHECK_INT_EQ(node_snap_chunk_encode(&c, wire, sizeof wire, &len), SL_EINVAL);
	c = chunk_of(77, 5, 1);
	CHECK_INT_EQ(node_snap_chunk_encode(&c, wire, 100, &len), SL_ELIMIT);
}

static void test_chunk_decode_is_strict(void)
{
	blob_fill();
	struct node_snap_chunk c = chunk_of(9, 4, 2), d;
	size_t len = encode(&c);
	REQUIRE(len > 0);
	for (size_t cut = 0; cut < len; cut++) /* every truncation */
		if (node_snap_chunk_decode(wire, cut, &d) != SL_ETRUNCATED) {
			CHECK_INT_EQ(node_snap_chunk_decode(wire, cut, &d), SL_ETRUNCATED);
			break;
		}
	wire[len] = 0;
	CHECK_INT_EQ(node_snap_chunk_decode(wire, len + 1, &d), SL_ETRAILING);
	const struct {
		size_t at;
		uint8_t value;
		int expect;
	} damage[] = {
		{ 0, NODE_SNAP_KIND_ACK, SL_ETYPE }, /* kind */
		{ 0, 1, SL_ETYPE },		     /* a raft message's first byte */
		{ 1, 2, SL_EVERSION },
		{ 2, 0x02, SL_EVALUE },	   /* unknown flag */
		{ 2, 0x00, SL_EVALUE },	   /* the chunk that ends at total without LAST */
		{ 3 + 7, 0, SL_EVALUE },   /* transfer 0 */
		{ 3 + 23, 0, SL_EVALUE },  /* index 0 */
		{ 3 + 31, 9, SL_EVALUE },  /* snapshot term above the leader's */
		{ 3 + 47, 0xff, SL_EVALUE }, /* offset + len beyond total */
		{ 3 + 48 + 3, 0xe9, SL_EVALUE },     /* len past total */
	};
	for (size_t i = 0; i < sizeof damage / sizeof damage[0]; i++) {
		len = encode(&c);
		wire[damage[i].at] = damage[i].value;
		int rc = node_snap_chunk_decode(wire, len, &d);
		if (rc != damage[i].expect) {
			printf("  damage %zu at byte %zu\n", i, damage[i].at);
			CHECK_INT_EQ(rc, damage[i].expect);
		}
	}
	/* the ids of a damaged chunk are still reported, so the receiver can refuse that transfer */
	len = encode(&c);
	wire[2] = 0x02;
	CHECK_INT_EQ(node_snap_chunk_decode(wire, len, &d), SL_EVALUE);
	CHECK_INT_EQ(d.transfer, 9);
}

static void test_chunk_oversize(void)
{
	blob_fill();
	struct node_snap_chunk c = chunk_of(9, 4, 0), d;
	size_t len = encode(&c);
	REQUIRE(len > 0);
	/* total above REPLICA_SNAPSHOT_BYTES_MAX */
	uint64_t big = (uint64_t)REPLICA_SNAPSHOT_BYTES_MAX + 1;
	for (int i = 0; i < 8; i++)
		wire[3 + 32 + i] = (uint8_t)(big >> (56 - 8 * i));
	CHECK_INT_EQ(node_snap_chunk_decode(wire, len, &d), SL_EOVERSIZE);
	CHECK_INT_EQ(d.transfer, 9);
	/* a chunk length above NODE_SNAP_CHUNK_BYTES_MAX (whatever follows) */
	len = encode(&c);
	wire[3 + 48] = 0x01; /* len = 0x01100000 */
	CHECK_INT_EQ(node_snap_chunk_decode(wire, len, &d), SL_EOVERSIZE);
	/* a zero-length chunk is malformed */
	len = encode(&c);
	memset(wire + 3 + 48, 0, 4);
	CHECK_INT_EQ(node_snap_chunk_decode(wire, len, &d), SL_EVALUE);
}

static void test_ack_codec(void)
{
	struct node_snap_ack a = { .status = NODE_SNAP_ACK_COMPLETE, .transfer = 1234, .next = 99 }, b;
	uint8_t bytes[NODE_SNAP_ACK_BYTES + 1];
	node_snap_ack_encode(&a, bytes);
	REQUIRE(node_snap_ack_decode(bytes, NODE_SNAP_ACK_BYTES, &b) == 0);
	CHECK_INT_EQ(b.status, NODE_SNAP_ACK_COMPLETE);
	CHECK_INT_EQ(b.transfer, 1234);
	CHECK_INT_EQ(b.next, 99);
	CHECK_INT_EQ(node_snap_ack_decode(bytes, NODE_SNAP_ACK_BYTES - 1, &b), SL_ETRUNCATED);
	CHECK_INT_EQ(node_snap_ack_decode(bytes, NODE_SNAP_ACK_BYTES + 1, &b), SL_ETRAILING);
	bytes[2] = NODE_SNAP_ACK_HOLDS; /* D30: entries the follower holds */
	REQUIRE(node_snap_ack_decode(bytes, NODE_SNAP_ACK_BYTES, &b) == 0);
	CHECK_INT_EQ(b.status, NODE_SNAP_ACK_HOLDS);
	CHECK_INT_EQ(b.next, 99);
	bytes[2] = NODE_SNAP_ACK_HOLDS + 1;
	CHECK_INT_EQ(node_snap_ack_decode(bytes, NODE_SNAP_ACK_BYTES, &b), SL_EVALUE);
	node_snap_ack_encode(&a, bytes);
	bytes[0] = NODE_SNAP_KIND_CHUNK;
	CHECK_INT_EQ(node_snap_ack_decode(bytes, NODE_SNAP_ACK_BYTES, &b), SL_ETYPE);
	a.transfer = 0;
	node_snap_ack_encode(&a, bytes);
	CHECK_INT_EQ(node_snap_ack_decode(bytes, NODE_SNAP_ACK_BYTES, &b), SL_EVALUE);
	a.transfer = 1;
	a.next = (uint64_t)REPLICA_SNAPSHOT_BYTES_MAX + 1;
	node_snap_ack_encode(&a, bytes);
	CHECK_INT_EQ(node_snap_ack_decode(bytes, NODE_SNAP_ACK_BYTES, &b), SL_EVALUE);
}

/* Offer chunk k of transfer (transfer, term) through the wire, as the receiver sees it. */
static enum node_snap_verdict offer(struct node_snap_assembly *a, uint64_t from, uint64_t transfer,
				    uint64_t term, size_t k, uint64_t now_ms)
{
	struct node_snap_chunk c = chunk_of(transfer, term, k), d;
	size_t len = encode(&c);
	if (len == 0 || node_snap_chunk_decode(wire, len, &d) != 0)
		return (enum node_snap_verdict)-1;
	const char *why = NULL;
	enum node_snap_verdict v = node_snap_assembly_offer(a, from, &d, now_ms, &why);
	return why != NULL ? v : (enum node_snap_verdict)-1;
}

static void test_assembly_in_order_duplicates_and_gaps(void)
{
	blob_fill();
	struct node_snap_assembly a;
	memset(&a, 0, sizeof a);
	CHECK_INT_EQ(offer(&a, FROM, 10, 5, 0, 1000), NODE_SNAP_ACCEPTED);
	CHECK(a.active);
	CHECK_INT_EQ(a.next, NODE_SNAP_CHUNK_BYTES_MAX);
	CHECK_INT_EQ(offer(&a, FROM, 10, 5, 0, 1001), NODE_SNAP_IGNORED); /* duplicate */
	CHECK_INT_EQ(offer(&a, FROM, 10, 5, 2, 1002), NODE_SNAP_IGNORED); /* gap: chunk 1 missing */
	CHECK_INT_EQ(a.next, NODE_SNAP_CHUNK_BYTES_MAX);
	CHECK_INT_EQ(offer(&a, FROM, 10, 5, 1, 1003), NODE_SNAP_ACCEPTED);
	CHECK_INT_EQ(offer(&a, 3, 10, 5, 2, 1004), NODE_SNAP_UNKNOWN); /* another sender's ids */
	CHECK_INT_EQ(offer(&a, FROM, 10, 5, 2, 1005), NODE_SNAP_COMPLETE);
	CHECK(!a.active);
	CHECK_INT_EQ(a.next, sizeof blob);
	CHECK_INT_EQ(a.index, 40);
	CHECK_INT_EQ(offer(&a, FROM, 10, 5, 2, 1006), NODE_SNAP_UNKNOWN); /* after the end */
}

static void test_assembly_wrong_hash_is_refused(void)
{
	blob_fill();
	struct node_snap_assembly a;
	memset(&a, 0, sizeof a);
	CHECK_INT_EQ(offer(&a, FROM, 10, 5, 0, 1000), NODE_SNAP_ACCEPTED);
	blob[NODE_SNAP_CHUNK_BYTES_MAX + 7] ^= 0x01; /* chunk 1 damaged in transit (the hash is of the original) */
	struct node_snap_chunk c = chunk_of(10, 5, 1), d;
	size_t len = encode(&c);
	blob[NODE_SNAP_CHUNK_BYTES_MAX + 7] ^= 0x01;
	REQUIRE(node_snap_chunk_decode(wire, len, &d) == 0);
	const char *why = NULL;
	CHECK_INT_EQ(node_snap_assembly_offer(&a, FROM, &d, 1001, &why), NODE_SNAP_ACCEPTED);
	CHECK_INT_EQ(offer(&a, FROM, 10, 5, 2, 1002), NODE_SNAP_BAD_HASH);
	CHECK(!a.active);
	/* the sender starts over with a new transfer, undamaged: complete */
	CHECK_INT_EQ(offer(&a, FROM, 11, 5, 0, 1003), NODE_SNAP_ACCEPTED);
	CHECK_INT_EQ(offer(&a, FROM, 11, 5, 1, 1004), NODE_SNAP_ACCEPTED);
	CHECK_INT_EQ(offer(&a, FROM, 11, 5, 2, 1005), NODE_SNAP_COMPLETE);
}

static void test_assembly_stale_and_replacing_transfers(void)
{
	blob_fill();
	struct node_snap_assembly a;
	memset(&a, 0, sizeof a);
	CHECK_INT_EQ(offer(&a, FROM, 10, 5, 0, 1000), NODE_SNAP_ACCEPTED);
	CHECK_INT_EQ(offer(&a, FROM, 9, 5, 0, 1001), NODE_SNAP_IGNORED); /* an older transfer's first chunk */
	CHECK_INT_EQ(offer(&a, 3, 99, 5, 0, 1002), NODE_SNAP_IGNORED); /* another sender, same term */
	CHECK_INT_EQ(offer(&a, 3, 99, 4, 0, 1003), NODE_SNAP_IGNORED); /* an earlier leader term */
	CHECK_INT_EQ(a.transfer, 10);
	CHECK_INT_EQ(offer(&a, FROM, 12, 5, 0, 1004), NODE_SNAP_ACCEPTED); /* the same sender started over */
	CHECK_INT_EQ(a.transfer, 12);
	CHECK_INT_EQ(a.next, NODE_SNAP_CHUNK_BYTES_MAX);
	CHECK_INT_EQ(offer(&a, 3, 5, 6, 0, 1005), NODE_SNAP_ACCEPTED); /* a later leader's */
	CHECK_INT_EQ(a.from, 3);
	CHECK_INT_EQ(offer(&a, FROM, 12, 5, 1, 1006), NODE_SNAP_UNKNOWN); /* the replaced transfer's */
	/* a stalled transfer gives way to anyone */
	CHECK_INT_EQ(offer(&a, FROM, 1, 5, 0, 1005 + NODE_SNAP_STALL_MS - 1), NODE_SNAP_IGNORED);
	CHECK_INT_EQ(offer(&a, FROM, 1, 5, 0, 1005 + NODE_SNAP_STALL_MS), NODE_SNAP_ACCEPTED);
	CHECK_INT_EQ(a.from, FROM);
}

static void test_assembly_inconsistent_chunk_is_refused(void)
{
	blob_fill();
	struct node_snap_assembly a;
	memset(&a, 0, sizeof a);
	CHECK_INT_EQ(offer(&a, FROM, 10, 5, 0, 1000), NODE_SNAP_ACCEPTED);
	struct node_snap_chunk c = chunk_of(10, 5, 1);
	c.index = 41; /* the same transfer claims another compaction point */
	const char *why = NULL;
	CHECK_INT_EQ(node_snap_assembly_offer(&a, FROM, &c, 1001, &why), NODE_SNAP_REFUSED);
	CHECK(why != NULL && strstr(why, "disagrees") != NULL);
	CHECK(!a.active);
	CHECK_INT_EQ(offer(&a, FROM, 10, 5, 2, 1002), NODE_SNAP_UNKNOWN);
	memset(&a, 0, sizeof a);
	CHECK_INT_EQ(offer(&a, FROM, 10, 5, 0, 1000), NODE_SNAP_ACCEPTED);
	c = chunk_of(10, 5, 1);
	c.total += 1;
	CHECK_INT_EQ(node_snap_assembly_offer(&a, FROM, &c, 1001, &why), NODE_SNAP_REFUSED);
}

/* The base configuration plus one line. */
static int parse_with(const char *line_text, struct node_config *c, unsigned *line)
{
	const char base[] = "id = 1\nsite = a\ndata = /d\nkey = /k\npeer_listen = tcp://127.0.0.1:1\n"
			    "client_listen = tcp://127.0.0.1:2\n";
	char text[512];
	struct sl_error_detail d = { "" };
	snprintf(text, sizeof text, "%s%s\n", base, line_text);
	return node_config_parse(text, strlen(text), NULL, c, line, &d);
}

static void test_config_compact_every(void)
{
	char text[64];
	struct node_config c;
	unsigned line = 0;
	REQUIRE(parse_with("", &c, &line) == 0);
	CHECK_INT_EQ(c.compact_every, NODE_COMPACT_EVERY_DEFAULT);
	CHECK_INT_EQ(c.compact_keep, NODE_COMPACT_KEEP_DEFAULT); /* the tail a compaction leaves (D29) */
	REQUIRE(parse_with("compact_every = 0", &c, &line) == 0);
	CHECK_INT_EQ(c.compact_every, 0);
	REQUIRE(parse_with("compact_every = 25", &c, &line) == 0);
	CHECK_INT_EQ(c.compact_every, 25);
	snprintf(text, sizeof text, "compact_every = %u", (unsigned)NODE_COMPACT_EVERY_MAX + 1);
	CHECK_INT_EQ(parse_with(text, &c, &line), SL_EINVAL);
	CHECK_INT_EQ(line, 7);
	CHECK_INT_EQ(parse_with("compact_every = -1", &c, &line), SL_EINVAL);
	REQUIRE(parse_with("compact_keep = 0", &c, &line) == 0);
	CHECK_INT_EQ(c.compact_keep, 0);
	snprintf(text, sizeof text, "compact_keep = %u", (unsigned)REPLICA_COMPACT_KEEP_MAX + 1);
	CHECK_INT_EQ(parse_with(text, &c, &line), SL_EINVAL);
	CHECK_INT_EQ(line, 7);
}

static const struct test_case cases[] = {
	TEST_CASE(test_chunk_round_trip),
	TEST_CASE(test_chunk_decode_is_strict),
	TEST_CASE(test_chunk_oversize),
	TEST_CASE(test_ack_codec),
	TEST_CASE(test_assembly_in_order_duplicates_and_gaps),
	TEST_CASE(test_assembly_wrong_hash_is_refused),
	TEST_CASE(test_assembly_stale_and_replacing_transfers),
	TEST_CASE(test_assembly_inconsistent_chunk_is_refused),
	TEST_CASE(test_config_compact_every),
};
TEST_MAIN(cases)
