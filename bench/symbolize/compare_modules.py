#!/usr/bin/env python3
"""Module check: random `func+off/len [mod]` frames drawn from a .ko's symbol table (all
executable sections, so .text.unlikely/.cold and .init.text are included) resolved by
crashsift and by binutils `addr2line -j <section>` and `eu-addr2line sym+off`; the inline
chains must agree on function, file and line.
Usage: compare_modules.py SYMBOLIZE_BIN MODULE.ko N SEED [EXPECT_OUT.jsonl]
With EXPECT_OUT, writes the binutils answers as a test fixture (one JSON per frame)."""
import json, random, subprocess, sys

sym_bin, ko, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
expect_out = sys.argv[5] if len(sys.argv) > 5 else None
mod = ko.rsplit("/", 1)[-1].split(".")[0]

# Sections and symbols from readelf.
secs = {}
for line in subprocess.run(["readelf", "-SW", ko], capture_output=True, text=True).stdout.splitlines():
    if "]" in line and line.strip().startswith("[") and "Nr]" not in line:
        parts = line.split("]", 1)[1].split()
        idx = int(line.split("[")[1].split("]")[0])
        secs[idx] = (parts[0], int(parts[4], 16), parts[6] if len(parts) > 6 else "")
syms = []
for line in subprocess.run(["readelf", "-sW", ko], capture_output=True, text=True).stdout.splitlines():
    p = line.split()
    if len(p) >= 8 and p[3] in ("FUNC", "NOTYPE") and p[6].isdigit():
        idx = int(p[6])
        name = p[7]
        if idx in secs and "X" in secs[idx][2] and not name.startswith((".L", "$")):
            syms.append((idx, int(p[1], 16), name))
# kallsyms lengths: next symbol in the same section, else section end.
by_sec = {}
for s in syms:
    by_sec.setdefault(s[0], []).append(s)
frames = []
names = {}
for idx, lst in by_sec.items():
    lst.sort(key=lambda s: s[1])
    addrs = sorted(set(s[1] for s in lst))
    for s in lst:
        names.setdefault(s[2], 0)
        names[s[2]] += 1
        nxt = [a for a in addrs if a > s[1]]
        ln = (nxt[0] if nxt else secs[idx][1]) - s[1]
        if ln > 0:
            frames.append((secs[idx][0], s[1], s[2], ln))
frames = [f for f in frames if names[f[2]] == 1]
rng = random.Random(seed)
picked = [rng.choice(frames) for _ in range(n)]
picked = [(sec, a, name, ln, rng.randrange(ln)) for (sec, a, name, ln) in picked]

lines = ["%s+0x%x/0x%x [%s]" % (name, off, ln, mod) for (sec, a, name, ln, off) in picked]
moddir = ko.rsplit("/", 1)[0]
ours = subprocess.run([sym_bin, "--modules", moddir, "--json"], input="\n".join(lines) + "\n",
                      capture_output=True, text=True).stdout.splitlines()
ours = [json.loads(l) for l in ours]

def parse_pairs(out):
    """Splits `-a` output (an address line, then function/location pairs) per address."""
    res, cur = [], None
    i = 0
    while i < len(out):
        if out[i].startswith("0x"):
            cur = []
            res.append(cur)
            i += 1
            continue
        if i + 1 >= len(out):
            break
        fn = out[i].split(" inlined at ")[0]
        f, _, rest = out[i + 1].partition(":")
        l = rest.split(":")[0].split()[0] if rest else ""
        cur.append((fn, "" if f == "??" else f, int(l) if l.isdigit() else 0))
        i += 2
    return res

def binutils_all(picked):
    out = {}
    by_sec = {}
    for k, (sec, a, name, ln, off) in enumerate(picked):
        by_sec.setdefault(sec, []).append((k, a + off))
    for sec, items in by_sec.items():
        r = subprocess.run(["addr2line", "-a", "-j", sec, "-f", "-i", "-e", ko] + ["0x%x" % x for _, x in items],
                           capture_output=True, text=True).stdout.splitlines()
        for (k, _), chain in zip(items, parse_pairs(r)):
            out[k] = chain
    return [out.get(k, []) for k in range(len(picked))]

def eu_all(picked):
    r = subprocess.run(["eu-addr2line", "-a", "-f", "-i", "-e", ko] + ["%s+0x%x" % (name, off) for (sec, a, name, ln, off) in picked],
                       capture_output=True, text=True).stdout.splitlines()
    res = parse_pairs(r)
    return res + [[]] * (len(picked) - len(res))

def strip_clone(fn):
    import re
    return re.sub(r"\.(cold|isra\.\d+|constprop\.\d+|part\.\d+)+$", "", fn)

agree_b = agree_e = total = 0
disagree_both = 0
expect = []
def same(got, ref):
    """Equal chains, where a `??` function in the reference matches any name."""
    return len(got) == len(ref) and all(
        g[1] == r[1] and g[2] == r[2] and (r[0] in ("??", "") or g[0] == r[0]) for g, r in zip(got, ref))

B = binutils_all(picked)
E = eu_all(picked)
for (sec, a, name, ln, off), line, o, b, e in zip(picked, lines, ours, B, E):
    total += 1
    # binutils and elfutils name the outermost frame by DWARF: compare source_function.
    got = [(strip_clone(f.get("source_function", f["function"])), f["file"] or "", f["line"] or 0) for f in o["frames"]]
    b = [(strip_clone(x[0]), x[1], x[2]) for x in b]
    e = [(strip_clone(x[0]), x[1], x[2]) for x in e]
    agree_b += same(got, b)
    agree_e += same(got, e)
    padding = all(x[2] == 0 for x in b)
    disagree_both += not same(got, b) and not same(got, e) and not padding
    if not same(got, b) and not same(got, e) and not padding:
        print("DIFF binutils", line, sec, "\n  binutils:", b, "\n  eu:", e, "\n  ours:", got, o.get("error"))
    expect.append({"input": line, "section": sec, "binutils": b, "eu": e})
print("%s: %d frames, agree with binutils addr2line -j: %d, with eu-addr2line: %d; "
      "outside padding (where binutils has no line) disagreeing with both: %d" % (mod, total, agree_b, agree_e, disagree_both))
if disagree_both:
    sys.exit(1)
if expect_out:
    with open(expect_out, "w") as f:
        for e in expect:
            f.write(json.dumps(e) + "\n")
