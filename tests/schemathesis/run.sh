#!/usr/bin/env bash
# Schemathesis against the JSON API's own OpenAPI document (/api/openapi.json):
# every operation fuzzed as a signed-in nurse of the demo (session cookie and
# CSRF header), checking that nothing answers 5xx and that answers match the
# schema. A documented script, not part of .ci/run (it runs for minutes);
# its last results are in docs/security.md. Usage: tests/schemathesis/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
seconds=${1:-300}
(cd "$root" && cargo build --quiet -p tsunagu)
venv="$root/target/schemathesis-venv"
if ! "$venv/bin/python" -c 'import schemathesis, requests' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r requirements.txt
fi
bin="$root/target/debug/tsunagu"
dir=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
cd "$dir"
unset TSUNAGU_DATABASE_URL TSUNAGU_CONFIG
"$bin" demo >/dev/null
port=$((20000 + RANDOM % 12000))
"$bin" serve --listen "127.0.0.1:$port" >server.log 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
base="http://127.0.0.1:$port"
mapfile -t headers < <("$venv/bin/python" "$root/tests/schemathesis/sign_in.py" "$base" ns.tanaka tsunagu-demo-2026)
status=0
"$venv/bin/schemathesis" run "$base/api/openapi.json" --url "$base" \
  -H "${headers[0]}" -H "${headers[1]}" \
  --checks not_a_server_error,response_schema_conformance,content_type_conformance \
  --max-time "$seconds" --workers 1 --suppress-health-check all --warnings off || status=$?
if grep -q "panicked" server.log; then echo "the server panicked:"; grep -A3 panicked server.log; status=1; fi
exit $status
