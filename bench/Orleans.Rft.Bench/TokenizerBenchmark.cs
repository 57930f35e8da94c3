using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Tokenization;

namespace Orleans.Rft.Bench;

/// <summary>
/// Encode and decode time for a ~4k-token text of mixed prose, C# code and multilingual lines
/// (README.md, a source file, the tokenizer test corpus), the budget issue 8 sets: rendering and
/// tokenizing a 4k-token conversation under 5 ms. "first": the process's first encode on a freshly
/// loaded tokenizer (JIT and regex compilation included); "uncached": a fresh tokenizer after a
/// few-word warm-up, so code is compiled but no word of the text is cached (median of 5);
/// "warm": the same text again, every word cached (median of 50).
///   dotnet run -c Release --project bench/Orleans.Rft.Bench -- --tokenizers [DIR,DIR…] [--ids-out OUT]
/// With --ids-out, each tokenizer's ids and decoded text of the whole mixed text go to OUT/NAME.json, for
/// scripts/tokenizer-reference/check-full.mjs to compare with tokenizers on the same full files.
/// DIRs are model folders (tokenizer.json + tokenizer_config.json). Without them, the pruned test
/// tokenizers under tests/…/Tokenizers are used: their vocabularies only cover the test corpus, so
/// other text splits into more, shorter tokens — take real folders for figures to report.
/// </summary>
public static class TokenizerBenchmark
{
    const int TargetTokens = 4096;
    const int WarmRepeats = 50;

    public static void Run(string repoRoot, string directories, string? idsOut = null)
    {
        var sources = directories.Length > 0
            ? directories.Split(',').Select(d => (Name: Path.GetFileName(d.TrimEnd('/')), Load: (Func<TextTokenizer>)(() => TextTokenizer.Load(d)))).ToList()
            : new[] { "llama3", "qwen3", "llama2-sp", "gemma3" }.Select(n => (Name: n + " (pruned)", Load: (Func<TextTokenizer>)(() => LoadPruned(repoRoot, n)))).ToList();
        var baseText = MixedText(repoRoot);
        Console.WriteLine("| tokenizer | tokens | chars | first encode ms | uncached encode ms | warm encode ms | warm tokens/s | decode ms |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var (name, load) in sources)
        {
            var probe = load();
            if (idsOut is not null && directories.Length > 0)
            {
                Directory.CreateDirectory(idsOut);
                var all = probe.Encode(baseText, addSpecialTokens: true);
                File.WriteAllText(Path.Combine(idsOut, name + ".json"), new JsonObject
                {
                    ["model_dir"] = Path.GetFullPath(directories.Split(',').First(d => Path.GetFileName(d.TrimEnd('/')) == name)),
                    ["text"] = baseText,
                    ["ids"] = new JsonArray(all.Select(i => (JsonNode)i).ToArray()),
                    ["decoded"] = probe.Decode(all),
                }.ToJsonString());
            }
            // Cut the text to ~4096 tokens of this tokenizer.
            var ids = probe.Encode(baseText);
            var text = baseText[..(int)Math.Min(baseText.Length, (long)baseText.Length * TargetTokens / Math.Max(1, ids.Length))];
            var fresh = load();
            var sw = Stopwatch.StartNew();
            var encoded = fresh.Encode(text);
            var cold = sw.Elapsed.TotalMilliseconds;
            var warm = new List<double>();
            for (int i = 0; i < WarmRepeats; i++)
            {
                sw.Restart();
                fresh.Encode(text);
                warm.Add(sw.Elapsed.TotalMilliseconds);
            }
            var uncached = new List<double>();
            for (int i = 0; i < 5; i++)
            {
                var t = load();
                t.Encode("Warm-up: 12 é 你 🙂 <|im_end|>");
                sw.Restart();
                t.Encode(text);
                uncached.Add(sw.Elapsed.TotalMilliseconds);
            }
            var decode = new List<double>();
            for (int i = 0; i < 10; i++)
            {
                sw.Restart();
                fresh.Decode(encoded);
                decode.Add(sw.Elapsed.TotalMilliseconds);
            }
            double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);
            Console.WriteLine($"| {name} | {encoded.Length} | {text.Length} | {cold:F2} | {Median(uncached):F2} | {Median(warm):F2} | {encoded.Length / (Median(warm) / 1000):F0} | {Median(decode):F2} |");
        }
    }

    static string MixedText(string repoRoot)
    {
        var corpus = JsonNode.Parse(File.ReadAllText(Path.Combine(repoRoot, "tests", "Orleans.Rft.Engine.Tests", "Tokenizers", "corpus.json")))!
            .AsArray().Select(x => x!.GetValue<string>());
        var parts = new List<string> { File.ReadAllText(Path.Combine(repoRoot, "README.md")) };
        parts.Add(File.ReadAllText(Path.Combine(repoRoot, "engine", "Tokenization", "BpeModel.cs")));
        parts.Add(string.Join("\n", corpus));
        var text = string.Join("\n\n", parts);
        while (text.Length < 40_000) text += "\n\n" + text; // enough for 4k tokens of any of the tokenizers
        return text;
    }

    static TextTokenizer LoadPruned(string repoRoot, string name)
    {
        var dir = Path.Combine(repoRoot, "tests", "Orleans.Rft.Engine.Tests", "Tokenizers", name);
        using var gz = new GZipStream(File.OpenRead(Path.Combine(dir, "tokenizer.json.gz")), CompressionMode.Decompress);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "tokenizer_config.json")))!.AsObject();
        return TextTokenizer.FromTokenizerJson(new StreamReader(gz).ReadToEnd(), name, config);
    }
}
