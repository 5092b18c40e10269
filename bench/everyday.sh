#!/usr/bin/env bash
# make bench: everyday commands of ipabr against the plain tool doing the same
# work, one Markdown row each (tools/benchpair): medians of RUNS paired runs
# (default 5), the ratios and the goal. The rows that need Buildroot serve a
# local Buildroot repository with `git daemon` on 127.0.0.1 (as a mirror
# would) and say SKIP without one.
#   IPABR_BENCH_BUILDROOT  a local Buildroot git repository (default: IPABR_TEST_BUILDROOT)
#   IPABR_BENCH_PIN        the commit to pin (default: the project's gitlink)
#   RUNS                   paired runs of each row (default 5)
#   STARTUP_RUNS           paired runs of each start-up row (default 31)
# The -setup commands are single-quoted: benchpair's shell expands them.
# shellcheck disable=SC2016
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
src=${IPABR_BENCH_BUILDROOT:-${IPABR_TEST_BUILDROOT:-}}
runs=${RUNS:-5}
ipabr="$top/ipabr"
work=$(mktemp -d)
daemon=
cleanup() {
	if [ -n "$daemon" ]; then
		kill "$daemon" 2>/dev/null
		wait "$daemon" 2>/dev/null || true # killed: not the script's failure
	fi
	rm -rf "$work"
}
trap cleanup EXIT

${GO:-go} build -o "$work/benchpair" "$top/tools/benchpair"
pair() { "$work/benchpair" -runs "$runs" "$@"; }

echo "median of $runs paired runs each"
"$work/benchpair" -header
if [ -z "$src" ]; then
	echo "SKIP bench init/status: IPABR_BENCH_BUILDROOT and IPABR_TEST_BUILDROOT unset"
else
	pin=${IPABR_BENCH_PIN:-$(git -C "$top" ls-files -s buildroot | awk '{print $2}')}
	tag=$(git -C "$src" tag --points-at "$pin" | head -1)
	git clone -q --bare "$src" "$work/srv/buildroot.git"
	git -C "$work/srv/buildroot.git" config uploadpack.allowReachableSHA1InWant true
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	git daemon --reuseaddr --export-all --base-path="$work/srv" --listen=127.0.0.1 --port="$port" "$work/srv" &
	daemon=$!
	url="git://127.0.0.1:$port/buildroot.git"
	for _ in $(seq 50); do git ls-remote "$url" HEAD >/dev/null 2>&1 && break; sleep 0.1; done

	# mkproject DIR: a project whose buildroot gitlink is the pin, fetched from the daemon.
	mkproject() {
		rm -rf "$1"
		mkdir -p "$1/buildroot-ipa"
		printf 'name: IPA\ndesc: bench\n' >"$1/buildroot-ipa/external.desc"
		printf '[submodule "buildroot"]\n\tpath = buildroot\n\turl = %s\n' "$url" >"$1/.gitmodules"
		git -C "$1" init -q
		git -C "$1" add -A
		git -C "$1" update-index --add --cacheinfo "160000,$pin,buildroot"
	}
	export -f mkproject
	export url pin work

	if [ -n "$tag" ]; then
		pair -row "\`ipabr init\` (fresh) vs \`git clone --depth 1 --no-tags --branch $tag\`" \
			-goal-ratio 1.2 -goal-cpu 2 -goal-rss 150 \
			-setup-a 'mkproject "$work/fresh"' -setup-b 'rm -rf "$work/clone"' \
			-- "$ipabr" --repo "$work/fresh" -q init \
			::: git clone -q --depth 1 --no-tags --branch "$tag" "$url" "$work/clone"
	else
		echo "SKIP bench init vs git clone: no tag points at $pin"
	fi
	pair -row "\`ipabr init\` (fresh) vs \`git submodule update --init --depth 1\`" \
		-setup-a 'mkproject "$work/fresh"' -setup-b 'mkproject "$work/sub"' \
		-- "$ipabr" --repo "$work/fresh" -q init \
		::: git -C "$work/sub" submodule -q update --init --depth 1
	test "$(git -C "$work/fresh/buildroot" rev-parse HEAD)" = "$pin"
	test "$(git -C "$work/sub/buildroot" rev-parse HEAD)" = "$pin"

	# The checkout ipabr made, as people and CI scripts look at it again and again.
	"$ipabr" --repo "$work/fresh" status >/dev/null
	git -C "$work/fresh/buildroot" status --porcelain >/dev/null
	pair -row "\`ipabr status\` vs \`git -C buildroot status --porcelain\`" -goal-ratio 1.5 \
		-- "$ipabr" --repo "$work/fresh" status \
		::: git -C "$work/fresh/buildroot" status --porcelain
	pair -row "\`ipabr init\` at the pin vs \`git -C buildroot status --porcelain\`" -goal-ratio 1.5 \
		-- "$ipabr" --repo "$work/fresh" -q init \
		::: git -C "$work/fresh/buildroot" status --porcelain
fi
# What start-up costs before ipabr does any work of its own: Go's runtime
# alone (a program that returns), and the runtime with everything ipabr
# imports from outside its own packages linked and initialised (the same
# imports, blank, and return); then that floor without go-git's packages and
# without viper, whose difference is what each library's initialisation
# costs every command. Built through -overlay: nothing is written into the
# tree. A start-up row takes milliseconds, so it runs STARTUP_RUNS times.
startup_runs=${STARTUP_RUNS:-31}
floor_imports=$(cd "$top" && ${GO:-go} list -deps ./cmd/ipabr | grep '^github.com/ipabr/ipabr/' |
	xargs "${GO:-go}" list -f '{{join .Imports "\n"}}' | grep -v '^github.com/ipabr/ipabr' | sort -u)
# blank NAME IMPORTS: a program importing IMPORTS, blank, that returns;
# programs lists them.
programs=
blank() {
	programs="$programs $1"
	{
		echo 'package main'
		echo 'import ('
		for p in $2; do echo "	_ \"$p\""; done
		echo ')'
		echo 'func main() {}'
	} >"$work/$1.go"
}
blank runtime ""
blank floor "$floor_imports"
blank nogogit "$(echo "$floor_imports" | grep -v '^github.com/go-git/')"
blank noviper "$(echo "$floor_imports" | grep -v '^github.com/spf13/viper')"
overlay='{"Replace":{'
sep=
for name in $programs; do
	overlay="$overlay$sep\"$top/internal/bench$name/main.go\":\"$work/$name.go\""
	sep=,
done
echo "$overlay}}" >"$work/overlay.json"
for name in $programs; do
	(cd "$top" && CGO_ENABLED=0 ${GO:-go} build -overlay "$work/overlay.json" -o "$work/$name" "./internal/bench$name")
done
quick() { "$work/benchpair" -runs "$startup_runs" "$@"; }
quick -row "Go's runtime alone (a program that returns) vs \`git --version\`" \
	-- "$work/runtime" ::: git --version
quick -row "ipabr's $(echo "$floor_imports" | wc -l) outside imports, initialised, no work vs \`git --version\`" \
	-- "$work/floor" ::: git --version
quick -row "the same imports vs the same without go-git's packages (go-git's share)" \
	-- "$work/floor" ::: "$work/nogogit"
quick -row "the same imports vs the same without viper (viper's share)" \
	-- "$work/floor" ::: "$work/noviper"
quick -row "\`ipabr version\` vs the same imports (ipabr's own share)" \
	-- "$ipabr" version ::: "$work/floor"
quick -row "\`ipabr version\` vs \`git --version\`" -goal-wall 15ms \
	-- "$ipabr" version ::: git --version
quick -row "\`ipabr --help\` vs \`git --help\`" -goal-wall 15ms \
	-- "$ipabr" --help ::: git --help
