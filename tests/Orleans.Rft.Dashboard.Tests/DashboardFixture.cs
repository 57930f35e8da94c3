using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rft.Cluster.Tests;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Silo;

namespace Orleans.Rft.Dashboard.Tests;

/// <summary>
/// One silo with its HTTP endpoint and an API key (so the dashboard sits behind the login), running a
/// long toy job (<see cref="RunningJobId"/>: many steps of the cluster tests' micro model, an eval every
/// few steps) that the tests watch while it runs; it is cancelled at the end.
/// </summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    public const string Key = "sk-dashboard-test-4c1e9a";
    public const string RunningJobId = "dash-running";
    /// <summary>Far more steps than the tests need: the job must still be running when they look.</summary>
    public const int RunningJobSteps = 3000;

    public ClusterFixture Toy { get; } = new();
    public HttpHost Host { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    public IGrainFactory Grains => Host.Services.GetRequiredService<IGrainFactory>();
    public Uri BaseUrl => Host.BaseUrl;

    public async Task InitializeAsync()
    {
        await Toy.InitializeModelAndData();
        Host = await HttpHost.StartAsync(new RftSiloOptions
        {
            Devices = "cpu", ArtifactsPath = Path.Combine(Toy.Root, "artifacts"), AllowLocalPaths = true, ApiKeys = [Key],
        });
        Http = new HttpClient { BaseAddress = Host.BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        var spec = Toy.Spec("dashboard-toy", trainers: 1, maxSteps: RunningJobSteps) with { EvalEvery = 2 };
        await Grains.GetGrain<IJobGrain>(RunningJobId).Submit(spec);
    }

    /// <summary>Waits until the running job has completed at least <paramref name="steps"/> steps (it must not have ended).</summary>
    public async Task<JobSnapshot> WaitForSteps(int steps, TimeSpan timeout)
    {
        var job = Grains.GetGrain<IJobGrain>(RunningJobId);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var s = await job.GetSnapshot();
            if (s.Status.IsFinal()) throw new InvalidOperationException($"the dashboard's job ended before the test looked: {s.Status} {s.LastError}");
            if (s.Latest is { } latest && latest.Step + 1 >= steps) return s;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the dashboard's job completed {s.Step} steps in {timeout}, the test needs {steps}: {s.Status}");
            await Task.Delay(250);
        }
    }

    /// <summary>A GET of the jobs API with the key, as JSON.</summary>
    public async Task<JsonNode> GetJson(string path)
    {
        using var response = await Http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"GET {path}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    /// <summary>Where the browser test writes its screenshots (the test output folder, named in the README).</summary>
    public static string ScreenshotDir => Path.Combine(AppContext.BaseDirectory, "dashboard-screenshots");

    public async Task DisposeAsync()
    {
        if (Host is not null)
        {
            try
            {
                // ended before the silo stops, so the job does not fail steps against a stopping silo
                var job = Grains.GetGrain<IJobGrain>(RunningJobId);
                await job.Cancel();
                for (var deadline = DateTime.UtcNow.AddSeconds(60); DateTime.UtcNow < deadline && !(await job.GetSnapshot()).Status.IsFinal();) await Task.Delay(200);
            }
            catch (Exception) { } // the silo stops next either way
            Http?.Dispose();
            await Host.DisposeAsync();
        }
        await Toy.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class DashboardCollection : ICollectionFixture<DashboardFixture>
{
    public const string Name = "dashboard";
}
