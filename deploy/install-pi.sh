#!/usr/bin/env bash
# Installs CircleChat on a Raspberry Pi 4 (Raspberry Pi OS / Debian 12, arm64) without Docker:
# Node 20 (NodeSource), a `circlechat` system user, the app in /opt/circlechat built from this
# checkout, /etc/circlechat/circlechat.env with a generated SESSION_SECRET, and the systemd units
# (the server, and a nightly backup timer). Run it again after `git pull` to update.
#
#   sudo deploy/install-pi.sh [--public-url https://chat.example.com] [--with-caddy chat.example.com]
#
# DRY_RUN=1 PREFIX=/some/empty/dir deploy/install-pi.sh: writes every file under PREFIX instead of
# /, and prints (does not run) what needs root or the network: apt-get, useradd, chown, the
# build, systemctl. That is how the tests run it.
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DRY_RUN="${DRY_RUN:-0}"
PREFIX="${PREFIX:-}"
APP_DIR="${APP_DIR:-/opt/circlechat}"
DATA_DIR="${DATA_DIR:-/var/lib/circlechat}"
BACKUP_DIR="${BACKUP_DIR:-/var/backups/circlechat}"
ENV_FILE=/etc/circlechat/circlechat.env
SERVICE_USER=circlechat
NODE_MAJOR=20
PUBLIC_URL=""
CADDY_DOMAIN=""

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --public-url) PUBLIC_URL="${2:?--public-url needs a URL}"; shift 2 ;;
    --with-caddy) CADDY_DOMAIN="${2:?--with-caddy needs a domain}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [ -n "$CADDY_DOMAIN" ] && [ -z "$PUBLIC_URL" ]; then PUBLIC_URL="https://$CADDY_DOMAIN"; fi

log() { printf '==> %s\n' "$*"; }
# Runs a command that needs root or the network; in a dry run, prints it instead.
run() {
  if [ "$DRY_RUN" = 1 ]; then printf '+ %s\n' "$*"; else "$@"; fi
}
# Every path this script writes goes through here: PREFIX roots it in a dry run.
at() { printf '%s%s' "$PREFIX" "$1"; }

if [ "$DRY_RUN" = 1 ]; then
  [ -n "$PREFIX" ] || { echo "DRY_RUN=1 needs PREFIX=<an empty folder> to write into" >&2; exit 2; }
else
  [ "$(id -u)" = 0 ] || { echo "run as root (sudo $0), or DRY_RUN=1 PREFIX=<dir> to see what it does" >&2; exit 1; }
  [ -z "$PREFIX" ] || { echo "PREFIX is for dry runs only" >&2; exit 2; }
fi

arch="$(uname -m)"
case "$arch" in
  aarch64|arm64) ;;
  x86_64) log "note: this is $arch, not a Pi; installing anyway" ;;
  *) echo "unsupported machine: $arch (needs 64-bit: a Pi 4 with a 64-bit OS)" >&2; exit 1 ;;
esac

log "Node.js $NODE_MAJOR"
node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a===20&&b>=19?0:1)'
}
if node_ok; then
  log "node $(node --version) is already installed"
else
  # Debian 12's own nodejs is 18: too old (engines: >=20.19). NodeSource's repository for 20.x.
  run apt-get update
  run apt-get install -y --no-install-recommends ca-certificates curl gnupg
  run install -d -m 0755 /etc/apt/keyrings
  run sh -c "curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key | gpg --dearmor --yes -o /etc/apt/keyrings/nodesource.gpg"
  mkdir -p "$(at /etc/apt/sources.list.d)"
  echo "deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_$NODE_MAJOR.x nodistro main" > "$(at /etc/apt/sources.list.d/nodesource.list)"
  run apt-get update
  run apt-get install -y nodejs
fi
# better-sqlite3 compiles when no prebuilt binary fits.
run apt-get install -y --no-install-recommends python3 make g++ openssl

log "user $SERVICE_USER"
if id "$SERVICE_USER" >/dev/null 2>&1; then
  log "user $SERVICE_USER exists"
else
  run useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
fi

log "app in $APP_DIR (from $SRC)"
mkdir -p "$(at "$APP_DIR")"
# The sources only: installed and built files are made on this machine, data never travels.
tar -C "$SRC" --exclude=node_modules --exclude=dist --exclude=./data --exclude=.git --exclude=.env \
    --exclude=apps/web/build --exclude=apps/web/.svelte-kit --exclude=.tmp -cf - . | tar -C "$(at "$APP_DIR")" --no-same-owner -xf -
# Built as root, read by the service: the server cannot change its own code.
run sh -c "cd '$APP_DIR' && node scripts/bootstrap.mjs build"

log "settings in $ENV_FILE"
mkdir -p "$(at /etc/circlechat)"
if [ -f "$(at "$ENV_FILE")" ]; then
  log "$ENV_FILE exists: kept as it is"
else
  secret="$(openssl rand -hex 32 2>/dev/null || od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
  {
    echo "# CircleChat settings (every variable: $APP_DIR/.env.example). Restart after a change:"
    echo "#   systemctl restart circlechat"
    echo "SESSION_SECRET=$secret"
    if [ -n "$PUBLIC_URL" ]; then echo "PUBLIC_BASE_URL=$PUBLIC_URL"; fi
    if [ -n "$CADDY_DOMAIN" ]; then echo "HOST=127.0.0.1"; fi
  } > "$(at "$ENV_FILE")"
  chmod 0640 "$(at "$ENV_FILE")"
fi
run chown "root:$SERVICE_USER" "$ENV_FILE"

log "backups in $BACKUP_DIR"
mkdir -p "$(at "$BACKUP_DIR")"
chmod 0750 "$(at "$BACKUP_DIR")"
run chown "$SERVICE_USER:$SERVICE_USER" "$BACKUP_DIR"

log "systemd units"
mkdir -p "$(at /etc/systemd/system)"
for unit in circlechat.service circlechat-backup.service circlechat-backup.timer; do
  sed -e "s#/opt/circlechat#$APP_DIR#g" -e "s#/var/lib/circlechat#$DATA_DIR#g" -e "s#/var/backups/circlechat#$BACKUP_DIR#g" \
    "$SRC/deploy/systemd/$unit" > "$(at "/etc/systemd/system/$unit")"
done

if [ -n "$CADDY_DOMAIN" ]; then
  log "Caddy for $CADDY_DOMAIN"
  run apt-get install -y caddy
  mkdir -p "$(at /etc/caddy)"
  sed -e "s#{\$DOMAIN:localhost}#$CADDY_DOMAIN#" "$SRC/deploy/Caddyfile" > "$(at /etc/caddy/Caddyfile)"
  run systemctl reload-or-restart caddy
fi

log "start"
run systemctl daemon-reload
run systemctl enable --now circlechat.service circlechat-backup.timer
run systemctl restart circlechat.service
if [ "$DRY_RUN" != 1 ]; then
  port="$( (grep -E '^PORT=' "$ENV_FILE" || true) | tail -1 | cut -d= -f2)"
  for _ in $(seq 1 30); do
    if curl -fsS "http://127.0.0.1:${port:-8080}/health" >/dev/null 2>&1; then
      log "CircleChat is up: ${PUBLIC_URL:-http://$(hostname -I 2>/dev/null | cut -d' ' -f1):${port:-8080}}"
      exit 0
    fi
    sleep 1
  done
  echo "CircleChat did not answer /health within 30 s: journalctl -u circlechat -n 50" >&2
  exit 1
fi
log "dry run done: files under $PREFIX"
