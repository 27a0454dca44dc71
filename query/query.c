/* query/query.c — query parameters (which kind takes which option and how many arguments) and the
 * dispatch of query_run to each kind's function (query/query.h). */
#include "query/query.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/record.h"
#include "query/query_internal.h"
#include "util/error.h"

static const char *const opts_json[] = { "json", NULL };
static const char *const opts_reconcile[] = { "json", "lot", "site", "line", "from", "to", "overdue-days", "show",
					      "html", NULL };
static const char *const opts_where[] = { "json", "lot", "site", NULL };
static const char *const opts_spc[] = { "json", "site", "line", "since", "shift-hours", "html", NULL };
static const char *const opts_none[] = { NULL };
static const char *const opts_epcis[] = { "lot", "id", "since", "format", "now-ms", NULL };
static const char *const opts_export[] = { "lot", "since", NULL };

struct query_spec {
	const char *name;
	const char *const *options; /* NULL-terminated */
	size_t args_min, args_max;
	int (*run)(const struct query_env *env, const struct query_params *p, struct query_out *out);
};

static const struct query_spec specs[QUERY_KIND_MAX + 1] = {
	[QUERY_STATUS] = { "status", opts_json, 1, 1, query_status_run },
	[QUERY_HISTORY] = { "history", opts_json, 1, 1, query_history_run },
	[QUERY_LOT] = { "lot", opts_json, 2, 2, query_lot_run },
	[QUERY_RECONCILE] = { "reconcile", opts_reconcile, 0, 0, query_reconcile_run },
	[QUERY_WHERE] = { "where", opts_where, 0, 0, query_where_run },
	[QUERY_SPC] = { "spc", opts_spc, 0, 0, query_spc_run },
	[QUERY_CHECKPOINT] = { "checkpoint", opts_none, 0, 0, query_checkpoint_run },
	[QUERY_EPCIS_EXPORT] = { "epcis-export", opts_epcis, 0, 0, query_epcis_export_run },
	[QUERY_PROVE] = { "prove", opts_none, 1, 1, query_prove_run },
	[QUERY_EXPORT] = { "export", opts_export, 0, 0, NULL },
};
_Static_assert(QUERY_ARGS_MAX >= 2, "lot takes two arguments");

static const struct query_spec *spec_of(uint8_t kind)
{
	return kind >= 1 && kind <= QUERY_KIND_MAX ? &specs[kind] : NULL;
}

const char *query_kind_name(uint8_t kind)
{
	const struct query_spec *s = spec_of(kind);
	return s != NULL ? s->name : "?";
}

bool query_takes_option(uint8_t kind, const char *name)
{
	const struct query_spec *s = spec_of(kind);
	for (size_t i = 0; s != NULL && s->options[i] != NULL; i++)
		if (strcmp(s->options[i], name) == 0)
			return true;
	return false;
}

int query_params_init(struct query_params *p, uint8_t kind)
{
	memset(p, 0, sizeof *p);
	if (spec_of(kind) == NULL)
		return SL_EVALUE;
	p->kind = kind;
	return 0;
}

/* Copy text[0..len) with a NUL into dst[size]. */
static int text_copy(char *dst, size_t size, const char *text, size_t len)
{
	if (len >= size)
		return SL_EOVERSIZE;
	if (len > 0 && memchr(text, '\0', len) != NULL)
		return SL_EVALUE;
	if (len > 0)
		memcpy(dst, text, len);
	dst[len] = '\0';
	return 0;
}

int query_params_option(struct query_params *p, const char *name, size_t name_len, const char *value,
			size_t value_len)
{
	char copy[QUERY_NAME_BYTES];
	int rc = text_copy(copy, sizeof copy, name, name_len);
	if (rc != 0)
		return rc == SL_EOVERSIZE ? SL_EUNKNOWNFIELD : rc;
	if (!query_takes_option(p->kind, copy))
		return SL_EUNKNOWNFIELD;
	if (query_param(p, copy) != NULL)
		return SL_EDUPFIELD;
	if (p->option_count == QUERY_OPTIONS_MAX)
		return SL_ELIMIT;
	rc = text_copy(p->values[p->option_count], QUERY_VALUE_BYTES, value, value_len);
	if (rc != 0)
		return rc;
	memcpy(p->names[p->option_count], copy, sizeof copy);
	p->option_count++;
	return 0;
}

int query_params_arg(struct query_params *p, const char *value, size_t len)
{
	const struct query_spec *s = spec_of(p->kind);
	assert(s != NULL);
	if (p->arg_count >= s->args_max)
		return SL_ELIMIT;
	int rc = text_copy(p->args[p->arg_count], QUERY_VALUE_BYTES, value, len);
	if (rc == 0)
		p->arg_count++;
	return rc;
}

const char *query_param(const struct query_params *p, const char *name)
{
	for (size_t i = 0; i < p->option_count; i++)
		if (strcmp(p->names[i], name) == 0)
			return p->values[i];
	return NULL;
}

bool query_wants_html(const struct query_params *p)
{
	return query_param(p, "html") != NULL;
}

void query_out_reset(struct query_out *out)
{
	out->exit_code = QUERY_EXIT_OK;
	out->message[0] = '\0';
	memset(out->stats, 0, sizeof out->stats);
}

int query_fail(struct query_out *out, int exit_code, const char *format, ...)
{
	va_list args;
	va_start(args, format);
	vsnprintf(out->message, sizeof out->message, format, args);
	va_end(args);
	out->exit_code = exit_code;
	return exit_code;
}

/* The kind's argument count; the kinds' own functions check the values. */
static int params_check(const struct query_params *p, struct query_out *out)
{
	const struct query_spec *s = spec_of(p->kind);
	if (s == NULL)
		return query_fail(out, QUERY_EXIT_USAGE, "not a query kind: %u", (unsigned)p->kind);
	if (p->arg_count < s->args_min || p->arg_count > s->args_max)
		return query_fail(out, QUERY_EXIT_USAGE, "%s takes %zu argument(s), got %zu", s->name, s->args_min,
				  p->arg_count);
	if (query_wants_html(p) && out->doc[1] == NULL && out->doc[0] != NULL)
		return query_fail(out, QUERY_EXIT_USAGE, "no place for the HTML report");
	return 0;
}

int query_run(const struct query_env *env, const struct query_params *p, struct query_out *out)
{
	query_out_reset(out);
	int rc = params_check(p, out);
	if (rc == 0 && p->kind == QUERY_EXPORT)
		rc = query_fail(out, QUERY_EXIT_USAGE, "export is a stream: query_export_begin");
	if (rc != 0)
		return rc;
	return specs[p->kind].run(env, p, out);
}

int query_check(const struct query_params *p, struct query_out *out)
{
	struct query_env env = { NULL, NULL, { NULL, NULL } };
	FILE *docs[QUERY_DOCS];
	memcpy(docs, out->doc, sizeof docs);
	memset(out->doc, 0, sizeof out->doc); /* a check writes nothing */
	query_out_reset(out);
	int rc = params_check(p, out);
	if (rc == 0 && p->kind == QUERY_EXPORT)
		rc = query_export_check(p, out);
	else if (rc == 0)
		rc = specs[p->kind].run(&env, p, out);
	memcpy(out->doc, docs, sizeof docs);
	return rc;
}

int query_lot_option(const struct query_params *p, struct query_out *out, char gtin[GS1_GTIN_DIGITS + 1],
		     char lot[GS1_LOT_CHARS_MAX + 1])
{
	const char *text = query_param(p, "lot");
	if (text == NULL || strchr(text, '/') == NULL)
		return query_fail(out, QUERY_EXIT_USAGE, "--lot: expected GTIN/LOT, got '%s'", text ? text : "");
	if (query_lot_parse(text, gtin, lot) != 0)
		return query_fail(out, QUERY_EXIT_USAGE, "--lot: '%s' is not a valid GTIN/LOT", text);
	return 0;
}

int query_u64_option(const struct query_params *p, const char *name, uint64_t max, uint64_t *value,
		     struct query_out *out)
{
	const char *text = query_param(p, name);
	if (text == NULL)
		return 0;
	char *end = NULL;
	errno = 0;
	unsigned long long v = text[0] >= '0' && text[0] <= '9' ? strtoull(text, &end, 10) : 0;
	if (end == NULL || errno != 0 || *end != '\0' || v > max)
		return query_fail(out, QUERY_EXIT_USAGE, "--%s: expected a number from 0 to %" PRIu64 ", got '%s'", name,
				  max, text);
	*value = v;
	return 0;
}

int query_site_option(const struct query_params *p, const char **site, struct query_out *out)
{
	const char *text = query_param(p, "site");
	if (text != NULL && !record_site_id_valid(text, strlen(text)))
		return query_fail(out, QUERY_EXIT_USAGE, "--site: '%s' is not a site id", text);
	*site = text;
	return 0;
}

int query_item_arg(const struct query_params *p, size_t i, char id[GS1_ITEM_ID_SIZE], struct query_out *out)
{
	char why[QUERY_MESSAGE_BYTES / 2];
	assert(i < p->arg_count);
	if (query_item_id_parse(p->args[i], id, NULL, why, sizeof why) != 0)
		return query_fail(out, QUERY_EXIT_USAGE, "'%.60s' is not a valid identifier: %s", p->args[i], why);
	return 0;
}
