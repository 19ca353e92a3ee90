#!/usr/bin/env python3
"""Runs PROG under `tether run --report FILE` and checks the JSON findings
report (docs/report-format.md): its envelope, and that it holds a finding of
the expected kind and pattern naming the expected fiber and object names.

  check_report.py TETHER PROG KIND PATTERN [NAME...]
(NAMEs: fiber or object names that must appear in that finding.) A near miss
is checked with KIND "none": the report must exist with no findings, or not exist."""
import json
import os
import subprocess
import sys
import tempfile


def main():
    tether, prog, kind, pattern = sys.argv[1:5]
    names = sys.argv[5:]
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "report.json")
        p = subprocess.run([tether, "run", "--timeout", "30s", "--report", path, "--", prog],
                           capture_output=True, text=True, timeout=120)
        if kind == "none":
            if p.returncode != 0:
                print("FAIL: status %d\n%s" % (p.returncode, p.stderr))
                return 1
            if os.path.exists(path) and json.load(open(path))["findings"]:
                print("FAIL: findings in a near miss:\n" + open(path).read())
                return 1
            print("PASS: no findings")
            return 0
        if p.returncode != 66:
            print("FAIL: expected status 66, got %d\n%s" % (p.returncode, p.stderr))
            return 1
        doc = json.load(open(path))
        assert doc["format"] == "tether-report" and doc["version"] == 1, doc
        for f in doc["findings"]:
            if f["kind"] != kind or f["pattern"] != pattern:
                continue
            seen = {x["name"] for x in f["fibers"]} | {x["name"] for x in f["objects"]}
            missing = [n for n in names if n not in seen]
            if missing:
                print("FAIL: %s/%s finding lacks %s: %s" % (kind, pattern, missing, json.dumps(f)))
                return 1
            for fib in f["fibers"]:
                for key in ("id", "name", "state", "object", "site", "stack"):
                    if key not in fib:
                        print("FAIL: fiber without %s: %s" % (key, fib))
                        return 1
            print("PASS: %s/%s with %s" % (kind, pattern, ", ".join(names)))
            return 0
        print("FAIL: no %s/%s finding in:\n%s" % (kind, pattern, json.dumps(doc, indent=1)))
        return 1


if __name__ == "__main__":
    sys.exit(main())
