#!/usr/bin/env bash
# Build deploy/Dockerfile with podman and prove the image and the compose stack run.
#
#   deploy/verify.sh                 # from anywhere; root, podman, runc (debootstrap on first run)
#   EVIDENCE_DESK_VERIFY_REBUILD_BASE=1 deploy/verify.sh    # debootstrap the stand-in base again
#
# No registry can be reached here, so the image is built on a stand-in for python:3.11-slim:
# Debian bookworm's python3 from debootstrap, imported into podman once and cached as
# $BASE_IMAGE (the first run takes a few minutes longer). PostgreSQL is a stand-in too, from
# Debian's `postgresql` package (deploy/standin/). What this proves and what it cannot is in the
# README ("Running it in production" -> "The image, verified").
#
# Steps: build the image; run it as non-root with demo mode off (healthz, readyz, the image's
# HEALTHCHECK, unsigned and forged Slack requests refused, a signed one accepted, demo
# identities refused, SIGTERM a clean exit); then deploy/compose.yaml's stack on one podman
# network, its services' commands and environment read from compose.yaml itself: PostgreSQL
# with its healthcheck, the migrate step (twice: a re-release), the bot on the migrated
# database (readyz, a web chat question answered and stored in PostgreSQL). Every container,
# the network and the volume are removed at the end, failed or not; re-running is safe.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$PWD"
NAME=evidence-desk-verify
BASE_IMAGE="${EVIDENCE_DESK_VERIFY_BASE_IMAGE:-localhost/$NAME/python:3.11-bookworm}"
PG_IMAGE="localhost/$NAME/postgres:bookworm"
APP_IMAGE="localhost/evidence-desk:verify"
NETWORK="$NAME"
VOLUME="$NAME-pgdata"
APP="$NAME-app"
PG="$NAME-postgres"
MIGRATE="$NAME-migrate"
BOT="$NAME-bot"
WORK="$(mktemp -d /tmp/$NAME.XXXXXX)"
ROOTFS=""
STEP="starting"
# podman's own complaints that are noise here (no systemd to time healthchecks, no syslog),
# kept and shown only when something fails.
PODMAN_LOG="$WORK/podman.log"
# How long the server may take to answer /healthz: it builds the KB's embedding index at
# start, which on a busy 2-core machine takes most of a minute.
START_LIMIT="${EVIDENCE_DESK_VERIFY_START_SECONDS:-180}"

say() { printf '[verify %4ss] %s\n' "$SECONDS" "$*"; }
step() {
  STEP="$*"
  say "== $*"
}
fail() {
  printf '\ndeploy/verify.sh FAILED during "%s": %s\n' "$STEP" "$*" >&2
  exit 1
}

remove_all() {
  podman rm -f -t 5 "$APP" "$BOT" "$MIGRATE" "$PG" > /dev/null 2>&1 || true
  podman network rm -f "$NETWORK" > /dev/null 2>&1 || true
  podman volume rm -f "$VOLUME" > /dev/null 2>&1 || true
}

cleanup() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    if [ -s "$PODMAN_LOG" ]; then
      printf '\n--- podman messages ---\n' >&2
      tail -n 20 "$PODMAN_LOG" >&2
    fi
    for container in "$APP" "$BOT" "$PG"; do
      if podman container exists "$container" 2> /dev/null; then
        printf '\n--- last log lines of %s ---\n' "$container" >&2
        podman logs --tail 30 "$container" >&2 2>&1 || true
      fi
    done
  fi
  remove_all
  if [ -n "$ROOTFS" ] && [ -d "$ROOTFS" ]; then
    # debootstrap mounts /proc and /sys inside; never delete through a mount.
    findmnt -rn -o TARGET | grep "^$ROOTFS" | sort -r | xargs -r umount -l || true
    rm -rf --one-file-system "$ROOTFS"
  fi
  rm -rf "$WORK"
  if [ "$status" -eq 0 ]; then
    say "deploy/verify.sh passed in ${SECONDS}s"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- prerequisites ---------------------------------------------------------------------------

step "prerequisites"
command -v podman > /dev/null || fail "podman is not installed (apt-get install -y podman runc debootstrap)"
command -v curl > /dev/null || fail "curl is not installed"
command -v openssl > /dev/null || fail "openssl is not installed (it signs the Slack test request)"
[ "$(id -u)" -eq 0 ] || fail "run as root: the build uses --isolation=chroot and debootstrap"
runtime="$(podman info --format '{{.Host.OCIRuntime.Name}}' 2> /dev/null)" ||
  fail "podman info failed; is /etc/containers/containers.conf valid?"
say "podman $(podman version --format '{{.Client.Version}}'), runtime $runtime"
remove_all # whatever an interrupted earlier run left

# Where this machine's pip finds packages (local indexes and wheel folders): mounted read-only
# into the build, so pip inside sees what pip outside sees.
PIP_MOUNTS=()
while read -r dir; do
  [ -d "$dir" ] && PIP_MOUNTS+=(-v "$dir:$dir:ro")
done < <({ python3 -m pip config list 2> /dev/null || true; env | grep '^PIP_' || true; } |
  grep -Eo "(file://)?/[^ ,'\"]+" | sed 's#^file://##' | sort -u)
BUILD=(podman build --format docker --isolation=chroot --network=host "${PIP_MOUNTS[@]}")

# --- the stand-in base -----------------------------------------------------------------------

debian_mirror() {
  if [ -n "${EVIDENCE_DESK_VERIFY_MIRROR:-}" ]; then
    echo "$EVIDENCE_DESK_VERIFY_MIRROR"
    return
  fi
  # The first Debian archive apt uses (deb822 "URIs:" or one-line "deb" entries).
  local found
  found="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
    /etc/apt/sources.list.d/*.list 2> /dev/null |
    grep -E '^[[:space:]]*(URIs:|deb[[:space:]])' |
    grep -Eo '(https?|file)://[^[:space:]]+' | grep -v -- '-security' |
    grep -E '/debian/?$' | head -n 1 || true)"
  echo "${found:-http://deb.debian.org/debian}"
}

step "stand-in base image $BASE_IMAGE"
if podman image exists "$BASE_IMAGE" && [ -z "${EVIDENCE_DESK_VERIFY_REBUILD_BASE:-}" ]; then
  say "cached (EVIDENCE_DESK_VERIFY_REBUILD_BASE=1 to rebuild)"
else
  command -v debootstrap > /dev/null || fail "debootstrap is not installed (apt-get install -y debootstrap)"
  mirror="$(debian_mirror)"
  say "debootstrap bookworm from $mirror (first run only; a few minutes)"
  ROOTFS="$(mktemp -d /var/tmp/$NAME-rootfs.XXXXXX)"
  debootstrap --variant=minbase \
    --include=python3,python3-venv,python3-pip,python-is-python3,ca-certificates \
    bookworm "$ROOTFS" "$mirror" > "$WORK/debootstrap.log" 2>&1 ||
    { tail -n 20 "$WORK/debootstrap.log" >&2; fail "debootstrap failed (log above)"; }
  # The host's CA bundle (it may hold a proxy's CA) and pip's settings, as pip on the host
  # uses them; PIP_* variables go in as the image's environment below.
  cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
  if [ -d /usr/local/share/ca-certificates ]; then
    cp -a /usr/local/share/ca-certificates/. "$ROOTFS/usr/local/share/ca-certificates/"
  fi
  [ -f /etc/pip.conf ] && cp /etc/pip.conf "$ROOTFS/etc/pip.conf"
  if [ -d /etc/xdg/pip ]; then
    mkdir -p "$ROOTFS/etc/xdg"
    cp -a /etc/xdg/pip "$ROOTFS/etc/xdg/pip"
  fi
  chroot "$ROOTFS" apt-get clean
  rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/log/*.log "$ROOTFS"/var/cache/debconf/*-old
  CHANGES=(
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    --change 'ENV LANG=C.UTF-8'
    --change 'CMD ["python3"]'
  )
  while IFS='=' read -r key value; do
    CHANGES+=(--change "ENV $key=\"$value\"")
  done < <(env | grep '^PIP_' || true)
  tar --numeric-owner -C "$ROOTFS" -c . |
    podman import "${CHANGES[@]}" --message "stand-in for python:3.11-slim" - "$BASE_IMAGE" > /dev/null ||
    fail "podman import of the debootstrapped tree failed"
  findmnt -rn -o TARGET | grep "^$ROOTFS" | sort -r | xargs -r umount -l || true
  rm -rf --one-file-system "$ROOTFS"
  ROOTFS=""
fi
podman run --rm "$BASE_IMAGE" python3 -c 'import sys, venv; assert sys.version_info[:2] == (3, 11), sys.version' ||
  fail "the stand-in base has no Python 3.11 with venv"

# --- the images ------------------------------------------------------------------------------

step "build the image from deploy/Dockerfile (BASE_IMAGE=$BASE_IMAGE)"
"${BUILD[@]}" --build-arg "BASE_IMAGE=$BASE_IMAGE" -f deploy/Dockerfile -t "$APP_IMAGE" . \
  > "$WORK/build.log" 2>&1 ||
  { tail -n 40 "$WORK/build.log" >&2; fail "podman build of deploy/Dockerfile failed (log above)"; }
user="$(podman image inspect --format '{{.Config.User}}' "$APP_IMAGE")"
health="$(podman image inspect --format '{{if .Config.Healthcheck}}{{.Config.Healthcheck.Test}}{{end}}' "$APP_IMAGE")"
case "$user" in "" | 0 | 0:* | root | root:*) fail "the image runs as root (USER '$user')" ;; esac
[ -n "$health" ] || fail "the image has no HEALTHCHECK (built without --format docker?)"
say "built; USER $user"

step "build the stand-in PostgreSQL image (Debian's postgresql package)"
"${BUILD[@]}" --build-arg "BASE_IMAGE=$BASE_IMAGE" -f deploy/standin/postgres.Containerfile \
  -t "$PG_IMAGE" deploy/standin > "$WORK/pg-build.log" 2>&1 ||
  { tail -n 40 "$WORK/pg-build.log" >&2; fail "podman build of the PostgreSQL stand-in failed (log above)"; }

# --- helpers ---------------------------------------------------------------------------------

host_port() { podman port "$1" 3978/tcp | head -n 1 | sed 's/.*://'; }

# status_of URL [curl args...]: the HTTP status code, body in $WORK/body.
status_of() {
  local url="$1" code
  shift
  rm -f "$WORK/body"
  code="$(curl -s -o "$WORK/body" -w '%{http_code}' --max-time 10 "$@" "$url")" || true
  echo "${code:-000}"
}

wait_for() { # wait_for CONTAINER PATH SECONDS: until GET PATH answers 200
  local container="$1" path="$2" limit="$3" port code=000
  for _ in $(seq 1 "$limit"); do
    [ "$(podman inspect --format '{{.State.Running}}' "$container")" = true ] ||
      fail "$container stopped (exit $(podman inspect --format '{{.State.ExitCode}}' "$container"))"
    port="$(host_port "$container")"
    code="$(status_of "http://127.0.0.1:$port$path")"
    [ "$code" = 200 ] && return 0
    sleep 1
  done
  fail "GET $path on $container answered $code, not 200, within ${limit}s: $(head -c 400 "$WORK/body" 2> /dev/null)"
}

expect() { # expect WHAT WANTED_CODES GOT
  case " $2 " in *" $3 "*) say "ok: $1 -> $3" ;; *) fail "$1 answered $3, expected $2: $(head -c 300 "$WORK/body")" ;; esac
}

slack_post() { # slack_post PORT BODY SECRET|'' [TIMESTAMP]: signed with SECRET unless empty
  local port="$1" body="$2" secret="$3" ts="${4:-$(date +%s)}" headers=()
  if [ -n "$secret" ]; then
    local signature
    signature="v0=$(printf 'v0:%s:%s' "$ts" "$body" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)"
    headers=(-H "X-Slack-Request-Timestamp: $ts" -H "X-Slack-Signature: $signature")
  fi
  status_of "http://127.0.0.1:$port/slack/events" -X POST -H 'Content-Type: application/json' \
    "${headers[@]}" --data-binary "$body"
}

stop_cleanly() { # SIGTERM must end the process by itself, well before podman's SIGKILL
  local container="$1" code
  podman stop -t 25 "$container" > /dev/null 2>> "$PODMAN_LOG"
  code="$(podman inspect --format '{{.State.ExitCode}}' "$container")"
  [ "$code" = 0 ] || fail "$container exited $code on SIGTERM, not 0 (graceful shutdown)"
  say "ok: SIGTERM -> clean exit"
}

ask_web_chat() { # ask_web_chat PORT: a question through the web chat with a server-signed identity
  local port="$1" jar="$WORK/cookies"
  rm -f "$jar"
  code="$(status_of "http://127.0.0.1:$port/chat/api/message" -X POST \
    -H 'Content-Type: application/json' --data '{"text": "what are your opening hours?", "user": "anyone"}')"
  expect "web chat message with no signed identity (demo off)" 403 "$code"
  code="$(status_of "http://127.0.0.1:$port/" -c "$jar")"
  expect "GET / (issues a signed chat identity)" 200 "$code"
  code="$(status_of "http://127.0.0.1:$port/chat/api/message" -b "$jar" -X POST \
    -H 'Content-Type: application/json' --data '{"text": "what are your opening hours?"}')"
  expect "web chat question with its signed identity" 200 "$code"
  grep -q '"replies": *\[ *{' "$WORK/body" || fail "the web chat answer has no reply: $(head -c 300 "$WORK/body")"
}

# --- the image on its own --------------------------------------------------------------------

SIGNING_SECRET="$(openssl rand -hex 16)"
SLACK_ENV=(
  -e SLACK_BOT_TOKEN=xoxb-verify-not-a-real-token
  -e SLACK_SIGNING_SECRET="$SIGNING_SECRET"
  # Never Slack itself: nothing here may leave this machine.
  -e SLACK_API_URL=http://127.0.0.1:9/api/
)

step "run the image as non-root, demo off, on its embedded SQLite"
started="$(date +%s)"
podman network create "$NETWORK" > /dev/null
podman run -d --name "$APP" --network "$NETWORK" -p 127.0.0.1::3978 \
  -e EVIDENCE_DESK_GENERAL_QUEUE=slack:C0VERIFY "${SLACK_ENV[@]}" "$APP_IMAGE" > /dev/null 2>> "$PODMAN_LOG"
wait_for "$APP" /healthz "$START_LIMIT"
say "ok: /healthz -> 200 after $(($(date +%s) - started))s"
uid="$(podman exec "$APP" id -u)"
[ "$uid" != 0 ] || fail "the server runs as root"
say "ok: the server runs as uid $uid"
wait_for "$APP" /readyz 30
# The sentence-embedding model is an installed package: it must load with no download.
grep -q 'hybrid' "$WORK/body" || fail "/readyz says the semantic matcher is off in the image: $(cat "$WORK/body")"
say "ok: /readyz -> 200, matcher hybrid (the packaged model loaded offline)"
podman healthcheck run "$APP" > /dev/null 2>&1 || fail "the image's HEALTHCHECK reports unhealthy"
say "ok: the image's HEALTHCHECK -> healthy"
port="$(host_port "$APP")"
expect "unsigned Slack request" "401 403" "$(slack_post "$port" '{"type":"url_verification","challenge":"c"}' '')"
expect "Slack request signed with the wrong secret" "401 403" \
  "$(slack_post "$port" '{"type":"url_verification","challenge":"c"}' "not-$SIGNING_SECRET")"
expect "Slack request with a stale timestamp" "401 403" \
  "$(slack_post "$port" '{"type":"url_verification","challenge":"c"}' "$SIGNING_SECRET" "$(($(date +%s) - 3600))")"
challenge="verify-$RANDOM$RANDOM"
expect "correctly signed Slack url_verification" 200 \
  "$(slack_post "$port" "{\"type\":\"url_verification\",\"challenge\":\"$challenge\"}" "$SIGNING_SECRET")"
grep -q "$challenge" "$WORK/body" || fail "the signed url_verification did not echo its challenge"
ask_web_chat "$port"
stop_cleanly "$APP"
podman rm "$APP" > /dev/null 2>> "$PODMAN_LOG"

# --- the compose stack -----------------------------------------------------------------------

# Each service's command and environment come from deploy/compose.yaml, interpolated as compose
# would (${VAR}, ${VAR:?message}) from an env file made from deploy/.env.example; PyYAML is read
# inside the image, so the host needs no Python packages.
ENV_FILE="$WORK/compose.env"
POSTGRES_PASSWORD="$(openssl rand -hex 12)"
sed -e "s/^POSTGRES_PASSWORD=.*/POSTGRES_PASSWORD=$POSTGRES_PASSWORD/" \
  -e "s/^EVIDENCE_DESK_FEEDBACK_SALT=.*/EVIDENCE_DESK_FEEDBACK_SALT=$(openssl rand -hex 16)/" \
  -e "s/^EVIDENCE_DESK_SECRET_KEY=.*/EVIDENCE_DESK_SECRET_KEY=$(openssl rand -hex 32)/" \
  -e "s/^EVIDENCE_DESK_GENERAL_QUEUE=.*/EVIDENCE_DESK_GENERAL_QUEUE=slack:C0VERIFY/" \
  -e "s/^SLACK_BOT_TOKEN=.*/SLACK_BOT_TOKEN=xoxb-verify-not-a-real-token/" \
  -e "s/^SLACK_SIGNING_SECRET=.*/SLACK_SIGNING_SECRET=$SIGNING_SECRET/" \
  deploy/.env.example > "$ENV_FILE"
echo "SLACK_API_URL=http://127.0.0.1:9/api/" >> "$ENV_FILE"

compose() { # compose SERVICE command|environment|healthcheck: one item a line
  podman run --rm -i --network none --health-cmd none -v "$ROOT/deploy:/deploy:ro" --env-file "$ENV_FILE" \
    "$APP_IMAGE" python3 - "$1" "$2" << 'PY'
import os, re, sys, yaml
service = yaml.safe_load(open("/deploy/compose.yaml"))["services"][sys.argv[1]]
def interpolate(value):
    def one(match):
        name, _, message = match.group(1).partition(":?")
        if message and not os.environ.get(name):
            sys.exit(f"compose.yaml: {message}")
        return os.environ.get(name, "")
    return re.sub(r"\$\{([^}]+)\}", one, str(value))
if sys.argv[2] == "command":
    items = service["command"]
elif sys.argv[2] == "healthcheck":
    test = service["healthcheck"]["test"]
    items = ["sh", "-c", test[1]] if test[0] == "CMD-SHELL" else test[1:]
else:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    items = [f"{key}={value}" for key, value in env.items()]
for item in items:
    print(interpolate(item))
PY
}
compose_items() { # compose_items SERVICE KIND VARIABLE: the items into the array VARIABLE
  compose "$1" "$2" > "$WORK/compose.out" 2>> "$PODMAN_LOG" ||
    fail "could not read $2 of service $1 from deploy/compose.yaml: $(tail -n 3 "$PODMAN_LOG")"
  mapfile -t "$3" < "$WORK/compose.out"
}
env_args() { # env_args VARIABLE ITEMS...: -e ITEM for each, into the array VARIABLE
  local -n into="$1"
  shift
  into=()
  for item in "$@"; do into+=(-e "$item"); done
}
items=()
compose_items postgres environment items && env_args PG_ENV "${items[@]}"
compose_items migrate environment items && env_args MIGRATE_ENV "${items[@]}"
compose_items bot environment items && env_args BOT_ENV "${items[@]}"
compose_items migrate command MIGRATE_CMD
compose_items postgres healthcheck PG_HEALTH
[ "${#MIGRATE_CMD[@]}" -gt 0 ] || fail "compose.yaml's migrate service has no command"
grep -q '^POSTGRES_PASSWORD=' "$ENV_FILE" || fail "deploy/.env.example has no POSTGRES_PASSWORD"

step "compose: postgres (stand-in) until its healthcheck passes"
podman volume create "$VOLUME" > /dev/null
podman run -d --name "$PG" --network "$NETWORK" --network-alias postgres \
  -v "$VOLUME:/var/lib/postgresql/data" "${PG_ENV[@]}" "$PG_IMAGE" > /dev/null 2>> "$PODMAN_LOG"
for i in $(seq 1 60); do
  podman exec "$PG" "${PG_HEALTH[@]}" > /dev/null 2>&1 && break
  [ "$(podman inspect --format '{{.State.Running}}' "$PG")" = true ] || fail "PostgreSQL stopped"
  [ "$i" -lt 60 ] || fail "PostgreSQL's healthcheck (${PG_HEALTH[*]}) did not pass in 60s"
  sleep 1
done
say "ok: ${PG_HEALTH[*]}"

step "compose: migrate (${MIGRATE_CMD[*]}), then again as a re-release would"
for run in first second; do
  podman run --rm --name "$MIGRATE" --network "$NETWORK" --health-cmd none --env-file "$ENV_FILE" "${MIGRATE_ENV[@]}" \
    "$APP_IMAGE" "${MIGRATE_CMD[@]}" > "$WORK/migrate.log" 2>&1 ||
    { tail -n 30 "$WORK/migrate.log" >&2; fail "the $run migration run failed (log above)"; }
  say "ok: $run migration run exited 0"
done
tables="$(podman exec "$PG" psql -U evidence -d evidence -Atc \
  "select count(*) from information_schema.tables where table_schema = 'public'")"
[ "${tables:-0}" -gt 5 ] || fail "after migrating, PostgreSQL has $tables tables"
say "ok: PostgreSQL has $tables tables"

step "compose: the bot on the migrated PostgreSQL"
started="$(date +%s)"
podman run -d --name "$BOT" --network "$NETWORK" -p 127.0.0.1::3978 --env-file "$ENV_FILE" \
  "${BOT_ENV[@]}" "$APP_IMAGE" > /dev/null 2>> "$PODMAN_LOG"
wait_for "$BOT" /healthz "$START_LIMIT"
say "ok: /healthz -> 200 after $(($(date +%s) - started))s"
wait_for "$BOT" /readyz 30
grep -q '"migrations": *"current' "$WORK/body" || fail "/readyz does not report current migrations: $(cat "$WORK/body")"
say "ok: /readyz -> 200 with the database migrated by the migrate step"
port="$(host_port "$BOT")"
expect "unsigned Slack request" "401 403" "$(slack_post "$port" '{"type":"url_verification","challenge":"c"}' '')"
ask_web_chat "$port"
stored="$(podman exec "$PG" psql -U evidence -d evidence -Atc "select count(*) from web_messages")"
[ "${stored:-0}" -ge 2 ] || fail "the web chat's question and answer are not in PostgreSQL ($stored rows)"
say "ok: the question and its answer are in PostgreSQL ($stored web_messages rows)"
stop_cleanly "$BOT"
step "clean up"
