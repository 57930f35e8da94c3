using System.IO.Compression;
using System.Text;

namespace Orleans.Rft.Engine.Tokenization;

/// <summary>
/// Unicode normalization forms NFC, NFD, NFKC, NFKD (UAX #15) from the Unicode Character Database
/// tables in <c>UnicodeNormalization.data.gz</c> (Unicode 15, written by
/// scripts/unicode-normalization/generate.py). Our own because the hosts run with
/// <c>InvariantGlobalization</c>, where <c>string.Normalize</c> leaves non-ASCII text unchanged —
/// and Qwen's tokenizer.json normalizes with NFC.
/// </summary>
public static class UnicodeNormalization
{
    const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7, LCount = 19, VCount = 21, TCount = 28;
    const int NCount = VCount * TCount, SCount = LCount * NCount;

    static readonly Tables tables = Load();

    /// <summary>
    /// quickCheck[form][cp]: the code point may change or interact under that form; text without one
    /// is already normalized. For the composing forms this is UAX #15 §9's quick check: the
    /// non-starters, the characters that may compose with what precedes them (NFC_QC=Maybe), and those
    /// that cannot stay as they are (NFC_QC=No: their own normalization differs from them). A
    /// precomposed letter such as "é" is NFC_QC=Yes, so ordinary accented text skips normalization
    /// (Qwen's NFC ran the full decompose-compose over every piece with an "é": a Qwen3 pass over a
    /// 4k-token chat took 0.86 ms instead of 0.52 ms once compiled, and far longer before).
    /// Declared after <see cref="tables"/>: static initializers run in order, and this one normalizes.
    /// </summary>
    static readonly HashSet<int>[] quickCheck = QuickCheckSets();

    /// <summary>Unsafe[form][cp]: the code point may change or interact under that form; text without one is already normalized.</summary>
    sealed record Tables(Dictionary<int, byte> Ccc, Dictionary<int, int[]> Canonical, Dictionary<int, int[]> Compatibility,
        Dictionary<long, int> Compose, HashSet<int>[] Unsafe);

    public static string Normalize(string text, NormalizationForm form)
    {
        bool compat = form is NormalizationForm.FormKC or NormalizationForm.FormKD;
        bool compose = form is NormalizationForm.FormC or NormalizationForm.FormKC;
        // Quick check: text without a character that decomposes, reorders or composes is left as it is.
        var unsafeSet = quickCheck[(compat ? 2 : 0) + (compose ? 1 : 0)];
        int i = 0;
        for (; i < text.Length; i++)
        {
            if (text[i] < 0xA0) continue;
            int cp = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? char.ConvertToUtf32(text[i], text[i + 1]) : text[i];
            if (unsafeSet.Contains(cp)) break;
            if (cp > 0xFFFF) i++;
        }
        if (i == text.Length) return text;
        return Full(text, compat, compose);
    }

    /// <summary>Decompose, reorder, compose: the definition, without the quick check.</summary>
    static string Full(string text, bool compat, bool compose)
    {
        var points = new List<int>(text.Length + 8);
        for (int k = 0; k < text.Length; k++)
        {
            int cp = char.IsHighSurrogate(text[k]) && k + 1 < text.Length && char.IsLowSurrogate(text[k + 1])
                ? char.ConvertToUtf32(text[k], text[++k]) : text[k];
            Decompose(cp, compat, points);
        }
        Reorder(points);
        if (compose) Compose(points);
        var sb = new StringBuilder(points.Count);
        foreach (var cp in points) sb.Append(char.ConvertFromUtf32(cp is >= 0xD800 and <= 0xDFFF ? 0xFFFD : cp));
        return sb.ToString();
    }

    /// <summary>
    /// <see cref="Tables.Unsafe"/> with, for NFC and NFKC, the starters that normalize to themselves
    /// and compose with nothing before them taken out (NFC_QC / NFKC_QC = Yes). Exact: a text of such
    /// characters has nothing to reorder, and a composition needs a second character that is a
    /// non-starter or a "Maybe" one, both still in the set.
    /// </summary>
    static HashSet<int>[] QuickCheckSets()
    {
        var maybe = new HashSet<int>(tables.Compose.Keys.Select(k => (int)(k & 0xFFFFFFFF)));
        for (int j = VBase; j < VBase + VCount; j++) maybe.Add(j);
        for (int j = TBase + 1; j < TBase + TCount; j++) maybe.Add(j);
        var sets = new HashSet<int>[4];
        for (int f = 0; f < 4; f++)
        {
            bool compat = f >= 2, compose = f % 2 == 1;
            sets[f] = tables.Unsafe[f];
            if (!compose) continue;
            var set = new HashSet<int>(tables.Unsafe[f]);
            foreach (var cp in tables.Unsafe[f])
            {
                if (Ccc(cp) != 0 || maybe.Contains(cp) || cp is >= 0xD800 and <= 0xDFFF) continue;
                var alone = char.ConvertFromUtf32(cp);
                if (Full(alone, compat, compose) == alone) set.Remove(cp);
            }
            sets[f] = set;
        }
        return sets;
    }

    static int Ccc(int cp) => tables.Ccc.TryGetValue(cp, out var c) ? c : 0;

    static void Decompose(int cp, bool compat, List<int> output)
    {
        if (cp is >= SBase and < SBase + SCount)
        {
            int s = cp - SBase;
            output.Add(LBase + s / NCount);
            output.Add(VBase + s % NCount / TCount);
            if (s % TCount != 0) output.Add(TBase + s % TCount);
            return;
        }
        if ((compat && tables.Compatibility.TryGetValue(cp, out var full)) || tables.Canonical.TryGetValue(cp, out full))
            output.AddRange(full);
        else output.Add(cp);
    }

    /// <summary>Canonical ordering: a stable sort of each run of non-starters by combining class.</summary>
    static void Reorder(List<int> points)
    {
        for (int i = 1; i < points.Count; i++)
        {
            int c = Ccc(points[i]);
            if (c == 0) continue;
            for (int j = i; j > 0 && Ccc(points[j - 1]) > c; j--) (points[j - 1], points[j]) = (points[j], points[j - 1]);
        }
    }

    /// <summary>Canonical composition (UAX #15 §1.3, the sample algorithm): a character joins the last starter unless blocked.</summary>
    static void Compose(List<int> points)
    {
        if (points.Count == 0) return;
        int starterPos = 0, starter = points[0], write = 1;
        int lastClass = Ccc(starter) == 0 ? 0 : 256; // a leading non-starter never takes a composition
        for (int read = 1; read < points.Count; read++)
        {
            int ch = points[read], chClass = Ccc(ch);
            int composite = Primary(starter, ch);
            // Not blocked: nothing kept since the starter, or everything kept since has a lower class.
            if (composite >= 0 && (lastClass < chClass || lastClass == 0))
            {
                points[starterPos] = starter = composite;
                continue;
            }
            if (chClass == 0) { starterPos = write; starter = ch; }
            lastClass = chClass;
            points[write++] = ch;
        }
        points.RemoveRange(write, points.Count - write);
    }

    static int Primary(int a, int b)
    {
        if (a is >= LBase and < LBase + LCount && b is >= VBase and < VBase + VCount)
            return SBase + ((a - LBase) * VCount + (b - VBase)) * TCount;
        if (a is >= SBase and < SBase + SCount && (a - SBase) % TCount == 0 && b is > TBase and < TBase + TCount)
            return a + (b - TBase);
        return tables.Compose.TryGetValue((long)a << 32 | (uint)b, out var c) ? c : -1;
    }

    static Tables Load()
    {
        var assembly = typeof(UnicodeNormalization).Assembly;
        var name = assembly.GetManifestResourceNames().Single(n => n.EndsWith("UnicodeNormalization.data.gz", StringComparison.Ordinal));
        using var reader = new StreamReader(new GZipStream(assembly.GetManifestResourceStream(name)!, CompressionMode.Decompress));
        var ccc = new Dictionary<int, byte>();
        var raw = new Dictionary<int, (int[] Map, bool Compat)>();
        var excluded = new HashSet<int>();
        while (reader.ReadLine() is string line)
        {
            var f = line.Split(';');
            int cp = Convert.ToInt32(f[0], 16);
            if (f[1].Length > 0) ccc[cp] = byte.Parse(f[1]);
            if (f[2].Contains('x')) excluded.Add(cp);
            if (f[3].Length > 0) raw[cp] = (f[3].Split(' ').Select(h => Convert.ToInt32(h, 16)).ToArray(), f[2].Contains('k'));
        }
        // Full decompositions: mappings applied recursively (canonical only, or canonical + compatibility).
        var canonical = new Dictionary<int, int[]>();
        var compatibility = new Dictionary<int, int[]>();
        foreach (var cp in raw.Keys)
        {
            if (!raw[cp].Compat) canonical[cp] = Expand(cp, false).ToArray();
            compatibility[cp] = Expand(cp, true).ToArray();
        }
        IEnumerable<int> Expand(int cp, bool compat)
        {
            if (cp is >= SBase and < SBase + SCount) { var l = new List<int>(); Decompose(cp, false, l); return l; }
            if (raw.TryGetValue(cp, out var m) && (compat || !m.Compat)) return m.Map.SelectMany(c => Expand(c, compat));
            return [cp];
        }
        var compose = new Dictionary<long, int>();
        foreach (var (cp, (map, compat)) in raw)
            if (!compat && map.Length == 2 && !excluded.Contains(cp)) compose[(long)map[0] << 32 | (uint)map[1]] = cp;
        // Per form (index: compat * 2 + compose): what decomposes, reorders, or may compose with what precedes it.
        var unsafeSets = new HashSet<int>[4];
        for (int f = 0; f < 4; f++)
        {
            bool k = f >= 2, c = f % 2 == 1;
            var set = new HashSet<int>(ccc.Keys);
            foreach (var (cp, (_, isCompat)) in raw) if (k || !isCompat) set.Add(cp);
            if (c)
            {
                foreach (var key in compose.Keys) set.Add((int)(key & 0xFFFFFFFF));
                for (int j = VBase; j < VBase + VCount; j++) set.Add(j);
                for (int j = TBase + 1; j < TBase + TCount; j++) set.Add(j);
            }
            else for (int j = SBase; j < SBase + SCount; j++) set.Add(j);
            unsafeSets[f] = set;
        }
        return new Tables(ccc, canonical, compatibility, compose, unsafeSets);
    }
}
