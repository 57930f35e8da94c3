using Orleans.Rft.Engine.Lora;

namespace Orleans.Rft.Client.Commands;

/// <summary>
/// The folders <c>rft serve</c> is given, checked before a silo starts: a bad folder is one line naming
/// it and the file that is missing, not a failure at the first request.
/// </summary>
public static class ServedFolders
{
    /// <summary>A Hugging Face model folder: config.json, tokenizer.json and safetensors weights (one file or an index of shards).</summary>
    public static string Model(string dir)
    {
        var full = Folder(dir, "--model");
        var missing = new List<string>();
        if (!File.Exists(Path.Combine(full, "config.json"))) missing.Add("config.json");
        if (!File.Exists(Path.Combine(full, "tokenizer.json"))) missing.Add("tokenizer.json");
        if (!File.Exists(Path.Combine(full, "model.safetensors")) && !File.Exists(Path.Combine(full, "model.safetensors.index.json")))
            missing.Add("model.safetensors (or model.safetensors.index.json)");
        if (missing.Count > 0)
            throw new FileNotFoundException($"--model {dir}: {string.Join(", ", missing)} missing; give a Hugging Face model folder (rft model init writes one).");
        return full;
    }

    /// <summary>A PEFT LoRA adapter folder: adapter_config.json (readable as LoRA) and adapter_model.safetensors.</summary>
    public static string Adapter(string name, string dir)
    {
        var full = Folder(dir, $"--adapter {name}");
        var missing = new[] { PeftAdapter.ConfigFile, PeftAdapter.WeightsFile }.Where(f => !File.Exists(Path.Combine(full, f))).ToList();
        if (missing.Count > 0)
            throw new FileNotFoundException($"--adapter {name}={dir}: {string.Join(", ", missing)} missing; give a PEFT LoRA adapter folder (rft run and rft export write one).");
        PeftAdapter.ReadConfig(full); // LoRA only, rank and targets present: its own error names the field
        return full;
    }

    /// <summary>The name a model folder is served under: its own folder name.</summary>
    public static string ServedName(string fullPath) => Path.GetFileName(Path.TrimEndingDirectorySeparator(fullPath));

    static string Folder(string dir, string option)
    {
        if (string.IsNullOrWhiteSpace(dir)) throw new ArgumentException($"{option} is empty; give a folder.");
        var full = Path.GetFullPath(dir);
        if (!Directory.Exists(full)) throw new DirectoryNotFoundException($"{option}: folder '{dir}' does not exist.");
        return full;
    }
}
