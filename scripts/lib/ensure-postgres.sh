# Sourced by scripts/test.sh. Exports PARLEY_TEST_DATABASE_URL pointing at a PostgreSQL that
# answers: the machine's own on 127.0.0.1:5432 (trust auth, database `test`) when it runs,
# otherwise a throwaway cluster started here on port 55432 and stopped on exit.
ensure_postgres() {
  if [ -n "${PARLEY_TEST_DATABASE_URL:-}" ]; then return 0; fi
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1; then
    export PARLEY_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/test"
    return 0
  fi
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bin" ]; then
    echo "[test] no PostgreSQL answers on 127.0.0.1:5432 and none is installed: run scripts/install-system-deps.sh" >&2
    return 1
  fi
  local dir
  dir=$(mktemp -d /tmp/parley-pg.XXXXXX)
  chown postgres:postgres "$dir" 2>/dev/null || true
  local run=(bash -c)
  [ "$(id -u)" -eq 0 ] && run=(runuser -u postgres -- bash -c)
  echo "[test] starting a private PostgreSQL in $dir on 127.0.0.1:55432"
  "${run[@]}" "'$bin/initdb' -D '$dir/data' -A trust -U postgres >/dev/null && '$bin/pg_ctl' -D '$dir/data' -o '-p 55432 -k $dir -c listen_addresses=127.0.0.1' -l '$dir/log' -w start >/dev/null"
  "${run[@]}" "'$bin/createdb' -h 127.0.0.1 -p 55432 -U postgres test"
  cleanup+=("${run[*]} \"'$bin/pg_ctl' -D '$dir/data' -m fast stop >/dev/null\"")
  cleanup+=("rm -rf '$dir'")
  export PARLEY_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:55432/test"
}
