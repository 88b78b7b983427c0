// Run card page script: interactive charts (vega-embed, inlined), print preparation, JSON download.
// Everything it shows comes from JSON blocks parsed with JSON.parse and DOM text APIs, never innerHTML.

const specsBlock = document.getElementById("jt-charts");
const specs = specsBlock ? JSON.parse(specsBlock.textContent) : {};

// Rows travel column by column ({"$columns": {...}, "$length": n}); Vega-Lite wants row objects.
function rows(packed) {
  const names = Object.keys(packed.$columns);
  const out = new Array(packed.$length);
  for (let i = 0; i < packed.$length; i++) {
    const row = {};
    for (const name of names) {
      const column = packed.$columns[name];
      row[name] = Array.isArray(column) ? column[i] : column.$repeat;
    }
    out[i] = row;
  }
  return out;
}

function inflate(node) {
  if (Array.isArray(node)) return node.map(inflate);
  if (node && typeof node === "object") {
    if ("$columns" in node && "$length" in node) return rows(node);
    const out = {};
    for (const [key, value] of Object.entries(node)) out[key] = inflate(value);
    return out;
  }
  return node;
}

function isSingleView(spec) {
  return !["facet", "repeat", "concat", "hconcat", "vconcat", "layer"].some((key) => key in spec);
}

const embedOptions = {
  renderer: "svg",
  // The editor and source views would leave the page; exporting SVG/PNG works offline.
  actions: { export: true, source: false, compiled: false, editor: false },
};

// Chart colours from the page's (light or dark) colours: charts drawn again when those change.
function themeConfig() {
  const css = getComputedStyle(document.documentElement);
  const v = (name) => css.getPropertyValue(name).trim();
  return {
    background: "transparent",
    axis: { labelColor: v("--muted"), titleColor: v("--muted"), gridColor: v("--line"), gridOpacity: 1,
            domainColor: v("--line-strong"), tickColor: v("--line-strong") },
    legend: { labelColor: v("--ink2"), titleColor: v("--muted") },
    title: { color: v("--ink") },
    header: { labelColor: v("--ink") },
  };
}

function merge(base, extra) {
  const out = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    out[key] = value && typeof value === "object" && !Array.isArray(value) ? merge(base?.[key] || {}, value) : value;
  }
  return out;
}

const views = [];

async function renderCharts() {
  const embed = window.vegaEmbed;
  const config = themeConfig();
  for (const view of views.splice(0)) view.finalize();
  for (const [id, packed] of Object.entries(typeof embed === "function" ? specs : {})) {
    const box = document.getElementById(id);
    if (!box) continue;
    const spec = inflate(packed);
    spec.config = merge(spec.config || {}, config);
    if (isSingleView(spec) && !box.classList.contains("chart-fixed")) {
      spec.width = "container";
      spec.autosize = { type: "fit-x", contains: "padding" };
    }
    try {
      const result = await embed(box.querySelector(".chart-live"), spec, embedOptions);
      views.push(result.view);
      box.dataset.state = "interactive";
    } catch (error) {
      box.dataset.state = "static";
      console.error("jupyter-tracker: chart", id, "kept static:", error);
    }
  }
  document.body.dataset.charts = "ready";
}

// Light or dark: the reader's system setting, unless the page that shows the card says (JupyterLab's card
// tab posts {type: "jupyter-tracker-theme", theme: "light" | "dark"} when its theme changes).
function setTheme(theme) {
  const root = document.documentElement;
  if (theme !== "light" && theme !== "dark") delete root.dataset.theme;
  else if (root.dataset.theme === theme) return;
  else root.dataset.theme = theme;
  renderCharts();
}
window.addEventListener("message", (event) => {
  if (event.data && event.data.type === "jupyter-tracker-theme") setTheme(event.data.theme);
});
window.matchMedia?.("(prefers-color-scheme: dark)").addEventListener?.("change", () => renderCharts());

// Printing shows what is folded away; the page folds it back afterwards.
window.addEventListener("beforeprint", () => {
  for (const details of document.querySelectorAll("details.fold:not([open])")) {
    details.dataset.printOpened = "1";
    details.open = true;
  }
});
window.addEventListener("afterprint", () => {
  for (const details of document.querySelectorAll("details[data-print-opened]")) {
    details.open = false;
    delete details.dataset.printOpened;
  }
});

for (const button of document.querySelectorAll("[data-action=download]")) {
  button.addEventListener("click", () => {
    const text = document.getElementById("jt-card").textContent;
    const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = document.body.dataset.download || "run.card.json";
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
}

for (const button of document.querySelectorAll("[data-copy]")) {
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(button.dataset.copy);
      button.dataset.done = "1";
      setTimeout(() => delete button.dataset.done, 1200);
    } catch (error) {
      console.warn("jupyter-tracker: clipboard unavailable", error);
    }
  });
}

for (const button of document.querySelectorAll("[data-action=toggle-same]")) {
  button.addEventListener("click", () => {
    const table = document.getElementById(button.dataset.target);
    const hidden = table.classList.toggle("only-diff");
    button.textContent = hidden ? "Show all" : "Only differences";
  });
}

document.documentElement.classList.add("js");
renderCharts();
