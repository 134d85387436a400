#!/bin/sh
# tests/faultp11.so, the fault-injecting PKCS#11 module: each behaviour
# switched on and seen at the PKCS#11 level (the p11drive helper, pkcs11-tool,
# openssl as the independent verifier, the module's log), and hsmca working
# through it.
. "$HSMCA_TOP/tests/lib.sh"

FP=$HSMCA_BUILD/tests/faultp11.so
DRIVE=$HSMCA_BUILD/tests/p11drive
# Under the sanitizer build the stock pkcs11-tool loads our ASan module.
P11TOOL="pkcs11-tool"
if [ "${HSMCA_SAN:-0}" = 1 ]; then
	P11TOOL="env LD_PRELOAD=$_asan:$_ubsan ASAN_OPTIONS=detect_leaks=0:detect_odr_violation=0 pkcs11-tool"
fi
unset FAULTP11_CONF

# conf NAME [key=value...]: $T/NAME.conf wrapping SoftHSM, logging to
# $T/NAME.log.
conf() {
	_c=$1
	shift
	{
		echo "# $_c"
		echo "module=$SOFTHSM_MODULE"
		echo "log=$T/$_c.log"
		for _l in "$@"; do echo "$_l"; done
	} >"$T/$_c.conf"
	rm -f "$T/$_c.log"
}
# drive NAME STEP...: p11drive through the module configured by NAME.conf
# (NAME "none": no configuration); output in $T/NAME.out, status in $drc.
drive() {
	_c=$1
	shift
	if [ "$_c" = none ]; then
		$DRIVE "$FP" "$@" >"$T/$_c.out" 2>&1
	else
		FAULTP11_CONF=$T/$_c.conf $DRIVE "$FP" "$@" >"$T/$_c.out" 2>&1
	fi
	drc=$?
}
# at NAME STEP [N]: the Nth output line (default 1) of STEP in the last
# drive NAME.
at() { grep "^$2 " "$T/$1.out" | sed -n "${3:-1}p"; }
# logged NAME PATTERN: how many lines of NAME.log match PATTERN (grep -E).
logged() { grep -cE -- "$2" "$T/$1.log" 2>/dev/null; }
# p11 NAME ARGS...: pkcs11-tool through the module configured by NAME.conf
p11() {
	_c=$1
	shift
	FAULTP11_CONF=$T/$_c.conf $P11TOOL --module "$FP" --token-label FP "$@"
}
OPEN="init slot FP open"
LOGIN="$OPEN login $PIN"

# --- pass-through -----------------------------------------------------------
new_token FP
check "EC key generated through the module" \
	$P11TOOL --module "$FP" --token-label FP --login --pin "$PIN" \
	--keypairgen --key-type EC:prime256v1 --label ec --id 01
check "RSA key generated through the module" \
	$P11TOOL --module "$FP" --token-label FP --login --pin "$PIN" \
	--keypairgen --key-type rsa:2048 --label rsa --id 02
# The public keys, read from SoftHSM directly (pkcs11-tool 0.23 frees the EC
# parameters it still reads when it converts an EC key: ASan stops it).
for k in ec rsa; do
	pkcs11-tool --module "$SOFTHSM_MODULE" --token-label FP --read-object --type pubkey \
		--label $k -o $k.der >/dev/null 2>&1
	openssl pkey -pubin -inform DER -in $k.der -out $k.pem 2>/dev/null
done
check "SoftHSM holds both public keys" test -s ec.pem -a -s rsa.pem
check "the RSA public key reads the same through the module" sh -c \
	"$P11TOOL --module '$FP' --token-label FP --read-object --type pubkey --label rsa -o rsa2.der && cmp rsa.der rsa2.der"
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label FP -M >direct.mechs 2>&1
$P11TOOL --module "$FP" --token-label FP -M >wrapped.mechs 2>&1
check "unconfigured, the mechanism list is SoftHSM's" cmp direct.mechs wrapped.mechs
like "$($P11TOOL --module "$FP" -I 2>&1)" "Library +faultp11 " \
	"C_GetInfo names the module"
printf 'hello world' >data
openssl dgst -sha256 -binary data >data.sha256
check "raw CKM_ECDSA signature through the module" \
	$P11TOOL --module "$FP" --token-label FP --login --pin "$PIN" --sign -m ECDSA \
	--id 01 -i data.sha256 --signature-format openssl -o pass.sig
check "openssl verifies it" openssl pkeyutl -verify -pubin -inkey ec.pem \
	-in data.sha256 -sigfile pass.sig
drive none $LOGIN key ec signinit CKM_ECDSA_SHA256
is "$(at none signinit)" "signinit rv=CKR_MECHANISM_INVALID" \
	"unconfigured: no CKM_ECDSA_SHA256 (SoftHSM has none)"

conf plain
drive plain $OPEN forkinit sessioninfo final
is "$(at plain child-init)" "child-init rv=CKR_OK" "after fork() the child initialises the module again"
is "$(at plain child-open)" "child-open rv=CKR_OK" "and opens a session"
is "$(at plain sessioninfo)" "sessioninfo rv=CKR_OK state=2" "the parent's session lives on"

conf bad bogus=1
drive bad init
is "$(at bad init)" "init rv=CKR_GENERAL_ERROR" "unknown key: C_Initialize fails"
like "$(cat bad.out)" "faultp11: .*bad.conf:4: unknown key 'bogus'" "the message names file, line and key"
conf bad max_sessions=many
drive bad init
like "$(cat bad.out)" "bad.conf:4: bad value for 'max_sessions'" "bad value: named"
conf bad protected_auth=1
drive bad init
like "$(cat bad.out)" "protected_auth=1 needs pin=" "protected_auth without pin= refused"

# --- sign_latency_ms: signatures sleep concurrently, no lock held -----------
conf slow sign_latency_ms=400
drive slow $LOGIN key ec threads 4 2 CKM_ECDSA final
is "$(at slow threads)" "threads ok=8 failed=0" "4 threads x 2 signatures through a slow token"
is "$(logged slow '^pid=[0-9]+ C_Sign rv=CKR_OK sig=')" 8 "the log counts 8 signatures"
max=$(grep -o 'inflight=[0-9]*' slow.log | cut -d= -f2 | sort -n | tail -n 1)
diag "most signatures in flight at once: $max"
if [ "${max:-0}" -ge 2 ]; then ok "signatures sleep in parallel ($max in flight)"; else notok "signatures sleep in parallel" "max in flight: ${max:-none}"; fi

# --- ecdsa=hashed-only ------------------------------------------------------
conf hashed ecdsa=hashed-only
drive hashed $LOGIN mechs mechinfo CKM_ECDSA mechinfo CKM_ECDSA_SHA384 \
	key ec signinit CKM_ECDSA \
	signinit CKM_ECDSA_SHA256 sign "hello world" savesig-ecdsa h256.sig \
	signinit CKM_ECDSA_SHA384 signupdate "hello " signupdate world signfinal savesig-ecdsa h384.sig \
	pubkey ec verifyinit CKM_ECDSA_SHA384 verify "hello world" \
	verifyinit CKM_ECDSA_SHA384 verify "hello there" final
mechs=$(at hashed mechs)
unlike "$mechs" " CKM_ECDSA( |$)" "hashed-only: CKM_ECDSA not listed"
like "$mechs" " CKM_ECDSA_SHA256 CKM_ECDSA_SHA384 CKM_ECDSA_SHA512" "hashed-only: CKM_ECDSA_SHA256/384/512 listed"
is "$(at hashed mechinfo 1)" "mechinfo rv=CKR_MECHANISM_INVALID" "hashed-only: no mechanism info for CKM_ECDSA"
drive none init slot FP mechinfo CKM_ECDSA
is "$(at hashed mechinfo 2)" "$(at none mechinfo)" \
	"hashed-only: CKM_ECDSA_SHA384 has SoftHSM's CKM_ECDSA sizes and flags"
is "$(at hashed signinit 1)" "signinit rv=CKR_MECHANISM_INVALID" "hashed-only: C_SignInit(CKM_ECDSA) refused"
is "$(at hashed signinit 2)" "signinit rv=CKR_OK" "hashed-only: C_SignInit(CKM_ECDSA_SHA256)"
is "$(at hashed sign)" "sign rv=CKR_OK len=64" "hashed-only: one-shot signature (after a length query)"
check "openssl verifies the ECDSA-SHA256 signature" \
	openssl dgst -sha256 -verify ec.pem -signature h256.sig data
is "$(at hashed signfinal)" "signfinal rv=CKR_OK len=64" "hashed-only: multi-part signature"
check "openssl verifies the multi-part ECDSA-SHA384 signature" \
	openssl dgst -sha384 -verify ec.pem -signature h384.sig data
is "$(at hashed verify 1)" "verify rv=CKR_OK" "hashed-only: C_Verify with CKM_ECDSA_SHA384"
is "$(at hashed verify 2)" "verify rv=CKR_SIGNATURE_INVALID" "hashed-only: C_Verify refuses other data"
is "$(logged hashed 'C_SignInit rv=CKR_OK mech=CKM_ECDSA_SHA256 via=CKM_ECDSA')" 1 \
	"the log names the mechanism asked for and the one used"
is "$(logged hashed 'C_SignInit rv=CKR_MECHANISM_INVALID mech=CKM_ECDSA fault=mechanism-hidden')" 1 \
	"the log names the hidden mechanism"
like "$(p11 hashed -M 2>&1)" "ECDSA-SHA512, keySize=\{112,521\}, sign, verify" "pkcs11-tool lists ECDSA-SHA512"
check "pkcs11-tool signs with ECDSA-SHA512" \
	p11 hashed --login --pin "$PIN" --sign -m ECDSA-SHA512 --id 01 -i data \
	--signature-format openssl -o h512.sig
check "openssl verifies pkcs11-tool's ECDSA-SHA512 signature" \
	openssl dgst -sha512 -verify ec.pem -signature h512.sig data

# --- ecdsa=raw-only ---------------------------------------------------------
conf raw ecdsa=raw-only
drive raw $LOGIN mechs key ec signinit CKM_ECDSA_SHA256 signinit CKM_ECDSA sign x final
like "$(at raw mechs)" " CKM_ECDSA( |$)" "raw-only: CKM_ECDSA listed"
unlike "$(at raw mechs)" "CKM_ECDSA_SHA" "raw-only: no CKM_ECDSA_SHA*"
is "$(at raw signinit 1)" "signinit rv=CKR_MECHANISM_INVALID" "raw-only: CKM_ECDSA_SHA256 refused"
is "$(logged raw 'mech=CKM_ECDSA_SHA256 fault=mechanism-hidden')" 1 "raw-only: refused by the module, not SoftHSM"
is "$(at raw sign)" "sign rv=CKR_OK len=64" "raw-only: CKM_ECDSA signs"

# --- rsa=hashed-only / raw-only ---------------------------------------------
conf rsah rsa=hashed-only
drive rsah $LOGIN mechs mechinfo CKM_RSA_PKCS key rsa signinit CKM_RSA_PKCS \
	signinit CKM_SHA256_RSA_PKCS sign "hello world" savesig r256.sig final
mechs=$(at rsah mechs)
unlike "$mechs" " (CKM_RSA_PKCS|CKM_RSA_X_509|CKM_RSA_PKCS_PSS)( |$)" \
	"rsa hashed-only: no CKM_RSA_PKCS, CKM_RSA_X_509, CKM_RSA_PKCS_PSS"
like "$mechs" " CKM_SHA256_RSA_PKCS " "rsa hashed-only: CKM_SHA256_RSA_PKCS listed"
like "$mechs" " CKM_SHA256_RSA_PKCS_PSS " "rsa hashed-only: CKM_SHA256_RSA_PKCS_PSS listed"
is "$(at rsah mechinfo)" "mechinfo rv=CKR_MECHANISM_INVALID" "rsa hashed-only: no info for CKM_RSA_PKCS"
is "$(at rsah signinit 1)" "signinit rv=CKR_MECHANISM_INVALID" "rsa hashed-only: CKM_RSA_PKCS refused"
is "$(at rsah sign)" "sign rv=CKR_OK len=256" "rsa hashed-only: CKM_SHA256_RSA_PKCS signs"
check "openssl verifies the RSA signature" \
	openssl dgst -sha256 -verify rsa.pem -signature r256.sig data
conf rsar rsa=raw-only
drive rsar $LOGIN mechs key rsa signinit CKM_SHA256_RSA_PKCS signinit CKM_RSA_PKCS sign x final
unlike "$(at rsar mechs)" "CKM_SHA[0-9]*_RSA_PKCS|CKM_MD5_RSA_PKCS" "rsa raw-only: no hashing RSA mechanisms"
like "$(at rsar mechs)" " CKM_RSA_PKCS " "rsa raw-only: CKM_RSA_PKCS listed"
is "$(at rsar signinit 1)" "signinit rv=CKR_MECHANISM_INVALID" "rsa raw-only: CKM_SHA256_RSA_PKCS refused"
is "$(at rsar sign)" "sign rv=CKR_OK len=256" "rsa raw-only: CKM_RSA_PKCS signs"

# --- always_authenticate ----------------------------------------------------
conf always always_authenticate=1
drive always $LOGIN key ec attr always_authenticate \
	signinit CKM_ECDSA sign x sign x \
	signinit CKM_ECDSA ctxlogin 9999 ctxlogin "$PIN" sign x \
	signinit CKM_ECDSA sign x ctxlogin "$PIN" \
	key rsa signinit CKM_SHA256_RSA_PKCS signupdate x final
is "$(at always attr)" "attr rv=CKR_OK value=1" "private keys report CKA_ALWAYS_AUTHENTICATE=TRUE"
is "$(at always sign 1)" "sign rv=CKR_USER_NOT_LOGGED_IN len=0" "C_Sign without a context-specific login refused"
is "$(at always sign 2)" "sign rv=CKR_OPERATION_NOT_INITIALIZED len=0" "the refusal ended the operation"
is "$(at always ctxlogin 1)" "ctxlogin rv=CKR_PIN_INCORRECT" "a wrong context-specific PIN refused"
is "$(at always ctxlogin 2)" "ctxlogin rv=CKR_OK" "C_Login(CKU_CONTEXT_SPECIFIC) after C_SignInit"
is "$(at always sign 3)" "sign rv=CKR_OK len=64" "then C_Sign signs"
is "$(at always sign 4)" "sign rv=CKR_USER_NOT_LOGGED_IN len=0" "the login served one operation only"
is "$(at always ctxlogin 3)" "ctxlogin rv=CKR_OPERATION_NOT_INITIALIZED" "no context-specific login without an operation"
is "$(at always signupdate)" "signupdate rv=CKR_USER_NOT_LOGGED_IN" "C_SignUpdate needs it too"
drive none $LOGIN key ec attr always_authenticate
is "$(at none attr)" "attr rv=CKR_OK value=0" "unconfigured: SoftHSM's CKA_ALWAYS_AUTHENTICATE=FALSE"
conf always always_authenticate=1
check "pkcs11-tool signs, logging in per signature itself" \
	p11 always --login --pin "$PIN" --sign -m ECDSA --id 01 -i data.sha256 -o always.sig
is "$(logged always 'C_Login rv=CKR_OK user=CKU_CONTEXT_SPECIFIC')" 1 "the log shows its context-specific login"
is "$(logged always 'C_Sign rv=CKR_OK sig=1 ')" 1 "and the signature that followed"

# --- max_sessions -----------------------------------------------------------
conf few max_sessions=2
drive few $OPEN open open tokeninfo close open final
is "$(at few open 2)" "open rv=CKR_OK session=1" "second session opens"
is "$(at few open 3)" "open rv=CKR_SESSION_COUNT" "third session: CKR_SESSION_COUNT"
like "$(at few tokeninfo)" "max_sessions=2 sessions=2$" "token info: ulMaxSessionCount 2, 2 open"
is "$(at few open 4)" "open rv=CKR_OK session=2" "a session opens again after one closes"

# --- session_idle_ms --------------------------------------------------------
conf idle session_idle_ms=2000
drive idle $OPEN open sessioninfo sleep 2500 sessioninfo use 0 sessioninfo open sessioninfo final
is "$(at idle sessioninfo 1)" "sessioninfo rv=CKR_OK state=2" "a session in use is valid"
is "$(at idle sessioninfo 2)" "sessioninfo rv=CKR_SESSION_HANDLE_INVALID state=0" "idle past the limit: invalid"
is "$(at idle sessioninfo 3)" "sessioninfo rv=CKR_SESSION_HANDLE_INVALID state=0" "every idle session expires"
is "$(at idle sessioninfo 4)" "sessioninfo rv=CKR_OK state=2" "a new session works"
is "$(logged idle 'fault=idle-expired')" 2 "the log records both expiries"

# --- remove_at_sign ---------------------------------------------------------
conf removal remove_at_sign=2
drive removal $OPEN open login "$PIN" key ec signinit CKM_ECDSA sign a \
	use 1 signinit CKM_ECDSA sign b sessioninfo use 0 sessioninfo \
	open sessioninfo login "$PIN" key ec signinit CKM_ECDSA sign c final
is "$(at removal sign 1)" "sign rv=CKR_OK len=64" "first signature"
is "$(at removal sign 2)" "sign rv=CKR_DEVICE_REMOVED len=0" "second signature: CKR_DEVICE_REMOVED"
is "$(at removal sessioninfo 1)" "sessioninfo rv=CKR_SESSION_HANDLE_INVALID state=0" "its session is gone"
is "$(at removal sessioninfo 2)" "sessioninfo rv=CKR_SESSION_HANDLE_INVALID state=0" "and every other session"
is "$(at removal sessioninfo 3)" "sessioninfo rv=CKR_OK state=2" "re-inserted: a new session opens, logged out"
is "$(at removal sign 3)" "sign rv=CKR_OK len=64" "signing works again after a new login"
is "$(logged removal 'C_Sign rv=CKR_DEVICE_REMOVED sig=2 .*fault=device-removed')" 1 "the log records the removal"

# --- token_absent_at_sign / session_closed_at_sign --------------------------
conf absent token_absent_at_sign=2
drive absent $OPEN open login "$PIN" key ec signinit CKM_ECDSA sign a \
	use 1 signinit CKM_ECDSA sign b sessioninfo use 0 sessioninfo \
	open sessioninfo login "$PIN" key ec signinit CKM_ECDSA sign c final
is "$(at absent sign 1)" "sign rv=CKR_OK len=64" "token_absent: first signature"
is "$(at absent sign 2)" "sign rv=CKR_TOKEN_NOT_PRESENT len=0" "token_absent: second signature: CKR_TOKEN_NOT_PRESENT"
is "$(at absent sessioninfo 1)" "sessioninfo rv=CKR_SESSION_HANDLE_INVALID state=0" "token_absent: its session is gone"
is "$(at absent sessioninfo 2)" "sessioninfo rv=CKR_SESSION_HANDLE_INVALID state=0" "token_absent: and every other session"
is "$(at absent sessioninfo 3)" "sessioninfo rv=CKR_OK state=2" "token_absent: put back, a new session opens logged out"
is "$(at absent sign 3)" "sign rv=CKR_OK len=64" "token_absent: signing works again after a new login"
is "$(logged absent 'C_Sign rv=CKR_TOKEN_NOT_PRESENT sig=2 .*fault=token-absent')" 1 "token_absent: the log records it"
conf closed session_closed_at_sign=2
drive closed $OPEN open login "$PIN" key ec signinit CKM_ECDSA sign a \
	use 1 signinit CKM_ECDSA sign b sessioninfo use 0 sessioninfo \
	signinit CKM_ECDSA sign c final
is "$(at closed sign 2)" "sign rv=CKR_SESSION_CLOSED len=0" "session_closed: second signature: CKR_SESSION_CLOSED"
is "$(at closed sessioninfo 1)" "sessioninfo rv=CKR_SESSION_HANDLE_INVALID state=0" "session_closed: that session is gone"
is "$(at closed sessioninfo 2)" "sessioninfo rv=CKR_OK state=3" "session_closed: the other one lives on, logged in"
is "$(at closed sign 3)" "sign rv=CKR_OK len=64" "session_closed: and signs"
is "$(logged closed 'C_Sign rv=CKR_SESSION_CLOSED sig=2 .*fault=session-closed')" 1 "session_closed: the log records it"

# --- remove_at_update: the device goes in a multi-part signature -------------
conf upd remove_at_update=2
drive upd $LOGIN key rsa signinit CKM_SHA256_RSA_PKCS signupdate a signupdate b \
	sessioninfo open sessioninfo final
is "$(at upd signupdate 1)" "signupdate rv=CKR_OK" "remove_at_update: first C_SignUpdate"
is "$(at upd signupdate 2)" "signupdate rv=CKR_DEVICE_REMOVED" "remove_at_update: second: CKR_DEVICE_REMOVED"
is "$(at upd sessioninfo 1)" "sessioninfo rv=CKR_SESSION_HANDLE_INVALID state=0" "remove_at_update: the session is gone"
is "$(at upd sessioninfo 2)" "sessioninfo rv=CKR_OK state=2" "remove_at_update: put back, a new session opens"
is "$(logged upd 'C_SignUpdate rv=CKR_DEVICE_REMOVED update=2 fault=device-removed')" 1 "remove_at_update: the log records it"

# --- one_operation ------------------------------------------------------------
conf oneop one_operation=1
drive oneop $LOGIN key ec pubkey ec signinit CKM_ECDSA verifyinit CKM_ECDSA \
	signinit CKM_ECDSA key ec sign x verifyinit CKM_ECDSA verify x final
is "$(at oneop signinit 1)" "signinit rv=CKR_OK" "one_operation: C_SignInit"
is "$(at oneop verifyinit 1)" "verifyinit rv=CKR_OPERATION_ACTIVE" "one_operation: C_VerifyInit while signing refused"
is "$(at oneop signinit 2)" "signinit rv=CKR_OPERATION_ACTIVE" "one_operation: a second C_SignInit refused"
is "$(at oneop key 2)" "key rv=CKR_OPERATION_ACTIVE found=0" "one_operation: C_FindObjectsInit while signing refused"
is "$(at oneop sign)" "sign rv=CKR_OK len=64" "one_operation: the operation under way goes on"
is "$(at oneop verifyinit 2)" "verifyinit rv=CKR_OK" "one_operation: after it another operation starts"
is "$(at oneop verify)" "verify rv=CKR_OK" "one_operation: and verifies"
is "$(logged oneop 'rv=CKR_OPERATION_ACTIVE .*fault=operation-active')" 3 "one_operation: the log counts the 3 refusals"

# --- pin_flags --------------------------------------------------------------
conf low pin_flags=count_low
drive low $OPEN tokeninfo login "$PIN"
like "$(at low tokeninfo)" "flags=CKF_LOGIN_REQUIRED,CKF_USER_PIN_COUNT_LOW " "count_low reported"
is "$(at low login)" "login rv=CKR_OK" "count_low: the right PIN logs in"
like "$(p11 low -T 2>&1)" "user PIN count low" "pkcs11-tool sees the flag"
conf final pin_flags=final_try
drive final $OPEN tokeninfo login 9999 tokeninfo login "$PIN"
like "$(at final tokeninfo 1)" "flags=CKF_LOGIN_REQUIRED,CKF_USER_PIN_FINAL_TRY " "final_try reported"
is "$(at final login 1)" "login rv=CKR_PIN_INCORRECT" "final_try: a wrong PIN"
like "$(at final tokeninfo 2)" "flags=CKF_LOGIN_REQUIRED,CKF_USER_PIN_LOCKED " "locks the token"
is "$(at final login 2)" "login rv=CKR_PIN_LOCKED" "then the right PIN is refused"
is "$(logged final 'C_Login rv=CKR_PIN_LOCKED .*wrong_pins=1 fault=pin-locked')" 1 "the log counts the wrong PIN"
drive final $LOGIN
is "$(at final login)" "login rv=CKR_OK" "the lock lasts one process (the token is intact)"
conf locked pin_flags=locked
drive locked $OPEN tokeninfo login "$PIN"
like "$(at locked tokeninfo)" "flags=CKF_LOGIN_REQUIRED,CKF_USER_PIN_LOCKED " "locked reported"
is "$(at locked login)" "login rv=CKR_PIN_LOCKED" "locked: C_Login refused"
expect_fail 1 "CKR_PIN_LOCKED" "pkcs11-tool cannot log in to a locked token" \
	p11 locked --login --pin "$PIN" --list-objects
conf counted
drive counted $OPEN login 9999 login "$PIN"
is "$(at counted login 2)" "login rv=CKR_OK" "without final_try a wrong PIN does not lock"
is "$(logged counted 'C_Login rv=CKR_PIN_INCORRECT .*wrong_pins=1')" 1 "but is counted"

# --- protected_auth ---------------------------------------------------------
conf pad protected_auth=1 "pin=$PIN"
drive pad $OPEN tokeninfo login - sessioninfo
like "$(at pad tokeninfo)" "CKF_PROTECTED_AUTHENTICATION_PATH" "protected authentication path reported"
is "$(at pad login)" "login rv=CKR_OK" "C_Login with a NULL PIN"
is "$(at pad sessioninfo)" "sessioninfo rv=CKR_OK state=3" "logs the session in (CKS_RW_USER_FUNCTIONS)"
is "$(logged pad 'C_Login rv=CKR_OK user=CKU_USER pin=config')" 1 "with the configured PIN"
conf pad protected_auth=1 "pin=$PIN"
check "pkcs11-tool signs with no PIN given" \
	p11 pad --login --sign -m ECDSA --id 01 -i data.sha256 -o pad.sig </dev/null
is "$(logged pad 'C_Login rv=CKR_OK user=CKU_USER pin=config')" 1 \
	"pkcs11-tool passed a NULL PIN and the PIN pad stand-in logged in"

# --- already_logged_in ------------------------------------------------------
conf relog already_logged_in=report
drive relog $OPEN open login "$PIN" use 0 login "$PIN"
is "$(at relog login 2)" "login rv=CKR_USER_ALREADY_LOGGED_IN" "report: second C_Login answered CKR_USER_ALREADY_LOGGED_IN"
is "$(logged relog 'CKR_USER_ALREADY_LOGGED_IN .*fault=already-logged-in')" 1 "by the module"
conf relogok already_logged_in=ok
drive relogok $OPEN open login "$PIN" use 0 login "$PIN"
is "$(at relogok login 2)" "login rv=CKR_OK" "ok: second C_Login answered CKR_OK"
is "$(logged relogok 'C_Login rv=CKR_OK .*fault=already-logged-in')" 1 "by the module"

# --- random_needs_login -----------------------------------------------------
conf rnd random_needs_login=1
drive rnd $OPEN random 16 login "$PIN" random 16
is "$(at rnd random 1)" "random rv=CKR_USER_NOT_LOGGED_IN" "C_GenerateRandom before login refused"
is "$(at rnd random 2)" "random rv=CKR_OK" "and works after login"
drive none $OPEN random 16
is "$(at none random)" "random rv=CKR_OK" "unconfigured: SoftHSM gives random bytes without login"

# --- finalize_fail / finalize_crash -----------------------------------------
conf ffail finalize_fail=1
drive ffail init final init final
is "$(at ffail final 1)" "final rv=CKR_GENERAL_ERROR" "finalize_fail: C_Finalize returns CKR_GENERAL_ERROR"
is "$(at ffail init 2)" "init rv=CKR_OK" "after it the module initialises again"
conf fcrash finalize_crash=1
drive fcrash init final
is "$drc" 134 "finalize_crash: the caller dies of SIGABRT in C_Finalize"
is "$(logged fcrash 'C_Finalize rv=CKR_OK fault=finalize-crash')" 1 "the log shows where"

# --- hsmca through the module -----------------------------------------------
new_token HS
conf hs
export HSMCA_MODULE=$FP FAULTP11_CONF=$T/hs.conf
check "hsmca-keygen through faultp11.so" keygen HS root-key ec:p256
check "hsmca-init-ca --self-sign through faultp11.so" \
	hsmca-init-ca --ca root --key "pkcs11:token=HS;object=root-key" --pin-source "$PINSRC" \
	--self-sign --subject "CN=Fault Root,O=Example" --days 3650
check "openssl verifies the root" openssl verify -x509_strict -CAfile root/ca.crt root/ca.crt
is "$(logged hs 'C_GenerateKeyPair rv=CKR_OK')" 1 "keygen's key pair made through the module"
is "$(logged hs 'C_Sign rv=CKR_OK sig=1 ')" 1 "init-ca's signature made through the module"
keygen HS hroot-key ec:p256 >/dev/null # a key serves one CA directory
conf hs ecdsa=hashed-only
hsmca-init-ca --ca hroot --key "pkcs11:token=HS;object=hroot-key" --pin-source "$PINSRC" \
	--self-sign --subject "CN=Hashed Root,O=Example" --days 3650 >"$T/.out" 2>&1
hrc=$?
if [ "$hrc" -eq 0 ]; then
	check "init-ca signs on a token with only CKM_ECDSA_SHA*" \
		openssl verify -x509_strict -CAfile hroot/ca.crt hroot/ca.crt
else
	notok "init-ca on a token with only CKM_ECDSA_SHA*" "exit $hrc" "$(tail -n 3 "$T/.out")"
fi
unset HSMCA_MODULE FAULTP11_CONF

done_testing
