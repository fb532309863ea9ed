#!/usr/bin/env python3
"""Draws N addresses from the text symbols of a System.map: a random symbol (t/T), then a
random offset inside it (up to the next symbol). Deterministic for a given seed.
Usage: gen_addrs.py SYSTEM_MAP N SEED > addrs.txt"""
import random, sys

path, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
syms = []
for line in open(path):
    parts = line.split()
    if len(parts) >= 3:
        syms.append((int(parts[0], 16), parts[1], parts[2]))
syms.sort()
text = []
for i, (a, t, name) in enumerate(syms[:-1]):
    nxt = syms[i + 1][0]
    if t in "tT" and nxt > a and nxt - a < 1 << 20 and not name.startswith("__pfx_"):
        text.append((a, nxt - a))
rng = random.Random(seed)
for _ in range(n):
    a, size = rng.choice(text)
    print("0x%x" % (a + rng.randrange(size)))
