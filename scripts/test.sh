#!/usr/bin/env bash
# The whole test suite (README: `npm test`).
#  1. type-check the project;
#  2. the server tests, against PostgreSQL on 127.0.0.1:5432 when it answers, or a private
#     cluster started here otherwise;
#  3. the media tests (real Chromium, coturn) inside a loopback-only network namespace, so that
#     WebRTC traffic never leaves 127.0.0.0/8.
# Pass test files as arguments to run only those (media files are recognised by their folder).
set -euo pipefail
cd "$(dirname "$0")/.."

export PARLEY_TEST_ARTIFACTS="${PARLEY_TEST_ARTIFACTS:-$PWD/test-artifacts}"
mkdir -p "$PARLEY_TEST_ARTIFACTS"

server_tests=()
media_tests=()
if [ $# -gt 0 ]; then
  for f in "$@"; do
    case "$f" in test/media/*) media_tests+=("$f") ;; *) server_tests+=("$f") ;; esac
  done
else
  echo "[test] type-check"
  npx tsc -p tsconfig.json --noEmit
  echo "[test] deploy files"
  bash scripts/check-deploy.sh
  server_tests=(test/*.test.ts)
  media_tests=(test/media/*.test.ts)
fi

cleanup=()
trap 'for c in "${cleanup[@]}"; do eval "$c" || true; done' EXIT

status=0
if [ ${#server_tests[@]} -gt 0 ]; then
  source scripts/lib/ensure-postgres.sh
  ensure_postgres
  source scripts/lib/ensure-redis.sh
  ensure_redis
  echo "[test] server tests (PostgreSQL: $PARLEY_TEST_DATABASE_URL, Redis: $PARLEY_TEST_REDIS_URL)"
  node --import tsx --test --test-reporter=spec "${server_tests[@]}" || status=$?
fi

if [ ${#media_tests[@]} -gt 0 ]; then
  npm run --silent build:web
  echo "[test] media tests in a loopback-only network namespace"
  unshare -n bash -c 'ip link set lo up && exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "$@"' _ "${media_tests[@]}" || status=$?
fi

exit $status
