"""`make bench`: Parcours' throughput and latency against the raw broker, in one run on one machine.

    .venv/bin/python bench/run.py                          # everything (~2.5 minutes), writes
                                                           # bench/results.json, bench/RESULTS.md
    .venv/bin/python bench/run.py --only raw,relay         # some parts: results go to bench/raw/
    .venv/bin/python bench/run.py --only pathway --cases 300

Parts: [raw] broker ceiling with kombu, [relay] the outbox relay (SQLite and PostgreSQL),
[pathway] the four services end to end plus latency, [reporting] the funnel query at 10k/100k,
[import] a member list of 100k rows into intake against a plain INSERT, and its peak memory at
100k and 1M rows.
See bench/README.md for what each figure means.
"""
import warnings

# nameko patches eventlet before anything else is imported; so does the benchmark, so that the
# relay and the broker clients run as they do inside a service (NAMEKO-NOTES, pitfall 3).
with warnings.catch_warnings():
    # eventlet announces its bugfix-only mode at import; the pinned set is tested together.
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import sqlite3  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from importlib.metadata import version  # noqa: E402
from typing import Callable, Optional  # noqa: E402

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
sys.path.insert(0, BENCH_DIR)

import pathway  # noqa: E402
import raw_broker  # noqa: E402
import relay  # noqa: E402
import member_import  # noqa: E402
import reporting_queries  # noqa: E402
from common import BenchVhost, broker_versions, ratio  # noqa: E402

PARTS = ("raw", "relay", "pathway", "import", "reporting")  # reporting last: its 1M cases
# leave a large heap behind, which a forked import process inherits (and its GC walks)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(PARTS),
                        help="comma-separated parts to run, among {} (default: all)".format(
                            ",".join(PARTS)))
    parser.add_argument("--cases", type=int, default=3000,
                        help="cases taken along the pathway in the throughput run")
    parser.add_argument("--latency-seconds", type=float, default=20.0,
                        help="length of the paced latency run")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each raw broker and relay measurement (the median counts)")
    parser.add_argument("--raw-messages", type=int, default=20000)
    parser.add_argument("--confirm-messages", type=int, default=2000,
                        help="messages published with a confirm each (slow: keep it small)")
    parser.add_argument("--relay-events", type=int, default=20000)
    parser.add_argument("--no-postgres", action="store_true",
                        help="skip the relay on PostgreSQL even if it is reachable")
    parser.add_argument("--report-sizes", default="10000,100000,1000000",
                        help="case counts at which the dashboard and the report are timed (the "
                             "first is the baseline)")
    parser.add_argument("--query-runs", type=int, default=30)
    parser.add_argument("--import-sizes", default="100000,1000000",
                        help="rows of the member list imported: the rate is taken at the first, "
                             "the peak memory at both")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the relay runs (bench/raw/relay-*.prof)")
    parser.add_argument("--output-dir", default=None,
                        help="where results.json and RESULTS.md go (default: bench/ for a full "
                             "run, bench/raw/ when --only picks some parts)")
    args = parser.parse_args(argv)
    args.only = [part.strip() for part in args.only.split(",") if part.strip()]
    unknown = set(args.only) - set(PARTS)
    if unknown:
        parser.error("unknown part(s): {}".format(", ".join(sorted(unknown))))
    if args.output_dir is None:
        full = set(args.only) == set(PARTS)
        args.output_dir = BENCH_DIR if full else os.path.join(BENCH_DIR, "raw")
    return args


# --- the figures, their baselines and targets ---------------------------------------------------

@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    unit: str
    ratio_key: Optional[str] = None      # where its ratio to the baseline goes, in results
    baseline_key: Optional[str] = None   # the baseline figure (measured in the same run)
    baseline: str = ""                   # what the ratio is relative to, in words
    target: str = ""
    met: Optional[Callable] = None       # results -> bool


FIGURES = [
    Figure("raw_publish_per_s", "raw publish, persistent, no confirms", "msg/s",
           baseline="baseline (publish ceiling)"),
    Figure("raw_publish_confirm_each_per_s",
           "raw publish, a confirm per message (for comparison)", "msg/s",
           "raw_publish_confirm_each_ratio", "raw_publish_per_s", "raw publish"),
    Figure("raw_consume_per_s", "raw consume + ack, prefetch 500", "msg/s",
           baseline="baseline (consume ceiling)"),
    Figure("relay_per_s", "outbox relay, SQLite", "events/s",
           "relay_ratio", "raw_publish_per_s", "raw publish (run by run)",
           "≥ 0.70 × raw publish", lambda r: r["relay_ratio"] >= 0.70),
    Figure("relay_pg_per_s", "outbox relay, PostgreSQL", "events/s",
           "relay_pg_ratio", "raw_publish_per_s", "raw publish (run by run)",
           "≥ 0.70 × raw publish", lambda r: r["relay_pg_ratio"] >= 0.70),
    Figure("pathway_events_per_s", "pathway end to end, events handled", "events/s",
           "pathway_ratio", "raw_consume_per_s", "raw consume (just before)",
           "≥ 0.50 × raw consume", lambda r: r["pathway_ratio"] >= 0.50),
    Figure("latency_p50_ms", "intake → reporting lag, p50", "ms"),
    Figure("latency_p95_ms", "intake → reporting lag, p95", "ms"),
    Figure("latency_p99_ms", "intake → reporting lag, p99", "ms",
           target="< 200 ms at half max load", met=lambda r: r["latency_p99_ms"] < 200),
    Figure("dashboard_query_10k_ms", "dashboard's figures, 10k cases", "ms",
           baseline="baseline (10k cases)"),
    Figure("dashboard_query_1m_ms", "dashboard's figures, 1M cases", "ms",
           "dashboard_query_ratio_1m", "dashboard_query_10k_ms", "10k cases",
           "≤ 1.5 × 10k", lambda r: r["dashboard_query_ratio_1m"] <= 1.5),
    Figure("quarterly_report_10k_ms", "quarterly report (HTML), 10k cases", "ms",
           baseline="baseline (10k cases)"),
    Figure("quarterly_report_1m_ms", "quarterly report (HTML), 1M cases", "ms",
           "quarterly_report_ratio_1m", "quarterly_report_10k_ms", "10k cases",
           "≤ 1.5 × 10k", lambda r: r["quarterly_report_ratio_1m"] <= 1.5),
    Figure("rebuild_events_per_s", "reporting rebuilt from its event store", "events/s",
           "rebuild_ratio", "rebuild_paired_raw_consume_per_s", "raw consume (just before)",
           "≥ 0.50 × raw consume", lambda r: r["rebuild_ratio"] >= 0.50),
]
FIGURES += [
    Figure("import_plain_insert_rows_per_s", "plain batched INSERT of a member list's rows",
           "rows/s", baseline="baseline (same rows, same database)"),
    Figure("import_rows_per_s", "member list import (intake), 100k rows", "rows/s",
           "import_ratio", "import_plain_insert_rows_per_s", "plain INSERT (same run)",
           "≥ 0.25 × plain INSERT", lambda r: r["import_ratio"] >= 0.25),
    Figure("import_peak_mb_100k", "member list import, peak memory, 100k rows", "MB",
           baseline="baseline (100k rows)"),
    Figure("import_peak_mb_1m", "member list import, peak memory, 1M rows", "MB",
           "import_peak_ratio", "import_peak_mb_100k", "100k rows",
           "≤ 1.2 × 100k", lambda r: r["import_peak_ratio"] <= 1.2),
]
BY_KEY = {figure.key: figure for figure in FIGURES}


def add_ratios(results):
    """Each figure's ratio to its baseline, when both were measured in this run."""
    for figure in FIGURES:
        # a ratio taken pair by pair (relay, pathway) is kept as measured
        if figure.ratio_key and figure.key in results and figure.ratio_key not in results:
            results[figure.ratio_key] = ratio(results[figure.key],
                                              results.get(figure.baseline_key))


def verdict(figure, results):
    """'met', 'NOT met', or '' when the figure has no target or could not be judged."""
    if figure.met is None:
        return ""
    try:
        return "met" if figure.met(results) else "NOT met"
    except (KeyError, TypeError):  # a baseline or the figure itself was not measured
        return "n/a"


def _value(figure, results):
    value = results.get(figure.key)
    if value is None:
        return "—"
    return "{:,.0f} {}".format(value, figure.unit) if figure.unit != "ms" else \
        "{:,.1f} ms".format(value)


def _ratio_text(figure, results):
    if figure.ratio_key is None:
        return figure.baseline or "—"
    value = results.get(figure.ratio_key)
    if value is None:
        return "— (no {} in this run)".format(figure.baseline)
    return "{:.2f} × {}".format(value, figure.baseline)


def announce(keys, results):
    """Print figures as soon as their part is done."""
    add_ratios(results)
    for key in keys:
        figure = BY_KEY[key]
        if figure.key not in results:
            continue
        line = "    ==> {}: {} ({})".format(figure.label, _value(figure, results),
                                            _ratio_text(figure, results))
        if figure.target:
            line += "; target {}: {}".format(figure.target, verdict(figure, results) or "—")
        print(line, flush=True)


# --- the parts ------------------------------------------------------------------------------------

def part_raw(args, vhost, tmp_dir, step, results):
    figures = raw_broker.run(vhost.amqp_uri, args.raw_messages, args.confirm_messages,
                             args.repeat, step)
    results.update(figures)
    announce(["raw_publish_per_s", "raw_publish_confirm_each_per_s", "raw_consume_per_s"],
             results)


def paired_ratio(rates, baselines):
    """The median of each run's ratio to the baseline measured right before it."""
    return statistics.median(rate / baseline for rate, baseline in zip(rates, baselines))


def part_relay(args, vhost, tmp_dir, step, results):
    profile = os.path.join(BENCH_DIR, "raw", "relay-{}.prof") if args.profile else None
    if profile:
        os.makedirs(os.path.dirname(profile), exist_ok=True)

    def raw_publish_now():
        return raw_broker.paired_run(vhost.amqp_uri, args.raw_messages, step, consume=False)[0]

    # Each relay run comes right after a raw publish run: the ratio is taken pair by pair, so
    # that the machine's drift over the minutes of the benchmark does not make it.
    rates, baselines = relay.run_sqlite(vhost.amqp_uri, args.relay_events, args.repeat,
                                        tmp_dir, step, profile and profile.format("sqlite"),
                                        baseline=raw_publish_now)
    results.update(relay_events=args.relay_events, relay_per_s=statistics.median(rates),
                   relay_runs_per_s=rates, relay_paired_raw_publish_per_s=baselines,
                   relay_ratio=paired_ratio(rates, baselines))
    announce(["relay_per_s"], results)
    if args.no_postgres:
        return
    if not relay.postgres_reachable():
        print("{} outbox relay (PostgreSQL): not reachable at {}, skipped".format(
            step, relay.PG_BASE), flush=True)
        return
    rates, baselines = relay.run_postgres(vhost.amqp_uri, args.relay_events, args.repeat, step,
                                          profile and profile.format("postgres"),
                                          baseline=raw_publish_now)
    results.update(relay_pg_per_s=statistics.median(rates), relay_pg_runs_per_s=rates,
                   relay_pg_paired_raw_publish_per_s=baselines,
                   relay_pg_ratio=paired_ratio(rates, baselines))
    announce(["relay_pg_per_s"], results)


def part_pathway(args, vhost, tmp_dir, step, results):
    work_dir = os.path.join(tmp_dir, "pathway")
    logs = os.path.join(BENCH_DIR, "raw", "pathway-logs")
    # The broker's consume rate right before, for the ratio (see part_relay).
    _, consume_now = raw_broker.paired_run(vhost.amqp_uri, args.raw_messages, step)
    results.update(pathway.run(vhost.amqp_uri, args.cases, args.latency_seconds,
                               work_dir, step, keep_logs_in=logs))
    results.update(pathway_paired_raw_consume_per_s=consume_now,
                   pathway_ratio=results["pathway_events_per_s"] / consume_now)
    announce(["pathway_events_per_s", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms"],
             results)


def part_reporting(args, vhost, tmp_dir, step, results):
    sizes = [int(size) for size in args.report_sizes.split(",")]
    # the broker's consume rate right before, for the rebuild's ratio (see part_relay)
    _, consume_now = raw_broker.paired_run(vhost.amqp_uri, args.raw_messages, step)
    results.update(reporting_queries.run(tmp_dir, sizes, args.query_runs, step,
                                         raw_consume_per_s=consume_now))
    announce(["dashboard_query_1m_ms", "quarterly_report_1m_ms", "rebuild_events_per_s"],
             results)


def part_import(args, vhost, tmp_dir, step, results):
    sizes = [int(size) for size in args.import_sizes.split(",")]
    results.update(member_import.run(tmp_dir, sizes, lambda text: print(
        "{} member list: {}".format(step, text), flush=True)))
    announce(["import_plain_insert_rows_per_s", "import_rows_per_s", "import_peak_mb_100k",
              "import_peak_mb_1m"], results)


RUN_PART = {"raw": part_raw, "relay": part_relay, "pathway": part_pathway,
            "reporting": part_reporting, "import": part_import}


# --- the machine and the report ------------------------------------------------------------------

def describe_machine():
    cpu_model = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    try:
        rabbitmq, erlang = broker_versions()
    except Exception as exc:  # the report must still be written
        rabbitmq, erlang = "unknown ({})".format(exc), "unknown"
    command = shlex.join([os.path.relpath(sys.executable, ROOT)] + sys.argv)
    if os.environ.get("MAKELEVEL"):
        command = "make bench  →  " + command
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "rabbitmq": rabbitmq,
        "erlang": erlang,
        "sqlite": sqlite3.sqlite_version,
        "packages": {name: version(name) for name in
                     ("nameko", "eventlet", "kombu", "amqp", "SQLAlchemy", "psycopg2-binary")},
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "cwd": os.getcwd(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def write_results(results, machine, errors, output_dir):
    os.makedirs(output_dir, exist_ok=True)
    add_ratios(results)
    document = dict(results, machine=machine, errors=errors)
    with open(os.path.join(output_dir, "results.json"), "w") as out:
        json.dump(document, out, indent=2, sort_keys=True)
        out.write("\n")
    with open(os.path.join(output_dir, "RESULTS.md"), "w") as out:
        out.write(results_markdown(results, machine, errors))
        # Targets not met come with the profiles that show where the time goes (written by
        # hand from py-spy and cProfile runs: see the file).
        analysis = os.path.join(BENCH_DIR, "WHERE-TIME-GOES.md")
        if os.path.exists(analysis):
            with open(analysis) as text:
                out.write("\n" + text.read())
    print("==> wrote {} and {}".format(os.path.join(output_dir, "results.json"),
                                       os.path.join(output_dir, "RESULTS.md")), flush=True)


def results_markdown(results, machine, errors):
    lines = [
        "# Parcours benchmark results", "",
        "Written by `bench/run.py` ({}). What each figure means: [README.md](README.md).".format(
            machine["date"]), "",
        "| figure | value | ratio to baseline | target | met? |",
        "| --- | ---: | --- | --- | --- |",
    ]
    for figure in FIGURES:
        lines.append("| {} | {} | {} | {} | {} |".format(
            figure.label, _value(figure, results), _ratio_text(figure, results),
            figure.target or "—", verdict(figure, results) or "—"))
    lines += ["", "## Run details", ""]
    lines += ["- {}: {}".format(key, _format_detail(results[key]))
              for key in sorted(results) if key not in BY_KEY and not key.endswith("_ratio")]
    if errors:
        lines += ["", "## Parts that failed", ""]
        lines += ["- {}: `{}`".format(part, message) for part, message in errors.items()]
    lines += [
        "", "## Machine", "",
        "- nproc: {}".format(machine["nproc"]),
        "- CPU: {}".format(machine["cpu_model"]),
        "- Python {}, RabbitMQ {} (Erlang {}), SQLite {}".format(
            machine["python"], machine["rabbitmq"], machine["erlang"], machine["sqlite"]),
        "- packages: {}".format(", ".join("{} {}".format(k, v)
                                          for k, v in machine["packages"].items())),
        "- date: {}".format(machine["date"]),
        "- load average (1, 5, 15 min) at start: {}, at end: {}".format(
            machine["load_average_at_start"], machine.get("load_average_at_end")),
        "- command (from `{}`): `{}`".format(machine["cwd"], machine["command"]),
        "",
        "Other processes may have used the CPU during the run (see the load average): the "
        "absolute numbers are noisy; the ratios, measured minutes apart on the same broker, "
        "less so.", "",
    ]
    return "\n".join(lines)


def _format_detail(value):
    if isinstance(value, dict):
        return ", ".join("{} {}".format(k, v) for k, v in value.items())
    return value


# --- main ----------------------------------------------------------------------------------------

def _terminate(signum, frame):
    raise KeyboardInterrupt("signal {}".format(signum))  # unwind: stop services, drop the vhost


def _delete_vhost(vhost):
    try:
        vhost.delete()
    except Exception as exc:  # the broker stayed unreachable: say what to delete by hand
        print("==> could not delete vhost {} ({}); delete it with: rabbitmqctl delete_vhost {}"
              .format(vhost.name, exc, vhost.name), flush=True)
        return
    print("==> vhost {} deleted".format(vhost.name), flush=True)


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    machine = describe_machine()
    print("==> Parcours benchmark on {} × {}; parts: {}".format(
        machine["nproc"], machine["cpu_model"], ", ".join(args.only)), flush=True)
    results, errors = {}, {}
    vhost = BenchVhost()
    tmp_dir = tempfile.mkdtemp(prefix="parcours-bench-")
    try:
        vhost.create()
        print("==> broker vhost {}, scratch files in {}".format(vhost.name, tmp_dir), flush=True)
        steps = [part for part in PARTS if part in args.only]
        durations = results["part_seconds"] = {}
        for index, part in enumerate(steps, 1):
            step = "[{}/{}]".format(index, len(steps))
            started = time.monotonic()
            try:
                RUN_PART[part](args, vhost, tmp_dir, step, results)
            except Exception as exc:  # the other parts still tell something: carry on
                traceback.print_exc()
                errors[part] = "{}: {}".format(type(exc).__name__, exc)
                print("{} {} FAILED: {}".format(step, part, errors[part]), flush=True)
            durations[part] = round(time.monotonic() - started, 1)
    except KeyboardInterrupt:
        print("\n==> interrupted: cleaning up, no results written", flush=True)
        return 130
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        _delete_vhost(vhost)
    machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    write_results(results, machine, errors, args.output_dir)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
