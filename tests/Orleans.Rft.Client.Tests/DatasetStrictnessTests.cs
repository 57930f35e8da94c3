using System.Text;
using Orleans.Rft.Client.Commands;
using Orleans.Rft.Engine.Data;

namespace Orleans.Rft.Client.Tests;

/// <summary>
/// Every problem of a dataset line is found while that line is read, so it exits 2 naming the line
/// and the field: a lone surrogate escape or a duplicate key used to escape the line's handler as an
/// internal exception (exit 1) or an error with no line; a line too long for one grain message is
/// refused by its number, without holding it in memory whole.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class DatasetStrictnessTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "orleans-rft-strict-tests", Guid.NewGuid().ToString("N")[..8]);

    public DatasetStrictnessTests() => Directory.CreateDirectory(dir);

    public void Dispose()
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }

    const string Good = """{"messages": [{"role": "user", "content": "fine"}]}""";

    string Write(string name, string text)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }

    static (int Exit, string Out, string Error) Validate(string path) => ConsoleCapture.Run(DatasetCommands.Create(), "dataset", "validate", path);

    [Theory]
    [InlineData("""{"messages": [{"role": "user", "content": "\ud800"}]}""", "messages[0].content", "lone UTF-16 surrogate escape")]
    [InlineData("""{"messages": [{"role": "user", "content": "ok"}], "ground_truth": {"answer": "x\udc00y"}}""", "ground_truth.answer", "lone UTF-16 surrogate escape")]
    [InlineData("""{"messages": [{"role": "user", "content": "ok"}], "\ud800": 1}""", "line", "a key holds a lone UTF-16 surrogate escape")]
    [InlineData("""{"a": 1, "a": 2, "messages": [{"role": "user", "content": "ok"}]}""", "line", "each key once")]
    [InlineData("""{"messages": [{"role": "user", "content": "ok", "content": "twice"}]}""", "line", "each key once")]
    [InlineData("""{"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{\"a\": 1, \"a\": 2}"}}]}]}""", "messages[0].tool_calls[0].function.arguments", "not valid JSON (each key once)")]
    public void A_line_that_cannot_be_read_whole_exits_2_naming_line_and_field(string badLine, string field, string message)
    {
        var path = Write("train.jsonl", Good + "\n" + badLine + "\n" + Good + "\n");
        var (rows, errors) = JsonlDataset.Read(path);
        Assert.Equal(2, rows.Count);
        var error = Assert.Single(errors);
        Assert.Equal((2, field), (error.Line, error.Field));
        Assert.Contains(message, error.Message);

        var (exit, _, stderr) = Validate(path);
        Assert.True(exit == 2, $"exit {exit}: {stderr}");
        Assert.Contains($"train.jsonl:2: {field}: ", stderr);
        Assert.DoesNotContain("Exception", stderr);
        Assert.DoesNotContain("same key has already been added", stderr);
    }

    [Fact]
    public void A_line_over_the_message_limit_is_refused_by_number_and_the_lines_after_it_are_read()
    {
        var huge = "{\"messages\": [{\"role\": \"user\", \"content\": \"" + new string('x', 5 << 20) + "\"}]}";
        var path = Write("train.jsonl", Good + "\n" + huge + "\n" + Good + "\n");
        var (rows, errors) = JsonlDataset.Read(path);
        Assert.Equal([1, 3], rows.Select(r => r.Line));
        var error = Assert.Single(errors);
        Assert.Equal((2, "line"), (error.Line, error.Field));
        Assert.Contains($"is {Encoding.UTF8.GetByteCount(huge):N0} bytes; a row may have at most {JsonlDataset.MaxLineBytes:N0}", error.Message);
    }

    [Fact]
    public void A_line_under_the_cap_that_outgrows_a_message_once_escaped_is_refused()
    {
        // '<' travels as \u003C (6 bytes for 1): 1 MiB of them is 6 MiB on the wire.
        var path = Write("train.jsonl", "{\"messages\": [{\"role\": \"user\", \"content\": \"" + new string('<', 1 << 20) + "\"}]}\n" + Good + "\n");
        var (rows, errors) = JsonlDataset.Read(path);
        Assert.Single(rows);
        var error = Assert.Single(errors);
        Assert.Equal((1, "line"), (error.Line, error.Field));
        Assert.Contains("once encoded for the cluster", error.Message);
    }

    [Fact]
    public void The_line_cap_is_the_rollout_request_limit()
    {
        Assert.Equal(Orleans.Rft.Grains.Jobs.JobStepRunner.MaxRequestBytes, JsonlDataset.MaxLineBytes);
    }

    [Theory]
    [InlineData("""[{"role": "user", "content": "\ud800"}]""", "m.json: $[0].content holds a lone UTF-16 surrogate escape")]
    [InlineData("""{"messages": [{"role": "user", "content": "hi"}], "messages": []}""", "m.json:1: not valid JSON at byte")]
    public void Model_render_refuses_a_lone_surrogate_or_a_duplicate_key_naming_the_file(string messages, string expected)
    {
        var model = Path.Combine(Repository.Root, "examples", "arithmetic", "base");
        var (exit, _, error) = ConsoleCapture.Run(ModelCommands.Create(), "model", "render", "--model", model, "--messages", Write("m.json", messages));
        Assert.True(exit == 2, $"exit {exit}: {error}");
        Assert.Contains(expected, error);
        Assert.DoesNotContain("Exception", error);
    }
}
