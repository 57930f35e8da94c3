using System.Text.Json.Nodes;
using Orleans.Rft.Client.Commands;

namespace Orleans.Rft.Client.Tests;

/// <summary><c>rft chat</c> against a small OpenAI-compatible SSE server, scripted through stdin.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ChatCommandTests
{
    [Fact]
    public void Each_turn_sends_the_whole_history_with_the_key_and_prints_the_streamed_answer_and_exit_stops_reading()
    {
        using var server = new FakeChatServer();
        var (exit, stdout, stderr) = ConsoleCapture.RunWithInput(ChatCommand.Create(), "hello there\nsecond\n/exit\nnever sent\n",
            "chat", "--model", "toy", "--url", server.BaseUrl, "--api-key", "k1", "--system", "be brief", "--max-tokens", "9");
        Assert.True(exit == 0, stderr);
        Assert.Equal(2, server.Requests.Count);
        var second = server.Requests[1].Body;
        Assert.Equal("Bearer k1", server.Requests[1].Authorization);
        Assert.Equal(("toy", true, 9), ((string?)second["model"], (bool?)second["stream"], (int?)second["max_tokens"]));
        var roles = second["messages"]!.AsArray().Select(m => $"{m!["role"]}:{m["content"]}").ToList();
        Assert.Equal(["system:be brief", "user:hello there", "assistant:echo 2: hello there", "user:second"], roles);
        Assert.Contains("echo 2: hello there\n", stdout.ReplaceLineEndings("\n"));
        Assert.Contains("echo 4: second\n", stdout.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Ctrl_C_at_the_prompt_ends_the_wait_for_a_line_even_though_the_console_reads_synchronously()
    {
        // Console.In is a synchronized reader: its ReadLineAsync blocks the caller and never looks at the token.
        using var blocking = new BlockingReader();
        var console = TextReader.Synchronized(blocking);
        using var ctrlC = new CancellationTokenSource();
        var read = Task.Run(() => ChatCommand.ReadLineAsync(console, ctrlC.Token));
        await Task.Delay(100);
        ctrlC.Cancel();
        var first = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(5)));
        blocking.Release(); // let a read that is still blocked finish, whatever the outcome
        Assert.True(first == read, "the read still waits for a line 5 s after Ctrl+C");
        Assert.Null(await read);
    }

    /// <summary>A terminal nobody types into: ReadLine blocks until released, then reports the end of input.</summary>
    sealed class BlockingReader : TextReader
    {
        readonly ManualResetEventSlim released = new();
        public void Release() => released.Set();
        public override string? ReadLine() { released.Wait(); return null; }
        protected override void Dispose(bool disposing) { released.Set(); base.Dispose(disposing); }
    }

    [Fact]
    public void Reset_clears_the_history_but_keeps_the_system_message()
    {
        using var server = new FakeChatServer();
        var (exit, _, stderr) = ConsoleCapture.RunWithInput(ChatCommand.Create(), "one\ntwo\n/reset\nthree\n",
            "chat", "--model", "toy", "--url", server.BaseUrl, "--system", "sys");
        Assert.True(exit == 0, stderr);
        Assert.Equal(3, server.Requests.Count);
        Assert.Equal(4, server.Requests[1].Body["messages"]!.AsArray().Count);
        var afterReset = server.Requests[2].Body["messages"]!.AsArray().Select(m => (string?)m!["content"]).ToList();
        Assert.Equal(["sys", "three"], afterReset);
        Assert.Null(server.Requests[2].Authorization);
    }

    [Fact]
    public void The_first_token_is_printed_before_the_server_sends_the_rest_of_the_answer()
    {
        using var server = new FakeChatServer();
        var printed = new TaskCompletionSource();
        server.AfterFirstChunk = () => printed.Task;
        var (exit, stdout, stderr) = ConsoleCapture.RunWithInput(ChatCommand.Create(), "streaming please\n",
            ["chat", "--model", "toy", "--url", server.BaseUrl], onWrite: text => { if (text.Contains("echo")) printed.TrySetResult(); });
        Assert.True(exit == 0, stderr);
        Assert.Equal([true], server.FirstChunkSeenBeforeTheRest);
        Assert.Contains("echo 1: streaming please", stdout);
    }

    [Fact]
    public void A_server_error_is_one_line_with_the_status_and_OpenAIs_message_and_an_unknown_model_ends_the_chat_with_exit_1()
    {
        using var server = new FakeChatServer();
        var (exit, stdout, stderr) = ConsoleCapture.RunWithInput(ChatCommand.Create(), "hi\nagain\n",
            "chat", "--model", "missing", "--url", server.BaseUrl);
        Assert.Equal(1, exit);
        Assert.Single(server.Requests);
        Assert.Equal("error: 404 Not Found: The model `missing` does not exist.", Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)).TrimEnd('\r'));
        Assert.DoesNotContain("echo", stdout);
    }

    [Fact]
    public void Nothing_listening_is_one_line_naming_the_url()
    {
        var url = $"http://127.0.0.1:{Jobs.ClusterConnection.FreePort()}/v1";
        var (exit, _, stderr) = ConsoleCapture.RunWithInput(ChatCommand.Create(), "hi\n", "chat", "--model", "toy", "--url", url);
        Assert.Equal(1, exit);
        Assert.StartsWith($"error: cannot reach {url}", stderr);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Json_output_is_one_object_per_turn_with_snake_case_keys()
    {
        using var server = new FakeChatServer();
        var (exit, stdout, stderr) = ConsoleCapture.RunWithInput(ChatCommand.Create(), "x\n", "chat", "--model", "toy", "--url", server.BaseUrl, "--json");
        Assert.True(exit == 0, stderr);
        var turn = JsonNode.Parse(stdout.Trim().Split('\n').Last())!.AsObject();
        Assert.Equal("echo 1: x", (string?)turn["content"]);
        Assert.Equal("stop", (string?)turn["finish_reason"]);
        Assert.Equal(5, (int?)turn["usage"]!["prompt_tokens"]);
    }
}
