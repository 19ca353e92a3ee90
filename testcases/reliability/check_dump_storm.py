#!/usr/bin/env python3
"""check_dump_storm.py PROG [SIGNALS]: runs programs/dump_storm.cpp and checks
that it survived the SIGUSR1 storm with its own results right (exit 0,
"dump_storm: result ok") and that every dump it wrote on stderr is complete:
the header with "(SIGUSR1)", "fibers: N" with N the program's live fibers, N
fiber headers in Go's layout, each followed by frames (function, then a tab
and file:line) (or, for a fiber that has not run yet, "(no stack: not started)") and every
fiber but fiber 1 by its "created by" line."""
import re
import subprocess
import sys

HEADER = re.compile(r'^fiber (\d+) ("[^"]*" )?\[[^\]]*\]:$')
# Identical fibers print once (docs/dump-format.md, "Groups").
GROUP = re.compile(r'^fibers (\d+(?:, \d+)*)(?: \.\.\.)? \((\d+) fibers\)( "[^"]*")? \[[^\]]*\]:$')


def check_dump(text, want):
    lines = text.split("\n")
    problems = []
    if "(SIGUSR1)" not in lines[0]:
        problems.append("first line lacks (SIGUSR1): " + lines[0])
    announced = [int(l[8:]) for l in lines if re.fullmatch(r"fibers: \d+", l)]
    if announced != [want]:
        problems.append(f"'fibers:' lines {announced}, want [{want}]")
    blocks, cur = [], None
    for l in lines:
        m, g = HEADER.match(l), GROUP.match(l)
        if m or g:
            ids = [int(m.group(1))] if m else [int(x) for x in g.group(1).split(", ")]
            cur = {"id": ids[0], "ids": ids, "count": 1 if m else int(g.group(2)), "frames": 0,
                   "created": False, "header": l, "not_started": False}
            blocks.append(cur)
        elif cur is None:
            continue
        elif l.startswith("\t"):
            cur["frames"] += 1
        elif l == "(no stack: not started)":
            cur["not_started"] = True  # a fiber that never ran has no stack yet
        elif l.startswith("created by "):
            cur["created"] = True
        elif l == "":
            cur = None
    if sum(b["count"] for b in blocks) != want:
        problems.append(f"{sum(b['count'] for b in blocks)} fibers in {len(blocks)} blocks, "
                        f"want {want}")
    if len({i for b in blocks for i in b["ids"]}) != sum(len(b["ids"]) for b in blocks):
        problems.append("a fiber is listed twice")
    for b in blocks:
        if b["frames"] == 0 and not b["not_started"]:
            problems.append("no frames: " + b["header"])
        if b["id"] != 1 and not b["created"]:
            problems.append("no 'created by' line: " + b["header"])
    return problems


def main():
    prog = sys.argv[1]
    signals = sys.argv[2] if len(sys.argv) > 2 else "1000"
    env = {"TETHER_DETECT_MS": "0", "PATH": "/usr/bin:/bin"}
    try:
        p = subprocess.run([prog, signals], capture_output=True, text=True, errors="replace",
                           timeout=120, env=env)
    except subprocess.TimeoutExpired:
        print("check_dump_storm: the program hung (120 s)")
        return 1
    out, err = p.stdout, p.stderr
    failed = False
    if p.returncode != 0 or "dump_storm: result ok" not in out:
        print(f"check_dump_storm: status {p.returncode}, stdout:\n{out}")
        failed = True
    m = re.search(r"dump_storm: fibers (\d+)", out)
    want = int(m.group(1)) if m else -1
    starts = [m.start() for m in re.finditer(r"^tether: fiber dump of process ", err, re.M)]
    dumps = [err[a:b] for a, b in zip(starts, starts[1:] + [len(err)])]
    if len(dumps) < 2:
        print(f"check_dump_storm: {len(dumps)} dumps on stderr, want at least 2")
        failed = True
    bad = 0
    for i, d in enumerate(dumps):
        problems = check_dump(d, want)
        if problems:
            bad += 1
            if bad <= 2:
                print(f"check_dump_storm: dump {i + 1} of {len(dumps)} is incomplete:")
                print("  " + "\n  ".join(problems[:10]))
                print(d[:4000])
    stray = err[:starts[0]] if starts else err
    if stray.strip():
        print("check_dump_storm: unexpected output before the first dump:\n" + stray[:2000])
        failed = True
    if bad or failed:
        return 1
    print(f"check_dump_storm: ok: {signals} signals, {len(dumps)} complete dumps of {want} "
          f"fibers; {out.strip().splitlines()[-2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
