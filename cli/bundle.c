/* cli/bundle.c — bundle line reading, trusted keys, registry lines, checkpoint checks, progress
 * (see bundle.h). */
#include "cli/bundle.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"

#define PROGRESS_WIDTH 40 /* characters of the bar */

int bundle_reader_open(struct bundle_reader *reader, const char *path)
{
	memset(reader, 0, sizeof *reader);
	reader->file = fopen(path, "rb");
	if (reader->file == NULL)
		return errno == ENOENT ? SL_ENOENT : SL_EIO;
	reader->line = malloc(BUNDLE_LINE_BYTES_MAX + 2);
	if (reader->line == NULL) {
		fclose(reader->file);
		reader->file = NULL;
		return SL_ENOMEM;
	}
	struct stat info;
	if (fstat(fileno(reader->file), &info) == 0 && S_ISREG(info.st_mode))
		reader->file_bytes = (uint64_t)info.st_size;
	return 0;
}

void bundle_reader_close(struct bundle_reader *reader)
{
	if (reader->file != NULL)
		fclose(reader->file);
	free(reader->line);
	reader->file = NULL;
	reader->line = NULL;
}

int bundle_reader_next(struct bundle_reader *reader)
{
	reader->len = 0;
	reader->line[0] = '\0';
	if (reader->eof)
		return SL_ENOENT;
	reader->line_no++;
	for (;;) {
		int c = getc_unlocked(reader->file);
		if (c == EOF) {
			reader->eof = true;
			if (ferror(reader->file))
				return SL_EIO;
			return reader->len == 0 ? SL_ENOENT : SL_ETRUNCATED;
		}
		reader->bytes_read++;
		if (c == '\n')
			break;
		if (c == '\0' || c == '\r')
			return SL_ESYNTAX;
		if (reader->len == BUNDLE_LINE_BYTES_MAX)
			return SL_EOVERSIZE;
		reader->line[reader->len++] = (char)c;
	}
	reader->line[reader->len] = '\0';
	return 0;
}

const char *bundle_line_rest(const struct bundle_reader *reader, const char *word)
{
	size_t n = strlen(word);
	if (reader->len < n || memcmp(reader->line, word, n) != 0)
		return NULL;
	if (reader->line[n] == '\0')
		return reader->line + n;
	return reader->line[n] == ' ' ? reader->line + n + 1 : NULL;
}

static int trusted_key_add(struct trusted_keys *keys, const char *path, char *why, size_t why_size)
{
	if (keys->count == BUNDLE_TRUSTED_KEYS_MAX) {
		snprintf(why, why_size, "more than %d key files", BUNDLE_TRUSTED_KEYS_MAX);
		return SL_ELIMIT;
	}
	struct bundle_site *key = &keys->keys[keys->count];
	int rc = crypto_public_key_read(path, &key->pk, key->name, sizeof key->name);
	if (rc != 0) {
		snprintf(why, why_size, "cannot read key file %s: %s", path, sl_strerror(rc));
		return rc;
	}
	key->trusted = true;
	keys->count++;
	return 0;
}

int trusted_keys_load(const char *dir, struct trusted_keys *keys, char *why, size_t why_size)
{
	memset(keys, 0, sizeof *keys);
	DIR *d = opendir(dir);
	if (d == NULL) {
		snprintf(why, why_size, "cannot open key directory %s: %s", dir, strerror(errno));
		return SL_ENOENT;
	}
	int rc = 0;
	struct dirent *ent;
	while (rc == 0 && (ent = readdir(d)) != NULL) {
		size_t n = strlen(ent->d_name);
		if (n < 5 || strcmp(ent->d_name + n - 4, ".pub") != 0)
			continue;
		char path[PATH_MAX];
		if (snprintf(path, sizeof path, "%s/%s", dir, ent->d_name) >= (int)sizeof path)
			continue;
		rc = trusted_key_add(keys, path, why, why_size);
	}
	closedir(d);
	if (rc == 0 && keys->count == 0) {
		snprintf(why, why_size, "no *.pub key files in %s", dir);
		rc = SL_ENOENT;
	}
	return rc;
}

const struct bundle_site *trusted_key_find(const struct trusted_keys *keys, const char *site)
{
	for (size_t i = 0; i < keys->count; i++)
		if (strcmp(keys->keys[i].name, site) == 0)
			return &keys->keys[i];
	return NULL;
}

const struct bundle_site *bundle_registry_find(const struct bundle_registry *registry, const char *site)
{
	for (size_t i = 0; i < registry->count; i++)
		if (strcmp(registry->sites[i].name, site) == 0)
			return &registry->sites[i];
	return NULL;
}

/* Value of each byte as a lowercase hex digit, 16 for anything else (uppercase too: one spelling
 * per bundle). A table: the audit decodes every byte of a bundle through here. */
static const uint8_t hex_values[256] = {
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 10, 11, 12, 13, 14, 15, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
};

/* One pass, no library call, one table lookup per character (a check pass plus sodium_hex2bin
 * took ~2% of an audit's CPU, compare-and-branch per character ~1.2%). */
int bundle_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t max, size_t *len)
{
	if (hex_len % 2 != 0 || hex_len / 2 > max)
		return SL_ESYNTAX;
	const unsigned char *in = (const unsigned char *)hex;
	unsigned bad = 0;
	for (size_t i = 0; i < hex_len / 2; i++) {
		unsigned high = hex_values[in[2 * i]], low = hex_values[in[2 * i + 1]];
		bad |= high | low;
		out[i] = (uint8_t)(high << 4 | (low & 15));
	}
	if (bad > 15)
		return SL_ESYNTAX; /* out holds garbage then: callers use it only on success */
	*len = hex_len / 2;
	return 0;
}

int bundle_site_parse(const char *text, struct bundle_registry *registry)
{
	const char *space = strchr(text, ' ');
	if (space == NULL || (size_t)(space - text) >= RECORD_SITE_SIZE ||
	    !record_site_id_valid(text, (size_t)(space - text)))
		return SL_ESYNTAX;
	if (registry->count == BUNDLE_SITES_MAX)
		return SL_ELIMIT;
	struct bundle_site *site = &registry->sites[registry->count];
	memset(site, 0, sizeof *site);
	memcpy(site->name, text, (size_t)(space - text));
	size_t len = 0;
	if (bundle_hex_decode(space + 1, strlen(space + 1), site->pk.bytes, sizeof site->pk.bytes, &len) != 0 ||
	    len != sizeof site->pk.bytes)
		return SL_ESYNTAX;
	if (bundle_registry_find(registry, site->name) != NULL)
		return SL_EEXIST;
	registry->count++;
	return 0;
}

/* The key of `site` a signature line names (by its C2SP key id, either type), or NULL. */
static const struct bundle_key *line_key(const struct bundle_keys *keys, const struct note_signature *sig)
{
	for (size_t i = 0; i < keys->count; i++) {
		const struct bundle_key *key = &keys->keys[i];
		if (strcmp(key->site, sig->name) != 0)
			continue;
		uint8_t id[NOTE_KEY_ID_BYTES], cosign_id[NOTE_KEY_ID_BYTES];
		note_key_id(key->site, NOTE_TYPE_ED25519, &key->pk, id);
		note_key_id(key->site, NOTE_TYPE_COSIGNATURE, &key->pk, cosign_id);
		if (memcmp(id, sig->key_id, sizeof id) == 0 || memcmp(cosign_id, sig->key_id, sizeof id) == 0)
			return key;
	}
	return NULL;
}

_Static_assert(NOTE_SIGNATURES_MAX <= 32, "checkpoint_check.verified has a bit per line");

/* Verify the lines of a parsed note against the keys in force at its tree size (rule 4). */
static int note_lines_check(const struct note *note, uint64_t size, const struct bundle_keys *keys,
			    struct checkpoint_check *out, char *why, size_t why_size)
{
	for (size_t i = 0; i < note->signature_count; i++) {
		const struct note_signature *sig = &note->signatures[i];
		const struct bundle_key *key = line_key(keys, sig);
		if (key == NULL || !key->trusted)
			continue; /* C2SP signed-note: lines for unknown keys are ignored */
		if (!bundle_key_attests(keys, key, size)) {
			snprintf(why, why_size, "signature line %zu by %s uses a key revoked within the checkpoint's size",
				 i + 1, sig->name);
			return SL_EBADSIG;
		}
		uint8_t type = 0;
		if (note_signature_verify(note, sig, key->site, &key->pk, &type, NULL) != 0) {
			snprintf(why, why_size, "signature line %zu by %s does not verify", i + 1, sig->name);
			return SL_EBADSIG;
		}
		if (type == NOTE_TYPE_ED25519)
			out->signers++;
		else
			out->cosigners++;
		out->verified |= 1u << i; /* i < NOTE_SIGNATURES_MAX */
		size_t used = strlen(out->signer_names);
		snprintf(out->signer_names + used, sizeof out->signer_names - used, "%s%s%s", used ? "," : "",
			 sig->name, type == NOTE_TYPE_ED25519 ? "" : "(cosig)");
	}
	if (out->signers == 0) {
		snprintf(why, why_size, "no valid signature by a trusted site");
		return SL_EBADSIG;
	}
	return 0;
}

int bundle_note_check(const char *note_text, size_t note_len, const char *origin, const struct bundle_keys *keys,
		      struct checkpoint_check *out, char *why, size_t why_size)
{
	memset(out, 0, sizeof *out);
	struct note *note = malloc(sizeof *note);
	if (note == NULL)
		return SL_ENOMEM;
	int rc = note_parse(note_text, note_len, note);
	if (rc != 0)
		snprintf(why, why_size, "signed note is malformed (%s)", sl_errname(rc));
	if (rc == 0 && (rc = checkpoint_parse(note->body, note->body_len, &out->cp)) != 0)
		snprintf(why, why_size, "checkpoint body is malformed (%s)", sl_errname(rc));
	if (rc == 0 && origin != NULL && strcmp(out->cp.origin, origin) != 0) {
		snprintf(why, why_size, "origin is '%s', the bundle's is '%s'", out->cp.origin, origin);
		rc = SL_EVALUE;
	}
	if (rc == 0 && keys != NULL)
		rc = note_lines_check(note, out->cp.size, keys, out, why, why_size);
	free(note);
	return rc;
}

int bundle_checkpoint_decode(const char *base64_note, char *text, size_t *len, char *why, size_t why_size)
{
	const char *end = NULL;
	size_t b64_len = strlen(base64_note);
	*len = 0;
	if (b64_len > sodium_base64_ENCODED_LEN(NOTE_BYTES_MAX, sodium_base64_VARIANT_ORIGINAL) ||
	    sodium_base642bin((uint8_t *)text, NOTE_BYTES_MAX, base64_note, b64_len, NULL, len, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != base64_note + b64_len) {
		snprintf(why, why_size, "checkpoint is not valid base64");
		return SL_ESYNTAX;
	}
	text[*len] = '\0';
	char again[sodium_base64_ENCODED_LEN(NOTE_BYTES_MAX, sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(again, sizeof again, (const uint8_t *)text, *len, sodium_base64_VARIANT_ORIGINAL);
	if (strcmp(again, base64_note) != 0) { /* one spelling per note: no ignored padding bits */
		snprintf(why, why_size, "checkpoint base64 is not canonical");
		return SL_ESYNTAX;
	}
	return 0;
}

void progress_start(struct progress *p, const char *label, uint64_t total)
{
	p->enabled = isatty(STDERR_FILENO) && total > 0;
	p->label = label;
	p->total = total;
	p->last_permille = UINT64_MAX;
}

void progress_update(struct progress *p, uint64_t done)
{
	if (!p->enabled)
		return;
	uint64_t permille = done >= p->total ? 1000 : done * 1000 / p->total;
	if (permille == p->last_permille)
		return;
	p->last_permille = permille;
	unsigned filled = (unsigned)(permille * PROGRESS_WIDTH / 1000);
	char bar[PROGRESS_WIDTH + 1];
	for (unsigned i = 0; i < PROGRESS_WIDTH; i++)
		bar[i] = i < filled ? '#' : '.';
	bar[PROGRESS_WIDTH] = '\0';
	fprintf(stderr, "\r%s [%s] %3u.%u%%", p->label, bar, (unsigned)(permille / 10), (unsigned)(permille % 10));
}

void progress_finish(struct progress *p)
{
	if (p->enabled)
		fputs("\n", stderr);
}
