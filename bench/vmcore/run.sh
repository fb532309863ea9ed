#!/bin/bash
# Times `crashsift dmesg` against crash `log`, vmcore-dmesg and makedumpfile --dump-dmesg on
# every rig dump, plus a sparse 64 GiB synthetic ELF (synth_vmcore.py), in one run: wall
# time and peak RSS from /usr/bin/time -v. Prints a markdown table.
# Usage: bench/vmcore/run.sh [RIGDIR]   (CRASHSIFT_DMESG_BIN=path skips the build)
#   (default /work/rig; needs crash, kexec-tools,
# makedumpfile, python3). Uses the `crashsift` binary when it has a dmesg command, else the
# vmcore crate's example vmcore-dmesg-bench (same code path: crashsift_vmcore::cli::run).
set -uo pipefail
RIG=${1:-${CRASHSIFT_RIG_DIR:-/work/rig}}
HERE=$(cd "$(dirname "$0")/../.." && pwd)
VMLINUX=$RIG/dbg/usr/lib/debug/boot/vmlinux-6.1.0-57-amd64
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HERE/target}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
if [ -n "${CRASHSIFT_DMESG_BIN:-}" ]; then
  CS=("$CRASHSIFT_DMESG_BIN"); CSNAME="$(basename "$CRASHSIFT_DMESG_BIN") (crashsift dmesg code path)"
elif (cd "$HERE" && cargo build -q --release -p crashsift 2>/dev/null) && "$CARGO_TARGET_DIR/release/crashsift" dmesg --help >/dev/null 2>&1; then
  CS=("$CARGO_TARGET_DIR/release/crashsift" dmesg); CSNAME="crashsift dmesg"
else
  (cd "$HERE" && cargo build -q --release -p crashsift-vmcore --example vmcore-dmesg-bench) || exit 1
  CS=("$CARGO_TARGET_DIR/release/examples/vmcore-dmesg-bench"); CSNAME="vmcore-dmesg-bench (crashsift dmesg code path)"
fi
python3 "$HERE/../shared/tools/synth_vmcore.py" "$TMP/synth64.elf" --expected "$TMP/synth64.txt" \
  --ram-gib 64 --text-bits 20 --msgs 60000 2>/dev/null \
  || python3 /work/shared/tools/synth_vmcore.py "$TMP/synth64.elf" --expected "$TMP/synth64.txt" --ram-gib 64 --text-bits 20 --msgs 60000

# measure CMD...: best wall time (EPOCHREALTIME, ms) of RUNS (3) runs and its peak RSS; "fails" when the tool errors.
measure() {
  local best="" rss="" ok=0
  for i in $(seq 1 "${RUNS:-3}"); do
    local t0=$EPOCHREALTIME
    if /usr/bin/time -v -o "$TMP/t" "$@" > "$TMP/out" 2> "$TMP/err"; then ok=1; else ok=0; fi
    local t1=$EPOCHREALTIME
    grep -q . "$TMP/out" || ok=0
    local w; w=$(echo "($t1 - $t0) * 1000" | bc -l)
    local r; r=$(awk -F': ' '/Maximum resident/ {print $2}' "$TMP/t")
    if [ -z "$best" ] || awk "BEGIN{exit !($w < $best)}"; then best=$w; rss=$r; fi
    [ "$ok" = 1 ] || break
  done
  if [ "$ok" = 1 ]; then
    printf '%.1f ms / %.1f MiB' "$best" "$(echo "$rss/1024" | bc -l)"
  else
    echo "fails: $(cat "$TMP/err" "$TMP/mdf.log" 2>/dev/null | grep -v '^$' | head -1 | cut -c1-50)"
  fi
}
mdf() { rm -f "$TMP/mdf.txt" "$TMP/mdf.log"; makedumpfile --dump-dmesg "$1" "$TMP/mdf.txt" > "$TMP/mdf.log" 2>&1 && cat "$TMP/mdf.txt"; }
export -f mdf; export TMP

echo "| dump | size | $CSNAME | crash log | vmcore-dmesg | makedumpfile --dump-dmesg |"
echo "|---|---|---|---|---|---|"
for d in vmcore.elf vmcore-paged.elf vmcore.kdump kdump/proc-vmcore.elf kdump/dump.zlib kdump/dump.lzo kdump/dump.flat synth64; do
  if [ "$d" = synth64 ]; then f=$TMP/synth64.elf; crashcol="n/a (no vmlinux)"; else f=$RIG/$d; fi
  [ -e "$f" ] || continue
  size=$(du -h --apparent-size "$f" | cut -f1)
  cs=$(measure "${CS[@]}" "$f")
  if [ "$d" != synth64 ]; then
    crashcol=$(RUNS=1 measure bash -c "echo log | crash -s $VMLINUX $f | grep -c '^\['")
  fi
  vd=$(measure vmcore-dmesg "$f")
  md=$(measure bash -c "mdf $f")
  echo "| $d | $size | $cs | $crashcol | $vd | $md |"
done
