#!/usr/bin/env bash
# The API contract: schemathesis (PyPI) against /api/openapi.json of `yiwang serve --demo`, once
# anonymous and once with the demo applicant's session. Every check, every answer (status codes,
# content types, bodies) must be the documented one. Version, checks, seed and example count are
# pinned here so a run is reproducible; about two minutes on two cores.
#
# Usage: .ci/schemathesis.sh [path to the yiwang binary]   (default: build it, debug profile)
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
CHECKS=all
SEED=1313
MAX_EXAMPLES=100
PHASES=examples,coverage,fuzzing

bin=${1:-}
if [ -z "$bin" ]; then
  cargo build -p yiwang --bin yiwang
  bin="${CARGO_TARGET_DIR:-target}/debug/yiwang"
fi

work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# A virtual environment of our own, reused between runs (pip caches the wheels).
venv="${SCHEMATHESIS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/yiwang-schemathesis-$SCHEMATHESIS_VERSION}"
if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi

# A free loopback port, a fresh data directory, the demo data set.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
base="http://127.0.0.1:$port"
YIWANG_DATA_DIR="$work/data" YIWANG_DATABASE_URL="sqlite://$work/yiwang.db" \
  "$bin" serve --demo --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 120); do
  curl -fsS "$base/api/openapi.json" -o /dev/null 2>/dev/null && break
  if ! kill -0 "$server" 2>/dev/null; then cat "$work/server.log"; exit 1; fi
  sleep 1
done

# The demo applicant signs in through the login form (no second factor is enrolled for the demo
# account; if the answer asks for a code, the run stops here and says so).
jar="$work/cookies"
answer=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -c "$jar" \
  --data-urlencode "id_number=12011219800101002X" --data-urlencode "password=Yiwang-Demo-2026" \
  --data-urlencode "next=/me" "$base/login")
case "$answer" in
  "303 "*/login/code*) echo "the demo applicant needs a one-time code to sign in: $answer"; exit 1 ;;
  "303 "*) ;;
  *) echo "demo applicant sign-in failed: $answer"; exit 1 ;;
esac
cookie=$(awk '$6 ~ /yw_app$/ { print $6 "=" $7 }' "$jar")
if [ -z "$cookie" ]; then echo "no applicant session cookie after sign-in"; exit 1; fi

run() {
  local label=$1
  shift
  echo "== schemathesis $SCHEMATHESIS_VERSION, $label: checks=$CHECKS seed=$SEED max-examples=$MAX_EXAMPLES"
  # One worker: with two, hypothesis' lambda-source cache (not thread-safe) now and then raised a
  # KeyError inside schemathesis itself, an error of the tool and not of the API.
  # NUL bytes are refused everywhere with a documented 400 before any handler runs (PostgreSQL
  # cannot store them); generating them would only test that one layer again and again.
  "$venv/bin/st" --config-file .ci/schemathesis.toml run "$base/api/openapi.json" \
    --checks "$CHECKS" --seed "$SEED" --max-examples "$MAX_EXAMPLES" --phases "$PHASES" \
    --workers 1 --no-color --suppress-health-check all --generation-database none \
    --generation-allow-x00 false \
    --report junit --report-dir "$work/report-$label" "$@"
}
status=0
run anonymous || status=1
run applicant -H "Cookie: $cookie" || status=1
if [ "$status" -ne 0 ]; then
  echo "schemathesis found failures (server log: last lines below)"
  tail -n 20 "$work/server.log"
fi
exit "$status"
