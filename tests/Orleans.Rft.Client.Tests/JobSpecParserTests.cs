using Orleans.Rft.Grains.Jobs.Spec;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.Engine.Presets;

namespace Orleans.Rft.Client.Tests;

/// <summary>Job files are refused before anything starts, with file, line and field in the message.</summary>
public sealed class JobSpecParserTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "orleans-rft-spec-tests", Guid.NewGuid().ToString("N")[..8]);

    public JobSpecParserTests()
    {
        Directory.CreateDirectory(dir);
        TinyModelPresets.WriteTokenizer(Path.Combine(dir, "model"));
        File.WriteAllText(Path.Combine(dir, "model", "config.json"), TinyModelPresets.Presets["micro"].ToJson());
        File.WriteAllText(Path.Combine(dir, "train.jsonl"), """
            {"messages": [{"role": "user", "content": "What is 1 + 2?"}], "ground_truth": "3"}
            {"messages": [{"role": "user", "content": "What is 2 + 2?"}], "ground_truth": "4"}
            """);
    }

    const string Base = """
        base_model: model
        dataset: train.jsonl
        evaluator:
          type: numeric
          tolerance: 0.5

        """;

    const string Valid = Base + "training:\n  learning_rate: 2e-4\n  trainers: 2\ninference:\n  n: 4\n";

    string Write(string yaml, string name = "job.yaml")
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public void A_valid_spec_gets_the_managed_service_defaults_and_absolute_paths()
    {
        var spec = JobSpecParser.Parse(Write(Valid));
        Assert.Equal("job", spec.Name);
        Assert.Equal(Path.Combine(dir, "model"), spec.BaseModel);
        Assert.Equal(2e-4, spec.Training.LearningRate);
        Assert.Equal(2, spec.Training.Trainers);
        Assert.Equal(8, spec.Training.LoraRank);
        Assert.Equal(16, spec.Training.LoraAlpha);
        Assert.Equal(4, spec.Inference.N);
        Assert.Equal(1.0, spec.Inference.Temperature);
        Assert.Equal("grpo", spec.Loss.Method);
        Assert.Contains("\"tolerance\":0.5", spec.EvaluatorJson);
    }

    [Theory]
    [InlineData("training:\n  learning_rat: 1e-4\n", 7, "training.learning_rat", "Did you mean 'learning_rate'")]
    [InlineData("inference:\n  n: 1\n", 7, "inference.n", "must be in [2, 256]")]
    [InlineData("loss:\n  method: ppo\n", 7, "loss.method", "'ppo' is not one of")]
    [InlineData("evaluator2: 1\n", 6, "evaluator2", "unknown key")]
    [InlineData("inference:\n  chat_template_kwargs: true\n", 7, "inference.chat_template_kwargs", "must be an object")]
    [InlineData("inference:\n  chat_template_kwargs:\n    messages: []\n", 8, "inference.chat_template_kwargs.messages", "is set by the renderer")]
    public void A_bad_value_names_file_line_and_field(string extra, int line, string field, string message)
    {
        var path = Write(Base + extra);
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(path));
        Assert.True(field == e.Field, e.Message);
        Assert.Contains($"job.yaml:{line}:", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Chat_template_kwargs_default_to_empty_and_keep_their_json_types()
    {
        Assert.Equal("{}", JobSpecParser.Parse(Write(Valid)).Inference.ChatTemplateKwargsJson);
        var spec = JobSpecParser.Parse(Write(Valid + "  chat_template_kwargs:\n    enable_thinking: false\n    date_string: 26 Nov 2026\n"));
        var kwargs = spec.Inference.ChatTemplateKwargs();
        Assert.False(kwargs["enable_thinking"]!.GetValue<bool>());
        Assert.Equal("26 Nov 2026", kwargs["date_string"]!.GetValue<string>());
    }

    [Fact]
    public void A_bad_dataset_line_is_reported_with_its_line_number()
    {
        File.AppendAllText(Path.Combine(dir, "train.jsonl"), "\n{\"prompt\": \"no messages\"}\n{not json\n");
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(Write(Valid)));
        Assert.True("dataset" == e.Field, e.Message);
        Assert.True(e.Message.Contains("train.jsonl:3: messages: missing"), e.Message);
        Assert.Contains("1 more bad line", e.Message);
    }

    [Fact]
    public void A_missing_model_folder_and_a_bad_evaluator_are_refused_before_anything_starts()
    {
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(Write(Valid.Replace("base_model: model", "base_model: nowhere"))));
        Assert.Equal("base_model", e.Field);
        Assert.Contains("no config.json", e.Message);
        var bad = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(Write(Valid.Replace("tolerance: 0.5", "tolerance: -2"))));
        Assert.Equal("evaluator.tolerance", bad.Field);
        Assert.Contains(":5:", bad.Message);
    }

    [Fact]
    public void Every_section_with_an_error_is_reported_in_one_run_each_with_file_line_and_field()
    {
        var yaml = Base.Replace("tolerance: 0.5", "tolerance: -2") + "training:\n  learning_rat: 1e-4\ninference:\n  n: 1\nloss:\n  method: ppo\ncheckpoint:\n  every_steps: -1\n";
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(Write(yaml)));
        Assert.Equal(["evaluator.tolerance", "training.learning_rat", "inference.n", "loss.method", "checkpoint.every_steps"], e.Errors.Select(x => x.Field));
        var lines = e.Message.Split('\n');
        Assert.Equal(5, lines.Length);
        Assert.All(lines, l => Assert.Matches(@"job\.yaml:\d+: [a-z_.]+: \S", l));
        Assert.Contains("job.yaml:5: evaluator.tolerance: ", e.Message);
        Assert.Contains("job.yaml:13: checkpoint.every_steps: ", e.Message);
    }

    public void Dispose()
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }
}
