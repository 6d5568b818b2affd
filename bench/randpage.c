// SPDX-License-Identifier: GPL-2.0
/*
 * randpage: the remote-memory benchmark workload.
 *
 *   randpage [-m MIB] [-n ACCESSES] [-s SEED]
 *
 * Fills MIB MiB of anonymous memory (THP off for the mapping) with
 * incompressible per-page data, then makes ACCESSES random page accesses;
 * each verifies the whole page and rewrites it with its next version, so
 * it is dirty again.  This is the workload of shared/docs/lab-baselines.md
 * (256 MiB, 64 Ki accesses).  Prints one line:
 *   randpage: mib=256 accesses=65536 fill_s=F access_s=A access_majflt=N bad=0
 * (access_majflt: the major faults, i.e. swap-ins, of the access phase)
 * and exits 0 only if every page verified.  With -S the accesses go
 * through the pages in order instead (a sequential scan, pass after pass;
 * -K STRIDE visits every STRIDE-th page, then the next residue class).
 * With -R the accesses only verify (a read-only scan: clean pages).
 *
 *   randpage -L [-m MIB] [-n FAULTS] [-s SEED] [-T THINK_US]
 *
 * Fault-latency mode: fill, push the whole working set out to swap with
 * the cgroup's memory.reclaim (the caller's cgroup v2 group, no limit
 * needed), then read FAULTS distinct random pages one at a time with no
 * memory pressure, so each access is exactly one swap-in and nothing is
 * written back meanwhile.  With -T the program sleeps THINK_US between
 * faults (bench/fabric: the base at the pacing an added delay gives, since
 * the lab's wire time depends on how long the guests idled).  Each access
 * is timed and verified; prints
 *   randpage: faults=N p50_us=X p90_us=Y p99_us=Z mean_us=M bad=0
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#define PAGE 4096

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* Fill or check one page: xorshift stream seeded by (page, version, seed). */
static int page_do(uint64_t *p, uint64_t idx, uint32_t ver, uint64_t seed, int check)
{
	uint64_t x = mix(seed ^ (idx << 20) ^ ver) | 1;
	size_t i;

	for (i = 0; i < PAGE / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (!check)
			p[i] = x;
		else if (p[i] != x)
			return 1;
	}
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Write @bytes to memory.reclaim of our own cgroup v2 group. */
static int reclaim_self(uint64_t bytes)
{
	char cg[512], path[640], val[32];
	FILE *f = fopen("/proc/self/cgroup", "r");
	int fd, n, tries;

	if (!f || !fgets(cg, sizeof(cg), f) || strncmp(cg, "0::", 3)) {
		fprintf(stderr, "randpage: not in a cgroup v2 group\n");
		return -1;
	}
	fclose(f);
	cg[strcspn(cg, "\n")] = 0;
	snprintf(path, sizeof(path), "/sys/fs/cgroup%s/memory.reclaim", cg + 3);
	n = snprintf(val, sizeof(val), "%llu", (unsigned long long)bytes);
	/* memory.reclaim gives up with EAGAIN when it falls short: repeat */
	for (tries = 0; tries < 8; tries++) {
		fd = open(path, O_WRONLY);
		if (fd < 0) {
			perror(path);
			return -1;
		}
		if (write(fd, val, n) == n) {
			close(fd);
			return 0;
		}
		close(fd);
		if (errno != EAGAIN) {
			perror(path);
			return -1;
		}
	}
	return 0;
}

static int latency_mode(char *buf, uint64_t npages, uint64_t faults,
			uint64_t seed, uint64_t think_us)
{
	struct timespec think = {
		.tv_sec = think_us / 1000000,
		.tv_nsec = (think_us % 1000000) * 1000,
	};
	double *lat, sum = 0;
	uint64_t i, bad = 0, n = 0;
	uint8_t *seen = calloc(npages, 1);

	if (faults > npages)
		faults = npages;
	lat = calloc(faults ? faults : 1, sizeof(*lat));
	if (!lat || !seen)
		return 2;
	for (i = 0; i < npages; i++)
		page_do((uint64_t *)(buf + i * PAGE), i, 0, seed, 0);
	if (reclaim_self(npages * PAGE * 2))
		return 2;
	for (i = 0; n < faults; i++) {
		uint64_t idx = mix(seed * 0x9e3779b97f4a7c15ULL + i) % npages;
		volatile uint64_t *p = (uint64_t *)(buf + idx * PAGE);
		double t;

		if (seen[idx])
			continue;
		seen[idx] = 1;
		t = now();
		(void)*p;
		lat[n] = (now() - t) * 1e6;
		sum += lat[n++];
		bad += page_do((uint64_t *)p, idx, 0, seed, 1);
		if (think_us)
			nanosleep(&think, NULL);
	}
	qsort(lat, n, sizeof(*lat), cmp_dbl);
	printf("randpage: faults=%llu p50_us=%.1f p90_us=%.1f p99_us=%.1f mean_us=%.1f bad=%llu\n",
	       (unsigned long long)n, n ? lat[n / 2] : 0, n ? lat[n * 9 / 10] : 0,
	       n ? lat[n * 99 / 100] : 0, n ? sum / n : 0,
	       (unsigned long long)bad);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	uint64_t mib = 256, accesses = 65536, seed = 1, npages, i, bad = 0;
	uint64_t think_us = 0;
	uint32_t *ver;
	char *buf;
	struct rusage ru0, ru1;
	double t0, t1, t2;
	uint64_t stride = 0;
	int c, lmode = 0, ronly = 0;

	while ((c = getopt(argc, argv, "LRSK:m:n:s:T:")) != -1) {
		switch (c) {
		case 'L': lmode = 1; break;
		case 'R': ronly = 1; break;
		case 'S': stride = stride ? stride : 1; break;
		case 'K': stride = strtoull(optarg, NULL, 0); break;
		case 'm': mib = strtoull(optarg, NULL, 0); break;
		case 'n': accesses = strtoull(optarg, NULL, 0); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'T': think_us = strtoull(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: randpage [-L] [-R] [-S] [-K STRIDE] [-m MIB] [-n ACCESSES] [-s SEED] [-T THINK_US]\n");
			return 2;
		}
	}
	if (!mib || mib > (1 << 20) || stride > (mib << 8)) {
		fprintf(stderr, "randpage: bad size\n");
		return 2;
	}
	npages = mib << 8;
	buf = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ver = calloc(npages, sizeof(*ver));
	if (buf == MAP_FAILED || !ver) {
		perror("randpage: mmap");
		return 2;
	}
	madvise(buf, npages * PAGE, MADV_NOHUGEPAGE);
	if (lmode)
		return latency_mode(buf, npages, accesses, seed, think_us);

	t0 = now();
	for (i = 0; i < npages; i++)
		page_do((uint64_t *)(buf + i * PAGE), i, 0, seed, 0);
	getrusage(RUSAGE_SELF, &ru0);
	t1 = now();
	for (i = 0; i < accesses; i++) {
		uint64_t idx, *p;

		if (stride) {
			/* pass k visits k, k + stride, ...; residues in turn */
			uint64_t j = i % npages, per = (npages + stride - 1) / stride;

			idx = (j % per) * stride + j / per;
			if (idx >= npages)
				idx = j;
		} else {
			idx = mix(seed * 0x9e3779b97f4a7c15ULL + i) % npages;
		}
		p = (uint64_t *)(buf + idx * PAGE);
		bad += page_do(p, idx, ver[idx], seed, 1);
		if (!ronly)
			page_do(p, idx, ++ver[idx], seed, 0);
	}
	t2 = now();
	getrusage(RUSAGE_SELF, &ru1);
	printf("randpage: mib=%llu accesses=%llu fill_s=%.3f access_s=%.3f access_majflt=%ld bad=%llu\n",
	       (unsigned long long)mib, (unsigned long long)accesses, t1 - t0,
	       t2 - t1, ru1.ru_majflt - ru0.ru_majflt, (unsigned long long)bad);
	return bad ? 1 : 0;
}
