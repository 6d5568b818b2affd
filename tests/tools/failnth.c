// SPDX-License-Identifier: GPL-2.0
/*
 * failnth: do one system call with the Nth fault injection point it
 * passes failed (/proc/thread-self/fail-nth, Documentation/fault-injection),
 * for walking N over every allocation of a kernel path.
 *
 *   failnth N insmod MODULE.ko [PARAMS]   finit_module()
 *   failnth N write FILE VALUE            one write() of VALUE to FILE
 *
 * Everything but the call itself (opening the files, reading the module)
 * happens before fail-nth is set, so N counts from the call's first point.
 * Prints "N=<n> result=<0|errno name> injected=<yes|no>": injected=no
 * means the call passed fewer than N points (a walk is done).  Exit status
 * 0 when the call succeeded, 1 when it failed, 2 on a usage or setup error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int set_nth(int fd, unsigned long n)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%lu", n);

	return pwrite(fd, buf, len, 0) == len ? 0 : -1;
}

int main(int argc, char **argv)
{
	unsigned long n;
	char *end, left[32] = "";
	int nth, fd, ret, err, insmod;
	ssize_t len;

	if (argc < 4) {
		fprintf(stderr, "usage: failnth N insmod KO [PARAMS] | failnth N write FILE VALUE\n");
		return 2;
	}
	n = strtoul(argv[1], &end, 10);
	if (*end || n == 0) {
		fprintf(stderr, "failnth: N must be a positive number\n");
		return 2;
	}
	nth = open("/proc/thread-self/fail-nth", O_RDWR);
	if (nth < 0) {
		perror("failnth: /proc/thread-self/fail-nth");
		return 2;
	}
	insmod = !strcmp(argv[2], "insmod");
	if (!insmod && (strcmp(argv[2], "write") || argc != 5)) {
		fprintf(stderr, "failnth: unknown call '%s'\n", argv[2]);
		return 2;
	}
	fd = open(argv[3], (insmod ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[3]);
		return 2;
	}
	if (set_nth(nth, n))
		return 2;
	if (insmod) {
		ret = syscall(SYS_finit_module, fd, argc > 4 ? argv[4] : "", 0);
	} else {
		len = write(fd, argv[4], strlen(argv[4]));
		ret = len == (ssize_t)strlen(argv[4]) ? 0 : -1;
		if (len >= 0 && ret)
			errno = EIO;
	}
	err = ret ? errno : 0;
	/* What is left of N: not 0 means the call never reached the Nth point. */
	len = pread(nth, left, sizeof(left) - 1, 0);
	if (len > 0)
		left[len] = 0;
	set_nth(nth, 0);
	printf("N=%lu result=%s injected=%s\n", n, err ? strerrorname_np(err) : "0",
	       atoi(left) == 0 ? "yes" : "no");
	return err ? 1 : 0;
}
