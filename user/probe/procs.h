/* SPDX-License-Identifier: MIT */
/*
 * Processes, from /proc: which processes run an executable, have a comm,
 * map a shared library; and the path under which their files can be reached
 * from flowprof's own mount namespace. Processes may exit at any moment: a
 * process that vanishes mid-scan is skipped, never an error.
 */
#ifndef FLOWPROF_PROCS_H
#define FLOWPROF_PROCS_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* true if the process exists (a zombie counts as gone). */
bool proc_exists(int pid);

/* A pidfd for pid (-1 where the kernel has none): it tells when a process
 * we did not start exits, even while it is a zombie. */
int proc_open_pidfd(int pid);

/* Has pid exited? Through its pidfd when there is one (>= 0). */
bool proc_has_exited(int pid, int pidfd);

/* Every pid in /proc, ascending. Returns the count; *pids is xmalloc'ed. */
int proc_list(int **pids);

/* /proc/PID/comm without the newline; -1 if the process is gone. */
int proc_comm(int pid, char *buf, size_t len);

/* readlink /proc/PID/exe: the path in the process's own mount namespace
 * (with any " (deleted)" suffix removed). NULL if gone or a kernel thread. */
char *proc_exe(int pid);

/* stat of the executable itself (through /proc/PID/exe). */
int proc_exe_stat(int pid, struct stat *st);

/* true if the process is in another mount namespace than ours. */
bool proc_other_mntns(int pid);

/*
 * A path as the process sees it, turned into one flowprof can open and
 * attach to: the path itself in our mount namespace, else
 * "/proc/PID/root<path>". xmalloc'ed.
 */
char *proc_path_from_ours(int pid, const char *path);

/* The executable of a process as a path from our mount namespace; NULL if gone. */
char *proc_exe_from_ours(int pid);

/* Processes whose executable is the file (dev, ino), ascending; the count,
 * *pids xmalloc'ed (NULL when 0). Symlinks and other spellings of the path
 * do not matter, nor do mount namespaces. */
int procs_by_file(dev_t dev, ino_t ino, int **pids);

/* Processes whose comm equals comm (the kernel keeps 15 characters: a longer
 * comm is compared on its first 15). Same return convention. */
int procs_by_comm(const char *comm, int **pids);

/*
 * A shared library mapped by pid, from /proc/PID/maps, as the process sees
 * its path. name is either an absolute path (matched as a path, or as the
 * same file by inode), or a file name: "libshopdb.so" matches a mapped file
 * whose base name is "libshopdb.so", starts with "libshopdb.so." (versions:
 * libshopdb.so.1.2), or -- for a name ending in ".so" -- starts with
 * "libshopdb-" and continues with ".so" somewhere (libshopdb-2.1.so).
 * NULL if none or the process is gone.
 */
char *proc_find_library(int pid, const char *name);

/*
 * A path that opens exactly the file a process runs or maps, whatever a
 * path to it points at now (a binary replaced on disk, a directory swapped
 * for a symlink inside a container's root): "/proc/PID/exe" for its
 * executable, "/proc/PID/map_files/START-END" for a mapped file (path as the
 * process sees it, from /proc/PID/maps). NULL if the process or the mapping
 * is gone. xmalloc'ed.
 */
char *proc_exe_handle(int pid);
char *proc_mapping_handle(int pid, const char *path);

/* The first mapped file whose base name starts with prefix and holds ".so"
 * ("libpython" finds libpython3.11.so.1.0). NULL if none or gone. */
char *proc_find_library_prefix(int pid, const char *prefix);

/* The command line of a process: the count, *argv xmalloc'ed (free with
 * proc_cmdline_free); -1 if the process is gone. */
int proc_cmdline(int pid, char ***argv);
void proc_cmdline_free(char **argv, int n);

/* The value of an environment variable of a process (xmalloc'ed), or NULL. */
char *proc_getenv(int pid, const char *name);

/* Busy CPU time of the whole host since boot, in seconds (/proc/stat: user,
 * nice, system, irq and softirq time of every CPU), less flowprof's own CPU
 * time (the observer's). -1 if unreadable. */
double host_cpu_busy_seconds(void);

/* flowprof's own CPU time so far, user and system, in seconds (0 if
 * unreadable). */
double self_cpu_seconds(void);

/* Busy time of each CPU since boot, in seconds: its tasks' user, nice and
 * system time (interrupts left out, unlike host_cpu_busy_seconds; flowprof's
 * own time included: it is not known per CPU):
 * busy[i] for CPU i, -1 where /proc/stat has no line for it. Returns 0,
 * or -1 if unreadable. */
int cpus_busy_each(double *busy, int n);

/* The CPUs process pid's main thread may run on (its affinity, which its
 * cgroup's cpuset bounds, and which new threads inherit). 0, or -1. */
int proc_cpus_allowed(int pid, cpu_set_t *set);

/* CPU time the process has used so far, all its threads (the dead ones
 * too), in seconds: utime + stime of /proc/PID/stat. -1 if gone. */
double proc_cpu_seconds(int pid);

/* The times the process's live threads went to sleep (voluntary context
 * switches, /proc/PID/task/TID/status): threads that exited are not in it.
 * -1 if gone. */
long long proc_voluntary_switches(int pid);
/* The threads of process pid named name (their comm), -1 if it is gone. */
int proc_threads_named(int pid, const char *name);

/*
 * The CPUs a process may use: the fewest of its affinity mask, its cgroup's
 * cpuset.cpus.effective and its cgroup's (and ancestors') cpu.max quota
 * over period. *cpus gets the count (a quota may make it fractional),
 * source says which limit decided ("affinity", "cgroup cpuset",
 * "cgroup cpu.max 50000/100000"), group names what it is shared with (the
 * cgroup path and the affinity mask: processes with the same group share
 * those CPUs). Returns 0, or -1 if the process is gone.
 */
int proc_cpu_limit(int pid, double *cpus, char *source, size_t srclen, char *group,
		   size_t grouplen);

/* true if a file's base name matches a library name as above. */
bool library_name_matches(const char *basename, const char *name);

#endif
