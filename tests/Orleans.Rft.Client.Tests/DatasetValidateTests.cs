using Orleans.Rft.Client.Commands;
using Orleans.Rft.Engine.Data;

namespace Orleans.Rft.Client.Tests;

/// <summary><c>rft dataset validate</c>: bad input exits 2 naming line, field and fix; never an internal exception (exit 1).</summary>
[Collection(ConsoleCollection.Name)]
public sealed class DatasetValidateTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "orleans-rft-dataset-tests", Guid.NewGuid().ToString("N")[..8]);

    public DatasetValidateTests() => Directory.CreateDirectory(dir);

    string Write(byte[] bytes)
    {
        var path = Path.Combine(dir, "train.jsonl");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    static byte[] Utf8(string text) => System.Text.Encoding.UTF8.GetBytes(text);

    [Fact]
    public void A_valid_file_exits_0()
    {
        var path = Write(Utf8("{\"messages\": [{\"role\": \"user\", \"content\": \"héllo\"}]}\n"));
        var (exit, output, error) = ConsoleCapture.Run(DatasetCommands.Create(), "dataset", "validate", path);
        Assert.True(exit == 0, error);
        Assert.Contains("1 valid row(s)", output);
    }

    [Theory]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": 42}]}", "messages[0].content", "got a number")]
    [InlineData("{\"messages\": [{\"role\": 7, \"content\": \"hi\"}]}", "messages[0].role", "got a number")]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": true}]}]}", "messages[0].content[0].text", "got a boolean")]
    [InlineData("{\"messages\": [{\"role\": \"assistant\", \"tool_calls\": [{\"function\": {\"name\": \"f\", \"arguments\": \"{not json\"}}]}]}", "messages[0].tool_calls[0].function.arguments", "not valid JSON")]
    public void A_field_of_the_wrong_kind_exits_2_naming_line_and_field(string badLine, string field, string message)
    {
        var path = Write(Utf8("{\"messages\": [{\"role\": \"user\", \"content\": \"fine\"}]}\n" + badLine + "\n"));
        var (exit, _, error) = ConsoleCapture.Run(DatasetCommands.Create(), "dataset", "validate", path);
        Assert.True(exit == 2, $"exit {exit}: {error}");
        Assert.Contains($"train.jsonl:2: {field}: ", error);
        Assert.Contains(message, error);
        Assert.DoesNotContain("Exception", error);
    }

    [Fact]
    public void Invalid_utf8_exits_2_naming_the_line_instead_of_training_on_replacement_characters()
    {
        var bytes = Utf8("{\"messages\": [{\"role\": \"user\", \"content\": \"fine\"}]}\n{\"messages\": [{\"role\": \"user\", \"content\": \"bad ")
            .Concat(new byte[] { 0xC3, 0x28 }).Concat(Utf8("\"}]}\n")).ToArray();
        var path = Write(bytes);
        var (rows, errors) = JsonlDataset.Read(path);
        Assert.Single(rows);
        Assert.DoesNotContain(rows, r => r.Messages.Any(m => m.Content?.Contains('\uFFFD') == true));
        var (exit, _, error) = ConsoleCapture.Run(DatasetCommands.Create(), "dataset", "validate", path);
        Assert.True(exit == 2, $"exit {exit}: {error}");
        Assert.True(error.Contains("train.jsonl:2: line: is not valid UTF-8 (byte 48 of the line); save the file as UTF-8"), error);
    }

    [Fact]
    public void A_byte_order_mark_and_crlf_line_ends_are_valid_utf8()
    {
        var path = Write([0xEF, 0xBB, 0xBF, .. Utf8("{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}]}\r\n{\"messages\": [{\"role\": \"user\", \"content\": \"b\"}]}\r\n")]);
        var (rows, errors) = JsonlDataset.Read(path);
        Assert.Empty(errors);
        Assert.Equal(["a", "b"], rows.Select(r => r.Messages[0].Content));
        Assert.Equal([1, 2], rows.Select(r => r.Line));
    }

    public void Dispose()
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }
}
