#!/usr/bin/env python3
"""Writes docs/c-api.md from core/include/tally/tally.h: the header's opening
comment, then each section (the banner comments) with its declarations and
the comments above them, in the header's order. Run from the repository root:
    python3 scripts/c_api_doc.py > docs/c-api.md
"""
import re
import sys

HEADER = "core/include/tally/tally.h"


def comment_text(block):
    lines = []
    for line in block.splitlines():
        line = re.sub(r"^\s*(/\*+|\*\*|\*/)\s?", "", line)
        line = re.sub(r"\s*\*/\s*$", "", line)
        lines.append(line.rstrip())
    return "\n".join(lines).strip()


def main():
    src = open(HEADER).read()
    first = src.index("*/") + 2
    out = ["# The C API (libtally)", "",
           "Generated from `%s` by `scripts/c_api_doc.py`; the header is the "
           "source of truth. Link with `pkg-config --cflags --libs tally`." % HEADER, "",
           comment_text(src[:first]), ""]
    body = src[first:]
    banner = re.compile(r"/\* -{10,}\n\*\* (.+?)\n(.*?)\*/", re.S)
    pos = 0
    pieces = []
    for m in banner.finditer(body):
        pieces.append((None, body[pos:m.start()]))
        pieces.append((m.group(1).strip(), comment_text(m.group(2))))
        pos = m.end()
    pieces.append((None, body[pos:]))
    for title, text in pieces:
        if title is not None:
            out += ["## " + title, ""]
            if text:
                out += [text, ""]
            continue
        # declarations: a comment, then code up to a blank line or the next comment
        for chunk in re.split(r"\n\s*\n", text):
            chunk = chunk.strip()
            if not chunk or chunk.startswith("#") and "TL_API" not in chunk:
                continue
            cm = re.match(r"(/\*.*?\*/)\s*(.*)", chunk, re.S)
            note, code = (comment_text(cm.group(1)), cm.group(2)) if cm else ("", chunk)
            code = "\n".join(l for l in code.splitlines()
                             if not l.startswith("#") and l.strip() not in ("}", "extern \"C\" {"))
            code = code.replace("TL_API ", "").replace("TL_NODISCARD ", "")
            if note:
                out += [note, ""]
            if code.strip():
                out += ["```c", code.strip(), "```", ""]
    sys.stdout.write("\n".join(out).rstrip() + "\n")


main()
