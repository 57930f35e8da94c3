using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Silo;
using Orleans.Rft.Silo.Http;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>How a request's <c>model</c> resolves, without a cluster (no job names here) and device spreading.</summary>
public sealed class HttpModelCatalogTests
{
    static readonly string Folder = Path.Combine(Path.GetTempPath(), "models", "Qwen3-0.6B");

    static (ModelCatalog Catalog, FakeDeployments Deployments) Catalog()
    {
        var options = new RftSiloOptions
        {
            Models = new() { ["qwen"] = Folder, ["other"] = "artifact:folder/" + new string('a', 64), ["Qwen3-0.6B"] = "/elsewhere/x" },
            Adapters = new() { ["math"] = new ServedAdapterOptions { Path = "exports/math", BaseModel = "qwen" } },
        };
        var deployments = new FakeDeployments();
        deployments.Set([new ModelDeployment("prod", "job-7", 40, 12, "artifact:folder/" + new string('b', 64), "jobs/job-7/adapters/g0000-v000012", DateTimeOffset.UnixEpoch)]);
        return (new ModelCatalog(options, deployments, null!), deployments);
    }

    [Fact]
    public async Task Aliases_folder_names_adapters_and_deployments_resolve_and_an_alias_wins_over_a_folder_name()
    {
        var (catalog, _) = Catalog();
        var qwen = await catalog.ResolveAsync("qwen", default);
        Assert.Equal((Folder, ModelSource.ConfiguredFolder, false), (qwen.BaseModel, qwen.BaseSource, qwen.IsAdapter));
        Assert.Equal("/elsewhere/x", (await catalog.ResolveAsync("Qwen3-0.6B", default)).BaseModel); // configured under that very name
        Assert.Equal(ModelSource.SpecReference, (await catalog.ResolveAsync("other", default)).BaseSource);
        var math = await catalog.ResolveAsync("math", default);
        Assert.Equal(("exports/math", ModelSource.StorePath, "qwen", Folder), (math.Adapter, math.AdapterSource, math.Parent, math.BaseModel));
        var prod = await catalog.ResolveAsync("prod", default);
        Assert.Equal(("jobs/job-7/adapters/g0000-v000012", "jobs/job-7/adapters/g0000-v000012@v12"), (prod.Adapter, prod.AdapterKey));
        var listed = (await catalog.ListAsync(default)).Select(m => m.Id);
        Assert.Equal(["qwen", "other", "Qwen3-0.6B", "x", "math", "prod"], listed); // "other" is an artifact reference: no folder name to list
    }

    [Fact]
    public async Task A_configured_adapter_given_as_an_absolute_folder_stays_a_folder_when_it_is_missing()
    {
        // Deleted while served (or mistyped): the request must hear that the folder is missing on this silo,
        // not be sent to the artifact store, which refuses an absolute path with an unrelated message.
        var missing = Path.Combine(Path.GetTempPath(), "rft-no-such-adapter-" + Guid.NewGuid().ToString("N"));
        var options = new RftSiloOptions
        {
            Models = new() { ["qwen"] = Folder },
            Adapters = new() { ["gone"] = new ServedAdapterOptions { Path = missing } },
        };
        var gone = await new ModelCatalog(options, new FakeDeployments(), null!).ResolveAsync("gone", default);
        Assert.Equal((missing, ModelSource.ConfiguredFolder), (gone.Adapter, gone.AdapterSource));
    }

    [Fact]
    public async Task A_new_deployment_version_under_the_same_name_has_a_new_adapter_key()
    {
        var (catalog, deployments) = Catalog();
        var before = (await catalog.ResolveAsync("prod", default)).AdapterKey;
        deployments.Set([deployments.Current[0] with { Version = 13 }]);
        Assert.NotEqual(before, (await catalog.ResolveAsync("prod", default)).AdapterKey);
    }

    [Fact]
    public async Task An_unknown_name_is_a_404_model_not_found_that_names_it()
    {
        var (catalog, _) = Catalog();
        var e = await Assert.ThrowsAsync<OpenAIError>(() => catalog.ResolveAsync("gpt-9", default));
        Assert.Equal((404, "model", "model_not_found"), (e.Status, e.Param, e.Code));
        Assert.Contains("'gpt-9'", e.Message);
    }

    [Fact]
    public void Concurrent_sequences_go_to_the_least_busy_device()
    {
        var balancer = new DeviceBalancer(["cuda:0", "cuda:1"]);
        var a = balancer.Assign();
        var b = balancer.Assign();
        Assert.Equal(["cuda:0", "cuda:1"], new[] { a.Device, b.Device });
        a.Dispose();
        a.Dispose(); // released once only
        using var c = balancer.Assign();
        Assert.Equal("cuda:0", c.Device);
        using var d = balancer.Assign();
        Assert.Equal("cuda:0", d.Device); // one each: a tie goes to the first listed
        using var e = balancer.Assign();
        Assert.Equal("cuda:1", e.Device); // had a's double release counted twice, cuda:0 would look free
    }
}
