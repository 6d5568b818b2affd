// SPDX-License-Identifier: GPL-2.0
/*
 * memcheck: a checksummed anonymous-memory workload for swap tests.
 *
 *   memcheck -m MIB [-p PASSES] [-k STRIDE] [-r ACCESSES] [-s SEED] [-u FILE] [-q]
 *
 * Fills MIB MiB of anonymous memory (THP disabled for the mapping) with a
 * pattern derived from (page index, page version, seed), then runs PASSES
 * sequential passes and ACCESSES random page accesses.  Every access
 * verifies the whole page against its expected pattern and rewrites it
 * with the next version, so every page is dirty again and must go back
 * out to swap.  With -u, sequential passes go on after PASSES until FILE
 * exists (a test ends the workload when it has done what it needed under
 * it).  With -k, PASSES strided passes follow the sequential ones, each
 * visiting every STRIDE-th page, then the next residue class (prefetch
 * tests: a sequential, a strided and a random phase).  Finally every page
 * is verified once more.
 *
 * Prints one summary line:
 *   memcheck: mib=64 pages=16384 verified=N rewritten=N bad=0 seconds=S
 * and exits 0 only if every verification passed (1 on a mismatch, 2 on a
 * usage or setup error).  A lost page shows up as SIGBUS (killed) or as
 * bad > 0, never as exit 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define WORDS (PAGE / sizeof(uint64_t))

static uint64_t seed = 1;
static uint8_t *mem;
static uint32_t *version;
static size_t npages;
static unsigned long long verified, rewritten, bad;
static int quiet;

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static void fill(size_t idx)
{
	uint64_t *w = (uint64_t *)(mem + idx * PAGE);
	uint64_t x = mix(seed ^ (idx * 0x9e3779b97f4a7c15ULL) ^
			 ((uint64_t)version[idx] << 40));
	size_t i;

	for (i = 0; i < WORDS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		w[i] = x;
	}
	/* First word names the page, to make mix-ups obvious. */
	w[0] = ((uint64_t)idx << 32) | version[idx];
}

static int check(size_t idx)
{
	uint64_t *w = (uint64_t *)(mem + idx * PAGE);
	uint64_t x = mix(seed ^ (idx * 0x9e3779b97f4a7c15ULL) ^
			 ((uint64_t)version[idx] << 40));
	size_t i;

	verified++;
	if (w[0] != (((uint64_t)idx << 32) | version[idx]))
		goto mismatch;
	for (i = 0; i < WORDS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (i && w[i] != x)
			goto mismatch;
	}
	return 0;
mismatch:
	bad++;
	if (bad <= 10)
		fprintf(stderr,
			"memcheck: page %zu version %u corrupt (first word %#llx, zero page: %s)\n",
			idx, version[idx], (unsigned long long)w[0],
			w[0] == 0 && w[1] == 0 ? "yes" : "no");
	return 1;
}

static void touch(size_t idx)
{
	check(idx);
	version[idx]++;
	fill(idx);
	rewritten++;
}

int main(int argc, char **argv)
{
	unsigned long mib = 0, passes = 1, accesses = 0, stride = 0, p, i, k;
	const char *until = NULL;
	struct timespec t0, t1;
	uint64_t r;
	int opt;

	while ((opt = getopt(argc, argv, "m:p:k:r:s:u:q")) != -1) {
		switch (opt) {
		case 'm':
			mib = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			passes = strtoul(optarg, NULL, 0);
			break;
		case 'k':
			stride = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			accesses = strtoul(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'u':
			until = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		default:
			goto usage;
		}
	}
	if (!mib || optind != argc)
		goto usage;

	npages = mib * (1024 * 1024 / PAGE);
	version = calloc(npages, sizeof(*version));
	mem = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!version || mem == MAP_FAILED) {
		fprintf(stderr, "memcheck: cannot allocate %lu MiB: %s\n", mib,
			strerror(errno));
		return 2;
	}
	madvise(mem, npages * PAGE, MADV_NOHUGEPAGE);
	clock_gettime(CLOCK_MONOTONIC, &t0);

	for (i = 0; i < npages; i++)
		fill(i);
	if (!quiet)
		fprintf(stderr, "memcheck: filled %lu MiB\n", mib);
	for (p = 0; p < passes || (until && access(until, F_OK)); p++) {
		for (i = 0; i < npages; i++)
			touch(i);
		if (!quiet)
			fprintf(stderr, "memcheck: pass %lu done, bad=%llu\n",
				p + 1, bad);
	}
	for (p = 0; stride && p < passes; p++) {
		for (k = 0; k < stride; k++)
			for (i = k; i < npages; i += stride)
				touch(i);
		if (!quiet)
			fprintf(stderr, "memcheck: stride-%lu pass %lu done, bad=%llu\n",
				stride, p + 1, bad);
	}
	r = mix(seed + 12345);
	for (i = 0; i < accesses; i++) {
		r = mix(r + i);
		touch(r % npages);
	}
	for (i = 0; i < npages; i++)
		check(i);

	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("memcheck: mib=%lu pages=%zu verified=%llu rewritten=%llu bad=%llu seconds=%.1f\n",
	       mib, npages, verified, rewritten, bad,
	       (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return bad ? 1 : 0;
usage:
	fprintf(stderr,
		"usage: memcheck -m MIB [-p PASSES] [-k STRIDE] [-r ACCESSES] [-s SEED] [-u FILE] [-q]\n");
	return 2;
}
