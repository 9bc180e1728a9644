// SPDX-License-Identifier: MIT
/*
 * Processes from /proc. Every read can fail because the process has just
 * exited; callers treat that as "not one of ours" rather than an error.
 */
#include "procs.h"

#include <sched.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/base.h"

#define DELETED_SUFFIX " (deleted)"

bool proc_exists(int pid)
{
	char path[64], state = 0;
	char *stat, *p;

	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	stat = read_file(path, NULL);
	if (!stat)
		return false;
	/* "pid (comm) S ...": the comm may hold ')' itself, the last one ends it. */
	p = strrchr(stat, ')');
	if (p && p[1] == ' ')
		state = p[2];
	free(stat);
	return state != 0 && state != 'Z' && state != 'X';
}

static int int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

int proc_list(int **pids)
{
	size_t cap = 0, n = 0;
	struct dirent *de;
	DIR *d;

	*pids = NULL;
	d = opendir("/proc");
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0 || pid > INT_MAX)
			continue;
		grow_array((void **)pids, &cap, n + 1, sizeof(**pids));
		(*pids)[n++] = (int)pid;
	}
	closedir(d);
	if (n)
		qsort(*pids, n, sizeof(**pids), int_cmp);
	return (int)n;
}

/* A comm file (/proc/PID/comm, /proc/PID/task/TID/comm) without its newline. */
static int read_comm(const char *path, char *buf, size_t len)
{
	char *s;
	size_t n;

	s = read_file(path, &n);
	if (!s)
		return -1;
	if (n && s[n - 1] == '\n')
		s[--n] = '\0';
	snprintf(buf, len, "%s", s);
	free(s);
	return 0;
}

int proc_comm(int pid, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	return read_comm(path, buf, len);
}

char *proc_exe(int pid)
{
	char path[64], target[PATH_MAX + sizeof(DELETED_SUFFIX)];
	ssize_t n;
	size_t sl = strlen(DELETED_SUFFIX);

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return NULL;
	target[n] = '\0';
	if ((size_t)n > sl && strcmp(target + n - sl, DELETED_SUFFIX) == 0)
		target[n - sl] = '\0';
	return xstrdup(target);
}

int proc_exe_stat(int pid, struct stat *st)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	return stat(path, st);
}

bool proc_other_mntns(int pid)
{
	struct stat ours, theirs;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
	if (stat("/proc/self/ns/mnt", &ours) < 0 || stat(path, &theirs) < 0)
		return false;
	return ours.st_dev != theirs.st_dev || ours.st_ino != theirs.st_ino;
}

char *proc_path_from_ours(int pid, const char *path)
{
	if (proc_other_mntns(pid))
		return xasprintf("/proc/%d/root%s%s", pid, path[0] == '/' ? "" : "/", path);
	return xstrdup(path);
}

char *proc_exe_from_ours(int pid)
{
	char *exe = proc_exe(pid), *out;

	if (!exe)
		return NULL;
	out = proc_path_from_ours(pid, exe);
	free(exe);
	return out;
}

int procs_by_file(dev_t dev, ino_t ino, int **pids)
{
	int *all, n_all, i, n = 0;
	size_t cap = 0;

	*pids = NULL;
	n_all = proc_list(&all);
	for (i = 0; i < n_all; i++) {
		struct stat st;

		if (proc_exe_stat(all[i], &st) < 0)
			continue; /* gone, a kernel thread, or not ours to see */
		if (st.st_dev != dev || st.st_ino != ino)
			continue;
		grow_array((void **)pids, &cap, (size_t)n + 1, sizeof(**pids));
		(*pids)[n++] = all[i];
	}
	free(all);
	return n;
}

int procs_by_comm(const char *comm, int **pids)
{
	int *all, n_all, i, n = 0;
	size_t cap = 0;

	*pids = NULL;
	n_all = proc_list(&all);
	for (i = 0; i < n_all; i++) {
		char c[64];

		if (proc_comm(all[i], c, sizeof(c)) < 0)
			continue;
		/* TASK_COMM_LEN is 16: the kernel keeps 15 characters. */
		if (strncmp(c, comm, 15) != 0 || (strlen(comm) < 15 && strcmp(c, comm) != 0))
			continue;
		if (!proc_exists(all[i]))
			continue;
		grow_array((void **)pids, &cap, (size_t)n + 1, sizeof(**pids));
		(*pids)[n++] = all[i];
	}
	free(all);
	return n;
}

bool library_name_matches(const char *base, const char *name)
{
	size_t nl = strlen(name);

	if (strcmp(base, name) == 0)
		return true;
	if (strncmp(base, name, nl) == 0 && base[nl] == '.')
		return true;	/* libfoo.so.1.2 */
	if (nl > 3 && strcmp(name + nl - 3, ".so") == 0) {
		size_t stem = nl - 3;	/* "libfoo" */

		if (strncmp(base, name, stem) == 0 && base[stem] == '-' && strstr(base + stem, ".so"))
			return true;	/* libfoo-2.1.so, libfoo-2.1.so.0 */
	}
	return false;
}

/* Either a library name as in proc_find_library(), or (prefix) the start of
 * a base name that also holds ".so". */
static bool library_matches(const char *base, const char *name, bool prefix)
{
	if (prefix)
		return strncmp(base, name, strlen(name)) == 0 && strstr(base, ".so") != NULL;
	return library_name_matches(base, name);
}

static char *find_mapped(int pid, const char *name, bool prefix)
{
	char path[64], *maps, *line, *save = NULL, *found = NULL;
	struct stat want;
	bool by_inode = false;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	maps = read_file(path, NULL);
	if (!maps)
		return NULL;
	if (name[0] == '/' && stat(name, &want) == 0)
		by_inode = true;
	for (line = strtok_r(maps, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long ino = 0;
		unsigned int maj = 0, min = 0;
		int pos = 0;
		char *file, *base;
		size_t fl;

		/* address perms offset dev inode pathname */
		if (sscanf(line, "%*s %*s %*s %x:%x %llu %n", &maj, &min, &ino, &pos) < 3 || !pos)
			continue;
		file = line + pos;
		while (*file == ' ')
			file++;
		if (file[0] != '/')
			continue;
		fl = strlen(file);
		if (fl > strlen(DELETED_SUFFIX) &&
		    strcmp(file + fl - strlen(DELETED_SUFFIX), DELETED_SUFFIX) == 0)
			file[fl - strlen(DELETED_SUFFIX)] = '\0';
		if (name[0] == '/') {
			if (strcmp(file, name) == 0 || (by_inode && ino == (unsigned long long)want.st_ino &&
							   makedev(maj, min) == want.st_dev))
				found = xstrdup(file);
			continue;
		}
		base = strrchr(file, '/') + 1;
		if (library_matches(base, name, prefix))
			found = xstrdup(file);
	}
	free(maps);
	return found;
}

char *proc_find_library(int pid, const char *name)
{
	return find_mapped(pid, name, false);
}

char *proc_find_library_prefix(int pid, const char *prefix)
{
	return find_mapped(pid, prefix, true);
}

char *proc_exe_handle(int pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	return access(path, F_OK) ? NULL : xstrdup(path);
}

char *proc_mapping_handle(int pid, const char *path)
{
	char maps[64], line[4096 + 128], *found = NULL;
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
	f = fopen(maps, "re");
	if (!f)
		return NULL;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		int at = 0;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &at) != 2 || !at)
			continue;
		if (!strcmp(line + at, path))
			found = xasprintf("/proc/%d/map_files/%lx-%lx", pid, lo, hi);
	}
	fclose(f);
	return found;
}

int proc_cmdline(int pid, char ***argv)
{
	char path[64], *buf, *p;
	size_t len = 0, cap = 0;
	int n = 0;

	*argv = NULL;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	buf = read_file(path, &len);
	if (!buf)
		return -1;
	for (p = buf; p < buf + len; p += strlen(p) + 1) {
		grow_array((void **)argv, &cap, (size_t)n + 2, sizeof(**argv));
		(*argv)[n++] = xstrdup(p);
	}
	free(buf);
	return n;
}

void proc_cmdline_free(char **argv, int n)
{
	for (int i = 0; i < n; i++)
		free(argv[i]);
	free(argv);
}

char *proc_getenv(int pid, const char *name)
{
	char path[64], *buf, *p, *found = NULL;
	size_t len = 0, nl = strlen(name);

	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	buf = read_file(path, &len);
	if (!buf)
		return NULL;
	for (p = buf; p < buf + len && !found; p += strlen(p) + 1)
		if (strncmp(p, name, nl) == 0 && p[nl] == '=')
			found = xstrdup(p + nl + 1);
	free(buf);
	return found;
}

int proc_open_pidfd(int pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

bool proc_has_exited(int pid, int pidfd)
{
	if (pidfd >= 0) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };

		return poll(&p, 1, 0) > 0;
	}
	return kill(pid, 0) && errno == ESRCH;
}

double proc_cpu_seconds(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	long hz = sysconf(_SC_CLK_TCK);
	struct timespec ts;
	clockid_t clock;
	FILE *f;
	size_t n;

	/* The process's CPU clock: the scheduler's own sum in ns, exited threads
	 * included. /proc/PID/stat counts clock ticks: 10 ms steps are 2 % of
	 * a second's work at half a CPU, enough to move a predicted ceiling. */
	if (!clock_getcpuclockid(pid, &clock) && !clock_gettime(clock, &ts))
		return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* after the comm, which may hold spaces and parentheses */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
			 &st) != 2)
		return -1;
	return (double)(ut + st) / (double)(hz > 0 ? hz : 100);
}

/*
 * Calls fn with the path of each thread's LEAF file (/proc/PID/task/TID/LEAF)
 * and ctx; a thread gone meanwhile is fn's to skip (its file will not
 * open). -1 when the process is gone, else 0.
 */
static int for_each_thread_file(int pid, const char *leaf, void (*fn)(const char *file, void *ctx),
				void *ctx)
{
	char path[64];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		char file[300];

		if (d->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "/proc/%d/task/%s/%s", pid, d->d_name, leaf);
		fn(file, ctx);
	}
	closedir(dir);
	return 0;
}

struct named {
	const char *name;
	int n;
};

static void count_named(const char *file, void *ctx)
{
	struct named *c = ctx;
	char comm[64];

	c->n += !read_comm(file, comm, sizeof(comm)) && !strcmp(comm, c->name);
}

int proc_threads_named(int pid, const char *name)
{
	struct named c = { .name = name };

	return for_each_thread_file(pid, "comm", count_named, &c) ? -1 : c.n;
}

static void add_voluntary_switches(const char *file, void *ctx)
{
	long long *sum = ctx, v;
	char line[128];
	FILE *f = fopen(file, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "voluntary_ctxt_switches: %lld", &v) == 1) {
			*sum += v;
			break;
		}
	fclose(f);
}

long long proc_voluntary_switches(int pid)
{
	long long sum = 0;

	return for_each_thread_file(pid, "status", add_voluntary_switches, &sum) ? -1 : sum;
}

/* Bits set in a cpu list such as "0-3,8,10-11". */
static int cpu_list_count(const char *s)
{
	int n = 0;

	while (*s && *s != '\n') {
		char *end;
		long a = strtol(s, &end, 10), b = a;

		if (end == s)
			break;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		n += b >= a ? (int)(b - a + 1) : 0;
		s = *end == ',' ? end + 1 : end;
	}
	return n;
}

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return -1;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Where a cgroup hierarchy is mounted: cgroup2 (controller NULL) or the
 * cgroup v1 hierarchy that has controller among its options. */
static bool cgroup_mount(const char *controller, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	char line[4096];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char dev[256], dir[2048], type[64], opts[1024];

		if (sscanf(line, "%255s %2047s %63s %1023s", dev, dir, type, opts) != 4)
			continue;
		if (!controller && !strcmp(type, "cgroup2")) {
			found = true;
		} else if (controller && !strcmp(type, "cgroup")) {
			for (char *o = strtok(opts, ","); o && !found; o = strtok(NULL, ","))
				found = !strcmp(o, controller);
		}
		if (found)
			snprintf(out, len, "%s", dir);
	}
	fclose(f);
	return found;
}

/* The process's cgroup path in the hierarchy of controller (NULL: v2). */
static bool proc_cgroup_path(int pid, const char *controller, char *out, size_t len)
{
	char path[64], line[4096];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2)
			continue;
		*c2 = '\0';
		if (!controller) {
			found = c2 == c1 + 1; /* "0::/path" */
		} else {
			for (char *o = strtok(c1 + 1, ","); o && !found; o = strtok(NULL, ","))
				found = !strcmp(o, controller);
		}
		if (found) {
			snprintf(out, len, "%s", c2 + 1);
			out[strcspn(out, "\n")] = '\0';
		}
	}
	fclose(f);
	return found;
}

/* The tightest CPU quota from dir up to the hierarchy's root: v2's cpu.max
 * ("max 100000" or "QUOTA PERIOD"), v1's cpu.cfs_quota_us / cpu.cfs_period_us. */
static void tightest_quota(const char *mnt, const char *cg, bool v2, double *best, char *source,
			   size_t srclen)
{
	char dir[4096], path[8300], line[256], period_line[256];

	snprintf(dir, sizeof(dir), "%s", cg);
	for (;;) {
		const char *d = strcmp(dir, "/") ? dir : "";
		long long quota = -1, period = 0;

		if (v2) {
			snprintf(path, sizeof(path), "%s%s/cpu.max", mnt, d);
			if (!read_line(path, line, sizeof(line)) &&
			    sscanf(line, "%lld %lld", &quota, &period) != 2)
				quota = -1;
		} else {
			snprintf(path, sizeof(path), "%s%s/cpu.cfs_quota_us", mnt, d);
			if (!read_line(path, line, sizeof(line))) {
				snprintf(path, sizeof(path), "%s%s/cpu.cfs_period_us", mnt, d);
				if (!read_line(path, period_line, sizeof(period_line))) {
					quota = atoll(line);
					period = atoll(period_line);
				}
			}
		}
		if (quota > 0 && period > 0 && (double)quota / (double)period < *best) {
			*best = (double)quota / (double)period;
			snprintf(source, srclen, "cgroup %s %lld/%lld", v2 ? "cpu.max" : "cpu.cfs_quota_us",
				 quota, period);
		}
		{
			char *slash = strrchr(dir, '/');

			if (!slash || slash == dir)
				break;
			*slash = '\0';
		}
	}
}

int proc_cpu_limit(int pid, double *cpus, char *source, size_t srclen, char *group,
		   size_t grouplen)
{
	char mnt[2048], cg[4096] = "", cpuset_cg[4096] = "", path[8300], line[4096], aff[256];
	cpu_set_t set;
	double best;

	CPU_ZERO(&set);
	if (sched_getaffinity(pid, sizeof(set), &set))
		return -1;
	best = CPU_COUNT(&set);
	snprintf(source, srclen, "affinity");
	aff[0] = '\0';
	for (int c = 0, first = -1; c <= CPU_SETSIZE; c++) {
		bool on = c < CPU_SETSIZE && CPU_ISSET(c, &set);

		if (on && first < 0)
			first = c;
		if (!on && first >= 0) {
			size_t l = strlen(aff);

			snprintf(aff + l, sizeof(aff) - l, "%s%d-%d", l ? "," : "", first, c - 1);
			first = -1;
		}
	}
	/* cpusets: v1's cpuset hierarchy, else v2's */
	if (cgroup_mount("cpuset", mnt, sizeof(mnt)) &&
	    proc_cgroup_path(pid, "cpuset", cpuset_cg, sizeof(cpuset_cg))) {
		snprintf(path, sizeof(path), "%s%s/cpuset.effective_cpus", mnt,
			 strcmp(cpuset_cg, "/") ? cpuset_cg : "");
		if (read_line(path, line, sizeof(line))) {
			snprintf(path, sizeof(path), "%s%s/cpuset.cpus", mnt,
				 strcmp(cpuset_cg, "/") ? cpuset_cg : "");
			if (read_line(path, line, sizeof(line)))
				line[0] = '\0';
		}
	} else if (cgroup_mount(NULL, mnt, sizeof(mnt)) &&
		   proc_cgroup_path(pid, NULL, cpuset_cg, sizeof(cpuset_cg))) {
		snprintf(path, sizeof(path), "%s%s/cpuset.cpus.effective", mnt,
			 strcmp(cpuset_cg, "/") ? cpuset_cg : "");
		if (read_line(path, line, sizeof(line)))
			line[0] = '\0';
	} else {
		line[0] = '\0';
	}
	if (line[0]) {
		int n = cpu_list_count(line);

		if (n > 0 && n < best) {
			best = n;
			snprintf(source, srclen, "cgroup cpuset %s", line);
		}
	}
	/* quotas: v1's cpu hierarchy, else v2's cpu.max */
	if (cgroup_mount("cpu", mnt, sizeof(mnt)) && proc_cgroup_path(pid, "cpu", cg, sizeof(cg)))
		tightest_quota(mnt, cg, false, &best, source, srclen);
	else if (cgroup_mount(NULL, mnt, sizeof(mnt)) && proc_cgroup_path(pid, NULL, cg, sizeof(cg)))
		tightest_quota(mnt, cg, true, &best, source, srclen);
	*cpus = best;
	snprintf(group, grouplen, "%s|%s|%s", cg, cpuset_cg, aff);
	return 0;
}

double self_cpu_seconds(void)
{
	struct rusage u;

	if (getrusage(RUSAGE_SELF, &u))
		return 0;
	return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 +
	       (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
}

double host_cpu_busy_seconds(void)
{
	unsigned long long user, nice, sys, idle, iowait, irq, softirq;
	long hz = sysconf(_SC_CLK_TCK);
	char line[512];
	FILE *f = fopen("/proc/stat", "re");
	bool ok;

	if (!f)
		return -1;
	ok = fgets(line, sizeof(line), f) &&
	     sscanf(line, "cpu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &sys, &idle,
		    &iowait, &irq, &softirq) == 7;
	fclose(f);
	if (!ok)
		return -1;
	/* flowprof's own time (its calibration, reading the maps) is the
	 * observer's, gone once it stops: not a load on the service's CPUs */
	return (double)(user + nice + sys + irq + softirq) / (double)(hz > 0 ? hz : 100) -
	       self_cpu_seconds();
}

int cpus_busy_each(double *busy, int n)
{
	long hz = sysconf(_SC_CLK_TCK);
	char line[512];
	FILE *f = fopen("/proc/stat", "re");
	int got = 0;

	if (!f)
		return -1;
	for (int i = 0; i < n; i++)
		busy[i] = -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long user, nice, sys;
		int cpu;

		if (strncmp(line, "cpu", 3) || !isdigit((unsigned char)line[3]))
			continue;
		/* tasks' time only (user, nice, system): interrupts there are
		 * mostly the service's own I/O (an event loop pinned to a CPU:
		 * 7-9 % of it in softirq, which its CPU clock leaves out), not
		 * other load */
		if (sscanf(line, "cpu%d %llu %llu %llu", &cpu, &user, &nice, &sys) != 4 || cpu < 0 ||
		    cpu >= n)
			continue;
		busy[cpu] = (double)(user + nice + sys) / (double)(hz > 0 ? hz : 100);
		got++;
	}
	fclose(f);
	return got ? 0 : -1;
}

int proc_cpus_allowed(int pid, cpu_set_t *set)
{
	return sched_getaffinity(pid, sizeof(*set), set) ? -1 : 0;
}
