#!/usr/bin/env bash
# minio.sh — run a throwaway MinIO server so loglake's tests can run against
# a real S3-compatible store.
#
#   bash scripts/minio.sh start   build MinIO if needed, start it, create the
#                                 test bucket, write the env file; prints its path
#   bash scripts/minio.sh env     print the env file (eval "$(bash scripts/minio.sh env)")
#   bash scripts/minio.sh status  say whether the server runs
#   bash scripts/minio.sh stop    stop the server by its PID and delete its data
#
# The env file sets LOGLAKE_TEST_S3_URL, AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY and MINIO_PID. The tests read the first three; see
# internal/s3test.
#
# Environment:
#   LOGLAKE_MINIO_DIR   state directory (log, pid, env file).
#                       Default: ${TMPDIR:-/tmp}/loglake-minio
#   LOGLAKE_MINIO_DATA  parent of the server's data directory. Default:
#                       /dev/shm when it is a writable tmpfs, else the
#                       state directory
#   LOGLAKE_MINIO_WAIT  seconds to wait for the server to be live. Default: 60
#
# MinIO is AGPL-licensed. It is a test-time server only: built from the Go
# module proxy into $(go env GOPATH)/bin, run as a separate process, never
# imported by loglake (internal/lint forbids it).
set -euo pipefail

MINIO_MODULE=github.com/minio/minio
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
BUCKET=loglake-test

root=$(cd "$(dirname "$0")/.." && pwd)
state=${LOGLAKE_MINIO_DIR:-${TMPDIR:-/tmp}/loglake-minio}
wait_s=${LOGLAKE_MINIO_WAIT:-60}
datafile=$state/datadir # the data directory in use, for stop
log=$state/minio.log
pidfile=$state/minio.pid
envfile=$state/env

die() { echo "minio.sh: $*" >&2; exit 1; }

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

# minio_bin prints the path of a MinIO binary of MINIO_VERSION, building it
# with `go install` when $(go env GOPATH)/bin holds none (or another version).
minio_bin() {
  local bin have
  bin="$(go env GOPATH)/bin/minio"
  if [ -x "$bin" ]; then
    have=$(go version -m "$bin" 2>/dev/null | awk '$1 == "mod" && $2 == "'"$MINIO_MODULE"'" { print $3 }')
    if [ "$have" = "$MINIO_VERSION" ]; then
      echo "$bin"
      return
    fi
    echo "minio.sh: $bin is version '${have:-unknown}', want $MINIO_VERSION: rebuilding" >&2
  fi
  echo "minio.sh: building MinIO $MINIO_VERSION from the Go module proxy (2-3 minutes on 2 cores)" >&2
  # Built outside the module: MinIO is not a dependency of loglake.
  (cd / && GOFLAGS=-buildvcs=false go install "$MINIO_MODULE@$MINIO_VERSION") >&2
  [ -x "$bin" ] || die "go install did not produce $bin"
  echo "$bin"
}

# running reports whether the PID in the pid file is a live MinIO server.
running() {
  [ -f "$pidfile" ] || return 1
  local pid
  pid=$(cat "$pidfile")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a recycled PID: the process must be our MinIO.
  if [ -r "/proc/$pid/cmdline" ]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "minio server" || return 1
  fi
}

# port_free reports whether nothing listens on 127.0.0.1:$1.
port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port prints a port on 127.0.0.1 that nothing listens on.
free_port() {
  local port i
  for i in $(seq 1 50); do
    port=$((20000 + RANDOM % 30000))
    if port_free "$port"; then
      echo "$port"
      return
    fi
  done
  die "found no free port on 127.0.0.1"
}

random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

log_tail() {
  echo "---- last lines of $log ----" >&2
  tail -n 40 "$log" >&2 || true
  echo "----" >&2
}

# launch starts MinIO on port $1 and waits until it is live. It returns 1 if
# the server exited early (a port taken between probe and bind, say), after
# printing its log; it dies if the server does not come up in time.
launch() {
  local bin=$1 port=$2 user=$3 pass=$4 data=$5 pid i
  : >"$log"
  # nohup: the server outlives the shell that started it (a developer's
  # terminal); stop kills it by PID. MINIO_BROWSER=off: no console port.
  MINIO_ROOT_USER=$user MINIO_ROOT_PASSWORD=$pass \
    MINIO_BROWSER=off MINIO_UPDATE=off MINIO_CI_CD=1 \
    nohup "$bin" server --quiet --address "127.0.0.1:$port" "$data" >>"$log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$pidfile"
  for i in $(seq 1 $((wait_s * 5))); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "minio.sh: MinIO exited during start-up (port $port)" >&2
      log_tail
      rm -f "$pidfile"
      return 1
    fi
    if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/minio/health/live" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  echo "minio.sh: MinIO did not report live at http://127.0.0.1:$port/minio/health/live within ${wait_s}s" >&2
  log_tail
  kill "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  cleanup_data
  exit 1
}

cmd_start() {
  command -v curl >/dev/null || die "curl is needed to probe the server's health"
  if running; then
    echo "minio.sh: already running (PID $(cat "$pidfile")); env file:" >&2
    echo "$envfile"
    return
  fi
  local bin user pass port url attempt data parent
  bin=$(minio_bin)
  mkdir -p "$state"
  cleanup_data
  # tmpfs by default: MinIO syncs every object to its drive, and on a disk
  # that makes the suite several times slower (fsync on tmpfs is free). A
  # single-drive MinIO does not use O_DIRECT, which tmpfs would refuse.
  parent=${LOGLAKE_MINIO_DATA:-}
  if [ -z "$parent" ]; then
    parent=$state
    if [ -d /dev/shm ] && [ -w /dev/shm ]; then
      parent=/dev/shm
    fi
  fi
  data=$(mktemp -d "$parent/loglake-minio-data.XXXXXX")
  echo "$data" >"$datafile"
  user=loglake-$(random_hex 4)
  pass=$(random_hex 20)
  for attempt in 1 2 3; do
    port=$(free_port)
    if launch "$bin" "$port" "$user" "$pass" "$data"; then
      break
    fi
    [ "$attempt" -lt 3 ] || { cleanup_data; die "MinIO failed to start three times"; }
  done
  url="s3://$BUCKET?endpoint=http://127.0.0.1:$port&use_path_style=true&disable_https=true&region=us-east-1"
  umask 077
  cat >"$envfile" <<EOF
export LOGLAKE_TEST_S3_URL='$url'
export AWS_ACCESS_KEY_ID='$user'
export AWS_SECRET_ACCESS_KEY='$pass'
export MINIO_PID='$(cat "$pidfile")'
EOF
  # Create the bucket from Go: there is no MinIO client here, and the AWS
  # SDK is already a dependency (gocloud's s3blob).
  if ! (cd "$root" && . "$envfile" && go run ./internal/s3test/mkbucket); then
    log_tail
    cmd_stop
    die "could not create bucket $BUCKET"
  fi
  echo "minio.sh: MinIO $MINIO_VERSION live on 127.0.0.1:$port (PID $(cat "$pidfile")), bucket $BUCKET; env file:" >&2
  echo "$envfile"
}

cmd_env() {
  running || die "not running; start it with: bash scripts/minio.sh start"
  cat "$envfile"
}

cmd_status() {
  if running; then
    echo "running (PID $(cat "$pidfile")); env file: $envfile"
  else
    echo "not running"
    return 1
  fi
}

# cleanup_data deletes the data directory of the last start, if any.
cleanup_data() {
  if [ -f "$datafile" ]; then
    local d
    d=$(cat "$datafile")
    case "$d" in
    */loglake-minio-data.*) rm -rf "$d" ;;
    esac
    rm -f "$datafile"
  fi
}

cmd_stop() {
  local pid i
  if running; then
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "minio.sh: PID $pid did not stop on TERM; sending KILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    echo "minio.sh: stopped MinIO (PID $pid)" >&2
  fi
  cleanup_data
  rm -f "$pidfile" "$envfile" "$log"
  rmdir "$state" 2>/dev/null || true
}

case "${1:-}" in
start) cmd_start ;;
env) cmd_env ;;
status) cmd_status ;;
stop) cmd_stop ;;
*) usage ;;
esac
