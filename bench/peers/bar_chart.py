#!/usr/bin/env python3
"""bar_chart: draws bench/compare's table as an SVG bar chart, by hand (no matplotlib).

    bench/peers/bar_chart.py results.json chart.svg   # results.json from bench/compare --json

One horizontal bar per row: its length is the median ns per round trip on a log
scale (the rows span four orders of magnitude, 10 ns to 200 us), a thin line the
min-max range over the repetitions. tether's rows are teal, Go's blue, the other
peers grey; rows that were not measured say why instead of showing a bar.
"""

import json
import math
import sys
from html import escape

LABEL_W = 330  # left column: row labels
PLOT_W = 520
VALUE_W = 110  # right column: the median as text
ROW_H = 24
TOP = 58
BOTTOM = 44


def _color(key):
    if key.startswith(("b1", "b2")):
        return "#1b9e77"
    if key.startswith("go_"):
        return "#3a78c2"
    return "#9a9a9a"


def _fmt(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} \u00b5s"
    return f"{ns:.0f} ns" if ns >= 100 else f"{ns:.1f} ns"


def _fmt_axis(decade):
    """A decade tick: 1 ns, 10 ns, ... 1 ms."""
    units = ["ns", "\u00b5s", "ms", "s"]
    return f"{10 ** (decade % 3)} {units[min(decade // 3, 3)]}"


def render(rows, machine=None, title="Request/reply round trip, median ns (log scale)"):
    """Returns the SVG text for rows as bench/compare produces them (label, key,
    median/min/max or note)."""
    values = [v for r in rows if r.get("median") for v in (r["min"], r["max"])]
    lo_dec = math.floor(math.log10(min(values))) if values else 0
    hi_dec = math.ceil(math.log10(max(values))) if values else 3
    if hi_dec == lo_dec:
        hi_dec += 1

    def x(ns):
        frac = (math.log10(ns) - lo_dec) / (hi_dec - lo_dec)
        return LABEL_W + frac * PLOT_W

    width = LABEL_W + PLOT_W + VALUE_W
    height = TOP + ROW_H * len(rows) + BOTTOM
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="15" '
           f'font-weight="bold">{escape(title)}</text>']
    if machine:
        sub = (f"{machine.get('nproc')} vCPUs, {machine.get('cpu')}, Linux {machine.get('kernel')}"
               f"; bar = median, line = min\u2013max")
        out.append(f'<text x="{width / 2}" y="38" text-anchor="middle" fill="#555">'
                   f'{escape(sub)}</text>')
    plot_bottom = TOP + ROW_H * len(rows)
    # Decade grid lines and labels.
    for d in range(lo_dec, hi_dec + 1):
        gx = x(10 ** d)
        out.append(f'<line x1="{gx:.1f}" y1="{TOP - 4}" x2="{gx:.1f}" y2="{plot_bottom}" '
                   f'stroke="#ddd"/>')
        out.append(f'<text x="{gx:.1f}" y="{plot_bottom + 16}" text-anchor="middle" '
                   f'fill="#555">{escape(_fmt_axis(d))}</text>')
    out.append(f'<text x="{LABEL_W + PLOT_W / 2}" y="{plot_bottom + 34}" text-anchor="middle" '
               f'fill="#555">ns per round trip (shorter is faster)</text>')
    for i, r in enumerate(rows):
        y = TOP + i * ROW_H
        mid = y + ROW_H / 2
        out.append(f'<text x="{LABEL_W - 8}" y="{mid + 4:.1f}" text-anchor="end">'
                   f'{escape(r["label"])}</text>')
        if not r.get("median"):
            out.append(f'<text x="{LABEL_W + 6}" y="{mid + 4:.1f}" fill="#999" '
                       f'font-style="italic">{escape(r.get("note", "not measured"))}</text>')
            continue
        x0, xm = LABEL_W, x(r["median"])
        out.append(f'<rect x="{x0}" y="{y + 4}" width="{max(xm - x0, 1):.1f}" '
                   f'height="{ROW_H - 8}" fill="{_color(r["key"])}"/>')
        out.append(f'<line x1="{x(r["min"]):.1f}" y1="{mid:.1f}" x2="{x(r["max"]):.1f}" '
                   f'y2="{mid:.1f}" stroke="#222" stroke-width="1.5"/>')
        for end in (r["min"], r["max"]):
            out.append(f'<line x1="{x(end):.1f}" y1="{mid - 4:.1f}" x2="{x(end):.1f}" '
                       f'y2="{mid + 4:.1f}" stroke="#222" stroke-width="1.5"/>')
        out.append(f'<text x="{LABEL_W + PLOT_W + 8}" y="{mid + 4:.1f}">'
                   f'{escape(_fmt(r["median"]))}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) != 3:
        print("usage: bar_chart.py RESULTS.json OUT.svg", file=sys.stderr)
        return 2
    try:
        with open(argv[1]) as f:
            data = json.load(f)
        rows = data["rows"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"bar_chart: {argv[1]}: not a bench/compare --json file: {e}", file=sys.stderr)
        return 2
    with open(argv[2], "w") as f:
        f.write(render(rows, data.get("machine")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
