#!/bin/sh
# hsmca-sign-leaf: profiles, SANs, refusals, key reuse, batches.
# hsmca-test: token
# hsmca-test: store
. "$HSMCA_TOP/tests/lib.sh"

root_ca ec:p384 "CN=Leaf Test Root,O=Example"
issuing_ca "CN=Leaf Test Issuing CA,O=Example" --aia-url http://ca.example.com/issuing.crt
cat issuing.crt root/ca.crt >chain.pem

csr() { # NAME [openssl req args...]
	_c=$1
	shift
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$_c.key" -out "$_c.csr" "$@" 2>/dev/null
}
leaf() { hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" "$@"; }
count() { store_sql issuing "select count(*) from certs where kind = 'leaf'"; }

# Module choice (README "Tokens"): --module wins over the module ca.json
# records; so does HSMCA_MODULE; without either, ca.json's module is used.
csr modchk -subj "/CN=mod.example.com"
n0=$(count)
expect_fail 1 "cannot load PKCS#11 module /nonexistent.so" "--module wins over the module recorded in ca.json" \
	leaf --csr modchk.csr --out modchk.crt --module /nonexistent.so
expect_fail 1 "cannot load PKCS#11 module /nonexistent/env.so" "HSMCA_MODULE wins over the module recorded in ca.json" \
	env HSMCA_MODULE=/nonexistent/env.so hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" --csr modchk.csr --out modchk.crt
is "$(count)" "$n0" "nothing issued with a module that does not load"
check "without --module or HSMCA_MODULE, the module (and arguments) recorded in ca.json" \
	env HSMCA_MODULE= HSMCA_MODULE_ARGS= hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" --csr modchk.csr --out modchk.crt

# Profiles and purposes
csr web -subj "/CN=www.example.com" -addext "subjectAltName=DNS:www.example.com,DNS:example.com"
check "server profile" leaf --csr web.csr --profile server --out web.crt --chain-out web.chain
txt=$(openssl x509 -in web.crt -noout -text)
like "$txt" "TLS Web Server Authentication" "server: serverAuth EKU"
unlike "$txt" "TLS Web Client Authentication" "server: no clientAuth"
like "$txt" "X509v3 Key Usage: critical" "key usage critical"
like "$txt" "Digital Signature$" "EC key: digitalSignature only"
like "$txt" "CA:FALSE" "basicConstraints CA:FALSE"
like "$txt" "DNS:www.example.com, DNS:example.com" "SANs from the CSR"
like "$txt" "URI:http://crl.example.com/issuing.crl" "CDP from the CA config"
like "$txt" "CA Issuers - URI:http://ca.example.com/issuing.crt" "AIA from the CA config"
like "$txt" "X509v3 Subject Key Identifier" "SKI"
aki=$(openssl x509 -in web.crt -noout -ext authorityKeyIdentifier | tail -n 1 | tr -d ' :' | sed 's/^keyid//')
iski=$(openssl x509 -in issuing.crt -noout -ext subjectKeyIdentifier | tail -n 1 | tr -d ' :')
is "$aki" "$iski" "AKI is the issuing CA's SKI"
check "chain file is issuing + root" cmp web.chain chain.pem
check "server cert verifies for sslserver (openssl)" openssl verify -purpose sslserver -CAfile root/ca.crt -untrusted issuing.crt web.crt
expect_exit 2 "server cert fails for sslclient (openssl)" openssl verify -purpose sslclient -CAfile root/ca.crt -untrusted issuing.crt web.crt
cat web.crt issuing.crt >web-full.pem
check "server cert verifies for TLS server (certtool)" certtool --verify --verify-purpose 1.3.6.1.5.5.7.3.1 --load-ca-certificate root/ca.crt --infile web-full.pem
expect_exit 1 "server cert fails for TLS client (certtool)" certtool --verify --verify-purpose 1.3.6.1.5.5.7.3.2 --load-ca-certificate root/ca.crt --infile web-full.pem

csr cli -subj "/CN=alice.example.com"
check "client profile" leaf --csr cli.csr --profile client --out cli.crt
check "client cert verifies for sslclient" openssl verify -purpose sslclient -CAfile root/ca.crt -untrusted issuing.crt cli.crt
expect_exit 2 "client cert fails for sslserver" openssl verify -purpose sslserver -CAfile root/ca.crt -untrusted issuing.crt cli.crt
cat cli.crt issuing.crt >cli-full.pem
expect_exit 1 "client cert fails for TLS server (certtool)" certtool --verify --verify-purpose 1.3.6.1.5.5.7.3.1 --load-ca-certificate root/ca.crt --infile cli-full.pem
like "$(openssl x509 -in cli.crt -noout -ext subjectAltName)" "DNS:alice.example.com" "SAN from a DNS-name CN"

csr both -subj "/CN=both.example.com"
check "server-client is the default profile" leaf --csr both.csr --out both.crt
like "$(openssl x509 -in both.crt -noout -ext extendedKeyUsage)" "TLS Web Server Authentication, TLS Web Client Authentication" "server-client EKUs"
csr code -subj "/CN=Code Signer"
check "code-signing profile" leaf --csr code.csr --profile code-signing --san uri:https://example.com/signer --out code.crt
like "$(openssl x509 -in code.crt -noout -ext extendedKeyUsage)" "Code Signing" "code-signing EKU"
csr mail -subj "/CN=Bob Mail"
check "email profile" leaf --csr mail.csr --profile email --san email:bob@example.com --out mail.crt
like "$(openssl x509 -in mail.crt -noout -ext extendedKeyUsage)" "E-mail Protection" "email EKU"
check "email cert verifies for smimesign" openssl verify -purpose smimesign -CAfile root/ca.crt -untrusted issuing.crt mail.crt
expect_fail 3 "not allowed by the profile" "email profile refuses a DNS SAN" leaf --csr mail.csr --profile email --san dns:x.example.com --out mail2.crt --force-issue
csr ocsp -subj "/CN=OCSP Responder"
check "ocsp-signing profile" leaf --csr ocsp.csr --profile ocsp-signing --san dns:ocsp.example.com --out ocsp.crt
like "$(openssl x509 -in ocsp.crt -noout -text)" "OCSP No Check" "ocsp-signing carries id-pkix-ocsp-nocheck"
csr pass -subj "/CN=pass.example.com" -addext "subjectAltName=IP:10.1.2.3,DNS:pass.example.com"
check "csr-passthrough profile" leaf --csr pass.csr --profile csr-passthrough --out pass.crt
like "$(openssl x509 -in pass.crt -noout -ext subjectAltName)" "IP Address:10.1.2.3" "IP SAN from the CSR"
csr pass2 -subj "/CN=pass2.example.com" -addext "keyUsage=critical,digitalSignature,keyAgreement" -addext "extendedKeyUsage=clientAuth,1.3.6.1.4.1.99999.7"
check "csr-passthrough takes the CSR's key usage and EKUs" leaf --csr pass2.csr --profile csr-passthrough --out pass2.crt
like "$(openssl x509 -in pass2.crt -noout -ext keyUsage)" "Digital Signature, Key Agreement" "key usage from the CSR"
like "$(openssl x509 -in pass2.crt -noout -ext extendedKeyUsage)" "TLS Web Client Authentication, 1.3.6.1.4.1.99999.7" "EKUs from the CSR"
csr pass3 -subj "/CN=pass3.example.com" -addext "keyUsage=critical,digitalSignature,keyCertSign"
expect_fail 3 "keyCertSign" "csr-passthrough refuses keyCertSign on a leaf" leaf --csr pass3.csr --profile csr-passthrough --out pass3.crt
openssl req -new -newkey rsa:2048 -nodes -keyout rsa.key -subj "/CN=rsa.example.com" -out rsa.csr 2>/dev/null
check "RSA leaf" leaf --csr rsa.csr --profile server --out rsa.crt
like "$(openssl x509 -in rsa.crt -noout -ext keyUsage)" "Digital Signature, Key Encipherment" "RSA key: digitalSignature + keyEncipherment"
csr sans -subj "/CN=sans.example.com" -addext "subjectAltName=DNS:ignored.example.com"
check "--san overrides the CSR's SANs" leaf --csr sans.csr --san dns:a.example.com --san IP:2001:db8::1 --san email:x@example.com --out sans.crt
is "$(openssl x509 -in sans.crt -noout -ext subjectAltName | tail -n 1 | sed 's/^ *//')" \
	"DNS:a.example.com, IP Address:2001:DB8:0:0:0:0:0:1, email:x@example.com" "request SANs in order, v4/v6"
check "--cn overrides the CSR's CN" leaf --csr sans.csr --cn renamed.example.com --force-issue --out renamed.crt
like "$(openssl x509 -in renamed.crt -noout -subject)" "CN = renamed.example.com" "subject CN replaced"
serial=$(openssl x509 -in web.crt -noout -serial | cut -d= -f2)
is "${#serial}" 34 "leaf serial: 17 octets"
is "$(store_sql issuing "select case when count(distinct serial) = count(*) then 1 else 0 end from certs")" 1 "serials unique in the store"

# Refusals: exit 3, nothing issued
n=$(count)
refuse() { # DESC PATTERN ARGS...
	_d=$1
	_p=$2
	shift 2
	expect_fail 3 "$_p" "$_d" leaf "$@"
}
csr good -subj "/CN=good.example.com"
openssl req -in good.csr -outform DER -out good.der
python3 -c "d=bytearray(open('good.der','rb').read()); d[-3]^=1; open('badsig.der','wb').write(d)"
refuse "CSR with a bad signature" "signature does not verify" --csr badsig.der --out x.crt
openssl req -new -newkey rsa:2048 -nodes -keyout /dev/null -sha1 -subj "/CN=sha1.example.com" -out sha1.csr 2>/dev/null
refuse "CSR signed with SHA-1" "digest other than SHA-2" --csr sha1.csr --out x.crt
openssl req -new -newkey rsa:1024 -nodes -keyout /dev/null -subj "/CN=weak.example.com" -out rsa1024.csr 2>/dev/null
refuse "RSA-1024" "1024 bits" --csr rsa1024.csr --out x.crt
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -pkeyopt rsa_keygen_pubexp:3 -out e3.key 2>/dev/null
openssl req -new -key e3.key -subj "/CN=e3.example.com" -out e3.csr
refuse "RSA e=3" "exponent" --csr e3.csr --out x.crt
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:secp256k1 -nodes -keyout /dev/null -subj "/CN=k1.example.com" -out k1.csr 2>/dev/null
refuse "unsupported curve (secp256k1)" "curve" --csr k1.csr --out x.crt
python3 - <<'PY'
d = bytearray(open("good.der", "rb").read())
i = d.find(bytes([0x03, 0x42, 0x00, 0x04]))
d[i + 4 + 40] ^= 0x55  # move the point off the curve
open("offcurve.der", "wb").write(d)
PY
refuse "EC point not on the curve" "point|decode" --csr offcurve.der --out x.crt
csr ca -subj "/CN=ca.example.com" -addext "basicConstraints=critical,CA:TRUE"
refuse "CSR asking for CA:TRUE" "cA=TRUE" --csr ca.csr --out x.crt
nul=$(printf 'a\000b.example.com' | xxd -p)
csr nul -subj "/CN=nul.example.com" -addext "subjectAltName=DER:3011820f$nul"
refuse "SAN with an embedded NUL" "NUL" --csr nul.csr --out x.crt
long=$(printf 'a%.0s' $(seq 1 65))
refuse "CN over 64 characters" "too long|64" --csr good.csr --cn "$long.example.com" --out x.crt
label=$(printf 'b%.0s' $(seq 1 63))
refuse "DNS SAN over 253 characters" "253|not a valid DNS" --csr good.csr --san "dns:$label.$label.$label.$label.example.com" --out x.crt
refuse "wildcard under a public suffix" "too broad" --csr good.csr --san "dns:*.com" --out x.crt
refuse "invalid DNS SAN" "not a valid DNS name" --csr good.csr --san "dns:bad_host!.example.com" --out x.crt
refuse "invalid IP SAN" "IPv4 or IPv6" --csr good.csr --san "ip:10.0.0.300" --out x.crt
refuse "lifetime 0" "0 days" --csr good.csr --days 0 --out x.crt
refuse "lifetime above the profile maximum" "above the maximum" --csr good.csr --days 900 --out x.crt
printf 'garbage\n' >garbage.csr
expect_fail 2 "not a CSR" "garbage CSR (exit 2)" leaf --csr garbage.csr --out x.crt
head -c 200 good.csr >trunc.csr
expect_fail 2 "not a CSR" "truncated CSR (exit 2)" leaf --csr trunc.csr --out x.crt
expect_fail 1 "cannot open" "missing CSR file (exit 1)" leaf --csr nope.csr --out x.crt
refuse "a reused key" "already certified" --csr web.csr --cn other.example.com --out x.crt
[ -e x.crt ] && notok "nothing written by refusals" || ok "nothing written by refusals"
is "$(count)" "$n" "refusals issued nothing"
check "--force-issue re-certifies a key" leaf --csr web.csr --cn web2.example.com --san dns:web2.example.com --force-issue --out web2.crt
expect_fail 2 "already exists" "existing output refused" leaf --csr good.csr --out web.crt
check "same request again is reported as already issued" leaf --csr web.csr --profile server --out web.crt
like "$(cat "$T/.out")" "already issued" "already issued"

# Batch from a tls.json in the serverless CA schema
mkdir csrs
for h in api db mail bad; do csr "csrs/$h" -subj "/CN=$h.example.com"; done
base64 -w0 csrs/db.csr >db.b64
cat >tls.json <<JSON
[
  {"common_name": "api.example.com", "purposes": ["server_auth"], "sans": ["api.example.com", "10.0.0.5"], "lifetime": 90, "csr_file": "api.csr"},
  {"common_name": "db.example.com", "purposes": ["client_auth", "server_auth"], "sans": {"DNS_NAME": ["db.example.com", "db1.example.com"], "IP_ADDRESS": "2001:db8::5"},
   "organization": "Example Ltd", "country": "GB", "base64_csr_data": "$(cat db.b64)", "cert_bundle": true},
  {"common_name": "mail.example.com", "extended_key_usages": ["EMAIL_PROTECTION", "1.3.6.1.5.5.7.3.4"], "sans": {"EMAIL_ADDRESS": "ops@example.com"}, "csr_file": "mail.csr", "notify_expiry": ["ops@example.com"]},
  {"common_name": "bad.example.com", "sans": ["bad..example.com"], "csr_file": "bad.csr"}
]
JSON
expect_fail 3 "1 of 4 requests refused" "batch: one bad request refused, the others issued" hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" --requests tls.json --csr-dir csrs --out-dir out --json
sum=$(cat out/summary.json)
like "$sum" '"issued": 3' "summary: 3 issued"
like "$sum" '"refused": 1' "summary: 1 refused"
like "$sum" "not a valid DNS name" "summary gives the reason"
check "api certificate verifies" openssl verify -CAfile root/ca.crt -untrusted issuing.crt out/api.crt
like "$(openssl x509 -in out/api.crt -noout -ext subjectAltName)" "IP Address:10.0.0.5" "untyped SAN list: IP recognised"
check "api chain file" cmp out/api.chain.pem chain.pem
like "$(openssl x509 -in out/db.example.com.pem -noout -subject)" "C = GB, O = Example Ltd, CN = db.example.com" "request subject fields override the CSR's"
is "$(grep -c 'BEGIN CERTIFICATE' out/db.example.com.pem)" 3 "cert_bundle: leaf + chain in one file"
like "$(openssl x509 -in out/db.example.com.pem -noout -ext subjectAltName)" "IP Address:2001:DB8:0:0:0:0:0:5" "typed SAN map"
like "$(openssl x509 -in out/mail.crt -noout -ext extendedKeyUsage)" "E-mail Protection" "EKU names and dotted OIDs"
is "$(store_sql issuing "select notify from certs where cn = 'mail.example.com'")" '{"notify_expiry":["ops@example.com"]}' "notify_expiry recorded"
before=$(count)
sha_api=$(sha256 out/api.crt)
rm out/mail.crt
expect_fail 3 "refused" "re-run: the bad request is still refused" hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" --requests tls.json --csr-dir csrs --out-dir out --json
like "$(cat out/summary.json)" '"already_issued": 3' "re-run: 3 already issued"
is "$(count)" "$before" "re-run issued nothing new"
is "$(sha256 out/api.crt)" "$sha_api" "re-run left existing files alone"
[ -f out/mail.crt ] && ok "re-run wrote the missing file again" || notok "re-run wrote the missing file again"
printf '[{"common_name": "x.example.com", "csr_file": "api.csr", "colour": "blue"}]' >unknown.json
expect_fail 3 "unknown key 'colour'" "unknown JSON key refused" hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" --requests unknown.json --csr-dir csrs --out-dir out2
printf '[{"common_name": "x.example.com", "csr_file": "api.csr"' >broken.json
expect_fail 3 "broken.json" "batch file that is not valid JSON refused" hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" --requests broken.json --csr-dir csrs --out-dir out2
is "$(count)" "$before" "nothing issued from bad batch files"
check "audit log verifies" hsmca-audit --ca issuing verify
check "report --expiring" hsmca-audit --ca issuing report --expiring 100 --json
like "$(cat "$T/.out")" '"expiring"' "report lists expiring certificates"
done_testing
