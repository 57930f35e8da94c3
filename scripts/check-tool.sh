#!/usr/bin/env bash
# Packs the console as the .NET tool Orleans.Rft.Cli, installs it into a temporary tool path (not the
# user's global tools) and runs it: --version names the build (version + git commit), and the tool's
# own TorchSharp native libraries load (model init, info and generate on a micro model). Not part of
# scripts/test.sh: packing publishes ~600 MB of libtorch and writes a ~160 MB package (about a minute
# here). Exit 0 and "tool ok" on success; the first failing step otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dotnet pack client -c Release -o "$work/nupkg" >"$work/pack.log" 2>&1 || { tail -20 "$work/pack.log"; exit 1; }
dotnet tool install --tool-path "$work/tools" --add-source "$work/nupkg" Orleans.Rft.Cli >/dev/null
rft="$work/tools/rft"
version=$("$rft" --version)
echo "rft --version: $version"
commit=$(git rev-parse HEAD 2>/dev/null || true)
if [ -n "$commit" ] && [[ "$version" != *"+$commit"* ]]; then
  echo "error: rft --version '$version' does not name the commit $commit" >&2; exit 1
fi
"$rft" model init --preset micro --out "$work/model" >/dev/null
"$rft" model info "$work/model" --json | grep -q '"parameters"' || { echo "error: rft model info printed no parameters" >&2; exit 1; }
# generate loads libtorch through TorchSharp: the native files must have come with the tool
"$rft" model generate --model "$work/model" --prompt hi --max-tokens 4 --seed 1 --device cpu >/dev/null
echo "tool ok: $(du -h "$work"/nupkg/*.nupkg | cut -f1) package, installed and ran from $work/tools"
