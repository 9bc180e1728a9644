// SPDX-License-Identifier: MIT
/* Who a command that flowprof starts runs as: see run_as.h. */
#include "run_as.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/base.h"

extern char **environ;

/* A decimal id ("1000"), as the SUDO_* variables and numeric --user hold. */
static bool parse_id(const char *s, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v >= (unsigned long)(uid_t)-1)
		return false;
	*out = v;
	return true;
}

/* A user by name, or by number when no user has that name (as chown). */
static struct passwd *user_entry(const char *s)
{
	struct passwd *pw = *s ? getpwnam(s) : NULL;
	unsigned long id;

	if (!pw && parse_id(s, &id))
		pw = getpwuid((uid_t)id);
	return pw;
}

static struct group *group_entry(const char *s)
{
	struct group *gr = *s ? getgrnam(s) : NULL;
	unsigned long id;

	if (!gr && parse_id(s, &id))
		gr = getgrgid((gid_t)id);
	return gr;
}

static bool env_is(const char *entry, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(entry, name, n) && entry[n] == '=';
}

/* flowprof's environment, with HOME, USER and LOGNAME of the user: a
 * program that looks for its configuration in $HOME must not find root's. */
static char **user_environ(const struct passwd *pw)
{
	size_t n = 0, k = 0;
	char **envp;

	while (environ && environ[n])
		n++;
	envp = xcalloc(n + 4, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		if (!env_is(environ[i], "HOME") && !env_is(environ[i], "USER") &&
		    !env_is(environ[i], "LOGNAME"))
			envp[k++] = xstrdup(environ[i]);
	envp[k++] = xasprintf("HOME=%s", pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/");
	envp[k++] = xasprintf("USER=%s", pw->pw_name);
	envp[k++] = xasprintf("LOGNAME=%s", pw->pw_name);
	envp[k] = NULL;
	return envp;
}

/* The switch to pw's user with primary group gid, and the groups
 * initgroups() would give it: its own in /etc/group, and gid. */
static void switch_to(struct run_as *ra, const struct passwd *pw, gid_t gid, const char *group)
{
	int n = 16;

	ra->drop = true;
	ra->uid = pw->pw_uid;
	ra->gid = gid;
	ra->label = group ? xasprintf("%s:%s", pw->pw_name, group) : xstrdup(pw->pw_name);
	ra->groups = xcalloc((size_t)n, sizeof(gid_t));
	for (;;) {
		int want = n;

		if (getgrouplist(pw->pw_name, gid, ra->groups, &want) >= 0) {
			ra->n_groups = want;
			break;
		}
		n = want > n ? want : n * 2; /* want: how many there are */
		ra->groups = xrealloc(ra->groups, (size_t)n * sizeof(gid_t));
	}
	ra->envp = user_environ(pw);
}

static int from_option(struct run_as *ra, const char *spec, char *err, size_t errlen)
{
	char *user = xstrdup(spec), *group = strchr(user, ':');
	struct passwd *pw;
	struct group *gr = NULL;
	int rc = -1;

	if (group)
		*group++ = '\0';
	pw = user_entry(user);
	if (!pw) {
		if (group)
			snprintf(err, errlen, "--user %s: no such user '%s'", spec, user);
		else
			snprintf(err, errlen, "--user %s: no such user", spec);
		goto cleanup;
	}
	if (group && !(gr = group_entry(group))) {
		snprintf(err, errlen, "--user %s: no such group '%s'", spec, group);
		goto cleanup;
	}
	switch_to(ra, pw, gr ? gr->gr_gid : pw->pw_gid, gr ? gr->gr_name : NULL);
	rc = 0;

cleanup:
	free(user);
	return rc;
}

/* sudo's invoking user: SUDO_UID (named by SUDO_USER when that name is
 * the same user), with SUDO_GID as its group. */
static int from_sudo(struct run_as *ra, char *err, size_t errlen)
{
	const char *uid_s = getenv("SUDO_UID"), *gid_s = getenv("SUDO_GID");
	const char *name = getenv("SUDO_USER");
	unsigned long uid, gid;
	struct passwd *pw;

	if (!parse_id(uid_s, &uid)) {
		snprintf(err, errlen, "SUDO_UID=%s is not a user id: name the user to run the "
			 "command as with --user USER", uid_s);
		return -1;
	}
	if (gid_s && !parse_id(gid_s, &gid)) {
		snprintf(err, errlen, "SUDO_GID=%s is not a group id: name the user to run the "
			 "command as with --user USER[:GROUP]", gid_s);
		return -1;
	}
	pw = name ? getpwnam(name) : NULL;
	if (!pw || pw->pw_uid != (uid_t)uid)
		pw = getpwuid((uid_t)uid);
	if (!pw) {
		snprintf(err, errlen, "SUDO_UID=%lu: no such user: name the user to run the "
			 "command as with --user USER", uid);
		return -1;
	}
	if (uid == 0) { /* sudo run by root: root it is */
		ra->root_by_default = true;
		return 0;
	}
	switch_to(ra, pw, gid_s ? (gid_t)gid : pw->pw_gid, NULL);
	return 0;
}

int run_as_resolve(struct run_as *ra, const char *spec, char *err, size_t errlen)
{
	memset(ra, 0, sizeof(*ra));
	if (spec)
		return from_option(ra, spec, err, errlen);
	/* SUDO_UID says who asked only when sudo made flowprof root */
	if (geteuid() == 0 && getenv("SUDO_UID"))
		return from_sudo(ra, err, errlen);
	ra->root_by_default = geteuid() == 0;
	return 0;
}

void run_as_note(const struct run_as *ra, const char *what)
{
	if (ra->root_by_default)
		log_note("note: %s runs as root (flowprof was not started by sudo from another "
			 "user); --user USER runs it as USER", what);
}

/* Every descriptor above stderr closes on exec: BPF maps and links, perf
 * events, a listening socket. close_range() in one call where the kernel
 * has it (5.11), one fcntl() per possible descriptor elsewhere. */
static void cloexec_above_stderr(void)
{
	struct rlimit rl;
	int max = 65536;

	if (!close_range(3, ~0U, CLOSE_RANGE_CLOEXEC))
		return;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < (rlim_t)max)
		max = (int)rl.rlim_cur;
	for (int fd = 3; fd < max; fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
}

int run_as_enter(const struct run_as *ra)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (!ra || !ra->drop)
		return RUN_AS_OK;
	cloexec_above_stderr();
	/* groups, then the gid, then the uid: setting each needs the
	 * privilege that the next one gives up */
	if (setgroups((size_t)ra->n_groups, ra->groups))
		return RUN_AS_SETGROUPS;
	if (setresgid(ra->gid, ra->gid, ra->gid))
		return RUN_AS_SETGID;
	if (setresuid(ra->uid, ra->uid, ra->uid))
		return RUN_AS_SETUID;
	errno = EPERM;
	if (getresuid(&ru, &eu, &su) || getresgid(&rg, &eg, &sg) || ru != ra->uid ||
	    eu != ra->uid || su != ra->uid || rg != ra->gid || eg != ra->gid || sg != ra->gid)
		return RUN_AS_REGAINED;
	/* a user that is not root must not get root back, by any of the three */
	if (ra->uid != 0 && (setuid(0) != -1 || (ra->gid != 0 && setgid(0) != -1) ||
			     setgroups(0, NULL) != -1)) {
		errno = EPERM;
		return RUN_AS_REGAINED;
	}
	return RUN_AS_OK;
}

char **run_as_environ(const struct run_as *ra)
{
	return ra && ra->drop ? ra->envp : environ;
}

char *run_as_failure(const struct run_as *ra, int step, int err)
{
	static const char *const calls[] = {
		[RUN_AS_SETGROUPS] = "setgroups",
		[RUN_AS_SETGID] = "setgid",
		[RUN_AS_SETUID] = "setuid",
	};
	const char *who = ra && ra->label ? ra->label : "?";

	if (step == RUN_AS_REGAINED)
		return xasprintf("as %s: root privileges could be regained after dropping them",
				 who);
	if (step > RUN_AS_OK && step < RUN_AS_REGAINED)
		return xasprintf("as %s: %s: %s", who, calls[step], strerror(err));
	return xasprintf("as %s: %s", who, strerror(err));
}

void run_as_free(struct run_as *ra)
{
	for (size_t i = 0; ra->envp && ra->envp[i]; i++)
		free(ra->envp[i]);
	free(ra->envp);
	free(ra->groups);
	free(ra->label);
	memset(ra, 0, sizeof(*ra));
}
