// The front end of attnbook.widgets.MemoryView.
//
// Python computes the memory of every method at every sequence length; this file draws the
// bars for the length the reader picks with the slider, so the view works the same in a live
// kernel and on the static website. Every text is set with textContent, never as HTML. It
// follows shared.js (el, svgEl, saveChanges, redrawOnChange) in one ES module.

// Okabe-Ito colours (told apart by colour-blind readers), one per method, in order.
const COLORS = ["#D55E00", "#0072B2", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#F0E442"];
const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

// The same text as attnbook.widgets.memory_view.format_bytes in Python.
export function formatBytes(n) {
  let unit = 0;
  while (n >= 1024 && unit < UNITS.length - 1) {
    n /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${Math.round(n)} B`;
  const digits = n < 10 ? 2 : n < 100 ? 1 : 0;
  return `${n.toFixed(digits)} ${UNITS[unit]}`;
}

// 4096 -> "4,096", whatever the reader's locale.
export function formatInt(n) {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

const LABEL_W = 110; // method names
const BAR_W = 300; // the bars' logarithmic axis
const TEXT_W = 250; // the sizes written after each bar
const ROW_H = 30;
const TOP = 26; // room for the grid labels

function drawBars(host, state) {
  const { methods, row, measured, budget, budgetLabel, lo, hi } = state;
  const width = LABEL_W + BAR_W + TEXT_W;
  const height = TOP + ROW_H * methods.length + (budget > 0 ? 22 : 6);
  const svg = svgEl("svg", {
    // role="img" fits: nothing inside the bars can be focused or operated.
    width, height, viewBox: `0 0 ${width} ${height}`, class: "mv-svg", role: "img",
    "aria-label": localize("Memory of each method at the chosen length, on a logarithmic scale"),
  });
  const x = (bytes) => LABEL_W + (BAR_W * (Math.log(bytes) - Math.log(lo)))
    / (Math.log(hi) - Math.log(lo));
  // Grid: one line per power of 1024 (1 KiB, 1 MiB, ...) inside the scale.
  for (let p = Math.ceil(Math.log(lo) / Math.log(1024)); 1024 ** p <= hi; p++) {
    const gx = x(1024 ** p);
    svg.appendChild(svgEl("line", {
      x1: gx, x2: gx, y1: TOP - 4, y2: TOP + ROW_H * methods.length, class: "mv-grid",
    }));
    svg.appendChild(svgEl("text", {
      x: gx, y: TOP - 10, "text-anchor": "middle", "font-size": 11, class: "mv-tick",
    }, `1 ${UNITS[p]}`));
  }
  methods.forEach((name, m) => {
    const y = TOP + ROW_H * m;
    const bytes = row[m];
    const over = budget > 0 && bytes > budget;
    const g = svgEl("g", { class: over ? "mv-row mv-over" : "mv-row", "data-method": m });
    g.appendChild(svgEl("text", {
      x: LABEL_W - 8, y: y + ROW_H / 2, "text-anchor": "end", "dominant-baseline": "central",
      "font-size": 13, class: "mv-method",
    }, name));
    const bar = svgEl("rect", {
      x: LABEL_W, y: y + 5, width: Math.max(1, x(bytes) - LABEL_W), height: ROW_H - 10,
      fill: COLORS[m % COLORS.length], class: "mv-bar", "data-bytes": bytes,
    });
    bar.appendChild(svgEl("title", {}, `${name}: ${formatBytes(bytes)}`));
    g.appendChild(bar);
    let text = formatBytes(bytes);
    if (measured[m] !== null && measured[m] !== undefined) {
      text += ` (measured ${formatBytes(measured[m])})`;
    }
    if (over) text += " does not fit";
    g.appendChild(svgEl("text", {
      x: LABEL_W + BAR_W + 8, y: y + ROW_H / 2, "dominant-baseline": "central",
      "font-size": 13, class: "mv-value",
    }, text));
    svg.appendChild(g);
  });
  if (budget > 0) {
    const bx = x(budget);
    const bottom = TOP + ROW_H * methods.length;
    svg.appendChild(svgEl("line", {
      x1: bx, x2: bx, y1: TOP - 4, y2: bottom + 4, class: "mv-budget",
    }));
    svg.appendChild(svgEl("text", {
      x: bx, y: bottom + 16, "text-anchor": "middle", "font-size": 11, class: "mv-budget-label",
    }, budgetLabel || formatBytes(budget)));
  }
  host.appendChild(svg);
}

function render({ model, el: host }) {
  const root = el("div", { class: "attnbook-view attnbook-memview" });
  const title = el("div", { class: "ab-title mv-title" });
  const controls = el("div", { class: "mv-controls" });
  const label = el("label", { class: "mv-label" }, localize("sequence length n:"));
  const range = el("input", {
    type: "range", min: 0, step: 1, class: "mv-range", "aria-label": localize("sequence length n"),
  });
  const shown = el("span", { class: "mv-n" });
  label.appendChild(range);
  controls.append(label, shown);
  const figure = el("div", { class: "mv-figure" });
  const readout = el("div", { class: "ab-readout mv-readout", "aria-live": "polite" });
  root.append(title, controls, figure, readout);
  host.appendChild(root);

  range.addEventListener("input", () => {
    model.set("index", Number(range.value));
    saveChanges(model);
  });

  function draw() {
    const sizes = model.get("sizes");
    const methods = model.get("methods");
    const values = model.get("values");
    const measured = model.get("measured");
    const budget = model.get("budget");
    const index = Math.min(Math.max(0, model.get("index")), sizes.length - 1);
    title.textContent = model.get("title");
    title.hidden = !model.get("title");
    // The slider is updated in place, never rebuilt, so a drag is not interrupted.
    range.max = String(sizes.length - 1);
    if (Number(range.value) !== index) range.value = String(index);
    range.setAttribute("aria-valuetext", `n = ${formatInt(sizes[index])}`);
    shown.textContent = `n = ${formatInt(sizes[index])}`;
    // One scale for every n, so that the bars grow as the reader moves the slider.
    const all = values.flat().concat(measured.flat().filter((v) => v !== null && v > 0));
    if (budget > 0) all.push(budget);
    const lo = Math.min(...all) / 2;
    const hi = Math.max(...all) * 1.5;
    figure.replaceChildren();
    drawBars(figure, {
      methods, row: values[index], measured: measured[index] || [], budget,
      budgetLabel: model.get("budget_label"), lo, hi,
    });
    readout.textContent = `n = ${formatInt(sizes[index])}: ` + methods
      .map((name, m) => `${name} ${formatBytes(values[index][m])}`).join(" · ");
  }

  draw();
  return redrawOnChange(model, ["sizes", "methods", "values", "measured", "budget",
    "budget_label", "title", "index"], draw);
}

export default { render };
