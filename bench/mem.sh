#!/bin/bash
# The remote-memory measurements shared by bench/run and bench/auth.
# Source after bench/lib.sh, with WS, NACC, LAT_WS, LAT_N, LAT_ROUNDS,
# RP (the randpage binary, its path on p1), CSV, M1 (m1's address) and
# RDEV_P1, RDEV_M1 (their RDMA devices) set.
#
#   csv METRIC BACKEND PCT VALUE UNIT   one line of results.csv
#   median_line LINE...        the line with the median leading number
#   alternate R A B            "A B" or "B A" by the parity of R
#   run_wl BACKEND FRAC [TAG]  one randpage run under memory.max = FRAC%
#   raw_read_lat               ib_read_lat p1 -> m1, 4 KiB
#   fault_latency              remote-fault service latency vs raw READ
#   setup_vnode [insecure]     vnode_mem on m1, a 1-replica vnode disk on
#                              p1 as swap (/run/bench-vnode.swap); with
#                              "insecure", vnode_xprt loaded insecure=1
#                              and without a key on both (no handshake)
#   vnode_swap_disk NAME BE    another such disk, swap for BE
#   vnode_hist [NAME]          read_lat_hist of vnode disk NAME (bench)
#   teardown_vnode             undo it, modules unloaded

csv() { echo "$1,$2,$3,$4,$5" >>"$CSV"; }
# median_line LINE...: the line with the median leading number.
median_line() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
# alternate R A B: "A B" for odd R, "B A" for even (pairs flip their order).
alternate() { if [ $(($1 % 2)) = 1 ]; then echo "$2 $3"; else echo "$3 $2"; fi; }

# run_wl BACKEND FRAC [TAG]: one workload run; FRAC=100 means no limit.
# Sets wl_total (seconds); the CSV metrics get the prefix TAG (a pair).
# vnode's runs keep the group BENCH_EVICT below its limit (vnoded --evict:
# asynchronous eviction, docs/remote-memory.md; off by default, as
# vnoded's: the kernel's own direct reclaim); the other backends run with
# BENCH_EVICT_BASE (off by default: stock swap).
# On vnode, the swap-ins' service latency over the run (read_lat_hist before
# and after: the reads under load) goes to the CSV as read_load_p50_us,
# read_load_p99_us and read_load_n, and the time they spun waiting for
# the wire (the disk's poll_ns) as spin_s.  randpage's CPU figures for
# the access phase and m1's busy share over the run go there too.
run_wl() {
	local be=$1 frac=$2 tag=${3:-} out m0 m1b s0='' s1 lim ev=${BENCH_EVICT_BASE:-off} evs='' hd='' h0='' h1='' n p50 p99
	if [ "$frac" = 100 ]; then lim=max; else lim=$((WS * frac / 100))M; fi
	[ "$be" = vnode ] && ev=${BENCH_EVICT:-off}
	if [ "$ev" != off ] && [ "$frac" != 100 ]; then
		evs="$VNODED --evict /sys/fs/cgroup/bench --headroom $ev >/tmp/bench-evict.out 2>&1 & ep=\$!"
	fi
	case $be in
	vnode) [ "$frac" != 100 ] && hd=bench ;;
	vnodesplit) hd=benchsplit ;;
	esac
	[ -z "$hd" ] || { h0=$(vnode_hist "$hd"); s0=$(vnode_poll_ns "$hd"); }
	m0=$(m1 "head -n 1 /proc/stat")
	out=$(p1 "mkdir -p /sys/fs/cgroup/bench; echo $lim > /sys/fs/cgroup/bench/memory.max
		echo max > /sys/fs/cgroup/bench/memory.swap.max
		sync; echo 3 > /proc/sys/vm/drop_caches
		ep=''; $evs
		d0=\$(awk '\$1 == \"max\" { print \$2 }' /sys/fs/cgroup/bench/memory.events)
		sh -c 'echo \$\$ > /sys/fs/cgroup/bench/cgroup.procs; exec $RP -m $WS -n $NACC'; rc=\$?
		d1=\$(awk '\$1 == \"max\" { print \$2 }' /sys/fs/cgroup/bench/memory.events)
		echo direct_reclaims=\$((d1 - d0))
		if [ -n \"\$ep\" ]; then kill -TERM \$ep; wait \$ep; cat /tmp/bench-evict.out; fi
		exit \$rc") || {
		echo "$out" >&2
		die "workload failed on $be at $frac%"
	}
	echo "$out" >&2
	m1b=$(m1 "head -n 1 /proc/stat")
	if [ -n "$h0" ] && h1=$(vnode_hist "$hd"); then
		read -r n p50 p99 < <(hist_pct "$h0" "$h1")
		csv "${tag}read_load_n" "$be" "$frac" "$n" count
		csv "${tag}read_load_p50_us" "$be" "$frac" "$p50" us
		csv "${tag}read_load_p99_us" "$be" "$frac" "$p99" us
	fi
	# the swap-ins' spin: CPU time spent waiting for the wire
	if [ -n "$s0" ] && s1=$(vnode_poll_ns "$hd") && [ -n "$s1" ]; then
		csv "${tag}spin_s" "$be" "$frac" "$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')" s
	fi
	local fill acc
	fill=$(sed -n 's/.*fill_s=\([0-9.]*\).*/\1/p' <<<"$out")
	acc=$(sed -n 's/.*access_s=\([0-9.]*\).*/\1/p' <<<"$out")
	wl_total=$(awk -v a="$fill" -v b="$acc" 'BEGIN{printf "%.3f", a+b}')
	csv "${tag}workload_s" "$be" "$frac" "$wl_total" s
	csv "${tag}access_s" "$be" "$frac" "$acc" s
	local dr mf k v
	mf=$(sed -n 's/.*access_majflt=\([0-9]*\).*/\1/p' <<<"$out")
	[ -z "$mf" ] || csv "${tag}access_majflt" "$be" "$frac" "$mf" count
	# where the access phase's time went on p1 (randpage reads /proc/stat)
	for k in access_busy_pct access_softirq_pct access_self_cpu_s; do
		v=$(sed -n "s/.* $k=\([0-9.]*\).*/\1/p" <<<"$out")
		[ -z "$v" ] || csv "$tag$k" "$be" "$frac" "$v" "$(case $k in *_s) echo s ;; *) echo pct ;; esac)"
	done
	# m1's busy share over the whole run (fill and access)
	v=$(printf '%s\n%s\n' "$m0" "$m1b" | awk '$1 == "cpu" { t = 0; for (i = 2; i <= 9; i++) t += $i; b = t - $5 - $6
		if (n++) { if (t > t0) printf "%.1f", 100 * (b - b0) / (t - t0) } else { t0 = t; b0 = b } }')
	[ -z "$v" ] || csv "${tag}m1_busy_pct" "$be" "$frac" "$v" pct
	dr=$(sed -n 's/^direct_reclaims=\([0-9]*\).*/\1/p' <<<"$out")
	[ -z "$dr" ] || csv "${tag}direct_reclaim" "$be" "$frac" "$dr" count
}

# vnode_hist [DISK]: read_lat_hist of vnode disk DISK (bench) on p1.
vnode_hist() {
	p1 "cat /sys/block/\$(cat /sys/kernel/config/vnode/mem/${1:-bench}/dev)/vnode/read_lat_hist"
}
# vnode_poll_ns DISK: the disk's poll_ns (empty if its module has none).
vnode_poll_ns() {
	p1 "cat /sys/block/\$(cat /sys/kernel/config/vnode/mem/$1/dev)/vnode/poll_ns 2>/dev/null || true"
}

# raw_read_lat: ib_read_lat between p1 and m1, 4 KiB, busy-polling (the
# physical limit here).  Sets raw_typ and raw_p99.
raw_read_lat() {
	local lat
	m1 "pkill ib_read_lat; (ib_read_lat -d $RDEV_M1 -s 4096 -n 2000 >/dev/null 2>&1 &)"
	sleep 1
	lat=$(p1 "ib_read_lat -d $RDEV_P1 -s 4096 -n 2000 $M1 2>/dev/null") || die "ib_read_lat failed"
	echo "$lat" | tail -n 3 >&2
	read -r raw_typ raw_p99 < <(awk '$1 == 4096 { print $5, $8 }' <<<"$lat")
	[ -n "$raw_typ" ] || die "cannot parse ib_read_lat output"
}

# fault_latency: the remote-fault service latency against the raw READ,
# in BENCH_LAT_ROUNDS rounds of (ib_read_lat, our faults, ib_read_lat)
# back to back, each round's ratio taken against the mean of the two raw
# figures around it; the round with the median ratio is the result, and
# every round is in the CSV.  Rounds, and a raw figure on both sides,
# because on a 2-core TCG host (itself a VM) both figures swing from
# minute to minute (ib_read_lat alone from 275 to 520 us in one run), and
# a ratio is only meaningful between measurements taken together.
# In a round randpage -L fills BENCH_LAT_WS MiB, pushes all of it out
# with memory.reclaim and then faults BENCH_LAT_N distinct pages back one
# at a time with no memory pressure: every access is one swap-in and no
# write-back competes with it, which is what ib_read_lat measures too.
# The service latency (request queued -> data in the page; the latency_ns
# of vnode:page_read) comes from the disk's own fine histogram,
# /sys/block/vnmemN/vnode/read_lat_hist, read before and after: tracing
# every event with bpftrace costs a 1-vCPU TCG guest so much that it
# doubled the latencies it measured.  randpage also reports what the
# program saw (fault entry to return, kernel fault handling included).
fault_latency() {
	local out n p50 p99 h0 h1 r rounds=() best raw0 p990
	p1 'cat /sys/kernel/config/vnode/mem/bench/dev' >/dev/null || die "no vnode disk"
	for r in $(seq "$LAT_ROUNDS"); do
		say "round $r/$LAT_ROUNDS: raw 4 KiB RDMA READ latency (ib_read_lat), one remote fault at a time, raw again"
		raw_read_lat
		raw0=$raw_typ p990=$raw_p99
		h0=$(vnode_hist) || die "no read_lat_hist"
		out=$(p1 "mkdir -p /sys/fs/cgroup/bench; echo max > /sys/fs/cgroup/bench/memory.max
			sh -c 'echo \$\$ > /sys/fs/cgroup/bench/cgroup.procs; exec $RP -L -m $LAT_WS -n $LAT_N'") ||
			{ echo "$out" >&2; die "fault-latency run failed"; }
		echo "$out" >&2
		h1=$(vnode_hist)
		read -r n p50 p99 < <(hist_pct "$h0" "$h1")
		[ "${n:-0}" -gt 0 ] || die "no remote reads recorded"
		echo "swap-ins: $n  service p50 ${p50} us  p99 ${p99} us" >&2
		raw_read_lat
		csv round_rdma_read_lat_before_us raw "$r" "$raw0" us
		csv round_rdma_read_lat_after_us raw "$r" "$raw_typ" us
		raw_typ=$(awk -v a="$raw0" -v b="$raw_typ" 'BEGIN { printf "%.2f", (a + b) / 2 }')
		raw_p99=$(awk -v a="$p990" -v b="$raw_p99" 'BEGIN { printf "%.2f", (a + b) / 2 }')
		csv round_rdma_read_lat_us raw "$r" "$raw_typ" us
		csv round_fault_lat_p50_us vnode "$r" "$p50" us
		rounds+=("$(awk -v a="$p50" -v b="$raw_typ" 'BEGIN { printf "%.4f", a / b }') $raw_typ $raw_p99 $p50 $p99 $n $(sed -n 's/.*p50_us=\([0-9.]*\).*p99_us=\([0-9.]*\).*/\1 \2/p' <<<"$out")")
	done
	# the median round by ratio
	best=$(median_line "${rounds[@]}")
	read -r _ raw_typ raw_p99 p50 p99 n app50 app99 <<<"$best"
	csv rdma_read_lat_us raw 0 "$raw_typ" us
	csv rdma_read_lat_p99_us raw 0 "$raw_p99" us
	csv fault_lat_p50_us vnode 0 "$p50" us
	csv fault_lat_p99_us vnode 0 "$p99" us
	csv faults_measured vnode 0 "$n" count
	csv fault_app_p50_us vnode 0 "$app50" us
	csv fault_app_p99_us vnode 0 "$app99" us
}

# hist_pct BEFORE AFTER: two read_lat_hist snapshots ("UPPER:N" pairs,
# 10 us buckets below 1 ms, 100 us below 10 ms, "0:N" for 10 ms and up)
# -> "count p50 p99" of the reads in between, interpolated linearly
# inside the bucket.
hist_pct() {
	awk -v a="$1" -v b="$2" '
	function load(s, arr,   n, i, kv) {
		n = split(s, kv, /[ :]/)
		for (i = 1; i < n; i += 2)
			arr[kv[i] == 0 ? 1e9 : kv[i] + 0] += kv[i + 1]
	}
	function pct(p,   want, acc, i, u, lo, c) {
		want = p * tot
		acc = 0
		for (i = 1; i <= nb; i++) {
			u = ub[i]; c = d[u]
			if (acc + c >= want) {
				if (u == 1e9) return 10000
				lo = u <= 1000 ? u - 10 : u - 100
				return lo + (u - lo) * (want - acc) / c
			}
			acc += c
		}
		return 0
	}
	BEGIN {
		load(a, h0); load(b, h1)
		for (u in h1) { d[u] = h1[u] - h0[u]; if (d[u] > 0) { tot += d[u]; ub[++nb] = u + 0 } }
		# sort the upper bounds (insertion sort: at most 191)
		for (i = 2; i <= nb; i++) { v = ub[i]; for (j = i - 1; j > 0 && ub[j] > v; j--) ub[j + 1] = ub[j]; ub[j + 1] = v }
		if (!tot) { print 0, 0, 0; exit }
		printf "%d %.1f %.1f\n", tot, pct(0.5), pct(0.99)
	}'
}

setup_vnode() {
	local h
	if [ "${1:-}" = insecure ]; then
		[ -z "$BENCH_HOSTS" ] || die "the insecure (keyless) setup is for the lab only"
		for h in m1 p1; do
			on $h "VNODE_KEY_FILE=/nonexistent $VNODE_ROOT/scripts/vnode-insmod xprt insecure=1" || return 1
		done
	fi
	bench_mod m1 mem capacity="${BENCH_MEM_CAPACITY:-1G}" || return 1
	# shellcheck disable=SC2086
	bench_mod p1 proc ${BENCH_PROC_PARAMS:-} || return 1
	vnode_swap_disk bench vnode
}
# vnode_swap_disk NAME BACKEND: a 1-replica vnode disk NAME of WS * 2 MiB
# on m1, made swap for BACKEND (/run/bench-BACKEND.swap); the host is
# connected with vnode_proc's parameters as they are now.
vnode_swap_disk() {
	p1 "c=/sys/kernel/config/vnode/mem/$1; mkdir \$c && echo $M1 > \$c/hosts &&
		echo $((WS * 2))M > \$c/size && echo 1 > \$c/replicas &&
		{ echo 1 > \$c/enable || { sleep 3; echo 1 > \$c/enable; }; } &&
		mkswap -q /dev/\$(cat \$c/dev) && echo '--discard=pages /dev/'\$(cat \$c/dev) > /run/bench-$2.swap"
}
teardown_vnode() {
	p1 'swapoff -a; c=/sys/kernel/config/vnode/mem/bench; echo 0 > $c/enable; rmdir $c
	    rmmod vnode_proc vnode_xprt'
	m1 'rmmod vnode_mem vnode_xprt'
}
