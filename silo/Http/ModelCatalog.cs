using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// Resolves a request's <c>model</c>: a configured base model (its name in <c>Rft:Models</c>, or its
/// folder's own name), a configured adapter (<c>Rft:Adapters</c>), a deployed adapter
/// (<see cref="IDeployedModels"/>), <c>jobs/{id}</c> (the job's latest adapter) or
/// <c>jobs/{id}/steps/{n}</c> (a checkpoint). Job adapters are looked up through the job grain and
/// kept <see cref="JobLookupAge"/>, so a training job's newest adapter is served within seconds
/// without a grain call per request.
/// </summary>
public sealed partial class ModelCatalog(RftSiloOptions options, IDeployedModels deployments, IGrainFactory grains)
{
    public const string Owner = "orleans-rft";
    public static readonly TimeSpan JobLookupAge = TimeSpan.FromSeconds(3);
    static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30); // GetAdapter reads the adapter from the store
    readonly DateTimeOffset started = DateTimeOffset.UtcNow;
    readonly ConcurrentDictionary<string, (ServedModel Model, DateTime At)> jobs = new();

    [GeneratedRegex(@"^jobs/(?<id>[^/]+)(/steps/(?<step>\d{1,9}))?$")]
    private static partial Regex JobModel();

    /// <summary>Configured base models and adapters, then deployments (what <c>GET /v1/models</c> lists).</summary>
    public async Task<IReadOnlyList<ServedModel>> ListAsync(CancellationToken cancellation)
    {
        var list = new List<ServedModel>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        void Add(ServedModel m) { if (names.Add(m.Id)) list.Add(m); }
        foreach (var (name, path) in options.Models) Add(Base(name, path));
        foreach (var (name, path) in options.Models)
            if (FolderName(path) is string folder) Add(Base(folder, path));
        foreach (var (name, adapter) in options.Adapters) Add(ConfiguredAdapter(name, adapter));
        foreach (var d in await deployments.ListAsync(cancellation)) Add(Deployed(d));
        return list;
    }

    public async Task<ServedModel> ResolveAsync(string name, CancellationToken cancellation)
    {
        if (options.Models.TryGetValue(name, out var path)) return Base(name, path);
        if (options.Adapters.TryGetValue(name, out var adapter)) return ConfiguredAdapter(name, adapter);
        if (JobModel().Match(name) is { Success: true } job) return await JobAdapter(name, job.Groups["id"].Value, job.Groups["step"].Success ? int.Parse(job.Groups["step"].Value) : null, cancellation);
        foreach (var (alias, folder) in options.Models)
            if (FolderName(folder) == name) return Base(name, folder);
        foreach (var d in await deployments.ListAsync(cancellation))
            if (d.Name == name) return Deployed(d);
        throw OpenAIError.ModelNotFound(name, $"it is not a configured model, a deployed adapter or jobs/{{id}}[/steps/{{n}}]; GET /v1/models lists the served models.");
    }

    /// <summary>The last segment of a configured folder (<c>/models/Qwen3-0.6B</c> → <c>Qwen3-0.6B</c>); none for <c>artifact:</c> references, whose names are hashes.</summary>
    static string? FolderName(string path) =>
        ArtifactReference.IsReference(path) ? null : Path.GetFileName(Path.TrimEndingDirectorySeparator(path)) is { Length: > 0 } n ? n : null;

    ServedModel Base(string name, string path) => new(name, path, ArtifactReference.IsReference(path) ? ModelSource.SpecReference : ModelSource.ConfiguredFolder,
        null, ModelSource.StorePath, null, null, Created(Path.Combine(path, "config.json")));

    ServedModel ConfiguredAdapter(string name, ServedAdapterOptions adapter)
    {
        var baseName = adapter.BaseModel ?? options.Models.Keys.Single();
        var basePath = options.Models[baseName];
        // An absolute path is always this silo's folder (the store takes only relative paths): missing, it is a 404 saying so.
        bool local = Path.IsPathRooted(adapter.Path) || Directory.Exists(adapter.Path);
        var weights = Path.Combine(adapter.Path, "adapter_model.safetensors");
        // A configured folder may be rewritten in place: its weights' write time is its version.
        var key = local ? $"{Path.GetFullPath(adapter.Path)}@{File.GetLastWriteTimeUtc(weights).Ticks}" : $"{adapter.Path}@configured";
        return new(name, basePath, ArtifactReference.IsReference(basePath) ? ModelSource.SpecReference : ModelSource.ConfiguredFolder,
            adapter.Path, local ? ModelSource.ConfiguredFolder : ModelSource.StorePath, key, baseName, Created(weights));
    }

    /// <summary>A deployment; its parent is the configured name of its base model when there is one, else the job's base_model reference.</summary>
    ServedModel Deployed(ModelDeployment d) =>
        new(d.Name, d.BaseModel, ModelSource.SpecReference, d.AdapterPath, ModelSource.StorePath, $"{d.AdapterPath}@v{d.Version}",
            options.Models.FirstOrDefault(m => m.Value == d.BaseModel).Key ?? d.BaseModel, d.DeployedAt);

    async Task<ServedModel> JobAdapter(string name, string jobId, int? step, CancellationToken cancellation)
    {
        if (jobs.TryGetValue(name, out var known) && DateTime.UtcNow - known.At < JobLookupAge) return known.Model;
        AdapterInfo info;
        try { info = await grains.GetGrain<IJobGrain>(jobId).GetAdapter(step).WaitAsync(CallTimeout, cancellation); }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FileNotFoundException)
        {
            throw OpenAIError.ModelNotFound(name, Secrets.Redact(e.Message));
        }
        if (info.BaseModel is null) throw OpenAIError.ModelNotFound(name, $"job '{jobId}' predates recording its base model; export its adapter (rft export) and serve it with Rft:Adapters.");
        // A job's adapter paths are written once (a new version, a new path); the step or version makes the key explicit.
        var key = step is null ? $"{info.ArtifactPath}@v{info.Version}" : $"{info.ArtifactPath}@step{info.Step}";
        var model = new ServedModel(name, info.BaseModel, ModelSource.SpecReference, info.ArtifactPath, ModelSource.StorePath, key, info.BaseModel, started);
        jobs[name] = (model, DateTime.UtcNow);
        return model;
    }

    DateTimeOffset Created(string file) => File.Exists(file) ? new DateTimeOffset(File.GetLastWriteTimeUtc(file)) : started;
}
