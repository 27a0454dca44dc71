/* node/log.c — logfmt lines on stderr (https://brandur.org/logfmt): ts, level, msg, then fields.
 * One fprintf per line so lines from one process never interleave. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "node/node.h"

#define LOG_LINE_BYTES_MAX 2048 /* longer lines are truncated */

uint64_t node_clock_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	return (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
}

void node_log(const char *level, const char *msg, const char *fields, ...)
{
	char extra[LOG_LINE_BYTES_MAX];
	va_list ap;
	va_start(ap, fields);
	vsnprintf(extra, sizeof extra, fields, ap);
	va_end(ap);
	uint64_t ms = node_clock_ms();
	time_t seconds = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&seconds, &tm);
	char ts[32];
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "ts=%s.%03uZ level=%s msg=\"%s\"%s%s\n", ts, (unsigned)(ms % 1000), level, msg,
		extra[0] ? " " : "", extra);
}
