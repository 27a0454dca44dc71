/* cli/bundle.h — reading the auditor's bundles (exports and proof bundles), trusted keys, and the
 * checks shared by `audit`, `verify-proof` and `checkpoint`. The format and its writers are in
 * query/bundle.h (docs/auditor-guide.md "Bundle format").
 *
 * Rules:
 *  1. Readers hold one line at a time (BUNDLE_LINE_BYTES_MAX): memory does not grow with the bundle.
 *  2. Every malformed line is an error naming the line number; nothing is skipped.
 *  3. A registry site is used only when a trusted key file (--keys DIR, *.pub) names the same site
 *     and holds the same public key.
 */
#ifndef SL_CLI_BUNDLE_H
#define SL_CLI_BUNDLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "crypto/crypto.h"
#include "crypto/merkle.h"
#include "crypto/note.h"
#include "ledger/entry.h"
#include "ledger/record.h"
#include "query/bundle.h"

#define BUNDLE_TRUSTED_KEYS_MAX 256   /* *.pub files read from --keys DIR */

struct trusted_keys {
	struct bundle_site keys[BUNDLE_TRUSTED_KEYS_MAX];
	size_t count;
};

/* Line reader over a file; the line is NUL-terminated without its newline. */
struct bundle_reader {
	FILE *file;
	char *line; /* BUNDLE_LINE_BYTES_MAX + 2 bytes */
	size_t len;
	uint64_t line_no;
	uint64_t bytes_read;
	uint64_t file_bytes; /* for progress; 0 when unknown */
	bool eof;
};

int bundle_reader_open(struct bundle_reader *reader, const char *path);
void bundle_reader_close(struct bundle_reader *reader);
/* 0 with a line, SL_ENOENT at end of file, SL_ETRUNCATED when the last line lacks its newline,
 * SL_EOVERSIZE for a line longer than BUNDLE_LINE_BYTES_MAX, SL_ESYNTAX for a NUL or CR byte. */
int bundle_reader_next(struct bundle_reader *reader);
/* The line starts with "word " (or is exactly "word"); returns the rest or NULL. */
const char *bundle_line_rest(const struct bundle_reader *reader, const char *word);

/* Read every *.pub file of dir. SL_ENOENT when dir has none. */
int trusted_keys_load(const char *dir, struct trusted_keys *keys, char *why, size_t why_size);
const struct bundle_site *trusted_key_find(const struct trusted_keys *keys, const char *site);
const struct bundle_site *bundle_registry_find(const struct bundle_registry *registry, const char *site);

/* Parse "SITE PUBKEY-HEX" into registry (appended). 0 or SL_ESYNTAX / SL_ELIMIT / SL_EEXIST. */
int bundle_site_parse(const char *text, struct bundle_registry *registry);

/* A checkpoint line's note: decoded, parsed, origin checked, every signature line whose name is a
 * registry site verified (a trusted site's line that fails is an error), at least one note
 * signature (0x01) by a trusted site required. cosigners counts valid 0x04 lines. On failure, why
 * says what (NUL-terminated). */
struct checkpoint_check {
	struct checkpoint cp;
	size_t signers;	  /* valid 0x01 signatures by trusted sites */
	size_t cosigners; /* valid 0x04 cosignatures by trusted sites */
	char signer_names[BUNDLE_SITES_MAX * 8];
};
int bundle_checkpoint_check(const char *base64_note, const char *origin, const struct bundle_registry *registry,
			    struct checkpoint_check *out, char *why, size_t why_size);
int bundle_note_check(const char *note_text, size_t note_len, const char *origin,
		      const struct bundle_registry *registry, struct checkpoint_check *out, char *why, size_t why_size);

/* Decode hex of exactly 2*max or fewer bytes into out; *len = bytes. SL_ESYNTAX on bad digits. */
int bundle_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t max, size_t *len);

/* Progress bar on stderr (only when stderr is a terminal). */
struct progress {
	bool enabled;
	const char *label;
	uint64_t total;
	uint64_t last_permille;
};
void progress_start(struct progress *p, const char *label, uint64_t total);
void progress_update(struct progress *p, uint64_t done);
void progress_finish(struct progress *p);

#endif
