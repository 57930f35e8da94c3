using System.Security.Cryptography;

namespace Orleans.Rft.Evaluators.Python;

/// <summary>
/// Where the <c>python</c> evaluator's interpreter and host files are. The interpreter is
/// <see cref="Executable"/> when a host sets it, else the environment's <c>Rft__Python</c> (how .NET
/// configuration spells <c>Rft:Python</c> as an environment variable), else <c>python3</c> on PATH.
/// Nothing is installed at run time: rewards use what that interpreter has.
/// </summary>
public static class PythonRuntime
{
    /// <summary>Set by a host from its configuration (tests set it too); null falls back to the environment's <c>Rft__Python</c>, then <c>python3</c>.</summary>
    public static string? Executable { get; set; }

    public static string Interpreter =>
        Executable ?? (Environment.GetEnvironmentVariable("Rft__Python") is { Length: > 0 } env ? env : "python3");

    static readonly Lazy<string> hostFolder = new(WriteHostFiles);

    /// <summary>The folder holding <c>rft_worker.py</c> and <c>rft_reward.py</c>, written once per process and content.</summary>
    public static string HostFolder => hostFolder.Value;

    /// <summary>
    /// Writes the embedded worker and helper into a folder named by their hash (two versions of the
    /// project on one machine never share one), atomically: a half-written file is never imported.
    /// </summary>
    static string WriteHostFiles()
    {
        var names = new[] { "rft_worker.py", "rft_reward.py" };
        var contents = names.Select(n =>
        {
            using var s = typeof(PythonRuntime).Assembly.GetManifestResourceStream(n) ?? throw new InvalidOperationException($"{n} is missing from the evaluators assembly");
            using var m = new MemoryStream();
            s.CopyTo(m);
            return m.ToArray();
        }).ToArray();
        var hash = Convert.ToHexStringLower(SHA256.HashData(contents.SelectMany(c => c).ToArray()))[..16];
        var folder = Path.Combine(Path.GetTempPath(), "rft-python", $"host-{hash}");
        Directory.CreateDirectory(folder);
        for (int i = 0; i < names.Length; i++) WriteOnce(Path.Combine(folder, names[i]), contents[i]);
        return folder;
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> unless it already holds them (temp file + rename).</summary>
    public static void WriteOnce(string path, byte[] bytes)
    {
        if (File.Exists(path) && File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes)) return;
        var temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>
    /// The reward file a silo runs for an inlined <c>source</c> (what <c>rft submit</c> sends): written under
    /// its content hash with its original name, so tracebacks and load errors still say <c>reward.py:12</c>.
    /// </summary>
    public static string MaterializeSource(string fileName, string source)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(source);
        var folder = Path.Combine(Path.GetTempPath(), "rft-python", $"src-{Convert.ToHexStringLower(SHA256.HashData(bytes))[..24]}");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, fileName);
        WriteOnce(path, bytes);
        return path;
    }
}
