/* epcis/import.c — one transaction per imported document: duplicates, records, hash IDs. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "epcis/import.h"
#include "ledger/entry.h"
#include "ledger/reason.h"

#define HASH_HEX_AT 14 /* "ni:///sha-256;" precedes the 64 hex digits of a hash id */

static void event_meta_name(const struct epcis_event_result *event, char *name, size_t size)
{
	snprintf(name, size, "%s%.64s", EPCIS_META_EVENT_PREFIX, event->hash_id + HASH_HEX_AT);
}

static void id_meta_name(const char *event_id, char *name, size_t size)
{
	uint8_t digest[CRYPTO_SHA256_BYTES];
	char hex[2 * CRYPTO_SHA256_BYTES + 1];
	crypto_sha256((const uint8_t *)event_id, strlen(event_id), digest);
	crypto_hex_encode(digest, sizeof digest, hex);
	snprintf(name, size, "%s%s", EPCIS_META_ID_PREFIX, hex);
}

/* Events imported before (store) or earlier in this document become duplicates. */
static int duplicates_mark(store_txn *txn, struct epcis_mapping *mapping)
{
	for (size_t i = 0; i < mapping->event_count; i++) {
		struct epcis_event_result *event = &mapping->events[i];
		if (event->status != EPCIS_EVENT_MAPPED)
			continue;
		char name[128];
		event_meta_name(event, name, sizeof name);
		const void *value;
		size_t len;
		int rc = store_meta_get(txn, name, &value, &len);
		if (rc == 0) {
			event->status = EPCIS_EVENT_DUPLICATE;
			snprintf(event->note, sizeof event->note, "imported before (ledger entries %.*s)",
				 (int)(len < 64 ? len : 64), (const char *)value);
			continue;
		}
		if (rc != SL_ENOENT)
			return rc;
		for (size_t j = 0; j < i; j++) {
			if (mapping->events[j].status == EPCIS_EVENT_MAPPED &&
			    strcmp(mapping->events[j].hash_id, event->hash_id) == 0) {
				event->status = EPCIS_EVENT_DUPLICATE;
				snprintf(event->note, sizeof event->note, "same event as event %zu of this document",
					 j + 1);
				break;
			}
		}
	}
	return 0;
}

static int ledger_time(store_txn *txn, uint64_t now_ms, uint64_t *out_ms)
{
	uint64_t count = 0;
	int rc = store_ledger_count(txn, &count);
	*out_ms = now_ms;
	if (rc == 0 && count > 0) {
		const uint8_t *bytes;
		size_t len;
		struct ledger_entry entry;
		rc = store_ledger_get(txn, count, &bytes, &len);
		if (rc == 0)
			rc = entry_decode(bytes, len, &entry, NULL);
		if (rc == 0 && entry.ledger_time_ms > now_ms)
			*out_ms = entry.ledger_time_ms; /* monotonic, as cli/records.c */
	}
	return rc;
}

/* Apply the records of mapped events, APPLY_BATCH_RECORDS_MAX at a time. */
static int records_apply(store_txn *txn, const struct epcis_mapping *mapping, const struct ledger_input *inputs,
			 struct ledger_result *results, uint64_t time_ms)
{
	struct ledger_input *batch = calloc(APPLY_BATCH_RECORDS_MAX, sizeof(*batch));
	size_t *where = calloc(APPLY_BATCH_RECORDS_MAX, sizeof(*where));
	struct ledger_result *out = calloc(APPLY_BATCH_RECORDS_MAX, sizeof(*out));
	int rc = batch != NULL && where != NULL && out != NULL ? 0 : SL_ENOMEM;
	size_t n = 0;
	for (size_t e = 0; e <= mapping->event_count && rc == 0; e++) {
		const struct epcis_event_result *event = e < mapping->event_count ? &mapping->events[e] : NULL;
		size_t count = event != NULL && event->status == EPCIS_EVENT_MAPPED ? event->record_count : 0;
		if (n > 0 && (event == NULL || n + count > APPLY_BATCH_RECORDS_MAX)) {
			rc = ledger_apply_batch_txn(txn, batch, n, time_ms, out, 0);
			for (size_t i = 0; i < n && rc == 0; i++)
				results[where[i]] = out[i];
			n = 0;
		}
		for (size_t r = 0; r < count && rc == 0; r++) {
			if (n == APPLY_BATCH_RECORDS_MAX) { /* one event larger than a batch */
				rc = ledger_apply_batch_txn(txn, batch, n, time_ms, out, 0);
				for (size_t i = 0; i < n && rc == 0; i++)
					results[where[i]] = out[i];
				n = 0;
			}
			where[n] = event->record_first + r;
			batch[n++] = inputs[event->record_first + r];
		}
	}
	free(batch);
	free(where);
	free(out);
	return rc;
}

/* Remember the hash IDs (and eventIDs) of events whose records were all accepted. */
static int events_remember(store_txn *txn, const struct epcis_mapping *mapping, const struct ledger_result *results)
{
	for (size_t e = 0; e < mapping->event_count; e++) {
		const struct epcis_event_result *event = &mapping->events[e];
		bool accepted = event->status == EPCIS_EVENT_MAPPED;
		for (size_t r = 0; accepted && r < event->record_count; r++)
			accepted = results[event->record_first + r].outcome == OUTCOME_ACCEPTED;
		if (!accepted)
			continue;
		char name[128], value[STORE_META_VALUE_BYTES_MAX];
		const struct ledger_result *first = &results[event->record_first];
		event_meta_name(event, name, sizeof name);
		int len = snprintf(value, sizeof value, "%" PRIu64 "+%zu", first->seq, event->record_count);
		int rc = store_meta_put(txn, name, value, (size_t)len);
		if (rc != 0)
			return rc;
		if (event->event_id == NULL)
			continue;
		size_t used = 0;
		for (size_t r = 0; r < event->record_count && used + 2 * RECORD_ID_BYTES + 1 <= sizeof value; r++) {
			if (r > 0)
				value[used++] = ',';
			crypto_hex_encode(results[event->record_first + r].record_id, RECORD_ID_BYTES, value + used);
			used += 2 * RECORD_ID_BYTES;
		}
		id_meta_name(event->event_id, name, sizeof name);
		rc = store_meta_put(txn, name, value, used);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static bool all_good(const struct epcis_mapping *mapping, const struct ledger_result *results)
{
	for (size_t e = 0; e < mapping->event_count; e++) {
		const struct epcis_event_result *event = &mapping->events[e];
		if (event->status == EPCIS_EVENT_FAILED)
			return false;
		for (size_t r = 0; event->status == EPCIS_EVENT_MAPPED && r < event->record_count; r++)
			if (results[event->record_first + r].outcome != OUTCOME_ACCEPTED)
				return false;
	}
	return true;
}

int epcis_import_apply(store *st, struct epcis_mapping *mapping, const struct ledger_input *inputs,
		       struct ledger_result *results, const struct epcis_import_options *options, bool *committed)
{
	*committed = false;
	for (size_t i = 0; i < mapping->record_count; i++) {
		memset(&results[i], 0, sizeof(results[i]));
		results[i].outcome = -1;
		results[i].item = -1;
	}
	store_txn *txn = NULL;
	int rc = store_txn_begin(st, true, &txn);
	if (rc != 0)
		return rc;
	uint64_t time_ms = 0;
	rc = duplicates_mark(txn, mapping);
	if (rc == 0)
		rc = ledger_time(txn, options->now_ms, &time_ms);
	if (rc == 0)
		rc = records_apply(txn, mapping, inputs, results, time_ms);
	if (rc == 0)
		rc = events_remember(txn, mapping, results);
	if (rc == 0 && options->sites != NULL && options->sites->count > 0)
		rc = epcis_site_map_save(txn, options->sites);
	if (rc != 0 || options->dry_run || (options->atomic && !all_good(mapping, results))) {
		store_txn_abort(txn);
		return rc;
	}
	rc = store_txn_commit(txn);
	*committed = rc == 0;
	return rc;
}
