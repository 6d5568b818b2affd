// SPDX-License-Identifier: GPL-2.0
/*
 * vnode-run - run an unmodified program inside a vNode.
 *
 *   vnode-run [-s SOCK] VNODE -- CMD [ARGS...]
 *   vnode-run [-s SOCK] --mem SIZE --cache SIZE|PCT [--replicas N] -- CMD...
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
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc.h"
#include "size.h"

#define EXIT_OWN	125
#define EXIT_NOEXEC	126
#define EXIT_NOTFOUND	127

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t pending_sig;

static void usage(FILE *f)
{
	fprintf(f,
"Usage: vnode-run [-s SOCK] VNODE -- CMD [ARGS...]\n"
"       vnode-run [-s SOCK] --mem SIZE --cache SIZE|PCT [--replicas N] -- CMD [ARGS...]\n"
"The second form creates a throw-away vNode for this one run.\n");
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

static json_object *name_args(const char *name)
{
	json_object *a = json_object_new_object();

	json_object_object_add(a, "name", json_object_new_string(name));
	return a;
}

/* Storage volumes (later): mount the vNode's volumes in the child before
 * exec, e.g. in a private mount namespace.  Nothing to do yet. */
static int mount_volumes(const char *vnode)
{
	(void)vnode;
	return 0;
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *vnode = NULL, *mem = NULL, *cache = NULL,
		   *rep = NULL;
	char tmpname[32], errbuf[VN_ERR_MAX + 32];
	struct sigaction sa = { 0 };
	struct vn_err err;
	int i, pfd[2], status, code;
	bool ephemeral = false;
	ssize_t n;
	pid_t pid;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "-s") || !strcmp(a, "--socket") || !strcmp(a, "--mem") ||
		    !strcmp(a, "--cache") || !strcmp(a, "--replicas") ||
		    !strcmp(a, "--volume")) {
			if (i + 1 >= argc)
				return fail("%s needs a value", a);
			if (!strcmp(a, "--mem"))
				mem = argv[++i];
			else if (!strcmp(a, "--cache"))
				cache = argv[++i];
			else if (!strcmp(a, "--replicas"))
				rep = argv[++i];
			else if (!strcmp(a, "--volume"))
				return fail("--volume: storage volumes are not supported yet");
			else
				sock = argv[++i];
			continue;
		}
		if (a[0] == '-') {
			usage(stderr);
			return fail("unknown option '%s'", a);
		}
		if (vnode) {
			/* "vnode-run NAME CMD" without "--": be strict */
			usage(stderr);
			return fail("put '--' before the command");
		}
		vnode = a;
	}
	if (i >= argc) {
		usage(stderr);
		return fail("no command given");
	}
	sock = vn_sock_path(sock);

	if (mem || cache) {
		json_object *args;
		uint64_t m, c;

		if (vnode)
			return fail("give either VNODE or --mem/--cache, not both");
		if (!mem || !cache)
			return fail("a throw-away vNode needs both --mem and --cache");
		if (vn_parse_size(mem, &m, &err))
			return fail("--mem: %s", err.msg);
		if (!m)
			return fail("--mem must be > 0");
		if (vn_parse_size_or_pct(cache, m, &c, &err))
			return fail("--cache: %s", err.msg);
		if (!c || c > m)
			return fail("--cache must be > 0 and <= --mem");
		if (rep && strcmp(rep, "1") && strcmp(rep, "2"))
			return fail("--replicas must be 1 or 2");
		snprintf(tmpname, sizeof(tmpname), "run-%d", (int)getpid());
		args = json_object_new_object();
		json_object_object_add(args, "name", json_object_new_string(tmpname));
		json_object_object_add(args, "mem", json_object_new_uint64(m));
		json_object_object_add(args, "cache", json_object_new_uint64(c));
		if (rep)
			json_object_object_add(args, "replicas",
					       json_object_new_int(atoi(rep)));
		json_object_object_add(args, "ephemeral", json_object_new_boolean(1));
		if (vn_call(sock, "vnode.create", args, NULL, &err))
			return fail("cannot create a throw-away vNode: %s", err.msg);
		vnode = tmpname;
		ephemeral = true;
	} else if (rep) {
		return fail("--replicas only goes with --mem/--cache");
	}
	if (!vnode) {
		usage(stderr);
		return fail("no vNode given");
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
		} else if (mount_volumes(vnode)) {
			n = snprintf(errbuf, sizeof(errbuf), "cannot mount volumes");
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
