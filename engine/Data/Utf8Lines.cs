using System.Text;

namespace Orleans.Rft.Engine.Data;

/// <summary>One line of a UTF-8 file: its 1-based number, its text, the offset of its first invalid byte (−1 if none) and its length in bytes.</summary>
public readonly record struct Utf8Line(int Number, string Text, int BadByte, long Bytes);

/// <summary>
/// A file's lines, each decoded as strict UTF-8: a line with an invalid byte comes back with that
/// byte's offset instead of being read with replacement characters. A UTF-8 byte-order mark and
/// '\r' line ends are accepted. A line longer than the cap is not kept: it comes back with empty
/// text and its full length, so memory stays bounded by the cap whatever the file holds.
/// </summary>
public static class Utf8Lines
{
    public static IEnumerable<Utf8Line> Read(string path, int maxLineBytes)
    {
        var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        using var stream = new BufferedStream(File.OpenRead(path), 1 << 16);
        Span<byte> start = stackalloc byte[3];
        if (stream.ReadAtLeast(start, 3, throwOnEndOfStream: false) < 3 || !start.SequenceEqual(Bom)) stream.Position = 0; // a byte-order mark is no part of line 1
        var line = new MemoryStream();
        long length = 0; // bytes of the current line, counted on past the cap
        int number = 0, b;
        do
        {
            b = stream.ReadByte();
            if (b != '\n' && b != -1)
            {
                if (++length <= maxLineBytes + 1) line.WriteByte((byte)b); // one over the cap, so that a trailing '\r' is still seen
                continue;
            }
            if (b == -1 && length == 0) break;
            number++;
            var bytes = line.GetBuffer().AsSpan(0, (int)line.Length);
            if (length <= maxLineBytes + 1 && bytes.EndsWith("\r"u8)) { bytes = bytes[..^1]; length--; }
            if (length > maxLineBytes) yield return new Utf8Line(number, "", -1, length);
            else
            {
                string text;
                int bad = -1;
                try { text = strict.GetString(bytes); }
                catch (DecoderFallbackException e) { text = ""; bad = Math.Max(e.Index, 0); }
                yield return new Utf8Line(number, text, bad, length);
            }
            line.SetLength(0);
            length = 0;
        }
        while (b != -1);
    }

    static ReadOnlySpan<byte> Bom => [0xEF, 0xBB, 0xBF];
}
