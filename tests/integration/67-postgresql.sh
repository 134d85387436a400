#!/bin/sh
# The PostgreSQL store's test harness (tests/tokens/pg.sh, store_opt and
# store_sql in tests/lib.sh): the server answers on its Unix socket only,
# listens on no TCP port, runs as an unprivileged user and trusts the
# socket alone; a new database is created and queried as store_sql does,
# with the output sqlite3 gives; pg_server_stop leaves no process behind.
# Then one CA on PostgreSQL shared by four signing hosts (a token each with
# the same key): concurrent issuance and revocation, no serial or request
# twice, one audit chain, CRLs from any host, each host's token anchor.
# Then hsmca-audit migrate from SQLite to PostgreSQL and back; a store
# whose server asks a password, with the password from a PIN source.
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
like "$procs" "(^| )$pid " "the postmaster has the PID in DIR/pid (PIDs wrap: any place in the list)"
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

# --- one CA, four signing hosts, one shared store -----------------------------------
# Each host has its own token holding the same CA key (imported into each, as
# an HSM clone would hold it) and its own CA directory naming the database.
fleet=$(pg_new_db t_67_fleet)
root_ca ec:p256 "CN=Fleet Root"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out fleet.key 2>/dev/null
for h in 1 2 3 4; do
	new_token "Host$h"
	softhsm2-util --import fleet.key --token "Host$h" --label fleet-key --id 01 --pin "$PIN" >/dev/null ||
		notok "the CA key imported into token Host$h"
done
openssl req -new -key fleet.key -subj "/CN=Fleet Issuing CA" -out fleet.csr
check "the root signs the fleet's issuing CA" hsmca-sign-subca --ca root --pin-source "$PINSRC" --csr fleet.csr --days 1825 --out fleet.crt
expect_fail 2 "holds a password: name its source" "a password in the store's connection string is refused" \
	hsmca-init-ca --ca refused --key "pkcs11:token=Host1;object=fleet-key" --pin-source "$PINSRC" \
	--cert fleet.crt --chain root/ca.crt --store "$fleet&password=refused"
check "host1: init-ca --store postgresql://" hsmca-init-ca --ca host1 --key "pkcs11:token=Host1;object=fleet-key" \
	--pin-source "$PINSRC" --cert fleet.crt --chain root/ca.crt --crl-url http://crl.example.com/fleet.crl --store "$fleet"
is "$(python3 -c 'import json; print(json.load(open("host1/ca.json"))["store"])')" "$fleet" "ca.json names the database"
# libpq (with GnuTLS, Kerberos and LDAP behind it) is loaded only for a
# PostgreSQL store, not at every tool's start.
unlike "$(for t in "$BIN"/hsmca-*; do ldd "$t"; done)" "libpq" "no tool links libpq"
unlike "$(LD_DEBUG=files hsmca-audit --ca root verify 2>&1)" "file=libpq" "a SQLite store does not load libpq"
like "$(LD_DEBUG=files hsmca-audit --ca host1 verify 2>&1)" "file=libpq.so.5 .*dynamically loaded" "a PostgreSQL store loads libpq.so.5"
# Without libpq (hidden in a mount namespace of our own): a refusal naming the package.
libpq=$(/sbin/ldconfig -p | awk '$1 == "libpq.so.5" { print $NF; exit }')
if [ -n "$libpq" ] && unshare -rm true 2>/dev/null; then
	out=$(unshare -rm sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' sh "$libpq" \
		hsmca-audit --ca host1 verify 2>&1)
	is "$?" 2 "libpq missing: exit 2"
	like "$out" "a PostgreSQL store needs libpq \\(Debian package libpq5\\)" "and the message names the package"
else
	ok "# SKIP no libpq.so.5 in ldconfig's cache, or no user namespaces to hide it in"
	ok "# SKIP (the same)"
fi
check "no ca.db in the directory" test ! -e host1/ca.db
is "$(store_sql host1 "select count(*) from audit")" 1 "the schema and the first audit entry are in the database"
new_token Other
keygen Other other-key ec:p256 >/dev/null
expect_fail 2 "already holds a CA" "init-ca into a database that holds a CA is refused" \
	hsmca-init-ca --ca again --key "pkcs11:token=Other;object=other-key" --pin-source "$PINSRC" \
	--self-sign --subject "CN=Again" --days 30 --store "$fleet"
check "and leaves no directory" test ! -e again
# Size-mode CRL partitions (each CRL under 8 KiB with every certificate in
# it revoked), the same "crl" settings on every host.
mkdir crl0
check "host1: partitions of at most 8192 bytes" hsmca-gen-crl --ca host1 --pin-source "$PINSRC" \
	--partition-size 8192 --partition-url "http://crl.example.com/fleet-{n}.crl" --out-dir crl0
fsql() { store_sql host1 "$1" 2>&1; }
like "$(fsql "delete from audit")" "the audit log is append-only" "the database refuses to delete audit entries"
like "$(fsql "update audit set entry = 'x' where seq = 1")" "the audit log is append-only" "... or to change them"
like "$(fsql "truncate audit")" "the audit log is append-only" "... or to truncate the log"
like "$(fsql "truncate certs cascade")" "issued certificates are never deleted" "the database refuses to truncate the certificates"
expect_fail 2 "backed up by its server" "hsmca-audit backup points to the server's tools" \
	hsmca-audit --ca host1 backup --out fleet.db
expect_fail 2 "keeps its store in PostgreSQL: restore it with the server's tools" \
	"hsmca-audit restore is refused on a PostgreSQL store" \
	hsmca-audit --ca host1 restore fleet.db --pin-source "$PINSRC"
expect_fail 2 "not a postgresql:// connection string" "init-ca --store with something else is refused" \
	hsmca-init-ca --ca other --key "pkcs11:token=Other;object=other-key" --pin-source "$PINSRC" \
	--self-sign --subject "CN=Other" --days 30 --store /tmp/other.db
check "and leaves no directory" test ! -e other
for h in 2 3 4; do
	mkdir -m 700 "host$h"
	cp host1/ca.crt host1/chain.pem "host$h/"
	python3 - "$h" <<'PY'
import json, sys
h = sys.argv[1]
c = json.load(open("host1/ca.json"))
c["key"] = "pkcs11:token=Host%s;object=fleet-key" % h
c["token_label"] = "Host" + h
c.pop("token_serial", None)
json.dump(c, open("host%s/ca.json" % h, "w"), indent=2)
PY
	chmod 600 "host$h/ca.json"
	expect_fail 3 "holds no anchor for the key" "host$h: no signing before it joins (its token has no anchor)" \
		hsmca-gen-crl --ca "host$h" --pin-source "$PINSRC" --out-dir "$(mkdir "crlx$h" && echo "crlx$h")"
	if [ "$h" = 2 ]; then
		# A directory naming another CA id than its store's does not join.
		sed 's/"ca_id": "[0-9a-f]*"/"ca_id": "00000000000000000000000000000000"/' host2/ca.json >host2/ca.json.x &&
			mv host2/ca.json.x host2/ca.json && chmod 600 host2/ca.json
		expect_fail 3 "does not name the CA of its store" "a host whose ca.json names another CA id does not join" \
			hsmca-audit --ca host2 anchor --pin-source "$PINSRC"
		python3 -c 'import json; c = json.load(open("host2/ca.json")); c["ca_id"] = json.load(open("host1/ca.json"))["ca_id"]; json.dump(c, open("host2/ca.json", "w"), indent=2)'
	fi
	check "host$h joins: hsmca-audit anchor" hsmca-audit --ca "host$h" anchor --pin-source "$PINSRC"
done
like "$(hsmca-audit --ca host1 log)" "signing host joined: token anchor created" "the audit log records each host that joined"
mkdir csrs
for i in $(seq 1 180); do
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
		-out "csrs/r$i.csr" -subj "/CN=r$i.example.com" 2>/dev/null
done
# tls.json of requests A to B.
requests() {
	python3 -c "
import json, sys
a, b = int(sys.argv[1]), int(sys.argv[2])
json.dump([{'common_name': 'r%d.example.com' % i, 'purposes': ['server_auth'],
            'sans': ['r%d.example.com' % i], 'csr_file': 'r%d.csr' % i}
           for i in range(a, b + 1)], open(sys.argv[3], 'w'))" "$@"
}
requests 161 180 pre.json
check "twenty certificates to revoke" hsmca-sign-leaf --ca host1 --pin-source "$PINSRC" --requests pre.json --csr-dir csrs --out-dir pre
requests 1 40 t1.json
requests 41 80 t2.json
requests 81 120 t3.json
requests 121 160 t4.json
# Separate hosts have separate HSMs: for the runs at once, each host's
# token moves into a SoftHSM directory of its own. (SoftHSM reads every
# token of its directory at C_Initialize; a process starting while others
# rewrite tokens of that directory can drop them, or, two at once, abort on
# an assertion.) Host 5 is a second process on host 4, with its token.
tokdir=$(sed -n 's/^directories.tokendir *= *//p' "$SOFTHSM2_CONF")
for h in 1 2 3 4; do
	mkdir -p "hsm$h/tokens"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$T/hsm$h/tokens" >"hsm$h/softhsm2.conf"
	mv "$(dirname "$(grep -l "Host$h" "$tokdir"/*/token.object)")" "hsm$h/tokens/"
done
on_host() {
	_h=$1
	shift
	SOFTHSM2_CONF=$T/hsm$_h/softhsm2.conf "$@"
}
# Four hosts issue at once, a fifth process issues host 4's requests again,
# a sixth revokes the twenty one by one.
for h in 1 2 3 4; do
	on_host "$h" hsmca-sign-leaf --ca "host$h" --pin-source "$PINSRC" --requests "t$h.json" --csr-dir csrs \
		--out-dir "out$h" >"h$h.log" 2>&1 &
	eval "p$h=\$!"
done
on_host 4 hsmca-sign-leaf --ca host4 --pin-source "$PINSRC" --requests t4.json --csr-dir csrs --out-dir out5 >h5.log 2>&1 &
p5=$!
(for f in pre/r*.crt; do hsmca-revoke --ca host2 --cert "$f" --reason superseded || exit 1; done) >h6.log 2>&1 &
p6=$!
for h in 1 2 3 4 5 6; do
	eval "wait \$p$h"
	echo "$h $?"
done >exits
for h in 1 2 3 4; do
	mv "hsm$h"/tokens/* "$tokdir/"
done
is "$(grep -v '^[45] ' exits | tr '\n' ' ')" "1 0 2 0 3 0 6 0 " "four hosts issue, one issues again, one revokes: all at once, and exit 0" || cat h*.log
# Hosts 4 and 5 sign the same requests at once: the second commit of a
# request is refused, and its chunk with it; a re-run says "already issued".
for h in 4 5; do
	case $(sed -n "s/^$h //p" exits) in
	0) ok "host run $h: exit 0" ;;
	3) like "$(cat "h$h.log")" "the request was issued meanwhile by another process or host" \
		"host run $h: its chunk refused at the commit, a request being issued meanwhile elsewhere"
		check "host run $h again" hsmca-sign-leaf --ca host4 --pin-source "$PINSRC" --requests t4.json --csr-dir csrs --out-dir "out$h" --force
		like "$(cat "$T/.out")" "already issued 40" "host run $h again: every request already issued" ;;
	*) notok "host run $h: exit 0 or 3" "$(cat "h$h.log")" ;;
	esac
done
is "$(store_sql host1 "select count(*), count(distinct serial) from certs where kind = 'leaf'")" "180|180" \
	"180 certificates, no serial twice"
is "$(store_sql host1 "select count(*) from (select 1 from certs group by spki_sha256, request_key having count(*) > 1) d")" 0 \
	"no request issued twice"
is "$(store_sql host1 "select count(*) from certs where cn in ($(seq 121 160 | sed "s/.*/'r&.example.com'/" | paste -sd,))")" 40 \
	"host 4's requests, run twice at once: each issued once"
is "$(store_sql host1 "select count(*) from revocations")" 20 "every revocation recorded"
like "$(hsmca-audit --ca host3 verify)" "audit log OK: [0-9]+ entries" "one audit chain across the hosts verifies"
is "$(store_sql host1 "select count(distinct json_extract_path_text(entry::json, 'host')) from audit")" 1 \
	"(the hosts of this test are one machine)"
is "$(store_sql host1 "select count(*) from certs where kind = 'leaf' and partition is null")" 0 \
	"every certificate is bound to a partition"
parts=$(store_sql host1 "select count(distinct partition) from certs where kind = 'leaf'")
if [ "$parts" -ge 2 ]; then ok "the hosts filled $parts partitions"; else notok "the hosts filled more than one partition" "$parts"; fi
mkdir crl1 crl2
check "gen-crl of every partition from host 3 (none over 8192 bytes even if all were revoked)" \
	hsmca-gen-crl --ca host3 --pin-source "$PINSRC" --out-dir crl1
revoked_in() { for f in "$1"/crl-*.crl; do openssl crl -in "$f" -noout -text | grep -c 'Serial Number'; done | awk '{ n += $1 } END { print n }'; }
is "$(revoked_in crl1)" 20 "host 3's CRLs list every revocation, made on host 2"
check "gen-crl from host 1" hsmca-gen-crl --ca host1 --pin-source "$PINSRC" --out-dir crl2
crlnums() { for f in "$1"/crl-*.crl; do openssl crl -in "$f" -noout -crlnumber | cut -d= -f2; done | sort -u | xargs printf '%d\n' | sort -n; }
is "$(crlnums crl1 | tail -n 1)" "$(($(crlnums crl1 | wc -l) + $(crlnums crl0 | wc -l)))" "host 3's CRL numbers follow host 1's first ones"
is "$(crlnums crl2 | head -n 1)" "$(($(crlnums crl1 | tail -n 1) + 1))" "host 1's CRL numbers follow host 3's"
for h in 1 2 3 4; do
	check "host$h: verify --full (its token's anchor against the shared store)" \
		hsmca-audit --ca "host$h" verify --full --pin-source "$PINSRC"
done
check "openssl verifies a certificate from each host" openssl verify -CAfile root/ca.crt -untrusted fleet.crt \
	out1/r1.crt out2/r41.crt out3/r81.crt out4/r121.crt
# A shared store behind a host's anchor is refused on that host: the
# database put back as it was before host 1's last commit.
db=${fleet#postgresql:///}
db=${db%%\?*}
pg_dump -h "$host" -U "$user" "$db" >before.sql
mkdir crl3 crl4
check "host1 commits once more" hsmca-gen-crl --ca host1 --pin-source "$PINSRC" --out-dir crl3
psql "postgresql:///postgres?host=$host&user=$user" -X -q -c "drop database $db" -c "create database $db"
psql "$fleet" -X -q -v ON_ERROR_STOP=1 <before.sql >/dev/null 2>&1 || notok "the database put back"
expect_fail 3 "is behind its token anchor" "host 1 refuses the store behind its anchor" \
	hsmca-gen-crl --ca host1 --pin-source "$PINSRC" --out-dir crl4
is "$(ls crl4)" "" "no CRL written"

# --- hsmca-audit migrate: SQLite to PostgreSQL and back -------------------------------
mkdir mig && cd mig || exit 1
# (Tokens of their own: the fleet above holds Root.)
new_token MigRoot
keygen MigRoot root-key ec:p256 >/dev/null
hsmca-init-ca --ca root --key "pkcs11:token=MigRoot;object=root-key" --pin-source "$PINSRC" \
	--self-sign --subject "CN=Migrated Root" --days 3650 >/dev/null || notok "root CA created"
new_token MigIssuing
keygen MigIssuing issuing-key ec:p256 --csr issuing.csr --subject "CN=Migrated Issuing CA" >/dev/null
hsmca-sign-subca --ca root --pin-source "$PINSRC" --csr issuing.csr --days 1825 --out issuing.crt >/dev/null
hsmca-init-ca --ca issuing --key "pkcs11:token=MigIssuing;object=issuing-key" --pin-source "$PINSRC" \
	--cert issuing.crt --chain root/ca.crt >/dev/null || notok "issuing CA created"
for i in 1 2 3; do
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -out "m$i.csr" \
		-subj "/CN=m$i.example.com" 2>/dev/null
	hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" --csr "m$i.csr" --out "m$i.crt" >/dev/null ||
		notok "issue m$i"
done
hsmca-revoke --ca issuing --cert m1.crt --reason keyCompromise >/dev/null || notok "revoke m1"
hsmca-gen-crl --ca issuing --pin-source "$PINSRC" --out m1.crl >/dev/null || notok "gen-crl"
counts="select (select count(*) from certs), (select count(*) from revocations), (select count(*) from crls), (select count(*) from audit), (select seq || ' ' || hash from audit order by seq desc limit 1)"
before=$(store_sql issuing "$counts")
# Every value of every certificate row (the certificate as hex, as each backend writes it).
cols="serial, subject, cn, spki_sha256, not_before, not_after, kind, profile, partition, request_key, notify, issued_at"
rows_lite="select $cols, hex(der), superseded_by, audit_seq from certs order by serial"
rows_pg="select $cols, upper(encode(der, 'hex')), superseded_by, audit_seq from certs order by serial"
certs_lite=$(store_sql issuing "$rows_lite")
mig=$(pg_new_db t_67_migrate)
expect_fail 2 "a postgresql:// connection string or 'sqlite'" "migrate --to something else is refused" \
	hsmca-audit --ca issuing migrate --to /tmp/elsewhere.db
expect_fail 2 "migrate needs --to" "migrate without --to is refused" hsmca-audit --ca issuing migrate
check "migrate to PostgreSQL" hsmca-audit --ca issuing migrate --to "$mig"
like "$(cat "$T/.out")" "^migrated issuing/ca.db to postgresql:///t_67_migrate.*: 3 certificates, 1 revocations, 1 CRLs, 0 executed approvals, 6 audit entries .*the same rows on both sides" \
	"migrate says what it copied and that both sides agree"
is "$(python3 -c 'import json; print(json.load(open("issuing/ca.json"))["store"])')" "$mig" "ca.json names the database"
check "the SQLite store is kept aside" test -f "$(ls issuing/ca.db.migrated-* | head -n 1)"
check "and is no longer ca.db" test ! -e issuing/ca.db
after=$(store_sql issuing "$counts")
is "${after%|*}" "$(echo "$before" | sed 's/|[^|]*$//; s/|6$/|7/')" "the database holds every row, and the migrate entry"
is "$(store_sql issuing "select hash from audit where seq = 6")" "${before##* }" "the same chain: entry 6 has the hash it had in SQLite"
is "$(store_sql issuing "$rows_pg")" "$certs_lite" "every certificate row has the values it had in SQLite (an SPKI hash stays text)"
like "$(hsmca-audit --ca issuing log)" "migrate ok: state store migrated" "the audit log records the migration"
check "verify --full on PostgreSQL: chain and token anchor" hsmca-audit --ca issuing verify --full --pin-source "$PINSRC"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -out m4.csr \
	-subj "/CN=m4.example.com" 2>/dev/null
check "issue on PostgreSQL" hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" --csr m4.csr --out m4.crt
hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" --csr m2.csr --out m2b.crt >"$T/.out" 2>&1
is "$?:$(store_sql issuing "select count(*) from certs where kind = 'leaf'")" "0:4" \
	"m2.csr again: the request issued on SQLite is known (no new row)"
like "$(cat "$T/.out")" "already issued" "and said to be issued already"
check "gen-crl on PostgreSQL" hsmca-gen-crl --ca issuing --pin-source "$PINSRC" --out m2.crl
is "$(openssl crl -in m2.crl -noout -crlnumber)" "crlNumber=0x02" "the CRL number goes on from SQLite's"
is "$(openssl crl -in m2.crl -noout -text | grep -c 'Serial Number')" 1 "the revocation made on SQLite is listed"
certs_pg=$(store_sql issuing "$rows_pg")
check "migrate back to SQLite" hsmca-audit --ca issuing migrate --to sqlite
is "$(store_sql issuing "$rows_lite")" "$certs_pg" "every certificate row has the values it had in PostgreSQL"
is "$(python3 -c 'import json; print("store" in json.load(open("issuing/ca.json")))')" False "ca.json names no database"
check "verify --full on SQLite again" hsmca-audit --ca issuing verify --full --pin-source "$PINSRC"
is "$(store_sql issuing "select count(*) from certs where kind = 'leaf'")" 4 "every certificate came back, with the one issued on PostgreSQL"
expect_fail 2 "is issuing/ca.db already" "migrate to the store in use is refused" hsmca-audit --ca issuing migrate --to sqlite
expect_fail 2 "already holds a CA" "migrate into a database that holds a CA is refused" \
	hsmca-audit --ca issuing migrate --to "$mig"
is "$(python3 -c 'import json; print("store" in json.load(open("issuing/ca.json")))')" False "a refused migrate leaves ca.json as it was"

# --- the store's password from a PIN source ------------------------------------------
# A role the server asks a password of (scram-sha-256 on the socket for it
# alone; everyone else still trusted), and two databases it owns.
hba="$host/data/pg_hba.conf"
cp "$hba" hba.saved
printf 'local all hsmca_pw scram-sha-256\nlocal all all trust\n' >"$hba"
kill -HUP "$pid"
sql "create role hsmca_pw login password 'Store-pw-67'" >/dev/null
sql "create database t_67_pw owner hsmca_pw" >/dev/null
sql "create database t_67_pw_mig owner hsmca_pw" >/dev/null
pwurl="postgresql:///t_67_pw?host=$host&user=hsmca_pw"
PGPASSFILE=/nonexistent
export PGPASSFILE
i=0
while psql -w "$pwurl" -X -A -t -c "select 1" >/dev/null 2>&1 && [ "$i" -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
like "$(psql -w "$pwurl" -X -c "select 1" 2>&1)" "no password supplied" "the server asks hsmca_pw for a password"
tables() { psql "postgresql:///$1?host=$host&user=$user" -X -A -t -c "select count(*) from pg_tables where schemaname = 'public'"; }
printf 'Store-pw-67\n' >pgpw
chmod 600 pgpw
new_token PwHost
keygen PwHost pw-key ec:p256 --csr pw.csr --subject "CN=Password Issuing CA" >/dev/null
hsmca-sign-subca --ca root --pin-source "$PINSRC" --csr pw.csr --days 1825 --out pw.crt >/dev/null || notok "sign pw.crt"
pwinit() {
	_ca=$1
	shift
	hsmca-init-ca --ca "$_ca" --key "pkcs11:token=PwHost;object=pw-key" --pin-source "$PINSRC" --cert pw.crt --chain root/ca.crt --store "$pwurl" "$@"
}
expect_fail 1 "the server asks for a password: name its source with --store-password-source" \
	"init-ca on a database that asks a password, without a source: refused, naming what to give" pwinit pw0
check "and no CA directory is left" test ! -e pw0
chmod 644 pgpw
expect_fail 3 "the state store's password: .*pgpw" "a password file others can read is refused (exit 3)" \
	pwinit pw0 --store-password-source "file:$T/mig/pgpw"
check "and no CA directory is left" test ! -e pw0
is "$(tables t_67_pw)" 0 "nor a table in the database"
chmod 600 pgpw
expect_fail 2 "needs --store" "--store-password-source without --store is refused" \
	hsmca-init-ca --ca pw0 --key "pkcs11:token=PwHost;object=pw-key" --pin-source "$PINSRC" --cert pw.crt \
	--chain root/ca.crt --store-password-source "file:$T/mig/pgpw"
expect_fail 2 "bad store password source \\(not shown\\)" "a malformed source is refused" \
	pwinit pw0 --store-password-source Store-pw-67
unlike "$(cat "$T/.out")" "Store-pw-67" "and not echoed"
expect_fail 2 "fd:N names a descriptor of one run and is not recorded in ca.json" \
	"fd:N is not recorded in ca.json (it goes in HSMCA_STORE_PASSWORD_SOURCE)" \
	pwinit pw0 --store-password-source fd:3 3<pgpw
check "and no CA directory is left" test ! -e pw0
check "init-ca with --store-password-source file:PATH" pwinit pwca --store-password-source "file:$T/mig/pgpw"
is "$(python3 -c 'import json; print(json.load(open("pwca/ca.json"))["store_password_source"])')" "file:$T/mig/pgpw" \
	"ca.json records the source"
unlike "$(cat pwca/ca.json)" "Store-pw-67" "and not the password"
is "$(tables t_67_pw)" 6 "the schema is in the database"
check "sign-leaf reads the password from ca.json's source" \
	hsmca-sign-leaf --ca pwca --pin-source "$PINSRC" --csr m2.csr --out pw1.crt
mv pgpw pgpw.moved
expect_fail 1 "the state store's password: cannot open" "the source gone: refused, naming the store's password" \
	hsmca-audit --ca pwca verify
PGPW67=Store-pw-67 HSMCA_STORE_PASSWORD_SOURCE=env:PGPW67 check "HSMCA_STORE_PASSWORD_SOURCE=env:NAME above ca.json's" \
	hsmca-sign-leaf --ca pwca --pin-source "$PINSRC" --csr m3.csr --out pw2.crt
HSMCA_STORE_PASSWORD_SOURCE=fd:3 check "HSMCA_STORE_PASSWORD_SOURCE=fd:N" hsmca-audit --ca pwca verify 3<pgpw.moved
like "$(cat "$T/.out")" "^audit log OK: 3 entries" "verify read the store"
cp pwca/ca.json pwca.json.saved
python3 -c 'import json; c = json.load(open("pwca/ca.json")); c["store_password_source"] = "fd:3"; json.dump(c, open("pwca/ca.json", "w"))'
expect_fail 2 "fd:N names a descriptor of one run" "ca.json naming fd:N is refused" hsmca-audit --ca pwca verify 3<pgpw.moved
cat pwca.json.saved >pwca/ca.json
PGPW67=wrong HSMCA_STORE_PASSWORD_SOURCE=env:PGPW67 expect_fail 1 "password authentication failed for user \"hsmca_pw\"" \
	"a wrong password: the server's refusal" hsmca-audit --ca pwca verify
mv pgpw.moved pgpw
is "$(psql "postgresql:///t_67_pw?host=$host&user=$user" -X -A -t -c "select count(*) from certs where kind = 'leaf'")" 2 \
	"both leaves are in the database"
pwmig="postgresql:///t_67_pw_mig?host=$host&user=hsmca_pw"
expect_fail 2 "goes with migrate --to postgresql" "--store-password-source with migrate --to sqlite is refused" \
	hsmca-audit --ca issuing migrate --to sqlite --store-password-source env:PGPW67
PGPW67=Store-pw-67 HSMCA_STORE_PASSWORD_SOURCE=env:NOPE67 check \
	"migrate to PostgreSQL with --store-password-source env:NAME (above HSMCA_STORE_PASSWORD_SOURCE)" \
	hsmca-audit --ca issuing migrate --to "$pwmig" --store-password-source env:PGPW67
is "$(python3 -c 'import json; c = json.load(open("issuing/ca.json")); print(c["store"], c["store_password_source"])')" \
	"$pwmig env:PGPW67" "ca.json names the database and the source"
expect_fail 2 "the state store's password: PIN source env:... \\(not shown\\): that environment variable is not set" \
	"the variable unset: refused" hsmca-audit --ca issuing verify
PGPW67=Store-pw-67 check "verify with the variable set" hsmca-audit --ca issuing verify
PGPW67=Store-pw-67 check "migrate back to SQLite" hsmca-audit --ca issuing migrate --to sqlite
is "$(python3 -c 'import json; c = json.load(open("issuing/ca.json")); print("store" in c, "store_password_source" in c)')" \
	"False False" "ca.json names neither the database nor its password's source"
cat hba.saved >"$hba"
kill -HUP "$pid"
unset PGPASSFILE
cd .. || exit 1

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
