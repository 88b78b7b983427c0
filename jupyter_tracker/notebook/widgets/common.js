// Shared helpers of the inline widgets: DOM building, number/time formatting, theme-aware Vega views.
// This file is concatenated ahead of run_panel.js and compare.js; vega-embed comes from the kernel's runtime
// widget (see vegaRuntime; no CDN). User text only ever goes through textContent, never innerHTML.

const STATUS_LABEL = {
  running: "Running",
  finished: "Finished",
  failed: "Failed",
  interrupted: "Interrupted",
  crashed: "Crashed",
};
const ALERT_LEVELS = new Set(["warning", "error", "critical"]);

// vega-embed, once the runtime widget's module has run on this page. Front ends that create models only
// when something asks for them (one frame per output) are asked, by the model id in `runtime`.
const RUNTIME_WAIT_MS = 20000;

function vegaRuntime(model) {
  const slot = (globalThis[VEGA_RUNTIME] ??= {});
  if (slot.embed) return Promise.resolve(slot.embed);
  slot.ready ??= new Promise((resolve) => (slot.resolve = resolve));
  const ref = model?.get("runtime");
  if (ref && !slot.asked && model.widget_manager?.get_model) {
    slot.asked = true;
    Promise.resolve(model.widget_manager.get_model(ref.replace(/^IPY_MODEL_/, ""))).catch(() => {
      slot.asked = false;
    });
  }
  return slot.ready;
}

function h(tag, cls, ...children) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

const sig = new Intl.NumberFormat(undefined, { maximumSignificantDigits: 5 });

function fmt(value, text) {
  if (value === null || value === undefined) return text || "–";
  if (typeof value !== "number") return String(value);
  const a = Math.abs(value);
  if (a !== 0 && (a >= 1e7 || a < 1e-4)) return value.toExponential(3).replace("e+", "e");
  if (Number.isInteger(value)) return value.toLocaleString();
  return sig.format(value);
}

function duration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "–";
  const s = Math.max(0, seconds);
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(Math.floor(s % 60)).padStart(2, "0")} s`;
  const hours = Math.floor(m / 60);
  return `${hours} h ${String(m % 60).padStart(2, "0")} m`;
}

function clock(ms) {
  const d = new Date(ms);
  return d.toLocaleTimeString(undefined, { hour12: false });
}

function dateTime(ms) {
  if (!ms) return "–";
  const d = new Date(ms);
  return `${d.toLocaleDateString(undefined, { month: "short", day: "numeric" })} ${clock(ms)}`;
}

function badge(status) {
  const node = h("span", `jt-badge jt-${status}`, h("span", "jt-dot"), STATUS_LABEL[status] || status);
  node.dataset.status = status;
  return node;
}

function isAlert(event) {
  const extra = event[3] || {};
  return ALERT_LEVELS.has(event[1]) || (extra && Object.prototype.hasOwnProperty.call(extra, "alert"));
}

function jsonText(value) {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value);
  } catch (err) {
    return String(value);
  }
}

// Vega config that follows JupyterLab's theme (light or dark) through its --jp-* variables.
function themeConfig(node) {
  const cs = getComputedStyle(node);
  const v = (name, fallback) => (cs.getPropertyValue(name) || "").trim() || fallback;
  const text = v("--jp-ui-font-color2", "#5f6368");
  const strong = v("--jp-ui-font-color1", "#202124");
  const grid = v("--jp-border-color2", "#e0e0e0");
  const font = v("--jp-ui-font-family", "system-ui, -apple-system, Segoe UI, Roboto, sans-serif");
  return {
    background: null,
    font,
    view: { stroke: null },
    axis: {
      labelColor: text,
      titleColor: text,
      gridColor: grid,
      gridOpacity: 0.7,
      domainColor: grid,
      tickColor: grid,
      labelFontSize: 10,
      titleFontSize: 10,
      titleFontWeight: "normal",
      labelFlush: true,
    },
    legend: { labelColor: strong, labelFontSize: 11, symbolSize: 60, symbolStrokeWidth: 2 },
    title: { color: strong },
  };
}

function isDark(node) {
  const probe = getComputedStyle(node).getPropertyValue("--jp-layout-color0").trim();
  const m = probe.match(/^#([0-9a-f]{6})$/i);
  if (!m) return document.body.dataset.jpThemeLight === "false";
  const n = parseInt(m[1], 16);
  return ((n >> 16) & 255) * 0.3 + ((n >> 8) & 255) * 0.59 + (n & 255) * 0.11 < 128;
}

// One Vega view on the named dataset "table", resized with its box, updated by changesets.
class ChartView {
  constructor(host, template) {
    this.host = host;
    this.template = template;
    this.view = null;
    this.mounted = false; // drawn once the box has a width (attached to the page, its tab shown)
    this.rows = () => [];
    this.queue = Promise.resolve();
    this.width = 0;
    this.observer = new ResizeObserver(() => this.resize());
    this.observer.observe(host);
  }

  mount() {
    this.queue = this.queue.then(() => this._mount()).catch((err) => this._error(err));
    return this.queue;
  }

  async _mount() {
    if (this.view) {
      this.view.finalize();
      this.view = null;
    }
    clear(this.host);
    const spec = structuredClone(this.template);
    this.width = this.host.clientWidth;
    spec.width = Math.max(this.width - 4, 120);
    // resize: re-layout when data changes, or axis labels that appear later are clipped.
    spec.autosize = { type: "fit-x", contains: "padding", resize: true };
    spec.config = { ...(spec.config || {}), ...themeConfig(this.host) };
    spec.datasets = { table: this.rows().map((row) => ({ ...row })) };
    const vegaEmbed = await Promise.race([
      vegaRuntime(),
      new Promise((_, reject) =>
        setTimeout(
          () => reject(new Error("the chart library did not load: run the cell again")),
          RUNTIME_WAIT_MS,
        ),
      ),
    ]);
    const result = await vegaEmbed(this.host, spec, {
      actions: false,
      renderer: "svg",
      tooltip: { theme: isDark(this.host) ? "dark" : "light" },
    });
    this.view = result.view;
  }

  // changes: [[key, fromBucket, rows]]: drop the key's buckets >= fromBucket, then add rows.
  apply(changes) {
    if (!changes.length) return;
    this.queue = this.queue
      .then(async () => {
        const view = this.view;
        if (!view) return;
        const set = view.changeset();
        for (const [key, from, rows] of changes) {
          set.remove((d) => d.key === key && d._b >= from);
          set.insert(rows.map((row) => ({ ...row })));
        }
        await view.change("table", set).runAsync();
      })
      .catch((err) => this._error(err));
  }

  resize() {
    const width = this.host.clientWidth;
    if (!this.mounted && width >= 40) {
      this.mounted = true;
      this.mount();
      return;
    }
    if (!this.view || width < 40 || Math.abs(width - this.width) < 2) return;
    this.width = width;
    this.queue = this.queue
      .then(() => this.view && this.view.width(Math.max(width - 4, 120)).runAsync())
      .catch((err) => this._error(err));
  }

  remount(template) {
    this.template = template;
    if (this.mounted) this.mount();
  }

  destroy() {
    this.observer.disconnect();
    if (this.view) this.view.finalize();
    this.view = null;
  }

  _error(err) {
    clear(this.host).append(h("div", "jt-chart-error", `Chart failed: ${err && err.message ? err.message : err}`));
  }
}

function segmented(options, current, onChange) {
  const box = h("div", "jt-seg");
  const buttons = options.map(([value, label]) => {
    const b = h("button", value === current ? "jt-on" : "", label);
    b.type = "button";
    b.addEventListener("click", () => {
      for (const other of buttons) other.classList.toggle("jt-on", other === b);
      onChange(value);
    });
    box.append(b);
    return b;
  });
  return box;
}
