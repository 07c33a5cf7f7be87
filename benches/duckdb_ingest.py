"""Converts a CloudTrail tree to Parquet with DuckDB, for the ingest benchmark's comparison.

usage: python3 duckdb_ingest.py CORPUS OUT.parquet [--no-insertion-order]

CORPUS is a tree in CloudTrail's key layout (AWSLogs/<org>/<account>/CloudTrail/<region>/<y>/<m>/<d>/,
as the benchmark's generator writes it). DuckDB reads every log object with `read_json` (the
schema detected over all of them), unnests the records into typed columns and writes one
zstd-compressed Parquet file, on two threads, as trailscope's ingest does on a two-core machine.
Prints the wall time, the process's CPU time (user + system) and peak RSS, and the output size.
"""
import os
import resource
import sys
import time

import duckdb


def main():
    corpus, out = sys.argv[1], sys.argv[2]
    logs = os.path.join(corpus, "AWSLogs", "*", "*", "CloudTrail", "*", "*", "*", "*", "*.json.gz")
    con = duckdb.connect()
    con.execute("SET threads = 2")
    if "--no-insertion-order" in sys.argv[3:]:
        con.execute("SET preserve_insertion_order = false")
    started = time.time()
    con.execute(
        f"""COPY (SELECT unnest(Records, recursive := true)
                  FROM read_json('{logs}', maximum_object_size = 1000000000, sample_size = -1))
            TO '{out}' (FORMAT parquet, COMPRESSION zstd)"""
    )
    wall = time.time() - started
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"duckdb {duckdb.__version__}: wall {wall:.2f} s, CPU {ru.ru_utime + ru.ru_stime:.2f} s "
        f"(user {ru.ru_utime:.2f}, system {ru.ru_stime:.2f}), peak RSS {ru.ru_maxrss / 1024:.0f} MiB, "
        f"output {os.path.getsize(out) / 1e6:.0f} MB"
    )


if __name__ == "__main__":
    main()
