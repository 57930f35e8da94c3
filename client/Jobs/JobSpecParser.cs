using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Data;
using Orleans.Rft.Engine.Lora;
using Orleans.Rft.Engine.Training;
using Orleans.Rft.Evaluators;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Client.Jobs;

/// <summary>A problem in a job file: file, line, field and what to do.</summary>
public sealed class JobSpecException(string file, int line, string field, string message)
    : Exception($"{file}:{(line > 0 ? line.ToString() : "?")}: {field}: {message}")
{
    public string Field { get; } = field;
}

/// <summary>
/// Reads a job spec (YAML or JSON, DESIGN §4), fills in the defaults users know from the managed
/// services, and validates everything before anything starts: unknown keys, ranges, files, every
/// dataset line, the evaluator. Relative paths resolve against the job file's folder.
/// </summary>
public static class JobSpecParser
{
    public static JobSpec Parse(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"job file '{path}' does not exist.");
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        JsonNode? root;
        Dictionary<string, int> lines;
        try { (root, lines) = YamlToJson.Convert(File.ReadAllText(full)); }
        catch (YamlDotNet.Core.YamlException e) { throw new JobSpecException(path, (int)e.Start.Line, "yaml", e.Message); }
        if (root is not JsonObject o) throw new JobSpecException(path, 1, "job", "the file must be a mapping of job settings (base_model, dataset, evaluator, …).");
        int LineOf(string field)
        {
            for (var f = field; f.Length > 0; f = f.Contains('.') ? f[..f.LastIndexOf('.')] : "")
                if (lines.TryGetValue(f, out var l)) return l;
            return 0;
        }
        try { return Build(o, full, dir); }
        catch (SpecException e) { throw new JobSpecException(path, LineOf(e.Path), e.Path, e.Message[(e.Path.Length + 2)..]); }
    }

    static JobSpec Build(JsonObject o, string file, string dir)
    {
        var r = new SpecReader(o, "");
        string Resolve(string value) => Path.GetFullPath(Path.Combine(dir, value));
        var name = r.String("name") ?? Path.GetFileNameWithoutExtension(file);
        var baseModel = Resolve(r.String("base_model") ?? throw new SpecException("base_model", "is required: a Hugging Face model folder."));
        if (!File.Exists(Path.Combine(baseModel, "config.json"))) throw new SpecException("base_model", $"'{baseModel}' has no config.json; point it at a Hugging Face model folder.");
        var dataset = Resolve(r.String("dataset") ?? throw new SpecException("dataset", "is required: a JSONL file of prompts."));
        CheckDataset(dataset, "dataset");
        var evalDataset = r.String("eval_dataset") is string e ? Resolve(e) : null;
        if (evalDataset is not null) CheckDataset(evalDataset, "eval_dataset");
        var evaluator = r.Object("evaluator") ?? throw new SpecException("evaluator", $"is required: a mapping with a 'type' ({string.Join(", ", EvaluatorFactory.Types)}).");
        EvaluatorFactory.Create(evaluator, "evaluator", dir);
        if (r.Raw("agent") is not null) throw new SpecException("agent", "agents (in-cluster or remote) are not supported by this version yet; remove the key to train on single-turn rollouts.");

        var t = new SpecReader(r.Object("training") ?? new JsonObject(), "training");
        var rank = t.Int("lora_rank", 8, 1, 1024);
        var training = new TrainingSpec(
            t.Int("epochs", 1, 1, 1000), t.Double("learning_rate", 1e-4, 1e-8, 1), t.Int("warmup_steps", 0, 0),
            rank, t.Double("lora_alpha", 2 * rank, 1e-6), t.Double("lora_dropout", 0, 0, 0.99), t.StringList("target_modules"),
            t.Int("batch_prompts", 8, 1, 4096), t.Int("micro_batch", 16, 1, 4096), t.Double("weight_decay", 0, 0, 1),
            t.Double("max_grad_norm", 1.0, 0), t.Int("max_context_length", 2048, 16), t.Int("trainers", 1, 1, 256),
            t.Has("max_steps") ? t.Int("max_steps", 1, 1) : null, t.String("lr_schedule", "constant")!);
        try { new LearningRateSchedule(training.LearningRate, training.WarmupSteps, Kind: training.LrSchedule).Validate(); }
        catch (ArgumentException ex) { throw new SpecException("training.lr_schedule", ex.Message); }
        try { new LoraConfig(training.LoraRank, training.LoraAlpha, training.LoraDropout, training.TargetModules).Validate(); }
        catch (ArgumentException ex) { throw new SpecException("training.target_modules", ex.Message); }
        t.RejectUnknownKeys();

        var i = new SpecReader(r.Object("inference") ?? new JsonObject(), "inference");
        var inference = new InferenceSpec(
            i.Int("n", 8, 2, 256), i.Double("temperature", 1.0, 0.01, 5), i.Double("top_p", 1.0, 0.01, 1), i.Int("top_k", 0, 0),
            i.Int("max_tokens", 256, 1, 32768), i.StringList("stop"), i.Double("eval_temperature", 0.0, 0, 5));
        i.RejectUnknownKeys();
        if (inference.MaxTokens >= training.MaxContextLength)
            throw new SpecException("inference.max_tokens", $"is {inference.MaxTokens} but training.max_context_length is {training.MaxContextLength}; leave room for the prompt.");

        var l = new SpecReader(r.Object("loss") ?? new JsonObject(), "loss");
        var loss = new LossSpec(l.String("method", "grpo")!, l.Double("kl_beta", 0, 0, 10), l.Double("epsilon", 0.2, 1e-4, 0.99),
            l.Has("epsilon_high") ? l.Double("epsilon_high", 0.28, 1e-4, 10) : null, l.String("scale_rewards"), l.Int("max_staleness", 0, 0, 8));
        if (!LossMethods.All.Contains(loss.Method)) throw new SpecException("loss.method", $"'{loss.Method}' is not one of {string.Join(", ", LossMethods.All)}.");
        if (loss.ScaleRewards is not (null or "group" or "batch" or "none")) throw new SpecException("loss.scale_rewards", $"'{loss.ScaleRewards}' must be group, batch or none.");
        l.RejectUnknownKeys();

        var c = new SpecReader(r.Object("checkpoint") ?? new JsonObject(), "checkpoint");
        var checkpoint = new CheckpointSpec(c.Int("every_steps", 10, 0), c.Bool("keep_best", true), c.Int("keep_last", 3, 1, 1000));
        c.RejectUnknownKeys();

        var spec = new JobSpec(name, baseModel, dataset, evalDataset, evaluator.ToJsonString(), training, inference, loss, checkpoint,
            r.Int("eval_every", 10, 0), (long)r.Double("seed", 0), dir);
        r.RejectUnknownKeys();
        return spec;
    }

    static void CheckDataset(string path, string field)
    {
        var (_, errors) = JsonlDataset.Read(path);
        if (errors.Count == 0) return;
        var first = errors[0];
        var more = errors.Count > 1 ? $" (and {errors.Count - 1} more bad line(s); run `rft dataset validate {path}`)" : "";
        throw new SpecException(field, $"{first}{more}");
    }
}
