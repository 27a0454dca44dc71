/* cli/args.c — option parsing, help text, error reporting and JSON string output for the CLI.
 *
 * Options are "--name value", "--name=value" or "--name" (flags); everything else is positional;
 * "--" ends options. Every command also takes the common options below.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const struct cli_option_spec common_options[] = {
	{ "data", "DIR", false, "local single-site ledger directory (embedded mode, no daemon)" },
	{ "json", NULL, false, "machine-readable output (one JSON document on stdout)" },
	{ "help", NULL, false, "show this help" },
};
#define COMMON_OPTION_COUNT (sizeof(common_options) / sizeof(common_options[0]))

static const char *current_command = "siteledger";

void cli_set_command_name(const char *name)
{
	current_command = name;
}

int cli_fail(const char *format, ...)
{
	va_list args;
	fprintf(stderr, "siteledger: %s: ", current_command);
	va_start(args, format);
	vfprintf(stderr, format, args);
	va_end(args);
	fputc('\n', stderr);
	return CLI_EXIT_USAGE;
}

static const struct cli_option_spec *spec_at(const struct cli_command *command, size_t index)
{
	if (index < COMMON_OPTION_COUNT)
		return &common_options[index];
	return &command->options[index - COMMON_OPTION_COUNT];
}

static size_t spec_count(const struct cli_command *command)
{
	size_t count = 0;
	while (command->options != NULL && command->options[count].name != NULL)
		count++;
	return COMMON_OPTION_COUNT + count;
}

static int spec_find(const struct cli_command *command, const char *name, size_t name_len)
{
	size_t count = spec_count(command);
	for (size_t i = 0; i < count; i++) {
		const char *spec_name = spec_at(command, i)->name;
		if (strlen(spec_name) == name_len && memcmp(spec_name, name, name_len) == 0)
			return (int)i;
	}
	return -1;
}

void cli_command_help(const struct cli_command *command, FILE *out)
{
	fprintf(out, "usage: siteledger %s %s\n\n%s\n\noptions:\n", command->name, command->synopsis,
		command->summary);
	size_t count = spec_count(command);
	for (size_t i = 0; i < count; i++) {
		const struct cli_option_spec *spec = spec_at(command, i);
		char left[64];
		snprintf(left, sizeof left, "--%s%s%s", spec->name, spec->metavar ? " " : "",
			 spec->metavar ? spec->metavar : "");
		fprintf(out, "  %-24s %s%s\n", left, spec->help, spec->repeatable ? " (repeatable)" : "");
	}
	fprintf(out, "\nexit status: 0 accepted or done, 1 rejected by a lifecycle rule, 2 usage or input error\n");
}

static int option_add(const struct cli_command *command, struct cli_args *args, int spec_index, const char *value)
{
	const struct cli_option_spec *spec = spec_at(command, (size_t)spec_index);
	if (!spec->repeatable) {
		for (size_t i = 0; i < args->option_count; i++)
			if (args->option_spec[i] == (unsigned)spec_index)
				return cli_fail("--%s given twice", spec->name);
	}
	if (args->option_count >= CLI_ARGS_MAX)
		return cli_fail("too many arguments (at most %d)", CLI_ARGS_MAX);
	args->option_spec[args->option_count] = (unsigned)spec_index;
	args->option_name[args->option_count] = spec->name;
	args->option_value[args->option_count] = value;
	args->option_count++;
	return 0;
}

int cli_args_parse(const struct cli_command *command, int argc, char **argv, struct cli_args *args)
{
	memset(args, 0, sizeof(*args));
	bool options_done = false;
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		if (options_done || strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
			if (!options_done && strcmp(arg, "--") == 0) {
				options_done = true;
				continue;
			}
			if (args->positional_count >= CLI_ARGS_MAX)
				return cli_fail("too many arguments (at most %d)", CLI_ARGS_MAX);
			args->positional[args->positional_count++] = arg;
			continue;
		}
		const char *name = arg + 2;
		const char *equals = strchr(name, '=');
		size_t name_len = equals ? (size_t)(equals - name) : strlen(name);
		int spec_index = spec_find(command, name, name_len);
		if (spec_index < 0)
			return cli_fail("unknown option --%.*s (see 'siteledger %s --help')", (int)name_len, name,
					command->name);
		const struct cli_option_spec *spec = spec_at(command, (size_t)spec_index);
		if (strcmp(spec->name, "help") == 0) {
			cli_command_help(command, stdout);
			return 1;
		}
		const char *value = NULL;
		if (spec->metavar != NULL) {
			if (equals != NULL)
				value = equals + 1;
			else if (i + 1 < argc)
				value = argv[++i];
			else
				return cli_fail("--%s needs a value (%s)", spec->name, spec->metavar);
		} else if (equals != NULL) {
			return cli_fail("--%s takes no value", spec->name);
		}
		int rc = option_add(command, args, spec_index, value);
		if (rc != 0)
			return rc;
	}
	return 0;
}

size_t cli_arg_count(const struct cli_args *args, const char *name)
{
	size_t count = 0;
	for (size_t i = 0; i < args->option_count; i++)
		if (strcmp(args->option_name[i], name) == 0)
			count++;
	return count;
}

const char *cli_arg_nth(const struct cli_args *args, const char *name, size_t n)
{
	for (size_t i = 0; i < args->option_count; i++) {
		if (strcmp(args->option_name[i], name) != 0)
			continue;
		if (n == 0)
			return args->option_value[i];
		n--;
	}
	return NULL;
}

const char *cli_arg(const struct cli_args *args, const char *name)
{
	const char *value = NULL;
	for (size_t i = 0; i < args->option_count; i++)
		if (strcmp(args->option_name[i], name) == 0)
			value = args->option_value[i];
	return value;
}

bool cli_flag(const struct cli_args *args, const char *name)
{
	return cli_arg_count(args, name) > 0;
}

int cli_parse_u64(const char *option, const char *text, uint64_t max, uint64_t *out)
{
	char *end = NULL;
	errno = 0;
	if (text == NULL || text[0] < '0' || text[0] > '9')
		return cli_fail("--%s: expected a number, got '%s'", option, text ? text : "");
	unsigned long long value = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || value > max)
		return cli_fail("--%s: expected a number from 0 to %" PRIu64 ", got '%s'", option, max, text);
	*out = value;
	return 0;
}

void cli_json_string(FILE *out, const char *text, size_t len)
{
	query_json_string(out, text, len);
}

void cli_json_cstring(FILE *out, const char *text)
{
	query_json_cstring(out, text);
}

void cli_json_hex(FILE *out, const uint8_t *bytes, size_t len)
{
	query_json_hex(out, bytes, len);
}
