#!/bin/sh
# hsmca-sign-subca and hsmca-init-ca --cert: profile, name constraints,
# pathlen, validity clamping, cross-signing, refusals, audit entries.
# hsmca-test: token
. "$HSMCA_TOP/tests/lib.sh"

new_token Root
new_token Issuing
keygen Root root-key ec:p384 >/dev/null
hsmca-init-ca --ca root --key "pkcs11:token=Root;object=root-key" --pin-source "$PINSRC" \
	--self-sign --subject "CN=Test Root R1,O=Example,C=GB" --days 3650 --pathlen 1 >/dev/null ||
	notok "root created"
keygen Issuing issuing-key ec:p256 --csr issuing.csr --subject "CN=Test Issuing CA 1,O=Example,C=GB" >/dev/null

subca() { hsmca-sign-subca --ca root --pin-source "$PINSRC" "$@"; }

check "sign-subca with name constraints" subca --csr issuing.csr --days 1825 --pathlen 0 \
	--permit-dns example.com --exclude-dns secret.example.com --permit-ip 10.0.0.0/8 \
	--permit-ip 2001:db8::/32 --permit-email example.com --permit-uri .example.com \
	--policy 1.3.6.1.4.1.99999.1 --eku serverAuth --eku clientAuth \
	--crl-url http://crl.example.com/root.crl --aia-url http://ca.example.com/root.crt \
	--out issuing.crt
txt=$(openssl x509 -in issuing.crt -noout -text)
like "$txt" "CA:TRUE, pathlen:0" "pathlen 0"
like "$txt" "X509v3 Basic Constraints: critical" "basicConstraints critical"
like "$txt" "X509v3 Key Usage: critical" "keyUsage critical"
like "$txt" "Digital Signature, Certificate Sign, CRL Sign" "CA key usage"
like "$txt" "X509v3 Name Constraints: critical" "name constraints critical"
like "$txt" "DNS:example.com" "permitted DNS subtree"
like "$txt" "DNS:secret.example.com" "excluded DNS subtree"
like "$txt" "IP:10.0.0.0/255.0.0.0" "permitted IPv4 range"
like "$txt" "IP:2001:DB8:0:0:0:0:0:0/FFFF:FFFF:0:0:0:0:0:0" "permitted IPv6 range"
like "$txt" "email:example.com" "permitted email subtree"
like "$txt" "URI:.example.com" "permitted URI subtree"
like "$txt" "Policy: 1.3.6.1.4.1.99999.1" "certificate policy"
like "$txt" "TLS Web Server Authentication, TLS Web Client Authentication" "optional EKU"
like "$txt" "URI:http://crl.example.com/root.crl" "CRL distribution point"
like "$txt" "CA Issuers - URI:http://ca.example.com/root.crt" "AIA caIssuers"
like "$txt" "Subject: C = GB, O = Example, CN = Test Issuing CA 1" "subject from the CSR"
ski=$(openssl x509 -in issuing.crt -noout -ext subjectKeyIdentifier | tail -n 1 | tr -d ' :')
want=$(openssl req -in issuing.csr -noout -pubkey | openssl pkey -pubin -outform DER | tail -c 65 | sha1sum | cut -c1-40 | tr 'a-f' 'A-F')
is "$ski" "$want" "SKI is the SHA-1 of the CSR key (RFC 5280 method 1)"
aki=$(openssl x509 -in issuing.crt -noout -ext authorityKeyIdentifier | tail -n 1 | tr -d ' :' | sed 's/^keyid//')
rski=$(openssl x509 -in root/ca.crt -noout -ext subjectKeyIdentifier | tail -n 1 | tr -d ' :')
is "$aki" "$rski" "AKI is the root's SKI"
check "openssl verify: root -> issuing" openssl verify -x509_strict -CAfile root/ca.crt issuing.crt
check "certtool verifies root -> issuing" certtool --verify --load-ca-certificate root/ca.crt --infile issuing.crt
row=$(sqlite3 root/ca.db "select kind from certs where serial = lower('$(openssl x509 -in issuing.crt -noout -serial | cut -d= -f2)')")
is "$row" "subca" "root store records the subordinate certificate"

# The issuing CA directory from the signed certificate
check "init-ca --cert --chain" hsmca-init-ca --ca issuing --key "pkcs11:token=Issuing;object=issuing-key" \
	--pin-source "$PINSRC" --cert issuing.crt --chain root/ca.crt
check "chain.pem is the root" cmp issuing/chain.pem root/ca.crt
like "$(sqlite3 issuing/ca.db "select entry from audit where seq=1")" '"action":"init-ca"' "issuing CA audit starts with init-ca"
keygen Issuing other-key ec:p256 >/dev/null
expect_fail 3 "not the token key" "init-ca --cert with another key refused" hsmca-init-ca --ca bad1 \
	--key "pkcs11:token=Issuing;object=other-key" --pin-source "$PINSRC" --cert issuing.crt --chain root/ca.crt
[ -e bad1 ] && notok "no CA directory after refusal" || ok "no CA directory after refusal"
keygen Root other-root ec:p256 >/dev/null
hsmca-init-ca --ca other --key "pkcs11:token=Root;object=other-root" --pin-source "$PINSRC" \
	--self-sign --subject "CN=Other Root" --days 30 >/dev/null
expect_fail 3 "does not verify" "init-ca --cert with the wrong chain refused" hsmca-init-ca --ca bad2 \
	--key "pkcs11:token=Issuing;object=issuing-key" --pin-source "$PINSRC" --cert issuing.crt --chain other/ca.crt
expect_fail 3 "not a CA certificate" "init-ca --cert with a leaf certificate refused" sh -c \
	"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj /CN=leaf -addext basicConstraints=CA:FALSE -out leafonly.crt 2>/dev/null; hsmca-init-ca --ca bad3 --key 'pkcs11:token=Issuing;object=issuing-key' --pin-source '$PINSRC' --cert leafonly.crt --chain root/ca.crt"

# Leaves issued under the constrained CA by an independent tool (openssl
# with our provider and the issuing key on the token).
leaf() { # NAME SAN
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
		-subj "/CN=$1" -addext "subjectAltName=$2" -out "$1.csr" 2>/dev/null
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n' "$2" >"$1.ext"
	$OPENSSL x509 -req $(ossl_prov) -in "$1.csr" -CA issuing.crt -CAkey "pkcs11:token=Issuing;object=issuing-key" \
		-passin "file:$T/pin" -CAcreateserial -days 30 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
}
leaf inside "DNS:www.example.com"
leaf outside "DNS:www.example.org"
leaf excluded "DNS:db.secret.example.com"
leaf ipout "IP:192.168.1.1"
cat root/ca.crt >trust.pem
check "leaf inside the permitted DNS subtree verifies (openssl)" openssl verify -CAfile trust.pem -untrusted issuing.crt inside.crt
expect_fail 2 "permitted subtree violation" "leaf outside the permitted DNS subtree fails (openssl)" openssl verify -CAfile trust.pem -untrusted issuing.crt outside.crt
expect_fail 2 "excluded subtree violation" "leaf in an excluded DNS subtree fails (openssl)" openssl verify -CAfile trust.pem -untrusted issuing.crt excluded.crt
expect_fail 2 "permitted subtree violation" "leaf outside the permitted IP range fails (openssl)" openssl verify -CAfile trust.pem -untrusted issuing.crt ipout.crt
cat inside.crt issuing.crt root/ca.crt >inside-chain.pem
cat outside.crt issuing.crt root/ca.crt >outside-chain.pem
check "leaf inside verifies (certtool)" certtool --verify --load-ca-certificate root/ca.crt --infile inside-chain.pem
expect_exit 1 "leaf outside the permitted DNS subtree fails (certtool)" certtool --verify --load-ca-certificate root/ca.crt --infile outside-chain.pem

# pathlen: the issuing CA has pathlen 0
keygen Issuing deep-key ec:p256 --csr deep.csr --subject "CN=Too Deep CA" >/dev/null
expect_fail 3 "pathlen 0" "sign-subca under a pathlen-0 CA refused" hsmca-sign-subca --ca issuing --pin-source "$PINSRC" --csr deep.csr --days 30 --out deep.crt
[ -e deep.crt ] && notok "nothing written on refusal" || ok "nothing written on refusal"
expect_fail 3 "does not fit under" "--pathlen above the issuer's refused" subca --csr deep.csr --days 30 --pathlen 1 --out deep.crt
# A chain too deep, built behind our back, fails openssl verify.
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' >ca.ext
$OPENSSL x509 -req $(ossl_prov) -in deep.csr -CA issuing.crt -CAkey "pkcs11:token=Issuing;object=issuing-key" \
	-passin "file:$T/pin" -CAcreateserial -days 30 -extfile ca.ext -out deep.crt 2>/dev/null
$OPENSSL x509 -req $(ossl_prov) -in inside.csr -CA deep.crt -CAkey "pkcs11:token=Issuing;object=deep-key" \
	-passin "file:$T/pin" -CAcreateserial -days 20 -extfile inside.ext -out deepleaf.crt 2>/dev/null
cat issuing.crt deep.crt >untrusted.pem
expect_fail 2 "path length constraint exceeded" "chain deeper than pathlen fails openssl verify" openssl verify -CAfile trust.pem -untrusted untrusted.pem deepleaf.crt

# Validity clamping
keygen Issuing clamp-key ec:p256 --csr clamp.csr --subject "CN=Clamped CA" >/dev/null
check "sign-subca --days beyond the root is clamped" subca --csr clamp.csr --days 9000 --out clamp.crt
like "$(cat "$T/.out")" "clamped" "clamping is reported"
is "$(openssl x509 -in clamp.crt -noout -enddate)" "$(openssl x509 -in root/ca.crt -noout -enddate)" "notAfter equals the issuer's"
keygen Root short-key ec:p256 >/dev/null
hsmca-init-ca --ca short --key "pkcs11:token=Root;object=short-key" --pin-source "$PINSRC" \
	--self-sign --subject "CN=Short Root" --days 1 >/dev/null
expect_fail 3 "cannot fit" "validity that cannot fit is refused" hsmca-sign-subca --ca short --pin-source "$PINSRC" --csr clamp.csr --days 30 --out short-sub.crt

# Cross-signing for root rollover: Root R2 certified by Root R1 (no pathlen).
keygen Root r1-key ec:p384 >/dev/null
hsmca-init-ca --ca root1 --key "pkcs11:token=Root;object=r1-key" --pin-source "$PINSRC" \
	--self-sign --subject "CN=Test Root X1,O=Example,C=GB" --days 3650 >/dev/null
keygen Root r2-key ec:p384 >/dev/null
hsmca-init-ca --ca root2 --key "pkcs11:token=Root;object=r2-key" --pin-source "$PINSRC" \
	--self-sign --subject "CN=Test Root R2,O=Example,C=GB" --days 3650 --pathlen 1 >/dev/null
expect_fail 3 "does not fit under" "cross-signing beyond the issuer's pathlen refused" subca --cross-sign root2/ca.crt --days 1000 --out r2-by-r1.crt
check "cross-sign R2 with R1" hsmca-sign-subca --ca root1 --pin-source "$PINSRC" --cross-sign root2/ca.crt --days 1000 --out r2-by-r1.crt
is "$(openssl x509 -in r2-by-r1.crt -noout -subject -nameopt RFC2253)" "$(openssl x509 -in root2/ca.crt -noout -subject -nameopt RFC2253)" "cross certificate keeps the subject"
a=$(openssl x509 -in r2-by-r1.crt -noout -subject -pubkey -ext subjectKeyIdentifier)
b=$(openssl x509 -in root2/ca.crt -noout -subject -pubkey -ext subjectKeyIdentifier)
is "$a" "$b" "cross certificate keeps the key and SKI"
keygen Issuing i2-key ec:p256 --csr i2.csr --subject "CN=Issuing under R2" >/dev/null
hsmca-sign-subca --ca root2 --pin-source "$PINSRC" --csr i2.csr --days 365 --pathlen 0 --out i2.crt >/dev/null
$OPENSSL x509 -req $(ossl_prov) -in inside.csr -CA i2.crt -CAkey "pkcs11:token=Issuing;object=i2-key" \
	-passin "file:$T/pin" -CAcreateserial -days 20 -extfile inside.ext -out r2leaf.crt 2>/dev/null
cat i2.crt r2-by-r1.crt >via-r1.pem
check "leaf verifies through R2 (new root)" openssl verify -CAfile root2/ca.crt -untrusted i2.crt r2leaf.crt
check "leaf verifies through R1 via the cross certificate" openssl verify -CAfile root1/ca.crt -untrusted via-r1.pem r2leaf.crt
cat r2leaf.crt i2.crt r2-by-r1.crt >r1-chain.pem
check "certtool: leaf verifies through R1" certtool --verify --load-ca-certificate root1/ca.crt --infile r1-chain.pem
expect_exit 2 "without the cross certificate R1 does not validate the leaf" openssl verify -CAfile root1/ca.crt -untrusted i2.crt r2leaf.crt

# Refusals: exit 3, nothing signed, an audit entry saying why
before=$(sqlite3 root/ca.db "select count(*) from certs")
openssl req -new -newkey rsa:1024 -nodes -keyout /dev/null -subj "/CN=weak" -out weak.csr 2>/dev/null
expect_fail 3 "RSA key of 1024 bits" "RSA-1024 CSR refused" subca --csr weak.csr --days 30 --out weak.crt
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj "/CN=tampered" -out good.csr 2>/dev/null
openssl req -in good.csr -outform DER -out good.der
python3 -c "import sys; d=bytearray(open('good.der','rb').read()); d[-5]^=1; open('bad.der','wb').write(d)"
expect_fail 3 "CSR signature does not verify" "CSR with a bad signature refused" subca --csr bad.der --days 30 --out bad.crt
$OPENSSL req -new $(ossl_prov) -key "pkcs11:token=Root;object=root-key" -passin "file:$T/pin" -subj "/CN=self" -out self.csr 2>/dev/null
expect_fail 3 "this CA's own key" "CSR with the issuer's own key refused" subca --csr self.csr --days 30 --out self.crt
printf 'garbage' >garbage.csr
expect_fail 2 "not a CSR" "garbage CSR (exit 2)" subca --csr garbage.csr --days 30 --out g.crt
expect_fail 2 "already exists" "existing output refused" subca --csr clamp.csr --days 30 --out issuing.crt
expect_fail 2 "--days" "--days 0 refused" subca --csr clamp.csr --days 0 --out x.crt
expect_fail 2 "is not valid UTF-8" "a name constraint that is not UTF-8 is refused, not dropped" \
	subca --csr clamp.csr --days 30 --exclude-dns "$(printf 'bad\377.example.com')" --out x.crt
is "$(sqlite3 root/ca.db "select count(*) from certs")" "$before" "refusals issued nothing"
refusals=$(sqlite3 root/ca.db "select count(*) from audit where entry like '%\"outcome\":\"refused\"%'")
[ "$refusals" -ge 3 ] && ok "refusals are in the audit log ($refusals)" || notok "refusals are in the audit log" "$refusals"
like "$(sqlite3 root/ca.db "select entry from audit order by seq desc limit 1")" "sign-subca" "last audit entry is a sign-subca action"

# The audit chain: verify, then tamper (edit, delete, reorder, append).
check "audit verify" hsmca-audit --ca root verify
like "$(cat "$T/.out")" "head: entry [0-9]+ sha256 [0-9a-f]{64}" "verify prints the head hash"
n=$(sqlite3 root/ca.db "select count(*) from audit")
cp root/ca.db pristine.db
sqlite3 root/ca.db "drop trigger audit_no_update; update audit set entry = replace(entry, 'sign-subca', 'sign-xxxca') where seq = 3"
expect_fail 3 "audit entry 3: .*edited" "an edited entry is reported" hsmca-audit --ca root verify
cp pristine.db root/ca.db
sqlite3 root/ca.db "drop trigger audit_no_delete; delete from audit where seq = 2"
expect_fail 3 "audit entry 3: expected entry 2" "a deleted entry is reported" hsmca-audit --ca root verify
cp pristine.db root/ca.db
sqlite3 root/ca.db "drop trigger audit_no_update; update audit set seq = 1000 where seq = 2; update audit set seq = 2 where seq = 3; update audit set seq = 3 where seq = 1000"
expect_fail 3 "audit entry 2: " "reordered entries are reported" hsmca-audit --ca root verify
cp pristine.db root/ca.db
e=$(sqlite3 root/ca.db "select entry from audit where seq = $n" | sed "s/\"seq\":$n/\"seq\":$((n + 1))/")
h=$(printf '%s' "$e" | sha256sum | cut -d' ' -f1)
sqlite3 root/ca.db "insert into audit(seq, entry, hash) values ($((n + 1)), '$e', '$h')"
expect_fail 3 "audit entry $((n + 1)): it does not chain" "an entry appended out of chain is reported" hsmca-audit --ca root verify
cp pristine.db root/ca.db
expect_fail 19 "append-only" "the store refuses to delete audit entries" sqlite3 root/ca.db "delete from audit where seq = 1"
check "audit report" hsmca-audit --ca root report --json
like "$(cat "$T/.out")" '"kind": "subca"' "report lists subordinate certificates"
done_testing
