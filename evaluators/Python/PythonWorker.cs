using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Orleans.Rft.Evaluators.Python;

/// <summary>What a worker says on its first line: ready with the arguments its function takes, or why the file did not load.</summary>
public sealed record PythonLoadResult(bool Ready, IReadOnlyList<string> Parameters, string File, int Line, string Message)
{
    public string Describe() => Line > 0 ? $"{File}:{Line}: {Message}" : $"{File}: {Message}";
}

/// <summary>A worker that died, or said something that is not the protocol: the sample is invalid with <see cref="Exception.Message"/>, and the worker is replaced.</summary>
public sealed class PythonWorkerException(string message) : Exception(message);

/// <summary>
/// One Python subprocess running <c>rft_worker.py</c> on one reward file. Requests and answers are
/// JSON lines on the child's original stdin/stdout, which the worker takes for itself before the
/// reward loads (its fd 1 then goes to stderr): a JSON line is simple to frame and to debug, and a
/// print() in a reward can never be mistaken for an answer. Stderr lines go to <paramref name="log"/>.
/// Not thread-safe: the pool lends a worker to one call at a time.
/// </summary>
public sealed class PythonWorker : IDisposable
{
    readonly Process process;
    readonly Action<string> log;
    readonly Queue<string> lastErrors = new(); // the end of stderr, for a crash's reason
    long nextId;

    PythonWorker(Process process, Action<string> log)
    {
        this.process = process;
        this.log = log;
    }

    public bool HasExited => process.HasExited;

    /// <summary>Starts a worker and waits (at most <paramref name="startTimeout"/>) for its first line.</summary>
    public static async Task<(PythonWorker Worker, PythonLoadResult Load)> StartAsync(string file, string function, int memoryMb, bool groupwise,
        bool checkOnly, Action<string> log, TimeSpan startTimeout, CancellationToken cancellation)
    {
        var info = new ProcessStartInfo(PythonRuntime.Interpreter)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(Path.GetFullPath(file))!,
            StandardOutputEncoding = System.Text.Encoding.UTF8, StandardErrorEncoding = System.Text.Encoding.UTF8,
        };
        foreach (var a in new[] { "-u", "-X", "utf8", Path.Combine(PythonRuntime.HostFolder, "rft_worker.py"), Path.GetFullPath(file), function, memoryMb.ToString() })
            info.ArgumentList.Add(a);
        if (groupwise) info.ArgumentList.Add("--groupwise");
        if (checkOnly) info.ArgumentList.Add("--check");
        // rft_reward is importable from the host folder; the reward's own folder comes first (the worker puts it there).
        var path = Environment.GetEnvironmentVariable("PYTHONPATH");
        info.Environment["PYTHONPATH"] = string.IsNullOrEmpty(path) ? PythonRuntime.HostFolder : $"{PythonRuntime.HostFolder}{Path.PathSeparator}{path}";
        info.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        Process process;
        try { process = Process.Start(info) ?? throw new PythonWorkerException($"'{info.FileName}' did not start"); }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new PythonWorkerException($"cannot start Python '{info.FileName}' ({e.Message}); put python3 on the silo's PATH or set Rft:Python (environment Rft__Python)");
        }
        var worker = new PythonWorker(process, log);
        worker.PumpStderr(Path.GetFileName(file));
        try
        {
            var first = await worker.ReadLineAsync(startTimeout, cancellation);
            var node = JsonNode.Parse(first) as JsonObject;
            if (node?["load_error"] is JsonObject e)
                return (worker, new PythonLoadResult(false, [], e["file"]?.GetValue<string>() ?? Path.GetFileName(file), e["line"]?.GetValue<int>() ?? 0, e["message"]?.GetValue<string>() ?? "did not load"));
            if (node?["ready"] is null) throw new PythonWorkerException($"the worker's first line is not the protocol: {Short(first)}");
            var parameters = (node["params"] as JsonArray)?.Select(p => p!.GetValue<string>()).ToList() ?? [];
            return (worker, new PythonLoadResult(true, parameters, Path.GetFileName(file), 0, "loaded"));
        }
        catch (TimeoutException)
        {
            worker.Dispose();
            throw new PythonWorkerException($"the worker did not start within {startTimeout.TotalSeconds:G3} s (the reward's imports take too long)");
        }
        catch
        {
            worker.Dispose();
            throw;
        }
    }

    /// <summary>Sends one request and reads its answer; a late, missing or garbled answer throws (the pool then replaces this worker).</summary>
    /// <exception cref="TimeoutException">no answer within <paramref name="timeout"/></exception>
    public async Task<JsonObject> CallAsync(JsonObject request, TimeSpan timeout, CancellationToken cancellation)
    {
        var id = ++nextId;
        request["id"] = id;
        try
        {
            await process.StandardInput.WriteLineAsync(request.ToJsonString().AsMemory(), cancellation);
            await process.StandardInput.FlushAsync(cancellation);
        }
        catch (IOException) { throw Died(); }
        var line = await ReadLineAsync(timeout, cancellation);
        JsonObject? answer;
        try { answer = JsonNode.Parse(line) as JsonObject; }
        catch (System.Text.Json.JsonException) { answer = null; }
        if (answer is null || answer["id"]?.GetValue<long>() != id) throw new PythonWorkerException($"the worker answered out of protocol: {Short(line)}");
        return answer;
    }

    async Task<string> ReadLineAsync(TimeSpan timeout, CancellationToken cancellation)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        string? line;
        try { line = await process.StandardOutput.ReadLineAsync(deadline.Token); }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            throw new TimeoutException($"the reward took longer than evaluator.timeout_seconds ({timeout.TotalSeconds:G3} s)");
        }
        return line ?? throw Died();
    }

    PythonWorkerException Died()
    {
        if (!process.WaitForExit(2000)) return new PythonWorkerException("the worker closed its pipe");
        process.WaitForExit(); // lets the stderr pump finish, so the last lines are in lastErrors
        string tail;
        lock (lastErrors) tail = string.Join(" | ", lastErrors);
        var code = process.ExitCode;
        var how = code > 128 ? $"was killed by signal {code - 128}" : code < 0 ? $"was killed by signal {-code}" : $"exited with code {code}";
        return new PythonWorkerException($"the worker {how} during the call{(tail.Length > 0 ? $" (stderr: {Short(tail)})" : "")}");
    }

    void PumpStderr(string fileName)
    {
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (lastErrors)
            {
                lastErrors.Enqueue(e.Data);
                while (lastErrors.Count > 3) lastErrors.Dequeue();
            }
            log($"{fileName}: {e.Data}");
        };
        process.BeginErrorReadLine();
    }

    static string Short(string s) => s.Length <= 300 ? s : s[..297] + "…";

    public void Dispose()
    {
        try { if (!process.HasExited) process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { } // already gone
        process.Dispose();
    }
}
