/*
** sandbox.h -- the command line's sandbox options (--sandbox, --memory,
** --time, --instructions) and its watchdog.
*/
#ifndef TALLY_CLI_SANDBOX_H
#define TALLY_CLI_SANDBOX_H

#include "tally_sandbox.h"

/* Takes the sandbox options out of argv (those before the script name),
** and fills *limits with them over the defaults. Returns 1 when the run is
** sandboxed (any of the options given), 0 when not, -1 on a bad option
** (after a message on stderr). */
int cli_sandbox_args(int *argc, char **argv, tally_limits *limits);

/* Ends the process with the time limit's message when the script is still
** running a second after its time limit: a C function (a long scan, a
** pattern match) never returns to the VM, where the limit is checked. */
void cli_sandbox_watchdog(const char *progname, const tally_limits *limits);

#endif
