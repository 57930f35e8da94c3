using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Rft.Engine.Data;
using Orleans.Rft.Evaluators;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs;
using Orleans.Rft.Grains.Services;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Orleans.Rft.Grains;

/// <summary>
/// Drives one job. A grain timer runs one step per tick (non-interleaving, so steps never overlap);
/// a reminder re-arms the timer if the silo that hosted the job is lost (timers die with their
/// activation, reminders do not). Status queries and cancel/pause interleave with a running step;
/// cancel/pause only record a request (<see cref="JobControl"/>): the step loop alone writes the job state.
/// </summary>
public sealed partial class JobGrain(
    [PersistentState("job", "rft")] IPersistentState<JobState> state,
    [PersistentState("job-control", "rft")] IPersistentState<JobControlRequests> controlState,
    IArtifactStore artifacts,
    ISiloMetadataCache siloMetadata,
    ILogger<JobGrain> logger) : Grain, IJobGrain, IRemindable
{
    const string ReminderName = "rft-job";
    static readonly TimeSpan TickPeriod = TimeSpan.FromMilliseconds(200);
    static readonly TimeSpan MaxTickDuration = TimeSpan.FromSeconds(30);

    JobState S => state.State;
    IGrainTimer? timer;
    JobStepRunner? runner;
    StepCluster? cluster;
    List<DatasetRow> rows = [], evalRows = [];
    List<string> rowJson = [], evalRowJson = [];
    /// <summary>Rollouts of the next max_staleness steps, each sampled with the policy current when it was queued.</summary>
    readonly Queue<PrefetchedBatch> prefetched = new();
    JobControl? control;
    JobControl Control => control ??= new JobControl(controlState);
    JobEventLog? events;
    JobEventLog Events => events ??= new JobEventLog(artifacts, JobId, logger);
    JobCheckpoints? checkpoints;
    JobCheckpoints Checkpoints => checkpoints ??= new JobCheckpoints(artifacts, JobId, Events);
    int consecutiveFailures;
    DateTime retryNotBefore;
    const int MaxConsecutiveStepFailures = 5;

    string JobId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        ServiceProvider.GetService<LocalJobs>()?.Add(JobId); // a draining silo finds the jobs it hosts here
        if (S.Spec is not null && !S.Status.IsFinal()) StartTimer();
        return Task.CompletedTask;
    }

    public async Task<JobSnapshot> Submit(JobSpec spec)
    {
        // A judge's model may name this job's own policy (jobs/{job_id}); the id is known only here.
        spec = spec with { EvaluatorJson = EvaluatorFactory.WithJobId(spec.EvaluatorJson, JobId) };
        if (S.Spec is not null)
        {
            if (S.Spec == spec || JsonSerializer.Serialize(S.Spec) == JsonSerializer.Serialize(spec)) return Snapshot();
            throw new InvalidOperationException($"job '{JobId}' already exists with a different spec; choose another id.");
        }
        S.Spec = spec;
        S.Status = JobStatus.Pending;
        S.SubmittedAt = S.UpdatedAt = DateTimeOffset.UtcNow;
        await WriteState();
        await GrainFactory.GetGrain<IJobRegistryGrain>(0).Register(JobId).WaitAsync(TimeSpan.FromSeconds(30));
        await this.RegisterOrUpdateReminder(ReminderName, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        StartTimer();
        logger.LogInformation("Job {JobId} submitted: {Spec}", JobId, JsonSerializer.Serialize(spec));
        return Snapshot();
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (S.Spec is not null && !S.Status.IsFinal()) StartTimer();
        return Task.CompletedTask;
    }

    void StartTimer() =>
        // KeepAlive: an unfinished job (a paused one too) is never collected as idle; coming back would
        // cost it a rollback to its last checkpoint. Finish disposes the timer, and then it may go.
        timer ??= this.RegisterGrainTimer(Tick, new GrainTimerCreationOptions { DueTime = TimeSpan.Zero, Period = TickPeriod, Interleave = false, KeepAlive = true });

    async Task Tick(CancellationToken cancellation)
    {
        try
        {
            if (await MoveOffDrainingSilos()) return;
            if (await ApplyControl()) return;
            switch (S.Status)
            {
                case JobStatus.Pending:
                    await Transition(JobStatus.Validating);
                    break;
                case JobStatus.Validating:
                    await Validate();
                    await Transition(JobStatus.Running);
                    break;
                case JobStatus.Running when DateTime.UtcNow < retryNotBefore:
                    break;
                case JobStatus.Running:
                    // Steps run back to back within one tick (no timer gap between them), handing the
                    // turn back every MaxTickDuration so that the reminder and non-interleaved calls get in.
                    var started = DateTime.UtcNow;
                    do await RunOneStep();
                    while (S.Status == JobStatus.Running && !Control.StopRequested && !movePending && !cancellation.IsCancellationRequested && DateTime.UtcNow - started < MaxTickDuration);
                    break;
            }
        }
        catch (Exception e) when (JobFailures.IsPermanent(e, S.Status))
        {
            await Finish(JobStatus.Failed, e.Message);
        }
        catch (Exception e) when (++consecutiveFailures < MaxConsecutiveStepFailures && S.Status == JobStatus.Running)
        {
            // A lost silo, a timed-out rank or worker: rebuild the grains and resume from the last
            // checkpoint on the next tick rather than failing a long job for one transient fault.
            logger.LogWarning(e, "Job {JobId} step {Step} failed ({Count}/{Max}); resuming from the last checkpoint", JobId, S.Step, consecutiveFailures, MaxConsecutiveStepFailures);
            S.LastError = Secrets.Redact($"retrying after {e.GetType().Name}: {e.Message}");
            // Back off 2, 4, 8, 16 s (30 s in all): a silo that died without a goodbye stays in the
            // membership until enough probes miss (about 15 s with Orleans' defaults), and retrying
            // at once would spend every attempt on it.
            retryNotBefore = DateTime.UtcNow + TimeSpan.FromSeconds(1 << consecutiveFailures);
            runner = null;
            prefetched.Clear();
        }
        catch (Exception e)
        {
            logger.LogError(e, "Job {JobId} failed at step {Step}", JobId, S.Step);
            await Finish(JobStatus.Failed, $"{e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>Applies pending control requests at a step boundary; true when no step should run now (paused or ended).</summary>
    async Task<bool> ApplyControl()
    {
        if (S.Status.IsFinal()) return true;
        var next = Control.Next(S.Status, validated: S.TotalSteps > 0);
        if (next == JobStatus.Cancelled) { await Finish(JobStatus.Cancelled, null); return true; }
        if (next != S.Status)
        {
            await RecordEvent(next == JobStatus.Paused ? "paused" : "resumed", $"{S.Status} → {next} at step {S.Step}");
            await Transition(next);
        }
        return next == JobStatus.Paused;
    }

    async Task Transition(JobStatus to)
    {
        S.Status = to;
        S.UpdatedAt = DateTimeOffset.UtcNow;
        await WriteState();
    }

    /// <summary>The step loop is the job state's only writer: a stale ETag is refreshed and this activation's state written again.</summary>
    Task WriteState() => StateWrites.WriteOwnedAsync(state);

    Task RecordEvent(string kind, string message) => Events.Record(S, kind, Secrets.Redact(message));

    async Task Finish(JobStatus final, string? error)
    {
        S.Status = final;
        S.LastError = error is null ? null : Secrets.Redact(error); // exception text can carry a connection string
        S.UpdatedAt = DateTimeOffset.UtcNow;
        var ranks = cluster ?? (S.TrainerKeys.Count > 0 ? StepCluster.Abandoned(GrainFactory, S.TrainerKeys.ToList()) : null);
        S.TrainerKeys = [];
        await WriteState();
        timer?.Dispose();
        timer = null;
        // A finished job's ranks free their device memory, this activation's or (by their stored keys) an earlier one's.
        if (ranks is not null) await ranks.Release();
        if (await this.GetReminder(ReminderName) is { } reminder) await this.UnregisterReminder(reminder);
        logger.LogInformation("Job {JobId} {Status} at step {Step} {Error}", JobId, final, S.Step, error);
        try { await GrainFactory.GetGrain<IJobRegistryGrain>(0).Finished(JobId).WaitAsync(TimeSpan.FromSeconds(30)); }
        catch (Exception e) { logger.LogWarning(e, "Job {JobId} could not tell the registry it ended; it stays listed as active", JobId); }
    }

    /// <summary>Everything that can be checked before any device work: data, evaluator, model folder.</summary>
    async Task Validate()
    {
        var spec = S.Spec!;
        if (spec.AgentJson is not null) CheckAgent(Agents.AgentSpec.Parse(spec.AgentJson));
        var baseModel = await artifacts.LocalPathAsync(spec.BaseModel, "base_model");
        if (!File.Exists(Path.Combine(baseModel, "config.json")))
            throw new FileNotFoundException($"base_model: '{spec.BaseModel}' has no config.json; point it at a Hugging Face model folder.");
        // Built as this silo's EvaluatorGrain builds it: a judge without base_url needs this silo's HTTP endpoint.
        EvaluatorFactory.Create(JsonNode.Parse(spec.EvaluatorJson)!.AsObject(), "evaluator", artifacts.LocalFolderOrNull(spec.BaseDirectory), EvaluatorGrain.OwnEndpoint(ServiceProvider));
        await LoadData();
        S.TotalSteps = DatasetCursor.TotalSteps(rows.Count, spec.Training.BatchPrompts, spec.Training.Epochs, spec.Training.MaxSteps);
    }

    /// <summary>
    /// A stdio MCP server is a program on the silos' disk run in a folder there (the job file's folder when
    /// the spec came from <c>rft run</c>): like a dataset path, only where the silos may read local paths.
    /// Refused up front, since otherwise every rollout of every step would fail to start it.
    /// </summary>
    void CheckAgent(Agents.AgentSpec agent)
    {
        if (agent is Agents.ToolsAgentSpec tools && !artifacts.AllowLocalPaths && tools.McpServers.FirstOrDefault(s => s.Command is not null) is { } stdio)
            throw new ArgumentException($"agent.mcp_servers: '{stdio.Name}' is a stdio server ('{stdio.Command}', a program on the silos' disk), and this cluster reads only uploaded files; "
                + "give it a url (a streamable-HTTP MCP server), or let the silos run local programs with Rft:AllowLocalPaths=true and put the server on their disk or image.");
    }

    /// <summary>Reads the datasets (materialized first when they were uploaded to the artifact store).</summary>
    async Task LoadData()
    {
        var spec = S.Spec!;
        rows = JsonlDataset.ReadOrThrow(await artifacts.LocalPathAsync(spec.Dataset, "dataset"));
        rowJson = rows.Select(r => r.Raw.ToJsonString()).ToList();
        if (spec.EvalDataset is not null)
        {
            evalRows = JsonlDataset.ReadOrThrow(await artifacts.LocalPathAsync(spec.EvalDataset, "eval_dataset")).Take(MaxEvalRows).ToList();
            evalRowJson = evalRows.Select(r => r.Raw.ToJsonString()).ToList();
        }
    }
}
