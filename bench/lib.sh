#!/bin/bash
# Helpers shared by bench/run and bench/stor.  Source after setting
# BENCH_NAME (the prefix of error messages) and VLAB_DIR.
#
#   say MSG                    a progress line on stderr
#   die MSG                    "BENCH_NAME: MSG" on stderr, exit 1
#   p1|m1|s1 'snippet'         run a bash snippet on that host (stdin closed)
#   bench_lab HOST...          the virtual lab: boot the bench's lab (unless
#                              BENCH_KEEP_LAB=1, it goes down on exit) and
#                              watch it: a guest whose network wedges stops
#                              the bench with "lab network wedged on HOST"
#                              and the evidence (exit 3) instead of a hang
#                              or a product failure.  Real hosts: check that
#                              each answers over ssh
#   bench_addr HOST            the address HOST serves RDMA on
#   bench_rdma_dev HOST        its RDMA device (for ib_read_lat)
#   bench_mod HOST MOD [ARG=V...]  load vnode_MOD (and vnode_xprt with the
#                              cluster key) on HOST
#   bench_put HOST FILE NAME   FILE (an executable) on HOST; prints its path
#   nvmet_export HOST NQN PATH ADDR    export PATH (block device or file)
#                              over nvmet-rdma on HOST at ADDR:4420
#   nvmet_unexport HOST NQN    undo nvmet_export, unload nvmet
#   nvme_attach HOST ADDR NQN [ARGS]   connect (retrying: the first try can
#                              race the port's setup); prints the namespace
#   nvme_detach HOST NQN       disconnect, unload nvme_rdma
#
# Real servers instead of the lab (docs/lab-servers.md, section 9):
#   BENCH_HOSTS="p1=root@srv1 m1=root@srv2 s1=root@srv3"   ssh destinations
#              (the hosts the bench uses; root, or a user allowed to load
#              modules and write /sys)
#   BENCH_SSH  the ssh command (default: ssh -o BatchMode=yes)
#   BENCH_ADDR_<host>   its RDMA address (default: the destination's host part)
#   BENCH_RDMA_DEV      the RDMA device for ib_read_lat (default: each
#              host's first in /sys/class/infiniband)
#   BENCH_INSMOD        how modules load: default modprobe (the vnode-dkms
#              package installed; /etc/vnode/cluster.key written into
#              vnode_xprt before any vnode module serves or connects), or a
#              command taking "MOD [ARG=V...]" like scripts/vnode-insmod
: "${VNODE_ROOT:?}" "${BENCH_NAME:?}" "${VLAB_DIR:?}"
VLAB=$VNODE_ROOT/scripts/vlab
BENCH_HOSTS=${BENCH_HOSTS:-}

say() { printf '\n== %s\n' "$*" >&2; }
die() {
	echo "$BENCH_NAME: $*" >&2
	exit 1
}

# bench_dest HOST: HOST's ssh destination from BENCH_HOSTS ("" in the lab).
bench_dest() {
	local e
	for e in $BENCH_HOSTS; do
		[ "${e%%=*}" = "$1" ] && { echo "${e#*=}"; return 0; }
	done
	[ -z "$BENCH_HOSTS" ] || die "BENCH_HOSTS names no $1"
}

# on HOST SNIPPET: bash -c SNIPPET on HOST, over ssh or in the lab.
on() {
	local d
	d=$(bench_dest "$1") || exit 1
	if [ -n "$d" ]; then
		# shellcheck disable=SC2086
		${BENCH_SSH:-ssh -o BatchMode=yes} "$d" "bash -c $(printf '%q' "$2")" </dev/null
	else
		"$VLAB" exec "$1" -- bash -c "$2" </dev/null
	fi
}
p1() { on p1 "$1"; }
m1() { on m1 "$1"; }
s1() { on s1 "$1"; }

bench_addr() {
	local d v="BENCH_ADDR_$1"
	d=$(bench_dest "$1") || exit 1
	if [ -z "$d" ]; then
		"$VLAB" addr "$1"
	elif [ -n "${!v:-}" ]; then
		echo "${!v}"
	else
		d=${d#*@}
		echo "${d%%:*}"
	fi
}

bench_rdma_dev() {
	if [ -z "$BENCH_HOSTS" ]; then
		echo rxe0
	elif [ -n "${BENCH_RDMA_DEV:-}" ]; then
		echo "$BENCH_RDMA_DEV"
	else
		on "$1" 'ls /sys/class/infiniband | head -n 1' | grep . || die "no RDMA device on $1"
	fi
}

bench_mod() {
	local h=$1 mod=$2
	shift 2
	if [ -z "$BENCH_HOSTS" ]; then
		on "$h" "$VNODE_ROOT/scripts/vnode-insmod $mod $*"
	elif [ -n "${BENCH_INSMOD:-}" ]; then
		on "$h" "$BENCH_INSMOD $mod $*"
	else
		on "$h" "modprobe vnode_xprt || exit 1
			k=/etc/vnode/cluster.key c=/sys/kernel/config/vnode_xprt/key
			[ ! -e \$k ] || cat \$k > \$c || exit 1
			[ $mod = xprt ] || modprobe vnode_$mod $*"
	fi
}

bench_put() {
	local h=$1 f=$2 d
	d=$(bench_dest "$h") || exit 1
	if [ -z "$d" ]; then
		echo "$f"	# the lab shares the host's tree
		return 0
	fi
	# shellcheck disable=SC2086
	${BENCH_SSH:-ssh -o BatchMode=yes} "$d" "mkdir -p /tmp/vnode-bench && cat > /tmp/vnode-bench/$3 && chmod 0755 /tmp/vnode-bench/$3" <"$f" ||
		die "cannot copy $f to $h"
	echo "/tmp/vnode-bench/$3"
}

# `vlab watch` kills this script's children and then sends it TERM; the
# trap runs as soon as the command it waited for has died.
_bench_wedged() {
	local f
	trap - TERM
	for f in "$VLAB_DIR"/*.wedge; do
		[ -f "$f" ] || continue
		echo "$BENCH_NAME: $(head -n 1 "$f") -- a lab fault, not a result (docs/lab.md)" >&2
		tail -n +2 "$f" >&2
	done
	exit 3
}

# bench_atexit SNIPPET: run SNIPPET at exit, before bench_lab brings the
# lab down (a plain `trap ... EXIT` would replace that and leave it up).
bench_atexit() {
	# shellcheck disable=SC2064
	trap "$1; ${_BENCH_EXIT:-true}" EXIT
}

bench_lab() {
	local h
	if [ -n "$BENCH_HOSTS" ]; then
		for h in "$@"; do
			on "$h" true || die "cannot run commands on $h ($(bench_dest "$h")) over ssh"
		done
		return 0
	fi
	if [ "${BENCH_KEEP_LAB:-0}" != 1 ]; then
		# shellcheck disable=SC2016
		_BENCH_EXIT='[ -n "${_BENCH_WATCH:-}" ] && kill "$_BENCH_WATCH" 2>/dev/null; "$VLAB" down >/dev/null 2>&1'
		# shellcheck disable=SC2064
		trap "$_BENCH_EXIT" EXIT
	fi
	"$VLAB" ensure "$@" >&2 || die "lab did not boot"
	trap _bench_wedged TERM
	"$VLAB" watch $$ "$@" </dev/null >/dev/null 2>&1 &
	_BENCH_WATCH=$!
}

nvmet_export() {
	local h=$1 nqn=$2 path=$3 addr=$4
	"$h" "modprobe nvmet && modprobe nvmet_rdma &&
	    { mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config; } &&
	    c=/sys/kernel/config/nvmet; s=\$c/subsystems/$nqn; mkdir -p \$s/namespaces/1 &&
	    echo 1 > \$s/attr_allow_any_host && echo $path > \$s/namespaces/1/device_path &&
	    { echo 1 > \$s/namespaces/1/enable ||
	      { echo 1 > \$s/namespaces/1/buffered_io && echo 1 > \$s/namespaces/1/enable; }; } &&
	    mkdir -p \$c/ports/1 && echo rdma > \$c/ports/1/addr_trtype && echo ipv4 > \$c/ports/1/addr_adrfam &&
	    echo $addr > \$c/ports/1/addr_traddr && echo 4420 > \$c/ports/1/addr_trsvcid &&
	    ln -s \$s \$c/ports/1/subsystems/$nqn"
}

nvmet_unexport() {
	local h=$1 nqn=$2
	"$h" "c=/sys/kernel/config/nvmet; rm -f \$c/ports/1/subsystems/$nqn; rmdir \$c/ports/1
	    echo 0 > \$c/subsystems/$nqn/namespaces/1/enable; rmdir \$c/subsystems/$nqn/namespaces/1 \$c/subsystems/$nqn
	    rmmod nvmet_rdma nvmet; true"
}

nvme_attach() {
	local h=$1 addr=$2 nqn=$3
	shift 3
	"$h" "modprobe nvme_rdma; for i in 1 2 3 4 5; do nvme connect -t rdma -a $addr -s 4420 -n $nqn $* >/dev/null && break; sleep 2; done
	    for i in \$(seq 50); do d=\$(ls /sys/block | grep -m1 '^nvme[0-9]*n1\$') && [ -b /dev/\$d ] && break; sleep 0.2; done
	    [ -n \"\$d\" ] && echo \$d"
}

nvme_detach() {
	"$1" "nvme disconnect -n $2 >/dev/null; rmmod nvme_rdma nvme_fabrics 2>/dev/null; true"
}
