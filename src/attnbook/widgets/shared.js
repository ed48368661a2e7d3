// Helpers shared by the front ends of attnbook's views (AttentionMap, DecodingView, MemoryView,
// TranslatorView).
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

// Viridis (perceptually uniform, readable with the common colour-vision deficiencies),
// sampled at 11 stops and interpolated linearly: t in [0, 1] → [r, g, b]. The attention
// maps and the translator's weights use it.
const VIRIDIS = [
  [68, 1, 84], [72, 36, 117], [65, 68, 135], [53, 95, 141], [42, 120, 142],
  [33, 145, 140], [34, 168, 132], [68, 191, 112], [122, 209, 81], [189, 223, 38],
  [253, 231, 37],
];

function viridis(t) {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  return VIRIDIS[i].map((v, j) => Math.round(v + f * (VIRIDIS[i + 1][j] - v)));
}

// [r, g, b] → a CSS colour.
function rgb(c) {
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
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

// The views' own words in the page's language. The Chinese edition's pages say
// <html lang="zh-CN">; everywhere else (the English site, JupyterLab, Colab) the views speak
// English. `localize("{step} of {total}", { step: 1, total: 5 })` looks the English text up in WORDS and
// fills in the named values; words come from Python (titles, tokens) unchanged. A test checks
// that every text passed to localize() has its Chinese here (tests/test_widgets.py).
const WORDS = {
  zh: {
    "Heatmap": "热力图",
    " (strongest)": "（最强）",
    ": masked (the causal mask hides later inputs)": "：被掩盖（因果掩码遮住后面的输入）",
    "Lines": "连线",
    "view": "视图",
    "Attention heatmap: {rows} {rowName} rows by {cols} {colName} columns; the arrow keys move from cell to cell":
      "注意力热力图：{rows} 行（{rowName}）× {cols} 列（{colName}）；方向键在单元格间移动",
    "Attention lines from {rows} {rowName} tokens to {cols} {colName} tokens":
      "注意力连线：从 {rows} 个{rowName}词元到 {cols} 个{colName}词元",
    "Hover a token on the left, or reach it with Tab, to see where it looks.":
      "把鼠标移到左侧的词元上（或用 Tab 键选中它），看它关注哪里。",
    "Hover a cell, or Tab to the map and move with the arrow keys: {row} → {col}: weight":
      "把鼠标移到单元格上，或用 Tab 键进入图中再用方向键移动：{row} → {col}：权重",
    "Output distribution over {n} tokens; chosen: {chosen}": "{n} 个词元上的输出分布；选中：{chosen}",
    "example": "例子",
    "step": "步",
    "previous step": "上一步",
    "next step": "下一步",
    "decoding step": "解码步",
    "{step} of {total}": "第 {step} 步，共 {total} 步",
    "encoder input:": "编码器输入：",
    "decoder input:": "解码器输入：",
    "output so far:": "已有输出：",
    "Memory of each method at the chosen length, on a logarithmic scale":
      "所选长度下各方法的内存（对数刻度）",
    "sequence length n:": "序列长度 n：",
    "sequence length n": "序列长度 n",
    "a number from 0 to 999999": "0 到 999999 之间的一个数",
    "examples": "例子",
    "model": "模型",
    "beam size": "束宽",
    "mask-predict passes": "掩码预测轮数",
    "Loading the model…": "正在加载模型……",
    "✓ correct": "✓ 正确",
    "✗ the correct numeral is {truth}": "✗ 正确的写法是 {truth}",
    "  (finished)": "  （已结束）",
    " END: decoding stops.": " END：解码停止。",
    " It becomes the next input.": " 它成为下一步的输入。",
    " It becomes the next step's input.": " 它成为下一步的输入。",
    " Running free it chose {free}.": " 自由运行时它选择了 {free}。",
    " Running free, the decoder had already left the true prefix: it read {read} and chose {free}.":
      " 自由运行时，解码器已经偏离了真实前缀：它读入 {read}，选择了 {free}。",
    " The next pass re-masks the least confident ones and predicts them again.":
      " 下一轮重新掩盖置信度最低的位置，再预测一次。",
    " The step limit is reached.": " 已达到步数上限。",
    " teacher forcing": " 教师强制",
    "Beam search keeps the {beam} best partial outputs at each step; their score is the sum of the log-probabilities of their tokens.":
      "束搜索在每一步保留 {beam} 个最好的部分输出；得分是其各词元对数概率之和。",
    "Cross attention (decoder input → digit)": "交叉注意力（解码器输入 → 数字）",
    "Cross attention (decoder position → digit)": "交叉注意力（解码器位置 → 数字）",
    "Decoder masked self-attention (input → earlier input; the causal mask hides the future)":
      "解码器掩码自注意力（输入 → 更早的输入；因果掩码遮住未来）",
    "Decoder self-attention (no causal mask: every position sees every other)":
      "解码器自注意力（没有因果掩码：每个位置都能看到其他所有位置）",
    "Encoder self-attention (digit → digit)": "编码器自注意力（数字 → 数字）",
    "First the length predictor chooses how many characters to write: {length}. Then {passes} mask-predict pass(es) fill them in, all positions at once.":
      "先由长度预测器决定要写几个字：{length}。然后用 {passes} 轮掩码预测把它们填出来，所有位置同时进行。",
    "Hover a cell of a map, or Tab to the maps and move with the arrow keys, to read its weight.":
      "把鼠标移到图中的单元格上，或用 Tab 键进入图中再用方向键移动，即可读出它的权重。",
    "NAT passes:": "NAT 轮数：",
    "Negative numbers are not part of the task: type {range}.": "任务不包含负数：请输入{range}。",
    "Only the digits 0–9: type {range}.": "只能用数字 0–9：请输入{range}。",
    "Only whole numbers are part of the task (no decimals): type {range}.":
      "任务只包含整数（没有小数）：请输入{range}。",
    "Pass 1 of {passes}: every position is MASK; the decoder predicts all of them at once.":
      "第 1 轮，共 {passes} 轮：每个位置都是 MASK；解码器一次预测全部位置。",
    "Pass {pass} of {passes}: the {n} least confident position(s) were masked and predicted again (bold); the others kept their characters.":
      "第 {pass} 轮，共 {passes} 轮：置信度最低的 {n} 个位置被掩盖并重新预测（粗体）；其余位置保留原来的字。",
    "Step {step}: after {inputs}, the decoder chooses {chosen} (p = {p}).":
      "第 {step} 步：在 {inputs} 之后，解码器选择 {chosen}（p = {p}）。",
    "Teacher forcing: the decoder reads the true prefix ({prefix}) and predicts {chosen}; the true next character is {truth}":
      "教师强制：解码器读入真实前缀（{prefix}），预测 {chosen}；真实的下一个字是 {truth}",
    "The decoder failed: {error}": "解码器出错：{error}",
    "The model could not be loaded in this browser: {error}": "这个浏览器无法加载模型：{error}",
    "Too large: the model reads numbers up to {max}.": "太大了：模型只读到 {max} 为止的数。",
    "Translate ↵": "翻译 ↵",
    "Type {range}, then press Enter.": "请输入{range}，然后按回车。",
    "Write the number out in digits, without an exponent: type {range}.":
      "请用数字写出这个数，不要用指数形式：请输入{range}。",
    "a whole number from 0 to {max}": " 0 到 {max} 之间的整数",
    "beam:": "束宽：",
    "beams after step {step}:": "第 {step} 步后的各束：",
    "best output, step {step}:": "第 {step} 步的最佳输出：",
    "input:": "输入：",
    "layer {layer}, head {head}": "第 {layer} 层，第 {head} 个头",
    "model:": "模型：",
    "next character:": "下一个字：",
    "number:": "数：",
    "output length:": "输出长度：",
    "output:": "输出：",
    "step:": "步：",
    "top 3 per position:": "每个位置的前 3 名：",
    "{label}: {count} maps ({captions}), {shown} of {nq} query rows by {nk} keys each":
      "{label}：{count} 张图（{captions}），每张显示 {nq} 行查询中的 {shown} 行 × {nk} 个键",
  },
};

function pageLanguage() {
  const lang = (document.documentElement.getAttribute("lang") || "").toLowerCase();
  return lang.startsWith("zh") ? "zh" : "en";
}

function localize(text, values = {}) {
  const table = WORDS[pageLanguage()];
  const words = (table && table[text]) || text;
  return words.replace(/\{(\w+)\}/g, (match, name) => (name in values ? String(values[name]) : match));
}
