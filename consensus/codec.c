/* consensus/codec.c — the byte encoding of Raft messages and configuration changes.
 *
 * Message layout (all integers unsigned LEB128 varints, shortest form only):
 *
 *   u8 version (1) | u8 type (1..RAFT_MSG_TYPE_MAX) | u8 flags (RAFT_MSG_FLAG_* only)
 *   from | to | term | log_term | index | commit | reject_hint | context
 *   SNAPSHOT only: snap.index | snap.term | u8 voters_count | voters... | u8 learners_count | learners...
 *   entries_count (0 unless APPEND; <= RAFT_MSG_ENTRIES_MAX)
 *   per entry: term | u8 type | len (<= RAFT_ENTRY_BYTES_MAX) | len bytes
 *
 * Entry indexes are not sent: entry i has index `index + 1 + i`, so an encoding cannot carry a
 * gap. The decoder is strict: it rejects truncation, overlong or overflowing varints, unknown
 * types and flags, invalid configurations, entries on non-append messages, decreasing entry
 * terms, any message over RAFT_MSG_BYTES_MAX, and trailing bytes. It never reads past len.
 *
 * Conf change layout: u8 version (1) | u8 type (1..3) | node_id (nonzero).
 */
#include <string.h>

#include "consensus/internal.h"

#define CODEC_VERSION 1
#define VARINT_BYTES_MAX 10 /* ceil(64 / 7) */
#define MSG_HEADER_BYTES_MAX (3 + 8 * VARINT_BYTES_MAX)
#define MSG_SNAPSHOT_BYTES_MAX (2 * VARINT_BYTES_MAX + 2 + RAFT_NODES_MAX * VARINT_BYTES_MAX)
#define ENTRY_HEADER_BYTES_MAX (2 * VARINT_BYTES_MAX + 1)

struct writer {
	uint8_t *out;
	size_t cap;
	size_t len;
	bool overflow;
};

static void put_u8(struct writer *w, uint8_t v)
{
	if (w->len >= w->cap) {
		w->overflow = true;
		return;
	}
	w->out[w->len++] = v;
}

static void put_varint(struct writer *w, uint64_t v)
{
	while (v >= 0x80) {
		put_u8(w, (uint8_t)(v | 0x80));
		v >>= 7;
	}
	put_u8(w, (uint8_t)v);
}

static void put_bytes(struct writer *w, const uint8_t *bytes, size_t len)
{
	if (len > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	if (len > 0)
		memcpy(w->out + w->len, bytes, len);
	w->len += len;
}

struct reader {
	const uint8_t *in;
	size_t len;
	size_t pos;
	int error;
};

static uint8_t get_u8(struct reader *rd)
{
	if (rd->error)
		return 0;
	if (rd->pos >= rd->len) {
		rd->error = RAFT_ETRUNCATED;
		return 0;
	}
	return rd->in[rd->pos++];
}

static uint64_t get_varint(struct reader *rd)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < VARINT_BYTES_MAX; i++) {
		uint8_t b = get_u8(rd);
		if (rd->error)
			return 0;
		if (i == VARINT_BYTES_MAX - 1 && b > 1) {
			rd->error = RAFT_EMALFORMED; /* bits past 64 */
			return 0;
		}
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			if (b == 0 && i > 0)
				rd->error = RAFT_EMALFORMED; /* overlong: not the shortest form */
			return v;
		}
	}
	rd->error = RAFT_EMALFORMED;
	return 0;
}

static bool msg_type_valid(uint8_t type)
{
	return type >= RAFT_MSG_APPEND && type <= RAFT_MSG_TYPE_MAX;
}

size_t raft_msg_encoded_bytes_max(const struct raft_msg *msg)
{
	size_t bytes = MSG_HEADER_BYTES_MAX + MSG_SNAPSHOT_BYTES_MAX + VARINT_BYTES_MAX;
	for (size_t i = 0; i < msg->entries_count && i <= RAFT_MSG_ENTRIES_MAX; i++) {
		size_t len = msg->entries[i].len;
		if (len > RAFT_MSG_BYTES_MAX)
			len = RAFT_MSG_BYTES_MAX; /* encode refuses it anyway; keep the sum bounded */
		bytes += ENTRY_HEADER_BYTES_MAX + len;
	}
	return bytes;
}

static int msg_check_encodable(const struct raft_msg *msg)
{
	if (!msg_type_valid(msg->type) || (msg->flags & ~(RAFT_MSG_FLAG_REJECT | RAFT_MSG_FLAG_TRANSFER)))
		return RAFT_EINVAL;
	if (msg->entries_count > RAFT_MSG_ENTRIES_MAX || (msg->entries_count && msg->type != RAFT_MSG_APPEND))
		return RAFT_EINVAL;
	if (msg->type == RAFT_MSG_SNAPSHOT && !conf_valid(&msg->snapshot.conf))
		return RAFT_EINVAL;
	size_t total = 0;
	for (size_t i = 0; i < msg->entries_count; i++) {
		const struct raft_entry *e = &msg->entries[i];
		if (e->index != msg->index + 1 + i || e->type > RAFT_ENTRY_CONF_CHANGE ||
		    e->len > RAFT_ENTRY_BYTES_MAX || (e->len > 0 && e->data == NULL))
			return RAFT_EINVAL;
		total += e->len;
		if (total > RAFT_MSG_BYTES_MAX)
			return RAFT_EINVAL;
	}
	return 0;
}

static void put_ids(struct writer *w, const uint64_t *ids, uint8_t n)
{
	put_u8(w, n);
	for (size_t i = 0; i < n; i++)
		put_varint(w, ids[i]);
}

int raft_msg_encode(const struct raft_msg *msg, uint8_t *out, size_t cap, size_t *len_out)
{
	int rc = msg_check_encodable(msg);
	if (rc != 0)
		return rc;
	struct writer w = { .out = out, .cap = cap };
	put_u8(&w, CODEC_VERSION);
	put_u8(&w, msg->type);
	put_u8(&w, msg->flags);
	const uint64_t fields[] = { msg->from,	 msg->to,     msg->term,	msg->log_term,
				    msg->index,	 msg->commit, msg->reject_hint, msg->context };
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		put_varint(&w, fields[i]);
	if (msg->type == RAFT_MSG_SNAPSHOT) {
		put_varint(&w, msg->snapshot.index);
		put_varint(&w, msg->snapshot.term);
		put_ids(&w, msg->snapshot.conf.voters, msg->snapshot.conf.voters_count);
		put_ids(&w, msg->snapshot.conf.learners, msg->snapshot.conf.learners_count);
	}
	put_varint(&w, msg->entries_count);
	for (size_t i = 0; i < msg->entries_count; i++) {
		const struct raft_entry *e = &msg->entries[i];
		put_varint(&w, e->term);
		put_u8(&w, e->type);
		put_varint(&w, e->len);
		put_bytes(&w, e->data, e->len);
	}
	if (w.overflow)
		return RAFT_ELIMIT;
	if (w.len > RAFT_MSG_BYTES_MAX)
		return RAFT_EINVAL;
	*len_out = w.len;
	return 0;
}

static void get_ids(struct reader *rd, uint64_t *ids, uint8_t *n, size_t max)
{
	uint8_t count = get_u8(rd);
	if (!rd->error && count > max)
		rd->error = RAFT_EOVERSIZE;
	if (rd->error)
		return;
	for (size_t i = 0; i < count; i++)
		ids[i] = get_varint(rd);
	*n = count;
}

static void decode_entries(struct reader *rd, struct raft_msg *msg, struct raft_entry *entries, size_t entries_cap)
{
	uint64_t count = get_varint(rd);
	if (rd->error)
		return;
	if (count > RAFT_MSG_ENTRIES_MAX || count > entries_cap || msg->index > UINT64_MAX - count) {
		rd->error = RAFT_EOVERSIZE;
		return;
	}
	if (count > 0 && msg->type != RAFT_MSG_APPEND) {
		rd->error = RAFT_EMALFORMED;
		return;
	}
	uint64_t prev_term = msg->log_term;
	for (size_t i = 0; i < count && !rd->error; i++) {
		struct raft_entry *e = &entries[i];
		e->index = msg->index + 1 + i;
		e->term = get_varint(rd);
		e->type = get_u8(rd);
		uint64_t len = get_varint(rd);
		if (rd->error)
			return;
		if (e->type > RAFT_ENTRY_CONF_CHANGE || e->term < prev_term || e->term > msg->term) {
			rd->error = RAFT_EMALFORMED; /* terms never decrease along a log (§3.5) */
			return;
		}
		if (len > RAFT_ENTRY_BYTES_MAX) {
			rd->error = RAFT_EOVERSIZE;
			return;
		}
		if (len > rd->len - rd->pos) {
			rd->error = RAFT_ETRUNCATED;
			return;
		}
		e->len = (size_t)len;
		e->data = len ? rd->in + rd->pos : NULL;
		rd->pos += (size_t)len;
		prev_term = e->term;
	}
	msg->entries = count ? entries : NULL;
	msg->entries_count = (size_t)count;
}

int raft_msg_decode(const uint8_t *bytes, size_t len, struct raft_msg *msg, struct raft_entry *entries,
		    size_t entries_cap)
{
	memset(msg, 0, sizeof *msg);
	if (len > RAFT_MSG_BYTES_MAX)
		return RAFT_EOVERSIZE;
	struct reader rd = { .in = bytes, .len = len };
	uint8_t version = get_u8(&rd);
	msg->type = get_u8(&rd);
	msg->flags = get_u8(&rd);
	if (rd.error)
		return rd.error;
	if (version != CODEC_VERSION || !msg_type_valid(msg->type) ||
	    (msg->flags & ~(RAFT_MSG_FLAG_REJECT | RAFT_MSG_FLAG_TRANSFER)))
		return RAFT_EMALFORMED;
	uint64_t *fields[] = { &msg->from,  &msg->to,	  &msg->term,	     &msg->log_term,
			       &msg->index, &msg->commit, &msg->reject_hint, &msg->context };
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		*fields[i] = get_varint(&rd);
	if (msg->type == RAFT_MSG_SNAPSHOT) {
		msg->snapshot.index = get_varint(&rd);
		msg->snapshot.term = get_varint(&rd);
		get_ids(&rd, msg->snapshot.conf.voters, &msg->snapshot.conf.voters_count, RAFT_VOTERS_MAX);
		get_ids(&rd, msg->snapshot.conf.learners, &msg->snapshot.conf.learners_count, RAFT_LEARNERS_MAX);
		if (!rd.error && !conf_valid(&msg->snapshot.conf))
			rd.error = RAFT_EMALFORMED;
	}
	decode_entries(&rd, msg, entries, entries_cap);
	if (!rd.error && rd.pos != len)
		rd.error = RAFT_EMALFORMED; /* trailing bytes */
	if (rd.error) {
		memset(msg, 0, sizeof *msg);
		return rd.error;
	}
	return 0;
}

int raft_conf_change_encode(const struct raft_conf_change *change, uint8_t out[RAFT_CONF_CHANGE_BYTES_MAX],
			    size_t *len_out)
{
	if (change->type < RAFT_CONF_ADD_VOTER || change->type > RAFT_CONF_REMOVE || change->node_id == 0)
		return RAFT_EINVAL;
	struct writer w = { .out = out, .cap = RAFT_CONF_CHANGE_BYTES_MAX };
	put_u8(&w, CODEC_VERSION);
	put_u8(&w, change->type);
	put_varint(&w, change->node_id);
	assert(!w.overflow);
	*len_out = w.len;
	return 0;
}

int raft_conf_change_decode(const uint8_t *bytes, size_t len, struct raft_conf_change *change)
{
	struct reader rd = { .in = bytes, .len = len };
	memset(change, 0, sizeof *change);
	uint8_t version = get_u8(&rd);
	change->type = get_u8(&rd);
	change->node_id = get_varint(&rd);
	if (rd.error)
		return rd.error;
	if (version != CODEC_VERSION || change->type < RAFT_CONF_ADD_VOTER || change->type > RAFT_CONF_REMOVE ||
	    change->node_id == 0 || rd.pos != len)
		return RAFT_EMALFORMED;
	return 0;
}

int codec_conf_change_block(const struct raft_conf_change *change, const uint8_t **data, size_t *len)
{
	uint8_t buf[RAFT_CONF_CHANGE_BYTES_MAX];
	int rc = raft_conf_change_encode(change, buf, len);
	if (rc != 0)
		return rc;
	bool ok;
	*data = data_new(buf, *len, &ok);
	return ok ? 0 : RAFT_ENOMEM;
}
