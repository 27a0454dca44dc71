/* bench/http.h — the HTTP/1.1 client a benchmark needs to drive etcd's gRPC gateway: one keep-alive
 * TCP connection per client, POST a JSON body, read one whole response.
 *
 * Rules:
 *  1. bench_http_response_parse is pure (bytes in, verdict out) and strict: an HTTP/1.x status
 *     line, headers, and a body framed by Content-Length or chunked transfer coding (a body that
 *     runs until the connection closes is refused: the connection must be kept alive).
 *  2. Everything is bounded: a response of at most BENCH_HTTP_RESPONSE_BYTES_MAX bytes, socket
 *     reads and writes time out after BENCH_HTTP_TIMEOUT_MS.
 *  3. A connection that failed, timed out or was told "Connection: close" is closed; the next
 *     bench_http_post reconnects (counted in connects).
 */
#ifndef SL_BENCH_HTTP_H
#define SL_BENCH_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_HTTP_RESPONSE_BYTES_MAX (64u << 10) /* etcd's answers to put, range (count) and status */
#define BENCH_HTTP_REQUEST_BYTES_MAX (64u << 10)
#define BENCH_HTTP_TIMEOUT_MS 15000
#define BENCH_HTTP_HOST_BYTES 64 /* "127.0.0.1:2379" and room to spare */

struct bench_http_response {
	int status;	  /* 100..599 */
	size_t length;	  /* bytes of the whole response on the wire */
	size_t body_len;  /* bytes written to the caller's body buffer (de-chunked) */
	bool close;	  /* "Connection: close": the server ends the connection */
};

/* A whole response in buf[0..len)? 0: yes, *out filled and the body copied (de-chunked, NUL-terminated)
 * into body[0..body_size); SL_ETRUNCATED: need more bytes; SL_EINVAL: not a response this client
 * takes (rule 1); SL_ELIMIT: larger than BENCH_HTTP_RESPONSE_BYTES_MAX or than body_size - 1. */
int bench_http_response_parse(const char *buf, size_t len, struct bench_http_response *out, char *body,
			      size_t body_size);

struct bench_http_conn {
	char host[BENCH_HTTP_HOST_BYTES]; /* numeric IPv4 "A.B.C.D:PORT" */
	int fd;				  /* -1 while closed */
	char in[BENCH_HTTP_RESPONSE_BYTES_MAX];
	size_t in_len;
	uint64_t connects; /* TCP connections opened, the first included */
};

/* Name the server (no I/O yet); SL_EINVAL when host is not "A.B.C.D:PORT". */
int bench_http_init(struct bench_http_conn *c, const char *host);
/* POST body to path and read the response; 0 (any status: check resp->status) or SL_EIO. */
int bench_http_post(struct bench_http_conn *c, const char *path, const char *body, size_t body_len,
		    struct bench_http_response *resp, char *resp_body, size_t resp_body_size);
void bench_http_close(struct bench_http_conn *c);

#endif
