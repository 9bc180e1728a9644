/* SPDX-License-Identifier: MIT */
/*
 * The command line: the subcommands, the exit codes and the capability
 * check (commands.h). Code outside user/cmd/ includes this header only.
 */
#ifndef FLOWPROF_CMD_H
#define FLOWPROF_CMD_H

#include "commands.h"

#endif
