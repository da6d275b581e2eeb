# shellcheck shell=bash
# PostgreSQL 15: a private cluster on 127.0.0.1:55432 (sourced).
#
# As root, postgres refuses to run, so the cluster runs as the `postgres` OS
# user via runuser and its directories are owned by it. If that user cannot
# traverse the state dir's parents (repo under /root, say), the cluster lives
# in /tmp/rollcall-pg-<hash of state dir> instead. As an ordinary user the
# cluster simply runs as that user under the state dir.

PG_BIN=/usr/lib/postgresql/15/bin
PG_OS_USER=

# pg_setup: decide who runs postgres and where its files go (PG_BASE etc).
pg_setup() {
	[[ -n ${PG_BASE:-} ]] && return 0
	PG_BASE=$STATE_DIR/postgres
	if is_root; then
		PG_OS_USER=postgres
		id -u postgres >/dev/null 2>&1 || die "postgres: OS user 'postgres' missing (apt-get install postgresql)"
		# Deepest existing part of the state dir must be reachable by postgres.
		local probe=$STATE_DIR
		while [[ ! -e $probe ]]; do probe=$(dirname "$probe"); done
		if ! runuser -u postgres -- test -x "$probe" 2>/dev/null; then
			PG_BASE=/tmp/rollcall-pg-$(printf '%s' "$STATE_DIR" | sha256sum | cut -c1-12)
			PG_FALLBACK=1
		fi
	fi
	PG_DATA=$PG_BASE/data
	PG_SOCK=$PG_BASE/run
	PG_LOG=$LOG_DIR/postgres.log
	[[ -n ${PG_FALLBACK:-} ]] && PG_LOG=$PG_BASE/postgres.log
	return 0
}

# as_pg CMD...: run CMD as the cluster owner (from / so runuser can chdir).
as_pg() {
	if [[ -n $PG_OS_USER ]]; then
		(cd / && runuser -u "$PG_OS_USER" -- "$@")
	else
		"$@"
	fi
}

pg_pid() {
	local pid=
	[[ -r $PG_DATA/postmaster.pid ]] && read -r pid <"$PG_DATA/postmaster.pid" 2>/dev/null
	printf '%s' "$pid"
}

pg_running() {
	pg_setup
	pid_alive "$(pg_pid)" postgres && port_open "$PG_PORT"
}

pg_healthy() { "$PG_BIN/pg_isready" -q -h "$HOST" -p "$PG_PORT"; }

# psql_admin ARGS...: superuser session over the private unix socket (trust).
psql_admin() {
	"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres
}

pg_init() {
	mkdir -p "$PG_BASE" "$PG_SOCK"
	if [[ -n ${PG_FALLBACK:-} ]]; then
		info "postgres: user 'postgres' cannot reach $STATE_DIR; using data dir $PG_BASE instead"
		chmod 0700 "$PG_BASE"
		ln -sfn "$PG_LOG" "$LOG_DIR/postgres.log"
	fi
	touch "$PG_LOG"
	[[ -n $PG_OS_USER ]] && chown "$PG_OS_USER:" "$PG_BASE" "$PG_SOCK" "$PG_LOG"
	chmod 0700 "$PG_SOCK"
	[[ -s $PG_DATA/PG_VERSION ]] && return 0

	info "postgres: initdb $PG_DATA"
	as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --no-locale \
		--auth-local=trust --auth-host=scram-sha-256 >>"$PG_LOG" 2>&1 ||
		fail postgres "initdb failed"
	# Superuser by socket only; everything over TCP needs a SCRAM password.
	as_pg tee "$PG_DATA/pg_hba.conf" >/dev/null <<-'EOF'
		# Rollcall local stack (written by deploy/lib/postgres.sh)
		local   all   all                  trust
		host    all   all   127.0.0.1/32   scram-sha-256
	EOF
}

pg_bootstrap() {
	psql_admin <<-SQL || fail postgres "creating role/database failed"
		DO \$\$ BEGIN
		  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
		    CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
		  ELSE
		    ALTER ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
		  END IF;
		END \$\$;
		SELECT 'CREATE DATABASE $PG_DB OWNER $PG_USER'
		WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$PG_DB')\gexec
	SQL
}

start_pg() {
	pg_setup
	if pg_running; then
		report postgres up "$HOST:$PG_PORT (already running, pid $(pg_pid))"
		return 0
	fi
	ensure_port_free postgres "$PG_PORT"
	pg_init
	# A postmaster.pid left by a crash is handled by postgres itself.
	local opts="-c listen_addresses=$HOST -p $PG_PORT -k '$PG_SOCK'"
	opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
	printf '\n==== %s: starting postgres\n' "$(date -Is)" >>"$PG_LOG"
	# shellcheck disable=SC2094 # pg_ctl's own output and the server log share a file
	as_pg setsid "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -o "$opts" -w -t 30 start \
		>>"$PG_LOG" 2>&1 </dev/null 9>&- || fail postgres "pg_ctl start failed"
	wait_for 30 pg_healthy || fail postgres "pg_isready -h $HOST -p $PG_PORT did not succeed within 30s"
	printf '%s\n' "$(pg_pid)" >"$RUN_DIR/postgres.pid"
	pg_bootstrap
	report postgres up "$HOST:$PG_PORT data=$PG_DATA (pid $(pg_pid))"
}

stop_pg() {
	pg_setup
	if [[ -s $PG_DATA/postmaster.pid ]] && pid_alive "$(pg_pid)" postgres; then
		as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null ||
			warn "postgres: pg_ctl stop failed"
		info "postgres stopped"
	fi
	rm -f "$RUN_DIR/postgres.pid"
}

status_pg() {
	pg_setup
	if pg_running && pg_healthy; then
		report postgres up "$HOST:$PG_PORT (pid $(pg_pid))"
	else
		report postgres down "$HOST:$PG_PORT"
		return 1
	fi
}
