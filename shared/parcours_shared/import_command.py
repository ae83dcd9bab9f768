"""``parcours import members.csv``: send a member list to intake and follow its import, with a
progress bar, then save the rejected rows beside the file.

Exit code: 0 when the import is done (rejected rows are saved and counted), 1 when intake
refused the file or the import failed, 2 when intake cannot be reached.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

BAR_WIDTH = 30


def run_import(path, intake_url, token, out=sys.stderr, poll_seconds=0.5):
    url = intake_url.rstrip("/")
    headers = {"Authorization": "Bearer " + token}
    try:
        with open(path, "rb") as upload:
            request = urllib.request.Request(
                "{}/imports?{}".format(url, urllib.parse.urlencode(
                    {"filename": os.path.basename(path)})),
                data=upload, method="POST", headers=dict(
                    headers, **{"Content-Type": "text/csv",
                                "Content-Length": str(os.path.getsize(path))}))
            job = _json(request)
        while job["status"] == "running":
            _show(job, out)
            time.sleep(poll_seconds)
            job = _json(urllib.request.Request("{}/imports/{}".format(url, job["id"]),
                                               headers=headers))
    except urllib.error.HTTPError as refused:
        body = _error_body(refused)
        print("\nintake refused the import ({}): {}".format(
            refused.code, "; ".join(sum((body.get("fields") or {}).values(), []))
            or body.get("message", "")), file=out)
        return 1
    except urllib.error.URLError as unreachable:
        print("cannot reach intake at {} ({}): is it running? (make run)".format(
            url, unreachable.reason), file=out)
        return 2
    _show(job, out)
    print(file=out)
    if job["status"] == "failed":
        print("the import failed: {}".format(job["error"]), file=out)
        return 1
    print("{rows_read} rows: {opened} firms new to the single window, {already_known} already "
          "known, {repeated} repeated in the file, {rejected} rejected".format(**job), file=out)
    if job["rejected"]:
        saved = os.path.splitext(path)[0] + ".rejected.csv"
        with urllib.request.urlopen(urllib.request.Request(
                "{}/imports/{}/rejected.csv".format(url, job["id"]), headers=headers)) as rows, \
                open(saved, "wb") as copy:
            copy.write(rows.read())
        print("the rejected rows, with their line and what to fix: {}".format(saved), file=out)
    return 0


def _json(request):
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _error_body(error):
    try:
        return json.loads(error.read())
    except ValueError:
        return {}


def _show(job, out):
    done = int(job["progress"] * BAR_WIDTH)
    out.write("\r[{}{}] {:3.0f}%  {:,} rows, {:,} opened, {:,} rejected".format(
        "#" * done, "-" * (BAR_WIDTH - done), job["progress"] * 100, job["rows_read"],
        job["opened"], job["rejected"]))
    out.flush()
