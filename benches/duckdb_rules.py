"""Runs the built-in detection rules with DuckDB over a trailscope lake, for the detect benchmark.

usage: python3 duckdb_rules.py LAKE RUNS

trailscope's own SQL functions are given to DuckDB as macros of the same meaning; rules DuckDB
still cannot run are reported as skipped with its error. Prints JSON: the DuckDB version, the
rules it ran, their finding counts, the median wall time of running them all, and the skipped rules.
"""
import json
import pathlib
import statistics
import sys
import time

import duckdb

MACROS = r"""
CREATE MACRO json_get_str(j, a) AS json_extract_string(j, '$."' || a || '"'),
                         (j, a, b) AS json_extract_string(j, '$."' || a || '"."' || b || '"');
CREATE MACRO json_get_json(j, a) AS CAST(json_extract(j, '$."' || a || '"') AS VARCHAR);
CREATE MACRO json_get(j, a) AS json_extract(j, '$."' || a || '"');
CREATE MACRO json_get_int(j, a) AS TRY_CAST(json_extract_string(j, '$."' || a || '"') AS BIGINT),
                         (j, a, b, i, c) AS TRY_CAST(json_extract_string(j, '$."' || a || '"."' || b || '"[' || i || ']."' || c || '"') AS BIGINT);
CREATE MACRO json_get_bool(j, a) AS TRY_CAST(json_extract_string(j, '$."' || a || '"') AS BOOLEAN);
CREATE MACRO json_contains(j, a) AS json_extract(j, '$."' || a || '"') IS NOT NULL;
CREATE MACRO regexp_like(s, p) AS regexp_matches(s, p);
CREATE MACRO regexp_match(s, p) AS CASE WHEN regexp_matches(s, p) THEN [regexp_extract(s, p, 1)] END;
CREATE MACRO array_distinct(l) AS list_distinct(l);
CREATE MACRO date_bin(i, t) AS time_bucket(i, t), (i, t, o) AS time_bucket(i, t, o);
CREATE MACRO lambda_api(n) AS regexp_replace(n, '[0-9]{8}(v[0-9]+)?$', '');
CREATE MACRO lambda_function(n) AS split_part(CASE WHEN strpos(n, 'function:') > 0 THEN n[strpos(n, 'function:') + 9:] ELSE n END, ':', 1);
CREATE MACRO arn_account(a) AS CASE WHEN a LIKE 'arn:%' THEN split_part(a, ':', 5) END;
CREATE MACRO actor(u) AS CASE
  WHEN u.type = 'IAMUser' THEN 'user/' || coalesce(u.username, regexp_extract(u.arn, '[^/]+$'))
  WHEN u.type = 'AssumedRole' THEN 'role/' || coalesce(u.sessioncontext.sessionissuer.username, split_part(u.arn, '/', 2)) || '/' || regexp_extract(u.arn, '[^/]+$')
  WHEN u.type = 'Root' THEN 'root/' || u.accountid
  WHEN u.type = 'AWSService' THEN 'service/' || u.invokedby
  WHEN u.type = 'FederatedUser' THEN 'federated/' || regexp_extract(u.arn, '[^/]+$')
  WHEN u.type = 'AWSAccount' THEN 'account/' || coalesce(u.accountid, u.principalid)
  ELSE coalesce(u.arn, u.principalid) END;
CREATE MACRO principal(u) AS CASE
  WHEN u.type = 'AssumedRole' AND coalesce(u.sessioncontext.sessionissuer.username, split_part(u.arn, '/', 2)) NOT LIKE 'AWSReservedSSO_%'
       AND regexp_extract(u.arn, '[^/]+$') NOT LIKE '%@%'
    THEN 'role/' || coalesce(u.sessioncontext.sessionissuer.username, split_part(u.arn, '/', 2))
  ELSE actor(u) END;
CREATE MACRO json_length(j) AS json_array_length(j), (j, a) AS json_array_length(j, '$."' || a || '"');
CREATE MACRO is_private_ip(ip) AS regexp_matches(ip, '^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|127\.|169\.254\.|100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.|f[cd]|fe80:|::1$)');
"""


def rules(root):
    for f in sorted(root.glob("*/*.sql")):
        if f.parent.name == "views":
            continue
        text = f.read_text()
        rid = next(l.split(":", 1)[1].strip() for l in text.splitlines() if l.startswith("-- id:"))
        yield rid, text


def main():
    lake, runs = pathlib.Path(sys.argv[1]), int(sys.argv[2])
    root = pathlib.Path(__file__).resolve().parent.parent / "queries"
    con = duckdb.connect()
    con.execute(MACROS)
    glob = str(lake / "cloudtrail" / "**" / "*.parquet")
    con.execute(
        f"CREATE VIEW cloudtrail AS SELECT * FROM read_parquet('{glob}', hive_partitioning = true, "
        "hive_types = {'account': VARCHAR, 'region': VARCHAR, 'day': VARCHAR})"
    )
    # trailscope keeps this table for the session; DuckDB gets the same rows once, as a table.
    con.execute(
        "CREATE TABLE account_spans AS SELECT account, min(eventtime) AS t0, max(eventtime) AS t1 "
        "FROM cloudtrail GROUP BY account"
    )
    ran, skipped, counts = [], {}, {}
    for rid, sql in rules(root):
        try:
            counts[rid] = len(con.execute(sql).fetchall())
            ran.append(rid)
        except Exception as e:  # noqa: BLE001 - any failure means "not portable"
            skipped[rid] = str(e)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        for rid, sql in rules(root):
            if rid in ran:
                con.execute(sql).fetchall()
        times.append(time.perf_counter() - t)
    print(json.dumps({"version": duckdb.__version__, "ran": ran, "findings": counts,
                      "seconds": statistics.median(times), "skipped": skipped}))


main()
