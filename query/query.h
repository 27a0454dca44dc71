/* query/query.h — the read commands as functions of (store, parameters) → documents. The CLI runs
 * them on a data directory (--data), siteledgerd runs them for a client (--node, node/query.c):
 * the same code on the same ledger prints the same bytes (docs/decisions.md D17).
 *
 * A query names its kind and carries options (name → value, spelled as the CLI's options without
 * "--"; a flag has the value "") and positional arguments. query_run checks them, reads through
 * the caller's read transaction and writes:
 *   doc 0  what the command prints on stdout (text, or JSON with the "json" option)
 *   doc 1  the HTML report (reconcile and spc with the "html" option); never written otherwise
 * and sets an exit status with, when there is something to say, a message for stderr
 * (QUERY_EXIT_*: the CLI's exit codes, cli/cli.h rule 1).
 *
 * Rules:
 *  1. Queries only read: through env->txn, and a checkpoint signed with env's key over what they
 *     read is kept in memory only (query/checkpoint.c).
 *  2. A document depends on the ledger and the parameters only: no clock, no host name, no path
 *     (epcis export takes its creationDate from the "now-ms" option the client sets).
 *  3. Parameters are bounded (QUERY_*_MAX, QUERY_*_BYTES) and checked before use, identically on
 *     both sides (query_check runs the parse part alone); bad input is exit 2 with a message.
 *  4. Output goes to the FILE handles the caller gives; a write error there is the caller's to
 *     see (ferror). A query never closes them.
 *  5. The full export (QUERY_EXPORT) is a stream of steps over one read transaction
 *     (query_export_*), so a node can serve a ledger of any size in bounded chunks.
 */
#ifndef SL_QUERY_QUERY_H
#define SL_QUERY_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "crypto/crypto.h"
#include "ledger/gs1.h"
#include "store/store.h"

enum query_kind {
	QUERY_STATUS = 1,	/* args: ID */
	QUERY_HISTORY = 2,	/* args: ID */
	QUERY_LOT = 3,		/* args: GTIN LOT */
	QUERY_RECONCILE = 4,	/* lot, site, line, from, to, overdue-days, show, html */
	QUERY_WHERE = 5,	/* lot, site */
	QUERY_SPC = 6,		/* site, line, since, shift-hours, html */
	QUERY_CHECKPOINT = 7,	/* the newest checkpoint covering the ledger (a signed note) */
	QUERY_EPCIS_EXPORT = 8, /* lot, id, since, format, now-ms */
	QUERY_PROVE = 9,	/* args: ID; the proof bundle */
	QUERY_EXPORT = 10,	/* lot, since; streamed with query_export_* only */
};
#define QUERY_KIND_MAX QUERY_EXPORT

enum { QUERY_EXIT_OK = 0, QUERY_EXIT_REJECTED = 1, QUERY_EXIT_USAGE = 2 };

#define QUERY_OPTIONS_MAX 16 /* options of one query (the CLI's read commands take at most 6) */
#define QUERY_ARGS_MAX 4     /* positional arguments (lot takes 2) */
#define QUERY_NAME_BYTES 24  /* an option name + NUL ("overdue-days") */
#define QUERY_VALUE_BYTES 256 /* an option value or argument + NUL: ids, lots, site names, dates */
#define QUERY_DOCS 2	     /* doc 0 = stdout, doc 1 = HTML report */
#define QUERY_MESSAGE_BYTES 256
#define QUERY_STATS 4 /* numbers a query hands its caller besides the documents */

struct query_params {
	uint8_t kind; /* enum query_kind */
	size_t option_count;
	char names[QUERY_OPTIONS_MAX][QUERY_NAME_BYTES];
	char values[QUERY_OPTIONS_MAX][QUERY_VALUE_BYTES];
	size_t arg_count;
	char args[QUERY_ARGS_MAX][QUERY_VALUE_BYTES];
};

/* What signs a checkpoint when the newest stored one does not cover the ledger: a loaded key
 * (the node's), or a key file read only when needed (the CLI's --key or the one given to init).
 * Both NULL: no signing; a query that needs a fresh checkpoint then fails. */
struct query_signer {
	const struct crypto_secret_key *sk;
	const char *key_path;
};

struct query_env {
	store_txn *txn;	 /* NULL: check the parameters only (query_check) */
	const char *site; /* this data directory's site: checkpoint origin and signer name */
	struct query_signer signer;
};

struct query_out {
	FILE *doc[QUERY_DOCS]; /* doc 1 must be given when query_wants_html() */
	int exit_code;	       /* QUERY_EXIT_* */
	char message[QUERY_MESSAGE_BYTES]; /* for stderr; "" when none (also with exit 0: a warning) */
	uint64_t stats[QUERY_STATS];	   /* export: entries, tree size, partial; epcis: events, skipped */
};

/* ---- parameters (query/query.c) */
/* SL_EVALUE for a kind that is not one. */
int query_params_init(struct query_params *p, uint8_t kind);
/* Add an option: SL_EUNKNOWNFIELD when the kind does not take it, SL_EDUPFIELD when given twice,
 * SL_EOVERSIZE when name or value is too long, SL_ELIMIT beyond QUERY_OPTIONS_MAX, SL_EVALUE for
 * a NUL byte inside. */
int query_params_option(struct query_params *p, const char *name, size_t name_len, const char *value,
			size_t value_len);
/* Add a positional argument: SL_ELIMIT beyond the kind's count, SL_EOVERSIZE, SL_EVALUE (NUL). */
int query_params_arg(struct query_params *p, const char *value, size_t len);
const char *query_param(const struct query_params *p, const char *name); /* value, or NULL when absent */
bool query_takes_option(uint8_t kind, const char *name);
bool query_wants_html(const struct query_params *p);
const char *query_kind_name(uint8_t kind); /* "status", ...; "?" when unknown */

/* ---- running */
/* Once per process, before queries run on several threads at once (libxml2 for epcis export). */
void query_init(void);
/* Run a query (not QUERY_EXPORT); returns out->exit_code. */
int query_run(const struct query_env *env, const struct query_params *p, struct query_out *out);
/* The parse part alone (no store): 0, or the exit code with out->message. */
int query_check(const struct query_params *p, struct query_out *out);
/* Reset out's status (keeps the doc handles). */
void query_out_reset(struct query_out *out);
/* Set the message (printf-style) and the exit code; returns exit_code. */
int query_fail(struct query_out *out, int exit_code, const char *format, ...) __attribute__((format(printf, 3, 4)));

/* ---- the full or partial export, in steps (query/export.c). The caller keeps env->txn open from
 * begin to end; each step appends the next lines to `out` until it wrote at least budget_bytes
 * (a whole line at a time) or the bundle ended. */
typedef struct query_export query_export;
int query_export_begin(const struct query_env *env, const struct query_params *p, query_export **x,
		       struct query_out *out); /* returns out->exit_code; *x only on 0 */
/* 0 with *done, or a negative SL_E* code (the bundle is then unusable). */
int query_export_step(query_export *x, FILE *out, uint64_t budget_bytes, bool *done);
/* Entries written so far, tree size, partial (0/1) into stats[0..2]. */
void query_export_stats(const query_export *x, uint64_t stats[QUERY_STATS]);
void query_export_end(query_export *x);
/* Progress of the entries (the CLI's bar); called with each seq written. May be NULL. */
void query_export_progress(query_export *x, void (*cb)(void *ctx, uint64_t seq, uint64_t total), void *ctx);

/* ---- pieces the CLI shares (query/text.c) */
void query_json_string(FILE *out, const char *text, size_t len);
void query_json_cstring(FILE *out, const char *text);
void query_json_hex(FILE *out, const uint8_t *bytes, size_t len);
void query_time_format(uint64_t ms, char out[32]); /* "2026-11-24T10:00:00.000Z" (UTC) */
void query_day_format(int64_t day, char out[16]);  /* days since the epoch → "2026-11-24" */
/* Identifier text (element string, EPC URI, Digital Link) → item id. 0, or an SL_E* code with
 * `why` saying what (for "'TEXT' is not a valid identifier: ..."). */
int query_item_id_parse(const char *text, char out[GS1_ITEM_ID_SIZE], struct gs1_item *item, char *why,
			size_t why_size);
/* "GTIN/LOT" → GTIN-14 and lot. 0, or SL_ESYNTAX. */
int query_lot_parse(const char *text, char gtin[GS1_GTIN_DIGITS + 1], char lot[GS1_LOT_CHARS_MAX + 1]);

#endif
