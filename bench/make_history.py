#!/usr/bin/env python3
"""Writes a git fast-import stream for a monorepo history shaped like
the team's: argo/, alpine-backend/, alpine-frontend/, packages/ui. Each commit
edits a few files of one unit (inserting and deleting lines; 1 added line in
100 is debug code, and 1 in 500 of the imported lines), now and then moves a file unchanged, and every 50th
commit is a merge of a short side branch. Deterministic for a given seed.

usage: make_history.py COMMITS [FILES [MAX_LINES]] | git fast-import --quiet
"""
import random
import sys

commits = int(sys.argv[1])
files_wanted = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
max_lines = int(sys.argv[3]) if len(sys.argv) > 3 else 400
rng = random.Random(7)
units = [("argo", "py"), ("alpine-backend", "js"), ("alpine-frontend", "tsx"), ("packages/ui", "js")]
words = "account order price signal retry cache token stream limit queue report metric".split()
debug = ["console.log(value);", "// TODO: handle the error", "debugger;", "# FIXME: slow path",
         "breakpoint()"]

def line(debug_rate=0.01):
    if rng.random() < debug_rate:
        return rng.choice(debug)
    return "const %s_%d = %s(%d);" % (rng.choice(words), rng.randrange(1000), rng.choice(words),
                                      rng.randrange(100))

files = {}
for i in range(files_wanted):
    unit, ext = units[i % len(units)]
    # Existing code holds some debug lines too (about one file in eight).
    files["%s/src/m%02d/f%05d.%s" % (unit, i % 40, i, ext)] = [
        line(0.002) for _ in range(rng.randrange(min(30, max_lines - 1), max_lines))]

out = sys.stdout.buffer
mark = 0
when = 1700000000

def data(text):
    raw = text.encode()
    out.write(b"data %d\n" % len(raw))
    out.write(raw)
    out.write(b"\n")

def commit(branch, message, changes, parents=()):
    global mark, when
    mark += 1
    when += 60
    out.write(b"commit refs/heads/%s\nmark :%d\n" % (branch.encode(), mark))
    out.write(b"committer Bench <bench@example.com> %d +0000\n" % when)
    data(message)
    for i, p in enumerate(parents):
        out.write(b"%s :%d\n" % (b"from" if i == 0 else b"merge", p))
    for op in changes:
        out.write(op.encode() if isinstance(op, str) else op)
    return mark

def modify(path):
    body = "\n".join(files[path]) + "\n"
    raw = body.encode()
    return b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(raw), raw)

tip = commit("main", "import", [modify(p) for p in sorted(files)])
side = None
for n in range(1, commits):
    unit = rng.choice(units)[0]
    paths = [p for p in rng.sample(sorted(files), 40) if p.startswith(unit + "/")][:3] or \
            [rng.choice(sorted(files))]
    changes = []
    for p in paths:
        lines = files[p]
        for _ in range(rng.randrange(1, 4)):
            lines.insert(rng.randrange(len(lines) + 1), line())
        if len(lines) > 30 and rng.random() < 0.5:
            del lines[rng.randrange(len(lines))]
        changes.append(modify(p))
    if rng.random() < 0.02:
        old = paths[0]
        new = old.replace("/f", "/moved-f", 1)
        if new not in files:  # a move of an unchanged file: it adds no lines
            files[new] = files.pop(old)
            changes = ["R %s %s\n" % (old, new)]
    if n % 50 == 25:
        side = commit("side", "side work %d" % n, changes, (tip,))
        continue
    tip = commit("main", "change %d in %s" % (n, unit), changes, (tip,) if side is None else (tip, side))
    side = None
out.write(b"reset refs/heads/side\nfrom :%d\n" % tip)
