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
 *   randpage: mib=256 accesses=65536 fill_s=F access_s=A bad=0
 * and exits 0 only if every page verified.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
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

int main(int argc, char **argv)
{
	uint64_t mib = 256, accesses = 65536, seed = 1, npages, i, bad = 0;
	uint32_t *ver;
	char *buf;
	double t0, t1, t2;
	int c;

	while ((c = getopt(argc, argv, "m:n:s:")) != -1) {
		switch (c) {
		case 'm': mib = strtoull(optarg, NULL, 0); break;
		case 'n': accesses = strtoull(optarg, NULL, 0); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: randpage [-m MIB] [-n ACCESSES] [-s SEED]\n");
			return 2;
		}
	}
	if (!mib || mib > (1 << 20)) {
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

	t0 = now();
	for (i = 0; i < npages; i++)
		page_do((uint64_t *)(buf + i * PAGE), i, 0, seed, 0);
	t1 = now();
	for (i = 0; i < accesses; i++) {
		uint64_t idx = mix(seed * 0x9e3779b97f4a7c15ULL + i) % npages;
		uint64_t *p = (uint64_t *)(buf + idx * PAGE);

		bad += page_do(p, idx, ver[idx], seed, 1);
		page_do(p, idx, ++ver[idx], seed, 0);
	}
	t2 = now();
	printf("randpage: mib=%llu accesses=%llu fill_s=%.3f access_s=%.3f bad=%llu\n",
	       (unsigned long long)mib, (unsigned long long)accesses, t1 - t0,
	       t2 - t1, (unsigned long long)bad);
	return bad ? 1 : 0;
}
