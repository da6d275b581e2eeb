# shellcheck shell=bash disable=SC2034 # settings used by the other lib files
# Shared configuration and helpers for deploy/stack.sh (sourced, not run).

# ---- layout -----------------------------------------------------------------
ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE_DIR=$(realpath -m "${ROLLCALL_STACK_DIR:-$ROOT_DIR/.local}")
BIN_DIR=$STATE_DIR/bin
LOG_DIR=$STATE_DIR/log
RUN_DIR=$STATE_DIR/run

# ---- fixed loopback ports -------------------------------------------------------
HOST=127.0.0.1
PG_PORT=55432
REDIS_PORT=56379
MINIO_PORT=59000
MINIO_CONSOLE_PORT=59001
TEMPORAL_PORT=57233
TEMPORAL_UI_PORT=58233
TEMPORAL_HTTP_PORT=57243
TEMPORAL_METRICS_PORT=57234
RTSP_PORT=58554

# ---- credentials (local development only) -------------------------------------
PG_USER=rollcall PG_PASSWORD=rollcall PG_DB=rollcall
MINIO_USER=rollcall MINIO_PASSWORD=rollcall-secret MINIO_BUCKET=rollcall
TEMPORAL_NAMESPACE=default
CAM_USER=camuser CAM_PASSWORD=campass

# ---- pinned tools -----------------------------------------------------------------
TEMPORAL_PKG=github.com/temporalio/cli/cmd/temporal@v1.5.1
MINIO_PKG=github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c
# The Debian python3 has PyGObject; a pyenv/venv python3 on PATH usually does not.
SYS_PYTHON=/usr/bin/python3

# ---- output -------------------------------------------------------------------------
info() { printf '[stack] %s\n' "$*" >&2; }
warn() { printf '[stack] WARNING: %s\n' "$*" >&2; }
die() {
	printf '[stack] ERROR: %s\n' "$*" >&2
	exit 1
}

# log_tail SVC [LINES]: show the end of a service's log on stderr.
log_tail() {
	local file=$LOG_DIR/$1.log lines=${2:-25}
	if [[ -r $file ]]; then
		printf '[stack] ---- last %s lines of %s ----\n' "$lines" "$file" >&2
		tail -n "$lines" "$file" >&2 || true
		printf '[stack] ----\n' >&2
	else
		printf '[stack] (no log at %s)\n' "$file" >&2
	fi
}

# fail SVC MESSAGE: a service did not come up; explain and stop.
fail() {
	printf '[stack] ERROR: %s: %s\n' "$1" "$2" >&2
	log_tail "$1" 30
	exit 1
}

# ---- process helpers --------------------------------------------------------------------
# wait_for TIMEOUT_SECONDS CMD...: retry CMD (quietly) until it succeeds.
wait_for() {
	local timeout=$1
	shift
	local deadline=$((SECONDS + timeout))
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

# wait_up SVC PATTERN TIMEOUT CMD...: wait_for, but give up at once (with the
# log tail) if the service's process exits while we wait. Only an exit counts:
# a process whose command line does not match PATTERN yet may still be on its
# way to exec (spawn's wrapper, setsid, nohup), which on a busy machine takes
# a while. Once CMD succeeds, the process must be the one asked for.
wait_up() {
	local svc=$1 pattern=$2 timeout=$3
	shift 3
	local deadline=$((SECONDS + timeout)) pid
	pid=$(pid_of "$svc")
	until "$@" >/dev/null 2>&1; do
		[[ -n $pid ]] && ! pid_gone "$pid" || fail "$svc" "process exited during start-up"
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
	wait_for 10 pid_alive "$pid" "$pattern" || fail "$svc" "pid $pid is not $pattern"
}

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
	timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
}

port_closed() { ! port_open "$1"; }

# pid_of SVC: the pid recorded in the service's pid file (empty if none).
pid_of() {
	local file=$RUN_DIR/$1.pid pid=
	[[ -r $file ]] && read -r pid <"$file" 2>/dev/null
	[[ $pid =~ ^[0-9]+$ ]] && printf '%s' "$pid"
	return 0
}

# pid_alive PID [PATTERN]: the process exists (and its command line matches
# PATTERN, which guards against a recycled pid from a stale pid file).
pid_alive() {
	local pid=$1 pattern=${2:-}
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
	[[ -z $pattern ]] && return 0
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$pattern"
}

# pid_gone PID: exited (a zombie not yet reaped by init counts as gone).
pid_gone() {
	kill -0 "$1" 2>/dev/null || return 0
	[[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) == Z ]]
}

# is_running SVC PATTERN PORT: pid file + live process + port answering.
is_running() {
	local pid
	pid=$(pid_of "$1")
	pid_alive "$pid" "$2" && port_open "$3"
}

# ensure_port_free SVC PORT: fail early if a foreign process holds the port.
ensure_port_free() {
	port_open "$2" && die "$1: port $HOST:$2 is already in use by another process (not started by this script; state dir $STATE_DIR)"
	# The stack's fixed ports lie in Linux's ephemeral range (32768-60999), so
	# an open client connection may hold one as its local port, and a server
	# then fails to bind it (the camera said "cannot listen" on a fresh
	# start-up while a connection to PostgreSQL used 58554). Wait it out.
	# TIME-WAIT remains do not count: every service binds with SO_REUSEADDR.
	if port_held "$2"; then
		info "$1: port $2 is held by a client connection's local end; waiting for it to close"
		wait_for 75 port_not_held "$2" || die "$1: port $HOST:$2 still held by a connection after 75s: $(ss -Htan "sport = :$2" 2>/dev/null | head -3)"
	fi
	return 0
}

# port_held PORT: some TCP socket other than a TIME-WAIT remain (a client's
# local end, say) uses PORT locally. Without ss (iproute2), nothing can be seen: false.
port_held() {
	command -v ss >/dev/null 2>&1 || return 1
	[[ -n $(ss -Htan exclude time-wait "sport = :$1" 2>/dev/null) ]]
}

port_not_held() { ! port_held "$1"; }

# reserve_ports keeps the kernel from handing the stack's fixed ports to
# client connections as their local ports (net.ipv4.ip_local_reserved_ports;
# needs root, and adds to what is reserved already). Without it a service's
# start-up can lose its port to a passing connection.
reserve_ports() {
	local f=/proc/sys/net/ipv4/ip_local_reserved_ports
	local want="$PG_PORT,$REDIS_PORT,$MINIO_PORT,$MINIO_CONSOLE_PORT,$TEMPORAL_PORT,$TEMPORAL_UI_PORT,$TEMPORAL_HTTP_PORT,$TEMPORAL_METRICS_PORT,$RTSP_PORT"
	[[ -r $f ]] || return 0
	local have
	have=$(<"$f")
	local p missing=
	for p in ${want//,/ }; do
		reserved_in "$p" "$have" || missing+=${missing:+,}$p
	done
	[[ -z $missing ]] && return 0
	if [[ -w $f ]] && printf '%s\n' "${have:+$have,}$missing" >"$f" 2>/dev/null; then
		info "reserved ports $missing against ephemeral use (net.ipv4.ip_local_reserved_ports)"
	else
		info "note: ports $missing are in the ephemeral range and not reserved; as root, stack.sh reserves them (sysctl net.ipv4.ip_local_reserved_ports)"
	fi
}

# reserved_in PORT LIST: PORT is in a comma-separated list of ports and
# ranges (the kernel's ip_local_reserved_ports format).
reserved_in() {
	local item lo hi
	for item in ${2//,/ }; do
		lo=${item%-*} hi=${item#*-}
		((lo <= $1 && $1 <= hi)) && return 0
	done
	return 1
}

# spawn SVC CMD...: start CMD detached (own session, immune to hangups),
# output appended to log/SVC.log, pid written to run/SVC.pid. The pid file is
# written by the detached process itself right before it execs CMD (so it
# names CMD's process even if setsid had to fork), and spawn returns once it
# is there: callers never read a pid of a shell that has not exec'd yet.
spawn() {
	local svc=$1
	shift
	local log=$LOG_DIR/$svc.log pidfile=$RUN_DIR/$svc.pid
	rm -f "$pidfile" "$pidfile.tmp"
	printf '\n==== %s: starting %s\n' "$(date -Is)" "$*" >>"$log"
	# shellcheck disable=SC2016 # $$ and $@ expand in the detached shell
	setsid nohup bash -c 'printf "%s\n" "$$" >"$0.tmp" && mv -f "$0.tmp" "$0" && exec "$@"' \
		"$pidfile" "$@" >>"$log" 2>&1 </dev/null 9>&- &
	local launcher=$! deadline=$((SECONDS + 30))
	until [[ -s $pidfile ]]; do
		if pid_gone "$launcher" && [[ ! -s $pidfile ]]; then
			fail "$svc" "process exited before it started"
		fi
		((SECONDS < deadline)) || fail "$svc" "process did not start within 30s"
		sleep 0.05
	done
}

# stop_pid SVC PATTERN [TIMEOUT]: SIGTERM the recorded pid, wait, then SIGKILL.
stop_pid() {
	local svc=$1 pattern=$2 timeout=${3:-20} pid
	pid=$(pid_of "$svc")
	if pid_alive "$pid" "$pattern"; then
		kill -TERM "$pid" 2>/dev/null || true
		if ! wait_for "$timeout" pid_gone "$pid"; then
			warn "$svc (pid $pid) ignored SIGTERM for ${timeout}s; sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			wait_for 5 pid_gone "$pid" || warn "$svc (pid $pid) still alive"
		fi
		info "$svc stopped (pid $pid)"
	fi
	rm -f "$RUN_DIR/$svc.pid"
}

# with_lock CMD...: serialise install/up/down between concurrent invocations.
# fd 9 holds the lock; spawned daemons close it (see spawn).
with_lock() {
	mkdir -p "$RUN_DIR"
	exec 9>"$RUN_DIR/stack.lock"
	flock -w 900 9 || die "another stack.sh holds $RUN_DIR/stack.lock"
	"$@"
	exec 9>&-
}

ensure_dirs() {
	mkdir -p "$BIN_DIR" "$LOG_DIR" "$RUN_DIR"
}

is_root() { [[ $(id -u) -eq 0 ]]; }

# report SVC STATE DETAIL: the one-line-per-service output of up/status.
report() { printf '%-9s %-5s %s\n' "$1" "$2" "$3"; }
