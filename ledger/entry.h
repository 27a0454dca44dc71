/* ledger/entry.h — one ledger entry: a record as received plus the outcome of applying it.
 *
 * Encoding: canonical msgpack map (same rules as records, see docs/record-format.md "Entries"):
 *   0 seq (uint, 1-based position in the ledger)   1 ledger_time_ms (uint)
 *   2 outcome (uint, enum ledger_outcome)          3 record (bin: the record bytes as received)
 *   4 item (uint, optional: index of the item in the record's item list that caused a rejection)
 *
 * Rules:
 *  1. entry_decode borrows: `record` points into the input buffer.
 *  2. The record bytes are stored as received even when they did not decode (MALFORMED_RECORD),
 *     so an auditor sees exactly what was refused.
 */
#ifndef SL_LEDGER_ENTRY_H
#define SL_LEDGER_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/error.h"

#define ENTRY_BYTES_MAX (65536 + 64) /* RECORD_BYTES_MAX plus the entry's own fields */

struct ledger_entry {
	uint64_t seq;
	uint64_t ledger_time_ms;
	uint32_t outcome;
	const uint8_t *record;
	size_t record_len;
	bool has_item;
	uint32_t item;
};

int entry_encode(const struct ledger_entry *entry, struct sl_buf *out);
int entry_decode(const uint8_t *bytes, size_t len, struct ledger_entry *entry, struct sl_error_detail *detail);

#endif
