/* flowprof HTML report: the throughput sliders (embedded by html_report.c).
 *
 * The model is user/model/model.c compiled to WebAssembly (user/wasm/model_wasm.c):
 * each change of a slider runs it again with the options that
 * `flowprof report --target ... --json` would get, so the page's numbers are
 * that command's numbers. Names from the target only ever reach the page as
 * text nodes (textContent), never as markup.
 */
(function () {
  'use strict';

  var data = JSON.parse(document.getElementById('fp-data').textContent);
  var enc = new TextEncoder(), dec = new TextDecoder();
  var wasm = null, stderr = '';
  var state = { target: {}, instances: {}, workers: {} };
  var pending = false;

  /* ---- formatting, as user/base/units.c ----------------------------------- */

  function sig3(v) { return v < 9.995 ? 2 : v < 99.95 ? 1 : 0; }

  function dur(ns) {
    if (ns === null || ns === undefined || !isFinite(ns) || ns < 0) return '-';
    if (ns < 999.5) return ns.toFixed(0) + ' ns';
    var sc = [[1e3, '\u00b5s'], [1e6, 'ms'], [1e9, 's']];
    for (var i = 0; i < sc.length; i++) {
      var v = ns / sc[i][0];
      if (v < 999.5 || i === sc.length - 1) return v.toFixed(sig3(v)) + ' ' + sc[i][1];
    }
  }

  function rate(r) {
    if (r === null || r === undefined || !isFinite(r) || r < 0) return '-';
    if (r === 0) return '0/s';
    if (r < 999.5) return r.toFixed(sig3(r)) + '/s';
    var sc = [[1e3, 'k'], [1e6, 'M'], [1e9, 'G']];
    for (var i = 0; i < sc.length; i++) {
      var v = r / sc[i][0];
      if (v < 999.5 || i === sc.length - 1) return v.toFixed(v < 99.95 ? 1 : 0) + sc[i][1] + '/s';
    }
  }

  function util(u) {
    if (u === null || u === undefined || !isFinite(u)) return '-';
    return (u * 100).toFixed(1) + '%';
  }

  /* The same classes as util_fill() in html_report.c. */
  function fill(u) {
    if (u === null || u === undefined || !isFinite(u)) return '#eeeeee';
    if (u >= 1) return '#e57373';
    if (u >= 0.9) return '#ffab91';
    if (u >= 0.7) return '#ffe082';
    if (u >= 0.5) return '#fff59d';
    return '#c8e6c9';
  }

  /* Names arrive as text, never markup; code points that would make one
   * display as another (bidi overrides, C1 controls) are shown as \u{...},
   * as html_report.c and the terminal report show them. */
  var SPOOF = /[\u0080-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029\u200e\u200f\u061c]/g;
  function visible(s) {
    return String(s).replace(SPOOF, function (c) {
      return '\\u{' + c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0') + '}';
    });
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = visible(text);
    if (cls) e.className = cls;
    return e;
  }

  /* ---- the WebAssembly model ------------------------------------------------ */

  function wasmBytes() {
    var b64 = document.getElementById('fp-wasm').textContent.replace(/\s+/g, '');
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  /* What the C library asks of WASI: stderr writes are kept for messages. */
  function imports(module) {
    var wasi = {
      fd_write: function (fd, iovs, n, nwritten) {
        var view = new DataView(wasm.memory.buffer), total = 0;
        for (var i = 0; i < n; i++) {
          var p = view.getUint32(iovs + 8 * i, true), len = view.getUint32(iovs + 8 * i + 4, true);
          stderr += dec.decode(new Uint8Array(wasm.memory.buffer, p, len));
          total += len;
        }
        view.setUint32(nwritten, total, true);
        return 0;
      },
      fd_seek: function () { return 70; /* ESPIPE */ },
      fd_close: function () { return 0; },
      proc_exit: function (code) { throw new Error('the model exited (' + code + '): ' + stderr); }
    };
    var obj = {};
    WebAssembly.Module.imports(module).forEach(function (imp) {
      obj[imp.module] = obj[imp.module] || {};
      if (imp.module === 'wasi_snapshot_preview1' && wasi[imp.name]) {
        obj[imp.module][imp.name] = wasi[imp.name];
      } else {
        obj[imp.module][imp.name] = function () {
          throw new Error('the model called ' + imp.module + '.' + imp.name);
        };
      }
    });
    return obj;
  }

  function cstr(s) {
    var b = enc.encode(s + '\0'), p = wasm.fp_alloc(b.length);
    new Uint8Array(wasm.memory.buffer, p, b.length).set(b);
    return p;
  }

  function runModel(lines) {
    var ip = cstr(data.model_input), op = cstr(lines.join('\n'));
    var rp = wasm.fp_model(ip, op);
    var mem = new Uint8Array(wasm.memory.buffer), end = rp;
    while (mem[end]) end++;
    var text = dec.decode(mem.subarray(rp, end));
    wasm.fp_free(ip);
    wasm.fp_free(op);
    wasm.fp_free(rp);
    return text;
  }

  /* ---- settings -> options ------------------------------------------------ */

  function num(v) { return String(v); }

  function optionLines() {
    var lines = data.base_options.slice();
    data.flows.forEach(function (f) {
      if (Object.prototype.hasOwnProperty.call(state.target, f.name))
        lines.push('target ' + f.name + '=' + num(state.target[f.name]));
    });
    data.bundles.forEach(function (b) {
      if (Object.prototype.hasOwnProperty.call(state.instances, b.name))
        lines.push('instances ' + b.name + '=' + state.instances[b.name]);
      if (Object.prototype.hasOwnProperty.call(state.workers, b.name))
        lines.push('workers ' + b.name + '=' + state.workers[b.name]);
    });
    return lines;
  }

  function shellQuote(s) {
    return /^[\w.,:=\/+-]+$/.test(s) ? s : "'" + s.replace(/'/g, "'\\''") + "'";
  }

  function commandLine(lines) {
    var args = ['flowprof', 'report', data.snapshot];
    lines.forEach(function (l) {
      var sp = l.indexOf(' ');
      args.push('--' + l.slice(0, sp), l.slice(sp + 1));
    });
    args.push('--json');
    return args.map(shellQuote).join(' ');
  }

  function saveHash() {
    var p = new URLSearchParams();
    Object.keys(state.target).forEach(function (k) { p.append('target.' + k, num(state.target[k])); });
    Object.keys(state.instances).forEach(function (k) { p.append('instances.' + k, state.instances[k]); });
    Object.keys(state.workers).forEach(function (k) { p.append('workers.' + k, state.workers[k]); });
    var h = p.toString();
    history.replaceState(null, '', h ? '#' + h : location.pathname + location.search);
  }

  function loadHash() {
    var h = location.hash.replace(/^#/, '');
    if (!h) return false;
    var p = new URLSearchParams(h), any = false;
    p.forEach(function (v, k) {
      var dot = k.indexOf('.'), kind = k.slice(0, dot), name = k.slice(dot + 1);
      var x = Number(v);
      if (dot < 0 || !isFinite(x)) return;
      if (kind === 'target' && x >= 0) { state.target[name] = x; any = true; }
      if ((kind === 'instances' || kind === 'workers') && x >= 1 && Math.floor(x) === x) {
        state[kind][name] = x;
        any = true;
      }
    });
    return any;
  }

  /* ---- controls -------------------------------------------------------------- */

  function niceCeil(v) {
    if (!(v > 0) || !isFinite(v)) return 100;
    var p = Math.pow(10, Math.floor(Math.log10(v))), m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }

  var controls = { flows: {}, bundles: {} };

  function buildControls() {
    var fs = document.getElementById('flow-controls');
    data.flows.forEach(function (f) {
      var row = el('div', null, 'ctl'), label = el('label', f.name);
      var top = niceCeil(Math.max(2 * (f.max_rate_per_s || 0), 2 * f.measured_rate_per_s, 1));
      var range = el('input'), box = el('input');
      range.type = 'range'; range.min = 0; range.max = top; range.step = top / 1000;
      box.type = 'number'; box.min = 0; box.step = 'any';
      range.setAttribute('aria-label', 'rate of flow ' + f.name);
      box.setAttribute('aria-label', 'rate of flow ' + f.name);
      range.dataset.flow = f.name; box.dataset.flow = f.name;
      row.appendChild(label); row.appendChild(range); row.appendChild(box);
      row.appendChild(el('span', 'measured ' + rate(f.measured_rate_per_s), 'was'));
      function set(v) {
        if (!(v >= 0) || !isFinite(v)) return;
        state.target[f.name] = v;
        schedule();
      }
      range.addEventListener('input', function () { box.value = range.value; set(Number(range.value)); });
      box.addEventListener('change', function () {
        range.max = Math.max(Number(range.max), niceCeil(Number(box.value)));
        range.value = box.value;
        set(Number(box.value));
      });
      controls.flows[f.name] = { row: row, range: range, box: box, measured: f.measured_rate_per_s };
      fs.appendChild(row);
    });
    if (!data.flows.length) fs.appendChild(el('p', 'The snapshot has no flows.', 'hint'));

    var bs = document.getElementById('bundle-controls');
    data.bundles.forEach(function (b) {
      ['instances', 'workers'].forEach(function (kind) {
        var row = el('div', null, 'bundle'), range = el('input'), box = el('input');
        var v = b[kind], top = kind === 'instances' ? Math.max(8, 4 * v) : Math.max(64, 4 * v);
        range.type = 'range'; range.min = 1; range.max = top; range.step = 1;
        box.type = 'number'; box.min = 1; box.step = 1;
        range.setAttribute('aria-label', kind + ' of bundle ' + b.name);
        box.setAttribute('aria-label', kind + ' of bundle ' + b.name);
        range.dataset.bundle = b.name; range.dataset.kind = kind;
        box.dataset.bundle = b.name; box.dataset.kind = kind;
        row.appendChild(el('label', kind === 'instances' ? b.name : ''));
        row.appendChild(el('span', kind, 'was'));
        row.appendChild(range); row.appendChild(box);
        function set(x) {
          if (!(x >= 1) || Math.floor(x) !== x) return;
          state[kind][b.name] = x;
          schedule();
        }
        range.addEventListener('input', function () { box.value = range.value; set(Number(range.value)); });
        box.addEventListener('change', function () {
          range.max = Math.max(Number(range.max), Number(box.value));
          range.value = box.value;
          set(Number(box.value));
        });
        controls.bundles[b.name + '/' + kind] = { range: range, box: box, base: v };
        bs.appendChild(row);
      });
    });
    if (!data.bundles.length)
      bs.appendChild(el('p', 'No bundle with a pool of workers.', 'hint'));
    document.getElementById('reset').addEventListener('click', function () {
      state = { target: {}, instances: {}, workers: {} };
      schedule();
    });
  }

  /* Puts the controls at the values the model used. */
  function syncControls(result) {
    data.flows.forEach(function (f, i) {
      var c = controls.flows[f.name], fr = result.flows[i];
      var v = Object.prototype.hasOwnProperty.call(state.target, f.name)
        ? state.target[f.name] : (fr ? fr.rate_per_s : c.measured);
      if (document.activeElement !== c.box) c.box.value = v;
      if (Number(c.range.max) < v) c.range.max = niceCeil(v);
      c.range.value = v;
      c.row.classList.toggle('moved', Object.prototype.hasOwnProperty.call(state.target, f.name));
    });
    data.bundles.forEach(function (b) {
      ['instances', 'workers'].forEach(function (kind) {
        var c = controls.bundles[b.name + '/' + kind];
        var st = result.stations.filter(function (s) { return s.name === b.name && s.kind === 'pool'; })[0];
        var v = Object.prototype.hasOwnProperty.call(state[kind], b.name) ? state[kind][b.name]
          : st ? st[kind] : c.base;
        if (document.activeElement !== c.box) c.box.value = v;
        if (Number(c.range.max) < v) c.range.max = v;
        c.range.value = v;
      });
    });
  }

  /* ---- rendering ------------------------------------------------------------- */

  function cell(tr, text, field, value, cls) {
    var td = el('td', text, cls);
    if (field) {
      td.dataset.field = field;
      td.dataset.value = value === null || value === undefined ? 'null' : String(value);
    }
    tr.appendChild(td);
    return td;
  }

  function renderSummary(r) {
    var box = document.getElementById('summary-body');
    box.textContent = '';
    var p = el('p', null, 'big');
    if (r.bottleneck) {
      p.appendChild(document.createTextNode('Bottleneck: '));
      var b = el('strong', r.bottleneck.station);
      b.id = 'bottleneck-station';
      p.appendChild(b);
      if (r.bottleneck.handler) {
        p.appendChild(document.createTextNode(', mostly handler '));
        var hh = el('strong', r.bottleneck.handler);
        hh.id = 'bottleneck-handler';
        p.appendChild(hh);
      } else if (r.bottleneck.other_processes > 0) {
        p.appendChild(document.createTextNode(', mostly other processes (' +
          util(r.bottleneck.other_processes) + ')'));
      }
      var u = el('span', ' at ' + util(r.bottleneck.utilization) + ' utilization');
      u.id = 'bottleneck-utilization';
      u.dataset.value = String(r.bottleneck.utilization);
      p.appendChild(u);
    } else {
      p.textContent = 'Nothing is loaded: no bottleneck at these settings.';
    }
    box.appendChild(p);
    var q = el('p');
    q.appendChild(document.createTextNode('Throughput ' + rate(r.throughput_per_s) +
      ' of at most ' + rate(r.max_throughput_per_s) + ' for this mix; headroom '));
    var hr = el('strong', r.headroom === null ? '-' : r.headroom.toFixed(2) + '\u00d7');
    hr.id = 'headroom';
    hr.dataset.value = String(r.headroom);
    q.appendChild(hr);
    box.appendChild(q);
    var over = r.flows.filter(function (f) { return f.exceeds_capacity; });
    if (over.length) {
      box.appendChild(el('p', 'Beyond capacity: ' + over.map(function (f) {
        return f.name + (f.saturated_station ? ' (' + f.saturated_station + ' saturates)' : '');
      }).join(', ') + '. No response time exists there.', 'over'));
    }
  }

  function renderStations(r) {
    var tb = document.querySelector('#stations-table tbody');
    tb.textContent = '';
    r.stations.forEach(function (s) {
      var tr = el('tr');
      tr.dataset.station = s.name;
      if (r.bottleneck && r.bottleneck.station === s.name) tr.className = 'bottleneck';
      cell(tr, s.name, 'name', s.name, 'name');
      cell(tr, s.kind, 'kind', s.kind, 'kind');
      cell(tr, s.kind !== 'pool' ? String(s.servers)
        : s.servers !== s.instances * s.workers ? s.servers + ' over ' + s.instances + ' instances'
        : s.servers + ' = ' + s.instances + ' \u00d7 ' + s.workers, 'servers', s.servers);
      var td = cell(tr, util(s.utilization), 'utilization', s.utilization,
        s.utilization >= 1 ? 'over' : '');
      var bar = el('span', null, 'bar');
      bar.style.width = Math.min(120, Math.max(0, (s.utilization || 0) * 120)) + 'px';
      bar.style.background = fill(s.utilization);
      td.appendChild(bar);
      cell(tr, s.kind === 'cpu' ? '-' : dur(s.wait_ns), 'wait_ns', s.wait_ns);
      cell(tr, s.required_servers === null ? 'cannot' : s.kind === 'pool'
        ? s.required_instances + ' \u00d7 ' + s.required_workers : String(s.required_servers),
        'required_servers', s.required_servers);
      tb.appendChild(tr);
    });
  }

  function renderFlows(r) {
    var tb = document.querySelector('#flows-table tbody');
    tb.textContent = '';
    r.flows.forEach(function (f) {
      var tr = el('tr');
      tr.dataset.flow = f.name;
      cell(tr, f.name, 'name', f.name, 'name');
      cell(tr, rate(f.rate_per_s), 'rate_per_s', f.rate_per_s);
      cell(tr, rate(f.max_rate_per_s), 'max_rate_per_s', f.max_rate_per_s);
      cell(tr, rate(f.max_rate_alone_per_s), 'max_rate_alone_per_s', f.max_rate_alone_per_s);
      cell(tr, f.exceeds_capacity ? '-' : dur(f.predicted_mean_ns), 'predicted_mean_ns', f.predicted_mean_ns);
      cell(tr, f.exceeds_capacity ? '-' : dur(f.predicted_p95_ns), 'predicted_p95_ns', f.predicted_p95_ns);
      cell(tr, f.exceeds_capacity ? '-' : dur(f.predicted_p99_ns), 'predicted_p99_ns', f.predicted_p99_ns);
      cell(tr, f.exceeds_capacity ? 'exceeds capacity' : '', 'exceeds_capacity', f.exceeds_capacity,
        f.exceeds_capacity ? 'over' : '');
      tb.appendChild(tr);
    });
  }

  function renderNotes(r) {
    var ul = document.getElementById('notes-list');
    ul.textContent = '';
    r.notes.forEach(function (n) { ul.appendChild(el('li', n)); });
    if (!r.notes.length) ul.appendChild(el('li', 'Nothing to add.'));
  }

  function station(r, name, kind) {
    return r.stations.filter(function (s) { return s.name === name && s.kind === kind; })[0];
  }

  function paint(g, colour) {
    if (!g) return;
    var shapes = g.querySelectorAll('path, polygon');
    for (var i = 0; i < shapes.length; i++) shapes[i].setAttribute('fill', colour);
  }

  /* The first text line of a node or cluster label, then the others. */
  function setLine(g, line, text) {
    if (!g) return;
    var t = g.querySelectorAll('text');
    if (t[line]) t[line].textContent = text;
  }

  function renderGraph(r) {
    data.handlers.forEach(function (hd) {
      var g = document.getElementById(hd.node);
      if (!g) return;
      var s = station(r, hd.station, hd.station_kind);
      paint(g, fill(s ? s.utilization : null));
      g.classList.toggle('bottleneck', !!(r.bottleneck && r.bottleneck.handler === hd.id));
    });
    data.clusters.forEach(function (c) {
      var s = station(r, c.name, 'pool') || station(r, c.name, 'serial');
      var g = document.getElementById(c.node);
      if (g && s) setLine(g, 0, visible(c.name) + ' \u00b7 ' + util(s.utilization));
    });
    data.flows.forEach(function (f, i) {
      setLine(document.getElementById(f.node), 1, rate(r.flows[i] ? r.flows[i].rate_per_s : null));
    });
    if (data.cpu) {
      var s = station(r, data.cpu, 'cpu'), g = document.getElementById('cpu');
      if (g && s) {
        paint(g, fill(s.utilization));
        setLine(g, 1, util(s.utilization));
        g.classList.toggle('bottleneck', !!(r.bottleneck && r.bottleneck.station === data.cpu));
      }
    }
  }

  function render() {
    pending = false;
    var lines = optionLines(), text, r;
    document.getElementById('cmdline').textContent = visible(commandLine(lines));
    try {
      text = runModel(lines);
      r = JSON.parse(text);
    } catch (e) {
      showError(String(e));
      return;
    }
    var err = document.getElementById('model-error');
    if (r.error) {
      showError(r.error);
      return;
    }
    err.hidden = true;
    syncControls(r);
    renderSummary(r);
    renderStations(r);
    renderFlows(r);
    renderNotes(r);
    renderGraph(r);
    document.getElementById('model-json').textContent = visible(JSON.stringify(r, null, 1));
    document.getElementById('status').textContent = '';
    saveHash();
    document.body.dataset.state = 'ready';
  }

  function showError(msg) {
    var err = document.getElementById('model-error');
    err.textContent = 'The model could not run: ' + msg;
    err.hidden = false;
    document.body.dataset.state = 'error';
  }

  function schedule() {
    if (pending) return;
    pending = true;
    (window.requestAnimationFrame || setTimeout)(render);
  }

  /* ---- start ------------------------------------------------------------------ */

  Object.keys(data.initial.target).forEach(function (k) { state.target[k] = data.initial.target[k]; });
  Object.keys(data.initial.instances).forEach(function (k) { state.instances[k] = data.initial.instances[k]; });
  Object.keys(data.initial.workers).forEach(function (k) { state.workers[k] = data.initial.workers[k]; });
  if (location.hash.length > 1) {
    state = { target: {}, instances: {}, workers: {} };
    loadHash();
  }
  buildControls();
  WebAssembly.compile(wasmBytes()).then(function (module) {
    return WebAssembly.instantiate(module, imports(module));
  }).then(function (instance) {
    wasm = instance.exports;
    render();
  }).catch(function (e) { showError(String(e)); });
  window.addEventListener('hashchange', function () {
    state = { target: {}, instances: {}, workers: {} };
    loadHash();
    schedule();
  });
})();
