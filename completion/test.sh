#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test.sh [DIR]: check the bash completions of vnodectl and vnode-run in DIR
# (default: this script's directory).  Prints TAP ("ok N - ..."), exits 1 if
# any case fails, 77 (skip) if bash-completion is not installed.
#
# Each case sets COMP_WORDS/COMP_CWORD/COMP_LINE/COMP_POINT as bash does
# for a line with the cursor at its end (words split at blanks, "=" a word
# of its own, as COMP_WORDBREAKS has it) and calls the completion function.
# vNode, volume and component names come from a fake vnodectl first in
# PATH, which prints what "vnodectl -j OBJECT list" prints (or fails as
# when vnoded is not running) and logs its arguments.

# "A && report ok || report fail": report always succeeds; the script run
# by the plain bash of the last case is in single quotes on purpose.
# shellcheck disable=SC2015,SC2016
set -u

dir=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
bc=${BASH_COMPLETION:-/usr/share/bash-completion/bash_completion}

for f in "$dir/vnodectl" "$dir/vnode-run"; do
	if ! bash -n "$f"; then
		echo "not ok 1 - bash -n $f"
		echo "1..1"
		exit 1
	fi
done
if [ ! -r "$bc" ]; then
	echo "1..0 # SKIP $bc not found (apt-get install bash-completion)"
	exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/files/sockdir"
: >"$tmp/files/sockdir/vnoded.sock"
export FAKE_LOG=$tmp/log
cat >"$tmp/bin/vnodectl" <<'EOF'
#!/bin/sh
# fake vnodectl: "[-s SOCK] --json OBJECT list", as vnoded would answer
echo "$*" >>"$FAKE_LOG"
if [ -n "${FAKE_DOWN:-}" ]; then
	echo "vnodectl: error: cannot reach vnoded at /run/vnode/vnoded.sock: No such file or directory (is vnoded running?)" >&2
	exit 1
fi
case "$*" in
*"vnode list")
	out='[{"name":"alpha","mem":268435456,"cache":67108864,"remote":201326592,"replicas":1,"owner":0,"cpus":null,"procs":0,"state":"active","throwaway":false},{"name":"beta.1","mem":67108864,"cache":67108864,"remote":0,"replicas":1,"owner":1000,"cpus":"0-1","procs":2,"state":"active","throwaway":false}]' ;;
*"component list")
	out='[{"name":"m1","type":"memory","addr":"10.0.0.5","port":7470,"state":"up","capacity":268435456,"used":0,"reserved":0,"source":"config","error":null},{"name":"s1","type":"storage","addr":"10.0.0.6","port":7471,"state":"unknown","capacity":0,"used":0,"reserved":0,"source":"cli","error":"bad \"name\":\"evil\" \"type\":\"storage\""},{"name":"s-2","type":"storage","addr":"10.0.0.7","port":7471,"state":"unknown","capacity":0,"used":0,"reserved":0,"source":"cli","error":null}]' ;;
*"fabric list")
	out='[{"name":"rdma-rack","latency_ns":3000,"per_kib_ns":0,"jitter_ns":0,"dist":"uniform","read_bw_bytes_s":12500000000,"write_bw_bytes_s":12500000000,"from":"built-in","description":"RDMA \"name\": \"evil\"","source":"Gao et al."},{"name":"cross-rack","latency_ns":10000,"per_kib_ns":0,"jitter_ns":2000,"dist":"normal","read_bw_bytes_s":3125000000,"write_bw_bytes_s":3125000000,"from":"built-in","description":"across racks","source":"illustrative"}]' ;;
*"volume list")
	out='[{"name":"v0","size":1073741824,"host":"s1","vnode":"alpha","mount":"/vnode","state":"attached","keep":false,"owner":0,"dev":"vnblk0","disk":"v0","error":null},{"name":"v_1","size":8388608,"host":"s1","vnode":null,"mount":null,"state":"detached","keep":true,"owner":0,"dev":null,"disk":null,"error":null}]' ;;
*)
	echo "vnodectl: error: unexpected fake call: $*" >&2
	exit 2 ;;
esac
if [ -n "${FAKE_PRETTY:-}" ]; then
	# like -p: one key per line, a space after the colon
	echo "$out" | sed 's/\[{/[\n  {\n    /; s/},{/\n  },\n  {\n    /g; s/,"/,\n    "/g; s/":/": /g; s/}]$/\n  }\n]/'
else
	echo "$out"
fi
EOF
chmod +x "$tmp/bin/vnodectl"
PATH=$tmp/bin:$PATH

# shellcheck disable=SC1090,SC1091
. "$bc"
# shellcheck disable=SC1090,SC1091
. "$dir/vnodectl"
# shellcheck disable=SC1090,SC1091
. "$dir/vnode-run"

n=0
failed=0

# comp LINE: run the completion of LINE (cursor at the end); the sorted,
# unique candidates in $got (one line), stderr in $err.
comp()
{
	local line=$1 w func spec
	local -a toks=()
	COMP_WORDS=()
	read -ra toks <<<"$line"
	for w in "${toks[@]}"; do
		# "--opt=value" is three words for bash ("=" is a word break)
		while [[ $w == *=* ]]; do
			[[ ${w%%=*} ]] && COMP_WORDS+=("${w%%=*}")
			COMP_WORDS+=("=")
			w=${w#*=}
		done
		[[ $w ]] && COMP_WORDS+=("$w")
	done
	[[ $line == *' ' || ${COMP_WORDS[-1]} == = ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=$line
	COMP_POINT=${#line}
	COMPREPLY=()
	spec=$(complete -p "${COMP_WORDS[0]}")
	func=${spec#*-F }
	func=${func%% *}
	"$func" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" \
		"${COMP_WORDS[COMP_CWORD - 1]}" 2>"$tmp/err"
	err=$(cat "$tmp/err")
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort -u | tr '\n' ' ')
	got=${got% }
}

report()
{
	n=$((n + 1))
	if [ "$1" = ok ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		echo "#   line:     '$3'"
		echo "#   expected: $4"
		echo "#   got:      '$got'"
		[ -n "$err" ] && echo "#   stderr:   $err"
		failed=$((failed + 1))
	fi
}

# is LINE EXPECTED...: the candidates are exactly EXPECTED (any order)
is()
{
	local line=$1 want
	shift
	want=$(printf '%s\n' "$@" | sed '/^$/d' | sort -u | tr '\n' ' ')
	want=${want% }
	comp "$line"
	[ "$got" = "$want" ] && report ok "'$line' -> '$want'" ||
		report fail "'$line'" "$line" "'$want'"
}

# has LINE WORD...: every WORD is a candidate
has()
{
	local line=$1 w miss=
	shift
	comp "$line"
	for w in "$@"; do
		[[ " $got " == *" $w "* ]] || miss+=" $w"
	done
	[ -z "$miss" ] && report ok "'$line' offers $*" ||
		report fail "'$line' offers $*" "$line" "all of: $* (missing:$miss)"
}

# hasnt LINE WORD...: no WORD is a candidate
hasnt()
{
	local line=$1 w bad=
	shift
	comp "$line"
	for w in "$@"; do
		[[ " $got " == *" $w "* ]] && bad+=" $w"
	done
	[ -z "$bad" ] && report ok "'$line' does not offer $*" ||
		report fail "'$line' does not offer $*" "$line" "none of: $* (offered:$bad)"
}

# vnodectl: options, objects, commands
is 'vnodectl vn' vnode
is 'vnodectl ' component vnode volume disk cluster fabric sql monitor explore help
is 'vnodectl monitor -' -n --count --all-hosts
is 'vnodectl monitor --all-hosts -' -n --count
is 'vnodectl explore --pro' --protect
is 'vnodectl explore --protect ' none crc aead none,crc,aead
is 'vnodectl explore --storage-protect c' crypt
is 'vnodectl explore --replicas ' 1 2 1,2
is 'vnodectl -j explore --budget 10% --repeat 3 --re' --replicas
hasnt 'vnodectl explore --budget 10% --' --budget
is 'vnodectl -j monitor -n 3 --' --count --all-hosts
has 'vnodectl -' -j --json -p --pretty -s --socket -V --version -h --help
is 'vnodectl --ver' --version
is 'vnodectl -j vo' volume
is 'vnodectl vnode ' create list show set delete top help
is 'vnodectl vnode d' delete
is 'vnodectl comp ' add list show set delete help
is 'vnodectl fabric ' list help
is 'vnodectl vol ' create list show delete help
is 'vnodectl disk ' show help
is 'vnodectl cluster ' show help
is 'vnodectl -s /x/sock vnode c' create
is 'vnodectl vnode create --me' --mem
is 'vnodectl vnode create w --mem=1G --ca' --cache
has 'vnodectl vnode create w --mem 1G --' --cache --replicas --cpus --owner \
	--storage --stor-host --volume --mount --keep-storage --headroom --prefetch --protect \
	--storage-protect
is 'vnodectl vnode create w --mem 1G --protect ' none crc aead
is 'vnodectl vnode create w --mem 1G --storage-protect ' none integrity crypt
is 'vnodectl vnode create w --mem 1G --storage-protect=c' crypt
is 'vnodectl vnode create w --mem 1G --protect=c' crc
hasnt 'vnodectl vnode create w --mem 1G --' --mem
is 'vnodectl vnode create w --mem 1G --replicas ' 1 2
is 'vnodectl vnode delete alpha -' -f --force --keep-storage
is 'vnodectl vnode set alpha --' --headroom --prefetch --protect
is 'vnodectl vnode set alpha --headroom ' auto off
is 'vnodectl vnode set alpha --prefetch ' on off
is 'vnodectl vnode set alpha --prefetch=o' on off
is 'vnodectl vnode set alpha --prefetch off --' --headroom --protect
is 'vnodectl vnode set alpha --protect ' none crc aead
is 'vnodectl vnode set alpha --protect=a' aead
is 'vnodectl vnode set alpha --protect crc --' --headroom --prefetch
is 'vnodectl vnode set b' beta.1
is 'vnodectl vnode top -' -n --count -d --delay
is 'vnodectl component add m3 --type ' memory storage
is 'vnodectl component list --' --probe
is 'vnodectl volume create v2 --' --size --stor-host --owner
is 'vnodectl component set m1 --' --fabric --delay --per-kib --jitter --bw --read-bw --write-bw --clear
is 'vnodectl component set m1 --bw 1GB/s --' --fabric --delay --per-kib --jitter --read-bw --write-bw --clear
is 'vnodectl component set m1 --jitter ' ''
is 'vnodectl component set m1 --delay ' ''
has 'vnodectl vnode create w --mem 1G --' --fabric
is 'vnodectl sql ' ''

# vnodectl: names from vnoded
is 'vnodectl vnode show ' alpha beta.1
is 'vnodectl vnode delete b' beta.1
is 'vnodectl vnode destroy --force a' alpha
is 'vnodectl vnode delete alpha ' ''
is 'vnodectl vnode create ' ''
is 'vnodectl component show ' m1 s1 s-2
is 'vnodectl comp delete s' s1 s-2
is 'vnodectl volume delete ' v0 v_1
is 'vnodectl vnode create w --stor-host ' s1 s-2
is 'vnodectl volume create v9 --stor-host=s' s1 s-2
is 'vnodectl vnode create w --volume=' v0 v_1
is 'vnodectl vnode create w --mem 1G --owner roo' root
is 'vnodectl component set ' m1 s1 s-2
is 'vnodectl component set m1 --fabric ' rdma-rack cross-rack
is 'vnodectl vnode create w --fabric=c' cross-rack
: >"$FAKE_LOG"
is 'vnodectl -s /x/sock vnode show al' alpha
log=$(cat "$FAKE_LOG")
[ "$log" = "--socket /x/sock --json vnode list" ] &&
	report ok "the socket given on the line is passed on ($log)" ||
	report fail "the socket given on the line is passed on" "vnodectl -s /x/sock vnode show al" \
		"'--socket /x/sock --json vnode list' in the log, got '$log'"
: >"$FAKE_LOG"
is 'vnodectl --socket=/y/sock vnode show al' alpha
log=$(cat "$FAKE_LOG")
[ "$log" = "--socket /y/sock --json vnode list" ] &&
	report ok "--socket=PATH is passed on ($log)" ||
	report fail "--socket=PATH is passed on" "vnodectl --socket=/y/sock vnode show al" \
		"'--socket /y/sock --json vnode list' in the log, got '$log'"
export FAKE_PRETTY=1
is 'vnodectl vnode show ' alpha beta.1
is 'vnodectl vnode create w --stor-host ' s1 s-2
unset FAKE_PRETTY

# vnoded not running: nothing, and nothing on stderr
export FAKE_DOWN=1
is 'vnodectl vnode show ' ''
[ -z "$err" ] && report ok "vnoded down: no message" ||
	report fail "vnoded down: no message" "vnodectl vnode show " "empty stderr"
is 'vnode-run ' ''
[ -z "$err" ] && report ok "vnoded down: no message (vnode-run)" ||
	report fail "vnoded down: no message (vnode-run)" "vnode-run " "empty stderr"
unset FAKE_DOWN

# files
is "vnodectl -s $tmp/files/sockdir/vno" "$tmp/files/sockdir/vnoded.sock"
is "vnode-run --socket=$tmp/files/sockdir/v" "$tmp/files/sockdir/vnoded.sock"

# vnode-run: options, vNode names, then the command's own completion
is 'vnode-run --ca' --cache
is 'vnode-run -V' -V
has 'vnode-run -' -s --socket --mem --cache --replicas --cpus --storage \
	--stor-host --volume --mount --headroom --prefetch --protect --storage-protect -V \
	--version -h --help --
is 'vnode-run --mem 1G --m' --mount
has 'vnode-run --mem 1G --prefetch --cache 50% ech' echo
is 'vnode-run --mem 1G --protect ' none crc aead
is 'vnode-run --protect=n' none
is 'vnode-run --mem 1G --storage-protect ' none integrity crypt
has 'vnode-run --mem 1G --protect crc --cache 50% ech' echo
is 'vnode-run ' alpha beta.1
is 'vnode-run -s /x/sock a' alpha
is 'vnode-run -- b' beta.1
is 'vnode-run --stor-host ' s1 s-2
is 'vnode-run --mem 1G --cache 50% --volume ' v0 v_1
is 'vnode-run --replicas=' 1 2
is 'vnode-run alpha -' --
has 'vnode-run alpha ech' echo
has 'vnode-run alpha -- ech' echo
has 'vnode-run --mem 1G --cache 50% ech' echo
has 'vnode-run --mem=1G --cache=50% -- ech' echo
hasnt 'vnode-run alpha ech' alpha beta.1
has 'vnode-run alpha ls --al' --all --almost-all
has 'vnode-run --mem=1G --cache=50% ls --al' --all --almost-all
has 'vnode-run -s /x/sock beta.1 -- ls --al' --all --almost-all
has 'vnode-run alpha vnodectl vnode show ' alpha beta.1
is 'vnode-run alpha vnodectl vn' vnode

# without bash-completion (plain bash, its own COMP_WORDS handling)
n=$((n + 1))
out=$(env -i PATH="$PATH" FAKE_LOG="$FAKE_LOG" bash --norc --noprofile -c '
	. "$1/vnodectl"; . "$1/vnode-run"
	t() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}; COMPREPLY=(); "$F" x x x 2>/dev/null
		printf "%s," "${COMPREPLY[@]}"; echo; }
	F=_vnodectl t vnodectl vn
	F=_vnodectl t vnodectl vnode create w --mem = 1G --ca
	F=_vnodectl t vnodectl vnode show ""
	F=_vnode_run t vnode-run --ca
	F=_vnode_run t vnode-run ""
' sh "$dir" 2>&1)
want='vnode,
--cache,
alpha,beta.1,
--cache,
alpha,beta.1,'
if [ "$out" = "$want" ]; then
	echo "ok $n - without bash-completion: objects, --opt=value, names"
else
	echo "not ok $n - without bash-completion: objects, --opt=value, names"
	printf '%s\n' "$out" | sed 's/^/#   got:      /'
	printf '%s\n' "$want" | sed 's/^/#   expected: /'
	failed=$((failed + 1))
fi

echo "1..$n"
[ "$failed" -eq 0 ]
