// SPDX-License-Identifier: GPL-2.0
/*
 * Asynchronous eviction: see evict.h.  Why memory.reclaim from a thread
 * of vnoded: it is the kernel's own interface for reclaim ahead of demand
 * (5.19+, so 6.1 and 6.12 alike), it reclaims the cgroup's coldest pages
 * with the same LRU logic as the fault path (swapping anon pages out
 * through the vnode swap disk), and it is not memory.high, which makes the
 * task that crossed it reclaim (and sleep) on its way back to user space:
 * the very cost we move off the fault path.  vnode_proc cannot do it
 * itself: try_to_free_mem_cgroup_pages() is not exported to modules.
 *
 * One thread per vNode (a slow reclaim of one vNode never delays
 * another's), polling memory.current every 2 ms while the free room is
 * under twice the headroom and every 10 ms otherwise; each write asks for
 * at most VN_EVICT_CHUNK, so a new setting or a stop takes effect soon.
 *
 * The threads run SCHED_IDLE: they take the CPU only while the vNode's
 * tasks wait (for a swap-in's RDMA READ above all), and a task woken by
 * its completion preempts them at once.  The swap-in's spin
 * (vnode_proc poll_us) gives way to any other runnable task, so on a
 * 1-vCPU host the faulting task sleeps through the wire time while the
 * evictor reclaims.  An earlier trial with a normal-priority reclaimer
 * took the CPU from the faulting task instead and was slower
 * (docs/benchmarks.md).  Where the tasks never wait, the evictor starves
 * and the tasks reclaim themselves, as without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "evict.h"
#include "size.h"
#include "vnoded.h"

#define KIB (1ULL << 10)

int vn_headroom_parse(const char *s, int64_t *out, struct vn_err *err)
{
	uint64_t v;
	int ret;

	if (!s || !*s)
		return vn_seterr(err, EINVAL,
				 "empty headroom (auto, off or a size such as 4M)");
	if (!strcmp(s, "auto")) {
		*out = VN_HEADROOM_AUTO;
		return 0;
	}
	if (!strcmp(s, "off")) {
		*out = VN_HEADROOM_OFF;
		return 0;
	}
	ret = vn_parse_size(s, &v, err);
	if (ret)
		return vn_seterr(err, -ret,
				 "invalid headroom '%s' (auto, off or a size such as 4M)", s);
	if (v > (1ULL << 40))
		return vn_seterr(err, ERANGE, "headroom '%s' is absurdly large", s);
	*out = (int64_t)v;
	return 0;
}

void vn_headroom_fmt(int64_t setting, char *buf, size_t len)
{
	if (setting == VN_HEADROOM_AUTO)
		snprintf(buf, len, "auto");
	else if (setting <= 0)
		snprintf(buf, len, "off");
	else
		vn_fmt_size((uint64_t)setting, buf, len);
}

/* ---- the controller ------------------------------------------------------- */

/* auto's bounds: 1/128 of the limit (at least 256 KiB) to 1/8 of it */
static uint64_t auto_min(uint64_t limit)
{
	uint64_t v = limit / 128;

	return v < 256 * KIB ? 256 * KIB : v;
}

static uint64_t auto_max(uint64_t limit)
{
	uint64_t v = limit / 8;

	return v < auto_min(limit) ? auto_min(limit) : v;
}

static uint64_t clamp_u64(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* a fixed headroom, but never more than half the limit */
static uint64_t fixed_headroom(int64_t setting, uint64_t limit)
{
	return (uint64_t)setting < limit / 2 ? (uint64_t)setting : limit / 2;
}

void vn_evict_init(struct vn_evict_ctl *c, int64_t setting, uint64_t limit)
{
	c->setting = setting;
	if (setting == VN_HEADROOM_AUTO)
		c->headroom = clamp_u64(4 * auto_min(limit), auto_min(limit),
					auto_max(limit));
	else if (setting > 0)
		c->headroom = fixed_headroom(setting, limit);
	else
		c->headroom = 0;
}

uint64_t vn_evict_want(const struct vn_evict_ctl *c, uint64_t limit,
		       uint64_t usage)
{
	uint64_t room = usage < limit ? limit - usage : 0, target;

	if (!c->headroom || room >= c->headroom)
		return 0;
	/* refill to 1.5 x headroom: hysteresis, fewer and larger passes */
	target = c->headroom + c->headroom / 2;
	return clamp_u64(target - room, 64 * KIB, VN_EVICT_CHUNK);
}

void vn_evict_adapt(struct vn_evict_ctl *c, uint64_t limit, uint64_t alloc,
		    uint64_t ms, uint64_t direct)
{
	uint64_t lo, hi, need, h = c->headroom;

	if (c->setting != VN_HEADROOM_AUTO) {
		c->headroom = c->setting > 0 ? fixed_headroom(c->setting, limit) : 0;
		return;
	}
	lo = auto_min(limit);
	hi = auto_max(limit);
	/* what 20 ms of the window's demand would take */
	need = ms ? alloc / ms * 20 : 0;
	if (direct)
		h = h * 2;
	else
		h = h - h / 8;
	c->headroom = clamp_u64(h > need ? h : need, lo, hi);
}

/* ---- one evictor -------------------------------------------------------- */

struct vn_evictor {
	struct vn_evictor *next;
	char name[32];
	pthread_t thr;
	bool running;
	bool failed;			/* could not start: not retried */
	atomic_bool stop;
	atomic_llong setting;		/* written by vnoded, read by the thread */
	atomic_ullong headroom;		/* the thread's, for reports */
	atomic_ullong evicted;		/* bytes reclaimed through memory.reclaim */
	atomic_ullong passes;
	int cur_fd, max_fd, events_fd, reclaim_fd;
};

static int open_cg(const char *dir, const char *file, int flags)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
		return -1;
	return open(path, flags | O_CLOEXEC);
}

/* cgroupfs files are seq files: pread at 0 reads them afresh */
static int pread_text(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int read_u64_fd(int fd, uint64_t *v)
{
	char buf[32];
	int ret = pread_text(fd, buf, sizeof(buf));

	if (ret)
		return ret;
	if (!strncmp(buf, "max", 3)) {
		*v = UINT64_MAX;
		return 0;
	}
	*v = strtoull(buf, NULL, 10);
	return 0;
}

/* memory.events "max": the times a charge met the limit and its task
 * reclaimed directly */
static uint64_t read_direct(int fd)
{
	char buf[256], *p;

	if (fd < 0 || pread_text(fd, buf, sizeof(buf)))
		return 0;
	p = strstr(buf, "\nmax ");
	if (!p && !strncmp(buf, "max ", 4))
		p = buf - 1;
	return p ? strtoull(p + 5, NULL, 10) : 0;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void *evict_main(void *arg)
{
	struct vn_evictor *e = arg;
	struct sched_param sp = { 0 };
	struct vn_evict_ctl c;
	uint64_t limit = 0, usage, want, win_usage = 0, win_evicted = 0;
	uint64_t win_direct;
	int64_t setting = -2, win_start = vn_mono_ms(), now;
	char val[32];

	pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
	win_direct = read_direct(e->events_fd);
	while (!atomic_load(&e->stop)) {
		uint64_t lim;
		int64_t s = atomic_load(&e->setting);

		if (read_u64_fd(e->max_fd, &lim) || read_u64_fd(e->cur_fd, &usage)) {
			sleep_ms(100);	/* the cgroup went away: vnoded stops us */
			continue;
		}
		if (s != setting || lim != limit) {
			vn_evict_init(&c, s, lim);
			setting = s;
			limit = lim;
		}
		/* no limit: nothing to keep below (a thread never runs "off") */
		if (limit == UINT64_MAX) {
			atomic_store(&e->headroom, 0);
			sleep_ms(50);
			continue;
		}
		want = vn_evict_want(&c, limit, usage);
		if (want) {
			snprintf(val, sizeof(val), "%" PRIu64, want);
			/* EAGAIN: not all of it was reclaimable */
			if (pwrite(e->reclaim_fd, val, strlen(val), 0) > 0) {
				atomic_fetch_add(&e->evicted, want);
				win_evicted += want;
			}
			atomic_fetch_add(&e->passes, 1);
		}
		now = vn_mono_ms();
		if (now - win_start >= VN_EVICT_WINDOW_MS) {
			uint64_t d = read_direct(e->events_fd), alloc = 0;

			read_u64_fd(e->cur_fd, &usage);
			if (usage + win_evicted > win_usage)
				alloc = usage + win_evicted - win_usage;
			vn_evict_adapt(&c, limit, alloc, (uint64_t)(now - win_start),
				       d - win_direct);
			win_direct = d;
			win_usage = usage;
			win_evicted = 0;
			win_start = now;
		}
		atomic_store(&e->headroom, c.headroom);
		if (want)
			continue;
		sleep_ms(limit - usage < 2 * c.headroom ? 2 : 10);
	}
	return NULL;
}

static void evictor_close(struct vn_evictor *e)
{
	if (e->running) {
		atomic_store(&e->stop, true);
		pthread_join(e->thr, NULL);
		e->running = false;
	}
	if (e->cur_fd >= 0)
		close(e->cur_fd);
	if (e->max_fd >= 0)
		close(e->max_fd);
	if (e->events_fd >= 0)
		close(e->events_fd);
	if (e->reclaim_fd >= 0)
		close(e->reclaim_fd);
	free(e);
}

static int evictor_open(const char *name, const char *dir, int64_t setting,
			bool thread, struct vn_evictor **out, struct vn_err *err)
{
	struct vn_evictor *e = calloc(1, sizeof(*e));
	sigset_t all, old;
	int ret;

	if (!e)
		return vn_seterr(err, ENOMEM, "out of memory");
	snprintf(e->name, sizeof(e->name), "%s", name);
	atomic_init(&e->setting, setting);
	e->cur_fd = e->max_fd = e->events_fd = e->reclaim_fd = -1;
	if (thread) {
		e->cur_fd = open_cg(dir, "memory.current", O_RDONLY);
		e->max_fd = open_cg(dir, "memory.max", O_RDONLY);
		e->events_fd = open_cg(dir, "memory.events", O_RDONLY);
		e->reclaim_fd = open_cg(dir, "memory.reclaim", O_WRONLY);
		if (e->cur_fd < 0 || e->max_fd < 0 || e->events_fd < 0 ||
		    e->reclaim_fd < 0) {
			ret = errno;
			evictor_close(e);
			return vn_seterr(err, ret,
					 "cgroup %s: cannot open its memory files for eviction (memory.reclaim needs Linux 5.19): %s",
					 dir, strerror(ret));
		}
		/* signals stay with vnoded's signalfd */
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		ret = pthread_create(&e->thr, NULL, evict_main, e);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (ret) {
			evictor_close(e);
			return vn_seterr(err, ret, "cannot start the evictor of %s: %s",
					 name, strerror(ret));
		}
		e->running = true;
	}
	*out = e;
	return 0;
}

/* ---- vnoded's evictors -------------------------------------------------- */

static struct vn_evictor **find(struct vn_ctx *ctx, const char *name)
{
	struct vn_evictor **p;

	for (p = &ctx->evictors; *p; p = &(*p)->next)
		if (!strcmp((*p)->name, name))
			return p;
	return p;
}

int vn_evict_set(struct vn_ctx *ctx, const char *name, int64_t setting,
		 struct vn_err *err)
{
	bool thread = setting != VN_HEADROOM_OFF && !vn_kern_fake(&ctx->kern);
	struct vn_evictor **p = find(ctx, name), *e = NULL;
	char dir[PATH_MAX];
	int ret;

	if (*p) {
		e = *p;
		if (e->failed && atomic_load(&e->setting) == setting)
			return 0;
		atomic_store(&e->setting, setting);
		if (e->running == thread && !e->failed)
			return 0;
		/* a thread to start or to stop */
		*p = e->next;
		evictor_close(e);
		e = NULL;
		p = find(ctx, name);
	}
	if (vn_cg_path(&ctx->kern, dir, sizeof(dir), name, NULL))
		return vn_seterr(err, ENAMETOOLONG, "cgroup path too long");
	ret = evictor_open(name, dir, setting, thread, &e, err);
	if (ret && !evictor_open(name, dir, setting, false, &e, NULL))
		e->failed = true;	/* the same setting is not retried */
	if (!ret || e)
		*p = e;
	return ret;
}

void vn_evict_stop(struct vn_ctx *ctx, const char *name)
{
	struct vn_evictor **p = find(ctx, name), *e = *p;

	if (!e)
		return;
	*p = e->next;
	evictor_close(e);
}

void vn_evict_stop_all(struct vn_ctx *ctx)
{
	while (ctx->evictors)
		vn_evict_stop(ctx, ctx->evictors->name);
}

void vn_evict_report(struct vn_ctx *ctx, const char *name, json_object *v)
{
	struct vn_evictor *e = *find(ctx, name);
	char path[PATH_MAX], buf[32];
	int fd;

	if (e) {
		vn_headroom_fmt(atomic_load(&e->setting), buf, sizeof(buf));
		json_object_object_add(v, "headroom", json_object_new_string(buf));
		json_object_object_add(v, "headroom_now",
				       json_object_new_uint64(atomic_load(&e->headroom)));
		json_object_object_add(v, "evicted",
				       json_object_new_uint64(atomic_load(&e->evicted)));
	}
	if (vn_cg_path(&ctx->kern, path, sizeof(path), name, "memory.events"))
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	json_object_object_add(v, "direct_reclaim",
			       json_object_new_uint64(read_direct(fd)));
	close(fd);
}

/* ---- vnoded --evict ----------------------------------------------------- */

int vn_evict_foreground(const char *cgdir, int64_t setting)
{
	struct vn_evictor *e;
	struct vn_err err = { "" };
	uint64_t d0, d1;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (setting == VN_HEADROOM_OFF) {
		fprintf(stderr, "vnoded --evict: the headroom is off: nothing to do\n");
		return 2;
	}
	if (evictor_open("-", cgdir, setting, true, &e, &err)) {
		fprintf(stderr, "vnoded --evict: %s\n", err.msg);
		return 1;
	}
	d0 = read_direct(e->events_fd);
	sigwait(&set, &sig);
	d1 = read_direct(e->events_fd);
	printf("evicted_bytes=%llu passes=%llu headroom_bytes=%llu direct_reclaim=%" PRIu64 "\n",
	       (unsigned long long)atomic_load(&e->evicted),
	       (unsigned long long)atomic_load(&e->passes),
	       (unsigned long long)atomic_load(&e->headroom), d1 - d0);
	evictor_close(e);
	return 0;
}
