"""The steering committee's quarterly report: the same tables as HTML that prints well (with
its charts drawn as SVG, no script), as PDF (fpdf2, pure Python: no browser or system library
on the service's machine) and as CSV (one row per figure, for a spreadsheet).
"""
import csv
import io
from datetime import datetime, time, timedelta
from html import escape

from fpdf import FPDF

from .domain import NETWORK_TIME

CHART_COLOURS = ("#1f4e79", "#2e7d32", "#ef6c00", "#6a1b9a")
TREND = (("opened", "opened"), ("diagnostic_completed", "diagnosed"),
         ("enrolment_confirmed", "enrolled"), ("outcome_recorded", "with an outcome"))


def quarter_bounds(quarter):
    """(first day, the day after the last) of ``2026-Q2``."""
    year, number = int(quarter[:4]), int(quarter[-1])
    first = datetime(year, 3 * number - 2, 1).date()
    after = datetime(year + (number == 4), 1 if number == 4 else 3 * number + 1, 1).date()
    return first, after


def quarter_end(quarter):
    """The last moment of the quarter, in the network's time."""
    _, after = quarter_bounds(quarter)
    return datetime.combine(after, time(0), NETWORK_TIME) - timedelta(seconds=1)


def previous_quarters(quarter, count):
    year, number = int(quarter[:4]), int(quarter[-1])
    found = []
    for _ in range(count):
        found.append("{}-Q{}".format(year, number))
        year, number = (year - 1, 4) if number == 1 else (year, number - 1)
    return list(reversed(found))


# --- the report's tables ------------------------------------------------------------------------

def tables(report):
    """The report as titled tables: (title, column titles, rows); the three formats show these."""
    found = [("Funnel, {}".format(report["quarter"]),
              ["stage", "cases", "previous quarter", "from the stage before",
               "median days"],
              [[stage["stage"].replace("_", " "), stage["cases"],
                report["previous_funnel"][index]["cases"],
                _percent(stage["conversion_from_previous"]),
                stage["median_days"]["days"] if stage["median_days"] else ""]
               for index, stage in enumerate(report["funnel"])])]
    found.append(("Objectives {}, at the quarter's end".format(report["year"]),
                  ["partner", "measure", "target", "actual", "forecast", "will it be met"],
                  [[line["partner"], line["measure"], line["target"], line["actual"],
                    line["forecast"], "yes" if line["on_track"] else "not at this pace"]
                   for line in report["objectives"]]))
    found.append(("Responsiveness: referred firms taken in charge",
                  ["holding partner", "referred", "within 3 working days",
                   "within 5 working days", "quarter before (5)", "a year before (5)"],
                  [[line["value"], line["current"]["referred"],
                    _percent(line["current"]["within_3_working_days"]),
                    _percent(line["current"]["within_5_working_days"]),
                    _percent(line["previous_quarter"]["within_5_working_days"]),
                    _percent(line["a_year_before"]["within_5_working_days"])]
                   for line in report["responsiveness"]]))
    found.append(("By region", ["region", "opened", "diagnosed", "enrolled", "completed"],
                  [[region] + [counts.get(measure, 0) for measure in (
                      "opened", "diagnostic_completed", "enrolment_confirmed",
                      "enrolment_completed")]
                   for region, counts in sorted(report["by_region"].items())]))
    found.append(("By partner (what each did)",
                  ["partner", "identified", "diagnosed", "accompanied", "export staff hired",
                   "outcomes", "confirmed by the firm", "corrected", "satisfaction (1-5)"],
                  [[partner, counts.get("opened", 0), counts.get("diagnostic_completed", 0),
                    counts.get("programme_enrolled", 0), counts.get("export_staff_hired", 0),
                    counts.get("outcomes", 0), counts.get("outcomes_confirmed", 0),
                    counts.get("outcomes_corrected", 0),
                    round(counts["usefulness_points"] / counts["surveys_answered"], 1)
                    if counts.get("surveys_answered") else ""]
                   for partner, counts in sorted(report["by_partner"].items()) if partner]))
    found.append(("Partners needing attention", ["partner", "flag", "value", "threshold",
                                                 "figures"],
                  [[flag["partner"], flag["flag"].replace("_", " "), flag["value"],
                    flag["threshold"], ", ".join("{} {}".format(name.replace("_", " "), value)
                                                 for name, value in flag["figures"].items())]
                   for flag in report["attention"]]))
    return found


def _percent(share):
    return "" if share is None else "{:.0%}".format(share)


# --- charts, as SVG -----------------------------------------------------------------------------

def funnel_svg(funnel, width=640, bar_height=22):
    top = max([stage["cases"] for stage in funnel] + [1])
    label_width, rows = 170, []
    for index, stage in enumerate(funnel):
        y = index * (bar_height + 6)
        length = (width - label_width - 60) * stage["cases"] / top
        rows.append(
            '<text x="{lx}" y="{ty}" text-anchor="end" font-size="12">{label}</text>'
            '<rect x="{x}" y="{y}" width="{w:.1f}" height="{h}" fill="{c}"/>'
            '<text x="{vx:.1f}" y="{ty}" font-size="12">{value}</text>'.format(
                lx=label_width - 8, ty=y + bar_height - 6, label=escape(
                    stage["stage"].replace("_", " ")), x=label_width, y=y, w=length,
                h=bar_height, c=CHART_COLOURS[0], vx=label_width + length + 6,
                value=stage["cases"]))
    height = len(funnel) * (bar_height + 6)
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            'viewBox="0 0 {w} {h}" role="img" aria-label="cases at each stage">{rows}</svg>'
            .format(w=width, h=height, rows="".join(rows)))


def trend_svg(trend, width=640, height=240):
    quarters = [row["quarter"] for row in trend]
    top = max([row.get(measure, 0) for row in trend for measure, _ in TREND] + [1])
    left, right, bottom, upper = 40, 40, 40, 20
    step = (width - left - right) / max(len(quarters) - 1, 1)

    def point(index, value):
        return (left + index * step,
                height - bottom - (height - bottom - upper) * value / top)

    parts = ['<line x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="#999"/>'.format(
        l=left, r=width - right, b=height - bottom)]
    for index, quarter in enumerate(quarters):
        x, _ = point(index, 0)
        parts.append('<text x="{:.1f}" y="{}" font-size="11" text-anchor="middle">{}</text>'
                     .format(x, height - bottom + 16, escape(quarter)))
    for colour, (measure, label) in zip(CHART_COLOURS, TREND):
        points = " ".join("{:.1f},{:.1f}".format(*point(index, row.get(measure, 0)))
                          for index, row in enumerate(trend))
        parts.append('<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>'.format(
            colour, points))
    for index, (colour, (_, label)) in enumerate(zip(CHART_COLOURS, TREND)):
        x = left + index * 140
        parts.append('<rect x="{}" y="{}" width="10" height="10" fill="{}"/>'
                     '<text x="{}" y="{}" font-size="11">{}</text>'.format(
                         x, height - 12, colour, x + 14, height - 3, escape(label)))
    parts.append('<text x="4" y="{}" font-size="11">{}</text>'.format(upper, top))
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            'viewBox="0 0 {w} {h}" role="img" aria-label="the pathway, quarter by quarter">'
            '{parts}</svg>'.format(w=width, h=height, parts="".join(parts)))


# --- the three formats --------------------------------------------------------------------------

HTML_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Parcours: quarterly report {quarter}</title>
<style>
  body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 1rem auto;
         color: #1e1e1e; }}
  table {{ border-collapse: collapse; width: 100%; margin-bottom: 1.5rem; }}
  td, th {{ padding: .3rem .5rem; border-bottom: 1px solid #ccc; text-align: left; }}
  th {{ background: #eef2f7; }}
  figure {{ margin: 1rem 0; break-inside: avoid; }}
  section {{ break-inside: avoid; }}
  @page {{ size: A4; margin: 15mm; }}
  @media print {{ body {{ max-width: none; margin: 0; }} a {{ color: inherit; }} }}
</style></head><body>
<h1>Quarterly report of the export partnership, {quarter}</h1>
<p>{first} to {last}; figures as of {generated}, built from the network's events.</p>
<figure><figcaption>Cases at each stage, {quarter}</figcaption>{funnel_svg}</figure>
<figure><figcaption>The pathway, quarter by quarter</figcaption>{trend_svg}</figure>
{sections}
</body></html>
"""


def as_html(report):
    first, after = quarter_bounds(report["quarter"])
    sections = []
    for title, columns, rows in tables(report):
        body = "".join("<tr>{}</tr>".format("".join("<td>{}</td>".format(escape(str(cell)))
                                                    for cell in row)) for row in rows) or (
            '<tr><td colspan="{}">none</td></tr>'.format(len(columns)))
        sections.append("<section><h2>{}</h2><table><thead><tr>{}</tr></thead><tbody>{}"
                        "</tbody></table></section>".format(
                            escape(title), "".join('<th scope="col">{}</th>'.format(
                                escape(column)) for column in columns), body))
    return HTML_PAGE.format(quarter=escape(report["quarter"]), first=first,
                            last=after - timedelta(days=1), generated=report["generated_at"],
                            funnel_svg=funnel_svg(report["funnel"]),
                            trend_svg=trend_svg(report["trend"]), sections="\n".join(sections))


def as_csv(report):
    """One row per figure: table, row, column, value (semicolons, UTF-8 with a BOM: a French
    spreadsheet opens it as it is)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["quarter", "table", "row", "column", "value"])
    for title, columns, rows in tables(report):
        for row in rows:
            for column, cell in zip(columns[1:], row[1:]):
                writer.writerow([report["quarter"], title, row[0], column, cell])
    return out.getvalue()


def _latin(text):
    """fpdf2's core fonts speak Latin-1: other characters are written as close as they get."""
    return str(text).replace("\u2019", "'").replace("\u0153", "oe").replace(
        "\u2013", "-").encode("latin-1", "replace").decode("latin-1")


def as_pdf(report):
    pdf = FPDF(orientation="portrait", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=16)
    pdf.multi_cell(0, 9, _latin("Quarterly report of the export partnership, {}".format(
        report["quarter"])), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    first, after = quarter_bounds(report["quarter"])
    pdf.multi_cell(0, 5, _latin("{} to {}; figures as of {}, built from the network's "
                                "events.".format(first, after - timedelta(days=1),
                                                 report["generated_at"])),
                   new_x="LMARGIN", new_y="NEXT")
    for svg in (funnel_svg(report["funnel"]), trend_svg(report["trend"])):
        pdf.image(io.BytesIO(svg.encode()), w=170)
        pdf.ln(3)
    for title, columns, rows in tables(report):
        pdf.set_font("Helvetica", style="B", size=12)
        pdf.ln(2)
        pdf.multi_cell(0, 7, _latin(title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=8)
        with pdf.table(first_row_as_headings=True, line_height=5) as table:
            table.row([_latin(column) for column in columns])
            for row in rows or [["none"] + [""] * (len(columns) - 1)]:
                table.row([_latin(cell) for cell in row])
    return bytes(pdf.output())


FORMATS = {"html": ("text/html; charset=utf-8", as_html),
           "pdf": ("application/pdf", as_pdf),
           "csv": ("text/csv; charset=utf-8", as_csv)}

