/* replica/batch.c — the data of a normal raft entry: a batch of records stamped with ledger time.
 *
 * Encoding (canonical msgpack, shortest forms only, nothing else accepted):
 *     array(2) [ uint ledger_time_ms, array(n) [ bin record, ... ] ],   1 <= n <= REPLICA_BATCH_RECORDS_MAX
 * Decoding borrows record bytes from the input and never reads past it.
 */
#include "replica/replica.h"
#include "util/error.h"

#include <assert.h>
#include <string.h>

static int put_u8(struct sl_buf *out, uint8_t b)
{
	return sl_buf_append(out, &b, 1);
}

static int put_be(struct sl_buf *out, uint8_t tag, uint64_t v, unsigned bytes)
{
	uint8_t tmp[9];
	tmp[0] = tag;
	for (unsigned i = 0; i < bytes; i++)
		tmp[1 + i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	return sl_buf_append(out, tmp, 1 + bytes);
}

static int put_uint(struct sl_buf *out, uint64_t v)
{
	if (v < 128)
		return put_u8(out, (uint8_t)v);
	if (v <= UINT8_MAX)
		return put_be(out, 0xcc, v, 1);
	if (v <= UINT16_MAX)
		return put_be(out, 0xcd, v, 2);
	if (v <= UINT32_MAX)
		return put_be(out, 0xce, v, 4);
	return put_be(out, 0xcf, v, 8);
}

static int put_array(struct sl_buf *out, size_t n)
{
	if (n < 16)
		return put_u8(out, (uint8_t)(0x90 | n));
	if (n <= UINT16_MAX)
		return put_be(out, 0xdc, n, 2);
	return put_be(out, 0xdd, n, 4);
}

static int put_bin(struct sl_buf *out, const uint8_t *bytes, size_t len)
{
	int rc;
	if (len <= UINT8_MAX)
		rc = put_be(out, 0xc4, len, 1);
	else if (len <= UINT16_MAX)
		rc = put_be(out, 0xc5, len, 2);
	else
		rc = put_be(out, 0xc6, len, 4);
	return rc == 0 ? sl_buf_append(out, bytes, len) : rc;
}

int replica_batch_encode(uint64_t ledger_time_ms, const struct ledger_input *records, size_t count,
			 struct sl_buf *out)
{
	if (count == 0 || count > REPLICA_BATCH_RECORDS_MAX)
		return SL_EINVAL;
	int rc = put_array(out, 2);
	if (rc == 0)
		rc = put_uint(out, ledger_time_ms);
	if (rc == 0)
		rc = put_array(out, count);
	for (size_t i = 0; rc == 0 && i < count; i++) {
		if (records[i].len == 0 || records[i].len > RECORD_BYTES_MAX)
			return SL_EINVAL;
		rc = put_bin(out, records[i].bytes, records[i].len);
	}
	return rc;
}

struct reader {
	const uint8_t *p;
	size_t left;
};

static int get_be(struct reader *r, unsigned bytes, uint64_t *v)
{
	if (r->left < bytes)
		return SL_ETRUNCATED;
	*v = 0;
	for (unsigned i = 0; i < bytes; i++)
		*v = (*v << 8) | r->p[i];
	r->p += bytes;
	r->left -= bytes;
	return 0;
}

static int get_tag(struct reader *r, uint8_t *tag)
{
	if (r->left == 0)
		return SL_ETRUNCATED;
	*tag = *r->p++;
	r->left--;
	return 0;
}

/* Shortest-form check: the value needed the width used. */
static int get_uint(struct reader *r, uint64_t *v)
{
	uint8_t tag;
	int rc = get_tag(r, &tag);
	if (rc != 0)
		return rc;
	if (tag < 0x80) {
		*v = tag;
		return 0;
	}
	static const uint64_t min[4] = { 128, UINT8_MAX + 1ull, UINT16_MAX + 1ull, UINT32_MAX + 1ull };
	if (tag < 0xcc || tag > 0xcf)
		return SL_ETYPE;
	unsigned k = tag - 0xcc;
	rc = get_be(r, 1u << k, v);
	return rc != 0 ? rc : *v < min[k] ? SL_ENONCANONICAL : 0;
}

static int get_array(struct reader *r, uint64_t *n)
{
	uint8_t tag;
	int rc = get_tag(r, &tag);
	if (rc != 0)
		return rc;
	if ((tag & 0xf0) == 0x90) {
		*n = tag & 0x0f;
		return 0;
	}
	if (tag == 0xdc) {
		rc = get_be(r, 2, n);
		return rc != 0 ? rc : *n < 16 ? SL_ENONCANONICAL : 0;
	}
	if (tag == 0xdd) {
		rc = get_be(r, 4, n);
		return rc != 0 ? rc : *n <= UINT16_MAX ? SL_ENONCANONICAL : 0;
	}
	return SL_ETYPE;
}

static int get_bin(struct reader *r, struct ledger_input *out)
{
	uint8_t tag;
	uint64_t len;
	int rc = get_tag(r, &tag);
	if (rc != 0)
		return rc;
	if (tag < 0xc4 || tag > 0xc6)
		return SL_ETYPE;
	static const uint64_t min[3] = { 0, UINT8_MAX + 1ull, UINT16_MAX + 1ull };
	unsigned k = tag - 0xc4;
	rc = get_be(r, 1u << k, &len);
	if (rc != 0)
		return rc;
	if (len < min[k])
		return SL_ENONCANONICAL;
	if (len == 0 || len > RECORD_BYTES_MAX)
		return SL_EVALUE;
	if (len > r->left)
		return SL_ETRUNCATED;
	out->bytes = r->p;
	out->len = (size_t)len;
	r->p += len;
	r->left -= (size_t)len;
	return 0;
}

int replica_batch_decode(const uint8_t *bytes, size_t len, uint64_t *ledger_time_ms, struct ledger_input *records,
			 size_t cap, size_t *count)
{
	assert(count != NULL && ledger_time_ms != NULL);
	struct reader r = { bytes, bytes == NULL ? 0 : len };
	uint64_t n = 0;
	*count = 0;
	int rc = get_array(&r, &n);
	if (rc == 0 && n != 2)
		rc = SL_EVALUE;
	if (rc == 0)
		rc = get_uint(&r, ledger_time_ms);
	if (rc == 0)
		rc = get_array(&r, &n);
	if (rc == 0 && (n == 0 || n > REPLICA_BATCH_RECORDS_MAX || n > cap))
		rc = SL_EOVERSIZE;
	for (uint64_t i = 0; rc == 0 && i < n; i++)
		rc = get_bin(&r, &records[i]);
	if (rc == 0 && r.left != 0)
		rc = SL_ETRAILING;
	if (rc == 0)
		*count = (size_t)n;
	return rc;
}
