#!/usr/bin/env python3
"""Benchmark driver (run by bench/run_bench.sh, which sets up the data, the
mock API and the cluster).

Contenders, on workloads W1 (first sync, 100 records per page), W2 (the same
sync again, nothing changed) and W3 (first sync, 1,000 per page):
  floor   curl fetches every page over one kept-alive connection, then COPY
          loads the final rows (pre-rendered by gen.py) into a raw jsonb table
          and a typed table; the two timed together.  W2's floor is W1's (the
          cost of loading the data once), measured in the same repetition.
  script  bench/script_peer.py (Python, psycopg2, multi-row upserts).
  nango   SELECT nango.run_sync(id) of a sync added (untimed) with add_sync.

Every run is verified (row counts, checksums, column types); a run whose
result is wrong is reported as FAILED with the reason, never as a time.
Repetitions are interleaved, the contenders' order rotating.
"""

import argparse
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time

import psycopg2

# CONTENDERS=floor,nango (environment) leaves the script peer out, for quick
# runs while working on nango; `make bench` runs all three.
CONTENDERS = [c for c in os.environ.get("CONTENDERS", "floor,script,nango").split(",")
              if c in ("floor", "script", "nango")]
WORKLOADS = ["W1", "W2", "W3"]
TS_FMT = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'


def log(*a):
    print(*a, flush=True)


def first_line(e):
    """The first line of an error's message."""
    lines = str(e).strip().splitlines()
    return lines[0] if lines else type(e).__name__


class Failed(Exception):
    """A contender's run that did not produce the right result."""


class Bench:
    def __init__(self, args):
        self.args = args
        with open(os.path.join(args.data, "expected.json")) as f:
            self.exp = json.load(f)
        self.types = dict(self.exp["typed_columns"])
        self.admin_dsn = "host=%s port=%s user=postgres dbname=postgres" % (args.host, args.port)
        self.dsn = "host=%s port=%s user=postgres dbname=bench" % (args.host, args.port)
        self.w4 = None
        w4 = os.path.join(args.data, "w4.json")
        if os.path.exists(w4):
            with open(w4) as f:
                self.w4 = json.load(f)
        self.curl_cfg = {}
        for w in ("w1", "w3", "w4"):
            if w == "w4" and self.w4 is None:
                continue
            with open(os.path.join(args.data, w + ".curl")) as f:
                text = f.read().replace("@BASE@", args.mock)
            path = os.path.join(args.work, w + ".curl")
            with open(path, "w") as f:
                f.write(text)
            self.curl_cfg[w] = path

    # --- database helpers -------------------------------------------------
    def connect(self, dsn=None):
        conn = psycopg2.connect(dsn or self.dsn)
        conn.autocommit = True
        return conn

    def sql(self, query, params=None, dsn=None):
        conn = self.connect(dsn)
        try:
            with conn.cursor() as cur:
                cur.execute(query, params)
                return cur.fetchall() if cur.description else None
        finally:
            conn.close()

    def fresh_database(self):
        """A new empty database "bench" with nango installed (when it can be)."""
        self.sql("DROP DATABASE IF EXISTS bench", dsn=self.admin_dsn)
        self.sql("CREATE DATABASE bench", dsn=self.admin_dsn)
        try:
            self.sql("CREATE EXTENSION nango")
            self.nango_error = None
        except psycopg2.Error as e:
            self.nango_error = "CREATE EXTENSION nango: %s" % first_line(e)
        cols = ", ".join('"%s" %s%s' % (c, t, " PRIMARY KEY" if c == "id" else "")
                         for c, t in self.exp["typed_columns"])
        for name in ("floor_w1", "floor_w3", "floor_w4", "script_w1", "script_w3"):
            self.sql("CREATE TABLE %s_raw (unique_key text PRIMARY KEY, data jsonb NOT NULL)" % name)
            self.sql("CREATE TABLE %s (%s)" % (name, cols))

    def checkpoint(self):
        self.sql("CHECKPOINT", dsn=self.admin_dsn)

    # --- verification ---------------------------------------------------------
    def check_expr(self, col):
        t = self.types[col]
        q = '"%s"' % col
        if t == "timestamptz":
            e = "to_char(%s AT TIME ZONE 'UTC', '%s')" % (q, TS_FMT)
        elif t == "text":
            e = q
        else:
            e = "%s::text" % q
        return "coalesce(%s, 'NULL')" % e

    def stream_md5(self, cur, query):
        """Row count, distinct-key check and md5 of the first column's lines
        (joined by newlines) of query, whose second column is its order key,
        read through a server-side cursor: a millions-row aggregate would
        pass the 1 GB limit of one value."""
        h = hashlib.md5()
        n = 0
        prev = None
        cur.itersize = 20000
        cur.execute(query)
        for line, key in cur:
            if prev is not None and key.encode() <= prev:
                raise Failed("rows not in strictly increasing key order at key %s" % key)
            prev = key.encode()
            h.update((b"\n" if n else b"") + line.encode())
            n += 1
        return n, h.hexdigest()

    def verify_large(self, raw_table, raw_where, typed_table, typed_where, exp):
        """verify() for millions of rows: the same checks, checksums taken
        on the client from streamed rows."""
        conn = psycopg2.connect(self.dsn)
        try:
            n, md5 = self.stream_md5(conn.cursor(name="raw_rows"), (
                "SELECT data::text, unique_key FROM %s WHERE %s "
                "AND unique_key = data->>'id' ORDER BY unique_key COLLATE \"C\"" % (raw_table, raw_where)))
            if n != exp["records"] or md5 != exp["raw_md5"]:
                raise Failed("raw rows: %d with checksum %s, expected %d with %s" % (
                    n, md5, exp["records"], exp["raw_md5"]))
            line = " || '|' || ".join(self.check_expr(c) for c in self.exp["check_columns"])
            n, md5 = self.stream_md5(conn.cursor(name="typed_rows"), (
                "SELECT %s, id FROM %s WHERE %s ORDER BY id COLLATE \"C\"" % (
                    line, typed_table, typed_where)))
            if n != exp["records"] or md5 != exp["typed_md5"]:
                raise Failed("typed rows: %d with checksum %s, expected %d with %s" % (
                    n, md5, exp["records"], exp["typed_md5"]))
        except psycopg2.Error as e:
            raise Failed("verification query failed: %s" % first_line(e))
        finally:
            conn.close()

    def verify(self, raw_table, raw_where, typed_table, typed_where, exp=None):
        """Compares the raw and typed rows with the generator's (exp, by
        default W1's and W3's); raises Failed."""
        exp = {**self.exp, **(exp or {})}
        conn = self.connect()
        try:
            cur = conn.cursor()
            cur.execute("SELECT count(*), count(DISTINCT unique_key), "
                        "count(*) FILTER (WHERE unique_key IS DISTINCT FROM data->>'id'), "
                        "md5(string_agg(data::text, E'\\n' ORDER BY unique_key COLLATE \"C\")) "
                        "FROM %s WHERE %s" % (raw_table, raw_where))
            n, nd, badkey, md5 = cur.fetchone()
            if n != exp["records"] or nd != exp["records"]:
                raise Failed("raw rows: %d (%d distinct keys), expected %d" % (n, nd, exp["records"]))
            if badkey:
                raise Failed("raw rows: %d with unique_key different from data->>'id'" % badkey)
            if md5 != exp["raw_md5"]:
                raise Failed("raw checksum %s, expected %s" % (md5, exp["raw_md5"]))
            cur.execute("SELECT to_regclass(%s)", (typed_table,))
            if cur.fetchone()[0] is None:
                raise Failed("raw rows correct, but typed table %s does not exist" % typed_table)
            cur.execute("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                        (typed_table,))
            have = dict(cur.fetchall())
            for c, t in exp["typed_columns"]:
                ht = have.get(c)
                ht = {"timestamp with time zone": "timestamptz"}.get(ht, ht)
                if ht != t:
                    raise Failed("typed column %s is %s, expected %s" % (c, ht or "missing", t))
            line = " || '|' || ".join(self.check_expr(c) for c in exp["check_columns"])
            cur.execute("SELECT count(*), count(DISTINCT id), "
                        "md5(string_agg(%s, E'\\n' ORDER BY id COLLATE \"C\")) FROM %s WHERE %s"
                        % (line, typed_table, typed_where))
            n, nd, md5 = cur.fetchone()
            if n != exp["records"] or nd != exp["records"]:
                raise Failed("typed rows: %d (%d distinct ids), expected %d" % (n, nd, exp["records"]))
            if md5 != exp["typed_md5"]:
                raise Failed("typed checksum %s, expected %s" % (md5, exp["typed_md5"]))
        except psycopg2.Error as e:
            raise Failed("verification query failed: %s" % first_line(e))
        finally:
            conn.close()

    # --- contenders -------------------------------------------------------------
    def curl_fetch(self, w):
        """Fetches every page of workload w with one curl (one connection)."""
        out = subprocess.run(["curl", "-sS", "--fail", "-K", self.curl_cfg[w],
                              "-w", "%{http_code} %{size_download} %{num_connects}\\n"],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise Failed("curl: exit %d: %s" % (out.returncode, out.stderr.strip()[:300]))
        lines = out.stdout.split()
        codes, sizes, conns = lines[0::3], lines[1::3], lines[2::3]
        pages = self.w4["pages_w4"] if w == "w4" else self.exp["pages_" + w]
        if len(codes) != pages or any(c != "200" for c in codes):
            raise Failed("curl: %d responses, expected %d times 200" % (len(codes), pages))
        return sum(int(s) for s in sizes), sum(int(c) for c in conns)

    def run_floor(self, w):
        name = "floor_" + w.lower()
        t0 = time.perf_counter()
        self.curl_fetch(w.lower())
        t1 = time.perf_counter()
        prefix = "w4_" if w == "W4" else ""
        conn = psycopg2.connect(self.dsn)
        with conn.cursor() as cur:
            cur.execute("COPY %s_raw FROM %%s" % name, (os.path.join(self.args.data, prefix + "raw.copy"),))
            cur.execute("COPY %s FROM %%s" % name, (os.path.join(self.args.data, prefix + "typed.copy"),))
        conn.commit()
        conn.close()
        t2 = time.perf_counter()
        if w == "W4":
            self.verify_large(name + "_raw", "true", name, "true", self.w4)
        else:
            self.verify(name + "_raw", "true", name, "true")
        return t2 - t0, "fetch %.2fs + COPY %.2fs" % (t1 - t0, t2 - t1)

    def run_script(self, w, table):
        url = "%s/%s/contacts?limit=%d" % (self.args.mock, "w3" if w == "W3" else "w1",
                                           1000 if w == "W3" else 100)
        t0 = time.perf_counter()
        try:
            out = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "script_peer.py"),
                                  url, self.dsn, table + "_raw", table], capture_output=True,
                                 text=True, timeout=self.args.timeout)
        except subprocess.TimeoutExpired:
            raise Failed("script did not finish within %d s" % self.args.timeout)
        t = time.perf_counter() - t0
        if out.returncode != 0:
            raise Failed("script exited %d: %s" % (out.returncode, out.stderr.strip()[-300:]))
        self.verify(table + "_raw", "true", table, "true")
        return t, out.stdout.strip()

    def add_nango_sync(self, w):
        """Adds (untimed) the nango sync of workload w; returns its id."""
        if self.nango_error:
            raise Failed(self.nango_error)
        per = 1000 if w == "W3" else 100
        url = "%s/%s/contacts?limit=%d" % (self.args.mock, w.lower(), per)
        cfg = {"response_path": "results", "unique_key": "id",
               "paging_cursor_request_path": "after",
               "paging_cursor_metadata_response_path": "paging.next.after",
               "mapped_table": "bench_" + w.lower()}
        try:
            return self.sql("SELECT nango.add_sync(%s, %s)", (url, json.dumps(cfg)))[0][0]
        except psycopg2.Error as e:
            raise Failed("add_sync: %s" % first_line(e))

    def nango_table(self, w):
        r = self.sql("SELECT coalesce(to_regclass(%s), to_regclass(%s))::text",
                     ("nango.bench_" + w.lower(), "public.bench_" + w.lower()))
        return r[0][0] or "nango.bench_" + w.lower()

    def run_nango(self, w, sync_id, probe=None):
        """Times run_sync of sync_id; checks the job and the rows."""
        conn = self.connect()
        cur = conn.cursor()
        cur.execute("SELECT pg_backend_pid(), set_config('statement_timeout', %s, false)",
                    ("%ds" % self.args.timeout,))
        pid = cur.fetchone()[0]
        sampler = MemorySampler(pid) if probe is not None else None
        try:
            t0 = time.perf_counter()
            cur.execute("SELECT nango.run_sync(%s)", (sync_id,))
            t = time.perf_counter() - t0
            job_id = cur.fetchone()[0]
        except psycopg2.Error as e:
            raise Failed("run_sync: %s" % first_line(e))
        finally:
            if sampler:
                sampler.stop()
                probe.update(sampler.result())
            conn.close()
        row = self.sql("SELECT status, error_message, page_count, fetched_count, added_count, "
                       "updated_count, unchanged_count, mismatch_count, skipped_count "
                       "FROM nango.jobs WHERE id = %s", (job_id,))
        if not row:
            raise Failed("run_sync returned job %s, not found in nango.jobs" % job_id)
        st, err, pages, fetched, added, updated, unchanged, mismatch, skipped = row[0]
        if st != "succeeded":
            raise Failed("job %s %s: %s" % (job_id, st, err))
        info = "pages %s fetched %s added %s updated %s unchanged %s" % (
            pages, fetched, added, updated, unchanged)
        if mismatch or skipped:
            info += " mismatch %s skipped %s" % (mismatch, skipped)
        if w == "W4":
            t_verify = time.perf_counter()
            self.verify_large("nango.raw", "sync_id = %d AND deleted_at IS NULL" % sync_id,
                              self.nango_table(w),
                              "_nango_sync_id = %d AND _nango_deleted_at IS NULL" % sync_id, self.w4)
            info += " (verified in %.0f s)" % (time.perf_counter() - t_verify)
        elif w in WORKLOADS:
            self.verify("nango.raw", "sync_id = %d AND deleted_at IS NULL" % sync_id,
                        self.nango_table("W1" if w == "W2" else w),
                        "_nango_sync_id = %d AND _nango_deleted_at IS NULL" % sync_id)
        return t, info

    def warm_up(self):
        """One untimed floor W1 load: creates the WAL segments the timed runs
        recycle and warms the caches, so the first timed run pays no more."""
        log("\n== warm-up (untimed): floor W1")
        self.fresh_database()
        try:
            t, info = self.run_floor("W1")
            log("  W1  floor   %8.3f s  %s" % (t, info))
        except Failed as e:
            log("  W1  floor   FAILED  %s" % e)

    # --- one repetition -----------------------------------------------------------
    def repetition(self, rep, results):
        k = rep % len(CONTENDERS)
        order = CONTENDERS[k:] + CONTENDERS[:k]
        log("\n== repetition %d (order: %s), load average %s" % (rep + 1, ", ".join(order), loadavg()))
        self.fresh_database()
        syncs = {}
        for w in WORKLOADS:
            infos = []
            for c in order:
                if c == "floor" and w == "W2":
                    results[(rep, w, c)] = results[(rep, "W1", c)]
                    infos.append((c, "= W1 floor"))
                    continue
                try:
                    if c == "nango" and w != "W2":
                        syncs[w] = self.add_nango_sync(w)
                    self.checkpoint()
                    if c == "floor":
                        t, info = self.run_floor(w)
                    elif c == "script":
                        t, info = self.run_script(w, "script_w3" if w == "W3" else "script_w1")
                    else:
                        sid = syncs.get("W1" if w == "W2" else w)
                        if sid is None:
                            raise Failed("no W1 sync (W1 failed before run_sync)")
                        t, info = self.run_nango(w, sid)
                    results[(rep, w, c)] = t
                except Failed as e:
                    results[(rep, w, c)] = None
                    info = "FAILED: %s" % e
                infos.append((c, info))
            # Printed once the workload's floor is known, in the order run.
            for c, info in infos:
                self.report(rep, w, c, results, info)

    def report(self, rep, w, c, results, info):
        t = results[(rep, w, c)]
        fl = results.get((rep, w, "floor"))
        n = self.exp["records"]
        if t is None:
            log("  %-3s %-7s FAILED  %s" % (w, c, info[len("FAILED: "):] if info.startswith("FAILED: ") else info))
            return
        ratio = ("%5.2fx floor" % (t / fl)) if fl else "   no floor "
        log("  %-3s %-7s %8.3f s %7.1f us/rec  %s  %s" % (w, c, t, t / n * 1e6, ratio, info))

    def summary(self, results):
        reps = self.args.reps
        n = self.exp["records"]
        log("\n== medians over %d repetition(s), %d records (%d pages W1/W2, %d pages W3)"
            % (reps, n, self.exp["pages_w1"], self.exp["pages_w3"]))
        log("  %-3s %-7s %10s %10s %10s %10s" % ("", "", "median s", "us/rec", "vs floor",
                                                "vs script"))
        med = {}
        for w in WORKLOADS:
            for c in CONTENDERS:
                ts = [results.get((r, w, c)) for r in range(reps)]
                if any(t is None for t in ts):
                    med[(w, c)] = None
                    log("  %-3s %-7s %10s  (%d of %d runs failed)" % (
                        w, c, "FAILED", sum(t is None for t in ts), reps))
                    continue
                m = statistics.median(ts)
                med[(w, c)] = m
                fl = med.get((w, "floor"))
                sc = med.get((w, "script"))
                log("  %-3s %-7s %10.3f %10.1f %10s %10s" % (
                    w, c, m, m / n * 1e6, ("%.2fx" % (m / fl)) if fl else "-",
                    ("%.2fx" % (m / sc)) if sc else "-"))
        ratios = {}
        for w in WORKLOADS:
            rs = [results[(r, w, "nango")] / results[(r, w, "floor")] for r in range(reps)
                  if results.get((r, w, "nango")) and results.get((r, w, "floor"))]
            if len(rs) == reps and reps > 0:
                ratios[w] = statistics.median(rs)
                log("  %-3s nango / floor per repetition: %s; median of ratios %.2fx" % (
                    w, ", ".join("%.2fx" % x for x in rs), ratios[w]))
        targets(med, ratios)
        return med

    # --- mock API ceiling ----------------------------------------------------------
    def mock_ceiling(self):
        """curl over one connection, all W1 and W3 pages, best of 3."""
        log("\n== mock API ceiling (curl, one kept-alive connection, best of 3)")
        for w in ("w1", "w3"):
            best = None
            for _ in range(3):
                t0 = time.perf_counter()
                size, conns = self.curl_fetch(w)
                t = time.perf_counter() - t0
                best = t if best is None else min(best, t)
            pages = self.exp["pages_" + w]
            log("  %s: %d pages, %.1f MB in %.3f s: %.0f pages/s, %.0f MB/s, %.1f us/record, "
                "%d connection(s)" % (w.upper(), pages, size / 1e6, best, pages / best,
                                      size / 1e6 / best, best / self.exp["records"] * 1e6, conns))
        if subprocess.run(["which", "wrk"], capture_output=True).returncode == 0:
            url = "%s/w1/contacts?limit=100&after=100" % self.args.mock
            out = subprocess.run(["wrk", "-t1", "-c1", "-d3s", url], capture_output=True, text=True)
            rps = [l for l in out.stdout.splitlines() if "Requests/sec" in l or "Transfer/sec" in l]
            log("  wrk, one connection, one W1 page for 3 s: %s" % "; ".join(x.strip() for x in rps))

    # --- W4: millions of records ---------------------------------------------------------
    def workload_w4(self):
        """Per repetition, in a fresh database: W1 and then W4 (the same
        records' shape, 100 per page, millions of records), for the floor
        and nango, nango's backend's private memory sampled.  The figures
        are each contender's W4 time per record over its W1 time per record,
        and nango's W4 peak private memory over its W1 peak."""
        if self.w4 is None:
            log("\n== W4: FAILED: no W4 data (gen.py --w4)")
            return
        n = {"W1": self.exp["records"], "W4": self.w4["records"]}
        log("\n== W4: %d records (%d pages) against W1's %d, floor and nango, %d repetition(s)"
            % (n["W4"], self.w4["pages_w4"], n["W1"], self.args.reps))
        ratios = {"floor": [], "nango": []}
        mems = []
        for rep in range(self.args.reps):
            log("  repetition %d, load average %s" % (rep + 1, loadavg()))
            self.fresh_database()
            per, mem = {}, {}
            for w in ("W1", "W4"):
                for c in ("floor", "nango"):
                    try:
                        self.checkpoint()
                        if c == "floor":
                            t, info = self.run_floor(w)
                        else:
                            probe = {}
                            sid = self.add_nango_sync(w)
                            self.checkpoint()
                            t, info = self.run_nango(w, sid, probe=probe)
                            mem[w] = probe["peak_RssAnon"]
                            info += "; peak RssAnon %.1f MB" % (probe["peak_RssAnon"] / 1024)
                        per[(w, c)] = t / n[w]
                        log("    %s %-5s %9.3f s %7.2f us/rec  %s" % (w, c, t, t / n[w] * 1e6, info))
                    except Failed as e:
                        log("    %s %-5s FAILED  %s" % (w, c, e))
            for c in ("floor", "nango"):
                if ("W1", c) in per and ("W4", c) in per:
                    ratios[c].append(per[("W4", c)] / per[("W1", c)])
            if len(mem) == 2:
                mems.append(mem["W4"] / mem["W1"])
            log("    W4 / W1 per record: %s; load average %s" % (
                ", ".join("%s %.3fx" % (c, ratios[c][-1]) for c in ratios if len(ratios[c]) == rep + 1),
                loadavg()))
        if len(ratios["nango"]) < self.args.reps or len(mems) < self.args.reps:
            log("  target: W4 time per record within 10% of W1's: no figure (a run failed)")
            return
        r, m = statistics.median(ratios["nango"]), statistics.median(mems)
        fl = ("%.3fx" % statistics.median(ratios["floor"])) if len(ratios["floor"]) == self.args.reps else "FAILED"
        log("  medians of per-repetition ratios: W4 / W1 time per record nango %.3fx, floor %s; "
            "nango peak RssAnon %+.1f%%" % (r, fl, (m - 1) * 100))
        log("  target: nango W4 time per record within 10%% of W1's: %s; private memory flat "
            "(peak within 10%% of W1's): %s" % (verdict(r <= 1.10), verdict(m <= 1.10)))

    # --- memory probe ------------------------------------------------------------------
    def memory(self):
        log("\n== memory probe: nango run_sync backend (and a checkpointed worker job), "
            "small records (%d per page)"
            % self.exp.get("mem_per_page", 0))
        if "m2k_records" not in self.exp:
            log("  FAILED: no memory probe data (gen.py --memory)")
            return
        self.fresh_database()
        got = {}
        for name, pages in (("m2k", 2000), ("m20k", 20000)):
            probe = {}
            try:
                if self.nango_error:
                    raise Failed(self.nango_error)
                url = "%s/%s/items?limit=5" % (self.args.mock, name)
                cfg = {"response_path": "results", "unique_key": "id",
                       "paging_cursor_request_path": "after",
                       "paging_cursor_metadata_response_path": "paging.next.after",
                       "mapped_table": "mem_" + name}
                try:
                    sid = self.sql("SELECT nango.add_sync(%s, %s)", (url, json.dumps(cfg)))[0][0]
                except psycopg2.Error as e:
                    raise Failed("add_sync: %s" % first_line(e))
                self.checkpoint()
                t, info = self.run_nango(name, sid, probe=probe)
                n = self.sql("SELECT count(*) FROM nango.raw WHERE sync_id = %s", (sid,))[0][0]
                if n != self.exp[name + "_records"]:
                    raise Failed("raw rows %d, expected %d" % (n, self.exp[name + "_records"]))
                got[name] = probe
                log("  %5d pages: %6.2f s, VmHWM %6.1f MB, peak RssAnon %6.1f MB, "
                    "RssShmem at end %6.1f MB (%d samples)" % (
                        pages, t, probe["VmHWM"] / 1024, probe["peak_RssAnon"] / 1024,
                        probe["RssShmem"] / 1024, probe["samples"]))
            except Failed as e:
                log("  %5d pages: FAILED: %s" % (pages, e))
        if len(got) == 2:
            a, b = got["m2k"], got["m20k"]
            growth = b["peak_RssAnon"] / a["peak_RssAnon"] - 1
            log("  20,000 vs 2,000 pages: VmHWM %+.1f%%, peak RssAnon %+.1f%%" % (
                (b["VmHWM"] / a["VmHWM"] - 1) * 100, growth * 100))
            log("  target: peak private memory (RssAnon) of 20,000 pages within 10%% of "
                "2,000 pages: %s; under 64 MB: %s" % (
                    verdict(growth <= 0.10), verdict(b["peak_RssAnon"] < 64 * 1024)))
        worker = {}
        for name, pages in (("m2k", 2000), ("m20k", 20000)):
            worker[name] = self.memory_worker(name, pages)
        a, b = worker["m2k"], worker["m20k"]
        if a is not None and b is not None:
            growth = b["peak_RssAnon"] / a["peak_RssAnon"] - 1
            log("  worker jobs, 20,000 (checkpointed) vs 2,000 pages: peak RssAnon %+.1f%%" % (growth * 100))
            log("  target: peak private memory (RssAnon) of the checkpointed 20,000-page worker job within "
                "10%% of the 2,000-page worker job: %s; under 64 MB: %s" % (
                    verdict(growth <= 0.10), verdict(b["peak_RssAnon"] < 64 * 1024)))

    def memory_worker(self, name, pages):
        """A job run by the worker with checkpoint true: the sync (with
        delete_mode, so the keys seen go to nango.checkpoint_keys) is added
        in database postgres, which the scheduler watches, with
        nango.checkpoint_interval at 1 s (a 2,000-page job ends before its
        first checkpoint); the job worker's /proc/<pid>/status is sampled
        from when the job row shows it until the job ends.  Returns the
        probe, or None."""
        try:
            if self.nango_error:
                raise Failed(self.nango_error)
            admin = self.admin_dsn
            self.sql("CREATE EXTENSION IF NOT EXISTS nango", dsn=admin)
            self.sql("ALTER SYSTEM SET nango.checkpoint_interval = '1s'", dsn=admin)
            self.sql("SELECT pg_reload_conf()", dsn=admin)
            url = "%s/%s/items?limit=5" % (self.args.mock, name)
            cfg = {"response_path": "results", "unique_key": "id",
                   "paging_cursor_request_path": "after",
                   "paging_cursor_metadata_response_path": "paging.next.after",
                   "mapped_table": "mem_ck_" + name, "checkpoint": True, "delete_mode": "hard",
                   "frequency": "1 day"}
            self.checkpoint()
            try:
                sid = self.sql("SELECT nango.add_sync(%s, %s)", (url, json.dumps(cfg)), dsn=admin)[0][0]
            except psycopg2.Error as e:
                raise Failed("add_sync: %s" % first_line(e))
            conn = self.connect(admin)
            cur = conn.cursor()
            deadline = time.time() + 60
            pid = None
            while pid is None:
                cur.execute("SELECT pid FROM nango.jobs WHERE sync_id = %s AND status = 'running'", (sid,))
                row = cur.fetchone()
                pid = row[0] if row else None
                if pid is None and time.time() > deadline:
                    raise Failed("the worker did not start the job within 60 s")
                if pid is None:
                    time.sleep(0.005)
            sampler = MemorySampler(pid)
            t0 = time.perf_counter()
            saved = set()
            deadline = time.time() + self.args.timeout
            try:
                while True:
                    cur.execute("SELECT saved_at FROM nango.checkpoints WHERE sync_id = %s", (sid,))
                    saved.update(r[0] for r in cur.fetchall())
                    cur.execute("SELECT count(*) FROM nango.jobs WHERE sync_id = %s AND status = 'running'",
                                (sid,))
                    if cur.fetchone()[0] == 0 or time.time() > deadline:
                        break
                    time.sleep(0.05)
            finally:
                t = time.perf_counter() - t0
                sampler.stop()
                conn.close()
            probe = sampler.result()
            row = self.sql("SELECT status, error_message, page_count FROM nango.jobs WHERE sync_id = %s "
                           "ORDER BY id", (sid,), dsn=admin)
            if len(row) != 1 or row[0][0] != "succeeded":
                raise Failed("jobs of the sync: %s" % row)
            n = self.sql("SELECT count(*) FROM nango.raw WHERE sync_id = %s", (sid,), dsn=admin)[0][0]
            if n != self.exp[name + "_records"]:
                raise Failed("raw rows %d, expected %d" % (n, self.exp[name + "_records"]))
            log("  %5d pages, worker job, checkpoint every 1 s (%d seen), delete_mode hard: %6.2f s, "
                "VmHWM %6.1f MB, peak RssAnon %6.1f MB (%6.1f MB at the first sample; %d samples)" % (
                    pages, len(saved), t, probe["VmHWM"] / 1024, probe["peak_RssAnon"] / 1024,
                    probe["first_RssAnon"] / 1024, probe["samples"]))
            return probe
        except (Failed, psycopg2.Error) as e:
            log("  %5d pages, worker job with checkpoints: FAILED: %s" % (pages, e))
            return None


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def verdict(ok):
    return "met" if ok else "NOT met"


def targets(med, ratios):
    """The performance targets of the project: nango against the floor as
    the median of per-repetition ratios, and against the script peer."""
    log("\n== targets")
    for w, limit in (("W1", 1.0), ("W2", 0.25), ("W3", 0.9)):
        r = ratios.get(w)
        if r is None:
            log("  nango %s at most %.2fx the floor: no figure" % (w, limit))
        else:
            log("  nango %s at most %.2fx the floor: %s (%.2fx)" % (w, limit, verdict(r <= limit), r))
    for w in WORKLOADS:
        n, sc = med.get((w, "nango")), med.get((w, "script"))
        if n is None or sc is None:
            log("  nango %s ahead of the script peer: no figure" % w)
        else:
            log("  nango %s ahead of the script peer: %s (%.2fx its time)" % (w, verdict(n < sc), n / sc))


def profile(b, workload):
    """perf profile of the backend running nango's run_sync on one workload
    (W2 runs W1 first, untimed): where the time goes, by symbol."""
    # The warm-up load first, as in the timed runs: without it the profile
    # shows the first WAL segments being created and shared buffers touched
    # for the first time, which the timed runs do not pay.
    b.warm_up()
    log("\n== profile: nango %s (perf record of the run_sync backend)" % workload)
    b.fresh_database()
    try:
        sid = b.add_nango_sync("W3" if workload == "W3" else "W1")
        if workload == "W2":
            b.run_nango("W1", sid)
        b.checkpoint()
        conn = b.connect()
        cur = conn.cursor()
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
        data = os.path.join(b.args.work, "perf.data")
        perf = subprocess.Popen(["perf", "record", "-q", "-F", "999", "-g", "-p", str(pid),
                                 "-o", data], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.5)
        t0 = time.perf_counter()
        try:
            cur.execute("SELECT nango.run_sync(%s)", (sid,))
        except psycopg2.Error as e:
            raise Failed("run_sync: %s" % first_line(e))
        finally:
            t = time.perf_counter() - t0
            perf.send_signal(2)
            perf.wait()
            conn.close()
        log("  run_sync %.3f s; perf data in %s" % (t, data))
        out = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                              "--sort", "dso,symbol", "--percent-limit", "0.7", "-g", "none"],
                             capture_output=True, text=True)
        for line in out.stdout.splitlines():
            if line.strip() and not line.startswith("#"):
                log("  " + re.sub(r"(\s+-)+\s*$", "", line))
    except Failed as e:
        log("  FAILED: %s" % e)


class MemorySampler:
    """Samples /proc/<pid>/status of a backend every 10 ms while it runs."""

    def __init__(self, pid):
        self.pid = pid
        self.peak_anon = 0
        self.first_anon = None
        self.samples = 0
        self.last = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def read(self):
        vals = {}
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmHWM", "VmRSS", "RssAnon", "RssShmem", "RssFile"):
                    vals[k] = int(v.split()[0])
        return vals

    def loop(self):
        while not self.done.is_set():
            try:
                v = self.read()
            except OSError:
                break
            self.last = v
            self.peak_anon = max(self.peak_anon, v.get("RssAnon", 0))
            if self.first_anon is None:
                self.first_anon = v.get("RssAnon", 0)
            self.samples += 1
            self.done.wait(0.01)

    def stop(self):
        try:
            v = self.read()
            self.last = v
            self.peak_anon = max(self.peak_anon, v.get("RssAnon", 0))
        except OSError:
            pass
        self.done.set()
        self.thread.join()

    def result(self):
        return {"VmHWM": self.last.get("VmHWM", 0), "peak_RssAnon": self.peak_anon,
                "first_RssAnon": self.first_anon or 0,
                "RssShmem": self.last.get("RssShmem", 0), "samples": self.samples}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--mock", required=True)
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", default="")
    ap.add_argument("--timeout", type=int, default=int(os.environ.get("TIMEOUT", "1800")),
                    help="seconds after which a contender's run counts as FAILED")
    args = ap.parse_args()
    b = Bench(args)
    if args.only == "profile":
        profile(b, os.environ.get("PROFILE_WORKLOAD", "W1"))
        return
    if args.only == "w4":
        b.workload_w4()
        return
    if args.only != "memory":
        b.mock_ceiling()
        b.warm_up()
        results = {}
        for rep in range(args.reps):
            b.repetition(rep, results)
        med = b.summary(results)
        if os.environ.get("RESULTS"):
            with open(os.environ["RESULTS"], "w") as f:
                json.dump({"records": b.exp["records"], "reps": args.reps,
                           "runs": [{"rep": r + 1, "workload": w, "contender": c, "seconds": t}
                                    for (r, w, c), t in sorted(results.items())],
                           "medians": [{"workload": w, "contender": c, "seconds": t}
                                       for (w, c), t in sorted(med.items())]}, f, indent=1)
    if args.only in ("", "memory"):
        b.memory()


if __name__ == "__main__":
    main()
