#!/usr/bin/env python3
"""Turns docs/tether.1.md, a restricted Markdown, into the roff man page tether(1).

  gen_man.py SOURCE.md OUTPUT.1 [--version V] [--date YYYY-MM-DD]

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
"""
import datetime
import re
import sys


class ManError(Exception):
    pass


def escape(text):
    text = text.replace("\\", "\\e")
    text = text.replace("-", "\\-")
    return text


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


def convert(lines, version, date):
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
    return "\n".join(out) + "\n"


def main(argv):
    args = list(argv)
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
        import os
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        when = (datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc)
                if epoch else datetime.datetime.now(datetime.timezone.utc))
        date = when.strftime("%Y-%m-%d")
    try:
        text = convert(lines, version, date)
    except ManError as e:
        # "line N: message" -> "SOURCE:N:1: message"
        num, _, msg = str(e)[len("line "):].partition(": ")
        print("%s:%s:1: %s" % (src, num, msg), file=sys.stderr)
        return 2
    with open(dst, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
