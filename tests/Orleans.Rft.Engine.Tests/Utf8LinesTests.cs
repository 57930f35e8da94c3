using System.Text;
using Orleans.Rft.Engine.Data;

namespace Orleans.Rft.Engine.Tests;

/// <summary>
/// A line over the cap comes back by its number and full length with no text (so reading never holds
/// more than the cap), the lines around it are read as usual, and the cap counts the line's own bytes
/// (not its '\r' or the file's byte-order mark).
/// </summary>
public sealed class Utf8LinesTests : IDisposable
{
    readonly string path = Path.Combine(Path.GetTempPath(), $"orleans-rft-lines-{Guid.NewGuid():N}.jsonl");

    public void Dispose() => File.Delete(path);

    [Fact]
    public void A_line_over_the_cap_is_reported_by_number_and_length_and_the_next_line_is_read()
    {
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("abcd\r\n" + new string('x', 3_000_000) + "\r\nefgh\nijklm")]);
        var lines = Utf8Lines.Read(path, maxLineBytes: 4).ToList();
        Assert.Equal([1, 2, 3, 4], lines.Select(l => l.Number));
        Assert.Equal(("abcd", 4L), (lines[0].Text, lines[0].Bytes)); // the mark and the '\r' do not count
        Assert.Equal(("", -1, 3_000_001L), (lines[1].Text, lines[1].BadByte, lines[1].Bytes)); // its '\r' is part of an over-long line
        Assert.Equal(("efgh", 4L), (lines[2].Text, lines[2].Bytes));
        Assert.Equal(("", 5L), (lines[3].Text, lines[3].Bytes)); // the last line, without a newline, is capped too
    }

    [Fact]
    public void Invalid_utf8_is_still_reported_with_its_offset_under_the_cap()
    {
        File.WriteAllBytes(path, [.. Encoding.UTF8.GetBytes("ok\nab"), 0xC3, 0x28, (byte)'\n']);
        var lines = Utf8Lines.Read(path, maxLineBytes: 100).ToList();
        Assert.Equal(("ok", -1), (lines[0].Text, lines[0].BadByte));
        Assert.Equal(2, lines[1].BadByte);
    }
}
