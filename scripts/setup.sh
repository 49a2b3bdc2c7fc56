#!/usr/bin/env bash
# Installs what rust-echo's build, tests and demo need on a Debian machine, only what is missing.
# Safe to run again: it checks before it installs.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  redis-server                      # Redis for the subscriber tests and the Redis demo
  php-cli php-dev php-redis php-mbstring php-xml php-curl phpunit php-codesniffer
  php-laravel-framework php8.2-fpm libfcgi-bin libphp8.2-embed
  libclang-dev clang                # bindgen for the PHP extension
  chromium                          # the demo's real-browser test (driven by playwright-core)
  curl openssl                      # curl for scripts; openssl makes the TLS tests' certificates
  gnuplot-nox                       # the benchmark chart (make bench)
  nginx-light                       # the multi-node nginx recipe's e2e test (run as the test's own process)
)
# Node (laravel-echo and socket.io-client for the e2e suite) may come from elsewhere than Debian.
command -v node >/dev/null 2>&1 || DEBIAN_PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || DEBIAN_PACKAGES+=(npm)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Debian packages start a system redis on 6379 and nginx on 80 where a service manager runs;
# the project starts its own servers on free ports and never relies on those.

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo (Rust) is required: https://rustup.rs" >&2
  exit 1
fi

# Node modules (the e2e suite, the demo's front end), reinstalled when a lock file changes.
for dir in e2e examples/demo; do
  stamp=$dir/node_modules/.package-lock.json
  if [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ]; then
    echo "setup: npm ci ($dir)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done

# Laravel 11 and Octane: composer, ext-swoole (built once, not enabled globally) and the test app.
scripts/setup-laravel11.sh all
