// The front end of attnbook.widgets.AttentionMap.
//
// Python computes every map the view can show (all heads, layers, steps); this file only
// draws them and handles interaction, so the view works the same in a live kernel and on
// the static website. Token text is always set with textContent, never as HTML. It follows
// shared.js (el, svgEl, fmt, viridis, rgb, saveChanges, redrawOnChange) in one ES module.

// Black text on light cells, white on dark ones (relative luminance).
function textOn(c) {
  const lum = (0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]) / 255;
  return lum > 0.5 ? "#000" : "#fff";
}

// Long tokens are shortened on the axes; the full text stays in the readout and tooltips.
const MAX_LABEL = 16;
function shortLabel(token) {
  const chars = [...token];
  return chars.length > MAX_LABEL ? chars.slice(0, MAX_LABEL - 1).join("") + "…" : token;
}

// Width in pixels of a token label, estimated without layout so drawing stays synchronous.
function labelWidth(tokens, px) {
  const longest = tokens.reduce((m, t) => Math.max(m, [...shortLabel(t)].length), 1);
  return Math.min(160, Math.ceil(longest * px * 0.62) + 8);
}

// Index of the selected map in the flat list Python sends (row-major over the axes).
function flatIndex(selection, axisLabels) {
  let index = 0;
  for (let a = 0; a < axisLabels.length; a++) {
    index = index * axisLabels[a].length + (selection[a] || 0);
  }
  return index;
}

function drawHeatmap(svgHost, state, setReadout) {
  const { rows, cols, map, vmax, decimals, rowName, colName } = state;
  const cell = Math.max(10, Math.min(34, Math.floor(520 / Math.max(cols.length, rows.length))));
  const font = Math.max(9, Math.min(13, cell - 4));
  const left = labelWidth(rows, font) + 4;
  const top = labelWidth(cols, font) * 0.75 + 8;
  const width = left + cell * cols.length + 70;
  const height = top + cell * rows.length + 8;
  const svg = svgEl("svg", {
    // Not role="img": that would hide the focusable map from assistive technology.
    width, height, viewBox: `0 0 ${width} ${height}`, class: "amap-svg amap-heatmap",
    role: "group",
    "aria-label": localize("Attention heatmap: {rows} {rowName} rows by {cols} {colName} columns; "
      + "the arrow keys move from cell to cell",
    { rows: rows.length, rowName, cols: cols.length, colName }),
  });
  const showValues = cell >= 30 && rows.length * cols.length <= 100;
  const rowLabels = [];
  const colLabels = [];
  rows.forEach((tok, i) => {
    const t = svgEl("text", {
      x: left - 6, y: top + cell * i + cell / 2, "text-anchor": "end",
      "dominant-baseline": "central", "font-size": font, class: "amap-token amap-row-token",
    }, shortLabel(tok));
    rowLabels.push(t);
    svg.appendChild(t);
  });
  cols.forEach((tok, j) => {
    const x = left + cell * j + cell / 2;
    const t = svgEl("text", {
      x, y: top - 6, transform: `rotate(-45 ${x} ${top - 6})`, "text-anchor": "start",
      "font-size": font, class: "amap-token amap-col-token",
    }, shortLabel(tok));
    colLabels.push(t);
    svg.appendChild(t);
  });
  const rects = rows.map(() => []);
  const clear = () => {
    rowLabels.forEach((t) => t.classList.remove("amap-active"));
    colLabels.forEach((t) => t.classList.remove("amap-active"));
    rects.flat().forEach((r) => r.classList.remove("amap-focus"));
  };
  // Point at one cell, by mouse or keyboard: highlight its tokens and show its weight.
  let active = null;
  const select = (i, j) => {
    clear();
    active = [i, j];
    rowLabels[i].classList.add("amap-active");
    colLabels[j].classList.add("amap-active");
    rects[i][j].classList.add("amap-focus");
    setReadout(`${rows[i]} → ${cols[j]}: ${fmt(map[i][j], decimals)}`);
  };
  rows.forEach((q, i) => {
    cols.forEach((k, j) => {
      const w = map[i][j];
      const c = viridis(vmax > 0 ? w / vmax : 0);
      const rect = svgEl("rect", {
        x: left + cell * j, y: top + cell * i, width: cell - 1, height: cell - 1,
        fill: rgb(c), class: "amap-cell", "data-q": i, "data-k": j, "data-w": w,
      });
      rect.appendChild(svgEl("title", {}, `${q} → ${k}: ${fmt(w, decimals)}`));
      rect.addEventListener("mouseenter", () => select(i, j));
      rects[i].push(rect);
      svg.appendChild(rect);
      if (showValues) {
        svg.appendChild(svgEl("text", {
          x: left + cell * j + (cell - 1) / 2, y: top + cell * i + (cell - 1) / 2,
          "text-anchor": "middle", "dominant-baseline": "central",
          "font-size": Math.min(11, font - 1), style: `fill: ${textOn(c)}`, class: "amap-value",
          "pointer-events": "none",
        }, fmt(w, Math.min(decimals, 2))));
      }
    });
  });
  svg.addEventListener("mouseleave", () => { clear(); active = null; setReadout(null); });
  // Keyboard: Tab to the heatmap, then arrow keys move from cell to cell.
  svg.setAttribute("tabindex", "0");
  svg.addEventListener("focus", () => { if (!active) select(0, 0); });
  svg.addEventListener("blur", () => { clear(); active = null; setReadout(null); });
  svg.addEventListener("keydown", (event) => {
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    const [i, j] = active || [0, 0];
    select(Math.min(rows.length - 1, Math.max(0, i + move[0])),
      Math.min(cols.length - 1, Math.max(0, j + move[1])));
  });
  // Colour bar: the scale is shared by every map of the widget, so maps can be compared.
  const barX = left + cell * cols.length + 16;
  const barH = Math.max(60, cell * rows.length);
  const steps = 24;
  for (let s = 0; s < steps; s++) {
    svg.appendChild(svgEl("rect", {
      x: barX, y: top + barH - ((s + 1) * barH) / steps, width: 10, height: barH / steps + 0.5,
      fill: rgb(viridis(s / (steps - 1))), class: "amap-bar",
    }));
  }
  svg.appendChild(svgEl("text", { x: barX + 14, y: top + 8, "font-size": 10, class: "amap-tick" },
    fmt(vmax, 2)));
  svg.appendChild(svgEl("text", { x: barX + 14, y: top + barH, "font-size": 10, class: "amap-tick" },
    "0"));
  if (barH + top > height) svg.setAttribute("height", barH + top + 8);
  svgHost.appendChild(svg);
}

function drawLines(svgHost, state, setReadout) {
  const { rows, cols, map, vmax, decimals, rowName, colName } = state;
  const gap = Math.max(16, Math.min(26, Math.floor(520 / Math.max(rows.length, cols.length))));
  const font = Math.max(9, Math.min(13, gap - 5));
  const leftW = labelWidth(rows, font);
  const rightW = labelWidth(cols, font);
  const span = 150;
  const width = leftW + span + rightW + 16;
  const height = 24 + gap * Math.max(rows.length, cols.length);
  const svg = svgEl("svg", {
    // Not role="img": that would hide the focusable tokens from assistive technology.
    width, height, viewBox: `0 0 ${width} ${height}`, class: "amap-svg amap-lines",
    role: "group",
    "aria-label": localize("Attention lines from {rows} {rowName} tokens to {cols} {colName} tokens",
      { rows: rows.length, rowName, cols: cols.length, colName }),
  });
  const x0 = leftW + 4;
  const x1 = leftW + 4 + span;
  svg.appendChild(svgEl("text", { x: x0, y: 12, "text-anchor": "end", "font-size": 11, class: "amap-axis-name" }, rowName));
  svg.appendChild(svgEl("text", { x: x1, y: 12, "text-anchor": "start", "font-size": 11, class: "amap-axis-name" }, colName));
  const yOf = (i) => 24 + gap * i + gap / 2;
  const lines = [];
  rows.forEach((q, i) => {
    cols.forEach((k, j) => {
      const w = map[i][j];
      const frac = vmax > 0 ? w / vmax : 0;
      const line = svgEl("line", {
        x1: x0 + 4, y1: yOf(i), x2: x1 - 4, y2: yOf(j),
        "stroke-width": (0.3 + 5.5 * frac).toFixed(2), "stroke-opacity": (0.08 + 0.85 * frac).toFixed(3),
        class: "amap-line", "data-q": i, "data-k": j, "data-w": w,
      });
      line.appendChild(svgEl("title", {}, `${q} → ${k}: ${fmt(w, decimals)}`));
      line.addEventListener("mouseenter", () => setReadout(`${q} → ${k}: ${fmt(w, decimals)}`));
      lines.push(line);
      svg.appendChild(line);
    });
  });
  const focusRow = (i) => {
    lines.forEach((ln) => ln.classList.toggle("amap-dim", i !== null && Number(ln.dataset.q) !== i));
  };
  rows.forEach((q, i) => {
    const t = svgEl("text", {
      x: x0, y: yOf(i), "text-anchor": "end", "dominant-baseline": "central",
      "font-size": font, class: "amap-token amap-row-token", tabindex: 0,
    }, shortLabel(q));
    const show = () => {
      focusRow(i);
      let best = 0;
      map[i].forEach((w, j) => { if (w > map[i][best]) best = j; });
      setReadout(`${q} → ${cols[best]}: ${fmt(map[i][best], decimals)}${localize(" (strongest)")}`);
    };
    t.addEventListener("mouseenter", show);
    t.addEventListener("focus", show);
    svg.appendChild(t);
  });
  cols.forEach((k, j) => {
    svg.appendChild(svgEl("text", {
      x: x1, y: yOf(j), "text-anchor": "start", "dominant-baseline": "central",
      "font-size": font, class: "amap-token amap-col-token",
    }, shortLabel(k)));
  });
  svg.addEventListener("mouseleave", () => { focusRow(null); setReadout(null); });
  svgHost.appendChild(svg);
}

function render({ model, el: host }) {
  const root = el("div", { class: "attnbook-view attnbook-amap" });
  const title = el("div", { class: "ab-title amap-title" });
  const controls = el("div", { class: "amap-controls" });
  const readout = el("div", { class: "ab-readout amap-readout", "aria-live": "polite" });
  const svgHost = el("div", { class: "amap-figure" });
  root.append(title, controls, svgHost, readout);
  host.appendChild(root);

  // What the mouse and the keys do, shown while nothing is pointed at.
  const hint = () => (model.get("view") === "lines"
    ? localize("Hover a token on the left, or reach it with Tab, to see where it looks.")
    : localize("Hover a cell, or Tab to the map and move with the arrow keys: {row} → {col}: weight",
      { row: model.get("row_name"), col: model.get("col_name") }));
  const setReadout = (text) => { readout.textContent = text === null ? hint() : text; };

  const setSelection = (axis, value) => {
    const selection = [...model.get("selection")];
    selection[axis] = value;
    model.set("selection", selection);
    saveChanges(model);
  };
  const setView = (view) => {
    model.set("view", view);
    saveChanges(model);
  };

  // The controls are built once per set of axes and only updated when the selection changes,
  // so a slider being dragged is never replaced under the reader's pointer.
  let controlsKey = null;
  function buildControls() {
    controls.replaceChildren();
    const axes = model.get("axes");
    const labels = model.get("axis_labels");
    axes.forEach((name, a) => {
      const group = el("div", { class: "amap-axis", role: "group", "aria-label": name });
      group.appendChild(el("span", { class: "amap-axis-name" }, `${name}:`));
      if (labels[a].length <= 16) {
        labels[a].forEach((label, v) => {
          const b = el("button", {
            type: "button", class: "ab-choice amap-choice", "data-value": v,
          }, label);
          b.addEventListener("click", () => setSelection(a, v));
          group.appendChild(b);
        });
      } else {
        const range = el("input", {
          type: "range", min: 0, max: labels[a].length - 1, step: 1, value: 0,
          class: "amap-range", "aria-label": name,
        });
        range.addEventListener("input", () => setSelection(a, Number(range.value)));
        group.append(range, el("span", { class: "amap-range-value" }));
      }
      controls.appendChild(group);
    });
    const viewGroup = el("div", { class: "amap-view", role: "group", "aria-label": localize("view") });
    for (const [view, label] of [["heatmap", localize("Heatmap")], ["lines", localize("Lines")]]) {
      const b = el("button", {
        type: "button", class: "ab-choice amap-choice", "data-view": view,
      }, label);
      b.addEventListener("click", () => setView(view));
      viewGroup.appendChild(b);
    }
    controls.appendChild(viewGroup);
  }

  function syncControls() {
    const key = JSON.stringify([model.get("axes"), model.get("axis_labels")]);
    if (key !== controlsKey) {
      buildControls();
      controlsKey = key;
    }
    const labels = model.get("axis_labels");
    const selection = model.get("selection");
    controls.querySelectorAll(".amap-axis").forEach((group, a) => {
      group.querySelectorAll("button").forEach((b) => {
        b.setAttribute("aria-pressed", String(Number(b.dataset.value) === selection[a]));
      });
      const range = group.querySelector("input");
      if (range) {
        if (Number(range.value) !== selection[a]) range.value = String(selection[a]);
        group.querySelector(".amap-range-value").textContent = labels[a][selection[a]];
      }
    });
    controls.querySelectorAll(".amap-view button").forEach((b) => {
      b.setAttribute("aria-pressed", String(b.dataset.view === model.get("view")));
    });
  }

  function draw() {
    title.textContent = model.get("title");
    title.hidden = !model.get("title");
    syncControls();
    svgHost.replaceChildren();
    const weights = model.get("weights");
    const index = flatIndex(model.get("selection"), model.get("axis_labels"));
    const state = {
      rows: model.get("row_tokens"),
      cols: model.get("col_tokens"),
      map: weights[Math.min(index, weights.length - 1)],
      vmax: model.get("vmax"),
      decimals: model.get("decimals"),
      rowName: model.get("row_name"),
      colName: model.get("col_name"),
    };
    if (model.get("view") === "lines") drawLines(svgHost, state, setReadout);
    else drawHeatmap(svgHost, state, setReadout);
    setReadout(null);
  }

  draw();
  // One redraw however many of these change together (update() in Python sets seven).
  return redrawOnChange(model, ["weights", "selection", "view", "row_tokens", "col_tokens",
    "axes", "axis_labels", "title", "vmax", "decimals", "row_name", "col_name"], draw);
}

export default { render };
