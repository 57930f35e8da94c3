using System.Diagnostics;
using System.Text.Json.Nodes;
using Orleans.Rft.Evaluators;
using Orleans.Rft.Evaluators.BuiltIn;

namespace Orleans.Rft.Evaluators.Tests;

/// <summary>Scoring one rollout is bounded work: bounded memory, bounded input, a deadline that holds, a bounded cache.</summary>
public sealed class EvaluatorLimitsTests
{
    static string RandomText(int length, int seed)
    {
        var random = new Random(seed);
        return new string(Enumerable.Range(0, length).Select(_ => (char)('a' + random.Next(4))).ToArray());
    }

    static int MatrixLevenshtein(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }

    [Fact]
    public void The_two_row_distance_equals_the_full_matrix_distance()
    {
        Assert.Equal(3, EditDistance.Levenshtein("kitten", "sitting"));
        Assert.Equal(5, EditDistance.Levenshtein("", "abcde"));
        Assert.Equal(1, EditDistance.Levenshtein("abcXdef", "abcdef"));
        Assert.Equal(2, EditDistance.Levenshtein("aaaa", "aa"));
        Assert.Equal(0, EditDistance.Levenshtein("same", "same"));
        for (int seed = 0; seed < 20; seed++)
        {
            string p = RandomText(seed, seed + 7), q = RandomText(seed % 5, seed + 9);
            Assert.Equal(MatrixLevenshtein(p + q + p, p + p), EditDistance.Levenshtein(p + q + p, p + p));
            string a = RandomText(seed * 3, seed), b = RandomText(40 - seed, seed + 100);
            Assert.Equal(MatrixLevenshtein(a, b), EditDistance.Levenshtein(a, b));
            Assert.Equal(MatrixLevenshtein(a, b), EditDistance.Levenshtein(b, a));
        }
    }

    [Fact]
    public void Similarity_of_two_5000_character_texts_allocates_linear_memory_not_a_25_million_cell_matrix()
    {
        string a = RandomText(5000, 1), b = RandomText(5000, 2);
        StringSimilarityEvaluator.Ratio("warm", "up");
        var before = GC.GetAllocatedBytesForCurrentThread();
        var ratio = StringSimilarityEvaluator.Ratio(a, b);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.InRange(ratio, 0, 1);
        Assert.True(allocated < 1_000_000, $"allocated {allocated:N0} bytes; a (n+1)×(m+1) matrix would be ~100 MB");
    }

    [Fact]
    public void The_distance_loop_stops_when_its_token_is_cancelled()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => EditDistance.Levenshtein(RandomText(1000, 3), RandomText(1000, 4), cancelled.Token));
    }

    [Fact]
    public async Task Two_1_MB_strings_are_refused_by_string_similarity_with_a_reason_well_within_the_timeout()
    {
        var evaluator = EvaluatorFactory.Create(JsonNode.Parse("""{"type":"string_similarity"}""")!.AsObject(), "evaluator", null);
        string a = RandomText(1_000_000, 5), b = RandomText(1_000_000, 6);
        var clock = Stopwatch.StartNew();
        var result = await EvaluatorRunner.RunAsync(evaluator, EvaluationInput.Of(a, JsonValue.Create(b)), TimeSpan.FromSeconds(10));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        Assert.False(result.IsScoreValid);
        Assert.Contains("at most 10,000 characters", result.Reason);
    }

    [Theory]
    [InlineData("""{"type":"exact_match"}""")]
    [InlineData("""{"type":"contains"}""")]
    [InlineData("""{"type":"json_schema"}""")]
    public async Task A_completion_over_1_MiB_is_scored_invalid_with_the_limit_in_the_reason(string spec)
    {
        var evaluator = EvaluatorFactory.Create(JsonNode.Parse(spec)!.AsObject(), "evaluator", null);
        var result = await EvaluatorRunner.RunAsync(evaluator, EvaluationInput.Of(new string('x', EvaluationLimits.MaxInputChars + 1), JsonValue.Create("x")), TimeSpan.FromSeconds(10));
        Assert.False(result.IsScoreValid);
        Assert.Contains("at most 1,048,576", result.Reason);
        var truth = await EvaluatorRunner.RunAsync(evaluator, EvaluationInput.Of("x", JsonValue.Create(new string('x', EvaluationLimits.MaxInputChars + 1))), TimeSpan.FromSeconds(10));
        Assert.False(truth.IsScoreValid);
        Assert.Contains("ground_truth", truth.Reason);
    }

    /// <summary>A synchronous evaluator that never looks at its token, like a tight loop in a built-in.</summary>
    sealed class Stuck(TimeSpan busy) : IEvaluator
    {
        public string Type => "stuck";
        public Task<EvaluationResult> EvaluateAsync(EvaluationInput input, CancellationToken cancellation)
        {
            Thread.Sleep(busy);
            return Task.FromResult(EvaluationResult.Valid(1, "late"));
        }
    }

    [Fact]
    public async Task A_synchronous_evaluator_past_its_deadline_times_out_and_never_holds_the_callers_single_threaded_scheduler()
    {
        // A grain activation runs on a one-at-a-time scheduler: the exclusive half of a pair is the same discipline.
        var scheduler = new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler;
        var factory = new TaskFactory(scheduler);
        var clock = Stopwatch.StartNew();
        var scoring = factory.StartNew(() => EvaluatorRunner.RunAsync(new Stuck(TimeSpan.FromSeconds(8)), EvaluationInput.Of("a", null), TimeSpan.FromSeconds(1))).Unwrap();
        await Task.Delay(100);
        var probe = await factory.StartNew(() => clock.Elapsed).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(probe < TimeSpan.FromSeconds(1), $"the scheduler was held until {probe}");
        await Assert.ThrowsAsync<TimeoutException>(() => scoring);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"the timeout came after {clock.Elapsed}");
    }

    /// <summary>Says which kind of thread it was started on, and waits like an I/O evaluator (or blocks like a built-in).</summary>
    sealed class ThreadProbe(bool asynchronous) : IEvaluator
    {
        public string Type => "probe";
        public bool IsAsynchronous => asynchronous;
        public async Task<EvaluationResult> EvaluateAsync(EvaluationInput input, CancellationToken cancellation)
        {
            var pooled = Thread.CurrentThread.IsThreadPoolThread;
            if (asynchronous) await Task.Delay(TimeSpan.FromSeconds(8), cancellation);
            else Thread.Sleep(TimeSpan.FromSeconds(8));
            return EvaluationResult.Valid(pooled ? 1 : 0, "");
        }
    }

    [Fact]
    public async Task An_asynchronous_evaluator_runs_on_the_thread_pool_without_a_thread_of_its_own_and_keeps_its_deadline()
    {
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAsync<TimeoutException>(() => EvaluatorRunner.RunAsync(new ThreadProbe(true), EvaluationInput.Of("a", null), TimeSpan.FromSeconds(0.5)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"the timeout came after {clock.Elapsed}");
        // Where it starts: a fast evaluator (no wait) reports its thread kind in the score.
        var quick = new QuickProbe(true);
        var r = await EvaluatorRunner.RunAsync(quick, EvaluationInput.Of("a", null), TimeSpan.FromSeconds(5));
        Assert.Equal(1, r.Score); // a thread-pool thread, not a dedicated (LongRunning) one
        var sync = await EvaluatorRunner.RunAsync(new QuickProbe(false), EvaluationInput.Of("a", null), TimeSpan.FromSeconds(5));
        Assert.Equal(0, sync.Score); // a synchronous built-in still gets its own thread, so its deadline cannot be starved
    }

    [Fact]
    public async Task Synchronous_evaluators_reuse_kept_threads_yet_a_stuck_one_never_delays_the_next_item()
    {
        var threads = new System.Collections.Concurrent.ConcurrentDictionary<Thread, bool>(); // by object: managed thread ids are reused
        for (int i = 0; i < 50; i++)
            await EvaluatorRunner.RunAsync(new ThreadRecorder(threads), EvaluationInput.Of("a", null), TimeSpan.FromSeconds(5));
        Assert.True(threads.Count < 10, $"{threads.Count} threads for 50 items one after another: a thread started per item");
        Assert.DoesNotContain(true, threads.Values); // none of them a thread-pool thread

        // Every kept thread is held by an evaluator that ignores its deadline: the next item still starts at once.
        var stuck = Enumerable.Range(0, EvaluatorThreads.MaxIdle + 2).Select(_ =>
            Assert.ThrowsAsync<TimeoutException>(() => EvaluatorRunner.RunAsync(new Stuck(TimeSpan.FromSeconds(4)), EvaluationInput.Of("a", null), TimeSpan.FromSeconds(0.2)))).ToList();
        var clock = Stopwatch.StartNew();
        var r = await EvaluatorRunner.RunAsync(new ThreadRecorder(threads), EvaluationInput.Of("a", null), TimeSpan.FromSeconds(1));
        Assert.True(r.IsScoreValid);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"waited {clock.Elapsed}");
        await Task.WhenAll(stuck);
    }

    sealed class ThreadRecorder(System.Collections.Concurrent.ConcurrentDictionary<Thread, bool> seen) : IEvaluator
    {
        public string Type => "recorder";
        public Task<EvaluationResult> EvaluateAsync(EvaluationInput input, CancellationToken cancellation)
        {
            seen[Thread.CurrentThread] = Thread.CurrentThread.IsThreadPoolThread;
            return Task.FromResult(EvaluationResult.Valid(1, ""));
        }
    }

    sealed class QuickProbe(bool asynchronous) : IEvaluator
    {
        public string Type => "probe";
        public bool IsAsynchronous => asynchronous;
        public Task<EvaluationResult> EvaluateAsync(EvaluationInput input, CancellationToken cancellation) =>
            Task.FromResult(EvaluationResult.Valid(Thread.CurrentThread.IsThreadPoolThread ? 1 : 0, ""));
    }

    [Fact]
    public void The_evaluator_cache_keeps_at_most_its_capacity_dropping_the_least_recently_used()
    {
        var cache = new EvaluatorCache<int>(3);
        int builds = 0;
        IEvaluator Build(int k) { builds++; return new ContainsEvaluator(k.ToString(), false); }
        for (int k = 0; k < 3; k++) cache.GetOrAdd(k, Build);
        cache.GetOrAdd(0, Build); // 0 is now the most recent; 1 the least
        for (int k = 3; k < 100; k++) { cache.GetOrAdd(k, Build); cache.GetOrAdd(0, Build); Assert.True(cache.Count <= 3); }
        Assert.Equal(3, cache.Count);
        var before = builds;
        cache.GetOrAdd(0, Build);
        Assert.Equal(before, builds); // kept: it was used all along
        cache.GetOrAdd(1, Build);
        Assert.Equal(before + 1, builds); // evicted long ago: built again
    }

    [Fact]
    public void A_schema_file_is_refused_where_the_silo_may_not_read_its_disk()
    {
        var e = Assert.Throws<SpecException>(() => EvaluatorFactory.Create(JsonNode.Parse("""{"type":"json_schema","schema":"/etc/passwd"}""")!.AsObject(), "evaluator", null));
        Assert.Equal("evaluator.schema", e.Path);
        Assert.Contains("Rft:AllowLocalPaths", e.Message);
    }

    [Fact]
    public void A_schema_file_that_is_not_JSON_is_reported_by_line_without_echoing_its_bytes()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "Xsecret-password\n");
        try
        {
            var e = Assert.Throws<SpecException>(() => EvaluatorFactory.Create(JsonNode.Parse($$"""{"type":"json_schema","schema":"{{Path.GetFileName(file)}}"}""")!.AsObject(), "evaluator", Path.GetDirectoryName(file)));
            Assert.Contains("line 1", e.Message);
            Assert.DoesNotContain("'X'", e.Message);
            Assert.DoesNotContain("secret", e.Message);
        }
        finally { File.Delete(file); }
    }
}
