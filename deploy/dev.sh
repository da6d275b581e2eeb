#!/usr/bin/env bash
# deploy/dev.sh — run the whole system on this machine: the local stack,
# migrations, seed, and `rollcall all`; prints the URLs and the first admin's
# login once /health/ready answers 200. Ctrl-C stops Rollcall (the stack keeps
# running; `make down` stops it).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

bash deploy/stack.sh up
eval "$(bash deploy/stack.sh env)"
export ROLLCALL_HTTP_ADDR=${ROLLCALL_HTTP_ADDR:-127.0.0.1:8080}

mkdir -p .local/log
echo "building rollcall…"
go build -o .local/bin/rollcall ./cmd/rollcall
.local/bin/rollcall migrate up
.local/bin/rollcall seed

.local/bin/rollcall all >>.local/log/rollcall.log 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; exit 0' INT TERM
trap 'kill "$pid" 2>/dev/null' EXIT

url="http://$ROLLCALL_HTTP_ADDR"
for _ in $(seq 1 100); do
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "rollcall exited; last log lines:" >&2
		tail -n 30 .local/log/rollcall.log >&2
		exit 1
	fi
	if curl -fsS "$url/health/ready" >/dev/null 2>&1; then
		break
	fi
	sleep 0.2
done
if ! curl -fsS "$url/health/ready" >/dev/null; then
	echo "rollcall is not ready: $(curl -sS "$url/health/ready")" >&2
	exit 1
fi

admin_user=${ROLLCALL_ADMIN_USERNAME:-admin}
admin_login="$admin_user / $ROLLCALL_ADMIN_PASSWORD   (from .local/rollcall.env)"
if ! curl -fsS -o /dev/null -X POST "$url/api/v1/auth/login" -H 'Content-Type: application/json' \
	-d "{\"username\":\"$admin_user\",\"password\":\"$ROLLCALL_ADMIN_PASSWORD\"}"; then
	admin_login="$admin_user / (the password it was first seeded with; .local/rollcall.env's does not match)"
fi

cat <<MSG

Rollcall is running (log: .local/log/rollcall.log)
  API            $url/api/v1
  API docs       $url/docs          (OpenAPI: $url/openapi.json)
  Health         $url/health/ready
  Temporal UI    ${ROLLCALL_TEMPORAL_UI_URL:-http://127.0.0.1:58233}
  MinIO console  http://127.0.0.1:59001  (user $ROLLCALL_S3_ACCESS_KEY, password $ROLLCALL_S3_SECRET_KEY)
  First admin    $admin_login

  curl -s -X POST $url/api/v1/auth/login -H 'Content-Type: application/json' \\
       -d '{"username":"${ROLLCALL_ADMIN_USERNAME:-admin}","password":"$ROLLCALL_ADMIN_PASSWORD"}'

Ctrl-C stops Rollcall; \`make down\` stops the services.
MSG
wait "$pid"
