#!/usr/bin/env python3
"""Turns docs/tether.1.md, a restricted Markdown, into the roff man page tether(1).

  gen_man.py SOURCE.md OUTPUT.1 [--version V] [--date YYYY-MM-DD]
  gen_man.py --check-env SOURCE.md DIR...

--check-env: every TETHER_* variable the C++ sources under DIR name (tests/
folders left out) is a term of the man page's ENVIRONMENT, and every term
there is named somewhere; exit 1 naming the first use or the page's line.

The Markdown it accepts (anything else is an error naming the line):
  # name(section) -- one-line summary        first line: the title
  ## SECTION                                 .SH (upper-cased)
  ### Subsection                            .SS
  paragraph lines                           .PP, joined
  - item                                    a bullet (.IP); continuation lines indented
  `term`                                    a definition list entry (.TP): a line that is
  : definition                                only inline code, then lines starting ': '
  ```                                       a literal block (.nf), indented
  inline: `code` -> bold, *word* or _word_ -> italic, **word** -> bold,
          [text](url) -> text; backslashes and leading '.' or "'" are escaped.
  Included: [text](FILE.md#anchor)          the body of FILE's '## ' section whose
                                            GitHub anchor is `anchor` (FILE relative to
                                            SOURCE): its paragraphs as paragraphs, each
                                            table row as a definition (first cell the
                                            term, the others its text, a third and later
                                            cell as 'Header: cell.'). So the man page's
                                            ENVIRONMENT and EXIT STATUS are the user
                                            guide's own text, not a copy.
"""
import datetime
import os
import re
import sys


class ManError(Exception):
    """'line N: message', or 'FILE:N: message' for a line of an included file."""


def escape(text):
    text = text.replace("\\", "\\e")
    text = text.replace("-", "\\-")
    # groff reads Latin-1: other characters by their Unicode name (µ, –, ...),
    # with an ASCII fallback for terminals that lack them (see convert()).
    USED.update(c for c in text if ord(c) >= 128)
    return "".join(c if ord(c) < 128 else "\\[u%04X]" % ord(c) for c in text)


USED = set()  # the non-ASCII characters escape() saw
ASCII = {"\u00b5": "u", "\u2013": "-", "\u2014": "--", "\u2192": "->", "\u2190": "<-",
         "\u00d7": "x", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
         "\u2264": "<=", "\u2265": ">=", "\u2026": "..."}


def inline(text):
    """Markdown inline markup to roff font changes."""
    out = []
    pos = 0
    pattern = re.compile(r"`([^`]+)`|\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*|(?<!\w)_([^_]+)_(?!\w)"
                         r"|\[([^\]]+)\]\(([^)]+)\)")
    for m in pattern.finditer(text):
        out.append(escape(text[pos:m.start()]))
        code, bold, ital, ital2, link = m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)
        if code is not None:
            out.append("\\fB" + escape(code) + "\\fR")
        elif bold is not None:
            out.append("\\fB" + escape(bold) + "\\fR")
        elif ital is not None or ital2 is not None:
            out.append("\\fI" + escape(ital if ital is not None else ital2) + "\\fR")
        else:
            out.append(escape(link))
        pos = m.end()
    out.append(escape(text[pos:]))
    line = "".join(out)
    if line.startswith(".") or line.startswith("'"):
        line = "\\&" + line
    return line


def anchor(heading):
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def cells(row):
    return [c.strip() for c in row.strip().strip("|").split("|")]


def included(path, name, base_dir, where):
    """The roff of section #name of the Markdown file path (see the module doc)."""
    import os
    full = os.path.join(base_dir, path)
    try:
        with open(full, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except OSError as e:
        raise ManError("%s: cannot read the included %s: %s" % (where, full, e.strerror))
    start = next((k for k, l in enumerate(lines)
                  if l.startswith("## ") and anchor(l[3:]) == name), None)
    if start is None:
        raise ManError("%s: %s has no '## ' section with the anchor #%s" % (where, full, name))
    end = next((k for k in range(start + 1, len(lines)) if lines[k].startswith("## ")),
               len(lines))
    # Links to the guide's sibling pages name the file as the source tree has it.
    fix = lambda t: re.sub(r"\[([\w.-]+\.md)\]\(\1\)", r"docs/\1", t)
    out, para, header = [], [], None
    k = start + 1
    while k < end:
        line = lines[k]
        if line.startswith("|"):
            if para:
                out += [".PP", inline(fix(" ".join(para)))]
                para = []
            row = cells(line)
            if header is None:
                header = row
            elif not all(re.match(r"^:?-+:?$", c) for c in row):
                if len(row) != len(header):
                    raise ManError("%s:%d: a table row with %d cells under a header of %d"
                                   % (full, k + 1, len(row), len(header)))
                text = " ".join(c if c.endswith(".") else c + "." for c in row[1:2])
                for h, c in zip(header[2:], row[2:]):
                    text += " %s: %s." % (h.capitalize(), c)
                out += [".TP", inline(fix(row[0])), inline(fix(text[0].upper() + text[1:]))]
        elif line.strip() == "":
            header = None
            if para:
                out += [".PP", inline(fix(" ".join(para)))]
                para = []
        elif line.startswith("#") or line.startswith("```") or line.startswith("- "):
            raise ManError("%s:%d: an included section holds only paragraphs and tables"
                           % (full, k + 1))
        else:
            para.append(line.strip())
        k += 1
    if para:
        out += [".PP", inline(fix(" ".join(para)))]
    return out


def convert(lines, version, date, base_dir="."):
    out = []
    i = 0
    n = len(lines)

    def where(k):
        return "line %d" % (k + 1)

    if not lines:
        raise ManError("line 1: empty file")
    m = re.match(r"^# ([a-z][a-z0-9_-]*)\((\d)\) -- (.+)$", lines[0])
    if not m:
        raise ManError("line 1: expected '# name(N) -- summary'")
    name, section, summary = m.groups()
    out.append('.TH "%s" "%s" "%s" "%s %s" "User Commands"'
               % (name.upper(), section, date, name, version))
    out.append(".SH NAME")
    out.append("%s \\- %s" % (escape(name), inline(summary)))
    i = 1
    para = []

    def flush():
        if para:
            out.append(".PP")
            out.append(inline(" ".join(para)))
            para.clear()

    while i < n:
        line = lines[i]
        if line.strip() == "":
            flush()
            i += 1
            continue
        if line.startswith("<!--"):  # comments, possibly over several lines
            flush()
            while i < n and "-->" not in lines[i]:
                i += 1
            if i == n:
                raise ManError("%s: unterminated comment" % where(i))
            i += 1
            continue
        if line.startswith("## "):
            flush()
            out.append(".SH " + escape(line[3:].strip().upper()))
            i += 1
            continue
        if line.startswith("### "):
            flush()
            out.append(".SS " + inline(line[4:].strip()))
            i += 1
            continue
        if line.startswith("#"):
            raise ManError("%s: only '##' and '###' headings are allowed" % where(i))
        if line.startswith("```"):
            flush()
            start = i
            i += 1
            out.append(".RS 4")
            out.append(".nf")
            while i < n and not lines[i].startswith("```"):
                text = escape(lines[i])
                if text.startswith(".") or text.startswith("'"):
                    text = "\\&" + text
                out.append(text)
                i += 1
            if i == n:
                raise ManError("%s: unterminated code block" % where(start))
            out.append(".fi")
            out.append(".RE")
            i += 1
            continue
        if line.startswith("- "):
            flush()
            item = [line[2:].strip()]
            i += 1
            while i < n and lines[i].startswith("  ") and lines[i].strip():
                item.append(lines[i].strip())
                i += 1
            out.append(".IP \\(bu 2")
            out.append(inline(" ".join(item)))
            continue
        inc = re.match(r"^Included: \[[^\]]+\]\(([^)#]+)#([^)]+)\)\.?$", line)
        if inc:
            flush()
            out.extend(included(inc.group(1), inc.group(2), base_dir, where(i)))
            i += 1
            continue
        if line.startswith("|"):
            raise ManError("%s: tables are not supported; use a definition list" % where(i))
        term = re.match(r"^`[^`]+`(, `[^`]+`)*$", line)
        if term and i + 1 < n and lines[i + 1].startswith(": "):
            flush()
            out.append(".TP")
            out.append(inline(line))
            i += 1
            body = []
            while i < n and (lines[i].startswith(": ") or
                             (lines[i].startswith("  ") and lines[i].strip())):
                body.append(lines[i][2:].strip())
                i += 1
            out.append(inline(" ".join(body)))
            continue
        if line.startswith(": "):
            raise ManError("%s: a ': definition' must follow a `term` line" % where(i))
        para.append(line.strip())
        i += 1
    flush()
    # Fallbacks used only where the output device lacks the character (-Tascii).
    out[1:1] = [".fchar \\[u%04X] %s" % (ord(c), ASCII[c]) for c in sorted(USED) if c in ASCII]
    return "\n".join(out) + "\n"


def environment_terms(src):
    """{term: where} of the ENVIRONMENT section, included sections expanded."""
    lines = open(src, encoding="utf-8").read().split("\n")
    roff = convert(lines, "", "-", os.path.dirname(src) or ".")
    terms, inside = {}, False
    out = roff.split("\n")
    for k, line in enumerate(out):
        if line.startswith(".SH "):
            inside = line == ".SH ENVIRONMENT"
        elif inside and k > 0 and out[k - 1] == ".TP":
            for t in re.findall(r"TETHER_[A-Z0-9_]+", line.replace("\\", "")):
                terms[t] = "%s (ENVIRONMENT)" % src
    return terms


def check_env(src, dirs):
    named = {}
    for d in dirs:
        for base, subdirs, files in os.walk(d):
            subdirs[:] = sorted(x for x in subdirs if x != "tests")
            for f in sorted(files):
                if not f.endswith((".cpp", ".h", ".cc")):
                    continue
                path = os.path.join(base, f)
                with open(path, encoding="utf-8", errors="replace") as fh:
                    for n, line in enumerate(fh, 1):
                        for v in re.findall(r'"(TETHER_[A-Z0-9_]+)', line):
                            named.setdefault(v, "%s:%d:1" % (path, n))
    terms = environment_terms(src)
    bad = ["%s: %s is read or set here but not documented in %s's ENVIRONMENT"
           % (named[v], v, src) for v in sorted(set(named) - set(terms))]
    bad += ["%s: %s is documented but no source under %s names it"
            % (terms[v], v, " ".join(dirs)) for v in sorted(set(terms) - set(named))]
    for b in bad:
        print(b)
    if not bad:
        print("PASS: the %d TETHER_* variables of the sources are the ENVIRONMENT of %s"
              % (len(named), src))
    return 1 if bad else 0


def main(argv):
    args = list(argv)
    if args and args[0] == "--check-env":
        if len(args) < 3:
            print(__doc__, file=sys.stderr)
            return 2
        try:
            return check_env(args[1], args[2:])
        except (ManError, OSError) as e:
            print("gen_man.py: %s" % e, file=sys.stderr)
            return 2
    version, date = "", None
    if "--version" in args:
        k = args.index("--version")
        version = args[k + 1]
        del args[k:k + 2]
    if "--date" in args:
        k = args.index("--date")
        date = args[k + 1]
        del args[k:k + 2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = args
    try:
        with open(src, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except OSError as e:
        print("gen_man.py: cannot read %s: %s" % (src, e.strerror), file=sys.stderr)
        return 2
    if lines and lines[-1] == "":
        lines.pop()
    if date is None:
        # Reproducible: SOURCE_DATE_EPOCH when set, else a fixed format of today.
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        when = (datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc)
                if epoch else datetime.datetime.now(datetime.timezone.utc))
        date = when.strftime("%Y-%m-%d")
    try:
        text = convert(lines, version, date, os.path.dirname(src) or ".")
    except ManError as e:
        if str(e).startswith("line "):
            # "line N: message" -> "SOURCE:N:1: message"
            num, _, msg = str(e)[len("line "):].partition(": ")
            print("%s:%s:1: %s" % (src, num, msg), file=sys.stderr)
        else:  # "FILE:N: message" in an included file
            path, num, msg = str(e).split(":", 2)
            print("%s:%s:1:%s" % (path, num, msg), file=sys.stderr)
        return 2
    with open(dst, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
