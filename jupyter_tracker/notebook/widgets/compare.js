// The comparison: filter, sort and select runs; params that differ are highlighted; the selected runs'
// series of one metric are overlaid in one chart, one colour per run (the colour of its table swatch).
// JupyterLab's extension draws it from the output's mime bundle, which carries the series of the first
// runs; others are asked for with model.send({type: "series"}) (the extension asks the kernel, when the
// notebook has one) and come back as a "msg:custom".

import { ChartView, badge, clear, dateTime, duration, fmt, h, segmented, unpack, vegaRuntime } from "./common.js";

const PAGE = 300;

export function renderCompare({ model, el }) {
  const columns = model.get("columns").map((c) => ({ ...c }));
  columns.forEach((c, i) => (c.starts = i > 0 && columns[i - 1].group !== c.group));
  const rows = model.get("rows");
  const byId = new Map(rows.map((row) => [row.id, row]));
  const palette = model.get("specs").palette;
  const cache = new Map(); // "metric|run" -> [[step, value, time]]
  const pending = new Set();
  let selected = [...model.get("selected")];
  let colours = new Map();
  let sortBy = null;
  let sortDir = -1;
  let limit = PAGE;
  let metric = (model.get("metrics") || [])[0] || null;
  let x = "step";

  const missing = new Set(); // "metric|run" the kernel could not give (no kernel, or it failed)
  for (const [name, data] of Object.entries(model.get("series") || {})) {
    for (const [run, packed] of Object.entries(data)) cache.set(`${name}|${run}`, unpack(packed));
  }

  const root = h("div", "jt-root jt-compare");
  el.append(root);

  // -- toolbar ------------------------------------------------------------------------------------
  const search = h("input", "jt-input");
  search.type = "search";
  search.placeholder = "Filter by name, tag or param…";
  const statusSelect = h("select", "jt-select");
  statusSelect.append(h("option", "", "all statuses"));
  statusSelect.options[0].value = "";
  for (const status of [...new Set(rows.map((r) => r.status))].sort()) {
    const option = h("option", "", status);
    option.value = status;
    statusSelect.append(option);
  }
  const tagSelect = h("select", "jt-select");
  tagSelect.append(h("option", "", "all tags"));
  tagSelect.options[0].value = "";
  const allTags = new Set(rows.flatMap((r) => (r.tags ? r.tags.split(", ") : [])));
  for (const tag of [...allTags].sort()) {
    const option = h("option", "", tag);
    option.value = tag;
    tagSelect.append(option);
  }
  tagSelect.hidden = allTags.size === 0;
  const counter = h("span", "jt-dim");
  const clearButton = h("button", "jt-link", "clear selection");
  clearButton.type = "button";
  root.append(
    h("div", "jt-head-line", h("span", "jt-title", "Run comparison"), h("span", "jt-spacer"), counter),
    h("div", "jt-toolbar", search, statusSelect, tagSelect, h("span", "jt-spacer"), clearButton),
  );

  // -- table ----------------------------------------------------------------------------------------
  const scroll = h("div", "jt-scroll");
  const table = h("table", "jt-table");
  const thead = h("thead");
  const tbody = h("tbody");
  table.append(thead, tbody);
  const more = h("div", "jt-more");
  scroll.append(table, more);
  root.append(scroll);

  // -- chart ----------------------------------------------------------------------------------------
  const metricSelect = h("select", "jt-select");
  for (const name of model.get("metrics") || []) {
    const option = h("option", "", name);
    option.value = name;
    metricSelect.append(option);
  }
  const axis = segmented(
    [
      ["step", "Step"],
      ["time", "Time"],
    ],
    x,
    (value) => {
      x = value;
      drawChart();
    },
  );
  const chartNote = h("span", "jt-dim");
  const chartHost = h("div", "jt-chart jt-chart-big");
  const chartBox = h(
    "div",
    "jt-chart-box",
    h("div", "jt-chart-head", h("span", "jt-card-title", "Overlay"), metricSelect, chartNote, h("span", "jt-spacer"), h("span", "jt-axis-label", "x-axis"), axis),
    chartHost,
  );
  chartBox.hidden = !metric;
  root.append(chartBox);
  const chart = new ChartView(chartHost, overlayTemplate(), () => vegaRuntime(model));
  chart.rows = chartRows;

  function overlayTemplate() {
    const spec = structuredClone(model.get("specs").overlay[x]);
    const labels = selected.filter((id) => byId.has(id)).map((id) => label(id));
    spec.encoding.color.scale = { domain: labels, range: selected.map((id) => colours.get(id)) };
    spec.encoding.y.title = metric;
    return spec;
  }

  function label(id) {
    const row = byId.get(id);
    const same = rows.filter((r) => r.name === row.name).length > 1;
    return same ? `${row.name} #${id}` : row.name;
  }

  function chartRows() {
    const out = [];
    for (const id of selected) {
      const points = cache.get(`${metric}|${id}`) || [];
      const name = label(id);
      for (const [step, value, time] of points) out.push({ key: String(id), label: name, _b: 0, step, value, time });
    }
    return out;
  }

  function drawChart() {
    if (!metric) return;
    const known = (id) => cache.has(`${metric}|${id}`) || missing.has(`${metric}|${id}`);
    const ask = selected.filter((id) => !known(id) && !pending.has(`${metric}|${id}`));
    if (ask.length) {
      for (const id of ask) pending.add(`${metric}|${id}`);
      model.send({ type: "series", metric, runs: ask });
    }
    const waiting = selected.some((id) => !known(id));
    const lost = selected.filter((id) => missing.has(`${metric}|${id}`)).length;
    chartNote.textContent = !selected.length
      ? "select runs in the table to overlay them"
      : waiting
        ? "loading series… (needs the kernel)"
        : lost
          ? `${selected.length - lost} of ${selected.length} runs: the others' series are not saved here; run the cell again`
          : `${selected.length} run${selected.length === 1 ? "" : "s"}`;
    chart.remount(overlayTemplate());
  }

  model.on("msg:custom", (msg) => {
    if (!msg || msg.type !== "series") return;
    for (const [run, points] of Object.entries(msg.data || {})) {
      cache.set(`${msg.metric}|${run}`, Array.isArray(points) ? points : unpack(points));
      pending.delete(`${msg.metric}|${run}`);
    }
    for (const run of msg.failed || []) {
      missing.add(`${msg.metric}|${run}`);
      pending.delete(`${msg.metric}|${run}`);
    }
    if (msg.metric === metric) drawChart();
  });

  metricSelect.addEventListener("change", () => {
    metric = metricSelect.value;
    drawChart();
  });

  // -- table logic ------------------------------------------------------------------------------------
  function assignColours() {
    const used = new Map();
    selected.forEach((id, i) => used.set(id, palette[i % palette.length]));
    colours = used;
  }

  function visibleRows() {
    const text = search.value.trim().toLowerCase();
    const status = statusSelect.value;
    const tag = tagSelect.value;
    let out = rows.filter((row) => {
      if (status && row.status !== status) return false;
      if (tag && !(row.tags || "").split(", ").includes(tag)) return false;
      if (!text) return true;
      return columns.some((c) => c.kind !== "number" && String(row[c.id] ?? "").toLowerCase().includes(text));
    });
    if (sortBy) {
      out = [...out].sort((a, b) => {
        const p = a[sortBy];
        const q = b[sortBy];
        if (p === null || p === undefined) return 1;
        if (q === null || q === undefined) return -1;
        return (typeof p === "number" && typeof q === "number" ? p - q : String(p).localeCompare(String(q), undefined, { numeric: true })) * sortDir;
      });
    }
    return out;
  }

  function differing(pool) {
    const out = new Set();
    for (const c of columns) {
      if (c.group !== "params") continue;
      const values = new Set(pool.map((row) => JSON.stringify(row[c.id] ?? null)));
      if (values.size > 1) out.add(c.id);
    }
    return out;
  }

  function cell(row, c) {
    const value = row[c.id];
    if (c.kind === "status") return badge(value);
    if (c.kind === "date") return dateTime(value);
    if (c.kind === "duration") return duration(value);
    if (c.id === "name") {
      const swatch = h("span", "jt-swatch");
      swatch.style.background = colours.get(row.id) || "transparent";
      return h("span", "jt-strong", swatch, value);
    }
    return fmt(value, "");
  }

  function renderHead(diff) {
    clear(thead);
    const groups = h("tr", "jt-group", h("th", "jt-check"));
    let last = null;
    for (const c of columns) {
      if (last && last.group === c.group) {
        last.th.colSpan += 1;
        continue;
      }
      const text = c.group === "run" || c.group === "more" ? "" : c.group;
      last = { group: c.group, th: h("th", c.starts ? "jt-start" : "", text) };
      last.th.colSpan = 1;
      groups.append(last.th);
    }
    const labels = h("tr", "", h("th", "jt-check"));
    for (const c of columns) {
      const arrow = sortBy === c.id ? (sortDir > 0 ? " ▲" : " ▼") : "";
      const th = h("th", `${sortBy === c.id ? "jt-sorted" : ""} ${diff.has(c.id) ? "jt-diff" : ""} ${c.starts ? "jt-start" : ""}`, c.label + arrow);
      th.title = diff.has(c.id) ? `${c.id}: differs between the selected runs` : `sort by ${c.id}`;
      th.addEventListener("click", () => {
        sortDir = sortBy === c.id ? -sortDir : c.kind === "number" || c.kind === "date" ? -1 : 1;
        sortBy = c.id;
        renderTable();
      });
      labels.append(th);
    }
    thead.append(groups, labels);
  }

  function renderTable() {
    assignColours();
    const shown = visibleRows();
    const chosen = selected.map((id) => byId.get(id)).filter(Boolean);
    const diff = differing(chosen.length >= 2 ? chosen : shown);
    renderHead(diff);
    clear(tbody);
    for (const row of shown.slice(0, limit)) {
      const box = h("input");
      box.type = "checkbox";
      box.checked = selected.includes(row.id);
      box.addEventListener("change", () => {
        selected = box.checked ? [...selected, row.id] : selected.filter((id) => id !== row.id);
        renderTable();
        drawChart();
      });
      const tr = h("tr", box.checked ? "jt-selected" : "", h("td", "jt-check", box));
      for (const c of columns) {
        const marked = diff.has(c.id) && (chosen.length < 2 || box.checked);
        const td = h("td", `${c.kind === "number" || c.kind === "duration" ? "jt-num" : ""} ${marked ? "jt-diff" : ""} ${c.starts ? "jt-start" : ""}`, cell(row, c));
        tr.append(td);
      }
      tr.dataset.run = String(row.id);
      tbody.append(tr);
    }
    more.hidden = shown.length <= limit;
    clear(more);
    if (shown.length > limit) {
      const button = h("button", "jt-link", `show all ${shown.length} runs`);
      button.type = "button";
      button.addEventListener("click", () => {
        limit = Infinity;
        renderTable();
      });
      more.append(`${shown.length - limit} more runs · `, button);
    }
    counter.textContent = `${shown.length} of ${rows.length} runs · ${selected.length} selected`;
  }

  for (const input of [search, statusSelect, tagSelect]) input.addEventListener("input", renderTable);
  clearButton.addEventListener("click", () => {
    selected = [];
    renderTable();
    drawChart();
  });

  renderTable();
  drawChart();
  return () => chart.destroy();
}
