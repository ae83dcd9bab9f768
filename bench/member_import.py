"""Part 5: importing a member list (intake's POST /imports), in rows per second against a plain
batched INSERT of the same rows into the same database, and the import's peak memory for
100,000 and 1,000,000 rows.

The import timed is intake's own: handlers.run_import on a CSV file of valid, distinct firms
(semicolon, Windows-1252, as Excel writes it in France), each batch in a unit of work as the
service runs it (its outbox and audit rows included), on a fresh SQLite database migrated to
head (the default a partner gets). The baseline reads the same file with the csv module and
inserts its rows, 500 per transaction, into a table of the same four columns in the same
database. Peak memory is the import's own process's maximum resident set size, each size in a
fresh process (python bench/member_import.py --peak N), so the two figures compare like with
like; a streamed import keeps them close.
"""
import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import time
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.orm import Session

from parcours_shared.engine import create_db_engine, upgrade_to_head
from parcours_shared.unit_of_work import UnitOfWork

from intake import handlers, store
from intake.service import MIGRATIONS as INTAKE_MIGRATIONS

REGIONS = ["11", "84", "93", "76", "53", "44"]
NAF_CODES = ["10.82Z", "25.62B", "21.20Z", "32.12Z"]
BATCH_ROWS = handlers.IMPORT_BATCH_ROWS


def sirens():
    """Distinct Luhn-valid SIRENs, in order."""
    from stdnum import luhn
    for body in range(10000000, 99999999):
        body = str(body)
        yield body + luhn.calc_check_digit(body)


def write_members(path, rows):
    with open(path, "w", encoding="cp1252", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["Raison sociale", "N° SIREN", "Code NAF", "Région"])
        for number, siren in zip(range(rows), sirens()):
            writer.writerow(["Société n°{}".format(number), siren,
                             NAF_CODES[number % len(NAF_CODES)], REGIONS[number % len(REGIONS)]])


def fresh_database(folder, name):
    path = os.path.join(folder, name)
    if os.path.exists(path):
        os.remove(path)
    engine = create_db_engine("sqlite:///" + path)
    upgrade_to_head(engine, INTAKE_MIGRATIONS)
    return engine


def import_file(engine, path):
    """intake's import of the file, as the service runs it; returns the import."""
    @contextmanager
    def transaction(actor):
        with Session(engine) as session:
            uow = UnitOfWork(session, "intake", store.outbox, actor=actor, audit=store.audit)
            with session.begin():
                yield uow
                uow.write_outbox()

    with transaction(None) as uow:
        job = handlers.start_import(uow, os.path.basename(path), os.path.getsize(path))
    return handlers.run_import(transaction, job.id, path, assign=True)


def plain_insert(engine, path):
    """The baseline: the same rows, read with csv, 500 per INSERT transaction."""
    table = sa.Table("plain_members", sa.MetaData(),
                     sa.Column("siren", sa.String(9), primary_key=True),
                     sa.Column("company_name", sa.String(200)), sa.Column("naf_code", sa.String(6)),
                     sa.Column("region_code", sa.String(3)))
    table.create(engine)
    rows = 0
    with open(path, encoding="cp1252", newline="") as source:
        reader = csv.reader(source, delimiter=";")
        next(reader)
        chunk = []
        for name, siren, naf, region in reader:
            chunk.append({"siren": siren, "company_name": name, "naf_code": naf,
                          "region_code": region})
            if len(chunk) == BATCH_ROWS:
                with engine.begin() as connection:
                    connection.execute(sa.insert(table), chunk)
                rows += len(chunk)
                chunk = []
        if chunk:
            with engine.begin() as connection:
                connection.execute(sa.insert(table), chunk)
            rows += len(chunk)
    return rows


def measure_rate(folder, rows, progress):
    path = os.path.join(folder, "members-{}.csv".format(rows))
    write_members(path, rows)
    progress("plain batched INSERT of {:,} rows".format(rows))
    engine = fresh_database(folder, "plain.sqlite3")
    started = time.perf_counter()
    inserted = plain_insert(engine, path)
    plain_seconds = time.perf_counter() - started
    engine.dispose()
    progress("intake's import of the same {:,} rows".format(rows))
    engine = fresh_database(folder, "import.sqlite3")
    started = time.perf_counter()
    job = import_file(engine, path)
    import_seconds = time.perf_counter() - started
    engine.dispose()
    if inserted != rows or (job.status, job.opened) != ("done", rows):
        raise RuntimeError("the runs did not take every row: plain {}, import {} ({})".format(
            inserted, job.opened, job.error))
    return {"import_rows": rows, "import_rows_per_s": round(rows / import_seconds, 1),
            "import_plain_insert_rows_per_s": round(rows / plain_seconds, 1),
            "import_ratio": round(plain_seconds / import_seconds, 3)}


def peak_memory(folder, rows, progress):
    """The import's peak resident memory for ``rows`` rows, in a process of its own (MB)."""
    path = os.path.join(folder, "members-{}.csv".format(rows))
    if not os.path.exists(path):
        write_members(path, rows)
    progress("peak memory of an import of {:,} rows (its own process)".format(rows))
    child = subprocess.run([sys.executable, __file__, "--peak", path, "--folder", folder],
                           check=True, capture_output=True, text=True)
    return json.loads(child.stdout.strip().splitlines()[-1])["peak_mb"]


def run(folder, sizes=(100_000, 1_000_000), progress=print):
    results = measure_rate(folder, sizes[0], progress)
    results["import_peak_mb_100k"] = peak_memory(folder, sizes[0], progress)
    results["import_peak_mb_1m"] = peak_memory(folder, sizes[1], progress)
    results["import_peak_ratio"] = round(results["import_peak_mb_1m"]
                                         / results["import_peak_mb_100k"], 3)
    return results


def _peak_child(path, folder):
    engine = fresh_database(folder, "peak.sqlite3")
    job = import_file(engine, path)
    if job.status != "done":
        raise SystemExit("the import failed: {}".format(job.error))
    print(json.dumps({"peak_mb": round(_own_peak_kb() / 1024, 1), "rows": job.rows_read}))


def _own_peak_kb():
    """This process's peak resident memory since it was started: VmHWM belongs to its memory
    map, made afresh at exec. (getrusage's ru_maxrss is kept across exec on Linux: it gave the
    benchmark's own peak when that was higher, whatever the import used.)"""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--peak", help="(internal) import this file and print the peak memory")
    parser.add_argument("--folder", default=".")
    args = parser.parse_args()
    _peak_child(args.peak, args.folder)
