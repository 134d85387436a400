#!/bin/sh
# What the issuing CA's own certificate allows is checked before anything
# is signed (lint/issuer.c): name constraints, EKU, pathLen. For each kind
# of violation: OpenSSL, signing the same certificate with the same token
# key, makes one that openssl verify and certtool reject; hsmca refuses it
# before signing (exit 3, the name and the subtree named, no store row, no
# file, a refusal in the audit log). Single and batch.
# hsmca-test: store
. "$HSMCA_TOP/tests/lib.sh"

root_ca ec:p256 "CN=Constraints Root,O=Example" --pathlen 2
new_token Issuing
keygen Issuing issuing-key ec:p256 --csr issuing.csr --subject "CN=Constrained Issuing CA,O=Example" >/dev/null
check "an issuing CA with name constraints and EKUs" hsmca-sign-subca --ca root --pin-source "$PINSRC" \
	--csr issuing.csr --days 1825 --permit-dns example.com --exclude-dns secret.example.com \
	--permit-ip 10.0.0.0/8 --permit-email example.com --permit-uri .example.com \
	--eku serverAuth --eku clientAuth --eku emailProtection --out issuing.crt
check "issuing CA directory" store_init hsmca-init-ca --ca issuing --key "pkcs11:token=Issuing;object=issuing-key" \
	--pin-source "$PINSRC" --cert issuing.crt --chain root/ca.crt --crl-url http://crl.example.com/i.crl
ISSUER="CN=Constrained Issuing CA,O=Example"

csr() { # NAME SUBJECT
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
}
leaf() { hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" "$@"; }
rows() { store_sql issuing "select count(*) from certs where kind = 'leaf'"; }
last_audit() { hsmca-audit --ca issuing log --json | tail -n 1; }

# openssl_leaf NAME SAN-EXT [EKU]: the certificate OpenSSL makes from
# NAME.csr with the issuing CA's token key (through the hsmca provider).
openssl_leaf() {
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n%s\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' \
		"${3:-serverAuth,clientAuth}" "$2" >"$1.ext"
	$OPENSSL x509 -req $(ossl_prov) -in "$1.csr" -CA issuing.crt \
		-CAkey "pkcs11:token=Issuing;object=issuing-key" -passin "file:$T/pin" \
		-set_serial "0x$(openssl rand -hex 12)" -days 30 -extfile "$1.ext" -out "$1-openssl.crt" 2>/dev/null
	cat "$1-openssl.crt" issuing.crt >"$1-openssl-full.pem"
}
# verifiers_reject NAME WHAT PATTERN: openssl verify and certtool both
# reject NAME-openssl.crt, openssl with PATTERN.
verifiers_reject() {
	expect_fail 2 "$3" "$2: openssl verify rejects what would be issued" \
		openssl verify -CAfile root/ca.crt -untrusted issuing.crt "$1-openssl.crt"
	expect_fail 1 "violates the signer's constraints|NOT trusted" "$2: certtool rejects it" \
		certtool --verify --load-ca-certificate root/ca.crt --infile "$1-openssl-full.pem"
}
# refused_before_signing DESC PATTERN OUT ARGS...: exit 3 with PATTERN, no
# new row, no OUT file, the refusal as the last audit entry.
refused_before_signing() {
	_d=$1
	_p=$2
	_o=$3
	shift 3
	_before=$(rows)
	expect_fail 3 "$_p" "$_d: refused by hsmca" leaf "$@" --out "$_o"
	is "$(rows)" "$_before" "$_d: no certificate in the store"
	[ -e "$_o" ] && notok "$_d: no file written" || ok "$_d: no file written"
	_a=$(last_audit)
	like "$_a" '"outcome":"refused"' "$_d: the refusal is in the audit log"
	# The audit entry gives the same reason (the pattern read literally).
	case "$_a" in *"$(printf '%s' "$_p" | sed 's/\\//g')"*) ok "$_d: the audit entry gives the reason" ;;
	*) notok "$_d: the audit entry gives the reason" "$_a" ;; esac
}

# --- dNSName: the typo of issue 10 ------------------------------------------
csr typo "/CN=www.exmaple.com"
openssl_leaf typo "subjectAltName=DNS:www.exmaple.com"
verifiers_reject typo "dNSName outside the permitted subtree" "permitted subtree violation"
refused_before_signing "dNSName outside the permitted subtree" \
	"dNSName www.exmaple.com is not within the permitted subtree example.com of $ISSUER" typo.crt --csr typo.csr
refused_before_signing "--san dns:evil.org" \
	"dNSName evil.org is not within the permitted subtree example.com of $ISSUER" evil.crt \
	--csr typo.csr --cn "Evil Example" --san dns:evil.org
openssl_leaf typo "subjectAltName=DNS:www.example.com"
check "the same key with SAN www.example.com: OpenSSL's certificate verifies (SAN given, CN not read)" \
	openssl verify -CAfile root/ca.crt -untrusted issuing.crt typo-openssl.crt
refused_before_signing "a host-name CN outside the subtree, even with a SAN inside" \
	"dNSName www.exmaple.com \(the subject CN\) is not within the permitted subtree example.com" \
	typo2.crt --csr typo.csr --san dns:www.example.com

csr web "/CN=www.example.com"
check "a name inside the subtree is issued" leaf --csr web.csr --san dns:www.example.com --san ip:10.1.2.3 \
	--san email:ops@example.com --san uri:https://www.example.com/ --out web.crt
check "it verifies (openssl)" openssl verify -CAfile root/ca.crt -untrusted issuing.crt web.crt
cat web.crt issuing.crt >web-full.pem
check "it verifies (certtool)" certtool --verify --load-ca-certificate root/ca.crt --infile web-full.pem

# --- excluded subtree --------------------------------------------------------
csr secret "/CN=db.secret.example.com"
openssl_leaf secret "subjectAltName=DNS:db.secret.example.com"
verifiers_reject secret "dNSName inside the excluded subtree" "excluded subtree violation"
refused_before_signing "dNSName inside the excluded subtree" \
	"dNSName db.secret.example.com is within the excluded subtree secret.example.com of $ISSUER" \
	secret.crt --csr secret.csr
refused_before_signing "a wildcard covering the excluded subtree" \
	"dNSName \*.example.com covers the excluded subtree secret.example.com" \
	wild.crt --csr secret.csr --cn "Wildcard" --san "dns:*.example.com"

# --- iPAddress, rfc822Name, URI ----------------------------------------------
csr host "/CN=Host Example"
openssl_leaf host "subjectAltName=IP:192.168.1.1"
verifiers_reject host "iPAddress outside the permitted range" "permitted subtree violation"
refused_before_signing "iPAddress outside the permitted range" \
	"iPAddress 192.168.1.1 is not within the permitted subtree 10.0.0.0/8 of $ISSUER" \
	host.crt --csr host.csr --san ip:192.168.1.1
openssl_leaf host "subjectAltName=email:ops@evil.org" emailProtection
verifiers_reject host "rfc822Name outside the permitted host" "permitted subtree violation"
refused_before_signing "rfc822Name outside the permitted host" \
	"rfc822Name ops@evil.org is not within the permitted subtree example.com" \
	mail.crt --csr host.csr --profile email --san email:ops@evil.org
csr mailsubj "/CN=Mail User/emailAddress=user@evil.org"
openssl_leaf mailsubj "subjectAltName=DNS:mail.example.com" clientAuth
verifiers_reject mailsubj "subject emailAddress outside the rfc822Name subtree" "permitted subtree violation"
refused_before_signing "subject emailAddress outside the rfc822Name subtree" \
	"rfc822Name user@evil.org \(the subject emailAddress\) is not within the permitted subtree example.com" \
	mailsubj.crt --csr mailsubj.csr --profile client
openssl_leaf host "subjectAltName=URI:https://www.evil.org/app"
verifiers_reject host "URI outside the permitted domain" "permitted subtree violation"
refused_before_signing "URI outside the permitted domain" \
	"URI https://www.evil.org/app is not within the permitted subtree .example.com" \
	uri.crt --csr host.csr --san uri:https://www.evil.org/app

# --- the issuing CA's EKU -----------------------------------------------------
openssl_leaf host "subjectAltName=DNS:code.example.com" codeSigning
expect_fail 1 "does not match the intended purpose" "EKU outside the CA's: certtool rejects it for code signing" \
	certtool --verify --verify-purpose 1.3.6.1.5.5.7.3.3 --load-ca-certificate root/ca.crt --infile host-openssl-full.pem
refused_before_signing "EKU outside the CA's" \
	"extended key usage codeSigning is not among those $ISSUER allows \(serverAuth, clientAuth, emailProtection\)" \
	code.crt --csr host.csr --profile code-signing --san dns:code.example.com

# --- batch: each refusal reported per request ---------------------------------
mkdir csrs
for h in good typo evil; do csr "csrs/$h" "/CN=$h.example.com"; done
cat >tls.json <<'JSON'
[
  {"common_name": "good.example.com", "purposes": ["server_auth"], "csr_file": "good.csr"},
  {"common_name": "www.exmaple.com", "purposes": ["server_auth"], "csr_file": "typo.csr"},
  {"common_name": "evil.example.com", "purposes": ["server_auth"], "sans": ["evil.example.com", "192.168.7.7"], "csr_file": "evil.csr"}
]
JSON
before=$(rows)
expect_fail 3 "2 of 3 requests refused" "batch: the requests outside the constraints are refused, the other issued" \
	hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" --requests tls.json --csr-dir csrs --out-dir out
is "$(rows)" "$((before + 1))" "batch: one certificate in the store"
sum=$(python3 -c 'import json,sys; s=json.load(open("out/summary.json")); [print(r["index"], r["status"], r.get("reason","")) for r in s["results"]]')
like "$sum" "^1 issued" "batch: request 1 issued"
like "$sum" "2 refused lint: dNSName www.exmaple.com is not within the permitted subtree example.com of $ISSUER" \
	"batch: request 2 refused with its name and subtree"
like "$sum" "3 refused lint: iPAddress 192.168.7.7 is not within the permitted subtree 10.0.0.0/8" \
	"batch: request 3 refused with its name and subtree"
[ -e out/typo.crt ] || [ -e out/evil.crt ] && notok "batch: no files for the refused requests" || ok "batch: no files for the refused requests"
check "batch: the issued certificate verifies" openssl verify -CAfile root/ca.crt -untrusted issuing.crt out/good.crt
# A batch's refusals are one audit entry per chunk that names each of them.
is "$(hsmca-audit --ca issuing log --json | grep -o 'is not within the permitted subtree' | wc -l)" 9 \
	"batch: every refusal (single and batch) is in the audit log"

# --- sub-CA and cross-certificate under the issuing CA -----------------------
keygen Issuing sub-key ec:p256 --csr sub.csr --subject "CN=Sub CA,O=Example" >/dev/null
expect_fail 3 "extended key usage|no extended key usage" "sub-CA without the issuing CA's EKUs refused" \
	hsmca-sign-subca --ca issuing --pin-source "$PINSRC" --csr sub.csr --days 365 --out sub.crt
expect_fail 3 "lint: extended key usage codeSigning is not among those $ISSUER allows" \
	"sub-CA with an EKU outside the issuing CA's refused" \
	hsmca-sign-subca --ca issuing --pin-source "$PINSRC" --csr sub.csr --days 365 --eku codeSigning --out sub.crt
[ -e sub.crt ] && notok "no sub-CA file written" || ok "no sub-CA file written"
check "sub-CA inside the issuing CA's EKUs" hsmca-sign-subca --ca issuing --pin-source "$PINSRC" --csr sub.csr \
	--days 365 --eku serverAuth --out sub.crt
is "$(openssl x509 -in sub.crt -noout -ext basicConstraints | tail -n 1 | sed 's/^ *//')" "CA:TRUE, pathlen:0" \
	"sub-CA pathLen fits under the issuing CA's"
cat issuing.crt root/ca.crt >sub-chain.pem
check "the sub-CA verifies" openssl verify -CAfile root/ca.crt -untrusted issuing.crt sub.crt
# Cross-certificate: another root (no EKU) certified by the issuing CA.
new_token Other
keygen Other other-key ec:p256 >/dev/null
store_init hsmca-init-ca --ca other --key "pkcs11:token=Other;object=other-key" --pin-source "$PINSRC" \
	--self-sign --subject "CN=Other Root,O=Example" --days 3650 >/dev/null
expect_fail 3 "no extended key usage \(any purpose\) but $ISSUER allows only" \
	"cross-certificate without EKUs under the issuing CA refused" \
	hsmca-sign-subca --ca issuing --pin-source "$PINSRC" --cross-sign other/ca.crt --days 365 --out cross.crt
[ -e cross.crt ] && notok "no cross-certificate written" || ok "no cross-certificate written"

# --- pathLen ---------------------------------------------------------------------
mkdir sub && cp sub.crt sub/
check "a CA directory for the sub-CA (pathLen 0)" store_init hsmca-init-ca --ca subdir --key "pkcs11:token=Issuing;object=sub-key" \
	--pin-source "$PINSRC" --cert sub.crt --chain sub-chain.pem
keygen Issuing subsub-key ec:p256 --csr subsub.csr --subject "CN=Sub Sub CA,O=Example" >/dev/null
expect_fail 3 "pathlen 0" "a CA with pathLen 0 certifies no CA" \
	hsmca-sign-subca --ca subdir --pin-source "$PINSRC" --csr subsub.csr --days 100 --eku serverAuth --out subsub.crt

check "audit log verifies" hsmca-audit --ca issuing verify
done_testing
