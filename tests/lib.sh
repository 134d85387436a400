# Shared helpers for integration tests (POSIX sh). Source it first:
#   . "$HSMCA_TOP/tests/lib.sh"
# Each test gets a fresh temporary directory ($T) and its own tokens on the
# PKCS#11 module HSMCA_TEST_TOKEN selects (tests/tokens/NAME.sh): softhsm
# (the default), tpm (tpm2-pkcs11 over swtpm) or nss (NSS softokn). Tokens
# are created by label (new_token) and selected by label.
# The CAs root_ca and issuing_ca create keep their state in the store
# HSMCA_TEST_STORE selects: sqlite (the default, ca.db) or postgresql (a
# new database on the cluster of tests/tokens/pg.sh for each CA); store_sql
# reads and changes either.
set -u
: "${HSMCA_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${HSMCA_BUILD:=$HSMCA_TOP/build}"
: "${HSMCA_TEST_TOKEN:=softhsm}"
: "${HSMCA_TEST_STORE:=sqlite}"
BIN=$HSMCA_BUILD/bin
PROVDIR=$HSMCA_BUILD/lib
PATH=$BIN:$PATH
export PATH

T=$(mktemp -d "${TMPDIR:-/tmp}/hsmca-test.XXXXXX")
umask 077
PIN=1234
SOPIN=87654321
case "$HSMCA_TEST_TOKEN" in
softhsm | tpm | nss) . "$HSMCA_TOP/tests/tokens/$HSMCA_TEST_TOKEN.sh" ;;
*)
	echo "Bail out! HSMCA_TEST_TOKEN=$HSMCA_TEST_TOKEN: use softhsm, tpm or nss"
	exit 1
	;;
esac
case "$HSMCA_TEST_STORE" in
sqlite) ;;
postgresql) . "$HSMCA_TOP/tests/tokens/pg.sh" ;;
*)
	echo "Bail out! HSMCA_TEST_STORE=$HSMCA_TEST_STORE: use sqlite or postgresql"
	exit 1
	;;
esac
printf '%s\n' "$PIN" >"$T/pin"
chmod 600 "$T/pin"
PINSRC="file:$T/pin"
cd "$T" || exit 1

# Under the sanitizer build, the stock openssl binary loads our ASan module.
OPENSSL="openssl"
if [ "${HSMCA_SAN:-0}" = 1 ]; then
	_asan=$(${CC:-cc} -print-file-name=libasan.so)
	_ubsan=$(${CC:-cc} -print-file-name=libubsan.so)
	OPENSSL="env LD_PRELOAD=$_asan:$_ubsan ASAN_OPTIONS=detect_leaks=0:detect_odr_violation=0 openssl"
fi

_n=0
_failed=0
PG_OWN_SERVER=""
cleanup() {
	token_teardown
	[ -n "$PG_OWN_SERVER" ] && pg_server_stop "$PG_OWN_SERVER" && rm -rf "$PG_OWN_SERVER"
	if [ "${KEEP:-0}" = 1 ]; then
		echo "# kept $T" >&2
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
# A reader that goes away (sh test | head) must not leave daemons behind.
trap 'exit 1' INT TERM HUP PIPE
token_setup
if [ "$HSMCA_TEST_STORE" = postgresql ] && [ -z "${HSMCA_TEST_PG_HOST:-}" ]; then
	# A suite run on its own: a server of its own (not in $T, which the
	# server's OS user may not enter), stopped in cleanup.
	PG_OWN_SERVER=$(mktemp -d "${TMPDIR:-/tmp}/hsmca-pg.XXXXXX")
	pg_server_start "$PG_OWN_SERVER" || {
		echo "Bail out! cannot start PostgreSQL (see $PG_OWN_SERVER)"
		exit 1
	}
fi
# pkcs11-tool on this test's module: the independent view of the token.
P11TOOL="pkcs11-tool --module $P11TOOL_MODULE"

ok() {
	_n=$((_n + 1))
	echo "ok $_n - $1"
}
notok() {
	_n=$((_n + 1))
	_failed=$((_failed + 1))
	echo "not ok $_n - $1"
	shift
	for _l in "$@"; do echo "#   $_l"; done
}
diag() { echo "# $*"; }
skip() {
	_n=$((_n + 1))
	echo "ok $_n - $1 # SKIP $2"
}

# check DESC CMD...: passes when CMD exits 0.
check() {
	_d=$1
	shift
	if "$@" >"$T/.out" 2>&1; then ok "$_d"; else notok "$_d" "command: $*" "$(tail -n 5 "$T/.out")"; fi
}
# expect_exit CODE DESC CMD...: passes when CMD exits with CODE; output in $T/.out
expect_exit() {
	_code=$1
	_d=$2
	shift 2
	"$@" >"$T/.out" 2>&1
	_rc=$?
	if [ "$_rc" -eq "$_code" ]; then ok "$_d"; else notok "$_d" "expected exit $_code, got $_rc: $*" "$(tail -n 5 "$T/.out")"; fi
}
# expect_fail CODE PATTERN DESC CMD...: exit CODE and a message matching PATTERN (grep -E).
expect_fail() {
	_code=$1
	_pat=$2
	_d=$3
	shift 3
	"$@" >"$T/.out" 2>&1
	_rc=$?
	if [ "$_rc" -ne "$_code" ]; then
		notok "$_d" "expected exit $_code, got $_rc: $*" "$(tail -n 5 "$T/.out")"
	elif ! grep -qE -- "$_pat" "$T/.out"; then
		notok "$_d" "message does not match /$_pat/:" "$(tail -n 5 "$T/.out")"
	else
		ok "$_d"
	fi
}
# is GOT WANT DESC
is() {
	if [ "$1" = "$2" ]; then ok "$3"; else notok "$3" "got:  '$1'" "want: '$2'"; fi
}
# like TEXT PATTERN DESC (grep -E)
like() {
	if printf '%s\n' "$1" | grep -qE -- "$2"; then ok "$3"; else notok "$3" "'$1'" "does not match /$2/"; fi
}
unlike() {
	if printf '%s\n' "$1" | grep -qE -- "$2"; then notok "$3" "'$1'" "matches /$2/"; else ok "$3"; fi
}

# new_token LABEL (tests/tokens/*.sh): a fresh token with user PIN $PIN.
# token_lacks FEATURE (tests/tokens/*.sh): prints why this module cannot do
# FEATURE (ed25519, rsa4096, p521, libp11, serial, pin-lock, pss-salt) and
# succeeds, or fails when it can. For skips:
#   if why=$(token_lacks ed25519); then skip "..." "$why"; else ...; fi
# type_lacks TYPE: like token_lacks, for a key type of hsmca-keygen
# (rsa:4096, ec:p521, ed25519...).
type_lacks() {
	case "$1" in
	rsa:4096 | rsa4096) token_lacks rsa4096 ;;
	ec:p521 | p521 | EC:secp521r1) token_lacks p521 ;;
	ed25519 | EC:edwards25519) token_lacks ed25519 ;;
	*) return 1 ;;
	esac
}
# keygen LABEL OBJECT TYPE [extra args]: a key on token LABEL (PIN from $PINSRC).
keygen() {
	_tok=$1
	_obj=$2
	_type=$3
	shift 3
	hsmca-keygen --token "pkcs11:token=$_tok" --label "$_obj" --type "$_type" --pin-source "$PINSRC" "$@"
}
# store_url: with HSMCA_TEST_STORE=postgresql, the URL of a new database
# (named after the suite, its PID and a count), else nothing.
store_url() {
	[ "$HSMCA_TEST_STORE" = postgresql ] || return 0
	_sn=$(($(cat "$T/.store-count" 2>/dev/null || echo 0) + 1))
	echo "$_sn" >"$T/.store-count"
	_sname=$(basename "$0" .sh | tr -c 'a-z0-9\n' _ | cut -c 1-40)
	pg_new_db "t_${_sname}_$$_$_sn"
}
# store_opt: hsmca-init-ca's arguments for the store HSMCA_TEST_STORE
# selects (--store URL, a new database each time), or nothing for sqlite.
store_opt() {
	_su=$(store_url) || return 1
	[ -z "$_su" ] || echo "--store $_su"
}
# store_sql CADIR SQL: run SQL on the CA's store (its ca.json's "store",
# else CADIR/ca.db) and print the rows as sqlite3 does: columns joined by
# '|', a row a line.
store_sql() {
	_su=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("store", ""))' "$1/ca.json") ||
		return 1
	case "$_su" in
	postgresql:* | postgres:*) psql "$_su" -X -A -t -F'|' -q -v ON_ERROR_STOP=1 -c "$2" ;;
	*) sqlite3 "$1/ca.db" "$2" ;;
	esac
}
# store_init CMD...: run CMD (hsmca-init-ca and its arguments) with
# --store URL added when the store is postgresql.
store_init() {
	_su=$(store_url) || return 1
	if [ -n "$_su" ]; then "$@" --store "$_su"; else "$@"; fi
}
# root_ca TYPE DN [init-ca args]: a self-signed root CA in root/ for 10
# years, its key root-key of TYPE on a new token Root.
root_ca() {
	_type=$1
	_dn=$2
	shift 2
	new_token Root
	keygen Root root-key "$_type" >/dev/null
	store_init hsmca-init-ca --ca root --key "pkcs11:token=Root;object=root-key" --pin-source "$PINSRC" \
		--self-sign --subject "$_dn" --days 3650 "$@" >/dev/null
}
# issuing_ca DN [init-ca args]: an issuing CA in issuing/ signed by root/
# for 5 years (issuing.csr, issuing.crt), its P-256 key issuing-key on a new
# token Issuing, CRL URL http://crl.example.com/issuing.crl.
issuing_ca() {
	_dn=$1
	shift
	new_token Issuing
	keygen Issuing issuing-key ec:p256 --csr issuing.csr --subject "$_dn" >/dev/null
	hsmca-sign-subca --ca root --pin-source "$PINSRC" --csr issuing.csr --days 1825 --out issuing.crt >/dev/null
	store_init hsmca-init-ca --ca issuing --key "pkcs11:token=Issuing;object=issuing-key" --pin-source "$PINSRC" \
		--cert issuing.crt --chain root/ca.crt --crl-url http://crl.example.com/issuing.crl "$@" >/dev/null ||
		notok "issuing CA created"
}
# write_quorum FILE THRESHOLD ID:PUBFILE...: a quorum file ("ID Example"
# names in title case).
write_quorum() {
	_f=$1
	_m=$2
	shift 2
	python3 - "$_f" "$_m" "$@" <<'PY'
import json, sys
f, m = sys.argv[1], int(sys.argv[2])
apps = []
for a in sys.argv[3:]:
    i, p = a.split(':')
    apps.append({"id": i, "name": i.title() + " Example", "public_key": open(p).read()})
json.dump({"version": 1, "threshold": m, "approvers": apps}, open(f, "w"), indent=2)
PY
}
# nss_db NAME...: an NSS database sql:nss trusting root/ca.crt, with
# issuing.crt and NAME.crt for each NAME.
nss_db() {
	mkdir nss
	certutil -N -d sql:nss --empty-password
	certutil -A -d sql:nss -n root -t "CT,C,C" -i root/ca.crt
	certutil -A -d sql:nss -n issuing -t ",," -i issuing.crt
	for _c in "$@"; do certutil -A -d sql:nss -n "$_c" -t ",," -i "$_c.crt"; done
}
# ossl_prov: openssl arguments that load our provider before the default one
# (after it where the module cannot work that way: token_lacks hsmca-first).
ossl_prov() {
	if token_lacks hsmca-first >/dev/null; then
		echo "-provider-path $PROVDIR -provider default -provider hsmca"
	else
		echo "-provider-path $PROVDIR -provider hsmca -provider default"
	fi
}

# sigalg_der CERT: the certificate's signatureAlgorithm (after the TBS), DER hex.
sigalg_der() {
	openssl x509 -in "$1" -outform DER -out "$1.der" && python3 - "$1.der" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
def tlv(i):
    n = d[i + 1]
    j = i + 2
    if n & 0x80:
        k = n & 0x7f
        n = int.from_bytes(d[j:j + k], "big")
        j += k
    return j, n
cs, _ = tlv(0)
ts, tl = tlv(cs)
i = ts + tl
ss, sl = tlv(i)
print(d[i:ss + sl].hex())
PY
}

# sha256 FILE: hex digest
sha256() { sha256sum "$1" | cut -d' ' -f1; }

# done_testing: print the plan (TAP allows it last) and the status.
done_testing() {
	echo "1..$_n"
	[ "$_failed" -eq 0 ]
}
