#!/bin/bash
# Side-by-side symbolization benchmark on the rig's Debian vmlinux (633 MB, DWARF 5):
# llvm-symbolizer, blazesym's blazecli and crashsift on the same N addresses drawn from
# System.map text symbols; crashsift cold (no index), index build, and warm (persisted
# index); wall time and peak RSS from /usr/bin/time, median of RUNS runs; plus the
# agreement of crashsift with llvm-symbolizer on function/file/line.
# Usage: bench.sh [RIGDIR] [N] [RUNS]
#   blazecli: CARGO_TARGET_DIR=~/.cache/blazecli-target cargo install blazecli --root ~/.cache/blazecli
#   crashsift: cargo build --release -p crashsift (runs `crashsift symbolize`); or set
#   SYMBOLIZE_BIN to another command line, e.g. the crate's example binary
set -euo pipefail
RIG=${1:-${CRASHSIFT_RIG_DIR:-/work/rig}}
N=${2:-10000}
RUNS=${3:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
KV=6.1.0-57-amd64
V=$RIG/dbg/usr/lib/debug/boot/vmlinux-$KV
MAP=$RIG/dbg/usr/lib/debug/boot/System.map-$KV
BLAZE=${BLAZECLI:-$HOME/.cache/blazecli/bin/blazecli}
# shellcheck disable=SC2206 # a command line, split on purpose
CS=(${SYMBOLIZE_BIN:-${CARGO_TARGET_DIR:-$HERE/../../target}/release/crashsift symbolize})
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
python3 "$HERE/gen_addrs.py" "$MAP" "$N" 1 > "$W/addrs"
measure() { # label, command...; appends "label wall_s rss_kb" to $W/times
  local label=$1; shift
  /usr/bin/time -f "$label %e %M" -a -o "$W/times" "$@" > "$W/out.$label" 2>/dev/null
}
echo "machine: $(nproc) cores, $(lscpu | grep 'Model name' | sed 's/.*: *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "addresses: $N from $MAP (seed 1); vmlinux $V"
cat "$V" > /dev/null   # the same warm page cache for every tool
for r in $(seq "$RUNS"); do
  measure llvm-symbolizer llvm-symbolizer --inlines --output-style=JSON -e "$V" < "$W/addrs"
  measure blazecli "$BLAZE" symbolize elf --path "$V" $(cat "$W/addrs")
  measure crashsift-cold "${CS[@]}" --vmlinux "$V" --json < "$W/addrs"
  rm -rf "$W/idx"
  measure crashsift-index-build "${CS[@]}" --vmlinux "$V" --json --index-dir "$W/idx" < "$W/addrs"
  measure crashsift-warm "${CS[@]}" --vmlinux "$V" --json --index-dir "$W/idx" < "$W/addrs"
done
python3 - "$W/times" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    p = line.split()
    if len(p) == 3 and p[1].replace(".", "").isdigit():
        rows.setdefault(p[0], []).append((float(p[1]), int(p[2])))
print("| tool | wall, median (s) | runs (s) | peak RSS, max (MiB) |")
print("|---|---|---|---|")
for k, v in rows.items():
    walls = [x[0] for x in v]
    print("| %s | %.2f | %s | %.0f |" % (k, statistics.median(walls), " ".join("%.2f" % w for w in walls), max(x[1] for x in v) / 1024))
PY
ls -la "$W/idx" | tail -1 | awk '{print "index size: " $5 " bytes"}'
python3 "$HERE/compare_llvm.py" "$W/out.crashsift-cold" "$W/out.llvm-symbolizer" | tail -1
python3 "$HERE/compare_llvm.py" "$W/out.crashsift-warm" "$W/out.llvm-symbolizer" | tail -1
