using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Client.Jobs;

/// <summary>Copies a job's PEFT adapter out of the cluster in chunks of at most <see cref="MessageLimits.MaxChunkBytes"/>.</summary>
public static class AdapterExporter
{
    public static async Task<AdapterInfo> ExportAsync(IJobGrain job, int? step, string outDirectory)
    {
        var info = await job.GetAdapter(step).WaitAsync(TimeSpan.FromSeconds(60));
        Directory.CreateDirectory(outDirectory);
        await File.WriteAllTextAsync(Path.Combine(outDirectory, "adapter_config.json"), info.ConfigJson);
        var tmp = Path.Combine(outDirectory, "adapter_model.safetensors.tmp");
        await using (var file = File.Create(tmp))
        {
            for (long offset = 0; offset < info.WeightsBytes; offset += MessageLimits.MaxChunkBytes)
                await file.WriteAsync(await job.GetAdapterChunk(info.ArtifactPath, offset, MessageLimits.MaxChunkBytes).WaitAsync(TimeSpan.FromSeconds(60)));
        }
        File.Move(tmp, Path.Combine(outDirectory, "adapter_model.safetensors"), overwrite: true);
        return info;
    }
}
