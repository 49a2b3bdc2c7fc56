#!/usr/bin/env bash
# Installs what the Laravel 11 and Octane suites need, only what is missing (safe to run again):
#  - composer, php8.2-zip (Composer's zip reader), php8.2-sqlite3 (the skeleton's database);
#  - ext-swoole, built once from the vendored source and installed into PHP's extension dir
#    WITHOUT being enabled: the Octane suite loads it through PHP_INI_SCAN_DIR, so every other
#    suite keeps the PHP it had;
#  - the Laravel 11 test app (.build/laravel11-app: the skeleton and its vendor/, with
#    php-tests/Laravel11/app laid over it), from the offline Composer artifact repository
#    ../shared/composer when it exists, from Packagist otherwise.
# Usage: scripts/setup-laravel11.sh [swoole|app|all]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
what=${1:-all}

SWOOLE_VERSION=6.2.2
SWOOLE_TARBALL=${SWOOLE_TARBALL:-$ROOT/../shared/vendor/swoole-src-$SWOOLE_VERSION.tar.gz}
APP=$ROOT/.build/laravel11-app
SKELETON_VERSION=11.6.1
export FRAMEWORK_VERSION=11.33.2 OCTANE_VERSION=2.3.6 REVERB_VERSION=1.10.2
ARTIFACTS=${RUST_ECHO_COMPOSER_ARTIFACTS:-$ROOT/../shared/composer}

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ext-swoole: "installed" means swoole.so sits in the extension dir (php -d extension=swoole
# loads it). A build log stays in target/swoole-build for a failed build.
install_swoole() {
  local extdir
  extdir=$(php-config --extension-dir)
  [ -f "$extdir/swoole.so" ] && return 0
  apt_install php-dev g++ make
  if [ ! -f "$SWOOLE_TARBALL" ]; then
    # A user's clone without ../shared: PECL (pecl install swoole) is the usual way.
    echo "setup: $SWOOLE_TARBALL is absent; trying pecl install swoole-$SWOOLE_VERSION"
    apt_install php-pear
    printf '\n' | $SUDO pecl install -f "swoole-$SWOOLE_VERSION" >/dev/null
    # pecl may enable it globally; the suites load it themselves.
    $SUDO rm -f /etc/php/*/cli/conf.d/*swoole.ini
    return 0
  fi
  local build=$ROOT/target/swoole-build
  rm -rf "$build" && mkdir -p "$build"
  echo "setup: building ext-swoole $SWOOLE_VERSION (one time, several minutes; log in $build/build.log)"
  tar xzf "$SWOOLE_TARBALL" -C "$build"
  (
    cd "$build/swoole-src-$SWOOLE_VERSION"
    { phpize && ./configure && make -j"$(nproc)" && $SUDO make install; } >"$build/build.log" 2>&1
  ) || { echo "setup: the ext-swoole build failed; see $build/build.log" >&2; tail -20 "$build/build.log" >&2; exit 1; }
  php -n -d extension=swoole -r 'exit(extension_loaded("swoole") ? 0 : 1);' \
    || { echo "setup: swoole.so was installed but does not load" >&2; exit 1; }
}

# The Laravel 11 test app, rebuilt when its overlay, this script or the package's composer.json
# change: the skeleton, the package through a `path` repository, then what a user runs
# (install:broadcasting, octane:install, reverb:install), then the test routes, events and channels from
# php-tests/Laravel11/app laid over it. The package is symlinked, so src/ edits need no rebuild.
app_stamp() {
  { find php-tests/Laravel11/app -type f -print0 | sort -z | xargs -0 sha256sum
    sha256sum scripts/setup-laravel11.sh composer.json; } | sha256sum | cut -d' ' -f1
}

install_app() {
  mkdir -p "$ROOT/target"
  local stamp
  stamp=$(app_stamp)
  [ -f "$APP/.rust-echo-stamp" ] && [ "$(cat "$APP/.rust-echo-stamp")" = "$stamp" ] && return 0
  apt_install composer php8.2-zip php8.2-sqlite3 php-curl unzip
  export COMPOSER_ALLOW_SUPERUSER=1 COMPOSER_NO_INTERACTION=1
  echo "setup: installing the Laravel 11 test app in $APP"
  rm -rf "$APP" && mkdir -p "$(dirname "$APP")"
  local offline=0
  if [ -f "$ARTIFACTS/laravel-laravel-$SKELETON_VERSION.zip" ]; then
    offline=1
    mkdir -p "$APP" && unzip -q "$ARTIFACTS/laravel-laravel-$SKELETON_VERSION.zip" -d "$APP"
  else
    composer create-project --quiet --no-install --no-scripts "laravel/laravel:$SKELETON_VERSION" "$APP"
  fi
  APP=$APP OFFLINE=$offline ARTIFACTS=$(cd "$ARTIFACTS" 2>/dev/null && pwd || echo none) ROOT=$ROOT php -r '
    $file = getenv("APP") . "/composer.json";
    $json = json_decode(file_get_contents($file), true);
    $json["require-dev"] = new stdClass();   // none of it is needed, nor in the artifact repo
    $json["require"]["laravel/framework"] = getenv("FRAMEWORK_VERSION");
    $json["require"]["laravel/octane"] = getenv("OCTANE_VERSION");
    $json["require"]["laravel/reverb"] = getenv("REVERB_VERSION");   // make bench-php compares it
    $json["require"]["rust-echo/rust-echo"] = "^0.1";
    $json["repositories"] = [[
        "type" => "path",
        "url" => getenv("ROOT"),
        "options" => ["symlink" => true, "versions" => ["rust-echo/rust-echo" => "0.1.0"]],
    ]];
    if (getenv("OFFLINE") === "1") {
        $json["repositories"][] = ["type" => "artifact", "url" => getenv("ARTIFACTS")];
        $json["repositories"][] = ["packagist.org" => false];
    }
    file_put_contents($file, json_encode($json, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES) . "\n");
  ' 2>&1
  # One && chain: `set -e` does not apply inside a command list that is followed by ||.
  (
    cd "$APP" &&
      composer install --no-dev --quiet &&
      cp .env.example .env &&
      # The tests choose these per process; Octane would reset them from .env in its workers.
      sed -i '/^APP_URL=/d;/^REDIS_PORT=/d' .env &&
      # A Redis-free app: the rust driver over the ring, the database queue, no Redis subscriber.
      printf '%s\n' '' BROADCAST_CONNECTION=rust QUEUE_CONNECTION=database SESSION_DRIVER=array \
        CACHE_STORE=file AUTH_GUARD=test-header >>.env &&
      php artisan key:generate --quiet &&
      touch database/database.sqlite &&
      php artisan migrate --force --quiet &&
      php artisan install:broadcasting --without-reverb --without-node --no-interaction &&
      php artisan octane:install --server=swoole --no-interaction &&
      php artisan reverb:install --no-interaction &&
      # reverb:install selects itself; the app broadcasts with rust, and the benchmark picks
      # Reverb's host and port per run.
      sed -i 's/^BROADCAST_CONNECTION=.*/BROADCAST_CONNECTION=rust/;/^REVERB_HOST=/d;/^REVERB_PORT=/d' .env
  ) >"$ROOT/target/laravel11-setup.log" 2>&1 \
    || { echo "setup: the Laravel 11 app install failed:" >&2; tail -30 "$ROOT/target/laravel11-setup.log" >&2; exit 1; }
  cp -R php-tests/Laravel11/app/. "$APP/"
  (cd "$APP" && php artisan optimize:clear --quiet)
  echo "$stamp" >"$APP/.rust-echo-stamp"
}

case $what in
  swoole) install_swoole ;;
  app) install_app ;;
  all) install_app; install_swoole ;;
  *) echo "usage: $0 [swoole|app|all]" >&2; exit 2 ;;
esac
