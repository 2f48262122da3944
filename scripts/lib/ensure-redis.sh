# Sourced by scripts/test.sh. Exports PARLEY_TEST_REDIS_URL pointing at a Redis that answers:
# the machine's own on 127.0.0.1:6379 when it runs, otherwise a throwaway redis-server started
# here on port 56379 (nothing kept on disk) and stopped on exit. Each test run still uses a key
# prefix of its own (test/support/redis.ts).
ensure_redis() {
  if [ -n "${PARLEY_TEST_REDIS_URL:-}" ]; then return 0; fi
  if redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
    export PARLEY_TEST_REDIS_URL="redis://127.0.0.1:6379"
    return 0
  fi
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "[test] no Redis answers on 127.0.0.1:6379 and none is installed: run scripts/install-system-deps.sh" >&2
    return 1
  fi
  local dir
  dir=$(mktemp -d /tmp/parley-redis.XXXXXX)
  echo "[test] starting a private Redis in $dir on 127.0.0.1:56379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 56379 --save "" --appendonly no --dir "$dir" \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
  local i
  for i in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p 56379 ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
  done
  cleanup+=("redis-cli -h 127.0.0.1 -p 56379 shutdown nosave >/dev/null 2>&1")
  cleanup+=("rm -rf '$dir'")
  export PARLEY_TEST_REDIS_URL="redis://127.0.0.1:56379"
}
