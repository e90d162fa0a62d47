# Sourced by the load scripts (not run): starts a latchkey server for one
# measurement on a fresh data directory and a free loopback port.
#
#   serve_for_load BIN_DIR
#
# runs BIN_DIR/latchkey with warnings-only logging (one info line per
# request would measure the logger), on LATCHKEY_DATABASE_URL when set,
# waits until it answers, and sets DATA, URL and SERVER; stop_load_server
# (also run at exit) stops it and removes DATA.

serve_for_load() {
  local bin_dir=$1 port database_args=()
  [ -n "${LATCHKEY_DATABASE_URL:-}" ] && database_args=(--database-url "$LATCHKEY_DATABASE_URL")
  DATA="$(mktemp -d)"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  URL="http://127.0.0.1:${port}"
  RUST_LOG=warn "$bin_dir/latchkey" serve --bind "127.0.0.1:${port}" --data-dir "$DATA" "${database_args[@]}" \
    >"$DATA/server.log" 2>&1 &
  SERVER=$!
  trap stop_load_server EXIT
  for _ in $(seq 1 100); do
    curl -fsS "$URL/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
}

stop_load_server() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  rm -rf "$DATA"
}
