// The front end of attnbook.widgets.DecodingView.
//
// Python computes every step of every example; this file only draws the step the reader
// picks and reacts, so the view works the same in a live kernel and on the static website.
// Token text is always set with textContent, never as HTML. It follows shared.js (el, svgEl,
// fmt, saveChanges, redrawOnChange) in one ES module.

// A row of token chips; `mark` is the index drawn as the newest one (or -1).
function chips(tokens, mark, kind) {
  const row = el("span", { class: `dview-chips dview-${kind}` });
  tokens.forEach((tok, i) => {
    const chip = el("span", { class: "dview-chip" + (i === mark ? " dview-new" : "") }, tok);
    row.appendChild(chip);
  });
  return row;
}

// Horizontal bars, one per shown token; the chosen one is highlighted.
function drawBars(host, labels, probs, chosen, decimals) {
  const rowH = 18;
  const labelW = Math.min(120, 14 + 9 * labels.reduce((m, t) => Math.max(m, [...t].length), 1));
  const barW = 260;
  const width = labelW + barW + 120;
  const height = rowH * labels.length + 6;
  const svg = svgEl("svg", {
    // role="img" fits: nothing inside the bars can be focused or operated.
    width, height, viewBox: `0 0 ${width} ${height}`, class: "dview-bars", role: "img",
    "aria-label": localize("Output distribution over {n} tokens; chosen: {chosen}",
      { n: labels.length, chosen: labels[chosen] }),
  });
  labels.forEach((tok, i) => {
    const y = 3 + rowH * i;
    const p = probs[i];
    const isChosen = i === chosen;
    const g = svgEl("g", {
      class: "dview-bar" + (isChosen ? " dview-chosen" : ""), "data-token": i, "data-p": p,
    });
    g.appendChild(svgEl("text", {
      x: labelW - 6, y: y + rowH / 2, "text-anchor": "end", "dominant-baseline": "central",
      class: "dview-token", "font-size": 13,
    }, tok));
    g.appendChild(svgEl("rect", {
      x: labelW, y: y + 2, width: barW, height: rowH - 4, class: "dview-track",
    }));
    g.appendChild(svgEl("rect", {
      x: labelW, y: y + 2, width: Math.max(0, Math.min(1, p)) * barW, height: rowH - 4,
      class: "dview-fill",
    }));
    g.appendChild(svgEl("text", {
      x: labelW + barW + 6, y: y + rowH / 2, "dominant-baseline": "central",
      class: "dview-value", "font-size": 12,
    }, fmt(p, decimals) + (isChosen ? "  ← chosen" : "")));
    g.appendChild(svgEl("title", {}, `${tok}: ${fmt(p, decimals)}`));
    svg.appendChild(g);
  });
  host.appendChild(svg);
}

function render({ model, el: host }) {
  const root = el("div", { class: "attnbook-view attnbook-dview" });
  const title = el("div", { class: "ab-title dview-title" });
  const controls = el("div", { class: "dview-controls" });
  const examplesGroup = el("div", { class: "dview-examples", role: "group", "aria-label": localize("example") });
  const stepGroup = el("div", { class: "dview-steps", role: "group", "aria-label": localize("step") });
  controls.append(examplesGroup, stepGroup);
  const state = el("div", { class: "dview-state" });
  const barsHost = el("div", { class: "dview-figure" });
  const readout = el("div", { class: "ab-readout dview-readout", "aria-live": "polite" });
  root.append(title, controls, state, barsHost, readout);
  host.appendChild(root);

  const nSteps = () => model.get("examples")[model.get("example")].choices.length;
  const setStep = (value) => {
    const step = Math.max(0, Math.min(nSteps() - 1, value));
    if (step === model.get("step")) return;
    model.set("step", step);
    saveChanges(model);
  };
  const setExample = (value) => {
    model.set("example", value);
    const n = model.get("examples")[value].choices.length;
    if (model.get("step") >= n) model.set("step", n - 1);
    saveChanges(model);
  };

  // Controls are built once per set of examples and updated in place afterwards, so that a
  // slider being dragged is never replaced under the reader's pointer.
  let range = null;
  let stepLabel = null;
  let controlsKey = null;
  function buildControls() {
    examplesGroup.replaceChildren(el("span", { class: "dview-name" }, localize("input:")));
    model.get("examples").forEach((ex, i) => {
      const b = el("button", { type: "button", class: "ab-choice dview-choice", "data-example": i }, ex.source);
      b.addEventListener("click", () => setExample(i));
      examplesGroup.appendChild(b);
    });
    stepGroup.replaceChildren(el("span", { class: "dview-name" }, localize("step:")));
    const prev = el("button", { type: "button", class: "ab-choice dview-choice dview-prev", "aria-label": localize("previous step") }, "◀");
    const next = el("button", { type: "button", class: "ab-choice dview-choice dview-next", "aria-label": localize("next step") }, "▶");
    range = el("input", { type: "range", min: 0, max: 0, step: 1, value: 0, class: "dview-range", "aria-label": localize("decoding step") });
    stepLabel = el("span", { class: "dview-step-value" });
    prev.addEventListener("click", () => setStep(model.get("step") - 1));
    next.addEventListener("click", () => setStep(model.get("step") + 1));
    range.addEventListener("input", () => setStep(Number(range.value)));
    stepGroup.append(prev, range, next, stepLabel);
  }

  function draw() {
    title.textContent = model.get("title");
    title.hidden = !model.get("title");
    const examples = model.get("examples");
    const key = JSON.stringify(examples.map((e) => e.source));
    if (key !== controlsKey) {
      buildControls();
      controlsKey = key;
    }
    const exIndex = Math.min(model.get("example"), examples.length - 1);
    const ex = examples[exIndex];
    const n = ex.choices.length;
    const step = Math.min(model.get("step"), n - 1);
    examplesGroup.querySelectorAll("button").forEach((b) => {
      b.setAttribute("aria-pressed", String(Number(b.dataset.example) === exIndex));
    });
    range.max = String(n - 1);
    if (Number(range.value) !== step) range.value = String(step);
    stepLabel.textContent = localize("{step} of {total}", { step: step + 1, total: n });

    const vocab = model.get("vocab");
    const shown = model.get("shown");
    const labels = shown.map((id) => vocab[id]);
    const decimals = model.get("decimals");
    const begin = model.get("begin");
    const end = model.get("end");
    const chosenId = ex.choices[step];
    const chosen = vocab[chosenId];
    const inputs = [begin, ...ex.choices.slice(0, step).map((c) => vocab[c])];
    const outputs = ex.choices.slice(0, step + 1).map((c) => vocab[c]);
    const probs = ex.probs[step];
    const chosenRow = shown.indexOf(chosenId);

    state.replaceChildren();
    const line = (name, node) => {
      const div = el("div", { class: "dview-line" });
      div.append(el("span", { class: "dview-name" }, name), node);
      state.appendChild(div);
    };
    line(localize("encoder input:"), chips([...ex.source], -1, "source"));
    line(localize("decoder input:"), chips(inputs, inputs.length - 1, "input"));
    line(localize("output so far:"), chips(outputs, outputs.length - 1, "output"));
    barsHost.replaceChildren();
    drawBars(barsHost, labels, probs, chosenRow, decimals);
    const last = step === n - 1;
    let text = localize("Step {step}: after {inputs}, the decoder chooses {chosen} (p = {p}).", {
      step: step + 1, inputs: inputs.join(" "), chosen, p: fmt(probs[chosenRow], decimals) });
    if (chosen === end) text += localize(" END: decoding stops.");
    else if (last) text += localize(" The step limit is reached.");
    else text += localize(" It becomes the next step's input.");
    readout.textContent = text;
  }

  draw();
  // One redraw however many of these change together (choosing an example may move the step).
  return redrawOnChange(model, ["examples", "example", "step", "vocab", "shown", "title",
    "decimals", "begin", "end"], draw);
}

export default { render };
