#!/usr/bin/env python3
"""Writes engine/Tokenization/UnicodeNormalization.data.gz, the tables UnicodeNormalization.cs reads.

The repository's hosts run with InvariantGlobalization, where .NET's string.Normalize does nothing
for non-ASCII text, so NFC/NFKC (Qwen's normalizer, NFKC variants) need their own tables.
Source: the Unicode Character Database as Debian's `unicode-data` package ships it
(apt-get install unicode-data; /usr/share/unicode). One line per code point that has data:
    CODEPOINT;CCC;FLAGS;DECOMPOSITION
hex code points; CCC the canonical combining class (0 left out); FLAGS: 'k' when the
decomposition is a compatibility one, 'x' for Full_Composition_Exclusion.
Run: python3 scripts/unicode-normalization/generate.py [UCD_DIR]
"""
import gzip, os, re, sys

ucd = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/unicode"
root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
out = os.path.join(root, "engine", "Tokenization", "UnicodeNormalization.data.gz")

def ranges(path, prop):
    with open(os.path.join(ucd, path), encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line: continue
            fields = [x.strip() for x in line.split(";")]
            if fields[1] != prop: continue
            lo, _, hi = fields[0].partition("..")
            for cp in range(int(lo, 16), int(hi or lo, 16) + 1): yield cp

excluded = set(ranges("DerivedNormalizationProps.txt", "Full_Composition_Exclusion"))
rows = {}
with open(os.path.join(ucd, "UnicodeData.txt"), encoding="utf-8") as f:
    for line in f:
        fields = line.rstrip("\n").split(";")
        cp, ccc, decomposition = int(fields[0], 16), int(fields[3]), fields[5]
        compat = decomposition.startswith("<")
        mapping = re.sub(r"^<[^>]*>\s*", "", decomposition)
        if ccc or mapping or cp in excluded:
            rows[cp] = (ccc, ("k" if compat else "") + ("x" if cp in excluded else ""), mapping)
for cp in excluded:
    rows.setdefault(cp, (0, "x", ""))
text = "".join(f"{cp:X};{ccc or ''};{flags};{mapping}\n" for cp, (ccc, flags, mapping) in sorted(rows.items()))
with open(out, "wb") as f:
    f.write(gzip.compress(text.encode("ascii"), compresslevel=9, mtime=0))
print(f"{out}: {len(rows)} code points, {os.path.getsize(out)} bytes")
