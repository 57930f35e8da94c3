using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orleans.Rft.Client;

/// <summary>Exit codes and error reporting shared by every command: no stack traces for users.</summary>
public static class Cli
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int UsageError = 2;
    /// <summary>Stopped by Ctrl+C (SIGINT): 128 + 2, as shells report it.</summary>
    public const int Interrupted = 130;

    public static readonly Option<bool> Json = new("--json") { Description = "machine-readable JSON output", Recursive = true };

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static int Run(RootCommand root, string[] args)
    {
        root.Add(Json);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) Console.Error.WriteLine($"error: {Redact(e.Message)}");
            Console.Error.WriteLine("Run with --help for usage.");
            return UsageError;
        }
        try
        {
            // our own handler below: input errors exit 2 with one line, failures exit 1, never a stack trace
            // Ctrl+C cancels the command's token; a host that stops (rft serve, rft run) needs more than the default 2 s to stop cleanly.
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = TimeSpan.FromSeconds(20) });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count == 1 && IsInputError(e.InnerException!))
        {
            Console.Error.WriteLine($"error: {Redact(e.InnerException!.Message)}");
            return UsageError;
        }
        catch (Exception e) when (IsInputError(e))
        {
            Console.Error.WriteLine($"error: {Redact(e.Message)}");
            return UsageError;
        }
        catch (Jobs.ClusterUnavailableException e)
        {
            Console.Error.WriteLine($"error: {Redact(e.Message)}");
            return Failure;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("RFT_DEBUG") != "1")
        {
            Console.Error.WriteLine($"error: {e.GetType().Name}: {Redact(e.Message)} (set RFT_DEBUG=1 for the stack trace)");
            return Failure;
        }
    }

    /// <summary>Every message printed goes through this: a connection string given on the command line or found in an error keeps its keys hidden.</summary>
    public static string Redact(string? message) => GrainInterfaces.Secrets.Redact(message);

    /// <summary>Errors the user can fix in their input: exit code 2.</summary>
    public static bool IsInputError(Exception e) =>
        e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException or ArgumentException or NotSupportedException or JsonException
            or Orleans.Rft.Grains.Jobs.Spec.JobSpecException or Orleans.Rft.Evaluators.SpecException;

    public static void PrintJson(JsonNode node) => Console.WriteLine(node.ToJsonString(Indented));

    public static string RequireDirectory(string path, string what)
    {
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"{what} '{path}' does not exist.");
        return path;
    }
}
