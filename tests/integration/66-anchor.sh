#!/bin/sh
# The token anchor (README "Token anchor") and store durability: a key
# serves one CA directory; a second directory, a replay in a copy, a
# rolled-back store, a WAL damaged mid-file and a damaged store are refused
# before anything is signed; crash recovery between commit and anchor
# update; ca.db self-contained at exit; backup and restore.
# hsmca-test: token
. "$HSMCA_TOP/tests/lib.sh"

root_ca ec:p384 "CN=Anchor Test Root,O=Example"
issuing_ca "CN=Anchor Test Issuing CA,O=Example"
csr() { openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$1.example.com" 2>/dev/null; }
leaf() { hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" --csr "$1.csr" --out "$1.crt"; }
db() { sqlite3 issuing/ca.db "$1"; }
certs() { sqlite3 "${1:-issuing}/ca.db" "select count(*) from certs"; }
flip4() { # FILE: four bytes in the middle of FILE inverted
	python3 - "$1" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
m = len(b) // 2
for i in range(m, m + 4):
    b[i] ^= 0xff
open(p, "wb").write(b)
PY
}

# --- the anchor exists and ca.json/ca.db carry the CA id ---------------------------
id=$(python3 -c "import json;print(json.load(open('issuing/ca.json'))['ca_id'])")
like "$id" '^[0-9a-f]{32}$' "ca.json records a 128-bit CA id"
is "$(db "select value from meta where key = 'ca_id'")" "$id" "ca.db records the same CA id"
like "$(cat issuing/ca.json)" '"anchor": "token"' "ca.json: anchored on the token"
check "verify --full: integrity, chain and the token anchor" hsmca-audit --ca issuing verify --full --pin-source "$PINSRC"
like "$(cat "$T/.out")" "token anchor 'hsmca anchor [0-9a-f]{64}' on token 'Issuing' OK: CA id $id" "verify --full names the anchor"

# --- finding 1: a second CA directory for the same key ---------------------------
expect_fail 3 "self-signed: a root CA is created with --self-sign" "init-ca --cert with the root's own certificate refused" \
	hsmca-init-ca --ca other --key "pkcs11:token=Root;object=root-key" --pin-source "$PINSRC" --cert root/ca.crt --chain root/ca.crt
[ -e other ] && notok "no second root directory" || ok "no second root directory"
expect_fail 3 "already serves the CA directory with id $id" "a second directory for the issuing key refused" \
	hsmca-init-ca --ca other2 --key "pkcs11:token=Issuing;object=issuing-key" --pin-source "$PINSRC" --cert issuing.crt --chain root/ca.crt
expect_fail 3 "already serves the CA directory" "... also with --unanchored" \
	hsmca-init-ca --ca other3 --key "pkcs11:token=Issuing;object=issuing-key" --pin-source "$PINSRC" --cert issuing.crt --chain root/ca.crt --unanchored
[ -e other2 ] || [ -e other3 ] && notok "no second issuing directory" || ok "no second issuing directory"
# A directory made by hand: the copy given another CA id, or declared unanchored.
cp -a root forged
python3 - <<'PY'
import json
c = json.load(open("forged/ca.json")); c["ca_id"] = "00" * 16
json.dump(c, open("forged/ca.json", "w"), indent=2)
PY
sqlite3 forged/ca.db "update meta set value = '$(printf '00%.0s' $(seq 16))' where key = 'ca_id'"
csr sub2
n=$(certs root)
expect_fail 3 "token anchor 'hsmca anchor [0-9a-f]+' on token 'Root' belongs to the CA directory with id" \
	"sign-subca in a forged directory for the root key refused" \
	hsmca-sign-subca --ca forged --pin-source "$PINSRC" --csr sub2.csr --days 30 --out sub2.crt
python3 - <<'PY'
import json
c = json.load(open("forged/ca.json")); c["anchor"] = "none"
json.dump(c, open("forged/ca.json", "w"), indent=2)
PY
expect_fail 3 "says the CA is unanchored, but its key has the token anchor" "a directory declared unanchored for an anchored key refused" \
	hsmca-sign-subca --ca forged --pin-source "$PINSRC" --csr sub2.csr --days 30 --out sub2.crt
[ -e sub2.crt ] && notok "nothing signed by forged directories" || ok "nothing signed by forged directories"
is "$(certs root)" "$n" "the root's store unchanged"

# --- finding 1: quorum replay in a cp -a copy --------------------------------------
new_token QRoot
keygen QRoot qroot-key ec:p256 >/dev/null
openssl genpkey -algorithm ed25519 -out alice.key 2>/dev/null
openssl genpkey -algorithm ed25519 -out bob.key 2>/dev/null
openssl pkey -in alice.key -pubout -out alice.pub
openssl pkey -in bob.key -pubout -out bob.pub
write_quorum quorum.json 2 alice:alice.pub bob:bob.pub
approve() { hsmca-two-person-approve sign "$1" --id "$2" --key "$2.key" --out "$3" </dev/null >/dev/null 2>&1; }
QROOT="hsmca-init-ca --ca qroot --key pkcs11:token=QRoot;object=qroot-key --pin-source $PINSRC --self-sign --subject CN=Q_Root --days 3650 --quorum quorum.json"
$QROOT --prepare qroot-req.json >/dev/null 2>&1
approve qroot-req.json alice qa.sig
approve qroot-req.json bob qb.sig
check "quorum root created" $QROOT --request qroot-req.json --approval qa.sig --approval qb.sig
csr qsub
QSUB="--pin-source $PINSRC --csr qsub.csr --days 365 --out qsub.crt"
hsmca-sign-subca --ca qroot $QSUB --prepare qsub-req.json >/dev/null 2>&1
approve qsub-req.json alice sa.sig
approve qsub-req.json bob sb.sig
cp -a qroot qcopy
check "approved sub-CA signed in the quorum root" hsmca-sign-subca --ca qroot $QSUB --request qsub-req.json --approval sa.sig --approval sb.sig
rm -f qsub.crt
expect_fail 3 "behind its token anchor 'hsmca anchor [0-9a-f]+' on token 'QRoot'" "the same approvals replayed in a cp -a copy refused" \
	hsmca-sign-subca --ca qcopy $QSUB --request qsub-req.json --approval sa.sig --approval sb.sig
[ -e qsub.crt ] && notok "nothing signed by the copy" || ok "nothing signed by the copy"
# Executed approvals deleted from the store itself.
sqlite3 qroot/ca.db "drop trigger approvals_no_delete; delete from approvals"
expect_fail 3 "executed approvals in the state store of qroot differ from those its token anchor" "deleted executed approvals refused" \
	hsmca-sign-subca --ca qroot $QSUB --request qsub-req.json --approval sa.sig --approval sb.sig

# --- finding 2: ca.db is self-contained at exit ------------------------------------
for n in a b c; do csr $n; leaf $n >/dev/null || notok "leaf $n"; done
[ -s issuing/ca.db-wal ] && notok "no WAL left after sign-leaf" || ok "no WAL left after sign-leaf"
mkdir copy1 && cp issuing/ca.db copy1/ca.db
is "$(sqlite3 copy1/ca.db "select count(*) from certs where kind = 'leaf'")" 3 "cp ca.db alone copies every certificate"

# --- finding 2: a rolled-back store ------------------------------------------------
cp issuing/ca.db early.db
for n in d e; do csr $n; leaf $n >/dev/null || notok "leaf $n"; done
hsmca-revoke --ca issuing --serial "$(openssl x509 -in d.crt -noout -serial | cut -d= -f2)" --reason keyCompromise >/dev/null
check "gen-crl: CRL number 1" hsmca-gen-crl --ca issuing --pin-source "$PINSRC" --out crl1.pem
cp issuing/ca.db good.db
cp early.db issuing/ca.db
rm -f issuing/ca.db-wal issuing/ca.db-shm
csr f
expect_fail 3 "state store of issuing is behind its token anchor 'hsmca anchor [0-9a-f]+' on token 'Issuing'" \
	"sign-leaf on a rolled-back store refused" leaf f
expect_fail 3 "behind its token anchor" "gen-crl on a rolled-back store refused" \
	hsmca-gen-crl --ca issuing --pin-source "$PINSRC" --out crl-rb.pem
[ -e f.crt ] || [ -e crl-rb.pem ] && notok "nothing signed on the rolled-back store" || ok "nothing signed on the rolled-back store"
expect_fail 3 "behind its token anchor" "verify --full reports the rollback" hsmca-audit --ca issuing verify --full --pin-source "$PINSRC"
cp good.db issuing/ca.db
check "the store put back: sign-leaf works again" leaf f
# A CRL number lowered in the store: gen-crl never issues a lower one.
db "update meta set value = '0' where key = 'crl_number'"
expect_fail 3 "the last CRL number is 0, the anchor records 1" "gen-crl refuses a CRL number below the anchor's" \
	hsmca-gen-crl --ca issuing --pin-source "$PINSRC" --out crl-low.pem
[ -e crl-low.pem ] && notok "no CRL with a lower number" || ok "no CRL with a lower number"
db "update meta set value = '1' where key = 'crl_number'"

# --- finding 2: four bytes flipped in the middle of the WAL -------------------------
# A reader holding a snapshot keeps the WAL (the tools checkpoint at exit).
mkfifo hold
sqlite3 issuing/ca.db <hold >/dev/null 2>&1 &
holder=$!
exec 3>hold
printf 'BEGIN;\nSELECT count(*) FROM certs;\n' >&3
for n in g h i j k l; do csr $n; leaf $n >/dev/null || notok "leaf $n"; done
cp issuing/ca.db wal.db
cp issuing/ca.db-wal wal.db-wal
exec 3>&-
wait "$holder"
[ -s wal.db-wal ] && ok "the WAL scenario has a WAL" || notok "the WAL scenario has a WAL"
cp issuing/ca.db good2.db
cp wal.db issuing/ca.db
cp wal.db-wal issuing/ca.db-wal
rm -f issuing/ca.db-shm
flip4 issuing/ca.db-wal
csr m
expect_fail 3 "state store of issuing is behind its token anchor 'hsmca anchor" "sign-leaf after a damaged WAL refused" leaf m
expect_fail 3 "behind its token anchor" "gen-crl after a damaged WAL refused" \
	hsmca-gen-crl --ca issuing --pin-source "$PINSRC" --out crl-wal.pem
[ -e m.crt ] || [ -e crl-wal.pem ] && notok "nothing signed after the damaged WAL" || ok "nothing signed after the damaged WAL"
rm -f issuing/ca.db-wal issuing/ca.db-shm
cp good2.db issuing/ca.db

# --- finding 3: a damaged store ------------------------------------------------------
cp issuing/ca.db good3.db
# One entry dropped from an index (its leaf page's cell count lowered).
python3 - <<'PY'
import sqlite3
db = sqlite3.connect("issuing/ca.db")
rp = db.execute("select rootpage from sqlite_schema where name = 'certs_spki'").fetchone()[0]
ps = db.execute("pragma page_size").fetchone()[0]
db.close()
f = open("issuing/ca.db", "r+b")
off = (rp - 1) * ps
f.seek(off)
h = f.read(5)
assert h[0] == 0x0a, "certs_spki is not a single leaf page"
f.seek(off + 3)
f.write((int.from_bytes(h[3:5], "big") - 1).to_bytes(2, "big"))
f.close()
PY
expect_fail 3 "state store .*issuing/ca.db is damaged" "sign-leaf on a store with a missing index row refused" leaf m
serial_e=$(openssl x509 -in e.crt -noout -serial | cut -d= -f2)
expect_fail 3 "is damaged" "revoke on a store with a missing index row refused" hsmca-revoke --ca issuing --serial "$serial_e"
expect_fail 3 "is damaged" "gen-crl on a store with a missing index row refused" hsmca-gen-crl --ca issuing --pin-source "$PINSRC" --out crl-idx.pem
cp good3.db issuing/ca.db
# An audit entry edited (hsmca-audit verify rejects the chain).
db "drop trigger audit_no_update; update audit set entry = replace(entry, 'sign-leaf', 'sign-leah') where seq = 3"
expect_fail 3 "audit entry 3: its hash does not match" "hsmca-audit verify rejects the edited chain" hsmca-audit --ca issuing verify
expect_fail 3 "audit log of issuing is broken: audit entry 3" "sign-leaf on a broken audit chain refused" leaf m
expect_fail 3 "audit log of issuing is broken" "revoke on a broken audit chain refused" hsmca-revoke --ca issuing --serial "$serial_e"
expect_fail 3 "audit log of issuing is broken" "gen-crl on a broken audit chain refused" hsmca-gen-crl --ca issuing --pin-source "$PINSRC" --out crl-chain.pem
[ -e m.crt ] || [ -e crl-idx.pem ] || [ -e crl-chain.pem ] && notok "nothing signed on a damaged store" || ok "nothing signed on a damaged store"
cp good3.db issuing/ca.db

# --- crash between commit and anchor update -----------------------------------------
# faultp11 drops the process (SIGKILL) at the C_SetAttributeValue /
# C_CreateObject that promotes the pending state, i.e. after the commit.
# HSMCA_TEST_ANCHOR_CRASH ends the tool with SIGKILL at that point.
csr n
n0=$(certs)
env HSMCA_TEST_ANCHOR_CRASH=commit hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" --csr n.csr --out n.crt >/dev/null 2>&1
is "$?" 137 "killed after the commit, before the anchor's promotion"
is "$(certs)" "$((n0 + 1))" "the certificate was committed"
csr o
check "the next run promotes the pending state and signs" leaf o
check "verify --full after the recovery" hsmca-audit --ca issuing verify --full --pin-source "$PINSRC"
csr p
n0=$(certs)
env HSMCA_TEST_ANCHOR_CRASH=pending hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" --csr p.csr --out p.crt >/dev/null 2>&1
is "$?" 137 "killed after the pending state was written, before the commit"
is "$(certs)" "$n0" "nothing committed"
check "the next run drops the pending state and signs" leaf p
# The pending state does not weaken the check: only the transaction in
# flight at the crash may be missing (as after any crash); a store rolled
# back further is refused.
cp issuing/ca.db before-q.db
csr q1
leaf q1 >/dev/null || notok "leaf q1"
csr q2
env HSMCA_TEST_ANCHOR_CRASH=commit hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" --csr q2.csr --out q2.crt >/dev/null 2>&1
cp issuing/ca.db after-q.db
cp before-q.db issuing/ca.db
rm -f issuing/ca.db-wal issuing/ca.db-shm
csr r
expect_fail 3 "behind its token anchor" "a store rolled back across a crash is refused" leaf r
[ -e r.crt ] && notok "nothing signed on it" || ok "nothing signed on it"

# --- backup and restore --------------------------------------------------------------
cp after-q.db issuing/ca.db
check "the store as it was after the crash: signs again" leaf r
expect_fail 2 "backup needs --out" "backup without --out refused" hsmca-audit --ca issuing backup
check "backup" hsmca-audit --ca issuing backup --out backup1.db
like "$(cat "$T/.out")" "backup backup1.db OK \(integrity_check\): audit log of [0-9]+ entries" "backup reports the checked copy"
is "$(sqlite3 backup1.db "pragma integrity_check")" ok "the backup passes integrity_check"
is "$(sqlite3 backup1.db "select count(*) from certs")" "$(certs)" "the backup holds every certificate"
[ -e backup1.db-wal ] && notok "the backup is one file" || ok "the backup is one file"
expect_fail 2 "exists.*never overwritten" "backup never overwrites" hsmca-audit --ca issuing backup --out backup1.db
# The store lost: restore the backup, checked against the anchor.
rm issuing/ca.db
check "restore" hsmca-audit --ca issuing restore backup1.db --pin-source "$PINSRC"
like "$(cat "$T/.out")" "token anchor 'hsmca anchor [0-9a-f]{64}' on token 'Issuing' OK" "restore checks the anchor"
like "$(db "select entry from audit order by seq desc limit 1")" '"action":"restore"' "the restore is audited"
check "the restored store verifies in full" hsmca-audit --ca issuing verify --full --pin-source "$PINSRC"
csr s
check "the restored CA signs" leaf s
# A backup now behind the anchor is refused; the store it would replace is kept.
expect_fail 3 "behind its token anchor" "restoring a backup behind the anchor refused" \
	hsmca-audit --ca issuing restore backup1.db --pin-source "$PINSRC"
is "$(certs)" "$(( $(sqlite3 backup1.db "select count(*) from certs") + 1 ))" "the current store untouched"
# A damaged copy is refused.
cp backup1.db bad.db
flip4 bad.db
expect_fail 3 "" "restoring a damaged copy refused" hsmca-audit --ca issuing restore bad.db --pin-source "$PINSRC"
check "the store still signs" hsmca-audit --ca issuing verify --full --pin-source "$PINSRC"
# A backup of schema 2 (made by an older hsmca): checked as it is, the file
# itself left unchanged, the restored store brought up to schema 3.
check "a backup to take back to schema 2" hsmca-audit --ca issuing backup --out backup2.db
sqlite3 backup2.db "alter table certs drop column audit_seq; drop index audit_serial;
	create index audit_serial on audit((CASE WHEN json_valid(entry) THEN json_extract(entry, '\$.details.serial') END));
	update meta set value = '2' where key = 'schema'"
sum2=$(sha256sum backup2.db | cut -d' ' -f1)
check "restore a schema 2 backup" hsmca-audit --ca issuing restore backup2.db --pin-source "$PINSRC"
is "$(sha256sum backup2.db | cut -d' ' -f1)" "$sum2" "the backup file is not changed by the restore"
is "$(sqlite3 backup2.db "select value from meta where key = 'schema'")" 2 "the backup is still at schema 2"
is "$(db "select value from meta where key = 'schema'")" 3 "the restored store is at schema 3"
is "$(db "select count(*) from certs where kind = 'leaf' and audit_seq is null")" 0 \
	"the restored store names every leaf's issuance entry"
check "the restored store verifies in full" hsmca-audit --ca issuing verify --full --pin-source "$PINSRC"
cp backup2.db backup9.db
sqlite3 backup9.db "update meta set value = '9' where key = 'schema'"
expect_fail 1 "backup9.db has an unknown schema version 9" "a backup of a schema this hsmca does not know: restore refused" \
	hsmca-audit --ca issuing restore backup9.db --pin-source "$PINSRC"
is "$(db "select value from meta where key = 'schema'")" 3 "the current store untouched"

# --- unanchored CAs and directories made before anchors ---------------------------------
new_token Plain
keygen Plain plain-key ec:p256 >/dev/null
check "init-ca --unanchored" hsmca-init-ca --ca plain --key "pkcs11:token=Plain;object=plain-key" --pin-source "$PINSRC" \
	--self-sign --subject "CN=Plain Root" --days 30 --unanchored
like "$(cat plain/ca.json)" '"anchor": "none"' "ca.json: unanchored"
csr u
hsmca-sign-subca --ca plain --pin-source "$PINSRC" --csr u.csr --days 10 --out u.crt >/dev/null 2>"$T/.err"
is "$?" 0 "an unanchored CA signs"
like "$(cat "$T/.err")" "runs unanchored" "... and says so"
# An old directory: no CA id.
python3 - <<'PY'
import json
c = json.load(open("plain/ca.json")); del c["ca_id"]; c.pop("anchor")
json.dump(c, open("plain/ca.json", "w"), indent=2)
PY
sqlite3 plain/ca.db "delete from meta where key = 'ca_id'"
csr v
expect_fail 3 "has no CA id \(made before token anchors\).*hsmca-audit --ca plain anchor" "a directory made before anchors refused, with the fix" \
	hsmca-sign-subca --ca plain --pin-source "$PINSRC" --csr v.csr --days 10 --out v.crt
check "hsmca-audit anchor" hsmca-audit --ca plain anchor --pin-source "$PINSRC"
check "then it signs" hsmca-sign-subca --ca plain --pin-source "$PINSRC" --csr v.csr --days 10 --out v.crt
done_testing
