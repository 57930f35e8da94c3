namespace Orleans.Rft.Engine.Tokenization;

/// <summary>
/// GPT-2's reversible byte → printable-character map (<c>bytes_to_unicode</c> in OpenAI's
/// <c>encoder.py</c>): printable Latin-1 bytes map to themselves, the other 68 to U+0100 upwards,
/// so that byte-level BPE vocabularies are plain strings.
/// </summary>
public static class ByteLevelAlphabet
{
    static readonly char[] byteToChar = Build();
    static readonly short[] charToByte = Invert(byteToChar);

    public static char ToChar(byte b) => byteToChar[b];

    /// <summary>The byte a byte-level character stands for, or -1 when the character is not in the alphabet.</summary>
    public static int ToByte(char c) => c < charToByte.Length ? charToByte[c] : -1;

    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = byteToChar[bytes[i]];
        return new string(chars);
    }

    static char[] Build()
    {
        var map = new char[256];
        var direct = new bool[256];
        foreach (var (lo, hi) in new[] { ('!', '~'), ('¡', '¬'), ('®', 'ÿ') })
            for (int b = lo; b <= hi; b++) { map[b] = (char)b; direct[b] = true; }
        int next = 0;
        for (int b = 0; b < 256; b++)
            if (!direct[b]) map[b] = (char)(256 + next++);
        return map;
    }

    static short[] Invert(char[] map)
    {
        var inverse = new short[map.Max() + 1];
        Array.Fill(inverse, (short)-1);
        for (int b = 0; b < 256; b++) inverse[map[b]] = (short)b;
        return inverse;
    }
}
