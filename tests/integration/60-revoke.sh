#!/bin/sh
# hsmca-revoke: by serial and from the serverless CA's revoked.json;
# idempotence, refusals, state unchanged on refusal, quorum for CA certs.
# hsmca-test: token
# hsmca-test: store
. "$HSMCA_TOP/tests/lib.sh"

root_ca ec:p384 "CN=Revoke Test Root,O=Example"
issuing_ca "CN=Revoke Test Issuing CA,O=Example"

leaf() { # NAME: a leaf certificate NAME.crt for CN NAME.example.com
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
		-out "$1.csr" -subj "/CN=$1.example.com" 2>/dev/null
	hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" --csr "$1.csr" --out "$1.crt" >/dev/null ||
		notok "leaf $1 issued"
}
for n in a b c d e f g h; do leaf $n; done
serial() { openssl x509 -in "$1.crt" -noout -serial | cut -d= -f2; }
lower() { echo "$1" | tr 'A-F' 'a-f'; }
decimal() { python3 -c "print(int('$1', 16))"; }
db() { store_sql issuing "$1"; }
revoke() { hsmca-revoke --ca issuing "$@"; }
state() { db "select serial || '|' || reason || '|' || revoked_at from revocations order by serial"; }
audits() { db "select count(*) from audit"; }

# --- by serial ----------------------------------------------------------
sa=$(serial a)
expect_fail 0 "^revoked: serial $(lower "$sa")" "revoke a by serial as openssl prints it" revoke --serial "$sa" --reason keyCompromise
is "$(db "select reason from revocations where serial = '$(lower "$sa")'")" 1 "reason keyCompromise stored as 1"
like "$(db "select entry from audit order by seq desc limit 1")" '"action":"revoke".*"outcome":"ok"' "revocation audited"
colons=$(lower "$sa" | sed 's/../&:/g; s/:$//')
expect_fail 0 "already revoked" "same serial with colons, lower case, same reason: idempotent" revoke --serial "$colons" --reason keyCompromise
before=$(state)
n_audit=$(audits)
expect_fail 3 "already revoked with reason keyCompromise" "second revocation with another reason refused (exit 3)" revoke --serial "$sa" --reason superseded
is "$(state)" "$before" "state unchanged after the refusal"
like "$(db "select entry from audit order by seq desc limit 1")" '"outcome":"refused"' "refusal audited"
is "$(audits)" "$((n_audit + 1))" "exactly one audit entry for the refusal"

# Refusals and usage errors: nothing changes.
expect_fail 3 "never issued by this CA" "unknown serial refused (exit 3)" revoke --serial 01DEADBEEF --reason keyCompromise
expect_fail 2 "malformed serial" "malformed serial (exit 2)" revoke --serial 01XYZ
expect_fail 2 "malformed serial" "empty serial (exit 2)" revoke --serial ""
expect_fail 2 "malformed serial" "serial over 20 octets (exit 2)" revoke --serial 0102030405060708091011121314151617181920212223
expect_fail 2 "unknown revocation reason 'stolen'" "unknown reason (exit 2)" revoke --serial "$(serial b)" --reason stolen
expect_fail 2 "bad time" "bad --date syntax (exit 2)" revoke --serial "$(serial b)" --date "yesterday"
expect_fail 3 "in the future" "--date in the future refused (exit 3)" revoke --serial "$(serial b)" --date 2099-01-01T00:00:00Z
expect_fail 3 "before the certificate's notBefore" "--date before notBefore refused (exit 3)" revoke --serial "$(serial b)" --date 2000-01-01T00:00:00Z
expect_fail 2 "one of --serial, --cert or --revoked" "--serial and --revoked together (exit 2)" revoke --serial "$(serial b)" --revoked x.json
expect_fail 2 "quorum" "--prepare on a CA without a quorum (exit 2)" revoke --serial "$(serial b)" --prepare req.json
is "$(state)" "$before" "nothing revoked by the refused commands"
expect_fail 3 "own root certificate" "a root does not revoke itself (exit 3)" hsmca-revoke --ca root --serial "$(openssl x509 -in root/ca.crt -noout -serial | cut -d= -f2)"
is "$(store_sql root 'select count(*) from revocations')" 0 "root's revocations unchanged"

# --date in the past, after notBefore
nb=$(date -d "$(openssl x509 -in b.crt -noout -startdate | cut -d= -f2)" +%s)
sleep 1
when=$(date -u -d "@$((nb + 1))" +%Y-%m-%dT%H:%M:%SZ)
check "revoke b with --date" revoke --serial "$(serial b)" --reason superseded --date "$when"
is "$(db "select revoked_at from revocations where serial = '$(lower "$(serial b)")'")" "$(date -u -d "$when" +%s)" "revocation date as given"

# certificateHold: made permanent, or released with removeFromCRL
sc=$(serial c)
sd=$(serial d)
check "hold c" revoke --serial "$sc" --reason certificateHold
expect_fail 0 "hold made permanent" "hold made permanent (keyCompromise)" revoke --serial "$sc" --reason keyCompromise
is "$(db "select reason from revocations where serial = '$(lower "$sc")'")" 1 "c now keyCompromise"
expect_fail 3 "already revoked with reason keyCompromise" "removeFromCRL refused once permanent" revoke --serial "$sc" --reason removeFromCRL
check "hold d" revoke --serial "$sd" --reason certificateHold
expect_fail 0 "hold released" "removeFromCRL releases the hold" revoke --serial "$sd" --reason removeFromCRL
is "$(db "select count(*) from revocations where serial = '$(lower "$sd")'")" 0 "d no longer revoked"
expect_fail 3 "not revoked" "removeFromCRL of a certificate not on hold refused" revoke --serial "$sd" --reason removeFromCRL
out=$(revoke --serial "$(serial e)" --reason cessationOfOperation --json)
like "$out" '"status": "revoked"' "--json reports the status"
like "$out" '"reason": "cessationOfOperation"' "--json reports the reason"

# --- revoked.json (serverless CA format) --------------------------------
sf=$(serial f)
sg=$(serial g)
sh=$(serial h)
cat >revoked.json <<EOF
[
  { "common_name": "f.example.com", "serial_number": "$(decimal "$sf")" },
  { "common_name": "g.example.com", "serial_number": "$(decimal "$sg")" },
  { "common_name": "a.example.com", "serial_number": "$(decimal "$sa")" }
]
EOF
expect_fail 0 "2 revoked, 1 already revoked" "revoked.json applied" revoke --revoked revoked.json
is "$(db "select count(*) from revocations where serial in ('$(lower "$sf")', '$(lower "$sg")') and reason = 0")" 2 "f and g revoked, reason unspecified"
is "$(db "select reason from revocations where serial = '$(lower "$sa")'")" 1 "a keeps keyCompromise"
before=$(state)
expect_fail 0 "0 revoked, 3 already revoked" "re-running revoked.json is idempotent" revoke --revoked revoked.json
is "$(state)" "$before" "state unchanged by the re-run"

# Bad files change nothing, even when other entries are fine.
printf '[{"common_name": "h.example.com", "serial_number": "%s"' "$(decimal "$sh")" >bad1.json
expect_fail 2 "not valid JSON" "revoked.json that is not JSON (exit 2)" revoke --revoked bad1.json
printf '[{"common_name": "h.example.com", "serial_number": "%s", "reason": "keyCompromise"}]' "$(decimal "$sh")" >bad2.json
expect_fail 2 "unknown key 'reason'" "revoked.json with an unknown key (exit 2)" revoke --revoked bad2.json
printf '[{"common_name": "h.example.com", "serial_number": "%s"}, {"common_name": "wrong.example.com", "serial_number": "%s"}]' \
	"$(decimal "$sh")" "$(decimal "$(serial e)")" >bad3.json
expect_fail 3 "does not match" "CN that does not match the serial refused (exit 3)" revoke --revoked bad3.json
printf '[{"common_name": "h.example.com", "serial_number": "%s"}, {"common_name": "x", "serial_number": 12345}]' \
	"$(decimal "$sh")" >bad4.json
expect_fail 3 "never issued by this CA" "unknown serial in revoked.json refused (exit 3)" revoke --revoked bad4.json
printf '{"common_name": "h.example.com", "serial_number": "%s"}' "$(decimal "$sh")" >bad5.json
expect_fail 2 "JSON array" "revoked.json that is not an array (exit 2)" revoke --revoked bad5.json
printf '[{"common_name": "h.example.com", "serial_number": "%s"}]' "$sh" >bad6.json
expect_fail 2 "decimal" "hex serial_number in revoked.json (exit 2)" revoke --revoked bad6.json
expect_fail 2 "--reason and --date go with --serial" "--reason with --revoked (exit 2)" revoke --revoked revoked.json --reason keyCompromise
is "$(state)" "$before" "no partial application of any bad file (h not revoked)"
check "audit chain verifies" hsmca-audit --ca issuing verify

# --- quorum: revoking a CA certificate on an offline root ---------------
openssl genpkey -algorithm ed25519 -out alice.key 2>/dev/null
openssl genpkey -algorithm ed25519 -out bob.key 2>/dev/null
openssl pkey -in alice.key -pubout -out alice.pub
openssl pkey -in bob.key -pubout -out bob.pub
write_quorum quorum.json 2 alice:alice.pub bob:bob.pub
new_token QRoot
new_token Sub
keygen QRoot qroot-key ec:p256 >/dev/null
QROOT="hsmca-init-ca --ca qroot --key pkcs11:token=QRoot;object=qroot-key --pin-source $PINSRC --self-sign --subject CN=Quorum_Revoke_Root --days 3650 --quorum quorum.json $(store_opt)"
$QROOT --prepare qroot-req.json >/dev/null
hsmca-two-person-approve sign qroot-req.json --id alice --key alice.key --out qa.sig </dev/null >/dev/null 2>&1
hsmca-two-person-approve sign qroot-req.json --id bob --key bob.key --out qb.sig </dev/null >/dev/null 2>&1
$QROOT --request qroot-req.json --approval qa.sig --approval qb.sig >/dev/null || notok "quorum root created"
keygen Sub sub-key ec:p256 --csr sub.csr --subject "CN=Quorum Sub CA" >/dev/null
SUB="hsmca-sign-subca --ca qroot --pin-source $PINSRC --csr sub.csr --days 365 --out sub.crt"
$SUB --prepare sub-req.json >/dev/null
hsmca-two-person-approve sign sub-req.json --id alice --key alice.key --out sa.sig </dev/null >/dev/null 2>&1
hsmca-two-person-approve sign sub-req.json --id bob --key bob.key --out sb.sig </dev/null >/dev/null 2>&1
$SUB --request sub-req.json --approval sa.sig --approval sb.sig >/dev/null || notok "quorum sub-CA signed"
ssub=$(serial sub)
qrev() { hsmca-revoke --ca qroot --serial "$ssub" --reason cACompromise "$@"; }
expect_fail 3 "protected by a quorum" "revoking a CA certificate without approvals refused (exit 3)" qrev
is "$(store_sql qroot 'select count(*) from revocations')" 0 "nothing revoked"
check "--prepare writes the approval request" qrev --prepare rev-req.json
like "$(cat rev-req.json)" '"tbs_type": *"revocation"' "request tbs_type revocation"
tbs=$(python3 -c "import json,base64; print(base64.b64decode(json.load(open('rev-req.json'))['tbs']).decode())")
like "$tbs" "^\{\"action\":\"revoke\",\"date\":\"[0-9TZ:-]+\",\"reason\":\"cACompromise\",\"serial\":\"$(lower "$ssub")\"\}$" "approved bytes are the canonical revocation text"
is "$(store_sql qroot 'select count(*) from revocations')" 0 "--prepare changes nothing"
hsmca-two-person-approve sign rev-req.json --id alice --key alice.key --out ra.sig </dev/null >/dev/null 2>&1
hsmca-two-person-approve sign rev-req.json --id bob --key bob.key --out rb.sig </dev/null >/dev/null 2>&1
expect_fail 3 "" "one approval of two refused (exit 3)" qrev --request rev-req.json --approval ra.sig
expect_fail 3 "not the one approved" "another reason than approved refused (exit 3)" hsmca-revoke --ca qroot --serial "$ssub" --reason superseded --request rev-req.json --approval ra.sig --approval rb.sig
is "$(store_sql qroot 'select count(*) from revocations')" 0 "nothing revoked by refused executions"
check "--request with two approvals revokes" qrev --request rev-req.json --approval ra.sig --approval rb.sig
is "$(store_sql qroot "select reason from revocations where serial = '$(lower "$ssub")'")" 2 "sub-CA revoked with cACompromise"
like "$(store_sql qroot 'select entry from audit order by seq desc limit 1')" '"approvers":\["alice","bob"\]|"approvers":\["bob","alice"\]' "approvers named in the audit entry"
expect_fail 0 "already revoked" "repeat is idempotent without approvals" qrev
check "quorum root audit chain verifies" hsmca-audit --ca qroot verify
done_testing
