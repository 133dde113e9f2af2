#!/usr/bin/env python3
"""fnlen.py — function and file lengths, for the size rules of the layout.

   tools/fnlen.py [--max-fn N] [--max-file N] [DIR...]

How it counts: rcsim's style opens a function body with '{' alone in column 0
and closes it with '}' in column 0; a function's length is the number of lines
from its signature's first line to that closing brace, blank and comment lines
included. Files are counted in lines (wc -l). Prints every function longer than
--max-fn (default 120) and every .c/.h file longer than --max-file (default
600), except tests/ and the config tables (sim/app/spec.c); exits 1 if any."""
import os, re, sys

def functions(path):
    lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    i = 0
    while i < len(lines):
        if lines[i] == "{":
            # the signature starts after the previous blank/comment/brace/semicolon line
            s = i - 1
            while s > 0 and lines[s - 1].strip() and not lines[s - 1].startswith(("}", "#", "/*", " *", "//")) \
                    and not lines[s - 1].rstrip().endswith((";", "*/")):
                s -= 1
            name = re.findall(r"(\w+)\s*\(", " ".join(lines[s:i]))
            j = i + 1
            while j < len(lines) and not lines[j].startswith("}"):
                j += 1
            yield (name[0] if name else "?"), s + 1, j - s + 1
            i = j
        i += 1

def main(argv):
    max_fn, max_file, dirs = 120, 600, []
    it = iter(argv)
    for a in it:
        if a == "--max-fn": max_fn = int(next(it))
        elif a == "--max-file": max_file = int(next(it))
        else: dirs.append(a)
    dirs = dirs or ["base", "io", "models", "encoders", "sim"]
    bad = 0
    nfn = 0
    for d in dirs:
        for root, _, files in os.walk(d):
            for f in sorted(files):
                if not f.endswith((".c", ".h")): continue
                p = os.path.join(root, f)
                if p.startswith("tests/") or p.endswith("spec.c"): continue
                n = sum(1 for _ in open(p, encoding="utf-8", errors="replace"))
                if n > max_file:
                    print(f"{p}: file has {n} lines (> {max_file})"); bad += 1
                for name, line, length in functions(p):
                    nfn += 1
                    if length > max_fn:
                        print(f"{p}:{line}: {name} has {length} lines (> {max_fn})"); bad += 1
    print(f"fnlen: {nfn} functions read; {bad} over the limits")
    return 1 if bad else 0

sys.exit(main(sys.argv[1:]))
