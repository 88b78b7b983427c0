// The run panel: header, alerts, metric table and charts, hardware charts, events, params.
// Live (the anywidget), Python pushes only new (downsampled) rows with model.send({type: "rows"}); a saved
// output (JupyterLab's extension, from the cell's final mime bundle) brings every series in "snapshot".

import {
  ChartView,
  badge,
  clear,
  clock,
  dateTime,
  duration,
  fmt,
  h,
  isAlert,
  jsonText,
  segmented,
  vegaRuntime,
} from "./common.js";

function unitValue(value, unit) {
  if (value === null || value === undefined) return "–";
  if (unit === "B" || unit === "B/s") {
    const units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let v = Math.abs(value);
    let i = 0;
    while (v >= 1000 && i < units.length - 1) {
      v /= 1000;
      i += 1;
    }
    return `${(value < 0 ? -v : v).toFixed(v < 10 && i > 0 ? 1 : 0)} ${units[i]}${unit === "B/s" ? "/s" : ""}`;
  }
  if (unit === "%") return `${value.toFixed(1)}%`;
  return unit ? `${fmt(value)} ${unit}` : fmt(value);
}

export function renderRunPanel({ model, el }) {
  const store = new Map(); // key -> row objects {key, series, _b, step, value, time}
  const cards = new Map(); // user metric key -> {view, value}
  const panels = new Map(); // system panel title -> {view, keys:Set, values}
  let applied = -1;
  let x = "step";
  let timer = null;
  const runtime = () => vegaRuntime(model);
  runtime(); // start loading (or asking the kernel for) the chart library now, not at the first chart

  const root = h("div", "jt-root jt-panel");
  el.append(root);

  // -- header --------------------------------------------------------------------------------
  const badgeBox = h("span", "jt-badge-box");
  const title = h("span", "jt-title");
  const meta = h("span", "jt-meta");
  const elapsed = h("span", "jt-elapsed");
  const tags = h("span", "jt-tags");
  const header = h(
    "div",
    "jt-header",
    h("div", "jt-head-line", badgeBox, title, elapsed),
    h("div", "jt-head-line jt-sub", meta, tags),
  );
  const paramStrip = h("div", "jt-param-strip");
  const alertBar = h("div", "jt-alert-bar");
  alertBar.hidden = true;
  root.append(header, paramStrip, alertBar);

  // -- tabs ----------------------------------------------------------------------------------
  const tabBar = h("div", "jt-tabs");
  const body = h("div", "jt-body");
  const tabs = {};
  for (const [id, label] of [
    ["metrics", "Metrics"],
    ["system", "System"],
    ["events", "Events"],
    ["params", "Params"],
  ]) {
    const count = h("span", "jt-count");
    const button = h("button", "jt-tab", label, count);
    button.type = "button";
    const pane = h("div", "jt-pane");
    pane.hidden = true;
    button.addEventListener("click", () => show(id));
    tabBar.append(button);
    body.append(pane);
    tabs[id] = { button, pane, count };
  }
  const axis = segmented(
    [
      ["step", "Step"],
      ["time", "Time"],
    ],
    x,
    (value) => {
      x = value;
      for (const c of cards.values()) c.view.remount(spec(c.key));
    },
  );
  axis.title = "x axis of the metric charts";
  root.append(tabBar, body);

  const axisBox = h("span", "jt-axis-box", h("span", "jt-axis-label", "x-axis"), axis);
  tabBar.append(h("span", "jt-spacer"), axisBox);

  function show(id) {
    for (const [name, tab] of Object.entries(tabs)) {
      tab.pane.hidden = name !== id;
      tab.button.classList.toggle("jt-on", name === id);
    }
    axisBox.hidden = id !== "metrics";
  }

  // Metrics tab: table of latest/min/max/count, then one chart card per metric.
  const table = h("table", "jt-table jt-summary");
  const thead = h("thead");
  const headRow = h("tr");
  for (const label of ["metric", "latest", "min", "max", "count", "step"]) headRow.append(h("th", "", label));
  thead.append(headRow);
  const tbody = h("tbody");
  table.append(thead, tbody);
  const grid = h("div", "jt-grid");
  const emptyMetrics = h("div", "jt-empty", "Waiting for the first metric…  run.log(loss=…) draws it here.");
  tabs.metrics.pane.append(emptyMetrics, h("div", "jt-table-wrap", table), grid);
  const systemGrid = h("div", "jt-grid jt-grid-wide");
  const emptySystem = h("div", "jt-empty", "No hardware samples (system metrics are off or not yet sampled).");
  tabs.system.pane.append(emptySystem, systemGrid);
  const eventList = h("div", "jt-events");
  tabs.events.pane.append(eventList);
  const paramTable = h("table", "jt-table jt-params");
  tabs.params.pane.append(h("div", "jt-table-wrap", paramTable));
  show("metrics");

  function spec(key) {
    return model.get("specs").metric[x];
  }

  // Colours follow the order of the panel's keys; the chips above the chart act as its legend.
  function systemSpec(p) {
    const s = structuredClone(model.get("specs").system);
    const layouts = model.get("system_layout") || {};
    const labels = [...p.keys].map((k) => (layouts[k] || {}).label || k);
    s.encoding.y.axis = p.axis;
    s.encoding.color.scale = { domain: labels, range: labels.map((_, i) => PALETTE_OF(i)) };
    s.encoding.color.legend = null;
    return s;
  }

  function PALETTE_OF(i) {
    const range = model.get("specs").system.encoding.color.scale.range;
    return range[i % range.length];
  }

  // -- charts --------------------------------------------------------------------------------
  function card(key) {
    let c = cards.get(key);
    if (c) return c;
    const value = h("span", "jt-card-value");
    const host = h("div", "jt-chart");
    const name = h("span", "jt-card-title", key);
    name.title = key;
    const box = h("div", "jt-card", h("div", "jt-card-head", name, value), host);
    grid.append(box);
    const view = new ChartView(host, spec(key), runtime);
    view.rows = () => store.get(key) || [];
    c = { key, view, value, box };
    cards.set(key, c);
    emptyMetrics.hidden = true;
    return c;
  }

  function panel(key) {
    const layout = (model.get("system_layout") || {})[key];
    if (!layout) return null;
    let p = panels.get(layout.panel);
    if (!p) {
      const values = h("div", "jt-card-sub");
      const host = h("div", "jt-chart");
      const box = h("div", "jt-card", h("div", "jt-card-head", h("span", "jt-card-title", layout.panel)), values, host);
      box.dataset.rank = String(layout.rank ?? 99);
      const after = [...systemGrid.children].find((other) => Number(other.dataset.rank) > (layout.rank ?? 99));
      systemGrid.insertBefore(box, after || null);
      const keys = new Set();
      p = { keys, values, unit: layout.unit, axis: layout.axis };
      p.view = new ChartView(host, systemSpec(p), runtime);
      p.view.rows = () => [...keys].flatMap((k) => store.get(k) || []);
      panels.set(layout.panel, p);
      emptySystem.hidden = true;
    }
    if (!p.keys.has(key)) {
      p.keys.add(key);
      p.view.remount(systemSpec(p));
      panelValues(p);
    }
    return p;
  }

  function rowObjects(key, raw) {
    const layout = key.startsWith("system/") ? (model.get("system_layout") || {})[key] : null;
    const label = layout ? layout.label : key;
    return raw.map(([b, step, value, time]) => ({ key, series: label, _b: b, step, value, time }));
  }

  function apply(seriesChanges) {
    const perView = new Map();
    for (const [key, change] of Object.entries(seriesChanges)) {
      const rows = rowObjects(key, change.rows);
      const kept = (store.get(key) || []).filter((row) => row._b < change.from);
      store.set(key, kept.concat(rows));
      const target = key.startsWith("system/") ? panel(key) : card(key);
      if (!target) continue;
      if (!perView.has(target.view)) perView.set(target.view, []);
      perView.get(target.view).push([key, change.from, rows]);
    }
    for (const [view, changes] of perView) view.apply(changes);
  }

  function loadSnapshot() {
    const snap = model.get("snapshot") || {};
    if (!snap.series || snap.seq <= applied) return;
    applied = snap.seq;
    store.clear();
    for (const [key, raw] of Object.entries(snap.series)) {
      store.set(key, rowObjects(key, raw));
      const target = key.startsWith("system/") ? panel(key) : card(key);
      if (target && target.view.mounted) target.view.mount();
    }
  }

  model.on("msg:custom", (msg) => {
    if (!msg || msg.type !== "rows" || msg.seq <= applied) return;
    applied = msg.seq;
    apply(msg.series || {});
  });

  // -- header, table, events, params ---------------------------------------------------------
  function renderInfo() {
    const info = model.get("info") || {};
    const status = info.status || "running";
    root.dataset.status = status;
    clear(badgeBox).append(badge(status));
    title.textContent = info.name || "";
    title.title = info.uuid || "";
    clear(meta).append(
      h("span", "jt-project", info.project || ""),
      h("span", "jt-sep", "·"),
      h("span", "", `run #${info.id}`),
      h("span", "jt-sep", "·"),
      h("span", "", `started ${dateTime((info.started || 0) * 1000)}`),
    );
    if (info.error) meta.append(h("span", "jt-sep", "·"), h("span", "jt-error-text", info.error));
    clear(tags);
    for (const tag of info.tags || []) tags.append(h("span", "jt-tag", tag));
    tick();
    if (status === "running" && !timer) timer = setInterval(tick, 1000);
    if (status !== "running" && timer) {
      clearInterval(timer);
      timer = null;
    }
  }

  function tick() {
    const info = model.get("info") || {};
    if (!info.started) return;
    const end = info.status === "running" ? Date.now() / 1000 : info.ended || info.started;
    const label = info.status === "running" ? "elapsed" : "took";
    clear(elapsed).append(h("span", "jt-elapsed-label", label), " ", duration(end - info.started));
  }

  function renderSummary() {
    const summary = model.get("summary") || {};
    clear(tbody);
    let n = 0;
    for (const [key, s] of Object.entries(summary)) {
      if (key.startsWith("system/")) continue;
      n += 1;
      const c = card(key);
      c.value.textContent = fmt(s.last, s.last_text);
      const latest = h("td", "jt-num jt-strong", fmt(s.last, s.last_text));
      const tr = h(
        "tr",
        "",
        h("td", "jt-key", key),
        latest,
        h("td", "jt-num", fmt(s.min)),
        h("td", "jt-num", fmt(s.max)),
        h("td", "jt-num jt-dim", fmt(s.count)),
        h("td", "jt-num jt-dim", fmt(s.step)),
      );
      tbody.append(tr);
    }
    tabs.metrics.count.textContent = n ? String(n) : "";
    table.parentElement.hidden = n === 0;
    for (const p of panels.values()) panelValues(p);
  }

  function panelValues(p) {
    const summary = model.get("summary") || {};
    const layouts = model.get("system_layout") || {};
    clear(p.values);
    for (const key of p.keys) {
      const s = summary[key];
      const layout = layouts[key];
      if (!s || !layout) continue;
      const dot = h("span", "jt-legend-dot");
      dot.style.background = PALETTE_OF([...p.keys].indexOf(key));
      p.values.append(h("span", "jt-chip", dot, h("span", "jt-dim", layout.label), " ", unitValue(s.last, layout.unit)));
    }
  }

  function renderEvents() {
    const events = model.get("events") || [];
    clear(eventList);
    const alerts = events.filter(isAlert);
    tabs.events.count.textContent = events.length ? String(events.length) : "";
    tabs.events.button.classList.toggle("jt-has-alert", alerts.length > 0);
    if (!events.length) eventList.append(h("div", "jt-empty", "No events. run.log_event(\"message\") adds one."));
    for (const event of [...events].reverse()) {
      const [time, level, message, extra] = event;
      const row = h(
        "div",
        `jt-event jt-level-${level}${isAlert(event) ? " jt-alert" : ""}`,
        h("span", "jt-event-time", clock(time)),
        h("span", `jt-level jt-level-${level}`, level),
        h("span", "jt-event-msg", message),
      );
      const extras = Object.entries(extra || {});
      if (extras.length) {
        const details = h("span", "jt-event-extra");
        for (const [k, v] of extras) details.append(h("span", "jt-chip", h("span", "jt-dim", k), " ", jsonText(v)));
        row.append(details);
      }
      eventList.append(row);
    }
    alertBar.hidden = alerts.length === 0;
    if (alerts.length) {
      const last = alerts[alerts.length - 1];
      clear(alertBar).append(
        h("span", "jt-alert-icon", "!"),
        h("strong", "", alerts.length === 1 ? "1 alert" : `${alerts.length} alerts`),
        h("span", "jt-alert-msg", last[2]),
        h("span", "jt-alert-time", clock(last[0])),
      );
    }
  }
  alertBar.addEventListener("click", () => show("events"));

  function renderParams() {
    const params = model.get("params") || {};
    const entries = Object.entries(params);
    clear(paramStrip);
    clear(paramTable);
    tabs.params.count.textContent = entries.length ? String(entries.length) : "";
    paramStrip.hidden = entries.length === 0;
    for (const [k, v] of entries.slice(0, 8)) {
      paramStrip.append(h("span", "jt-param", h("span", "jt-param-key", k), h("span", "jt-param-val", jsonText(v))));
    }
    if (entries.length > 8) paramStrip.append(h("span", "jt-dim", `+${entries.length - 8} more`));
    if (!entries.length) paramTable.append(h("tr", "", h("td", "jt-empty", "No params.")));
    for (const [k, v] of entries) paramTable.append(h("tr", "", h("td", "jt-key", k), h("td", "jt-mono", jsonText(v))));
  }

  renderInfo();
  renderParams();
  loadSnapshot();
  renderSummary();
  renderEvents();
  model.on("change:info", renderInfo);
  model.on("change:params", renderParams);
  model.on("change:summary", renderSummary);
  model.on("change:events", renderEvents);
  model.on("change:snapshot", () => {
    loadSnapshot();
    renderSummary();
  });
  return () => {
    if (timer) clearInterval(timer);
    for (const c of cards.values()) c.view.destroy();
    for (const p of panels.values()) p.view.destroy();
  };
}
