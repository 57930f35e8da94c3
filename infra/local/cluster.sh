#!/usr/bin/env bash
# A local multi-process Orleans.Rft cluster on this machine, configured as production is: Azure Table
# membership, grain state and reminders, Blob artifacts — all on Azurite (the Azure Storage emulator)
# — and one silo process per `up`/`add`, each on its own loopback ports. State, logs and pids under
# .rft/cluster/ (RFT_CLUSTER_DIR). Usage:
#   infra/local/cluster.sh up N      start Azurite and N silos (N ≥ 1), print their ports
#   infra/local/cluster.sh add       start one more silo
#   infra/local/cluster.sh stop ID   SIGTERM silo ID: it drains (jobs move its ranks and rollouts), then exits
#   infra/local/cluster.sh kill ID   kill -9 silo ID (no drain: its jobs recover from their last checkpoint)
#   infra/local/cluster.sh status    silos, pids, ports, alive or not
#   infra/local/cluster.sh down      SIGTERM every silo (drains), then stop Azurite; logs stay
# Environment: RFT_CLUSTER_DIR (default .rft/cluster), AZURITE_BIN, RFT_SILO_DLL (default
# silo/bin/Release/net10.0/rft-silo.dll, built if missing), RFT_DEVICES (default cpu), and any Rft__*
# variable passes through to the silos (e.g. Rft__ApiKeys__0=… to require an API key).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="${RFT_CLUSTER_DIR:-$root/.rft/cluster}"
dll="${RFT_SILO_DLL:-$root/silo/bin/Release/net10.0/rft-silo.dll}"
ready_timeout=120
drain_timeout=160 # the silo's drain (120 s) plus Orleans' own shutdown

die() { echo "cluster.sh: $*" >&2; exit 2; }
usage() { die "usage: cluster.sh up N | add | stop ID | kill ID | status | down"; }
pid_alive() { kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]; } # a zombie is dead
# A pid file names our process only while that pid still runs our program (Azurite, or the silo's dll): once
# the process is gone the system may give its pid to anything else, which must never be signalled.
ours() { pid_alive "$1" && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"; }
alive() { [ -f "$1" ] && if [ "${1##*/}" = azurite.pid ]; then ours "$(cat "$1")" azurite; else ours "$(cat "$1")" "${dll##*/}"; fi; }
free_port() { /usr/bin/env python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

azurite_bin() {
  if [ -n "${AZURITE_BIN:-}" ]; then [ -x "$AZURITE_BIN" ] || die "AZURITE_BIN=$AZURITE_BIN is not an executable"; echo "$AZURITE_BIN"; return; fi
  if [ ! -x "$root/.tools/node_modules/.bin/azurite" ]; then
    command -v npm >/dev/null || die "Azurite is not installed and npm is missing: install Node.js/npm, or set AZURITE_BIN"
    echo "installing azurite@3.37.0 into .tools/ (once)…" >&2
    npm install --no-save --no-audit --no-fund --prefix "$root/.tools" azurite@3.37.0 >/dev/null
  fi
  echo "$root/.tools/node_modules/.bin/azurite"
}

start_azurite() {
  local blob queue table
  blob=$(free_port); queue=$(free_port); table=$(free_port)
  mkdir -p "$dir/azurite"
  # -l: data on disk, so the cluster's state outlives a restart of Azurite itself (not only of silos)
  "$(azurite_bin)" --blobHost 127.0.0.1 --blobPort "$blob" --queueHost 127.0.0.1 --queuePort "$queue" --tableHost 127.0.0.1 --tablePort "$table" \
    -l "$dir/azurite" --skipApiVersionCheck --disableTelemetry --loose --silent >"$dir/azurite.log" 2>&1 &
  echo $! >"$dir/azurite.pid"
  local key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==" # Azurite's public development key
  echo "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;BlobEndpoint=http://127.0.0.1:$blob/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$queue/devstoreaccount1;TableEndpoint=http://127.0.0.1:$table/devstoreaccount1;" >"$dir/connection-string"
  for _ in $(seq 1 120); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$blob") 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$table") 2>/dev/null; then return 0; fi
    alive "$dir/azurite.pid" || die "Azurite exited: $(tail -5 "$dir/azurite.log")"
    sleep 0.5
  done
  die "Azurite did not listen on 127.0.0.1:$blob/$table within 60 s (log: $dir/azurite.log)"
}

ensure_silo_built() {
  [ -f "$dll" ] && return
  [ -n "${RFT_SILO_DLL:-}" ] && die "RFT_SILO_DLL=$dll does not exist"
  echo "building the silo (dotnet build silo -c Release)…" >&2
  dotnet build "$root/silo" -c Release >"$dir/build.log" 2>&1 || die "the silo did not build; see $dir/build.log"
}

start_silo() {
  local id=$1 silo gateway http log
  silo=$(free_port); gateway=$(free_port); http=$(free_port)
  log="$dir/silo-$id.log"
  (
    cd "$(dirname "$dll")" # appsettings.json beside the assembly; the environment overrides it
    export Rft__Clustering=azure Rft__Storage=azure Rft__Artifacts=blob
    Rft__AzureStorageConnectionString="$(cat "$dir/connection-string")"; export Rft__AzureStorageConnectionString
    export Rft__ClusterId=rft-local Rft__ServiceId=rft-local Rft__ArtifactsContainer=rft-local
    export Rft__SiloPort="$silo" Rft__GatewayPort="$gateway" Rft__HttpPort="$http" Rft__Devices="${RFT_DEVICES:-cpu}"
    # one machine: jobs may name models and data by local path (a real cluster uploads them: rft … --url)
    export Rft__AllowLocalPaths="${Rft__AllowLocalPaths:-true}"
    export Rft__ArtifactCachePath="$dir/cache-$id" DOTNET_CLI_TELEMETRY_OPTOUT=1
    exec dotnet "$dll" >>"$log" 2>&1
  ) &
  local pid=$!
  echo "$pid" >"$dir/silo-$id.pid"
  echo "silo_port=$silo gateway_port=$gateway http_port=$http" >"$dir/silo-$id.ports"
  for _ in $(seq 1 $((ready_timeout * 2))); do
    if grep -q "^rft-silo ready:" "$log" 2>/dev/null; then
      echo "silo $id: pid $pid, silo port $silo, gateway port $gateway, http http://127.0.0.1:$http (log $log)"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || die "silo $id exited before it was ready: $(tail -20 "$log")"
    sleep 0.5
  done
  die "silo $id was not ready within $ready_timeout s (log: $log)"
}

silo_ids() { for f in "$dir"/silo-*.pid; do [ -e "$f" ] || continue; f=${f##*/silo-}; echo "${f%.pid}"; done | sort -n; }

stop_pid() { # SIGTERM, wait for the drain, then SIGKILL
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 $((drain_timeout * 2))); do pid_alive "$pid" || return 0; sleep 0.5; done
  echo "pid $pid still running after $drain_timeout s: kill -9" >&2
  kill -KILL "$pid" 2>/dev/null || true
}

check_id() { [[ "${1:-}" =~ ^[0-9]+$ ]] || die "silo ID must be a number (see cluster.sh status), got '${1:-}'"; [ -f "$dir/silo-$1.pid" ] || die "no silo $1 (see cluster.sh status)"; }

cmd=${1:-}; [ -n "$cmd" ] || usage
case "$cmd" in
  up)
    n=${2:-}; [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "up needs the number of silos (≥ 1), got '${n}'"
    mkdir -p "$dir"
    alive "$dir/azurite.pid" && die "a cluster is up already ($dir): use add, or down first"
    rm -f "$dir"/silo-*.pid "$dir"/silo-*.ports
    ensure_silo_built
    start_azurite
    echo "azurite: pid $(cat "$dir/azurite.pid"), connection string in $dir/connection-string"
    for i in $(seq 1 "$n"); do start_silo "$i"; done
    echo "clients: rft … --url http://127.0.0.1:<http port> (or the Orleans gateway: cluster rft-local, Azure Table membership)"
    ;;
  add)
    alive "$dir/azurite.pid" || die "no cluster is up ($dir): run cluster.sh up N first"
    ensure_silo_built
    last=$(silo_ids | tail -1); start_silo $(( ${last:-0} + 1 ))
    ;;
  stop)
    check_id "${2:-}"
    alive "$dir/silo-$2.pid" || { echo "silo $2 is not running (see cluster.sh status)"; exit 0; }
    stop_pid "$(cat "$dir/silo-$2.pid")"; echo "silo $2 stopped (drain in $dir/silo-$2.log)" ;;
  kill)
    check_id "${2:-}"; pid=$(cat "$dir/silo-$2.pid")
    alive "$dir/silo-$2.pid" || { echo "silo $2 is not running (see cluster.sh status)"; exit 0; }
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do pid_alive "$pid" || break; sleep 0.25; done # a big process takes a moment to go
    echo "silo $2 killed (SIGKILL)"
    ;;
  status)
    if alive "$dir/azurite.pid"; then echo "azurite: up (pid $(cat "$dir/azurite.pid"))"; else echo "azurite: down"; fi
    for id in $(silo_ids); do
      state=dead; alive "$dir/silo-$id.pid" && state=up
      echo "silo $id: $state, pid $(cat "$dir/silo-$id.pid"), $(cat "$dir/silo-$id.ports" 2>/dev/null)"
    done
    ;;
  down)
    for id in $(silo_ids); do alive "$dir/silo-$id.pid" && stop_pid "$(cat "$dir/silo-$id.pid")" & done
    wait
    if alive "$dir/azurite.pid"; then
      pid=$(cat "$dir/azurite.pid"); kill -TERM "$pid"
      for _ in $(seq 1 40); do pid_alive "$pid" || break; sleep 0.25; done # gone before `up` may start another on the same data
      pid_alive "$pid" && { echo "azurite (pid $pid) still running after 10 s: kill -9" >&2; kill -KILL "$pid" 2>/dev/null || true; }
    fi
    rm -f "$dir"/*.pid
    echo "cluster down (logs in $dir)"
    ;;
  *) usage ;;
esac
