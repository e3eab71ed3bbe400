#!/usr/bin/env bash
# EvidenceApi read benchmark: our API against the reference peer (Platformatic DB) on the same database and data.
#
#   bench/run.sh              throughput: wrk, alternating targets, two rounds; cache on, then cache off vs bare Dapper
#   bench/run.sh latency      single-client latency (p50/p95) of varied queries, case report submissions, the random-effects
#                             synthesis and the forest plot (each against the request it adds to), cache off
#   bench/run.sh load         60 s of mixed traffic at 64 connections (90 % reads, 10 % submissions), then a count check
#   bench/run.sh observability  cached by-id reads: observability off, metrics only, metrics and OTLP tracing (alternating rounds)
#   bench/run.sh fhir         FHIR ResearchStudy read against /v1/studies/{id} (cache on and off), then a bulk export of everything
#   bench/run.sh warmstart    start-up to /health/ready with the embedded server on the benchmark's cluster: the first run,
#                             then BENCH_RESTARTS (7) warm restarts of the built API and 3 of README command 1 (dotnet run); medians
#
# Settings (environment): BENCH_STUDIES (1000000), BENCH_DURATION (10s), BENCH_WARMUP (20s, unrecorded, per request),
# BENCH_CONNECTIONS (32), BENCH_HOT_SET (1000 ids), BENCH_OFF_ROUNDS (5: rounds of cache off against bare, medians printed),
# BENCH_OBS_ROUNDS (5: rounds of the observability run), BENCH_OTEL_SETTINGS (extra settings of its traced instance,
# e.g. "OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.1"),
# BENCH_DB_DIR (bench/.data: a private PostgreSQL cluster; the synthetic data is generated once and reused),
# BENCH_RESTARTS (7), PEER_SCRIPT (../shared/bench/peer.sh). Everything listens on 127.0.0.1 only and stops when the script ends.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-throughput}
studies=${BENCH_STUDIES:-1000000}
duration=${BENCH_DURATION:-10s}
warmup=${BENCH_WARMUP:-20s}
connections=${BENCH_CONNECTIONS:-32}
hot=${BENCH_HOT_SET:-1000}
db_dir=${BENCH_DB_DIR:-bench/.data}
peer_script=${PEER_SCRIPT:-../shared/bench/peer.sh}
ours=http://127.0.0.1:5090
bare=http://127.0.0.1:5091
peer=http://127.0.0.1:${PEER_PORT:-3042}
results=bench/results
mkdir -p "$results"
stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
report=$results/$stamp-$mode.md

command -v wrk >/dev/null || { echo "installing wrk"; apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

echo "== building (Release)"
dotnet build -c Release -v quiet -nologo src/EvidenceApi/EvidenceApi.csproj >/dev/null
dotnet build -c Release -v quiet -nologo bench/EvidenceApi.Bench/EvidenceApi.Bench.csproj >/dev/null
tool=bench/EvidenceApi.Bench/bin/Release/net10.0/EvidenceApi.Bench
api_dll=src/EvidenceApi/bin/Release/net10.0/EvidenceApi.dll

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  "$peer_script" stop 2>/dev/null || true
  "$tool" db-stop "$db_dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "== database"
cs=$("$tool" db-start "$db_dir")
echo "$cs"
"$tool" generate "$cs" "$studies"
port=$(sed -E 's/.*Port=([0-9]+).*/\1/' <<<"$cs")
password=$(sed -E 's/.*Password=([^;]+).*/\1/' <<<"$cs") # hexadecimal: safe in a URL
pg_url="postgres://evidence:$password@127.0.0.1:$port/evidence_bench"

wait_for() { for _ in $(seq 1 600); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.5; done; echo "no answer from $1" >&2; return 1; }

start_api() { # $1 = cache on|off
  ConnectionStrings__Evidence="$cs" Database__SeedOnStartup=false ReadCache__Enabled=$([ "$1" = on ] && echo true || echo false) \
    Protection__WritesPerMinute=${BENCH_WRITES_PER_MINUTE:-1000000} Protection__ExpensiveReadsPerMinute=${BENCH_EXPENSIVE_READS_PER_MINUTE:-1000000} \
    Logging__LogLevel__Default=Warning urls=$ours dotnet "$api_dll" >"$results/api-$1.log" 2>&1 &
  api_pid=$!
  pids+=("$api_pid")
  wait_for "$ours/health/ready"
}

stop_api() { kill "$api_pid"; wait "$api_pid" 2>/dev/null || true; }

hot_first() { curl -fs "$ours/v1/studies?sort=id&limit=1&fields=id&includeTotal=false" | sed -E 's/.*"id":([0-9]+).*/\1/'; }

declare -A ours_rps=() ratios=()

# median: the median of the numbers on stdin (separated by spaces or lines; "-" skipped), or "-" when there are none
median() {
  tr ' ' '\n' | grep -v '^-*$' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# median_ratios TARGET: one line per request, the median of its ours/TARGET ratios over the rounds run so far
median_ratios() {
  local key
  for key in "${!ratios[@]}"; do
    [[ $key == *" vs $1" ]] || continue
    printf '| %s | %s | %s |\n' "${key% vs *}" "$(median <<<"${ratios[$key]}")" "${ratios[$key]% }"
  done | sort | tee -a "$report"
}

# warm NAME TARGET URL [lua args...]: the same request, unrecorded, so that JIT and caches are warm before measuring
warm() {
  local url=$3; shift 3
  if [ $# -gt 0 ]; then
    wrk -t2 -c"$connections" -d"$warmup" -s bench/wrk/random-id.lua "$url" -- "$@" >/dev/null 2>&1 || true
  else
    wrk -t2 -c"$connections" -d"$warmup" "$url" >/dev/null 2>&1 || true
  fi
}

# wrk_stats URL [lua args...]: one recorded wrk run; prints "req/s p50 p99 errors"
wrk_stats() {
  local url=$1; shift
  local out
  if [ $# -gt 0 ]; then
    out=$(wrk -t2 -c"$connections" -d"$duration" --latency -s bench/wrk/random-id.lua "$url" -- "$@" 2>&1)
  else
    out=$(wrk -t2 -c"$connections" -d"$duration" --latency "$url" 2>&1)
  fi
  echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1 == "50%" {print $2}' <<<"$out") $(awk '$1 == "99%" {print $2}' <<<"$out")" \
    "$(awk '/Non-2xx/ {n += $5} /Socket errors/ {gsub(",", ""); n += $4 + $6 + $8 + $10} END {print n + 0}' <<<"$out")"
}

# run NAME TARGET URL [lua args...]: one wrk run, one table row
run() {
  local name=$1 target=$2; shift 2
  local rps p50 p99 errors
  read -r rps p50 p99 errors < <(wrk_stats "$@")
  # ours/target: our req/s for the same request in this round against this target's
  local ratio=-
  if [ "$target" = ours ]; then
    ours_rps[$name]=$rps
  elif [ -n "${ours_rps[$name]:-}" ]; then
    ratio=$(awk -v a="${ours_rps[$name]}" -v b="$rps" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
    ratios["$name vs $target"]+="$ratio "
  fi
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$target" "$rps" "$p50" "$p99" "$errors" "$ratio" | tee -a "$report"
}

sample_memory() { # max RSS of our API in MB, sampled every 0.5 s until stopped
  local max=0 rss
  while kill -0 "$api_pid" 2>/dev/null; do
    rss=$(ps -o rss= -p "$api_pid" 2>/dev/null | tr -d ' ' || echo 0)
    [ -n "$rss" ] && [ "$rss" -gt "$max" ] && max=$rss && echo $((max / 1024)) >"$results/memory.txt"
    sleep 0.5
  done
}

# seconds_until_ready PID: from now until /health/ready answers 200 (polled every 50 ms), or fails if PID exits first
seconds_until_ready() {
  local start now
  start=$(date +%s%N)
  until curl -fs "$ours/health/ready" >/dev/null 2>&1; do
    kill -0 "$1" 2>/dev/null || { echo "the API exited before it was ready" >&2; return 1; }
    sleep 0.05
  done
  now=$(date +%s%N)
  awk -v ns=$((now - start)) 'BEGIN { printf "%.2f", ns / 1e9 }'
}

# timed_start LABEL COMMAND...: starts the API with the embedded server on the benchmark's cluster, prints the seconds
# until it was ready, and stops it (SIGTERM, as a service manager does; it stops the server it started)
timed_start() {
  local label=$1; shift
  Database__DataDirectory="$db_dir" ConnectionStrings__Evidence= Logging__LogLevel__Default=Warning urls=$ours \
    "$@" >>"$results/warmstart-api.log" 2>&1 &
  local pid=$! seconds
  seconds=$(seconds_until_ready "$pid")
  # dotnet run starts the API as its child: stop the child first, then the parent
  for child in $(pgrep -P "$pid" || true); do kill -TERM "$child" 2>/dev/null || true; done
  kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  while curl -fs "$ours/health/live" >/dev/null 2>&1; do sleep 0.1; done
  echo "$label $seconds"
}

if [ "$mode" = warmstart ]; then
  restarts=${BENCH_RESTARTS:-7}
  dotnet build -v quiet -nologo src/EvidenceApi/EvidenceApi.csproj >/dev/null # README command 1 builds Debug
  "$tool" db-stop "$db_dir" >/dev/null
  : >"$results/warmstart-api.log"
  first=$(timed_start first dotnet "$api_dll" | awk '{print $2}')
  warm=$(for _ in $(seq 1 "$restarts"); do timed_start warm dotnet "$api_dll"; done | awk '{print $2}')
  run=$(for _ in 1 2 3; do timed_start run dotnet run --project src/EvidenceApi; done | awk '{print $2}')
  {
    echo "# Start-up to /health/ready, $(date -u +%F), embedded server on a cluster holding $studies benchmark studies, $(nproc) cores"
    echo
    echo "| start | median s | runs (s) |"
    echo "|---|---:|---|"
    echo "| first start in this run (creates, migrates and seeds the evidence database when the cluster has none) | $first | $first |"
    echo "| warm restart, built API (dotnet EvidenceApi.dll, as a service runs it) | $(median <<<"$warm") | $(tr '\n' ' ' <<<"$warm")|"
    echo "| warm restart, README command 1 (dotnet run: MSBuild's up-to-date check first) | $(median <<<"$run") | $(tr '\n' ' ' <<<"$run")|"
    echo
    echo "Target: a warm restart under 3 s. The API's own steps are in $results/warmstart-api.log."
  } | tee "$report"
  exit 0
fi

if [ "$mode" = load ]; then
  start_api on
  {
    echo "# Mixed load, $(date -u +%F), $studies studies, ${BENCH_LOAD_SECONDS:-60} s at ${BENCH_LOAD_CONNECTIONS:-64} connections"
    echo
    "$tool" load "$ours" "${BENCH_LOAD_SECONDS:-60}" "${BENCH_LOAD_CONNECTIONS:-64}" "$cs"
  } | tee "$report"
  exit "${PIPESTATUS[0]}"
fi

if [ "$mode" = latency ]; then
  start_api off
  {
    echo "# Single-client latency, $(date -u +%F), $studies studies, cache off"
    echo
    "$tool" latency "$ours" "${BENCH_SAMPLES:-300}" "$cs"
  } | tee "$report"
  exit 0
fi

if [ "$mode" = observability ]; then
  # Three instances of the API side by side on the same data, each loaded in turn with the cached by-id read:
  # observability off, metrics only (the default: /metrics on, no OTLP), and metrics plus every request traced and
  # exported over OTLP to a sink. The order rotates each round, so no instance always runs first.
  sink=http://127.0.0.1:5093
  pids+=("$("$tool" otlp-sink "$sink" >"$results/otlp-sink.log" 2>&1 & echo $!)")
  wait_for "$sink/counts"
  declare -A target=([off]=$ours [metrics]=$bare [traced]=http://127.0.0.1:5092)
  start_variant() { # NAME [settings...]
    local name=$1; shift
    env ConnectionStrings__Evidence="$cs" Database__SeedOnStartup=false Logging__LogLevel__Default=Warning \
      urls="${target[$name]}" "$@" dotnet "$api_dll" >"$results/api-$name.log" 2>&1 &
    pids+=($!)
    wait_for "${target[$name]}/health/ready"
  }
  start_variant off Observability__Metrics__Enabled=false
  start_variant metrics
  start_variant traced OTEL_EXPORTER_OTLP_ENDPOINT="$sink" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf ${BENCH_OTEL_SETTINGS:-}
  first=$(hot_first)
  variants=(off metrics traced)
  rounds=${BENCH_OBS_ROUNDS:-5}
  {
    echo "# Observability overhead, $(date -u +%F), $studies studies, cached study by id (hot set of $hot), wrk -t2 -c$connections -d$duration, $rounds rounds, $(nproc) cores"
    echo
    echo "| round | instance | req/s | p50 | p99 | errors |"
    echo "|---|---|---:|---:|---:|---:|"
  } | tee "$report"
  for v in "${variants[@]}"; do warm "study by id" "$v" "${target[$v]}" /v1/studies/ "$first" "$hot"; done
  declare -A rps_of=() ratio_of=()
  for round in $(seq 1 "$rounds"); do
    declare -A this=()
    for i in 0 1 2; do
      v=${variants[$(((i + round) % 3))]}
      read -r rps p50 p99 errors < <(wrk_stats "${target[$v]}" /v1/studies/ "$first" "$hot")
      this[$v]=$rps
      rps_of[$v]+="$rps "
      printf '| %s | %s | %s | %s | %s | %s |\n' "$round" "$v" "$rps" "$p50" "$p99" "$errors" | tee -a "$report"
    done
    for v in metrics traced; do
      ratio_of[$v]+="$(awk -v a="${this[$v]}" -v b="${this[off]}" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }') "
    done
  done
  off_median=$(median <<<"${rps_of[off]}")
  {
    echo
    echo "Medians over $rounds rounds; ratio to off: of the medians, and the median of each round's own ratio (need: 0.90 or more)."
    echo
    echo "| instance | median req/s | median / off | median of round ratios | round ratios |"
    echo "|---|---:|---:|---:|---|"
    for v in "${variants[@]}"; do
      m=$(median <<<"${rps_of[$v]}")
      printf '| %s | %s | %s | %s | %s |\n' "$v" "$m" "$(awk -v a="$m" -v b="$off_median" 'BEGIN { printf "%.3f", a / b }')" \
        "$([ "$v" = off ] && echo 1 || median <<<"${ratio_of[$v]}")" "${ratio_of[$v]:-}"
    done
    echo
    # What the instances saw, to show the instrumentation was really at work during the rounds.
    echo "metrics instance: $(curl -fs "${target[metrics]}/metrics" | grep -E '^evidence_read_cache_lookups_total' | tr '\n' ' ')"
    echo "traced instance: $(curl -fs "${target[traced]}/metrics" | grep -E '^evidence_read_cache_lookups_total' | tr '\n' ' ')"
    echo "OTLP sink received: $(curl -fs "$sink/counts")"
    echo "off instance /metrics: HTTP $(curl -s -o /dev/null -w '%{http_code}' "${target[off]}/metrics")"
  } | tee -a "$report"
  echo
  echo "Report: $report"
  exit 0
fi

if [ "$mode" = fhir ]; then
  # req/s of one wrk run: rps URL [lua args...]
  rps() {
    local url=$1; shift
    if [ $# -gt 0 ]; then
      wrk -t2 -c"$connections" -d"$duration" -s bench/wrk/random-id.lua "$url" -- "$@" 2>&1 | awk '/Requests\/sec/ {print $2}'
    else
      wrk -t2 -c"$connections" -d"$duration" "$url" 2>&1 | awk '/Requests\/sec/ {print $2}'
    fi
  }
  {
    echo "# FHIR facade, $(date -u +%F), $studies studies, wrk -t2 -c$connections -d$duration, $(nproc) cores"
    echo
    echo "Study by id from a hot set of $hot: /v1/studies/{id} against /fhir/ResearchStudy/{id}, alternating, ${BENCH_FHIR_ROUNDS:-3} rounds each."
    echo "Targets: FHIR/v1 at least 0.90 with the cache on, at least 0.50 with it off."
    echo
    echo "| cache | round | /v1 req/s | FHIR req/s | FHIR/v1 |"
    echo "|---|---:|---:|---:|---:|"
  } | tee "$report"
  for cache in on off; do
    start_api "$cache"
    first=$(hot_first)
    for warm_url in /v1/studies/ /fhir/ResearchStudy/; do warm x ours "$ours" "$warm_url" "$first" "$hot"; done
    ratios_list=""
    for round in $(seq 1 "${BENCH_FHIR_ROUNDS:-3}"); do
      v1=$(rps "$ours" /v1/studies/ "$first" "$hot")
      fhir=$(rps "$ours" /fhir/ResearchStudy/ "$first" "$hot")
      ratio=$(awk -v a="$fhir" -v b="$v1" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
      ratios_list+="$ratio "
      echo "| $cache | $round | $v1 | $fhir | $ratio |" | tee -a "$report"
    done
    echo "| $cache | median | | | $(tr ' ' '\n' <<<"$ratios_list" | grep -v '^-*$' | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }') |" | tee -a "$report"
    if [ "$cache" = off ]; then break; fi
    stop_api
  done

  # Bulk export of everything, from the API started with the cache off: time, resources/s and the API's peak memory.
  rm -f "$results/memory.txt"
  sample_memory & pids+=($!)
  # CPU seconds the API spends (user + system), which a busy shared machine does not inflate as it does wall time.
  cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$api_pid/stat"; }
  cpu_before=$(cpu_seconds)
  started=$(date +%s.%N)
  location=$(curl -fsS -D - -o /dev/null -H 'Prefer: respond-async' -H 'Accept: application/fhir+json' "$ours/fhir/\$export" \
    | awk 'tolower($1) == "content-location:" { sub("\r", "", $2); print $2 }')
  while :; do
    code=$(curl -s -o "$results/manifest.json" -w '%{http_code}' "$location")
    [ "$code" = 200 ] && break
    [ "$code" = 202 ] || { echo "export failed with $code: $(cat "$results/manifest.json")" >&2; exit 1; }
    sleep 1
  done
  exported=$(date +%s.%N)
  cpu_export=$(awk -v a="$(cpu_seconds)" -v b="$cpu_before" 'BEGIN { printf "%.1f", a - b }')
  total=$(grep -o '"count":[0-9]*' "$results/manifest.json" | awk -F: '{ n += $2 } END { print n }')
  bytes=0
  for url in $(grep -o '"url":"[^"]*"' "$results/manifest.json" | cut -d'"' -f4); do
    bytes=$((bytes + $(curl -fsS "$url" | wc -c)))
  done
  downloaded=$(date +%s.%N)
  {
    echo
    echo "Bulk export of every resource type:"
    echo
    echo "| resources | export s | resources/s | API CPU s (resources per CPU s) | download s (uncompressed MB) | API max RSS MB |"
    echo "|---:|---:|---:|---:|---:|---:|"
    awk -v n="$total" -v s="$started" -v e="$exported" -v d="$downloaded" -v b="$bytes" -v c="$cpu_export" -v m="$(cat "$results/memory.txt" 2>/dev/null || echo ?)" \
      'BEGIN { printf "| %d | %.1f | %.0f | %.1f (%.0f) | %.1f (%.0f) | %s |\n", n, e - s, n / (e - s), c, (c > 0 ? n / c : 0), d - e, b / 1048576, m }'
    echo
    grep -o '"type":"[^"]*","url":"[^"]*","count":[0-9]*' "$results/manifest.json" | sed -E 's/"type":"([^"]*)".*"count":([0-9]*)/- \1: \2/'
  } | tee -a "$report"
  curl -fsS -X DELETE "$location" >/dev/null
  echo
  echo "Report: $report"
  exit 0
fi

echo "== peer"
"$peer_script" "$pg_url" >/dev/null
# The bare baseline runs with the API's garbage collector settings (workstation, not concurrent), so only the code differs.
pids+=("$(DOTNET_gcServer=0 DOTNET_gcConcurrent=0 "$tool" bare "$cs" "$bare" >"$results/bare.log" 2>&1 & echo $!)")
wait_for "$peer/studies?limit=1"
wait_for "$bare/bare/outcomes?studyId=1"

start_api on
first=$(hot_first)
echo "hot set: study ids $first .. $((first + hot - 1))"
page_ours="$ours/v1/studies?condition=psoriasis&design=case_report&sort=-participants&limit=20&includeTotal=false"
page_peer="$peer/studies?where.condition.eq=psoriasis&where.design.eq=case_report&orderby.participants=desc&limit=20"
page_bare="$bare/bare/studies?condition=psoriasis&design=case_report"

{
  echo "# Throughput, $(date -u +%F), $studies studies, wrk -t2 -c$connections -d$duration, $(nproc) cores shared by wrk, PostgreSQL and the servers"
  echo
  echo "## Cache on: ours against the peer (two rounds, alternating)"
  echo
  echo "| request | target | req/s | p50 | p99 | errors | ours/target |"
  echo "|---|---|---:|---:|---:|---:|---:|"
} | tee "$report"

cache_on_requests() { # $1 = warm | run
  "$1" "study by id" ours "$ours" /v1/studies/ "$first" "$hot"
  "$1" "study by id" peer "$peer" /studies/ "$first" "$hot"
  "$1" "filtered page of 20" ours "$page_ours"
  "$1" "filtered page of 20" peer "$page_peer"
  "$1" "outcomes of a study" ours "$ours" "/v1/outcomes?includeTotal=false&studyId=" "$first" "$hot"
  "$1" "outcomes of a study" peer "$peer" "/outcomes?where.studyId.eq=" "$first" "$hot"
  "$1" "free-text search" ours "$ours/v1/studies?q=remission%20infusion&limit=20&includeTotal=false"
  "$1" "synthesis" ours "$ours/v1/synthesis?measure=pasi_75&condition=psoriasis&cellSource=umbilical_cord&route=intravenous"
}

cache_on_requests warm
sample_memory & pids+=($!)
for round in 1 2; do cache_on_requests run; done
echo "| API memory (max RSS under load) | ours | $(cat "$results/memory.txt" 2>/dev/null || echo ?) MB | | | | |" | tee -a "$report"
stop_api

{
  echo
  echo "## Cache off: ours against a bare Dapper query of the same rows"
  echo
  echo "| request | target | req/s | p50 | p99 | errors | ours/target |"
  echo "|---|---|---:|---:|---:|---:|---:|"
} | tee -a "$report"
cache_off_requests() { # $1 = warm | run
  "$1" "study by id" ours "$ours" /v1/studies/ "$first" "$hot"
  "$1" "study by id" bare "$bare" /bare/studies/ "$first" "$hot"
  "$1" "filtered page of 20" ours "$page_ours"
  "$1" "filtered page of 20" bare "$page_bare"
  "$1" "outcomes of a study" ours "$ours" "/v1/outcomes?includeTotal=false&studyId=" "$first" "$hot"
  "$1" "outcomes of a study" bare "$bare" "/bare/outcomes?studyId=" "$first" "$hot"
  "$1" "study by id" peer "$peer" /studies/ "$first" "$hot"
  "$1" "filtered page of 20" peer "$page_peer"
}

start_api off
cache_off_requests warm
ratios=()
for round in $(seq 1 "${BENCH_OFF_ROUNDS:-5}"); do cache_off_requests run; done
{
  echo
  echo "Median of ours/bare over ${BENCH_OFF_ROUNDS:-5} alternating rounds (single rounds on a shared machine vary by up to 20 %):"
  echo
  echo "| request | median ours/bare | per round |"
  echo "|---|---:|---|"
} | tee -a "$report"
median_ratios bare
echo
echo "Report: $report"
