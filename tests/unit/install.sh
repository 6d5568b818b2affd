#!/bin/bash
# make install / make uninstall, staged under a DESTDIR with PREFIX=/usr/local
# (as a packager or an admin would run them): everything lands below PREFIX
# (the modules below /lib/modules/KVER/extra/vnode, as the kernel wants),
# the modules carry the one version and none of the lab's test hooks, the
# units name the installed daemon, the man pages render without a warning,
# the bpftrace scripts run as programs, the sample cluster.conf and the
# fabric presets parse, the completion completes; then uninstall leaves
# nothing of vnode behind.
# The release modules are built in a scratch BUILD (the lab's build/ is not
# touched).  Prints TAP.
set -u
. "$(dirname "$(readlink -f "$0")")/tap.rc"
D=$TMP/dest
P=/usr/local
ARGS=(-s -C "$ROOT" DESTDIR="$D" PREFIX=$P BUILD="$TMP/build")

# the one version: version.h and dkms.conf (debian/changelog: deb.sh)
dkv=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$ROOT/dkms.conf")
if [ -n "$version" ] && [ "$dkv" = "$version" ]; then
	ok "version $version in version.h and dkms.conf"
else
	nok "version.h says '$version', dkms.conf '$dkv'"
fi

if out=$(make "${ARGS[@]}" install 2>&1); then
	ok "make install DESTDIR=... PREFIX=$P"
else
	nok "make install failed" "$(tail -n 20 <<<"$out")"
	echo "1..$N"
	exit 1
fi

# everything below PREFIX, or in the kernel's own module directory
stray=$(cd "$D" && find . -type f | grep -Ev "^\.$P/|^\./lib/modules/[^/]+/extra/vnode/(.*/)?vnode_[a-z]+\.ko(\.xz|\.zst|\.gz)?$")
if [ -z "$stray" ]; then ok "every file below $P or /lib/modules/KVER/extra/vnode"; else nok "files outside PREFIX" "$stray"; fi

missing=()
for f in sbin/vnoded bin/vnodectl bin/vnode-run lib/systemd/system/vnoded.service \
	lib/systemd/system/vnode-agent.service lib/systemd/system/vnode-mem.service \
	lib/systemd/system/vnode-vnodes.service lib/systemd/system/vnode.slice \
	lib/systemd/system/vnode-rxe@.service share/doc/vnode/examples/cluster.conf \
	share/doc/vnode/examples/fabrics.conf share/doc/vnode/fabric.md \
	share/man/man8/vnoded.8 share/man/man8/vnodectl.8 share/man/man1/vnode-run.1 \
	share/man/man5/cluster.conf.5 share/man/man7/vnode.7 \
	share/bash-completion/completions/vnodectl share/bash-completion/completions/vnode-run \
	share/vnode/bpftrace/faultlat.bt; do
	[ -f "$D$P/$f" ] || missing+=("$f")
done
if [ ${#missing[@]} -eq 0 ]; then ok "tools, units, docs, man pages, completion, bpftrace installed"; else nok "not installed" "${missing[@]}"; fi

# units run the daemon where it was installed
if grep -qx "ExecStart=$P/sbin/vnoded --foreground --cgroup vnode.slice/vnode-vnodes.service" \
		"$D$P/lib/systemd/system/vnoded.service" &&
	grep -qx "ExecStart=$P/sbin/vnoded --agent --foreground" "$D$P/lib/systemd/system/vnode-agent.service" &&
	! grep -q '@[A-Z]*@' "$D$P"/lib/systemd/system/*; then
	ok "units name $P/sbin/vnoded"
else
	nok "units" "$(grep ExecStart "$D$P"/lib/systemd/system/*.service)"
fi

# systemd finds nothing wrong in any unit (the instance of the rxe
# template included): every command exists, every setting is known
V=$TMP/units
mkdir -p "$V"
for u in "$D$P"/lib/systemd/system/*; do
	sed "s|$P/sbin/vnoded|$D$P/sbin/vnoded|g" "$u" >"$V/${u##*/}"
done
cp "$V/vnode-rxe@.service" "$V/vnode-rxe@eth0.service"
out=$(cd "$V" && systemd-analyze verify --man=no vnoded.service vnode-agent.service \
	vnode-mem.service vnode-vnodes.service vnode.slice vnode-rxe@eth0.service 2>&1)
if [ -z "$out" ]; then ok "systemd-analyze verify: every unit clean"; else nok "systemd-analyze verify" "$out"; fi

# the installed tools say the version
out=$(for t in sbin/vnoded bin/vnodectl bin/vnode-run; do "$D$P/$t" -V; done 2>&1)
if [ "$(echo $out)" = "vnoded (vnode) $version vnodectl (vnode) $version vnode-run (vnode) $version" ]; then
	ok "-V on every tool"
else
	nok "-V" "$out"
fi

# modules: all five, the version, no test hooks
mapfile -t kos < <(find "$D"/lib/modules/*/extra/vnode -name 'vnode_*.ko*' | sort)
bad=()
for k in "${kos[@]}"; do
	[ "$(/sbin/modinfo -F version "$k")" = "$version" ] || bad+=("$(basename "$k"): version $(/sbin/modinfo -F version "$k")")
	# the test hooks' parameters (vnode_stor's, VNODE_TEST_HOOKS)
	/sbin/modinfo -F parm "$k" | cut -d: -f1 | grep -qxE 'drop_replies|stall_writes|stall_hold' &&
		bad+=("$(basename "$k") has the test hooks' parameters")
done
[ ${#kos[@]} -eq 5 ] || bad+=("want 5 modules, got ${#kos[@]}: ${kos[*]##*/}")
if [ ${#bad[@]} -eq 0 ]; then ok "5 modules, MODULE_VERSION $version, no test hooks"; else nok "modules" "${bad[@]}"; fi

# man pages render without warnings (man -l as users run it, groff strictly)
bad=()
for m in "$D$P"/share/man/man*/*; do
	w=$(MANWIDTH=80 man -l "$m" 2>&1 >/dev/null; groff -man -ww -z "$m" 2>&1)
	[ -z "$w" ] || bad+=("$(basename "$m"): $w")
	[ "$(MANWIDTH=80 man -l "$m" 2>/dev/null | wc -l)" -gt 20 ] || bad+=("$(basename "$m"): rendered almost nothing")
done
if [ ${#bad[@]} -eq 0 ]; then ok "man pages render cleanly"; else nok "man pages" "${bad[@]}"; fi

# bpftrace scripts: executable, run by bpftrace itself (no /usr/bin/env)
bad=()
for b in "$D$P"/share/vnode/bpftrace/*.bt; do
	[ -x "$b" ] && [ "$(head -n1 "$b")" = "#!/usr/bin/bpftrace" ] || bad+=("$(basename "$b")")
done
if [ ${#bad[@]} -eq 0 ]; then ok "bpftrace scripts executable"; else nok "bpftrace scripts" "${bad[@]}"; fi

if out=$("$D$P/sbin/vnoded" -n -c "$D$P/share/doc/vnode/examples/cluster.conf" 2>&1); then
	ok "the sample cluster.conf parses"
else
	nok "sample cluster.conf" "$out"
fi
# the installed presets parse, and are the ones built into vnoded
if out=$("$D$P/sbin/vnoded" -n -c /dev/null -F "$D$P/share/doc/vnode/examples/fabrics.conf" 2>&1) &&
	[ "$(grep -c '^fabric .* from built-in$' <<<"$out")" -eq 0 ] &&
	[ "$(grep -c '^fabric ' <<<"$out")" -ge 4 ] &&
	[ "$(sed 's/ from .*//' <<<"$out")" = "$("$D$P/sbin/vnoded" -n -c /dev/null -F /dev/null 2>&1 | sed 's/ from .*//')" ]; then
	ok "the installed fabrics.conf parses, the same presets as the built-in ones"
else
	nok "installed fabrics.conf" "$out"
fi

# bash completion, as installed
if out=$("$ROOT/completion/test.sh" "$D$P/share/bash-completion/completions" 2>&1); then
	ok "bash completion ($(grep -c '^ok' <<<"$out") cases)"
else
	nok "bash completion" "$(grep -v '^ok' <<<"$out")"
fi

if out=$(make "${ARGS[@]}" uninstall 2>&1); then
	ok "make uninstall"
else
	nok "make uninstall failed" "$(tail -n 20 <<<"$out")"
fi
left=$(cd "$D" && find . \( -type f -o -type l -o -name '*vnode*' \) | sort)
if [ -z "$left" ]; then ok "nothing of vnode left after uninstall"; else nok "left after uninstall" "$left"; fi

echo "1..$N"
exit $RC
