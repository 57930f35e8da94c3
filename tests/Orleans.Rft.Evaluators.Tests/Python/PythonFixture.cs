using System.Text.Json.Nodes;
using Orleans.Rft.Evaluators.Python;

namespace Orleans.Rft.Evaluators.Tests.Python;

/// <summary>
/// Real Python processes: Debian's /usr/bin/python3 (standard library only) when present, since another
/// python3 earlier on PATH may be a different build; RFT_TEST_PYTHON overrides. Reward files are written
/// to a fresh folder per test.
/// </summary>
static class Py
{
    static Py()
    {
        var python = Environment.GetEnvironmentVariable("RFT_TEST_PYTHON") ?? (File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : null);
        if (python is not null) PythonRuntime.Executable = python;
    }

    public static readonly List<string> Log = new();

    /// <summary>Writes <paramref name="source"/> as reward.py and builds a python evaluator on it with the extra spec keys.</summary>
    public static PythonEvaluator Create(string source, string extraSpec = "", string fileName = "reward.py")
    {
        var dir = Write(source, fileName);
        var spec = JsonNode.Parse($$"""{"type":"python","path":"{{fileName}}"{{(extraSpec.Length > 0 ? "," + extraSpec : "")}}}""")!.AsObject();
        PythonEvaluator.Log = line => { lock (Log) Log.Add(line); };
        return (PythonEvaluator)EvaluatorFactory.Create(spec, "evaluator", dir);
    }

    public static string Write(string source, string fileName = "reward.py")
    {
        var dir = Directory.CreateTempSubdirectory("rft-py-test").FullName;
        File.WriteAllText(Path.Combine(dir, fileName), source);
        return dir;
    }

    public static EvaluationInput Input(string completion, JsonNode? truth = null, string rowJson = """{"messages":[{"role":"user","content":"What is 2 + 2?"}]}""") =>
        new(completion, truth, JsonNode.Parse(rowJson)!.AsObject());

    public static Task<EvaluationResult> Score(this IEvaluator e, string completion, JsonNode? truth = null) =>
        e.EvaluateAsync(Input(completion, truth), CancellationToken.None);
}
