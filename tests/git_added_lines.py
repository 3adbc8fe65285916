#!/usr/bin/env python3
"""git's own added lines that match a pattern, per commit, as the reference
gitgate is held to. Reads `git log -p -U0 -M100% --format='commit %H %P'`
on stdin and prints JSON: {"<commit>": {"merge": bool, "lines": [[path,
line], ...]}}. Hunk counts are respected, so an added line that starts with
"++" is never taken for a header.

usage: git log ... | git_added_lines.py PATTERN
"""
import json
import re
import sys


def unquote(name):
    """Undo git's C-style quoting of a path in a patch header."""
    if not name.startswith(b'"'):
        return name.rstrip(b"\t")
    out, i = bytearray(), 1
    escapes = {b"a": 7, b"b": 8, b"t": 9, b"n": 10, b"v": 11, b"f": 12, b"r": 13, b'"': 34, b"\\": 92}
    while i < len(name) and name[i:i + 1] != b'"':
        c = name[i:i + 1]
        if c == b"\\":
            nxt = name[i + 1:i + 2]
            if nxt in escapes:
                out.append(escapes[nxt])
                i += 2
                continue
            out.append(int(name[i + 1:i + 4], 8))
            i += 4
            continue
        out += c
        i += 1
    return bytes(out)


def added_lines(stream, pattern):
    regex = re.compile(pattern.encode())
    result, commit, path = {}, None, None
    old_left = new_left = line_no = 0
    for raw in stream:
        line = raw.rstrip(b"\n")
        if old_left or new_left:
            tag = line[:1]
            if tag == b"+":
                text = line[1:]
                if text.endswith(b"\r"):
                    text = text[:-1]
                if regex.search(text):
                    result[commit]["lines"].append([path.decode("utf-8", "replace"), line_no])
                new_left -= 1
                line_no += 1
            elif tag == b"-":
                old_left -= 1
            elif tag == b" ":
                old_left -= 1
                new_left -= 1
                line_no += 1
            continue
        if line.startswith(b"commit "):
            parts = line.split()
            commit = parts[1].decode()
            result[commit] = {"merge": len(parts) > 3, "lines": []}
        elif line.startswith(b"+++ "):
            name = unquote(line[4:])
            path = name[2:] if name.startswith(b"b/") else None
        elif line.startswith(b"@@ "):
            m = re.match(rb"@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", line)
            old_left = int(m.group(1)) if m.group(1) is not None else 1
            line_no = int(m.group(2))
            new_left = int(m.group(3)) if m.group(3) is not None else 1
    return result


if __name__ == "__main__":
    json.dump(added_lines(sys.stdin.buffer, sys.argv[1]), sys.stdout)
