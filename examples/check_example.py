#!/usr/bin/env python3
"""Runs an example under `tether run --report FILE` and checks the outcome.

  check_example.py TETHER PROG [ARG...] --expect none [--stdout REGEX]...
  check_example.py TETHER PROG [ARG...] [--readme README EXAMPLE] --expect KIND PATTERN [NAME...]

none: PROG exits 0, the report has no findings (or was not written), and each
--stdout REGEX matches some line of PROG's output (the story ran to its end).
KIND PATTERN: `tether run` exits 66 and the JSON report (docs/report-format.md)
holds a finding of that kind and pattern whose fibers and objects include
every NAME. --readme: the report also holds the finding README shows in the
output block of EXAMPLE (readme_output.py: "tether: deadlock (PATTERN): ..."
and its "  fiber N "name" [" lines), a deadlock of that pattern whose fibers'
names are exactly the names shown. On failure: what differed, then the
command's stdout and stderr."""
import json
import os
import re
import subprocess
import sys
import tempfile

import readme_output


def fail(msg, p=None):
    print("FAIL: " + msg)
    if p is not None:
        print("--- status %d\n--- stdout:\n%s--- stderr:\n%s" % (p.returncode, p.stdout, p.stderr))
    return 1


def check_readme(readme, findings, p):
    """README's shown finding of the example is among FINDINGS."""
    path, example = readme
    try:
        want = readme_output.shown(path, example)
    except (readme_output.Error, OSError) as e:
        return fail(str(e), p)
    where = "%s:%d:1" % (path, want["line"])
    shown = sorted(set(want["fibers"]))
    seen = []
    for f in findings:
        if f["kind"] != want["kind"] or f["pattern"] != want["pattern"]:
            continue
        names = sorted({x["name"] for x in f["fibers"]})
        if names == shown:
            print("PASS: %s: README's %s/%s with fibers %s is what the program reports"
                  % (where, want["kind"], want["pattern"], ", ".join(shown)))
            return 0
        seen.append(names)
    got = ["%s/%s %s" % (f["kind"], f["pattern"], sorted({x["name"] for x in f["fibers"]}))
           for f in findings]
    return fail("%s: README shows %s/%s with fibers %s; the program reports %s "
                "(scripts/example_outputs.sh regenerates README's outputs)"
                % (where, want["kind"], want["pattern"], shown, got or "no finding"), p)


def main(argv):
    if "--expect" not in argv or len(argv) < 4:
        print(__doc__)
        return 2
    at = argv.index("--expect")
    tether, prog, args = argv[0], argv[1], argv[2:at]
    readme = None
    if "--readme" in args:
        r = args.index("--readme")
        if len(args) < r + 3:
            print(__doc__)
            return 2
        readme = args[r + 1:r + 3]
        args = args[:r] + args[r + 3:]
    expect = argv[at + 1:]
    stdout_res = []
    while len(expect) >= 2 and expect[-2] == "--stdout":
        stdout_res.insert(0, expect[-1])
        expect = expect[:-2]
    with tempfile.TemporaryDirectory() as d:
        report = os.path.join(d, "report.json")
        cmd = [tether, "run", "--timeout", "60s", "--report", report, "--", prog] + args
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=110,
                           stdin=subprocess.DEVNULL)
        print("$ " + " ".join(cmd))
        doc = None
        if os.path.exists(report):
            try:
                doc = json.load(open(report))
            except ValueError as e:
                return fail("%s is not JSON: %s" % (report, e), p)
            if doc.get("format") != "tether-report" or doc.get("version") != 1:
                return fail("not a tether report v1: %s" % json.dumps(doc)[:300], p)
        findings = doc["findings"] if doc else []

        if expect[0] == "none":
            if p.returncode != 0:
                return fail("expected status 0, got %d" % p.returncode, p)
            if findings:
                return fail("findings in the working variant:\n" + json.dumps(findings, indent=1), p)
            for rx in stdout_res:
                if not re.search(rx, p.stdout, re.M):
                    return fail("no stdout line matches %r" % rx, p)
            print("PASS: status 0, no findings, %d stdout checks" % len(stdout_res))
            return 0

        kind, pattern, names = expect[0], expect[1], expect[2:]
        if p.returncode != 66:
            return fail("expected status 66 (deadlock found), got %d" % p.returncode, p)
        for f in findings:
            if f["kind"] != kind or f["pattern"] != pattern:
                continue
            seen = {x["name"] for x in f["fibers"]} | {x["name"] for x in f["objects"]} | \
                   {x["name"] for x in f.get("threads", [])}
            missing = [n for n in names if n not in seen]
            if missing:
                return fail("%s/%s finding lacks %s: %s" % (kind, pattern, missing, json.dumps(f)), p)
            print("PASS: status 66, %s/%s with %s" % (kind, pattern, ", ".join(names) or "-"))
            return check_readme(readme, findings, p) if readme else 0
        got = ["%s/%s" % (f["kind"], f["pattern"]) for f in findings]
        return fail("no %s/%s finding; the report has %s" % (kind, pattern, got or "none"), p)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
