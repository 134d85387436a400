#!/bin/sh
# M-of-N approvals bound to exact bytes, end to end through the CA tools:
# every attack is refused with exit 3, an audit entry, and nothing signed.
# hsmca-test: token
# hsmca-test: store
. "$HSMCA_TOP/tests/lib.sh"

new_token Root
new_token Carol
new_token Sub
keygen Root root-key ec:p384 >/dev/null
# Approvers: alice (Ed25519 PEM), bob (P-256 PEM, encrypted), carol (P-256 on
# her own token), mallory (not in the quorum).
openssl genpkey -algorithm ed25519 -out alice.key 2>/dev/null
printf 'bob passphrase\n' >bob.pass
chmod 600 bob.pass
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes256 -pass file:bob.pass -out bob.key 2>/dev/null
openssl genpkey -algorithm ed25519 -out mallory.key 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out weak.key 2>/dev/null
hsmca-keygen --token pkcs11:token=Carol --label carol-approval --type ec:p256 --pin-source "$PINSRC" --pubout carol.pub >/dev/null
openssl pkey -in alice.key -pubout -out alice.pub
openssl pkey -in bob.key -passin file:bob.pass -pubout -out bob.pub
openssl pkey -in mallory.key -pubout -out mallory.pub
openssl pkey -in weak.key -pubout -out weak.pub

write_quorum quorum.json 2 alice:alice.pub bob:bob.pub carol:carol.pub

approve() { # REQUEST ID OUT
	case $2 in
	alice) hsmca-two-person-approve sign "$1" --id alice --key alice.key --out "$3" </dev/null ;;
	bob) hsmca-two-person-approve sign "$1" --id bob --key bob.key --pass-source file:bob.pass --out "$3" ;;
	carol) hsmca-two-person-approve sign "$1" --id carol --key "pkcs11:token=Carol;object=carol-approval" --pin-source "$PINSRC" --out "$3" ;;
	mallory) hsmca-two-person-approve sign "$1" --id mallory --key mallory.key --out "$3" </dev/null ;;
	esac
}

ROOT="hsmca-init-ca --ca root --key pkcs11:token=Root;object=root-key --pin-source $PINSRC --self-sign --subject CN=Quorum_Root_R1 --days 3650 --pathlen 1 --quorum quorum.json $(store_opt)"

# --- the root itself: two-phase self-signature -----------------------------
check "init-ca --quorum --prepare needs no PIN (no private key touched)" sh -c \
	"hsmca-init-ca --ca root --key 'pkcs11:token=Root;object=root-key' --self-sign --subject CN=Quorum_Root_R1 --days 3650 --pathlen 1 --quorum quorum.json --prepare nopin-req.json </dev/null"
check "init-ca --quorum --prepare" $ROOT --prepare root-req.json
[ -e root ] && notok "prepare creates no CA directory" || ok "prepare creates no CA directory"
approve root-req.json alice root-alice.sig >/dev/null 2>&1
expect_fail 3 "1 of 2" "root self-signature with one approval refused" $ROOT --request root-req.json --approval root-alice.sig
[ -e root ] && notok "no CA directory after refusal" || ok "no CA directory after refusal"
approve root-req.json carol root-carol.sig >/dev/null 2>&1
check "root self-signature with alice + carol (token)" $ROOT --request root-req.json --approval root-alice.sig --approval root-carol.sig
is "$(store_sql root "select value from meta where key='quorum_sha256'")" "$(sha256 quorum.json)" "quorum hash pinned in the state store"
like "$(store_sql root "select entry from audit where seq=1")" "\"quorum_sha256\":\"$(sha256 quorum.json)\"" "quorum hash in the first audit entry"
like "$(store_sql root "select entry from audit where seq=1")" '"approvers":\["alice","carol"\]' "approvers named in the first audit entry"
is "$(openssl x509 -in root/ca.crt -noout -serial | cut -d= -f2 | tr A-F a-f)" \
	"$(python3 -c "import json;print(json.load(open('root-req.json'))['params']['serial'])")" "serial comes from the approved request"
check "root verifies" openssl verify -CAfile root/ca.crt root/ca.crt

# --- sub-CA signing on the quorum root --------------------------------------
keygen Sub sub-key ec:p256 --csr sub.csr --subject "CN=Quorum Sub CA" >/dev/null
keygen Sub other-key ec:p256 --csr other.csr --subject "CN=Other Sub CA" >/dev/null
SUB="hsmca-sign-subca --ca root --pin-source $PINSRC --csr sub.csr --days 1825 --pathlen 0 --permit-dns example.com --out sub.crt"
# The certificate's DER in hex (upper or lower case) from the store.
if [ "$HSMCA_TEST_STORE" = postgresql ]; then hexder="encode(der, 'hex')"; else hexder="hex(der)"; fi
certs() { store_sql root "select count(*) from certs"; }
refusals() { store_sql root "select count(*) from audit where entry like '%\"outcome\":\"refused\"%'"; }
n0=$(certs)

expect_fail 3 "protected by a quorum" "quorum CA without --prepare/--request refused" $SUB
check "sign-subca --prepare needs no PIN" sh -c \
	"hsmca-sign-subca --ca root --csr sub.csr --days 1825 --pathlen 0 --permit-dns example.com --out sub.crt --prepare nopin-sub.json </dev/null"
check "sign-subca --prepare" $SUB --prepare sub-req.json
[ -e sub.crt ] && notok "prepare signs nothing" || ok "prepare signs nothing"
approve sub-req.json alice alice.sig >/dev/null 2>&1
approve sub-req.json bob bob.sig >/dev/null 2>&1
approve sub-req.json carol carol.sig >/dev/null 2>&1
approve sub-req.json mallory mallory.sig >/dev/null 2>&1
cp alice.sig alice2.sig

# attacks (each: exit 3, nothing signed, refusal recorded)
attack() { # DESC PATTERN ARGS...
	_d=$1
	_p=$2
	shift 2
	_r=$(refusals)
	expect_fail 3 "$_p" "$_d" $SUB "$@"
	if [ "$(certs)" = "$n0" ] && [ ! -e sub.crt ] && [ "$(refusals)" -gt "$_r" ]; then
		ok "$_d: nothing signed, refusal audited"
	else
		notok "$_d: nothing signed, refusal audited" "certs $(certs) (was $n0), refusals $(refusals) (was $_r)"
	fi
}
attack "one short of M" "1 of 2" --request sub-req.json --approval alice.sig
attack "the same approver twice" "1 of 2|twice|duplicate" --request sub-req.json --approval alice.sig --approval alice2.sig
attack "an approver not in the quorum" "mallory|not in the quorum" --request sub-req.json --approval alice.sig --approval mallory.sig
hsmca-two-person-approve sign sub-req.json --id bob --key mallory.key --out forged.sig </dev/null >/dev/null 2>&1
attack "a forged approval (mallory's key, bob's id)" "bob|signature" --request sub-req.json --approval alice.sig --approval forged.sig
$SUB --csr other.csr --prepare other-req.json >/dev/null 2>&1 || true
hsmca-sign-subca --ca root --pin-source "$PINSRC" --csr other.csr --days 1825 --prepare other-req.json >/dev/null 2>&1
approve other-req.json bob bob-other.sig >/dev/null 2>&1
attack "a listed approver's signature over a different request" "bob|another request|different" --request sub-req.json --approval alice.sig --approval bob-other.sig
python3 - <<'PY'
import json, base64
r = json.load(open("sub-req.json"))
tbs = bytearray(base64.b64decode(r["tbs"]))
tbs[-40] ^= 0x01
r["tbs"] = base64.b64encode(bytes(tbs)).decode()
raw = open("sub-req.json").read()
old = json.load(open("sub-req.json"))["tbs"]
open("edited-req.json", "w").write(raw.replace(old, r["tbs"]))
PY
attack "a request edited after signing (one TBS byte)" "." --request edited-req.json --approval alice.sig --approval bob.sig
attack "a command line with other --days than approved" "not the one approved" --days 900 --request sub-req.json --approval alice.sig --approval bob.sig
attack "a command line with other name constraints than approved" "not the one approved" --permit-dns example.org --request sub-req.json --approval alice.sig --approval bob.sig
head -c 40 alice.sig >trunc.sig
attack "a truncated approval file" "trunc.sig" --request sub-req.json --approval trunc.sig --approval bob.sig
printf 'this is not json\n' >garbage.sig
attack "an approval file that is not JSON" "garbage.sig" --request sub-req.json --approval garbage.sig --approval bob.sig
# An RSA-1024 approval: the tool will not make one, so forge it by hand.
expect_fail 3 "1024|RSA" "two-person-approve refuses to sign with an RSA-1024 key" hsmca-two-person-approve sign sub-req.json --id bob --key weak.key --out weak.sig
python3 - <<'PY'
import json, hashlib, subprocess, base64
d = hashlib.sha256(open("sub-req.json", "rb").read()).hexdigest()
msg = ("hsmca-approval-v1:" + d).encode()
open("weak.msg", "wb").write(msg)
sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", "weak.key", "weak.msg"], capture_output=True).stdout
json.dump({"hsmca_approval": 1, "approver": "bob", "request_sha256": d, "algorithm": "rsa-pkcs1-sha256",
           "signature": base64.b64encode(sig).decode(), "signed_at": "2026-01-01T00:00:00Z"}, open("weak.sig", "w"))
PY
attack "an approval made with an RSA-1024 key" "bob|signature|1024" --request sub-req.json --approval alice.sig --approval weak.sig
cp root/quorum.json quorum.saved
write_quorum swapped.json 1 alice:alice.pub mallory:mallory.pub
cp swapped.json root/quorum.json
attack "a swapped quorum file" "not the quorum this CA pinned" --request sub-req.json --approval alice.sig --approval bob.sig
cp quorum.saved root/quorum.json
attack "a different quorum on the command line" "not the quorum this CA pinned" --quorum swapped.json --request sub-req.json --approval mallory.sig

# positive: exactly M
check "exactly M approvals (alice + bob)" $SUB --request sub-req.json --approval alice.sig --approval bob.sig
is "$(certs)" "$((n0 + 1))" "one certificate issued"
check "the sub-CA certificate verifies" openssl verify -CAfile root/ca.crt sub.crt
is "$(openssl x509 -in sub.crt -noout -serial | cut -d= -f2 | tr A-F a-f)" \
	"$(python3 -c "import json;print(json.load(open('sub-req.json'))['params']['serial'])")" "serial is the approved one"
tbs_signed=$(openssl asn1parse -in sub.crt -strparse 4 -noout -out tbs.der >/dev/null 2>&1; sha256 tbs.der)
tbs_approved=$(python3 -c "import json,base64,hashlib;print(hashlib.sha256(base64.b64decode(json.load(open('sub-req.json'))['tbs'])).hexdigest())")
is "$tbs_signed" "$tbs_approved" "the signed TBS is byte-for-byte the approved one"
like "$(store_sql root "select entry from audit order by seq desc limit 1")" '"approvers":\["alice","bob"\]' "audit entry names the approvers"
n1=$(certs)
# The same request again on this CA: executed already, the output is the
# stored certificate; nothing is signed.
cp sub.crt sub-first.crt
out=$($SUB --request sub-req.json --approval alice.sig --approval bob.sig 2>&1)
is "$?" 0 "the executed request again, output unchanged: exit 0"
like "$out" "already executed" "... reported as already executed"
is "$(certs)" "$n1" "replay signed nothing"
cmp -s sub.crt sub-first.crt && ok "... the output untouched" || notok "... the output untouched"
echo junk >>sub.crt
r0=$(refusals)
expect_fail 3 "already executed.*not the stored" "an output that differs from the stored certificate is not overwritten" \
	$SUB --request sub-req.json --approval alice.sig --approval bob.sig
is "$(refusals)" "$((r0 + 1))" "... refusal audited"
cp sub-first.crt sub.crt
expect_fail 3 "1 of 2" "the executed request with too few approvals stays refused" \
	$SUB --request sub-req.json --approval alice.sig
is "$(certs)" "$n1" "replay signed nothing"

# A run killed after the commit, before the output was written: the same
# command again writes the certificate from the store.
hsmca-sign-subca --ca root --pin-source "$PINSRC" --csr other.csr --days 1825 --pathlen 0 --out crash.crt --prepare crash-req.json >/dev/null
approve crash-req.json alice crash-alice.sig >/dev/null 2>&1
approve crash-req.json bob crash-bob.sig >/dev/null 2>&1
CRASH="hsmca-sign-subca --ca root --pin-source $PINSRC --csr other.csr --days 1825 --pathlen 0 --out crash.crt --request crash-req.json --approval crash-alice.sig --approval crash-bob.sig"
n2=$(certs)
env HSMCA_TEST_CRASH=after-commit $CRASH >/dev/null 2>&1
is "$?" 137 "killed after the commit, before the output was written"
is "$(certs)" "$((n2 + 1))" "... the certificate was committed"
[ -e crash.crt ] && notok "... no output file" || ok "... no output file"
out=$($CRASH 2>&1)
is "$?" 0 "the same command again: exit 0"
like "$out" "already executed: output written from the store" "... written from the store"
is "$(certs)" "$((n2 + 1))" "... one certificate in the store (nothing signed)"
crash_serial=$(python3 -c "import json;print(json.load(open('crash-req.json'))['params']['serial'])")
is "$(openssl x509 -in crash.crt -outform DER | sha256sum | cut -d' ' -f1)" \
	"$(store_sql root "select $hexder from certs where serial='$crash_serial'" | xxd -r -p | sha256sum | cut -d' ' -f1)" \
	"... the output is the store's certificate"
check "... it verifies" openssl verify -CAfile root/ca.crt crash.crt
like "$(store_sql root "select entry from audit order by seq desc limit 1")" '"approvers":\["alice","bob"\],"detail":"already executed: output written from the store"' "... audited, with the approvers"
check "... the audit chain verifies" hsmca-audit --ca root verify
out=$($CRASH 2>&1)
is "$?" 0 "and once more: exit 0, the output holds it"
like "$out" "already executed: the output holds" "... reported"

# positive: more than M, with the token approver
hsmca-sign-subca --ca root --pin-source "$PINSRC" --csr other.csr --days 1825 --out other.crt --prepare other2-req.json >/dev/null
for a in alice bob carol; do approve other2-req.json $a o-$a.sig >/dev/null 2>&1; done
check "more than M approvals (alice + bob + carol on a token)" hsmca-sign-subca --ca root --pin-source "$PINSRC" --csr other.csr --days 1825 --out other.crt \
	--request other2-req.json --approval o-alice.sig --approval o-bob.sig --approval o-carol.sig
like "$(store_sql root "select entry from audit order by seq desc limit 1")" '"approvers":\["alice","bob","carol"\]' "all three approvers recorded"

# expired request
hsmca-sign-subca --ca root --pin-source "$PINSRC" --csr other.csr --days 100 --out late.crt --prepare late-req.json --approval-ttl 3s >/dev/null
approve late-req.json alice late-alice.sig >/dev/null 2>&1
approve late-req.json bob late-bob.sig >/dev/null 2>&1
sleep 4
n2=$(certs)
expect_fail 3 "expired" "an expired request is refused" hsmca-sign-subca --ca root --pin-source "$PINSRC" --csr other.csr --days 100 --out late.crt \
	--request late-req.json --approval late-alice.sig --approval late-bob.sig
is "$(certs)" "$n2" "expired request signed nothing"

# bad quorum files are refused before anything happens
write_quorum m0.json 0 alice:alice.pub bob:bob.pub
write_quorum m4.json 4 alice:alice.pub bob:bob.pub carol:carol.pub
write_quorum dupkey.json 2 alice:alice.pub bob:alice.pub carol:carol.pub
write_quorum dupid.json 2 alice:alice.pub alice:bob.pub carol:carol.pub
write_quorum weakq.json 1 alice:alice.pub weak:weak.pub
for q in m0 m4 dupkey dupid weakq; do
	expect_fail 3 "$q.json" "quorum file $q refused" hsmca-init-ca --ca q-$q --key "pkcs11:token=Root;object=root-key" --pin-source "$PINSRC" \
		--self-sign --subject CN=x --days 10 --quorum $q.json --prepare q-$q.json
	[ -e q-$q.json ] && notok "no request written for $q" || ok "no request written for $q"
done
check "audit log of the quorum root verifies" hsmca-audit --ca root verify
done_testing
