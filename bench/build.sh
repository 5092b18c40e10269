#!/usr/bin/env bash
# make bench: time `ipabr build` against `make > file` on the fake Buildroot
# printing about LOG_MIB MiB of Buildroot-like log (default 1024), and print
# the median of RUNS runs (default 3) of each and their ratio. The ratio
# shows what ipabr's log, progress parsing and display cost on top of make.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
ipabr="$top/ipabr"
runs=${RUNS:-3}
log_mib=${LOG_MIB:-1024}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

proj=$work/proj
mkdir -p "$proj/buildroot-ipa/configs"
cp -r "$top/internal/testenv/fakebuildroot" "$proj/buildroot"
printf 'name: IPA\ndesc: bench\n' >"$proj/buildroot-ipa/external.desc"
printf 'BR2_x86_64=y\n' >"$proj/buildroot-ipa/configs/openstack_ipa_defconfig"
: >"$proj/buildroot-ipa/Config.in"
: >"$proj/buildroot-ipa/external.mk"

# The fake prints FAKE_LOG_MB MiB in each package's Building step.
builders=$(make -s --no-print-directory -C "$proj/buildroot" O="$work/probe" BR2_EXTERNAL="$proj/buildroot-ipa" openstack_ipa_defconfig >/dev/null &&
	make -s --no-print-directory -C "$proj/buildroot" O="$work/probe" BR2_EXTERNAL="$proj/buildroot-ipa" all | grep -c ' Building' || true)
export FAKE_LOG_MB=$(( (log_mib + builders - 1) / builders ))

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: >"$work/ipabr.times"
: >"$work/make.times"
"$ipabr" --repo "$proj" -q -O "$work/out-ipabr" configure
make -s -C "$proj/buildroot" O="$work/out-make" BR2_EXTERNAL="$proj/buildroot-ipa" openstack_ipa_defconfig >/dev/null
for _ in $(seq "$runs"); do
	"$ipabr" --repo "$proj" -q -O "$work/out-ipabr" clean >/dev/null
	rm -f "$work/out-ipabr/build.log"
	/usr/bin/time -f '%e' -a -o "$work/ipabr.times" "$ipabr" --repo "$proj" -q -O "$work/out-ipabr" build >/dev/null
	make -s -C "$proj/buildroot" O="$work/out-make" BR2_EXTERNAL="$proj/buildroot-ipa" clean >/dev/null
	/usr/bin/time -f '%e' -a -o "$work/make.times" \
		make -C "$proj/buildroot" O="$work/out-make" BR2_EXTERNAL="$proj/buildroot-ipa" all >"$work/make.log" 2>&1
done
ipabr_s=$(median <"$work/ipabr.times")
make_s=$(median <"$work/make.times")
printf 'log size: ipabr build.log %d MiB, make > file %d MiB (%d packages x %d MiB)\n' \
	$(( $(stat -c %s "$work/out-ipabr/build.log") >> 20 )) $(( $(stat -c %s "$work/make.log") >> 20 )) "$builders" "$FAKE_LOG_MB"
printf 'ipabr build                        %6.2f s (median of %d)\n' "$ipabr_s" "$runs"
printf 'make > file                        %6.2f s (median of %d)\n' "$make_s" "$runs"
awk -v a="$ipabr_s" -v b="$make_s" 'BEGIN {printf "ratio ipabr/make                   %6.3f\n", a/b}'
