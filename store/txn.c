/* store/txn.c — transactions, sticky failure, error mapping and the helpers every table uses.
 *
 * Transaction states (store_txn.error):
 *
 *     begin ──► usable ──(LMDB error other than NOTFOUND/KEYEXIST)──► failed
 *                 │                                                     │
 *              commit ──(LMDB or injected failure)──► poisons store     commit: returns the first
 *                 │                                                     error, aborts, poisons
 *                 ├─► store_txn_commit: durable (data, then meta flushed; none with no_sync)
 *                 └─► store_txn_commit_undoable: data flushed, meta not (invariant 6)
 *     abort from any state: nothing of the transaction persists, the store is not poisoned.
 *
 * Invariants:
 *  1. One write transaction per store (writer_active); the poisoned check happens after taking
 *     it, and a failing commit sets poisoned before releasing it, so no writer slips between.
 *  2. After LMDB reports an error on a write (MDB_TXN_ERROR inside LMDB) the only valid call is
 *     abort: every later operation on the transaction returns its first error, untouched text.
 *  3. A commit that does not succeed (LMDB error, fsync error, injected fault, earlier failure)
 *     poisons the store: later write transactions get SL_EPOISONED until store_close + reopen.
 *     Read transactions still work: they see the last committed snapshot.
 *  4. A read transaction's commit releases its snapshot like abort; it cannot fail.
 *  5. A write transaction does its gets and puts through one kept cursor per table (a put next to
 *     the previous get or put skips the descent from the root); store_value_get / store_value_put
 *     keep mdb_get / mdb_put semantics. The cursors are closed before the LMDB txn ends.
 *  6. A durable store runs LMDB with MDB_NOMETASYNC: mdb_txn_commit writes the pages, flushes them
 *     (fdatasync), then writes the meta page without flushing it. So a meta page on disk only
 *     ever names flushed pages, and an OS crash can at most undo the transactions committed
 *     since the last flush of the meta, never corrupt the store. store_txn_commit then flushes
 *     the meta too (mdb_env_sync): the transaction, and every undoable one before it, is durable
 *     when it returns. store_txn_commit_undoable skips that flush: for transactions whose loss
 *     its caller can redo (the replica's apply-only Ready cycles: docs/decisions.md D24). Both
 *     make the transaction visible to readers at once; a process crash loses neither.
 */
#include "store/store_internal.h"
#include "store/store_testing.h"
#include "util/error.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int store_error_from_mdb(int mdb_rc)
{
	switch (mdb_rc) {
	case 0:
		return 0;
	case MDB_NOTFOUND:
	case ENOENT:
		return SL_ENOENT;
	case MDB_KEYEXIST:
		return SL_EEXIST;
	case MDB_MAP_FULL:
	case ENOSPC:
	case EDQUOT:
		return SL_ENOSPC;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
		return SL_ECORRUPT;
	case ENOMEM:
		return SL_ENOMEM;
	case MDB_VERSION_MISMATCH: /* data file from another LMDB format version */
	case MDB_INCOMPATIBLE:	   /* table exists with other flags: another schema */
		return SL_EVERSIONDB;
	case MDB_TXN_FULL:     /* too many dirty pages in one transaction */
	case MDB_READERS_FULL: /* reader table of lock.mdb exhausted */
		return SL_ELIMIT;
	case MDB_BAD_VALSIZE:
		return SL_EINVAL;
	default:
		return SL_EIO;
	}
}

int store_error_set(store *st, int code, const char *format, ...)
{
	assert(st != NULL);
	char text[STORE_ERROR_TEXT_BYTES_MAX];
	va_list args;
	va_start(args, format);
	int written = vsnprintf(text, sizeof(text), format, args);
	va_end(args);
	if (written < 0)
		snprintf(text, sizeof(text), "%s", sl_strerror(code));
	pthread_mutex_lock(&st->error_mutex);
	memcpy(st->last_error, text, sizeof(text));
	pthread_mutex_unlock(&st->error_mutex);
	return code;
}

/* MDB_PANIC means LMDB gave up on the environment: nothing may be written again. */
static void store_note_panic(store *st, int mdb_rc)
{
	if (mdb_rc == MDB_PANIC)
		atomic_store(&st->poisoned, true);
}

int store_env_mdb_error(store *st, int mdb_rc, const char *op)
{
	assert(mdb_rc != 0);
	store_note_panic(st, mdb_rc);
	return store_error_set(st, store_error_from_mdb(mdb_rc), "%s in %s: %s", op, st->dir, mdb_strerror(mdb_rc));
}

int store_txn_mdb_error(store_txn *txn, int mdb_rc, enum store_table table, const char *op)
{
	assert(txn != NULL);
	assert(mdb_rc != 0);
	int code = store_error_from_mdb(mdb_rc);
	if (mdb_rc == MDB_NOTFOUND)
		return code; /* an outcome, not a failure: the transaction stays usable */
	store_note_panic(txn->st, mdb_rc);
	store_error_set(txn->st, code, "%s %s: %s", store_table_name(table), op, mdb_strerror(mdb_rc));
	if (mdb_rc != MDB_KEYEXIST && txn->error == 0)
		txn->error = code; /* invariant 2 */
	return code;
}

int store_txn_begin(store *st, bool write, store_txn **out)
{
	assert(st != NULL);
	assert(out != NULL);
	*out = NULL;
	if (write) {
		if (st->read_only)
			return store_error_set(st, SL_EINVAL, "write transaction on %s, opened read-only", st->dir);
		bool idle = false;
		if (!atomic_compare_exchange_strong(&st->writer_active, &idle, true))
			return store_error_set(st, SL_EBUSY, "a write transaction is already open on %s", st->dir);
		if (atomic_load(&st->poisoned)) { /* invariant 1: checked while holding the writer slot */
			atomic_store(&st->writer_active, false);
			return store_error_set(st, SL_EPOISONED, "%s refuses writes after a failed commit; reopen it",
					       st->dir);
		}
	}
	store_txn *txn = calloc(1, sizeof(*txn));
	int rc = 0;
	if (txn == NULL) {
		rc = store_error_set(st, SL_ENOMEM, "txn begin: out of memory");
	} else {
		int mdb_rc = mdb_txn_begin(st->env, NULL, write ? 0 : MDB_RDONLY, &txn->txn);
		if (mdb_rc != 0)
			rc = store_env_mdb_error(st, mdb_rc, "txn begin");
	}
	if (rc != 0) {
		free(txn);
		if (write)
			atomic_store(&st->writer_active, false);
		return rc;
	}
	txn->st = st;
	txn->write = write;
	atomic_fetch_add(&st->open_txns, 1);
	*out = txn;
	return 0;
}

/* Before mdb_txn_commit / mdb_txn_abort (LMDB would close write-txn cursors itself; this keeps
 * the rule "every cursor opened is closed" local). */
static void store_txn_cursors_close(store_txn *txn)
{
	for (int t = 0; t < STORE_TABLE_COUNT; t++) {
		if (txn->cursors[t] != NULL)
			mdb_cursor_close(txn->cursors[t]);
		txn->cursors[t] = NULL;
	}
}

static void store_txn_release(store_txn *txn)
{
	store *st = txn->st;
	if (txn->write)
		atomic_store(&st->writer_active, false);
	int before = atomic_fetch_sub(&st->open_txns, 1);
	assert(before > 0);
	(void)before;
	free(txn);
}

/* store_testing.h: true when this commit is the one chosen to fail. */
static bool store_fault_due(store *st)
{
	if (st->fault_countdown <= 0)
		return false;
	st->fault_countdown--;
	return st->fault_countdown == 0;
}

static int store_txn_commit_write(store_txn *txn, bool durable)
{
	store *st = txn->st;
	int rc;
	store_txn_cursors_close(txn);
	if (txn->error != 0) {
		mdb_txn_abort(txn->txn);
		rc = txn->error; /* last_error keeps the first failure's text */
	} else if (store_fault_due(st)) {
		mdb_txn_abort(txn->txn);
		rc = store_error_set(st, st->fault_error, "commit in %s: injected fault (%s)", st->dir,
				     sl_errname(st->fault_error));
	} else {
		int mdb_rc = mdb_txn_commit(txn->txn); /* frees the LMDB txn in all cases */
		rc = mdb_rc == 0 ? 0 : store_env_mdb_error(st, mdb_rc, "commit");
		if (rc == 0 && durable && !st->no_sync)
			rc = store_env_sync(st); /* invariant 6: the meta page */
	}
	txn->txn = NULL;
	if (rc != 0)
		atomic_store(&st->poisoned, true); /* invariant 3, before the writer slot is released */
	return rc;
}

static int store_txn_end(store_txn *txn, bool durable)
{
	assert(txn != NULL);
	assert(txn->txn != NULL);
	int rc = 0;
	if (txn->write) {
		rc = store_txn_commit_write(txn, durable);
	} else {
		mdb_txn_abort(txn->txn); /* invariant 4 */
		txn->txn = NULL;
	}
	store_txn_release(txn);
	return rc;
}

int store_txn_commit(store_txn *txn)
{
	return store_txn_end(txn, true);
}

int store_txn_commit_undoable(store_txn *txn)
{
	return store_txn_end(txn, false);
}

void store_txn_abort(store_txn *txn)
{
	if (txn == NULL)
		return;
	assert(txn->txn != NULL);
	store_txn_cursors_close(txn);
	mdb_txn_abort(txn->txn);
	txn->txn = NULL;
	store_txn_release(txn);
}

int store_fault_inject_commit(store *st, int countdown, int error)
{
	assert(st != NULL);
	if (countdown < 0 || (countdown > 0 && error >= 0))
		return SL_EINVAL;
	st->fault_countdown = countdown;
	st->fault_error = error;
	return 0;
}

int store_txn_usable(store_txn *txn, bool write_needed, enum store_table table, const char *op)
{
	assert(txn != NULL);
	assert(txn->txn != NULL);
	if (txn->error != 0)
		return txn->error;
	if (write_needed && !txn->write)
		return store_error_set(txn->st, SL_EINVAL, "%s %s: write in a read transaction", store_table_name(table),
				       op);
	return 0;
}

int store_key_from_str(store_txn *txn, enum store_table table, const char *op, const char *str, MDB_val *key)
{
	assert(key != NULL);
	size_t len = str == NULL ? 0 : strnlen(str, STORE_KEY_BYTES_MAX + 1);
	if (len == 0 || len > STORE_KEY_BYTES_MAX)
		return store_error_set(txn->st, SL_EINVAL, "%s %s: key must be 1..%d bytes", store_table_name(table),
				       op, STORE_KEY_BYTES_MAX);
	key->mv_size = len;
	key->mv_data = store_mutable(str);
	return 0;
}

/* The write txn's cursor on `table` (store_txn.cursors), opened on first use. */
static int store_txn_cursor(store_txn *txn, enum store_table table, const char *op, MDB_cursor **out)
{
	assert(txn->write);
	if (txn->cursors[table] == NULL) {
		int mdb_rc = mdb_cursor_open(txn->txn, txn->st->dbi[table], &txn->cursors[table]);
		if (mdb_rc != 0) {
			txn->cursors[table] = NULL;
			return store_txn_mdb_error(txn, mdb_rc, table, op);
		}
	}
	*out = txn->cursors[table];
	return 0;
}

/* mdb_get through the write txn's cursor. MDB_SET_RANGE (not MDB_SET) so that a miss, the usual
 * case before an insert, still leaves the cursor on the leaf page the put will use. Keys found
 * equal by the table's comparison are equal bytes (memcmp or same-size integer order). */
static int store_cursor_value_get(store_txn *txn, enum store_table table, const char *op, MDB_val *key,
				  MDB_val *data)
{
	MDB_cursor *cursor;
	int rc = store_txn_cursor(txn, table, op, &cursor);
	if (rc != 0)
		return rc;
	MDB_val found = *key;
	int mdb_rc = mdb_cursor_get(cursor, &found, data, MDB_SET_RANGE);
	if (mdb_rc == 0 && (found.mv_size != key->mv_size || memcmp(found.mv_data, key->mv_data, key->mv_size) != 0))
		mdb_rc = MDB_NOTFOUND;
	return mdb_rc == 0 ? 0 : store_txn_mdb_error(txn, mdb_rc, table, op);
}

int store_value_get(store_txn *txn, enum store_table table, const char *op, MDB_val *key, MDB_val *data)
{
	int rc = store_txn_usable(txn, false, table, op);
	if (rc != 0)
		return rc;
	if (txn->write)
		return store_cursor_value_get(txn, table, op, key, data);
	int mdb_rc = mdb_get(txn->txn, txn->st->dbi[table], key, data);
	return mdb_rc == 0 ? 0 : store_txn_mdb_error(txn, mdb_rc, table, op);
}

int store_value_get_fixed(store_txn *txn, enum store_table table, const char *op, MDB_val *key, void *out,
			  size_t size)
{
	assert(out != NULL);
	MDB_val data;
	int rc = store_value_get(txn, table, op, key, &data);
	if (rc != 0)
		return rc;
	if (data.mv_size != size)
		return store_error_set(txn->st, SL_ECORRUPT, "%s %s: value has %zu bytes, expected %zu",
				       store_table_name(table), op, data.mv_size, size);
	memcpy(out, data.mv_data, size);
	return 0;
}

int store_value_put(store_txn *txn, enum store_table table, const char *op, MDB_val *key, MDB_val *data,
		    unsigned flags)
{
	int rc = store_txn_usable(txn, true, table, op);
	MDB_cursor *cursor = NULL;
	if (rc == 0)
		rc = store_txn_cursor(txn, table, op, &cursor);
	if (rc != 0)
		return rc;
	int mdb_rc = mdb_cursor_put(cursor, key, data, flags); /* what mdb_put does, on a kept cursor */
	return mdb_rc == 0 ? 0 : store_txn_mdb_error(txn, mdb_rc, table, op);
}

int store_value_del(store_txn *txn, enum store_table table, const char *op, MDB_val *key, MDB_val *data)
{
	int rc = store_txn_usable(txn, true, table, op);
	if (rc != 0)
		return rc;
	int mdb_rc = mdb_del(txn->txn, txn->st->dbi[table], key, data);
	return mdb_rc == 0 ? 0 : store_txn_mdb_error(txn, mdb_rc, table, op);
}

int store_cursor_open(store_txn *txn, enum store_table table, const char *op, MDB_cursor **out)
{
	assert(out != NULL);
	int rc = store_txn_usable(txn, false, table, op);
	if (rc != 0)
		return rc;
	int mdb_rc = mdb_cursor_open(txn->txn, txn->st->dbi[table], out);
	return mdb_rc == 0 ? 0 : store_txn_mdb_error(txn, mdb_rc, table, op);
}

bool store_str_field_copy(char *dst, const char *src, size_t size)
{
	assert(dst != NULL);
	assert(size > 0);
	size_t len = src == NULL ? size : strnlen(src, size);
	if (len == size)
		return false;
	memset(dst, 0, size);
	memcpy(dst, src, len);
	return true;
}

bool store_str_field_valid(const char *field, size_t size)
{
	assert(field != NULL);
	return memchr(field, '\0', size) != NULL;
}
