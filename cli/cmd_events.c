/* cli/cmd_events.c — `siteledger events --node-events ADDR [--topic T ...] [--count N] [--wait-ms MS]`:
 * an NN_SUB subscriber of a node's events PUB socket (docs/operations.md "Events").
 *
 * Prints each message on its own line as received ("commit {...}"; with --json only the JSON
 * object, one per line). Stops after --count messages (exit 0), or when --wait-ms pass without a
 * message (exit 1); without either it follows the node until interrupted, as `tail -f` does.
 * PUB keeps nothing for late subscribers: messages published before the connection are not seen. */
#include <errno.h>
#include <nanomsg/nn.h>
#include <nanomsg/pubsub.h>
#include <stdio.h>
#include <string.h>

#include "cli/cmd_events.h"

#define EVENTS_COUNT_MAX 1000000000ull /* --count */
#define EVENTS_WAIT_MS_MAX 86400000ull /* --wait-ms: a day */
#define EVENTS_MESSAGE_BYTES_MAX 65536 /* a node's event is at most 4 KiB (node.h NODE_EVENT_BYTES_MAX) */

const struct cli_option_spec cli_events_options[] = {
	{ "node-events", "ADDR", false, "the node's events address (its events_listen, e.g. tcp://127.0.0.1:7480)" },
	{ "topic", "commit|reject|alarm", true, "only these kinds of event (default: every kind)" },
	{ "count", "N", false, "exit 0 after N events" },
	{ "wait-ms", "MS", false, "exit 1 when MS milliseconds pass without an event" },
	{ NULL, NULL, false, NULL },
};

static int subscribe_topics(int sock, const struct cli_args *args)
{
	size_t topics = cli_arg_count(args, "topic");
	for (size_t i = 0; i < topics; i++) {
		const char *t = cli_arg_nth(args, "topic", i);
		if (strcmp(t, "commit") != 0 && strcmp(t, "reject") != 0 && strcmp(t, "alarm") != 0)
			return cli_fail("--topic: expected commit, reject or alarm, got '%s'", t);
		char prefix[16];
		snprintf(prefix, sizeof prefix, "%s ", t); /* the space: "commit" never matches "commitx" */
		if (nn_setsockopt(sock, NN_SUB, NN_SUB_SUBSCRIBE, prefix, strlen(prefix)) < 0)
			return cli_fail("subscribe: %s", nn_strerror(nn_errno()));
	}
	if (topics == 0 && nn_setsockopt(sock, NN_SUB, NN_SUB_SUBSCRIBE, "", 0) < 0)
		return cli_fail("subscribe: %s", nn_strerror(nn_errno()));
	return 0;
}

static void event_print(const char *msg, int len, bool json)
{
	const char *space = memchr(msg, ' ', (size_t)len);
	if (json && space != NULL)
		printf("%.*s\n", (int)(len - (space + 1 - msg)), space + 1);
	else
		printf("%.*s\n", len, msg);
	fflush(stdout); /* a pipe reader sees each event as it comes */
}

static int receive_loop(int sock, uint64_t count, bool json)
{
	for (uint64_t got = 0; count == 0 || got < count; got++) {
		char *msg = NULL;
		int len = nn_recv(sock, &msg, NN_MSG, 0);
		if (len < 0 && nn_errno() == ETIMEDOUT) {
			fprintf(stderr, "siteledger: events: no event within --wait-ms (%llu received)\n",
				(unsigned long long)got);
			return CLI_EXIT_REJECTED;
		}
		if (len < 0)
			return cli_fail("receive: %s", nn_strerror(nn_errno()));
		event_print(msg, len, json);
		nn_freemsg(msg);
	}
	return CLI_EXIT_ACCEPTED;
}

int cli_cmd_events(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	const char *addr = cli_arg(args, "node-events");
	if (addr == NULL || args->positional_count != 0)
		return cli_fail("expected 'events --node-events ADDR [--topic T ...] [--count N] [--wait-ms MS]'");
	uint64_t count = 0, wait_ms = 0;
	int rc = 0;
	if (cli_arg(args, "count") != NULL)
		rc = cli_parse_u64("count", cli_arg(args, "count"), EVENTS_COUNT_MAX, &count);
	if (rc == 0 && cli_arg(args, "wait-ms") != NULL)
		rc = cli_parse_u64("wait-ms", cli_arg(args, "wait-ms"), EVENTS_WAIT_MS_MAX, &wait_ms);
	if (rc != 0)
		return rc;
	int sock = nn_socket(AF_SP, NN_SUB);
	if (sock < 0)
		return cli_fail("socket: %s", nn_strerror(nn_errno()));
	int timeout = wait_ms > 0 ? (int)wait_ms : -1;
	int max = EVENTS_MESSAGE_BYTES_MAX;
	if (nn_setsockopt(sock, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout, sizeof timeout) < 0 ||
	    nn_setsockopt(sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &max, sizeof max) < 0)
		rc = cli_fail("socket options: %s", nn_strerror(nn_errno()));
	if (rc == 0)
		rc = subscribe_topics(sock, args);
	if (rc == 0 && nn_connect(sock, addr) < 0)
		rc = cli_fail("connect %s: %s", addr, nn_strerror(nn_errno()));
	if (rc == 0)
		rc = receive_loop(sock, count, cli_flag(args, "json"));
	nn_close(sock);
	return rc;
}
