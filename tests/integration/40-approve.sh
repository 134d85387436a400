#!/bin/sh
# hsmca-two-person-approve: show, sign and verify end to end, with approver
# keys in PEM files (plain and encrypted) and on a SoftHSM token; every
# answer is checked against openssl or sha256sum, not against ourselves.
# hsmca-test: token
. "$HSMCA_TOP/tests/lib.sh"

TPA=hsmca-two-person-approve
MK=$HSMCA_BUILD/tests/mkrequest

# pem_json FILE: the PEM text as a JSON string body (newlines as \n)
pem_json() { awk '{printf "%s\\n", $0}' "$1"; }
# approver ID PUBFILE
approver() { printf '    { "id": "%s", "name": "%s Example", "public_key": "%s" }' "$1" "$1" "$(pem_json "$2")"; }
# quorum M ID:PUB...
quorum() {
	_m=$1
	shift
	printf '{\n  "version": 1,\n  "threshold": %s,\n  "approvers": [\n' "$_m"
	_sep=""
	for _a in "$@"; do
		printf '%s' "$_sep"
		approver "${_a%%:*}" "${_a#*:}"
		_sep=",
"
	done
	printf '\n  ]\n}\n'
}
# sigbin APPROVAL OUT: the raw signature bytes of an approval file
sigbin() { jq -r .signature "$1" | base64 -d >"$2"; }

# --- approver keys -------------------------------------------------------
openssl genpkey -algorithm ed25519 -out alice.key 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out bob.key 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out carol.key 2>/dev/null
printf 'dave passphrase\n' >dave.pass
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -aes256 \
	-pass file:dave.pass -out dave.key 2>/dev/null
openssl genpkey -algorithm ed25519 -out mallory.key 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out weak.key 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out p521.key 2>/dev/null
for n in alice bob carol mallory weak p521; do openssl pkey -in $n.key -pubout -out $n.pub; done
openssl pkey -in dave.key -passin file:dave.pass -pubout -out dave.pub
check "approver keys generated with openssl" test -s dave.pub -a -s carol.pub

new_token Appr
check "token key erin (P-256) with hsmca-keygen" keygen Appr erin ec:p256 --pubout erin.pub
# frank's token key is Ed25519, or RSA-2048 where the module makes no
# Ed25519 keys (an RSA approval through the token's hashing mechanism).
if why=$(type_lacks ed25519); then
	FRANK=rsa:2048 FRANK_ALG=rsa-pkcs1-sha256
	diag "frank: rsa:2048 instead of Ed25519: $why"
else
	FRANK=ed25519 FRANK_ALG=ed25519
fi
check "token key frank ($FRANK) with hsmca-keygen" keygen Appr frank $FRANK --pubout frank.pub

quorum 2 alice:alice.pub bob:bob.pub carol:carol.pub dave:dave.pub erin:erin.pub frank:frank.pub >quorum.json
quorum 3 alice:alice.pub bob:bob.pub carol:carol.pub dave:dave.pub erin:erin.pub frank:frank.pub >quorum3.json

# --- a request: a root certificate TBS -----------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout root.key \
	-out root.pem -days 3650 -subj "/C=GB/O=Example/CN=Example Root R1" \
	-addext "basicConstraints=critical,CA:TRUE,pathlen:1" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" \
	-addext "nameConstraints=critical,permitted;DNS:.example.com" \
	-addext "certificatePolicies=2.23.140.1.2.1" 2>/dev/null
check "mkrequest writes an init-ca request" $MK --action init-ca --quorum quorum.json --cert root.pem --out req.json
check "a second request for the same operation" $MK --action init-ca --quorum quorum.json --cert root.pem --out req2.json
digest=$(sha256 req.json)

# --- show ----------------------------------------------------------------
check "show" $TPA show req.json
cp "$T/.out" show.txt
show=$(cat show.txt)
like "$show" "Action: +init-ca" "show: the action"
like "$show" "Subject: +CN=Example Root R1,O=Example,C=GB" "show: the subject, RFC 4514 order"
like "$show" "Issuer: +CN=Example Root R1,O=Example,C=GB" "show: the issuer"
serial=$(openssl x509 -in root.pem -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/../&:/g; s/:$//')
like "$show" "Serial \(hex\): +$serial\$" "show: the serial matches openssl x509 -serial"
na=$(date -u -d "$(openssl x509 -in root.pem -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)
like "$show" "Not after: +$na \(3650 days\)" "show: notAfter matches openssl and the length in days"
like "$show" "Public key: +EC 384 bits \(secp384r1\)" "show: subject key type and size"
spki=$(openssl x509 -in root.pem -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
like "$show" "Key SPKI SHA-256: +$spki" "show: subject key SPKI SHA-256 matches openssl"
like "$show" "X509v3 Basic Constraints \(critical, 2.5.29.19\)" "show: basic constraints, critical"
like "$show" "CA:TRUE, pathlen:1" "show: basic constraints value"
like "$show" "X509v3 Name Constraints \(critical" "show: name constraints, critical"
like "$show" "DNS:.example.com" "show: the permitted subtree"
like "$show" "X509v3 Certificate Policies \(not critical" "show: policies, not critical"
like "$show" "Policy: 2.23.140.1.2.1" "show: the policy OID"
hex=$(sed -n '/^Request SHA-256/{n;p;n;p;}' show.txt | tr -d ' \n')
is "$hex" "$digest" "show: the digest (hex, grouped) is sha256sum of the request file"
like "$show" "Expires: .*\(in 2[34]h" "show: expiry, not expired"

check "show --json" $TPA show --json req.json
is "$(jq -r .request_sha256 "$T/.out")" "$digest" "show --json: request_sha256"
is "$(jq -r '.certificate.extensions | length' "$T/.out")" 6 "show --json: all six extensions"
is "$(jq -r '[.certificate.extensions[] | select(.critical) | .oid] | join(" ")' "$T/.out")" \
	"2.5.29.19 2.5.29.15 2.5.29.30" "show --json: the critical ones"
is "$(jq -r .expired "$T/.out")" false "show --json: not expired"

# The display comes from the TBS, never from the request's "summary".
sed 's/"subject": "CN=Example Root R1,O=Example,C=GB"/"subject": "CN=Innocent"/' req.json >lie.json
check "show a request whose summary lies" $TPA show lie.json
unlike "$(cat "$T/.out")" "Innocent" "show ignores the summary"
like "$(cat "$T/.out")" "Subject: +CN=Example Root R1" "show prints the TBS's subject"

# A fixed request (expired) with a known digest and its known words.
printf '%s\n' '{' '  "action": "revoke",' '  "ca": {' \
	'    "key": "pkcs11:token=Root;object=root-key",' \
	'    "spki_sha256": "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",' \
	'    "token_serial": "0123456789abcdef"' '  },' \
	'  "created": "2026-01-01T00:00:00Z",' '  "expires": "2026-01-02T00:00:00Z",' \
	'  "hsmca_approval_request": 1,' \
	'  "nonce": "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",' \
	'  "params": {},' \
	'  "quorum_sha256": "abababababababababababababababababababababababababababababababab",' \
	'  "summary": {},' \
	'  "tbs": "eyJyZWFzb24iOiJrZXlDb21wcm9taXNlIiwic2VyaWFsIjoiMDFhMmIzIn0=",' \
	'  "tbs_sha256": "a94973ec8996ae646b344ae56df46b71083535b28b018537ca707b9bccff7569",' \
	'  "tbs_type": "revocation"' '}' >fixed.json
is "$(sha256 fixed.json)" eacc40c5907682a95149e8e3ffdf3d3803e13b3b929d0c8bcda8b02f6229084a "the fixed request has the known digest"
check "show an expired revocation request" $TPA show fixed.json
cp "$T/.out" fixed.txt
words=$(sed -n '/^Request words/,$p' fixed.txt | sed 1d | tr '\n' ' ' | sed 's/^ *//; s/  */ /g; s/ $//')
is "$words" "Trojan revolver crackdown resistor peachy impetus miser passenger drunken dinosaur trauma torpedo Zulu therapist commence consulting acme tolerance clockwork councilman physique Ohio ammo Medusa spindle paramount ruffled combustion flagpole certify aimless direction" \
	"show: the PGP words of a known digest"
like "$(cat fixed.txt)" "EXPIRED" "show: an expired request says so"
like "$(cat fixed.txt)" '\{"reason":"keyCompromise","serial":"01a2b3"\}' "show: the revocation's canonical text"

# A CRL made by openssl ca: issuer, dates, number, entries.
mkdir -p crl
: >crl/index.txt
echo 1000 >crl/crlnumber
printf 'R\t361231000000Z\t260101000000Z,keyCompromise\t0ABC\tunknown\t/CN=leaf\n' >crl/index.txt
printf '[ca]\ndefault_ca = d\n[d]\ndatabase = crl/index.txt\ncrlnumber = crl/crlnumber\ndefault_md = sha256\ndefault_crl_days = 30\ncrl_extensions = e\n[e]\nauthorityKeyIdentifier = keyid\n' >crl.cnf
openssl ca -config crl.cnf -gencrl -keyfile root.key -cert root.pem -out root.crl -batch 2>/dev/null
check "mkrequest writes a gen-crl request" $MK --action gen-crl --quorum quorum.json --crl root.crl --out crlreq.json
check "show a CRL request" $TPA show crlreq.json
crlshow=$(cat "$T/.out")
like "$crlshow" "CRL number: +4096" "show CRL: the CRL number (0x1000)"
like "$crlshow" "Entries: +1" "show CRL: the number of entries"
like "$crlshow" "serial 0a:bc revoked 2026-01-01T00:00:00Z reason keyCompromise" "show CRL: the first entry"
nu=$(date -u -d "$(openssl crl -in root.crl -noout -nextupdate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)
like "$crlshow" "Next update: +$nu" "show CRL: nextUpdate matches openssl"
like "$crlshow" "Issuer: +CN=Example Root R1" "show CRL: the issuer"

# --- sign ----------------------------------------------------------------
check "alice signs (Ed25519 key file)" $TPA sign req.json --id alice --key alice.key --out alice.sig
like "$(cat "$T/.out")" "Request SHA-256: $digest" "sign shows the digest"
like "$(cat "$T/.out")" "Approving init-ca: certificate CN=Example Root R1" "sign shows the one-line summary"
check "bob signs (P-256 key file)" $TPA sign req.json --id bob --key bob.key --out bob.sig
check "carol signs (RSA-2048 key file)" $TPA sign req.json --id carol --key carol.key --out carol.sig
check "dave signs (encrypted P-384 key, --pass-source file:)" \
	$TPA sign req.json --id dave --key dave.key --pass-source file:dave.pass --out dave.sig
check "erin signs with a token key (pkcs11: URI, P-256)" \
	$TPA sign req.json --id erin --key "pkcs11:token=Appr;object=erin" --pin-source "$PINSRC" --out erin.sig
check "frank signs with a token key (pkcs11: URI, $FRANK)" \
	$TPA sign req.json --id frank --key "pkcs11:token=Appr;object=frank" --pin-source "$PINSRC" --out frank.sig --json
is "$(sed -n '/^{/,/^}/p' "$T/.out" | jq -r .request_sha256)" "$digest" "sign --json names the request digest"
is "$(jq -r '.algorithm + " " + .approver + " " + .request_sha256' bob.sig)" "ecdsa-sha256 bob $digest" "bob.sig: algorithm, approver, request digest"
is "$(jq -r .algorithm alice.sig) $(jq -r .algorithm carol.sig) $(jq -r .algorithm dave.sig) $(jq -r .algorithm erin.sig) $(jq -r .algorithm frank.sig)" \
	"ed25519 rsa-pkcs1-sha256 ecdsa-sha384 ecdsa-sha256 $FRANK_ALG" "algorithms follow the key types"

# Independent check of every signature with openssl.
printf 'hsmca-approval-v1:%s' "$digest" >msg.txt
eds=alice others="bob:sha256 carol:sha256 dave:sha384 erin:sha256"
if [ "$FRANK" = ed25519 ]; then eds="$eds frank"; else others="$others frank:sha256"; fi
for n in $eds; do
	sigbin $n.sig $n.bin
	check "openssl verifies $n's Ed25519 approval" openssl pkeyutl -verify -pubin -inkey $n.pub -rawin -in msg.txt -sigfile $n.bin
done
for n in $others; do
	sigbin ${n%%:*}.sig ${n%%:*}.bin
	check "openssl verifies ${n%%:*}'s approval (${n#*:})" openssl dgst -"${n#*:}" -verify ${n%%:*}.pub -signature ${n%%:*}.bin msg.txt
done

expect_fail 3 "1024 bits" "an RSA-1024 key is refused (exit 3)" \
	$TPA sign req.json --id eve --key weak.key --out weak.sig
expect_fail 3 "secp521r1" "a P-521 key is refused (exit 3)" \
	$TPA sign req.json --id eve --key p521.key --out p521.sig
expect_fail 3 "expired" "an expired request is refused (exit 3)" \
	$TPA sign fixed.json --id alice --key alice.key --out fixed-alice.sig
check "nothing written for refused signatures" test ! -e weak.sig -a ! -e p521.sig -a ! -e fixed-alice.sig
chmod 644 bob.key
expect_fail 3 "chmod 600" "a key file readable by others is refused (exit 3)" \
	$TPA sign req.json --id bob --key bob.key --out bob-b.sig
chmod 600 bob.key
printf 'wrong\n' >bad.pass
expect_fail 1 "wrong passphrase" "a wrong passphrase fails (exit 1)" \
	$TPA sign req.json --id dave --key dave.key --pass-source file:bad.pass --out dave-b.sig
expect_fail 2 "already exists" "an existing approval file is not overwritten (exit 2)" \
	$TPA sign req.json --id alice --key alice.key --out alice.sig
check "--force replaces it" $TPA sign req.json --id alice --key alice.key --out alice.sig --force
expect_fail 2 "needs --id" "sign without --id (exit 2)" $TPA sign req.json --key alice.key --out x.sig
expect_fail 2 "not both" "--pass-source and --pin-source together (exit 2)" \
	$TPA sign req.json --id alice --key alice.key --out x.sig --pass-source file:dave.pass --pin-source "$PINSRC"
expect_fail 2 "unknown subcommand" "an unknown subcommand (exit 2)" $TPA approve req.json
expect_fail 2 "for 'verify'" "--quorum given to show (exit 2)" $TPA show req.json --quorum quorum.json
expect_fail 2 "--id must be" "an --id with a space (exit 2)" \
	$TPA sign req.json --id "bad id" --key alice.key --out x.sig

# --- verify --------------------------------------------------------------
check "verify: exactly M (alice, bob)" $TPA verify req.json --quorum quorum.json alice.sig bob.sig
like "$(cat "$T/.out")" "^2 of 2 required approvals valid" "verify prints N of M"
like "$(cat "$T/.out")" "alice.sig: alice: valid" "verify prints one line per file"
check "verify: all six (more than M)" $TPA verify req.json --quorum quorum.json \
	alice.sig bob.sig carol.sig dave.sig erin.sig frank.sig
like "$(cat "$T/.out")" "^6 of 2 required approvals valid" "verify counts all six"
check "verify: token and file approvals together (erin, frank)" $TPA verify req.json --quorum quorum.json erin.sig frank.sig
expect_fail 3 "^1 of 2 required approvals valid" "verify: one short of M (exit 3)" \
	$TPA verify req.json --quorum quorum.json alice.sig
expect_fail 3 "counted once" "verify: the same approver twice counts once" \
	$TPA verify req.json --quorum quorum.json alice.sig alice.sig
check "mallory signs with her own key" $TPA sign req.json --id mallory --key mallory.key --out mallory.sig
expect_fail 3 'mallory.sig: mallory: INVALID: "mallory" is not an approver' "verify: an approver not in the quorum" \
	$TPA verify req.json --quorum quorum.json alice.sig mallory.sig
check "bob signs the other request" $TPA sign req2.json --id bob --key bob.key --out bob-req2.sig
expect_fail 3 "bob-req2.sig: bob: INVALID: approves a different request" "verify: a signature over a different request" \
	$TPA verify req.json --quorum quorum.json alice.sig bob-req2.sig
head -c 100 bob.sig >trunc.sig
expect_fail 3 "trunc.sig: -: INVALID: .*not valid JSON" "verify: a truncated approval file" \
	$TPA verify req.json --quorum quorum.json alice.sig trunc.sig
expect_fail 3 "quorum: the request was prepared for quorum SHA-256" "verify: a swapped quorum file" \
	$TPA verify req.json --quorum quorum3.json alice.sig bob.sig carol.sig

# One byte of the TBS changed (hash fixed up): a valid request, not the approved one.
jq -r .tbs req.json | base64 -d >tbs.der
len=$(stat -c %s tbs.der)
last=$(tail -c 1 tbs.der | od -An -tu1 | tr -d ' ')
{ head -c $((len - 1)) tbs.der; printf "\\$(printf %o $(((last + 1) % 256)))"; } >tbs2.der
sed -e "s|$(jq -r .tbs req.json)|$(base64 -w0 tbs2.der)|" -e "s|$(jq -r .tbs_sha256 req.json)|$(sha256 tbs2.der)|" req.json >edited.json
check "the edited request still shows" $TPA show edited.json
expect_fail 3 "approves a different request" "verify: a request edited after signing (one TBS byte)" \
	$TPA verify edited.json --quorum quorum.json alice.sig bob.sig
sed "s|$(jq -r .tbs req.json)|$(base64 -w0 tbs2.der)|" req.json >edited-nohash.json
expect_fail 3 "do not match" "a TBS changed without its hash is refused" $TPA show edited-nohash.json

check "verify --json" $TPA verify --json req.json --quorum quorum.json alice.sig bob.sig mallory.sig
is "$(jq -r '"\(.valid) \(.threshold) \(.threshold_met) \(.approved_by | join(","))"' "$T/.out")" \
	"2 2 true alice,bob" "verify --json: valid, threshold, approvers"

# check-key: each approver's key, before a ceremony relies on it.
check "check-key: alice's key file" $TPA check-key --quorum quorum.json --id alice --key alice.key --json
is "$(jq -r '"\(.approver) \(.matches) \(.spki_sha256)"' "$T/.out")" \
	"alice true $(openssl pkey -pubin -in alice.pub -outform DER | sha256sum | cut -d' ' -f1)" \
	"check-key --json: the approver and the quorum's fingerprint of the key"
check "check-key: dave's encrypted key file with its passphrase" \
	$TPA check-key --quorum quorum.json --id dave --key dave.key --pass-source file:dave.pass
check "check-key: erin's key on a token" \
	$TPA check-key --quorum quorum.json --id erin --key "pkcs11:token=Appr;object=erin" --pin-source "$PINSRC"
expect_fail 3 "is not the key the quorum file lists for bob" "check-key: another approver's key is refused (exit 3)" \
	$TPA check-key --quorum quorum.json --id bob --key alice.key
expect_fail 3 "\"mallory\" is not an approver" "check-key: an id not in the quorum is refused (exit 3)" \
	$TPA check-key --quorum quorum.json --id mallory --key mallory.key
printf 'wrong passphrase\n' >wrong.pass
expect_fail 1 "dave.key" "check-key: a wrong passphrase fails (exit 1)" \
	$TPA check-key --quorum quorum.json --id dave --key dave.key --pass-source file:wrong.pass
expect_fail 2 "needs --quorum, --id and --key" "check-key without --id (exit 2)" \
	$TPA check-key --quorum quorum.json --key alice.key
expect_fail 2 "unexpected argument" "check-key takes no request (exit 2)" \
	$TPA check-key req.json --quorum quorum.json --id alice --key alice.key

# Quorum files that are refused outright.
sed 's/"threshold": 2/"threshold": 0/' quorum.json >q0.json
expect_fail 3 "threshold 0 is out of range" "verify: a quorum with M = 0" $TPA verify req.json --quorum q0.json alice.sig
sed 's/"threshold": 2/"threshold": 7/' quorum.json >q7.json
expect_fail 3 "threshold 7 is out of range" "verify: a quorum with M > N" $TPA verify req.json --quorum q7.json alice.sig
quorum 1 alice:alice.pub weak:weak.pub >qweak.json
expect_fail 3 "1024 bits is refused" "verify: a quorum with an RSA-1024 key" $TPA verify req.json --quorum qweak.json alice.sig
printf 'threshold: 2\n' >qyaml.json
expect_fail 3 "not valid JSON" "verify: a quorum file that is not JSON" $TPA verify req.json --quorum qyaml.json alice.sig

done_testing
