using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Lora;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.Engine.Sampling;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Placement;
using Orleans.Rft.Grains.Services;
using Orleans.Rft.Silo;
using Orleans.Serialization;
using Orleans.TestingHost;
using static TorchSharp.torch;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// One silo whose rollout worker runs tiny generate calls (a 64-slot KV budget) and answers in
/// 2 KiB pages, so every request here is split into several sub-batches and pages. Three adapters
/// over the fixture's base: A and C differ only in alpha, B in rank and target modules.
/// </summary>
public sealed class WorkerClusterFixture : IAsyncLifetime
{
    public ClusterFixture Toy { get; } = new();
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public string ArtifactsRoot => Path.Combine(Toy.Root, "artifacts");
    public static readonly Dictionary<string, LoraConfig> Adapters = new()
    {
        ["a"] = new LoraConfig(Rank: 2, Alpha: 4, TargetModules: ["q_proj", "v_proj"]),
        ["b"] = new LoraConfig(Rank: 4, Alpha: 32, TargetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "up_proj"]),
        ["c"] = new LoraConfig(Rank: 2, Alpha: 16, TargetModules: ["q_proj", "v_proj"]),
    };

    public async Task InitializeAsync()
    {
        await Toy.InitializeModelAndData();
        foreach (var (name, config) in Adapters)
        {
            using var model = LanguageModel.Load(Toy.ModelDir);
            model.AttachLora(config, seed: name[0]);
            using (no_grad())
            using (var g = new Generator(17))
                foreach (var (n, p) in model.LoraParameters().Where(p => p.Name.EndsWith("lora_B")))
                    p.copy_(randn(p.shape, generator: g) * 0.5);
            PeftAdapter.Save(model, Path.Combine(ArtifactsRoot, "tests", "adapters", name));
        }
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddRft(Toy.LocalOptions(), configureClustering: false);
            silo.Services.AddSingleton(new RolloutWorkerOptions(MaxBatchTokens: 64, PageBytes: 2048));
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public IRolloutWorkerGrain Worker => Cluster.Client.GetGrain<IRolloutWorkerGrain>(DeviceKeys.For(Cluster.Silos[0].SiloAddress.ToParsableString(), "cpu"));

    public string[] Rows(int count) => File.ReadLines(Toy.DatasetPath).Take(count).ToArray();

    public GenerateRequest Request(string? adapter, string[] rows, int n, long seed, int firstRow = 0) =>
        new(Toy.ModelDir, adapter is null ? null : $"tests/adapters/{adapter}", 1, rows, n, 1.0, 1.0, 0, 8, [], seed, firstRow);

    /// <summary>What the engine alone (no cluster) samples for the request, with the request's adapter loaded.</summary>
    public IReadOnlyList<GeneratedSequence> Alone(GenerateRequest r)
    {
        using var model = LanguageModel.Load(Toy.ModelDir);
        if (r.AdapterPath is not null) PeftAdapter.Load(model, Path.Combine(ArtifactsRoot, r.AdapterPath));
        var prompts = r.PromptsJson.SelectMany(json => Enumerable.Repeat(
            model.Template.Encode(model.Tokenizer, ChatMessage.ParseList(JsonNode.Parse(json)!["messages"], "messages")).Ids, r.N)).ToList();
        var seeds = Enumerable.Range(0, prompts.Count).Select(j => SamplingOptions.RowSeed(r.Seed, r.FirstRow + j)).ToList();
        return Sampler.Generate(model, prompts, new SamplingOptions(r.Temperature, r.TopP, r.TopK, r.MaxTokens, r.Stop, null, null, RowSeeds: seeds));
    }

    public static void AssertSame(IReadOnlyList<GeneratedSequence> expected, GenerateResult actual, string what)
    {
        Assert.Equal(expected.Count, actual.Completions.Length);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].TokenIds.SequenceEqual(actual.Completions[i].CompletionIds), $"{what}: sample {i} tokens differ from the engine alone");
            var diff = expected[i].PolicyLogProbs.Zip(actual.Completions[i].LogProbs, (a, b) => Math.Abs(a - b)).DefaultIfEmpty().Max();
            Assert.True(diff < 1e-4, $"{what}: sample {i} log-probs differ by {diff}");
        }
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null) await Cluster.DisposeAsync();
        await Toy.DisposeAsync();
    }
}

public sealed class RolloutWorkerTests(WorkerClusterFixture fixture) : IClassFixture<WorkerClusterFixture>
{
    [Fact]
    public async Task Concurrent_jobs_on_one_base_with_different_lora_ranks_and_alphas_each_sample_exactly_their_own_policy()
    {
        // The bugs: one served model per base (another rank fails, another alpha samples with the first job's scale α/r).
        var rows = fixture.Rows(3);
        var requests = WorkerClusterFixture.Adapters.Keys.Select((a, i) => fixture.Request(a, rows, 2, seed: 40 + i)).ToList();
        for (int round = 0; round < 2; round++) // the second round finds every model already served
        {
            var results = await Task.WhenAll(requests.Select(r => GenerateResultPages.GenerateAsync(fixture.Worker, r, TimeSpan.FromMinutes(2))));
            for (int i = 0; i < requests.Count; i++) WorkerClusterFixture.AssertSame(fixture.Alone(requests[i]), results[i], $"adapter {requests[i].AdapterPath}");
        }
        // A and C differ only in alpha: with one seed their policies must sample differently, or this test could not tell them apart.
        var a = fixture.Alone(fixture.Request("a", rows, 2, seed: 1));
        var c = fixture.Alone(fixture.Request("c", rows, 2, seed: 1));
        Assert.NotEqual(a.Select(s => s.PolicyLogProbs.Sum()), c.Select(s => s.PolicyLogProbs.Sum()));
    }

    [Fact]
    public async Task Rollouts_of_two_policies_and_a_streamed_served_request_run_on_one_base_and_each_gets_what_it_gets_alone()
    {
        var services = fixture.Cluster.Silos[0].ServiceProvider;
        var generation = services.GetRequiredService<IGenerationService>();
        var store = services.GetRequiredService<IArtifactStore>();
        var rows = fixture.Rows(3);
        var a = fixture.Request("a", rows, 2, seed: 70);
        var b = fixture.Request("b", rows, 2, seed: 71);
        using var baseModel = await store.LeaseAsync(fixture.Toy.ModelDir, "base_model");
        using var adapter = await store.LeaseFolderAsync("tests/adapters/c");
        var prompt = PromptIds(rows[0]);
        var streamed = new List<GeneratedToken>();
        var served = new SequenceRequest(baseModel, adapter.Path, "tests/adapters/c@1", prompt, new SamplingOptions(Temperature: 0, MaxTokens: 8, LogProbs: 2));
        var rollouts = Task.WhenAll(GenerateResultPages.GenerateAsync(fixture.Worker, a, TimeSpan.FromMinutes(2)), GenerateResultPages.GenerateAsync(fixture.Worker, b, TimeSpan.FromMinutes(2)));
        var answer = await generation.GenerateAsync("cpu", served, t => { lock (streamed) streamed.Add(t); }).WaitAsync(TimeSpan.FromMinutes(2));
        var results = await rollouts;
        WorkerClusterFixture.AssertSame(fixture.Alone(a), results[0], "policy a");
        WorkerClusterFixture.AssertSame(fixture.Alone(b), results[1], "policy b");
        using var model = LanguageModel.Load(fixture.Toy.ModelDir);
        PeftAdapter.Load(model, adapter.Path);
        var alone = Sampler.Generate(model, [prompt], served.Options)[0];
        Assert.Equal(alone.TokenIds, answer.TokenIds);
        Assert.Equal(answer.TokenIds, streamed.Select(t => t.Id));                                  // every token streamed, in order
        Assert.Equal(answer.Text, string.Concat(streamed.Select(t => t.TextDelta)));
        Assert.All(streamed, t => Assert.Equal(2, t.Top!.Count));
        Assert.Single(services.GetRequiredService<ModelHost>().Loaded().Where(l => l.Model == Path.GetFullPath(fixture.Toy.ModelDir))); // one base for every policy
    }

    int[] PromptIds(string row)
    {
        using var model = LanguageModel.Load(fixture.Toy.ModelDir);
        return model.Template.Encode(model.Tokenizer, ChatMessage.ParseList(JsonNode.Parse(row)!["messages"], "messages")).Ids;
    }

    [Fact]
    public async Task Merged_requests_give_each_request_the_samples_it_gets_alone()
    {
        // The bug: a merged batch sampled every request with the first request's seed.
        var rows = fixture.Rows(8);
        var first = fixture.Request("a", rows[..3], 3, seed: 5);
        var second = fixture.Request("a", rows[3..], 2, seed: 6, firstRow: 9);
        // A blocker keeps the worker busy so the two requests queue together and are merged.
        var blocker = fixture.Worker.Generate(fixture.Request("a", rows, 4, seed: 1));
        var merged = await Task.WhenAll(GenerateResultPages.GenerateAsync(fixture.Worker, first, TimeSpan.FromMinutes(2)),
            GenerateResultPages.GenerateAsync(fixture.Worker, second, TimeSpan.FromMinutes(2)));
        await blocker;
        var alone = new[] { await GenerateResultPages.GenerateAsync(fixture.Worker, first, TimeSpan.FromMinutes(2)), await GenerateResultPages.GenerateAsync(fixture.Worker, second, TimeSpan.FromMinutes(2)) };
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(alone[i].Completions.Select(c => c.CompletionIds), merged[i].Completions.Select(c => c.CompletionIds));
            Assert.Equal(alone[i].Completions.Select(c => c.PromptIds), merged[i].Completions.Select(c => c.PromptIds));
        }
        WorkerClusterFixture.AssertSame(fixture.Alone(first), merged[0], "first");
        WorkerClusterFixture.AssertSame(fixture.Alone(second), merged[1], "second");
    }

    [Fact]
    public async Task The_jobs_chat_template_kwargs_reach_the_models_template_when_the_worker_renders_prompts()
    {
        // A copy of the toy model whose template reads a kwarg, as Qwen3's reads enable_thinking.
        var dir = Path.Combine(fixture.Toy.Root, "kwargs-model");
        Directory.CreateDirectory(dir);
        foreach (var file in Directory.GetFiles(fixture.Toy.ModelDir)) File.Copy(file, Path.Combine(dir, Path.GetFileName(file)), overwrite: true);
        var configPath = Path.Combine(dir, "tokenizer_config.json");
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["chat_template"] = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}{% if hint is defined %} ({{ hint }}){% endif %}<|im_end|>\n{% endfor %}" +
            "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
        File.WriteAllText(configPath, config.ToJsonString());
        var rows = fixture.Rows(2);
        var plain = fixture.Request(null, rows, 2, seed: 4) with { BaseModel = dir };
        var hinted = plain with { ChatTemplateKwargsJson = """{"hint": "be brief"}""" };
        var (a, b) = (await GenerateResultPages.GenerateAsync(fixture.Worker, plain, TimeSpan.FromMinutes(2)),
            await GenerateResultPages.GenerateAsync(fixture.Worker, hinted, TimeSpan.FromMinutes(2)));
        using var model = LanguageModel.Load(dir);
        var messages = Engine.Chat.ChatMessage.ParseList(System.Text.Json.Nodes.JsonNode.Parse(rows[0])!["messages"], "messages");
        var expected = model.Template.Encode(model.Tokenizer, messages, kwargs: new System.Text.Json.Nodes.JsonObject { ["hint"] = "be brief" }).Ids;
        Assert.Equal(expected, b.Completions[0].PromptIds);
        Assert.NotEqual(a.Completions[0].PromptIds, b.Completions[0].PromptIds);
        Assert.Contains("(be brief)", model.Tokenizer.Decode(b.Completions[0].PromptIds));
    }

    [Fact]
    public async Task An_answer_larger_than_a_page_crosses_as_pages_each_within_the_page_size_and_reassembles_exactly()
    {
        var request = fixture.Request(null, fixture.Rows(6), 4, seed: 3);
        var page = await fixture.Worker.Generate(request);
        var pages = new List<GenerateResult> { page };
        while (page.Continuation is { } next) pages.Add(page = await fixture.Worker.NextPage(next));
        Assert.True(pages.Count > 2, $"{pages.Count} pages");
        var serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Orleans.Serialization.Serializer>();
        Assert.All(pages, p => Assert.True(serializer.SerializeToArray(p).Length <= 2048 + 256, $"a page of {serializer.SerializeToArray(p).Length} bytes"));
        Assert.All(pages, p => Assert.All(p.Completions, c => Assert.Empty(c.PromptIds))); // prompt ids cross once per prompt
        Assert.Equal(6, pages.Sum(p => p.PromptIds!.Length));
        var whole = GenerateResultPages.Join(pages, request.N);
        WorkerClusterFixture.AssertSame(fixture.Alone(request), whole, "paged");
        Assert.All(whole.Completions, c => Assert.NotEmpty(c.PromptIds));
        await Assert.ThrowsAnyAsync<Exception>(() => fixture.Worker.NextPage(pages[1].Continuation ?? "x:1")); // the last page released the answer
    }
}

/// <summary>Pure tests of the paging and the KV-cache budget (no cluster).</summary>
public sealed class MessageBoundTests
{
    [Fact]
    public void A_generate_answer_whose_natural_size_exceeds_4_MiB_crosses_as_messages_each_at_most_4_MiB_and_reassembles_exactly()
    {
        var random = new Random(3);
        int prompts = 64, n = 8, tokens = 1024;
        var promptIds = Enumerable.Range(0, prompts).Select(_ => Enumerable.Range(0, 300).Select(_ => random.Next(1 << 17)).ToArray()).ToArray();
        var completions = Enumerable.Range(0, prompts * n).Select(j => new GeneratedCompletion(promptIds[j / n],
            Enumerable.Range(0, tokens).Select(_ => random.Next(1 << 17)).ToArray(), Enumerable.Range(0, tokens).Select(_ => -(float)random.NextDouble() * 20).ToArray(),
            new string('é', tokens * 2), "length")).ToArray();
        var serializer = Serializer;
        var natural = serializer.SerializeToArray(new GenerateResult(completions, 3, 1.5)).Length;
        Assert.True(natural > MessageLimits.MaxChunkBytes, $"natural size {natural}");
        var pages = GenerateResultPages.Split(completions, n, 3, 1.5, "id", GenerateResultPages.DefaultPageBytes);
        Assert.True(pages.Count >= 2);
        foreach (var page in pages) Assert.True(serializer.SerializeToArray(page).Length <= MessageLimits.MaxChunkBytes, $"page of {serializer.SerializeToArray(page).Length} bytes");
        var whole = GenerateResultPages.Join(pages.Select(p => serializer.Deserialize<GenerateResult>(serializer.SerializeToArray(p))).ToList(), n);
        Assert.Equal(completions.Length, whole.Completions.Length);
        for (int j = 0; j < completions.Length; j++)
        {
            Assert.Equal(completions[j].PromptIds, whole.Completions[j].PromptIds);
            Assert.Equal(completions[j].CompletionIds, whole.Completions[j].CompletionIds);
            Assert.Equal(completions[j].LogProbs, whole.Completions[j].LogProbs);
            Assert.Equal(completions[j].Text, whole.Completions[j].Text);
        }
        Assert.Throws<InvalidDataException>(() => GenerateResultPages.Join(pages.Where((_, i) => i != 1).ToList(), n)); // a lost page is an error, not a short answer
    }

    static Serializer Serializer => new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();

    [Fact]
    public void A_ranks_samples_whose_natural_size_exceeds_4_MiB_cross_in_parts_each_at_most_4_MiB_with_each_prompt_once_and_reassemble_exactly()
    {
        var random = new Random(5);
        var prompts = Enumerable.Range(0, 32).Select(_ => Enumerable.Range(0, 2000).Select(_ => random.Next(1 << 17)).ToArray()).ToArray();
        var samples = Enumerable.Range(0, 32 * 16).Select(j => new TrainSample(prompts[j / 16],
            Enumerable.Range(0, 1024).Select(_ => random.Next(1 << 17)).ToArray(), Enumerable.Range(0, 1024).Select(_ => -(float)random.NextDouble()).ToArray(), random.NextDouble() - 0.5)).ToList();
        // Natural size: what one ComputeGradients(samples) message carried (each sample with its own copy of the prompt).
        var natural = Serializer.SerializeToArray(samples.Select(s => s with { PromptIds = s.PromptIds.ToArray() }).ToArray()).Length;
        Assert.True(natural > MessageLimits.MaxChunkBytes, $"natural size {natural}");
        var parts = Grains.Jobs.TrainBatchParts.Split(samples);
        Assert.True(parts.Count >= 2);
        foreach (var part in parts)
        {
            var size = Serializer.SerializeToArray(part).Length;
            Assert.True(size <= MessageLimits.MaxChunkBytes, $"part of {size} bytes");
            Assert.Equal(part.Prompts.Length, part.Prompts.Distinct().Count()); // each prompt once per part
        }
        var back = Grains.Jobs.TrainBatchParts.Join(parts.Select(p => Serializer.Deserialize<TrainBatchPart>(Serializer.SerializeToArray(p))));
        Assert.Equal(samples.Count, back.Count);
        for (int i = 0; i < samples.Count; i++)
        {
            Assert.Equal(samples[i].PromptIds, back[i].PromptIds);
            Assert.Equal(samples[i].CompletionIds, back[i].CompletionIds);
            Assert.Equal(samples[i].LogProbs, back[i].LogProbs);
            Assert.Equal(samples[i].Advantage, back[i].Advantage);
        }
    }

    [Fact]
    public void A_steps_rollouts_over_4_MiB_come_back_in_pages_each_at_most_4_MiB_that_cover_the_step_exactly_once()
    {
        var random = new Random(7);
        var all = Enumerable.Range(0, 600).Select(i => new Rollout(3, i / 8, i % 8, 2, Enumerable.Range(0, 1500).Select(_ => random.Next(1 << 17)).ToArray(),
            Enumerable.Range(0, 300).Select(_ => random.Next(1 << 17)).ToArray(), Enumerable.Range(0, 300).Select(_ => -(float)random.NextDouble()).ToArray(),
            new string('x', 900), "length", random.NextDouble(), true, "ok", new Dictionary<string, double> { ["m"] = 1 }, 0.1)).ToList();
        Assert.True(Serializer.SerializeToArray(all.ToArray()).Length > MessageLimits.MaxChunkBytes);
        var read = new List<Rollout>();
        int pages = 0;
        while (read.Count < all.Count)
        {
            var page = RolloutPage.Take(3, all, read.Count, 10_000);
            Assert.True(Serializer.SerializeToArray(page).Length <= MessageLimits.MaxChunkBytes, "page over the message limit");
            Assert.NotEmpty(page.Rollouts);
            read.AddRange(page.Rollouts);
            pages++;
        }
        Assert.True(pages >= 2);
        Assert.Equal(all, read);
        Assert.Equal(5, RolloutPage.Take(3, all, 10, 5).Rollouts.Length); // count still bounds a page
        Assert.Empty(RolloutPage.Take(3, all, 600, 5).Rollouts);
    }

    [Fact]
    public void Generate_requests_whose_rows_exceed_4_MiB_are_cut_into_requests_each_within_one_message_in_row_order()
    {
        var rows = Enumerable.Range(0, 9).Select(i => new System.Text.Json.Nodes.JsonObject { ["messages"] = new System.Text.Json.Nodes.JsonArray(
            new System.Text.Json.Nodes.JsonObject { ["role"] = "user", ["content"] = new string((char)('a' + i), 1_500_000) }) }.ToJsonString()).ToArray();
        var shares = new[] { rows.Select((_, i) => (row: i, position: i)).Take(7).ToArray(), rows.Select((_, i) => (row: i, position: i)).Skip(7).ToArray() };
        var chunks = Grains.Jobs.JobStepRunner.RequestChunks(shares, r => System.Text.Encoding.UTF8.GetByteCount(rows[r]), r => $"line {r + 1}").ToList();
        Assert.True(chunks.Count >= 5);
        Assert.Equal(Enumerable.Range(0, 9), chunks.SelectMany(c => c.Select(x => x.position)));
        foreach (var chunk in chunks)
        {
            var request = new GenerateRequest("model", "jobs/x/adapters/v000001", 1, chunk.Select(c => rows[c.row]).ToArray(), 8, 1, 1, 0, 256, ["</s>"], 7, chunk[0].position * 8);
            var size = Serializer.SerializeToArray(request).Length;
            Assert.True(size <= MessageLimits.MaxChunkBytes, $"a request of {size} bytes");
        }
        var huge = new[] { new[] { (row: 0, position: 0) } };
        var error = Assert.Throws<ArgumentException>(() => Grains.Jobs.JobStepRunner.RequestChunks(huge, _ => 5 << 20, r => "train.jsonl line 12").ToList());
        Assert.Contains("train.jsonl line 12", error.Message);
    }
}
