#!/usr/bin/env bash
# Runs the demo: `php artisan rust-echo:serve` (the server inside PHP, via the extension) and the
# demo app on `php -S` with 4 workers. By default the workers load the extension and publish over
# shared memory, with no Redis; REDIS=1 runs the classic path instead (workers without the
# extension publish to a local redis-server, which the server subscribes to).
#
#   scripts/demo.sh                 # http://127.0.0.1:8000, socket server on 127.0.0.1:6001
#   REDIS=1 scripts/demo.sh
#   DEMO_PORT=8100 ECHO_PORT=6101 scripts/demo.sh
# Ctrl-C (or SIGTERM) stops everything it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
demo=$root/examples/demo
ext=${RUST_ECHO_EXT:-$root/target/debug/librust_echo.so}
web_port=${DEMO_PORT:-8000}
echo_port=${ECHO_PORT:-6001}

export APP_URL="http://127.0.0.1:$web_port"
export RUST_ECHO_HOST=127.0.0.1 RUST_ECHO_PORT=$echo_port
export RUST_ECHO_APP_ID=demo RUST_ECHO_APP_KEY=demo

pids=()
cleanup() {
  trap - EXIT INT TERM
  # Each child leads its own process group (setsid), so its workers go with it.
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 0' INT TERM

wait_for() { # URL, what
  for _ in $(seq 1 200); do
    curl -fs -o /dev/null "$1" && return 0
    sleep 0.05
  done
  echo "demo: $2 did not start" >&2
  exit 1
}

web_php=(php -d "extension=$ext" -d "rust_echo.ring=rust-echo-$echo_port")
if [ "${REDIS:-0}" = "1" ]; then
  redis_port=${REDIS_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
  setsid redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no >/dev/null &
  pids+=($!)
  export REDIS_PORT=$redis_port RUST_ECHO_REDIS=1
  for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done
  web_php=(php)   # web workers without the extension: Laravel publishes to Redis
  mode="Redis on 127.0.0.1:$redis_port (web workers without the extension)"
else
  export RUST_ECHO_REDIS=0
  mode="shared memory, no Redis (web workers load the extension)"
fi

setsid php -d "extension=$ext" "$demo/artisan" rust-echo:serve &
pids+=($!)
wait_for "http://127.0.0.1:$echo_port/" "rust-echo"

PHP_CLI_SERVER_WORKERS=4 setsid "${web_php[@]}" -S "127.0.0.1:$web_port" -t "$demo/public" "$demo/public/index.php" 2>/dev/null &
pids+=($!)
wait_for "http://127.0.0.1:$web_port/" "the demo app"

echo
echo "  rust-echo demo: open http://127.0.0.1:$web_port in two browsers (or windows) and sign in twice."
echo "  Broadcasts travel over $mode."
echo "  Post from a script: curl -X POST http://127.0.0.1:$web_port/messages -H 'Content-Type: application/json' -d '{\"text\":\"hi\"}'"
echo "  Ctrl-C stops everything."
echo
wait -n "${pids[@]}"
