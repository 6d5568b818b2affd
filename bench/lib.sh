#!/bin/bash
# Helpers shared by bench/run and bench/stor.  Source after setting
# BENCH_NAME (the prefix of error messages) and VLAB_DIR.
#
#   say MSG                    a progress line on stderr
#   die MSG                    "BENCH_NAME: MSG" on stderr, exit 1
#   p1|m1|s1 'snippet'         run a bash snippet in that guest (stdin closed)
#   bench_lab HOST...          boot the bench's lab (unless BENCH_KEEP_LAB=1,
#                              it goes down on exit) and watch it: a guest
#                              whose network wedges stops the bench with
#                              "lab network wedged on HOST" and the evidence
#                              (exit 3) instead of a hang or a product failure
#   nvmet_export HOST NQN PATH ADDR    export PATH (block device or file)
#                              over nvmet-rdma on HOST at ADDR:4420
#   nvmet_unexport HOST NQN    undo nvmet_export, unload nvmet
#   nvme_attach HOST ADDR NQN [ARGS]   connect (retrying: the first try can
#                              race the port's setup); prints the namespace
#   nvme_detach HOST NQN       disconnect, unload nvme_rdma
: "${VNODE_ROOT:?}" "${BENCH_NAME:?}" "${VLAB_DIR:?}"
VLAB=$VNODE_ROOT/scripts/vlab

say() { printf '\n== %s\n' "$*" >&2; }
die() {
	echo "$BENCH_NAME: $*" >&2
	exit 1
}
p1() { "$VLAB" exec p1 -- bash -c "$1" </dev/null; }
m1() { "$VLAB" exec m1 -- bash -c "$1" </dev/null; }
s1() { "$VLAB" exec s1 -- bash -c "$1" </dev/null; }

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

bench_lab() {
	[ "${BENCH_KEEP_LAB:-0}" = 1 ] ||
		trap '[ -n "${_BENCH_WATCH:-}" ] && kill "$_BENCH_WATCH" 2>/dev/null; "$VLAB" down >/dev/null 2>&1' EXIT
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
