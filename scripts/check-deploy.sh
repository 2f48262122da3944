#!/usr/bin/env bash
# The operator's files, checked without a Docker daemon: compose.yml resolves
# (docker-compose config), deploy/haproxy.cfg parses (haproxy -c), the Dockerfile lints.
set -euo pipefail
cd "$(dirname "$0")/.."
JWT_SECRET=check TURN_SECRET=check docker-compose -f compose.yml config -q
haproxy -c -q -f deploy/haproxy.cfg
npx --no-install dockerfilelint Dockerfile >/dev/null || { npx --no-install dockerfilelint Dockerfile; exit 1; }
echo "[deploy] compose.yml, deploy/haproxy.cfg and Dockerfile check out"
