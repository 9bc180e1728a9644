#!/usr/bin/env python3
"""`flowprof report --html` and `--dot`, in headless Chromium (Debian's
chromium, driven over the DevTools protocol).

- For several settings (flow rates, instances, workers, beyond capacity),
  the page's numbers equal `flowprof report --target ... --json` for the
  same settings, and the command line the page shows is that command.
- Moving a slider (a real input event) reruns the model in the page.
- The command line's model options are the page's starting settings.
- Every name from the target is escaped: hostile names show as text and run
  nothing; the DOT file of the same names is valid for Graphviz.
- The page is one file that loads nothing from anywhere.
Screenshots are kept under build/test-artifacts/.
"""
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402
import viewslib  # noqa: E402
from fptest import test  # noqa: E402

BASIC = os.path.join(fptest.ROOT, "tests", "snapshots", "basic.json")
ARTIFACTS = os.path.join(fptest.BUILD, "test-artifacts")

# The fields of the "model" object that the page computes (model_wasm.c).
TOP_FIELDS = ("bottleneck", "headroom", "throughput_per_s", "max_throughput_per_s", "ranking")
STATION_FIELDS = ("name", "kind", "servers", "instances", "workers", "servers_source",
                  "utilization", "utilization_loaded", "service_ns", "wait_probability",
                  "wait_ns", "required_servers", "required_instances", "required_workers")
FLOW_FIELDS = ("name", "rate_per_s", "measured_rate_per_s", "targeted", "max_rate_per_s",
               "max_rate_alone_per_s", "alone_bottleneck", "exceeds_capacity",
               "saturated_station", "predicted_mean_ns", "predicted_p95_ns",
               "predicted_p99_ns")


def html_report(snap, *opts, d=None):
    d = d or tempfile.mkdtemp(prefix="flowprof-html-")
    page = os.path.join(d, "report.html")
    fptest.flowprof("report", snap, "--html", page, *opts)
    return page


def cli_model(argv):
    """The "model" object of a `flowprof report ... --json` command line."""
    assert argv[:2] == ["flowprof", "report"] and argv[-1] == "--json", argv
    r = fptest.flowprof(*argv[1:])
    return json.loads(r.stdout)["model"]


def page_model(browser):
    return json.loads(browser.eval("document.getElementById('model-json').textContent"))


def same_model(page, cli, what):
    """Every number the page computes equals the command's."""
    for k in TOP_FIELDS:
        fptest.eq(page[k], cli[k], "%s: %s" % (what, k))
    fptest.eq(len(page["stations"]), len(cli["stations"]), what + ": stations")
    for ps, cs in zip(page["stations"], cli["stations"]):
        for k in STATION_FIELDS:
            fptest.eq(ps.get(k), cs.get(k), "%s: station %s %s" % (what, cs["name"], k))
    fptest.eq(len(page["flows"]), len(cli["flows"]), what + ": flows")
    for pf, cf in zip(page["flows"], cli["flows"]):
        for k in FLOW_FIELDS:
            fptest.eq(pf.get(k), cf.get(k), "%s: flow %s %s" % (what, cf["name"], k))
    fptest.eq(page["notes"], cli["notes"], what + ": notes")


def shown_cells(browser):
    """{table: [{field: data-value}]} of the page's model tables."""
    return browser.eval("""(() => {
        const out = {};
        for (const t of ['stations-table', 'flows-table']) {
            out[t] = [...document.querySelectorAll('#' + t + ' tbody tr')].map(tr => {
                const row = {};
                tr.querySelectorAll('td[data-field]').forEach(td => {
                    row[td.dataset.field] = JSON.parse(td.dataset.value === 'null' ? 'null'
                        : /^(true|false|-?[0-9.e+-]+)$/.test(td.dataset.value)
                        ? td.dataset.value : JSON.stringify(td.dataset.value));
                });
                return row;
            });
        }
        return out;
    })()""")


def check_cells(browser, model, what):
    cells = shown_cells(browser)
    for row, st in zip(cells["stations-table"], model["stations"]):
        for k in ("name", "kind", "servers", "utilization", "wait_ns", "required_servers"):
            fptest.eq(row[k], st[k], "%s: shown station %s %s" % (what, st["name"], k))
    for row, fl in zip(cells["flows-table"], model["flows"]):
        for k in ("name", "rate_per_s", "max_rate_per_s", "predicted_mean_ns",
                  "predicted_p95_ns", "predicted_p99_ns", "exceeds_capacity"):
            fptest.eq(row[k], fl[k], "%s: shown flow %s %s" % (what, fl["name"], k))


def check_settings(browser, page, fragment, want_opts, shot):
    """Opens page#fragment, compares with the command it shows, which must
    carry want_opts; returns the page's model."""
    url = "file://" + urllib.parse.quote(page) + ("#" + fragment if fragment else "")
    fptest.eq(browser.open(url), "ready", "state of " + url)
    browser.screenshot(os.path.join(ARTIFACTS, shot))
    cmd = shlex.split(browser.eval("document.getElementById('cmdline').textContent"))
    fptest.eq(cmd[3:-1], want_opts, "options of the page's command line for #" + fragment)
    model = page_model(browser)
    same_model(model, cli_model(cmd), "#" + fragment)
    check_cells(browser, model, "#" + fragment)
    return model


def record_target():
    """A real snapshot of the views target (viewslib.py)."""
    t = viewslib.Target().start()
    snap = os.path.join(t.dir, "snap.json")
    rec = fptest.start([fptest.FLOWPROF, "record", "-f", t.flows, "-p", str(t.pid), "-d", "3",
                        "-o", snap])
    line = rec.stderr.readline().decode()
    while line.startswith(("flowprof: warning: ", "flowprof:   ")):
        line = rec.stderr.readline().decode()  # vt.fast is a single-step site
    assert line.startswith("flowprof: recording "), line
    fptest.eq(t.ask("run 400")[0], "done", "run")
    fptest.eq(rec.wait(timeout=60), 0, "record")
    return snap


@test
def page_equals_report_json_for_the_same_settings():
    viewslib.need_flowprof()
    cases = [
        (BASIC, "", []),
        (BASIC, "target.checkout=2000", ["--target", "checkout=2000"]),
        (BASIC, "workers.shop=32&target.browse=900.5",
         ["--target", "browse=900.5", "--workers", "shop=32"]),
        (BASIC, "instances.shop=3&workers.shop=2&target.checkout=150&workers.mail=9",
         ["--target", "checkout=150", "--instances", "shop=3", "--workers", "shop=2"]),
        (BASIC, "target.browse=1000000", ["--target", "browse=1000000"]),
    ]
    real = record_target()
    cases += [(real, "", []), (real, "target.serve=50", ["--target", "serve=50"]),
              (real, "workers.vt=4&target.serve=2000", ["--target", "serve=2000",
                                                         "--workers", "vt=4"])]
    b = viewslib.Browser()
    try:
        pages = {BASIC: html_report(BASIC), real: html_report(real)}
        for i, (snap, fragment, opts) in enumerate(cases):
            m = check_settings(b, pages[snap], fragment, opts,
                               "html-settings-%d.png" % i)
            if fragment != "target.browse=1000000":
                continue
            # beyond capacity: said so, with no response time
            fl = [f for f in m["flows"] if f["name"] == "browse"][0]
            fptest.eq((fl["exceeds_capacity"], fl["predicted_mean_ns"]), (True, None),
                      "browse at 1M/s")
            text = b.eval("document.getElementById('summary-body').textContent")
            assert "Beyond capacity: browse" in text, text
    finally:
        b.close()


@test
def moving_a_slider_reruns_the_model_in_the_page():
    viewslib.need_flowprof()
    page = html_report(BASIC)
    b = viewslib.Browser()
    try:
        fptest.eq(b.open("file://" + page), "ready", "state")
        before = page_model(b)
        moved = b.eval("""(async () => {
            const r = document.querySelector('input[type=range][data-flow="checkout"]');
            r.value = 500;
            r.dispatchEvent(new Event('input'));
            const w = document.querySelector('input[type=number][data-bundle="shop"][data-kind="workers"]');
            w.value = 4;
            w.dispatchEvent(new Event('change'));
            await new Promise(f => setTimeout(f, 300));
            return [location.hash, document.getElementById('cmdline').textContent];
        })()""")
        fptest.eq(moved[0], "#target.checkout=500&workers.shop=4", "hash after the sliders")
        cmd = shlex.split(moved[1])
        fptest.eq(cmd[3:-1], ["--target", "checkout=500", "--workers", "shop=4"],
                  "command line after the sliders")
        after = page_model(b)
        assert after != before, "the model did not change"
        same_model(after, cli_model(cmd), "after moving sliders")
        check_cells(b, after, "after moving sliders")
        # the graph follows: the bottleneck handler's node is marked, and
        # every handler node is coloured by its station's utilization class
        bn = after["bottleneck"]
        marked = b.eval("[...document.querySelectorAll('g.node.bottleneck title')]"
                        ".map(t => t.textContent)")
        ids = b.eval("JSON.parse(document.getElementById('fp-data').textContent).handlers"
                     ".filter(h => h.id === %s).map(h => h.node)" % json.dumps(bn["handler"]))
        fptest.eq(marked, ids, "graph nodes marked as the bottleneck (%s)" % bn["handler"])
        fill = b.eval("document.querySelector('g#' + %s + ' path, g#' + %s + ' polygon')"
                      ".getAttribute('fill')" % (json.dumps(ids[0]), json.dumps(ids[0])))
        u = bn["utilization"]
        want = ("#e57373" if u >= 1 else "#ffab91" if u >= 0.9 else "#ffe082" if u >= 0.7
                else "#fff59d" if u >= 0.5 else "#c8e6c9")
        fptest.eq(fill, want, "fill of the bottleneck's node at utilization %s" % u)
        b.screenshot(os.path.join(ARTIFACTS, "html-sliders.png"))
        # back to the measured load
        b.eval("document.getElementById('reset').click(), "
               "new Promise(f => setTimeout(f, 300))")
        fptest.eq(page_model(b), before, "model after reset")
    finally:
        b.close()


@test
def command_line_options_are_the_starting_settings():
    viewslib.need_flowprof()
    page = html_report(BASIC, "--target", "checkout=2.4k/s", "--workers", "shop=8",
                       "--util-limit", "60%")
    b = viewslib.Browser()
    try:
        m = check_settings(b, page, "", ["--util-limit", "0.6", "--target",
                                         "checkout=2400", "--workers", "shop=8"],
                           "html-cli-settings.png")
        cli = cli_model(["flowprof", "report", BASIC, "--target", "checkout=2.4k/s",
                         "--workers", "shop=8", "--util-limit", "60%", "--json"])
        same_model(m, cli, "options of report --html")
    finally:
        b.close()


def hostile_snapshot(d):
    """basic.json with names no page should trust."""
    snap = json.load(open(BASIC))
    bundle = 'sh<op>"&\''

    def ren(x):
        return x.replace("shop", bundle) if isinstance(x, str) else x
    for h in snap["handlers"]:
        h["id"], h["bundle"] = ren(h["id"]), ren(h["bundle"])
        h["symbol"] = "</script><script>window.__pwned=1</script>"
        h["binary"] = '/srv/<img src=x onerror="window.__pwned=2">\\N'
    for e in snap["edges"]:
        e["from"], e["to"] = ren(e["from"]), ren(e["to"])
    for f in snap["flows"]:
        f["entry"] = ren(f["entry"])
        for key in ("visits", "visit_calls"):
            if key in f:
                f[key] = {ren(k): v for k, v in f[key].items()}
        for c in f.get("declared_calls", []):
            c["from"], c["to"] = ren(c["from"]), ren(c["to"])
    snap["flows"][0]["name"] = "br<b>owse\\N\u202e"
    for bd in snap["bundles"]:
        bd["name"] = ren(bd["name"])
    snap["host"] = "<script>window.__pwned=3</script>"
    path = os.path.join(d, "hostile.json")
    with open(path, "w") as f:
        json.dump(snap, f)
    return path, bundle


@test
def names_from_the_target_are_escaped():
    viewslib.need_flowprof()
    d = tempfile.mkdtemp(prefix="flowprof-html-")
    snap, bundle = hostile_snapshot(d)
    page = html_report(snap, d=d)
    raw = open(page, encoding="utf-8").read()
    for bad in ("<script>window.__pwned", "</script><script>", "<img src=x", "<b>owse",
                'sh<op>"'):
        assert bad not in raw, "unescaped %r in the page" % bad
    b = viewslib.Browser()
    try:
        fptest.eq(b.open("file://" + page), "ready", "state")
        fptest.eq(b.eval("typeof window.__pwned"), "undefined", "injected script ran")
        fptest.eq(b.eval("document.querySelectorAll('img, b, svg script').length"), 0,
                  "injected elements")
        fptest.eq(b.dialogs(), [], "dialogs")
        stations = b.eval("[...document.querySelectorAll('#stations-table td.name')]"
                          ".map(td => td.textContent)")
        assert bundle in stations, "bundle name shown as text: %r" % stations
        flows = b.eval("[...document.querySelectorAll('#flows-table td.name')]"
                       ".map(td => td.textContent)")
        assert "br<b>owse\\N\\u{202E}" in flows, "flow name shown as text: %r" % flows
        fptest.eq(b.eval("document.body.innerText.includes('\\u202e')"), False,
                  "a bidi override reached the page's text")
        title = b.eval("document.title")
        fptest.eq(title, "flowprof report: <script>window.__pwned=3</script>", "title")
        labels = b.eval("[...document.querySelectorAll('#graph svg text')]"
                        ".map(t => t.textContent)")
        assert any(bundle in t for t in labels), "bundle label in the graph: %r" % labels
        b.screenshot(os.path.join(ARTIFACTS, "html-hostile-names.png"))
    finally:
        b.close()
    dot = os.path.join(d, "hostile.dot")
    fptest.flowprof("report", snap, "--dot", dot)
    r = subprocess.run(["dot", "-Tsvg", dot], capture_output=True, text=True)
    fptest.eq(r.returncode, 0, "dot -Tsvg of hostile names\n" + r.stderr)
    assert "br&lt;b&gt;owse\\N" in r.stdout, "flow name kept literally (no \\N expansion)"


@test
def dot_is_the_graph_of_the_page():
    viewslib.need_flowprof()
    d = tempfile.mkdtemp(prefix="flowprof-html-")
    dot, page = os.path.join(d, "g.dot"), os.path.join(d, "r.html")
    r = fptest.flowprof("report", BASIC, "--dot", dot, "--html", page)
    fptest.eq(r.stdout, "", "stdout with --dot and --html")
    text = open(dot).read()
    snap = json.load(open(BASIC))
    ids = [h["id"] for h in snap["handlers"]]
    calls = {h["id"]: h["calls"] for h in snap["handlers"]}
    for i, b in enumerate(snap["bundles"]):
        assert re.search(r'subgraph cluster_%d \{\n    id="b%d";.*label="%s ' % (i, i, b["name"]),
                         text), "cluster of bundle " + b["name"]
    for e in snap["edges"]:
        ratio = e["calls"] / calls[e["from"]]
        label = "%.2f" % ratio if ratio >= 0.1 else "%.2g" % ratio
        line = '  h%d -> h%d [id="' % (ids.index(e["from"]), ids.index(e["to"]))
        assert line in text, "edge %s -> %s" % (e["from"], e["to"])
        assert re.search(re.escape(line) + r'e\d+", label="%s' % re.escape(label), text), \
            "visit ratio %s on %s -> %s" % (label, e["from"], e["to"])
    r = subprocess.run(["dot", "-Tsvg", dot], capture_output=True, text=True)
    fptest.eq(r.returncode, 0, "dot -Tsvg\n" + r.stderr)
    # the page embeds the same graph: the same node ids, the same edge labels
    html = open(page, encoding="utf-8").read()
    svg_nodes = sorted(set(re.findall(r'<g id="(h\d+)" class="node"', html)))
    fptest.eq(svg_nodes, sorted("h%d" % i for i in range(len(ids))), "handler nodes of the page")
    dot_labels = sorted(re.findall(r'h\d+ -> h\d+ \[id="e\d+", label="([^"]+)"', text))
    page_labels = sorted(re.findall(r'<g id="e\d+" class="edge">.*?<text[^>]*>([^<]+)</text>',
                                    html, re.S))
    fptest.eq(page_labels, dot_labels, "edge labels of the page and of the DOT file")


@test
def page_is_one_file_that_loads_nothing():
    viewslib.need_flowprof()
    page = html_report(BASIC)
    fptest.eq(os.stat(page).st_mode & 0o777, 0o600, "mode (it names internal symbols)")
    html = open(page, encoding="utf-8").read()
    refs = re.findall(r'(?:src|href)\s*=\s*"([^"#][^"]*)"|url\(|@import|<link', html)
    fptest.eq(refs, [], "references to other files or hosts")
    # the embedded model imports nothing but WASI's stderr writes and exit
    b = viewslib.Browser()
    try:
        fptest.eq(b.open("file://" + page), "ready", "state")
        imports = b.eval("""(async () => {
            const t = document.getElementById('fp-wasm').textContent.replace(/\\s+/g, '');
            const bytes = Uint8Array.from(atob(t), c => c.charCodeAt(0));
            const m = await WebAssembly.compile(bytes);
            return WebAssembly.Module.imports(m).map(i => i.module + '.' + i.name).sort();
        })()""")
        fptest.eq(imports, ["wasi_snapshot_preview1.fd_close", "wasi_snapshot_preview1.fd_seek",
                            "wasi_snapshot_preview1.fd_write",
                            "wasi_snapshot_preview1.proc_exit"], "imports of the model")
    finally:
        b.close()


@test
def page_runs_only_its_own_script():
    """The Content-Security-Policy allows the page's own script by its hash
    and nothing else: a script or handler slipped into the file does not run."""
    import base64
    import hashlib
    viewslib.need_flowprof()
    page = html_report(BASIC)
    html = open(page, encoding="utf-8").read()
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', html)
    assert csp, "no Content-Security-Policy in the page"
    policy = dict((d.split()[0], d.split()[1:]) for d in csp.group(1).split(";") if d.strip())
    fptest.eq(policy.get("default-src"), ["'none'"], "default-src")
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    fptest.eq(len(scripts), 1, "inline scripts that run")
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    fptest.eq(sorted(policy.get("script-src", [])),
              sorted(["'sha256-%s'" % digest, "'wasm-unsafe-eval'"]), "script-src")
    hostile = page.replace(".html", "-injected.html")
    with open(hostile, "w", encoding="utf-8") as f:
        f.write(html.replace("</body>", "<script>window.injected = 1;</script>"
                             "<img src=\"data:,x\" onerror=\"window.injected = 2\"></body>"))
    b = viewslib.Browser()
    try:
        fptest.eq(b.open("file://" + hostile), "ready", "state (the page's own script ran)")
        fptest.eq(b.eval("typeof window.injected"), "undefined", "the injected script ran")
        # the page opens with the report's summary, as the command line prints it
        first = b.eval("document.querySelector('body > section').id")
        fptest.eq(first, "summary", "the first section")
        shown = b.eval("document.querySelector('#summary pre').textContent")
        text = fptest.flowprof("report", BASIC).stdout
        for line in shown.strip().splitlines():
            if line.strip() not in text:
                raise AssertionError("summary line %r not in the report:\n%s" % (line, text))
    finally:
        b.close()


if __name__ == "__main__":
    fptest.main()
