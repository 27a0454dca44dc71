/* cli/cmd_events.h — `siteledger events --node-events ADDR`: subscribe to a siteledgerd node's
 * events (docs/operations.md "Events"; code in cli/cmd_events.c). Kept out of cli.h so the command
 * table needs one include and one row. */
#ifndef SL_CLI_CMD_EVENTS_H
#define SL_CLI_CMD_EVENTS_H

#include "cli/cli.h"

extern const struct cli_option_spec cli_events_options[];
int cli_cmd_events(const struct cli_command *command, struct cli_args *args);

#endif
