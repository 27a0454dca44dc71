/* node/config.h — siteledgerd's configuration file: this node, its listen addresses and its peers.
 *
 * Format (docs/operations.md "Node configuration"): UTF-8 text, one `key = value` per line,
 * `#` comments and blank lines ignored, then one `[peer NAME]` section per other node:
 *
 *     id = 1                           # this node's raft id (1..NODE_ID_MAX), unique in the cluster
 *     site = mfg-basel                 # this node's site id
 *     data = /var/lib/siteledger       # data directory (relative paths: to the config file's folder)
 *     key = /etc/siteledger/site.key   # this site's secret key file
 *     peer_listen = tcp://0.0.0.0:7400 # nanomsg address peers reach this node on
 *     client_listen = tcp://0.0.0.0:7401
 *     tick_ms = 50  election_ticks = 10  heartbeat_ticks = 2  batch_records = 256   (optional)
 *     metrics_listen = 127.0.0.1:9400  # Prometheus metrics over HTTP (optional; absent = none)
 *     events_listen = tcp://127.0.0.1:7480 # nanomsg PUB of commits, rejections, alarms (optional)
 *     checkpoint_every_ms = 60000      # sign and submit a checkpoint this often; 0 = never (optional)
 *     spc_every_ms = 60000             # chart SPC and raise alarms at most this often; 0 = never
 *     join = 1                         # joins a running cluster (`member add`) instead of bootstrapping
 *                                      # one from id + peers; default 0 (optional)
 *     compact_every = 10000            # raft entries applied past the compaction point before
 *                                      # compacting the log; 0 = never (optional)
 *     compact_keep = 1000              # entries a compaction leaves for followers a little behind
 *                                      # (optional; 0..REPLICA_COMPACT_KEEP_MAX)
 *     [peer dc-lyon]
 *     id = 2  site = dc-lyon  peer = tcp://...  client = tcp://...  public_key = dc-lyon.key.pub
 *
 * Rules:
 *  1. Parsing is strict: an unknown key, a key given twice, a value out of range, a missing
 *     required key, a duplicate id or site, or an over-long line is an error naming the line
 *     (a missing key: the line where its section ended; a clash between sections: line 0).
 *  2. The parsed config owns no heap memory: plain arrays sized by the named maxima.
 */
#ifndef SL_NODE_CONFIG_H
#define SL_NODE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "consensus/raft.h"
#include "ledger/record.h"

#define NODE_CONFIG_LINE_BYTES_MAX 1024 /* one line; longer lines are an error */
#define NODE_CONFIG_LINES_MAX 10000 /* a config is short; bounds the parse loop */
#define NODE_CONFIG_PATH_BYTES 1024 /* resolved file and directory paths */
#define NODE_CONFIG_ADDR_BYTES 256 /* nanomsg address, e.g. tcp://127.0.0.1:7400 */
#define NODE_PEERS_MAX (RAFT_VOTERS_MAX - 1) /* every other voter */
#define NODE_ID_MAX 1000000 /* raft ids are small positive numbers chosen by the operator */
#define NODE_TICK_MS_MIN 5
#define NODE_TICK_MS_MAX 10000
#define NODE_TICK_MS_DEFAULT 50
#define NODE_ELECTION_TICKS_DEFAULT 10
#define NODE_HEARTBEAT_TICKS_DEFAULT 2
#define NODE_HTTP_ADDR_BYTES 32 /* "255.255.255.255:65535" and room to spare */
#define NODE_EVERY_MS_MAX 86400000u /* periodic work runs at least daily when enabled */
#define NODE_CHECKPOINT_EVERY_MS_DEFAULT 60000u /* a site attests the ledger once a minute */
#define NODE_SPC_EVERY_MS_DEFAULT 60000u	 /* SPC charts are checked once a minute */
/* Log compaction: 10000 entries of up to 256 records keep restarts and slow followers on the log
 * for minutes of traffic; the ceiling leaves the in-memory log (RAFT_LOG_ENTRIES_MAX) room for
 * the uncommitted tail. */
#define NODE_COMPACT_EVERY_DEFAULT 10000
#define NODE_COMPACT_KEEP_DEFAULT 1000
#define NODE_COMPACT_EVERY_MAX (RAFT_LOG_ENTRIES_MAX / 2)

struct node_peer_config {
	char name[RECORD_SITE_SIZE]; /* from the section header */
	uint64_t id;
	char site[RECORD_SITE_SIZE];
	char peer_addr[NODE_CONFIG_ADDR_BYTES];
	char client_addr[NODE_CONFIG_ADDR_BYTES];
	char public_key_path[NODE_CONFIG_PATH_BYTES];
};

struct node_config {
	uint64_t id;
	char site[RECORD_SITE_SIZE];
	char data_dir[NODE_CONFIG_PATH_BYTES];
	char key_path[NODE_CONFIG_PATH_BYTES];
	char peer_listen[NODE_CONFIG_ADDR_BYTES];
	char client_listen[NODE_CONFIG_ADDR_BYTES];
	unsigned tick_ms;
	unsigned election_ticks;
	unsigned heartbeat_ticks;
	unsigned batch_records; /* 1..REPLICA_BATCH_RECORDS_MAX records per raft entry */
	uint64_t compact_every; /* replica_config.compact_every: 0..NODE_COMPACT_EVERY_MAX, 0 = never */
	uint64_t compact_keep;	/* replica_config.compact_keep: 0..REPLICA_COMPACT_KEEP_MAX */
	unsigned checkpoint_every_ms; /* 0..NODE_EVERY_MS_MAX; 0 = no periodic checkpoints */
	unsigned spc_every_ms;	      /* 0..NODE_EVERY_MS_MAX; 0 = no SPC alarms */
	unsigned join;		      /* 1: start without a configuration of its own (node/membership.c) */
	char metrics_listen[NODE_HTTP_ADDR_BYTES];	 /* IPv4:PORT; "" = no metrics endpoint */
	char events_listen[NODE_CONFIG_ADDR_BYTES]; /* nanomsg address; "" = no events */
	struct node_peer_config peers[NODE_PEERS_MAX];
	size_t peer_count;
};

/* Parse text[0..len) (base_dir resolves relative paths; NULL = as written). On error *line_out is
 * the 1-based line (0 when the error is about the file as a whole) and detail says what. */
int node_config_parse(const char *text, size_t len, const char *base_dir, struct node_config *out,
		      unsigned *line_out, struct sl_error_detail *detail);
/* "A.B.C.D:PORT" (numeric IPv4, port 1..65535) into ip (network order) and port. SL_EINVAL
 * otherwise. */
int node_config_http_addr_parse(const char *text, uint8_t ip[4], uint16_t *port);
/* Read and parse a file; relative paths resolve against the file's directory. */
int node_config_load(const char *path, struct node_config *out, unsigned *line_out,
		     struct sl_error_detail *detail);

#endif
