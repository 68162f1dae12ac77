#!/usr/bin/env python3
"""Checks that the user documentation and the code agree (run by `make test`).

From the code it reads:
  - the config keys: the config_keys table of src/api/config.c;
  - the settings: the DefineCustom*Variable names of src/nango.c;
  - the SQL functions, tables, views and sequences: CREATE statements of
    src/sql/*.sql.
It then checks, in README.md and docs/*.md:
  1. every config key, setting and SQL function is documented;
  2. every `nango.<name>` they mention exists (a setting, function, table,
     view or sequence; `nango.<name>(` must be a function), apart from the
     example mapped tables listed below;
  3. every relative link points at an existing file and, with #anchor, at a
     heading of that file (also in CONTRIBUTING.md and bench/README.md).
Prints what disagrees and exits 1, or prints a summary and exits 0.
"""
import glob
import os
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Tables the documentation uses as examples of a sync's mapped_table
# (nango._nango_sync_<id> is the default name of one).
EXAMPLE_TABLES = {"hubspot_contacts", "contacts", "_nango_sync_"}


def read(path):
    with open(os.path.join(TOP, path), encoding="utf-8") as f:
        return f.read()


def config_keys():
    """The names of the config_keys table of src/api/config.c: the first
    string of each row ([K_...] = {"name", ...})."""
    src = read("src/api/config.c")
    m = re.search(r"config_keys\[[A-Z_]*\]\s*=\s*\{(.*?)\n\};", src, re.S)
    if not m:
        sys.exit("check_docs: config_keys not found in src/api/config.c")
    return re.findall(r'\[K_[A-Z_]+\]\s*=\s*\{\s*"([a-z_]+)"', m.group(1))


def settings():
    """The names given to DefineCustom*Variable in src/nango.c."""
    return re.findall(r'DefineCustom\w+Variable\(\s*"nango\.([a-z_]+)"', read("src/nango.c"))


def sql_objects():
    """(functions, relations) created in schema nango by src/sql/*.sql."""
    funcs, rels = set(), set()
    for path in sorted(glob.glob(os.path.join(TOP, "src/sql/*.sql"))):
        with open(path, encoding="utf-8") as f:
            sql = f.read()
        funcs.update(re.findall(r"CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+nango\.(\w+)", sql))
        rels.update(re.findall(r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:TABLE|VIEW|SEQUENCE)\s+nango\.(\w+)", sql))
    return funcs, rels


def slug(heading):
    """The anchor GitHub gives a heading."""
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(path):
    text = read(path)
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    found = {slug(h) for h in re.findall(r"^#{1,6}\s+(.*?)\s*$", text, re.M)}
    return found | set(re.findall(r'<a (?:id|name)="([^"]+)"', text))


def check_links(doc, text, problems):
    """Relative links of one file: the file exists, the anchor is a heading."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(doc), path)) if path else doc
        if not os.path.exists(os.path.join(TOP, dest)):
            problems.append("%s: link to %s: no such file" % (doc, target))
        elif anchor and dest.endswith(".md") and anchor not in anchors(dest):
            problems.append("%s: link to %s: %s has no heading with that anchor" % (doc, target, dest))


def main():
    docs = ["README.md"] + sorted(os.path.relpath(p, TOP) for p in glob.glob(os.path.join(TOP, "docs/*.md")))
    texts = {d: read(d) for d in docs}
    alltext = "\n".join(texts.values())
    keys, gucs = config_keys(), settings()
    funcs, rels = sql_objects()
    problems = []

    def mentioned(token):
        return re.search(r"(?<![\w.])" + re.escape(token) + r"(?!\w)", alltext) is not None

    for k in keys:
        if not mentioned(k):
            problems.append("config key %s is not documented in README.md or docs/" % k)
    for g in gucs:
        if not mentioned("nango." + g):
            problems.append("setting nango.%s is not documented in README.md or docs/" % g)
    for f in sorted(funcs):
        if not mentioned("nango." + f):
            problems.append("SQL function nango.%s is not documented in README.md or docs/" % f)

    known = set(gucs) | funcs | rels | EXAMPLE_TABLES
    for d, text in texts.items():
        for name, paren in re.findall(r"(?<![\w.])nango\.(\w+)(\()?", text):
            if paren and name not in funcs and name not in rels:
                problems.append("%s: nango.%s( is not a function of the extension" % (d, name))
            elif name not in known:
                problems.append("%s: nango.%s is not a setting, function, table or view of the extension"
                                % (d, name))

    for d in docs + ["CONTRIBUTING.md", "bench/README.md"]:
        if os.path.exists(os.path.join(TOP, d)):
            check_links(d, texts.get(d) or read(d), problems)

    for p in sorted(set(problems)):
        print("check_docs: " + p)
    if problems:
        print("check_docs: %d problem(s)" % len(set(problems)))
        return 1
    print("check_docs: %d config keys, %d settings, %d SQL functions documented; names and links agree"
          % (len(keys), len(gucs), len(funcs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
