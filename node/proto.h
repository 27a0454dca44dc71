/* node/proto.h — the client protocol of siteledgerd: requests and responses over nanomsg REQ/REP.
 *
 * Owns: the canonical msgpack encoding (ledger/codec.h) of client requests and node responses,
 * and the request signature. Pure codec: no sockets, no libuv; the CLI links it too.
 * docs/operations.md "Client protocol" describes the fields.
 *
 *   request  = map { 0: body (bin), 1: key id (bin 16), 2: signature (bin 64) }
 *   body     = map { 0: version, 1: type, 2: nonce (bin 16), 3: records (array of bin; submit),
 *                    4: item id (str; item status) }   (checkpoint: neither 3 nor 4)
 *                    10: query (map; QUERY, EXPORT: the first request) | 11: cursor (array; the next chunks)
 *   query    = map { 0: kind (enum query_kind), 1: options (array of [name str, value str]),
 *                    2: arguments (array of str), 3: linearizable (bool) }
 *   cursor   = [session (bin 16), document (uint), offset (uint)]
 *   signature = Ed25519 over PROTO_REQUEST_DOMAIN || body, by the key named by key id (a key
 *               registered in the node's keys table).
 *   response = map { 0: code, 1: message (str), 2: leader client address (str, optional),
 *                    3: results (array of [seq, outcome, record id bin 32, item index int]),
 *                    4: item status (array), 5: node status (array),
 *                    9: checkpoint note (str; the answer to PROTO_CHECKPOINT, C2SP signed note),
 *                    10: chunk (array; QUERY, EXPORT) }
 *   chunk    = [exit status, session (bin 16, or empty when nothing follows), document, offset,
 *               done (bool), applied index read at, stats (array of 4 uint), data (bin)]
 *
 * Rules:
 *  1. Decoding is strict (canonical, bounded, no unknown fields, no trailing bytes) and borrows:
 *     records, item id and body point into the input bytes, which must outlive the request.
 *  2. A submit request carries 1..PROTO_RECORDS_MAX records of at most PROTO_RECORDS_BYTES_MAX
 *     bytes in all, so one request always fits one raft entry (one group-commit batch).
 *  3. A read (QUERY, EXPORT) carries exactly one of query and cursor; its answer carries at most
 *     PROTO_CHUNK_BYTES_MAX document bytes, the client asks for the rest with the session's
 *     cursor (node/query.c). The chunk's data borrows from the decoded bytes.
 */
#ifndef SL_NODE_PROTO_H
#define SL_NODE_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consensus/raft.h"
#include "crypto/crypto.h"
#include "crypto/note.h"
#include "ledger/apply.h"
#include "ledger/codec.h"
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
#define PROTO_CHUNK_BYTES_MAX (1u << 20) /* document bytes in one read answer */
#define PROTO_RESPONSE_BYTES_MAX (PROTO_CHUNK_BYTES_MAX + (64u << 10)) /* a chunk, 256 outcomes, a status */
#define PROTO_TEXT_BYTES 256 /* message and address strings */
#define PROTO_QUERY_OPTIONS_MAX 16 /* = QUERY_OPTIONS_MAX (query/query.h) */
#define PROTO_QUERY_ARGS_MAX 4	   /* = QUERY_ARGS_MAX */
#define PROTO_QUERY_NAME_BYTES_MAX 23	/* = QUERY_NAME_BYTES - 1 */
#define PROTO_QUERY_VALUE_BYTES_MAX 255 /* = QUERY_VALUE_BYTES - 1 */
#define PROTO_SESSION_BYTES 16	   /* random id of a read's documents held by the node */
#define PROTO_DOCS_MAX 2	   /* = QUERY_DOCS */
#define PROTO_STATS 4		   /* = QUERY_STATS */
#define PROTO_EXIT_MAX 2	   /* exit statuses 0..2 (query/query.h QUERY_EXIT_*) */
#define PROTO_BODY_QUERY 10
#define PROTO_BODY_CURSOR 11
#define PROTO_RESPONSE_CHUNK 10

enum proto_type {
	PROTO_SUBMIT = 1,      /* records to replicate; outcomes after apply on the leader */
	PROTO_ITEM_STATUS = 2, /* one item's state, read locally */
	PROTO_NODE_STATUS = 3, /* role, term, leader, indexes, ledger size, state hash */
	PROTO_QUERY = 4,       /* a read command's query (query/query.h), answered from this node's copy */
	PROTO_EXPORT = 8,      /* the export bundle, streamed in chunks from one snapshot */
	PROTO_CHECKPOINT = 9,  /* the asked node signs and submits a checkpoint now; answer: its note
				* and the checkpoint record's outcome (node/checkpoint.c) */
	PROTO_MEMBERS = 5,	   /* raft membership as this node sees it, and the registry (node/admin.c) */
	PROTO_MEMBER_CHANGE = 6,   /* leader: add (learner), promote or remove a registered site's node */
	PROTO_LEADER_TRANSFER = 7, /* leader: hand leadership to a voter site's node */
};

/* Membership administration (node/proto_admin.c; docs/operations.md "Client protocol"):
 *   body     += 12: site (str; MEMBER_CHANGE, LEADER_TRANSFER), 13: change (uint; MEMBER_CHANGE)
 *   response += 11: members = [[node id, site, role, match, heard ms ago, peer, client], ...],
 *               12: registry = [[site, active, node id, added seq, removed seq,
 *                                [[key id bin 16, added seq, revoked seq], ...]], ...]
 * role: 1 voter, 2 learner; heard: 0 for the answering node, PROTO_NEVER when never heard. */
#define PROTO_BODY_SITE 12
#define PROTO_BODY_CHANGE 13
#define PROTO_RESPONSE_MEMBERS 11
#define PROTO_RESPONSE_REGISTRY 12
#define PROTO_MEMBERS_MAX RAFT_NODES_MAX
#define PROTO_REGISTRY_SITES_MAX 64 /* = BUNDLE_SITES_MAX: sites of one cluster */
#define PROTO_SITE_KEYS_MAX 16	    /* keys listed per site (added and revoked); more are cut */
#define PROTO_NEVER UINT64_MAX

enum proto_member_change { PROTO_CHANGE_ADD = 1, PROTO_CHANGE_PROMOTE = 2, PROTO_CHANGE_REMOVE = 3 };
enum proto_member_role { PROTO_ROLE_VOTER = 1, PROTO_ROLE_LEARNER = 2 };

struct proto_member {
	uint64_t id;
	char site[STORE_SITE_SIZE]; /* "" when no site is known for the id */
	uint8_t role;		    /* enum proto_member_role */
	uint64_t match;		    /* leader's view of its log; 0 when the answering node is no leader */
	uint64_t heard_ms;	    /* since its last authenticated message */
	char peer_addr[PROTO_TEXT_BYTES];
	char client_addr[PROTO_TEXT_BYTES];
};

struct proto_registry_key {
	struct crypto_key_id key_id;
	uint64_t added_seq;   /* 0: registered at init */
	uint64_t revoked_seq; /* 0: in force */
};

struct proto_registry_site {
	char site[STORE_SITE_SIZE];
	bool active;
	uint64_t node_id; /* 0: from the node configuration files */
	uint64_t added_seq, removed_seq;
	struct proto_registry_key keys[PROTO_SITE_KEYS_MAX];
	size_t key_count;
};

struct proto_members {
	struct proto_member members[PROTO_MEMBERS_MAX];
	size_t member_count;
	struct proto_registry_site sites[PROTO_REGISTRY_SITES_MAX];
	size_t site_count;
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

/* A read's query (borrowed views; rule 3). */
struct proto_query {
	uint8_t kind; /* enum query_kind */
	bool linearizable;
	size_t option_count;
	struct sl_str names[PROTO_QUERY_OPTIONS_MAX];
	struct sl_str values[PROTO_QUERY_OPTIONS_MAX];
	size_t arg_count;
	struct sl_str args[PROTO_QUERY_ARGS_MAX];
};

struct proto_cursor {
	uint8_t session[PROTO_SESSION_BYTES];
	uint32_t doc;
	uint64_t offset; /* of the next byte wanted in document doc */
};

/* One answer to a read (rule 3). */
struct proto_chunk {
	uint8_t exit_code; /* QUERY_EXIT_*; the message goes in the response's message */
	bool has_session;  /* more follows: ask with this session's cursor */
	uint8_t session[PROTO_SESSION_BYTES];
	uint32_t doc;	 /* the document data belongs to */
	uint64_t offset; /* of data in that document */
	bool done;	 /* data ends the last document */
	uint64_t applied; /* the node's applied index the documents were read at */
	uint64_t stats[PROTO_STATS];
	const uint8_t *data;
	size_t data_len;
};

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
	bool has_query, has_cursor; /* QUERY, EXPORT: exactly one */
	struct proto_query query;
	struct proto_cursor cursor;
	struct sl_str site; /* MEMBER_CHANGE, LEADER_TRANSFER */
	uint8_t change;	    /* MEMBER_CHANGE: enum proto_member_change */
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
	bool has_note;
	char note[NOTE_BYTES_MAX + 1]; /* PROTO_CHECKPOINT: the signed note, NUL-terminated */
	bool has_chunk;
	struct proto_chunk chunk; /* QUERY, EXPORT */
	bool has_members;
	struct proto_members members; /* MEMBERS */
};

/* Build and sign a request (records for SUBMIT, item for ITEM_STATUS) into out. */
int proto_request_encode(uint8_t type, const struct ledger_input *records, size_t count, const char *item,
			 const struct crypto_secret_key *sk, struct sl_buf *out);
/* Build and sign a read: a query (the first request) or a cursor (the next chunk); not both. */
int proto_request_encode_read(uint8_t type, const struct proto_query *query, const struct proto_cursor *cursor,
			      const struct crypto_secret_key *sk, struct sl_buf *out);
int proto_request_decode(const uint8_t *bytes, size_t len, struct proto_request *req,
			 struct sl_error_detail *detail);
/* 0 when the signature verifies under pk, SL_EBADSIG otherwise. */
int proto_request_verify(const struct proto_request *req, const struct crypto_public_key *pk);

void proto_response_init(struct proto_response *resp, uint8_t code, const char *message);
int proto_response_encode(const struct proto_response *resp, struct sl_buf *out);
int proto_response_decode(const uint8_t *bytes, size_t len, struct proto_response *resp);

/* Build and sign a membership request: MEMBERS (site NULL), MEMBER_CHANGE (site, change),
 * LEADER_TRANSFER (site). node/proto_admin.c. */
int proto_request_encode_admin(uint8_t type, const char *site, uint8_t change, const struct crypto_secret_key *sk,
			       struct sl_buf *out);

const char *proto_code_name(int code); /* "OK", "REDIRECT", ...; "?" when unknown */
bool proto_type_known(uint64_t type);  /* a value of enum proto_type */

#endif
