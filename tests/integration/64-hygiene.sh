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
	"a 0777 CA directory is refused, with the chmod that fixes it" leaf --csr good.csr --out d1.crt
expect_fail 3 "chmod go-w issuing" "hsmca-audit refuses it too" hsmca-audit --ca issuing verify
chmod 0700 issuing
chmod 0666 issuing/ca.json
expect_fail 3 "issuing/ca.json is writable by group or others \(mode 0666\).*chmod go-w issuing/ca.json" \
	"a 0666 ca.json is refused" leaf --csr good.csr --out d2.crt
chmod 0644 issuing/ca.json
chmod 0664 issuing/ca.db
expect_fail 3 "issuing/ca.db is writable by group or others" "a group-writable ca.db is refused" \
	leaf --csr good.csr --out d3.crt
chmod 0600 issuing/ca.db
me=$(id -u)
if [ "$me" -eq 0 ]; then
	# Run as root here: the directory is given to nobody (65534).
	chown 65534 issuing
	expect_fail 3 "issuing is owned by uid 65534, not by you \(uid 0\).*chown 0 issuing" \
		"a CA directory owned by another user is refused, with the chown" leaf --csr good.csr --out d4.crt
	chown 0 issuing
	chown 65534 issuing/ca.json
	expect_fail 3 "issuing/ca.json is owned by uid 65534" "a ca.json owned by another user is refused" \
		leaf --csr good.csr --out d5.crt
	chown 0 issuing/ca.json
else
	skip "a CA directory owned by another user is refused, with the chown" "not root: cannot chown"
	skip "a ca.json owned by another user is refused" "not root: cannot chown"
fi
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
	leaf --csr good.csr --out j1.crt
restore
setjson 'c["aia_urls"] = 7'
expect_fail 2 "'aia_urls' must be a list of URLs, not an integer" "aia_urls = 7 is refused" \
	leaf --csr good.csr --out j2.crt
restore
setjson 'c["policies"] = {}'
expect_fail 2 "'policies' must be a list of dotted OIDs, not an object" "policies = {} is refused" \
	leaf --csr good.csr --out j3.crt
restore
setjson 'c["profiles"] = {"web": {"ekus": "serverAuth", "max_days": 90}}'
expect_fail 2 "profile web: 'ekus' must be a list" "a profile's ekus as a string is refused" \
	leaf --csr good.csr --out j4.crt
restore
setjson 'c["profiles"] = {"web": {"ekus": ["serverAuht"], "max_days": 90}}'
expect_fail 2 "profile web: unknown EKU 'serverAuht'" "an unknown EKU name is refused when the CA is opened" \
	leaf --csr good.csr --out j5.crt
restore
setjson 'c["crl_urls"] = ["crl.example.com/x.crl"]'
expect_fail 2 "'crl_urls' item 1 'crl.example.com/x.crl' is not an absolute URI" "a URL without a scheme is refused" \
	leaf --csr good.csr --out j6.crt
restore
setjson 'c["policies"] = ["1.2..3"]'
expect_fail 2 "'policies' item 1 '1.2..3' is not a dotted OID" "a malformed policy OID is refused" \
	leaf --csr good.csr --out j7.crt
restore
setjson 'c["spki_sha256"] = 12'
expect_fail 2 "'spki_sha256' must be 64 lowercase hexadecimal digits" "a number where a digest is due is refused" \
	leaf --csr good.csr --out j8.crt
restore
setjson 'c["crl_url"] = ["http://crl.example.com/x.crl"]'
expect_fail 2 "unknown key 'crl_url'" "an unknown key is refused" leaf --csr good.csr --out j9.crt
restore
setjson 'c["default_profile"] = "nosuch"'
expect_fail 2 "unknown profile 'nosuch'" "a default_profile that names no profile is refused" \
	leaf --csr good.csr --out j10.crt
restore
is "$(count)" "$n0" "nothing issued under a malformed ca.json"
check "the restored ca.json is accepted" leaf --csr good.csr --out j11.crt

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
done_testing
