#!/usr/bin/env python3
"""Compares crashsift's JSON Lines with llvm-symbolizer --output-style=JSON on the same
addresses: per address, the inline chains must agree on function, file and line.
Only addresses llvm resolves (a function name other than ??) count.
Usage: compare_llvm.py ours.jsonl llvm.jsonl  -> prints agreement, exits 1 below 99.9%"""
import json, sys

ours = [json.loads(l) for l in open(sys.argv[1])]
llvm = [json.loads(l) for l in open(sys.argv[2])]
assert len(ours) == len(llvm), (len(ours), len(llvm))
total = agree = 0
shown = 0
for o, l in zip(ours, llvm):
    want = [(s["FunctionName"], s["FileName"], s["Line"]) for s in l.get("Symbol", [])]
    if not want or want[0][0] in ("", "??"):
        continue
    total += 1
    got = [(f["function"], f["file"] or "", f["line"] or 0) for f in o["frames"]]
    if got == want:
        agree += 1
    elif shown < 10:
        shown += 1
        print("DIFF", l["Address"], "\n  llvm:", want, "\n  ours:", got, o.get("error"))
pct = 100.0 * agree / max(total, 1)
print(f"agree {agree}/{total} = {pct:.3f}%")
sys.exit(0 if pct >= 99.9 else 1)
