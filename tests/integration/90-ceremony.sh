#!/bin/sh
# The ceremony runbooks (ceremony/root-ceremony, subca-ceremony,
# crl-ceremony) on fresh SoftHSM tokens: transcripts, recorded hashes,
# audit heads, verification of the results, and the witness's refusal.
. "$HSMCA_TOP/tests/lib.sh"

CER=$HSMCA_TOP/ceremony
export BUILD="$HSMCA_BUILD"
# A PIN that cannot appear by chance in a hash, to prove none is logged.
PIN=Ceremony-PIN-4711
printf '%s\n' "$PIN" >"$T/pin"

new_token Root
new_token Carol
new_token Sub
new_token Spare

token_serial() {
	pkcs11-tool --module "$HSMCA_MODULE" --list-token-slots 2>/dev/null | awk -v want="$1" '
		/token label *:/ { l = $0; sub(/^ *token label *: ?/, "", l); sub(/ +$/, "", l) }
		/serial num *:/ && l == want { print $NF; exit }'
}
token_objects() { pkcs11-tool --module "$HSMCA_MODULE" --token-label "$1" --list-objects --type pubkey 2>/dev/null; }

# Approvers: alice (Ed25519 PEM), bob (P-256 PEM, encrypted), carol (P-256
# on her token). Threshold 2.
openssl genpkey -algorithm ed25519 -out alice.key 2>/dev/null
printf 'bob passphrase\n' >bob.pass
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes256 -pass file:bob.pass -out bob.key 2>/dev/null
hsmca-keygen --token pkcs11:token=Carol --label carol-approval --type ec:p256 --pin-source "$PINSRC" --pubout carol.pub >/dev/null
openssl pkey -in alice.key -pubout -out alice.pub
openssl pkey -in bob.key -passin file:bob.pass -pubout -out bob.pub
json_pem() { awk 'BEGIN { ORS = "" } { print $0 "\\n" }' "$1"; }
cat >quorum.json <<EOF
{
  "version": 1,
  "threshold": 2,
  "approvers": [
    { "id": "alice", "name": "Alice Example", "public_key": "$(json_pem alice.pub)" },
    { "id": "bob", "name": "Bob Example", "public_key": "$(json_pem bob.pub)" },
    { "id": "carol", "name": "Carol Example", "public_key": "$(json_pem carol.pub)" }
  ]
}
EOF
# The approval command the runbooks call: approve.sh ID... REQUEST DIR
cat >approve.sh <<EOF
#!/bin/sh
ids=''
while [ \$# -gt 2 ]; do ids="\$ids \$1"; shift; done
for id in \$ids; do
	case \$id in
	alice) hsmca-two-person-approve sign "\$1" --id alice --key $T/alice.key --out "\$2/alice.sig" ;;
	bob) hsmca-two-person-approve sign "\$1" --id bob --key $T/bob.key --pass-source file:$T/bob.pass --out "\$2/bob.sig" ;;
	carol) hsmca-two-person-approve sign "\$1" --id carol --key 'pkcs11:token=Carol;object=carol-approval' --pin-source file:$T/pin --out "\$2/carol.sig" ;;
	esac </dev/null || exit 1
done
EOF
chmod 700 approve.sh

TS='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'

# transcript_checks NAME DIR STEP...: the transcript of a finished ceremony.
transcript_checks() {
	tc_name=$1
	tc_out=$2
	tc_tr=$2/transcript.txt
	shift 2
	tc_total=$#
	tc_i=0
	for tc_s in "$@"; do
		tc_i=$((tc_i + 1))
		if grep -qE "^$TS STEP $tc_i/$tc_total $tc_s " "$tc_tr" && grep -qE "^$TS DONE $tc_i/$tc_total $tc_s\$" "$tc_tr"; then
			ok "$tc_name transcript: step $tc_i/$tc_total $tc_s started and done, with timestamps"
		else
			notok "$tc_name transcript: step $tc_i/$tc_total $tc_s started and done, with timestamps" "$(grep -E "STEP|DONE" "$tc_tr" | tr '\n' ' ')"
		fi
	done
	is "$(grep -cvE "^$TS ([A-Z0-9-]+|>)( |\$)" "$tc_tr")" 0 "$tc_name transcript: every line starts with a UTC time and a kind"
	like "$(head -n 1 "$tc_tr")" "^$TS BEGIN $tc_name " "$tc_name transcript: BEGIN line"
	like "$(tail -n 1 "$tc_tr")" "^$TS END ok exit 0\$" "$tc_name transcript: END ok"
	# Every recorded SHA-256 is the file's.
	tc_bad=0
	tc_count=0
	while read -r _ _ tc_dir tc_h tc_p; do
		[ -n "$tc_p" ] || continue
		tc_count=$((tc_count + 1))
		[ "$(sha256 "$tc_p")" = "$tc_h" ] || {
			tc_bad=$((tc_bad + 1))
			diag "$tc_p: recorded $tc_h ($tc_dir), now $(sha256 "$tc_p")"
		}
	done <<EOF
$(grep -E "^$TS SHA256 (input|output) [0-9a-f]{64} /" "$tc_tr")
EOF
	is "$tc_bad" 0 "$tc_name transcript: all $tc_count recorded SHA-256 values equal sha256sum of the artifacts"
	check "$tc_name: SHA256SUMS checks out" sh -c "cd '$tc_out' && sha256sum -c SHA256SUMS"
	check "$tc_name: transcript.txt.sha256 checks out" sh -c "cd '$tc_out' && sha256sum -c transcript.txt.sha256"
	is "$(grep -c "$PIN" "$tc_tr" "$T/$tc_name.log" | awk -F: '{ s += $2 } END { print s }')" 0 "$tc_name: the PIN appears in neither the transcript nor the output"
}

# audit_checks NAME CA LOG: the printed audit head is hsmca-audit's.
audit_checks() {
	tc_head=$(hsmca-audit --ca "$2" verify | sed -n 's/^head: entry \([0-9]*\) sha256 \([0-9a-f]*\)$/entry \1 sha256 \2/p')
	like "$tc_head" "^entry [0-9]+ sha256 [0-9a-f]{64}\$" "$1: hsmca-audit verify prints a head"
	is "$(sed -n 's/^Audit head: [^ ]* //p' "$3")" "$tc_head" "$1: the printed audit head equals hsmca-audit --ca DIR verify"
	is "$(sed -n 's/^[^ ]* AUDIT-HEAD [^ ]* //p' "$4/transcript.txt")" "$tc_head" "$1: the transcript's audit head equals it too"
}

# --- root ceremony, non-interactive ------------------------------------------
SERIAL=$(token_serial Root)
sh "$CER/root-ceremony" --non-interactive --token Root --token-serial "$SERIAL" \
	--key-type ec:p384 --subject "CN=Ceremony Root R1,O=Example,C=GB" --days 3650 --pathlen 1 \
	--crl-url http://crl.example/root.crl --quorum quorum.json \
	--approve-cmd "$T/approve.sh alice carol" --pin-source "$PINSRC" --ca root --out root-out >root-ceremony.log 2>&1
rc=$?
is "$rc" 0 "root-ceremony --non-interactive exits 0"
[ "$rc" = 0 ] || sed 's/^/#   /' root-ceremony.log | tail -n 30
transcript_checks root-ceremony root-out token keygen quorum root subca hashes audit
audit_checks root-ceremony root root-ceremony.log root-out
check "openssl verifies the root" openssl verify -x509_strict -CAfile root/ca.crt root/ca.crt
check "certtool verifies the root" certtool --verify --load-ca-certificate root/ca.crt --infile root/ca.crt
fp=$(sed -n 's/^Root SPKI SHA-256: //p' root-ceremony.log)
is "$(openssl x509 -in root/ca.crt -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)" "$fp" \
	"the root certificate's key is the printed root SPKI SHA-256"
if grep -qE "^$TS SHA256 input $(sha256 quorum.json) $T/quorum.json\$" root-out/transcript.txt; then
	ok "transcript records the quorum file as input"
else
	notok "transcript records the quorum file as input"
fi
for f in root/ca.crt root/ca.json root/quorum.json root-out/requests/root-selfsign.json \
	root-out/approvals/root-selfsign/alice.sig root-out/approvals/root-selfsign/carol.sig root-out/root-key.pub; do
	if grep -qE "^$TS SHA256 output $(sha256 "$f") $T/$f\$" root-out/transcript.txt; then
		ok "transcript records output $f"
	else
		notok "transcript records output $f"
	fi
done
is "$(grep -c "CONFIRM step .*: not asked (--non-interactive)" root-out/transcript.txt)" 8 "non-interactive: the 8 confirmations are logged as not asked"
is "$(sha256 root/quorum.json)" "$(sha256 quorum.json)" "the root pins the quorum file"
like "$(hsmca-audit --ca root log)" "approvers alice carol" "the audit log names the approvers of the self-signature"

# --- subordinate ceremony ---------------------------------------------------------
keygen Sub sub-key ec:p256 --csr sub.csr --subject "CN=Ceremony Issuing CA 1,O=Example,C=GB" >keygen-sub.out
subfp=$(sed -n 's/^spki sha256: *//p' keygen-sub.out)
sh "$CER/subca-ceremony" --non-interactive --ca root --csr sub.csr --csr-spki "$subfp" \
	--days 1825 --pathlen 0 --cert issuing.crt --approve-cmd "$T/approve.sh alice bob" \
	--pin-source "$PINSRC" --out sub-out -- --permit-dns example.com >subca-ceremony.log 2>&1
rc=$?
is "$rc" 0 "subca-ceremony --non-interactive exits 0"
[ "$rc" = 0 ] || sed 's/^/#   /' subca-ceremony.log | tail -n 30
transcript_checks subca-ceremony sub-out ca csr prepare approvals sign verify hashes audit
audit_checks subca-ceremony root subca-ceremony.log sub-out
check "openssl verifies root -> issuing" openssl verify -x509_strict -CAfile root/ca.crt sub-out/issuing.crt
check "certtool verifies root -> issuing" certtool --verify --load-ca-certificate root/ca.crt --infile sub-out/issuing.crt
like "$(openssl x509 -in sub-out/issuing.crt -noout -text)" "DNS:example.com" "options after -- reach hsmca-sign-subca (name constraint)"
like "$(hsmca-audit --ca root log | tail -n 20)" "approvers alice bob" "the audit log names the approvers of the subordinate"
check "the issuing CA directory is made from the ceremony's outputs" hsmca-init-ca --ca issuing \
	--key "pkcs11:token=Sub;object=sub-key" --pin-source "$PINSRC" --cert sub-out/issuing.crt --chain sub-out/issuing.chain.pem

# --- CRL ceremony (when hsmca-gen-crl is built) -----------------------------------------
if [ -x "$BIN/hsmca-gen-crl" ]; then
	sh "$CER/crl-ceremony" --non-interactive --ca root --days 180 --crl root.crl \
		--approve-cmd "$T/approve.sh bob carol" --pin-source "$PINSRC" --out crl-out >crl-ceremony.log 2>&1
	rc=$?
	is "$rc" 0 "crl-ceremony --non-interactive exits 0"
	[ "$rc" = 0 ] || sed 's/^/#   /' crl-ceremony.log | tail -n 30
	transcript_checks crl-ceremony crl-out ca revocations prepare approvals sign verify hashes audit
	audit_checks crl-ceremony root crl-ceremony.log crl-out
	like "$(openssl crl -in crl-out/root.crl -CAfile root/ca.crt -noout 2>&1)" "verify OK" "openssl verifies the root CRL"
	check "openssl verify -crl_check: issuing CA not revoked" openssl verify -crl_check -CAfile root/ca.crt \
		-CRLfile crl-out/root.crl sub-out/issuing.crt
else
	skip "crl-ceremony" "hsmca-gen-crl is not built"
fi

# --- the witness --------------------------------------------------------------------------
# Interactive (the default): anything but "yes" stops the ceremony (exit 4).
interactive() { # OUT [ARGS...], answers on stdin
	_o=$1
	shift
	sh "$CER/root-ceremony" --token Spare --key-label "k-$_o" --subject "CN=Refused Root" \
		--quorum quorum.json --approve-cmd "$T/approve.sh alice bob" --pin-source "$PINSRC" --out "$_o" "$@"
}
printf 'no\n' | interactive w1 >w1.log 2>&1
is "$?" 4 "witness typing 'no' at step 1 stops the ceremony (exit 4)"
like "$(cat w1.log)" "did not confirm .*stops at step 1" "the refusal is explained"
if grep -qE "^$TS REFUSED step 1: witness typed 'no'\$" w1/transcript.txt; then
	ok "transcript records the refusal"
else
	notok "transcript records the refusal" "$(tail -n 3 w1/transcript.txt)"
fi
like "$(tail -n 1 w1/transcript.txt)" "END stopped exit 4" "transcript ends: stopped"
is "$(token_objects Spare | grep -c 'label: *k-w1')" 0 "nothing was generated after the refusal"
printf 'yes\nyes\nYES\n' | interactive w2 >w2.log 2>&1
is "$?" 4 "'YES' is not 'yes': stopped (exit 4)"
like "$(grep REFUSED w2/transcript.txt)" "REFUSED step 2: witness typed 'YES'" "refused at step 2"
is "$(grep -c 'CONFIRM step [12]: witness typed yes' w2/transcript.txt)" 2 "the two confirmations before are logged"
if [ -e w2/ca ]; then notok "no CA directory after the refusal"; else ok "no CA directory after the refusal"; fi
interactive w3 </dev/null >w3.log 2>&1
is "$?" 4 "no answer at all (end of input) stops the ceremony"
like "$(cat w3/transcript.txt)" "witness typed '\\(end of input\\)'" "end of input is logged as such"
printf 'yes\nyes\nyes\nyes\nyes\nyes\nyes\nyes\nyes\n' | interactive w4 >w4.log 2>&1
is "$?" 0 "interactive ceremony completes when the witness confirms every step"
is "$(grep -c "CONFIRM step [0-9]*: witness typed yes" w4/transcript.txt)" 8 "eight confirmations, all logged"
check "and its root verifies" openssl verify -CAfile w4/ca/ca.crt w4/ca/ca.crt

# Interactive, approvals handed in as files: the runbook waits; the
# approvers (this feeder) sign once the request exists, then the witness
# goes on.
keygen Sub files-key ec:p256 --csr files.csr --subject "CN=Files Sub CA" >/dev/null
feeder() {
	printf 'yes\nyes\nyes\n'
	_w=0
	while [ ! -f files-out/requests/files.json ] && [ "$_w" -lt 120 ]; do
		sleep 0.5
		_w=$((_w + 1))
	done
	mkdir -p files-out/approvals/files
	sh approve.sh bob carol "$T/files-out/requests/files.json" "$T/files-out/approvals/files" >/dev/null 2>&1
	printf 'yes\nyes\nyes\nyes\nyes\nyes\n'
}
feeder | sh "$CER/subca-ceremony" --ca root --csr files.csr --days 30 --cert files.crt \
	--pin-source "$PINSRC" --out files-out >files.log 2>&1
is "$?" 0 "interactive subca-ceremony with approval files placed by the approvers"
like "$(cat files.log)" "When the approval files are in $T/files-out/approvals/files" "the runbook waited for the approval files"
like "$(grep 'CHECK ok approvals meet the quorum' files-out/transcript.txt)" "approvals meet the quorum" "and checked them"
check "the certificate verifies" openssl verify -CAfile root/ca.crt files-out/files.crt

# --- refusals before anything happens ---------------------------------------------------------
expect_fail 2 "never given on the command line" "a PIN option is refused" \
	sh "$CER/root-ceremony" --token Spare --subject CN=x --quorum quorum.json --pin 1234
expect_fail 2 "fd:N can be read only once" "--pin-source fd: is refused" \
	sh "$CER/root-ceremony" --token Spare --subject CN=x --quorum quorum.json --pin-source fd:3
expect_fail 2 "needs --approve-cmd" "--non-interactive without --approve-cmd is refused" \
	sh "$CER/root-ceremony" --non-interactive --token Spare --subject CN=x --quorum quorum.json
expect_fail 3 "token serial is the expected one" "a token with another serial is refused" \
	sh "$CER/root-ceremony" --non-interactive --token Spare --token-serial 0000000000000000 --key-label wrong \
	--subject CN=x --quorum quorum.json --approve-cmd true --pin-source "$PINSRC" --out wrong
is "$(token_objects Spare | grep -c 'label: *wrong')" 0 "nothing generated on the wrong token"
expect_fail 3 "no token labelled 'Nope'" "an absent token is refused" \
	sh "$CER/root-ceremony" --non-interactive --token Nope --subject CN=x --quorum quorum.json \
	--approve-cmd true --pin-source "$PINSRC" --out nope
expect_fail 2 "not empty" "a non-empty output directory is refused" \
	sh "$CER/root-ceremony" --non-interactive --token Spare --subject CN=x --quorum quorum.json \
	--approve-cmd true --pin-source "$PINSRC" --out root-out
# An approval command that brings too few approvals: exit 3, nothing signed.
sh "$CER/subca-ceremony" --non-interactive --ca root --csr sub.csr --days 30 --cert short.crt \
	--approve-cmd "$T/approve.sh alice" --pin-source "$PINSRC" --out short >short.log 2>&1
is "$?" 3 "subca-ceremony with one approval of two stops (exit 3)"
if [ -e short/short.crt ]; then notok "nothing signed without the quorum"; else ok "nothing signed without the quorum"; fi
check "the root's audit log still verifies" hsmca-audit --ca root verify
done_testing
