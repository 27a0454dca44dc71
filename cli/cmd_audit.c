/* cli/cmd_audit.c — `siteledger audit FILE --keys DIR`: verify a bundle offline.
 *
 * Checks, in bundle order (cli/bundle.h), streaming one line at a time:
 *  1. header, origin; every registry site's key equals a trusted key file for that site;
 *  2. every checkpoint: C2SP note syntax, origin, ascending sizes; at the end, once the keys in
 *     force are known (cli/bundle.h rule 4, D27), every signature line by a known key (tlog-
 *     checkpoint signature 0x01 and tlog-cosignature 0x04), at least one signer;
 *  3. full bundles: entries numbered 1, 2, 3, ... without gap or repeat; each leaf hash appended to
 *     an in-memory frontier whose root must equal every checkpoint root at its size; each record
 *     replayed (audit_replay.c: signatures against the key in force, lifecycle rules, outcomes,
 *     byte-for-byte entries); then lot counters and the reconciliation; the last checkpoint must
 *     cover every entry;
 *     partial and proof bundles: ascending seqs inside the last checkpoint, each entry's inclusion
 *     proof against it, each accepted record's signature against its site's keys in force at its
 *     seq, which the registry records the bundle carries change (majority-signed, checked here);
 *  4. "end N" with N = entry lines, and nothing after it.
 * Full bundles replayed to their end then get the reconciliation of every lot, recomputed from the
 * final scratch store (audit_replay_reconcile) and printed with the summary (text and --json);
 * partial bundles say it needs a full export.
 * Exit 0 only when everything holds; otherwise 1 and the first failures (entry, what, expected,
 * found); 2 for usage errors and unreadable files.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/audit_internal.h"
#include "util/error.h"

enum audit_phase { PHASE_REGISTRY, PHASE_CHECKPOINTS, PHASE_ENTRIES, PHASE_LOTS, PHASE_END };

void audit_fail(struct audit *a, uint64_t entry, const char *where, const char *what, const char *expected,
		const char *found)
{
	pthread_mutex_lock(&a->fail_mutex); /* the replay worker reports too */
	a->failures_total++;
	if (a->failure_count < AUDIT_FAILURES_MAX) {
		struct audit_failure *f = &a->failures[a->failure_count++];
		f->entry = entry;
		snprintf(f->where, sizeof f->where, "%s", where);
		snprintf(f->what, sizeof f->what, "%s", what);
		snprintf(f->expected, sizeof f->expected, "%s", expected);
		snprintf(f->found, sizeof f->found, "%s", found);
	}
	pthread_mutex_unlock(&a->fail_mutex);
}

static void line_fail(struct audit *a, const char *what, const char *expected)
{
	char where[48], found[AUDIT_TEXT_BYTES_MAX];
	snprintf(where, sizeof where, "line %" PRIu64, a->reader.line_no);
	snprintf(found, sizeof found, "%.60s%s", a->reader.line, a->reader.len > 60 ? "..." : "");
	audit_fail(a, 0, where, what, expected, found);
}

static int header_read(struct audit *a)
{
	int rc = bundle_reader_next(&a->reader);
	const char *rest = rc == 0 ? bundle_line_rest(&a->reader, "siteledger-bundle") : NULL;
	if (rest == NULL || strncmp(rest, "1 ", 2) != 0) {
		line_fail(a, "header", "siteledger-bundle 1 KIND");
		return 1;
	}
	if (strcmp(rest + 2, "full") == 0)
		a->kind = BUNDLE_FULL;
	else if (strcmp(rest + 2, "partial") == 0)
		a->kind = BUNDLE_PARTIAL;
	else if (strcmp(rest + 2, "proof") == 0)
		a->kind = BUNDLE_PROOF;
	else {
		line_fail(a, "header: bundle kind", "full, partial or proof");
		return 1;
	}
	rc = bundle_reader_next(&a->reader);
	rest = rc == 0 ? bundle_line_rest(&a->reader, "origin") : NULL;
	if (rest == NULL || strlen(rest) == 0 || strlen(rest) > NOTE_NAME_BYTES_MAX) {
		line_fail(a, "origin line", "origin ORIGIN");
		return 1;
	}
	strcpy(a->origin, rest);
	return 0;
}

static void site_line(struct audit *a, const char *rest)
{
	int rc = bundle_site_parse(rest, &a->registry);
	if (rc != 0) {
		line_fail(a, rc == SL_EEXIST ? "site listed twice" : "malformed site line", "site SITE PUBKEY-HEX");
		return;
	}
	struct bundle_site *site = &a->registry.sites[a->registry.count - 1];
	const struct bundle_site *key = trusted_key_find(&a->trusted, site->name);
	char where[48];
	snprintf(where, sizeof where, "registry site %s", site->name);
	if (key == NULL) {
		audit_fail(a, 0, where, "no trusted key", "a key file for this site in --keys", "none");
	} else if (memcmp(key->pk.bytes, site->pk.bytes, sizeof key->pk.bytes) != 0) {
		char e[80], f[80];
		crypto_hex_encode(key->pk.bytes, 16, e);
		crypto_hex_encode(site->pk.bytes, 16, f);
		strcat(e, "...");
		strcat(f, "...");
		audit_fail(a, 0, where, "public key differs from the trusted key", e, f);
	} else {
		site->trusted = true;
	}
}

static void checkpoint_line(struct audit *a, const char *rest)
{
	struct checkpoint_check check;
	char why[256], where[48], text[NOTE_BYTES_MAX + 1];
	size_t len = 0;
	snprintf(where, sizeof where, "checkpoint %zu", a->checkpoint_count + 1);
	int rc = bundle_checkpoint_decode(rest, text, &len, why, sizeof why);
	if (rc == 0)
		rc = bundle_note_check(text, len, a->origin, NULL, &check, why, sizeof why); /* signatures: at the end */
	if (rc != 0) {
		audit_fail(a, 0, where, "checkpoint", "a C2SP checkpoint signed by a trusted site", why);
		return;
	}
	if (a->checkpoint_count == BUNDLE_CHECKPOINTS_MAX) {
		audit_fail(a, 0, where, "too many checkpoints", "at most 4096", "more");
		return;
	}
	if (a->checkpoint_count > 0 && check.cp.size <= a->checkpoints[a->checkpoint_count - 1].size) {
		audit_fail(a, 0, where, "checkpoint order", "ascending tree sizes", "a size not above the previous");
		return;
	}
	struct audit_checkpoint *cp = &a->checkpoints[a->checkpoint_count];
	cp->note = malloc(len + 1);
	if (cp->note == NULL) {
		audit_fail(a, 0, where, "checkpoint", "memory to keep it", "none");
		return;
	}
	memcpy(cp->note, text, len + 1);
	cp->note_len = len;
	cp->size = check.cp.size;
	memcpy(cp->root, check.cp.root, sizeof cp->root);
	a->checkpoint_count++;
}

/* Every checkpoint's signature lines against the keys in force at its size (rule 4 of
 * cli/bundle.h), once the whole bundle has been read. */
static void checkpoints_verify(struct audit *a)
{
	for (size_t i = 0; i < a->checkpoint_count; i++) {
		struct audit_checkpoint *cp = &a->checkpoints[i];
		struct checkpoint_check check;
		char why[256], where[48];
		if (bundle_note_check(cp->note, cp->note_len, a->origin, &a->keys, &check, why, sizeof why) != 0) {
			snprintf(where, sizeof where, "checkpoint %zu (size %" PRIu64 ")", i + 1, cp->size);
			audit_fail(a, 0, where, "checkpoint", "a C2SP checkpoint signed by a trusted site", why);
		}
		cp->signers = check.signers;
		cp->cosigners = check.cosigners;
		snprintf(cp->signer_names, sizeof cp->signer_names, "%.90s", check.signer_names);
	}
}

static bool site_has_key(const struct bundle_keys *k, const char *site, const struct crypto_public_key *pk)
{
	for (size_t i = 0; i < k->count; i++)
		if (strcmp(k->keys[i].site, site) == 0 && memcmp(k->keys[i].pk.bytes, pk->bytes, sizeof pk->bytes) == 0)
			return true;
	return false;
}

/* Every site of the trusted keys must be in the ledger's registry with one of its trusted keys, at
 * init or added by a registry record (D27): a bundle that left registered sites out could make the
 * sites it keeps a majority of their own and register another site under a key of theirs. */
static void trusted_sites_present(struct audit *a)
{
	const struct trusted_keys *t = &a->trusted;
	for (size_t i = 0; i < t->count; i++) {
		const char *site = t->keys[i].name;
		bool listed_before = false, present = false;
		for (size_t j = 0; j < i; j++)
			listed_before = listed_before || strcmp(t->keys[j].name, site) == 0;
		for (size_t j = 0; j < t->count && !listed_before; j++)
			present = present || (strcmp(t->keys[j].name, site) == 0 && site_has_key(&a->keys, site, &t->keys[j].pk));
		if (listed_before || present)
			continue;
		char where[48];
		snprintf(where, sizeof where, "trusted site %s", site);
		audit_fail(a, 0, where, "in the ledger's registry", "registered with its trusted key, at init or by a registry record",
			   "absent, or under another key");
	}
}

/* The keys checkpoints are checked against: a full bundle's from its replayed store (the ledger's
 * registry at the end, each key with when it was added and revoked), a partial bundle's as its
 * registry records built them. */
static int keys_final(struct audit *a)
{
	if (a->kind != BUNDLE_FULL)
		return 0;
	if (a->st == NULL)
		return bundle_keys_from_registry(&a->keys, &a->registry);
	store_txn *txn = NULL;
	int rc = store_txn_begin(a->st, true, &txn);
	if (rc == 0) {
		rc = bundle_keys_load(&a->keys, txn, &a->registry);
		store_txn_abort(txn);
	}
	return rc;
}

/* Full bundles: frontier and checkpoint roots. The replay batch is flushed first, so the
 * failures of the entries a checkpoint covers are listed before the checkpoint's own. */
static int frontier_check(struct audit *a)
{
	uint64_t size = merkle_frontier_size(&a->frontier);
	if (a->checkpoint_next < a->checkpoint_count && a->checkpoints[a->checkpoint_next].size == size) {
		int rc = audit_replay_drain(a);
		if (rc != 0)
			return rc;
	}
	while (a->checkpoint_next < a->checkpoint_count && a->checkpoints[a->checkpoint_next].size <= size) {
		struct audit_checkpoint *cp = &a->checkpoints[a->checkpoint_next++];
		if (cp->size < size)
			continue; /* passed without matching: reported at the end */
		uint8_t root[MERKLE_HASH_BYTES];
		merkle_frontier_root(&a->frontier, root);
		char where[48], e[2 * MERKLE_HASH_BYTES + 1], f[2 * MERKLE_HASH_BYTES + 1];
		snprintf(where, sizeof where, "checkpoint %zu (size %" PRIu64 ")", a->checkpoint_next, cp->size);
		if (memcmp(root, cp->root, sizeof root) != 0) {
			crypto_hex_encode(cp->root, sizeof cp->root, e);
			crypto_hex_encode(root, sizeof root, f);
			audit_fail(a, cp->size, where, "root hash of the entries", e, f);
		}
		cp->matched = true;
	}
	return 0;
}

static void partial_signature_check(struct audit *a, uint64_t seq, const uint8_t *bytes, size_t len)
{
	struct ledger_entry entry;
	struct record r;
	if (entry_decode(bytes, len, &entry, NULL) != 0 || entry.seq != seq) {
		audit_fail(a, seq, "entry", "entry does not decode", "a canonical entry with this seq", "other bytes");
		return;
	}
	if (entry.outcome < AUDIT_OUTCOMES_MAX)
		a->outcomes[entry.outcome]++;
	if (entry.outcome != OUTCOME_ACCEPTED)
		return; /* a rejection's reason cannot be re-derived without the earlier ledger */
	if (record_decode(entry.record, entry.record_len, &r, NULL) != 0) {
		audit_fail(a, seq, "entry", "accepted record does not decode", "a valid record", "undecodable");
		return;
	}
	char site[RECORD_SITE_SIZE], why[160];
	snprintf(site, sizeof site, "%.*s", (int)r.site.len, r.site.ptr);
	const struct bundle_key *key = bundle_keys_signer(&a->keys, site, r.key_id.bytes, seq);
	if (key == NULL || !key->trusted || record_verify(&r, &key->pk) != 0) {
		audit_fail(a, seq, "entry", "signature", "valid under a trusted key of the record's site in force", site);
	} else {
		a->signatures_checked++;
		int rc = r.type == RECORD_REGISTRY ? bundle_keys_registry_record(&a->keys, seq, &r, site, why, sizeof why) : 0;
		if (rc != 0)
			audit_fail(a, seq, "entry", "registry record", why, rc == SL_ELIMIT ? "more" : "not so");
	}
	record_clear(&r);
}

static void partial_entry(struct audit *a, uint64_t seq, const uint8_t *bytes, size_t len, const char *proof_hex)
{
	const struct audit_checkpoint *cp = a->checkpoint_count ? &a->checkpoints[a->checkpoint_count - 1] : NULL;
	uint8_t proof[MERKLE_PROOF_BYTES_MAX], leaf[MERKLE_HASH_BYTES];
	size_t proof_len = 0, count = 0;
	bool empty = strcmp(proof_hex, "-") == 0;
	if (cp == NULL || seq > cp->size) {
		audit_fail(a, seq, "entry", "inclusion", "an entry inside the last checkpoint", "beyond it");
		return;
	}
	if ((!empty && bundle_hex_decode(proof_hex, strlen(proof_hex), proof, sizeof proof, &proof_len) != 0) ||
	    merkle_proof_count(proof_len, &count) != 0) {
		audit_fail(a, seq, "entry", "inclusion proof", "hex hashes", "malformed proof");
		return;
	}
	merkle_leaf_hash(bytes, len, leaf);
	if (merkle_verify_inclusion(leaf, seq - 1, cp->size, proof, count, cp->root) != 0) {
		char e[64];
		snprintf(e, sizeof e, "included in the checkpoint of size %" PRIu64, cp->size);
		audit_fail(a, seq, "entry", "inclusion proof", e, "does not verify");
	}
	partial_signature_check(a, seq, bytes, len);
}

/* Stop replaying (audit_replay.c design note 4) after comparing what is already queued. */
static int replay_stop(struct audit *a)
{
	int rc = audit_replay_drain(a);
	a->replay_broken = true;
	return rc;
}

/* "SEQ HEX [PROOF]" */
static int entry_line(struct audit *a, const char *rest, uint8_t *bytes)
{
	const char *end = rest;
	uint64_t seq = 0;
	if (rest[0] >= '1' && rest[0] <= '9') { /* decimal without sign, space or leading zero */
		char *after = NULL;
		seq = strtoull(rest, &after, 10);
		end = after;
	}
	const char *hex = end + 1;
	const char *space = *end == ' ' ? strchr(hex, ' ') : NULL;
	bool want_proof = a->kind != BUNDLE_FULL;
	size_t hex_len = space != NULL ? (size_t)(space - hex) : strlen(hex);
	size_t len = 0;
	if (end == rest || *end != ' ' || seq == 0 || (space != NULL) != want_proof ||
	    bundle_hex_decode(hex, hex_len, bytes, ENTRY_BYTES_MAX, &len) != 0 || len == 0) {
		line_fail(a, "malformed entry line", want_proof ? "entry SEQ HEX PROOF" : "entry SEQ HEX");
		return replay_stop(a);
	}
	uint64_t expected = a->last_seq + 1;
	a->entries++;
	progress_update(&a->progress, a->reader.bytes_read);
	if (want_proof ? seq <= a->last_seq : seq != expected) {
		char e[48], f[32];
		snprintf(e, sizeof e, want_proof ? "above %" PRIu64 : "%" PRIu64, want_proof ? a->last_seq : expected);
		snprintf(f, sizeof f, "%" PRIu64, seq);
		audit_fail(a, seq, "entry", seq <= a->last_seq ? "sequence (repeated or reordered)" : "sequence (missing entries)",
			   e, f);
		int rc = replay_stop(a);
		if (rc != 0 || a->kind == BUNDLE_FULL) {
			a->last_seq = seq > a->last_seq ? seq : a->last_seq; /* resynchronise the numbering */
			return rc; /* left out of the tree: the checkpoint roots will differ and say so */
		}
	}
	a->last_seq = seq > a->last_seq ? seq : a->last_seq;
	if (a->want_report)
		audit_correction_note(a, bytes, len);
	if (want_proof) {
		partial_entry(a, seq, bytes, len, space + 1);
		return 0;
	}
	uint8_t leaf[MERKLE_HASH_BYTES];
	merkle_leaf_hash(bytes, len, leaf);
	int rc = merkle_frontier_append(&a->frontier, leaf, NULL, NULL);
	if (rc == 0)
		rc = audit_replay_entry(a, seq, bytes, len);
	if (rc == 0)
		rc = frontier_check(a);
	if (rc == 0)
		rc = audit_ledger_checkpoint(a, seq, bytes, len); /* the sites' checkpoint records */
	return rc;
}

/* One line after the header, by phase; returns a negative error only for I/O or memory. */
static int body_line(struct audit *a, enum audit_phase *phase, uint8_t *bytes, bool *ended)
{
	const char *rest;
	if ((rest = bundle_line_rest(&a->reader, "site")) != NULL && *phase == PHASE_REGISTRY) {
		site_line(a, rest);
		return 0;
	}
	if (*phase == PHASE_REGISTRY) { /* the registry is complete: make the replay store */
		*phase = PHASE_CHECKPOINTS;
		int rc = bundle_keys_from_registry(&a->keys, &a->registry);
		if (rc == 0 && a->kind == BUNDLE_FULL)
			rc = audit_replay_open(a);
		if (rc != 0)
			return rc;
	}
	if ((rest = bundle_line_rest(&a->reader, "checkpoint")) != NULL && *phase <= PHASE_CHECKPOINTS) {
		*phase = PHASE_CHECKPOINTS;
		checkpoint_line(a, rest);
	} else if ((rest = bundle_line_rest(&a->reader, "subject")) != NULL && *phase <= PHASE_CHECKPOINTS &&
		   a->kind == BUNDLE_PROOF) {
		*phase = PHASE_CHECKPOINTS;
	} else if ((rest = bundle_line_rest(&a->reader, "entry")) != NULL && *phase <= PHASE_ENTRIES) {
		int rc = *phase < PHASE_ENTRIES && a->kind == BUNDLE_FULL ? frontier_check(a) : 0; /* size 0 */
		if (rc != 0)
			return rc;
		*phase = PHASE_ENTRIES;
		return entry_line(a, rest, bytes);
	} else if ((rest = bundle_line_rest(&a->reader, "lot")) != NULL && *phase <= PHASE_LOTS &&
		   a->kind == BUNDLE_FULL) {
		*phase = PHASE_LOTS;
		int rc = audit_replay_lot(a, rest);
		if (rc == SL_ESYNTAX)
			line_fail(a, "malformed lot line", "lot LOT-KEY SITE C0,...,C15");
		return rc == SL_ESYNTAX ? 0 : rc;
	} else if ((rest = bundle_line_rest(&a->reader, "end")) != NULL) {
		char count[24];
		snprintf(count, sizeof count, "%" PRIu64, a->entries);
		if (strcmp(rest, count) != 0)
			audit_fail(a, 0, "end", "entry count", count, rest);
		*phase = PHASE_END;
		*ended = true;
	} else {
		line_fail(a, "unexpected line", "site, checkpoint, entry, lot or end lines in that order");
	}
	return 0;
}

static int bundle_read(struct audit *a)
{
	uint8_t *bytes = malloc(ENTRY_BYTES_MAX);
	if (bytes == NULL)
		return SL_ENOMEM;
	enum audit_phase phase = PHASE_REGISTRY;
	bool ended = false;
	int rc = 0;
	progress_start(&a->progress, "audit", a->reader.file_bytes);
	while (rc == 0 && !ended) {
		rc = bundle_reader_next(&a->reader);
		if (rc == SL_ENOENT || rc == SL_ETRUNCATED) {
			audit_fail(a, 0, "end", "bundle is truncated", "an 'end N' line", "end of file");
			rc = 0;
			break;
		}
		if (rc == SL_ESYNTAX || rc == SL_EOVERSIZE) {
			line_fail(a, rc == SL_ESYNTAX ? "NUL or CR byte in a line" : "line too long", "a bundle line");
			rc = 0;
			if (a->reader.eof)
				break;
			continue;
		}
		if (rc == 0)
			rc = body_line(a, &phase, bytes, &ended);
	}
	if (rc == 0 && ended && bundle_reader_next(&a->reader) != SL_ENOENT)
		audit_fail(a, 0, "end", "data after the end line", "end of file", "more lines");
	progress_finish(&a->progress);
	free(bytes);
	return rc;
}

static void coverage_check(struct audit *a)
{
	if (a->checkpoint_count == 0) {
		audit_fail(a, 0, "checkpoints", "no valid checkpoint", "at least one signed checkpoint", "none");
		return;
	}
	const struct audit_checkpoint *last = &a->checkpoints[a->checkpoint_count - 1];
	char e[48], f[48];
	if (a->kind == BUNDLE_FULL && last->size != a->entries) {
		snprintf(e, sizeof e, "%" PRIu64 " entries", last->size);
		snprintf(f, sizeof f, "%" PRIu64 " entries", a->entries);
		audit_fail(a, 0, "checkpoints", "the last checkpoint must cover the whole export", e, f);
	}
	for (size_t i = 0; a->kind == BUNDLE_FULL && i < a->checkpoint_count; i++) {
		if (a->checkpoints[i].matched || a->checkpoints[i].size > a->entries)
			continue;
		snprintf(e, sizeof e, "checkpoint %zu", i + 1);
		audit_fail(a, 0, e, "never matched a tree size", "a size reached by the entries", "skipped");
	}
}

static void failures_print(const struct audit *a, FILE *out)
{
	for (size_t i = 0; i < a->failure_count; i++) {
		const struct audit_failure *f = &a->failures[i];
		if (f->entry != 0)
			fprintf(out, "FAIL entry %" PRIu64 " (%s): %s: expected %s, found %s\n", f->entry, f->where, f->what,
				f->expected, f->found);
		else
			fprintf(out, "FAIL %s: %s: expected %s, found %s\n", f->where, f->what, f->expected, f->found);
	}
	if (a->failures_total > a->failure_count)
		fprintf(out, "... and %" PRIu64 " more failures\n", a->failures_total - a->failure_count);
}

static void summary_print(const struct audit *a, bool json)
{
	const struct audit_checkpoint *last = a->checkpoint_count ? &a->checkpoints[a->checkpoint_count - 1] : NULL;
	if (json) {
		printf("{\"ok\":%s,\"kind\":\"%s\",\"origin\":", a->failures_total == 0 ? "true" : "false",
		       a->kind == BUNDLE_FULL ? "full" : a->kind == BUNDLE_PARTIAL ? "partial" : "proof");
		cli_json_cstring(stdout, a->origin);
		printf(",\"entries\":%" PRIu64 ",\"checkpoints\":%zu,\"tree_size\":%" PRIu64 ",\"signatures_checked\":%" PRIu64
		       ",\"failures_total\":%" PRIu64 ",\"failures\":[",
		       a->entries, a->checkpoint_count, last ? last->size : 0, a->signatures_checked, a->failures_total);
		for (size_t i = 0; i < a->failure_count; i++) {
			const struct audit_failure *f = &a->failures[i];
			printf("%s{\"entry\":%" PRIu64 ",\"where\":", i ? "," : "", f->entry);
			cli_json_cstring(stdout, f->where);
			printf(",\"what\":");
			cli_json_cstring(stdout, f->what);
			printf(",\"expected\":");
			cli_json_cstring(stdout, f->expected);
			printf(",\"found\":");
			cli_json_cstring(stdout, f->found);
			printf("}");
		}
		printf("],\"ledger_checkpoints\":");
		audit_ledger_checkpoints_print(stdout, a, true);
		printf(",\"reconciliation\":");
		audit_reconciliation_json(stdout, a);
		printf("}\n");
		return;
	}
	printf("bundle: %s export of %s, %" PRIu64 " %s, %zu %s (last: size %" PRIu64 ", signed by %s)\n",
	       a->kind == BUNDLE_FULL ? "full" : a->kind == BUNDLE_PARTIAL ? "partial" : "proof", a->origin, a->entries,
	       a->entries == 1 ? "entry" : "entries", a->checkpoint_count,
	       a->checkpoint_count == 1 ? "checkpoint" : "checkpoints", last ? last->size : 0,
	       last ? last->signer_names : "nobody");
	if (a->kind != BUNDLE_FULL)
		printf("partial bundle: proves each entry is in the checkpointed ledger and each accepted record's\n"
		       "signature; it cannot re-derive outcomes, rejections or lot counters (that needs the full ledger).\n");
	audit_ledger_checkpoints_print(stdout, a, false);
	audit_reconciliation_text(stdout, a);
	failures_print(a, stdout);
	printf("%s: %" PRIu64 " failures\n", a->failures_total == 0 ? "AUDIT PASSED" : "AUDIT FAILED", a->failures_total);
}

static int audit_run(struct audit *a, const char *path)
{
	int rc = bundle_reader_open(&a->reader, path);
	if (rc != 0)
		return cli_fail("cannot read %s: %s", path, sl_strerror(rc));
	a->checkpoints = calloc(BUNDLE_CHECKPOINTS_MAX, sizeof *a->checkpoints);
	a->corrections = a->want_report ? calloc(AUDIT_CORRECTIONS_MAX, sizeof *a->corrections) : NULL;
	if (a->checkpoints == NULL || (a->want_report && a->corrections == NULL))
		return cli_fail("out of memory");
	rc = header_read(a);
	if (rc == 1)
		return 0; /* a malformed header is an audit failure (listed), not a usage error */
	merkle_frontier_init(&a->frontier);
	rc = bundle_read(a);
	if (rc == 0 && a->kind == BUNDLE_FULL && a->st != NULL)
		rc = audit_replay_finish(a);
	if (rc == 0 && a->kind == BUNDLE_FULL && a->st != NULL)
		rc = audit_replay_reconcile(a); /* from the final scratch store, after every reopening */
	if (rc == 0)
		rc = keys_final(a);
	if (rc == 0) {
		checkpoints_verify(a);
		trusted_sites_present(a);
	}
	if (rc != 0) {
		failures_print(a, stderr); /* what was found before the audit had to stop */
		return cli_fail("audit stopped: %s%s%s", sl_strerror(rc), a->st ? " " : "",
				a->st ? store_last_error(a->st) : "");
	}
	coverage_check(a);
	return 0;
}

static void audit_free(struct audit *a)
{
	audit_replay_close(a);
	audit_lots_free(a);
	bundle_reader_close(&a->reader);
	for (size_t i = 0; a->checkpoints != NULL && i < a->checkpoint_count; i++)
		free(a->checkpoints[i].note);
	free(a->checkpoints);
	bundle_keys_free(&a->keys);
	free(a->corrections);
	pthread_mutex_destroy(&a->fail_mutex);
	free(a);
}

int cli_cmd_audit(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	const char *keys = cli_arg(args, "keys");
	if (args->positional_count != 1 || keys == NULL)
		return cli_fail("usage: siteledger audit FILE --keys DIR [--report FILE.html] [--report-json FILE]");
	struct audit *a = calloc(1, sizeof *a);
	if (a == NULL || pthread_mutex_init(&a->fail_mutex, NULL) != 0) {
		free(a);
		return cli_fail("out of memory");
	}
	atomic_init(&a->replay_broken, false);
	char why[512];
	int rc = trusted_keys_load(keys, &a->trusted, why, sizeof why);
	if (rc != 0) {
		pthread_mutex_destroy(&a->fail_mutex);
		free(a);
		return cli_fail("%s", why);
	}
	a->want_report = cli_arg(args, "report") != NULL || cli_arg(args, "report-json") != NULL;
	rc = audit_run(a, args->positional[0]);
	if (rc == 0 && a->want_report) {
		audit_replay_close(a); /* the replay store is no longer needed */
		int err = audit_report_write(a, args->positional[0], cli_arg(args, "report"), cli_arg(args, "report-json"));
		if (err != 0)
			rc = cli_fail("cannot write the report: %s", sl_strerror(err));
	}
	if (rc == 0) {
		summary_print(a, cli_flag(args, "json"));
		rc = a->failures_total == 0 ? CLI_EXIT_ACCEPTED : CLI_EXIT_REJECTED;
	}
	audit_free(a);
	return rc;
}
