/* node/proto.c — client request/response codec (node/proto.h), and the codec helpers proto_admin.c
 * shares with it (node/proto_internal.h). */
#include "node/proto_internal.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "crypto/random.h"
#include "ledger/codec.h"
#include "ledger/reason.h"

#define ITEM_FIELDS 15 /* struct store_item, in declaration order */
#define NODE_FIELDS 9  /* struct proto_node_status, in declaration order */
#define RESULT_FIELDS 4
#define CHUNK_FIELDS 8 /* struct proto_chunk on the wire (proto.h) */

static int query_decode(struct codec_reader *r, struct proto_query *q);
static int cursor_decode(struct codec_reader *r, struct proto_cursor *c);
static int chunk_encode(const struct proto_chunk *c, struct sl_buf *out);
static int chunk_decode(struct codec_reader *r, struct proto_chunk *c);

static const char *const code_names[] = { "OK", "REDIRECT", "UNAVAILABLE", "REFUSED",
					  "INVALID", "BUSY", "NOT_FOUND", "TIMEOUT" };
_Static_assert(sizeof code_names / sizeof code_names[0] == PROTO_CODE_MAX + 1, "one name per code");

const char *proto_code_name(int code)
{
	return code >= 0 && code <= PROTO_CODE_MAX ? code_names[code] : "?";
}

bool proto_type_known(uint64_t type)
{
	switch (type) {
	case PROTO_SUBMIT:
	case PROTO_ITEM_STATUS:
	case PROTO_NODE_STATUS:
	case PROTO_QUERY:
	case PROTO_EXPORT:
	case PROTO_CHECKPOINT:
	case PROTO_MEMBERS:
	case PROTO_MEMBER_CHANGE:
	case PROTO_LEADER_TRANSFER:
		return true;
	default:
		return false;
	}
}

int proto_body_begin(struct sl_buf *out, uint32_t fields, uint8_t type)
{
	assert(fields >= 3);
	uint8_t nonce[PROTO_NONCE_BYTES];
	crypto_random_bytes(nonce, sizeof nonce);
	int rc = codec_write_map_header(out, fields);
	if (rc == 0 && (rc = codec_write_uint(out, 0)) == 0)
		rc = codec_write_uint(out, PROTO_VERSION);
	if (rc == 0 && (rc = codec_write_uint(out, 1)) == 0)
		rc = codec_write_uint(out, type);
	if (rc == 0 && (rc = codec_write_uint(out, 2)) == 0)
		rc = codec_write_bin(out, nonce, sizeof nonce);
	return rc;
}

static int body_encode(uint8_t type, const struct ledger_input *records, size_t count, const char *item,
		       struct sl_buf *out)
{
	bool submit = type == PROTO_SUBMIT;
	bool has_item = type == PROTO_ITEM_STATUS;
	int rc = proto_body_begin(out, submit || has_item ? 4 : 3, type);
	if (rc == 0 && submit) {
		rc = codec_write_uint(out, 3);
		if (rc == 0)
			rc = codec_write_array_header(out, (uint32_t)count);
		for (size_t i = 0; rc == 0 && i < count; i++)
			rc = codec_write_bin(out, records[i].bytes, records[i].len);
	} else if (rc == 0 && has_item) {
		rc = codec_write_uint(out, 4);
		if (rc == 0)
			rc = codec_write_str(out, item != NULL ? item : "", item != NULL ? strlen(item) : 0);
	}
	return rc;
}

/* request = { body, key id, signature over the body } */
int proto_request_wrap(const struct sl_buf *body, const struct crypto_secret_key *sk, struct sl_buf *out)
{
	uint8_t signature[CRYPTO_SIGNATURE_BYTES];
	int rc = crypto_sign(sk, PROTO_REQUEST_DOMAIN, body->data, body->len, signature);
	struct crypto_public_key pk;
	struct crypto_key_id key_id;
	crypto_secret_key_public(sk, &pk);
	crypto_key_id_of(&pk, &key_id);
	if (rc == 0)
		rc = codec_write_map_header(out, 3);
	if (rc == 0)
		rc = codec_write_uint(out, 0);
	if (rc == 0)
		rc = codec_write_bin(out, body->data, body->len);
	if (rc == 0)
		rc = codec_write_uint(out, 1);
	if (rc == 0)
		rc = codec_write_bin(out, key_id.bytes, sizeof key_id.bytes);
	if (rc == 0)
		rc = codec_write_uint(out, 2);
	if (rc == 0)
		rc = codec_write_bin(out, signature, sizeof signature);
	return rc;
}

int proto_request_encode(uint8_t type, const struct ledger_input *records, size_t count, const char *item,
			 const struct crypto_secret_key *sk, struct sl_buf *out)
{
	if (!proto_type_known(type) || type == PROTO_QUERY || type == PROTO_EXPORT || type == PROTO_MEMBER_CHANGE ||
	    type == PROTO_LEADER_TRANSFER || (type == PROTO_SUBMIT && count == 0) ||
	    count > PROTO_RECORDS_MAX)
		return SL_EINVAL;
	size_t total = 0;
	for (size_t i = 0; i < count; i++)
		total += records[i].len;
	if (total > PROTO_RECORDS_BYTES_MAX)
		return SL_ELIMIT;
	struct sl_buf body;
	sl_buf_init(&body, PROTO_REQUEST_BYTES_MAX);
	int rc = body_encode(type, records, count, item, &body);
	if (rc == 0)
		rc = proto_request_wrap(&body, sk, out);
	sl_buf_free(&body);
	return rc;
}

static int records_decode(struct codec_reader *r, struct proto_request *req)
{
	uint32_t count = 0;
	int rc = codec_read_array_header(r, PROTO_RECORDS_MAX, &count);
	if (rc == 0 && count == 0)
		rc = SL_EVALUE;
	size_t total = 0;
	for (uint32_t i = 0; rc == 0 && i < count; i++) {
		rc = codec_read_bin(r, RECORD_BYTES_MAX, &req->records[i].bytes, &req->records[i].len);
		total += req->records[i].len;
	}
	if (rc == 0 && total > PROTO_RECORDS_BYTES_MAX)
		rc = SL_EOVERSIZE;
	req->record_count = count;
	return rc;
}

static int body_decode(struct proto_request *req, struct sl_error_detail *detail)
{
	struct codec_reader r;
	codec_reader_init(&r, req->body, req->body_len);
	struct codec_map map;
	unsigned key = 0;
	uint64_t v = 0;
	const uint8_t *nonce = NULL;
	int rc = codec_map_begin(&r, &map);
	while (rc == 0 && (rc = codec_map_next(&r, &map, &key)) == 1) {
		if (key == 0) {
			rc = codec_read_uint(&r, PROTO_VERSION, &v);
			if (rc == 0 && v != PROTO_VERSION)
				rc = SL_EVERSION;
		} else if (key == 1) {
			rc = codec_read_uint(&r, UINT8_MAX, &v);
			req->type = (uint8_t)v;
			if (rc == 0 && !proto_type_known(v))
				rc = SL_EVALUE;
		} else if (key == 2) {
			rc = codec_read_bin_exact(&r, PROTO_NONCE_BYTES, &nonce);
			if (rc == 0)
				memcpy(req->nonce, nonce, PROTO_NONCE_BYTES);
		} else if (key == 3) {
			rc = records_decode(&r, req);
		} else if (key == 4) {
			rc = codec_read_str(&r, GS1_ITEM_ID_SIZE * 4, &req->item);
		} else if (key == PROTO_BODY_QUERY) {
			rc = query_decode(&r, &req->query);
			req->has_query = rc == 0;
		} else if (key == PROTO_BODY_CURSOR) {
			rc = cursor_decode(&r, &req->cursor);
			req->has_cursor = rc == 0;
		} else if (key == PROTO_BODY_SITE || key == PROTO_BODY_CHANGE) {
			rc = proto_admin_body_read(&r, key, req);
		} else {
			rc = SL_EUNKNOWNFIELD;
		}
	}
	if (rc == 0 && codec_map_missing(&map, 0x7) >= 0)
		rc = SL_EMISSING;
	if (rc == 0 && (req->type == PROTO_SUBMIT) != ((map.seen & 0x8) != 0))
		rc = sl_error_set(detail, SL_EMISSING, "records go with submit only");
	if (rc == 0 && (req->type == PROTO_ITEM_STATUS) != ((map.seen & 0x10) != 0))
		rc = sl_error_set(detail, SL_EMISSING, "an item goes with item status only");
	bool read = req->type == PROTO_QUERY || req->type == PROTO_EXPORT;
	if (rc == 0 && (read ? req->has_query == req->has_cursor : req->has_query || req->has_cursor))
		rc = sl_error_set(detail, SL_EMISSING, "a read carries a query or a cursor (one of them), nothing else does");
	if (rc == 0)
		rc = proto_admin_body_check(req, map.seen, detail);
	if (rc == 0)
		rc = codec_reader_finish(&r);
	return rc;
}

int proto_request_decode(const uint8_t *bytes, size_t len, struct proto_request *req,
			 struct sl_error_detail *detail)
{
	memset(req, 0, offsetof(struct proto_request, records));
	req->record_count = 0;
	req->item = (struct sl_str){ "", 0 };
	req->has_query = req->has_cursor = false;
	memset(&req->query, 0, sizeof req->query);
	memset(&req->cursor, 0, sizeof req->cursor);
	req->site = (struct sl_str){ "", 0 };
	req->change = 0;
	if (len > PROTO_REQUEST_BYTES_MAX)
		return sl_error_set(detail, SL_EOVERSIZE, "request over %u bytes", (unsigned)PROTO_REQUEST_BYTES_MAX);
	struct codec_reader r;
	codec_reader_init(&r, bytes, len);
	struct codec_map map;
	unsigned key = 0;
	const uint8_t *key_id = NULL;
	int rc = codec_map_begin(&r, &map);
	while (rc == 0 && (rc = codec_map_next(&r, &map, &key)) == 1) {
		if (key == 0)
			rc = codec_read_bin(&r, PROTO_REQUEST_BYTES_MAX, &req->body, &req->body_len);
		else if (key == 1)
			rc = codec_read_bin_exact(&r, CRYPTO_KEY_ID_BYTES, &key_id);
		else if (key == 2)
			rc = codec_read_bin_exact(&r, CRYPTO_SIGNATURE_BYTES, &req->signature);
		else
			rc = SL_EUNKNOWNFIELD;
	}
	if (rc == 0 && codec_map_missing(&map, 0x7) >= 0)
		rc = SL_EMISSING;
	if (rc == 0)
		rc = codec_reader_finish(&r);
	if (rc == 0) {
		memcpy(req->key_id.bytes, key_id, CRYPTO_KEY_ID_BYTES);
		rc = body_decode(req, detail);
	}
	return rc;
}

int proto_request_verify(const struct proto_request *req, const struct crypto_public_key *pk)
{
	if (req->body == NULL || req->signature == NULL)
		return SL_EBADSIG;
	return crypto_verify(pk, PROTO_REQUEST_DOMAIN, req->body, req->body_len, req->signature);
}

void proto_response_init(struct proto_response *resp, uint8_t code, const char *message)
{
	memset(resp, 0, sizeof *resp);
	resp->code = code;
	snprintf(resp->message, sizeof resp->message, "%s", message != NULL ? message : "");
}

int proto_cstr_write(struct sl_buf *out, const char *s)
{
	return codec_write_str(out, s, strlen(s));
}

int proto_cstr_read(struct codec_reader *r, char *dst, size_t size)
{
	assert(size > 0);
	struct sl_str s;
	int rc = codec_read_str(r, size - 1, &s);
	if (rc == 0) {
		memcpy(dst, s.ptr, s.len);
		dst[s.len] = '\0';
	}
	return rc;
}

int proto_fields_expect(struct codec_reader *r, uint32_t fields)
{
	uint32_t count = 0;
	int rc = codec_read_array_header(r, fields, &count);
	return rc == 0 && count != fields ? SL_EVALUE : rc;
}

static int results_encode(const struct proto_response *resp, struct sl_buf *out)
{
	int rc = codec_write_array_header(out, (uint32_t)resp->result_count);
	for (size_t i = 0; rc == 0 && i < resp->result_count; i++) {
		const struct ledger_result *res = &resp->results[i];
		rc = codec_write_array_header(out, RESULT_FIELDS);
		if (rc == 0)
			rc = codec_write_uint(out, res->seq);
		if (rc == 0)
			rc = codec_write_uint(out, (uint64_t)(res->outcome >= 0 ? res->outcome : 0));
		if (rc == 0)
			rc = codec_write_bin(out, res->record_id, RECORD_ID_BYTES);
		if (rc == 0)
			rc = codec_write_int(out, res->item);
	}
	return rc;
}

static int item_encode(const struct store_item *it, struct sl_buf *out)
{
	const uint64_t nums[] = { it->kind, it->status, it->reason, it->flags, it->child_count,
				  it->status_time_ms, it->commission_seq, it->status_seq };
	const char *strs[] = { it->site, it->destination, it->status_site, it->parent, it->gtin, it->lot, it->expiry };
	_Static_assert(sizeof nums / sizeof nums[0] + sizeof strs / sizeof strs[0] == ITEM_FIELDS, "item fields");
	int rc = codec_write_array_header(out, ITEM_FIELDS);
	for (size_t i = 0; rc == 0 && i < sizeof nums / sizeof nums[0]; i++)
		rc = codec_write_uint(out, nums[i]);
	for (size_t i = 0; rc == 0 && i < sizeof strs / sizeof strs[0]; i++)
		rc = proto_cstr_write(out, strs[i]);
	return rc;
}

static int node_encode(const struct proto_node_status *n, struct sl_buf *out)
{
	const uint64_t nums[] = { n->id, n->role, n->term, n->leader, n->commit, n->applied, n->ledger_size };
	int rc = codec_write_array_header(out, NODE_FIELDS);
	for (size_t i = 0; rc == 0 && i < sizeof nums / sizeof nums[0]; i++)
		rc = codec_write_uint(out, nums[i]);
	if (rc == 0)
		rc = codec_write_bin(out, n->state_hash, sizeof n->state_hash);
	if (rc == 0)
		rc = proto_cstr_write(out, n->site);
	return rc;
}

int proto_response_encode(const struct proto_response *resp, struct sl_buf *out)
{
	bool redirect = resp->leader_addr[0] != '\0';
	uint32_t fields = 2 + redirect + (resp->result_count > 0) + resp->has_item + resp->has_node + resp->has_note +
			  resp->has_chunk + 2 * resp->has_members;
	int rc = codec_write_map_header(out, fields);
	if (rc == 0 && (rc = codec_write_uint(out, 0)) == 0)
		rc = codec_write_uint(out, resp->code);
	if (rc == 0 && (rc = codec_write_uint(out, 1)) == 0)
		rc = proto_cstr_write(out, resp->message);
	if (rc == 0 && redirect && (rc = codec_write_uint(out, 2)) == 0)
		rc = proto_cstr_write(out, resp->leader_addr);
	if (rc == 0 && resp->result_count > 0 && (rc = codec_write_uint(out, 3)) == 0)
		rc = results_encode(resp, out);
	if (rc == 0 && resp->has_item && (rc = codec_write_uint(out, 4)) == 0)
		rc = item_encode(&resp->item, out);
	if (rc == 0 && resp->has_node && (rc = codec_write_uint(out, 5)) == 0)
		rc = node_encode(&resp->node, out);
	if (rc == 0 && resp->has_note && (rc = codec_write_uint(out, 9)) == 0)
		rc = proto_cstr_write(out, resp->note);
	if (rc == 0 && resp->has_chunk && (rc = codec_write_uint(out, PROTO_RESPONSE_CHUNK)) == 0)
		rc = chunk_encode(&resp->chunk, out);
	if (rc == 0 && resp->has_members)
		rc = proto_members_encode(&resp->members, out); /* keys 11 and 12 */
	return rc;
}

static int results_decode(struct codec_reader *r, struct proto_response *resp)
{
	uint32_t count = 0;
	int rc = codec_read_array_header(r, PROTO_RECORDS_MAX, &count);
	for (uint32_t i = 0; rc == 0 && i < count; i++) {
		struct ledger_result *res = &resp->results[i];
		uint64_t outcome = 0;
		int64_t item = 0;
		const uint8_t *id = NULL;
		rc = proto_fields_expect(r, RESULT_FIELDS);
		if (rc == 0)
			rc = codec_read_uint(r, UINT64_MAX, &res->seq);
		if (rc == 0)
			rc = codec_read_uint(r, INT32_MAX, &outcome);
		if (rc == 0)
			rc = codec_read_bin_exact(r, RECORD_ID_BYTES, &id);
		if (rc == 0)
			rc = codec_read_int(r, -1, INT32_MAX, &item);
		if (rc == 0) {
			res->outcome = (int)outcome;
			memcpy(res->record_id, id, RECORD_ID_BYTES);
			res->item = (int32_t)item;
		}
	}
	resp->result_count = count;
	return rc;
}

static int item_decode(struct codec_reader *r, struct store_item *it)
{
	int rc = proto_fields_expect(r, ITEM_FIELDS);
	uint64_t v[8] = { 0 };
	for (size_t i = 0; rc == 0 && i < 8; i++)
		rc = codec_read_uint(r, i < 4 ? UINT8_MAX : i == 4 ? UINT32_MAX : UINT64_MAX, &v[i]);
	it->kind = (uint8_t)v[0];
	it->status = (uint8_t)v[1];
	it->reason = (uint8_t)v[2];
	it->flags = (uint8_t)v[3];
	it->child_count = (uint32_t)v[4];
	it->status_time_ms = v[5];
	it->commission_seq = v[6];
	it->status_seq = v[7];
	char *strs[] = { it->site, it->destination, it->status_site, it->parent, it->gtin, it->lot, it->expiry };
	const size_t sizes[] = { sizeof it->site, sizeof it->destination, sizeof it->status_site, sizeof it->parent,
				 sizeof it->gtin, sizeof it->lot, sizeof it->expiry };
	for (size_t i = 0; rc == 0 && i < 7; i++)
		rc = proto_cstr_read(r, strs[i], sizes[i]);
	return rc;
}

static int node_decode(struct codec_reader *r, struct proto_node_status *n)
{
	int rc = proto_fields_expect(r, NODE_FIELDS);
	uint64_t *nums[] = { &n->id, &n->role, &n->term, &n->leader, &n->commit, &n->applied, &n->ledger_size };
	for (size_t i = 0; rc == 0 && i < sizeof nums / sizeof nums[0]; i++)
		rc = codec_read_uint(r, UINT64_MAX, nums[i]);
	const uint8_t *hash = NULL;
	if (rc == 0)
		rc = codec_read_bin_exact(r, sizeof n->state_hash, &hash);
	if (rc == 0) {
		memcpy(n->state_hash, hash, sizeof n->state_hash);
		rc = proto_cstr_read(r, n->site, sizeof n->site);
	}
	return rc;
}

int proto_response_decode(const uint8_t *bytes, size_t len, struct proto_response *resp)
{
	proto_response_init(resp, PROTO_OK, NULL);
	if (len > PROTO_RESPONSE_BYTES_MAX)
		return SL_EOVERSIZE;
	struct codec_reader r;
	codec_reader_init(&r, bytes, len);
	struct codec_map map;
	unsigned key = 0;
	uint64_t code = 0;
	int rc = codec_map_begin(&r, &map);
	while (rc == 0 && (rc = codec_map_next(&r, &map, &key)) == 1) {
		if (key == 0) {
			rc = codec_read_uint(&r, PROTO_CODE_MAX, &code);
			resp->code = (uint8_t)code;
		} else if (key == 1) {
			rc = proto_cstr_read(&r, resp->message, sizeof resp->message);
		} else if (key == 2) {
			rc = proto_cstr_read(&r, resp->leader_addr, sizeof resp->leader_addr);
		} else if (key == 3) {
			rc = results_decode(&r, resp);
		} else if (key == 4) {
			rc = item_decode(&r, &resp->item);
			resp->has_item = rc == 0;
		} else if (key == 5) {
			rc = node_decode(&r, &resp->node);
			resp->has_node = rc == 0;
		} else if (key == 9) {
			rc = proto_cstr_read(&r, resp->note, sizeof resp->note);
			resp->has_note = rc == 0;
		} else if (key == PROTO_RESPONSE_CHUNK) {
			rc = chunk_decode(&r, &resp->chunk);
			resp->has_chunk = rc == 0;
		} else if (key == PROTO_RESPONSE_MEMBERS || key == PROTO_RESPONSE_REGISTRY) {
			rc = proto_members_decode(&r, key, &resp->members);
		} else {
			rc = SL_EUNKNOWNFIELD;
		}
	}
	if (rc == 0 && codec_map_missing(&map, 0x3) >= 0)
		rc = SL_EMISSING;
	bool members = (map.seen >> PROTO_RESPONSE_MEMBERS) & 1, registry = (map.seen >> PROTO_RESPONSE_REGISTRY) & 1;
	if (rc == 0 && members != registry)
		rc = SL_EMISSING; /* the two go together */
	resp->has_members = rc == 0 && members;
	if (rc == 0)
		rc = codec_reader_finish(&r);
	return rc;
}

/* ---- reads: QUERY and EXPORT (a query, or a cursor into its documents) */

static int query_encode(const struct proto_query *q, struct sl_buf *out)
{
	int rc = codec_write_map_header(out, 4);
	if (rc == 0 && (rc = codec_write_uint(out, 0)) == 0)
		rc = codec_write_uint(out, q->kind);
	if (rc == 0 && (rc = codec_write_uint(out, 1)) == 0)
		rc = codec_write_array_header(out, (uint32_t)q->option_count);
	for (size_t i = 0; rc == 0 && i < q->option_count; i++) {
		rc = codec_write_array_header(out, 2);
		if (rc == 0)
			rc = codec_write_str(out, q->names[i].ptr, q->names[i].len);
		if (rc == 0)
			rc = codec_write_str(out, q->values[i].ptr, q->values[i].len);
	}
	if (rc == 0 && (rc = codec_write_uint(out, 2)) == 0)
		rc = codec_write_array_header(out, (uint32_t)q->arg_count);
	for (size_t i = 0; rc == 0 && i < q->arg_count; i++)
		rc = codec_write_str(out, q->args[i].ptr, q->args[i].len);
	if (rc == 0 && (rc = codec_write_uint(out, 3)) == 0)
		rc = codec_write_bool(out, q->linearizable);
	return rc;
}

static int cursor_encode(const struct proto_cursor *c, struct sl_buf *out)
{
	int rc = codec_write_array_header(out, 3);
	if (rc == 0)
		rc = codec_write_bin(out, c->session, sizeof c->session);
	if (rc == 0)
		rc = codec_write_uint(out, c->doc);
	if (rc == 0)
		rc = codec_write_uint(out, c->offset);
	return rc;
}

static bool query_fits(const struct proto_query *q)
{
	if (q->option_count > PROTO_QUERY_OPTIONS_MAX || q->arg_count > PROTO_QUERY_ARGS_MAX)
		return false;
	for (size_t i = 0; i < q->option_count; i++)
		if (q->names[i].len > PROTO_QUERY_NAME_BYTES_MAX || q->values[i].len > PROTO_QUERY_VALUE_BYTES_MAX)
			return false;
	for (size_t i = 0; i < q->arg_count; i++)
		if (q->args[i].len > PROTO_QUERY_VALUE_BYTES_MAX)
			return false;
	return true;
}

int proto_request_encode_read(uint8_t type, const struct proto_query *query, const struct proto_cursor *cursor,
			      const struct crypto_secret_key *sk, struct sl_buf *out)
{
	if ((type != PROTO_QUERY && type != PROTO_EXPORT) || (query == NULL) == (cursor == NULL) ||
	    (query != NULL && !query_fits(query)))
		return SL_EINVAL;
	struct sl_buf body;
	sl_buf_init(&body, PROTO_REQUEST_BYTES_MAX);
	int rc = proto_body_begin(&body, 4, type);
	if (rc == 0 && query != NULL && (rc = codec_write_uint(&body, PROTO_BODY_QUERY)) == 0)
		rc = query_encode(query, &body);
	if (rc == 0 && cursor != NULL && (rc = codec_write_uint(&body, PROTO_BODY_CURSOR)) == 0)
		rc = cursor_encode(cursor, &body);
	if (rc == 0)
		rc = proto_request_wrap(&body, sk, out);
	sl_buf_free(&body);
	return rc;
}

static int query_options_decode(struct codec_reader *r, struct proto_query *q)
{
	uint32_t count = 0;
	int rc = codec_read_array_header(r, PROTO_QUERY_OPTIONS_MAX, &count);
	for (uint32_t i = 0; rc == 0 && i < count; i++) {
		rc = proto_fields_expect(r, 2);
		if (rc == 0)
			rc = codec_read_str(r, PROTO_QUERY_NAME_BYTES_MAX, &q->names[i]);
		if (rc == 0)
			rc = codec_read_str(r, PROTO_QUERY_VALUE_BYTES_MAX, &q->values[i]);
	}
	q->option_count = rc == 0 ? count : 0;
	return rc;
}

static int query_decode(struct codec_reader *r, struct proto_query *q)
{
	struct codec_map map;
	unsigned key = 0;
	uint64_t v = 0;
	uint32_t count = 0;
	int rc = codec_map_begin(r, &map);
	while (rc == 0 && (rc = codec_map_next(r, &map, &key)) == 1) {
		if (key == 0) {
			rc = codec_read_uint(r, UINT8_MAX, &v);
			q->kind = (uint8_t)v;
			if (rc == 0 && v == 0)
				rc = SL_EVALUE;
		} else if (key == 1) {
			rc = query_options_decode(r, q);
		} else if (key == 2) {
			rc = codec_read_array_header(r, PROTO_QUERY_ARGS_MAX, &count);
			for (uint32_t i = 0; rc == 0 && i < count; i++)
				rc = codec_read_str(r, PROTO_QUERY_VALUE_BYTES_MAX, &q->args[i]);
			q->arg_count = rc == 0 ? count : 0;
		} else if (key == 3) {
			rc = codec_read_bool(r, &q->linearizable);
		} else {
			rc = SL_EUNKNOWNFIELD;
		}
	}
	if (rc == 0 && codec_map_missing(&map, 0xf) >= 0)
		rc = SL_EMISSING;
	return rc;
}

static int cursor_decode(struct codec_reader *r, struct proto_cursor *c)
{
	uint64_t doc = 0;
	const uint8_t *session = NULL;
	int rc = proto_fields_expect(r, 3);
	if (rc == 0)
		rc = codec_read_bin_exact(r, PROTO_SESSION_BYTES, &session);
	if (rc == 0)
		rc = codec_read_uint(r, PROTO_DOCS_MAX - 1, &doc);
	if (rc == 0)
		rc = codec_read_uint(r, UINT64_MAX, &c->offset);
	if (rc == 0) {
		memcpy(c->session, session, PROTO_SESSION_BYTES);
		c->doc = (uint32_t)doc;
	}
	return rc;
}

static int chunk_encode(const struct proto_chunk *c, struct sl_buf *out)
{
	int rc = codec_write_array_header(out, CHUNK_FIELDS);
	if (rc == 0)
		rc = codec_write_uint(out, c->exit_code);
	if (rc == 0)
		rc = codec_write_bin(out, c->session, c->has_session ? PROTO_SESSION_BYTES : 0);
	if (rc == 0)
		rc = codec_write_uint(out, c->doc);
	if (rc == 0)
		rc = codec_write_uint(out, c->offset);
	if (rc == 0)
		rc = codec_write_bool(out, c->done);
	if (rc == 0)
		rc = codec_write_uint(out, c->applied);
	if (rc == 0)
		rc = codec_write_array_header(out, PROTO_STATS);
	for (size_t i = 0; rc == 0 && i < PROTO_STATS; i++)
		rc = codec_write_uint(out, c->stats[i]);
	if (rc == 0)
		rc = codec_write_bin(out, c->data, c->data_len);
	return rc;
}

static int chunk_decode(struct codec_reader *r, struct proto_chunk *c)
{
	uint64_t v[4] = { 0 };
	const uint8_t *session = NULL;
	size_t session_len = 0;
	int rc = proto_fields_expect(r, CHUNK_FIELDS);
	if (rc == 0)
		rc = codec_read_uint(r, PROTO_EXIT_MAX, &v[0]);
	if (rc == 0)
		rc = codec_read_bin(r, PROTO_SESSION_BYTES, &session, &session_len);
	if (rc == 0 && session_len != 0 && session_len != PROTO_SESSION_BYTES)
		rc = SL_EVALUE;
	if (rc == 0)
		rc = codec_read_uint(r, PROTO_DOCS_MAX - 1, &v[1]);
	if (rc == 0)
		rc = codec_read_uint(r, UINT64_MAX, &c->offset);
	if (rc == 0)
		rc = codec_read_bool(r, &c->done);
	if (rc == 0)
		rc = codec_read_uint(r, UINT64_MAX, &c->applied);
	if (rc == 0)
		rc = proto_fields_expect(r, PROTO_STATS);
	for (size_t i = 0; rc == 0 && i < PROTO_STATS; i++)
		rc = codec_read_uint(r, UINT64_MAX, &c->stats[i]);
	if (rc == 0)
		rc = codec_read_bin(r, PROTO_CHUNK_BYTES_MAX, &c->data, &c->data_len);
	if (rc == 0) {
		c->exit_code = (uint8_t)v[0];
		c->doc = (uint32_t)v[1];
		c->has_session = session_len != 0;
		if (c->has_session)
			memcpy(c->session, session, PROTO_SESSION_BYTES);
	}
	return rc;
}
