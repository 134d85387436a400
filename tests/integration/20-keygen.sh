#!/bin/sh
# hsmca-keygen: key attributes on the token, outputs, refusals.
# hsmca-test: token
. "$HSMCA_TOP/tests/lib.sh"

new_token KG
P11="$P11TOOL --token-label KG"

# object_block LABEL: pkcs11-tool's listing of the private key LABEL (logged in)
object_block() {
	$P11 --login --pin "$PIN" --list-objects --type privkey 2>/dev/null |
		awk -v l="$1" '/^Private Key Object/{blk=$0; next} /^[A-Z]/{blk=""} {blk=blk"\n"$0} $1=="label:" && $2==l {found=1} found && /Access:/{print blk; exit}'
}

# attrs LABEL: the private key's flags as plain PKCS#11 reads them (an
# attribute the module does not know counts as false).
attrs() {
	"$HSMCA_BUILD/tests/p11attrs" "$HSMCA_MODULE" KG "$1" "$T/pin" | sed 's/=absent$/=false/' | tr '\n' ' '
}
SIGN_ONLY="CKA_TOKEN=true CKA_PRIVATE=true CKA_SENSITIVE=true CKA_EXTRACTABLE=false CKA_SIGN=true CKA_SIGN_RECOVER=false CKA_DECRYPT=false CKA_UNWRAP=false CKA_DERIVE=false "

made=0
for t in rsa:2048 ec:p256 ec:p384 ec:p521 ed25519 rsa:4096; do
	l=$(echo "$t" | tr ':' '-')
	# What a module cannot make is refused in words that say so, and
	# leaves nothing behind.
	case "$t:$(type_lacks "$t")" in
	ed25519:?*)
		expect_fail 1 "no Ed25519 key generation on token 'KG' \\(its module offers no CKM_EC_EDWARDS_KEY_PAIR_GEN\\)" \
			"$t: refused before generation: $(type_lacks "$t")" keygen KG "$l" "$t"
		continue
		;;
	rsa:4096:?*)
		expect_fail 1 "cannot generate a rsa:4096 key on token 'KG': this token's RSA keys are 1024-3072 bits" \
			"$t: refused before generation: $(type_lacks "$t")" keygen KG "$l" "$t"
		continue
		;;
	ec:p521:?*)
		expect_fail 1 "CKA_EC_POINT .*malformed" "$t: the malformed public key is refused: $(type_lacks "$t")" \
			keygen KG "$l" "$t"
		continue
		;;
	rsa:4096:) continue ;; # made and checked in 10-provider-token
	esac
	check "keygen $t" keygen KG "$l" "$t" --pubout "$l.pub"
	made=$((made + 1))
	like "$(cat "$T/.out")" "pkcs11:.*object=$l" "keygen $t prints the key URI"
	blk=$(object_block "$l")
	like "$blk" "Access:.*sensitive.*never extractable" "$t private key: CKA_SENSITIVE=true, CKA_EXTRACTABLE=false (pkcs11-tool)"
	like "$blk" "Usage:[[:space:]]+sign$" "$t private key: sign only (pkcs11-tool)"
	is "$(attrs "$l")" "$SIGN_ONLY" "$t private key: CKA_SIGN only, no SIGN_RECOVER/DECRYPT/UNWRAP/DERIVE (plain PKCS#11)"
done

# CKA_TOKEN and CKA_PRIVATE: the key survives the session and is invisible
# without a login.
unlogged=$($P11 --list-objects --type privkey 2>/dev/null | grep -c 'label:')
is "$unlogged" 0 "private keys are CKA_PRIVATE (not listed without login)"
logged=$($P11 --login --pin "$PIN" --list-objects --type privkey 2>/dev/null | grep -c 'label:')
is "$logged" "$made" "private keys are CKA_TOKEN (persist on the token; none left by refusals)"

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
is "$count" $((made + 2)) "refused keygens created nothing"

# CSR (proof of possession)
check "keygen --csr --subject" keygen KG sub-ca ec:p384 --csr sub.csr --subject "CN=Example Issuing CA,O=Example,C=GB"
check "CSR self-signature verifies (openssl req -verify)" openssl req -in sub.csr -verify -noout
subj=$(openssl req -in sub.csr -noout -subject -nameopt RFC2253)
is "$subj" "subject=CN=Example Issuing CA,O=Example,C=GB" "CSR subject in RFC 4514 order"
ct=ed25519
type_lacks ed25519 >/dev/null && ct=ec:p256
check "keygen $ct --csr (slash DN)" keygen KG ed-csr $ct --csr ed.csr --subject "/C=GB/O=Example/CN=Ed Sub"
subj=$(openssl req -in ed.csr -noout -subject -nameopt RFC2253)
is "$subj" "subject=CN=Ed Sub,O=Example,C=GB" "slash-form DN encodes the same Name"
# RSA-PSS CSRs (--sig-alg rsa-pss): RFC 4055 parameters, verified by openssl.
check "keygen rsa:2048 --csr --sig-alg rsa-pss" keygen KG pss-csr rsa:2048 --csr pss.csr --subject CN=PSS --sig-alg rsa-pss
check "PSS CSR verifies" openssl req -in pss.csr -verify -noout
like "$(openssl req -in pss.csr -noout -text)" "Signature Algorithm: rsassaPss" "the CSR is signed with RSASSA-PSS"
expect_fail 2 "rsa-pss needs an RSA key" "--sig-alg rsa-pss with an EC key type (exit 2)" \
	keygen KG pss-ec ec:p256 --csr pss-ec.csr --subject CN=X --sig-alg rsa-pss
expect_fail 2 "unknown signature algorithm 'rsa-md5'" "unknown --sig-alg (exit 2)" \
	keygen KG pss-x rsa:2048 --csr x.csr --subject CN=X --sig-alg rsa-md5

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
is "$count" $((made + 5)) "refusals created no keys"
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
# ed-csr is $ct: Ed25519, or P-256 where the module makes no Ed25519 keys.
other=ec:p256
[ "$ct" = ec:p256 ] && other=rsa:2048
out=$(hsmca-keygen --check --token pkcs11:token=KG --label ed-csr --type $ct --pin-source "$PINSRC" \
	--pubout check.pub --csr check.csr --subject CN=Again --json)
is "$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["exists"], d["type"], d["spki_sha256"])')" \
	"True $ct $(openssl pkey -pubin -in check.pub -outform DER | sha256sum | cut -d' ' -f1)" \
	"--check of an existing key: its type and the SPKI SHA-256 of the --pubout it wrote"
check "--check --csr: a CSR signed by the existing key verifies" openssl req -in check.csr -noout -verify
is "$(openssl req -in check.csr -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum)" \
	"$(openssl pkey -pubin -in check.pub -outform DER | sha256sum)" "--check --csr: the CSR holds the existing key"
expect_fail 3 "is $ct, not $other" "--check --type of another type is refused (exit 3)" \
	hsmca-keygen --check --token pkcs11:token=KG --label ed-csr --type $other --pin-source "$PINSRC"
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
# p11-kit-proxy.so, the module many setups name, is p11-kit's registry.
if why=$(token_lacks p11kit); then
	skip "--module p11-kit-proxy.so searches p11-kit's registry" "$why"
else
	check "--module p11-kit-proxy.so searches p11-kit's registry" \
		keygen KG proxykey ec:p256 --module /usr/lib/x86_64-linux-gnu/p11-kit-proxy.so
fi
done_testing
