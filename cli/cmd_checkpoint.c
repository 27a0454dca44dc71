/* cli/cmd_checkpoint.c — C2SP checkpoints of a data directory: sign the current tree head
 * (`checkpoint`), cosign another site's checkpoint (`cosign`), and keep cosignatures
 * (`checkpoint --add`). Formats: crypto/note.h; storage: cli/audit.h rule 1.
 *
 * Embedded mode has one signer (the data directory's site); other sites cosign out of band and the
 * operator adds their lines. Submitting checkpoints and cosignatures as ledger records comes with
 * the replicated node (docs/auditor-guide.md "Checkpoints").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/audit.h"
#include "store/merkle_store.h"
#include "util/error.h"

int cli_checkpoint_ensure(struct cli_ledger *ledger, const char *key_path, char *note, size_t *len, char *why,
			  size_t why_size)
{
	store_txn *txn = NULL;
	int rc = store_txn_begin(ledger->st, true, &txn);
	uint64_t count = 0;
	bool fresh = false;
	struct query_signer signer = { NULL, key_path };
	if (rc == 0)
		rc = bundle_checkpoint_count(txn, &count);
	if (rc != 0)
		snprintf(why, why_size, "cannot read the data directory: %s", sl_strerror(rc));
	if (rc == 0)
		rc = bundle_checkpoint_latest(txn, ledger->site, &signer, note, len, &fresh, why, why_size);
	if (rc == 0 && fresh && (rc = bundle_checkpoint_put(txn, count + 1, note, *len, true)) != 0)
		snprintf(why, why_size, "cannot store the checkpoint: %s", sl_strerror(rc));
	if (rc != 0 || !fresh) {
		if (txn != NULL)
			store_txn_abort(txn); /* nothing to store: the latest one covers the whole ledger */
		return rc;
	}
	rc = store_txn_commit(txn);
	if (rc != 0)
		snprintf(why, why_size, "cannot commit: %s", sl_strerror(rc));
	return rc;
}

/* Read a whole note file (at most NOTE_BYTES_MAX bytes) into text (NOTE_BYTES_MAX + 1). */
static int note_file_read(const char *path, char *text, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return cli_fail("cannot open %s: %s", path, strerror(errno));
	*len = fread(text, 1, NOTE_BYTES_MAX + 1, f);
	bool bad = ferror(f) != 0;
	fclose(f);
	if (bad || *len > NOTE_BYTES_MAX)
		return cli_fail("%s: unreadable or larger than %d bytes", path, NOTE_BYTES_MAX);
	text[*len] = '\0';
	return 0;
}

static int note_output(const struct cli_args *args, const char *note, size_t len)
{
	const char *path = cli_arg(args, "out");
	FILE *out = path != NULL ? fopen(path, "w") : stdout;
	if (out == NULL)
		return cli_fail("cannot write %s: %s", path, strerror(errno));
	fwrite(note, 1, len, out);
	int bad = ferror(out);
	if (path != NULL)
		bad |= fclose(out);
	return bad ? cli_fail("write failed") : CLI_EXIT_ACCEPTED;
}

/* Append the signature lines of `incoming` not already in `stored`, after checking them; only lines
 * that verified under a key of the registry are kept (a line by a key unknown now would be checked
 * once its key is added, and fail every later audit if it was not a signature of this note). */
static int note_merge(const struct bundle_keys *keys, char *stored, size_t *stored_len,
		      const char *incoming, size_t incoming_len)
{
	struct checkpoint_check check;
	char why[256];
	if (bundle_note_check(incoming, incoming_len, NULL, keys, &check, why, sizeof why) != 0)
		return cli_fail("the checkpoint to add does not verify: %s", why);
	const char *sigs = strstr(incoming, "\n\n");
	unsigned left_out = 0;
	for (unsigned i = 0, line_no = 0; sigs + 2 + i < incoming + incoming_len; line_no++) {
		const char *line = sigs + 2 + i;
		const char *nl = strchr(line, '\n');
		size_t n = (size_t)(nl - line) + 1;
		i += (unsigned)n;
		if (line_no >= 32 || !(check.verified & (1u << line_no))) {
			left_out++;
			continue;
		}
		char copy[NOTE_BYTES_MAX + 1];
		memcpy(copy, line, n);
		copy[n] = '\0';
		bool present = strstr(stored, copy) != NULL;
		if (!present && *stored_len + n > NOTE_BYTES_MAX)
			return cli_fail("too many signatures for one checkpoint (%d bytes)", NOTE_BYTES_MAX);
		if (!present) {
			memcpy(stored + *stored_len, line, n);
			*stored_len += n;
			stored[*stored_len] = '\0';
		}
	}
	if (left_out > 0)
		fprintf(stderr, "left out %u signature line(s) by keys this ledger's registry does not know\n", left_out);
	return 0;
}

/* checkpoint --add FILE: keep the cosignatures of a checkpoint this directory signed. */
static int checkpoint_add(struct cli_ledger *ledger, const char *path, const struct cli_args *args)
{
	char incoming[NOTE_BYTES_MAX + 1], stored[NOTE_BYTES_MAX + 1];
	size_t incoming_len = 0, stored_len = 0;
	int rc = note_file_read(path, incoming, &incoming_len);
	if (rc != 0)
		return rc;
	const char *sep = strstr(incoming, "\n\n");
	if (sep == NULL)
		return cli_fail("%s is not a signed note", path);
	size_t body_len = (size_t)(sep - incoming) + 1;
	store_txn *txn = NULL;
	struct bundle_keys *keys = calloc(1, sizeof *keys); /* every key of the registry, in force or not */
	uint64_t count = 0, found = 0;
	rc = keys != NULL ? store_txn_begin(ledger->st, true, &txn) : SL_ENOMEM;
	if (rc == 0)
		rc = bundle_keys_load(keys, txn, NULL);
	if (rc == 0)
		rc = bundle_checkpoint_count(txn, &count);
	for (uint64_t i = count; rc == 0 && i >= 1 && found == 0; i--)
		if (bundle_checkpoint_get(txn, i, stored, &stored_len) == 0 && stored_len > body_len &&
		    memcmp(stored, incoming, body_len) == 0 && stored[body_len] == '\n')
			found = i;
	if (rc == 0 && found == 0)
		rc = cli_fail("%s is not a checkpoint of this data directory", path);
	else if (rc == 0)
		rc = note_merge(keys, stored, &stored_len, incoming, incoming_len);
	if (keys != NULL)
		bundle_keys_free(keys);
	free(keys);
	if (rc == 0)
		rc = bundle_checkpoint_put(txn, found, stored, stored_len, false);
	if (rc != 0) {
		if (txn != NULL)
			store_txn_abort(txn);
		return rc > 0 ? rc : cli_fail("cannot store: %s", sl_strerror(rc));
	}
	rc = store_txn_commit(txn);
	if (rc != 0)
		return cli_fail("cannot commit: %s", sl_strerror(rc));
	return note_output(args, stored, stored_len);
}

int cli_cmd_checkpoint(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	if (cli_arg(args, "node") != NULL)
		return cli_node_checkpoint(args); /* the node signs and submits it (node/checkpoint.c) */
	if (cli_flag(args, "sign-only"))
		return cli_checkpoint_record(args); /* as a checkpoint record, for submit */
	struct cli_ledger ledger;
	int rc = cli_ledger_open(args, true, &ledger);
	if (rc != 0)
		return rc;
	const char *add = cli_arg(args, "add");
	if (add != NULL) {
		rc = checkpoint_add(&ledger, add, args);
		cli_ledger_close(&ledger);
		return rc;
	}
	const char *key = cli_arg(args, "key") != NULL ? cli_arg(args, "key") : ledger.key_path;
	char note[NOTE_BYTES_MAX + 1], why[512];
	size_t len = 0;
	rc = cli_checkpoint_ensure(&ledger, key, note, &len, why, sizeof why);
	cli_ledger_close(&ledger);
	if (rc != 0)
		return cli_fail("%s", why);
	return note_output(args, note, len);
}

int cli_ledger_open_checkpointed(const struct cli_args *args, struct cli_ledger *ledger, char *note, size_t *len)
{
	int rc = cli_ledger_open(args, true, ledger);
	if (rc != 0)
		return rc;
	char why[512];
	const char *key = cli_arg(args, "key") != NULL ? cli_arg(args, "key") : ledger->key_path;
	rc = cli_checkpoint_ensure(ledger, key, note, len, why, sizeof why);
	if (rc != 0) {
		cli_ledger_close(ledger);
		return cli_fail("%s", why);
	}
	return 0;
}

int cli_cmd_cosign(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	const char *key = cli_arg(args, "key");
	if (key == NULL || args->positional_count != 1)
		return cli_fail("usage: siteledger cosign --key FILE CHECKPOINT");
	char text[NOTE_BYTES_MAX + 1];
	size_t len = 0;
	int rc = note_file_read(args->positional[0], text, &len);
	if (rc != 0)
		return rc;
	struct note *note = malloc(sizeof *note);
	struct checkpoint cp;
	if (note == NULL)
		return cli_fail("out of memory");
	rc = note_parse(text, len, note);
	size_t body_len = note->body_len;
	if (rc == 0)
		rc = checkpoint_parse(note->body, note->body_len, &cp);
	free(note);
	if (rc != 0)
		return cli_fail("%s is not a C2SP checkpoint: %s", args->positional[0], sl_strerror(rc));
	struct crypto_secret_key sk;
	char site[RECORD_SITE_SIZE];
	rc = crypto_secret_key_read(key, &sk, site, sizeof site);
	if (rc != 0)
		return cli_fail("cannot use key %s: %s", key, sl_strerror(rc));
	/* A cosigner states it saw this tree head (tlog-cosignature); embedded mode has no
	 * witness state to check consistency against, so the operator vouches for it. */
	rc = note_cosign(text, body_len, site, &sk, (uint64_t)time(NULL), text, sizeof text, &len);
	crypto_secret_key_wipe(&sk);
	if (rc != 0)
		return cli_fail("cannot cosign: %s", sl_strerror(rc));
	return note_output(args, text, len);
}
