#!/usr/bin/env python3
"""The script peer of the nango benchmarks: a hand-written sync script, as a
careful user would write it with Debian's python3-psycopg2.

It fetches every page over one kept-alive HTTP connection (http.client),
follows HubSpot's cursor (paging.next.after), parses each page once, and
upserts the page into a raw jsonb table and a typed table with one multi-row
INSERT ... ON CONFLICT DO UPDATE per table and page (execute_values),
skipping rows whose content did not change (... WHERE row IS DISTINCT FROM
EXCLUDED), all in one transaction committed at the end.

Usage: script_peer.py URL DSN RAW_TABLE TYPED_TABLE
"""

import http.client
import json
import sys
import urllib.parse

import psycopg2
from psycopg2.extras import execute_values

TYPED = ["id", "properties_email", "properties_firstname", "properties_lastname",
         "properties_company", "properties_phone", "properties_createdate",
         "properties_lastmodifieddate", "properties_num_employees",
         "properties_annualrevenue", "properties_hs_is_customer", "properties_tags_0",
         "properties_tags_1", "properties_address_street", "properties_address_city",
         "properties_address_zip", "properties_address_country", "archived",
         "createdAt", "updatedAt"]


def typed_row(r):
    """The typed row of one contact (missing fields give NULL)."""
    p = r.get("properties") or {}
    a = p.get("address") or {}
    tags = p.get("tags") or []
    return (r.get("id"), p.get("email"), p.get("firstname"), p.get("lastname"),
            p.get("company"), p.get("phone"), p.get("createdate"),
            p.get("lastmodifieddate"), p.get("num_employees"), p.get("annualrevenue"),
            p.get("hs_is_customer"), tags[0] if len(tags) > 0 else None,
            tags[1] if len(tags) > 1 else None, a.get("street"), a.get("city"),
            a.get("zip"), a.get("country"), r.get("archived"), r.get("createdAt"),
            r.get("updatedAt"))


def upsert_sql(typed_table):
    """The typed table's upsert, leaving unchanged rows alone."""
    cols = ", ".join('"%s"' % c for c in TYPED)
    sets = ", ".join('"%s" = EXCLUDED."%s"' % (c, c) for c in TYPED[1:])
    old = ", ".join('t."%s"' % c for c in TYPED[1:])
    new = ", ".join('EXCLUDED."%s"' % c for c in TYPED[1:])
    return ("INSERT INTO %s AS t (%s) VALUES %%s ON CONFLICT (id) DO UPDATE SET %s "
            "WHERE (%s) IS DISTINCT FROM (%s)" % (typed_table, cols, sets, old, new))


def main():
    url, dsn, raw_table, typed_table = sys.argv[1:5]
    u = urllib.parse.urlsplit(url)
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    raw_sql = ("INSERT INTO %s AS t (unique_key, data) VALUES %%s ON CONFLICT (unique_key) "
               "DO UPDATE SET data = EXCLUDED.data WHERE t.data IS DISTINCT FROM EXCLUDED.data"
               % raw_table)
    typed_sql = upsert_sql(typed_table)
    web = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)
    after = None
    pages = records = 0
    while True:
        query = urllib.parse.parse_qsl(u.query)
        if after is not None:
            query.append(("after", after))
        path = u.path + ("?" + urllib.parse.urlencode(query) if query else "")
        web.request("GET", path, headers={"Accept": "application/json"})
        resp = web.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise SystemExit("HTTP %d for %s" % (resp.status, path))
        page = json.loads(body)
        # A key seen twice keeps its last version (one upsert per key and page).
        latest = {}
        for r in page.get("results") or []:
            if r.get("id") is not None:
                latest[str(r["id"])] = r
        if latest:
            recs = list(latest.values())
            execute_values(cur, raw_sql, [(r["id"], json.dumps(r)) for r in recs],
                           template="(%s, %s::jsonb)", page_size=len(recs))
            execute_values(cur, typed_sql, [typed_row(r) for r in recs],
                           page_size=len(recs))
        pages += 1
        records += len(page.get("results") or [])
        after = ((page.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            break
    conn.commit()
    conn.close()
    print("%d pages, %d records" % (pages, records))


if __name__ == "__main__":
    main()
