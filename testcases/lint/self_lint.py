#!/usr/bin/env python3
"""Self-lint: runs tether lint over the files of the build's own
compile_commands.json that lie under the given directories (runtime/, cli/,
the example programs...) and compares the findings with the list of expected
ones (--expect: `path:line: rule` lines relative to --root; '#' comments).
Any missing or extra finding fails; so does a file that does not compile."""
import argparse
import collections
import json
import os
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lint", required=True)
    ap.add_argument("-p", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--expect", required=True)
    ap.add_argument("-j", default="2")
    ap.add_argument("dirs", nargs="+")
    a = ap.parse_args()
    root = os.path.realpath(a.root)
    with open(os.path.join(a.p, "compile_commands.json"), encoding="utf-8") as f:
        db = json.load(f)
    prefixes = [os.path.join(root, d) + os.sep for d in a.dirs]
    files = sorted({os.path.normpath(os.path.join(e["directory"], e["file"])) for e in db})
    files = [f for f in files if any(f.startswith(p) for p in prefixes)]
    if not files:
        print("FAIL: no file of %s lies under %s" % (a.p, ", ".join(a.dirs)))
        return 1
    expected = collections.Counter()
    with open(a.expect, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                path, lineno, rule = [x.strip() for x in line.split(":", 2)]
                expected[(path, int(lineno), rule)] += 1
    proc = subprocess.run([a.lint, "-p", a.p, "--format", "json", "--root", root, "-j", a.j] + files,
                          capture_output=True, text=True, timeout=1200)
    if proc.returncode == 2 and not proc.stdout:
        print("FAIL: %s" % proc.stderr)
        return 1
    report = json.loads(proc.stdout)
    actual = collections.Counter()
    text = {}
    for d in report["diagnostics"]:
        key = (d["file"], d["line"], d["rule"])
        actual[key] += 1
        text[key] = d["message"]
    ok = True
    for key in sorted((expected - actual).elements()):
        print("MISSING  %s:%d: %s" % key)
        ok = False
    for key in sorted((actual - expected).elements()):
        print("EXTRA    %s:%d: %s -- %s" % (key + (text[key],)))
        ok = False
    print("%s: %d files linted, %d findings, %d expected" % ("PASS" if ok else "FAIL", len(files),
                                                          sum(actual.values()), sum(expected.values())))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
