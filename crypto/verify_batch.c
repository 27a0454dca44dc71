/* crypto/verify_batch.c — verify many signatures at once on several cores (see crypto.h).
 *
 * Apply verifies every record of a Raft entry before its write transaction (DESIGN "The path of one
 * record", step 5); Ed25519 verification is the dominant cost, and jobs are independent, so the
 * batch is cut into contiguous slices, one per thread. The caller's thread takes the first slice.
 *
 * Invariants:
 *  1. Every results[i] is written exactly once, by the one thread that owns slice i.
 *  2. At most min(threads, CRYPTO_VERIFY_THREADS_MAX, count) threads work on one batch; batches
 *     below VERIFY_INLINE_JOBS_MAX run on the caller's thread only (a thread start costs about as
 *     much as a few verifications).
 *  3. If a thread cannot be started, the caller verifies that slice itself: the results never
 *     depend on how many threads ran.
 */
#include "crypto/crypto.h"

#include <assert.h>
#include <pthread.h>
#include <unistd.h>

#include "util/error.h"

#define VERIFY_INLINE_JOBS_MAX 16 /* below this many jobs, threads cost more than they save */

struct verify_slice {
	const struct crypto_verify_job *jobs;
	int *results;
	size_t begin;
	size_t end;
};

unsigned crypto_cores_online(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > (long)UINT16_MAX ? UINT16_MAX : (unsigned)n;
}

static void slice_run(const struct verify_slice *slice)
{
	for (size_t i = slice->begin; i < slice->end; i++) {
		const struct crypto_verify_job *job = &slice->jobs[i];
		if (job->pk == NULL || job->domain == NULL || job->signature == NULL ||
		    (job->message == NULL && job->message_len > 0)) {
			slice->results[i] = SL_EINVAL;
			continue;
		}
		slice->results[i] = crypto_verify(job->pk, job->domain, job->message, job->message_len,
						  job->signature);
	}
}

static void *slice_thread(void *arg)
{
	slice_run(arg);
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
	struct verify_slice slices[CRYPTO_VERIFY_THREADS_MAX];
	pthread_t ids[CRYPTO_VERIFY_THREADS_MAX];
	bool started[CRYPTO_VERIFY_THREADS_MAX];
	for (unsigned t = 0; t < n; t++) {
		/* slice t covers [t*count/n, (t+1)*count/n): sizes differ by at most one job */
		slices[t] = (struct verify_slice){ jobs, results, count / n * t + count % n * t / n,
						   count / n * (t + 1) + count % n * (t + 1) / n };
		started[t] = false;
	}
	for (unsigned t = 1; t < n; t++)
		started[t] = pthread_create(&ids[t], NULL, slice_thread, &slices[t]) == 0;
	slice_run(&slices[0]);
	for (unsigned t = 1; t < n; t++) {
		if (started[t])
			pthread_join(ids[t], NULL);
		else
			slice_run(&slices[t]); /* invariant 3 */
	}
	assert(n == 0 || slices[n - 1].end == count);
	return 0;
}
