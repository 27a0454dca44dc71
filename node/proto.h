/* node/proto.h — the client protocol of siteledgerd: requests and responses over nanomsg REQ/REP.
 *
 * Owns: the canonical msgpack encoding (ledger/codec.h) of client requests and node responses,
 * and the request signature. Pure codec: no sockets, no libuv; the CLI links it too.
 * docs/operations.md "Client protocol" describes the fields.
 *
 *   request  = map { 0: body (bin), 1: key id (bin 16), 2: signature (bin 64) }
 *   body     = map { 0: version, 1: type, 2: nonce (bin 16), 3: records (array of bin; submit),
 *                    4: item id (str; item status) }
 *   signature = Ed25519 over PROTO_REQUEST_DOMAIN || body, by the key named by key id (a key
 *               registered in the node's keys table).
 *   response = map { 0: code, 1: message (str), 2: leader client address (str, optional),
 *                    3: results (array of [seq, outcome, record id bin 32, item index int]),
 *                    4: item status (array), 5: node status (array) }
 *
 * Rules:
 *  1. Decoding is strict (canonical, bounded, no unknown fields, no trailing bytes) and borrows:
 *     records, item id and body point into the input bytes, which must outlive the request.
 *  2. A submit request carries 1..PROTO_RECORDS_MAX records of at most PROTO_RECORDS_BYTES_MAX
 *     bytes in all, so one request always fits one raft entry (one group-commit batch).
 */
#ifndef SL_NODE_PROTO_H
#define SL_NODE_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consensus/raft.h"
#include "crypto/crypto.h"
#include "ledger/apply.h"
#include "ledger/gs1.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/error.h"

#define PROTO_VERSION 1
#define PROTO_REQUEST_DOMAIN "siteledger/client-request/v1"
#define PROTO_NONCE_BYTES 16
#define PROTO_RECORDS_MAX 256 /* = REPLICA_BATCH_RECORDS_MAX: one request fits one batch */
#define PROTO_RECORDS_BYTES_MAX (RAFT_ENTRY_BYTES_MAX - 8192) /* room for the batch's own headers */
#define PROTO_REQUEST_BYTES_MAX (PROTO_RECORDS_BYTES_MAX + 8192) /* body + key id + signature */
#define PROTO_RESPONSE_BYTES_MAX (64u << 10) /* results of 256 records, or a status */
#define PROTO_TEXT_BYTES 256 /* message and address strings */

enum proto_type {
	PROTO_SUBMIT = 1,      /* records to replicate; outcomes after apply on the leader */
	PROTO_ITEM_STATUS = 2, /* one item's state, read locally */
	PROTO_NODE_STATUS = 3, /* role, term, leader, indexes, ledger size, state hash */
};

enum proto_code {
	PROTO_OK = 0,
	PROTO_REDIRECT = 1,    /* not the leader: leader_addr names it */
	PROTO_UNAVAILABLE = 2, /* no leader known, shutting down, or lost leadership: retry */
	PROTO_REFUSED = 3,     /* unknown or revoked key, bad signature, another site's records */
	PROTO_INVALID = 4,     /* malformed request or record */
	PROTO_BUSY = 5,	       /* a named limit is full: retry later */
	PROTO_NOT_FOUND = 6,   /* item status: no such item */
	PROTO_TIMEOUT = 7,     /* not applied in time; outcome unknown (retry: duplicates are detected) */
};
#define PROTO_CODE_MAX PROTO_TIMEOUT

struct proto_request {
	uint8_t type; /* enum proto_type */
	struct crypto_key_id key_id;
	uint8_t nonce[PROTO_NONCE_BYTES];
	const uint8_t *body;
	size_t body_len;
	const uint8_t *signature;
	struct ledger_input records[PROTO_RECORDS_MAX];
	size_t record_count;
	struct sl_str item; /* item status */
};

struct proto_node_status {
	uint64_t id;
	uint64_t role; /* enum raft_role */
	uint64_t term;
	uint64_t leader;
	uint64_t commit;
	uint64_t applied;
	uint64_t ledger_size;
	uint8_t state_hash[CRYPTO_SHA256_BYTES];
	char site[STORE_SITE_SIZE];
};

struct proto_response {
	uint8_t code; /* enum proto_code */
	char message[PROTO_TEXT_BYTES];
	char leader_addr[PROTO_TEXT_BYTES];
	struct ledger_result results[PROTO_RECORDS_MAX];
	size_t result_count;
	bool has_item;
	struct store_item item;
	bool has_node;
	struct proto_node_status node;
};

/* Build and sign a request (records for SUBMIT, item for ITEM_STATUS) into out. */
int proto_request_encode(uint8_t type, const struct ledger_input *records, size_t count, const char *item,
			 const struct crypto_secret_key *sk, struct sl_buf *out);
int proto_request_decode(const uint8_t *bytes, size_t len, struct proto_request *req,
			 struct sl_error_detail *detail);
/* 0 when the signature verifies under pk, SL_EBADSIG otherwise. */
int proto_request_verify(const struct proto_request *req, const struct crypto_public_key *pk);

void proto_response_init(struct proto_response *resp, uint8_t code, const char *message);
int proto_response_encode(const struct proto_response *resp, struct sl_buf *out);
int proto_response_decode(const uint8_t *bytes, size_t len, struct proto_response *resp);

const char *proto_code_name(int code); /* "OK", "REDIRECT", ...; "?" when unknown */

#endif
