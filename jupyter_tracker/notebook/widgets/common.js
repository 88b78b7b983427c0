// Shared helpers of the run panel and the comparison: DOM building, number/time formatting, theme-aware
// Vega views. An ES module: JupyterLab's extension imports it as is; for the anywidget the kernel joins the
// modules into one (assets.esm). User text only ever goes through textContent, never innerHTML.

export const STATUS_LABEL = {
  running: "Running",
  finished: "Finished",
  failed: "Failed",
  interrupted: "Interrupted",
  crashed: "Crashed",
};
const ALERT_LEVELS = new Set(["warning", "error", "critical"]);

// The page's vega-embed lives in this global slot, one per Vega-Lite version (a page may hold kernels of
// other versions). JupyterLab's extension puts a loader there (`load`); elsewhere the kernel's runtime
// widget fills in `embed`, made when a panel asks for it (assets.py: never saved in a notebook).
export const VEGA_RUNTIME = "__jupyterTrackerVega@6.4";
const RUNTIME_WAIT_MS = 20000;

export function vegaRuntime(model) {
  const slot = (globalThis[VEGA_RUNTIME] ??= {});
  if (slot.embed) return Promise.resolve(slot.embed);
  slot.ready ??= new Promise((resolve) => (slot.resolve = resolve));
  if (slot.load) {
    slot.loading ??= slot.load().then(
      (embed) => {
        slot.embed = embed;
        slot.resolve(embed);
      },
      () => (slot.loading = null),
    );
  } else if (model) {
    askKernel(model);
  }
  return slot.ready;
}

// The kernel answers {type: "runtime"} by pointing the panel's `runtime` trait at its runtime widget;
// creating that model (front ends that make models only on demand are asked for it) runs its module.
function askKernel(model) {
  const fetchModel = () => {
    const ref = model.get("runtime");
    if (ref && model.widget_manager?.get_model) {
      Promise.resolve(model.widget_manager.get_model(String(ref).replace(/^IPY_MODEL_/, ""))).catch(() => {});
    }
    return Boolean(ref);
  };
  if (fetchModel() || model.__jtAsked) return;
  model.__jtAsked = true;
  model.on("change:runtime", fetchModel);
  model.send({ type: "runtime" });
}

function withTimeout(promise) {
  return Promise.race([
    promise,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error("the chart library did not load: run the cell again")), RUNTIME_WAIT_MS),
    ),
  ]);
}

export function h(tag, cls, ...children) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

const sig = new Intl.NumberFormat(undefined, { maximumSignificantDigits: 5 });

export function fmt(value, text) {
  if (value === null || value === undefined) return text || "–";
  if (typeof value !== "number") return String(value);
  const a = Math.abs(value);
  if (a !== 0 && (a >= 1e7 || a < 1e-4)) return value.toExponential(3).replace("e+", "e");
  if (Number.isInteger(value)) return value.toLocaleString();
  return sig.format(value);
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "–";
  const s = Math.max(0, seconds);
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(Math.floor(s % 60)).padStart(2, "0")} s`;
  const hours = Math.floor(m / 60);
  return `${hours} h ${String(m % 60).padStart(2, "0")} m`;
}

export function clock(ms) {
  const d = new Date(ms);
  return d.toLocaleTimeString(undefined, { hour12: false });
}

export function dateTime(ms) {
  if (!ms) return "–";
  const d = new Date(ms);
  return `${d.toLocaleDateString(undefined, { month: "short", day: "numeric" })} ${clock(ms)}`;
}

export function badge(status) {
  const node = h("span", `jt-badge jt-${status}`, h("span", "jt-dot"), STATUS_LABEL[status] || status);
  node.dataset.status = status;
  return node;
}

export function isAlert(event) {
  const extra = event[3] || {};
  return ALERT_LEVELS.has(event[1]) || (extra && Object.prototype.hasOwnProperty.call(extra, "alert"));
}

export function jsonText(value) {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value);
  } catch (err) {
    return String(value);
  }
}

// Vega config that follows the front end's theme: JupyterLab's --jp-* variables, VS Code's --vscode-*
// ones, else colours that read on light and dark backgrounds. The chart background stays transparent.
export function themeConfig(node) {
  const cs = getComputedStyle(node);
  const v = (names, fallback) => {
    for (const name of names) {
      const value = (cs.getPropertyValue(name) || "").trim();
      if (value) return value;
    }
    return fallback;
  };
  const text = v(["--jp-ui-font-color2", "--vscode-descriptionForeground"], "#787c82");
  const strong = v(["--jp-ui-font-color1", "--vscode-editor-foreground"], "#787c82");
  const grid = v(["--jp-border-color2", "--vscode-editorWidget-border"], "#888888");
  const font = v(["--jp-ui-font-family", "--vscode-font-family"], "system-ui, -apple-system, Segoe UI, Roboto, sans-serif");
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

export function isDark(node) {
  const body = document.body;
  if (body.dataset.jpThemeLight) return body.dataset.jpThemeLight === "false";
  if (body.classList.contains("vscode-dark") || body.classList.contains("vscode-high-contrast")) return true;
  const probe = getComputedStyle(node).getPropertyValue("--jp-layout-color0").trim();
  const m = probe.match(/^#([0-9a-f]{6})$/i);
  if (m) {
    const n = parseInt(m[1], 16);
    return ((n >> 16) & 255) * 0.3 + ((n >> 8) & 255) * 0.59 + (n & 255) * 0.11 < 128;
  }
  return Boolean(globalThis.matchMedia?.("(prefers-color-scheme: dark)").matches);
}

// Theme switches: JupyterLab marks <body> (data-jp-theme-light, data-jp-theme-name) once the theme's CSS is
// in, and our extension also fires "jupyter-tracker-theme" on its themeChanged signal; VS Code swaps body
// classes; a plain page follows prefers-color-scheme. Listeners run when the colours really changed.
const themeListeners = new Set();
let themeWatch = null;

function themeKey() {
  const body = document.body;
  const cs = getComputedStyle(body);
  const dark = globalThis.matchMedia?.("(prefers-color-scheme: dark)").matches;
  return [body.dataset.jpThemeName, body.className, cs.getPropertyValue("--jp-ui-font-color1"), dark].join("|");
}

export function onThemeChange(listener) {
  themeListeners.add(listener);
  if (!themeWatch) {
    let last = themeKey();
    const check = () => {
      const now = themeKey();
      if (now === last) return;
      last = now;
      for (const fn of [...themeListeners]) fn();
    };
    // Lab hides and shows its shell around a switch: draw again once it is laid out.
    const soon = () => requestAnimationFrame(() => requestAnimationFrame(check));
    const observer = new MutationObserver(soon);
    observer.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-light", "data-jp-theme-name", "class"] });
    const media = globalThis.matchMedia?.("(prefers-color-scheme: dark)");
    media?.addEventListener?.("change", soon);
    globalThis.addEventListener?.("jupyter-tracker-theme", soon);
    themeWatch = observer;
  }
  return () => themeListeners.delete(listener);
}

// One Vega view on the named dataset "table", resized with its box, updated by changesets, drawn again
// when the theme changes. `runtime()` gives vega-embed.
export class ChartView {
  constructor(host, template, runtime) {
    this.host = host;
    this.template = template;
    this.runtime = runtime;
    this.view = null;
    this.mounted = false; // drawn once the box has a width (attached to the page, its tab shown)
    this.rows = () => [];
    this.queue = Promise.resolve();
    this.width = 0;
    this.observer = new ResizeObserver(() => this.resize());
    this.observer.observe(host);
    this.unwatch = onThemeChange(() => this.mounted && this.mount());
  }

  mount() {
    this.queue = this.queue.then(() => this._mount()).catch((err) => this._error(err));
    return this.queue;
  }

  async _mount() {
    const spec = structuredClone(this.template);
    const width = this.host.clientWidth || this.width;
    this.width = width;
    spec.width = Math.max(width - 4, 120);
    // resize: re-layout when data changes, or axis labels that appear later are clipped.
    spec.autosize = { type: "fit-x", contains: "padding", resize: true };
    spec.config = { ...(spec.config || {}), ...themeConfig(this.host) };
    spec.datasets = { table: this.rows().map((row) => ({ ...row })) };
    const vegaEmbed = await withTimeout(this.runtime());
    // The old view stays on screen until the new one is ready: a theme switch or a new x axis never flashes.
    const box = document.createElement("div");
    const result = await vegaEmbed(box, spec, {
      actions: false,
      renderer: "svg",
      tooltip: { theme: isDark(this.host) ? "dark" : "light" },
    });
    if (this.view) this.view.finalize();
    this.view = result.view;
    clear(this.host).append(box);
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
    this.unwatch();
    if (this.view) this.view.finalize();
    this.view = null;
  }

  _error(err) {
    clear(this.host).append(h("div", "jt-chart-error", `Chart failed: ${err && err.message ? err.message : err}`));
  }
}

// A saved output's series: {step, value, time} columns of comma-separated numbers, step and time (epoch
// ms) as differences from the previous point (saved.py packs them so), back to [step, value, time] points.
export function unpack(packed) {
  const column = (c) => (typeof c === "string" ? (c ? c.split(",").map(Number) : []) : c || []);
  const steps = column(packed?.step);
  const values = column(packed?.value);
  const times = column(packed?.time);
  const out = [];
  let step = 0;
  let time = 0;
  for (let i = 0; i < values.length; i++) {
    step += steps[i];
    time += times[i];
    out.push([step, values[i], time]);
  }
  return out;
}

// The nested parts of a saved output are JSON text (see saved.py).
const JSON_FIELDS = ["params", "summary", "events", "system_layout", "specs", "columns", "rows"];

function expand(data) {
  const out = { ...data };
  for (const name of JSON_FIELDS) if (typeof out[name] === "string") out[name] = JSON.parse(out[name]);
  return out;
}

// A model for a saved output: its data, no kernel behind it. `send` may be wired to one by the caller,
// who hands the answers to `emit("msg:custom", answer)`.
export function savedModel(data, send = () => {}) {
  const state = expand(data);
  if (state.series && !state.snapshot && state.info) {
    // A run: every series at once, as the live panel's snapshot ([bucket, step, value, time] rows).
    const series = {};
    for (const packed of state.series) series[packed.key] = unpack(packed).map((p, i) => [i, ...p]);
    state.snapshot = { seq: 1, series };
  }
  const listeners = [];
  return {
    get: (name) => state[name],
    on: (event, fn) => listeners.push([event, fn]),
    off: () => {},
    send,
    emit: (event, payload) => {
      for (const [name, fn] of listeners) if (name === event) fn(payload);
    },
  };
}

export function segmented(options, current, onChange) {
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
