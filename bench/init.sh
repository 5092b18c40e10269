#!/usr/bin/env bash
# make bench: time `ipabr init` against `git submodule update --init --depth 1`
# on the same project, with the same Buildroot repository served by
# `git daemon` on 127.0.0.1. Prints the median of RUNS runs of each, the
# ratio, and ipabr's peak RSS.
#   IPABR_BENCH_BUILDROOT  a local Buildroot git repository (default: IPABR_TEST_BUILDROOT)
#   IPABR_BENCH_PIN        the commit to pin (default: the project's gitlink)
#   RUNS                   runs of each tool (default 3)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
src=${IPABR_BENCH_BUILDROOT:-${IPABR_TEST_BUILDROOT:-}}
if [ -z "$src" ]; then
	echo "bench: set IPABR_BENCH_BUILDROOT (or IPABR_TEST_BUILDROOT) to a local Buildroot git repository" >&2
	exit 2
fi
pin=${IPABR_BENCH_PIN:-$(git -C "$top" ls-files -s buildroot | awk '{print $2}')}
runs=${RUNS:-3}
ipabr="$top/ipabr"
work=$(mktemp -d)
daemon=
cleanup() {
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

git clone -q --bare "$src" "$work/srv/buildroot.git"
git -C "$work/srv/buildroot.git" config uploadpack.allowReachableSHA1InWant true
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
git daemon --reuseaddr --export-all --base-path="$work/srv" --listen=127.0.0.1 --port="$port" "$work/srv" &
daemon=$!
url="git://127.0.0.1:$port/buildroot.git"
for _ in $(seq 50); do git ls-remote "$url" HEAD >/dev/null 2>&1 && break; sleep 0.1; done

mkproject() {
	local dir=$1
	mkdir -p "$dir/buildroot-ipa"
	printf 'name: IPA\ndesc: bench\n' >"$dir/buildroot-ipa/external.desc"
	printf '[submodule "buildroot"]\n\tpath = buildroot\n\turl = %s\n' "$url" >"$dir/.gitmodules"
	git -C "$dir" init -q
	git -C "$dir" add -A
	git -C "$dir" update-index --add --cacheinfo "160000,$pin,buildroot"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

: >"$work/ipabr.times"
: >"$work/git.times"
for i in $(seq "$runs"); do
	mkproject "$work/p-ipabr-$i"
	/usr/bin/time -f '%e %M' -o "$work/t" "$ipabr" --repo "$work/p-ipabr-$i" -q init >/dev/null
	cat "$work/t" >>"$work/ipabr.times"
	test "$(git -C "$work/p-ipabr-$i/buildroot" rev-parse HEAD)" = "$pin"

	mkproject "$work/p-git-$i"
	/usr/bin/time -f '%e %M' -o "$work/t" git -C "$work/p-git-$i" submodule -q update --init --depth 1
	cat "$work/t" >>"$work/git.times"
	test "$(git -C "$work/p-git-$i/buildroot" rev-parse HEAD)" = "$pin"
	rm -rf "$work/p-ipabr-$i" "$work/p-git-$i"
done

ipabr_s=$(awk '{print $1}' "$work/ipabr.times" | median)
git_s=$(awk '{print $1}' "$work/git.times" | median)
rss_kb=$(awk '{print $2}' "$work/ipabr.times" | sort -n | tail -1)
echo "buildroot pin $pin, $runs runs each, served by git daemon on 127.0.0.1"
printf 'ipabr init                         %6.2f s (median)\n' "$ipabr_s"
printf 'git submodule update --depth 1     %6.2f s (median)\n' "$git_s"
awk -v a="$ipabr_s" -v b="$git_s" 'BEGIN {printf "ratio ipabr/git                    %6.2f\n", a/b}'
awk -v k="$rss_kb" 'BEGIN {printf "ipabr peak RSS                     %6.1f MiB\n", k/1024}'
