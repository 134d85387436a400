#!/bin/sh
# gen-crl on an offline root with a pinned quorum: refused without
# approvals, --prepare with the exact TBSCertList, --request signs exactly
# what was approved; stale and replayed requests are refused.
# hsmca-test: token
. "$HSMCA_TOP/tests/lib.sh"

openssl genpkey -algorithm ed25519 -out alice.key 2>/dev/null
openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out bob.key 2>/dev/null
openssl pkey -in alice.key -pubout -out alice.pub
openssl pkey -in bob.key -pubout -out bob.pub
write_quorum quorum.json 2 alice:alice.pub bob:bob.pub
approve() { # REQUEST PREFIX: PREFIX-alice.sig and PREFIX-bob.sig
	hsmca-two-person-approve sign "$1" --id alice --key alice.key --out "$2-alice.sig" </dev/null >/dev/null 2>&1
	hsmca-two-person-approve sign "$1" --id bob --key bob.key --out "$2-bob.sig" </dev/null >/dev/null 2>&1
}
new_token Root
new_token Sub
keygen Root root-key ec:p384 >/dev/null
ROOT="hsmca-init-ca --ca root --key pkcs11:token=Root;object=root-key --pin-source $PINSRC --self-sign --subject CN=CRL_Quorum_Root --days 3650 --quorum quorum.json"
$ROOT --prepare root-req.json >/dev/null
approve root-req.json root
$ROOT --request root-req.json --approval root-alice.sig --approval root-bob.sig >/dev/null || notok "quorum root created"
keygen Sub sub-key ec:p256 --csr sub.csr --subject "CN=CRL Quorum Sub CA" >/dev/null
SUB="hsmca-sign-subca --ca root --pin-source $PINSRC --csr sub.csr --days 365 --out sub.crt"
$SUB --prepare sub-req.json >/dev/null
approve sub-req.json sub
$SUB --request sub-req.json --approval sub-alice.sig --approval sub-bob.sig >/dev/null || notok "sub-CA signed"
db() { sqlite3 root/ca.db "$1"; }
GEN="hsmca-gen-crl --ca root --pin-source $PINSRC --days 180"

expect_fail 3 "protected by a quorum" "gen-crl on a quorum CA without approvals refused (exit 3)" $GEN --out root.crl
is "$(db 'select count(*) from crls')" 0 "no CRL number used"
is "$(db "select value from meta where key = 'crl_number'")" 0 "counter unchanged"
[ -e root.crl ] && notok "no CRL written" || ok "no CRL written"
expect_fail 3 "not available on a CA with a pinned quorum" "partitions refused on a quorum CA" $GEN --partitions 2 --prepare p.json

check "--prepare" $GEN --prepare crl-req.json
like "$(cat crl-req.json)" '"tbs_type": *"crl"' "request tbs_type crl"
like "$(cat crl-req.json)" '"action": *"gen-crl"' "request action gen-crl"
python3 -c "import json,base64,sys; open('tbs.der','wb').write(base64.b64decode(json.load(open('crl-req.json'))['tbs']))"
like "$(openssl asn1parse -inform DER -in tbs.der 2>&1 | head -n 3)" "INTEGER *:01" "approved bytes are a TBSCertList v2"
is "$(db 'select count(*) from crls')" 0 "--prepare uses no CRL number"
approve crl-req.json crl
expect_fail 3 "" "one approval of two refused (exit 3)" $GEN --out root.crl --request crl-req.json --approval crl-alice.sig
check "--request with two approvals signs the CRL" $GEN --out root.crl --request crl-req.json --approval crl-alice.sig --approval crl-bob.sig
check "root CRL verifies" openssl crl -in root.crl -CAfile root/ca.crt -noout
# the signed TBS is exactly the approved one
python3 - <<'PY' || notok "signed TBS is the approved TBS"
import subprocess, sys
der = subprocess.run(["openssl", "crl", "-in", "root.crl", "-outform", "DER"], capture_output=True).stdout
tbs = open("tbs.der", "rb").read()
sys.exit(0 if der.find(tbs) in (3, 4, 5) else 1)
PY
ok "signed TBS is byte-identical to the approved one"
like "$(db 'select entry from audit order by seq desc limit 1')" '"approvers":\[' "approvers in the audit entry"
is "$(db "select value from meta where key = 'crl_number'")" 1 "counter now 1"
expect_fail 3 "already|replay|executed|not above" "replayed request refused (exit 3)" $GEN --out root-again.crl --request crl-req.json --approval crl-alice.sig --approval crl-bob.sig
is "$(db 'select count(*) from crls')" 1 "replay used no number"

# A request prepared before a change no longer matches.
check "--prepare a second CRL" $GEN --prepare crl2-req.json
approve crl2-req.json crl2
SSUB=$(openssl x509 -in sub.crt -noout -serial | cut -d= -f2)
hsmca-revoke --ca root --serial "$SSUB" --reason superseded --prepare rev-req.json >/dev/null
approve rev-req.json rev
check "revoke the sub-CA with approvals" hsmca-revoke --ca root --serial "$SSUB" --reason superseded --request rev-req.json --approval rev-alice.sig --approval rev-bob.sig
expect_fail 3 "not the one approved" "CRL request prepared before the revocation refused" $GEN --out root2.crl --request crl2-req.json --approval crl2-alice.sig --approval crl2-bob.sig
is "$(db 'select count(*) from crls')" 1 "refused execution used no number"
check "--prepare again" $GEN --prepare crl3-req.json
approve crl3-req.json crl3
check "--request signs the new CRL" $GEN --out root3.crl --request crl3-req.json --approval crl3-alice.sig --approval crl3-bob.sig
like "$(openssl crl -in root3.crl -noout -text)" "$SSUB" "new CRL lists the revoked sub-CA"
like "$(openssl crl -in root3.crl -noout -text)" "Superseded" "with its reason"
is "$(openssl crl -in root3.crl -noout -crlnumber)" "crlNumber=0x02" "CRL number 2"
nu=$(date -d "$(openssl crl -in root3.crl -noout -nextupdate | cut -d= -f2)" +%s)
tu=$(date -d "$(openssl crl -in root3.crl -noout -lastupdate | cut -d= -f2)" +%s)
is "$((nu - tu))" $((180 * 86400)) "nextUpdate from the approved request (180 days)"
check "quorum root audit chain verifies" hsmca-audit --ca root verify
done_testing
