#!/bin/sh
# hsmca-keygen: key attributes on the token, outputs, refusals.
. "$HSMCA_TOP/tests/lib.sh"

new_token KG
P11="pkcs11-tool --module $SOFTHSM_MODULE --token-label KG"

# object_block LABEL: pkcs11-tool's listing of the private key LABEL (logged in)
object_block() {
	$P11 --login --pin "$PIN" --list-objects --type privkey 2>/dev/null |
		awk -v l="$1" '/^Private Key Object/{blk=$0; next} /^[A-Z]/{blk=""} {blk=blk"\n"$0} $1=="label:" && $2==l {found=1} found && /Access:/{print blk; exit}'
}

for t in rsa:2048 ec:p256 ec:p384 ec:p521 ed25519; do
	l=$(echo "$t" | tr ':' '-')
	check "keygen $t" keygen KG "$l" "$t" --pubout "$l.pub"
	like "$(cat "$T/.out")" "pkcs11:.*object=$l" "keygen $t prints the key URI"
	blk=$(object_block "$l")
	like "$blk" "Access:.*sensitive.*never extractable" "$t private key: CKA_SENSITIVE=true, CKA_EXTRACTABLE=false"
	like "$blk" "Usage:[[:space:]]+sign$" "$t private key: sign only"
done

# CKA_TOKEN and CKA_PRIVATE: the key survives the session and is invisible
# without a login.
unlogged=$($P11 --list-objects --type privkey 2>/dev/null | grep -c 'label:')
is "$unlogged" 0 "private keys are CKA_PRIVATE (not listed without login)"
logged=$($P11 --login --pin "$PIN" --list-objects --type privkey 2>/dev/null | grep -c 'label:')
is "$logged" 5 "private keys are CKA_TOKEN (persist on the token)"

# The fingerprint printed is the SHA-256 of the public key written.
check "keygen rsa:3072 --json" keygen KG rsa3072 rsa:3072 --pubout r3.pub --json
fp=$(sed -n 's/.*"spki_sha256": "\([0-9a-f]*\)".*/\1/p' "$T/.out")
want=$(openssl pkey -pubin -in r3.pub -outform DER | sha256sum | cut -d' ' -f1)
is "$fp" "$want" "spki_sha256 matches the --pubout key"
bits=$(openssl pkey -pubin -in r3.pub -text -noout | sed -n 's/.*Public-Key: (\([0-9]*\) bit).*/\1/p')
is "$bits" 3072 "rsa:3072 key has 3072 bits"
curve=$(openssl pkey -pubin -in ec-p384.pub -text -noout | sed -n 's/.*NIST CURVE: //p')
is "$curve" "P-384" "ec:p384 key is on P-384"

# Existing label and id are refused; nothing new on the token.
expect_fail 3 "already exists" "existing label refused (exit 3)" keygen KG ec-p256 ec:p256
check "keygen with explicit id" keygen KG withid ec:p256 --id 0a0b0c
expect_fail 3 "already exists" "existing id refused (exit 3)" keygen KG other ec:p256 --id 0a0b0c
count=$($P11 --login --pin "$PIN" --list-objects --type privkey 2>/dev/null | grep -c 'label:')
is "$count" 7 "refused keygens created nothing"

# CSR (proof of possession)
check "keygen --csr --subject" keygen KG sub-ca ec:p384 --csr sub.csr --subject "CN=Example Issuing CA,O=Example,C=GB"
check "CSR self-signature verifies (openssl req -verify)" openssl req -in sub.csr -verify -noout
subj=$(openssl req -in sub.csr -noout -subject -nameopt RFC2253)
is "$subj" "subject=CN=Example Issuing CA,O=Example,C=GB" "CSR subject in RFC 4514 order"
check "keygen ed25519 --csr (slash DN)" keygen KG ed-csr ed25519 --csr ed.csr --subject "/C=GB/O=Example/CN=Ed Sub"
subj=$(openssl req -in ed.csr -noout -subject -nameopt RFC2253)
is "$subj" "subject=CN=Ed Sub,O=Example,C=GB" "slash-form DN encodes the same Name"

# Bad input
expect_fail 2 "unsupported key type|rsa:1024" "unsupported key type (exit 2)" keygen KG weak rsa:1024
expect_fail 1 "no token matches" "unknown token label (exit 1)" keygen NoSuchToken k ec:p256
expect_fail 2 "malformed|URI" "malformed URI (exit 2)" hsmca-keygen --token "pkcs11:token=%zz" --label x --type ec:p256 --pin-source "$PINSRC"
expect_fail 2 "pkcs11" "non-pkcs11 URI (exit 2)" hsmca-keygen --token "file:///etc/passwd" --label x --type ec:p256 --pin-source "$PINSRC"
expect_fail 1 "cannot load PKCS#11 module" "module that does not load (exit 1)" keygen KG k ec:p256 --module /nonexistent/module.so
printf 'nope\n' >"$T/badpin"
chmod 600 "$T/badpin"
expect_fail 1 "wrong PIN" "wrong PIN (exit 1)" hsmca-keygen --token pkcs11:token=KG --label k --type ec:p256 --pin-source "file:$T/badpin"
cp "$T/badpin" "$T/badpin.600"
chmod 640 "$T/badpin"
expect_fail 3 "readable by group or others" "PIN file readable by group refused (exit 3)" hsmca-keygen --token pkcs11:token=KG --label k --type ec:p256 --pin-source "file:$T/badpin"
expect_fail 2 "PIN source" "unknown PIN source form (exit 2)" hsmca-keygen --token pkcs11:token=KG --label k --type ec:p256 --pin-source "$PIN"
expect_fail 2 "--csr and --subject" "--csr without --subject (exit 2)" keygen KG k ec:p256 --csr x.csr
expect_fail 2 "does not parse|unknown attribute" "subject DN that does not parse (exit 2)" keygen KG k ec:p256 --csr x.csr --subject "XX=foo"
expect_fail 2 "refusing to overwrite" "existing --pubout refused (exit 2)" keygen KG fresh ec:p256 --pubout r3.pub
count=$($P11 --login --pin "$PIN" --list-objects --type privkey 2>/dev/null | grep -c 'label:')
is "$count" 9 "refusals created no keys"
expect_fail 2 "unknown option|unrecognized" "unknown option (exit 2)" hsmca-keygen --token pkcs11:token=KG --label k --type ec:p256 --bogus
expect_exit 0 "--help exits 0" hsmca-keygen --help
like "$(cat "$T/.out")" "usage: hsmca-keygen" "--help prints usage"

# --check: nothing generated; the PIN tried; an existing key reported.
before=$($P11 --login --pin "$PIN" --list-objects 2>/dev/null | grep -c 'label:')
out=$(hsmca-keygen --check --token pkcs11:token=KG --pin-source "$PINSRC" --json)
is "$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["token"], d["logged_in"], d["exists"], d["label"])')" \
	"KG True False None" "--check without --label: the token and a login"
out=$(hsmca-keygen --check --token pkcs11:token=KG --label absent-key --pin-source "$PINSRC" --json)
is "$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["exists"], d["spki_sha256"])')" \
	"False None" "--check --label of an absent key: exists false"
out=$(hsmca-keygen --check --token pkcs11:token=KG --label ed-csr --type ed25519 --pin-source "$PINSRC" \
	--pubout check.pub --csr check.csr --subject CN=Again --json)
is "$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["exists"], d["type"], d["spki_sha256"])')" \
	"True ed25519 $(openssl pkey -pubin -in check.pub -outform DER | sha256sum | cut -d' ' -f1)" \
	"--check of an existing key: its type and the SPKI SHA-256 of the --pubout it wrote"
check "--check --csr: a CSR signed by the existing key verifies" openssl req -in check.csr -noout -verify
is "$(openssl req -in check.csr -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum)" \
	"$(openssl pkey -pubin -in check.pub -outform DER | sha256sum)" "--check --csr: the CSR holds the existing key"
expect_fail 3 "is ed25519, not ec:p256" "--check --type of another type is refused (exit 3)" \
	hsmca-keygen --check --token pkcs11:token=KG --label ed-csr --type ec:p256 --pin-source "$PINSRC"
expect_fail 1 "wrong PIN" "--check with a wrong PIN fails (exit 1)" \
	hsmca-keygen --check --token pkcs11:token=KG --pin-source "file:$T/badpin.600"
expect_fail 1 "no token matches" "--check of an absent token fails (exit 1)" \
	hsmca-keygen --check --token pkcs11:token=Absent --pin-source "$PINSRC"
expect_fail 2 "--id is for generating" "--check --id is a usage error" \
	hsmca-keygen --check --token pkcs11:token=KG --label x --id 01 --pin-source "$PINSRC"
is "$($P11 --login --pin "$PIN" --list-objects 2>/dev/null | grep -c 'label:')" "$before" "--check generated no object"

# PIN from an environment variable and a file descriptor
HSMCA_TEST_PIN=$PIN check "PIN from env:" env HSMCA_TEST_PIN=$PIN hsmca-keygen --token pkcs11:token=KG --label envpin --type ec:p256 --pin-source env:HSMCA_TEST_PIN
check "PIN from fd:" sh -c "hsmca-keygen --token pkcs11:token=KG --label fdpin --type ec:p256 --pin-source fd:3 3<'$T/pin'"
done_testing
