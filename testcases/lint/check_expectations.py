#!/usr/bin/env python3
"""Runs tether lint on input files and compares its findings with the
expectations written in the files themselves:

    m.lock();  // expect-warning: tether-lock-misuse
    bad();     // expect-warning: tether-lock-misuse, tether-lock-order-inversion
    int x = ;  // expect-error: clang-diagnostic-error

A finding matches an expectation on the same file, line and rule. Any
missing or extra finding fails the test; so does an exit status other than
the one the expectations imply (2 with a compile error, 1 with findings,
0 for a clean near-miss file).
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys

EXPECT = re.compile(r"//.*\bexpect-(?:warning|error):\s*([A-Za-z0-9_,\- ]+)")


def expectations(path):
    out = collections.Counter()
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            m = EXPECT.search(line)
            if not m:
                continue
            for rule in m.group(1).split(","):
                rule = rule.strip()
                if rule:
                    out[(os.path.realpath(path), lineno, rule)] += 1
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lint", required=True)
    ap.add_argument("-p", required=True)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()

    expected = collections.Counter()
    for f in args.files:
        expected += expectations(f)
    cmd = [args.lint, "-p", args.p, "--format", "json", "--root", "/"] + args.files
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        print("not JSON output; exit", proc.returncode, "\nstdout:", proc.stdout, "\nstderr:", proc.stderr)
        return 1
    actual = collections.Counter()
    messages = {}
    for d in report["diagnostics"]:
        key = (os.path.realpath("/" + d["file"]) if not d["file"].startswith("/") else d["file"],
               d["line"], d["rule"])
        actual[key] += 1
        messages.setdefault(key, d["message"])
    ok = True
    for key in sorted((expected - actual).elements()):
        print("MISSING  %s:%d: %s" % key)
        ok = False
    for key in sorted((actual - expected).elements()):
        print("EXTRA    %s:%d: %s -- %s" % (key + (messages[key],)))
        ok = False
    rules = {k[2] for k in expected}
    want_exit = 2 if "clang-diagnostic-error" in rules else 1 if expected else 0
    if proc.returncode != want_exit:
        print("exit status %d, expected %d; stderr:\n%s" % (proc.returncode, want_exit, proc.stderr))
        ok = False
    print("%s: %d expected, %d found" % ("PASS" if ok else "FAIL", sum(expected.values()),
                                         sum(actual.values())))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
