/* node/config.c — strict parser of siteledgerd's `key = value` configuration (node/config.h).
 *
 * Keys are table-driven: each names its section (top or peer), its kind (number with range,
 * site id, path, address) and where it goes. A bit per key catches repeats and missing keys. */
#include "node/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replica/replica.h"
#include "util/error.h"

#define CONFIG_FILE_BYTES_MAX (1u << 20) /* a config file is a few hundred bytes; refuse anything huge */

enum key_kind { KIND_NUMBER, KIND_SITE, KIND_PATH, KIND_ADDR, KIND_HTTP_ADDR };

struct key_spec {
	const char *name;
	bool peer; /* in a [peer] section (else top level) */
	enum key_kind kind;
	bool required;
	uint64_t min, max; /* numbers */
	size_t offset;	   /* into struct node_config or struct node_peer_config */
	size_t size;	   /* field size (strings) or sizeof the integer */
};

#define TOP_NUM(n, req, lo, hi, field)                                                                       \
	{ n, false, KIND_NUMBER, req, lo, hi, offsetof(struct node_config, field),                           \
	  sizeof(((struct node_config *)0)->field) }
#define TOP_STR(n, kind, field)                                                                              \
	{ n, false, kind, true, 0, 0, offsetof(struct node_config, field), sizeof(((struct node_config *)0)->field) }
#define TOP_OPT(n, kind, field)                                                                              \
	{ n, false, kind, false, 0, 0, offsetof(struct node_config, field), sizeof(((struct node_config *)0)->field) }
#define PEER_STR(n, kind, field)                                                                             \
	{ n, true, kind, true, 0, 0, offsetof(struct node_peer_config, field),                               \
	  sizeof(((struct node_peer_config *)0)->field) }

static const struct key_spec keys[] = {
	TOP_NUM("id", true, 1, NODE_ID_MAX, id),
	TOP_STR("site", KIND_SITE, site),
	TOP_STR("data", KIND_PATH, data_dir),
	TOP_STR("key", KIND_PATH, key_path),
	TOP_STR("peer_listen", KIND_ADDR, peer_listen),
	TOP_STR("client_listen", KIND_ADDR, client_listen),
	TOP_NUM("tick_ms", false, NODE_TICK_MS_MIN, NODE_TICK_MS_MAX, tick_ms),
	TOP_NUM("election_ticks", false, 2, RAFT_ELECTION_TICKS_MAX, election_ticks),
	TOP_NUM("heartbeat_ticks", false, 1, RAFT_ELECTION_TICKS_MAX, heartbeat_ticks),
	TOP_NUM("batch_records", false, 1, REPLICA_BATCH_RECORDS_MAX, batch_records),
	TOP_NUM("compact_every", false, 0, NODE_COMPACT_EVERY_MAX, compact_every),
	TOP_NUM("compact_keep", false, 0, REPLICA_COMPACT_KEEP_MAX, compact_keep),
	TOP_NUM("checkpoint_every_ms", false, 0, NODE_EVERY_MS_MAX, checkpoint_every_ms),
	TOP_NUM("spc_every_ms", false, 0, NODE_EVERY_MS_MAX, spc_every_ms),
	TOP_NUM("join", false, 0, 1, join),
	TOP_OPT("metrics_listen", KIND_HTTP_ADDR, metrics_listen),
	TOP_OPT("events_listen", KIND_ADDR, events_listen),
	{ "id", true, KIND_NUMBER, true, 1, NODE_ID_MAX, offsetof(struct node_peer_config, id), sizeof(uint64_t) },
	PEER_STR("site", KIND_SITE, site),
	PEER_STR("peer", KIND_ADDR, peer_addr),
	PEER_STR("client", KIND_ADDR, client_addr),
	PEER_STR("public_key", KIND_PATH, public_key_path),
};
#define KEY_COUNT (sizeof keys / sizeof keys[0])
_Static_assert(KEY_COUNT <= 32, "seen-key masks are 32 bits");

struct parser {
	struct node_config *out;
	const char *base_dir;
	unsigned line;
	struct node_peer_config *peer; /* current section, NULL at top level */
	uint32_t seen_top;
	uint32_t seen_peer;
	struct sl_error_detail *detail;
};

static int fail(struct parser *p, const char *what, const char *arg)
{
	return sl_error_set(p->detail, SL_EINVAL, "line %u: %s%s%s", p->line, what, arg ? ": " : "", arg ? arg : "");
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static int store_number(struct parser *p, const struct key_spec *k, const char *value, void *field)
{
	if (value[0] < '0' || value[0] > '9' || (value[0] == '0' && value[1] != '\0'))
		return fail(p, "not a number", value);
	errno = 0;
	char *end = NULL;
	unsigned long long v = strtoull(value, &end, 10);
	if (errno != 0 || *end != '\0' || v < k->min || v > k->max)
		return sl_error_set(p->detail, SL_EINVAL, "line %u: %s must be %llu..%llu, got '%s'", p->line, k->name,
				    (unsigned long long)k->min, (unsigned long long)k->max, value);
	if (k->size == sizeof(uint64_t))
		*(uint64_t *)field = v;
	else
		*(unsigned *)field = (unsigned)v;
	return 0;
}

static int store_string(struct parser *p, const struct key_spec *k, const char *value, char *field)
{
	size_t len = strlen(value);
	if (len == 0)
		return fail(p, "empty value for", k->name);
	if (k->kind == KIND_SITE && !record_site_id_valid(value, len))
		return fail(p, "not a valid site id (1-32 of a-z 0-9 -, starting with a letter)", value);
	if (k->kind == KIND_ADDR && strncmp(value, "tcp://", 6) != 0 && strncmp(value, "ipc://", 6) != 0)
		return fail(p, "address must start with tcp:// or ipc://", value);
	uint8_t ip[4];
	uint16_t port;
	if (k->kind == KIND_HTTP_ADDR && node_config_http_addr_parse(value, ip, &port) != 0)
		return fail(p, "expected a numeric IPv4 address and port, e.g. 127.0.0.1:9400", value);
	int n;
	if (k->kind == KIND_PATH && value[0] != '/' && p->base_dir != NULL)
		n = snprintf(field, k->size, "%s/%s", p->base_dir, value);
	else
		n = snprintf(field, k->size, "%s", value);
	if (n < 0 || (size_t)n >= k->size)
		return fail(p, "value too long for", k->name);
	return 0;
}

static int key_value(struct parser *p, char *text)
{
	char *equals = strchr(text, '=');
	if (equals == NULL)
		return fail(p, "expected 'key = value' or '[peer NAME]'", NULL);
	*equals = '\0';
	const char *name = trim(text);
	const char *value = trim(equals + 1);
	bool in_peer = p->peer != NULL;
	for (size_t i = 0; i < KEY_COUNT; i++) {
		const struct key_spec *k = &keys[i];
		if (k->peer != in_peer || strcmp(k->name, name) != 0)
			continue;
		uint32_t *seen = in_peer ? &p->seen_peer : &p->seen_top;
		if (*seen & (1u << i))
			return fail(p, "key given twice", name);
		*seen |= 1u << i;
		char *base = in_peer ? (char *)p->peer : (char *)p->out;
		if (k->kind == KIND_NUMBER)
			return store_number(p, k, value, base + k->offset);
		return store_string(p, k, value, base + k->offset);
	}
	return fail(p, in_peer ? "unknown key in a [peer] section" : "unknown key", name);
}

/* Required keys of the section just finished (top or peer). */
static int section_check(struct parser *p, bool peer, const char *section)
{
	uint32_t seen = peer ? p->seen_peer : p->seen_top;
	for (size_t i = 0; i < KEY_COUNT; i++)
		if (keys[i].peer == peer && keys[i].required && !(seen & (1u << i)))
			return sl_error_set(p->detail, SL_EMISSING, "line %u: %s: missing key '%s'", p->line, section,
					    keys[i].name);
	return 0;
}

static int section_open(struct parser *p, char *text)
{
	size_t n = strlen(text);
	if (n < 2 || text[n - 1] != ']' || strncmp(text, "[peer ", 6) != 0)
		return fail(p, "expected a section header '[peer NAME]'", text);
	text[n - 1] = '\0';
	const char *name = trim(text + 6);
	if (!record_site_id_valid(name, strlen(name)))
		return fail(p, "peer name is not a valid site id", name);
	int rc = p->peer != NULL ? section_check(p, true, p->peer->name) : section_check(p, false, "top level");
	if (rc != 0)
		return rc;
	if (p->out->peer_count >= NODE_PEERS_MAX)
		return fail(p, "too many peers (NODE_PEERS_MAX)", name);
	p->peer = &p->out->peers[p->out->peer_count++];
	snprintf(p->peer->name, sizeof p->peer->name, "%s", name);
	p->seen_peer = 0;
	return 0;
}

static int line_parse(struct parser *p, char *text)
{
	char *hash = strchr(text, '#');
	if (hash != NULL)
		*hash = '\0';
	text = trim(text);
	if (text[0] == '\0')
		return 0;
	if (text[0] == '[')
		return section_open(p, text);
	return key_value(p, text);
}

/* Cross-section checks: unique ids, sites and addresses, heartbeat below election. */
static int config_check(struct parser *p)
{
	struct node_config *c = p->out;
	if (c->heartbeat_ticks >= c->election_ticks)
		return sl_error_set(p->detail, SL_EINVAL, "line 0: heartbeat_ticks (%u) must be below election_ticks (%u)",
				    c->heartbeat_ticks, c->election_ticks);
	for (size_t i = 0; i < c->peer_count; i++) {
		const struct node_peer_config *a = &c->peers[i];
		if (a->id == c->id || strcmp(a->site, c->site) == 0)
			return sl_error_set(p->detail, SL_EEXIST, "line 0: [peer %s] has this node's id or site",
					    a->name);
		for (size_t j = 0; j < i; j++)
			if (c->peers[j].id == a->id || strcmp(c->peers[j].site, a->site) == 0)
				return sl_error_set(p->detail, SL_EEXIST, "line 0: [peer %s] repeats the id or site of [peer %s]",
						    a->name, c->peers[j].name);
	}
	return 0;
}

static void defaults_set(struct node_config *c)
{
	memset(c, 0, sizeof *c);
	c->tick_ms = NODE_TICK_MS_DEFAULT;
	c->election_ticks = NODE_ELECTION_TICKS_DEFAULT;
	c->heartbeat_ticks = NODE_HEARTBEAT_TICKS_DEFAULT;
	c->batch_records = REPLICA_BATCH_RECORDS_MAX;
	c->checkpoint_every_ms = NODE_CHECKPOINT_EVERY_MS_DEFAULT;
	c->spc_every_ms = NODE_SPC_EVERY_MS_DEFAULT;
	c->compact_every = NODE_COMPACT_EVERY_DEFAULT;
	c->compact_keep = NODE_COMPACT_KEEP_DEFAULT;
}

int node_config_parse(const char *text, size_t len, const char *base_dir, struct node_config *out,
		      unsigned *line_out, struct sl_error_detail *detail)
{
	defaults_set(out);
	struct parser p = { .out = out, .base_dir = base_dir, .detail = detail };
	char line[NODE_CONFIG_LINE_BYTES_MAX + 1];
	size_t pos = 0;
	int rc = 0;
	while (rc == 0 && pos < len && p.line < NODE_CONFIG_LINES_MAX) {
		p.line++;
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
		if (n > NODE_CONFIG_LINE_BYTES_MAX)
			rc = fail(&p, "line too long", NULL);
		else if (memchr(text + pos, '\0', n) != NULL)
			rc = fail(&p, "NUL byte in line", NULL);
		if (rc == 0) {
			memcpy(line, text + pos, n);
			line[n] = '\0';
			rc = line_parse(&p, line);
		}
		pos += n + (nl != NULL);
	}
	if (rc == 0 && pos < len)
		rc = fail(&p, "too many lines", NULL);
	if (rc == 0 && p.peer != NULL)
		rc = section_check(&p, true, p.peer->name);
	if (rc == 0)
		rc = section_check(&p, false, "top level"); /* idempotent when a [peer] already checked it */
	if (rc == 0) {
		p.line = 0; /* clashes between sections belong to no one line */
		rc = config_check(&p);
	}
	*line_out = rc == 0 ? 0 : p.line;
	return rc;
}

int node_config_http_addr_parse(const char *text, uint8_t ip[4], uint16_t *port)
{
	const char *colon = strrchr(text, ':');
	char host[INET_ADDRSTRLEN];
	if (colon == NULL || (size_t)(colon - text) >= sizeof host)
		return SL_EINVAL;
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	struct in_addr addr;
	if (inet_pton(AF_INET, host, &addr) != 1)
		return SL_EINVAL;
	const char *digits = colon + 1;
	if (digits[0] < '1' || digits[0] > '9' || strlen(digits) > 5)
		return SL_EINVAL; /* no sign, no leading zero, at most 65535's five digits */
	unsigned long v = 0;
	for (const char *c = digits; *c != '\0'; c++) {
		if (*c < '0' || *c > '9')
			return SL_EINVAL;
		v = v * 10 + (unsigned long)(*c - '0');
	}
	if (v > 65535)
		return SL_EINVAL;
	memcpy(ip, &addr.s_addr, 4);
	*port = (uint16_t)v;
	return 0;
}

int node_config_load(const char *path, struct node_config *out, unsigned *line_out,
		     struct sl_error_detail *detail)
{
	*line_out = 0;
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return sl_error_set(detail, SL_ENOENT, "cannot open %s: %s", path, strerror(errno));
	char *text = malloc(CONFIG_FILE_BYTES_MAX + 1);
	size_t len = text != NULL ? fread(text, 1, CONFIG_FILE_BYTES_MAX + 1, f) : 0;
	int rc = text == NULL ? SL_ENOMEM : ferror(f) ? SL_EIO : len > CONFIG_FILE_BYTES_MAX ? SL_EOVERSIZE : 0;
	fclose(f);
	char base[NODE_CONFIG_PATH_BYTES];
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		snprintf(base, sizeof base, ".");
	else if ((size_t)(slash - path) < sizeof base)
		snprintf(base, sizeof base, "%.*s", (int)(slash - path), path);
	else
		rc = rc ? rc : SL_ELIMIT;
	if (rc == 0)
		rc = node_config_parse(text, len, base, out, line_out, detail);
	else
		sl_error_set(detail, rc, "cannot read %s", path);
	free(text);
	return rc;
}
