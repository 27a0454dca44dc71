/* node/proto_admin.c — the membership part of the client protocol (node/proto.h "Membership
 * administration"): MEMBERS, MEMBER_CHANGE and LEADER_TRANSFER requests, and the members and
 * registry an answer to MEMBERS carries. Same rules as proto.c: canonical, bounded, strict.
 */
#include "node/proto_internal.h"

#include <string.h>

#define MEMBER_FIELDS 7
#define SITE_FIELDS 6
#define KEY_FIELDS 3

int proto_request_encode_admin(uint8_t type, const char *site, uint8_t change, const struct crypto_secret_key *sk,
			       struct sl_buf *out)
{
	bool with_site = type == PROTO_MEMBER_CHANGE || type == PROTO_LEADER_TRANSFER;
	bool with_change = type == PROTO_MEMBER_CHANGE;
	if ((type != PROTO_MEMBERS && !with_site) || (with_site && (site == NULL || site[0] == '\0')) ||
	    (with_change && (change < PROTO_CHANGE_ADD || change > PROTO_CHANGE_REMOVE)) ||
	    (site != NULL && strlen(site) >= STORE_SITE_SIZE))
		return SL_EINVAL;
	struct sl_buf body;
	sl_buf_init(&body, PROTO_TEXT_BYTES * 2);
	int rc = proto_body_begin(&body, 3u + with_site + with_change, type);
	if (rc == 0 && with_site && (rc = codec_write_uint(&body, PROTO_BODY_SITE)) == 0)
		rc = codec_write_str(&body, site, strlen(site));
	if (rc == 0 && with_change && (rc = codec_write_uint(&body, PROTO_BODY_CHANGE)) == 0)
		rc = codec_write_uint(&body, change);
	if (rc == 0)
		rc = proto_request_wrap(&body, sk, out);
	sl_buf_free(&body);
	return rc;
}

int proto_admin_body_read(struct codec_reader *r, unsigned key, struct proto_request *req)
{
	if (key == PROTO_BODY_SITE)
		return codec_read_str(r, STORE_SITE_SIZE - 1, &req->site);
	uint64_t change = 0;
	int rc = codec_read_uint(r, PROTO_CHANGE_REMOVE, &change);
	if (rc == 0 && change < PROTO_CHANGE_ADD)
		rc = SL_EVALUE;
	req->change = (uint8_t)change;
	return rc;
}

int proto_admin_body_check(const struct proto_request *req, uint64_t seen, struct sl_error_detail *detail)
{
	bool site = (seen >> PROTO_BODY_SITE) & 1, change = (seen >> PROTO_BODY_CHANGE) & 1;
	bool want_site = req->type == PROTO_MEMBER_CHANGE || req->type == PROTO_LEADER_TRANSFER;
	if (site != want_site)
		return sl_error_set(detail, SL_EMISSING, "a site goes with member change and leader transfer only");
	if (change != (req->type == PROTO_MEMBER_CHANGE))
		return sl_error_set(detail, SL_EMISSING, "a change goes with member change only");
	return 0;
}

static int member_encode(const struct proto_member *m, struct sl_buf *out)
{
	int rc = codec_write_array_header(out, MEMBER_FIELDS);
	if (rc == 0)
		rc = codec_write_uint(out, m->id);
	if (rc == 0)
		rc = proto_cstr_write(out, m->site);
	if (rc == 0)
		rc = codec_write_uint(out, m->role);
	if (rc == 0)
		rc = codec_write_uint(out, m->match);
	if (rc == 0)
		rc = codec_write_uint(out, m->heard_ms);
	if (rc == 0)
		rc = proto_cstr_write(out, m->peer_addr);
	if (rc == 0)
		rc = proto_cstr_write(out, m->client_addr);
	return rc;
}

static int site_encode(const struct proto_registry_site *s, struct sl_buf *out)
{
	int rc = codec_write_array_header(out, SITE_FIELDS);
	if (rc == 0)
		rc = proto_cstr_write(out, s->site);
	if (rc == 0)
		rc = codec_write_uint(out, s->active);
	if (rc == 0)
		rc = codec_write_uint(out, s->node_id);
	if (rc == 0)
		rc = codec_write_uint(out, s->added_seq);
	if (rc == 0)
		rc = codec_write_uint(out, s->removed_seq);
	if (rc == 0)
		rc = codec_write_array_header(out, (uint32_t)s->key_count);
	for (size_t i = 0; rc == 0 && i < s->key_count; i++) {
		const struct proto_registry_key *k = &s->keys[i];
		rc = codec_write_array_header(out, KEY_FIELDS);
		if (rc == 0)
			rc = codec_write_bin(out, k->key_id.bytes, sizeof k->key_id.bytes);
		if (rc == 0)
			rc = codec_write_uint(out, k->added_seq);
		if (rc == 0)
			rc = codec_write_uint(out, k->revoked_seq);
	}
	return rc;
}

int proto_members_encode(const struct proto_members *m, struct sl_buf *out)
{
	if (m->member_count > PROTO_MEMBERS_MAX || m->site_count > PROTO_REGISTRY_SITES_MAX)
		return SL_EINVAL;
	int rc = codec_write_uint(out, PROTO_RESPONSE_MEMBERS);
	if (rc == 0)
		rc = codec_write_array_header(out, (uint32_t)m->member_count);
	for (size_t i = 0; rc == 0 && i < m->member_count; i++)
		rc = member_encode(&m->members[i], out);
	if (rc == 0)
		rc = codec_write_uint(out, PROTO_RESPONSE_REGISTRY);
	if (rc == 0)
		rc = codec_write_array_header(out, (uint32_t)m->site_count);
	for (size_t i = 0; rc == 0 && i < m->site_count; i++)
		rc = m->sites[i].key_count <= PROTO_SITE_KEYS_MAX ? site_encode(&m->sites[i], out) : SL_EINVAL;
	return rc;
}

static int member_decode(struct codec_reader *r, struct proto_member *m)
{
	uint64_t role = 0;
	int rc = proto_fields_expect(r, MEMBER_FIELDS);
	if (rc == 0)
		rc = codec_read_uint(r, UINT64_MAX, &m->id);
	if (rc == 0)
		rc = proto_cstr_read(r, m->site, sizeof m->site);
	if (rc == 0)
		rc = codec_read_uint(r, PROTO_ROLE_LEARNER, &role);
	m->role = (uint8_t)role;
	if (rc == 0)
		rc = codec_read_uint(r, UINT64_MAX, &m->match);
	if (rc == 0)
		rc = codec_read_uint(r, UINT64_MAX, &m->heard_ms);
	if (rc == 0)
		rc = proto_cstr_read(r, m->peer_addr, sizeof m->peer_addr);
	if (rc == 0)
		rc = proto_cstr_read(r, m->client_addr, sizeof m->client_addr);
	return rc;
}

static int site_keys_decode(struct codec_reader *r, struct proto_registry_site *s)
{
	uint32_t count = 0;
	int rc = codec_read_array_header(r, PROTO_SITE_KEYS_MAX, &count);
	for (uint32_t i = 0; rc == 0 && i < count; i++) {
		struct proto_registry_key *k = &s->keys[i];
		const uint8_t *id = NULL;
		rc = proto_fields_expect(r, KEY_FIELDS);
		if (rc == 0)
			rc = codec_read_bin_exact(r, sizeof k->key_id.bytes, &id);
		if (rc == 0) {
			memcpy(k->key_id.bytes, id, sizeof k->key_id.bytes);
			rc = codec_read_uint(r, UINT64_MAX, &k->added_seq);
		}
		if (rc == 0)
			rc = codec_read_uint(r, UINT64_MAX, &k->revoked_seq);
	}
	s->key_count = rc == 0 ? count : 0;
	return rc;
}

static int site_decode(struct codec_reader *r, struct proto_registry_site *s)
{
	uint64_t active = 0;
	int rc = proto_fields_expect(r, SITE_FIELDS);
	if (rc == 0)
		rc = proto_cstr_read(r, s->site, sizeof s->site);
	if (rc == 0)
		rc = codec_read_uint(r, 1, &active);
	s->active = active != 0;
	if (rc == 0)
		rc = codec_read_uint(r, UINT64_MAX, &s->node_id);
	if (rc == 0)
		rc = codec_read_uint(r, UINT64_MAX, &s->added_seq);
	if (rc == 0)
		rc = codec_read_uint(r, UINT64_MAX, &s->removed_seq);
	if (rc == 0)
		rc = site_keys_decode(r, s);
	return rc;
}

int proto_members_decode(struct codec_reader *r, unsigned key, struct proto_members *m)
{
	uint32_t count = 0;
	int rc;
	if (key == PROTO_RESPONSE_MEMBERS) {
		rc = codec_read_array_header(r, PROTO_MEMBERS_MAX, &count);
		for (uint32_t i = 0; rc == 0 && i < count; i++)
			rc = member_decode(r, &m->members[i]);
		m->member_count = rc == 0 ? count : 0;
		return rc;
	}
	rc = codec_read_array_header(r, PROTO_REGISTRY_SITES_MAX, &count);
	for (uint32_t i = 0; rc == 0 && i < count; i++)
		rc = site_decode(r, &m->sites[i]);
	m->site_count = rc == 0 ? count : 0;
	return rc;
}
