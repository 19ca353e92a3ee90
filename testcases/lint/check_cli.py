#!/usr/bin/env python3
"""End-to-end checks of `tether lint`'s command line: exit codes and the one
clear message for bad input, output formats, --output, and that -j 2 gives
the same report as -j 1."""
import argparse
import json
import os
import subprocess
import sys

failures = []


def run(lint, *args, cwd=None):
    p = subprocess.run([lint] + list(args), capture_output=True, text=True, timeout=300, cwd=cwd)
    return p.returncode, p.stdout, p.stderr


def expect(name, got, want_code, want_in_stderr=None, want_in_stdout=None):
    code, out, err = got
    ok = code == want_code
    if want_in_stderr is not None and want_in_stderr not in err:
        ok = False
    if want_in_stdout is not None and want_in_stdout not in out:
        ok = False
    if want_code == 2 and want_in_stderr is not None and len(err.strip().splitlines()) > 3:
        ok = False  # one clear message, not a wall of text
    print("%s  %s" % ("ok  " if ok else "FAIL", name))
    if not ok:
        print("    exit %d (want %d)\n    stderr: %s\n    stdout: %s" % (code, want_code, err.strip()[:500],
                                                                          out.strip()[:500]))
        failures.append(name)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lint", required=True)
    ap.add_argument("-p", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    L, db, src, work = a.lint, a.p, a.src, a.work
    os.makedirs(work, exist_ok=True)
    clean = os.path.join(src, "lock_order", "near_miss.cpp")
    flagged = os.path.join(src, "lock_misuse", "flagged.cpp")

    expect("missing build dir", run(L, "-p", os.path.join(work, "nope"), clean), 2, "does not exist")
    empty = os.path.join(work, "empty")
    os.makedirs(empty, exist_ok=True)
    expect("no compile_commands.json", run(L, "-p", empty, clean), 2, "no compilation database")
    bad = os.path.join(work, "bad")
    write(os.path.join(bad, "compile_commands.json"), '[\n  {"directory": "/tmp",\n   "file": }\n]\n')
    expect("malformed database names line:col", run(L, "-p", bad, clean), 2, "compile_commands.json:3:")
    noentry = os.path.join(work, "noentry")
    write(os.path.join(noentry, "compile_commands.json"), '[{"directory": "/tmp", "command": "c++ x.cpp"}]')
    expect("database entry without file", run(L, "-p", noentry, clean), 2, 'entry 0: missing string "file"')
    gone = os.path.join(work, "gone")
    write(os.path.join(gone, "compile_commands.json"),
          json.dumps([{"directory": work, "file": "vanished.cpp", "arguments": ["c++", "vanished.cpp"]}]))
    expect("database lists a missing file", run(L, "-p", gone), 2, "vanished.cpp: no such file")
    expect("missing file", run(L, "-p", db, os.path.join(src, "no_such.cpp")), 2, "no_such.cpp: no such file")
    outside = os.path.join(work, "outside.cpp")
    write(outside, "int main() { return 0; }\n")
    expect("file not in database", run(L, "-p", db, outside), 2, "not found in")
    expect("unknown option", run(L, "-p", db, "--frobnicate", clean), 2, "frobnicate")
    expect("bad --format", run(L, "-p", db, "--format", "xml", clean), 2, "xml")
    expect("unknown rule in --disable", run(L, "-p", db, "--disable", "tether-nope", clean), 2, "tether-nope")
    cfg = os.path.join(work, "cfg", ".tether-lint.yaml")
    write(cfg, "disable: [tether-lock-misuse]\ncolour: blue\n")
    expect("malformed config names file:line", run(L, "-p", db, "--config", cfg, clean), 2,
           ".tether-lint.yaml:2: unknown key 'colour'")
    expect("missing -p", run(L, clean), 2, "-p BUILD_DIR")

    expect("clean file exits 0", run(L, "-p", db, clean), 0)
    expect("findings exit 1, clang-tidy text layout", run(L, "-p", db, flagged), 1, None,
           "warning: 'm' is locked twice on this path; a non-recursive lock waits for itself [tether-lock-misuse]")
    code, out, _ = run(L, "-p", db, flagged)
    lines = out.splitlines()
    caret_ok = any(l.strip() == "^" for l in lines) and any(": note: " in l for l in lines)
    expect("source line, caret and notes", (0 if caret_ok else 1, "", ""), 0)
    expect("--disable turns a rule off", run(L, "-p", db, "--disable", "tether-lock-*", flagged), 0)
    report = os.path.join(work, "report.json")
    code, out, err = run(L, "-p", db, "--format", "json", "-o", report, flagged)
    ok = code == 1 and out == "" and os.path.exists(report) and json.load(open(report))["diagnostics"]
    expect("--output writes the report", (0 if ok else 1, out, err), 0)
    expect("unwritable --output", run(L, "-p", db, "-o", os.path.join(work, "no", "dir", "r.txt"), flagged),
           2, "cannot write")

    # -j 2 must give the same report as -j 1 (three files, one with a compile error).
    some = [os.path.join(src, f) for f in ("errors/compile_error.cpp", "lock_misuse/flagged.cpp",
                                            "unbuffered/near_miss.cpp")]
    c1, o1, e1 = run(L, "-p", db, "--format", "json", "-j", "1", *some)
    c2, o2, e2 = run(L, "-p", db, "--format", "json", "-j", "2", *some)
    same = c1 == c2 == 2 and json.loads(o1) == json.loads(o2) and json.loads(o1)["diagnostics"]
    expect("-j 2 matches -j 1 (incl. a compile error)", (0 if same else 1, "", e1 + e2), 0)
    if failures:
        print("%d failed: %s" % (len(failures), ", ".join(failures)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
