// SPDX-License-Identifier: GPL-2.0
/*
 * kvzipf: the key-value benchmark workload, a memcached client.
 *
 *   kvzipf load -s SOCKET [-k KEYS] [-v BYTES] [-S SEED]
 *   kvzipf run  -s SOCKET [-k KEYS] [-v BYTES] [-n OPS] [-w SET%]
 *               [-z THETA] [-S SEED]
 *
 * load stores KEYS keys ("k00000000"...) with values of BYTES bytes
 * (version 0).  run then makes OPS requests, one at a time over the
 * memcached text protocol on a Unix socket: SET% of them SETs, the rest
 * GETs, of keys drawn from a Zipf distribution of parameter THETA (YCSB's
 * generator, Gray et al., SIGMOD'94; ranks scrambled over the key space
 * with FNV-1a as YCSB's ScrambledZipfian does, so hot keys do not sit
 * next to each other in the server's memory).  Every value is a stream
 * derived from (key, version, seed); run assumes the store is as load left
 * it, tracks each key's version and verifies every GET byte for byte.
 *
 * Each phase prints one line and exits 0 only if every request succeeded
 * and every value verified:
 *   kvzipf: load keys=K value=B load_s=T
 *   kvzipf: run ops=N sets=S ops_s=T ops_per_s=R p50_us= p99_us=
 *           get_p50_us= get_p99_us= set_p99_us= keys_touched= misses=0 bad=0
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define KEY_LEN 9		/* "k" + 8 digits */
#define VAL_MAX (1 << 20)

static int fd = -1;
static char rbuf[65536];
static size_t rlen, roff;

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The value of (key, version): an xorshift stream, incompressible. */
static void value_fill(char *v, size_t len, uint64_t key, uint32_t ver,
		       uint64_t seed)
{
	uint64_t x = mix(seed ^ (key << 24) ^ ver) | 1;
	size_t i;

	for (i = 0; i < len; i++) {
		if (!(i & 7)) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		v[i] = (char)(x >> ((i & 7) * 8));
	}
}

static int sock_open(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(a.sun_path)) {
		fprintf(stderr, "kvzipf: socket path too long\n");
		return -1;
	}
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "kvzipf: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int send_all(const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "kvzipf: send: %s\n", strerror(errno));
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

static int fill(void)
{
	ssize_t n;

	if (roff && roff == rlen)
		roff = rlen = 0;
	if (rlen == sizeof(rbuf)) {
		memmove(rbuf, rbuf + roff, rlen - roff);
		rlen -= roff;
		roff = 0;
	}
	do
		n = recv(fd, rbuf + rlen, sizeof(rbuf) - rlen, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		fprintf(stderr, "kvzipf: server closed the connection%s%s\n",
			n ? ": " : "", n ? strerror(errno) : "");
		return -1;
	}
	rlen += n;
	return 0;
}

/* One "\r\n"-terminated line into @line (at most @max - 1 bytes). */
static int read_line(char *line, size_t max)
{
	for (;;) {
		char *e = memmem(rbuf + roff, rlen - roff, "\r\n", 2);

		if (e) {
			size_t n = e - (rbuf + roff);

			if (n >= max) {
				fprintf(stderr, "kvzipf: reply line too long\n");
				return -1;
			}
			memcpy(line, rbuf + roff, n);
			line[n] = 0;
			roff += n + 2;
			return 0;
		}
		if (rlen - roff >= max) {
			fprintf(stderr, "kvzipf: reply line too long\n");
			return -1;
		}
		if (fill())
			return -1;
	}
}

static int read_exact(char *buf, size_t len)
{
	while (len) {
		size_t n;

		if (roff == rlen && fill())
			return -1;
		n = rlen - roff < len ? rlen - roff : len;
		memcpy(buf, rbuf + roff, n);
		roff += n;
		buf += n;
		len -= n;
	}
	return 0;
}

static char *req;

static int kv_set(uint64_t key, const char *val, size_t len)
{
	char line[128];
	int h = snprintf(req, 64, "set k%08llu 0 0 %zu\r\n",
			 (unsigned long long)key, len);

	memcpy(req + h, val, len);
	memcpy(req + h + len, "\r\n", 2);
	if (send_all(req, h + len + 2) || read_line(line, sizeof(line)))
		return -1;
	if (strcmp(line, "STORED")) {
		fprintf(stderr, "kvzipf: set k%08llu: %s\n",
			(unsigned long long)key, line);
		return -1;
	}
	return 0;
}

/* 1: found (into @val, *len), 0: not found, -1: error */
static int kv_get(uint64_t key, char *val, size_t max, size_t *len)
{
	char line[128], want[24];
	unsigned int flags;
	size_t n;
	int h = snprintf(req, 64, "get k%08llu\r\n", (unsigned long long)key);

	if (send_all(req, h) || read_line(line, sizeof(line)))
		return -1;
	if (!strcmp(line, "END"))
		return 0;
	snprintf(want, sizeof(want), "k%08llu", (unsigned long long)key);
	if (sscanf(line, "VALUE %*s %u %zu", &flags, &n) != 2 ||
	    strncmp(line + 6, want, KEY_LEN) || line[6 + KEY_LEN] != ' ' ||
	    n > max) {
		fprintf(stderr, "kvzipf: get %s: bad reply '%s'\n", want, line);
		return -1;
	}
	if (read_exact(val, n) || read_line(line, sizeof(line)) || line[0] ||
	    read_line(line, sizeof(line)) || strcmp(line, "END")) {
		fprintf(stderr, "kvzipf: get %s: bad reply\n", want);
		return -1;
	}
	*len = n;
	return 1;
}

/* YCSB's ZipfianGenerator over [0, n). */
struct zipf {
	uint64_t n;
	double theta, alpha, zetan, eta, half_pow;
};

static void zipf_init(struct zipf *z, uint64_t n, double theta)
{
	double zeta2 = 1 + pow(0.5, theta);
	uint64_t i;

	z->n = n;
	z->theta = theta;
	z->zetan = 0;
	for (i = 1; i <= n; i++)
		z->zetan += 1 / pow((double)i, theta);
	z->alpha = 1 / (1 - theta);
	z->eta = (1 - pow(2.0 / n, 1 - theta)) / (1 - zeta2 / z->zetan);
	z->half_pow = 1 + pow(0.5, theta);
}

static uint64_t zipf_next(const struct zipf *z, double u)
{
	double uz = u * z->zetan;
	uint64_t r;

	if (uz < 1)
		return 0;
	if (uz < z->half_pow)
		return 1;
	r = (uint64_t)(z->n * pow(z->eta * u - z->eta + 1, z->alpha));
	return r < z->n ? r : z->n - 1;
}

static uint64_t fnv1a(uint64_t v)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	int i;

	for (i = 0; i < 8; i++) {
		h ^= v & 0xff;
		h *= 0x100000001b3ULL;
		v >>= 8;
	}
	return h;
}

static uint64_t rng;

static double rand01(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (rng >> 11) * (1.0 / 9007199254740992.0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
	size_t i;

	if (!n)
		return 0;
	i = (size_t)(p * (n - 1) + 0.5);
	return v[i] * 1e6;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: kvzipf load -s SOCKET [-k KEYS] [-v BYTES] [-S SEED]\n"
		"       kvzipf run -s SOCKET [-k KEYS] [-v BYTES] [-n OPS] [-w SET%%] [-z THETA] [-S SEED]\n");
	exit(2);
}

static long num_arg(const char *s, long lo, long hi)
{
	char *e;
	long v;

	errno = 0;
	v = strtol(s, &e, 10);
	if (errno || e == s || *e || v < lo || v > hi) {
		fprintf(stderr, "kvzipf: '%s' is not a number in %ld..%ld\n",
			s, lo, hi);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	uint64_t keys = 50000, seed = 1, i;
	long ops = 100000, set_pct = 10, sets = 0, gets = 0;
	size_t vlen = 2000, glen;
	double theta = 0.99, t0, *lat, *glat, *slat;
	char *val, *got, *e;
	uint32_t *ver;
	uint8_t *seen;
	uint64_t touched = 0;
	long misses = 0, bad = 0;
	size_t ng = 0, ns = 0;
	struct zipf z;
	int load, opt;

	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "load"))
		load = 1;
	else if (!strcmp(argv[1], "run"))
		load = 0;
	else
		usage();
	optind = 2;
	while ((opt = getopt(argc, argv, "s:k:v:n:w:z:S:")) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'k':
			keys = num_arg(optarg, 2, 99999999);
			break;
		case 'v':
			vlen = num_arg(optarg, 1, VAL_MAX);
			break;
		case 'n':
			ops = num_arg(optarg, 1, 100000000);
			break;
		case 'w':
			set_pct = num_arg(optarg, 0, 100);
			break;
		case 'z':
			errno = 0;
			theta = strtod(optarg, &e);
			if (errno || e == optarg || *e || !(theta > 0) ||
			    !(theta < 1)) {
				fprintf(stderr, "kvzipf: THETA must be in (0, 1)\n");
				return 2;
			}
			break;
		case 'S':
			seed = num_arg(optarg, 0, 1L << 62);
			break;
		default:
			usage();
		}
	}
	if (!path || optind != argc)
		usage();
	req = malloc(vlen + 128);
	val = malloc(vlen);
	got = malloc(vlen);
	ver = calloc(keys, sizeof(*ver));
	seen = calloc(keys, 1);
	if (!req || !val || !got || !ver || !seen) {
		fprintf(stderr, "kvzipf: out of memory\n");
		return 1;
	}
	if (sock_open(path))
		return 1;

	if (load) {
		t0 = now();
		for (i = 0; i < keys; i++) {
			value_fill(val, vlen, i, 0, seed);
			if (kv_set(i, val, vlen))
				return 1;
		}
		printf("kvzipf: load keys=%llu value=%zu load_s=%.3f\n",
		       (unsigned long long)keys, vlen, now() - t0);
		return 0;
	}

	lat = malloc(ops * sizeof(*lat));
	glat = malloc(ops * sizeof(*glat));
	slat = malloc(ops * sizeof(*slat));
	if (!lat || !glat || !slat) {
		fprintf(stderr, "kvzipf: out of memory\n");
		return 1;
	}
	zipf_init(&z, keys, theta);
	rng = mix(seed ^ 0x6b767a697066ULL) | 1;
	t0 = now();
	for (long k = 0; k < ops; k++) {
		uint64_t key = fnv1a(zipf_next(&z, rand01())) % keys;
		int set = rand01() * 100 < set_pct;
		double t1 = now(), dt;
		int r;

		if (!seen[key]) {
			seen[key] = 1;
			touched++;
		}
		if (set) {
			value_fill(val, vlen, key, ver[key] + 1, seed);
			if (kv_set(key, val, vlen))
				return 1;
			ver[key]++;
		} else {
			r = kv_get(key, got, vlen, &glen);
			if (r < 0)
				return 1;
			if (!r) {
				misses++;
			} else {
				value_fill(val, vlen, key, ver[key], seed);
				if (glen != vlen || memcmp(val, got, vlen)) {
					if (bad < 5)
						fprintf(stderr, "kvzipf: k%08llu: wrong value (version %u expected)\n",
							(unsigned long long)key,
							ver[key]);
					bad++;
				}
			}
		}
		dt = now() - t1;
		lat[k] = dt;
		if (set) {
			slat[ns++] = dt;
			sets++;
		} else {
			glat[ng++] = dt;
			gets++;
		}
	}
	t0 = now() - t0;
	qsort(lat, ops, sizeof(*lat), cmp_double);
	qsort(glat, ng, sizeof(*glat), cmp_double);
	qsort(slat, ns, sizeof(*slat), cmp_double);
	printf("kvzipf: run ops=%ld sets=%ld gets=%ld ops_s=%.3f ops_per_s=%.1f p50_us=%.1f p99_us=%.1f get_p50_us=%.1f get_p99_us=%.1f set_p99_us=%.1f keys_touched=%llu misses=%ld bad=%ld\n",
	       ops, sets, gets, t0, ops / t0, pct(lat, ops, 0.5),
	       pct(lat, ops, 0.99), pct(glat, ng, 0.5), pct(glat, ng, 0.99),
	       pct(slat, ns, 0.99), (unsigned long long)touched, misses, bad);
	return misses || bad ? 1 : 0;
}
