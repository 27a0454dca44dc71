/* node/verify.c — a client request's authentication and its records' early checks, run on the
 * libuv thread pool (node/client.c queues it with uv_queue_work; node.h "Threads").
 *
 * Checks, in order; the first failure is the verdict:
 *  1. the request's key id names a registered, unrevoked key in this node's keys table, of a site
 *     still registered (a registry record may have removed it);
 *  2. the request signature verifies under it (proto.h);
 *  3. submits (when asked): every record decodes, names the key's own site (a site writes only
 *     its own records), and its signature is not known bad (ledger_prepare: decode, key lookup,
 *     verification, D9). A record whose key is unknown here is let through: the registry may
 *     still change before apply, which decides (UNKNOWN_KEY). A bad signature never becomes good
 *     (a key id names one public key), so refusing it early loses nothing. Apply still checks
 *     every record — the ledger is the authority — but takes the signatures verified here from
 *     the node's cache (crypto/verify_cache.h) instead of computing them twice.
 *
 * Rules: pure with respect to the node — it reads the request (borrowed) and the store through
 * its own read transaction, writes only *out, never logs, never touches a socket or the loop.
 */
#include <stdio.h>
#include <string.h>

#include "node/node.h"
#include "util/error.h"

static void verdict_set(struct node_verdict *out, uint8_t code, bool invalid, bool log, const char *message)
{
	out->code = code;
	out->count_invalid = invalid;
	out->log = log;
	snprintf(out->message, sizeof out->message, "%s", message);
}

/* Steps 1 and 2; key filled when the request is authentic. */
static void request_authenticate(store *st, const struct proto_request *req, struct store_key *key,
				 struct node_verdict *out)
{
	store_txn *txn = NULL;
	memset(key, 0, sizeof *key);
	struct store_site site = { 0 };
	int rc = store_txn_begin(st, false, &txn);
	if (rc == 0)
		rc = store_key_get(txn, req->key_id.bytes, key);
	int site_rc = rc == 0 ? store_site_get(txn, key->site, &site) : 0;
	if (txn != NULL)
		store_txn_abort(txn);
	struct crypto_public_key pk;
	memcpy(pk.bytes, key->public_key, sizeof pk.bytes);
	if (rc == SL_ENOENT)
		verdict_set(out, PROTO_REFUSED, false, true, "unknown key: not registered at this node");
	else if (rc != 0)
		verdict_set(out, PROTO_UNAVAILABLE, false, false, sl_strerror(rc));
	else if (key->revoked)
		verdict_set(out, PROTO_REFUSED, false, true, "revoked key");
	else if (site_rc != 0 || !site.active)
		verdict_set(out, PROTO_REFUSED, false, true, "the key's site is not (or no longer) registered");
	else if (proto_request_verify(req, &pk) != 0)
		verdict_set(out, PROTO_REFUSED, false, true, "request signature does not verify");
}

/* The decode error of record i, with the decoder's detail, as the refusal text. */
static void record_invalid(const struct proto_request *req, size_t i, int decode_rc, struct node_verdict *out)
{
	struct record record;
	struct sl_error_detail detail = { "" };
	if (record_decode(req->records[i].bytes, req->records[i].len, &record, &detail) == 0)
		record_clear(&record); /* cannot happen: prepare decoded the same bytes and failed */
	char why[PROTO_TEXT_BYTES];
	snprintf(why, sizeof why, "record %zu: %s %.160s", i + 1, sl_strerror(decode_rc), detail.text);
	verdict_set(out, PROTO_INVALID, true, false, why);
}

/* Step 3. */
static void records_verify(store *st, crypto_verify_cache *verified, const struct proto_request *req,
			   const char *key_site, struct node_verdict *out)
{
	ledger_prepared *prepared = NULL;
	int rc = ledger_prepare(st, req->records, req->record_count, 1, &prepared); /* 1: we are a pool thread */
	if (rc != 0) {
		verdict_set(out, PROTO_UNAVAILABLE, false, false, sl_strerror(rc));
		return;
	}
	char why[PROTO_TEXT_BYTES];
	for (size_t i = 0; i < req->record_count && out->code == PROTO_OK; i++) {
		const struct record *record = NULL;
		rc = ledger_prepared_check(prepared, i, &record);
		if (record == NULL) {
			record_invalid(req, i, rc, out);
		} else if (!sl_str_eq_cstr(record->site, key_site)) {
			snprintf(why, sizeof why, "record %zu: a key of site %s writes only that site's records", i + 1,
				 key_site);
			verdict_set(out, PROTO_REFUSED, false, false, why);
		} else if (rc == SL_EBADSIG) {
			snprintf(why, sizeof why, "record %zu: record signature does not verify", i + 1);
			verdict_set(out, PROTO_REFUSED, false, true, why);
		}
	}
	if (out->code == PROTO_OK && verified != NULL)
		ledger_prepared_remember(prepared, verified); /* apply takes them instead of verifying again */
	ledger_prepared_free(prepared);
}

void node_verify_request(store *st, crypto_verify_cache *verified, const struct proto_request *req, bool records,
			 struct node_verdict *out)
{
	verdict_set(out, PROTO_OK, false, false, "");
	struct store_key key;
	request_authenticate(st, req, &key, out);
	if (out->code == PROTO_OK && records && req->type == PROTO_SUBMIT)
		records_verify(st, verified, req, key.site, out);
}
