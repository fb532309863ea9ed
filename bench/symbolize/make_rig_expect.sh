#!/bin/bash
# Records what the reference tools answer on samples of the rig's Debian kernel, as the
# expectations of the rig tests (tests/it/rig.rs), so the tests need no tool at run time:
#  - fixtures/dwarf/rig/vmlinux-llvm-sample.jsonl: 1,000 addresses from System.map text
#    symbols (seed 7) with llvm-symbolizer --inlines chains;
#  - fixtures/dwarf/rig/<module>-sample.jsonl: 150 `func+off/len [mod]` frames per module
#    with binutils `addr2line -j SECTION` and `eu-addr2line` chains.
# Usage: make_rig_expect.sh [RIGDIR]   (needs llvm-symbolizer, binutils, elfutils, a release
# build of the symbolize example for the module script's own comparison)
set -euo pipefail
RIG=${1:-${CRASHSIFT_RIG_DIR:-/work/rig}}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$HERE/../../fixtures/dwarf/rig
mkdir -p "$OUT"
KV=6.1.0-57-amd64
V=$RIG/dbg/usr/lib/debug/boot/vmlinux-$KV
MAP=$RIG/dbg/usr/lib/debug/boot/System.map-$KV
TMP=$(mktemp -d)
python3 "$HERE/gen_addrs.py" "$MAP" 1000 7 > "$TMP/addrs"
llvm-symbolizer --inlines --output-style=JSON -e "$V" < "$TMP/addrs" | python3 -c '
import json, sys
for line in sys.stdin:
    v = json.loads(line)
    chain = [[s["FunctionName"], s["FileName"], s["Line"]] for s in v.get("Symbol", [])]
    print(json.dumps({"a": v["Address"], "c": chain}, separators=(",", ":")))
' > "$OUT/vmlinux-llvm-sample.jsonl"
BIN=${SYMBOLIZE_BIN:-${CARGO_TARGET_DIR:-$HERE/../../target}/release/examples/symbolize}
MODS=$RIG/dbg/usr/lib/debug/lib/modules/$KV/kernel
for m in fs/ext4/ext4.ko drivers/net/ethernet/intel/e1000/e1000.ko drivers/net/ethernet/mellanox/mlx5/core/mlx5_core.ko; do
  name=$(basename "$m" .ko)
  python3 "$HERE/compare_modules.py" "$BIN" "$MODS/$m" 150 7 "$OUT/$name-sample.jsonl"
done
rm -rf "$TMP"
ls -la "$OUT"
