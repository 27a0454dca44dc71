/* cli/cmd_epcis.h — `siteledger epcis import|export|hash`: the EPCIS interoperability command
 * (code in cli/cmd_epcis.c, EPCIS itself in epcis/). Kept out of cli.h so the command table needs
 * one include and one row. */
#ifndef SL_CLI_CMD_EPCIS_H
#define SL_CLI_CMD_EPCIS_H

#include "cli/cli.h"

extern const struct cli_option_spec cli_epcis_options[];
int cli_cmd_epcis(const struct cli_command *command, struct cli_args *args);

#endif
