/* tests/fuzz/fuzz_bundle.c — what an auditor's bundle feeds the checks of cli/bundle.h: checkpoint
 * lines (base64 of a C2SP signed note), note texts, site lines, and registry records taken against
 * the keys in force (cli/bundle_keys.c, D27). An auditor gets bundles from the sites it audits:
 * every byte is hostile.
 *
 * Input: a mode byte, then the mode's bytes.
 *   mode 0: the rest as a checkpoint line's base64, a note text and a site line;
 *   mode 1: a note the target signs itself — size (8 bytes), root (32), signer mask (1: mfg, dc,
 *           ph sign with type 0x01, bit 3 adds dc's cosignature) — then (offset, xor) pairs that
 *           damage its text;
 *   mode 2: the rest as an entry's hex: decoded, its record taken as a registry record at its seq.
 * Keys: mfg, dc, ph from fixed seeds, registered at init; ph's key revoked at seq 5. Registry
 * records are also taken against mfg alone (a majority by itself), so they reach the operations.
 *
 * Checked, beyond "never crashes": an undamaged note verifies and counts its signers — unless ph
 * signed a size of 5 or more (its key was revoked within it) — and an accepted note always has
 * exactly the body that was signed: no damage to the body passes the signature check.
 */
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/bundle.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SITES 3
#define PH_REVOKED_AT 5
#define ORIGIN "siteledger/fuzz"

static const char *const site_names[SITES] = { "mfg", "dc", "ph" };
static struct crypto_secret_key secret[SITES];
static struct bundle_keys *keys;
static struct bundle_keys *lone; /* mfg alone: its signature is a majority, so records reach the operations */
static bool ready;

static void setup(void)
{
	if (ready)
		return;
	if (sodium_init() < 0)
		abort();
	keys = calloc(1, sizeof *keys);
	struct bundle_registry *registry = calloc(1, sizeof *registry);
	if (keys == NULL || registry == NULL)
		abort();
	for (int i = 0; i < SITES; i++) {
		uint8_t seed[crypto_sign_SEEDBYTES];
		memset(seed, 'a' + i, sizeof seed);
		struct bundle_site *s = &registry->sites[registry->count++];
		snprintf(s->name, sizeof s->name, "%s", site_names[i]);
		crypto_sign_seed_keypair(s->pk.bytes, secret[i].bytes, seed);
		s->trusted = true;
	}
	lone = calloc(1, sizeof *lone);
	if (lone == NULL || bundle_keys_from_registry(keys, registry) != 0)
		abort();
	registry->count = 1;
	if (bundle_keys_from_registry(lone, registry) != 0)
		abort();
	keys->keys[2].revoked_seq = PH_REVOKED_AT;
	free(registry);
	ready = true;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void text_checks(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (text == NULL)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	char note[NOTE_BYTES_MAX + 1], why[256];
	size_t len = 0;
	struct checkpoint_check check;
	if (bundle_checkpoint_decode(text, note, &len, why, sizeof why) == 0)
		(void)bundle_note_check(note, len, ORIGIN, keys, &check, why, sizeof why);
	(void)bundle_note_check(text, strlen(text), NULL, keys, &check, why, sizeof why);
	struct bundle_registry *registry = calloc(1, sizeof *registry);
	if (registry != NULL)
		(void)bundle_site_parse(text, registry);
	free(registry);
	free(text);
}

static void signed_note_checks(const uint8_t *data, size_t size)
{
	uint8_t head[8 + 32 + 1] = { 0 };
	memcpy(head, data, size < sizeof head ? size : sizeof head);
	size_t rest = size > sizeof head ? size - sizeof head : 0;
	struct checkpoint cp = { .size = be64(head) };
	snprintf(cp.origin, sizeof cp.origin, "%s", ORIGIN);
	memcpy(cp.root, head + 8, sizeof cp.root);
	char note[NOTE_BYTES_MAX + 1];
	size_t body_len = 0, len = 0;
	if (checkpoint_format(&cp, note, sizeof note, &body_len) != 0)
		return;
	len = body_len;
	unsigned mask = head[40];
	size_t signers = 0;
	for (int i = 0; i < SITES; i++)
		if (mask & (1u << i) && note_sign(note, body_len, site_names[i], &secret[i], note, sizeof note, &len) == 0)
			signers++;
	if (mask & 8u)
		(void)note_cosign(note, body_len, "dc", &secret[1], 1700000000, note, sizeof note, &len);
	char body[NOTE_BYTES_MAX + 1];
	memcpy(body, note, body_len);
	bool damaged = false;
	for (size_t i = 0; i + 1 < rest; i += 2) {
		uint8_t at = data[sizeof head + i], flip = data[sizeof head + i + 1];
		if (len > 0 && flip != 0) {
			note[at % len] = (char)(note[at % len] ^ flip);
			damaged = true;
		}
	}
	struct checkpoint_check check;
	char why[256];
	int rc = bundle_note_check(note, len, ORIGIN, keys, &check, why, sizeof why);
	bool ph_after_revocation = (mask & 4u) && cp.size >= PH_REVOKED_AT;
	if (!damaged && signers > 0 && !ph_after_revocation && (rc != 0 || check.signers != signers))
		abort(); /* an intact note signed by keys in force must verify */
	if (!damaged && ph_after_revocation && rc == 0)
		abort(); /* a key revoked within the size attests nothing */
	if (rc == 0 && memcmp(note, body, body_len) != 0)
		abort(); /* the signature check let a damaged body through */
}

static void registry_record_checks(const uint8_t *data, size_t size)
{
	uint8_t *bytes = malloc(size / 2 + 1);
	size_t len = 0;
	struct ledger_entry entry;
	struct record r;
	if (bytes != NULL && bundle_hex_decode((const char *)data, size, bytes, size / 2 + 1, &len) == 0 &&
	    entry_decode(bytes, len, &entry, NULL) == 0 && record_decode(entry.record, entry.record_len, &r, NULL) == 0) {
		struct bundle_keys copy;
		char why[160];
		for (int book = 0; book < 2 && r.type == RECORD_REGISTRY; book++) {
			if (bundle_keys_copy(&copy, book == 0 ? keys : lone) != 0)
				break;
			if (bundle_keys_registry_record(&copy, entry.seq, &r, "mfg", why, sizeof why) == 0 &&
			    copy.count < (book == 0 ? keys : lone)->count)
				abort(); /* an accepted record never forgets a key */
			(void)bundle_keys_signer(&copy, "mfg", r.key_id.bytes, entry.seq);
			bundle_keys_free(&copy);
		}
		record_clear(&r);
	}
	free(bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		text_checks(data + 1, size - 1);
		break;
	case 1:
		signed_note_checks(data + 1, size - 1);
		break;
	default:
		registry_record_checks(data + 1, size - 1);
		break;
	}
	return 0;
}
