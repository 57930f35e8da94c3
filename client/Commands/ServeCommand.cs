using System.CommandLine;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Silo;

namespace Orleans.Rft.Client.Commands;

/// <summary>
/// <c>rft serve --model DIR [--adapter NAME=DIR]…</c>: an embedded silo (as <c>rft run</c> starts one) that
/// only serves the OpenAI-compatible endpoint: the base model under its folder's name, each adapter
/// under its NAME over that base. Ctrl+C stops it (exit 0).
/// </summary>
public static class ServeCommand
{
    public const int DefaultPort = 8000;

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Hugging Face model folder, served under its folder name", Required = true };
        var adapters = new Option<string[]>("--adapter") { Description = "NAME=DIR: a PEFT LoRA adapter folder served as model NAME over --model (repeatable)", AllowMultipleArgumentsPerToken = false };
        var port = new Option<int>("--port") { Description = $"HTTP port (default {DefaultPort})", DefaultValueFactory = _ => DefaultPort };
        var apiKey = new Option<string?>("--api-key") { Description = "bearer key clients must send (env RFT_API_KEY); without one the endpoint listens on loopback only" };
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda:N", DefaultValueFactory = _ => "auto" };
        var command = new Command("serve", "serve a model (and adapters) on an OpenAI-compatible endpoint until Ctrl+C") { model, adapters, port, apiKey, device };
        command.SetAction(async (p, cancellation) =>
        {
            var baseDir = ServedFolders.Model(p.GetValue(model)!);
            var baseName = ServedFolders.ServedName(baseDir);
            var served = ParseAdapters(p.GetValue(adapters) ?? [], baseName);
            if (p.GetValue(port) is var http and (< 1 or > 65535)) throw new ArgumentException($"--port is {http}; give a TCP port (default {DefaultPort}).");
            var key = p.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("RFT_API_KEY");
            var artifacts = Path.Combine(Path.GetTempPath(), "orleans-rft", $"serve-{Environment.ProcessId}");
            var options = Options(baseName, baseDir, served, p.GetValue(port), key, p.GetValue(device)!, artifacts);
            try
            {
                using var host = await ClusterConnection.StartServingAsync(options, cancellation);
                var url = $"http://127.0.0.1:{options.HttpPort}/v1";
                var names = served.Keys.Prepend(baseName).ToList();
                if (p.GetValue(Cli.Json))
                    Cli.PrintJson(new JsonObject { ["base_url"] = url, ["models"] = new JsonArray(names.Select(n => (JsonNode)n!).ToArray()), ["auth"] = key is null ? "none" : "bearer" });
                else
                {
                    Console.WriteLine($"serving on {url}");
                    Console.WriteLine($"models: {string.Join(", ", names)}");
                    Console.WriteLine(key is null ? "no API key: listening on loopback only (--api-key KEY to require one)" : "clients send: Authorization: Bearer <key>");
                    Console.WriteLine("Ctrl+C stops it");
                }
                Console.Out.Flush();
                try { await Task.Delay(Timeout.Infinite, cancellation); }
                catch (OperationCanceledException) { }
                await host.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(15));
                return Cli.Ok;
            }
            finally
            {
                try { Directory.Delete(artifacts, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
        });
        return command;
    }

    /// <summary><c>NAME=DIR</c> pairs, each folder checked; names follow the deployment rules and never repeat the base model's.</summary>
    public static Dictionary<string, string> ParseAdapters(IEnumerable<string> values, string baseName)
    {
        var served = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            var eq = value.IndexOf('=');
            if (eq <= 0 || eq == value.Length - 1) throw new ArgumentException($"--adapter '{value}' is not NAME=DIR; e.g. --adapter arithmetic=.rft/jobs/<id>/adapter.");
            var name = value[..eq];
            if (ModelDeploymentNames.Problem(name) is { } problem) throw new ArgumentException($"--adapter {value}: {problem}");
            if (name == baseName) throw new ArgumentException($"--adapter {value}: '{name}' is the base model's name (its folder's); choose another.");
            if (!served.TryAdd(name, ServedFolders.Adapter(name, value[(eq + 1)..]))) throw new ArgumentException($"--adapter {name} is given twice.");
        }
        return served;
    }

    /// <summary>
    /// The silo's options, through the same configuration keys a silo's appsettings.json uses
    /// (<c>Rft:Models:&lt;name&gt;</c>, <c>Rft:Adapters:&lt;name&gt;:Path</c>, <c>Rft:HttpPort</c>, <c>Rft:ApiKeys</c>), so
    /// <c>rft serve</c> and a configured silo serve the same way.
    /// </summary>
    public static RftSiloOptions Options(string baseName, string baseDir, Dictionary<string, string> adapters, int port, string? apiKey, string device, string artifacts)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Rft:HttpPort"] = port.ToString(),
            ["Rft:Devices"] = device,
            ["Rft:ArtifactsPath"] = artifacts,
            ["Rft:AllowLocalPaths"] = "true",
            ["Rft:SiloPort"] = ClusterConnection.FreePort().ToString(),
            ["Rft:GatewayPort"] = ClusterConnection.FreePort().ToString(),
            ["Rft:ClusterId"] = $"rft-serve-{Environment.ProcessId}",
            [$"Rft:Models:{baseName}"] = baseDir,
        };
        foreach (var (name, dir) in adapters)
        {
            settings[$"Rft:Adapters:{name}:Path"] = dir;
            settings[$"Rft:Adapters:{name}:BaseModel"] = baseName;
        }
        if (!string.IsNullOrEmpty(apiKey)) settings["Rft:ApiKeys:0"] = apiKey;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return configuration.GetSection("Rft").Get<RftSiloOptions>()!;
    }
}
