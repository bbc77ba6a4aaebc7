#!/usr/bin/env bash
# Runs the browser tests: needs Debian's chromium and Node.js; builds the binary first.
set -euo pipefail
cd "$(dirname "$0")"
(cd ../.. && cargo build --quiet -p tsunagu)
{ [ -d node_modules/playwright-core ] && [ -d node_modules/axe-core ]; } || npm ci --no-audit --no-fund
node --test
