"""Reporting's web pages, rendered on the server from template files (they show their figures
without JavaScript; the dashboard's script then keeps them up to date), and the files they
load, served by the service itself: no CDN, the machines may be offline."""
import functools
import os

import jinja2

from parcours_shared.checkout import checkout_path

HERE = os.path.dirname(__file__)
# the dashboard's files: its own script, and Chart.js from the npm registry (tools/dashboard)
ASSETS = {"dashboard.js": "text/javascript", "chart.umd.min.js": "text/javascript"}


@functools.lru_cache(maxsize=None)
def _templates():
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(os.path.join(HERE, "templates")), autoescape=True,
        undefined=jinja2.StrictUndefined)
    environment.globals["percent"] = percent
    return environment


def percent(share):
    return "" if share is None else "{:.0%}".format(share)


def dashboard(data, person, partner):
    return _templates().get_template("dashboard.html").render(data=data, person=person,
                                                              partner=partner)


def asset_path(config, name):
    """Where an asset's file is: the service's own, or Chart.js's (``PARCOURS_DASHBOARD_ASSETS``,
    else this checkout's tools/dashboard); None for a name that is not an asset."""
    if name not in ASSETS:
        return None
    if name == "dashboard.js":
        return os.path.join(HERE, "static", name)
    folder = config.get("PARCOURS_DASHBOARD_ASSETS") or checkout_path(
        "tools", "dashboard", "node_modules", "chart.js", "dist")
    return os.path.join(folder or "", name)
