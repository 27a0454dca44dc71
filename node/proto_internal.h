/* node/proto_internal.h — what node/proto.c and node/proto_admin.c share; included by nothing else
 * but their unit tests.
 *
 * Owns: the small codec helpers both halves of the client protocol use (defined in proto.c), and
 * the membership hooks proto.c calls in proto_admin.c.
 *
 * Rules:
 *  1. Same as proto.h: every helper is strict and bounded, and returns 0 or an SL_E* code.
 *  2. Decoded strings are copied into fixed fields with their NUL; nothing here borrows.
 */
#ifndef SL_NODE_PROTO_INTERNAL_H
#define SL_NODE_PROTO_INTERNAL_H

#include "node/proto.h"

/* A C string as a msgpack str. */
int proto_cstr_write(struct sl_buf *out, const char *s);
/* Copy a decoded string into a fixed field of `size` bytes; SL_EOVERSIZE when it does not fit with its NUL. */
int proto_cstr_read(struct codec_reader *r, char *dst, size_t size);
/* An array header of exactly `fields` elements: more is the reader's bound error, fewer SL_EVALUE. */
int proto_fields_expect(struct codec_reader *r, uint32_t fields);
/* Open a request body: a map header of `fields` entries, then 0: version, 1: type, 2: a fresh
 * random nonce; the caller writes the remaining fields-3 entries. */
int proto_body_begin(struct sl_buf *out, uint32_t fields, uint8_t type);

/* For proto.c: the signed envelope around a body; the admin body fields (key 12 or 13) of req;
 * the members and registry of a response (keys 11 and 12); the admin fields' presence rules. */
int proto_request_wrap(const struct sl_buf *body, const struct crypto_secret_key *sk, struct sl_buf *out);
int proto_admin_body_read(struct codec_reader *r, unsigned key, struct proto_request *req);
int proto_admin_body_check(const struct proto_request *req, uint64_t seen, struct sl_error_detail *detail);
int proto_members_encode(const struct proto_members *m, struct sl_buf *out); /* keys 11 and 12 */
int proto_members_decode(struct codec_reader *r, unsigned key, struct proto_members *m);

#endif
