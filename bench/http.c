/* bench/http.c — keep-alive HTTP/1.1 POST over plain sockets, and a strict response parser (bench/http.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bench/http.h"
#include "util/error.h"

#define HTTP_HEADERS_MAX 64 /* header lines in one response */
#define HTTP_CHUNKS_MAX 4096 /* chunks in one body */

/* Bytes of the line at p (without CRLF) within end, or -1 when no CRLF is there. */
static long line_length(const char *p, const char *end)
{
	for (const char *q = p; q + 1 < end; q++)
		if (q[0] == '\r' && q[1] == '\n')
			return q - p;
	return -1;
}

static bool header_is(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);
	return len > n && line[n] == ':' && strncasecmp(line, name, n) == 0;
}

/* The value of a header line, blanks trimmed, as [*value, *value + *value_len). */
static void header_value(const char *line, size_t len, const char **value, size_t *value_len)
{
	const char *v = (const char *)memchr(line, ':', len) + 1, *end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*value = v;
	*value_len = (size_t)(end - v);
}

static bool value_has(const char *value, size_t len, const char *token)
{
	size_t n = strlen(token);
	for (size_t i = 0; i + n <= len; i++)
		if (strncasecmp(value + i, token, n) == 0)
			return true;
	return false;
}

/* Decimal or hex (base) digits of value[0..len) into *out; SL_EINVAL when not all digits or too big. */
static int number_parse(const char *value, size_t len, int base, size_t *out)
{
	size_t v = 0;
	if (len == 0 || len > 8)
		return SL_EINVAL;
	for (size_t i = 0; i < len; i++) {
		char ch = value[i];
		int d = ch >= '0' && ch <= '9' ? ch - '0'
			: base == 16 && ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
			: base == 16 && ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
							       : -1;
		if (d < 0)
			return SL_EINVAL;
		v = v * (size_t)base + (size_t)d;
	}
	*out = v;
	return 0;
}

/* De-chunk the body starting at p (RFC 9112 §7.1; chunk extensions and trailers skipped). */
static int chunks_parse(const char *p, const char *end, char *body, size_t body_size, size_t *body_len,
			const char **after)
{
	size_t at = 0;
	for (int chunk = 0; chunk < HTTP_CHUNKS_MAX; chunk++) {
		long n = line_length(p, end);
		if (n < 0)
			return SL_ETRUNCATED;
		size_t digits = 0, size = 0;
		while (digits < (size_t)n && p[digits] != ';' && p[digits] != ' ')
			digits++;
		if (number_parse(p, digits, 16, &size) != 0)
			return SL_EINVAL;
		p += n + 2;
		if (size == 0) { /* last chunk, then trailer lines up to an empty one */
			for (int t = 0; t < HTTP_HEADERS_MAX; t++) {
				long m = line_length(p, end);
				if (m < 0)
					return SL_ETRUNCATED;
				p += m + 2;
				if (m == 0) {
					body[at] = '\0';
					*body_len = at;
					*after = p;
					return 0;
				}
			}
			return SL_EINVAL;
		}
		if ((size_t)(end - p) < size + 2)
			return SL_ETRUNCATED;
		if (at + size >= body_size)
			return SL_ELIMIT;
		if (p[size] != '\r' || p[size + 1] != '\n')
			return SL_EINVAL;
		memcpy(body + at, p, size);
		at += size;
		p += size + 2;
	}
	return SL_EINVAL;
}

struct framing {
	bool chunked, has_length, close;
	size_t length;
};

/* Status line and headers from buf; *p is left after the blank line. */
static int head_parse(const char *buf, const char *end, struct bench_http_response *out, struct framing *f,
		      const char **p)
{
	long n = line_length(buf, end);
	if (n < 0)
		return SL_ETRUNCATED;
	size_t status = 0;
	if (n < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ' || number_parse(buf + 9, 3, 10, &status) != 0 ||
	    status < 100 || status > 599)
		return SL_EINVAL;
	out->status = (int)status;
	*p = buf + n + 2;
	for (int h = 0; h < HTTP_HEADERS_MAX; h++) {
		const char *line = *p, *value;
		size_t value_len;
		n = line_length(line, end);
		if (n < 0)
			return SL_ETRUNCATED;
		*p += n + 2;
		if (n == 0)
			return 0;
		if (memchr(line, ':', (size_t)n) == NULL)
			return SL_EINVAL;
		header_value(line, (size_t)n, &value, &value_len);
		if (header_is(line, (size_t)n, "content-length")) {
			if (f->has_length || number_parse(value, value_len, 10, &f->length) != 0)
				return SL_EINVAL;
			f->has_length = true;
		} else if (header_is(line, (size_t)n, "transfer-encoding")) {
			f->chunked = value_has(value, value_len, "chunked");
		} else if (header_is(line, (size_t)n, "connection")) {
			f->close = value_has(value, value_len, "close");
		}
	}
	return SL_EINVAL;
}

int bench_http_response_parse(const char *buf, size_t len, struct bench_http_response *out, char *body,
			      size_t body_size)
{
	if (body_size == 0)
		return SL_ELIMIT;
	size_t window = len < BENCH_HTTP_RESPONSE_BYTES_MAX ? len : BENCH_HTTP_RESPONSE_BYTES_MAX;
	const char *end = buf + window, *p = NULL, *after = NULL;
	struct framing f = { false, false, false, 0 };
	memset(out, 0, sizeof *out);
	int rc = head_parse(buf, end, out, &f, &p);
	bool empty = out->status < 200 || out->status == 204 || out->status == 304;
	if (rc == 0 && f.chunked) {
		rc = chunks_parse(p, end, body, body_size, &out->body_len, &after);
	} else if (rc == 0 && (f.has_length || empty)) {
		size_t length = f.has_length ? f.length : 0;
		if (length >= body_size)
			rc = SL_ELIMIT;
		else if ((size_t)(end - p) < length)
			rc = SL_ETRUNCATED;
		if (rc == 0) {
			memcpy(body, p, length);
			body[length] = '\0';
			out->body_len = length;
			after = p + length;
		}
	} else if (rc == 0) {
		rc = SL_EINVAL; /* framed by closing the connection: not keep-alive */
	}
	if (rc == SL_ETRUNCATED && len >= BENCH_HTTP_RESPONSE_BYTES_MAX)
		rc = SL_ELIMIT;
	if (rc == 0) {
		out->length = (size_t)(after - buf);
		out->close = f.close;
	}
	return rc;
}

int bench_http_init(struct bench_http_conn *c, const char *host)
{
	const char *colon = strrchr(host, ':');
	struct in_addr ip;
	char addr[BENCH_HTTP_HOST_BYTES];
	if (colon == NULL || (size_t)(colon - host) >= sizeof addr || strlen(host) >= sizeof c->host)
		return SL_EINVAL;
	memcpy(addr, host, (size_t)(colon - host));
	addr[colon - host] = '\0';
	size_t port = 0;
	if (inet_pton(AF_INET, addr, &ip) != 1 || number_parse(colon + 1, strlen(colon + 1), 10, &port) != 0 ||
	    port < 1 || port > 65535)
		return SL_EINVAL;
	snprintf(c->host, sizeof c->host, "%s", host);
	c->fd = -1;
	c->in_len = 0;
	c->connects = 0;
	return 0;
}

void bench_http_close(struct bench_http_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->in_len = 0;
}

static int http_connect(struct bench_http_conn *c)
{
	const char *colon = strrchr(c->host, ':');
	char addr[BENCH_HTTP_HOST_BYTES];
	memcpy(addr, c->host, (size_t)(colon - c->host));
	addr[colon - c->host] = '\0';
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1)) };
	inet_pton(AF_INET, addr, &sa.sin_addr);
	struct timeval tv = { BENCH_HTTP_TIMEOUT_MS / 1000, (BENCH_HTTP_TIMEOUT_MS % 1000) * 1000 };
	int one = 1;
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0 || setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0 ||
	    connect(c->fd, (const struct sockaddr *)&sa, sizeof sa) != 0) {
		bench_http_close(c);
		return SL_EIO;
	}
	c->in_len = 0;
	return 0;
}

static int write_all(int fd, const char *bytes, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, bytes, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return SL_EIO;
		bytes += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read until a whole response is buffered; keep any bytes after it for the next one. */
static int response_read(struct bench_http_conn *c, struct bench_http_response *resp, char *body, size_t body_size)
{
	for (;;) {
		int rc = bench_http_response_parse(c->in, c->in_len, resp, body, body_size);
		if (rc == 0) {
			memmove(c->in, c->in + resp->length, c->in_len - resp->length);
			c->in_len -= resp->length;
			return 0;
		}
		if (rc != SL_ETRUNCATED || c->in_len == sizeof c->in)
			return rc == SL_ETRUNCATED ? SL_ELIMIT : rc;
		ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return SL_EIO;
		c->in_len += (size_t)n;
	}
}

int bench_http_post(struct bench_http_conn *c, const char *path, const char *body, size_t body_len,
		    struct bench_http_response *resp, char *resp_body, size_t resp_body_size)
{
	static _Thread_local char request[BENCH_HTTP_REQUEST_BYTES_MAX];
	if (c->fd < 0) {
		if (http_connect(c) != 0)
			return SL_EIO;
		c->connects++;
	}
	int head = snprintf(request, sizeof request,
			    "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
			    "Content-Length: %zu\r\n\r\n",
			    path, c->host, body_len);
	if (head < 0 || (size_t)head + body_len > sizeof request)
		return SL_ELIMIT;
	memcpy(request + head, body, body_len);
	int rc = write_all(c->fd, request, (size_t)head + body_len);
	if (rc == 0)
		rc = response_read(c, resp, resp_body, resp_body_size);
	if (rc != 0 || resp->close)
		bench_http_close(c);
	return rc == 0 ? 0 : SL_EIO;
}
