using System.Text.Json.Nodes;

namespace Orleans.Rft.Evaluators.Python;

/// <summary>
/// <c>python</c>: a reward function in a user's file, run by warm worker subprocesses
/// (<see cref="PythonWorkerPool"/>). Spec: <c>path</c> (or <c>source</c>, which <c>rft submit</c> fills in
/// so a silo needs no copy of the file), <c>function</c>, <c>timeout_seconds</c>, <c>memory_mb</c>,
/// <c>workers</c>, <c>groupwise</c>, <c>requirements_check</c>. The file is loaded once when the
/// evaluator is built, so a syntax error, a missing import or a missing function is a spec error
/// naming the file and line, before any training starts. Every failure of a call (exception, timeout,
/// crash, a non-number, NaN, a score outside [0, 1]) is an invalid result with the reason.
/// </summary>
public sealed class PythonEvaluator(PythonWorkerPool pool, string fileName, bool groupwise) : IGroupEvaluator, IDisposable
{
    /// <summary>Largest reward file accepted (inlined into the job spec, which every evaluator call carries).</summary>
    public const int MaxSourceBytes = 256 << 10;

    /// <summary>
    /// Per-call limit, at most the job's per-rollout evaluator limit (30 s): past it the job has already
    /// scored the rollout invalid, so a longer worker call would only hold a worker.
    /// </summary>
    public const double MaxTimeoutSeconds = 30;

    /// <summary>Where the silo's log gets worker stderr (print() in rewards); hosts may point it at their logger.</summary>
    public static Action<string> Log { get; set; } = line => Console.Error.WriteLine($"[python reward] {line}");

    public string Type => "python";
    public bool IsAsynchronous => true; // the work is in the worker process; this side awaits its pipe
    public bool Groupwise => groupwise;
    public PythonWorkerCounters Counters => pool.Counters;

    public static PythonEvaluator From(SpecReader r, string? baseDirectory)
    {
        var path = r.String("path");
        var source = r.String("source");
        var function = r.String("function", "evaluate")!;
        var timeout = r.Double("timeout_seconds", 30, min: 0.1, max: MaxTimeoutSeconds);
        var memoryMb = r.Int("memory_mb", 1024, min: 64, max: 1 << 20);
        var workers = r.Int("workers", 2, min: 1, max: 64);
        var groupwise = r.Bool("groupwise", false);
        var requirementsCheck = r.Bool("requirements_check", true);
        if (path is null && source is null) throw new SpecException(r.At("path"), "is required: the Python file holding the reward function (relative to the job file).");
        var fileName = Path.GetFileName(path ?? "reward.py");
        string file;
        if (source is not null)
        {
            if (System.Text.Encoding.UTF8.GetByteCount(source) > MaxSourceBytes)
                throw new SpecException(r.At("source"), $"is over {MaxSourceBytes / 1024} KiB; keep the reward file small and import helpers the silo's Python has.");
            file = PythonRuntime.MaterializeSource(fileName.EndsWith(".py") ? fileName : fileName + ".py", source);
        }
        else if (baseDirectory is null)
            throw new SpecException(r.At("path"), "names a file, and this cluster's silos do not read files from their disks; submit with rft submit (which sends the file's text), or let the silos read local paths with Rft:AllowLocalPaths=true.");
        else
        {
            file = Path.GetFullPath(Path.Combine(baseDirectory, path!));
            if (!File.Exists(file)) throw new SpecException(r.At("path"), $"'{file}' does not exist; give the Python file with the reward function, relative to the job file.");
        }
        Check(file, function, memoryMb, groupwise, requirementsCheck, r.At(source is null ? "path" : "source"));
        return new PythonEvaluator(new PythonWorkerPool(file, function, memoryMb, workers, groupwise, TimeSpan.FromSeconds(timeout), Log), fileName, groupwise);
    }

    /// <summary>
    /// Loads the file in a worker that exits right after (<c>requirements_check: false</c> only
    /// compiles it, for a file whose imports exist on the silos but not where the job is submitted).
    /// </summary>
    static void Check(string file, string function, int memoryMb, bool groupwise, bool load, string at)
    {
        if (!load)
        {
            CompileOnly(file, at);
            return;
        }
        PythonLoadResult result;
        try
        {
            // Built synchronously (a factory), possibly on a grain's single-threaded scheduler: the start runs
            // on the thread pool so that its continuations never wait for the thread this call blocks.
            var (worker, loaded) = Task.Run(() => PythonWorker.StartAsync(file, function, memoryMb, groupwise, checkOnly: true, Log, PythonWorkerPool.StartTimeout, CancellationToken.None)).GetAwaiter().GetResult();
            worker.Dispose();
            result = loaded;
        }
        catch (Exception e) when (e is PythonWorkerException or TimeoutException)
        {
            throw new SpecException(at, $"{Path.GetFileName(file)} could not be loaded: {e.Message}");
        }
        if (!result.Ready) throw new SpecException(at, $"{result.Describe()}; fix the reward file (it is loaded before the job starts).");
    }

    static void CompileOnly(string file, string at)
    {
        var info = new System.Diagnostics.ProcessStartInfo(PythonRuntime.Interpreter) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-c", "import ast,sys; ast.parse(open(sys.argv[1], encoding='utf-8').read(), sys.argv[1])", file }) info.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(info) ?? throw new SpecException(at, $"cannot start Python '{info.FileName}'.");
        var error = p.StandardError.ReadToEnd();
        if (!p.WaitForExit(30_000)) { p.Kill(); throw new SpecException(at, "compiling the reward file took over 30 s."); }
        if (p.ExitCode != 0)
        {
            var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var where = lines.Select(l => System.Text.RegularExpressions.Regex.Match(l, @"line (\d+)")).LastOrDefault(m => m.Success)?.Groups[1].Value;
            throw new SpecException(at, $"{Path.GetFileName(file)}{(where is null ? "" : ":" + where)}: {lines.LastOrDefault()?.Trim()}; fix the reward file.");
        }
    }

    public async Task<EvaluationResult> EvaluateAsync(EvaluationInput input, CancellationToken cancellation)
    {
        if (groupwise) return (await EvaluateGroupAsync([input], cancellation))[0];
        var request = new JsonObject { ["completion"] = input.Completion, ["ground_truth"] = input.GroundTruth?.DeepClone(), ["row"] = input.Row.DeepClone() };
        if (input.Trajectory is { } trajectory) request["trajectory"] = trajectory.DeepClone();
        var answer = await Call(request, cancellation);
        return answer is string failure ? EvaluationResult.Invalid(failure) : FromWorker(((JsonObject)answer)["result"]);
    }

    public async Task<IReadOnlyList<EvaluationResult>> EvaluateGroupAsync(IReadOnlyList<EvaluationInput> group, CancellationToken cancellation)
    {
        if (!groupwise) return await Task.WhenAll(group.Select(i => EvaluateAsync(i, cancellation)));
        var request = new JsonObject
        {
            ["completions"] = new JsonArray(group.Select(i => (JsonNode?)JsonValue.Create(i.Completion)).ToArray()),
            ["ground_truth"] = group[0].GroundTruth?.DeepClone(), ["row"] = group[0].Row.DeepClone(),
        };
        if (group.Any(i => i.Trajectory is not null))
            request["trajectories"] = new JsonArray(group.Select(i => i.Trajectory?.DeepClone()).ToArray());
        var answer = await Call(request, cancellation);
        if (answer is string failure) return group.Select(_ => EvaluationResult.Invalid(failure)).ToList();
        var results = ((JsonObject)answer)["results"] as JsonArray;
        if (results is null || results.Count != group.Count)
            return group.Select(_ => EvaluationResult.Invalid($"{fileName}: the groupwise reward did not return {group.Count} results")).ToList();
        return results.Select(FromWorker).ToList();
    }

    /// <summary>The worker's answer, or the reason the call failed (the reward's exception, a timeout, a crash).</summary>
    async Task<object> Call(JsonObject request, CancellationToken cancellation)
    {
        try
        {
            var answer = await pool.CallAsync(request, cancellation);
            return answer["error"] is JsonValue e ? $"{fileName}: {e.GetValue<string>()}" : answer;
        }
        catch (TimeoutException e) { return $"{fileName}: {e.Message}; the worker was replaced"; }
        catch (PythonWorkerException e) { return $"{fileName}: {e.Message}; the worker was replaced"; }
    }

    EvaluationResult FromWorker(JsonNode? result) =>
        result?["invalid"] is JsonValue why ? EvaluationResult.Invalid($"{fileName}: {why.GetValue<string>()}") : EvaluationResult.FromJson(result);

    public void Dispose() => pool.Dispose();
}
