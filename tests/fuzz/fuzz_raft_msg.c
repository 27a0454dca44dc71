/* tests/fuzz/fuzz_raft_msg.c — the Raft message codec and step path on arbitrary bytes.
 *
 * Properties checked (abort on violation, so both libFuzzer and the standalone driver flag it):
 *  1. raft_msg_decode never reads outside the input and never crashes.
 *  2. The encoding is canonical: anything that decodes re-encodes to the identical bytes.
 *  3. A decoded message stepped into a follower never crashes the core, whatever it says;
 *     the follower's Ready stays well formed.
 *  4. Inputs that do not decode are read as small field values instead (type, term, index,
 *     entries...), so the step path sees many odd but plausible messages, not only valid ones.
 * Includes nothing but consensus headers (the target links libslraft.a only).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "consensus/raft.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void step_into_follower(struct raft_msg *msg)
{
	struct raft_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.id = 2;
	cfg.election_ticks = 10;
	cfg.heartbeat_ticks = 1;
	cfg.pre_vote = (msg->context & 1) != 0;
	cfg.check_quorum = (msg->context & 2) != 0;
	cfg.initial.voters_count = 3;
	for (uint8_t i = 0; i < 3; i++)
		cfg.initial.voters[i] = i + 1;
	raft *r = NULL;
	if (raft_create(&cfg, NULL, &r) != 0)
		abort();
	for (int round = 0; round < 2; round++) {
		struct raft_ready rd;
		while (raft_has_ready(r)) {
			if (raft_ready(r, &rd) != 0)
				abort();
			for (size_t i = 0; i < rd.messages_count; i++) {
				uint8_t buf[256];
				size_t len;
				/* messages this node sends must encode (entries are never sent by a follower) */
				if (rd.messages[i].entries_count == 0 &&
				    raft_msg_encode(&rd.messages[i], buf, sizeof buf, &len) != 0)
					abort();
			}
			raft_advance(r, &rd);
		}
		msg->to = 2;
		if (msg->from == 2)
			msg->from = 1;
		(void)raft_step(r, msg); /* any result is fine; only crashes are bugs */
		raft_tick(r);
	}
	raft_destroy(r);
}

#define FIELDS_BYTES 14 /* bytes consumed by msg_from_fields */

static void msg_from_fields(const uint8_t *b, struct raft_msg *msg, struct raft_entry *entries)
{ /* small ranges so terms and indexes meet the follower's log (terms 1-2, indexes 0-9) */
	memset(msg, 0, sizeof *msg);
	msg->type = (uint8_t)(b[0] % (RAFT_MSG_TYPE_MAX + 2));
	msg->flags = b[1] & 3;
	msg->from = b[2] % 5;
	msg->term = b[3] % 6;
	msg->log_term = b[4] % 6;
	msg->index = b[5] % 10;
	msg->commit = b[6] % 12;
	msg->reject_hint = b[7] % 12;
	msg->context = b[8] % 4;
	msg->snapshot.index = b[9] % 12;
	msg->snapshot.term = b[10] % 6;
	msg->snapshot.conf.voters_count = (uint8_t)(b[11] % 4);
	for (uint8_t i = 0; i < msg->snapshot.conf.voters_count; i++)
		msg->snapshot.conf.voters[i] = i + 1u + (b[11] >> 4 & 1);
	size_t n = b[12] % 4;
	for (size_t i = 0; i < n; i++) {
		entries[i].index = msg->index + 1 + i;
		entries[i].term = msg->log_term + ((b[13] >> i) & 1);
		entries[i].type = RAFT_ENTRY_NORMAL;
		entries[i].data = b;
		entries[i].len = 1;
	}
	msg->entries = n ? entries : NULL;
	msg->entries_count = n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct raft_entry entries[RAFT_MSG_ENTRIES_MAX];
	struct raft_msg msg;
	if (raft_msg_decode(data, size, &msg, entries, RAFT_MSG_ENTRIES_MAX) != 0) {
		if (size >= FIELDS_BYTES) { /* property 4 */
			msg_from_fields(data, &msg, entries);
			step_into_follower(&msg);
		}
		return 0;
	}
	uint8_t *again = malloc(size ? size : 1);
	size_t len = 0;
	if (again == NULL)
		return 0;
	if (raft_msg_encode(&msg, again, size, &len) != 0 || len != size || memcmp(again, data, size) != 0)
		abort(); /* property 2 */
	free(again);
	step_into_follower(&msg);
	return 0;
}
