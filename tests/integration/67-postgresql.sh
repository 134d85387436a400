#!/bin/sh
# The PostgreSQL store's test harness (tests/tokens/pg.sh, store_opt and
# store_sql in tests/lib.sh): the server answers on its Unix socket only,
# listens on no TCP port, runs as an unprivileged user and trusts the
# socket alone; a new database is created and queried as store_sql does,
# with the output sqlite3 gives; pg_server_stop leaves no process behind.
# Uses the run's server (HSMCA_TEST_PG_HOST), else starts one of its own.
. "$HSMCA_TOP/tests/lib.sh"
. "$HSMCA_TOP/tests/tokens/pg.sh"

# own_server: a server of this suite's own, in PG_OWN_SERVER (lib.sh stops
# it if the suite dies); exports HSMCA_TEST_PG_HOST and HSMCA_TEST_PG_USER.
own_server() {
	PG_OWN_SERVER=$(mktemp -d "${TMPDIR:-/tmp}/hsmca-pg.XXXXXX")
	if pg_server_start "$PG_OWN_SERVER" 2>"$T/.pgerr"; then
		ok "a server starts in $PG_OWN_SERVER"
	else
		notok "a server starts" "$(cat "$T/.pgerr")" "$(tail -n 5 "$PG_OWN_SERVER/log" 2>/dev/null)"
		done_testing
		exit 1
	fi
}
shared=${HSMCA_TEST_PG_HOST:-}
if [ -n "$shared" ]; then
	diag "the run's server: $shared"
else
	own_server
fi
host=$HSMCA_TEST_PG_HOST
user=$HSMCA_TEST_PG_USER
pid=$(cat "$host/pid")

# --- the server -------------------------------------------------------------------
check "it answers on its socket (pg_isready)" "$PG_BIN/pg_isready" -h "$host" -U "$user" -d postgres
check "the socket is in its directory" test -S "$host/.s.PGSQL.5432"
sql() { psql "postgresql:///postgres?host=$host&user=$user" -X -A -t -q -v ON_ERROR_STOP=1 -c "$1"; }
is "$(sql "select current_setting('listen_addresses')")" "" "listen_addresses is empty"
procs=$(pg_procs "$host" | tr '\n' ' ')
like "$procs" "^$pid " "the postmaster has the PID in DIR/pid"
tcp=$(ss -ltnpH)
unlike "$tcp" "$(echo "$procs" | sed 's/ $//; s/ /|/g; s/[0-9][0-9]*/pid=&,/g')" "ss -ltnp: none of its processes listens on TCP"
like "$(ss -lxpH)" "$host/.s.PGSQL.5432 .*pid=$pid," "ss -lxp: the postmaster listens on the socket"
uid=$(ps -o uid= -p "$pid" | tr -d ' ')
if [ "$uid" -ne 0 ]; then
	ok "the server runs as a user other than root (uid $uid)"
else
	notok "the server runs as a user other than root" "uid $uid"
fi
if [ "$(id -u)" -eq 0 ]; then
	is "$(ps -o user= -p "$pid")" postgres "run by root, it runs as postgres"
	is "$user" postgres "the superuser role is postgres"
else
	is "$uid" "$(id -u)" "it runs as the user running the tests"
	is "$user" "$(id -un)" "the superuser role is that user's name"
fi
is "$(sql "select type || ' ' || array_to_string(database, ',') || ' ' || array_to_string(user_name, ',') || ' ' || auth_method from pg_hba_file_rules")" \
	"local all all trust" "pg_hba: trust on the socket, nothing else"

# --- a database, store_sql ----------------------------------------------------------
url=$(pg_new_db t_67_harness)
is "$url" "postgresql:///t_67_harness?host=$host&user=$user" "pg_new_db prints the URL of the database"
mkdir pgca liteca
python3 -c 'import json, sys; json.dump({"store": sys.argv[1]}, open("pgca/ca.json", "w"))' "$url"
echo '{}' >liteca/ca.json
schema="create table certs (serial text primary key, n integer, revoked_at text)"
rows="insert into certs values ('0a', 1, 'x|y'), ('0b', 2, null)"
query="select serial, n, revoked_at from certs order by serial"
for ca in pgca liteca; do
	check "store_sql $ca: create a table" store_sql "$ca" "$schema"
	check "store_sql $ca: insert" store_sql "$ca" "$rows"
done
is "$(store_sql pgca "$query")" "0a|1|x|y
0b|2|" "store_sql on PostgreSQL: a row a line, columns joined by |, NULL empty"
is "$(store_sql pgca "$query")" "$(store_sql liteca "$query")" "store_sql: the same output as sqlite3 CADIR/ca.db"
is "$(store_sql pgca "update certs set n = 3 where serial = '0b'")" "" "store_sql: an update prints nothing"
is "$(psql "$url" -X -A -t -c "select n from certs where serial = '0b'")" 3 "the database has the update"
if store_sql pgca "select nosuch from certs" >"$T/.out" 2>&1; then
	notok "store_sql: an SQL error fails" "$(cat "$T/.out")"
else
	like "$(cat "$T/.out")" 'column "nosuch" does not exist' "store_sql: an SQL error fails, with PostgreSQL's message"
fi
check "the database is in the cluster" test "$(sql "select count(*) from pg_database where datname = 't_67_harness'")" = 1

# --- store_opt ------------------------------------------------------------------------
is "$(HSMCA_TEST_STORE=sqlite store_opt)" "" "store_opt on sqlite: nothing"
o1=$(HSMCA_TEST_STORE=postgresql store_opt)
o2=$(HSMCA_TEST_STORE=postgresql store_opt)
like "$o1" "^--store postgresql:///t_67_postgresql_$$_[0-9]+\?host=$host&user=$user$" "store_opt on postgresql: --store URL"
if [ "$o1" != "$o2" ]; then ok "store_opt: a new database each call"; else notok "store_opt: a new database each call" "$o1"; fi
check "store_opt's database exists" psql "${o2#--store }" -X -A -t -c "select 1"

# --- stop -----------------------------------------------------------------------------
if [ -n "$shared" ]; then
	# The run's server is the run's to stop: check pg_server_stop on one of our own.
	own_server
	procs=$(pg_procs "$PG_OWN_SERVER" | tr '\n' ' ')
fi
dir=$PG_OWN_SERVER
check "pg_server_stop" pg_server_stop "$dir"
# shellcheck disable=SC2086
is "$(pg_running $procs)" "" "none of its processes is left running"
is "$(ps -eo args= | grep -F "$dir" | grep -v grep)" "" "no process names its directory"
check "its socket is gone" test ! -e "$dir/.s.PGSQL.5432"
check "DIR/pid is gone" test ! -e "$dir/pid"
rm -rf "$dir"
PG_OWN_SERVER=""
if [ -n "$shared" ]; then
	HSMCA_TEST_PG_HOST=$shared
	check "the run's server still answers" "$PG_BIN/pg_isready" -h "$shared" -U "$user" -d postgres
fi
done_testing
