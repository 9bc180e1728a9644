#!/usr/bin/env python3
"""flowprof sweep: the load command at each level, one attach, per-step windows,
the model fitted on the lowest step against every other step (docs/sweep.md).

Targets: tests/targets/sweep_server.c (a thread pool of known size on
loopback) driven by tests/targets/pool_loadgen.c (closed loop). Real servers at
saturation are the bench's (bench/lib/saturation.py). Run as root (real
probes).
"""
import html.parser
import json
import math
import os
import re
import signal
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import fptest  # noqa: E402
from fptest import eq, test  # noqa: E402

SERVER = os.path.join(fptest.TARGETS, "sweep_server")
LOADGEN = os.path.join(fptest.TARGETS, "pool_loadgen")
ARTIFACTS = os.path.join(fptest.BUILD, "test-artifacts")
WORKERS = 4
SERVICE_US = 2000
USERS = [1, 2, 4, 8, 16, 32]

POOL_FLOWS = """\
bundles:
  pool:
    exe: %s
    handlers:
      request: handle_request
      work: do_work
flows:
  request:
    entry: pool.request
    calls:
      - pool.request -> pool.work
"""


def start_server(*args):
    p = fptest.start([SERVER, *args])
    line = fptest.read_line(p)
    m = re.match(r"ready (\d+)", line)
    if not m:
        raise AssertionError("sweep_server said %r" % line)
    return p, int(m.group(1))


def sweep(*args, timeout=300, check=True):
    return fptest.flowprof("sweep", *args, timeout=timeout, check=check)


def diag(text):
    for line in text.rstrip("\n").split("\n"):
        print("# " + line, flush=True)


def pool_sweep(d, users=USERS):
    p, port = start_server("-w", str(WORKERS), "-s", str(SERVICE_US))
    flows = fptest.write(os.path.join(d, "flows.yaml"), POOL_FLOWS % SERVER)
    out = os.path.join(d, "sweep.json")
    load = "%s -c {users} -d 3 %d" % (LOADGEN, port)
    r = sweep("-f", flows, "-p", str(p.pid), "--load", load,
              "--users", ",".join(map(str, users)), "--settle", "0.5", "-o", out, check=False)
    return p, r, out


def disturbed_steps(doc, key="users"):
    """Steps whose service time the host itself stretched: a 2 ms sleep that
    took 15% longer means the workers waited for a CPU (other processes on
    the machine), which no model of this server can know about."""
    bad = []
    for s in doc["steps"]:
        if s["status"] == "ok":
            mean = fptest.handler(s["snapshot"], "pool.request")["mean_ns"]
            if abs(mean - SERVICE_US * 1000) > 0.15 * SERVICE_US * 1000:
                bad.append("%d %s: %.2f ms" % (s[key], key, mean / 1e6))
    return bad


def structure_checks(doc):
    eq(doc["flowprof_sweep"], 1, "document version")
    eq(doc["variable"], "users", "variable")
    eq(doc["levels"], USERS, "levels")
    eq(doc["partial"], False, "partial")
    eq([s["status"] for s in doc["steps"]], ["ok"] * len(USERS), "step status")
    eq([s["users"] for s in doc["steps"]], USERS, "step users")
    eq([s["exit_status"] for s in doc["steps"]], [0] * len(USERS), "load exit status")
    fit = doc["fit"]
    eq(fit["step"], 0, "fitted on the lowest step")
    eq(fit["bottleneck"], "pool", "bottleneck")
    pool = [s for s in fit["stations"] if s["name"] == "pool"][0]
    eq(pool["servers"], WORKERS, "pool servers observed over the sweep")
    # each step keeps its handler data: a snapshot of exactly its window
    for s in doc["steps"]:
        snap = s["snapshot"]
        h = fptest.handler(snap, "pool.request")
        eq(fptest.flow(snap, "request")["invocations"], h["calls"], "invocations")
        fptest.near(snap["duration_s"], s["window_s"], 1e-9, "window")
        fptest.near(s["measured"]["throughput_per_s"], h["calls"] / s["window_s"], 1e-3,
                    "throughput of step %d" % s["users"])
        eq(s["predicted"]["bottleneck"]["station"], "pool", "bottleneck at %d" % s["users"])
    eq(doc["summary"]["saturated"], True, "saturated within the sweep")
    return pool


def server_clock(p):
    """The sweep_server's own mean service time (ns) by clients connected."""
    p.send_signal(signal.SIGUSR1)
    line = fptest.read_line(p)
    return {e["clients"]: e["service_ns"] / e["requests"]
            for e in json.loads(line)["by_clients"]}


def accuracy_problems(doc, own_service_ns):
    """What the issue asks of the model: saturation within 10%, the knee
    within one step, and the pool's ceiling WORKERS / service time, the
    service time as the server itself measured it at the fitted step (a 2 ms
    sleep takes longer than 2 ms, by how much depends on the host)."""
    sm = doc["summary"]
    diag("saturation: measured %.1f/s, predicted %.1f/s, error %+.1f%%; knee: measured "
         "%.2f users (step %s), predicted %.2f users (step %s)"
         % (sm["measured_saturation_per_s"], sm["predicted_saturation_per_s"],
            sm["saturation_error"] * 100, sm["measured_knee_users"], sm["measured_knee_step"],
            sm["predicted_knee_users"], sm["predicted_knee_step"]))
    problems = []
    if abs(sm["saturation_error"]) > 0.10:
        problems.append("predicted saturation %.1f/s is not within 10%% of the measured "
                        "%.1f/s" % (sm["predicted_saturation_per_s"],
                                    sm["measured_saturation_per_s"]))
    if sm["measured_knee_step"] is None or sm["predicted_knee_step"] is None or \
            abs(sm["measured_knee_step"] - sm["predicted_knee_step"]) > 1:
        problems.append("knee steps %s (measured) and %s (predicted) are more than one step "
                        "apart" % (sm["measured_knee_step"], sm["predicted_knee_step"]))
    xmax = WORKERS / (own_service_ns / 1e9)
    diag("the server's own service time at %d user: %.3f ms; %d workers: %.1f/s"
         % (USERS[0], own_service_ns / 1e6, WORKERS, xmax))
    if abs(sm["predicted_saturation_per_s"] - xmax) > 0.10 * xmax:
        problems.append("X_max %.1f/s is not within 10%% of %d workers / %.0f us (the "
                        "server's own service time)" % (sm["predicted_saturation_per_s"],
                                                        WORKERS, own_service_ns / 1e3))
    return problems


@test
def pool_sweep_matches_the_model():
    """A 4-worker pool swept from 1 user to 8x its size: the model fitted on
    1 user predicts saturation within 10% and the knee within one step.
    A run that misses only because other processes on the host stretched
    the server's own 2 ms sleeps is run again (three attempts)."""
    for attempt in range(3):
        d = fptest.tmpdir()
        p, r, out = pool_sweep(d)
        eq(r.returncode, 0, "exit status\n" + r.stderr)
        doc = fptest.load_json(out)
        diag(r.stdout)
        pool = structure_checks(doc)
        problems = accuracy_problems(doc, server_clock(p)[USERS[0]])
        bad = disturbed_steps(doc)
        if not problems:
            break
        if not bad or attempt == 2:
            raise AssertionError("; ".join(problems) + (
                " (the host stretched the service time in every attempt: %s)"
                % ", ".join(bad) if bad else ""))
        diag("attempt %d: %s; the host stretched the service time (%s); again"
             % (attempt + 1, "; ".join(problems), ", ".join(bad)))
        p.kill()
    eq(p.poll(), None, "the server still runs")

    # report prints the same table from the document
    rep = fptest.flowprof("report", out)
    eq(rep.stdout, r.stdout, "report of the sweep document")
    rj = fptest.flowprof("report", out, "--json")
    eq(json.loads(rj.stdout), doc, "report --json")

    # the fitted model goes to JMT with the servers the sweep saw
    jmva = os.path.join(d, "model.jmva")
    fptest.flowprof("export", out, "--jmt", jmva, "--users", "8")
    import xml.etree.ElementTree as ET
    root = ET.parse(jmva).getroot()
    eq([(c.tag, c.get("name"), c.get("population")) for c in root.iter("closedclass")],
       [("closedclass", "request", "8")], "classes")
    st = {s.get("name"): s for s in root.iter("listation")}
    eq(st["pool"].get("servers"), str(WORKERS), "pool servers in the JMVA file")
    got = float(st["pool"].find("servicetimes")[0].text) * \
        float(st["pool"].find("visits")[0].text) * 1e9
    # JMVA's product-form network gets each station's exclusive demand (the
    # pool's off-CPU own work; its on-CPU time is the cpu station's)
    fptest.near(got, pool["demand_exclusive_ns"], 1e-9, "pool demand through the JMVA file")


_partial = {}


def partial_sweep():
    """A 2-worker pool swept at 1, 2, 4 and 8 users whose load command fails at
    4 users. Run once, by the first test that needs it: the failing step's
    test and the HTML page's test share its document."""
    if not _partial:
        d = fptest.tmpdir()
        p, port = start_server("-w", "2", "-s", "1000")
        flows = fptest.write(os.path.join(d, "flows.yaml"), POOL_FLOWS % SERVER)
        out = os.path.join(d, "sweep.json")
        load = ("if [ {users} -ge 4 ]; then echo 'no more users' >&2; exit 3; fi; "
                "exec %s -c {users} -d 1.5 %d" % (LOADGEN, port))
        r = sweep("-f", flows, "-p", str(p.pid), "--load", load, "--users", "1,2,4,8",
                  "--settle", "0.3", "-o", out, check=False)
        _partial.update(d=d, out=out, r=r)
    return _partial["d"], _partial["out"], _partial["r"]


@test
def failing_step_marks_the_sweep_partial():
    """The load command fails at 4 users: steps 1 and 2 are kept, 4 is failed
    with its exit status and output, the sweep stops and is partial (exit 1)."""
    d, out, r = partial_sweep()
    eq(r.returncode, 1, "exit status\n" + r.stderr)
    doc = fptest.load_json(out)
    eq(doc["partial"], True, "partial")
    eq(doc["interrupted"], False, "interrupted")
    eq([s["status"] for s in doc["steps"]], ["ok", "ok", "failed"], "steps")
    bad = doc["steps"][2]
    eq(bad["exit_status"], 3, "exit status of the failed load")
    eq(bad["reason"], "the load command exited with status 3", "reason")
    eq(bad["output_tail"], "no more users", "output tail")
    eq(bad["measured"], None, "nothing measured for the failed step")
    eq(bad["snapshot"], None, "no snapshot for the failed step")
    eq(doc["stop_reason"], "the step at 4 users failed: the load command exited with "
       "status 3", "stop reason")
    for s in doc["steps"][:2]:
        if s["snapshot"]["handlers"][0]["calls"] <= 0:
            raise AssertionError("step %d kept no handler data" % s["users"])
    eq(doc["fit"]["step"], 0, "fit")
    if "flowprof: error: 4 users: the load command exited with status 3" not in r.stderr:
        raise AssertionError("no error line for the failed step:\n" + r.stderr)
    if "no more users" not in r.stderr:
        raise AssertionError("the failed load's output is not shown:\n" + r.stderr)
    if "(PARTIAL: not every step was measured)" not in r.stdout:
        raise AssertionError("the table does not say partial:\n" + r.stdout)
    if not re.search(r"^     4  failed  the load command exited with status 3$", r.stdout, re.M):
        raise AssertionError("the failed step's row:\n" + r.stdout)


class PageParser(html.parser.HTMLParser):
    """The parts of the sweep's page a test checks: each chart's attributes,
    points and line; each table row's cells (data-field, data-value)."""

    def __init__(self):
        super().__init__()
        self.charts, self.rows, self.tags = {}, {}, []
        self.svg = self.table = self.row = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "svg":
            self.svg = {"attrs": a, "points": [], "lines": [], "marks": [], "unmeasured": []}
            self.charts[a.get("id")] = self.svg
        elif self.svg is not None and tag == "circle" and a.get("class") == "measured":
            self.svg["points"].append(a)
        elif self.svg is not None and tag == "polyline":
            self.svg["lines"].append(a)
        elif self.svg is not None and tag == "g" and "mark" in a.get("class", "").split():
            self.svg["marks"].append(a)
        elif self.svg is not None and tag == "g" and a.get("class") == "unmeasured":
            self.svg["unmeasured"].append(a)
        elif tag == "table":
            self.table = a.get("id")
            self.rows[self.table] = []
        elif tag == "tr" and self.table:
            self.row = {"attrs": a, "cells": {}}
            self.rows[self.table].append(self.row)
        elif tag == "td" and self.row is not None and "data-field" in a:
            self.row["cells"][a["data-field"]] = a

    def handle_endtag(self, tag):
        if tag == "svg":
            self.svg = None
        elif tag == "table":
            self.table = self.row = None


def parse_page(path):
    p = PageParser()
    with open(path, encoding="utf-8") as f:
        p.feed(f.read())
    return p


def lookup(obj, path):
    """doc["a"]["b"]["c"] for "a.b.c"; None when a part is missing or null."""
    for key in path.split("."):
        if not isinstance(obj, dict) or obj.get(key) is None:
            return None
        obj = obj[key]
    return obj


def same_value(shown, want, what):
    """A cell's or point's data-value against the document's value: numbers
    exactly (the page writes the shortest form that reads back the same)."""
    if want is None:
        eq(shown, "null", what)
    elif isinstance(want, (int, float)) and not isinstance(want, bool):
        eq(float(shown), float(want), what)
    else:
        eq(shown, want, what)


def chart_xy(chart, level, value):
    """Where the chart puts (level, value), from its own scale attributes."""
    a = chart["attrs"]
    x0, x1 = float(a["data-x-min"]), float(a["data-x-max"])
    y0, y1 = float(a["data-y-min"]), float(a["data-y-max"])
    left, right = float(a["data-plot-left"]), float(a["data-plot-right"])
    top, bottom = float(a["data-plot-top"]), float(a["data-plot-bottom"])
    if a["data-x-scale"] == "log":
        fx = (math.log2(level) - math.log2(x0)) / (math.log2(x1) - math.log2(x0))
    else:
        fx = (level - x0) / (x1 - x0)
    return left + fx * (right - left), bottom - (value - y0) / (y1 - y0) * (bottom - top)


def near_xy(got, want, what):
    if abs(got[0] - want[0]) > 0.011 or abs(got[1] - want[1]) > 0.011:
        raise AssertionError("%s: at %r, want %r" % (what, got, want))


def check_chart(chart, doc, measured_key, predicted_key, what):
    steps = doc["steps"]
    ok = [(i, s) for i, s in enumerate(steps) if s["status"] == "ok"]
    # one point per measured step, where its level and value put it
    eq(len(chart["points"]), len(ok), what + ": points")
    for pt, (i, s) in zip(chart["points"], ok):
        eq(int(pt["data-step"]), i, what + ": step of a point")
        same_value(pt["data-level"], s["users"], what + ": level of a point")
        same_value(pt["data-value"], s["measured"][measured_key], what + ": value at %d users"
                   % s["users"])
        near_xy((float(pt["cx"]), float(pt["cy"])),
                chart_xy(chart, s["users"], s["measured"][measured_key]),
                what + ": point at %d users" % s["users"])
    # the model: one polyline with one vertex per predicted step
    pred = [s for s in steps if s["predicted"] and s["predicted"][predicted_key] is not None]
    eq(len(chart["lines"]), 1, what + ": predicted lines")
    line = chart["lines"][0]
    eq(line["class"], "predicted", what + ": class of the line")
    vertices = [tuple(map(float, v.split(","))) for v in line["points"].split()]
    eq(len(vertices), len(pred), what + ": vertices of the predicted line")
    eq(len(pred) >= 2, True, what + ": at least two predicted steps")
    for v, lv, val, s in zip(vertices, line["data-levels"].split(), line["data-values"].split(),
                             pred):
        same_value(lv, s["users"], what + ": level of a vertex")
        same_value(val, s["predicted"][predicted_key], what + ": prediction at %d users"
                   % s["users"])
        near_xy(v, chart_xy(chart, s["users"], s["predicted"][predicted_key]),
                what + ": vertex at %d users" % s["users"])
    # the steps that were not measured: a mark on the axis, not a point
    eq([(u["data-status"], float(u["data-level"])) for u in chart["unmeasured"]],
       [(s["status"], float(s["users"])) for s in steps if s["status"] != "ok"],
       what + ": steps not measured")
    # the knee, both ways, wherever it falls within the levels
    sm = doc["summary"]
    lo, hi = float(chart["attrs"]["data-x-min"]), float(chart["attrs"]["data-x-max"])
    want = {}
    for mark, key in (("knee", "measured_knee_users"), ("n-star", "predicted_knee_users")):
        if sm[key] is not None and lo <= sm[key] <= hi:
            want[mark] = sm[key]
    got = {m["data-mark"]: float(m["data-value"]) for m in chart["marks"]
           if m["data-mark"] in ("knee", "n-star")}
    eq(got, want, what + ": knee marks")
    return {m["data-mark"]: float(m["data-value"]) for m in chart["marks"]}


def hostile_sweep(doc, d):
    """The document with names no page should trust."""
    bad = json.loads(json.dumps(doc))
    station = 'po<o>l"&\''
    bad["host"] = "<script>window.__pwned=3</script>"
    bad["flow_file"] = '/srv/<img src=x onerror="window.__pwned=2">.yaml'
    bad["load"] += " # </code><script>window.__pwned=1</script>"
    bad["stop_reason"] = "st<b>op</b> \u202e"
    bad["fit"]["bottleneck"] = station
    for st in bad["fit"]["stations"]:
        if st["name"] == "pool":
            st["name"] = station
    for s in bad["steps"]:
        s["command"] += " '<iframe src=\"https://evil.example/\">'"
        if s["predicted"]:
            s["predicted"]["bottleneck"]["station"] = station
        if s["status"] != "ok":
            s["reason"] = "<svg onload=window.__pwned=5>"
            s["output_tail"] = "first\n<script>window.__pwned=4</script>\nlast"
    path = os.path.join(d, "hostile-sweep.json")
    with open(path, "w") as f:
        json.dump(bad, f)
    return path, bad, station


@test
def html_page_of_a_sweep():
    """report SWEEP.json --html: throughput and response time against the
    users, one point per measured step where its figures put it, the model
    as a line with one vertex per predicted step, the knee and the
    saturation marked; the table's cells are report --json's values; the
    failed step is flagged; nothing is loaded, no script runs, every name
    from the document is escaped. In headless Chromium: no script errors,
    no requests but the page; a screenshot in build/test-artifacts/."""
    import viewslib
    d, out, r = partial_sweep()
    eq(r.returncode, 1, "exit status of the partial sweep\n" + r.stderr)
    page = os.path.join(d, "sweep.html")
    rep = fptest.flowprof("report", out, "--html", page)
    eq(rep.stdout, "", "stdout of report --html")
    eq(os.stat(page).st_mode & 0o777, 0o600, "mode of the page")
    doc = json.loads(fptest.flowprof("report", out, "--json").stdout)
    eq([s["status"] for s in doc["steps"]], ["ok", "ok", "failed"], "steps of the document")
    raw = open(page, encoding="utf-8").read()
    refs = re.findall(r'https?:|(?:src|href)\s*=|url\(|@import|<link|<script|<iframe', raw, re.I)
    eq(refs, [], "references to other files or hosts, or scripts")
    p = parse_page(page)

    tp = check_chart(p.charts["throughput-chart"], doc, "throughput_per_s", "throughput_per_s",
                     "throughput chart")
    eq(tp.get("x-max"), doc["summary"]["predicted_saturation_per_s"], "X_max mark")
    eq(tp.get("saturation"), doc["summary"]["measured_saturation_per_s"], "saturation mark")
    check_chart(p.charts["response-chart"], doc, "response_ns", "response_ns",
                "response chart")
    eq(p.charts["throughput-chart"]["attrs"]["data-y-unit"], "1/s", "throughput unit")
    if "response time (ms)" not in raw and "response time (\u00b5s)" not in raw:
        raise AssertionError("the response-time axis names no unit")
    if "throughput (1/s)" not in raw or "users (N)" not in raw:
        raise AssertionError("an axis without its title")

    # one row per step, each cell the document's value
    rows = [row for row in p.rows["steps-table"] if "data-step" in row["attrs"]]
    eq(len(rows), len(doc["steps"]), "rows of the steps table")
    for row, s in zip(rows, doc["steps"]):
        cells = row["cells"]
        for field in ("users", "status", "measured.throughput_per_s",
                      "predicted.throughput_per_s", "error.throughput", "measured.response_ns",
                      "predicted.response_ns", "error.response", "predicted.bottleneck.station",
                      "predicted.bottleneck.utilization", "exit_status", "window_s"):
            if field not in cells:
                raise AssertionError("no %s cell at %s users" % (field, s["users"]))
            same_value(cells[field]["data-value"], lookup(s, field),
                       "%s at %s users" % (field, s["users"]))
        eq(int(cells["exit_status"]["data-signal"]), s["signal"], "signal at %s users"
           % s["users"])
        eq(row["attrs"]["class"], "failed" if s["status"] != "ok" else
           "fit" if s is doc["steps"][doc["fit"]["step"]] else "ok", "class of the row")
    for row in p.rows["summary-table"]:
        for field, cell in row["cells"].items():
            same_value(cell["data-value"], doc["summary"][field], "summary " + field)
    shown = {f for row in p.rows["summary-table"] for f in row["cells"]}
    eq(shown >= {"measured_saturation_per_s", "predicted_saturation_per_s",
                 "saturation_error", "measured_knee_users", "predicted_knee_users",
                 "measured_knee_step", "predicted_knee_step"}, True,
       "the run's figures in the summary table: %s" % sorted(shown))
    if 'id="partial"' not in raw or "the step at 4 users failed" not in raw:
        raise AssertionError("the page does not say the sweep is partial")

    # hostile names: escaped in the file, text in the browser
    hpath, bad, station = hostile_sweep(doc, d)
    hpage = os.path.join(d, "hostile.html")
    fptest.flowprof("report", hpath, "--html", hpage)
    hraw = open(hpage, encoding="utf-8").read()
    for s in ("<script", "<img", "<iframe", "<svg onload", "<b>op", "<o>l", 'po<o>l"'):
        if s in hraw:
            raise AssertionError("unescaped %r in the page" % s)

    os.makedirs(ARTIFACTS, exist_ok=True)
    b = viewslib.Browser(width=1300, height=1500)
    try:
        b.call("Log.enable", session=b.session)
        b.call("Network.enable", session=b.session)
        url = "file://" + urllib.parse.quote(page)
        eq(b.open(url), "ready", "state of the page")
        b.screenshot(os.path.join(ARTIFACTS, "sweep-page.png"))
        # the page as drawn: a point per measured step in each chart
        eq(b.eval("document.querySelectorAll('svg.chart circle.measured').length"),
           2 * sum(s["status"] == "ok" for s in doc["steps"]), "points drawn")
        eq(b.eval("[...document.querySelectorAll('#steps-table tbody tr')].length"),
           len(doc["steps"]), "rows drawn")
        hurl = "file://" + urllib.parse.quote(hpage)
        eq(b.open(hurl), "ready", "state of the hostile page")
        eq(b.eval("typeof window.__pwned"), "undefined", "injected script ran")
        eq(b.eval("document.querySelectorAll('script, img, iframe, svg[onload]').length"), 0,
           "injected elements")
        eq(b.eval("document.title"), "flowprof sweep: " + bad["host"], "title")
        eq(b.eval("document.getElementById('load').textContent"), bad["load"], "load shown")
        cells = b.eval("[...document.querySelectorAll('td.name')].map(td => td.textContent)")
        if station not in cells:
            raise AssertionError("station shown as text: %r" % cells)
        eq(b.eval("document.querySelector('details.output pre').textContent"),
           bad["steps"][2]["output_tail"], "the failed load's output, as text")
        eq(b.eval("document.body.innerText.includes('\\u202e')"), False,
           "a bidi override reached the page's text")
        if "\\u{202E}" not in b.eval("document.getElementById('partial').textContent"):
            raise AssertionError("the bidi override is not shown as text")
        b.screenshot(os.path.join(ARTIFACTS, "sweep-page-hostile.png"))
        b.eval("1")  # collect the events of the page's load
        errors = [e for e in b.events if e.get("method") == "Runtime.exceptionThrown" or
                  (e.get("method") == "Log.entryAdded" and
                   e["params"]["entry"]["level"] == "error") or
                  (e.get("method") == "Runtime.consoleAPICalled" and
                   e["params"]["type"] == "error")]
        eq(errors, [], "script errors, console errors or blocked loads")
        requests = [e["params"]["request"]["url"] for e in b.events
                    if e.get("method") == "Network.requestWillBeSent"]
        eq(sorted(set(requests)), sorted({url, hurl}), "requests of the pages")
        eq(b.dialogs(), [], "dialogs")
    finally:
        b.close()


@test
def report_options_that_do_not_apply_to_a_sweep():
    """--dot, --no-model and the model options on a sweep document are usage
    errors (exit 2, nothing written), not silently ignored."""
    d, out, r = partial_sweep()
    dot = os.path.join(d, "sweep.dot")
    cases = [
        (["--dot", dot], "flowprof report: --dot does not apply to a sweep document (%s): it "
         "draws the flow graph of one snapshot; --html draws the sweep's charts" % out),
        (["--html", os.path.join(d, "x.html"), "--dot", dot], None),
        (["--target", "request=100"], "flowprof report: --target does not apply to a sweep "
         "document (%s): its model was fitted on its lowest step when it ran" % out),
        (["--workers", "pool=8"], None),
        (["--users", "1,2"], None),
        (["--no-model"], None),
    ]
    for args, msg in cases:
        rr = fptest.flowprof("report", out, *args, check=False)
        eq(rr.returncode, 2, "exit status of report %s\n%s" % (args, rr.stderr))
        eq(rr.stdout, "", "stdout of report %s" % args)
        if msg:
            eq(rr.stderr.split("\n")[0], msg, "message for %s" % args)
        elif "does not apply to a sweep document" not in rr.stderr:
            raise AssertionError("report %s: %s" % (args, rr.stderr))
    eq(os.path.exists(dot), False, "a DOT file was written")
    eq(os.path.exists(os.path.join(d, "x.html")), False, "an HTML file was written")
    # what applies still works
    fptest.flowprof("report", out)
    fptest.flowprof("report", out, "--json", "-v")


@test
def ctrl_c_writes_what_was_measured():
    """SIGINT during the second step: the first step is written, the second is
    marked interrupted, the load command is stopped, exit status 130."""
    d = fptest.tmpdir()
    p, port = start_server("-w", "2", "-s", "1000")
    flows = fptest.write(os.path.join(d, "flows.yaml"), POOL_FLOWS % SERVER)
    out = os.path.join(d, "sweep.json")
    marker = os.path.join(d, "load-{users}.pid")
    load = "echo $$ > %s; exec %s -c {users} -d 1.5 %d" % (marker, LOADGEN, port)
    load2 = "echo $$ > %s; exec %s -c {users} -d 60 %d" % (marker, LOADGEN, port)
    # 1 user runs 1.5 s; 2 users would run 60 s: interrupted
    load_cmd = "if [ {users} -ge 2 ]; then %s; else %s; fi" % (load2, load)
    fp = fptest.start([fptest.FLOWPROF, "sweep", "-f", flows, "-p", str(p.pid),
                       "--load", load_cmd, "--users", "1,2", "--settle", "0.3", "-o", out],
                      text=True)
    fptest.wait_for(lambda: os.path.exists(os.path.join(d, "load-2.pid")), timeout=30,
                    what="the second step's load")
    time.sleep(1.0)
    fp.send_signal(signal.SIGINT)
    stdout, stderr = fp.communicate(timeout=30)
    eq(fp.returncode, 130, "exit status\n" + stderr)
    doc = fptest.load_json(out)
    eq([s["status"] for s in doc["steps"]], ["ok", "interrupted"], "steps")
    eq(doc["interrupted"], True, "interrupted")
    eq(doc["partial"], True, "partial")
    eq(doc["steps"][1]["reason"], "interrupted (Ctrl-C)", "reason")
    eq(doc["steps"][1]["stopped_by_sweep"], True, "load stopped by the sweep")
    with open(os.path.join(d, "load-2.pid")) as f:
        loadpid = int(f.read())
    fptest.wait_for(lambda: not os.path.exists("/proc/%d" % loadpid), timeout=5,
                    what="the load command to be stopped")
    if doc["steps"][0]["measured"]["throughput_per_s"] <= 0:
        raise AssertionError("the first step lost its measurement")
    eq(p.poll(), None, "the server still runs")


@test
def usage_errors():
    """Bad command lines exit 2 with a message naming the option."""
    d = fptest.tmpdir()
    flows = fptest.write(os.path.join(d, "flows.yaml"), POOL_FLOWS % SERVER)
    cases = [
        (["--load", "true", "--users", "1,2"],
         "flowprof sweep: --load: the command has no {users} to replace with each step's "
         "level"),
        (["--load", "x {users}", "--users", "4,2"],
         "flowprof sweep: --users 4,2: the levels must increase ('2' follows '4')"),
        (["--load", "x {users}", "--users", "1,2.5"],
         "flowprof sweep: --users 1,2.5: '2.5' is not a positive whole number"),
        (["--load", "x {users}"],
         "flowprof sweep: no steps: use --users 1,2,4,8 (or --rate 100,200,400)"),
        (["--users", "1"],
         "flowprof sweep: no load command: use --load 'CMD ... {users} ...'"),
        (["--load", "x {rate}", "--users", "1", "--rate", "5"],
         "flowprof sweep: give one of --users and --rate, once"),
    ]
    for args, msg in cases:
        r = sweep("-f", flows, *args, check=False)
        eq(r.returncode, 2, "exit status of %s\n%s" % (args, r.stderr))
        eq(r.stderr.split("\n")[0], msg, "message for %s" % args)


@test
def open_load_with_rate():
    """--rate: the levels are request rates ({rate}), the model open. Below
    the pool's ceiling the model predicts the offered rate; past it, X_max;
    the measured throughput is within 10% of that, in one of three attempts:
    the measured maximum itself moves between runs on a 2-vCPU host (1.8k
    to 1.9k/s in 9 runs, the load generator's 16 connections sharing the
    CPUs with the pool), and the prediction's error with it (+0.6% to +11%).
    A model off by more than 10% fails every attempt."""
    rates = [200, 800, 1600, 3000]
    for attempt in range(3):
        d = fptest.tmpdir()
        p, port = start_server("-w", str(WORKERS), "-s", str(SERVICE_US))
        flows = fptest.write(os.path.join(d, "flows.yaml"), POOL_FLOWS % SERVER)
        out = os.path.join(d, "sweep.json")
        r = sweep("-f", flows, "-p", str(p.pid), "--load",
                  "%s -c 16 -r {rate} -d 2 %d" % (LOADGEN, port),
                  "--rate", ",".join(map(str, rates)), "--settle", "0.5", "-o", out,
                  check=False)
        diag(r.stdout)
        eq(r.returncode, 0, "exit status\n" + r.stderr)
        doc = fptest.load_json(out)
        eq(doc["variable"], "rate", "variable")
        eq([s["rate"] for s in doc["steps"]], rates, "step rates")
        eq([s["command"] for s in doc["steps"]],
           ["%s -c 16 -r %d -d 2 %d" % (LOADGEN, rt, port) for rt in rates], "commands")
        eq(doc["fit"]["think_fitted"], False, "no think time in an open sweep")
        sm = doc["summary"]
        eq(sm["measured_knee_users"], None, "no knee for rates")
        eq(sm["predicted_knee_users"], None, "no knee for rates")
        xmax = sm["predicted_saturation_per_s"]
        problems = []
        for s in doc["steps"]:
            want = min(s["rate"], xmax)
            fptest.near(s["predicted"]["throughput_per_s"], want, 1e-9, "prediction at %d/s"
                        % s["rate"])
            got = s["measured"]["throughput_per_s"]
            if abs(got - want) > 0.10 * want:
                problems.append("measured %.1f/s at %d/s, model %.1f/s" % (got, s["rate"], want))
        if abs(sm["saturation_error"]) > 0.10:
            problems.append("saturation error %.3f" % sm["saturation_error"])
        bad = disturbed_steps(doc, "rate")
        if not problems:
            break
        if attempt == 2:
            raise AssertionError("; ".join(problems) + " in each of 3 attempts" + (
                " (the host stretched the service time: %s)" % ", ".join(bad) if bad else ""))
        diag("attempt %d: %s%s; again" % (attempt + 1, "; ".join(problems),
                                          "; the host stretched the service time (%s)"
                                          % ", ".join(bad) if bad else ""))
        p.kill()


if __name__ == "__main__":
    fptest.main()
