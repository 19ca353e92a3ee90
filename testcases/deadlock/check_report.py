#!/usr/bin/env python3
"""Checks a JSON findings report (docs/report-format.md): its envelope, and
that it holds a finding of the expected kind and pattern naming the expected
fibers and objects.

  check_report.py --file REPORT KIND PATTERN [fibers=A,B] [objects=X,Y] [NAME...]
  check_report.py --file REPORT none
  check_report.py TETHER PROG KIND PATTERN [...]    # runs PROG under `tether run --report`

fibers=/objects=: names that must appear among that finding's fibers /
objects; a bare NAME may be either. KIND "none": the report must hold no
findings (or not exist). run_case.sh calls the --file form for the
`finding:` and `findings:` lines of each program's expectations.
Exit 0 on success; 1 with a message naming what is missing."""
import json
import os
import subprocess
import sys
import tempfile

FIBER_KEYS = ("id", "name", "state", "object", "site", "locked_to", "stack")
OBJECT_KEYS = ("id", "kind", "name")


def fail(msg):
    print("FAIL: " + msg)
    return 1


def check_finding_shape(f):
    for key in ("kind", "pattern", "fibers", "objects", "threads", "explanation", "text"):
        if key not in f:
            return "finding without %r: %s" % (key, json.dumps(f))
    for fib in f["fibers"]:
        for key in FIBER_KEYS:
            if key not in fib:
                return "fiber without %r: %s" % (key, fib)
        if not isinstance(fib["site"], dict) or "file" not in fib["site"] or "line" not in fib["site"]:
            return "fiber site is not {file, line}: %s" % fib
    for obj in f["objects"]:
        for key in OBJECT_KEYS:
            if key not in obj:
                return "object without %r: %s" % (key, obj)
    if f["kind"] == "lock-order-inversion":
        cycle = f.get("cycle")
        if not cycle or len(cycle) < 2:
            return "lock-order-inversion without a cycle of 2+ edges: %s" % json.dumps(f)
        for i, e in enumerate(cycle):
            for key in ("from", "to", "fiber", "fiber_name", "site", "held_site", "stack"):
                if key not in e:
                    return "cycle edge without %r: %s" % (key, e)
            if e["to"]["id"] != cycle[(i + 1) % len(cycle)]["from"]["id"]:
                return "cycle edges do not chain: %s" % json.dumps(cycle)
    return None


def check_file(path, kind, pattern, wants):
    if kind == "none":
        if not os.path.exists(path):
            print("PASS: no report")
            return 0
        doc = json.load(open(path))
        if doc["findings"]:
            got = ", ".join("%s/%s" % (f["kind"], f["pattern"]) for f in doc["findings"])
            return fail("findings in a near miss: %s\n%s" % (got, json.dumps(doc)[:2000]))
        print("PASS: no findings")
        return 0
    if not os.path.exists(path):
        return fail("no report written (expected a %s/%s finding)" % (kind, pattern))
    try:
        doc = json.load(open(path))
    except ValueError as e:
        return fail("%s: not JSON: %s" % (path, e))
    if doc.get("format") != "tether-report" or doc.get("version") != 1 or "pid" not in doc:
        return fail("bad envelope: %s" % json.dumps(doc)[:300])
    for f in doc["findings"]:
        problem = check_finding_shape(f)
        if problem:
            return fail(problem)
    fibers_want, objects_want, any_want = [], [], []
    for w in wants:
        if w.startswith("fibers="):
            fibers_want += [x for x in w[len("fibers="):].split(",") if x]
        elif w.startswith("objects="):
            objects_want += [x for x in w[len("objects="):].split(",") if x]
        else:
            any_want.append(w)
    candidates = [f for f in doc["findings"] if f["kind"] == kind and f["pattern"] == pattern]
    if not candidates:
        got = ", ".join("%s/%s" % (f["kind"], f["pattern"]) for f in doc["findings"])
        return fail("no %s/%s finding (the report has: %s)" % (kind, pattern, got or "none"))
    problems = []
    for f in candidates:
        fnames = {x["name"] for x in f["fibers"]}
        onames = {x["name"] for x in f["objects"]}
        missing = [n for n in fibers_want if n not in fnames]
        missing += [n for n in objects_want if n not in onames]
        missing += [n for n in any_want if n not in fnames | onames]
        if not missing:
            print("PASS: %s/%s with %s" % (kind, pattern, " ".join(wants) or "no names"))
            return 0
        problems.append("lacks %s: fibers %s, objects %s" % (missing, sorted(fnames), sorted(onames)))
    return fail("%s/%s finding %s" % (kind, pattern, "; ".join(problems)))


def main():
    args = sys.argv[1:]
    if len(args) >= 3 and args[0] == "--file":
        kind = args[2]
        pattern = args[3] if kind != "none" and len(args) > 3 else None
        if kind != "none" and pattern is None:
            print(__doc__)
            return 2
        return check_file(args[1], kind, pattern, args[4:] if kind != "none" else [])
    if len(args) < 3:
        print(__doc__)
        return 2
    tether, prog, kind = args[0], args[1], args[2]
    pattern = args[3] if len(args) > 3 else None
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "report.json")
        p = subprocess.run([tether, "run", "--timeout", "30s", "--report", path, "--", prog],
                           capture_output=True, text=True, timeout=120)
        want_status = 0 if kind == "none" else 66
        if p.returncode != want_status:
            return fail("expected status %d, got %d\n%s" % (want_status, p.returncode, p.stderr))
        return check_file(path, kind, pattern, args[4:])


if __name__ == "__main__":
    sys.exit(main())
