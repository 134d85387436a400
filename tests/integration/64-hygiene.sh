#!/bin/sh
# A CA directory someone else could change, a ca.json of the wrong shape,
# a module ca.json names outside the system's library directories, and
# hostile requests (names with control characters, too many SANs or
# RDNs, huge attributes, csr_file symlinks and FIFOs): all refused.
# hsmca-test: token
. "$HSMCA_TOP/tests/lib.sh"

root_ca ec:p256 "CN=Hygiene Root,O=Example"
issuing_ca "CN=Hygiene Issuing CA,O=Example"
leaf() { hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" "$@"; }
count() { sqlite3 issuing/ca.db "select count(*) from certs where kind = 'leaf'"; }
csr() { # NAME [openssl req args...]
	_c=$1
	shift
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$_c.key" -out "$_c.csr" "$@" 2>/dev/null
}
csr good -subj "/CN=good.example.com"
check "a leaf from a sound CA directory" leaf --csr good.csr --out good0.crt
n0=$(count)

# --- The CA directory and its files: ours, writable by nobody else.
chmod 0777 issuing
expect_fail 3 "issuing is writable by group or others \(mode 0777\).*chmod go-w issuing" \
	"a 0777 CA directory is refused, with the chmod that fixes it" leaf --force-issue --csr good.csr --out d1.crt
expect_fail 3 "chmod go-w issuing" "hsmca-audit refuses it too" hsmca-audit --ca issuing verify
chmod 0700 issuing
chmod 0666 issuing/ca.json
expect_fail 3 "issuing/ca.json is writable by group or others \(mode 0666\).*chmod go-w issuing/ca.json" \
	"a 0666 ca.json is refused" leaf --force-issue --csr good.csr --out d2.crt
chmod 0644 issuing/ca.json
chmod 0664 issuing/ca.db
expect_fail 3 "issuing/ca.db is writable by group or others" "a group-writable ca.db is refused" \
	leaf --force-issue --csr good.csr --out d3.crt
chmod 0600 issuing/ca.db
me=$(id -u)
if [ "$me" -eq 0 ]; then
	# Run as root here: the directory is given to nobody (65534).
	chown 65534 issuing
	expect_fail 3 "issuing is owned by uid 65534, not by you \(uid 0\).*chown 0 issuing" \
		"a CA directory owned by another user is refused, with the chown" leaf --force-issue --csr good.csr --out d4.crt
	chown 0 issuing
	chown 65534 issuing/ca.json
	expect_fail 3 "issuing/ca.json is owned by uid 65534" "a ca.json owned by another user is refused" \
		leaf --force-issue --csr good.csr --out d5.crt
	chown 0 issuing/ca.json
else
	skip "a CA directory owned by another user is refused, with the chown" "not root: cannot chown"
	skip "a ca.json owned by another user is refused" "not root: cannot chown"
fi
# (--force-issue: the key of good.csr was certified above; nothing but
# the directory stands in the way.)
is "$(count)" "$n0" "nothing issued from a directory someone else could change"
for f in ca.json ca.crt ca.db; do
	m=$(stat -c %a "issuing/$f")
	case "$m" in *[2367]? | *[2367]) notok "init-ca made $f writable by others ($m)" ;; *) ok "init-ca made $f with mode $m" ;; esac
done
is "$(stat -c %a issuing)" 700 "init-ca made the CA directory 0700"

# --- ca.json: a strict schema, the key named in every refusal.
cp issuing/ca.json ca.json.good
setjson() { # PYTHON-STATEMENT on c (the ca.json object)
	python3 - "$1" <<'PY'
import json, sys
c = json.load(open("issuing/ca.json"))
exec(sys.argv[1])
json.dump(c, open("issuing/ca.json", "w"), indent=2)
PY
}
restore() { cp ca.json.good issuing/ca.json; }
setjson 'c["crl_urls"] = "http://crl.example.com/x.crl"'
expect_fail 2 "'crl_urls' must be a list of URLs, not a string" "crl_urls as a string is refused" \
	leaf --force-issue --csr good.csr --out j1.crt
restore
setjson 'c["aia_urls"] = 7'
expect_fail 2 "'aia_urls' must be a list of URLs, not an integer" "aia_urls = 7 is refused" \
	leaf --force-issue --csr good.csr --out j2.crt
restore
setjson 'c["policies"] = {}'
expect_fail 2 "'policies' must be a list of dotted OIDs, not an object" "policies = {} is refused" \
	leaf --force-issue --csr good.csr --out j3.crt
restore
setjson 'c["profiles"] = {"web": {"ekus": "serverAuth", "max_days": 90}}'
expect_fail 2 "profile web: 'ekus' must be a list" "a profile's ekus as a string is refused" \
	leaf --force-issue --csr good.csr --out j4.crt
restore
setjson 'c["profiles"] = {"web": {"ekus": ["serverAuht"], "max_days": 90}}'
expect_fail 2 "profile web: unknown EKU 'serverAuht'" "an unknown EKU name is refused when the CA is opened" \
	leaf --force-issue --csr good.csr --out j5.crt
restore
setjson 'c["crl_urls"] = ["crl.example.com/x.crl"]'
expect_fail 2 "'crl_urls' item 1 'crl.example.com/x.crl' is not an absolute URI" "a URL without a scheme is refused" \
	leaf --force-issue --csr good.csr --out j6.crt
restore
setjson 'c["policies"] = ["1.2..3"]'
expect_fail 2 "'policies' item 1 '1.2..3' is not a dotted OID" "a malformed policy OID is refused" \
	leaf --force-issue --csr good.csr --out j7.crt
restore
setjson 'c["spki_sha256"] = 12'
expect_fail 2 "'spki_sha256' must be 64 lowercase hexadecimal digits" "a number where a digest is due is refused" \
	leaf --force-issue --csr good.csr --out j8.crt
restore
setjson 'c["crl_url"] = ["http://crl.example.com/x.crl"]'
expect_fail 2 "unknown key 'crl_url'" "an unknown key is refused" leaf --force-issue --csr good.csr --out j9.crt
restore
setjson 'c["default_profile"] = "nosuch"'
expect_fail 2 "unknown profile 'nosuch'" "a default_profile that names no profile is refused" \
	leaf --force-issue --csr good.csr --out j10.crt
restore
is "$(count)" "$n0" "nothing issued under a malformed ca.json"
check "the restored ca.json is accepted" leaf --force-issue --csr good.csr --out j11.crt

# --- The module ca.json names: from a system library directory, a
# p11-kit module name, or given explicitly.
mod=$(python3 -c 'import json; print(json.load(open("issuing/ca.json")).get("module", ""))')
cp "$mod" "$T/evil.so"
setjson "c['module'] = '$T/evil.so'"
expect_fail 3 "names the PKCS#11 module $T/evil.so, which is not in a system library directory.*--module $T/evil.so or HSMCA_MODULE" \
	"a module in ca.json outside the system's library directories is refused" \
	env HSMCA_MODULE= hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" --csr good.csr --out m1.crt
check "the same module given explicitly (--module) is used" \
	env HSMCA_MODULE= hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" --csr good.csr --out m2.crt --module "$T/evil.so"
restore
check "a module in a system library directory is loaded from ca.json" \
	env HSMCA_MODULE= hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" --csr good.csr --out m3.crt

# --- Requests: names without control characters, caps on SANs, subject
# attributes and their lengths, the same on every path.
# mkcsr OUT [cn=TEXT] [ou=LEN] [attrs=N] [sans=N]: a CSR (PEM) made with
# python3-cryptography, which writes what openssl req cannot.
mkcsr() {
	python3 - "$@" <<'PY'
import sys
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import hashes, serialization
out, args = sys.argv[1], dict(a.split("=", 1) for a in sys.argv[2:])
cn = args.get("cn", "req.example.com").encode().decode("unicode_escape")
attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn, _validate=False)]
if "ou" in args:
    attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "u" * int(args["ou"]), _validate=False))
for i in range(int(args.get("attrs", "1")) - 1):
    attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "u%d" % i))
b = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attrs))
n = int(args.get("sans", "0"))
if n:
    b = b.add_extension(x509.SubjectAlternativeName(
        [x509.DNSName("h%d.ex" % i) for i in range(n)]), critical=False)
csr = b.sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
open(out, "wb").write(csr.public_bytes(serialization.Encoding.PEM))
PY
}
# inline REQUESTS cn|sans CSR: tls.json with the CSR inline
# (base64_csr_data), named by a common_name (the CSR's SANs are used) or
# by sans (the CSR's subject is kept).
inline() {
	python3 - "$@" <<'PY'
import base64, json, sys
req = {"base64_csr_data": base64.b64encode(open(sys.argv[3], "rb").read()).decode(),
       "purposes": ["server_auth"]}
if sys.argv[2] == "cn":
    req["common_name"] = "req.example.com"
else:
    req["sans"] = ["req.example.com"]
json.dump([req], open(sys.argv[1], "w"))
PY
}
ESC=$(printf '\033')
n1=$(count)
mkcsr nul.csr 'cn=evil.example\x00.com'
expect_fail 3 "lint: subject CN 'evil.example\\\\x00.com' has a control character" \
	"a CN with an embedded NUL is refused, not truncated into a SAN" leaf --csr nul.csr --out nul.crt
mkcsr esc.csr 'cn=\x1b]2;owned\x07x.example.com'
expect_fail 3 "subject CN '\\\\x1b\\]2;owned\\\\x07x.example.com' has a control character" \
	"a CN with a terminal escape sequence is refused" leaf --csr esc.csr --out esc.crt --san dns:req.example.com
if grep -q "$ESC" "$T/.out"; then notok "the refusal shows the CN escaped, no raw ESC"; else ok "the refusal shows the CN escaped, no raw ESC"; fi
mkcsr ou.csr ou=40960
expect_fail 3 "subject OU is 40960 bytes long: at most 64 characters" "a 40 KB OU is refused" \
	leaf --csr ou.csr --out ou.crt --san dns:req.example.com
mkcsr rdns.csr attrs=2000
expect_fail 3 "subject has 2000 attributes: at most 30" "2,000 subject attributes are refused" \
	leaf --csr rdns.csr --out rdns.crt --san dns:req.example.com
mkcsr san150.csr sans=150
expect_fail 3 "150 subject alternative names: at most 100" "a CSR file with 150 SANs is refused" \
	leaf --csr san150.csr --out san150.crt
mkdir csrs out0 out1 out2 out3 out4 out5
cp good.csr csrs/good.csr
inline in150.json cn san150.csr
expect_fail 3 "150 subject alternative names: at most 100" "the same CSR inline in tls.json: the same cap" \
	leaf --requests in150.json --csr-dir csrs --out-dir out0
mkcsr san10k.csr sans=10000
inline in10k.json cn san10k.csr
expect_fail 3 "base64_csr_data: decodes to [0-9]+ bytes, more than a CSR may have \(65536\)" \
	"a 10,000-SAN CSR inline in tls.json is refused (the cap of a CSR file)" \
	leaf --requests in10k.json --csr-dir csrs --out-dir out1
cp san10k.csr csrs/san10k.csr
printf '[{"csr_file": "san10k.csr", "common_name": "req.example.com", "purposes": ["server_auth"]}]' >file10k.json
expect_fail 3 "larger than 65536 bytes" "the same CSR as a file: refused by the same cap" \
	leaf --requests file10k.json --csr-dir csrs --out-dir out2
inline innul.json sans nul.csr
expect_fail 3 "subject CN 'evil.example\\\\x00.com' has a control character" \
	"a NUL CN inline in tls.json is refused" leaf --requests innul.json --csr-dir csrs --out-dir out3
csr cnesc -subj "/CN=cnesc.example.com"
cp cnesc.csr csrs/
printf '[{"csr_file": "cnesc.csr", "common_name": "a\\u001b[2Jb.example.com", "sans": ["good.example.com"], "purposes": ["server_auth"]}]' >cnesc.json
expect_fail 3 "has a control character" "a common_name with an escape in tls.json is refused" \
	leaf --requests cnesc.json --csr-dir csrs --out-dir out4
if grep -q "$ESC" "$T/.out"; then notok "tls.json refusal printed without a raw ESC"; else ok "tls.json refusal printed without a raw ESC"; fi
csr nosan -subj "/CN=nosan"
cp nosan.csr csrs/
printf '[{"csr_file": "nosan.csr", "common_name": "x\\u001b]2;owned\\u0007", "purposes": ["server_auth"]}]' >nosan.json
expect_fail 3 "x\\\\x1b\\]2;owned\\\\x07: no subject alternative name" \
	"a refusal for another reason shows the request's common_name escaped" \
	leaf --requests nosan.json --csr-dir csrs --out-dir out5
if grep -q "$ESC" "$T/.out"; then notok "... with no raw ESC on the terminal"; else ok "... with no raw ESC on the terminal"; fi
hsmca-audit --ca issuing log >auditlog.txt 2>&1
if grep -q "$ESC" auditlog.txt; then notok "hsmca-audit log prints no raw ESC"; else ok "hsmca-audit log prints no raw ESC"; fi
is "$(count)" "$n1" "no hostile request issued"

# --- csr_file: regular files inside --csr-dir, never followed out of it
# or blocked on.
mkdir batch outb
csr inside -subj "/CN=inside.example.com" -addext "subjectAltName=DNS:inside.example.com"
cp inside.csr batch/inside.csr
csr outside -subj "/CN=outside.example.com" -addext "subjectAltName=DNS:outside.example.com"
ln -s ../outside.csr batch/link.csr
mkdir elsewhere
cp outside.csr elsewhere/o.csr
ln -s ../elsewhere batch/sub
mkfifo batch/fifo.csr
cat >links.json <<'JSON'
[
  {"csr_file": "inside.csr", "common_name": "inside.example.com", "purposes": ["server_auth"]},
  {"csr_file": "link.csr", "common_name": "link.example.com", "purposes": ["server_auth"]},
  {"csr_file": "sub/o.csr", "common_name": "sub.example.com", "purposes": ["server_auth"]},
  {"csr_file": "fifo.csr", "common_name": "fifo.example.com", "purposes": ["server_auth"]}
]
JSON
n2=$(count)
# A FIFO with no writer: opened without blocking and refused, so the run
# ends by itself (a blocking open would hang here).
expect_exit 3 "a batch with a symlink out of --csr-dir and a FIFO ends, exit 3 (some refused)" \
	leaf --requests links.json --csr-dir batch --out-dir outb
cp "$T/.out" links.out
like "$(cat links.out)" "link.csr leads to .*/outside.csr, outside --csr-dir batch: refused" \
	"a csr_file symlink out of --csr-dir is refused"
like "$(cat links.out)" "sub/o.csr leads to .*/elsewhere/o.csr, outside --csr-dir batch: refused" \
	"a csr_file under a symlinked directory out of --csr-dir is refused"
like "$(cat links.out)" "fifo.csr is not a regular file: refused" "a FIFO csr_file is refused, not waited on"
is "$(count)" "$((n2 + 1))" "only the regular file inside --csr-dir was issued"
check "the certificate of the regular file" openssl x509 -in outb/inside.crt -noout
ln -s inside.csr batch/inlink.csr
printf '[{"csr_file": "inlink.csr", "common_name": "inlink.example.com", "purposes": ["server_auth"]}]' >inlink.json
expect_fail 3 "inlink.csr is a symbolic link: refused" "a symlink even within --csr-dir is not followed (O_NOFOLLOW)" \
	leaf --requests inlink.json --csr-dir batch --out-dir outb
expect_fail 3 "fifo.csr is not a regular file" "--csr naming a FIFO is refused too" leaf --csr batch/fifo.csr --out f.crt
done_testing
