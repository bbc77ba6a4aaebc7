#!/usr/bin/env bash
# Checks the FHIR API with independent tools (fhirpy as the client, the
# fhir.resources R4B models as the validator) against the demo data: builds
# the binary, makes a fresh SQLite installation with `tsunagu demo`, an API
# token with `tsunagu client create`, serves it, and runs check.py.
# Python packages are pinned in requirements.txt, installed once into target/fhir-venv.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
(cd "$root" && cargo build --quiet -p tsunagu)
venv="$root/target/fhir-venv"
if ! "$venv/bin/python" -c 'import fhir.resources, fhirpy' 2>/dev/null; then
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
token=$("$bin" client create --login dr.sato --name "FHIR check" \
  --scopes "user/*.read user/Observation.write user/Communication.write" --days 1 | awk '/^token:/ {print $2}')
for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 12000))
  "$bin" serve --listen "127.0.0.1:$port" >server.log 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break 2
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  pid=""
done
[ -n "$pid" ] || { cat server.log; echo "the server did not start"; exit 1; }
"$venv/bin/python" "$root/tests/fhir/check.py" "http://127.0.0.1:$port/fhir" "$token"
