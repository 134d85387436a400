#!/bin/sh
# hsmca-ceremony: every ceremony type rehearsed from the example ceremony
# files; the same types run for real on fresh SoftHSM tokens from ceremony
# and environment files; the pre-flight, the witness, resume after a stop
# and after a kill (exactly one key on the token), refusals with line
# numbers, transcripts, recorded hashes, audit heads and record.pdf (its
# text read with pdftotext, a page rendered with pdftoppm).
. "$HSMCA_TOP/tests/lib.sh"

EX=$HSMCA_TOP/ceremony/examples
CER=hsmca-ceremony
TS='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'
# A PIN that cannot appear by chance in a hash, to prove none is logged.
PIN=Ceremony-PIN-4711
printf '%s\n' "$PIN" >"$T/pin"

new_token Root
new_token Carol
new_token Sub
new_token Spare
new_token Spare2

token_serial() {
	pkcs11-tool --module "$HSMCA_MODULE" --list-token-slots 2>/dev/null | awk -v want="$1" '
		/token label *:/ { l = $0; sub(/^ *token label *: ?/, "", l); sub(/ +$/, "", l) }
		/serial num *:/ && l == want { print $NF; exit }'
}
# keys LABEL [CONF]: private keys on a token (after a login), public keys.
keys() {
	_conf=${2:-$SOFTHSM2_CONF}
	_pin=$PIN
	[ -z "${2:-}" ] || _pin=$(cat "$(dirname "$2")/token.pin")
	_priv=$(SOFTHSM2_CONF=$_conf pkcs11-tool --module "$HSMCA_MODULE" --token-label "$1" --login --pin "$_pin" \
		--list-objects --type privkey 2>/dev/null | grep -c 'label:')
	_pub=$(SOFTHSM2_CONF=$_conf pkcs11-tool --module "$HSMCA_MODULE" --token-label "$1" \
		--list-objects --type pubkey 2>/dev/null | grep -c 'label:')
	echo "$_priv private, $_pub public"
}
spki_cert() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1; }

# --- approvers: alice (Ed25519 PEM), bob (P-256 PEM, encrypted), carol
# (P-256 on her token); threshold 2 ------------------------------------------
openssl genpkey -algorithm ed25519 -out alice.key 2>/dev/null
printf 'bob passphrase\n' >bob.pass
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes256 -pass file:bob.pass -out bob.key 2>/dev/null
hsmca-keygen --token pkcs11:token=Carol --label carol-approval --type ec:p256 --pin-source "file:$T/pin" --pubout carol.pub >/dev/null
openssl pkey -in alice.key -pubout -out alice.pub
openssl pkey -in bob.key -passin file:bob.pass -pubout -out bob.pub
write_quorum quorum.json 2 alice:alice.pub bob:bob.pub carol:carol.pub
QSHA=$(sha256 quorum.json)
cat >env.yaml <<EOF
module: $HSMCA_MODULE
pin_source: file:$T/pin
approvers:
  alice: {key: $T/alice.key}
  bob: {key: $T/bob.key, pass_source: "file:$T/bob.pass"}
  carol: {key: "pkcs11:token=Carol;object=carol-approval", pin_source: "file:$T/pin"}
EOF

# transcript_checks NAME OUT LOG STEP...: a finished ceremony's transcript.
transcript_checks() {
	tc_name=$1
	tc_out=$2
	tc_log=$3
	tc_tr=$2/transcript.txt
	shift 3
	tc_total=$#
	tc_i=0
	tc_missing=''
	for tc_s in "$@"; do
		tc_i=$((tc_i + 1))
		grep -qE "^$TS STEP $tc_i/$tc_total $tc_s " "$tc_tr" && grep -qE "^$TS DONE $tc_i/$tc_total $tc_s\$" "$tc_tr" ||
			tc_missing="$tc_missing $tc_s"
	done
	is "$tc_missing" "" "$tc_name: transcript: steps $* started and done, with UTC times"
	is "$(grep -cvE "^$TS ([A-Z0-9-]+|>)( |\$)" "$tc_tr")" 0 "$tc_name: transcript: every line starts with a UTC time and a kind"
	like "$(head -n 1 "$tc_tr")" "^$TS BEGIN hsmca-ceremony " "$tc_name: transcript: BEGIN line"
	like "$(tail -n 1 "$tc_tr")" "^$TS END ok exit 0\$" "$tc_name: transcript: END ok"
	tc_bad=0
	tc_count=0
	while read -r _ _ _ tc_h tc_p; do
		[ -n "$tc_p" ] || continue
		case $tc_p in */SHA256SUMS | */record.pdf) continue ;; esac
		tc_count=$((tc_count + 1))
		[ "$(sha256 "$tc_p")" = "$tc_h" ] || {
			tc_bad=$((tc_bad + 1))
			diag "$tc_p: recorded $tc_h, now $(sha256 "$tc_p")"
		}
	done <<EOF
$(grep -E "^$TS SHA256 (input|output) [0-9a-f]{64} /" "$tc_tr")
EOF
	is "$tc_bad" 0 "$tc_name: transcript: all $tc_count recorded SHA-256 values are the files'"
	check "$tc_name: SHA256SUMS checks out" sh -c "cd '$tc_out' && sha256sum -c SHA256SUMS"
	check "$tc_name: transcript.txt.sha256 checks out" sh -c "cd '$tc_out' && sha256sum -c transcript.txt.sha256"
	is "$(cat "$tc_tr" "$tc_log" "$tc_out/progress.json" | grep -c "$PIN")" 0 "$tc_name: the PIN is in neither the transcript, the output nor progress.json"
	check "$tc_name: record.pdf is a PDF pdftotext reads" pdftotext "$tc_out/record.pdf" "$tc_out/record.txt"
}

# audit_checks NAME CA OUT LOG: the audit head printed, logged and in the
# PDF is hsmca-audit's.
audit_checks() {
	ac_head=$(hsmca-audit --ca "$2" verify | sed -n 's/^head: entry \([0-9]*\) sha256 \([0-9a-f]*\)$/entry \1 sha256 \2/p')
	like "$ac_head" "^entry [0-9]+ sha256 [0-9a-f]{64}\$" "$1: hsmca-audit verify prints a head"
	is "$(sed -n 's/^Audit head: [^ ]* //p' "$4")" "$ac_head" "$1: the printed audit head is hsmca-audit's"
	is "$(sed -n 's/^[^ ]* AUDIT-HEAD [^ ]* //p' "$3/transcript.txt")" "$ac_head" "$1: the transcript's audit head is hsmca-audit's"
	if grep -q "${ac_head##* }" "$3/record.txt"; then ok "$1: record.pdf holds the audit head"; else notok "$1: record.pdf holds the audit head"; fi
}

# =============================================================================
# 1. Every type rehearsed from the example ceremony files, as they are.
# =============================================================================
for f in root key subca cross crl revoke-subca; do
	$CER run "$EX/$f.yaml" --rehearse --out "rh-$f" --non-interactive >"rh-$f.log" 2>&1
	rc=$?
	is "$rc" 0 "rehearsal of the example $f.yaml exits 0"
	[ "$rc" = 0 ] || sed 's/^/#   /' "rh-$f.log" | tail -n 25
done
transcript_checks rh-root rh-root rh-root.log file preflight keygen quorum prepare approvals sign verify record
audit_checks rh-root rh-root/rehearsal/ca rh-root rh-root.log
check "rehearsal root: openssl verifies it (strict)" openssl verify -x509_strict -CAfile rh-root/root.crt rh-root/root.crt
is "$(spki_cert rh-root/root.crt)" "$(sed -n 's/^Key SPKI SHA-256: //p' rh-root.log | head -n 1)" "rehearsal root: its key is the SPKI printed for the witness"
is "$(keys Root rh-root/rehearsal/softhsm2.conf)" "1 private, 1 public" "rehearsal root: one key on the rehearsal token"
like "$(openssl x509 -in rh-root/root.crt -noout -subject -nameopt RFC2253)" "CN=Example Root R1,O=Example,C=GB" \
	"rehearsal root: the subject of the ceremony file"
like "$(grep 'rehearsal: this SoftHSM token stands in for serial' rh-root.log)" "1d903c1e78770d90" \
	"rehearsal: the SoftHSM token stands in for the file's token serial, and says so"
is "$(sha256 rh-root/ceremony.yaml)" "$(sha256 "$EX/root.yaml")" "the output directory keeps the exact ceremony file"
transcript_checks rh-key rh-key rh-key.log file preflight keygen verify record
check "rehearsal key: the CSR verifies" openssl req -in rh-key/issuing.csr -noout -verify
is "$(openssl pkey -pubin -in rh-key/issuing-key.pem -outform DER | sha256sum | cut -d' ' -f1)" \
	"$(sed -n 's/^Key SPKI SHA-256: //p' rh-key.log | head -n 1)" "rehearsal key: the public key file is the key reported"
transcript_checks rh-subca rh-subca rh-subca.log file preflight csr prepare approvals sign verify record
check "rehearsal subca: openssl verifies it up to the stand-in root" openssl verify -x509_strict \
	-CAfile rh-subca/rehearsal/ca/ca.crt rh-subca/issuing.crt
is "$(spki_cert rh-subca/issuing.crt)" "$(openssl req -in "$EX/issuing.csr" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)" \
	"rehearsal subca: the certificate certifies the reviewed CSR's key"
like "$(openssl x509 -in rh-subca/issuing.crt -noout -ext nameConstraints)" "DNS:example.com" "rehearsal subca: the name constraints of the file"
transcript_checks rh-cross rh-cross rh-cross.log file preflight certificate prepare approvals sign verify record
is "$(spki_cert rh-cross/r1-cross-r2.crt)" "$(spki_cert "$EX/root-r2.crt")" "rehearsal cross: R2's key, certified"
is "$(openssl x509 -in rh-cross/r1-cross-r2.crt -noout -subject -issuer -nameopt RFC2253 | tr '\n' ' ')" \
	"subject=CN=Example Root R2,O=Example,C=GB issuer=CN=Example Root R1,O=Example,C=GB " "rehearsal cross: R2's subject, issued by R1"
transcript_checks rh-crl rh-crl rh-crl.log file preflight revocations prepare approvals sign verify record
like "$(openssl crl -in rh-crl/root.crl -CAfile rh-crl/rehearsal/ca/ca.crt -noout 2>&1)" "verify OK" "rehearsal crl: openssl verifies the CRL"
transcript_checks rh-revoke rh-revoke-subca rh-revoke-subca.log file preflight certificate revoke-prepare revoke-approvals revoke \
	crl-prepare crl-approvals crl-sign verify record
target=$(openssl x509 -in rh-revoke-subca/rehearsal/revoke-target.crt -noout -serial | cut -d= -f2)
like "$(openssl crl -in rh-revoke-subca/root.crl -noout -text)" "Serial Number: $target" "rehearsal revoke-subca: the CRL lists the stand-in of the revoked CA"
like "$(openssl crl -in rh-revoke-subca/root.crl -noout -text)" "CA Compromise" "rehearsal revoke-subca: with the file's reason"

# The printed record of the root rehearsal.
txt=rh-root/record.txt
for what in "$(sha256 "$EX/root.yaml")" "$(sed -n 's/^Key SPKI SHA-256: //p' rh-root.log | head -n 1)" \
	"$(sha256 rh-root/root.crt)" "$(sha256 rh-root/rehearsal/quorum.json)"; do
	if grep -q "$what" "$txt"; then ok "record.pdf holds $what"; else notok "record.pdf holds $what"; fi
done
w1=$(sed -n '/^Words, to compare/{n;p;}' rh-root.log | awk '{ print $1, $2, $3 }')
like "$(tr '\n' ' ' <"$txt")" "$w1" "record.pdf holds the ceremony file's words"
for what in "REHEARSAL" "Steps \\(times in UTC\\)" "Chain" "root \\(made at this ceremony\\)" "CA:TRUE, pathlen:1" \
	"Quorum and approvers" "Request root approved by alice, carol" "answer at $TS: not asked" \
	"Audit log head" "Witness" "Ceremony administrator" "Approver alice" "Approver carol" "signature"; do
	like "$(cat "$txt")" "$what" "record.pdf: $what"
done
for a in alice carol; do
	fp=$(openssl pkey -in "rh-root/rehearsal/approvers/$a.key" -pubout -outform DER | sha256sum | cut -d' ' -f1)
	if grep -q "$fp" "$txt"; then ok "record.pdf: $a's key fingerprint"; else notok "record.pdf: $a's key fingerprint"; fi
done
like "$(cat rh-subca/record.txt)" "subordinate CA \\(signed at this ceremony\\)" "record.pdf of a subca: the chain root -> subordinate"
like "$(tr '\n' ' ' <rh-subca/record.txt)" "name constraints Permitted: DNS:example.com" "record.pdf of a subca: its name constraints in the chain"
like "$(cat rh-revoke-subca/record.txt)" "REVOKED at this ceremony" "record.pdf of a revocation: the revoked CA marked in the chain"
like "$(cat rh-crl/record.txt)" "CRL number" "record.pdf of a CRL: the CRL summary"
check "pdftoppm renders page 1 of record.pdf" pdftoppm -png -r 60 -f 1 -l 1 rh-root/record.pdf page
is "$(od -An -tx1 -N4 page-1.png 2>/dev/null | tr -d ' ')" "89504e47" "the rendering is a PNG image"

# check and plan.
check "check prints the file's SHA-256" $CER check "$EX/subca.yaml"
like "$(cat "$T/.out")" "SHA-256: $(sha256 "$EX/subca.yaml")" "check: the SHA-256 of the exact bytes"
is "$(sed -n '/^Words, for the witness/,$p' "$T/.out" | tail -n +2 | wc -w)" 32 "check: 32 words for the witness"
like "$(cat "$T/.out")" "OK: the CSR's key is the one announced" "check: the inputs are checked against the file"
check "plan prints the steps" $CER plan "$EX/root.yaml" --env env.yaml --out planned
like "$(cat "$T/.out")" "hsmca-keygen --token 'pkcs11:serial=1d903c1e78770d90;token=Root' --label root-key --type ec:p384 --pubout planned/public-key.pem --module [^ ]+ --pin-source fd:3 --json" \
	"plan: the exact keygen command line"
like "$(cat "$T/.out")" "hsmca-two-person-approve sign planned/requests/root.json --id alice --key $T/alice.key --out planned/approvals/root/alice.sig" \
	"plan: each approver's command line"
unlike "$(cat "$T/.out")" "$PIN" "plan: no PIN"
if [ -e planned ]; then notok "plan writes nothing"; else ok "plan writes nothing"; fi

# =============================================================================
# 2. For real: SoftHSM tokens, an environment file, the quorum's keys.
# =============================================================================
ROOT_SERIAL=$(token_serial Root)
cat >root.yaml <<EOF
version: 1
type: root
title: Test Root
token: {label: Root, serial: "$ROOT_SERIAL"}
key: {label: root-key, type: ec:p384}
ca: {dir: $T/root}
certificate:
  subject: CN=Ceremony Root R1,O=Example,C=GB
  days: 3650
  pathlen: 1
  crl_urls: [http://crl.example/root.crl]
quorum: {file: quorum.json, sha256: $QSHA}
approvers: [alice, carol]
EOF
$CER run root.yaml --env env.yaml --out root-out --non-interactive >root.log 2>&1
rc=$?
is "$rc" 0 "root ceremony from a ceremony file exits 0"
[ "$rc" = 0 ] || sed 's/^/#   /' root.log | tail -n 30
transcript_checks root root-out root.log file preflight keygen quorum prepare approvals sign verify record
audit_checks root root root-out root.log
check "openssl verifies the root" openssl verify -x509_strict -CAfile root/ca.crt root/ca.crt
check "certtool verifies the root" certtool --verify --load-ca-certificate root/ca.crt --infile root/ca.crt
is "$(spki_cert root/ca.crt)" "$(sed -n 's/^[^ ]* KEY .*spki_sha256=//p' root-out/transcript.txt)" "the root's key is the one the transcript records"
is "$(keys Root)" "1 private, 1 public" "one root key on the token"
is "$(sha256 root/quorum.json)" "$QSHA" "the root pins the quorum file"
like "$(hsmca-audit --ca root log)" "approvers alice carol" "the audit log names the approvers of the self-signature"
is "$(grep -c "CONFIRM step .*: not asked (--non-interactive)" root-out/transcript.txt)" 10 "non-interactive: the 10 confirmations are logged as not asked"
if grep -qE "^$TS SHA256 input $QSHA $T/quorum.json\$" root-out/transcript.txt; then
	ok "the transcript records the quorum file as input"
else
	notok "the transcript records the quorum file as input"
fi
for f in root/ca.crt root/ca.json root-out/requests/root.json root-out/approvals/root/alice.sig \
	root-out/approvals/root/carol.sig root-out/public-key.pem root-out/root.crt; do
	if grep -qE "^$TS SHA256 output $(sha256 "$f") $T/$f\$" root-out/transcript.txt; then
		ok "the transcript records output $f"
	else
		notok "the transcript records output $f"
	fi
done
unlike "$(cat root-out/record.txt)" "REHEARSAL" "a real ceremony's record says no rehearsal"
like "$(cat root-out/record.txt)" "$ROOT_SERIAL" "record.pdf: the token serial"

# The issuing CA's key ceremony, then its CSR signed at the root.
SUB_SERIAL=$(token_serial Sub)
cat >key.yaml <<EOF
version: 1
type: key
token: {label: Sub, serial: "$SUB_SERIAL"}
key: {label: sub-key, type: ec:p256}
csr: {subject: "CN=Ceremony Issuing CA 1,O=Example,C=GB"}
outputs: {public_key: sub.pem, csr: sub.csr}
EOF
$CER run key.yaml --env env.yaml --out key-out --non-interactive >key.log 2>&1
is "$?" 0 "key ceremony exits 0"
transcript_checks key key-out key.log file preflight keygen verify record
subspki=$(openssl req -in key-out/sub.csr -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
cp key-out/sub.csr sub.csr
cat >subca.yaml <<EOF
version: 1
type: subca
token: {label: Root, serial: "$ROOT_SERIAL"}
ca: {dir: $T/root, subject: "CN=Ceremony Root R1,O=Example,C=GB"}
csr: {file: sub.csr, spki_sha256: $subspki}
certificate:
  days: 1825
  pathlen: 0
  name_constraints: {permit_dns: [example.com]}
quorum: {file: quorum.json, sha256: $QSHA}
approvers: [alice, bob]
outputs: {certificate: issuing.crt}
EOF
$CER run subca.yaml --env env.yaml --out sub-out --non-interactive >subca.log 2>&1
rc=$?
is "$rc" 0 "subca ceremony exits 0"
[ "$rc" = 0 ] || sed 's/^/#   /' subca.log | tail -n 30
transcript_checks subca sub-out subca.log file preflight csr prepare approvals sign verify record
audit_checks subca root sub-out subca.log
check "openssl verifies root -> issuing" openssl verify -x509_strict -CAfile root/ca.crt sub-out/issuing.crt
check "certtool verifies root -> issuing" certtool --verify --load-ca-certificate root/ca.crt --infile sub-out/issuing.crt
like "$(openssl x509 -in sub-out/issuing.crt -noout -text)" "DNS:example.com" "the name constraints of the ceremony file"
like "$(hsmca-audit --ca root log | tail -n 20)" "approvers alice bob" "the audit log names the approvers of the subordinate"
check "the issuing CA directory is made from the ceremony's outputs" hsmca-init-ca --ca issuing \
	--key "pkcs11:token=Sub;object=sub-key" --pin-source "file:$T/pin" --cert sub-out/issuing.crt --chain sub-out/issuing.chain.pem

# A cross-certificate for a new root made elsewhere.
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout r2.key \
	-subj "/C=GB/O=Example/CN=Ceremony Root R2" -days 3650 -addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign -addext subjectKeyIdentifier=hash -out r2.crt 2>/dev/null
cat >cross.yaml <<EOF
version: 1
type: cross
token: {label: Root, serial: "$ROOT_SERIAL"}
ca: {dir: $T/root, subject: "CN=Ceremony Root R1,O=Example,C=GB"}
cross: {file: r2.crt, sha256: $(sha256 r2.crt)}
certificate: {days: 365}
quorum: {file: quorum.json, sha256: $QSHA}
approvers: [bob, carol]
EOF
$CER run cross.yaml --env env.yaml --out cross-out --non-interactive >cross.log 2>&1
is "$?" 0 "cross ceremony exits 0"
check "openssl verifies root R1 -> R2 (cross)" openssl verify -x509_strict -CAfile root/ca.crt cross-out/cross.crt
is "$(spki_cert cross-out/cross.crt)" "$(spki_cert r2.crt)" "the cross-certificate certifies R2's key"

# The root's CRL, then the revocation of the issuing CA with its CRL.
cat >crl.yaml <<EOF
version: 1
type: crl
token: {label: Root, serial: "$ROOT_SERIAL"}
ca: {dir: $T/root, subject: "CN=Ceremony Root R1,O=Example,C=GB"}
crl: {days: 180}
quorum: {file: quorum.json, sha256: $QSHA}
approvers: [bob, carol]
outputs: {crl: root.crl}
EOF
$CER run crl.yaml --env env.yaml --out crl-out --non-interactive >crl.log 2>&1
is "$?" 0 "crl ceremony exits 0"
transcript_checks crl crl-out crl.log file preflight revocations prepare approvals sign verify record
audit_checks crl root crl-out crl.log
check "openssl verify -crl_check: the issuing CA is not revoked" openssl verify -crl_check -CAfile root/ca.crt \
	-CRLfile crl-out/root.crl sub-out/issuing.crt
cat >revoke.yaml <<EOF
version: 1
type: revoke-subca
token: {label: Root, serial: "$ROOT_SERIAL"}
ca: {dir: $T/root, subject: "CN=Ceremony Root R1,O=Example,C=GB"}
revoke: {file: sub-out/issuing.crt, sha256: $(sha256 sub-out/issuing.crt), reason: cACompromise}
crl: {days: 30}
quorum: {file: quorum.json, sha256: $QSHA}
approvers: [alice, carol]
outputs: {crl: root.crl}
EOF
$CER run revoke.yaml --env env.yaml --out revoke-out --non-interactive >revoke.log 2>&1
rc=$?
is "$rc" 0 "revoke-subca ceremony exits 0"
[ "$rc" = 0 ] || sed 's/^/#   /' revoke.log | tail -n 30
transcript_checks revoke revoke-out revoke.log file preflight certificate revoke-prepare revoke-approvals revoke \
	crl-prepare crl-approvals crl-sign verify record
audit_checks revoke root revoke-out revoke.log
expect_fail 2 "certificate revoked" "openssl verify -crl_check: the issuing CA is revoked" \
	openssl verify -crl_check -CAfile root/ca.crt -CRLfile revoke-out/root.crl sub-out/issuing.crt
like "$(hsmca-audit --ca root report --json | jq -r '.revoked[].reason')" "cACompromise" "the root's store records the revocation"
expect_fail 3 "already revoked" "a second revocation of it is refused at the pre-flight" \
	$CER run revoke.yaml --env env.yaml --out revoke-again --non-interactive

# =============================================================================
# 3. Refusals before anything irreversible.
# =============================================================================
# The pre-flight finds a missing parent directory before any key exists.
SPARE_SERIAL=$(token_serial Spare)
sed -e "s|dir: $T/root|dir: $T/missing/parent/root|" -e "s|label: Root, serial: \"$ROOT_SERIAL\"|label: Spare, serial: \"$SPARE_SERIAL\"|" \
	root.yaml >noparent.yaml
expect_fail 3 "$T/missing/parent does not exist: create it \\(mkdir -p $T/missing/parent\\) and run again" \
	"pre-flight: a missing parent of the CA directory is refused (exit 3)" \
	$CER run noparent.yaml --env env.yaml --out noparent-out --non-interactive
is "$(keys Spare)" "0 private, 0 public" "pre-flight: no key was generated"
if grep -q " KEY " noparent-out/transcript.txt; then notok "pre-flight: the transcript records no key"; else ok "pre-flight: the transcript records no key"; fi
like "$(tail -n 1 noparent-out/transcript.txt)" "END failed exit 3" "pre-flight: the transcript ends failed"
like "$(cat "$T/.out")" "continue with: hsmca-ceremony run --resume" "the operator is told how to continue"

# A token with another serial: refused before keygen.
sed "s|label: Root, serial: \"$ROOT_SERIAL\"|label: Spare, serial: \"0000000000000000\"|" root.yaml | \
	sed "s|dir: $T/root|dir: $T/wrongserial|" >wrongserial.yaml
expect_fail 3 "the token the ceremony file names \\(label and serial\\)" "pre-flight: a token with another serial is refused (exit 3)" \
	$CER run wrongserial.yaml --env env.yaml --out wrongserial-out --non-interactive
is "$(keys Spare)" "0 private, 0 public" "and nothing was generated"

# A bad file: refused with the line of the fault, nothing written.
sed 's/  subject: CN=Ceremony Root R1/  sbuject: CN=Ceremony Root R1/' root.yaml >bad.yaml
expect_fail 2 "bad.yaml: unknown key 'sbuject' at line 8 in certificate" "a misspelt key is refused with its line (exit 2)" \
	$CER run bad.yaml --env env.yaml --out bad-out --non-interactive
if [ -e bad-out ]; then notok "a bad file leaves no output directory"; else ok "a bad file leaves no output directory"; fi
sed 's/  days: 3650/  days: ten years/' root.yaml >bad2.yaml
expect_fail 2 "bad2.yaml: certificate.days at line 9: must be a whole number" "a wrong type is refused with its line" $CER check bad2.yaml
sed '/^approvers:/d' root.yaml >bad3.yaml
expect_fail 2 "bad3.yaml: approvers is missing" "a missing field is refused" $CER check bad3.yaml
sed 's/^quorum: {file: quorum.json, sha256: [0-9a-f]*}/quorum: {file: quorum.json, sha256: '"$(sha256 bob.pub)"'}/' root.yaml >bad4.yaml
expect_fail 3 "the quorum file is the reviewed one" "a quorum file that is not the reviewed one is refused" $CER check bad4.yaml
printf 'module: %s\npin_source: 1234\n' "$HSMCA_MODULE" >badenv.yaml
expect_fail 2 "badenv.yaml: pin_source at line 2" "a PIN in the environment file is refused with its line" \
	$CER run root.yaml --env badenv.yaml --out badenv-out --non-interactive
printf 'module: %s\n' "$HSMCA_MODULE" >nopin.yaml
expect_fail 2 "needs a PIN source" "--non-interactive without a PIN source is refused at once (exit 2)" \
	$CER run root.yaml --env nopin.yaml --out nopin-out --non-interactive
if [ -e nopin-out ]; then notok "... before anything is written"; else ok "... before anything is written"; fi
printf 'module: %s\npin_source: file:%s\n' "$HSMCA_MODULE" "$T/pin" >nokeys.yaml
expect_fail 2 "needs the key of every expected approver in the environment file: alice" \
	"--non-interactive without the approvers' keys is refused at once" \
	$CER run root.yaml --env nokeys.yaml --out nokeys-out --non-interactive
expect_fail 2 "not empty" "a non-empty output directory is refused" \
	$CER run root.yaml --env env.yaml --out root-out --non-interactive
expect_fail 2 "no --env" "--rehearse with --env is refused" $CER run root.yaml --rehearse --env env.yaml --out x

# =============================================================================
# 4. The witness.
# =============================================================================
SPARE2_SERIAL=$(token_serial Spare2)
sed -e "s|label: Root, serial: \"$ROOT_SERIAL\"|label: Spare2, serial: \"$SPARE2_SERIAL\"|" \
	-e "s|dir: $T/root|dir: $T/w-root|" root.yaml >w.yaml
printf 'no\n' | $CER run w.yaml --env env.yaml --out w1 >w1.log 2>&1
is "$?" 4 "the witness typing 'no' at step 1 stops the ceremony (exit 4)"
like "$(cat w1.log)" "did not confirm \\(typed 'no'\\): the ceremony stops at step 1" "the refusal is explained"
if grep -qE "^$TS REFUSED step 1: witness typed 'no'\$" w1/transcript.txt; then ok "the transcript records the refusal"; else notok "the transcript records the refusal"; fi
like "$(tail -n 1 w1/transcript.txt)" "END stopped exit 4" "the transcript ends: stopped"
printf 'yes\nYES\n' | $CER run w.yaml --env env.yaml --out w2 >w2.log 2>&1
is "$?" 4 "'YES' is not 'yes': stopped (exit 4)"
like "$(grep REFUSED w2/transcript.txt)" "REFUSED step 2: witness typed 'YES'" "refused at step 2"
$CER run w.yaml --env env.yaml --out w3 </dev/null >w3.log 2>&1
is "$?" 4 "no answer at all (end of input) stops the ceremony"
like "$(cat w3/transcript.txt)" "witness typed '\\(end of input\\)'" "end of input is logged as such"
is "$(keys Spare2)" "0 private, 0 public" "nothing was generated after those refusals"

# =============================================================================
# 5. Resume: after a stop after the key, after a kill, with a swapped key,
#    with approvals gone; exactly one key on the token.
# =============================================================================
# The witness stops at step 3, after the key is made.
printf 'yes\nyes\nyes\nno\n' | $CER run w.yaml --env env.yaml --out w4 >w4.log 2>&1
is "$?" 4 "stopped after key generation (exit 4)"
is "$(keys Spare2)" "1 private, 1 public" "the key exists"
like "$(cat w4.log)" "continue with: hsmca-ceremony run --resume $T/w4 --env env.yaml" "the operator is told how to continue"
expect_fail 3 "is not the ceremony file" "--resume with another ceremony file is refused" \
	$CER run --resume w4 root.yaml --env env.yaml --non-interactive
$CER run --resume w4 w.yaml --env env.yaml --non-interactive >w4b.log 2>&1
rc=$?
is "$rc" 0 "--resume completes the ceremony"
[ "$rc" = 0 ] || sed 's/^/#   /' w4b.log | tail -n 30
like "$(cat w4b.log)" "The key made by the interrupted run is on the token: it is kept, none is generated" "the resumed run keeps the key"
like "$(cat w4b.log)" "OK: the key's SPKI SHA-256 is the one in the transcript" "the key is checked against the transcript"
is "$(keys Spare2)" "1 private, 1 public" "exactly one key on the token after the resume"
is "$(spki_cert w-root/ca.crt)" "$(sed -n 's/^[^ ]* KEY .*spki_sha256=//p' w4/transcript.txt | sort -u)" "the root certifies the key of the transcript"
is "$(grep -c " RESUME hsmca-ceremony" w4/transcript.txt)" 1 "the transcript records the resumption"
pdftotext w4/record.pdf w4/record.txt
like "$(cat w4/record.txt)" "Resumed \(UTC\)" "record.pdf says when the ceremony was resumed"
like "$(cat w4/record.txt)" "answer at $TS: no" "record.pdf keeps the witness's 'no' before the resumption"
check "and its root verifies" openssl verify -x509_strict -CAfile w-root/ca.crt w-root/ca.crt
check "SHA256SUMS of the resumed ceremony checks out" sh -c "cd w4 && sha256sum -c SHA256SUMS"

# A kill (power cut) right after the key: resumed, one key.
mkfifo answers
$CER run "$EX/root.yaml" --rehearse --out k1 <answers >k1.log 2>&1 &
pid=$!
exec 7>answers
printf 'yes\nyes\nyes\n' >&7
i=0
while ! grep -q ' KEY ' k1/transcript.txt 2>/dev/null && [ "$i" -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -9 "$pid"
wait "$pid" 2>/dev/null
exec 7>&-
is "$(keys Root k1/rehearsal/softhsm2.conf)" "1 private, 1 public" "killed after key generation: one key"
if grep -q ' END ' k1/transcript.txt; then notok "the killed run did not end its transcript"; else ok "the killed run did not end its transcript"; fi
$CER run --resume k1 --non-interactive >k1b.log 2>&1
rc=$?
is "$rc" 0 "--resume after a kill completes the ceremony"
[ "$rc" = 0 ] || sed 's/^/#   /' k1b.log | tail -n 30
is "$(keys Root k1/rehearsal/softhsm2.conf)" "1 private, 1 public" "exactly one key on the token after the kill and the resume"
check "the resumed rehearsal's root verifies" openssl verify -x509_strict -CAfile k1/root.crt k1/root.crt
is "$(spki_cert k1/root.crt)" "$(sed -n 's/^[^ ]* KEY .*spki_sha256=//p' k1/transcript.txt | sort -u)" "its key is the transcript's"

# The signature step killed after the commit, before the certificate file
# was written: --resume runs it again and the certificate comes from the
# store, nothing signed twice.
env HSMCA_TEST_CRASH=after-commit $CER run "$EX/subca.yaml" --rehearse --out kc --non-interactive >kc.log 2>&1
is "$?" 1 "subca: sign-subca killed after the commit stops the ceremony (exit 1)"
if [ -e kc/issuing.crt ]; then notok "... no certificate file"; else ok "... no certificate file"; fi
$CER run --resume kc --non-interactive >kc2.log 2>&1
rc=$?
is "$rc" 0 "--resume completes it"
[ "$rc" = 0 ] || sed 's/^/#   /' kc2.log | tail -n 30
like "$(cat kc/transcript.txt)" '"already_executed": true' "... sign-subca reports the request already executed"
is "$(sqlite3 kc/rehearsal/ca/ca.db "select count(*) from certs where kind='subca'")" 1 "... one subordinate certificate in the store"
is "$(openssl x509 -in kc/issuing.crt -outform DER | sha256sum | cut -d' ' -f1)" \
	"$(sqlite3 kc/rehearsal/ca/ca.db "select hex(der) from certs where kind='subca'" | xxd -r -p | sha256sum | cut -d' ' -f1)" \
	"... the certificate file is the store's"
check "... it verifies" openssl verify -x509_strict -CAfile kc/rehearsal/ca/ca.crt kc/issuing.crt
check "... the audit chain verifies" hsmca-audit --ca kc/rehearsal/ca verify

# Stopped after the key step; the key then swapped on the token: refused.
printf 'yes\nyes\nyes\nyes\nno\n' | $CER run "$EX/root.yaml" --rehearse --out sw >sw.log 2>&1
is "$?" 4 "stopped at the quorum step"
sw_pin=$(cat sw/rehearsal/token.pin)
SOFTHSM2_CONF=sw/rehearsal/softhsm2.conf pkcs11-tool --module "$HSMCA_MODULE" --token-label Root --login --pin "$sw_pin" \
	--delete-object --type privkey --label root-key >/dev/null 2>&1
SOFTHSM2_CONF=sw/rehearsal/softhsm2.conf pkcs11-tool --module "$HSMCA_MODULE" --token-label Root --login --pin "$sw_pin" \
	--delete-object --type pubkey --label root-key >/dev/null 2>&1
SOFTHSM2_CONF=sw/rehearsal/softhsm2.conf hsmca-keygen --token pkcs11:token=Root --label root-key --type ec:p384 \
	--module "$HSMCA_MODULE" --pin-source "file:$T/sw/rehearsal/token.pin" >/dev/null
expect_fail 3 "the key's SPKI SHA-256 is the one in the transcript" "--resume refuses a key that is not the transcript's" \
	$CER run --resume sw --non-interactive
if [ -e sw/root.crt ]; then notok "nothing signed with the swapped key"; else ok "nothing signed with the swapped key"; fi

# Stopped before the signature; an approval then lost: refused; back: done.
printf 'yes\nyes\nyes\nyes\nyes\nyes\nyes\nno\n' | $CER run "$EX/root.yaml" --rehearse --out ap >ap.log 2>&1
is "$?" 4 "stopped at the signature"
mv ap/approvals/root/carol.sig carol.sig.kept
expect_fail 3 "the approvals still verify against the request" "--resume checks the approvals again and refuses" \
	$CER run --resume ap --non-interactive
mv carol.sig.kept ap/approvals/root/carol.sig
$CER run --resume ap --non-interactive >ap2.log 2>&1
is "$?" 0 "with the approval back, --resume completes"
like "$(cat ap2.log)" "OK: the approvals still verify against the request" "the approvals were verified again"

# Stopped before the signature until the request expired: resumed, it is
# prepared and approved again (new names), then signed; still one key.
mkdir ttl
cp "$EX/quorum.json" ttl/
sed 's/^approval_ttl: .*/approval_ttl: 20s/' "$EX/root.yaml" >ttl/root.yaml
printf 'yes\nyes\nyes\nyes\nyes\nyes\nyes\nno\n' | $CER run ttl/root.yaml --rehearse --out ex >ex.log 2>&1
is "$?" 4 "stopped at the signature, with a request valid 20 s"
expires=$(date -d "$(jq -r '.ops.root.request_description.expires' ex/progress.json)" +%s)
while [ "$(date +%s)" -le "$expires" ]; do sleep 1; done
$CER run --resume ex --non-interactive >ex2.log 2>&1
rc=$?
is "$rc" 0 "resumed after the request expired, the ceremony completes"
[ "$rc" = 0 ] || sed 's/^/#   /' ex2.log | tail -n 20
like "$(cat ex2.log)" "The request expired while the ceremony was stopped: it is prepared and approved again" "the expiry is explained"
check "the new request has a new name" test -f ex/requests/root-2.json
check "its approvals are apart from the old ones" test -f ex/approvals/root-2/alice.sig
tbs_off=$(openssl asn1parse -in ex/root.crt | sed -n '2s/^ *\([0-9]*\):.*/\1/p')
is "$(openssl asn1parse -in ex/root.crt -strparse "$tbs_off" -noout -out tbs.der >/dev/null 2>&1; sha256 tbs.der)" \
	"$(jq -r .tbs_sha256 ex/requests/root-2.json)" "the root is the newly approved certificate"
is "$(keys Root ex/rehearsal/softhsm2.conf)" "1 private, 1 public" "still exactly one key"

# =============================================================================
# 6. Approvals brought as files, interactively; one not expected.
# =============================================================================
# The approvers sign on their own machines once the request exists; the
# witness goes on.
feeder() { # OUT OP IDS YESES-BEFORE YESES-AFTER
	n=0
	while [ "$n" -lt "$4" ]; do printf 'yes\n'; n=$((n + 1)); done
	i=0
	while [ ! -f "$1/requests/$2.json" ] && [ "$i" -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	mkdir -p "$1/approvals/$2"
	for id in $3; do
		case $id in
		alice) hsmca-two-person-approve sign "$1/requests/$2.json" --id alice --key alice.key --out "$1/approvals/$2/alice.sig" ;;
		bob) hsmca-two-person-approve sign "$1/requests/$2.json" --id bob --key bob.key --pass-source file:bob.pass --out "$1/approvals/$2/bob.sig" ;;
		esac </dev/null >/dev/null 2>&1
	done
	n=0
	while [ "$n" -lt "$5" ]; do printf 'yes\n'; n=$((n + 1)); done
}
printf 'module: %s\npin_source: file:%s\n' "$HSMCA_MODULE" "$T/pin" >env-nokeys.yaml
cat >crl2.yaml <<EOF
version: 1
type: crl
token: {label: Root, serial: "$ROOT_SERIAL"}
ca: {dir: $T/root, subject: "CN=Ceremony Root R1,O=Example,C=GB"}
crl: {days: 10}
quorum: {file: quorum.json, sha256: $QSHA}
approvers: [alice, bob]
outputs: {crl: files.crl}
EOF
feeder files-out crl "alice bob" 4 5 | $CER run crl2.yaml --env env-nokeys.yaml --out files-out >files.log 2>&1
rc=$?
is "$rc" 0 "interactive ceremony with approval files brought by the approvers"
[ "$rc" = 0 ] || sed 's/^/#   /' files.log | tail -n 20
like "$(cat files.log)" "When the approval files are in $T/files-out/approvals/crl" "it waited for the approval files"
is "$(grep -c "CONFIRM step [0-9]*: witness typed yes" files-out/transcript.txt)" 9 "every confirmation typed by the witness, and logged"
like "$(openssl crl -in files-out/files.crl -CAfile root/ca.crt -noout 2>&1)" "verify OK" "and the CRL verifies"
sed 's/approvers: \[alice, bob\]/approvers: [bob, carol]/; s/files.crl/unexpected.crl/' crl2.yaml >crl3.yaml
feeder unexp-out crl "alice bob" 4 5 | $CER run crl3.yaml --env env-nokeys.yaml --out unexp-out >unexp.log 2>&1
is "$?" 3 "an approval by someone the ceremony file does not expect is refused (exit 3)"
like "$(cat unexp.log)" "alice approved, but is not listed in approvers" "the refusal names the approver"
if [ -e unexp-out/unexpected.crl ]; then notok "nothing signed"; else ok "nothing signed"; fi
check "the root's audit log still verifies" hsmca-audit --ca root verify
done_testing
