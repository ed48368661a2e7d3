// The front end of attnbook.widgets.TranslatorView: the book's trained translators, run here.
//
// Python sends the weights (attnbook/widgets/translator_view.py, pack_model); this file runs
// the models' forward pass exactly as attnbook/model.py and attnbook/layers.py do, written
// plainly: matrix helpers, layer norm, attention with its masks, the fully connected network,
// embeddings plus positional encoding. No dependency. The pure functions (loadModel, forward,
// greedyDecode, beamSearch, natDecode, toChinese, parseNumber) are exported by name so that
// the tests can call them without the view. It follows shared.js (el, svgEl, fmt, viridis,
// rgb, saveChanges, redrawOnChange) in one ES module. Text typed by the reader is only ever set
// with textContent, never as HTML.

const ENCODING = "float32-le/byte-planes/zlib/base64";

// ------------------------------------------------------------------------ the weights

function base64ToBytes(text) {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// zlib data → bytes, with the browser's own DecompressionStream (no library).
async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// The byte planes (every weight's byte 0, then every byte 1, ...) back to float32 weights.
function unshuffle(planes, n) {
  const bytes = new Uint8Array(4 * n);
  for (let i = 0; i < n; i++) {
    bytes[4 * i] = planes[i];
    bytes[4 * i + 1] = planes[n + i];
    bytes[4 * i + 2] = planes[2 * n + i];
    bytes[4 * i + 3] = planes[3 * n + i];
  }
  // Float32Array reads the platform's byte order: little-endian in every browser in use.
  return new Float32Array(bytes.buffer);
}

// The sinusoidal table of attnbook.positional.sinusoidal_encoding, [maxLen * d], rounded to
// float32 at each step as PyTorch computes it.
function sinusoidalTable(maxLen, d, base = 10000) {
  const f = Math.fround;
  const table = new Float64Array(maxLen * d);
  const scale = f(-Math.log(base) / d);
  for (let i = 0; i < d; i += 2) {
    const freq = f(Math.exp(f(i * scale)));
    for (let pos = 0; pos < maxLen; pos++) {
      const angle = f(pos * freq);
      table[pos * d + i] = f(Math.sin(angle));
      table[pos * d + i + 1] = f(Math.cos(angle));
    }
  }
  return table;
}

// A model from pack_model's dict: its weights by layer, ready for the functions below.
async function loadModel(packed) {
  if (packed.encoding !== ENCODING) throw new Error(`unknown weight encoding ${packed.encoding}`);
  const planes = await inflate(base64ToBytes(packed.weights));
  if (planes.length !== 4 * packed.count) throw new Error("the weights are truncated");
  // Held as float64 (exactly the float32 values): the arithmetic below is in float64 anyway.
  const flat = Float64Array.from(unshuffle(planes, packed.count));
  const t = {};
  const shapes = {};
  let offset = 0;
  for (const [name, shape] of packed.tensors) {
    const size = shape.reduce((a, b) => a * b, 1);
    t[name] = flat.subarray(offset, offset + size);
    shapes[name] = shape;
    offset += size;
  }
  const c = packed.config;
  const lin = (p) => ({
    w: t[`${p}.weight`], b: t[`${p}.bias`] || null,
    out: shapes[`${p}.weight`][0], in: shapes[`${p}.weight`][1],
  });
  const norm = (p) => ({ w: t[`${p}.weight`], b: t[`${p}.bias`] || null });
  const attn = (p) => ({ q: lin(`${p}.q_proj`), k: lin(`${p}.k_proj`), v: lin(`${p}.v_proj`),
    o: lin(`${p}.out_proj`) });
  const ff = (p) => ({ l1: lin(`${p}.linear1`), l2: lin(`${p}.linear2`) });
  const range = (n) => [...Array(n).keys()];
  const positions = (p) => (c.positional === "learned"
    ? t[`${p}.embedding.weight`] : sinusoidalTable(c.max_len, c.d_model));
  return {
    kind: packed.kind, config: c, d: c.d_model, heads: c.num_heads,
    dHead: c.d_model / c.num_heads, eps: packed.layer_norm_eps, normFirst: c.norm_first,
    gelu: c.activation === "gelu",
    srcEmbed: t["src_embed.weight"], tgtEmbed: t["tgt_embed.weight"],
    srcPos: positions("src_pos"), tgtPos: positions("tgt_pos"),
    encoder: range(c.num_encoder_layers).map((i) => ({
      self: attn(`encoder.${i}.self_attn`), ff: ff(`encoder.${i}.feed_forward`),
      norm1: norm(`encoder.${i}.norm1`), norm2: norm(`encoder.${i}.norm2`),
    })),
    decoder: range(c.num_decoder_layers).map((i) => ({
      self: attn(`decoder.${i}.self_attn`), cross: attn(`decoder.${i}.cross_attn`),
      ff: ff(`decoder.${i}.feed_forward`), norm1: norm(`decoder.${i}.norm1`),
      norm2: norm(`decoder.${i}.norm2`), norm3: norm(`decoder.${i}.norm3`),
    })),
    encoderNorm: c.norm_first ? norm("encoder_norm") : null,
    decoderNorm: c.norm_first ? norm("decoder_norm") : null,
    outProj: lin("out_proj"),
    lengthHead: t["length_head.0.weight"]
      ? { l1: lin("length_head.0"), l2: lin("length_head.2") } : null,
  };
}

// ------------------------------------------------------------------ matrix helpers
// A matrix is a Float64Array of n rows, one token per row (PyTorch's row convention).

// y = x Wᵀ + b for n rows (nn.Linear: W is [out, in]).
function linear(x, n, L) {
  const { w, b, out: m, in: k } = L;
  const y = new Float64Array(n * m);
  for (let r = 0; r < n; r++) {
    const xo = r * k;
    for (let j = 0; j < m; j++) {
      const wo = j * k;
      let s = 0;
      for (let i = 0; i < k; i++) s += x[xo + i] * w[wo + i];
      y[r * m + j] = b ? s + b[j] : s;
    }
  }
  return y;
}

function add(a, b) {
  const y = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) y[i] = a[i] + b[i];
  return y;
}

// Layer norm of each row: (x − mean) / sqrt(var + eps) · weight + bias (biased variance).
function layerNorm(x, n, d, N, eps) {
  const y = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    const o = r * d;
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[o + i];
    mean /= d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (x[o + i] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / d + eps);
    for (let i = 0; i < d; i++) {
      const z = (x[o + i] - mean) * inv;
      y[o + i] = N.b ? z * N.w[i] + N.b[i] : z * N.w[i];
    }
  }
  return y;
}

// erf, for the exact GELU (Abramowitz & Stegun 7.1.26 is not precise enough; this series and
// continued fraction give ~1e-15).
function erf(x) {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 60; n++) {
      term *= -ax * ax / n;
      sum += term / (2 * n + 1);
      if (Math.abs(term) < 1e-17) break;
    }
    return Math.sign(x) * sum * 2 / Math.sqrt(Math.PI);
  }
  // erfc by a continued fraction (Lentz), for |x| >= 2.5.
  let f = ax;
  let C = ax;
  let D = 0;
  for (let n = 1; n < 200; n++) {
    const a = n / 2;
    D = ax + a * D;
    D = D === 0 ? 1e-300 : 1 / D;
    C = ax + a / C;
    if (C === 0) C = 1e-300;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / (f * Math.sqrt(Math.PI));
  return Math.sign(x) * (1 - erfc);
}

// The position-wise fully connected network: linear2(act(linear1(x))).
function feedForward(m, F, x, n) {
  const h = linear(x, n, F.l1);
  for (let i = 0; i < h.length; i++) {
    h[i] = m.gelu ? 0.5 * h[i] * (1 + erf(h[i] / Math.SQRT2)) : Math.max(0, h[i]);
  }
  return linear(h, n, F.l2);
}

// Softmax of one row, in place, over the keys `allowed(j)` permits; the others get exactly 0,
// and a row with no key left gets all zeros (attnbook.attention.masked_softmax).
function maskedSoftmax(row, allowed) {
  let max = -Infinity;
  for (let j = 0; j < row.length; j++) if (!allowed || allowed(j)) max = Math.max(max, row[j]);
  if (max === -Infinity) {
    row.fill(0);
    return row;
  }
  let sum = 0;
  for (let j = 0; j < row.length; j++) {
    const e = !allowed || allowed(j) ? Math.exp(row[j] - max) : 0;
    row[j] = e;
    sum += e;
  }
  for (let j = 0; j < row.length; j++) row[j] /= sum;
  return row;
}

// Multi-head attention of nq queries over nk keys, given projected q [nq, d], k and v [nk, d].
// mask(i, j): may query i see key j (null: all). Returns the output after Wo, and each head's
// weights [nq * nk].
function attend(m, A, q, nq, k, v, nk, mask) {
  const { d, heads, dHead } = m;
  const scale = Math.sqrt(dHead);
  const merged = new Float64Array(nq * d);
  const weights = [];
  for (let h = 0; h < heads; h++) {
    const ho = h * dHead;
    const w = new Float64Array(nq * nk);
    for (let i = 0; i < nq; i++) {
      const row = w.subarray(i * nk, (i + 1) * nk);
      for (let j = 0; j < nk; j++) {
        let s = 0;
        for (let e = 0; e < dHead; e++) s += q[i * d + ho + e] * k[j * d + ho + e];
        row[j] = s / scale;
      }
      maskedSoftmax(row, mask ? (j) => mask(i, j) : null);
      for (let e = 0; e < dHead; e++) {
        let s = 0;
        for (let j = 0; j < nk; j++) s += row[j] * v[j * d + ho + e];
        merged[i * d + ho + e] = s;
      }
    }
    weights.push(w);
  }
  return { out: linear(merged, nq, A.o), weights };
}

function mha(m, A, xq, nq, xkv, nkv, mask) {
  return attend(m, A, linear(xq, nq, A.q), nq, linear(xkv, nkv, A.k), linear(xkv, nkv, A.v),
    nkv, mask);
}

// Residual and layer norm around a sublayer: post-LN norm(x + f(x)), or pre-LN x + f(norm(x)).
function residual(m, x, n, sublayer, N) {
  if (m.normFirst) return add(x, sublayer(layerNorm(x, n, m.d, N, m.eps)));
  return layerNorm(add(x, sublayer(x)), n, m.d, N, m.eps);
}

// Token embeddings · sqrt(d_model) plus the positional encoding from position `offset` on.
function embed(m, table, pos, ids, offset = 0) {
  const d = m.d;
  const scale = Math.sqrt(d);
  const x = new Float64Array(ids.length * d);
  ids.forEach((id, r) => {
    for (let i = 0; i < d; i++) {
      x[r * d + i] = table[id * d + i] * scale + pos[(offset + r) * d + i];
    }
  });
  return x;
}

// ------------------------------------------------------------------------ the model

// Source ids → memory [S, d] and the encoder's self-attention weights [layer][head].
function encode(m, src) {
  const S = src.length;
  let x = embed(m, m.srcEmbed, m.srcPos, src);
  const maps = [];
  for (const L of m.encoder) {
    x = residual(m, x, S, (h) => {
      const r = mha(m, L.self, h, S, h, S, null);
      maps.push(r.weights);
      return r.out;
    }, L.norm1);
    x = residual(m, x, S, (h) => feedForward(m, L.ff, h, S), L.norm2);
  }
  if (m.encoderNorm) x = layerNorm(x, S, m.d, m.encoderNorm, m.eps);
  return { memory: x, S, maps };
}

// The decoder on the whole input at once. causal: AT's masked self-attention; otherwise
// NAT's (each position sees every non-padding position; padding queries see all).
function decodeAll(m, enc, tgtIn, causal) {
  const T = tgtIn.length;
  const pad = m.config.pad_id;
  const selfMask = causal ? (i, j) => j <= i
    : (i, j) => tgtIn[j] !== pad || tgtIn[i] === pad;
  let y = embed(m, m.tgtEmbed, m.tgtPos, tgtIn);
  const selfMaps = [];
  const crossMaps = [];
  for (const L of m.decoder) {
    y = residual(m, y, T, (h) => {
      const r = mha(m, L.self, h, T, h, T, selfMask);
      selfMaps.push(r.weights);
      return r.out;
    }, L.norm1);
    y = residual(m, y, T, (h) => {
      const r = mha(m, L.cross, h, T, enc.memory, enc.S, null);
      crossMaps.push(r.weights);
      return r.out;
    }, L.norm2);
    y = residual(m, y, T, (h) => feedForward(m, L.ff, h, T), L.norm3);
  }
  if (m.decoderNorm) y = layerNorm(y, T, m.d, m.decoderNorm, m.eps);
  return { logits: linear(y, T, m.outProj), T, selfMaps, crossMaps };
}

// NAT's length scores [max_target_len + 1] from the mean of the memory.
function lengthLogits(m, enc) {
  const d = m.d;
  const pooled = new Float64Array(d);
  for (let s = 0; s < enc.S; s++) for (let i = 0; i < d; i++) pooled[i] += enc.memory[s * d + i];
  for (let i = 0; i < d; i++) pooled[i] /= Math.max(1, enc.S);
  const h = linear(pooled, 1, m.lengthHead.l1).map((v) => Math.max(0, v));
  return linear(h, 1, m.lengthHead.l2);
}

// Rows of a flat [n * k] array as plain arrays.
function rows(flat, n) {
  const k = flat.length / n;
  return Array.from({ length: n }, (_, i) => Array.from(flat.subarray(i * k, (i + 1) * k)));
}

// [layer][head] flat maps → nested arrays [layer][head][query][key].
function nestMaps(maps, nq) {
  return maps.map((heads) => heads.map((w) => rows(w, nq)));
}

// The whole model on a source and a decoder input, as model.forward does: logits [T][V] and
// every attention map, nested [layer][head][query][key]; for a NAT model also length_logits.
function forward(m, src, tgtIn) {
  const enc = encode(m, src);
  const isNat = m.kind === "NATransformer";
  const dec = decodeAll(m, enc, tgtIn, !isNat);
  const out = {
    logits: rows(dec.logits, dec.T),
    encoder: nestMaps(enc.maps, enc.S),
    decoderSelf: nestMaps(dec.selfMaps, dec.T),
    cross: nestMaps(dec.crossMaps, dec.T),
  };
  if (isNat) out.lengthLogits = Array.from(lengthLogits(m, enc));
  return out;
}

// --------------------------------------------------------- step-by-step decoding (AT)

// What each decoder layer keeps between steps: the keys and values so far (self-attention)
// and those of the memory (cross attention, computed once).
function newCache(m, enc) {
  const cap = m.config.max_len * m.d;
  return {
    t: 0,
    layers: m.decoder.map((L) => ({
      k: new Float64Array(cap), v: new Float64Array(cap),
      crossK: linear(enc.memory, enc.S, L.cross.k), crossV: linear(enc.memory, enc.S, L.cross.v),
    })),
  };
}

function copyCache(c) {
  return {
    t: c.t,
    layers: c.layers.map((l) => ({ k: l.k.slice(), v: l.v.slice(), crossK: l.crossK,
      crossV: l.crossV })),
  };
}

// One step with a cache (Transformer.decode_next): logits [V] after token `last`. With
// `record`, the step's attention weights are pushed to it: { self, cross }, each [layer][head]
// (the new query's row: t + 1 keys for the self-attention, S for the cross attention).
function decodeNext(m, enc, cache, last, record = null) {
  const d = m.d;
  const t = cache.t;
  let y = embed(m, m.tgtEmbed, m.tgtPos, [last], t);
  const self = [];
  const cross = [];
  m.decoder.forEach((L, li) => {
    const c = cache.layers[li];
    y = residual(m, y, 1, (h) => {
      c.k.set(linear(h, 1, L.self.k), t * d);
      c.v.set(linear(h, 1, L.self.v), t * d);
      const r = attend(m, L.self, linear(h, 1, L.self.q), 1, c.k, c.v, t + 1, null);
      self.push(r.weights);
      return r.out;
    }, L.norm1);
    y = residual(m, y, 1, (h) => {
      const r = attend(m, L.cross, linear(h, 1, L.cross.q), 1, c.crossK, c.crossV, enc.S, null);
      cross.push(r.weights);
      return r.out;
    }, L.norm2);
    y = residual(m, y, 1, (h) => feedForward(m, L.ff, h, 1), L.norm3);
  });
  cache.t = t + 1;
  if (record) record.push({ self, cross });
  if (m.decoderNorm) y = layerNorm(y, 1, d, m.decoderNorm, m.eps);
  return linear(y, 1, m.outProj);
}

// The rows recorded step by step → whole maps [layer][head] of T × T (self, zero above the
// diagonal) and T × S (cross): what one pass over the whole input gives.
function mapsFromSteps(record, S) {
  const T = record.length;
  const build = (key, width) => record[0][key].map((_, l) => record[0][key][l].map((_, h) => {
    const w = new Float64Array(T * width(T));
    record.forEach((step, t) => w.set(step[key][l][h], t * width(T)));
    return w;
  }));
  return { T, selfMaps: build("self", (n) => n), crossMaps: build("cross", () => S) };
}

function softmax(logits) {
  return maskedSoftmax(Float64Array.from(logits), null);
}

// The best token, never PAD (the first of equal ones, as argmax).
function argmaxNotPad(logits, pad) {
  let best = -1;
  for (let j = 0; j < logits.length; j++) {
    if (j !== pad && (best < 0 || logits[j] > logits[best])) best = j;
  }
  return best;
}

// Greedy decoding (Transformer.greedy_decode): { tokens (no BEGIN, no END), choices (every
// step's choice, END included if reached), probs (each step's distribution) }.
function greedyDecode(m, src, maxLen = null) {
  const c = m.config;
  const limit = maxLen || c.max_len - 1;
  const enc = encode(m, src);
  const cache = newCache(m, enc);
  const choices = [];
  const probs = [];
  let last = c.bos_id;
  const record = [];
  for (let step = 0; step < limit; step++) {
    const logits = decodeNext(m, enc, cache, last, record);
    last = argmaxNotPad(logits, c.pad_id);
    choices.push(last);
    probs.push(softmax(logits));
    if (last === c.eos_id) break;
  }
  const end = choices.indexOf(c.eos_id);
  return { tokens: end < 0 ? choices.slice() : choices.slice(0, end), choices, probs, enc,
    record };
}

// Beam search (attnbook.model.beam_search with length_penalty 0): { tokens, score, steps },
// steps[t] the hypotheses kept at step t, best first: { tokens, score, finished }.
function beamSearch(m, src, beamSize, maxLen = null) {
  const c = m.config;
  const k = beamSize;
  const limit = maxLen || c.max_len - 1;
  const enc = encode(m, src);
  let alive = [{ ids: [c.bos_id], score: 0, cache: newCache(m, enc) }];
  const finished = [];
  const steps = [];
  let ended = false;
  for (let s = 0; s < limit; s++) {
    const V = m.config.tgt_vocab_size;
    const total = [];
    alive.forEach((h, beam) => {
      const logits = decodeNext(m, enc, h.cache, h.ids[h.ids.length - 1]);
      let max = -Infinity;
      for (const x of logits) max = Math.max(max, x);
      let sum = 0;
      for (const x of logits) sum += Math.exp(x - max);
      const lse = max + Math.log(sum);
      for (let tok = 0; tok < V; tok++) {
        const lp = tok === c.pad_id ? -Infinity : logits[tok] - lse;
        total.push({ v: h.score + lp, beam, tok, i: beam * V + tok });
      }
    });
    total.sort((a, b) => b.v - a.v || a.i - b.i);
    const top = total.slice(0, Math.min(2 * k, total.length));
    const kept = [];
    const next = [];
    for (const { v, beam, tok } of top) {
      const parent = alive[beam];
      if (tok === c.eos_id) {
        finished.push({ tokens: parent.ids.slice(1), score: v });
        kept.push({ tokens: parent.ids.slice(1), score: v, finished: true });
      } else {
        next.push({ ids: [...parent.ids, tok], score: v, cache: copyCache(parent.cache) });
        kept.push({ tokens: [...parent.ids.slice(1), tok], score: v, finished: false });
      }
      if (next.length === k) break;
    }
    steps.push(kept);
    alive = next;
    if (!alive.length) {
      ended = true;
      break;
    }
    if (finished.length && Math.max(...finished.map((f) => f.score)) >= alive[0].score) {
      ended = true;
      break;
    }
  }
  if (!ended) for (const h of alive) finished.push({ tokens: h.ids.slice(1), score: h.score });
  let best = finished[0];
  for (const f of finished) if (f.score > best.score) best = f;
  return { tokens: best.tokens, score: best.score, steps, enc };
}

// Mask-predict (NATransformer.generate): the length, then `iterations` decoder passes, each
// re-masking the least confident tokens. { tokens, length, lengthProbs, steps }, steps[t] =
// { input, tokens, probs, logits }.
function natDecode(m, src, iterations, length = null) {
  const c = m.config;
  const f = Math.fround;
  const enc = encode(m, src);
  const lenLogits = lengthLogits(m, enc);
  let L = length;
  if (L === null) {
    L = 1;
    for (let n = 2; n < lenLogits.length; n++) if (lenLogits[n] > lenLogits[L]) L = n;
  }
  let tokens = new Array(L).fill(c.mask_id);
  let probs = new Array(L).fill(0);
  let masked = new Array(L).fill(true);
  const steps = [];
  for (let t = 0; t < iterations; t++) {
    const input = tokens.map((tok, i) => (masked[i] ? c.mask_id : tok));
    const dec = decodeAll(m, enc, input, false);
    const V = c.tgt_vocab_size;
    const stepProbs = [];
    for (let i = 0; i < L; i++) {
      const p = softmax(dec.logits.subarray(i * V, (i + 1) * V));
      stepProbs.push(p);
      if (masked[i]) {
        let best = 0;
        for (let j = 1; j < V; j++) if (p[j] > p[best]) best = j;
        tokens[i] = best;
        probs[i] = p[best];
      }
    }
    steps.push({ input, tokens: tokens.slice(), probs: probs.slice(), masked: masked.slice(),
      dists: stepProbs, dec });
    if (t === iterations - 1) break;
    const nMask = Math.floor((L * (iterations - 1 - t)) / iterations);
    // Rank by probability as PyTorch stores it (float32), stable: 0 = least confident.
    const order = [...Array(L).keys()].sort((a, b) => f(probs[a]) - f(probs[b]));
    masked = new Array(L).fill(false);
    order.slice(0, nMask).forEach((i) => { masked[i] = true; });
    tokens = tokens.slice();
    probs = probs.slice();
  }
  return { tokens, length: L, lengthProbs: softmax(lenLogits), steps, enc };
}

// ------------------------------------------------------- the task: numbers and numerals

const DIGITS = "零一二三四五六七八九";
const UNITS = ["千", "百", "十", ""];
const MAX_NUMBER = 999999;

function part(n, first) {
  const digits = [Math.floor(n / 1000), Math.floor(n / 100) % 10, Math.floor(n / 10) % 10, n % 10];
  let out = "";
  let started = false;
  let zeroPending = false;
  digits.forEach((dg, i) => {
    if (dg === 0) {
      zeroPending = started;
      return;
    }
    if (zeroPending) {
      out += "零";
      zeroPending = false;
    }
    out += dg === 1 && UNITS[i] === "十" && first && !started ? "十" : DIGITS[dg] + UNITS[i];
    started = true;
  });
  return out;
}

// The Chinese numeral of 0 ≤ n ≤ 999999 (attnbook.numerals.to_chinese).
function toChinese(n) {
  if (n === 0) return "零";
  const wan = Math.floor(n / 10000);
  const rest = n % 10000;
  if (wan === 0) return part(rest, true);
  const text = part(wan, true) + "万";
  if (rest === 0) return text;
  return text + (rest < 1000 ? "零" : "") + part(rest, false);
}

// The reader's text → { ok: true, value } or { ok: false, message } saying why not.
function parseNumber(raw) {
  const text = String(raw ?? "").normalize("NFKC").trim();
  const range = localize("a whole number from 0 to {max}", { max: MAX_NUMBER });
  if (!text) return { ok: false, message: localize("Type {range}, then press Enter.", { range }) };
  if (/^[-−–]\s*\d/.test(text)) {
    return { ok: false, message: localize("Negative numbers are not part of the task: type {range}.", { range }) };
  }
  if (/^\+?\d*\.?\d+e[+-]?\d+$/i.test(text) || /^\+?\d+\.?e[+-]?\d+$/i.test(text)) {
    return { ok: false,
      message: localize("Write the number out in digits, without an exponent: type {range}.",
        { range }) };
  }
  if (/^\d+[.,]\d+$/.test(text) && !/^\d{1,3}(,\d{3})+$/.test(text)) {
    return { ok: false,
      message: localize("Only whole numbers are part of the task (no decimals): type {range}.",
        { range }) };
  }
  let digits = text;
  if (/^\d{1,3}(,\d{3})+$/.test(text)) digits = text.replace(/,/g, "");
  if (/^\+\d+$/.test(digits)) digits = digits.slice(1);
  if (!/^\d+$/.test(digits)) {
    return { ok: false, message: localize("Only the digits 0–9: type {range}.", { range }) };
  }
  const stripped = digits.replace(/^0+(?=\d)/, "");
  if (stripped.length > 6) {
    return { ok: false, message: localize("Too large: the model reads numbers up to {max}.",
      { max: MAX_NUMBER }) };
  }
  return { ok: true, value: Number(stripped) };
}

// Digits of n → source ids (numerals.source_ids), and target ids ↔ text.
function sourceIds(n, sourceTokens) {
  return [...String(n)].map((ch) => sourceTokens.indexOf(ch));
}

// Target ids → text (numerals.decode_target): stops at END, skips the special tokens.
function decodeTarget(ids, targetTokens, c) {
  let out = "";
  for (const id of ids) {
    if (id === c.eos_id) break;
    if (id > 3) out += targetTokens[id];
  }
  return out;
}

// ----------------------------------------------------------------------- drawing

// 256 colours of viridis (shared.js), computed once: a weight in [0, 1] → its colour.
const VIRIDIS_256 = Array.from({ length: 256 }, (_, i) => rgb(viridis(i / 255)));
function weightColour(x) {
  return VIRIDIS_256[Math.round(Math.min(1, Math.max(0, x)) * 255)];
}

let measurer = null;
function textWidth(text, font) {
  if (!measurer) measurer = document.createElement("canvas").getContext("2d");
  measurer.font = font;
  return measurer.measureText(text).width;
}

// Small heatmaps side by side on one canvas (thousands of cells are drawn per decode: as SVG
// elements, or one canvas per map, they would take longer than the forward pass). `maps`:
// [{ w [nq * nk], caption }], in rows of at most `avail` pixels (rows of `group` maps, the
// heads of one layer, or of a divisor of it, when not all fit on one row). Rows
// 0..shown-1 are drawn; `hidden(i, j)`: a masked cell, left blank so the mask's shape shows.
// Hovering a cell writes its weight to `say`. `colors`: { fg, muted, font } of the page.
function heatmaps(maps, nq, nk, rowLabels, colLabels, shown, hidden, say, colors, avail,
  label, group = 0) {
  const cell = 14;
  const gap = 18;
  const font = `11px ${colors.font}`;
  const left = 6 + Math.max(...rowLabels.map((s) => textWidth(s, font)), 8);
  // Column labels wider than a cell (BEGIN, MASK) are written upwards.
  const colWidths = colLabels.map((c) => textWidth(c, font));
  const top = 20 + Math.max(10, ...colWidths.map((wd) => (wd > cell - 2 ? wd : 10)));
  const mapW = Math.ceil(Math.max(left + cell * nk, ...maps.map((m) => textWidth(m.caption,
    font))));
  const mapH = top + cell * nq;
  // As many maps to a row as fit, but whole groups (one layer's heads) or halves of them.
  const fit = Math.max(1, Math.min(maps.length, Math.floor((avail + gap) / (mapW + gap))));
  let perRow = fit;
  if (group && fit < maps.length) {
    perRow = 1;
    for (let k = 1; k <= Math.min(fit, group); k++) if (group % k === 0) perRow = k;
  }
  const width = perRow * mapW + (perRow - 1) * gap + 2;
  const height = Math.ceil(maps.length / perRow) * (mapH + gap) - gap + 2;
  const dpr = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
  const canvas = el("canvas", {
    width: Math.round(width * dpr), height: Math.round(height * dpr), class: "tview-map",
    style: `width: ${width}px; height: ${height}px`,
    "aria-label": localize("{label}: {count} maps ({captions}), {shown} of {nq} query rows by "
      + "{nk} keys each", { label, count: maps.length, captions: maps.map((m) => m.caption)
      .join("; "), shown, nq, nk }),
  });
  const ctx = canvas.getContext("2d");
  ctx.scale(dpr, dpr);
  ctx.font = font;
  ctx.textBaseline = "middle";
  let cells = 0;
  maps.forEach(({ w, caption }, index) => {
    const x0 = (index % perRow) * (mapW + gap);
    const y0 = Math.floor(index / perRow) * (mapH + gap);
    ctx.textAlign = "left";
    ctx.fillStyle = colors.muted;
    ctx.fillText(caption, x0, y0 + 7);
    ctx.fillStyle = colors.fg;
    ctx.textAlign = "center";
    colLabels.forEach((tok, j) => {
      const x = x0 + left + cell * j + cell / 2;
      if (colWidths[j] <= cell - 2) {
        ctx.fillText(tok, x, y0 + top - 8);
        return;
      }
      ctx.save();
      ctx.translate(x, y0 + top - 3);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = "left";
      ctx.fillText(tok, 0, 0);
      ctx.restore();
    });
    ctx.textAlign = "right";
    for (let i = 0; i < nq; i++) {
      ctx.fillStyle = i < shown ? colors.fg : colors.muted;
      ctx.fillText(rowLabels[i], x0 + left - 4, y0 + top + cell * i + cell / 2);
    }
    for (let i = 0; i < shown; i++) {
      for (let j = 0; j < nk; j++) {
        if (hidden && hidden(i, j)) continue;
        ctx.fillStyle = weightColour(w[i * nk + j]);
        ctx.fillRect(x0 + left + cell * j, y0 + top + cell * i, cell - 1, cell - 1);
        if (index === 0) cells += 1;
      }
    }
  });
  canvas.dataset.maps = String(maps.length);
  canvas.dataset.cells = String(cells); // cells drawn in each map
  canvas.dataset.rows = String(shown);
  canvas.dataset.grid = `${left} ${top} ${cell}`; // where the first map's cells are: tests
  // Pointing at a cell, by mouse or keyboard: outline it and read its weight out.
  const box = el("div", { class: "tview-mapbox" });
  const ring = el("div", { class: "tview-ring", hidden: "" });
  box.append(canvas, ring);
  let active = null; // [map, i, j]
  const select = (index, i, j) => {
    active = [index, i, j];
    const x0 = (index % perRow) * (mapW + gap);
    const y0 = Math.floor(index / perRow) * (mapH + gap);
    ring.style.left = `${x0 + left + cell * j - 1}px`;
    ring.style.top = `${y0 + top + cell * i - 1}px`;
    ring.style.width = ring.style.height = `${cell - 1}px`;
    ring.hidden = false;
    const { w, caption } = maps[index];
    const where = `${caption}: ${rowLabels[i]} → ${colLabels[j]}`;
    say(hidden && hidden(i, j) ? where + localize(": masked (the causal mask hides later inputs)")
      : `${where}: ${fmt(w[i * nk + j], 3)}`);
  };
  const clear = () => {
    active = null;
    ring.hidden = true;
    say(null);
  };
  canvas.addEventListener("mousemove", (event) => {
    const col = Math.floor(event.offsetX / (mapW + gap));
    const row = Math.floor(event.offsetY / (mapH + gap));
    const index = row * perRow + col;
    const i = Math.floor((event.offsetY - row * (mapH + gap) - top) / cell);
    const j = Math.floor((event.offsetX - col * (mapW + gap) - left) / cell);
    if (col >= perRow || index >= maps.length || i < 0 || j < 0 || i >= shown || j >= nk) clear();
    else select(index, i, j);
  });
  canvas.addEventListener("mouseleave", clear);
  // Keyboard: Tab to the maps, the arrow keys move from cell to cell (and on to the next map).
  canvas.setAttribute("tabindex", "0");
  canvas.setAttribute("role", "group");
  canvas.addEventListener("focus", () => { if (!active && shown > 0) select(0, 0, 0); });
  canvas.addEventListener("blur", clear);
  canvas.addEventListener("keydown", (event) => {
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const move = moves[event.key];
    if (!move || shown === 0) return;
    event.preventDefault();
    event.stopPropagation();
    let [index, i, j] = active || [0, 0, 0];
    i = Math.min(shown - 1, Math.max(0, i + move[0]));
    j += move[1];
    if (j >= nk && index < maps.length - 1) [index, j] = [index + 1, 0];
    if (j < 0 && index > 0) [index, j] = [index - 1, nk - 1];
    select(index, i, Math.min(nk - 1, Math.max(0, j)));
  });
  return box;
}

// Horizontal bars for [label, probability] pairs; `mark`: the index drawn as chosen.
function bars(items, mark) {
  const rowH = 17;
  const labelW = 14 + 12 * Math.max(...items.map(([t]) => [...t].length), 1);
  const barW = 160;
  const width = labelW + barW + 60;
  const height = rowH * items.length + 4;
  const svg = svgEl("svg", {
    width, height, viewBox: `0 0 ${width} ${height}`, class: "tview-bars", role: "img",
    "aria-label": items.map(([t, p]) => `${t} ${fmt(p, 3)}`).join(", "),
  });
  items.forEach(([tok, p], i) => {
    const y = 2 + rowH * i;
    const g = svgEl("g", { class: "tview-bar" + (i === mark ? " tview-chosen" : "") });
    g.appendChild(svgEl("text", {
      x: labelW - 6, y: y + rowH / 2, "text-anchor": "end", "dominant-baseline": "central",
      "font-size": 12, class: "tview-token",
    }, tok));
    g.appendChild(svgEl("rect", { x: labelW, y: y + 2, width: barW, height: rowH - 4,
      class: "tview-track" }));
    g.appendChild(svgEl("rect", { x: labelW, y: y + 2, width: Math.max(0, Math.min(1, p)) * barW,
      height: rowH - 4, class: "tview-fill" }));
    g.appendChild(svgEl("text", {
      x: labelW + barW + 6, y: y + rowH / 2, "dominant-baseline": "central", "font-size": 12,
      class: "tview-value",
    }, fmt(p, 3)));
    svg.appendChild(g);
  });
  return svg;
}

// The `n` most probable tokens of a distribution, never PAD: [[name, p], ...], best first.
function topTokens(p, names, n, skip) {
  return [...p.keys()].filter((j) => !skip.includes(j)).sort((a, b) => p[b] - p[a] || a - b)
    .slice(0, n).map((j) => [names[j], p[j]]);
}

// The special tokens left out of the lists of likely characters, unless one was chosen.
function specials(c, chosen) {
  return [c.pad_id, c.bos_id, c.mask_id].filter((id) => id !== chosen);
}

function chips(tokens, cls = "", marks = []) {
  const row = el("span", { class: `tview-chips ${cls}` });
  tokens.forEach((tok, i) => {
    row.appendChild(el("span", { class: "tview-chip" + (marks[i] ? ` ${marks[i]}` : "") }, tok));
  });
  return row;
}

// --------------------------------------------------------------------------- the view

// Everything one decode produces that the view draws.
function run(models, names, n, opts) {
  const { kind, beam, iterations } = opts;
  const tf = opts.tf && beam === 1;
  const m = models[kind];
  const c = m.config;
  const src = sourceIds(n, names.source);
  const truth = toChinese(n);
  const result = { n, kind, beam, tf, src: [...String(n)], truth };
  if (kind === "nat") {
    const r = natDecode(m, src, iterations);
    result.text = decodeTarget(r.tokens, names.target, c);
    result.nat = r;
    result.enc = r.enc;
    result.steps = r.steps.length + 1; // the length, then each pass
    return result;
  }
  let tokens;
  let greedy = null;
  if (beam > 1) {
    const r = beamSearch(m, src, beam, null);
    tokens = r.tokens;
    result.beamSteps = r.steps;
    result.enc = r.enc;
  } else {
    greedy = greedyDecode(m, src, null);
    tokens = greedy.tokens;
    result.enc = greedy.enc;
    result.choices = greedy.choices;
  }
  result.tokens = tokens;
  result.text = decodeTarget(tokens, names.target, c);
  // The maps and distributions of the decoder input that produced this output (BEGIN and the
  // tokens; row t = step t): as recorded step by step (greedy), or from one pass over the
  // whole input (beam search; teacher forcing, which feeds the true prefix instead).
  const trueIds = [...truth].map((ch) => names.target.indexOf(ch));
  result.trueIds = trueIds;
  if (beam === 1 && !tf) {
    result.input = [c.bos_id, ...result.choices.slice(0, -1)];
    result.dec = mapsFromSteps(greedy.record, result.enc.S);
    result.probs = greedy.probs;
  } else {
    const input = [c.bos_id, ...(tf ? trueIds : tokens)].slice(0, c.max_len);
    result.input = input;
    result.dec = decodeAll(m, result.enc, input, true);
    result.probs = rows(result.dec.logits, result.dec.T).map((l) => softmax(l));
  }
  result.steps = beam > 1 ? result.beamSteps.length : result.input.length;
  return result;
}

function render({ model, el: host }) {
  const root = el("div", { class: "attnbook-view attnbook-tview" });
  const title = el("div", { class: "ab-title tview-title" });
  const form = el("div", { class: "tview-form" });
  const input = el("input", {
    name: "number", type: "text", inputmode: "numeric", autocomplete: "off", spellcheck: "false",
    maxlength: 40, class: "tview-input", "aria-label": localize("a number from 0 to 999999"),
    placeholder: "0 … 999999",
  });
  const go = el("button", { type: "button", class: "ab-choice tview-go" }, localize("Translate ↵"));
  const exampleGroup = el("span", { class: "tview-examples", role: "group",
    "aria-label": localize("examples") });
  form.append(el("span", { class: "tview-name" }, localize("number:")), input, go, exampleGroup);
  const switches = el("div", { class: "tview-switches" });
  const kindGroup = el("span", { class: "tview-group", role: "group", "aria-label": localize("model") });
  const beamGroup = el("span", { class: "tview-group", role: "group",
    "aria-label": localize("beam size") });
  const passGroup = el("span", { class: "tview-group", role: "group",
    "aria-label": localize("mask-predict passes") });
  const tfLabel = el("label", { class: "tview-tf" });
  const tfBox = el("input", { type: "checkbox", class: "tview-tf-box" });
  tfLabel.append(tfBox, document.createTextNode(localize(" teacher forcing")));
  switches.append(kindGroup, beamGroup, tfLabel, passGroup);
  const resultLine = el("div", { class: "tview-result" });
  const forNumber = el("span", { class: "tview-for" });
  const translation = el("span", { class: "tview-translation", "data-testid": "translation",
    "data-state": "idle", lang: "zh" });
  const verdict = el("span", { class: "tview-verdict" });
  resultLine.append(forNumber, translation, verdict);
  const message = el("div", { class: "tview-message", "data-testid": "message", role: "status",
    "aria-live": "polite" });
  const stepBar = el("div", { class: "tview-stepbar", role: "group",
    "aria-label": localize("step") });
  const prev = el("button", { type: "button", class: "ab-choice tview-prev",
    "aria-label": localize("previous step") }, "◀");
  const range = el("input", { type: "range", min: 0, max: 0, step: 1, value: 0,
    class: "tview-range", "aria-label": localize("decoding step") });
  const next = el("button", { type: "button", class: "ab-choice tview-next",
    "aria-label": localize("next step") }, "▶");
  const stepLabel = el("span", { class: "tview-step-label" });
  stepBar.append(el("span", { class: "tview-name" }, localize("step:")), prev, range, next, stepLabel);
  const stepPanel = el("div", { class: "tview-step" });
  const maps = el("div", { class: "tview-maps" });
  const readout = el("div", { class: "ab-readout tview-readout", "aria-live": "polite" });
  root.append(title, form, switches, resultLine, message, stepBar, stepPanel, readout, maps);
  host.appendChild(root);

  const hint = localize("Hover a cell of a map, or Tab to the maps and move with the arrow keys, "
    + "to read its weight.");
  const say = (text) => { readout.textContent = text || hint; };

  let models = null; // { at, nat }: loaded once
  let failed = null;
  let result = null; // the last good decode
  let step = 0;
  const names = { source: model.get("source_tokens"), target: model.get("target_tokens") };

  const ready = (async () => {
    const packed = model.get("models");
    const out = {};
    for (const kind of Object.keys(packed)) out[kind] = await loadModel(packed[kind]);
    models = out;
  })().catch((e) => {
    failed = localize("The model could not be loaded in this browser: {error}",
      { error: e && e.message ? e.message : e });
  });

  function fail(text) {
    translation.dataset.state = "error";
    message.textContent = text;
    message.dataset.kind = "error";
  }

  // Decode the text in the box with the current switches; on bad input keep the last result.
  function decode() {
    const parsed = parseNumber(input.value);
    if (!parsed.ok) {
      fail(parsed.message);
      return;
    }
    if (failed) {
      fail(failed);
      return;
    }
    if (!models) {
      translation.dataset.state = "busy";
      message.textContent = localize("Loading the model…");
      message.dataset.kind = "info";
      ready.then(decode);
      return;
    }
    try {
      const kind = models[model.get("kind")] ? model.get("kind") : "at";
      result = run(models, names, parsed.value, {
        kind, beam: model.get("beam_size"), tf: model.get("teacher_forcing"),
        iterations: model.get("nat_iterations"),
      });
    } catch (e) {
      fail(localize("The decoder failed: {error}", { error: e && e.message ? e.message : e }));
      return;
    }
    step = result.steps - 1;
    readColors(); // before the page changes, so that reading the style costs no layout
    drawResult();
    message.textContent = "";
    message.dataset.kind = "";
    translation.dataset.state = "done";
  }

  function setNumber(text) {
    input.value = text;
    if (model.get("number") !== text) {
      model.set("number", text);
      saveChanges(model);
    }
    decode();
  }

  input.addEventListener("keydown", (event) => {
    event.stopPropagation(); // keep Jupyter's shortcuts out of the text box
    if (event.key === "Enter") {
      event.preventDefault();
      setNumber(input.value);
    }
  });
  go.addEventListener("click", () => setNumber(input.value));

  const setStep = (value) => {
    if (!result) return;
    step = Math.max(0, Math.min(result.steps - 1, value));
    drawStep();
  };
  prev.addEventListener("click", () => setStep(step - 1));
  next.addEventListener("click", () => setStep(step + 1));
  range.addEventListener("input", () => setStep(Number(range.value)));

  function buildSwitches() {
    exampleGroup.replaceChildren();
    for (const n of model.get("examples")) {
      const b = el("button", { type: "button", class: "ab-choice tview-example" }, String(n));
      b.addEventListener("click", () => setNumber(String(n)));
      exampleGroup.appendChild(b);
    }
    kindGroup.replaceChildren(el("span", { class: "tview-name" }, localize("model:")));
    const kinds = Object.keys(model.get("models"));
    for (const [k, label] of [["at", "AT"], ["nat", "NAT"]]) {
      if (!kinds.includes(k)) continue;
      const b = el("button", { type: "button", class: "ab-choice tview-kind", "data-kind": k },
        label);
      b.addEventListener("click", () => { model.set("kind", k); saveChanges(model); });
      kindGroup.appendChild(b);
    }
    passGroup.replaceChildren(el("span", { class: "tview-name" }, localize("NAT passes:")));
    const most = Math.max(6, model.get("nat_iterations"));
    for (let k = 1; k <= most; k++) {
      const button = el("button", { type: "button", class: "ab-choice tview-passes",
        "data-passes": k }, String(k));
      button.addEventListener("click", () => { model.set("nat_iterations", k); saveChanges(model); });
      passGroup.appendChild(button);
    }
    beamGroup.replaceChildren(el("span", { class: "tview-name" }, localize("beam:")));
    for (let b = 1; b <= 4; b++) {
      const button = el("button", { type: "button", class: "ab-choice tview-beam",
        "data-beam": b }, String(b));
      button.addEventListener("click", () => { model.set("beam_size", b); saveChanges(model); });
      beamGroup.appendChild(button);
    }
    tfBox.addEventListener("change", () => {
      model.set("teacher_forcing", tfBox.checked);
      saveChanges(model);
    });
  }

  function syncSwitches() {
    const kind = model.get("kind");
    kindGroup.querySelectorAll("button").forEach((b) => {
      b.setAttribute("aria-pressed", String(b.dataset.kind === kind));
    });
    beamGroup.querySelectorAll("button").forEach((b) => {
      b.setAttribute("aria-pressed", String(Number(b.dataset.beam) === model.get("beam_size")));
      b.disabled = kind !== "at";
    });
    tfBox.checked = model.get("teacher_forcing");
    tfBox.disabled = kind !== "at" || model.get("beam_size") !== 1;
    passGroup.querySelectorAll("button").forEach((b) => {
      b.setAttribute("aria-pressed", String(Number(b.dataset.passes) === model.get(
        "nat_iterations")));
      b.disabled = kind !== "nat";
    });
    passGroup.hidden = !("nat" in model.get("models"));
  }

  const tok = (id) => names.target[id];

  function drawResult() {
    forNumber.textContent = `${result.n} →`;
    translation.textContent = result.text;
    const right = result.text === result.truth;
    verdict.textContent = right ? localize("✓ correct")
      : localize("✗ the correct numeral is {truth}", { truth: result.truth });
    verdict.dataset.right = String(right);
    range.max = String(result.steps - 1);
    drawStep(false);
  }

  function line(name, node) {
    const div = el("div", { class: "tview-line" });
    div.append(el("span", { class: "tview-name" }, name), node);
    stepPanel.appendChild(div);
  }

  // The page's colours and font for the canvases, read once per drawing (before it changes
  // the page, so that reading them costs no extra layout).
  let colors = null;
  function readColors() {
    const style = getComputedStyle(root);
    colors = { fg: style.color, font: style.fontFamily,
      muted: style.getPropertyValue("--ab-muted").trim() || style.color,
      width: Math.max(300, (root.clientWidth || 760) - 24) };
  }

  function mapSection(heading, layers, nq, nk, rowLabels, colLabels, shown, hidden) {
    const section = el("div", { class: "tview-section" });
    section.appendChild(el("div", { class: "tview-heading" }, heading));
    const all = layers.flatMap((heads, l) => heads.map((w, h) => ({ w,
      caption: localize("layer {layer}, head {head}", { layer: l + 1, head: h + 1 }) })));
    section.appendChild(heatmaps(all, nq, nk, rowLabels, colLabels, shown, hidden, say,
      colors, colors.width, heading, layers[0] ? layers[0].length : 0));
    maps.appendChild(section);
  }

  function drawStep(read = true) {
    const r = result;
    if (read) readColors();
    range.value = String(step);
    stepLabel.textContent = localize("{step} of {total}", { step: step + 1, total: r.steps });
    stepPanel.replaceChildren();
    maps.replaceChildren();
    const m = models[r.kind];
    const heads = m.heads;
    const digits = r.src;
    mapSection(localize("Encoder self-attention (digit → digit)"), r.enc.maps,
      digits.length, digits.length, digits, digits, digits.length, null);
    if (r.kind === "nat") {
      drawNatStep(r, heads, digits);
      return;
    }
    const dec = r.dec;
    const inputs = r.input.map(tok);
    const rowShown = Math.min(step, dec.T - 1) + 1;
    if (r.beam > 1) {
      const kept = r.beamSteps[step];
      const table = el("div", { class: "tview-beams" });
      kept.forEach((h, i) => {
        const div = el("div", { class: "tview-beam-row" + (h.finished ? " tview-finished" : "") });
        div.append(el("span", { class: "tview-rank" }, `${i + 1}.`),
          chips(h.tokens.map(tok).concat(h.finished ? ["END"] : [])),
          el("span", { class: "tview-score" }, `log p = ${fmt(h.score + 0, 3).replace(/^-(0\.0+)$/, "$1")}`
            + (h.finished ? localize("  (finished)") : "")));
        table.appendChild(div);
      });
      line(localize("beams after step {step}:", { step: step + 1 }), table);
    } else {
      line(localize("decoder input:"), chips(inputs.slice(0, step + 1), "", inputs.map((_, i) =>
        (i === step ? "tview-new" : ""))));
    }
    const t = Math.min(step, dec.T - 1);
    const probs = r.probs[t];
    const chosen = argmaxNotPad(probs, m.config.pad_id);
    const top = topTokens(probs, names.target, 5, specials(m.config, chosen));
    line(r.beam > 1 ? localize("best output, step {step}:", { step: t + 1 })
      : localize("next character:"),
      bars(top, top.findIndex(([name]) => name === tok(chosen))));
    let text;
    if (r.tf) {
      const truthNext = t < r.trueIds.length ? r.trueIds[t] : m.config.eos_id;
      const free = r.choices && t < r.choices.length ? r.choices[t] : null;
      text = localize("Teacher forcing: the decoder reads the true prefix ({prefix}) and "
        + "predicts {chosen}; the true next character is {truth}", { prefix: inputs.slice(0,
        t + 1).join(" "), chosen: tok(chosen), truth: tok(truthNext) })
        + (chosen === truthNext ? " ✓." : " ✗.");
      if (free !== null && r.choices.slice(0, t).join() !== r.trueIds.slice(0, t).join()) {
        text += localize(" Running free, the decoder had already left the true prefix: it read "
          + "{read} and chose {free}.", { read: ["BEGIN", ...r.choices.slice(0, t).map(tok)]
          .join(" "), free: tok(free) });
      } else if (free !== null && free !== chosen) {
        text += localize(" Running free it chose {free}.", { free: tok(free) });
      }
    } else if (r.beam > 1) {
      text = localize("Beam search keeps the {beam} best partial outputs at each step; their "
        + "score is the sum of the log-probabilities of their tokens.", { beam: r.beam });
    } else {
      text = localize("Step {step}: after {inputs}, the decoder chooses {chosen} (p = {p}).", {
        step: t + 1, inputs: inputs.slice(0, t + 1).join(" "), chosen: tok(chosen),
        p: fmt(probs[chosen], 3) })
        + (chosen === m.config.eos_id ? localize(" END: decoding stops.")
          : localize(" It becomes the next input."));
    }
    stepPanel.appendChild(el("div", { class: "tview-explain" }, text));
    const outLabels = dec.T > 0 ? inputs : [];
    mapSection(localize("Decoder masked self-attention (input → earlier input; the causal mask "
      + "hides the future)"), dec.selfMaps, dec.T, dec.T, outLabels, outLabels,
    rowShown, (i, j) => j > i);
    mapSection(localize("Cross attention (decoder input → digit)"), dec.crossMaps,
      dec.T, digits.length, outLabels, digits, rowShown, null);
  }

  function drawNatStep(r, heads, digits) {
    const nat = r.nat;
    const m = models.nat;
    if (step === 0) {
      const items = [...nat.lengthProbs.keys()].filter((n) => n > 0)
        .sort((a, b) => nat.lengthProbs[b] - nat.lengthProbs[a]).slice(0, 5)
        .map((n) => [String(n), nat.lengthProbs[n]]);
      line(localize("output length:"), bars(items, items.findIndex(([n]) => Number(n) === nat.length)));
      stepPanel.appendChild(el("div", { class: "tview-explain" },
        localize("First the length predictor chooses how many characters to write: {length}. "
        + "Then {passes} mask-predict pass(es) fill them in, all positions at once.",
        { length: nat.length, passes: nat.steps.length })));
      return;
    }
    const pass = nat.steps[step - 1];
    const mark = (i) => (pass.masked[i] ? "tview-new" : "");
    line(localize("decoder input:"), chips(pass.input.map(tok), "", pass.input.map((_, i) => mark(i))));
    const out = el("span", { class: "tview-chips" });
    pass.tokens.forEach((t, i) => {
      const chip = el("span", { class: "tview-chip tview-stack " + mark(i) });
      chip.append(el("span", {}, tok(t)), el("small", {}, fmt(pass.probs[i], 2)));
      out.appendChild(chip);
    });
    line(localize("output:"), out);
    const table = el("div", { class: "tview-tops" });
    pass.dists.forEach((p, i) => {
      const top = topTokens(p, names.target, 3, specials(m.config, pass.tokens[i]));
      table.appendChild(el("div", { class: "tview-top" },
        `${i + 1}: ` + top.map(([name, q]) => `${name} ${fmt(q, 2)}`).join("  ")));
    });
    line(localize("top 3 per position:"), table);
    const n = pass.masked.filter(Boolean).length;
    stepPanel.appendChild(el("div", { class: "tview-explain" },
      step === 1 ? localize("Pass 1 of {passes}: every position is MASK; the decoder predicts "
        + "all of them at once.", { passes: nat.steps.length }) + (nat.steps.length > 1
        ? localize(" The next pass re-masks the least confident ones and predicts them again.")
        : "")
        : localize("Pass {pass} of {passes}: the {n} least confident position(s) were masked "
        + "and predicted again (bold); the others kept their characters.",
        { pass: step, passes: nat.steps.length, n })));
    const labels = pass.input.map(tok);
    mapSection(localize("Decoder self-attention (no causal mask: every position sees every "
      + "other)"),
      pass.dec.selfMaps, pass.dec.T, pass.dec.T, labels, labels, pass.dec.T,
      null);
    mapSection(localize("Cross attention (decoder position → digit)"), pass.dec.crossMaps,
      pass.dec.T, digits.length, labels, digits, pass.dec.T, null);
  }

  function drawAll() {
    title.textContent = model.get("title");
    title.hidden = !model.get("title");
    syncSwitches();
  }

  buildSwitches();
  drawAll();
  say(null);
  input.value = model.get("number");
  decode();
  const stopSwitches = redrawOnChange(model, ["kind", "beam_size", "teacher_forcing",
    "nat_iterations", "title"], () => {
    drawAll();
    if (!result) return;
    // A switch decodes again: the number in the box, or, when the box holds bad input, the
    // last number decoded.
    if (!parseNumber(input.value).ok) input.value = String(result.n);
    decode();
  });
  const stopNumber = redrawOnChange(model, ["number"], () => {
    if (input.value !== model.get("number")) {
      input.value = model.get("number");
      decode();
    }
  });
  // The canvases take the page's colours when drawn: draw again when the theme changes
  // (the website's light/dark switch, JupyterLab's theme, the system's colour scheme).
  const redrawTheme = () => { if (result && models) drawStep(); };
  const themeObserver = new MutationObserver(redrawTheme);
  for (const node of [document.documentElement, document.body]) {
    themeObserver.observe(node, { attributes: true, attributeFilter: ["data-theme", "class",
      "data-jp-theme-name", "data-mode"] });
  }
  const scheme = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  if (scheme) scheme.addEventListener("change", redrawTheme);
  return () => {
    stopSwitches();
    stopNumber();
    themeObserver.disconnect();
    if (scheme) scheme.removeEventListener("change", redrawTheme);
  };
}

export {
  loadModel, forward, greedyDecode, beamSearch, natDecode, mapsFromSteps, toChinese, parseNumber,
};
export default { render };
