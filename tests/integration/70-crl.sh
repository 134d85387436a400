#!/bin/sh
# hsmca-gen-crl: CRL v2 contents, verification by OpenSSL, GnuTLS and NSS,
# CRL numbers, expired entries, refusals, key types, a 3-level chain.
# hsmca-test: token
# hsmca-test: store
. "$HSMCA_TOP/tests/lib.sh"

root_ca ec:p384 "CN=CRL Test Root,O=Example" --crl-url http://crl.example.com/root.crl
issuing_ca "CN=CRL Test Issuing CA,O=Example"

leaf() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
		-out "$1.csr" -subj "/CN=$1.example.com" 2>/dev/null
	hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" --csr "$1.csr" --out "$1.crt" >/dev/null ||
		notok "leaf $1 issued"
}
for n in a b c d e; do leaf $n; done
serial() { openssl x509 -in "$1.crt" -noout -serial | cut -d= -f2; }
lower() { echo "$1" | tr 'A-F' 'a-f'; }
db() { store_sql issuing "$1"; }
gencrl() { hsmca-gen-crl --ca issuing --pin-source "$PINSRC" "$@"; }
hsmca-revoke --ca issuing --serial "$(serial a)" --reason keyCompromise >/dev/null
hsmca-revoke --ca issuing --serial "$(serial b)" >/dev/null
hsmca-revoke --ca issuing --serial "$(serial c)" --reason certificateHold >/dev/null

# --- a CRL and what it says ---------------------------------------------
check "gen-crl" gencrl --out issuing.crl
check "openssl crl -verify with the issuing CA" openssl crl -in issuing.crl -CAfile issuing.crt -noout
txt=$(openssl crl -in issuing.crl -noout -text)
like "$txt" "Version 2 \(0x1\)" "version 2"
like "$txt" "Issuer: O = Example, CN = CRL Test Issuing CA" "issuer is the CA's subject"
ski=$(openssl x509 -in issuing.crt -noout -ext subjectKeyIdentifier | tail -n 1 | tr -d ' ')
aki=$(echo "$txt" | grep -A 1 "Authority Key Identifier" | tail -n 1 | tr -d ' ' | sed 's/^keyid://')
is "$aki" "$ski" "AKI keyid is the CA's SKI"
like "$txt" "X509v3 CRL Number: *$" "CRL number present"
is "$(openssl crl -in issuing.crl -noout -crlnumber)" "crlNumber=0x01" "CRL number 1"
unlike "$txt" "critical" "no critical extension without partitions"
is "$(echo "$txt" | grep -c 'Serial Number:')" 3 "three entries"
like "$(echo "$txt" | grep -A 4 "$(serial a)")" "Key Compromise" "a: reasonCode keyCompromise"
like "$(echo "$txt" | grep -A 4 "$(serial c)")" "Certificate Hold" "c: reasonCode certificateHold"
unlike "$(echo "$txt" | grep -A 3 "$(serial b)")" "Reason Code" "b (unspecified): no reasonCode extension"
tu=$(date -d "$(openssl crl -in issuing.crl -noout -lastupdate | cut -d= -f2)" +%s)
nu=$(date -d "$(openssl crl -in issuing.crl -noout -nextupdate | cut -d= -f2)" +%s)
is "$((nu - tu))" $((7 * 86400)) "nextUpdate = thisUpdate + 7 days by default"
now=$(date +%s)
[ $((now - tu)) -ge 0 ] && [ $((now - tu)) -lt 120 ] && ok "thisUpdate is now" || notok "thisUpdate is now" "$tu vs $now"
like "$(head -n 1 issuing.crl)" "^-----BEGIN X509 CRL-----$" "PEM by default"
is "$(db 'select count(*) from crls')" 1 "CRL number recorded in crls"
is "$(db "select value from meta where key = 'crl_number'")" 1 "CRL counter persisted"
is "$(db 'select sha256 from crls where number = 1')" "$(openssl crl -in issuing.crl -outform DER | sha256sum | cut -d' ' -f1)" "crls row holds the CRL's SHA-256"
like "$(db 'select entry from audit order by seq desc limit 1')" '"action":"gen-crl".*"crl_number":"1"' "CRL audited with its number"

# --- independent verifiers agree: a revoked, d good ----------------------
cat issuing.crt root/ca.crt >chain.pem
expect_fail 2 "certificate revoked" "openssl verify -crl_check: a revoked" openssl verify -crl_check -CRLfile issuing.crl -CAfile root/ca.crt -untrusted issuing.crt a.crt
expect_fail 2 "certificate revoked" "openssl verify -crl_check: c (on hold) revoked" openssl verify -crl_check -CRLfile issuing.crl -CAfile root/ca.crt -untrusted issuing.crt c.crt
check "openssl verify -crl_check: d good" openssl verify -crl_check -CRLfile issuing.crl -CAfile root/ca.crt -untrusted issuing.crt d.crt
check "certtool --verify-crl" certtool --verify-crl --load-ca-certificate issuing.crt --infile issuing.crl
cat a.crt issuing.crt >a-chain.pem
cat d.crt issuing.crt >d-chain.pem
certtool --verify --load-ca-certificate root/ca.crt --load-crl issuing.crl --infile a-chain.pem >ct-a.out 2>&1
like "$(cat ct-a.out)" "revoked" "certtool --verify --load-crl: a revoked"
certtool --verify --load-ca-certificate root/ca.crt --load-crl issuing.crl --infile d-chain.pem >ct-d.out 2>&1
like "$(cat ct-d.out)" "Chain verification output: Verified" "certtool --verify --load-crl: d good"
nss_db a d
openssl crl -in issuing.crl -outform DER -out issuing.crl.der
check "NSS crlutil imports the CRL (signature checked)" crlutil -I -d sql:nss -i issuing.crl.der -t 1
expect_fail 255 "revoked" "NSS certutil -V: a revoked" certutil -V -d sql:nss -n a -u V
check "NSS certutil -V: d good" certutil -V -d sql:nss -n d -u V

# --- numbers, formats, outputs --------------------------------------------
expect_fail 2 "already exists" "existing output refused without --force" gencrl --out issuing.crl
is "$(db "select value from meta where key = 'crl_number'")" 1 "no number used by the refused run"
check "gen-crl --format der --days 30" gencrl --format der --days 30 --out issuing2.crl
check "DER CRL verifies" openssl crl -inform DER -in issuing2.crl -CAfile issuing.crt -noout
is "$(openssl crl -inform DER -in issuing2.crl -noout -crlnumber)" "crlNumber=0x02" "CRL number 2"
nu=$(date -d "$(openssl crl -inform DER -in issuing2.crl -noout -nextupdate | cut -d= -f2)" +%s)
tu=$(date -d "$(openssl crl -inform DER -in issuing2.crl -noout -lastupdate | cut -d= -f2)" +%s)
is "$((nu - tu))" $((30 * 86400)) "--days 30"
check "gen-crl --force replaces" gencrl --force --out issuing.crl
is "$(openssl crl -in issuing.crl -noout -crlnumber)" "crlNumber=0x03" "CRL number 3 after --force"
is "$(db 'select number from crls order by number' | paste -sd,)" "1,2,3" "every number used is a row in crls"
out=$(gencrl --json --out issuing4.crl)
like "$out" '"crl_number": 4' "--json reports the CRL number"
like "$out" '"entries": 3' "--json reports the entries"

# Refusals leave the counter alone.
before=$(db "select value from meta where key = 'crl_number'")
expect_fail 2 "--days" "--days 0 refused (exit 2)" gencrl --days 0 --out x.crl
expect_fail 3 "past the CA certificate's notAfter" "nextUpdate past the CA's notAfter refused (exit 3)" gencrl --days 4000 --out x.crl
expect_fail 2 "pem or der" "--format xml refused (exit 2)" gencrl --format xml --out x.crl
expect_fail 2 "--out FILE is required" "no --out (exit 2)" gencrl
expect_fail 2 "partitioned CRLs" "--out-dir without partitions (exit 2)" gencrl --out-dir .
is "$(db "select value from meta where key = 'crl_number'")" "$before" "counter unchanged by refusals"
is "$(db 'select count(*) from crls')" "$before" "crls unchanged by refusals"
[ -e x.crl ] && notok "no output from refused runs" || ok "no output from refused runs"
like "$(db "select entry from audit where entry like '%notAfter%' order by seq desc limit 1")" '"outcome":"refused"' "policy refusal audited"

# --lint-cert: the same TBSCertList signed by a throwaway key
check "gen-crl --lint-cert" gencrl --out issuing5.crl --lint-cert lint.der
a5=$(openssl crl -in issuing5.crl -noout -text | sed '/Signature Value/,$d')
l5=$(openssl crl -inform DER -in lint.der -noout -text | sed '/Signature Value/,$d')
is "$l5" "$a5" "lint copy has the same TBSCertList"
like "$(openssl crl -inform DER -in lint.der -CAfile issuing.crt -noout 2>&1)" "verify failure" "lint copy is not signed by the CA"

# --- expired certificates: listed once more, then dropped ----------------
se=$(lower "$(serial e)")
hsmca-revoke --ca issuing --serial "$se" --reason superseded >/dev/null
past=$(($(date +%s) - 3600))
db "update revocations set not_after = $past where serial = '$se'"
check "gen-crl after e expired" gencrl --out exp1.crl
like "$(openssl crl -in exp1.crl -noout -text)" "$(serial e)" "expired e listed in the next CRL"
n1=$(openssl crl -in exp1.crl -noout -crlnumber | sed 's/crlNumber=0x//')
is "$(printf '%X' "$(db "select expired_listed from revocations where serial = '$se'")")" "$(echo "$n1" | sed 's/^0*//')" "expired_listed records that CRL's number"
check "gen-crl once more" gencrl --out exp2.crl
unlike "$(openssl crl -in exp2.crl -noout -text)" "$(serial e)" "expired e dropped from the CRL after that"
like "$(openssl crl -in exp2.crl -noout -text)" "$(serial a)" "unexpired entries stay"

# --- a 3-level chain: root CRL + issuing CRL, -crl_check_all -------------
check "root gen-crl" hsmca-gen-crl --ca root --pin-source "$PINSRC" --days 90 --out root.crl
check "root CRL verifies" openssl crl -in root.crl -CAfile root/ca.crt -noout
check "-crl_check_all: d good" openssl verify -crl_check_all -CRLfile root.crl -CRLfile exp2.crl -CAfile root/ca.crt -untrusted issuing.crt d.crt
expect_fail 2 "certificate revoked" "-crl_check_all: a revoked" openssl verify -crl_check_all -CRLfile root.crl -CRLfile exp2.crl -CAfile root/ca.crt -untrusted issuing.crt a.crt
expect_fail 2 "unable to get certificate CRL" "-crl_check_all without the root CRL fails" openssl verify -crl_check_all -CRLfile exp2.crl -CAfile root/ca.crt -untrusted issuing.crt d.crt
check "root revokes the issuing CA" hsmca-revoke --ca root --serial "$(openssl x509 -in issuing.crt -noout -serial | cut -d= -f2)" --reason cACompromise
check "root gen-crl again" hsmca-gen-crl --ca root --pin-source "$PINSRC" --days 90 --out root2.crl
expect_fail 2 "certificate revoked" "-crl_check_all: d now revoked through its CA" openssl verify -crl_check_all -CRLfile root2.crl -CRLfile exp2.crl -CAfile root/ca.crt -untrusted issuing.crt d.crt
is "$(openssl crl -in root2.crl -noout -crlnumber)" "crlNumber=0x02" "root CRL number 2"

# --- other key types: RSA (streamed), Ed25519 (one piece) ----------------
# RSA through the token's hashing mechanism where it has one (a TPM signs
# no raw RSA with a sign-only key), PKCS#1 v1.5 and RSASSA-PSS.
for t in rsa:2048 rsa-pss ed25519; do
	l=k-$(echo "$t" | tr ':' '-')
	if why=$(type_lacks "$t"); then
		skip "gen-crl with $t and its checks" "$why"
		continue
	fi
	sa="" kt=$t
	[ "$t" = rsa-pss ] && sa="--sig-alg rsa-pss" kt=rsa:2048
	keygen Root "$l" "$kt" >/dev/null
	store_init hsmca-init-ca --ca "ca-$l" --key "pkcs11:token=Root;object=$l" --pin-source "$PINSRC" \
		--self-sign --subject "CN=CRL $t" --days 365 $sa >/dev/null
	hsmca-sign-subca --ca "ca-$l" --pin-source "$PINSRC" --csr issuing.csr --days 30 --out "sub-$l.crt" >/dev/null
	hsmca-revoke --ca "ca-$l" --serial "$(openssl x509 -in "sub-$l.crt" -noout -serial | cut -d= -f2)" --reason superseded >/dev/null
	check "gen-crl with $t" hsmca-gen-crl --ca "ca-$l" --pin-source "$PINSRC" --out "$l.crl"
	check "$t CRL verifies (openssl)" openssl crl -in "$l.crl" -CAfile "ca-$l/ca.crt" -noout
	check "$t CRL verifies (certtool)" certtool --verify-crl --load-ca-certificate "ca-$l/ca.crt" --infile "$l.crl"
	is "$(openssl crl -in "$l.crl" -noout -text | grep -c 'Serial Number:')" 1 "$t CRL lists the revoked sub-CA"
	if [ "$t" = rsa-pss ]; then
		like "$(openssl crl -in "$l.crl" -noout -text)" "Signature Algorithm: rsassaPss" "the rsa-pss CA signs its CRL with RSASSA-PSS"
		like "$(openssl x509 -in "sub-$l.crt" -noout -text)" "Signature Algorithm: rsassaPss" "... and the certificates it issues"
		check "the PSS sub-CA certificate verifies" openssl verify -CAfile "ca-$l/ca.crt" -partial_chain "sub-$l.crt"
	fi
done
check "issuing audit chain verifies" hsmca-audit --ca issuing verify
done_testing
