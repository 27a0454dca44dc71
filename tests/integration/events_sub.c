/* tests/integration/events_sub.c — a test subscriber of siteledgerd's events (docs/operations.md
 * "Events"): `events_sub ADDR COUNT TIMEOUT_MS [TOPIC ...]` connects an NN_SUB socket to ADDR,
 * subscribes to each TOPIC (all messages when none), prints each message received on its own line
 * and exits 0 after COUNT messages, or 1 when TIMEOUT_MS pass without one (every wait bounded). */
#include <errno.h>
#include <nanomsg/nn.h>
#include <nanomsg/pubsub.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUB_COUNT_MAX 100000 /* bounds the receive loop */
#define SUB_TIMEOUT_MS_MAX 600000

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: events_sub ADDR COUNT TIMEOUT_MS [TOPIC ...]\n");
		return 2;
	}
	long count = strtol(argv[2], NULL, 10);
	long timeout = strtol(argv[3], NULL, 10);
	if (count < 1 || count > SUB_COUNT_MAX || timeout < 1 || timeout > SUB_TIMEOUT_MS_MAX) {
		fprintf(stderr, "events_sub: COUNT 1..%d, TIMEOUT_MS 1..%d\n", SUB_COUNT_MAX, SUB_TIMEOUT_MS_MAX);
		return 2;
	}
	int sock = nn_socket(AF_SP, NN_SUB);
	int ms = (int)timeout;
	if (sock < 0 || nn_setsockopt(sock, NN_SOL_SOCKET, NN_RCVTIMEO, &ms, sizeof ms) < 0) {
		fprintf(stderr, "events_sub: %s\n", nn_strerror(nn_errno()));
		return 2;
	}
	for (int i = argc > 4 ? 4 : 3; i < argc; i++) {
		const char *topic = i >= 4 ? argv[i] : ""; /* no TOPIC: the empty prefix, every message */
		if (nn_setsockopt(sock, NN_SUB, NN_SUB_SUBSCRIBE, topic, strlen(topic)) < 0) {
			fprintf(stderr, "events_sub: subscribe: %s\n", nn_strerror(nn_errno()));
			return 2;
		}
	}
	if (nn_connect(sock, argv[1]) < 0) {
		fprintf(stderr, "events_sub: connect %s: %s\n", argv[1], nn_strerror(nn_errno()));
		return 2;
	}
	fprintf(stderr, "events_sub: connected\n");
	for (long got = 0; got < count; got++) {
		char *msg = NULL;
		int len = nn_recv(sock, &msg, NN_MSG, 0);
		if (len < 0) {
			fprintf(stderr, "events_sub: %ld of %ld received: %s\n", got, count, nn_strerror(nn_errno()));
			nn_close(sock);
			return 1;
		}
		printf("%.*s\n", len, msg);
		fflush(stdout);
		nn_freemsg(msg);
	}
	nn_close(sock);
	return 0;
}
