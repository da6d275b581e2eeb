# shellcheck shell=bash
# Redis, MinIO, Temporal dev server and the RTSP camera stand-in (sourced).
# Each service has start_X / stop_X / status_X; all bind 127.0.0.1 only.

# ---- Redis 7 ----------------------------------------------------------------------
redis_healthy() { [[ $(redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }

start_redis() {
	if is_running redis redis-server "$REDIS_PORT"; then
		report redis up "$HOST:$REDIS_PORT (already running, pid $(pid_of redis))"
		return 0
	fi
	ensure_port_free redis "$REDIS_PORT"
	mkdir -p "$STATE_DIR/redis"
	rm -f "$RUN_DIR/redis.pid"
	printf '\n==== %s: starting redis-server\n' "$(date -Is)" >>"$LOG_DIR/redis.log"
	# redis daemonizes itself and writes its own pid file.
	# shellcheck disable=SC2094 # early errors (before --logfile applies) go to the same log
	redis-server --daemonize yes --bind "$HOST" --port "$REDIS_PORT" --dir "$STATE_DIR/redis" \
		--pidfile "$RUN_DIR/redis.pid" --logfile "$LOG_DIR/redis.log" \
		--save '' --appendonly no </dev/null >>"$LOG_DIR/redis.log" 2>&1 9>&- ||
		fail redis "redis-server failed to start"
	wait_for 10 redis_healthy || fail redis "redis-cli -p $REDIS_PORT ping did not answer PONG within 10s"
	report redis up "$HOST:$REDIS_PORT (pid $(pid_of redis))"
}

stop_redis() {
	local pid
	pid=$(pid_of redis)
	if pid_alive "$pid" redis-server; then
		redis-cli -h "$HOST" -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
		wait_for 10 pid_gone "$pid" && info "redis stopped (pid $pid)"
	fi
	stop_pid redis redis-server 5 # no-op if already gone; SIGTERM/KILL otherwise
}

status_redis() { status_generic redis redis-server "$REDIS_PORT" redis_healthy; }

# ---- MinIO ---------------------------------------------------------------------------
minio_healthy() { curl -fsS -o /dev/null --max-time 2 "http://$HOST:$MINIO_PORT/minio/health/live"; }

start_minio() {
	if is_running minio minio "$MINIO_PORT"; then
		report minio up "http://$HOST:$MINIO_PORT console :$MINIO_CONSOLE_PORT (already running, pid $(pid_of minio))"
		return 0
	fi
	ensure_port_free minio "$MINIO_PORT"
	ensure_port_free minio-console "$MINIO_CONSOLE_PORT"
	mkdir -p "$STATE_DIR/minio/data"
	# The bucket is created by the rollcall app itself at start-up.
	MINIO_ROOT_USER=$MINIO_USER MINIO_ROOT_PASSWORD=$MINIO_PASSWORD MINIO_UPDATE=off \
		spawn minio "$BIN_DIR/minio" server "$STATE_DIR/minio/data" \
		--address "$HOST:$MINIO_PORT" --console-address "$HOST:$MINIO_CONSOLE_PORT"
	wait_up minio minio 60 minio_healthy || fail minio "/minio/health/live did not answer within 60s"
	report minio up "http://$HOST:$MINIO_PORT console :$MINIO_CONSOLE_PORT (pid $(pid_of minio))"
}

stop_minio() { stop_pid minio minio 20; }
status_minio() { status_generic minio minio "$MINIO_PORT" minio_healthy; }

# ---- Temporal dev server ------------------------------------------------------------
temporal_healthy() {
	timeout 10 "$BIN_DIR/temporal" operator cluster health --address "$HOST:$TEMPORAL_PORT" 2>/dev/null | grep -q SERVING
}
temporal_ui_healthy() { curl -fsS -o /dev/null --max-time 2 "http://$HOST:$TEMPORAL_UI_PORT/"; }

start_temporal() {
	if is_running temporal 'server start-dev' "$TEMPORAL_PORT"; then
		report temporal up "$HOST:$TEMPORAL_PORT ui http://$HOST:$TEMPORAL_UI_PORT (already running, pid $(pid_of temporal))"
		return 0
	fi
	local port
	for port in "$TEMPORAL_PORT" "$TEMPORAL_UI_PORT" "$TEMPORAL_HTTP_PORT" "$TEMPORAL_METRICS_PORT"; do
		ensure_port_free temporal "$port"
	done
	mkdir -p "$STATE_DIR/temporal"
	# Every port is set explicitly, otherwise start-dev picks random ones.
	# One partition per task queue: with the default four, a task written
	# to a partition no poller is on waited up to a long poll (measured: a
	# test-connection's first workflow task sat 48 s with a worker polling).
	spawn temporal "$BIN_DIR/temporal" server start-dev --ip "$HOST" \
		--port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT" --http-port "$TEMPORAL_HTTP_PORT" \
		--metrics-port "$TEMPORAL_METRICS_PORT" --db-filename "$STATE_DIR/temporal/temporal.db" \
		--namespace "$TEMPORAL_NAMESPACE" --log-level warn \
		--dynamic-config-value matching.numTaskqueueReadPartitions=1 \
		--dynamic-config-value matching.numTaskqueueWritePartitions=1
	wait_up temporal 'server start-dev' 90 temporal_healthy || fail temporal "cluster health did not report SERVING within 90s"
	wait_up temporal 'server start-dev' 30 temporal_ui_healthy || fail temporal "web UI on :$TEMPORAL_UI_PORT did not answer within 30s"
	register_search_attributes
	report temporal up "$HOST:$TEMPORAL_PORT ui http://$HOST:$TEMPORAL_UI_PORT (pid $(pid_of temporal))"
}

# register_search_attributes adds the search attributes Rollcall's Odoo sync
# runs record (the worker also does at start), so the Temporal UI filters
# them by trigger, outcome and employee. Existing ones are left alone.
register_search_attributes() {
	local attr
	for attr in RollcallSyncTrigger=Keyword RollcallSyncOutcome=Keyword RollcallSyncEmployees=KeywordList; do
		"$BIN_DIR/temporal" operator search-attribute create --address "$HOST:$TEMPORAL_PORT" \
			--namespace "$TEMPORAL_NAMESPACE" --name "${attr%%=*}" --type "${attr#*=}" >/dev/null 2>&1 || true
	done
}

stop_temporal() { stop_pid temporal 'server start-dev' 30; }
status_temporal() { status_generic temporal 'server start-dev' "$TEMPORAL_PORT" temporal_healthy; }

# ---- RTSP camera stand-in ------------------------------------------------------------
CAMERA_SCRIPT=$ROOT_DIR/deploy/rtsp/camera_server.py
# Extra mounts: deploy/rtsp/mounts.json if present (see camera_server.py), and
# ROLLCALL_CAMERA_ARGS (word-split), e.g. "--image-mount /demo=/path/pic.jpg".
camera_args() {
	CAMERA_ARGS=(--address "$HOST" --port "$RTSP_PORT" --user "$CAM_USER" --password "$CAM_PASSWORD")
	[[ -f $ROOT_DIR/deploy/rtsp/mounts.json ]] && CAMERA_ARGS+=(--mounts-json "@$ROOT_DIR/deploy/rtsp/mounts.json")
	# shellcheck disable=SC2206 # word splitting is intended
	CAMERA_ARGS+=(${ROLLCALL_CAMERA_ARGS:-})
}

# probe_codec URL: print the first video stream as codec,width,height.
probe_codec() {
	timeout 15 ffprobe -v error -rtsp_transport tcp -analyzeduration 500000 -probesize 32768 \
		-i "$1" -select_streams v:0 -show_entries stream=codec_name,width,height -of csv=p=0 2>&1 || true
}

camera_healthy() { [[ $(probe_codec "rtsp://$HOST:$RTSP_PORT/cam1") == h264,640,480 ]]; }

camera_verify() {
	local base=rtsp://$HOST:$RTSP_PORT out
	out=$(probe_codec "$base/cam2")
	[[ $out == h264,1280,720 ]] || fail camera "/cam2 gave '$out', want h264,1280,720"
	out=$(probe_codec "$base/secure")
	[[ $out == *401* ]] || fail camera "/secure without credentials should answer 401, got '$out'"
	out=$(probe_codec "rtsp://$CAM_USER:$CAM_PASSWORD@$HOST:$RTSP_PORT/secure")
	[[ $out == h264,640,480 ]] || fail camera "/secure with credentials gave '$out'"
}

# camera_serves_args PID: the running server was started with every word of
# CAMERA_ARGS, so it serves every mount asked for (it may serve more). A
# changed mounts.json under the same name is not noticed.
camera_serves_args() {
	local -a running
	local want have
	mapfile -d '' -t running <"/proc/$1/cmdline" 2>/dev/null || return 1
	for want in "${CAMERA_ARGS[@]}"; do
		for have in "${running[@]}"; do
			[[ $have == "$want" ]] && continue 2
		done
		return 1
	done
}

start_camera() {
	camera_args
	if is_running camera camera_server.py "$RTSP_PORT"; then
		if camera_serves_args "$(pid_of camera)"; then
			report camera up "rtsp://$HOST:$RTSP_PORT (already running, pid $(pid_of camera))"
			return 0
		fi
		# Mounts are fixed at start: restart to add the ones asked for.
		info "camera: restarting to serve ${ROLLCALL_CAMERA_ARGS:-deploy/rtsp/mounts.json}"
		stop_camera
	fi
	ensure_port_free camera "$RTSP_PORT"
	spawn camera "$SYS_PYTHON" -u "$CAMERA_SCRIPT" "${CAMERA_ARGS[@]}"
	wait_up camera camera_server.py 10 port_open "$RTSP_PORT" || fail camera "camera_server.py did not listen on :$RTSP_PORT within 5s"
	wait_up camera camera_server.py 30 camera_healthy || fail camera "ffprobe of /cam1 did not report h264 640x480 within 30s"
	camera_verify
	report camera up "rtsp://$HOST:$RTSP_PORT /cam1 /cam2 /secure($CAM_USER)${ROLLCALL_CAMERA_ARGS:+ $ROLLCALL_CAMERA_ARGS} (pid $(pid_of camera))"
}

stop_camera() { stop_pid camera camera_server.py 10; }
status_camera() { status_generic camera camera_server.py "$RTSP_PORT" true; }

# ---- shared --------------------------------------------------------------------------
# status_generic SVC PATTERN PORT HEALTH_FN
status_generic() {
	if is_running "$1" "$2" "$3" && "$4"; then
		report "$1" up "$HOST:$3 (pid $(pid_of "$1"))"
	else
		report "$1" down "$HOST:$3"
		return 1
	fi
}
