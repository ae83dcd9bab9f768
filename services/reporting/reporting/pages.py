"""Reporting's web pages, rendered on the server (they work without JavaScript)."""
from html import escape

DASHBOARD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Parcours: the pathway funnel</title>
<style>body{{font-family:sans-serif;max-width:48rem;margin:2rem auto}}
table{{border-collapse:collapse;width:100%}}td,th{{padding:.4rem;border-bottom:1px solid #ccc}}
td.number{{text-align:right}}</style></head><body>
<header><p>Signed in as <strong id="person">{person}</strong> of
<strong id="partner">{partner}</strong> &middot; <a href="/logout">sign out</a></p></header>
<h1>The pathway funnel</h1>
<table id="funnel"><thead><tr><th scope="col">stage</th><th scope="col">cases</th>
<th scope="col">share of the cases opened</th></tr></thead><tbody>
{rows}
</tbody></table></body></html>
"""


def dashboard(stages, person, partner):
    rows = "\n".join(
        '<tr><td>{}</td><td class="number">{}</td><td class="number">{}</td></tr>'.format(
            escape(stage["stage"]), stage["cases"],
            "" if stage["share_of_opened"] is None
            else "{:.0%}".format(stage["share_of_opened"]))
        for stage in stages)
    return DASHBOARD.format(person=escape(person), partner=escape(partner), rows=rows)
