#!/usr/bin/env bash
# deploy/dev.sh — run the whole system on this machine: the local stack,
# migrations, seed, and `rollcall all`; prints the URLs and the first admin's
# login once /health/ready answers 200. Ctrl-C stops Rollcall (the stack keeps
# running; `make down` stops it).
#
# Unless ROLLCALL_DEMO=0, it also sets up the demo: the camera stand-in loops
# a real photo at rtsp://127.0.0.1:58554/demo (three women; face-api's
# sample3.jpg), the one in the middle is registered as "Demo Person" from
# three photos cut from a different picture of her, and a "Demo camera"
# reading the stream is created, all through the API (once: both are looked
# up first). The built-in provider recognises her and leaves the two others
# unknown, on /ws and in GET /api/v1/detections/live. The pictures are
# `rollcall demo-images`'s, written to .local/demo/.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DEMO=${ROLLCALL_DEMO:-1}
DEMO_DIR=$ROOT/.local/demo
DEMO_CAMERA_NAME="Demo camera"
DEMO_CAMERA_URL=rtsp://127.0.0.1:58554/demo
# The stack needs the Debian python3 (for the camera stand-in); it reads JSON here.
PYTHON=/usr/bin/python3

mkdir -p .local/log
echo "building rollcall…"
go build -ldflags "-X main.version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)" -o .local/bin/rollcall ./cmd/rollcall

camera_args=${ROLLCALL_CAMERA_ARGS:-}
if [[ $DEMO != 0 && $DEMO_DIR == *[[:space:]]* ]]; then
	echo "demo skipped: the camera stand-in cannot take a picture path with spaces ($DEMO_DIR)" >&2
	DEMO=0
fi
if [[ $DEMO != 0 ]]; then
	# Written every time (the same bytes), so a checkout's pictures always
	# belong together.
	.local/bin/rollcall demo-images "$DEMO_DIR" >/dev/null
	# The stack restarts the camera stand-in if it runs without this mount.
	camera_args+="${camera_args:+ }--image-mount /demo=$DEMO_DIR/camera.jpg@1280x900"
fi

ROLLCALL_CAMERA_ARGS=$camera_args bash deploy/stack.sh up
eval "$(bash deploy/stack.sh env)"
export ROLLCALL_HTTP_ADDR=${ROLLCALL_HTTP_ADDR:-127.0.0.1:8080}

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

# json EXPR [ARG...]: print the Python expression EXPR of the JSON document
# on stdin (bound to j; the ARGs are the list a); None prints nothing.
json() {
	"$PYTHON" -c 'import json, sys
j, a = json.load(sys.stdin), sys.argv[2:]
r = eval(sys.argv[1])
print("" if r is None else r)' "$@"
}

admin_user=${ROLLCALL_ADMIN_USERNAME:-admin}
admin_login="$admin_user / $ROLLCALL_ADMIN_PASSWORD   (from .local/rollcall.env)"
token=
if login=$(curl -fsS -X POST "$url/api/v1/auth/login" -H 'Content-Type: application/json' \
	-d "{\"username\":\"$admin_user\",\"password\":\"$ROLLCALL_ADMIN_PASSWORD\"}"); then
	token=$(json 'j["accessToken"]' <<<"$login")
else
	admin_login="$admin_user / (the password it was first seeded with; .local/rollcall.env's does not match)"
fi

# api METHOD PATH [CURL_ARGS...]: call the API as the admin and print the
# response body; on anything but 2xx, print the status and the API's error
# body and stop dev.sh.
api() {
	local method=$1 path=$2 out status
	shift 2
	out=$(curl -sS -w '\n%{http_code}' -X "$method" "$url/api/v1$path" -H "Authorization: Bearer $token" "$@") || {
		echo "demo: $method /api/v1$path failed (ROLLCALL_DEMO=0 skips the demo)" >&2
		exit 1
	}
	status=${out##*$'\n'}
	out=${out%$'\n'*}
	if [[ $status != 2?? ]]; then
		printf 'demo: %s /api/v1%s answered %s (ROLLCALL_DEMO=0 skips the demo):\n%s\n' "$method" "$path" "$status" "$out" >&2
		exit 1
	fi
	printf '%s\n' "$out"
}

# demo_person registers the demo person unless a profile with their
# employee code exists, then waits (up to a minute) for it to be active.
demo_person() {
	local person code name department faces face id status
	person=$(<"$DEMO_DIR/person.json")
	code=$(json 'j["employeeCode"]' <<<"$person")
	name=$(json 'j["name"]' <<<"$person")
	department=$(json 'j.get("department")' <<<"$person")
	faces=$(api GET /faces -G --data-urlencode "q=$code" --data-urlencode limit=200)
	face=$(json 'next((f["id"] + " " + f["status"] for f in j["items"] if f["employeeCode"] == a[0]), None)' "$code" <<<"$faces")
	if [[ -n $face ]]; then
		echo "demo: $name ($code) is registered already (profile ${face% *}, ${face#* })"
		return 0
	fi
	face=$(api POST /faces --form-string "employeeCode=$code" --form-string "name=$name" \
		--form-string "department=$department" \
		-F "images=@$DEMO_DIR/enrol-1.jpg;type=image/jpeg" \
		-F "images=@$DEMO_DIR/enrol-2.jpg;type=image/jpeg" \
		-F "images=@$DEMO_DIR/enrol-3.jpg;type=image/jpeg")
	id=$(json 'j["id"]' <<<"$face")
	echo "demo: registering $name ($code) from $DEMO_DIR/enrol-{1,2,3}.jpg (profile $id)…"
	for _ in $(seq 1 60); do
		face=$(api GET "/faces/$id")
		status=$(json 'j["status"]' <<<"$face")
		case $status in
		active)
			echo "demo: $name is active"
			return 0
			;;
		failed)
			echo "demo: registering $name failed: $(json 'j.get("statusMessage")' <<<"$face")" >&2
			echo "demo: see .local/log/rollcall.log; ROLLCALL_DEMO=0 skips the demo" >&2
			exit 1
			;;
		esac
		sleep 1
	done
	echo "demo: $name is still $status after a minute; see .local/log/rollcall.log" >&2
}

# demo_camera creates the demo camera, active, unless a camera of that name exists.
demo_camera() {
	local cameras camera
	cameras=$(api GET /cameras -G --data-urlencode "q=$DEMO_CAMERA_NAME" --data-urlencode limit=500)
	camera=$(json 'next((c["id"] + " " + c["state"] for c in j["items"] if c["name"] == a[0]), None)' "$DEMO_CAMERA_NAME" <<<"$cameras")
	if [[ -n $camera ]]; then
		echo "demo: \"$DEMO_CAMERA_NAME\" exists already (camera ${camera% *}, ${camera#* })"
		return 0
	fi
	camera=$(api POST /cameras -H 'Content-Type: application/json' \
		-d "{\"name\":\"$DEMO_CAMERA_NAME\",\"url\":\"$DEMO_CAMERA_URL\",\"state\":\"active\",\"fps\":1,\"site\":\"Demo\",\"location\":\"deploy/dev.sh demo\"}")
	echo "demo: created \"$DEMO_CAMERA_NAME\" (camera $(json 'j["id"]' <<<"$camera"), $DEMO_CAMERA_URL, active, 1 frame/s)"
}

if [[ $DEMO != 0 ]]; then
	if [[ -z $token ]]; then
		echo "demo skipped: cannot log in as $admin_user with ROLLCALL_ADMIN_PASSWORD" >&2
		DEMO=0
	else
		demo_person
		demo_camera
	fi
fi

token_cmd="TOKEN=\$(curl -s -X POST $url/api/v1/auth/login -H 'Content-Type: application/json' \\
       -d '{\"username\":\"$admin_user\",\"password\":\"$ROLLCALL_ADMIN_PASSWORD\"}' \\
       | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"accessToken\"])')"

cat <<MSG

Rollcall is running (log: .local/log/rollcall.log)
  API            $url/api/v1
  API docs       $url/docs          (OpenAPI: $url/openapi.json)
  Health         $url/health/ready
  Temporal UI    ${ROLLCALL_TEMPORAL_UI_URL:-http://127.0.0.1:58233}
  MinIO console  http://127.0.0.1:59001  (user $ROLLCALL_S3_ACCESS_KEY, password $ROLLCALL_S3_SECRET_KEY)
  First admin    $admin_login

  $token_cmd
MSG
if [[ $DEMO != 0 ]]; then
	cat <<MSG

Demo: "$DEMO_CAMERA_NAME" ($DEMO_CAMERA_URL) loops $DEMO_DIR/camera.jpg,
a picture of the registered demo person; their detections arrive within a minute:
  curl -s -H "Authorization: Bearer \$TOKEN" $url/api/v1/detections/live
  WebSocket ${url/#http/ws}/ws, e.g. websocat -H "Authorization: Bearer \$TOKEN" ${url/#http/ws}/ws
    then send {"type":"subscribe","id":"1","channels":["detections"]}
    (docs/websocket.md has browser and Go clients; ROLLCALL_DEMO=0 skips the demo)
MSG
fi
cat <<MSG

Ctrl-C stops Rollcall; \`make down\` stops the services.
MSG
wait "$pid"
