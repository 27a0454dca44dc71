/* store/store_testing.h — fault injection into the store, for tests and the simulator only.
 *
 * Owns: a per-store countdown that makes one chosen write commit fail, in the manner of
 * canonical/raft test/lib/fault.h and SQLite's test_malloc.c countdown faults. Compiled into every
 * build (so tests exercise the production binary's code paths) but never called by production code.
 *
 * Rules:
 *  1. store_fault_inject_commit(st, N, error): the Nth next write-transaction commit (N >= 1; read
 *     transactions do not count) aborts the LMDB transaction instead of committing it and returns
 *     `error` (a negative SL_E* code) as if the commit or its fsync had failed: the store is
 *     poisoned and nothing of that transaction is visible, now or after reopening. One-shot: the
 *     countdown is off once it fired. N = 0 turns a pending countdown off.
 *  2. Returns SL_EINVAL for N < 0 or, when N > 0, an error that is not negative.
 *  3. Call it from the writer's thread while no write transaction is open (not synchronised).
 *  4. store_syncs(st): how many times this store flushed its meta page since it was opened
 *     (store_txn_commit of a durable store); undoable commits and no_sync stores
 *     do not count. Writer's thread only.
 */
#ifndef SL_STORE_STORE_TESTING_H
#define SL_STORE_STORE_TESTING_H

#include "store/store.h"

int store_fault_inject_commit(store *st, int countdown, int error);
uint64_t store_syncs(const store *st);

#endif
