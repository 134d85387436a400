# Store harness: a private PostgreSQL 15 cluster for the tests of the
# postgresql store. Sourced by tests/run (a server for the run), by
# tests/lib.sh (a suite run on its own with HSMCA_TEST_STORE=postgresql)
# and by the suites that test the harness itself.
#
# The cluster lives in DIR (its data in DIR/data, its Unix socket in DIR)
# and listens on no TCP port. It runs as an unprivileged OS user: the
# current one, or postgres when the tests run as root (root reaches the
# socket as a client all the same). Clients are trusted on the socket,
# nothing else is allowed. The server is stopped by its PID (DIR/pid).

. "$HSMCA_TOP/tests/tokens/daemon.sh"
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# pg_as [--bg] DIR CMD...: run CMD in DIR as the cluster's OS user (the
# owner of DIR). With --bg, in the background with its output in DIR/log,
# its PID in DIR/pid: CMD itself, as setpriv and env execute it in place.
pg_as() {
	_bg=""
	[ "$1" = --bg ] && _bg=1 && shift
	_pd=$1
	shift
	if [ "$(id -u)" -eq 0 ]; then
		set -- setpriv --reuid=postgres --regid=postgres --init-groups \
			env -C "$_pd" HOME="$_pd" USER=postgres LOGNAME=postgres "$@"
	else
		set -- env -C "$_pd" "$@"
	fi
	if [ -z "$_bg" ]; then
		"$@"
		return
	fi
	"$@" </dev/null >"$_pd/log" 2>&1 &
	echo $! >"$_pd/pid"
}

# pg_server_start DIR: initdb and start the cluster in DIR (an existing,
# empty directory); export HSMCA_TEST_PG_HOST (the socket directory) and
# HSMCA_TEST_PG_USER (the superuser role). Status 1, with a word on stderr
# and the server's log in DIR/log, when it does not start.
pg_server_start() {
	_pd=$(cd "$1" && pwd) || return 1
	if [ "$(id -u)" -eq 0 ]; then
		_pu=postgres
		if ! id -u "$_pu" >/dev/null 2>&1; then
			echo "pg harness: running as root and there is no OS user postgres" >&2
			return 1
		fi
		chown "$_pu:" "$_pd" || return 1
		if ! pg_as "$_pd" test -w "$_pd"; then
			echo "pg harness: OS user $_pu cannot reach $_pd (its parent directories?)" >&2
			return 1
		fi
	else
		_pu=$(id -un)
	fi
	chmod 700 "$_pd"
	if ! pg_as "$_pd" "$PG_BIN/initdb" -D "$_pd/data" -U "$_pu" -E UTF8 --locale=C \
		--auth-local=trust --auth-host=reject --no-sync >"$_pd/initdb.log" 2>&1; then
		echo "pg harness: initdb failed (see $_pd/initdb.log)" >&2
		return 1
	fi
	# Trust on the local socket, nothing else.
	echo "local all all trust" >"$_pd/data/pg_hba.conf"
	# A test cluster: no TCP, no durability across an OS crash.
	pg_as --bg "$_pd" "$PG_BIN/postgres" -D "$_pd/data" -k "$_pd" -c listen_addresses= \
		-c unix_socket_permissions=0700 -c fsync=off -c full_page_writes=off \
		-c shared_buffers=16MB -c logging_collector=off
	if ! daemon_wait "$(cat "$_pd/pid")" "pg harness: postgres" \
		"$PG_BIN/pg_isready" -q -h "$_pd" -U "$_pu" -d postgres; then
		echo "pg harness: see $_pd/log" >&2
		return 1
	fi
	HSMCA_TEST_PG_HOST=$_pd
	HSMCA_TEST_PG_USER=$_pu
	export HSMCA_TEST_PG_HOST HSMCA_TEST_PG_USER
}

# pg_procs DIR: the PIDs of the cluster's processes, the postmaster and
# its children, one a line.
pg_procs() {
	[ -f "$1/pid" ] || return 0
	ps -eo pid=,ppid= | awk -v p="$(cat "$1/pid")" '$1 == p || $2 == p { print $1 }'
}

# pg_running PID...: those of PID... still running (a zombie is not).
pg_running() {
	[ $# -gt 0 ] || return 0
	ps -o pid=,stat= -p "$(echo "$@" | tr ' ' ,)" | awk '$2 !~ /^Z/ { print $1 }'
}

# pg_server_stop DIR: stop the cluster by its PID: SIGTERM (smart
# shutdown: waits for the clients), SIGINT after 5 seconds (fast: ends
# them), SIGKILL to what is left after 20; the postmaster is reaped when this shell
# started it. Status 1, naming them on stderr, when a process of the
# cluster is still running 10 seconds later.
pg_server_stop() {
	[ -f "$1/pid" ] || return 0
	_pp=$(cat "$1/pid")
	# Its children too: a killed postmaster's children are not its own any more.
	# shellcheck disable=SC2046
	set -- "$1" $(pg_procs "$1")
	_dir=$1
	shift
	kill -TERM "$_pp" 2>/dev/null
	_t0=$(date +%s)
	_sig=TERM
	while _left=$(pg_running "$@") && [ -n "$_left" ]; do
		_t=$(($(date +%s) - _t0))
		if [ "$_t" -ge 5 ] && [ "$_sig" = TERM ]; then
			kill -INT "$_pp" 2>/dev/null
			_sig=INT
		elif [ "$_t" -ge 20 ] && [ "$_sig" = INT ]; then
			echo "pg harness: postgres $_pp is not stopped by SIGTERM and SIGINT: SIGKILL" >&2
			# shellcheck disable=SC2086
			kill -KILL $_left 2>/dev/null
			_sig=KILL
		elif [ "$_t" -ge 30 ]; then
			echo "pg harness: postgres processes left: $(echo "$_left" | tr '\n' ' ')" >&2
			return 1
		fi
		sleep 0.1
	done
	wait "$_pp" 2>/dev/null
	rm -f "$_dir/pid"
}

# pg_new_db NAME: a new database NAME on the cluster of HSMCA_TEST_PG_HOST;
# prints its URL.
pg_new_db() {
	"$PG_BIN/createdb" -h "$HSMCA_TEST_PG_HOST" -U "$HSMCA_TEST_PG_USER" "$1" || return 1
	echo "postgresql:///$1?host=$HSMCA_TEST_PG_HOST&user=$HSMCA_TEST_PG_USER"
}
