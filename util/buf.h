/* util/buf.h — growable byte buffer and borrowed string views.
 *
 * Rules:
 *  1. A struct sl_buf owns its memory; release it with sl_buf_free(). Pointers into data are
 *     invalidated by any call that may grow the buffer.
 *  2. A struct sl_str is a borrowed view (not NUL-terminated); it is valid only as long as the
 *     memory it points into.
 *  3. Growth is bounded by the cap given to sl_buf_init (SL_ELIMIT beyond it), so no input can make a
 *     buffer grow without limit.
 */
#ifndef SL_UTIL_BUF_H
#define SL_UTIL_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t limit; /* hard maximum for len, bytes */
};

struct sl_str {
	const char *ptr;
	size_t len;
};

#define SL_STR(literal) ((struct sl_str){ (literal), sizeof(literal) - 1 })

void sl_buf_init(struct sl_buf *buf, size_t limit);
void sl_buf_free(struct sl_buf *buf);
void sl_buf_reset(struct sl_buf *buf); /* len = 0, keeps memory */
/* Make room for `more` bytes; SL_ELIMIT if len + more would exceed the limit, SL_ENOMEM. */
int sl_buf_reserve(struct sl_buf *buf, size_t more);
int sl_buf_append(struct sl_buf *buf, const void *bytes, size_t len);

struct sl_str sl_str_from_cstr(const char *cstr);
bool sl_str_eq(struct sl_str a, struct sl_str b);
bool sl_str_eq_cstr(struct sl_str a, const char *cstr);
/* Copy into dst (size dst_size) with NUL; SL_ELIMIT when it does not fit. */
int sl_str_copy(struct sl_str s, char *dst, size_t dst_size);

#endif
