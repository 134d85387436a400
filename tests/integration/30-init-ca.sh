#!/bin/sh
# hsmca-init-ca --self-sign: the root profile, the CA directory, refusals.
# hsmca-test: token
. "$HSMCA_TOP/tests/lib.sh"

new_token Root
keygen Root root-key ec:p384 >/dev/null || notok "keygen root-key"

initca() {
	hsmca-init-ca --key "pkcs11:token=Root;object=root-key" --pin-source "$PINSRC" "$@"
}

check "init-ca --self-sign" initca --ca rootca --self-sign \
	--subject "CN=Example Root R1,O=Example,C=GB" --days 3650 --pathlen 1 \
	--crl-url http://crl.example/root.crl --policy 2.23.140.1.2.1
txt=$(openssl x509 -in rootca/ca.crt -noout -text)
like "$txt" "Subject: C = GB, O = Example, CN = Example Root R1" "subject encoded C, O, CN"
like "$txt" "X509v3 Basic Constraints: critical" "basicConstraints critical"
like "$txt" "CA:TRUE, pathlen:1" "CA:TRUE with pathlen 1"
like "$txt" "X509v3 Key Usage: critical" "keyUsage critical"
like "$txt" "Digital Signature, Certificate Sign, CRL Sign" "keyCertSign, cRLSign, digitalSignature"
like "$txt" "X509v3 Subject Key Identifier" "SKI present"
unlike "$txt" "Extended Key Usage" "no EKU on a root"
like "$txt" "Policy: 2.23.140.1.2.1" "certificate policy"
like "$txt" "ecdsa-with-SHA384" "P-384 root signs with ecdsa-with-SHA384"
serial=$(openssl x509 -in rootca/ca.crt -noout -serial | cut -d= -f2)
is "${#serial}" 34 "serial is 17 octets (0x01 prefix + 128 random bits)"
like "$serial" "^01" "serial is positive with a fixed 0x01 prefix"
nb=$(date -d "$(openssl x509 -in rootca/ca.crt -noout -startdate | cut -d= -f2)" +%s)
na=$(date -d "$(openssl x509 -in rootca/ca.crt -noout -enddate | cut -d= -f2)" +%s)
is "$(( (na - nb) / 86400 ))" 3650 "validity is --days"
check "openssl verify accepts the root" openssl verify -x509_strict -CAfile rootca/ca.crt rootca/ca.crt
check "certtool verifies the root" certtool --verify --load-ca-certificate rootca/ca.crt --infile rootca/ca.crt
# The public key is the token key's (libp11 engine reads it independently).
openssl x509 -in rootca/ca.crt -noout -pubkey >root.pub
keygen Root second ec:p256 --pubout second.pub >/dev/null
cmp -s root.pub second.pub && notok "different keys compare equal" || ok "distinct keys differ"
$OPENSSL pkey $(ossl_prov) -in "pkcs11:token=Root;object=root-key" -passin "file:$T/pin" -pubout -out prov.pub 2>/dev/null
check "certificate key is the token key" cmp root.pub prov.pub

# The CA directory
for f in ca.crt ca.json ca.db; do
	[ -f "rootca/$f" ] && ok "rootca/$f exists" || notok "rootca/$f exists"
done
[ -e rootca/chain.pem ] && notok "no chain.pem for a root" || ok "no chain.pem for a root"
row=$(sqlite3 rootca/ca.db "select kind, serial from certs")
is "$row" "root|$(echo "$serial" | tr 'A-F' 'a-f')" "state store holds the root certificate"
der_ok=$(sqlite3 rootca/ca.db "select hex(der) from certs" | xxd -r -p | openssl x509 -inform DER -noout -serial | cut -d= -f2)
is "$der_ok" "$serial" "state store holds the certificate DER"
entry=$(sqlite3 rootca/ca.db "select entry from audit where seq = 1")
like "$entry" '"action":"init-ca"' "first audit entry is init-ca"
like "$entry" '"outcome":"ok"' "first audit entry outcome ok"
like "$entry" "\"ca.crt\":\"$(sha256 rootca/ca.crt)\"" "audit entry records the certificate's SHA-256"
like "$(cat rootca/ca.json)" '"key": "pkcs11:token=Root;.*object=root-key' "ca.json names the key by URI"
like "$(cat rootca/ca.json)" "crl.example/root.crl" "ca.json keeps the CRL URL for issued certificates"

# --lint-cert writes the same TBS signed by a throwaway key (a key serves
# one CA directory: a key of its own)
keygen Root lint-key ec:p384 >/dev/null
check "init-ca --lint-cert" hsmca-init-ca --key "pkcs11:token=Root;object=lint-key" --pin-source "$PINSRC" \
	--ca lintca --self-sign --subject "CN=Lint Root" --days 30 --lint-cert lint.der
a=$(openssl x509 -inform DER -in lint.der -noout -subject -issuer -dates -ext basicConstraints,keyUsage)
b=$(openssl x509 -in lintca/ca.crt -noout -subject -issuer -dates -ext basicConstraints,keyUsage)
is "$a" "$b" "lint copy has the same fields"

# Every key type makes a verifiable root
for t in rsa:2048 rsa:3072 rsa:4096 ec:p256 ec:p521 ed25519; do
	l=k-$(echo "$t" | tr ':' '-')
	if why=$(type_lacks "$t"); then
		skip "root with $t" "$why"
		continue
	fi
	keygen Root "$l" "$t" >/dev/null
	check "root with $t" hsmca-init-ca --ca "ca-$l" --key "pkcs11:token=Root;object=$l" --pin-source "$PINSRC" --self-sign --subject "CN=Root $t" --days 365
	check "openssl verify root $t" openssl verify -CAfile "ca-$l/ca.crt" "ca-$l/ca.crt"
	check "certtool verify root $t" certtool --verify --load-ca-certificate "ca-$l/ca.crt" --infile "ca-$l/ca.crt"
done

# Bad input: one-line error, exit code, no CA directory left behind.
nodir() {
	if [ -e "$1" ] || ls -d "$1".new-* >/dev/null 2>&1; then notok "no partial CA directory for $2"; else ok "no partial CA directory for $2"; fi
}
# RSASSA-PSS roots (--sig-alg rsa-pss): recorded in ca.json, the same
# AlgorithmIdentifier bytes OpenSSL's default provider writes.
keygen Root k-pss rsa:2048 >/dev/null
check "root with --sig-alg rsa-pss" hsmca-init-ca --ca ca-pss --key "pkcs11:token=Root;object=k-pss" \
	--pin-source "$PINSRC" --self-sign --subject "CN=PSS Root" --days 365 --sig-alg rsa-pss
check "openssl verify the PSS root" openssl verify -x509_strict -CAfile ca-pss/ca.crt ca-pss/ca.crt
check "certtool verify the PSS root" certtool --verify --load-ca-certificate ca-pss/ca.crt --infile ca-pss/ca.crt
ptxt=$(openssl x509 -in ca-pss/ca.crt -noout -text)
like "$ptxt" "Signature Algorithm: rsassaPss" "the PSS root is signed with RSASSA-PSS"
like "$ptxt" "Mask Algorithm: mgf1 with sha256" "PSS: MGF1 with SHA-256"
like "$ptxt" "Salt Length: 0x20" "PSS: a salt as long as the digest"
like "$(cat ca-pss/ca.json)" '"signature_algorithm": "rsa-pss"' "ca.json records the signature algorithm"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sw.key 2>/dev/null
openssl req -new -x509 -key sw.key -subj /CN=sw -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest -out sw.pem
is "$(sigalg_der ca-pss/ca.crt)" "$(sigalg_der sw.pem)" "the PSS AlgorithmIdentifier is byte for byte the default provider's"
expect_fail 2 "rsa-pss needs an RSA key" "--sig-alg rsa-pss with an EC key (exit 2)" \
	initca --ca bad-pss --self-sign --subject CN=x --days 1 --sig-alg rsa-pss
nodir bad-pss "PSS with an EC key"

# Module choice (README "Tokens"): ca.json keeps the module the key was
# found on; --module and HSMCA_MODULE win over it; a URI's module-path
# is kept too.
like "$(cat rootca/ca.json)" "\"module\": \"$HSMCA_MODULE\"" "ca.json records the module"
keygen Root k-uri ec:p256 >/dev/null
keygen Root k-name ec:p256 >/dev/null
check "init-ca with the module named by the key URI only" env HSMCA_MODULE= hsmca-init-ca --ca ca-uri \
	--key "pkcs11:token=Root;object=k-uri?module-path=$HSMCA_MODULE" --pin-source "$PINSRC" \
	--self-sign --subject "CN=URI Root" --days 30
like "$(cat ca-uri/ca.json)" "\"module\": \"$HSMCA_MODULE\"" "a URI's module-path is kept in ca.json"
if why=$(token_lacks p11kit); then
	skip "a URI's module-name is kept in ca.json" "$why"
	skip "the CA then signs with the module it names" "$why"
else
	env HSMCA_MODULE= hsmca-init-ca --ca ca-name --key "pkcs11:token=Root;object=k-name?module-name=$P11KIT_NAME" \
		--pin-source "$PINSRC" --self-sign --subject "CN=Name Root" --days 30 >/dev/null 2>&1
	like "$(cat ca-name/ca.json 2>/dev/null)" "\"module\": \"$P11KIT_NAME\"" "a URI's module-name is kept in ca.json"
	hsmca-keygen --token pkcs11:token=Root --label csr-key --type ec:p256 --pin-source "$PINSRC" \
		--csr name-sub.csr --subject "CN=Name Sub" >/dev/null
	check "the CA then signs with the module it names" env HSMCA_MODULE= hsmca-sign-subca --ca ca-name \
		--pin-source "$PINSRC" --csr name-sub.csr --days 10 --out name-sub.crt
fi
if [ -n "$HSMCA_MODULE_ARGS" ]; then
	like "$(cat ca-uri/ca.json)" '"module_args": ' "the module's initialisation arguments are kept in ca.json"
	# The same arguments from the command line instead of the environment.
	margs=$HSMCA_MODULE_ARGS
	expect_fail 1 "initiali[sz]|C_Initialize|Invalid arguments" "without its initialisation arguments the module does not start" \
		env HSMCA_MODULE_ARGS= hsmca-keygen --token pkcs11:token=Root --label args-key --type ec:p256 --pin-source "$PINSRC"
	check "--module-args initialises the module" env HSMCA_MODULE_ARGS= hsmca-keygen --token pkcs11:token=Root \
		--label args-key --type ec:p256 --pin-source "$PINSRC" --module-args "$margs"
else
	skip "the module's initialisation arguments are kept in ca.json" "this module takes no initialisation arguments"
	skip "without its initialisation arguments the module does not start" "this module takes no initialisation arguments"
	skip "--module-args initialises the module" "this module takes no initialisation arguments"
fi

expect_fail 1 "no token matches" "unknown token label" hsmca-init-ca --ca bad1 --key "pkcs11:token=Nope;object=root-key" --pin-source "$PINSRC" --self-sign --subject CN=x --days 1
nodir bad1 "unknown token"
expect_fail 1 "no private key matches" "unknown object" initca --ca bad2 --self-sign --subject CN=x --days 1 --key "pkcs11:token=Root;object=nope"
nodir bad2 "unknown object"
printf 'nope\n' >badpin
expect_fail 1 "wrong PIN" "wrong PIN" hsmca-init-ca --ca bad3 --key "pkcs11:token=Root;object=root-key" --pin-source "file:$T/badpin" --self-sign --subject CN=x --days 1
nodir bad3 "wrong PIN"
expect_fail 1 "cannot load PKCS#11 module" "module that does not load" initca --ca bad4 --self-sign --subject CN=x --days 1 --module /nonexistent.so
nodir bad4 "module"
expect_fail 2 "malformed" "malformed URI" hsmca-init-ca --ca bad5 --key "pkcs11:token=Root;object=%" --pin-source "$PINSRC" --self-sign --subject CN=x --days 1
nodir bad5 "malformed URI"
expect_fail 2 "does not parse|unknown attribute" "subject DN that does not parse" initca --ca bad6 --self-sign --subject "CN" --days 1
nodir bad6 "bad DN"
expect_fail 2 "unknown attribute type 'FOO'" "unknown DN attribute" initca --ca bad6 --self-sign --subject "FOO=bar" --days 1
for d in 0 -5 99999 12x; do
	expect_fail 2 "--days" "--days $d refused" initca --ca bad7 --self-sign --subject CN=x --days "$d"
done
nodir bad7 "bad --days"
expect_fail 2 "already exists" "existing CA directory" initca --ca rootca --self-sign --subject CN=x --days 1
is "$(sqlite3 rootca/ca.db 'select count(*) from audit')" 1 "existing CA untouched"
mkdir emptydir
expect_fail 2 "already exists" "existing empty directory" initca --ca emptydir --self-sign --subject CN=x --days 1
$P11TOOL --token-label Root --login --pin "$PIN" --keypairgen --key-type rsa:1024 --label weak --id 99 >/dev/null 2>&1
expect_fail 3 "unsupported key type|1024" "RSA-1024 token key refused (exit 3)" initca --ca bad8 --self-sign --subject CN=x --days 1 --key "pkcs11:token=Root;object=weak"
nodir bad8 "weak key"
expect_fail 3 "pin-value" "pin-value in the URI refused (exit 3)" hsmca-init-ca --ca bad9 --key "pkcs11:token=Root;object=root-key?pin-value=$PIN" --self-sign --subject CN=x --days 1
nodir bad9 "pin-value"
done_testing
