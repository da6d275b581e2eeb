#!/usr/bin/env bash
# Rollcall local stack: PostgreSQL 15, Redis 7, MinIO, Temporal dev server and
# an RTSP camera stand-in, on fixed loopback ports, without Docker or systemd.
#
#   deploy/stack.sh install   install what is missing (apt as root; pinned go install;
#                             the face models, deploy/models.sh)
#   deploy/stack.sh up        install, start everything, wait until healthy
#   deploy/stack.sh down      stop everything
#   deploy/stack.sh status    one line per service; exit 0 only if all are up
#   deploy/stack.sh env       export lines for the app/tests:  eval "$(deploy/stack.sh env)"
#
# State (data, logs, pid files, binaries) lives in ROLLCALL_STACK_DIR, default
# <repo>/.local: bin/ log/<svc>.log run/<svc>.pid postgres/ redis/ minio/ temporal/.
# Ports: postgres 55432, redis 56379, minio 59000 (console 59001),
# temporal 57233 (ui 58233, http 57243, metrics 57234), rtsp 58554.
# Works as root (postgres then runs as the `postgres` user) and as an ordinary
# user (install then only tells you which apt packages to add).
# shellcheck source-path=SCRIPTDIR
set -Eeuo pipefail
trap 'printf "[stack] ERROR: unexpected failure in %s:%s: %s\n" "${BASH_SOURCE[0]##*/}" "$LINENO" "$BASH_COMMAND" >&2' ERR

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib
# shellcheck source=lib/common.sh
source "$LIB_DIR/common.sh"
# shellcheck source=lib/install.sh
source "$LIB_DIR/install.sh"
# shellcheck source=lib/postgres.sh
source "$LIB_DIR/postgres.sh"
# shellcheck source=lib/services.sh
source "$LIB_DIR/services.sh"

cmd_up() {
	local t0=$SECONDS
	cmd_install
	reserve_ports
	start_pg
	start_redis
	start_minio
	start_temporal
	start_camera
	info "stack up in $((SECONDS - t0))s (state $STATE_DIR); load the settings with: eval \"\$($0 env)\""
}

cmd_down() {
	ensure_dirs
	stop_camera
	stop_temporal
	stop_minio
	stop_redis
	stop_pg
	info "stack down"
}

cmd_status() {
	local rc=0
	status_pg || rc=3
	status_redis || rc=3
	status_minio || rc=3
	status_temporal || rc=3
	status_camera || rc=3
	return "$rc"
}

# ensure_secrets writes, once, the local stack's random secrets (JWT key,
# first admin's password, credential-encryption key) to a private file.
ensure_secrets() {
	local f=$STATE_DIR/rollcall.env
	if [[ ! -s $f ]]; then
		mkdir -p "$STATE_DIR"
		(
			umask 077
			{
				echo "export ROLLCALL_JWT_SECRET='$(head -c 48 /dev/urandom | base64 -w0 | tr '+/' '-_')'"
				echo "export ROLLCALL_ADMIN_PASSWORD='$(head -c 15 /dev/urandom | base64 -w0 | tr '+/' '-_')'"
				echo "export ROLLCALL_ENCRYPTION_KEY='$(head -c 32 /dev/urandom | base64 -w0)'"
			} >"$f.tmp"
			mv "$f.tmp" "$f"
		)
	fi
	cat "$f"
}

cmd_env() {
	local bin
	bin=$(printf '%q' "$BIN_DIR")
	ensure_secrets
	cat <<-EOF
		export ROLLCALL_DATABASE_URL='postgres://$PG_USER:$PG_PASSWORD@$HOST:$PG_PORT/$PG_DB?sslmode=disable'
		export ROLLCALL_TEST_DATABASE_URL='postgres://$PG_USER:$PG_PASSWORD@$HOST:$PG_PORT/postgres?sslmode=disable'
		export ROLLCALL_REDIS_ADDR='$HOST:$REDIS_PORT'
		export ROLLCALL_S3_ENDPOINT='$HOST:$MINIO_PORT'
		export ROLLCALL_S3_ACCESS_KEY='$MINIO_USER'
		export ROLLCALL_S3_SECRET_KEY='$MINIO_PASSWORD'
		export ROLLCALL_S3_BUCKET='$MINIO_BUCKET'
		export ROLLCALL_S3_USE_SSL='false'
		export ROLLCALL_TEMPORAL_ADDRESS='$HOST:$TEMPORAL_PORT'
		export ROLLCALL_TEMPORAL_NAMESPACE='$TEMPORAL_NAMESPACE'
		export ROLLCALL_TEST_RTSP_URL='rtsp://$HOST:$RTSP_PORT'
		export ROLLCALL_MODELS_DIR='$STATE_DIR/models'
		# The local camera and providers listen on loopback, which the egress
		# policy refuses by default (Rollcall's own services stay refused).
		export ROLLCALL_CAMERA_ALLOW_CIDRS='127.0.0.0/8,::1/128'
		export ROLLCALL_PROVIDER_ALLOW_CIDRS='127.0.0.0/8,::1/128'
		export ROLLCALL_WEBHOOK_ALLOW_CIDRS='127.0.0.0/8,::1/128'
		export PATH=$bin:"\$PATH"
	EOF
}

usage() {
	sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
	local cmd=${1:-}
	case $cmd in
	install) with_lock cmd_install ;;
	up) with_lock cmd_up ;;
	down) with_lock cmd_down ;;
	status) if cmd_status; then exit 0; else exit 3; fi ;;
	env) cmd_env ;;
	-h | --help | help) usage ;;
	*)
		usage >&2
		exit 64
		;;
	esac
}

main "$@"
