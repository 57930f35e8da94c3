#!/usr/bin/env bash
# The test command: installs what the tests need that NuGet does not bring (Azurite, the Azure
# Storage emulator, from npm into .tools/; Debian's chromium), builds, and runs every test project.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .tools/node_modules/.bin/azurite ]; then
  npm install --no-save --no-audit --no-fund --prefix .tools azurite@3.37.0 >/dev/null
fi
export AZURITE_BIN="$PWD/.tools/node_modules/.bin/azurite"
# The dashboard's browser test drives Debian's Chromium (tests/Orleans.Rft.Dashboard.Tests; Playwright's
# driver comes from NuGet, no browser is downloaded). RFT_CHROMIUM names another binary instead.
if [ -z "${RFT_CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium; } >/dev/null 2>&1 \
    || { echo "error: could not install chromium (apt-get install -y chromium) for the dashboard's browser test" >&2; exit 1; }
fi
dotnet build Orleans.Rft.sln -c Release
log=$(mktemp)
status=0
# --blame: if a test host dies (a native crash, an exception on a thread of its own), the run names
# the test that was running instead of only "Test host process crashed".
results=$(mktemp -d)
dotnet test Orleans.Rft.sln -c Release --no-build --blame --results-directory "$results" 2>&1 | tee "$log" || status=$?
# one closing line over every test project: "N passed, N failed"
awk '/^(Passed|Failed)!/ { gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "Passed:") p += $(i+1); if ($i == "Failed:") f += $(i+1) } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
rm -rf "$log" "$results"
exit $status
