/* node/storage.c — the storage thread: runs the write and commit steps of a Ready
 * (replica_ready_write, replica_ready_commit: the Ready's one LMDB write transaction, apply and
 * fsync) off the loop thread, then wakes the loop (docs/decisions.md D15, D25).
 *
 * Hand-off, one Ready in flight (replica.h T2):
 *     loop     replica_ready_begin; node_storage_persist: under the mutex job = true, signal
 *     storage  wakes; write and commit (below); under the mutex job = false,
 *              done = true, rc; uv_async_send(done_async)
 *     storage  (between the two: replica_ready_write, then when it applied entries, under the
 *              mutex written = true, uv_async_send; then replica_ready_commit)
 *     loop     done_cb: under the mutex takes written, rc, done; written: replica_ready_answer
 *              (clients hear their outcomes while the commit runs, D25); done: busy = false;
 *              node_ready_persisted(n, rc) (finish, advance, start the next)
 *
 * Invariants:
 *  1. The mutex orders the loop's writes before the thread reads them and the thread's writes
 *     (the replica's in-flight Ready, the store, `diverged`) before the loop reads them.
 *  2. busy (loop thread only) is true from node_storage_persist until done_cb: no second job is
 *     handed over while one runs, and nothing closes the replica or the async handle meanwhile.
 *  3. The thread touches only the store and the in-flight Ready through replica_ready_write/commit
 *     (replica.h T1), the hooks' storage-thread side (snapshot_data, diverged: node.c) and the
 *     fields below the mutex. It never logs and never touches a socket.
 *  4. node_storage_stop joins the thread before the async handle is closed: once joined, no
 *     uv_async_send can still be running on the handle.
 *  5. The answer step reads only the replica's scratch, which the commit does not touch (replica.h
 *     T1), and always comes before finish: one done_cb takes written before done, and the thread
 *     sets written before it commits.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "node/node.h"
#include "util/error.h"

static void storage_main(void *arg)
{
	struct node *n = arg;
	struct node_storage *s = &n->storage;
	uv_mutex_lock(&s->mutex);
	for (;;) {
		while (!s->job && !s->quit)
			uv_cond_wait(&s->cond, &s->mutex);
		if (s->quit)
			break;
		uv_mutex_unlock(&s->mutex);
		int rc = replica_ready_write(n->rp, &n->hooks); /* the long part: no lock held */
		if (rc == 0 && replica_ready_answerable(n->rp)) {
			uv_mutex_lock(&s->mutex); /* the loop answers while this thread commits */
			s->written = true;
			uv_async_send(&s->done_async);
			uv_mutex_unlock(&s->mutex);
		}
		if (rc == 0)
			rc = replica_ready_commit(n->rp);
		uv_mutex_lock(&s->mutex);
		s->job = false;
		s->done = true;
		s->rc = rc;
		uv_async_send(&s->done_async); /* returns before the thread can exit: invariant 4 */
	}
	uv_mutex_unlock(&s->mutex);
}

static void done_cb(uv_async_t *handle)
{
	struct node *n = handle->data;
	struct node_storage *s = &n->storage;
	uv_mutex_lock(&s->mutex);
	bool done = s->done, written = s->written;
	int rc = s->rc;
	s->done = false;
	s->written = false;
	uv_mutex_unlock(&s->mutex);
	if (written)
		replica_ready_answer(n->rp, &n->hooks); /* invariant 5 */
	if (!done)
		return; /* a coalesced wake-up: the result was taken already */
	assert(s->busy);
	s->busy = false;
	node_ready_persisted(n, rc);
}

int node_storage_start(struct node *n)
{
	struct node_storage *s = &n->storage;
	assert(!s->started);
	if (uv_mutex_init(&s->mutex) != 0)
		return SL_ENOMEM;
	if (uv_cond_init(&s->cond) != 0) {
		uv_mutex_destroy(&s->mutex);
		return SL_ENOMEM;
	}
	s->sync_ready = true;
	if (uv_async_init(n->loop, &s->done_async, done_cb) != 0)
		return SL_EIO;
	s->done_async.data = n;
	if (uv_thread_create(&s->thread, storage_main, n) != 0) {
		node_log("error", "cannot start the storage thread", "err=%s", "uv_thread_create");
		return SL_EIO;
	}
	s->started = true;
	return 0;
}

void node_storage_persist(struct node *n)
{
	struct node_storage *s = &n->storage;
	assert(s->started);
	assert(!s->busy); /* invariant 2 */
	s->busy = true;
	s->diverged[0] = '\0';
	uv_mutex_lock(&s->mutex);
	s->job = true;
	uv_cond_signal(&s->cond);
	uv_mutex_unlock(&s->mutex);
}

void node_storage_diverged(struct node *n, const char *what)
{
	struct node_storage *s = &n->storage; /* storage thread, during a persist: invariant 3 */
	if (s->diverged[0] == '\0')
		snprintf(s->diverged, sizeof s->diverged, "%s", what);
}

void node_storage_stop(struct node *n)
{
	struct node_storage *s = &n->storage;
	if (s->started) {
		assert(!s->busy); /* invariant 2: the caller waited for the persist in flight */
		uv_mutex_lock(&s->mutex);
		s->quit = true;
		uv_cond_signal(&s->cond);
		uv_mutex_unlock(&s->mutex);
		uv_thread_join(&s->thread);
		s->started = false;
	}
	if (s->sync_ready) {
		uv_cond_destroy(&s->cond);
		uv_mutex_destroy(&s->mutex);
		s->sync_ready = false;
	}
}
