#!/usr/bin/env python3
"""End-to-end checks of `tether analyze` (CTest labels trace;e2e).

Each --case runs the real `tether` binary on traces written by the real
tether_trace_gen (docs/trace-format.md), then checks exit codes, stderr and
the JSON/SARIF documents (docs/analyze-format.md):

  usage     bad options and unusable inputs: exit 2, one stderr line naming
            the file (and the byte, for a bad trace)
  clean     a well-behaved run: exit 0, text/json/sarif with no findings
  deadlock  a run ending in a lock cycle: exit 1, the finding in every format
  torn      the deadlock trace cut inside its last block: the valid prefix is
            analyzed, with one warning naming the byte
  export    --export chrome writes Chrome Trace Event JSON
  sarif     the SARIF log validates against the SARIF 2.1.0 schema (skipped,
            exit 77, without python3-jsonschema or the schema; see
            testcases/lint/check_sarif.py, whose fetch it reuses)
"""
import argparse
import json
import os
import subprocess
import sys

SKIP = 77
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what)


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def gen(args, name, *extra):
    path = os.path.join(args.work, name)
    rc, _, err = run([args.gen, "-o", path, "-n", "3000", "--fibers", "40", "--sites", "5",
                      "--stacks", "4", "--seed", "3"] + list(extra))
    if rc != 0:
        sys.exit("tether_trace_gen failed: " + err)
    return path


def analyze(args, *a):
    return run([args.tether, "analyze"] + list(a))


def one_line(err):
    return len(err.strip().splitlines()) == 1


def case_usage(args):
    t = args.tether
    missing = os.path.join(args.work, "missing.tt")
    rc, out, err = analyze(args, missing)
    check(rc == 2, "missing file: exit %d, want 2" % rc)
    check(one_line(err) and missing + ": byte 0: expected a readable trace file, found" in err,
          "missing file message: %r" % err)
    rc, out, err = analyze(args, args.work)
    check(rc == 2 and "is a directory" in err and one_line(err), "directory: %d %r" % (rc, err))
    garbage = os.path.join(args.work, "garbage.tt")
    with open(garbage, "wb") as f:
        f.write(b"not a trace at all\n" * 10)
    rc, out, err = analyze(args, garbage)
    check(rc == 2, "garbage: exit %d" % rc)
    check(one_line(err) and garbage + ': byte 0: expected the trace magic "TETHERTR", found 6e 6f'
          in err, "garbage message: %r" % err)
    check(out == "", "garbage: nothing on stdout")
    clean = gen(args, "usage.tt")
    with open(clean, "rb") as f:
        data = f.read()
    header_only = os.path.join(args.work, "header_only.tt")
    with open(header_only, "wb") as f:
        f.write(data[:82])  # the header of a trace whose program is /usr/bin/tether_trace_gen
    rc, out, err = analyze(args, header_only)
    check(rc == 2 and one_line(err) and header_only in err, "header only: %d %r" % (rc, err))
    torn_first = os.path.join(args.work, "torn_first.tt")
    with open(torn_first, "wb") as f:
        f.write(data[:200])
    rc, out, err = analyze(args, torn_first)
    check(rc == 2 and one_line(err) and torn_first + ": byte " in err and "expected" in err,
          "torn first block: %d %r" % (rc, err))
    for bad in (["--format", "xml", clean], ["--at", "soon", clean], ["--at", "-5", clean],
                ["--export", "svg", "x.svg", clean], [], ["--bogus", clean]):
        rc, out, err = analyze(args, *bad)
        check(rc == 2 and err.strip() != "", "usage %s: exit %d %r" % (bad, rc, err))
    rc, out, err = analyze(args, clean, "-o", os.path.join(args.work, "no", "such", "dir.txt"))
    check(rc == 2 and "cannot write" in err, "unwritable -o: %d %r" % (rc, err))
    del t


def case_clean(args):
    clean = gen(args, "clean.tt")
    rc, out, err = analyze(args, clean, "--summary")
    check(rc == 0, "clean: exit %d %r" % (rc, err))
    check("clean end" in out and "0 findings" in out, "clean text: %r" % out[:400])
    rc, out, err = analyze(args, clean, "--format", "json")
    check(rc == 0, "clean json: exit %d" % rc)
    doc = json.loads(out)
    check(doc["format"] == "tether-analysis" and doc["version"] == 1, "json header")
    check(doc["findings"] == [], "clean json findings: %s" % doc["findings"][:1])
    check(doc["trace"]["clean_end"] is True and doc["trace"]["error"] is None, "json trace")
    check(doc["summary"]["events"] == sum(doc["summary"]["by_type"].values()), "summary counts")
    check(doc["summary"]["by_type"].get("end") == 1, "one end record")
    rc, out, err = analyze(args, clean, "--format", "sarif")
    log = json.loads(out)
    check(rc == 0 and log["version"] == "2.1.0" and log["runs"][0]["results"] == [],
          "clean sarif: %d" % rc)
    # --at before the end: the state then, still nothing wrong.
    rc, out, err = analyze(args, clean, "--format", "json", "--at", "100us")
    check(rc == 0 and json.loads(out)["at_ns"] == 100000, "--at 100us: %d %r" % (rc, err))


def deadlock_json(args, path):
    rc, out, err = analyze(args, path, "--format", "json")
    return rc, (json.loads(out) if out else None), err


def check_deadlock(doc, what):
    dl = [f for f in doc["findings"] if f["kind"] == "deadlock" and f["pattern"] == "lock-cycle"]
    check(len(dl) == 1, "%s: one lock-cycle deadlock, got %s" %
          (what, [(f["kind"], f["pattern"]) for f in doc["findings"]]))
    if dl:
        check(sorted(x["id"] for x in dl[0]["fibers"]) == [2, 3], "%s: fibers 2, 3" % what)
        check(all(x["state"] == "mutex lock" for x in dl[0]["fibers"]), "%s: states" % what)
        check(len(dl[0]["objects"]) == 2, "%s: two mutexes" % what)


def case_deadlock(args):
    path = gen(args, "deadlock.tt", "--deadlock")
    rc, out, err = analyze(args, path)
    check(rc == 1, "deadlock text: exit %d %r" % (rc, err))
    check("deadlock" in out and "lock cycle" in out, "deadlock text: %r" % out[:300])
    rc, doc, err = deadlock_json(args, path)
    check(rc == 1, "deadlock json: exit %d" % rc)
    check_deadlock(doc, "json")
    check(any(f["pattern"] == "lock-cycle" for f in doc["online"]), "online finding recorded")
    rc, out, err = analyze(args, path, "--format", "sarif", "--root", "/src")
    log = json.loads(out)
    run0 = log["runs"][0]
    ids = [r["id"] for r in run0["tool"]["driver"]["rules"]]
    res = [r for r in run0["results"] if r["ruleId"] == "deadlock/lock-cycle"]
    check(rc == 1 and len(res) == 1, "sarif: one deadlock/lock-cycle result")
    if res:
        r = res[0]
        check(ids[r["ruleIndex"]] == r["ruleId"] and r["level"] == "error", "sarif rule index")
        loc = r["locations"][0]["physicalLocation"]["artifactLocation"]
        check(loc.get("uriBaseId") == "SRCROOT" and loc["uri"].startswith("app/"),
              "sarif location relative to --root: %s" % loc)
    # Before the cycle closes (half-way through the run) there is no deadlock.
    rc, doc, err = deadlock_json(args, path)
    half = doc["summary"]["end_ns"] // 2
    rc, out, err = analyze(args, path, "--format", "json", "--at", str(half))
    check(rc == 0 and not [f for f in json.loads(out)["findings"] if f["kind"] == "deadlock"],
          "--at half-way: no deadlock yet (exit %d)" % rc)


def case_torn(args):
    path = gen(args, "torn_src.tt", "--deadlock", "--block-bytes", "512")
    with open(path, "rb") as f:
        data = f.read()
    torn = os.path.join(args.work, "torn.tt")
    with open(torn, "wb") as f:
        f.write(data[:-10])
    rc, doc, err = deadlock_json(args, torn)
    check(one_line(err) and "warning: " + torn + ": byte " in err and "payload bytes" in err,
          "torn warning: %r" % err)
    check(doc is not None and doc["trace"]["error"] is not None, "json names the error")
    if doc:
        check(doc["trace"]["valid_bytes"] < len(data) - 10, "valid prefix shorter than file")
        check(doc["trace"]["error"]["offset"] == doc["trace"]["valid_bytes"],
              "error at the end of the valid prefix")
    # The last block (with the deadlock's last park) is lost: whatever the
    # analyses say about the prefix, the exit code matches the findings.
    check(rc == (1 if doc and doc["findings"] else 0), "torn exit %d" % rc)
    # A flipped byte in the middle: the block framing or its CRC catches it.
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x55
    bad = os.path.join(args.work, "flipped.tt")
    with open(bad, "wb") as f:
        f.write(flipped)
    rc, doc, err = deadlock_json(args, bad)
    check(one_line(err) and bad + ": byte " in err and "expected" in err, "flip: %r" % err)
    check(rc in (0, 1) and doc is not None, "flip: prefix analyzed (exit %d)" % rc)


def case_export(args):
    path = gen(args, "export.tt", "--deadlock")
    out_json = os.path.join(args.work, "chrome.json")
    rc, out, err = analyze(args, path, "--export", "chrome", out_json)
    check(rc == 1, "export: exit %d %r" % (rc, err))
    with open(out_json, encoding="utf-8") as f:
        doc = json.load(f)
    events = doc["traceEvents"] if isinstance(doc, dict) else doc
    check(len(events) > 100, "chrome: %d events" % len(events))
    check(all("ph" in e for e in events), "chrome: every event has ph")
    rc, out, err = analyze(args, path, "--export", "chrome",
                           os.path.join(args.work, "no", "dir", "c.json"))
    check(rc == 2 and "cannot write" in err, "export unwritable: %d %r" % (rc, err))


def case_sarif(args):
    sys.path.insert(0, os.path.join(args.source, "testcases", "lint"))
    try:
        import jsonschema
        from check_sarif import find_schema
    except ImportError as e:
        print("SKIP: %s" % e)
        return SKIP
    schema_path = find_schema(args.cache)
    if not schema_path:
        return SKIP
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    path = gen(args, "sarif.tt", "--deadlock", "--all-types")
    rc, out, err = analyze(args, path, "--format", "sarif", "--root", "/src")
    check(rc == 1, "sarif: exit %d" % rc)
    log = json.loads(out)
    errors = list(jsonschema.Draft4Validator(schema).iter_errors(log))
    for e in errors[:20]:
        print("SCHEMA: %s at %s" % (e.message, "/".join(str(p) for p in e.path)))
    check(not errors, "%d schema errors" % len(errors))
    results = log["runs"][0]["results"]
    check({r["ruleId"] for r in results} >= {"deadlock/lock-cycle", "misuse"},
          "sarif rules: %s" % sorted({r["ruleId"] for r in results}))
    fps = [r["partialFingerprints"]["primaryLocationLineHash"] for r in results]
    check(len(fps) == len(set(fps)), "fingerprints unique")
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tether", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--cache", default="")
    ap.add_argument("--case", required=True)
    args = ap.parse_args()
    args.work = os.path.join(args.work, args.case)
    os.makedirs(args.work, exist_ok=True)
    rc = globals()["case_" + args.case](args)
    if rc == SKIP:
        return SKIP
    print("%s: %s" % (args.case, "FAIL (%d)" % len(failures) if failures else "PASS"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
