// SPDX-License-Identifier: GPL-2.0
/*
 * vnode-run - run an unmodified program inside a vNode.
 *
 *   vnode-run [-s SOCK] VNODE [--] CMD [ARGS...]
 *   vnode-run [-s SOCK] --mem SIZE --cache SIZE|PCT [--replicas N] [--cpus LIST]
 *             [--storage SIZE [--stor-host HOST] | --volume NAME] [--mount PATH]
 *             [--headroom auto|off|SIZE] [--prefetch] [--protect none|crc|aead]
 *             [--storage-protect none|integrity|crypt] [--] CMD...
 *
 * Options are parsed by lib/opts.c like vnodectl's ("--opt VALUE" or
 * "--opt=VALUE") and, like a wrapper with getopt_long's '+' (env, nice),
 * they come first: the first other word ends them, and "--" before CMD is
 * optional.  The throw-away vNode's options are vnodectl vnode create's
 * and mean the same (--cpus: the cpuset of the vNode's cgroup).
 * Only their syntax is checked here; vnoded checks what they mean.
 *
 * A vNode's volume is mounted in a private mount namespace of the child:
 * vnoded hands over a detached mount (fsmount) of the volume's ext4 with
 * the answer to vnode.mount (SCM_RIGHTS), the child unshares its mount
 * namespace (plus a user namespace mapping only its own uid/gid when it
 * is not root, so an ordinary owner needs no privilege), makes / a slave
 * and move_mount()s the file system onto the vNode's mount point.  Nothing
 * is mounted in the host's namespace.
 *
 * Not setuid.  The child asks vnoded to move *itself* into the vNode's
 * cgroup (vnoded takes the pid from SO_PEERCRED and checks the caller is
 * root or the vNode's owner), then execs CMD; the parent stays outside,
 * forwards signals sent to it and exits with CMD's status (128+N when
 * CMD was killed by signal N).  Exit 125 means vnode-run itself failed,
 * 126/127 that CMD could not be executed / was not found (like env(1)).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc.h"
#include "opts.h"

#define EXIT_OWN	125
#define EXIT_NOEXEC	126
#define EXIT_NOTFOUND	127

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t pending_sig;

static void usage(FILE *f)
{
	fprintf(f,
"Usage: vnode-run [-s SOCK] VNODE [--] CMD [ARGS...]\n"
"       vnode-run [-s SOCK] --mem SIZE --cache SIZE|PCT [--replicas N] [--cpus LIST]\n"
"                 [--storage SIZE [--stor-host HOST] | --volume NAME] [--mount PATH]\n"
"                 [--headroom auto|off|SIZE] [--prefetch] [--protect none|crc|aead]\n"
"                 [--storage-protect none|integrity|crypt] [--] CMD [ARGS...]\n"
"       vnode-run -V | --version\n"
"The second form creates a throw-away vNode for this one run, with the options\n"
"of 'vnodectl vnode create': --cpus LIST (e.g. 0-1,3) confines it to those CPUs\n"
"(its cgroup's cpuset.cpus), --storage gives it a new volume (deleted\n"
"afterwards), --volume attaches a kept one, --prefetch reads ahead of its\n"
"sequential and strided swap-ins, --protect crc checks each copy of its pages\n"
"on swap-in, --storage-protect integrity|crypt puts its new volume under\n"
"dm-integrity or authenticated dm-crypt.  A vNode's volume is mounted at its\n"
"mount point (default /vnode) in CMD's private mount namespace.  Options take\n"
"'--opt VALUE' or '--opt=VALUE' and go before VNODE; the first other word ends\n"
"them, so '--' is needed only before a CMD that starts with '-'.\n");
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("vnode-run: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_OWN;
}

/*
 * Forward signals somebody sent to us with kill(2) (si_code <= 0).  Signals
 * the terminal generates (^C: si_code SI_KERNEL) already reach the child,
 * which is in our foreground process group; forwarding those would deliver
 * them twice.
 */
static void forward(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (si && si->si_code > 0)
		return;
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
	else
		pending_sig = sig;
}

static const int fwd_signals[] = {
	SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT,
	SIGALRM,
};

struct run_opts {
	const char *sock;
	bool help, version;
	struct vn_create_opts c;
};

static const struct vn_opt run_opts[] = {
	VN_OPT_S("--socket", "-s", struct run_opts, sock),
	VN_OPT_F("--help", "-h", struct run_opts, help),
	VN_OPT_F("--version", "-V", struct run_opts, version),
	VN_OPT_T(vn_create_opt_table, struct run_opts, c),
	VN_OPT_END_
};

static json_object *name_args(const char *name)
{
	json_object *a = json_object_new_object();

	json_object_object_add(a, "name", json_object_new_string(name));
	return a;
}

static int write_proc(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* An unprivileged owner: a user namespace that maps only our own ids, so
 * we may mount in our own mount namespace and nothing else changes. */
static int own_userns(char *msg, size_t len)
{
	char map[64];
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS)) {
		snprintf(msg, len, "cannot create a user namespace to mount the vNode's volume as uid %u: %s (unprivileged user namespaces disabled? sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone)",
			 (unsigned int)uid, strerror(errno));
		return -1;
	}
	snprintf(map, sizeof(map), "%u %u 1", (unsigned int)uid, (unsigned int)uid);
	if (write_proc("/proc/self/setgroups", "deny") ||
	    write_proc("/proc/self/uid_map", map)) {
		snprintf(msg, len, "cannot map uid %u in the user namespace: %s",
			 (unsigned int)uid, strerror(errno));
		return -1;
	}
	snprintf(map, sizeof(map), "%u %u 1", (unsigned int)gid, (unsigned int)gid);
	if (write_proc("/proc/self/gid_map", map)) {
		snprintf(msg, len, "cannot map gid %u in the user namespace: %s",
			 (unsigned int)gid, strerror(errno));
		return -1;
	}
	return 0;
}

/* In the child, after it joined the vNode and before exec. */
static int mount_volume(const char *sock, const char *vnode, char *msg,
			size_t len)
{
	json_object *data = NULL, *v;
	struct vn_err err;
	const char *mp;
	int fd = -1, ret = -1;

	if (vn_call_fd(sock, "vnode.mount", name_args(vnode), &data, &fd, &err)) {
		snprintf(msg, len, "cannot mount the volume of vNode %s: %.400s", vnode,
			 err.msg);
		return -1;
	}
	if (fd < 0) {		/* the vNode has no volume */
		json_object_put(data);
		return 0;
	}
	mp = json_object_object_get_ex(data, "mountpoint", &v) ? json_object_get_string(v) : NULL;
	if (!mp || mp[0] != '/') {
		snprintf(msg, len, "vnoded sent no mount point for vNode %s", vnode);
		goto out;
	}
	if (geteuid()) {
		if (own_userns(msg, len))
			goto out;
	} else if (unshare(CLONE_NEWNS)) {
		snprintf(msg, len, "unshare(CLONE_NEWNS): %s", strerror(errno));
		goto out;
	}
	/* nothing we mount propagates back to the host */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL)) {
		snprintf(msg, len, "cannot make / a slave mount: %s", strerror(errno));
		goto out;
	}
	if (move_mount(fd, "", AT_FDCWD, mp, MOVE_MOUNT_F_EMPTY_PATH)) {
		snprintf(msg, len, "cannot mount the volume on %s: %s", mp, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	close(fd);
	json_object_put(data);
	return ret;
}

int main(int argc, char **argv)
{
	struct run_opts o = { 0 };
	const char *sock, *vnode = NULL;
	char tmpname[32], errbuf[VN_ERR_MAX + 32];
	struct sigaction sa = { 0 };
	struct vn_err err;
	int i, pfd[2], status, code;
	bool ephemeral;
	ssize_t n;
	pid_t pid;

	/* like getopt_long with '+': our options come first, parsing stops
	 * at the first other word (or after "--") */
	i = vn_opts_parse(run_opts, VN_OPTS_POSIX, &o, argc - 1, argv + 1, NULL, 0, NULL,
			  &err);
	if (i < 0) {
		usage(stderr);
		return fail("%s", err.msg);
	}
	if (o.help) {
		usage(stdout);
		return 0;
	}
	if (o.version) {
		vn_print_version("vnode-run");
		return 0;
	}
	i++;			/* argv[0] is the program; argv[i]: the first word not ours */
	sock = vn_sock_path(o.sock);

	ephemeral = o.c.mem || o.c.cache;
	if (ephemeral) {
		if (!o.c.mem || !o.c.cache)
			return fail("a throw-away vNode needs both --mem and --cache");
	} else {
		if (o.c.replicas || o.c.cpus || o.c.storage || o.c.stor_host ||
		    o.c.volume || o.c.mount || o.c.headroom || o.c.prefetch || o.c.protect ||
		    o.c.storage_protect)
			return fail("--replicas, --cpus, --storage, --stor-host, --volume, --mount, --headroom, --prefetch, --protect and --storage-protect only go with --mem/--cache (a named vNode has them from vnodectl vnode create)");
		if (i >= argc) {
			usage(stderr);
			return fail("no vNode given");
		}
		vnode = argv[i++];
		if (i < argc && !strcmp(argv[i], "--"))
			i++;
		else if (i < argc && argv[i][0] == '-' && argv[i][1])
			return fail("'%s' after the vNode: options go before VNODE (a command starting with '-' goes after '--')",
				    argv[i]);
	}
	if (i >= argc) {
		usage(stderr);
		return fail("no command given");
	}
	if (ephemeral) {
		json_object *args = json_object_new_object();

		snprintf(tmpname, sizeof(tmpname), "run-%d", (int)getpid());
		json_object_object_add(args, "name", json_object_new_string(tmpname));
		json_object_object_add(args, "ephemeral", json_object_new_boolean(1));
		if (vn_create_args(&o.c, args, &err)) {
			json_object_put(args);
			return fail("%s", err.msg);
		}
		if (vn_call(sock, "vnode.create", args, NULL, &err))
			return fail("cannot create a throw-away vNode: %s", err.msg);
		vnode = tmpname;
	}

	sa.sa_sigaction = forward;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t s = 0; s < sizeof(fwd_signals) / sizeof(fwd_signals[0]); s++)
		sigaction(fwd_signals[s], &sa, NULL);

	if (pipe2(pfd, O_CLOEXEC)) {
		code = fail("pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		code = fail("fork: %s", strerror(errno));
		goto out;
	}
	if (!pid) {
		/* child: join the vNode, then become CMD */
		close(pfd[0]);
		for (size_t s = 0; s < sizeof(fwd_signals) / sizeof(fwd_signals[0]); s++)
			signal(fwd_signals[s], SIG_DFL);
		code = EXIT_OWN;
		if (vn_call(sock, "vnode.attach",
			    name_args(vnode), NULL, &err)) {
			n = snprintf(errbuf, sizeof(errbuf), "cannot join vNode %s: %s",
				     vnode, err.msg);
		} else if (mount_volume(sock, vnode, errbuf, sizeof(errbuf))) {
			n = (ssize_t)strlen(errbuf);
		} else {
			execvp(argv[i], argv + i);
			code = errno == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
			n = snprintf(errbuf, sizeof(errbuf), "%s: %s", argv[i],
				     strerror(errno));
		}
		if (write(pfd[1], &code, sizeof(code)) < 0 ||
		    write(pfd[1], errbuf, (size_t)n) < 0)
			_exit(code);
		_exit(code);
	}
	child_pid = pid;
	if (pending_sig)
		kill(pid, pending_sig);
	close(pfd[1]);
	/* EOF without data: exec succeeded (the pipe is close-on-exec) */
	n = read(pfd[0], &code, sizeof(code));
	if (n == sizeof(code)) {
		n = read(pfd[0], errbuf, sizeof(errbuf) - 1);
		errbuf[n > 0 ? n : 0] = '\0';
		fprintf(stderr, "vnode-run: %s\n", errbuf);
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			status = EXIT_OWN << 8;
			break;
		}
	}
	if (WIFSIGNALED(status))
		code = 128 + WTERMSIG(status);
	else
		code = WEXITSTATUS(status);
out:
	if (ephemeral) {
		json_object *args = name_args(vnode);

		/* leftovers (CMD's background children) die with the vNode */
		json_object_object_add(args, "force", json_object_new_boolean(1));
		if (vn_call(sock, "vnode.destroy", args, NULL, &err))
			fprintf(stderr, "vnode-run: warning: throw-away vNode %s not destroyed: %s\n",
				vnode, err.msg);
	}
	return code;
}
