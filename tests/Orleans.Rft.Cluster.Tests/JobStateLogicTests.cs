using System.Text;
using Orleans.Rft.Engine.Training;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>The job's plain state logic: control requests, rollback, checkpoint integrity and retention, bounded registry.</summary>
public sealed class JobStateLogicTests : IDisposable
{
    readonly string root = Path.Combine(Path.GetTempPath(), "orleans-rft-state-tests", Guid.NewGuid().ToString("N")[..8]);
    public void Dispose() { try { Directory.Delete(root, recursive: true); } catch (IOException) { } }

    [Theory]
    // current, pause, cancel, validated → next
    [InlineData(JobStatus.Validating, true, false, false, JobStatus.Paused)]      // a pause during validation is not overwritten by Running
    [InlineData(JobStatus.Running, true, true, true, JobStatus.Cancelled)]        // pause then cancel: cancel wins
    [InlineData(JobStatus.Paused, true, true, true, JobStatus.Cancelled)]
    [InlineData(JobStatus.Paused, false, false, true, JobStatus.Running)]         // resume after pause continues
    [InlineData(JobStatus.Paused, false, false, false, JobStatus.Pending)]        // … or validates first if it never did
    [InlineData(JobStatus.Cancelled, false, false, true, JobStatus.Cancelled)]    // a final status never changes
    [InlineData(JobStatus.Completed, true, true, true, JobStatus.Completed)]
    [InlineData(JobStatus.Running, false, false, true, JobStatus.Running)]
    public void Control_requests_move_a_job_only_forward_and_cancel_wins(JobStatus current, bool pause, bool cancel, bool validated, JobStatus next) =>
        Assert.Equal(next, JobControl.Next(current, pause, cancel, validated));

    [Fact]
    public void A_rollback_at_step_0_after_publishing_returns_to_version_0_and_retires_the_adapter()
    {
        // A step-0 failure after its adapter was published: version 1 must not outlive the ranks that made it.
        var s = new JobState { Step = 0, PolicyVersion = 1, AdapterPath = JobPaths.Adapter("j", 1, 1), Generation = 1 };
        var resume = JobRollback.Apply(s, null);
        Assert.Null(resume);
        Assert.Equal((0, 0, (string?)null), (s.Step, s.PolicyVersion, s.AdapterPath));
        Assert.Contains(JobPaths.Adapter("j", 1, 1), s.RetiredAdapters);
        Assert.Equal(2, s.Generation);
    }

    [Fact]
    public void A_rollback_resets_to_the_checkpoint_drops_later_history_and_opens_a_new_generation_whose_names_differ()
    {
        var c4 = new CheckpointRef(4, 0, 16, 4, JobPaths.Checkpoint("j", 1, 4));
        var c6 = new CheckpointRef(6, 1, 8, 6, JobPaths.Checkpoint("j", 1, 6));
        var s = new JobState { Step = 7, PolicyVersion = 7, AdapterPath = JobPaths.Adapter("j", 1, 7), Generation = 1, Checkpoints = [c4, c6], BestStep = 6, BestEval = 0.5 };
        s.History.AddRange(Enumerable.Range(1, 7).Select(i => Metrics(i)));
        Assert.Equal(c4.Prefix, JobRollback.Apply(s, c4)); // c6 was found damaged
        Assert.Equal((4, 0, 16, 4), (s.Step, s.Epoch, s.Cursor, s.PolicyVersion));
        Assert.Equal($"{c4.Prefix}/adapter", s.AdapterPath);
        Assert.Equal([c4], s.Checkpoints);
        Assert.Contains(c6.Prefix, s.RetiredAdapters);
        Assert.Equal([1, 2, 3, 4], s.History.Select(h => h.Step));
        Assert.Null(s.BestStep);                                   // measured on a lost step
        // The redone version 5 is published under another name than the lost run's version 5.
        Assert.NotEqual(JobPaths.Adapter("j", 1, 5), JobPaths.Adapter("j", s.Generation, 5));
        Assert.NotEqual(JobPaths.Checkpoint("j", 1, 6), JobPaths.Checkpoint("j", s.Generation, 6));
    }

    [Fact]
    public async Task A_checkpoint_is_whole_only_when_its_manifest_matches_every_file()
    {
        var store = new LocalArtifactStore(root);
        const string prefix = "jobs/j/checkpoints/g0001-step-000002";
        Assert.Contains("no manifest.json", await CheckpointManifest.VerifyAsync(store, prefix)); // cut short before the manifest
        await store.WriteAsync($"{prefix}/adapter/adapter_model.safetensors", [1, 2, 3, 4]);
        await store.WriteAsync($"{prefix}/optimizer-rank0.safetensors", [5, 6, 7]);
        await CheckpointManifest.WriteAsync(store, prefix, 2);
        Assert.Null(await CheckpointManifest.VerifyAsync(store, prefix));
        await store.WriteAsync($"{prefix}/optimizer-rank0.safetensors", [5, 6, 8]);            // same size, other bytes
        Assert.Contains("SHA-256", await CheckpointManifest.VerifyAsync(store, prefix));
        await store.WriteAsync($"{prefix}/optimizer-rank0.safetensors", [5, 6]);               // truncated
        Assert.Contains("has 2 bytes", await CheckpointManifest.VerifyAsync(store, prefix));
        await store.DeleteAsync($"{prefix}/adapter");
        Assert.Contains("missing", await CheckpointManifest.VerifyAsync(store, prefix));
    }

    [Fact]
    public async Task Writing_a_checkpoint_deletes_nothing_and_pruned_data_is_deleted_only_after_the_state_naming_the_new_checkpoint_is_written()
    {
        // Order: data (manifest last), pointer (the caller's state write), deletion. A crash between the
        // checkpoint and the state write must find the checkpoint the stored state names still whole.
        var store = new LocalArtifactStore(root);
        var spec = new JobSpec("j", "model", "data", null, "{}", new TrainingSpec(), new InferenceSpec(), new LossSpec(),
            new CheckpointSpec(EverySteps: 2, KeepBest: false, KeepLast: 1), 0, 1, root);
        var old = new CheckpointRef(2, 0, 8, 2, JobPaths.Checkpoint("j", 1, 2));
        await store.WriteAsync($"{old.Prefix}/adapter/adapter_model.safetensors", [1, 2]);
        await CheckpointManifest.WriteAsync(store, old.Prefix, 2);
        var s = new JobState { Spec = spec, Step = 4, PolicyVersion = 4, Generation = 1, AdapterPath = JobPaths.Adapter("j", 1, 4), Checkpoints = [old], LastCheckpoint = old };
        await store.WriteAsync($"{s.AdapterPath}/adapter_model.safetensors", [3, 4, 5]);
        var checkpoints = new JobCheckpoints(store, "j", new JobEventLog(store, "j", Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));

        await checkpoints.Write(s, [], best: false);
        var written = Assert.Single(s.Checkpoints);
        Assert.Equal((4, written), (written.Step, s.LastCheckpoint));
        Assert.Null(await CheckpointManifest.VerifyAsync(store, written.Prefix));
        Assert.Null(await CheckpointManifest.VerifyAsync(store, old.Prefix));   // still whole: the stored state names it until the next write
        Assert.Contains(old.Prefix, s.RetiredAdapters);

        // The step's end: the state write (the pointer to the new checkpoint) must find the pruned one still
        // whole — a crash right after it resumes from what it names — and the deletion comes after it.
        var order = new List<string>();
        await checkpoints.CommitAsync(s, async () =>
        {
            order.Add((await CheckpointManifest.VerifyAsync(store, old.Prefix)) is null ? "state written, pruned data whole" : "state written after pruned data was deleted");
        }, _ => false);
        Assert.Equal(["state written, pruned data whole"], order);
        Assert.Empty(await store.ListAsync(old.Prefix));
        Assert.Null(await CheckpointManifest.VerifyAsync(store, written.Prefix));
        Assert.Empty(s.RetiredAdapters);
    }

    [Fact]
    public void Retention_keeps_the_last_keep_last_checkpoints_plus_the_best()
    {
        var all = Enumerable.Range(1, 8).Select(i => new CheckpointRef(i * 10, 0, 0, i * 10, $"c/{i * 10}")).ToList();
        Assert.Equal([10, 20, 30, 40, 50], CheckpointRetention.Pruned(all, 3, null).Select(c => c.Step));
        Assert.Equal([10, 30, 40, 50], CheckpointRetention.Pruned(all, 3, "c/20/adapter").Select(c => c.Step));
        Assert.Empty(CheckpointRetention.Pruned(all.Take(2).ToList(), 3, null));
        // A spec stored before keep_last existed reads back 0: it keeps the default 3, not 1 (upgrades prune nothing extra).
        Assert.Equal([10, 20, 30, 40, 50], CheckpointRetention.Pruned(all, 0, null).Select(c => c.Step));
    }

    [Fact]
    public void Optimizer_shards_round_trip_bit_exactly_through_safetensors_at_4_bytes_an_element()
    {
        var random = new Random(3);
        var m = Enumerable.Range(0, 1000).Select(_ => (float)random.NextDouble() * 1e-3f).ToArray();
        var v = Enumerable.Range(0, 1000).Select(_ => (float)random.NextDouble() * 1e-7f).ToArray();
        var state = new AdamWState(4096, 1000, 17, m, v);
        var bytes = OptimizerShard.Write(state);
        Assert.True(bytes.Length < 2 * 4 * 1000 + 400, $"{bytes.Length} bytes for 2,000 floats");
        var back = OptimizerShard.Read(bytes, "test");
        Assert.Equal((state.Start, state.Length, state.Step), (back.Start, back.Length, back.Step));
        Assert.Equal(m, back.M);
        Assert.Equal(v, back.V);
        Assert.Contains("needs tensors", Assert.Throws<InvalidDataException>(() => OptimizerShard.Read(Encoding.UTF8.GetBytes("\u0002\0\0\0\0\0\0\0{}"), "x.safetensors")).Message);
    }

    [Fact]
    public void The_registry_keeps_every_active_job_and_only_the_latest_ended_ones()
    {
        var r = new JobRegistryState();
        for (int i = 0; i < JobRegistryState.MaxFinished + 50; i++) { r.Register($"done-{i}"); r.MarkFinished($"done-{i}"); }
        r.Register("running");
        var all = r.All();
        Assert.Equal(JobRegistryState.MaxFinished + 1, all.Count);
        Assert.Contains("running", all);
        Assert.DoesNotContain("done-0", all);
        Assert.Contains($"done-{JobRegistryState.MaxFinished + 49}", all);
        Assert.False(r.Register("running"));
    }

    static StepMetrics Metrics(int step) => System.Text.Json.JsonSerializer.Deserialize<StepMetrics>($$"""{"Step":{{step}}}""")!;
}

/// <summary>A stale ETag on a state write is re-read and re-applied, never a failed call.</summary>
public sealed class StateWritesTests
{
    /// <summary>A store whose first <c>conflicts</c> writes fail with an ETag conflict, as another writer's earlier write would cause.</summary>
    sealed class ConflictingStore<T>(T stored, int conflicts, Func<T, T> copy) : IPersistentState<T>
    {
        public T Stored = stored;
        public int Writes, Reads;
        public T State { get; set; } = copy(stored);
        public string? Etag { get; private set; } = "1";
        public bool RecordExists => true;
        public Task ClearStateAsync() => Task.CompletedTask;
        public Task ReadStateAsync() { Reads++; State = copy(Stored); Etag = $"{Reads + 1}"; return Task.CompletedTask; }
        public Task WriteStateAsync()
        {
            if (conflicts-- > 0) throw new Orleans.Storage.InconsistentStateException("etag mismatch", "stored", Etag!);
            Writes++;
            Stored = copy(State);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task A_control_request_written_into_a_conflict_is_re_applied_to_the_stored_state_and_keeps_what_was_stored()
    {
        // Stored: a cancel recorded by another writer this activation never saw. This activation requests a pause.
        var store = new ConflictingStore<JobControlRequests>(new JobControlRequests { Cancel = true }, 1, r => new JobControlRequests { Pause = r.Pause, Cancel = r.Cancel });
        store.State.Cancel = false;
        await new JobControl(store).RequestPause();
        Assert.Equal((1, 1), (store.Reads, store.Writes));
        Assert.True(store.Stored.Pause);
        Assert.True(store.Stored.Cancel);
    }

    [Fact]
    public async Task The_single_writers_job_state_survives_a_stale_etag_with_its_own_content()
    {
        var store = new ConflictingStore<JobState>(new JobState { Step = 3 }, 2, s => new JobState { Step = s.Step });
        store.State.Step = 4;
        await StateWrites.WriteOwnedAsync(store);
        Assert.Equal(4, store.Stored.Step);
        Assert.Equal(2, store.Reads);
    }
}
