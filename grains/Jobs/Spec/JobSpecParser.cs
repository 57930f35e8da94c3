using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Data;
using Orleans.Rft.Engine.Lora;
using Orleans.Rft.Engine.Training;
using Orleans.Rft.Evaluators;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Grains.Jobs.Spec;

/// <summary>
/// The problems in a job file, each as <c>file:line: field: message</c> on its own line (the parser
/// reports every section's errors together); <see cref="Field"/> is the first one's field.
/// </summary>
public sealed class JobSpecException(IReadOnlyList<JobSpecError> errors)
    : Exception(string.Join("\n", errors))
{
    public JobSpecException(string file, int line, string field, string message) : this([new JobSpecError(file, line, field, message)]) { }

    public IReadOnlyList<JobSpecError> Errors { get; } = errors;
    public string Field => Errors[0].Field;
}

/// <summary>One problem in a job file: file, line, field and what to do.</summary>
public sealed record JobSpecError(string File, int Line, string Field, string Message)
{
    public override string ToString() => $"{File}:{(Line > 0 ? Line.ToString() : "?")}: {Field}: {Message}";
}

/// <summary>
/// Reads a job spec (YAML or JSON, DESIGN §4), fills in the defaults users know from the managed
/// services, and validates everything before anything starts: unknown keys, ranges, files, every
/// dataset line, the evaluator. Relative paths resolve against the job file's folder.
/// </summary>
public static class JobSpecParser
{
    public static JobSpec Parse(string path) => ParseDocument(path).Spec;

    /// <summary>
    /// The job file's spec, and the file itself as JSON (what <c>rft submit --url</c> sends, with its
    /// inputs replaced by <c>artifact:</c> references, for the silo to validate with this same parser).
    /// </summary>
    public static (JobSpec Spec, JsonObject Document) ParseDocument(string path)
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
        var errors = new List<SpecException>();
        var spec = Build(o, Path.GetFileNameWithoutExtension(full), JobSpecInputs.Local(dir), errors);
        if (errors.Count > 0 || spec is null)
            throw new JobSpecException(errors.Select(e => new JobSpecError(path, LineOf(e.Path), e.Path, e.Message[(e.Path.Length + 2)..])).ToList());
        return (spec, o);
    }

    /// <summary>
    /// A spec sent as JSON (<c>POST /v1/rft/jobs</c>): the job file's keys, its inputs as <paramref name="inputs"/>
    /// resolves them, all problems reported together with <see cref="JobSpecError.File"/> = <paramref name="source"/>.
    /// </summary>
    public static JobSpec FromJson(JsonObject document, JobSpecInputs inputs, string source = "request")
    {
        var errors = new List<SpecException>();
        var spec = Build(document, "job", inputs, errors);
        if (errors.Count > 0 || spec is null)
            throw new JobSpecException(errors.Select(e => new JobSpecError(source, 0, e.Path, e.Message[(e.Path.Length + 2)..])).ToList());
        return spec;
    }

    /// <summary>
    /// Reads every section, each on its own: an error in one is recorded in <paramref name="errors"/>
    /// and the others are still read, so one run of the parser reports all of a file's problems.
    /// Returns null when any section failed.
    /// </summary>
    static JobSpec? Build(JsonObject o, string defaultName, JobSpecInputs inputs, List<SpecException> errors)
    {
        T? Section<T>(Func<T> read)
        {
            try { return read(); }
            catch (SpecException e) { errors.Add(e); return default; }
        }
        var r = new SpecReader(o, "");
        var name = Section(() => r.String("name")) ?? defaultName;
        var baseModel = Section(() =>
        {
            var (check, keep) = inputs.Resolve("base_model", r.String("base_model") ?? throw new SpecException("base_model", "is required: a Hugging Face model folder."));
            if (!File.Exists(Path.Combine(check, "config.json"))) throw new SpecException("base_model", $"'{keep}' has no config.json; point it at a Hugging Face model folder.");
            return keep;
        });
        var baseModelName = inputs.AcceptsBaseModelName ? Section(() => r.String("base_model_name")) : null;
        var dataset = Section(() =>
        {
            var (check, keep) = inputs.Resolve("dataset", r.String("dataset") ?? throw new SpecException("dataset", "is required: a JSONL file of prompts."));
            CheckDataset(check, "dataset");
            return keep;
        });
        var evalDataset = Section(() =>
        {
            if (r.String("eval_dataset") is not string e) return null;
            var (check, keep) = inputs.Resolve("eval_dataset", e);
            CheckDataset(check, "eval_dataset");
            return keep;
        });
        var evaluator = Section(() =>
        {
            var evaluator = r.Object("evaluator") ?? throw new SpecException("evaluator", $"is required: a mapping with a 'type' ({string.Join(", ", EvaluatorFactory.Types)}).");
            EvaluatorFactory.Create(evaluator, "evaluator", inputs.FilesDirectory);
            return evaluator;
        });
        var agent = Section(() => r.Raw("agent") is JsonNode a ? AgentJson(a, inputs) : null);
        Section(() =>
        {
            // agent_reported has nothing to read unless a remote agent reports a score (info.score of its final status)
            if (evaluator is not null && UsesAgentReported(evaluator) && !(r.Raw("agent") is JsonObject a && a["type"] is JsonValue t && t.TryGetValue<string>(out var type) && type == "remote"))
                throw new SpecException("evaluator.type", "agent_reported scores a rollout by the score its remote agent reports; it needs agent: {type: remote, url: …}. Use another evaluator for tools agents and single answers.");
            return 0;
        });
        var training = Section(() => ReadTraining(r));
        var inference = Section(() => ReadInference(r, training));
        var loss = Section(() => ReadLoss(r, inference));
        var checkpoint = Section(() => ReadCheckpoint(r));
        var eval = Section(() => (Every: r.Int("eval_every", 10, 0), Seed: (long)r.Double("seed", 0)));
        Section(() => { r.RejectUnknownKeys(); return 0; });
        if (errors.Count > 0) return null;
        return new JobSpec(name, baseModel!, dataset!, evalDataset, evaluator!.ToJsonString(), training!, inference!, loss!, checkpoint!,
            eval.Every, eval.Seed, inputs.BaseDirectory, BaseModelName: baseModelName, AgentJson: agent);
    }

    static TrainingSpec ReadTraining(SpecReader r)
    {
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
        return training;
    }

    /// <param name="training">null when the training section had errors: the cross-check waits for it to be fixed</param>
    static InferenceSpec ReadInference(SpecReader r, TrainingSpec? training)
    {
        var i = new SpecReader(r.Object("inference") ?? new JsonObject(), "inference");
        var inference = new InferenceSpec(
            i.Int("n", 8, 2, 256), i.Double("temperature", 1.0, 0.01, 5), i.Double("top_p", 1.0, 0.01, 1), i.Int("top_k", 0, 0),
            i.Int("max_tokens", 256, 1, 32768), i.StringList("stop"), i.Double("eval_temperature", 0.0, 0, 5),
            ReadChatTemplateKwargs(i));
        i.RejectUnknownKeys();
        if (training is not null && inference.MaxTokens >= training.MaxContextLength)
            throw new SpecException("inference.max_tokens", $"is {inference.MaxTokens} but training.max_context_length is {training.MaxContextLength}; leave room for the prompt.");
        return inference;
    }

    /// <summary>
    /// <c>inference.chat_template_kwargs</c>: extra variables for the model's chat template
    /// (<c>enable_thinking</c>, <c>date_string</c>…); the renderer's own variables cannot be overridden.
    /// </summary>
    static string ReadChatTemplateKwargs(SpecReader i)
    {
        var kwargs = i.Object("chat_template_kwargs");
        if (kwargs is null) return "{}";
        foreach (var reserved in new[] { "messages", "tools", "add_generation_prompt" })
            if (kwargs.ContainsKey(reserved))
                throw new SpecException($"inference.chat_template_kwargs.{reserved}", "is set by the renderer from the dataset row and the request; remove it.");
        return kwargs.ToJsonString();
    }

    /// <param name="inference">null when the inference section had errors: the cross-check waits for it to be fixed</param>
    static LossSpec ReadLoss(SpecReader r, InferenceSpec? inference)
    {
        var l = new SpecReader(r.Object("loss") ?? new JsonObject(), "loss");
        // Optional keys stay null so the method's default applies (README, loss defaults per method).
        var loss = new LossSpec(l.String("method", "grpo")!, l.Double("kl_beta", 0, 0, 10),
            l.Has("epsilon") ? l.Double("epsilon", 0.2, 1e-5, 0.99) : null,
            l.Has("epsilon_high") ? l.Double("epsilon_high", 0.28, 1e-5, 10) : null, l.String("scale_rewards"), l.Int("max_staleness", 0, 0, 8),
            l.Has("recompute_logprobs") ? l.Bool("recompute_logprobs", false) : null,
            l.Has("dynamic_sampling") ? l.Bool("dynamic_sampling", false) : null,
            l.Int("max_resample", 3, 0, 100), l.Int("overlong_buffer", 0, 0), l.Double("overlong_penalty", 1.0, 0, 100));
        if (!LossMethods.All.Contains(loss.Method)) throw new SpecException("loss.method", $"'{loss.Method}' is not one of {string.Join(", ", LossMethods.All)}.");
        if (loss.ScaleRewards is not (null or "group" or "batch" or "none")) throw new SpecException("loss.scale_rewards", $"'{loss.ScaleRewards}' must be group, batch or none.");
        if (loss.DynamicSampling == true && loss.MaxStaleness > 0)
            throw new SpecException("loss.dynamic_sampling", $"tops each step up from the dataset cursor, which max_staleness = {loss.MaxStaleness} has already queued past; set max_staleness: 0 or dynamic_sampling: false.");
        if (inference is not null && loss.OverlongBuffer >= inference.MaxTokens)
            throw new SpecException("loss.overlong_buffer", $"is {loss.OverlongBuffer} but inference.max_tokens is {inference.MaxTokens}; the buffer is the last part of max_tokens (DAPO uses 4096 of 20480), so keep it below max_tokens, or 0 for no overlong shaping.");
        l.RejectUnknownKeys();
        return loss;
    }

    static CheckpointSpec ReadCheckpoint(SpecReader r)
    {
        var c = new SpecReader(r.Object("checkpoint") ?? new JsonObject(), "checkpoint");
        var checkpoint = new CheckpointSpec(c.Int("every_steps", 10, 0), c.Bool("keep_best", true), c.Int("keep_last", 3, 1, 1000));
        c.RejectUnknownKeys();
        return checkpoint;
    }

    static void CheckDataset(string path, string field)
    {
        var (_, errors) = JsonlDataset.Read(path);
        if (errors.Count == 0) return;
        var first = errors[0];
        var more = errors.Count > 1 ? $" (and {errors.Count - 1} more bad line(s); run `rft dataset validate {path}`)" : "";
        throw new SpecException(field, $"{first}{more}");
    }

    static bool UsesAgentReported(JsonObject evaluator) =>
        evaluator["type"] is JsonValue t && t.TryGetValue<string>(out var type) && type == "agent_reported"
        || evaluator["evaluators"] is JsonObject subs && subs.Select(kv => kv.Value).OfType<JsonObject>().Any(UsesAgentReported);

    /// <summary>The checked <c>agent:</c> mapping as JSON; a stdio MCP server without <c>cwd</c> runs in the job file's folder (where its script usually is).</summary>
    static string AgentJson(JsonNode node, JobSpecInputs inputs)
    {
        var dir = inputs.BaseDirectory;
        // A stdio server is a program on the silos' disk: where a request may name no file there (no
        // FilesDirectory), refused here, in the submit's 400, not after a 201 by a job that then fails.
        if (Orleans.Rft.Agents.AgentSpec.Read(node) is Orleans.Rft.Agents.ToolsAgentSpec tools && inputs.FilesDirectory is null)
            for (int i = 0; i < tools.McpServers.Count; i++)
                if (tools.McpServers[i] is { Command: not null } stdio)
                    throw new SpecException($"agent.mcp_servers[{i}].command", $"'{stdio.Name}' is a stdio server ('{stdio.Command}', a program on the silos' disk), and this cluster reads only uploaded files; "
                        + "give it a url (a streamable-HTTP MCP server), or let the silos run local programs with Rft:AllowLocalPaths=true and put the server on their disk or image.");
        var copy = node.DeepClone().AsObject();
        if (copy["mcp_servers"] is JsonArray servers)
            foreach (var server in servers.OfType<JsonObject>())
                if (server["command"] is not null)
                    server["cwd"] = server["cwd"]?.GetValue<string>() is string cwd ? Path.GetFullPath(Path.Combine(dir, cwd)) : dir;
        return copy.ToJsonString();
    }
}
