#!/usr/bin/env python3
"""check_dump_oom.py PROG: the dump when memory has run out (programs/dump_oom.cpp).

Measures the program's address space once its runtime runs (PROG vmsize), then
runs `PROG terminate` and `PROG quit` under RLIMIT_AS = that + 64 MiB (prlimit),
with one malloc arena (MALLOC_ARENA_MAX=1: the headroom does not then depend on
which threads allocated first). Each run exhausts the fiber stacks and the heap,
then asks for a dump (an uncaught std::bad_alloc; SIGQUIT). Checks: the right
exit status, no "(no dump" line, one dump whose "fibers: N" is the number the
program printed, every one of the N fibers listed exactly once (in a "fiber ID"
header or a group's "fibers ID, ID ... (K fibers)" header; a group lists at most
a few ids, so its count is what is added up), every block with frames (symbolized,
or raw "MODULE+0xOFF pc=0xPC" ones) or "(no stack: not started)", and the
program's parked fibers shown in parked_in_user_code (by name when symbolized)."""
import re
import shutil
import subprocess
import sys

SINGLE = re.compile(r'^fiber (\d+)( "[^"]*")? \[[^\]]*\]:$')
GROUP = re.compile(r'^fibers (\d+(?:, \d+)*)(?: \.\.\.)? \((\d+) fibers\)( "[^"]*")? \[[^\]]*\]:$')
RAW_LOCATION = re.compile(r'^\t\S+\+0x[0-9a-f]+ pc=0x[0-9a-f]+$')
SYMBOLIZED_LOCATION = re.compile(r'^\t\S+:\d+( \+0x[0-9a-f]+)?$')


def check_dump(err, want):
    problems = []
    if "(no dump" in err:
        problems.append("the dump failed: " + err[err.index("(no dump"):].split("\n")[0])
    dumps = err.count("tether: fiber dump of process ")
    if dumps != 1:
        problems.append(f"{dumps} dumps, want 1")
        return problems, 0, 0
    text = err[err.index("tether: fiber dump of process "):]
    lines = text.split("\n")
    announced = [int(l[8:]) for l in lines if re.fullmatch(r"fibers: \d+", l)]
    if announced != [want]:
        problems.append(f"'fibers:' lines {announced}, want [{want}]")
    blocks, cur = [], None
    for l in lines:
        m, g = SINGLE.match(l), GROUP.match(l)
        if m or g:
            ids = [int(m.group(1))] if m else [int(x) for x in g.group(1).split(", ")]
            count = 1 if m else int(g.group(2))
            cur = {"header": l, "ids": ids, "count": count, "frames": 0, "raw": 0,
                   "not_started": False, "functions": []}
            blocks.append(cur)
        elif cur is None:
            continue
        elif l.startswith("\t"):
            if not (RAW_LOCATION.match(l) or SYMBOLIZED_LOCATION.match(l)):
                problems.append("bad location line: " + l)
            cur["frames"] += 1
            cur["raw"] += bool(RAW_LOCATION.match(l))
        elif l == "(no stack: not started)":
            cur["not_started"] = True
        elif l == "":
            cur = None
        elif not l.startswith(("created by", "...", "(")):
            cur["functions"].append(l)
    listed = sum(b["count"] for b in blocks)
    if listed != want:
        problems.append(f"{listed} fibers in {len(blocks)} blocks, want {want}")
    ids = [i for b in blocks for i in b["ids"]]
    if len(set(ids)) != len(ids):
        problems.append("a fiber is listed twice")
    for b in blocks:
        if b["frames"] == 0 and not b["not_started"]:
            problems.append("no frames: " + b["header"])
    parked = [b for b in blocks if any("parked_in_user_code" in f for f in b["functions"])]
    raw = sum(b["raw"] for b in blocks)
    if not parked and raw == 0:
        problems.append("no block shows parked_in_user_code, and no raw frames either")
    if parked and sum(b["count"] for b in parked) != 20:
        problems.append(f"{sum(b['count'] for b in parked)} fibers in parked_in_user_code, want 20")
    if not any('"odd"' in b["header"] for b in blocks):
        problems.append('no header names the fiber "odd"')
    return problems, len(blocks), raw


def main():
    prog = sys.argv[1]
    if not shutil.which("prlimit"):
        print("check_dump_oom: prlimit (util-linux) not found: skipped")
        return 0
    env = {"TETHER_DETECT_MS": "0", "MALLOC_ARENA_MAX": "1", "PATH": "/usr/bin:/bin"}
    base = subprocess.run([prog, "vmsize"], capture_output=True, text=True, env=env, timeout=60)
    if base.returncode != 0 or not base.stdout.strip().isdigit():
        print(f"check_dump_oom: vmsize: status {base.returncode}: {base.stdout} {base.stderr}")
        return 1
    limit = (int(base.stdout) + 64 * 1024) * 1024
    failed = False
    for mode, want_status, trigger in (("terminate", -6, "(std::terminate)"),
                                       ("quit", 2, "(SIGQUIT)")):
        try:
            p = subprocess.run(["prlimit", f"--as={limit}", prog, mode], capture_output=True,
                               text=True, errors="replace", timeout=120, env=env)
        except subprocess.TimeoutExpired:
            print(f"check_dump_oom: {mode}: hung (120 s)")
            failed = True
            continue
        m = re.search(r"^dump_oom: fibers (\d+)$", p.stdout, re.M)
        problems = []
        if p.returncode != want_status:
            problems.append(f"exit status {p.returncode}, want {want_status}")
        if not m:
            problems.append("no 'dump_oom: fibers N' on stdout: " + p.stdout[:500])
        if trigger not in p.stderr:
            problems.append(f"no dump with trigger {trigger}")
        nfatal = len(re.findall(r"^fatal error:", p.stderr, re.M))
        if mode == "terminate" and nfatal != 1:
            problems.append(f"{nfatal} 'fatal error:' lines, want 1")
        blocks = raw = 0
        if m:
            more, blocks, raw = check_dump(p.stderr, int(m.group(1))) if "tether: fiber dump" in p.stderr \
                else (["no dump at all"], 0, 0)
            problems += more
        if problems:
            failed = True
            print(f"check_dump_oom: {mode} (RLIMIT_AS {limit} bytes):\n  " + "\n  ".join(problems[:10]))
            print("---- stdout ----\n" + p.stdout[:2000] + "\n---- stderr ----\n" + p.stderr[:8000])
        else:
            print(f"check_dump_oom: {mode}: ok ({m.group(1)} fibers in {blocks} blocks, "
                  f"{raw} raw frames, status {p.returncode})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
