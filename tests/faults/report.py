"""Write the fault suite's results (JSON lines from `make test-faults`) into its README table."""
import json
import platform
import subprocess
import sys
from datetime import date

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def table(rows):
    lines = ["| fault | cases driven | events | lost | double-applied | recovery time | run |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in rows:
        lines.append("| {fault} | {cases} | {events} | {lost} | {double_applied} | "
                     "{recovery_s:.1f} s | {run_s:.0f} s |".format(**row))
    return "\n".join(lines)


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    try:
        rabbit = subprocess.run(["rabbitmqctl", "version"], capture_output=True, text=True,
                                timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        rabbit = "?"
    return "{} cores ({}), Python {}, RabbitMQ {}, PostgreSQL via DATABASE_URL".format(
        subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip(), cpu,
        platform.python_version(), rabbit)


def main(results_path, readme_path):
    rows = [json.loads(line) for line in open(results_path) if line.strip()]
    block = "\n".join([
        BEGIN,
        "Run of {} on {}: `make test-faults` ({}).".format(date.today().isoformat(), machine(),
                                                         "PARCOURS_FAULT_CASES={}".format(
                                                             rows[0]["cases"]) if rows else ""),
        "",
        table(rows),
        END])
    readme = open(readme_path).read()
    start, end = readme.index(BEGIN), readme.index(END) + len(END)
    open(readme_path, "w").write(readme[:start] + block + readme[end:])
    print(table(rows))
    if not all(row["holds"] for row in rows):
        sys.exit("some invariants did not hold: see the table")


if __name__ == "__main__":
    main(*sys.argv[1:3])
