#!/bin/bash
# make deb: the Debian packages build from the tree with Debian's tooling
# (dpkg-buildpackage, debhelper, dh_dkms, dh_installsystemd), lintian
# finds no error or warning (the overrides in debian/ say why), and each
# package holds what it should: vnode-dkms the module sources and a
# dkms.conf of the package's version, vnode-utils the programs, units, man
# pages, completion, bpftrace scripts and /etc/vnode/cluster.conf and
# fabrics.conf as conffiles, and maintainer scripts that create the vnode group and purge
# the state.  (A lab guest installing them is not part of this check.)
# Builds in a scratch BUILD.  Prints TAP.
set -u
. "$(dirname "$(readlink -f "$0")")/tap.rc"
chv=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -SVersion)
if [ "$chv" = "$version" ]; then ok "debian/changelog at $version"; else nok "debian/changelog says '$chv', version.h '$version'"; fi

if out=$(make -s -C "$ROOT" BUILD="$TMP" deb 2>&1); then
	ok "make deb"
else
	nok "make deb failed" "$(tail -n 20 <<<"$out")"
	echo "1..$N"
	exit 1
fi
tags=$(grep -E '^[EW]: ' <<<"$out")
if [ -z "$tags" ]; then ok "lintian: no error or warning"; else nok "lintian" "$tags"; fi

dkms=$TMP/deb/vnode-dkms_${version}_all.deb
utils=$TMP/deb/vnode-utils_${version}_amd64.deb
lst=$(dpkg-deb -c "$dkms" | awk '{print $6}')
bad=()
for f in Makefile Kbuild dkms.conf modules/Kbuild modules/include/vnode/version.h modules/xprt/xprt_core.c; do
	grep -qx "./usr/src/vnode-$version/$f" <<<"$lst" || bad+=("no usr/src/vnode-$version/$f")
done
dpkg-deb --fsys-tarfile "$dkms" | tar -xO "./usr/src/vnode-$version/dkms.conf" |
	grep -qx "PACKAGE_VERSION=\"$version\"" || bad+=("dkms.conf not at $version")
dpkg-deb -f "$dkms" Depends | grep -q dkms || bad+=("vnode-dkms does not depend on dkms")
grep -q '/usr/lib/dkms/common.postinst' < <(dpkg-deb --ctrl-tarfile "$dkms" | tar -xO ./postinst) ||
	bad+=("no DKMS postinst")
if [ ${#bad[@]} -eq 0 ]; then ok "vnode-dkms: module sources for DKMS"; else nok "vnode-dkms" "${bad[@]}"; fi

lst=$(dpkg-deb -c "$utils" | awk '{print $1, $6}')
bad=()
for f in usr/sbin/vnoded usr/bin/vnodectl usr/bin/vnode-run lib/systemd/system/vnoded.service \
	lib/systemd/system/vnode-agent.service lib/systemd/system/vnode-mem.service \
	lib/systemd/system/vnode-vnodes.service lib/systemd/system/vnode.slice \
	lib/systemd/system/vnode-rxe@.service usr/share/man/man8/vnoded.8.gz \
	usr/share/man/man8/vnodectl.8.gz usr/share/man/man1/vnode-run.1.gz \
	usr/share/man/man5/cluster.conf.5.gz usr/share/man/man7/vnode.7.gz \
	usr/share/bash-completion/completions/vnodectl etc/vnode/cluster.conf \
	etc/vnode/fabrics.conf; do
	grep -q " ./$f\$" <<<"$lst" || bad+=("no /$f")
done
grep -q '^-rwxr-xr-x ./usr/share/vnode/bpftrace/faultlat.bt$' <<<"$lst" || bad+=("bpftrace scripts not executable")
grep -q ' ./usr/src/' <<<"$lst" && bad+=("module sources in vnode-utils")
[ "$(dpkg-deb --ctrl-tarfile "$utils" | tar -xO ./conffiles | sort | tr '\n' ' ')" = \
	"/etc/vnode/cluster.conf /etc/vnode/fabrics.conf " ] ||
	bad+=("cluster.conf and fabrics.conf are not the conffiles")
dpkg-deb --ctrl-tarfile "$utils" | tar -xO ./postinst | grep -q 'addgroup --quiet --system vnode' ||
	bad+=("postinst does not create the vnode group")
dpkg-deb --ctrl-tarfile "$utils" | tar -xO ./postrm | grep -q 'rm -rf /var/lib/vnode' ||
	bad+=("postrm purge keeps the state")
dpkg-deb --ctrl-tarfile "$utils" | tar -xO ./prerm | tr -d '\\\n' | grep -q 'deb-systemd-invoke stop vnoded.service.*vnode.slice' ||
	bad+=("prerm does not stop the units and the slice on removal")
dpkg-deb -f "$utils" Depends | grep -q 'libsqlite3' || bad+=("no shlibs dependencies")
if [ ${#bad[@]} -eq 0 ]; then ok "vnode-utils: tools, units, man pages, conffiles, group, stop on removal, purge"; else nok "vnode-utils" "${bad[@]}"; fi

echo "1..$N"
exit $RC
