#!/bin/bash
# vnoded and its storage agent are Type=notify services: each tells the
# service manager READY=1 only once it serves (vnoded after probing the
# memory hosts and reconciling the vNodes: a client asking at that moment
# finds the host probed), and STOPPING=1 when it stops.  Runs vnoded on
# its fake kernel (--sysroot) with NOTIFY_SOCKET pointing at a datagram
# socket of our own, as systemd would set it.  Prints TAP.
set -u
. "$(dirname "$(readlink -f "$0")")/tap.rc"
B=$ROOT/userspace/bin
R=$TMP/root
mkdir -p "$R/sys/fs/cgroup" "$R/sys/kernel/config/vnode/mem" "$R/sys/kernel/config/vnode/vnodes" \
	"$R/sys/kernel/config/vnode_stor/volumes" "$R/probe" "$TMP/state"
echo memory >"$R/sys/fs/cgroup/cgroup.controllers"
echo "128M 0 20" >"$R/probe/10.0.0.2:7470"
printf '[cluster]\ninsecure = true\n[memory m1]\naddr = 10.0.0.2\n[agent]\nlisten = 127.0.0.1:17472\n' >"$TMP/c.conf"

# notify_run OUT CMD...: run CMD with NOTIFY_SOCKET; at READY=1 record
# `vnodectl component list` (when a socket is given), then SIGTERM it and
# collect what it sent, one message per line, into OUT
notify_run() {
	local out=$1
	shift
	python3 - "$out" "$TMP/notify" "${VNSOCK:-}" "$B/vnodectl" "$@" <<'PY'
import os, signal, socket, subprocess, sys
out, path, vnsock, vnodectl, cmd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(20)
p = subprocess.Popen(cmd, env=dict(os.environ, NOTIFY_SOCKET=path),
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
msgs = []
try:
    while True:
        m = s.recv(4096).decode()
        msgs.append(m.replace("\n", " "))
        if "READY=1" in m:
            if vnsock:
                r = subprocess.run([vnodectl, "-s", vnsock, "component", "list"],
                                   capture_output=True, text=True)
                msgs.append("AT-READY " + r.stdout.replace("\n", " "))
            break
    p.send_signal(signal.SIGTERM)
    while True:
        m = s.recv(4096).decode()
        msgs.append(m.replace("\n", " "))
        if "STOPPING=1" in m:
            break
except socket.timeout:
    msgs.append("TIMEOUT")
p.kill()
p.wait()
os.unlink(path)
open(out, "w").write("\n".join(msgs) + "\n")
PY
}

VNSOCK=$TMP/sock notify_run "$TMP/d.out" "$B/vnoded" -f -r "$R" -s "$TMP/state" -S "$TMP/sock" \
	-c "$TMP/c.conf" -g root
if grep -q '^READY=1 STATUS=serving' "$TMP/d.out" && grep -q '^AT-READY .*name m1 .*state up' "$TMP/d.out" &&
	grep -q '^STOPPING=1' "$TMP/d.out"; then
	ok "vnoded: READY=1 after probing (m1 up when it says so), STOPPING=1 on SIGTERM"
else
	nok "vnoded notify" "$(cat "$TMP/d.out")"
fi

VNSOCK= notify_run "$TMP/a.out" "$B/vnoded" --agent -f -r "$R" -c "$TMP/c.conf"
if grep -q '^READY=1 STATUS=serving' "$TMP/a.out" && grep -q '^STOPPING=1' "$TMP/a.out"; then
	ok "vnoded --agent: READY=1 once listening, STOPPING=1 on SIGTERM"
else
	nok "agent notify" "$(cat "$TMP/a.out")"
fi

# the units say so, with what the daemons need
bad=()
for u in vnoded vnode-agent; do
	f=$ROOT/userspace/vnoded/$u.service
	grep -qx 'Type=notify' "$f" && grep -qx 'NotifyAccess=main' "$f" || bad+=("$u.service: not Type=notify")
	grep -q -- '--foreground' "$f" || bad+=("$u.service: vnoded not in the foreground")
done
if [ ${#bad[@]} -eq 0 ]; then ok "units are Type=notify"; else nok "units" "${bad[@]}"; fi

echo "1..$N"
exit $RC
