#!/bin/sh
# Everyday questions answered by the tools: what sign-leaf issued (SANs,
# notAfter), hsmca-audit show by serial or name, export from the store,
# report --expiring, revoke --cert and serial=, the audit log naming who,
# where and what each hash is of. Checked against openssl's view of the
# same certificates.
# hsmca-test: store
. "$HSMCA_TOP/tests/lib.sh"

root_ca ec:p256 "CN=Lookup Root"
issuing_ca "CN=Lookup Issuing CA"
cat issuing.crt root/ca.crt >chain.pem
csr() { openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null; }
leaf() { hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" "$@"; }
audit() { hsmca-audit --ca issuing "$@"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
enddate() { date -u -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ; }
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr A-F a-f; }

# --- sign-leaf says what it issued ----------------------------------------------
csr web "/CN=www.example.com"
check "issue www.example.com" leaf --csr web.csr --san dns:www.example.com --san ip:10.1.2.3 --out web.crt
out=$(cat "$T/.out")
like "$out" "^issued: www.example.com, serial $(serial_of web.crt)" "sign-leaf: the serial"
like "$out" "SANs: +dns:www.example.com, ip:10.1.2.3$" "sign-leaf prints the SANs it issued"
like "$out" "not after: +$(enddate web.crt)$" "sign-leaf prints the notAfter it issued (as openssl reads it)"
check "the same request again" leaf --csr web.csr --san dns:www.example.com --san ip:10.1.2.3 --out web.crt
like "$(tr '\n' ' ' <"$T/.out")" "already issued: .*SANs: +dns:www.example.com, ip:10.1.2.3 .*not after: +$(enddate web.crt)" \
	"already issued: the SANs and notAfter of the certificate issued before"
csr mail "/CN=Mail User"
check "issue a mail certificate, --json" leaf --csr mail.csr --profile email --san email:User@Example.com --out mail.crt --json
is "$(json 'd["results"][0]["sans"], d["results"][0]["not_after"]' <"$T/.out")" \
	"['email:User@Example.com'] $(enddate mail.crt)" "sign-leaf --json: sans and not_after"
mkdir csrs
csr csrs/api "/CN=api.example.com"
printf '[{"common_name": "api.example.com", "purposes": ["server_auth"], "sans": ["api.example.com", "example.com"], "csr_file": "api.csr"}]' >tls.json
check "a batch" hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" --requests tls.json --csr-dir csrs --out-dir out
is "$(json 'd["results"][0]["sans"], d["results"][0]["not_after"]' <out/summary.json)" \
	"['dns:api.example.com', 'dns:example.com'] $(enddate out/api.crt)" "summary.json: sans and not_after of each certificate"

# --- show ---------------------------------------------------------------------
web=$(serial_of web.crt)
check "show SERIAL in openssl's form (serial=, upper case)" audit show "$(openssl x509 -in web.crt -noout -serial)"
out=$(cat "$T/.out")
like "$out" "^serial +$web$" "show: the serial"
like "$out" "^status +valid$" "show: valid"
like "$out" "^SANs +dns:www.example.com, ip:10.1.2.3$" "show: the SANs"
like "$out" "^kind +leaf, profile server-client$" "show: the profile"
like "$out" "^validity +.* to $(enddate web.crt)$" "show: the validity"
like "$out" "^superseded +no$" "show: not superseded"
like "$out" "^revoked +no$" "show: not revoked"
like "$out" "^sha256 +$(openssl x509 -in web.crt -outform DER | sha256sum | cut -d' ' -f1) \(of the DER\)$" "show: the SHA-256 of the DER"
like "$out" "audit entries \(1\):" "show: the audit entry that issued it"
colons=$(printf '%s' "$web" | sed 's/../&:/g; s/:$//')
check "show SERIAL with colons" audit show "$colons"
check "show --json" audit show "$web" --json
is "$(json 'd["serial"], d["status"], d["superseded_by"], d["revoked"], d["sans"], len(d["audit"])' <"$T/.out")" \
	"$web valid None None ['dns:www.example.com', 'ip:10.1.2.3'] 1" "show --json: the fields"
expect_fail 3 "serial 0123 was never issued by this CA" "show: a serial this CA never issued" audit show 0123
# A subordinate CA's certificate on the root: no SANs, read from the
# stored DER.
check "show on the root: the issuing CA's certificate" hsmca-audit --ca root show "$(serial_of issuing.crt)" --json
is "$(json 'd["kind"], d["sans"], d["subject"]' <"$T/.out")" "subca [] CN=Lookup Issuing CA" \
	"show: a subordinate CA, no SANs"
check "show --name by DNS SAN, any case" audit show --name WWW.Example.COM
like "$(cat "$T/.out")" "^1 certificate with the name WWW.Example.COM:" "show --name: one certificate"
check "show --name by IP address" audit show --name 10.1.2.3 --json
is "$(json '[c["serial"] for c in d["certificates"]]' <"$T/.out")" "['$web']" "show --name 10.1.2.3: the web certificate"
check "show --name by e-mail address" audit show --name user@example.com --json
is "$(json '[c["sans"] for c in d["certificates"]]' <"$T/.out")" "[['email:User@Example.com']]" "show --name: an e-mail SAN"
check "show --name by a CN without a SAN of that name" audit show --name "Mail User" --json
is "$(json 'len(d["certificates"])' <"$T/.out")" 1 "show --name: the CN"
check "show --name example.com" audit show --name example.com --json
is "$(json '[c["sans"][0] for c in d["certificates"]]' <"$T/.out")" "['dns:api.example.com']" \
	"show --name: a name inside another (www.example.com) is not a match"
expect_fail 3 "no certificate of this CA has the name nowhere.example.com" "show --name: no match" \
	audit show --name nowhere.example.com

# --- export -------------------------------------------------------------------
audit export "$web" >exported.pem 2>"$T/.err"
check "export: the PEM is the issued certificate" cmp exported.pem web.crt
audit export "$web" --chain >full.pem
is "$(grep -c 'BEGIN CERTIFICATE' full.pem)" 3 "export --chain: certificate, issuing CA, root"
openssl x509 -in full.pem >leaf-only.pem
check "export --chain verifies (openssl)" openssl verify -CAfile root/ca.crt -untrusted full.pem leaf-only.pem
check "export --chain verifies (certtool)" certtool --verify --load-ca-certificate root/ca.crt --infile full.pem
check "export --out" audit export "$web" --out exp.crt
check "export --out: the same bytes" cmp exp.crt web.crt
expect_fail 2 "exists" "export --out refuses an existing file" audit export "$web" --out exp.crt
check "export --json" audit export "$web" --json
is "$(json 'd["pem"]' <"$T/.out")" "$(cat web.crt)" "export --json: the PEM"
expect_fail 3 "never issued" "export: a serial this CA never issued" audit export 0123

# --- revoke --cert and serial= ------------------------------------------------
openssl req -new -x509 -key web.key -subj "/CN=www.example.com" -set_serial "0x$web" -days 1 -out forged.crt 2>/dev/null
expect_fail 3 "forged.crt is not the certificate this CA issued with serial $web" \
	"revoke --cert: a certificate with our serial that we did not issue" hsmca-revoke --ca issuing --cert forged.crt
openssl req -new -x509 -key web.key -subj "/CN=other" -set_serial 0x0abc -days 1 -out other.crt 2>/dev/null
expect_fail 3 "other.crt \(serial 0abc\) was not issued by this CA" "revoke --cert: a certificate of another CA" \
	hsmca-revoke --ca issuing --cert other.crt
check "revoke --cert" hsmca-revoke --ca issuing --cert web.crt --reason keyCompromise
like "$(cat "$T/.out")" "revoked: serial $web" "revoke --cert: the certificate's serial"
mailser=$(openssl x509 -in mail.crt -noout -serial)
check "revoke --serial with the serial= prefix" hsmca-revoke --ca issuing --serial "$mailser" --reason superseded
check "show a revoked certificate" audit show "$web" --json
is "$(json 'd["status"], d["revoked"]["reason"], [e["entry"]["action"] for e in d["audit"]]' <"$T/.out")" \
	"revoked keyCompromise ['sign-leaf', 'revoke']" "show: revoked, why, and both audit entries"
api=$(serial_of out/api.crt)
printf '[{"common_name": "api.example.com", "serial_number": "%s"}]' "$(python3 -c "print(int('$api', 16))")" >revoked.json
check "revoked.json" hsmca-revoke --ca issuing --revoked revoked.json
check "show a certificate revoked through revoked.json" audit show "$api" --json
is "$(json '[e["entry"]["action"] for e in d["audit"]], d["audit"][-1]["entry"]["details"]["serials"]' <"$T/.out")" \
	"['sign-leaf', 'revoke'] ['$api']" "show: the revoked.json entry names its serials"

# --- report --expiring -----------------------------------------------------------
csr soon "/CN=soon.example.com"
check "a short-lived certificate" leaf --csr soon.csr --days 20 --out soon.crt
csr later "/CN=later.example.com"
check "a longer one" leaf --csr later.csr --days 200 --out later.crt
check "report --expiring 30" audit report --expiring 30
out=$(cat "$T/.out")
like "$out" "^expiring within 30 days \(1\)$" "report --expiring: one certificate"
like "$out" "soon.example.com" "report --expiring: the one expiring"
unlike "$out" "later.example.com|^issued|^revoked" "report --expiring lists only those"
check "report --expiring --json" audit report --expiring 30 --json
is "$(json 'sorted(d.keys()), [e["subject"] for e in d["expiring"]], d["expiring"][0]["superseded_by"]' <"$T/.out")" \
	"['expiring', 'expiring_days'] ['CN=soon.example.com'] None" "report --expiring --json: that list only, not superseded"
# Renewal will set superseded_by; a certificate so marked is reported as renewed.
store_sql issuing "update certs set superseded_by = '$(serial_of later.crt)' where serial = '$(serial_of soon.crt)'"
like "$(audit report --expiring 30)" "soon.example.com .*renewed: superseded by $(serial_of later.crt)" "report --expiring marks a renewed certificate"
is "$(audit show "$(serial_of soon.crt)" --json | json 'd["status"], d["superseded_by"]')" \
	"superseded $(serial_of later.crt)" "show: superseded, and by which"
check "report lists issued and revoked" audit report
like "$(cat "$T/.out")" "^issued \([0-9]+\)$" "report without --expiring: issued"
like "$(cat "$T/.out")" "^revoked \(3\)$" "report without --expiring: revoked"

# --- the audit log: who, where, what each hash is of ------------------------------
check "gen-crl" hsmca-gen-crl --ca issuing --pin-source "$PINSRC" --out crl.pem
audit log --json >log.json
last=$(tail -n 1 log.json)
like "$last" "\"user\":\"$(id -un)\"" "audit entries record the OS user"
like "$last" "\"host\":\"$(uname -n)\"" "audit entries record the host name"
like "$last" '"version":"[0-9]+\.[0-9]+\.[0-9]+"' "audit entries record the tool version"
log=$(audit log)
like "$log" "by $(id -un) \(uid $(id -u)\) on $(uname -n), hsmca [0-9.]+" "log: who and where"
like "$log" "serial $web, subject CN=www.example.com" "log: serial and subject"
like "$log" "serial $web, reason keyCompromise" "log: the revocation's reason"
like "$log" "crl_number 1" "log: the CRL number"
like "$log" "out certificate \(DER\) sha256 $(openssl x509 -in web.crt -outform DER | sha256sum | cut -d' ' -f1)" \
	"log: the certificate's hash is of its DER, and says so"
like "$log" "out ca.crt \(file\) sha256 $(sha256 issuing/ca.crt)" "log: ca.crt's hash is of the file, and says so"
like "$log" "out crl.pem \(DER\) sha256 $(openssl crl -in crl.pem -outform DER | sha256sum | cut -d' ' -f1)" \
	"log: the CRL's hash is of its DER (the file is PEM), and says so"
like "$log" "in +revoked.json \(file\) sha256 $(sha256 revoked.json)" "log: revoked.json's hash is of the file"
check "the audit log verifies" audit verify
is "$(audit verify --full --pin-source "$PINSRC" --json | json 'd["spki_unmended"]')" 0 "verify --full: nothing left to mend"

# --- a leaf's issuance entry: named by its row, not by the audit_serial index ---
# (the index is a random page written per certificate at scale)
leafs=$(store_sql issuing "select count(*) from certs where kind = 'leaf'")
check "the issuing CA holds leaf certificates ($leafs)" test "$leafs" -ge 3
is "$(store_sql issuing "select count(*) from certs where kind = 'leaf' and audit_seq is null")" 0 \
	"every leaf's row names the audit entry that issued it"
seq=$(store_sql issuing "select audit_seq from certs where serial = '$web'")
like "$(store_sql issuing "select entry from audit where seq = ${seq:-0}")" \
	"\"detail\":\"certificate issued\",\"details\":\\{[^}]*\"serial\":\"$web\"" \
	"certs.audit_seq of www.example.com is the entry that issued it"
if [ "$HSMCA_TEST_STORE" = sqlite ]; then
	is "$(sqlite3 issuing/ca.db "select sum(ncell) from dbstat where name = 'audit_serial' and pagetype = 'leaf'")" \
		"$(sqlite3 issuing/ca.db "select count(*) from audit where json_extract(entry, '\$.detail') is not 'certificate issued'")" \
		"audit_serial holds every entry but the leaves' issuances"
else
	like "$(store_sql issuing "select indexdef from pg_indexes where indexname = 'audit_serial'")" \
		"WHERE .*certificate issued" "audit_serial leaves the leaves' issuances out"
	is "$(store_sql issuing "select count(*) from pg_indexes where tablename = 'certs' and indexname in ('certs_spki', 'certs_cn')")" 0 \
		"no SPKI index beside the request index, no index no query uses"
fi

# --- certificate rows an earlier migrate left without their SPKI hash -------------
# An earlier hsmca-audit migrate copied each row's SPKI hash as the number
# its leading digits spell, so the store no longer knew which keys it had
# certified. sign-leaf mends them from the certificates before it looks a
# key up: once, with an audit entry.
# More rows than one round of the repair (256), so that a refusal after
# the first round shows whether the rounds share one transaction.
mkdir rcsrs && "$HSMCA_BUILD/tests/mkcsrs" rcsrs 300 >/dev/null || notok "made 300 CSRs"
check "300 more certificates" leaf --requests rcsrs/tls.json --csr-dir rcsrs --out-dir rout
spkis="select serial, spki_sha256 from certs order by serial"
good=$(store_sql issuing "$spkis")
rows=$(store_sql issuing "select count(*) from certs")
check "damage every row's SPKI hash as that migrate did" store_sql issuing "update certs set spki_sha256 = cast(rowid % 10 as text)"
leaves=$(store_sql issuing "select count(*) from certs where kind = 'leaf'")
check "verify --full on the damaged store" audit verify --full --pin-source "$PINSRC"
like "$(cat "$T/.out")" "^$rows certificate rows lack their SPKI hash \\(copied by an earlier hsmca-audit migrate\\): the next hsmca-sign-leaf mends them$" \
	"verify --full counts the rows to mend (and mends nothing)"
is "$(store_sql issuing "select count(*) from certs where length(spki_sha256) <> 64")" "$rows" "they are still to mend"
# A certificate the repair cannot read (the last row: its second round):
# refused, and nothing mended, the first round's rows included (one
# transaction); the row put back as it was after.
last="select max(rowid) from certs where kind = 'leaf'"
if [ "$HSMCA_TEST_STORE" = sqlite ]; then
	der_hex="lower(hex(der))" der_bad="x'3000'"
	der_of() { printf "x'%s'" "$1"; }
else
	der_hex="encode(der, 'hex')" der_bad="'\\x3000'::bytea"
	der_of() { printf "decode('%s', 'hex')" "$1"; }
fi
saved=$(store_sql issuing "select $der_hex from certs where rowid = ($last)")
check "make one stored certificate unreadable" store_sql issuing "update certs set der = $der_bad where rowid = ($last)"
expect_fail 1 "a stored certificate does not parse" "the same request, a stored certificate unreadable: refused, saying why" \
	leaf --csr web.csr --san dns:www.example.com --san ip:10.1.2.3 --out web.crt
is "$(store_sql issuing "select count(*) from certs where length(spki_sha256) <> 64")" "$rows" "no row mended, not even the first round's (one transaction)"
is "$(store_sql issuing "select count(*) from audit where entry like '%\"action\":\"repair\"%'")" 0 "no repair entry"
is "$(store_sql issuing "select count(*) from certs where kind = 'leaf'")" "$leaves" "nothing issued"
check "put the certificate back" store_sql issuing "update certs set der = $(der_of "$saved") where rowid = ($last)"
is "$(store_sql issuing "select $der_hex from certs where rowid = ($last)")" "$saved" "as it was"
check "the same request again, on the damaged store" leaf --csr web.csr --san dns:www.example.com --san ip:10.1.2.3 --out web.crt
like "$(cat "$T/.out")" "^note: issuing: the SPKI hashes of $rows certificate rows, which an earlier hsmca-audit migrate had copied as numbers, were recomputed" \
	"sign-leaf says it mended every row"
like "$(cat "$T/.out")" "already issued" "and finds the request issued before (by its key)"
is "$(store_sql issuing "select count(*) from certs where kind = 'leaf'")" "$leaves" "no certificate issued twice"
is "$(store_sql issuing "$spkis")" "$good" "every row has its SPKI hash back"
like "$(audit log)" "repair ok: SPKI hashes of certificate rows recomputed from their certificates" "the audit log records the repair"
check "the audit log verifies" audit verify
is "$(audit verify --full --pin-source "$PINSRC" --json | json 'd["spki_unmended"]')" 0 "verify --full: nothing left to mend"
check "the same request once more" leaf --csr web.csr --san dns:www.example.com --san ip:10.1.2.3 --out web.crt
unlike "$(cat "$T/.out")" "^note:" "nothing to mend the next time"
is "$(store_sql issuing "select count(*) from audit where entry like '%\"action\":\"repair\"%'")" 1 "one repair entry"

# --- a store of schema 2 is brought up to date ------------------------------------
# Back to schema 2's layout: no certs.audit_seq, every entry in audit_serial
# (and on PostgreSQL its SPKI and CN indexes).
if [ "$HSMCA_TEST_STORE" = sqlite ]; then
	cp -a issuing old2
	check "make a schema 2 store" sqlite3 old2/ca.db "alter table certs drop column audit_seq; drop index audit_serial;
		create index audit_serial on audit((CASE WHEN json_valid(entry) THEN json_extract(entry, '\$.details.serial') END));
		update meta set value = '2' where key = 'schema'"
else
	ln -s issuing old2
	check "make a schema 2 store" store_sql old2 "alter table certs drop column audit_seq; drop index audit_serial;
		create index audit_serial on audit ((entry::jsonb #>> '{details,serial}'));
		create index certs_spki on certs(spki_sha256); create index certs_cn on certs(lower(cn));
		drop index certs_request; create unique index certs_request on certs(spki_sha256, request_key) where request_key is not null;
		update meta set value = '2' where key = 'schema'"
fi
check "a schema 2 store opens" hsmca-audit --ca old2 show "$web"
like "$(cat "$T/.out")" "audit entries \\(2\\):" "show on it: two entries for www.example.com (issued, revoked)"
like "$(cat "$T/.out")" "^#$seq .* sign-leaf ok: certificate issued$" "show on it: the entry that issued it"
is "$(store_sql old2 "select value from meta where key = 'schema'")" 3 "it is migrated to schema 3"
is "$(store_sql old2 "select count(*) from certs where kind = 'leaf' and audit_seq is null")" 0 \
	"the migration names every leaf's issuance entry in its row"
is "$(store_sql old2 "select audit_seq from certs where serial = '$web'")" "$seq" "the same entry as at issuance"
if [ "$HSMCA_TEST_STORE" != sqlite ]; then
	is "$(store_sql old2 "select count(*) from pg_indexes where tablename = 'certs' and indexname in ('certs_spki', 'certs_cn')")" 0 \
		"the migration drops the SPKI and CN indexes"
fi
check "its audit log still verifies" hsmca-audit --ca old2 verify
csr late "/CN=late.example.com"
check "a schema 2 store, once migrated, issues" hsmca-sign-leaf --ca old2 --pin-source "$PINSRC" --csr late.csr --san dns:late.example.com --out late.crt
check "show of the new certificate" hsmca-audit --ca old2 show "$(serial_of late.crt)"
like "$(cat "$T/.out")" "audit entries \(1\):" "show: the entry that issued it"

# --- a store of schema 1 is brought up to date ------------------------------------
if [ "$HSMCA_TEST_STORE" = sqlite ]; then
	cp -a issuing old
	sqlite3 old/ca.db "alter table certs drop column superseded_by; alter table certs drop column audit_seq;
		update meta set value = '1' where key = 'schema'"
	check "a schema 1 store opens" hsmca-audit --ca old report --expiring 30
	is "$(sqlite3 old/ca.db "select value from meta where key = 'schema'")" 3 "it is migrated to schema 3"
	is "$(sqlite3 old/ca.db "select count(*) from certs where superseded_by is null")" \
		"$(sqlite3 old/ca.db "select count(*) from certs")" "no certificate is superseded after the migration"
	check "its audit log still verifies" hsmca-audit --ca old verify
	cp -a issuing future
	sqlite3 future/ca.db "update meta set value = '9' where key = 'schema'"
	expect_fail 1 "state store .*future/ca.db has an unknown schema version 9" \
		"a store of a schema this hsmca does not know is refused" hsmca-audit --ca future report --expiring 30
	is "$(sqlite3 future/ca.db "select value from meta where key = 'schema'")" 9 "and left as it is"
else
	skip "a schema 1 store is brought up to date" "SQLite stores only: a $HSMCA_TEST_STORE store begins at schema 2"
fi
done_testing
