/* cli/bundle.h — reading the auditor's bundles (exports and proof bundles), trusted keys, and the
 * checks shared by `audit`, `verify-proof` and `checkpoint`. The format and its writers are in
 * query/bundle.h (docs/auditor-guide.md "Bundle format").
 *
 * Rules:
 *  1. Readers hold one line at a time (BUNDLE_LINE_BYTES_MAX): memory does not grow with the bundle.
 *  2. Every malformed line is an error naming the line number; nothing is skipped.
 *  3. A registry site is used only when a trusted key file (--keys DIR, *.pub) names the same site
 *     and holds the same public key.
 *  4. Keys in force (cli/bundle_keys.c, D27): signatures are checked against the keys of the
 *     ledger's registry as it stood at that point, not only the keys registered at init: a record
 *     at seq s against the keys added before s and not revoked (nor their site removed) before s;
 *     a checkpoint of size N against the keys not revoked within the first N entries.
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
#define BUNDLE_KEYS_MAX (1u << 20)    /* keys a ledger's registry ever held (sites x rotations) */
#define BUNDLE_KEY_SITES_MAX (1u << 16) /* sites it ever held (a removed site's id is never reused) */

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

/* Keys in force (rule 4). */
struct bundle_key {
	char site[RECORD_SITE_SIZE];
	struct crypto_public_key pk;
	struct crypto_key_id id;
	uint64_t added_seq;   /* the registry record that added it; 0 = registered at init */
	uint64_t revoked_seq; /* the registry record that revoked it; 0 = never */
	bool trusted;	      /* init keys: a trusted key file matches; later keys: vouched for */
};
struct bundle_key_site {
	char name[RECORD_SITE_SIZE];
	uint64_t removed_seq; /* the registry record that removed the site; 0 = never */
};
struct bundle_keys { /* zero-initialised is empty; grows on the heap: bundle_keys_free */
	struct bundle_key *keys;
	size_t count, cap;
	struct bundle_key_site *sites;
	size_t site_count, site_cap;
};
void bundle_keys_free(struct bundle_keys *keys);
int bundle_keys_copy(struct bundle_keys *to, const struct bundle_keys *from); /* to: empty or freed */
/* The registry as at init (a bundle's site lines): one key per site, trusted as the site is.
 * SL_ENOMEM. */
int bundle_keys_from_registry(struct bundle_keys *keys, const struct bundle_registry *registry);
/* Every key and site a store's registry holds, with when each was added, revoked or removed. Init
 * keys are trusted when `init` lists the site as trusted with the same key (every one when init
 * is NULL: the caller's own data directory); later keys are trusted. SL_ELIMIT above the maxima. */
int bundle_keys_load(struct bundle_keys *keys, store_txn *txn, const struct bundle_registry *init);
const struct bundle_key *bundle_keys_find(const struct bundle_keys *keys, const uint8_t key_id[16]);
/* The key with this id when it belongs to `site` and was in force at record `seq`, else NULL. */
const struct bundle_key *bundle_keys_signer(const struct bundle_keys *keys, const char *site, const uint8_t key_id[16],
					    uint64_t seq);
/* The key is trusted and was not revoked (nor its site removed) within the first `size` entries. */
bool bundle_key_attests(const struct bundle_keys *keys, const struct bundle_key *key, uint64_t size);
/* An accepted registry record at seq, signed by a key of signer_site already checked: its
 * cosignatures must verify under keys in force, its signers be a strict majority of the sites
 * registered (ledger/rules_registry.c checks 1-2), then its change is taken. SL_EBADSIG or
 * SL_EVALUE with why = what was expected; SL_ELIMIT above the maxima. */
int bundle_keys_registry_record(struct bundle_keys *keys, uint64_t seq, const struct record *r,
				const char *signer_site, char *why, size_t why_size);

/* A checkpoint line's note: decoded, parsed, origin checked and, when keys is not NULL, every
 * signature line by a known key verified (rule 4: a trusted key's line that fails, or a line by a
 * key revoked within the checkpoint's size, is an error; lines by unknown keys are ignored), at
 * least one note signature (0x01) required. cosigners counts valid 0x04 lines. On failure, why
 * says what (NUL-terminated). bundle_checkpoint_decode only turns the base64 line into the note's
 * text (NOTE_BYTES_MAX + 1 bytes, NUL-terminated). */
struct checkpoint_check {
	struct checkpoint cp;
	size_t signers;	  /* valid 0x01 signatures by trusted sites */
	size_t cosigners; /* valid 0x04 cosignatures by trusted sites */
	uint32_t verified; /* bit i: signature line i verified (lines by unknown keys do not) */
	char signer_names[BUNDLE_SITES_MAX * 8];
};
int bundle_checkpoint_decode(const char *base64_note, char *text, size_t *len, char *why, size_t why_size);
int bundle_note_check(const char *note_text, size_t note_len, const char *origin, const struct bundle_keys *keys,
		      struct checkpoint_check *out, char *why, size_t why_size);

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
