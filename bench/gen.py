#!/usr/bin/env python3
"""Workload generator for the nango benchmarks (bench/run_bench.sh).

Writes, deterministically (fixed seed), into OUTDIR:

  w1/p.json, w1/p100.json, ...      W1: HubSpot-like contacts, 100 per page
  w3/p.json, w3/p1000.json, ...     W3: the same records, 1,000 per page
  w1.curl, w3.curl                  curl config files listing every page URL
                                    (placeholder @BASE@ for the mock's address)
  raw.copy                          the final raw rows (unique_key, jsonb text)
  typed.copy                        the final typed rows (COPY text format)
  m2k/, m20k/                       memory probe: 2,000 and 20,000 pages of
                                    small records (5 per page)
  expected.json                     row counts and checksums to verify against
  w4/, w4.json, w4.curl,            with --w4 N only: W4, N records of W1's
  w4_raw.copy, w4_typed.copy        shape at 100 per page, its checksums and
                                    the floor's files

Paging is HubSpot's: {"results": [...], "paging": {"next": {"after": "<cursor>",
"link": "..."}}}, the last page without "paging".  The cursor is the offset of
the next page's first record, so the page served for ?after=N is pN.json and
the first page (no cursor) is p.json.

Decimals are written with two decimals whose last digit is not zero, so every
client (also one that parses them as binary floats) writes them back exactly
as they were sent; the checksums compare text.
"""

import argparse
import hashlib
import json
import os
import random
from datetime import datetime, timedelta, timezone

FIRST = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael",
         "Linda", "David", "Elizabeth", "William", "Barbara", "Richard", "Susan",
         "Joseph", "Jessica", "Thomas", "Sarah", "Renée", "José", "Zoë", "Łukasz"]
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller",
        "Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez",
        "Wilson", "Anderson", "O'Brien", "Müller", "Nguyen"]
COMPANY = ["Acme Corp", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries",
           "Wayne Enterprises", "Wonka Industries", "Cyberdyne", "Soylent \"Green\" Co"]
TAGS = ["lead", "customer", "partner", "vip", "churned", "trial", "enterprise", "smb"]
CITY = ["Boston", "Cambridge", "Dublin", "Berlin", "Paris", "São Paulo", "Tokyo",
        "New York", "Austin", "Toronto"]
STREET = ["Main St", "High St", "Elm St", "Oak Ave", "Pine Rd", "Maple Dr"]
COUNTRY = ["US", "IE", "DE", "FR", "BR", "JP", "CA"]

EPOCH = datetime(2019, 1, 1, tzinfo=timezone.utc)
PER_PAGE_W1 = 100
PER_PAGE_W3 = 1000
MEM_PER_PAGE = 5
LINK = "https://api.hubapi.com/crm/v3/objects/contacts?limit=%d&after=%s"


def iso(ts):
    """ISO-8601 with milliseconds and Z, as HubSpot writes timestamps."""
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ts.microsecond // 1000)


def make_record(i, rnd):
    """One HubSpot-like contact: 20 mapped fields."""
    created = EPOCH + timedelta(seconds=rnd.randrange(0, 4 * 365 * 86400),
                                milliseconds=rnd.randrange(0, 1000))
    modified = created + timedelta(seconds=rnd.randrange(0, 400 * 86400),
                                   milliseconds=rnd.randrange(0, 1000))
    first = rnd.choice(FIRST)
    last = rnd.choice(LAST)
    cents = rnd.randrange(1, 100)
    if cents % 10 == 0:
        cents += 1
    revenue = float("%d.%02d" % (rnd.randrange(0, 5_000_000), cents))
    tags = rnd.sample(TAGS, 2)
    return {
        "id": str(10_000_000 + i * 7 + 1),
        "properties": {
            "email": "%s.%s.%d@example.com" % (first.lower(), last.lower(), i),
            "firstname": first,
            "lastname": last,
            "company": rnd.choice(COMPANY),
            "phone": "+1-%03d-%03d-%04d" % (rnd.randrange(200, 999), rnd.randrange(0, 1000),
                                            rnd.randrange(0, 10000)),
            "createdate": iso(created),
            "lastmodifieddate": iso(modified),
            "num_employees": rnd.randrange(1, 100_000),
            "annualrevenue": revenue,
            "hs_is_customer": rnd.random() < 0.3,
            "tags": tags,
            "address": {
                "street": "%d %s" % (rnd.randrange(1, 9999), rnd.choice(STREET)),
                "city": rnd.choice(CITY),
                "zip": "%05d" % rnd.randrange(0, 100000),
                "country": rnd.choice(COUNTRY),
            },
        },
        "archived": False,
        "createdAt": iso(created),
        "updatedAt": iso(modified),
    }


# Typed columns, as nango's auto-mapping names and types them (SPEC section 6).
TYPED_COLUMNS = [
    ("id", "text"),
    ("properties_email", "text"),
    ("properties_firstname", "text"),
    ("properties_lastname", "text"),
    ("properties_company", "text"),
    ("properties_phone", "text"),
    ("properties_createdate", "timestamptz"),
    ("properties_lastmodifieddate", "timestamptz"),
    ("properties_num_employees", "bigint"),
    ("properties_annualrevenue", "numeric"),
    ("properties_hs_is_customer", "boolean"),
    ("properties_tags_0", "text"),
    ("properties_tags_1", "text"),
    ("properties_address_street", "text"),
    ("properties_address_city", "text"),
    ("properties_address_zip", "text"),
    ("properties_address_country", "text"),
    ("archived", "boolean"),
    ("createdAt", "timestamptz"),
    ("updatedAt", "timestamptz"),
]


def flatten(rec):
    """The typed row of a record, values in TYPED_COLUMNS order."""
    p = rec["properties"]
    a = p["address"]
    return [rec["id"], p["email"], p["firstname"], p["lastname"], p["company"],
            p["phone"], p["createdate"], p["lastmodifieddate"], p["num_employees"],
            p["annualrevenue"], p["hs_is_customer"], p["tags"][0], p["tags"][1],
            a["street"], a["city"], a["zip"], a["country"], rec["archived"],
            rec["createdAt"], rec["updatedAt"]]


def jsonb_str(s):
    """A string as PostgreSQL's jsonb output writes it (escape_json)."""
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == '\\':
            out.append('\\\\')
        elif ch == '\b':
            out.append('\\b')
        elif ch == '\f':
            out.append('\\f')
        elif ch == '\n':
            out.append('\\n')
        elif ch == '\r':
            out.append('\\r')
        elif ch == '\t':
            out.append('\\t')
        elif ord(ch) < 0x20:
            out.append('\\u%04x' % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def jsonb_text(v):
    """A value as PostgreSQL's jsonb::text writes it: keys ordered by length
    then bytes, ", " and ": " separators, numbers as written."""
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: (len(k.encode()), k.encode()))
        return "{" + ", ".join(jsonb_str(k) + ": " + jsonb_text(v[k]) for k in keys) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(jsonb_text(x) for x in v) + "]"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, str):
        return jsonb_str(v)
    return json.dumps(v)


def copy_text(v):
    """A value in COPY text format."""
    if v is True:
        return "t"
    if v is False:
        return "f"
    s = v if isinstance(v, str) else json.dumps(v)
    return (s.replace("\\", "\\\\").replace("\t", "\\t")
            .replace("\n", "\\n").replace("\r", "\\r"))


def check_text(v):
    """A typed value as the checksum query renders it."""
    if v is True:
        return "true"
    if v is False:
        return "false"
    return v if isinstance(v, str) else json.dumps(v)


def typed_check_line(rec):
    """The line the typed checksum hashes for one record (see driver.py)."""
    row = flatten(rec)
    cols = dict(zip([c for c, _ in TYPED_COLUMNS], row))
    return "|".join(check_text(cols[c]) for c in CHECK_COLUMNS)


# Columns in the typed checksum, one of each type plus nested and array ones.
CHECK_COLUMNS = ["id", "properties_email", "properties_num_employees",
                 "properties_annualrevenue", "properties_createdate",
                 "properties_hs_is_customer", "properties_tags_1",
                 "properties_address_zip", "properties_address_city", "archived",
                 "updatedAt"]


def write_pages(outdir, name, records, per_page, path_prefix):
    """Renders records as HubSpot pages into outdir/name/; returns the URL
    paths (relative to the mock's base) of every page, in order."""
    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    urls = []
    for start in range(0, len(records), per_page):
        chunk = records[start:start + per_page]
        body = {"results": chunk}
        nxt = start + per_page
        if nxt < len(records):
            body["paging"] = {"next": {"after": str(nxt), "link": LINK % (per_page, nxt)}}
        fname = "p.json" if start == 0 else "p%d.json" % start
        with open(os.path.join(d, fname), "w", encoding="utf-8") as f:
            json.dump(body, f, separators=(",", ":"), ensure_ascii=False)
        urls.append("/%s/%s?limit=%d" % (name, path_prefix, per_page)
                    + ("" if start == 0 else "&after=%d" % start))
    if not records:
        with open(os.path.join(d, "p.json"), "w") as f:
            f.write('{"results":[]}')
        urls.append("/%s/%s?limit=%d" % (name, path_prefix, per_page))
    return urls


def write_curl_config(path, urls):
    """A curl config fetching every URL (one connection, kept alive)."""
    with open(path, "w") as f:
        for u in urls:
            f.write('url = "@BASE@%s"\noutput = "/dev/null"\n' % u)


def memory_pages(outdir, name, pages):
    """Small records (id and two short fields), MEM_PER_PAGE per page."""
    recs = [{"id": str(i), "name": "item %d" % i, "n": i}
            for i in range(pages * MEM_PER_PAGE)]
    write_pages(outdir, name, recs, MEM_PER_PAGE, "items")
    return len(recs)


def w4_pages(outdir, records, seed):
    """W4: `records` contacts of the same shape as W1's, 100 per page, in
    outdir/w4/, with the floor's files (w4.curl, w4_raw.copy, w4_typed.copy)
    and outdir/w4.json (counts and checksums), rendered page by page so the
    generator's memory stays small at millions of records."""
    # The checksums and COPY files are in key order: the ids, 10000001 + 7 i,
    # all have eight digits below this bound, so byte order is generation order.
    if 10_000_001 + 7 * records >= 100_000_000:
        raise SystemExit("gen.py: --w4 is limited to 12,857,142 records")
    rnd = random.Random(seed + 4)
    d = os.path.join(outdir, "w4")
    os.makedirs(d, exist_ok=True)
    raw_md5 = hashlib.md5()
    typed_md5 = hashlib.md5()
    urls = []
    with open(os.path.join(outdir, "w4_raw.copy"), "w", encoding="utf-8") as fr, \
            open(os.path.join(outdir, "w4_typed.copy"), "w", encoding="utf-8") as ft:
        for start in range(0, records, PER_PAGE_W1):
            chunk = [make_record(i, rnd) for i in range(start, min(start + PER_PAGE_W1, records))]
            body = {"results": chunk}
            nxt = start + PER_PAGE_W1
            if nxt < records:
                body["paging"] = {"next": {"after": str(nxt), "link": LINK % (PER_PAGE_W1, nxt)}}
            fname = "p.json" if start == 0 else "p%d.json" % start
            with open(os.path.join(d, fname), "w", encoding="utf-8") as f:
                json.dump(body, f, separators=(",", ":"), ensure_ascii=False)
            urls.append("/w4/contacts?limit=%d" % PER_PAGE_W1 + ("" if start == 0 else "&after=%d" % start))
            for k, rec in enumerate(chunk):
                sep = b"\n" if start + k else b""
                jt = jsonb_text(rec)
                raw_md5.update(sep + jt.encode())
                typed_md5.update(sep + typed_check_line(rec).encode())
                fr.write(copy_text(rec["id"]) + "\t" + copy_text(jt) + "\n")
                ft.write("\t".join(copy_text(v) for v in flatten(rec)) + "\n")
    write_curl_config(os.path.join(outdir, "w4.curl"), urls)
    with open(os.path.join(outdir, "w4.json"), "w") as f:
        json.dump({"records": records, "pages_w4": len(urls), "raw_md5": raw_md5.hexdigest(),
                   "typed_md5": typed_md5.hexdigest()}, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=200000)
    ap.add_argument("--seed", type=int, default=20240607)
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--memory", action="store_true", help="also the memory probe pages")
    ap.add_argument("--w4", type=int, default=0, metavar="N",
                    help="only write workload W4 (N records, 100 per page) and w4.json")
    args = ap.parse_args()
    if args.w4:
        w4_pages(args.outdir, args.w4, args.seed)
        return

    rnd = random.Random(args.seed)
    records = [make_record(i, rnd) for i in range(args.records)]
    os.makedirs(args.outdir, exist_ok=True)

    u1 = write_pages(args.outdir, "w1", records, PER_PAGE_W1, "contacts")
    u3 = write_pages(args.outdir, "w3", records, PER_PAGE_W3, "contacts")
    write_curl_config(os.path.join(args.outdir, "w1.curl"), u1)
    write_curl_config(os.path.join(args.outdir, "w3.curl"), u3)

    ordered = sorted(records, key=lambda r: r["id"].encode())
    raw_md5 = hashlib.md5()
    typed_md5 = hashlib.md5()
    with open(os.path.join(args.outdir, "raw.copy"), "w", encoding="utf-8") as fr, \
            open(os.path.join(args.outdir, "typed.copy"), "w", encoding="utf-8") as ft:
        for n, rec in enumerate(ordered):
            jt = jsonb_text(rec)
            sep = b"\n" if n else b""
            raw_md5.update(sep + jt.encode())
            typed_md5.update(sep + typed_check_line(rec).encode())
            fr.write(copy_text(rec["id"]) + "\t" + copy_text(jt) + "\n")
            ft.write("\t".join(copy_text(v) for v in flatten(rec)) + "\n")

    expected = {
        "records": len(records),
        "pages_w1": len(u1),
        "pages_w3": len(u3),
        "raw_md5": raw_md5.hexdigest(),
        "typed_md5": typed_md5.hexdigest(),
        "check_columns": CHECK_COLUMNS,
        "typed_columns": TYPED_COLUMNS,
        "w1_bytes": sum(os.path.getsize(os.path.join(args.outdir, "w1", f))
                        for f in os.listdir(os.path.join(args.outdir, "w1"))),
    }
    if args.memory:
        expected["mem_per_page"] = MEM_PER_PAGE
        expected["m2k_records"] = memory_pages(args.outdir, "m2k", 2000)
        expected["m20k_records"] = memory_pages(args.outdir, "m20k", 20000)
    with open(os.path.join(args.outdir, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    main()
