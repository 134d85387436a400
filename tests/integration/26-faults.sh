#!/bin/sh
# hsmca on the tokens of the field, played by tests/faultp11.so over
# SoftHSM: each fault of the module's configuration under hsmca-sign-leaf
# (a batch), hsmca-init-ca or hsmca-gen-crl. Each run issues correctly or
# refuses clearly (exit code and a message naming the cause), and in every
# case: no certificate file without a store row, no serial twice, the audit
# chain intact.
. "$HSMCA_TOP/tests/lib.sh"

FP=$HSMCA_BUILD/tests/faultp11.so
N=24
unset FAULTP11_CONF

# conf NAME [key=value...]: $T/NAME.conf wrapping SoftHSM, logging to
# $T/NAME.log.
conf() {
	_c=$1
	shift
	{
		echo "module=$SOFTHSM_MODULE"
		echo "log=$T/$_c.log"
		for _l in "$@"; do echo "$_l"; done
	} >"$T/$_c.conf"
	rm -f "$T/$_c.log"
}
# logged NAME PATTERN: lines of NAME.log matching PATTERN (grep -E).
logged() { grep -cE -- "$2" "$T/$1.log" 2>/dev/null; }
# fp NAME CMD...: CMD through faultp11 configured by NAME.conf; status in
# $frc, output in $T/NAME.out.
fp() {
	_c=$1
	shift
	FAULTP11_CONF=$T/$_c.conf HSMCA_MODULE=$FP "$@" >"$T/$_c.out" 2>&1
	frc=$?
}
# batch NAME [args]: a fresh copy of the CA (ca-NAME) and the batch of $N
# requests through faultp11 configured by NAME.conf, into out-NAME.
batch() {
	_c=$1
	shift
	rm -rf "ca-$_c" "out-$_c"
	cp -a ca "ca-$_c"
	fp "$_c" hsmca-sign-leaf --ca "ca-$_c" --requests csrs/tls.json --csr-dir csrs \
		--out-dir "out-$_c" "$@"
}
rows() { sqlite3 "ca-$1/ca.db" "select count(*) from certs where kind = 'leaf'"; }
# intact NAME: the store invariants after a run into ca-NAME / out-NAME.
intact() {
	_c=$1
	_dups=$(sqlite3 "ca-$_c/ca.db" "select count(*) from (select serial from certs group by serial having count(*) > 1)")
	_orphans=$(python3 - "ca-$_c/ca.db" "out-$_c" <<'PY'
import base64, glob, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = {bytes(r[0]) for r in db.execute("select der from certs")}
n = 0
for f in glob.glob(sys.argv[2] + "/*.crt"):
    pem = open(f).read()
    b64 = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    if base64.b64decode(b64) not in rows:
        n += 1
print(n)
PY
)
	is "$_dups/$_orphans" "0/0" "$_c: no serial twice, no certificate file without a store row"
	check "$_c: audit chain intact" hsmca-audit --ca "ca-$_c" verify
}
# all_issued NAME: every request issued, a file each, verified by openssl.
all_issued() {
	_c=$1
	is "$frc $(rows "$_c")" "0 $N" "$_c: exit 0, $N certificates in the store"
	is "$(ls "out-$_c"/*.crt 2>/dev/null | wc -l | tr -d ' ')" "$N" "$_c: $N certificate files"
	check "$_c: openssl verifies one" openssl verify -CAfile ca/ca.crt "out-$_c/$(ls "out-$_c" | grep '\.crt$' | head -n 1)"
}
# refused NAME PATTERN: exit 3 naming PATTERN, nothing issued.
refused() {
	_c=$1
	is "$frc" 3 "$_c: refused with exit 3"
	like "$(cat "$T/$_c.out")" "$2" "$_c: the message names $2"
	is "$(rows "$_c")" 0 "$_c: nothing issued"
}

new_token FT
conf plain
fp plain keygen FT ca-key ec:p256
is "$frc" 0 "keygen through faultp11"
# Unanchored: every scenario runs on a fresh copy of this CA, and an
# anchored copy that signed would leave the next one behind its anchor.
fp plain hsmca-init-ca --ca ca --key "pkcs11:token=FT;object=ca-key" --pin-source "$PINSRC" \
	--self-sign --subject "CN=Fault CA" --days 3650 --unanchored
is "$frc" 0 "init-ca through faultp11"
mkdir csrs
"$HSMCA_BUILD/tests/mkcsrs" csrs "$N" || notok "made $N CSRs"

# --- sign_latency_ms: signatures overlap on the token (default --in-flight) -
conf slow sign_latency_ms=50
batch slow --pin-source "$PINSRC"
all_issued slow
max=$(grep -o 'inflight=[0-9]*' slow.log | cut -d= -f2 | sort -n | tail -n 1)
diag "most signatures in flight at once: $max"
if [ "${max:-0}" -ge 3 ]; then ok "slow: several signatures in flight ($max)"; else notok "slow: several signatures in flight" "most at once: ${max:-none}"; fi
intact slow

# --- ecdsa=hashed-only / raw-only -----------------------------------------
conf hashed ecdsa=hashed-only
batch hashed --pin-source "$PINSRC"
all_issued hashed
is "$(logged hashed 'C_SignInit rv=CKR_OK mech=CKM_ECDSA_SHA256 via=CKM_ECDSA')" "$N" \
	"hashed: every signature with CKM_ECDSA_SHA256"
intact hashed
conf raw ecdsa=raw-only
batch raw --pin-source "$PINSRC"
all_issued raw
intact raw

# --- always_authenticate ----------------------------------------------------
conf always always_authenticate=1
batch always --pin-source "$PINSRC"
all_issued always
is "$(logged always 'C_Login rv=CKR_OK user=CKU_CONTEXT_SPECIFIC')" "$N" \
	"always: one context-specific login per signature"
intact always
conf always always_authenticate=1
fp always hsmca-gen-crl --ca ca-always --pin-source "$PINSRC" --days 7 --out always.crl
is "$frc" 0 "always: gen-crl signs with a context-specific login"
check "always: openssl verifies the CRL" openssl crl -in always.crl -CAfile ca/ca.crt -noout

# --- max_sessions -----------------------------------------------------------
conf few max_sessions=3
batch few --pin-source "$PINSRC" --in-flight 8
all_issued few
is "$(logged few 'fault=session-count')" 0 "few: no session refused (in flight bounded by the token's 3 sessions)"
intact few

# --- session_idle_ms: the login session expires while the PIN is typed ----
conf idle session_idle_ms=300
rm -f pinfifo
mkfifo pinfifo
(sleep 1; echo "$PIN") >pinfifo &
batch idle --pin-source "fd:3" 3<pinfifo
wait
all_issued idle
like "$(logged idle 'fault=idle-expired')" "^[1-9]" "idle: the module expired idle sessions"
intact idle

# --- remove_at_sign: the device goes away mid-batch -------------------------
conf removed remove_at_sign=5 sign_latency_ms=20
batch removed --pin-source "$PINSRC" --in-flight 4
all_issued removed
is "$(logged removed 'fault=device-removed')" "$(logged removed 'C_Sign rv=CKR_DEVICE_REMOVED')" \
	"removed: the log shows the removal"
is "$(logged removed 'C_Login rv=CKR_(OK|USER_ALREADY_LOGGED_IN) user=CKU_USER')" 2 "removed: logged in again once"
intact removed
conf crlgone remove_at_sign=1
fp crlgone hsmca-gen-crl --ca ca-removed --pin-source "$PINSRC" --days 7 --out removed.crl
is "$frc" 0 "gen-crl: signed again on a new session after the device came back"
check "gen-crl: openssl verifies that CRL" openssl crl -in removed.crl -CAfile ca/ca.crt -noout
check "gen-crl: audit chain intact" hsmca-audit --ca ca-removed verify

# --- token_absent_at_sign / session_closed_at_sign: the same recovery -------
# relogged NAME: how many user logins NAME.log shows (the first, and one
# per recovery).
relogged() { logged "$1" 'C_Login rv=CKR_(OK|USER_ALREADY_LOGGED_IN) user=CKU_USER'; }
for f in token_absent session_closed; do
	conf "$f" "${f}_at_sign=5" sign_latency_ms=20
	batch "$f" --pin-source "$PINSRC" --in-flight 4
	all_issued "$f"
	rv=CKR_TOKEN_NOT_PRESENT
	[ "$f" = session_closed ] && rv=CKR_SESSION_CLOSED
	is "$(logged "$f" "C_Sign rv=$rv sig=5 ")" 1 "$f: the 5th signature met $rv"
	is "$(relogged "$f")" 2 "$f: logged in again once"
	intact "$f"
done

# --- one_operation + max_sessions: one operation per session, 8 in flight ----
conf oneop one_operation=1 max_sessions=4 sign_latency_ms=20
batch oneop --pin-source "$PINSRC" --in-flight 8
all_issued oneop
is "$(logged oneop 'CKR_OPERATION_ACTIVE')" 0 "oneop: no call met CKR_OPERATION_ACTIVE (no session shared by two operations)"
is "$(logged oneop 'fault=session-count')" 0 "oneop: no session refused by the token's limit of 4"
max=$(grep -o 'inflight=[0-9]*' oneop.log | cut -d= -f2 | sort -n | tail -n 1)
if [ "${max:-0}" -ge 2 ]; then ok "oneop: signatures overlapped ($max in flight)"; else notok "oneop: signatures overlapped" "most at once: ${max:-none}"; fi
intact oneop

# --- random_needs_login: serials and ids from the token RNG after login ------
conf rnd random_needs_login=1
fp rnd keygen FT rnd-key ec:p256
is "$frc" 0 "rnd: keygen (a random CKA_ID) on a token whose RNG needs a login"
conf rnd random_needs_login=1
rm -rf rnd-root
fp rnd hsmca-init-ca --ca rnd-root --key "pkcs11:token=FT;object=rnd-key" --pin-source "$PINSRC" \
	--self-sign --subject "CN=Random Root" --days 30 --unanchored
is "$frc" 0 "rnd: init-ca (serial and CA id from the token RNG)"
check "rnd: openssl verifies that root" openssl verify -CAfile rnd-root/ca.crt rnd-root/ca.crt
conf rnd random_needs_login=1
batch rnd --pin-source "$PINSRC"
all_issued rnd
is "$(logged rnd 'C_GenerateRandom rv=CKR_USER_NOT_LOGGED_IN')" 0 "rnd: no random drawn before the login"
like "$(logged rnd 'C_GenerateRandom rv=CKR_OK')" "^[1-9]" "rnd: serials drawn from the token RNG"
intact rnd

# --- remove_at_update: the device goes in the middle of a streamed CRL -------
# A CRL over 16 KiB on a token that hashes (CKM_ECDSA_SHA256): the
# signature is multi-part. 600 seeded certificates, all revoked.
rm -rf ca-bigcrl out-bigcrl
cp -a ca-slow ca-bigcrl
"$HSMCA_BUILD/tests/seedstore" ca-bigcrl 600 >/dev/null || notok "seeded 600 certificates"
sqlite3 -separator ' ' ca-bigcrl/ca.db "select serial, cn from certs where kind = 'leaf'" | python3 -c '
import json, sys
print(json.dumps([{"common_name": cn, "serial_number": str(int(s, 16))}
                  for s, cn in (l.split(" ", 1) for l in sys.stdin.read().splitlines())]))' >bigcrl.json
check "bigcrl: $((N + 600)) certificates revoked" hsmca-revoke --ca ca-bigcrl --revoked bigcrl.json
conf bigcrl ecdsa=hashed-only remove_at_update=2
fp bigcrl hsmca-gen-crl --ca ca-bigcrl --pin-source "$PINSRC" --days 7 --out big.crl
is "$frc" 0 "bigcrl: gen-crl signed the whole CRL again after the device came back"
is "$(logged bigcrl 'C_SignUpdate rv=CKR_DEVICE_REMOVED update=2 fault=device-removed')" 1 "bigcrl: the device went in the 2nd C_SignUpdate"
is "$(logged bigcrl 'C_SignInit rv=CKR_OK mech=CKM_ECDSA_SHA256')" 2 "bigcrl: the signature was started twice"
is "$(logged bigcrl 'C_SignFinal rv=CKR_OK')" 1 "bigcrl: and made once"
is "$(relogged bigcrl)" 2 "bigcrl: logged in again once"
check "bigcrl: openssl verifies the CRL" openssl crl -in big.crl -CAfile ca/ca.crt -noout
size=$(openssl crl -in big.crl -outform DER | wc -c)
if [ "$size" -gt 16384 ]; then ok "bigcrl: the CRL is over 16 KiB ($size bytes)"; else notok "bigcrl: the CRL is over 16 KiB" "$size bytes"; fi
is "$(openssl crl -in big.crl -noout -text | grep -c 'Serial Number:')" "$((N + 600))" "bigcrl: it lists every revocation"
is "$(sqlite3 ca-bigcrl/ca.db 'select count(*) from crls')" 1 "bigcrl: one CRL recorded"
check "bigcrl: audit chain intact" hsmca-audit --ca ca-bigcrl verify

# --- pin_flags ----------------------------------------------------------------
conf low pin_flags=count_low
batch low --pin-source "$PINSRC"
all_issued low
like "$(cat "$T/low.out")" "warning: token 'FT' reports CKF_USER_PIN_COUNT_LOW" "low: warned"
intact low
conf final pin_flags=final_try
batch final --pin-source "$PINSRC"
refused final "CKF_USER_PIN_FINAL_TRY.*--allow-final-pin-try"
is "$(logged final 'C_Login')" 0 "final: no login attempted"
intact final
conf final pin_flags=final_try
batch final --pin-source "$PINSRC" --allow-final-pin-try
all_issued final
intact final
conf final pin_flags=final_try
fp final hsmca-init-ca --ca final-root --key "pkcs11:token=FT;object=ca-key" --pin-source "$PINSRC" \
	--self-sign --subject "CN=Final Try" --days 30
is "$frc" 3 "init-ca: refused on CKF_USER_PIN_FINAL_TRY"
check "init-ca: left no CA directory" test ! -e final-root/ca.json
conf locked pin_flags=locked
batch locked --pin-source "$PINSRC"
refused locked "CKF_USER_PIN_LOCKED"
is "$(logged locked 'C_Login')" 0 "locked: no login attempted"
intact locked
conf locked pin_flags=locked
fp locked hsmca-gen-crl --ca ca-locked --pin-source "$PINSRC" --days 7 --out locked.crl
is "$frc" 3 "gen-crl: refused on a locked PIN"
check "gen-crl: wrote no CRL" test ! -e locked.crl

# --- protected_auth: a PIN pad, no PIN asked ---------------------------------
conf pad protected_auth=1 "pin=$PIN"
batch pad </dev/null
all_issued pad
is "$(logged pad 'C_Login rv=CKR_OK user=CKU_USER pin=config')" 1 "pad: logged in with a NULL PIN"
intact pad

# --- finalize_fail / finalize_crash --------------------------------------------
conf ffail finalize_fail=1
batch ffail --pin-source "$PINSRC"
all_issued ffail
intact ffail
conf fcrash finalize_crash=1
batch fcrash --pin-source "$PINSRC"
all_issued fcrash
like "$(cat "$T/fcrash.out")" "crashed in C_Finalize" "fcrash: the crash is reported, not the result lost"
is "$(logged fcrash 'fault=finalize-crash')" 1 "fcrash: the module did crash"
intact fcrash

# --- fork(): the child initialises the module afresh ---------------------------
conf forked already_logged_in=report
FAULTP11_CONF=$T/forked.conf HSMCA_MODULE=$FP "$HSMCA_BUILD/tests/p11key" forksign \
	"pkcs11:token=FT;object=ca-key" "$PINSRC" >forked.out 2>&1
child=$(sed -n 's/^child=\([0-9]*\) status=.*/\1/p' forked.out)
like "$(cat forked.out)" "child=[0-9]+ status=0" "fork: the child signs"
like "$(cat forked.out)" "parent=ok" "fork: and the parent after it"
is "$(logged forked "^pid=${child:-none} C_Initialize rv=CKR_OK")" 1 "fork: the child called C_Initialize itself"
is "$(logged forked "^pid=${child:-none} C_Sign rv=CKR_OK")" 1 "fork: and signed on a session of its own"
is "$(logged forked "^pid=${child:-none} C_Login rv=CKR_USER_ALREADY_LOGGED_IN .*fault=already-logged-in")" 1 \
	"fork: its login again was answered CKR_USER_ALREADY_LOGGED_IN, taken as logged in"

# --- data_gone_at_read: the anchor replaced between its find and its read ---
# Another process on the same token (a second batch on one host) replaces
# the anchor object as this one reads it: the handle found is gone, and
# the anchor is looked up again.
conf plain
fp plain keygen FT anchored-key ec:p256
fp plain hsmca-init-ca --ca anchored --key "pkcs11:token=FT;object=anchored-key" --pin-source "$PINSRC" \
	--self-sign --subject "CN=Anchored Fault CA" --days 3650
is "$frc" 0 "an anchored CA on the token"
conf gone data_gone_at_read=1
fp gone hsmca-sign-leaf --ca anchored --pin-source "$PINSRC" --csr csrs/host00000.csr --out gone.crt
is "$frc" 0 "data_gone: the anchor's read met a vanished object and issued all the same"
is "$(logged gone 'C_GetAttributeValue rv=CKR_OBJECT_HANDLE_INVALID read=1 fault=data-gone')" 1 "data_gone: the module did invalidate the handle"
check "data_gone: the certificate verifies" openssl verify -CAfile anchored/ca.crt gone.crt
check "data_gone: the audit chain verifies" hsmca-audit --ca anchored verify

# --- a token another process is rewriting (SoftHSM's file store) -------------
# SoftHSM drops a token whose files another process is rewriting from the
# slots of that C_Initialize, and answers C_GetTokenInfo with
# CKR_GENERAL_ERROR meanwhile: the module is started again (twice at most)
# before the token is called missing, and the query asked again (twice).
check_ft() { fp "$1" hsmca-keygen --check --token "pkcs11:token=FT" --pin-source "$PINSRC"; }
conf hidden hide_slots_inits=1
check_ft hidden
is "$frc" 0 "slots hidden until the module is started again: the token is found"
is "$(logged hidden 'C_Initialize rv=CKR_OK')" 2 "the module was started twice"
is "$(logged hidden 'C_Finalize rv=CKR_OK')" 2 "and finalized in between (and at exit)"
conf hidden3 hide_slots_inits=3
check_ft hidden3
is "$frc" 1 "slots hidden for three starts: exit 1"
like "$(cat "$T/hidden3.out")" "no token matches 'pkcs11:token=FT' on PKCS#11 module .*: no tokens present" \
	"the token is called missing"
is "$(logged hidden3 'C_Initialize rv=CKR_OK')" 3 "after three starts of the module"
conf busy token_info_errors=2
check_ft busy
is "$frc" 0 "C_GetTokenInfo busy twice: asked again, the PIN checked"
is "$(logged busy 'C_GetTokenInfo rv=CKR_GENERAL_ERROR fault=token-busy')" 2 "the module did answer CKR_GENERAL_ERROR twice"
conf busy3 token_info_errors=3
check_ft busy3
is "$frc" 1 "busy three times in a row: exit 1"
like "$(cat "$T/busy3.out")" "cannot query token 'FT': " "naming the token"

done_testing
