using Orleans.Rft.Grains.Jobs;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>A step's generate requests when silos leave mid-step or all fail (<see cref="RolloutFailover"/>, with the split of <see cref="WorkShares"/>).</summary>
public sealed class RolloutFailoverTests
{
    [Fact]
    public async Task A_request_whose_silo_left_mid_step_goes_once_to_the_next_worker_in_plan_order()
    {
        var tried = new List<int>();
        var (result, slot, _) = await RolloutFailover.Run(4, 3, s =>
        {
            tried.Add(s);
            return s == 3 ? Task.FromException<string>(new TimeoutException("silo gone")) : Task.FromResult($"done on {s}");
        });
        Assert.Equal(("done on 0", 0), (result, slot)); // wraps around the plan
        Assert.Equal([3, 0], tried);
    }

    [Fact]
    public async Task When_every_worker_fails_the_request_fails_with_the_last_error_after_at_most_three_distinct_workers()
    {
        var tried = new List<int>();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => RolloutFailover.Run<string>(5, 2, s =>
        {
            tried.Add(s);
            return Task.FromException<string>(new InvalidOperationException($"silo of worker {s} gone"));
        }));
        Assert.Equal([2, 3, 4], tried);
        Assert.Equal("silo of worker 4 gone", error.Message);

        tried.Clear(); // fewer workers than attempts: each once, no worker asked twice
        await Assert.ThrowsAsync<InvalidOperationException>(() => RolloutFailover.Run<string>(2, 1, s => { tried.Add(s); return Task.FromException<string>(new InvalidOperationException("gone")); }));
        Assert.Equal([1, 0], tried);
    }

    [Fact]
    public async Task A_request_that_is_itself_wrong_is_not_sent_to_another_worker()
    {
        int calls = 0;
        await Assert.ThrowsAsync<ArgumentException>(() => RolloutFailover.Run<string>(3, 0, _ => { calls++; return Task.FromException<string>(new ArgumentException("prompt too long")); }));
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task Split_and_failover_give_every_prompt_exactly_once_whichever_silos_fail()
    {
        var random = new Random(12);
        for (int round = 0; round < 200; round++)
        {
            int workers = random.Next(1, 7), prompts = random.Next(0, 40);
            var weights = Enumerable.Range(0, workers).Select(_ => random.NextDouble() * 10).ToArray();
            var gone = Enumerable.Range(0, workers).Where(_ => random.NextDouble() < 0.3).ToHashSet();
            if (gone.Count == workers) gone.Remove(random.Next(workers)); // one survivor: the step must complete
            var counts = WorkShares.Split(prompts, weights);
            var got = new List<int>();
            for (int w = 0, at = 0; w < workers; at += counts[w], w++)
            {
                if (counts[w] == 0) continue;
                var share = Enumerable.Range(at, counts[w]).ToArray();
                try
                {
                    var (rows, _, _) = await RolloutFailover.Run(workers, w, s => gone.Contains(s) ? Task.FromException<int[]>(new TimeoutException()) : Task.FromResult(share));
                    got.AddRange(rows);
                }
                catch (TimeoutException) { got.Add(-1); } // three gone workers in a row: the step fails as a whole (and rolls back), nothing is half-kept
            }
            if (got.Contains(-1)) continue;
            Assert.Equal(Enumerable.Range(0, prompts), got.Order());
        }
    }
}
