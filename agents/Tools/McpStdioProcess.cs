using System.Diagnostics;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Orleans.Rft.Agents.Tools;

/// <summary>
/// A stdio MCP server's process, started by us rather than by the SDK's StdioClientTransport so that
/// its stdout can be read through a <see cref="LineLimitedStream"/> (the SDK offers no line limit);
/// the session talks to it over <see cref="StreamClientTransport"/>. Keeps the last lines of stderr
/// for error messages; disposing kills the process tree.
/// </summary>
sealed class McpStdioProcess : IAsyncDisposable
{
    /// <summary>The longest stdout line accepted (16 MiB): far above any tool list or result, far below what would strain a silo.</summary>
    public const long MaxLineBytes = 16L << 20;

    readonly Process process;
    readonly Queue<string> stderrTail = new();
    readonly Task stderrPump;
    volatile string? stopReason;
    int? exitCode;       // read before the process object is disposed
    bool killedByUs;     // stopped on disposal: its exit code says nothing about the server

    public IClientTransport Transport { get; }

    McpStdioProcess(Process process, long maxLineBytes, string name, ILoggerFactory loggers)
    {
        this.process = process;
        var stdout = new LineLimitedStream(process.StandardOutput.BaseStream, maxLineBytes, () =>
        {
            stopReason = $"wrote a line of more than {maxLineBytes >> 20} MiB without a newline";
            Kill();
        });
        Transport = new NamedTransport(name, new StreamClientTransport(process.StandardInput.BaseStream, stdout, loggers));
        stderrPump = Task.Run(PumpStderr);
    }

    public static McpStdioProcess Start(McpServerSpec spec, ILoggerFactory loggers, long maxLineBytes = MaxLineBytes)
    {
        var info = new ProcessStartInfo(spec.Command!)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            UseShellExecute = false, CreateNoWindow = true,
            WorkingDirectory = spec.Cwd ?? Environment.CurrentDirectory,
        };
        foreach (var a in spec.Args) info.ArgumentList.Add(a);
        foreach (var (k, v) in spec.Env) info.Environment[k] = v;
        var process = Process.Start(info) ?? throw new InvalidOperationException($"'{spec.Command}' did not start.");
        return new McpStdioProcess(process, maxLineBytes, spec.Name, loggers);
    }

    /// <summary>Why the process ended, for error messages: the line limit, or its exit code and last stderr lines.</summary>
    public string Describe()
    {
        string tail;
        lock (stderrTail) tail = stderrTail.Count > 0 ? $"; stderr: {string.Join(" | ", stderrTail)}" : "";
        if (stopReason is string why) return why + tail;
        int? code;
        lock (stderrTail) code = exitCode ?? (!killedByUs && process.HasExited ? process.ExitCode : null);
        return code is int c && !killedByUs ? $"exit code {c}{tail}" : $"session closed{tail}";
    }

    async Task PumpStderr()
    {
        var buffer = new char[4096];
        var line = new System.Text.StringBuilder();
        try
        {
            int n;
            while ((n = await process.StandardError.ReadAsync(buffer)) > 0)
                for (int i = 0; i < n; i++)
                {
                    if (buffer[i] == '\n') { Keep(line.ToString()); line.Clear(); }
                    else if (line.Length < 1000) line.Append(buffer[i]); // a line is kept to 1000 characters: only its start explains
                }
            if (line.Length > 0) Keep(line.ToString());
        }
        catch (Exception) { } // the process is gone: its stderr ends with it
    }

    void Keep(string line)
    {
        lock (stderrTail)
        {
            stderrTail.Enqueue(line.TrimEnd('\r'));
            while (stderrTail.Count > 3) stderrTail.Dequeue();
        }
    }

    void Kill()
    {
        try { if (!process.HasExited) process.Kill(entireProcessTree: true); }
        catch (Exception) { } // it exited meanwhile
    }

    public async ValueTask DisposeAsync()
    {
        lock (stderrTail)
        {
            if (exitCode is not null || killedByUs) return; // disposed already
            killedByUs = !process.HasExited;
        }
        Kill();
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try { await process.WaitForExitAsync(wait.Token); await stderrPump.WaitAsync(wait.Token); }
        catch (OperationCanceledException) { } // a process that ignores SIGKILL for 2 s is the kernel's now
        lock (stderrTail) exitCode = process.HasExited ? process.ExitCode : -1;
        process.Dispose();
    }

    /// <summary>The stream transport under the server's name (what the SDK's logs show).</summary>
    sealed class NamedTransport(string name, IClientTransport inner) : IClientTransport
    {
        public string Name => name;
        public Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default) => inner.ConnectAsync(cancellationToken);
    }
}
