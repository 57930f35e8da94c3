using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Orleans.Rft.Agents.Remote;

namespace Orleans.Rft.Agents.Tests;

/// <summary>What one live remote rollout keeps of its model calls.</summary>
public sealed class RemoteRolloutSessionTests
{
    static RemoteRolloutSession Open() =>
        new RemoteRolloutRegistry().Open("r-" + Guid.NewGuid().ToString("N"), "jobs/x", new ScriptedPolicy(["a"]), DateTimeOffset.UtcNow.AddMinutes(1)).Session;

    static JsonArray Messages(string text) => new(new JsonObject { ["role"] = "user", ["content"] = text });

    // Not inlined: the arrays it makes are reachable only through the session once it returns.
    [MethodImpl(MethodImplOptions.NoInlining)]
    static WeakReference RecordOne(RemoteRolloutSession session, string text)
    {
        var messages = Messages(text);
        session.Record(messages, new JsonObject { ["role"] = "assistant", ["content"] = "answer to " + text });
        return new WeakReference(messages);
    }

    [Fact]
    public void Only_the_last_model_call_is_kept_and_it_makes_the_conversation()
    {
        var session = Open();
        var first = RecordOne(session, "first");
        var second = RecordOne(session, "second");
        RecordOne(session, "third");
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(first.IsAlive, "the first call's messages are still held: every call of a long agent stays in memory");
        Assert.False(second.IsAlive, "the second call's messages are still held");
        Assert.Equal(3, session.Exchanges);
        var conversation = session.Conversation(new JsonArray());
        Assert.Equal(["third", "answer to third"], conversation.Select(m => m!["content"]!.GetValue<string>()));
    }

    [Fact]
    public void A_rollout_without_model_calls_has_an_empty_conversation()
    {
        Assert.Empty(Open().Conversation(Messages("q")));
        Assert.Equal(0, Open().Exchanges);
    }
}
