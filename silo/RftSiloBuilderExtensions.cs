using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Rft.Grains.Placement;
using Orleans.Rft.Grains.Services;
using Orleans.Rft.Silo.Security;

namespace Orleans.Rft.Silo;

/// <summary>Everything an Orleans.Rft silo needs, from one options object: used by the silo host, <c>rft run</c> and the tests.</summary>
public static class RftSiloBuilderExtensions
{
    public static ISiloBuilder AddRft(this ISiloBuilder silo, RftSiloOptions options, bool configureClustering = true)
    {
        options.Validate();
        if (options.Python is { Length: > 0 } python) Orleans.Rft.Evaluators.Python.PythonRuntime.Executable = python;
        Azure.Data.Tables.TableServiceClient Tables() => new(options.AzureStorageConnectionString);
        if (configureClustering)
        {
            silo.Configure<ClusterOptions>(c => { c.ClusterId = options.ClusterId; c.ServiceId = options.ServiceId; });
            if (options.Clustering == "azure")
            {
                silo.UseAzureStorageClustering(o => o.TableServiceClient = Tables());
                if (RftKubernetes.Enabled(options)) silo.UseRftKubernetesHosting(options);
                else silo.ConfigureEndpoints(options.SiloPort, options.GatewayPort);
            }
            else silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort, serviceId: options.ServiceId, clusterId: options.ClusterId);
        }
        if (options.Storage == "azure")
        {
            silo.AddAzureTableGrainStorage("rft", o => o.TableServiceClient = Tables());
            silo.UseAzureTableReminderService(o => o.TableServiceClient = Tables());
        }
        else
        {
            silo.AddMemoryGrainStorage("rft");
            silo.UseInMemoryReminderService();
        }
        silo.Services.Configure<DeviceOptions>(d => d.Devices = options.Devices);
        silo.Services.AddSingleton<DeviceRegistry>();
        silo.Services.AddSingleton(sp =>
        {
            var limits = sp.GetRequiredService<RolloutWorkerOptions>(); // the last registration wins (tests shrink the batch)
            return new ModelHost(options.ModelHostBudgetMiB << 20, options.AdapterBudgetMiB << 20, new Engine.Sampling.BatcherOptions(limits.MaxBatchTokens, limits.MaxBatchRows));
        });
        silo.Services.AddSingleton(new RolloutWorkerOptions(options.MaxBatchTokens));
        silo.Services.AddSingleton<IGenerationService, ContinuousGenerationService>();
        silo.Services.AddSingleton<Agents.AgentFactory>(); // agent kinds (tools, remote) register as IAgentKind
        silo.Services.AddSingleton(sp => new Agents.Tools.McpToolbox(sp.GetService<Microsoft.Extensions.Logging.ILoggerFactory>())); // MCP servers: one per silo, shared by rollouts, stopped with the silo
        silo.Services.AddSingleton<Agents.IAgentKind, Agents.Tools.ToolsAgentKind>();
        silo.Services.AddSingleton<Agents.Remote.RemoteRolloutRegistry>(); // the live remote rollouts: the /rollouts routes find them here
        silo.Services.AddSingleton(options.RemoteAgentEndpoint());
        silo.Services.AddSingleton<Agents.IAgentKind, Agents.Remote.RemoteAgentKind>();
        silo.Services.AddSingleton<TrainerRankRegistry>();
        silo.AddRftDrain(options); // SIGTERM: jobs move their ranks and rollouts off this silo before it stops
        silo.Services.AddSingleton<IArtifactStore>(_ => options.Artifacts == "blob"
            ? new BlobArtifactStore(options.AzureStorageConnectionString!, options.ArtifactsContainer, new ArtifactCache(
                ArtifactCache.RootFor(options.ArtifactCachePath ?? Path.Combine(Path.GetTempPath(), "orleans-rft", "blob-cache"), options.ServiceId, options.ClusterId),
                options.ArtifactCacheMiB * 1024 * 1024)) { AllowLocalPaths = options.AllowLocalPaths }
            : new LocalArtifactStore(options.ArtifactsPath) { AllowLocalPaths = options.AllowLocalPaths });
        silo.Services.AddSingleton(UploadLimits.FromMiB(options.MaxUploadMiB));
        silo.Services.AddSingleton(options);
        silo.Services.AddHostedService<SiloConfigurationLog>();
        // Devices are advertised in silo metadata; the filter keeps device grains on silos that have the device.
        silo.UseSiloMetadata(DeviceMetadata.For(DeviceRegistry.Resolve(options.Devices).Select(d => d.Name)));
        silo.Services.AddPlacementFilter<DevicePlacementFilter, DevicePlacementFilterDirector>(ServiceLifetime.Singleton);
        silo.Services.AddPlacementDirector<SiloDevicePlacement, SiloDevicePlacementDirector>();
        // Grain calls carry the caller's trace context only when someone exports traces.
        if (silo.Services.AddRftOpenTelemetry(options)) silo.AddActivityPropagation();
        // Messages carry ≤ MessageLimits.MaxChunkBytes; long device calls carry their own [ResponseTimeout].
        silo.Configure<SiloMessagingOptions>(m => m.ResponseTimeout = TimeSpan.FromMinutes(2));
        silo.UseRftTls(options.Tls); // nothing unless Rft:Tls:CertificatePath is set
        silo.Services.Configure<Microsoft.Extensions.Hosting.HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(options.EffectiveShutdownSeconds)); // room for the drain
        return silo;
    }
}
