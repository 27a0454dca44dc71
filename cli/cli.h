/* cli/cli.h — shared pieces of the `siteledger` command: argument parsing, output, opening a
 * data directory, building and applying records.
 *
 * Rules:
 *  1. Exit codes: CLI_EXIT_ACCEPTED (0) accepted / success, CLI_EXIT_REJECTED (1) rejected by a
 *     lifecycle rule (reason printed), CLI_EXIT_USAGE (2) usage, input or environment error.
 *  2. Errors go to stderr as "siteledger: <command>: <what>"; results go to stdout (text, or one JSON
 *     document with --json).
 *  3. Parsed argument values point into argv: valid for the whole run.
 */
#ifndef SL_CLI_CLI_H
#define SL_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "crypto/crypto.h"
#include "ledger/apply.h"
#include "ledger/gs1.h"
#include "ledger/record.h"
#include "query/query.h"
#include "store/store.h"

enum {
	CLI_EXIT_ACCEPTED = 0,
	CLI_EXIT_REJECTED = 1,
	CLI_EXIT_USAGE = 2,
};

#define CLI_ARGS_MAX 4096	/* options + positionals on one command line (bounded by argv anyway) */
#define CLI_OPTION_SPECS_MAX 32 /* options one command accepts */

struct cli_option_spec {
	const char *name; /* without the leading "--" */
	const char *metavar; /* NULL: a flag without value */
	bool repeatable;
	const char *help;
};

struct cli_args {
	const struct cli_option_spec *specs;
	size_t spec_count;
	size_t option_count;
	unsigned option_spec[CLI_ARGS_MAX];
	const char *option_name[CLI_ARGS_MAX];
	const char *option_value[CLI_ARGS_MAX];
	size_t positional_count;
	const char *positional[CLI_ARGS_MAX];
};

struct cli_command {
	const char *name;
	const char *synopsis; /* after "siteledger NAME " */
	const char *summary;
	const struct cli_option_spec *options; /* terminated by a NULL name */
	int (*run)(const struct cli_command *command, struct cli_args *args);
};

/* Parse argv (after the command name) against the command's options plus the common ones.
 * Returns 0, or CLI_EXIT_USAGE after printing what was wrong. "--help" prints help and returns 1
 * (the caller then exits 0). */
int cli_args_parse(const struct cli_command *command, int argc, char **argv, struct cli_args *args);
const char *cli_arg(const struct cli_args *args, const char *name); /* last value or NULL */
bool cli_flag(const struct cli_args *args, const char *name);
size_t cli_arg_count(const struct cli_args *args, const char *name);
const char *cli_arg_nth(const struct cli_args *args, const char *name, size_t n);
void cli_command_help(const struct cli_command *command, FILE *out);

/* Report an error for the current command and return CLI_EXIT_USAGE. */
int cli_fail(const char *format, ...) __attribute__((format(printf, 1, 2)));
void cli_set_command_name(const char *name);
/* Parse a positive integer option; CLI_EXIT_USAGE with a message on bad input. */
int cli_parse_u64(const char *option, const char *text, uint64_t max, uint64_t *out);

/* JSON output helpers (stdout). */
void cli_json_string(FILE *out, const char *text, size_t len);
void cli_json_cstring(FILE *out, const char *text);
void cli_json_hex(FILE *out, const uint8_t *bytes, size_t len);

/* An opened data directory (embedded mode). */
struct cli_ledger {
	store *st;
	char site[RECORD_SITE_SIZE];
	char key_path[4096];
};
#define CLI_META_SITE "site"
#define CLI_META_KEY_PATH "key-path"

/* Open --data DIR for writing or reading; prints the error and returns CLI_EXIT_USAGE on failure. */
int cli_ledger_open(const struct cli_args *args, bool write, struct cli_ledger *ledger);
void cli_ledger_close(struct cli_ledger *ledger);

/* Identifier from user text (element string, EPC URI, Digital Link, or bare GTIN for gtin scope). */
int cli_item_id_parse(const char *text, char out[GS1_ITEM_ID_SIZE], struct gs1_item *item);

/* Sign records made by a command (type and body filled in) and either apply them as one batch
 * (embedded) or print them (--sign-only). Fills each envelope from the options (site, key id, actor,
 * meaning, event time, justification, supersedes) and signs. Prints the outcomes, then calls
 * print_extra (may be NULL) inside the same output document; returns the exit code. */
struct cli_extra_output {
	void (*print)(void *ctx, FILE *out, bool json); /* json: print `,"name":value` members */
	void *ctx;
};
int cli_records_finish(const struct cli_args *args, struct record *records, size_t count,
		       const struct cli_extra_output *extra);
/* Apply already-encoded records as one batch to an open ledger and print the outcomes. */
int cli_records_apply(const struct cli_args *args, struct cli_ledger *ledger, const struct ledger_input *inputs,
		      size_t count, const struct cli_extra_output *extra);

/* A file of signed records as --sign-only writes them (one hex record a line; blank lines and '#'
 * comments skipped), read for at most lines_max lines: record gets each line's decoded bytes,
 * valid during the call. 0, record's non-zero value, or CLI_EXIT_USAGE after a message naming
 * the file and line. cli/cmd_submit.c. */
int cli_record_file_read(const char *path, unsigned long lines_max,
			 int (*record)(void *ctx, const char *path, unsigned long number, const uint8_t *bytes,
				       size_t len),
			 void *ctx);

/* Print outcomes (text, or JSON with --json) as cli_records_apply does; returns the exit code. */
int cli_records_print(const struct cli_args *args, const struct ledger_input *inputs,
		      const struct ledger_result *results, size_t count, const struct cli_extra_output *extra);

/* Node client (cli/cmd_node.c): submit signed records to --node ADDR (following redirects to the
 * leader) and print the outcomes. Requests are signed with --key (a key registered in the
 * cluster). Returns the exit code. */
int cli_node_submit(const struct cli_args *args, const struct ledger_input *inputs, size_t count,
		    const struct cli_extra_output *extra);
/* Run a query on --node ADDR (--linearizable: after Raft ReadIndex): each document's bytes go to
 * docs[i] as they arrive; out gets the exit status, message and stats. 0, or CLI_EXIT_USAGE after
 * a message (transport or node error). */
int cli_node_read(const struct cli_args *args, const struct query_params *p, FILE *const docs[QUERY_DOCS],
		  struct query_out *out);

/* Read commands (cli/cmd_read.c): the options a command gives its query (query_takes_option,
 * "html" as a flag, positionals from `first`), then run it on --data DIR or --node ADDR. doc0 gets
 * the command's document (stdout, or a file); the HTML report goes to --html FILE only when the
 * query succeeded; the message to stderr. stats (may be NULL) gets the query's numbers. Returns
 * the exit code. */
int cli_read_params(const struct cli_args *args, uint8_t kind, size_t first, struct query_params *p);
int cli_read(const struct cli_args *args, const struct query_params *p, FILE *doc0, uint64_t stats[QUERY_STATS]);
/* The same for a command whose document is a file (--out: export, prove). */
int cli_read_to_file(const struct cli_args *args, uint8_t kind, const char *path, uint64_t stats[QUERY_STATS]);

/* Options every read command takes (with --data, the common option). */
#define CLI_READ_OPTIONS                                                                                          \
	{ "node", "ADDR", false, "ask a siteledgerd node (tcp://HOST:PORT) instead of --data; its copy may lag the leader" }, \
	{ "key", "FILE", false, "with --node: secret key (registered in the cluster) that signs the request" },       \
	{ "linearizable", NULL, false, "with --node: answer only after the node applied all the cluster had committed when asked (Raft ReadIndex; needs a leader)" }
/* The monotonic clock in ms, and a pause, for the node client's retries and waits (cli/cmd_node.c). */
uint64_t cli_clock_ms(void);
void cli_pause_ms(unsigned ms);
/* Membership requests (node/proto.h PROTO_MEMBERS, _MEMBER_CHANGE, _LEADER_TRANSFER) to --node,
 * following redirects and retrying BUSY and UNAVAILABLE as every call does; resp is the answer
 * (struct proto_response, node/proto.h). 0, or CLI_EXIT_USAGE after a message. */
struct proto_response;
int cli_node_admin(const struct cli_args *args, uint8_t type, const char *site, uint8_t change,
		   struct proto_response *resp);

/* `checkpoint --node`: the node signs and submits a checkpoint record; prints its note. */
int cli_node_checkpoint(const struct cli_args *args);
/* `checkpoint --data DIR --sign-only [--size N]`: the tree head as a signed checkpoint record (hex
 * line) for `submit` (cli/cmd_checkpoint_record.c). */
int cli_checkpoint_record(const struct cli_args *args);

/* Options every record command takes. */
#define CLI_RECORD_OPTIONS                                                                                        \
	{ "key", "FILE", false, "secret key file (default: the one given to init)" },                            \
	{ "actor", "ID", false, "person responsible, recorded and signed (default: $USER)" },                     \
	{ "meaning", "M", false, "meaning of the signature: authored (default), reviewed, approved" },           \
	{ "event-time", "TIME", false, "when it happened: RFC 3339 UTC (2026-11-24T10:00:00Z) or ms since epoch (default: now)" }, \
	{ "justification", "TEXT", false, "free-text reason recorded with the record" },                          \
	{ "supersedes", "ID", false, "hex id of the record this one corrects" },                                  \
	{ "sign-only", NULL, false, "build and sign, print the record (hex, one per line) instead of applying" }, \
	{ "out", "FILE", false, "with --sign-only: append the records to FILE instead of stdout" },              \
	{ "node", "ADDR", false, "submit to a siteledgerd node (tcp://HOST:PORT) instead of --data; needs --key" }

extern const struct cli_command cli_commands[];
extern const size_t cli_command_count;

/* Commands (one file per concern). */
int cli_cmd_keygen(const struct cli_command *command, struct cli_args *args);
int cli_cmd_init(const struct cli_command *command, struct cli_args *args);
int cli_cmd_commission(const struct cli_command *command, struct cli_args *args);
int cli_cmd_commission_container(const struct cli_command *command, struct cli_args *args);
int cli_cmd_aggregate(const struct cli_command *command, struct cli_args *args);
int cli_cmd_ship(const struct cli_command *command, struct cli_args *args);
int cli_cmd_items(const struct cli_command *command, struct cli_args *args); /* receive, revert */
int cli_cmd_decommission(const struct cli_command *command, struct cli_args *args);
int cli_cmd_lock(const struct cli_command *command, struct cli_args *args);
int cli_cmd_deviation(const struct cli_command *command, struct cli_args *args);
int cli_cmd_submit(const struct cli_command *command, struct cli_args *args);
int cli_cmd_status(const struct cli_command *command, struct cli_args *args);
int cli_cmd_history(const struct cli_command *command, struct cli_args *args);
int cli_cmd_lot(const struct cli_command *command, struct cli_args *args);
int cli_cmd_reconcile(const struct cli_command *command, struct cli_args *args); /* cli/cmd_reconcile.c */
int cli_cmd_where(const struct cli_command *command, struct cli_args *args);	    /* cli/cmd_where.c */
int cli_cmd_spc(const struct cli_command *command, struct cli_args *args);	    /* cli/cmd_spc.c */
int cli_cmd_cluster(const struct cli_command *command, struct cli_args *args); /* cluster init */
int cli_cmd_node(const struct cli_command *command, struct cli_args *args);    /* node status */
int cli_cmd_registry(const struct cli_command *command, struct cli_args *args); /* cli/cmd_registry.c */
int cli_cmd_members(const struct cli_command *command, struct cli_args *args);	/* cli/cmd_members.c */
int cli_cmd_member(const struct cli_command *command, struct cli_args *args);	/* member add|promote|remove */
int cli_cmd_leader(const struct cli_command *command, struct cli_args *args);	/* leader transfer */

#endif
