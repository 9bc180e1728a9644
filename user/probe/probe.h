/* SPDX-License-Identifier: MIT */
/*
 * Stage 2, probe: what to probe, found in the running system. Processes
 * (procs.h), ELF symbols (elf_symbols.h), USDT notes (usdt.h), probe-site
 * classes (site_class.h) and the resolution of a flow file's handlers to
 * probe points (resolve.h). Code outside user/probe/ includes this header
 * only.
 */
#ifndef FLOWPROF_PROBE_H
#define FLOWPROF_PROBE_H

#include "site_class.h"
#include "procs.h"
#include "elf_symbols.h"
#include "usdt.h"
#include "resolve.h"
#include "exit_sites.h"

#endif
