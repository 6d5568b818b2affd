#!/bin/bash
# bench/kvzipf, the key-value workload of bench/run, against a memcached of
# our own on a Unix socket in a scratch directory: a clean load and run
# verifies every GET and returns 0; values changed behind its back and keys
# missing from the store are reported and fail the run; its Zipf draws are
# skewed as the parameter says.  Prints TAP.
set -u
. "$(dirname "$(readlink -f "$0")")/tap.rc"
KV=$TMP/kvzipf
S=$TMP/kv.sock
if ! cc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$KV" "$ROOT/bench/kvzipf.c" -lm 2>"$TMP/cc.err"; then
	nok "kvzipf builds" "$(cat "$TMP/cc.err")"
	exit 1
fi
ok "kvzipf builds with -Wall -Wextra -Werror"
command -v memcached >/dev/null || { nok "memcached is installed (scripts/install-deps)"; exit 1; }
memcached -u "$(id -un)" -s "$S" -a 600 -m 64 -M -t 1 &
mc=$!
trap 'kill $mc 2>/dev/null; wait $mc 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 50); do [ -S "$S" ] && break; sleep 0.1; done

# field NAME LINE: NAME=VALUE of a kvzipf line
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$2"; }

out=$("$KV" load -s "$S" -k 4000 -v 1000 2>&1) && [ "$(field keys "$out")" = 4000 ] &&
	ok "load stores 4000 keys" || nok "load stores 4000 keys" "$out"
out=$("$KV" run -s "$S" -k 4000 -v 1000 -n 20000 -w 20 2>&1)
rc=$?
sets=$(field sets "$out")
if [ $rc = 0 ] && [ "$(field bad "$out")" = 0 ] && [ "$(field misses "$out")" = 0 ] &&
	[ "${sets:-0}" -gt 3500 ] && [ "${sets:-0}" -lt 4500 ]; then
	ok "run: 20000 requests, ~20% SETs, every GET verified ($sets SETs)"
else
	nok "run: 20000 requests, ~20% SETs, every GET verified" "rc=$rc" "$out"
fi
# the store is now at the versions of that run: a second run expecting
# version 0 everywhere must see the changed values
out=$("$KV" run -s "$S" -k 4000 -v 1000 -n 3000 -w 0 2>&1)
rc=$?
bad=$(field bad "$out")
[ $rc = 1 ] && [ "${bad:-0}" -gt 0 ] && grep -q "wrong value" <<<"$out" &&
	ok "values changed behind its back are reported ($bad bad) and fail the run" ||
	nok "values changed behind its back are reported" "rc=$rc" "$out"
out=$("$KV" run -s "$S" -k 8000 -v 1000 -n 3000 -w 0 -S 7 2>&1)
rc=$?
[ $rc = 1 ] && [ "$(field misses "$out")" -gt 0 ] 2>/dev/null &&
	ok "keys missing from the store are counted and fail the run" ||
	nok "keys missing from the store are counted" "rc=$rc" "$out"
"$KV" run -s "$S" -k 4000 -z 1.5 >"$TMP/o" 2>&1
rc=$?
[ $rc = 2 ] && grep -q "THETA" "$TMP/o" && ok "a bad THETA is refused" ||
	nok "a bad THETA is refused" "rc=$rc" "$(cat "$TMP/o")"
"$KV" run -s "$TMP/none.sock" -k 10 -n 1 >"$TMP/o" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "none.sock" "$TMP/o" && ok "no server: a clear error" ||
	nok "no server: a clear error" "rc=$rc" "$(cat "$TMP/o")"

# Skew: with theta 0.99 over 4000 keys, 4000 draws touch far fewer
# distinct keys than uniform draws would (about 4000 * (1 - 1/e) = 2530).
"$KV" load -s "$S" -k 4000 -v 100 >/dev/null 2>&1
out=$("$KV" run -s "$S" -k 4000 -v 100 -n 4000 -w 0 2>&1)
t=$(field keys_touched "$out")
if [ -n "$t" ] && [ "$t" -gt 100 ] && [ "$t" -lt 1800 ]; then
	ok "Zipf 0.99: 4000 requests touched $t distinct keys (uniform: ~2530)"
else
	nok "Zipf draws are skewed" "$out"
fi
exit $RC
