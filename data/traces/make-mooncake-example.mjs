#!/usr/bin/env node
/**
 * Writes data/traces/mooncake-example.jsonl: a small synthetic trace in the Mooncake format
 * (kvcache-ai/Mooncake FAST'25-release/README.md: JSON lines of timestamp in ms, input_length,
 * output_length, hash_ids with one id per 512-token block), for the bundled scenario
 * scenarios/mooncake-replay.yaml and the docs. It is made up, not measured: every figure below is
 * an assumption chosen to exercise the cache (shared system prompts, multi-turn conversations).
 *
 *   node data/traces/make-mooncake-example.mjs > data/traces/mooncake-example.jsonl
 *
 * - 8 system prompts of 1,500 to 6,000 tokens; a conversation picks one with Zipf(1) popularity.
 * - Conversations open as a Poisson process at 0.9/s; each has 1 to 6 turns (uniform).
 * - Turn k's prompt is the system prompt, every earlier turn's user tokens and answer, and its own
 *   user tokens (lognormal, median 150); answers are lognormal, median 220, at most 1,500.
 * - Turn k+1 is sent 4 s (an assumed response time) plus a think time (exponential, mean 20 s)
 *   after turn k.
 * - Block i (tokens 512i to 512i+511) gets the system prompt's id while it lies inside the system
 *   prompt, else one id per (conversation, i) once full; a partial last block gets a fresh id (its
 *   content is a prefix no other row has). Ids are then renumbered by first appearance, as
 *   Mooncake's are remapped.
 * - Rows are sorted by timestamp; the first 1,000 are written.
 */
const BLOCK = 512;
const ROWS = 1000;

// mulberry32: a small seeded generator, so the file is reproducible byte for byte.
let state = 20250225;
function random() {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const lognormal = (median, sigma) => Math.max(1, Math.round(median * Math.exp(sigma * normal())));
const exponential = (mean) => -mean * Math.log(1 - random());

const systemTokens = [6000, 4200, 3100, 2600, 2048, 1800, 1600, 1500];
const zipf = systemTokens.map((_, i) => 1 / (i + 1));
const zipfTotal = zipf.reduce((a, b) => a + b, 0);
function pickSystem() {
  let u = random() * zipfTotal;
  for (let i = 0; i < zipf.length; i++) if ((u -= zipf[i]) < 0) return i;
  return zipf.length - 1;
}

let nextRaw = 0;
const systemIds = systemTokens.map((tokens) => Array.from({ length: Math.floor(tokens / BLOCK) }, () => nextRaw++));
const rows = [];
let openS = 0;
for (let c = 0; rows.length < 2 * ROWS; c++) {
  openS += exponential(1 / 0.9);
  const sys = pickSystem();
  const turns = 1 + Math.floor(random() * 6);
  const own = []; // this conversation's ids of full blocks past the system prompt's full blocks
  let context = systemTokens[sys];
  let atS = openS;
  for (let k = 0; k < turns; k++) {
    const input = context + lognormal(150, 0.8);
    const output = Math.min(1500, lognormal(220, 0.7));
    const full = Math.floor(input / BLOCK);
    const ids = systemIds[sys].slice(0, full);
    for (let i = ids.length; i < full; i++) {
      const j = i - systemIds[sys].length;
      if (own[j] === undefined) own[j] = nextRaw++;
      ids.push(own[j]);
    }
    if (input % BLOCK !== 0) ids.push(nextRaw++);
    rows.push({ t: Math.round(atS * 1000), input, output, ids });
    context = input + output;
    atS += 4 + exponential(20);
  }
}
rows.sort((a, b) => a.t - b.t);
const kept = rows.slice(0, ROWS);
const remap = new Map();
const t0 = kept[0].t;
const out = [];
for (const r of kept) {
  const ids = r.ids.map((id) => {
    if (!remap.has(id)) remap.set(id, remap.size);
    return remap.get(id);
  });
  out.push(JSON.stringify({ timestamp: r.t - t0, input_length: r.input, output_length: r.output, hash_ids: ids }).replace(/,/g, ', ').replace(/":/g, '": '));
}
process.stdout.write(out.join('\n') + '\n');
