// Helpers shared by the front ends of attnbook's views (AttentionMap, DecodingView, MemoryView).
//
// There is no bundler: attnbook/widgets/_front_end.py puts this file's text before each view's
// own file to make the one ES module that anywidget loads (the view's _esm). So the views use
// these names without importing them, this file exports nothing, and the view's file holds the
// module's one default export. Text is always set with textContent, never as HTML.

const SVG_NS = "http://www.w3.org/2000/svg";

// An HTML element with attributes and, if given, text.
function el(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

// An SVG element with attributes and, if given, text.
function svgEl(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = text;
  return node;
}

// A number with a fixed number of decimals (Python sends numbers already rounded to them).
function fmt(x, decimals) {
  return Number(x).toFixed(decimals);
}

// Tell the kernel what the reader changed. On the static website there is no kernel to tell
// and save_changes throws; the view still updates, since it redraws from the model.
function saveChanges(model) {
  try {
    model.save_changes();
  } catch (e) {
    // No kernel: nothing to do.
  }
}

// Call `redraw` once per batch of changes to the traits `names`. One Python update (or one
// click) that sets several traits fires one change event per trait, one after the other in
// the same task; the redraw waits for the end of that task (a microtask), so it runs once and
// sees every new value. Returns the function that stops listening (render's cleanup).
function redrawOnChange(model, names, redraw) {
  let pending = false;
  let listening = true;
  const schedule = () => {
    if (pending) return;
    pending = true;
    queueMicrotask(() => {
      pending = false;
      if (listening) redraw();
    });
  };
  for (const name of names) model.on(`change:${name}`, schedule);
  return () => {
    listening = false;
    for (const name of names) model.off(`change:${name}`, schedule);
  };
}
