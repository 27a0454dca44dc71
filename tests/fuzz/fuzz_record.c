/* tests/fuzz/fuzz_record.c — fuzz target for the record and entry decoders.
 *
 * Properties checked on every input (abort() on violation, so libFuzzer and the standalone
 * driver both report it):
 *  1. record_decode and entry_decode never crash, leak or read out of bounds (ASan/UBSan builds);
 *  2. canonical means one encoding: a record that decodes re-encodes to exactly the input bytes,
 *     and so does an entry;
 *  3. a decoded record has a record id, and record_verify answers without crashing.
 * Seed corpus: tests/fuzz/corpus/record/ (written by tests/unit/test_record.c, see there).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "ledger/entry.h"
#include "ledger/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_OUTPUT_LIMIT (2 * ENTRY_BYTES_MAX) /* re-encodings are never larger than their input */

static void same_bytes_or_abort(const struct sl_buf *buf, const uint8_t *data, size_t size)
{
	if (buf->len != size || (size > 0 && memcmp(buf->data, data, size) != 0))
		abort();
}

static void check_record(const uint8_t *data, size_t size)
{
	struct record record;
	if (record_decode(data, size, &record, NULL) != 0)
		return;
	struct sl_buf buf;
	sl_buf_init(&buf, FUZZ_OUTPUT_LIMIT);
	if (record_encode(&record, &buf) != 0)
		abort();
	same_bytes_or_abort(&buf, data, size);
	uint8_t id[RECORD_ID_BYTES];
	if (record_id(&record, id) != 0)
		abort();
	struct crypto_public_key pk;
	memset(&pk, 0, sizeof pk);
	if (record_verify(&record, &pk) == 0)
		abort(); /* no record is signed by the all-zero key */
	sl_buf_free(&buf);
	record_clear(&record);
}

static void check_entry(const uint8_t *data, size_t size)
{
	struct ledger_entry entry;
	if (entry_decode(data, size, &entry, NULL) != 0)
		return;
	struct sl_buf buf;
	sl_buf_init(&buf, FUZZ_OUTPUT_LIMIT);
	if (entry_encode(&entry, &buf) != 0)
		abort();
	same_bytes_or_abort(&buf, data, size);
	sl_buf_free(&buf);
	check_record(entry.record, entry.record_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialised;
	if (!initialised) {
		if (crypto_init() != 0)
			abort();
		initialised = 1;
	}
	check_record(data, size);
	check_entry(data, size);
	return 0;
}
