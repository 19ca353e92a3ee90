#!/usr/bin/env python3
"""Validates `tether lint --format sarif` output against the official SARIF
2.1.0 JSON schema, and checks the fields code-scanning services rely on.

The schema (sarif-2.1.0-rtm.5.json, MIT) is not copied into this repository:
it is taken from the npm package @microsoft/jest-sarif, fetched once with
`npm pack` into --cache. Without npm, the registry, or Python's jsonschema
module the test is skipped (exit 77), never passed.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tarfile

SKIP = 77
NPM_PACKAGE = "@microsoft/jest-sarif@1.0.0-beta.0"
SCHEMA_IN_PACKAGE = "package/lib/schemas/sarif-2.1.0-rtm.5.json"


def find_schema(cache):
    path = os.path.join(cache, "sarif-2.1.0-rtm.5.json")
    if os.path.exists(path):
        return path
    if not shutil.which("npm"):
        print("SKIP: npm not found; cannot fetch the SARIF schema")
        return None
    os.makedirs(cache, exist_ok=True)
    try:
        subprocess.run(["npm", "pack", NPM_PACKAGE, "--silent"], cwd=cache, check=True,
                       capture_output=True, text=True, timeout=120)
    except (subprocess.SubprocessError, OSError) as e:
        print("SKIP: npm pack %s failed: %s" % (NPM_PACKAGE, e))
        return None
    tgz = glob.glob(os.path.join(cache, "*.tgz"))
    if not tgz:
        print("SKIP: npm pack produced no archive")
        return None
    with tarfile.open(tgz[0]) as t:
        member = t.extractfile(SCHEMA_IN_PACKAGE)
        with open(path, "wb") as out:
            out.write(member.read())
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lint", required=True)
    ap.add_argument("-p", required=True)
    ap.add_argument("--cache", required=True)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    try:
        import jsonschema
    except ImportError:
        print("SKIP: python3-jsonschema is not installed")
        return SKIP
    schema_path = find_schema(args.cache)
    if not schema_path:
        return SKIP
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)

    root = os.path.commonpath([os.path.dirname(os.path.abspath(f)) for f in args.files])
    proc = subprocess.run([args.lint, "-p", args.p, "--format", "sarif", "--root", root] + args.files,
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 1:
        print("expected exit 1 (findings), got %d: %s" % (proc.returncode, proc.stderr))
        return 1
    log = json.loads(proc.stdout)
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(log), key=lambda e: list(e.path))
    for e in errors[:20]:
        print("SCHEMA: %s at %s" % (e.message, "/".join(str(p) for p in e.path)))
    ok = not errors
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    for r in rules:
        for field in ("shortDescription", "fullDescription", "help"):
            if not r.get(field, {}).get("text"):
                print("rule %s lacks %s.text" % (r["id"], field))
                ok = False
    results = run["results"]
    if not results:
        print("no results")
        ok = False
    seen = set()
    for res in results:
        loc = res["locations"][0]["physicalLocation"]
        uri = loc["artifactLocation"]["uri"]
        if uri.startswith("/") or uri.startswith("file:") or loc["artifactLocation"].get("uriBaseId") != "SRCROOT":
            print("result location is not relative to SRCROOT: %s" % uri)
            ok = False
        if res["ruleId"] not in ids or ids[res["ruleIndex"]] != res["ruleId"]:
            print("ruleId/ruleIndex mismatch: %s" % res["ruleId"])
            ok = False
        if res["level"] not in ("warning", "error"):
            ok = False
        fp = res["partialFingerprints"]["primaryLocationLineHash"]
        if fp in seen:
            print("duplicate fingerprint %s" % fp)
            ok = False
        seen.add(fp)
        for field in ("startLine", "startColumn"):
            if loc["region"].get(field, 0) < 1:
                print("bad region %s" % loc["region"])
                ok = False
    print("%s: %d results, %d rules, %d schema errors" % ("PASS" if ok else "FAIL", len(results),
                                                         len(rules), len(errors)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
