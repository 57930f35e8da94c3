using Orleans.Rft.Engine.Models;
using Orleans.Rft.Engine.Presets;

namespace Orleans.Rft.Engine.Tests;

/// <summary>Small models written to temporary folders, shared by the engine tests.</summary>
public static class TestModels
{
    public static string TempDirectory(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), "orleans-rft-tests", name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>A randomly initialised "micro" preset, loaded back from disk as a user's model would be.</summary>
    public static LanguageModel Micro(long seed = 1)
    {
        var dir = TempDirectory("micro");
        TinyModelPresets.Create("micro", dir, seed).Dispose();
        return LanguageModel.Load(dir);
    }
}
