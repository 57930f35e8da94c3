using System.Text;
using Orleans.Rft.Engine.Tokenization;

namespace Orleans.Rft.Engine.Tests;

/// <summary>
/// NFC/NFKC skip text whose characters are all NFC_QC=Yes starters (UAX #15 §9), so chat text with
/// "é" is not decomposed and recomposed on every encode; the skip must never change a result.
/// </summary>
public sealed class UnicodeQuickCheckTests
{
    /// <summary>Precomposed letters are already NFC: the text comes back as it is, not rebuilt (the full path took 10 ms per 4k-token chat).</summary>
    [Fact]
    public void Nfc_of_text_with_precomposed_letters_returns_the_text_itself()
    {
        var text = string.Concat(Enumerable.Repeat("Les élèves übten à Zürich, ñandú, Ångström. ", 50));
        Assert.Same(text, UnicodeNormalization.Normalize(text, NormalizationForm.FormC));
        Assert.Same(text, UnicodeNormalization.Normalize(text, NormalizationForm.FormKC));
        // A following combining mark still composes: "e" + U+0301 → "é"; "é" + U+0301 stays two.
        Assert.Equal("\u00E9", UnicodeNormalization.Normalize("e\u0301", NormalizationForm.FormC));
        Assert.Equal("\u00E9\u0301", UnicodeNormalization.Normalize("\u00E9\u0301", NormalizationForm.FormC));
    }

    /// <summary>
    /// For every code point of the planes with assigned characters (0–3, 14), alone and before combining marks of several classes, NFC(x) = NFC(NFD(x))
    /// and NFKC(x) = NFKC(NFKD(x)) (UAX #15's definitions): the decomposed input never takes the
    /// quick check's shortcut, so a character wrongly skipped would show as a difference.
    /// </summary>
    [Fact]
    public void Quick_check_agrees_with_the_full_algorithm_for_every_code_point()
    {
        string[] followers = ["", "\u0301", "\u0308", "\u0327", "\u0323\u0302", "\u05B0", "\u093C", "\u3099", "\u1161", "\u11A8", "a"];
        int checkedCount = 0;
        for (int cp = 0; cp <= 0xEFFFF; cp++)
        {
            if (cp is >= 0xD800 and <= 0xDFFF) continue;
            if (cp == 0x40000) cp = 0xE0000;
            var c = char.ConvertFromUtf32(cp);
            foreach (var f in followers)
            {
                var s = c + f;
                var nfc = UnicodeNormalization.Normalize(s, NormalizationForm.FormC);
                if (nfc != UnicodeNormalization.Normalize(UnicodeNormalization.Normalize(s, NormalizationForm.FormD), NormalizationForm.FormC))
                    Assert.Fail($"NFC of U+{cp:X4}{f}: quick check and full algorithm differ");
                var nfkc = UnicodeNormalization.Normalize(s, NormalizationForm.FormKC);
                if (nfkc != UnicodeNormalization.Normalize(UnicodeNormalization.Normalize(s, NormalizationForm.FormKD), NormalizationForm.FormKC))
                    Assert.Fail($"NFKC of U+{cp:X4}{f}: quick check and full algorithm differ");
                checkedCount++;
            }
        }
        Assert.True(checkedCount > 3_000_000);
    }
}
