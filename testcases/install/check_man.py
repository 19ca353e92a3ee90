#!/usr/bin/env python3
"""Checks the man page tether(1) against the tether command it documents.

  check_man.py TETHER MAN_SOURCE.md GENERATED.1

1. GENERATED.1 (scripts/gen_man.py's output) renders with groff without a
   warning (skipped, with a note, when groff is missing);
2. every subcommand `tether --help` lists has a '### tether CMD' section, and
   each such section documents exactly the options `tether CMD --help` lists
   (besides -h/--help), short and long names alike;
3. a documented command this build does not have (e.g. lint without
   libclang) is only noted.
On a mismatch: which command and which options, on each side."""
import re
import shutil
import subprocess
import sys


def help_text(tether, *args):
    p = subprocess.run([tether, *args, "--help"], capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise SystemExit("FAIL: %s %s --help exited %d: %s" % (tether, " ".join(args),
                                                              p.returncode, p.stderr))
    return p.stdout


def help_subcommands(text):
    """Names in CLI11's 'Subcommands:' block."""
    names, inside = [], False
    for line in text.splitlines():
        if line.startswith("Subcommands:"):
            inside = True
            continue
        if inside:
            m = re.match(r"^  (\S+)", line)
            if m:
                names.append(m.group(1))
            elif line.strip() and not line.startswith("   "):
                break
    return names


def help_options(text):
    """Option names in CLI11's 'Options:' block, e.g. {'-o', '--output'}."""
    opts, inside = set(), False
    for line in text.splitlines():
        if line.startswith("Options:"):
            inside = True
            continue
        if inside:
            m = re.match(r"^  (-\S+)", line)
            if m:
                opts.update(n for n in m.group(1).split(",") if n.startswith("-"))
            elif line.strip() and not line.startswith("   "):
                break
    return opts - {"-h", "--help"}


def man_commands(md):
    """{command: set of option names} from '### tether CMD' sections' `term` lines."""
    cmds, cur = {}, None
    for line in md.splitlines():
        m = re.match(r"^### tether (\S+)\s*$", line)
        if m:
            cur = cmds.setdefault(m.group(1), set())
            continue
        if line.startswith("## ") or line.startswith("### "):
            cur = None
            continue
        if cur is not None and re.match(r"^`-", line):
            cur.update(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", line))
    return cmds


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 2
    tether, src, generated = argv
    failures = []

    if shutil.which("groff"):
        p = subprocess.run(["groff", "-man", "-Tascii", "-ww", "-z", generated],
                           capture_output=True, text=True, timeout=30)
        if p.returncode != 0 or p.stderr.strip():
            failures.append("groff warns about %s:\n%s" % (generated, p.stderr))
    else:
        print("note: groff not installed; the rendering check is skipped")

    md = open(src, encoding="utf-8").read()
    documented = man_commands(md)
    built = help_subcommands(help_text(tether))
    if not built:
        failures.append("`tether --help` lists no subcommands")
    for cmd in built:
        if cmd not in documented:
            failures.append("%s: no '### tether %s' section for a command tether has" % (src, cmd))
            continue
        have = help_options(help_text(tether, cmd))
        doc = documented[cmd]
        if have - doc:
            failures.append("%s: tether %s: options in --help but not in the man page: %s"
                            % (src, cmd, " ".join(sorted(have - doc))))
        if doc - have:
            failures.append("%s: tether %s: options in the man page but not in --help: %s"
                            % (src, cmd, " ".join(sorted(doc - have))))
    for cmd in sorted(set(documented) - set(built)):
        print("note: tether %s is documented but not in this build" % cmd)

    if failures:
        for f in failures:
            print("FAIL: " + f)
        return 1
    print("PASS: the man page renders cleanly and matches --help of: " + ", ".join(built))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
