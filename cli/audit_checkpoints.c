/* cli/audit_checkpoints.c — the audit's checks of checkpoint records in a full bundle (ledger/
 * checkpoint.h): the sites' own checkpoints, kept in the ledger, become the bundle's cosigned
 * checkpoints (docs/auditor-guide.md "Checkpoints and cosignatures").
 *
 * For every accepted checkpoint record of the bundle's origin:
 *  1. its note signature verifies under the key that signed the record, a key of the record's site
 *     in force at its seq (the replayed store's registry, D27; crypto/note.h alone, as any C2SP
 *     verifier would check the note rebuilt from the record);
 *  2. its root equals the root of the replayed tree at its size: the replay is drained first, so
 *     the scratch store's Merkle tree holds every entry before the record (the entry's own leaf
 *     too, which the size never covers).
 * The replay has already re-derived every checkpoint record's outcome (refusals included) with the
 * same rule; these checks state the result in the auditor's terms and fail on their own.
 * Records of another origin are counted and otherwise left alone (they name another log).
 */
#include <inttypes.h>
#include <string.h>

#include "cli/audit_internal.h"
#include "ledger/checkpoint.h"
#include "store/merkle_store.h"
#include "util/error.h"

/* Is `site` one of the comma-separated names of list? */
static bool listed(const char *list, const char *site)
{
	size_t n = strlen(site);
	for (const char *p = list; *p != '\0';) {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (len == n && strncmp(p, site, n) == 0)
			return true;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return false;
}

static void signer_add(struct audit_ledger_checkpoints *l, const char *site)
{
	if (listed(l->newest_signers, site))
		return;
	size_t used = strlen(l->newest_signers);
	snprintf(l->newest_signers + used, sizeof l->newest_signers - used, "%s%s", used ? "," : "", site);
}

/* Keep the newest tree head (largest size) and the sites that signed it. */
static void newest_note(struct audit_ledger_checkpoints *l, const struct record *r, const char *site)
{
	if (r->checkpoint_size < l->newest_size)
		return;
	if (r->checkpoint_size > l->newest_size) {
		l->newest_size = r->checkpoint_size;
		l->newest_signers[0] = '\0';
	}
	signer_add(l, site);
}

static void site_count(struct audit_ledger_checkpoints *l, const char *site)
{
	for (size_t i = 0; i < l->site_count; i++)
		if (strcmp(l->sites[i], site) == 0) {
			l->per_site[i]++;
			return;
		}
	if (l->site_count == BUNDLE_SITES_MAX)
		return;
	snprintf(l->sites[l->site_count], sizeof l->sites[0], "%s", site);
	l->per_site[l->site_count++] = 1;
}

/* Check 2: the root against the replayed tree. */
static int root_check(struct audit *a, uint64_t seq, const struct record *r)
{
	int rc = audit_replay_drain(a);
	if (rc != 0 || a->replay_broken || a->st == NULL)
		return rc; /* no replayed tree to compare with: the replay's own failure is listed */
	uint8_t root[MERKLE_HASH_BYTES];
	store_txn *txn = NULL;
	rc = store_txn_begin(a->st, false, &txn);
	if (rc == 0) {
		rc = store_merkle_root(txn, r->checkpoint_size, root);
		store_txn_abort(txn);
	}
	if (rc == SL_EINVAL) {
		audit_fail(a, seq, "checkpoint record", "size", "at most the entries before it", "beyond them");
		return 0;
	}
	if (rc == 0 && memcmp(root, r->checkpoint_root, sizeof root) != 0) {
		char e[2 * MERKLE_HASH_BYTES + 1], f[2 * MERKLE_HASH_BYTES + 1];
		crypto_hex_encode(root, sizeof root, e);
		crypto_hex_encode(r->checkpoint_root, sizeof root, f);
		audit_fail(a, seq, "checkpoint record", "root hash of the replayed entries", e, f);
	}
	return rc;
}

/* The public key the record names, as the replayed store's registry holds it for the record's
 * site; without a replayed store, the site's key as at init when trusted. */
static bool record_key(struct audit *a, const struct record *r, const char *site, struct crypto_public_key *pk)
{
	if (a->st == NULL || a->replay_broken) {
		const struct bundle_site *s = bundle_registry_find(&a->registry, site);
		if (s == NULL || !s->trusted)
			return false;
		*pk = s->pk;
		return true;
	}
	store_txn *txn = NULL;
	struct store_key key;
	bool found = store_txn_begin(a->st, true, &txn) == 0 && store_key_get(txn, r->key_id.bytes, &key) == 0 &&
		     strcmp(key.site, site) == 0;
	if (txn != NULL)
		store_txn_abort(txn);
	if (found)
		memcpy(pk->bytes, key.public_key, sizeof pk->bytes);
	return found;
}

static int record_check(struct audit *a, uint64_t seq, const struct record *r)
{
	struct audit_ledger_checkpoints *l = &a->ledger_checkpoints;
	char site[RECORD_SITE_SIZE];
	if (sl_str_copy(r->site, site, sizeof site) != 0)
		return 0; /* the decoder admits no such record */
	if (!sl_str_eq_cstr(r->origin, a->origin)) {
		l->other_origin++;
		return 0;
	}
	int rc = root_check(a, seq, r); /* drains the replay: the store's registry is the record's */
	if (rc != 0)
		return rc;
	struct crypto_public_key pk;
	if (!record_key(a, r, site, &pk) || ledger_checkpoint_verify(r, &pk, NULL) != 0) {
		audit_fail(a, seq, "checkpoint record", "note signature", "valid under its site's key that signed the record",
			   site);
		return 0;
	}
	l->accepted++;
	site_count(l, site);
	newest_note(l, r, site);
	return 0;
}

int audit_ledger_checkpoint(struct audit *a, uint64_t seq, const uint8_t *bytes, size_t len)
{
	struct ledger_entry entry;
	if (entry_decode(bytes, len, &entry, NULL) != 0 || entry.record_len < 5 || entry.record[4] != RECORD_CHECKPOINT)
		return 0; /* not a checkpoint (record.h: the type is the fifth byte of a canonical record) */
	struct record r;
	if (record_decode(entry.record, entry.record_len, &r, NULL) != 0)
		return 0; /* refused as malformed: the replay compared that */
	int rc = 0;
	if (r.type != RECORD_CHECKPOINT)
		rc = 0;
	else if (entry.outcome != OUTCOME_ACCEPTED)
		a->ledger_checkpoints.refused++; /* the replay re-derived the refusal */
	else
		rc = record_check(a, seq, &r);
	record_clear(&r);
	return rc;
}

void audit_ledger_checkpoints_print(FILE *out, const struct audit *a, bool json)
{
	const struct audit_ledger_checkpoints *l = &a->ledger_checkpoints;
	if (json) {
		fprintf(out, "{\"accepted\":%" PRIu64 ",\"refused\":%" PRIu64 ",\"other_origin\":%" PRIu64
			     ",\"newest_size\":%" PRIu64 ",\"newest_signers\":",
			l->accepted, l->refused, l->other_origin, l->newest_size);
		cli_json_cstring(out, l->newest_signers);
		fprintf(out, ",\"per_site\":{");
		for (size_t i = 0; i < l->site_count; i++) {
			fprintf(out, "%s", i ? "," : "");
			cli_json_cstring(out, l->sites[i]);
			fprintf(out, ":%" PRIu64, l->per_site[i]);
		}
		fprintf(out, "}}");
		return;
	}
	if (l->accepted == 0 && l->refused == 0 && l->other_origin == 0)
		return;
	fprintf(out, "in-ledger checkpoints: %" PRIu64 " verified (", l->accepted);
	for (size_t i = 0; i < l->site_count; i++)
		fprintf(out, "%s%s %" PRIu64, i ? ", " : "", l->sites[i], l->per_site[i]);
	fprintf(out, "), newest size %" PRIu64 " signed by %s", l->newest_size,
		l->newest_signers[0] ? l->newest_signers : "nobody");
	if (l->refused > 0)
		fprintf(out, "; %" PRIu64 " refused by the ledger (divergence alarms at the sites)", l->refused);
	if (l->other_origin > 0)
		fprintf(out, "; %" PRIu64 " of another origin", l->other_origin);
	fprintf(out, "\n");
}
