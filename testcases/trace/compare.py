#!/usr/bin/env python3
"""Compares the deadlocks of an online report (docs/report-format.md) and of
an offline analysis (`tether analyze --format json`, docs/analyze-format.md).

  compare.py REPORT.json ANALYSIS.json NEAR   (NEAR: 1 for a near miss)
  compare.py --selftest

Each side's deadlocks are the multiset of (pattern, sorted fiber ids) of its
findings of kind "deadlock". They must be equal; a near miss must have none
on either side. A missing report file means "no findings" (the runtime
writes none then)."""
import json
import os
import sys


def deadlocks(doc):
    out = []
    for f in (doc or {}).get("findings", []):
        if f.get("kind") != "deadlock":
            continue
        ids = sorted(x["id"] if isinstance(x, dict) else x for x in f.get("fibers", []))
        out.append((f.get("pattern"), tuple(ids)))
    return sorted(out)


def compare(report, analysis, near):
    online, offline = deadlocks(report), deadlocks(analysis)
    problems = []
    if near and online:
        problems.append("near miss, but the online detector reported %s" % online)
    if near and offline:
        problems.append("near miss, but the offline analysis found %s" % offline)
    if online != offline:
        problems.append("online %s != offline %s" % (online, offline))
    return problems


def selftest():
    rep = {"findings": [{"kind": "deadlock", "pattern": "lock-cycle", "fibers": [{"id": 3}, {"id": 2}]}]}
    same = {"findings": [{"kind": "deadlock", "pattern": "lock-cycle", "fibers": [{"id": 2}, {"id": 3}]},
                         {"kind": "leak", "pattern": "orphan-wait", "fibers": [{"id": 2}]}]}
    other_kind = {"findings": [{"kind": "deadlock", "pattern": "channel-cycle", "fibers": [{"id": 2}, {"id": 3}]}]}
    other_fibers = {"findings": [{"kind": "deadlock", "pattern": "lock-cycle", "fibers": [{"id": 2}]}]}
    checks = [
        (compare(rep, same, False) == [], "equal deadlocks pass"),
        (compare(rep, other_kind, False) != [], "a different pattern fails"),
        (compare(rep, other_fibers, False) != [], "different fibers fail"),
        (compare(rep, {"findings": []}, False) != [], "a missed deadlock fails"),
        (compare(None, same, True) != [], "a near miss with an offline deadlock fails"),
        (compare(None, {"findings": []}, True) == [], "a silent near miss passes"),
    ]
    bad = [what for ok, what in checks if not ok]
    for what in bad:
        print("selftest FAIL: " + what)
    print("selftest: %d checks, %d failed" % (len(checks), len(bad)))
    return 1 if bad else 0


def main():
    if sys.argv[1:] == ["--selftest"]:
        return selftest()
    report_path, analysis_path, near = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
    report = json.load(open(report_path)) if os.path.exists(report_path) and os.path.getsize(report_path) else None
    try:
        analysis = json.load(open(analysis_path))
    except (OSError, ValueError) as e:
        print("analysis is not JSON: %s" % e)
        return 1
    problems = compare(report, analysis, near)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
