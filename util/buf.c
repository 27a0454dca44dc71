/* util/buf.c — growable byte buffer (see buf.h). */
#include "util/buf.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

void sl_buf_init(struct sl_buf *buf, size_t limit)
{
	assert(buf != NULL);
	assert(limit > 0);
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
	buf->limit = limit;
}

void sl_buf_free(struct sl_buf *buf)
{
	free(buf->data);
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
}

void sl_buf_reset(struct sl_buf *buf)
{
	buf->len = 0;
}

int sl_buf_reserve(struct sl_buf *buf, size_t more)
{
	assert(buf->len <= buf->limit);
	if (more > buf->limit - buf->len)
		return SL_ELIMIT;
	size_t need = buf->len + more;
	if (need <= buf->cap)
		return 0;
	size_t cap = buf->cap ? buf->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > buf->limit)
		cap = buf->limit;
	uint8_t *data = realloc(buf->data, cap);
	if (data == NULL)
		return SL_ENOMEM;
	buf->data = data;
	buf->cap = cap;
	return 0;
}

int sl_buf_append(struct sl_buf *buf, const void *bytes, size_t len)
{
	int rc = sl_buf_reserve(buf, len);
	if (rc != 0)
		return rc;
	if (len > 0)
		memcpy(buf->data + buf->len, bytes, len);
	buf->len += len;
	return 0;
}

struct sl_str sl_str_from_cstr(const char *cstr)
{
	return (struct sl_str){ cstr, strlen(cstr) };
}

bool sl_str_eq(struct sl_str a, struct sl_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool sl_str_eq_cstr(struct sl_str a, const char *cstr)
{
	return sl_str_eq(a, sl_str_from_cstr(cstr));
}

int sl_str_copy(struct sl_str s, char *dst, size_t dst_size)
{
	assert(dst_size > 0);
	if (s.len >= dst_size)
		return SL_ELIMIT;
	if (s.len > 0)
		memcpy(dst, s.ptr, s.len);
	dst[s.len] = '\0';
	return 0;
}
