#!/usr/bin/env python3
"""Check that every tool of a run.sh run gave the same answer to each query.

usage: check.py LOGDIR "QUERIES" "TOOLS"

QUERIES are tally's queries (q5lua is checked against the other tools' q5); TOOLS the
measured columns (tally duckdb-t2 duckdb-t1 polars lua luajit). Each tool's output is read
in its own format from LOGDIR (tally: tab-separated rows, "== qN" before each in-memory
result; DuckDB: one JSON array of rows per result; Polars: its Markdown table display;
Lua: tab-separated rows, or whole CSV lines for a streamed q7, the in-memory results one
after the other), turned into rows of cells with nulls as empty cells, and compared with
the first tool that has the result (tally when it has one). Cells that are both integers
must be equal; other numbers may differ by 1e-6 plus 1e-9 of their size (the peers sum in
other orders, Polars prints six decimals); anything else must match exactly.

Exit status 3 when a result differs. Writes LOGDIR/checks.tsv (query, kind, ok | MISMATCH | -, detail) and, for each tool that
differs, LOGDIR/check.KIND.QUERY.TOOL.diff with the first rows that differ.
"""
import csv
import json
import os
import re
import sys

INT = re.compile(r"^[-+]?[0-9]+$")
TOOLS_ORDER = ["tally", "duckdb-t2", "duckdb-t1", "polars", "lua", "luajit"]


def anchor_of(q):
    return "q5" if q == "q5lua" else q


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()
    except OSError:
        return None


def first_run_ok(log, tag):
    runs = read(os.path.join(log, tag + ".runs"))
    return bool(runs) and runs[0].endswith(" ok")


def tsv_rows(lines):
    return [line.split("\t") for line in lines if line != ""]


def json_cell(v):
    if v is None:
        return ""
    return v if isinstance(v, str) else json.dumps(v)


def json_rows(line):
    return [[json_cell(v) for v in row] for row in json.loads(line)]


def polars_tables(lines):
    """The tables of a Polars display (ASCII_MARKDOWN, no dtypes), one per 'shape:' line."""
    tables, rows, header_seen = [], None, False
    for line in lines:
        if line.startswith("shape:"):
            rows, header_seen = [], False
            tables.append(rows)
        elif rows is not None and line.startswith("|"):
            if re.match(r"^\|[-|:\s]+\|$", line):
                continue
            if not header_seen:
                header_seen = True
                continue
            cells = [c.strip() for c in line.strip()[1:-1].split("|")]
            rows.append(["" if c == "null" else c for c in cells])
    return tables


def proc_result(log, tool, q):
    a = q if tool == "tally" else anchor_of(q)
    tag = "%s.proc.%s" % (tool, a)
    lines = read(os.path.join(log, tag + ".out"))
    if lines is None or not first_run_ok(log, tag):
        return None
    if tool.startswith("duckdb"):
        lines = [l for l in lines if l.strip()]
        return json_rows(lines[0]) if lines else None
    if tool == "polars":
        t = polars_tables(lines)
        return t[0] if t else None
    if tool in ("lua", "luajit") and a == "q7":
        return [row for row in csv.reader(l for l in lines if l != "")]
    return tsv_rows(lines)


def mem_results(log, tool, anchors, counts):
    """{query: rows} of the in-memory run of TOOL (COUNTS: rows per query, for Lua)."""
    lines = read(os.path.join(log, tool + ".mem.out"))
    if lines is None:
        return {}
    out = {}
    if tool == "tally":
        cur = None
        for line in lines:
            if line.startswith("== "):
                cur = line[3:].strip()
                out[cur] = []
            elif cur is not None and line != "":
                out[cur].append(line.split("\t"))
    elif tool.startswith("duckdb"):
        for a, line in zip(anchors, [l for l in lines if l.strip()]):
            out[a] = json_rows(line)
    elif tool == "polars":
        for a, rows in zip(anchors, polars_tables(lines)):
            out[a] = rows
    else:  # the Lua anchor prints the results one after the other
        rows, at = tsv_rows(lines), 0
        for a in anchors:
            if a not in counts or at + counts[a] > len(rows):
                break
            out[a] = rows[at:at + counts[a]]
            at += counts[a]
    return out


def same_cell(a, b):
    if a == b:
        return True
    if INT.match(a) and INT.match(b):
        return int(a) == int(b)
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    return abs(x - y) <= 1e-6 + 1e-9 * max(abs(x), abs(y))


def differences(ref, rows):
    """Lines describing where ROWS differ from REF (empty when they agree)."""
    out = []
    if len(ref) != len(rows):
        out.append("rows: %d against %d" % (len(rows), len(ref)))
    for i, (r, s) in enumerate(zip(ref, rows)):
        if len(r) != len(s) or not all(same_cell(x, y) for x, y in zip(r, s)):
            out.append("row %d:\n  ref  %s\n  this %s" % (i + 1, "\t".join(r), "\t".join(s)))
        if len(out) >= 10:
            break
    return out


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    log, queries, tools = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
    tools = [t for t in TOOLS_ORDER if t in tools]
    anchors = []
    for q in queries:
        if anchor_of(q) not in anchors:
            anchors.append(anchor_of(q))
    results = {"proc": {}, "inproc": {}}
    for tool in tools:
        for q in queries if tool == "tally" else anchors:
            r = proc_result(log, tool, q)
            if r is not None:
                results["proc"][(tool, q)] = r
    mem = {}
    for tool in [t for t in tools if t not in ("lua", "luajit")]:
        mem[tool] = mem_results(log, tool, anchors, {})
    counts = {}
    for a in anchors:
        for tool in mem:
            got = mem[tool].get(a)
            if got is not None:
                counts[a] = len(got)
                break
        else:
            streamed = results["proc"].get(("lua", a)) or results["proc"].get(("luajit", a))
            if streamed is not None:
                counts[a] = len(streamed)
    for tool in [t for t in tools if t in ("lua", "luajit")]:
        mem[tool] = mem_results(log, tool, anchors, counts)
    for tool, res in mem.items():
        for q, rows in res.items():
            results["inproc"][(tool, q)] = rows

    mismatched = False
    with open(os.path.join(log, "checks.tsv"), "w") as out:
        for q in queries:
            for kind in ("proc", "inproc"):
                have = []
                for tool in tools:
                    key = (tool, q if tool == "tally" else anchor_of(q))
                    if key in results[kind]:
                        have.append((tool, results[kind][key]))
                if len(have) < 2:
                    out.write("%s\t%s\t-\t%s\n" % (q, kind, "one tool" if have else "no result"))
                    continue
                ref_tool, ref = have[0]
                bad = []
                for tool, rows in have[1:]:
                    d = differences(ref, rows)
                    path = os.path.join(log, "check.%s.%s.%s.diff" % (kind, q, tool))
                    if d:
                        bad.append(tool)
                        with open(path, "w") as f:
                            f.write("%s %s: %s against %s\n%s\n" % (q, kind, tool, ref_tool, "\n".join(d)))
                if bad:
                    mismatched = True
                    out.write("%s\t%s\tMISMATCH\t%s %s from %s\n" % (q, kind, " ".join(bad),
                                                            "differ" if len(bad) > 1 else "differs", ref_tool))
                else:
                    out.write("%s\t%s\tok\t%d tools agree\n" % (q, kind, len(have)))
    sys.exit(3 if mismatched else 0)


if __name__ == "__main__":
    main()
