#!/usr/bin/env python3
"""Checks that the sources keep to the module map of CONTRIBUTING.md.

The table under "## Module map" says, for each folder of src/ (or a single
file in it), which other folders' headers it may include and what it must
not do.  A header belongs to the folder it lives in.  "must not" names:
  - SQL: no SPI (no executor/spi.h, no SPI_ call);
  - HTTP: no libcurl (curl/curl.h) and no header of src/net;
  - writes: no header of src/store;
  - <file>.h: that header.
Besides, no file outside src/catalog may run a statement on nango.syncs or
nango.jobs (a string literal naming them after FROM, INTO, UPDATE, JOIN or
TABLE): the catalog module owns them.
Prints each breach and exits non-zero when there is one.
"""
import glob
import os
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(path):
    with open(os.path.join(TOP, path), encoding="utf-8") as f:
        return f.read()


def module_map():
    """{scope: (allowed folders, forbidden words)} from CONTRIBUTING.md."""
    text = read("CONTRIBUTING.md")
    m = re.search(r"^## Module map\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    if not m:
        sys.exit("check_layers: no '## Module map' section in CONTRIBUTING.md")
    rules = {}
    for line in m.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`src/"):
            continue
        scope = cells[0].strip("`")[len("src/"):]
        allowed = set(re.findall(r"`([a-z]+)`", cells[2]))
        forbidden = set(re.findall(r"`([A-Za-z_.]+)`", cells[3]))
        rules[scope] = (allowed, forbidden)
    if not rules:
        sys.exit("check_layers: the module map has no rows")
    return rules


def header_folders():
    return {os.path.basename(h): h.split(os.sep)[-2]
            for h in glob.glob(os.path.join(TOP, "src", "*", "*.h"))}


def breaches(path, folder, allowed, forbidden, where):
    src = read(path)
    out = []
    for inc in re.findall(r'#include "([A-Za-z_]+\.h)"', src):
        hf = where.get(inc)
        if hf is not None and hf != folder and hf not in allowed:
            out.append("%s includes %s (src/%s), not in its map row" % (path, inc, hf))
        if inc in forbidden:
            out.append("%s includes %s, which its map row forbids" % (path, inc))
        if "HTTP" in forbidden and hf == "net":
            out.append("%s includes %s: it must make no request" % (path, inc))
        if "writes" in forbidden and hf == "store":
            out.append("%s includes %s: it must write nothing" % (path, inc))
    if "SQL" in forbidden and (re.search(r'#include "executor/spi\.h"', src) or re.search(r"\bSPI_\w+\(", src)):
        out.append("%s runs SQL (SPI), which its map row forbids" % path)
    if "HTTP" in forbidden and re.search(r"#include <curl/curl\.h>|#include \"curl/curl\.h\"", src):
        out.append("%s uses libcurl, which its map row forbids" % path)
    return out


# The tables only src/catalog runs statements on, and the SQL that names one.
CATALOG_SQL = re.compile(r"\b(FROM|INTO|UPDATE|JOIN|TABLE)\s+nango\.(syncs|jobs)\b", re.I)


def catalog_breaches(path, folder):
    """Statements on the catalog tables outside src/catalog."""
    if folder == "catalog":
        return []
    src = re.sub(r"/\*.*?\*/", "", read(path), flags=re.S)
    return ["%s runs a statement on nango.%s: only src/catalog may" % (path, m.group(2))
            for lit in re.findall(r'"(?:[^"\\\n]|\\.)*"', src)
            for m in [CATALOG_SQL.search(lit)] if m]


def main():
    rules = module_map()
    where = header_folders()
    folders = sorted({p.split(os.sep)[-2] for p in glob.glob(os.path.join(TOP, "src", "*", "*.[ch]"))} - {"sql"})
    problems = []
    for folder in folders:
        if folder not in rules:
            problems.append("src/%s has no row in the module map" % folder)
    for path in sorted(glob.glob(os.path.join(TOP, "src", "*", "*.[ch]"))):
        rel = os.path.relpath(path, TOP)
        folder = rel.split(os.sep)[1]
        allowed, forbidden = rules.get(folder, (set(), set()))
        fileset = rules.get(folder + "/" + os.path.basename(rel))
        if fileset:
            allowed = allowed & fileset[0] if fileset[0] else allowed
            forbidden = forbidden | fileset[1]
        problems += breaches(rel, folder, allowed, forbidden, where)
        problems += catalog_breaches(rel, folder)
    for p in problems:
        print("check_layers: " + p)
    if problems:
        sys.exit(1)
    print("check_layers: %d folders, %d rules; every include follows the module map"
          % (len(folders), len(rules)))


if __name__ == "__main__":
    main()
