#!/usr/bin/env python3
"""The README's example outputs: abridge what `tether run` printed, put it into
README.md, and read back the finding README.md shows.

  readme_output.py abridge ROOT BUILD STDOUT STDERR > TEXT
  readme_output.py update README NAME COMMAND TEXT
  readme_output.py shown README NAME

abridge: ROOT/ and ROOT/BUILD/ prefixes become relative ("examples/x.cpp",
  "build/examples/x"); in the report, runs of fibers whose lines differ only
  in the fiber number become one line plus "... fibers 4, 5: the same"; a long
  "why:" keeps its first clause; the stacks keep the fibers of the cycle or
  chain only, 4 frames each; the leak report keeps its first line; long C++
  names lose their inner template arguments. Whatever is cut is marked "...".
update: replaces the block of example NAME in README (between
  "<!-- example-output: NAME" and "<!-- end example-output -->") with a code
  block of "$ COMMAND" and TEXT.
shown: prints the finding README's block of NAME shows, as JSON:
  {"kind": "deadlock", "pattern": "channel-cycle", "fibers": ["server", ...]}
  from its "tether: deadlock (channel cycle): ..." header and the
  "  fiber N "name" [...]" lines under it (check_example.py --readme uses it).
Errors name the file and the line; exit status 2."""
import json
import os
import re
import sys

BEGIN = "<!-- example-output: "
END = "<!-- end example-output -->"
FRAMES = 4  # frames kept per stack when none is in examples/
MAX_FRAMES = 8
NAME_WIDTH = 110  # C++ names longer than this lose inner template arguments


class Error(Exception):
    pass


def relative(text, root, build):
    """Absolute paths of the checkout and the build become relative ones
    ("examples/x.cpp", "build/examples/x"), and so does BUILD as given on the
    command line. The SVG spells '-' as '&#45;', so both spellings are done."""
    root = os.path.abspath(root)
    build_abs = os.path.abspath(build)
    build_rel = os.path.relpath(build_abs, root)
    for esc in (lambda s: s, lambda s: s.replace("-", "&#45;")):
        text = text.replace(esc(build_abs + "/"), "build/")
        text = text.replace(esc(root + "/"), "")
        if build_rel != "build" and not build_rel.startswith(".."):
            text = re.sub(r"(?<![\w/.-])" + re.escape(esc(build_rel + "/")), "build/", text)
    return text


def shorten_name(name):
    """std::string for libstdc++'s spelling, then template arguments collapse
    to <...>, innermost first, until the name fits."""
    name = name.replace("std::__cxx11::basic_string<char, std::char_traits<char>, "
                        "std::allocator<char> >", "std::string")
    name = name.replace("<...>", "\0")
    while len(name.replace("\0", "<...>")) > NAME_WIDTH:
        m = re.search(r"<[^<>]*>", name)
        if m is None:
            break
        name = name[:m.start()] + "\0" + name[m.end():]
    return name.replace("\0", "<...>")


FIBER_LINE = re.compile(r'^  fiber (\d+) "([^"]*)" \[')
REPORT_HEAD = re.compile(r"^tether: (deadlock|stall|lock-order inversion|misuse)\b")


def abridge_report(lines):
    """The report lines after its header: collapse same-but-for-the-id fiber
    lines, shorten the why line. Returns (lines, ids in the cycle or chain)."""
    out, keep_ids = [], []
    i = 0
    while i < len(lines):
        line = lines[i]
        if re.match(r"^  (cycle|chain): ", line):
            keep_ids += [int(x) for x in re.findall(r"\bfiber (\d+)", line)]
        m = FIBER_LINE.match(line)
        if m:
            key = FIBER_LINE.sub(lambda mm: '  fiber # "%s" [' % mm.group(2), line)
            same = []
            j = i + 1
            while j < len(lines):
                mj = FIBER_LINE.match(lines[j])
                if not mj or FIBER_LINE.sub(lambda mm: '  fiber # "%s" [' % mm.group(2),
                                            lines[j]) != key:
                    break
                same.append(mj.group(1))
                j += 1
            out.append(line)
            if same:
                out.append("  ... fiber%s %s: the same" % ("s" if len(same) > 1 else "",
                                                           ", ".join(same)))
            i = j
            continue
        if line.startswith("  why: ") and ";" in line:
            line = line.split(";")[0] + "; ..."
        out.append(line)
        i += 1
    return out, keep_ids


def abridge(stdout, stderr, root, build):
    out = [l for l in relative(stdout, root, build).splitlines()]
    lines = relative(stderr, root, build).splitlines()
    keep_ids = []
    i = 0
    skipped = False  # the last fiber block was left out

    def cut():
        if not out or out[-1] != "...":
            out.append("...")

    while i < len(lines):
        line = lines[i]
        if REPORT_HEAD.match(line):
            if out and out[-1] != "":
                out.append("")
            j = i + 1
            while j < len(lines) and lines[j].startswith("  "):
                j += 1
            body, ids = abridge_report(lines[i + 1:j])
            keep_ids += ids
            out.append(line)
            out += body
            i = j
            continue
        # A fiber's block, or a group of identical fibers' ("fibers 3, 4 (2 fibers) ...").
        m = re.match(r'^fibers? ([\d, ]+?)(?: \(\d+ fibers\))? "[^"]*" \[.*\]:$', line)
        if m:
            j = i + 1
            while j < len(lines) and lines[j].strip():
                j += 1
            block = lines[i + 1:j]
            if any(int(x) in keep_ids for x in m.group(1).split(", ")):
                frames = [l for l in block if not l.startswith("created by ")]
                created = [l for l in block if l.startswith("created by ")]
                if out and out[-1] not in ("", "..."):
                    out.append("")
                out.append(line)
                # Up to the second frame in the example's own code: the
                # runtime's frames above it show what the fiber waits in.
                pairs = [frames[k:k + 2] for k in range(0, len(frames), 2)]
                own = [k for k, p in enumerate(pairs) if len(p) > 1 and
                       p[1].strip().startswith("examples/")]
                n = min(own[1] + 1 if len(own) > 1 else FRAMES, MAX_FRAMES)
                for p in pairs[:n]:
                    out.append(shorten_name(p[0]))
                    out += p[1:]
                if len(pairs) > n:
                    out.append("...")
                out += created
                out.append("")
                skipped = False
            else:
                if not skipped:
                    cut()
                skipped = True
            i = j + 1 if j < len(lines) else j
            continue
        if re.match(r"^tether: \d+ fibers? leaked", line):
            out.append(line)
            i += 1
            while i < len(lines) and lines[i].startswith("  "):
                i += 1
            cut()
            continue
        if not line.strip():
            # Blank lines only between blocks, one at a time.
            if out and out[-1] not in ("", "..."):
                out.append("")
            i += 1
            continue
        out.append(line)
        i += 1
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def find_block(text, name, path):
    """(start, end) line indexes of NAME's block: the BEGIN line, the END line."""
    lines = text.splitlines()
    start = end = None
    for n, line in enumerate(lines):
        if line.startswith(BEGIN + name + " ") or line.strip() == BEGIN + name + " -->":
            if start is not None:
                raise Error("%s:%d:1: a second output block for example '%s'" % (path, n + 1, name))
            start = n
        elif line.strip() == END and start is not None and end is None:
            end = n
    if start is None:
        raise Error("%s:1:1: no '%s%s ...' line: README shows no output of example '%s'"
                    % (path, BEGIN, name, name))
    if end is None:
        raise Error("%s:%d:1: the output block of example '%s' has no '%s'"
                    % (path, start + 1, name, END))
    return lines, start, end


def update(readme, name, command, text_file):
    text = open(readme, encoding="utf-8").read()
    lines, start, end = find_block(text, name, readme)
    body = open(text_file, encoding="utf-8").read().rstrip("\n").splitlines()
    new = lines[:start + 1] + ["```", "$ " + command] + body + ["```"] + lines[end:]
    with open(readme, "w", encoding="utf-8") as f:
        f.write("\n".join(new) + "\n")


def shown(readme, name):
    text = open(readme, encoding="utf-8").read()
    lines, start, end = find_block(text, name, readme)
    for n in range(start + 1, end):
        m = re.match(r"^tether: deadlock \(([a-z -]+)\): ", lines[n])
        if not m:
            continue
        fibers = []
        for k in range(n + 1, end):
            if not lines[k].startswith("  "):
                break
            f = FIBER_LINE.match(lines[k])
            if f and f.group(2) not in fibers:
                fibers.append(f.group(2))
        if not fibers:
            raise Error("%s:%d:1: the report of example '%s' shows no '  fiber N \"name\" [' line"
                        % (readme, n + 1, name))
        return {"kind": "deadlock", "pattern": m.group(1).replace(" ", "-"), "fibers": fibers,
                "line": n + 1}
    raise Error("%s:%d:1: the output block of example '%s' shows no 'tether: deadlock (...)' line"
                % (readme, start + 1, name))


def main(argv):
    try:
        if len(argv) == 5 and argv[0] == "abridge":
            _, root, build, so, se = argv
            sys.stdout.write(abridge(open(so, errors="replace").read(),
                                     open(se, errors="replace").read(), root, build))
            return 0
        if len(argv) == 5 and argv[0] == "update":
            update(*argv[1:])
            return 0
        if len(argv) == 3 and argv[0] == "shown":
            print(json.dumps(shown(argv[1], argv[2])))
            return 0
    except (Error, OSError) as e:
        print("readme_output.py: %s" % e, file=sys.stderr)
        return 2
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
