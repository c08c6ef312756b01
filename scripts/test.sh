#!/usr/bin/env bash
# The whole suite, as CI runs it: lint, types, unit tier, then the Wine tier on
# the simulated Windows host (prepared here: installs Wine and MinGW from
# Debian's packages when missing, which needs root).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "== lint and format (biome)"
npx biome check .
echo "== types (tsc --noEmit, strict)"
npx tsc -p tsconfig.json --noEmit
echo "== simulated Windows host (test-host/prepare.sh)"
bash test-host/prepare.sh > /dev/null
echo "== unit and wine tiers (vitest)"
npx vitest run --project unit --project wine
