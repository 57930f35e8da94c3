using System.Diagnostics;
using Orleans.Rft.Silo;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// A real silo host process (the built <c>rft-silo</c>), for tests where the death of a process is the
/// point: configured only through environment variables (<c>Rft__…</c>, as in production), ready when
/// it prints <see cref="SiloReady.Line"/>, killed with SIGKILL (no shutdown code runs), its stdout and
/// stderr kept in a log file that failure messages quote. Disposing kills it: a test never leaves a
/// silo running.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    readonly Process process;
    readonly StreamWriter log;
    readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    bool closed; // output events can arrive after Dispose: they must not write to a closed log

    public string Name { get; }
    public string LogPath { get; }
    public int Id { get; private set; }
    public bool HasExited => process.HasExited;

    SiloProcess(string name, Process process, string logPath)
    {
        Name = name;
        this.process = process;
        LogPath = logPath;
        log = new StreamWriter(logPath, append: true) { AutoFlush = true };
    }

    /// <summary>Starts the silo and waits until it is active in its cluster (its ready line), or throws with its log.</summary>
    public static async Task<SiloProcess> StartAsync(string name, IReadOnlyDictionary<string, string> environment, string logDirectory, TimeSpan readyTimeout)
    {
        var dll = SiloAssembly();
        Directory.CreateDirectory(logDirectory);
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet", [dll])
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!, // appsettings.json beside the assembly; env overrides it
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var (key, value) in environment) start.Environment[key] = value;
        var silo = new SiloProcess(name, new Process { StartInfo = start, EnableRaisingEvents = true }, Path.Combine(logDirectory, $"{name}.log"));
        silo.process.OutputDataReceived += (_, e) => silo.Line(e.Data, "out");
        silo.process.ErrorDataReceived += (_, e) => silo.Line(e.Data, "err");
        silo.process.Exited += (_, _) => silo.ready.TrySetException(new InvalidOperationException($"silo {name} exited before it was ready."));
        silo.process.Start();
        silo.Id = silo.process.Id;
        silo.process.BeginOutputReadLine();
        silo.process.BeginErrorReadLine();
        try
        {
            await silo.ready.Task.WaitAsync(readyTimeout);
            return silo;
        }
        catch (Exception e)
        {
            var exited = silo.HasExited ? $", exit code {silo.process.ExitCode}" : "";
            await silo.DisposeAsync();
            throw new InvalidOperationException($"silo {name} did not become ready within {readyTimeout.TotalSeconds:0} s ({e.Message}{exited}):\n{silo.Log()}", e);
        }
    }

    void Line(string? text, string stream)
    {
        if (text is null) return;
        lock (log) { if (!closed) log.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {stream} {text}"); }
        if (stream == "out" && text.StartsWith(SiloReady.Line, StringComparison.Ordinal)) ready.TrySetResult();
    }

    /// <summary>SIGKILL to the process (and anything it started), then waits until the OS has reaped it.</summary>
    public async Task KillAsync()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        lock (log) { if (!closed) log.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} --- killed (SIGKILL) by the test"); }
    }

    /// <summary>
    /// SIGTERM (what Kubernetes and <c>docker stop</c> send): the silo drains and shuts down gracefully.
    /// Waits up to <paramref name="timeout"/> for the process to exit; true when it did.
    /// </summary>
    public async Task<bool> TerminateAsync(TimeSpan timeout)
    {
        if (process.HasExited) return true;
        lock (log) { if (!closed) log.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} --- SIGTERM by the test"); }
        if (Kill(process.Id, SigTerm) != 0) throw new InvalidOperationException($"kill(SIGTERM) of silo {Name} (pid {process.Id}) failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        try { await process.WaitForExitAsync().WaitAsync(timeout); return true; }
        catch (TimeoutException) { return false; }
    }

    const int SigTerm = 15;
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    static extern int Kill(int pid, int signal);

    /// <summary>The output so far (the last <paramref name="maxChars"/> characters), for failure messages.</summary>
    public string Log(int maxChars = 20_000)
    {
        string text;
        lock (log)
        {
            using var reader = new StreamReader(new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
            text = reader.ReadToEnd();
        }
        return $"--- silo {Name} (pid {Id}, {LogPath}) ---\n" + (text.Length > maxChars ? "…" + text[^maxChars..] : text);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!process.HasExited) await KillAsync();
            else await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5)); // drains its last output into the log
        }
        catch (InvalidOperationException) { } // never started
        catch (TimeoutException) { }
        process.Dispose();
        lock (log) { closed = true; log.Dispose(); }
    }

    /// <summary>
    /// The silo host built beside this test assembly's configuration (the test project references the
    /// silo project, so building the tests builds it): <c>silo/bin/&lt;Configuration&gt;/&lt;tfm&gt;/rft-silo.dll</c>,
    /// or <c>RFT_SILO_DLL</c>.
    /// </summary>
    static string SiloAssembly()
    {
        if (Environment.GetEnvironmentVariable("RFT_SILO_DLL") is { Length: > 0 } env) return File.Exists(env) ? env : throw new FileNotFoundException($"RFT_SILO_DLL names {env}, which does not exist.");
        var bin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var (tfm, configuration) = (bin.Name, bin.Parent!.Name);
        for (var dir = bin; dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "Orleans.Rft.sln"))) continue;
            var dll = Path.Combine(dir.FullName, "silo", "bin", configuration, tfm, "rft-silo.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException($"{dll} is missing: build the silo (dotnet build silo -c {configuration}), or set RFT_SILO_DLL.");
        }
        throw new FileNotFoundException($"no Orleans.Rft.sln above {bin.FullName}: set RFT_SILO_DLL to the built rft-silo.dll.");
    }
}
