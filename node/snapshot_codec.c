/* node/snapshot_codec.c — the peer messages of snapshot streaming and the receiver's assembly
 * rules, both pure (no I/O, no clock: the caller passes the time). node/snapshot.c does the rest.
 *
 * Wire format (docs/operations.md "Peer protocol"); integers big-endian, fixed width. The first
 * byte of an opened peer message is its kind: 1 is a raft message (its codec version),
 * NODE_SNAP_KIND_CHUNK and NODE_SNAP_KIND_ACK are these two (high bit set: never a raft version).
 *
 *     chunk: u8 kind 0x81 | u8 version 1 | u8 flags (0x01 LAST) | u64 transfer | u64 leader_term |
 *            u64 index | u64 term | u64 total | u64 offset | u32 len | len bytes |
 *            LAST only: SHA-256 of the whole snapshot (32 bytes)
 *     ack:   u8 kind 0x82 | u8 version 1 | u8 status (0 progress, 1 complete, 2 refused) |
 *            u64 transfer | u64 next (bytes received in order)
 *
 * Decoding is strict: exact kind, version and flags; nonzero transfer, terms and index; the
 * snapshot's term not above the leader's; 1 <= total <= REPLICA_SNAPSHOT_BYTES_MAX and
 * 1 <= len <= NODE_SNAP_CHUNK_BYTES_MAX (SL_EOVERSIZE beyond); offset + len <= total; LAST exactly
 * on the chunk that ends at total; no byte missing (SL_ETRUNCATED) or left over (SL_ETRAILING).
 *
 * Assembly (node_snap_assembly_offer), the receiver's rules:
 *  1. One transfer at a time. A first chunk (offset 0) of another transfer replaces the current
 *     one when none is active, the current one stalled (NODE_SNAP_STALL_MS without a chunk), the
 *     new one comes from a later leader term, or from the same sender in the same term with a
 *     larger transfer id (ids grow); otherwise it is stale and ignored.
 *  2. A chunk of the current transfer must repeat its leader term, index, term and total, else
 *     the transfer is refused (inconsistent); a chunk of no current transfer past offset 0 is
 *     unknown (the sender is told to start again).
 *  3. Chunks are taken in order only: offset below the bytes taken is a duplicate, above them a
 *     gap (a chunk was lost); both are ignored and the sender resends from the acknowledged point.
 *  4. The hash covers the bytes in the order taken; on the last chunk it must equal the one the
 *     sender computed, else the transfer is refused. Refused and complete transfers end.
 */
#include <assert.h>
#include <string.h>

#include "node/node.h"
#include "util/error.h"

#define CHUNK_VERSION 1
#define ACK_VERSION 1

_Static_assert(NODE_SNAP_CHUNK_HEADER_BYTES == 3 + 6 * 8 + 4, "chunk header layout");
_Static_assert(NODE_SNAP_ACK_BYTES == 3 + 2 * 8, "ack layout");
_Static_assert(NODE_SNAP_CHUNK_BYTES_MAX + NODE_SNAP_CHUNK_HEADER_BYTES + CRYPTO_SHA256_BYTES <= RAFT_MSG_BYTES_MAX,
	       "a chunk fits the peer transport's message limit");

static void put_u64(uint8_t *out, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

static uint64_t get_u64(const uint8_t *in)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | in[i];
	return v;
}

size_t node_snap_chunk_encoded_bytes(size_t len, bool last)
{
	return NODE_SNAP_CHUNK_HEADER_BYTES + len + (last ? CRYPTO_SHA256_BYTES : 0);
}

int node_snap_chunk_encode(const struct node_snap_chunk *c, uint8_t *out, size_t cap, size_t *len_out)
{
	assert(c != NULL && out != NULL && len_out != NULL);
	bool last = (c->flags & NODE_SNAP_FLAG_LAST) != 0;
	if (c->len == 0 || c->len > NODE_SNAP_CHUNK_BYTES_MAX || c->data == NULL || c->offset > c->total ||
	    c->len > c->total - c->offset || last != (c->offset + c->len == c->total))
		return SL_EINVAL;
	size_t need = node_snap_chunk_encoded_bytes(c->len, last);
	if (cap < need)
		return SL_ELIMIT;
	out[0] = NODE_SNAP_KIND_CHUNK;
	out[1] = CHUNK_VERSION;
	out[2] = c->flags;
	const uint64_t fields[6] = { c->transfer, c->leader_term, c->index, c->term, c->total, c->offset };
	for (size_t i = 0; i < 6; i++)
		put_u64(out + 3 + 8 * i, fields[i]);
	uint8_t *p = out + 3 + 6 * 8;
	p[0] = (uint8_t)(c->len >> 24);
	p[1] = (uint8_t)(c->len >> 16);
	p[2] = (uint8_t)(c->len >> 8);
	p[3] = (uint8_t)c->len;
	memcpy(out + NODE_SNAP_CHUNK_HEADER_BYTES, c->data, c->len);
	if (last)
		memcpy(out + NODE_SNAP_CHUNK_HEADER_BYTES + c->len, c->hash, CRYPTO_SHA256_BYTES);
	*len_out = need;
	return 0;
}

/* The fixed header into c (the ids are set even when a later check fails, so the receiver can
 * answer the transfer it names). */
static int chunk_header_decode(const uint8_t *bytes, size_t len, struct node_snap_chunk *c)
{
	if (len < NODE_SNAP_CHUNK_HEADER_BYTES)
		return SL_ETRUNCATED;
	if (bytes[0] != NODE_SNAP_KIND_CHUNK)
		return SL_ETYPE;
	if (bytes[1] != CHUNK_VERSION)
		return SL_EVERSION;
	c->flags = bytes[2];
	uint64_t *fields[6] = { &c->transfer, &c->leader_term, &c->index, &c->term, &c->total, &c->offset };
	for (size_t i = 0; i < 6; i++)
		*fields[i] = get_u64(bytes + 3 + 8 * i);
	const uint8_t *p = bytes + 3 + 6 * 8;
	c->len = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | (size_t)p[3];
	if ((c->flags & ~NODE_SNAP_FLAG_LAST) != 0 || c->transfer == 0 || c->leader_term == 0 || c->index == 0 ||
	    c->term == 0 || c->term > c->leader_term)
		return SL_EVALUE;
	return 0;
}

int node_snap_chunk_decode(const uint8_t *bytes, size_t len, struct node_snap_chunk *c)
{
	assert(bytes != NULL || len == 0);
	memset(c, 0, sizeof *c);
	int rc = chunk_header_decode(bytes, len, c);
	if (rc != 0)
		return rc;
	if (c->total > REPLICA_SNAPSHOT_BYTES_MAX || c->len > NODE_SNAP_CHUNK_BYTES_MAX)
		return SL_EOVERSIZE;
	bool last = (c->flags & NODE_SNAP_FLAG_LAST) != 0;
	if (c->total == 0 || c->len == 0 || c->offset > c->total || c->len > c->total - c->offset ||
	    last != (c->offset + c->len == c->total))
		return SL_EVALUE;
	size_t need = node_snap_chunk_encoded_bytes(c->len, last);
	if (len < need)
		return SL_ETRUNCATED;
	if (len > need)
		return SL_ETRAILING;
	c->data = bytes + NODE_SNAP_CHUNK_HEADER_BYTES;
	if (last)
		memcpy(c->hash, c->data + c->len, CRYPTO_SHA256_BYTES);
	return 0;
}

void node_snap_ack_encode(const struct node_snap_ack *a, uint8_t out[NODE_SNAP_ACK_BYTES])
{
	assert(a->status <= NODE_SNAP_ACK_HOLDS);
	out[0] = NODE_SNAP_KIND_ACK;
	out[1] = ACK_VERSION;
	out[2] = a->status;
	put_u64(out + 3, a->transfer);
	put_u64(out + 11, a->next);
}

int node_snap_ack_decode(const uint8_t *bytes, size_t len, struct node_snap_ack *a)
{
	memset(a, 0, sizeof *a);
	if (len < NODE_SNAP_ACK_BYTES)
		return SL_ETRUNCATED;
	if (len > NODE_SNAP_ACK_BYTES)
		return SL_ETRAILING;
	if (bytes[0] != NODE_SNAP_KIND_ACK)
		return SL_ETYPE;
	if (bytes[1] != ACK_VERSION)
		return SL_EVERSION;
	a->status = bytes[2];
	a->transfer = get_u64(bytes + 3);
	a->next = get_u64(bytes + 11);
	if (a->status > NODE_SNAP_ACK_HOLDS || a->transfer == 0 || a->next > REPLICA_SNAPSHOT_BYTES_MAX)
		return SL_EVALUE;
	return 0;
}

/* Rule 1: does the first chunk c (from `from`) replace the current transfer? */
static bool assembly_replaced_by(const struct node_snap_assembly *a, uint64_t from, const struct node_snap_chunk *c,
				 uint64_t now_ms)
{
	if (!a->active || now_ms - a->last_ms >= NODE_SNAP_STALL_MS)
		return true;
	if (c->leader_term != a->leader_term)
		return c->leader_term > a->leader_term;
	return from == a->from && c->transfer > a->transfer;
}

static void assembly_begin(struct node_snap_assembly *a, uint64_t from, const struct node_snap_chunk *c)
{
	memset(a, 0, sizeof *a);
	a->active = true;
	a->from = from;
	a->transfer = c->transfer;
	a->leader_term = c->leader_term;
	a->index = c->index;
	a->term = c->term;
	a->total = c->total;
	crypto_sha256_stream_init(&a->hash);
}

static enum node_snap_verdict assembly_refuse(struct node_snap_assembly *a, const char **why, const char *what,
					      enum node_snap_verdict verdict)
{
	a->active = false;
	*why = what;
	return verdict;
}

enum node_snap_verdict node_snap_assembly_offer(struct node_snap_assembly *a, uint64_t from,
						 const struct node_snap_chunk *c, uint64_t now_ms, const char **why)
{
	assert(a != NULL && c != NULL && why != NULL);
	*why = "";
	bool current = a->active && a->from == from && a->transfer == c->transfer;
	if (!current && c->offset == 0) {
		if (!assembly_replaced_by(a, from, c, now_ms)) {
			*why = "stale transfer";
			return NODE_SNAP_IGNORED;
		}
		assembly_begin(a, from, c);
	} else if (!current) {
		*why = "no such transfer";
		return NODE_SNAP_UNKNOWN;
	}
	if (c->leader_term != a->leader_term || c->index != a->index || c->term != a->term || c->total != a->total)
		return assembly_refuse(a, why, "chunk disagrees with its transfer", NODE_SNAP_REFUSED);
	if (c->offset != a->next) {
		*why = c->offset < a->next ? "duplicate chunk" : "chunk after a gap";
		return NODE_SNAP_IGNORED;
	}
	assert(c->len <= a->total - a->next); /* the decoder checked offset + len <= total */
	crypto_sha256_stream_update(&a->hash, c->data, c->len);
	a->next += c->len;
	a->last_ms = now_ms;
	if (a->next < a->total)
		return NODE_SNAP_ACCEPTED;
	uint8_t digest[CRYPTO_SHA256_BYTES];
	crypto_sha256_stream_final(&a->hash, digest);
	if (memcmp(digest, c->hash, sizeof digest) != 0)
		return assembly_refuse(a, why, "SHA-256 of the snapshot differs from the sender's", NODE_SNAP_BAD_HASH);
	a->active = false;
	return NODE_SNAP_COMPLETE;
}
