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
 *             access_busy_pct=B access_softirq_pct=S access_self_cpu_s=C
 * (access_majflt: the major faults, i.e. swap-ins, of the access phase;
 * access_busy_pct: the share of the machine's CPU time, all CPUs, that was
 * not idle or iowait over the access phase, from /proc/stat, and
 * access_softirq_pct the share spent in softirqs, where soft-RoCE and the
 * network stack run; access_self_cpu_s: this program's own user and
 * system time, the faults' handling and direct reclaim included)
 * and exits 0 only if every page verified.  With -S the accesses go
 * through the pages in order instead (a sequential scan, pass after pass;
 * -K STRIDE visits every STRIDE-th page, then the next residue class).
 * With -R the accesses only verify (a read-only scan: clean pages).
 *
 *   randpage -L [-m MIB] [-n FAULTS] [-s SEED] [-T THINK_US]
 *               [-A FILE -D VALUE] [-F DEV]
 *
 * Fault-latency mode: fill, push the whole working set out to swap with
 * the cgroup's memory.reclaim (the caller's cgroup v2 group, no limit
 * needed), then read FAULTS distinct random pages one at a time with no
 * memory pressure, so each access is exactly one swap-in and nothing is
 * written back meanwhile.  With -T the program sleeps THINK_US before
 * each fault.  Each access is timed and verified; prints
 *   randpage: faults=N p50_us=X p90_us=Y p99_us=Z mean_us=M bad=0
 *
 * With -A and -D (bench/fabric: the accuracy of an added delay) the
 * program writes "0" or VALUE to FILE (a fabric link's delay_us) before
 * each fault's think time, in the order 0, V, V, 0, 0, V, ..., so the two
 * settings are measured interleaved, at the same pacing and under the
 * same drift of the lab, and prints a second line
 *   randpage: base_n=N base_p50_us=X base_p90_us=Y with_n=N with_p50_us=X
 *             with_p90_us=Y added_p50_us=Z
 * With -F each sample is a 4 KiB O_DIRECT read at a random aligned offset
 * of block device DEV (a volume) instead of a fault (-m, -s unused).
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

/*
 * The machine's CPU time so far from /proc/stat's "cpu" line, in ticks:
 * *busy (neither idle nor iowait), *sirq (softirq), and the total.
 */
static unsigned long long cpu_ticks(unsigned long long *busy,
				    unsigned long long *sirq)
{
	unsigned long long v[8] = { 0 }, tot = 0;
	FILE *f = fopen("/proc/stat", "r");
	int i, n = 0;

	if (f) {
		n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			   &v[7]);
		fclose(f);
	}
	if (n != 8) {
		*busy = *sirq = 0;
		return 0;
	}
	for (i = 0; i < 8; i++)
		tot += v[i];
	*busy = tot - v[3] - v[4];
	*sirq = v[6];
	return tot;
}

static double tv_s(const struct timeval *tv)
{
	return tv->tv_sec + tv->tv_usec / 1e6;
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

/* Write @val to @path (a configfs attribute: one store per open). */
static int put_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0) {
		perror(path);
		return -1;
	}
	n = write(fd, val, strlen(val));
	if (n != (ssize_t)strlen(val)) {
		perror(path);
		close(fd);
		return -1;
	}
	return close(fd);
}

struct lat_opts {
	uint64_t think_us;
	const char *alt_file;	/* -A */
	const char *alt_val;	/* -D */
	const char *dev;	/* -F */
};

/* The @per100-th percentile of @n sorted samples (0 if none). */
static double pct(const double *sorted, uint64_t n, unsigned int per100)
{
	return n ? sorted[n * per100 / 100] : 0;
}

/* Sort @n samples, print "PFX_n= PFX_p50_us= PFX_p90_us= ", return p50. */
static double lat_print(const char *pfx, double *lat, uint64_t n)
{
	qsort(lat, n, sizeof(*lat), cmp_dbl);
	printf("%s_n=%llu %s_p50_us=%.1f %s_p90_us=%.1f ", pfx,
	       (unsigned long long)n, pfx, pct(lat, n, 50), pfx, pct(lat, n, 90));
	return pct(lat, n, 50);
}

static int latency_mode(char *buf, uint64_t npages, uint64_t faults,
			uint64_t seed, const struct lat_opts *o)
{
	struct timespec think = {
		.tv_sec = o->think_us / 1000000,
		.tv_nsec = (o->think_us % 1000000) * 1000,
	};
	double *lat, *alt[2], sum = 0;
	uint64_t i, bad = 0, n = 0, na[2] = {0, 0};
	uint8_t *seen = NULL;
	void *blk = NULL;
	int fd = -1;

	if (o->dev) {
		off_t size;

		fd = open(o->dev, O_RDONLY | O_DIRECT);
		size = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);
		if (size < PAGE || posix_memalign(&blk, PAGE, PAGE)) {
			perror(o->dev);
			return 2;
		}
		npages = size / PAGE;
	}
	if (faults > npages)
		faults = npages;
	lat = calloc(faults ? faults : 1, sizeof(*lat));
	alt[0] = calloc(faults ? faults : 1, sizeof(*lat));
	alt[1] = calloc(faults ? faults : 1, sizeof(*lat));
	seen = calloc(npages, 1);
	if (!lat || !alt[0] || !alt[1] || !seen)
		return 2;
	if (!o->dev) {
		for (i = 0; i < npages; i++)
			page_do((uint64_t *)(buf + i * PAGE), i, 0, seed, 0);
		if (reclaim_self(npages * PAGE * 2))
			return 2;
	}
	for (i = 0; n < faults; i++) {
		uint64_t idx = mix(seed * 0x9e3779b97f4a7c15ULL + i) % npages;
		volatile uint64_t *p = NULL;
		int on = ((n + 1) >> 1) & 1;
		double t;

		if (seen[idx])
			continue;
		seen[idx] = 1;
		if (o->alt_file && put_str(o->alt_file, on ? o->alt_val : "0"))
			return 2;
		if (o->think_us)
			nanosleep(&think, NULL);
		t = now();
		if (o->dev) {
			if (pread(fd, blk, PAGE, (off_t)idx * PAGE) != PAGE) {
				perror(o->dev);
				return 2;
			}
		} else {
			p = (uint64_t *)(buf + idx * PAGE);
			(void)*p;
		}
		lat[n] = (now() - t) * 1e6;
		alt[on][na[on]++] = lat[n];
		sum += lat[n++];
		if (!o->dev)
			bad += page_do((uint64_t *)p, idx, 0, seed, 1);
	}
	if (o->alt_file && put_str(o->alt_file, "0"))
		return 2;
	qsort(lat, n, sizeof(*lat), cmp_dbl);
	printf("randpage: faults=%llu p50_us=%.1f p90_us=%.1f p99_us=%.1f mean_us=%.1f bad=%llu\n",
	       (unsigned long long)n, pct(lat, n, 50), pct(lat, n, 90),
	       pct(lat, n, 99), n ? sum / n : 0, (unsigned long long)bad);
	if (o->alt_file) {
		double base, with;

		printf("randpage: ");
		base = lat_print("base", alt[0], na[0]);
		with = lat_print("with", alt[1], na[1]);
		printf("added_p50_us=%.1f\n", with - base);
	}
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	uint64_t mib = 256, accesses = 65536, seed = 1, npages, i, bad = 0;
	struct lat_opts lo = { 0 };
	uint32_t *ver;
	char *buf;
	struct rusage ru0, ru1;
	unsigned long long c0, c1, b0, b1, s0, s1;
	double t0, t1, t2;
	uint64_t stride = 0;
	int c, lmode = 0, ronly = 0;

	while ((c = getopt(argc, argv, "LRSK:m:n:s:T:A:D:F:")) != -1) {
		switch (c) {
		case 'L': lmode = 1; break;
		case 'R': ronly = 1; break;
		case 'S': stride = stride ? stride : 1; break;
		case 'K': stride = strtoull(optarg, NULL, 0); break;
		case 'm': mib = strtoull(optarg, NULL, 0); break;
		case 'n': accesses = strtoull(optarg, NULL, 0); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'T': lo.think_us = strtoull(optarg, NULL, 0); break;
		case 'A': lo.alt_file = optarg; break;
		case 'D': lo.alt_val = optarg; break;
		case 'F': lo.dev = optarg; break;
		default:
			fprintf(stderr, "usage: randpage [-L] [-R] [-S] [-K STRIDE] [-m MIB] [-n ACCESSES] [-s SEED] [-T THINK_US] [-A FILE -D VALUE] [-F DEV]\n");
			return 2;
		}
	}
	if (!lo.alt_file != !lo.alt_val) {
		fprintf(stderr, "randpage: -A and -D go together\n");
		return 2;
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
		return latency_mode(buf, npages, accesses, seed, &lo);

	t0 = now();
	for (i = 0; i < npages; i++)
		page_do((uint64_t *)(buf + i * PAGE), i, 0, seed, 0);
	getrusage(RUSAGE_SELF, &ru0);
	c0 = cpu_ticks(&b0, &s0);
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
	c1 = cpu_ticks(&b1, &s1);
	getrusage(RUSAGE_SELF, &ru1);
	printf("randpage: mib=%llu accesses=%llu fill_s=%.3f access_s=%.3f access_majflt=%ld bad=%llu",
	       (unsigned long long)mib, (unsigned long long)accesses, t1 - t0,
	       t2 - t1, ru1.ru_majflt - ru0.ru_majflt, (unsigned long long)bad);
	if (c1 > c0)
		printf(" access_busy_pct=%.1f access_softirq_pct=%.1f",
		       100.0 * (b1 - b0) / (c1 - c0),
		       100.0 * (s1 - s0) / (c1 - c0));
	printf(" access_self_cpu_s=%.3f\n",
	       tv_s(&ru1.ru_utime) + tv_s(&ru1.ru_stime) -
	       tv_s(&ru0.ru_utime) - tv_s(&ru0.ru_stime));
	return bad ? 1 : 0;
}
