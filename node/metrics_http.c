/* node/metrics_http.c — GET /metrics over HTTP with libmicrohttpd, in MHD's own thread.
 *
 * Invariants (node/metrics.h):
 *  1. The HTTP thread reads only `published`, under `lock`, and copies it out before formatting:
 *     the lock is held for one memcpy, never while formatting or writing to a socket.
 *  2. Connections are bounded (HTTP_CONNECTIONS_MAX) and time out (HTTP_TIMEOUT_SECONDS), so a
 *     stuck scraper costs a descriptor, never the loop thread.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "node/metrics.h"
#include "node/node.h"
#include "util/error.h"

#define HTTP_CONNECTIONS_MAX 16 /* scrapers are few: Prometheus and an operator's curl */
#define HTTP_TIMEOUT_SECONDS 10 /* an idle or slow connection is closed */
#define HTTP_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct node_http {
	struct MHD_Daemon *daemon;
	pthread_mutex_t lock;
	struct node_metrics published; /* guarded by lock */
};

static enum MHD_Result respond_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(strlen(text), (void *)(uintptr_t)text, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET");
	enum MHD_Result rc = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result respond_metrics(struct node_http *h, struct MHD_Connection *conn)
{
	assert(h != NULL);
	struct node_metrics *copy = malloc(sizeof *copy);
	char *text = malloc(NODE_METRICS_TEXT_BYTES_MAX);
	if (copy == NULL || text == NULL) {
		free(copy);
		free(text);
		return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	pthread_mutex_lock(&h->lock);
	memcpy(copy, &h->published, sizeof *copy);
	pthread_mutex_unlock(&h->lock);
	size_t len = 0;
	int rc = node_metrics_format(copy, node_clock_ms(), text, NODE_METRICS_TEXT_BYTES_MAX, &len);
	free(copy);
	if (rc != 0) {
		free(text);
		return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics text over its limit\n");
	}
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(text);
		return MHD_NO;
	}
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, HTTP_CONTENT_TYPE);
	enum MHD_Result result = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return result;
}

/* MHD_AccessHandlerCallback; runs on the HTTP thread. A request body (any non-GET method may
 * carry one) is never read: the answer is queued on the first call. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (strcmp(url, "/metrics") != 0)
		return respond_text(conn, MHD_HTTP_NOT_FOUND, "not found: GET /metrics\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
		return respond_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: GET /metrics\n");
	return respond_metrics(cls, conn);
}

int node_http_start(const char *addr, node_http **out)
{
	*out = NULL;
	uint8_t ip[4];
	uint16_t port;
	if (node_config_http_addr_parse(addr, ip, &port) != 0)
		return SL_EINVAL;
	struct node_http *h = calloc(1, sizeof *h);
	if (h == NULL)
		return SL_ENOMEM;
	if (pthread_mutex_init(&h->lock, NULL) != 0) {
		free(h);
		return SL_ENOMEM;
	}
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	memcpy(&sa.sin_addr.s_addr, ip, 4);
	/* MHD_USE_AUTO: epoll or poll, not select(), whose descriptors must stay below FD_SETSIZE */
	h->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, port, NULL, NULL, on_request, h,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT,
				     (unsigned)HTTP_CONNECTIONS_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
				     (unsigned)HTTP_TIMEOUT_SECONDS, MHD_OPTION_END);
	if (h->daemon == NULL) {
		pthread_mutex_destroy(&h->lock);
		free(h);
		return SL_EIO;
	}
	*out = h;
	return 0;
}

void node_http_publish(node_http *h, const struct node_metrics *m)
{
	assert(m->peer_count <= NODE_PEERS_MAX);
	pthread_mutex_lock(&h->lock);
	memcpy(&h->published, m, sizeof *m);
	pthread_mutex_unlock(&h->lock);
}

void node_http_stop(node_http *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->daemon);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
