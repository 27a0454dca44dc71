/* crypto/verify_batch.c — verify many signatures at once on several cores (see crypto.h).
 *
 * Apply verifies every record of a Raft entry before its write transaction (DESIGN "The path of one
 * record", step 5); Ed25519 verification is the dominant cost, and jobs are independent, so the
 * batch is shared by several threads, the caller's among them. Threads claim chunks of
 * VERIFY_CHUNK_JOBS jobs from an atomic cursor until none are left, so a thread slowed down by
 * other work on its core (the node's storage thread, another process) takes fewer chunks instead of
 * holding the whole batch back.
 *
 * Invariants:
 *  1. Every results[i] is written exactly once, by the one thread that claimed its chunk.
 *  2. At most min(threads, CRYPTO_VERIFY_THREADS_MAX, count) threads work on one batch; batches
 *     below VERIFY_INLINE_JOBS_MAX run on the caller's thread only (a thread start costs about as
 *     much as a few verifications).
 *  3. The caller claims chunks like any worker until the cursor passes the end, so a thread that
 *     cannot be started costs time, never results: they never depend on how many threads ran.
 */
#include "crypto/crypto.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <unistd.h>

#include "util/error.h"

#define VERIFY_INLINE_JOBS_MAX 16 /* below this many jobs, threads cost more than they save */

#define VERIFY_CHUNK_JOBS 8 /* small enough to balance 2-64 threads, large enough to amortise the atomic */

struct verify_shared {
	const struct crypto_verify_job *jobs;
	int *results;
	size_t count;
	atomic_size_t next; /* first job not yet claimed */
};

unsigned crypto_cores_online(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > (long)UINT16_MAX ? UINT16_MAX : (unsigned)n;
}

static int job_verify(const struct crypto_verify_job *job)
{
	if (job->pk == NULL || job->domain == NULL || job->signature == NULL ||
	    (job->message == NULL && job->message_len > 0))
		return SL_EINVAL;
	return crypto_verify(job->pk, job->domain, job->message, job->message_len, job->signature);
}

static void chunks_run(struct verify_shared *shared)
{
	for (;;) {
		size_t begin = atomic_fetch_add(&shared->next, VERIFY_CHUNK_JOBS);
		if (begin >= shared->count)
			return;
		size_t end = shared->count - begin < VERIFY_CHUNK_JOBS ? shared->count : begin + VERIFY_CHUNK_JOBS;
		for (size_t i = begin; i < end; i++)
			shared->results[i] = job_verify(&shared->jobs[i]);
	}
}

static void *chunks_thread(void *arg)
{
	chunks_run(arg);
	return NULL;
}

static unsigned threads_for(size_t count, unsigned threads)
{
	if (count < VERIFY_INLINE_JOBS_MAX)
		return 1;
	unsigned n = threads == 0 ? crypto_cores_online() : threads;
	if (n > CRYPTO_VERIFY_THREADS_MAX)
		n = CRYPTO_VERIFY_THREADS_MAX;
	if (n > count)
		n = (unsigned)count;
	return n == 0 ? 1 : n;
}

int crypto_verify_batch(const struct crypto_verify_job *jobs, size_t count, int *results, unsigned threads)
{
	assert(jobs != NULL || count == 0);
	assert(results != NULL || count == 0);
	unsigned n = threads_for(count, threads);
	struct verify_shared shared = { jobs, results, count, 0 };
	atomic_init(&shared.next, 0);
	pthread_t ids[CRYPTO_VERIFY_THREADS_MAX];
	bool started[CRYPTO_VERIFY_THREADS_MAX];
	for (unsigned t = 1; t < n; t++)
		started[t] = pthread_create(&ids[t], NULL, chunks_thread, &shared) == 0;
	chunks_run(&shared); /* invariant 3 */
	for (unsigned t = 1; t < n; t++)
		if (started[t])
			pthread_join(ids[t], NULL);
	assert(atomic_load(&shared.next) >= count);
	return 0;
}
