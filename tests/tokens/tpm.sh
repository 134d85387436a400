# Token harness: tpm2-pkcs11 over a software TPM (swtpm on 127.0.0.1,
# behind tpm2-abrmd on a private D-Bus session bus). Sourced by
# tests/lib.sh (and by tests/run for the daemons).
#
# The daemons are started once per tests/run invocation (tpm_daemons_start,
# which exports HSMCA_TPM_BUS, the D-Bus address), or by a suite run on its
# own; every test has its own tpm2-pkcs11 store (TPM2_PKCS11_STORE) and so
# its own tokens. Everything started is stopped by PID.

. "$HSMCA_TOP/tests/tokens/daemon.sh"

# tpm_free_port: a TCP port P on 127.0.0.1 with P+1 also free (swtpm's
# control channel). Another process may take it before swtpm binds it:
# tpm_daemons_start retries.
tpm_free_port() {
	python3 - <<'PY'
import socket
for _ in range(100):
    a = socket.socket()
    a.bind(("127.0.0.1", 0))
    p = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 1))
    except OSError:
        a.close()
        continue
    a.close()
    b.close()
    print(p)
    break
PY
}

# tpm_daemons_start DIR: swtpm, dbus-daemon and tpm2-abrmd with their state
# and PID files in DIR; exports HSMCA_TPM_BUS and HSMCA_TPM_DAEMONS=DIR.
tpm_daemons_start() {
	_d=$1
	mkdir -p "$_d/state"
	_try=0
	while :; do
		_try=$((_try + 1))
		_port=$(tpm_free_port)
		swtpm socket --tpm2 --tpmstate dir="$_d/state" \
			--server type=tcp,port="$_port",bindaddr=127.0.0.1 \
			--ctrl type=tcp,port=$((_port + 1)),bindaddr=127.0.0.1 \
			--flags not-need-init,startup-clear --log file="$_d/swtpm.log" \
			</dev/null >/dev/null 2>&1 &
		echo $! >"$_d/swtpm.pid"
		# swtpm exits at once when a port is taken.
		if daemon_wait "$(cat "$_d/swtpm.pid")" "tpm harness: swtpm" \
			python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1).close()" "$_port"; then
			break
		fi
		kill "$(cat "$_d/swtpm.pid")" 2>/dev/null
		rm -f "$_d/swtpm.pid"
		[ "$_try" -lt 5 ] || return 1
	done
	dbus-daemon --session --address="unix:path=$_d/bus" --nofork --nopidfile \
		</dev/null >/dev/null 2>"$_d/dbus.log" &
	echo $! >"$_d/dbus.pid"
	HSMCA_TPM_BUS="unix:path=$_d/bus"
	daemon_wait "$(cat "$_d/dbus.pid")" "tpm harness: dbus-daemon" test -S "$_d/bus" || return 1
	DBUS_SESSION_BUS_ADDRESS=$HSMCA_TPM_BUS tpm2-abrmd --session --allow-root \
		--tcti="swtpm:host=127.0.0.1,port=$_port" </dev/null >"$_d/abrmd.log" 2>&1 &
	echo $! >"$_d/abrmd.pid"
	HSMCA_TPM_DAEMONS=$_d
	export HSMCA_TPM_BUS HSMCA_TPM_DAEMONS
	daemon_wait "$(cat "$_d/abrmd.pid")" "tpm harness: tpm2-abrmd" \
		env DBUS_SESSION_BUS_ADDRESS="$HSMCA_TPM_BUS" TPM2TOOLS_TCTI=tabrmd:bus_type=session \
		tpm2_getrandom 4 || return 1
	# Wrong-PIN tests must not trip the TPM's dictionary-attack lockout
	# (3 failures by default), which would lock every token on it.
	env DBUS_SESSION_BUS_ADDRESS="$HSMCA_TPM_BUS" TPM2TOOLS_TCTI=tabrmd:bus_type=session \
		tpm2_dictionarylockout --setup-parameters --max-tries=1000000 \
		--recovery-time=1 --lockout-recovery-time=1 >/dev/null
}

# tpm_daemons_stop DIR: stop what tpm_daemons_start started (by PID).
tpm_daemons_stop() {
	for _p in abrmd dbus swtpm; do
		if [ -f "$1/$_p.pid" ]; then
			_pid=$(cat "$1/$_p.pid")
			kill "$_pid" 2>/dev/null
			# Reap it so that nothing is left behind, not even a zombie.
			wait "$_pid" 2>/dev/null
			rm -f "$1/$_p.pid"
		fi
	done
}

token_setup() {
	TPM_MODULE=$(dpkg -L libtpm2-pkcs11-1 2>/dev/null | grep 'libtpm2_pkcs11\.so\.1$' | head -n 1)
	HSMCA_MODULE=$TPM_MODULE
	P11TOOL_MODULE=$TPM_MODULE
	P11KIT_NAME=tpm2_pkcs11
	HSMCA_MODULE_ARGS=
	if [ -z "${HSMCA_TPM_BUS:-}" ]; then
		# A suite run on its own: daemons of its own, stopped in
		# token_teardown.
		TPM_OWN_DAEMONS=$T/tpm-daemons
		tpm_daemons_start "$TPM_OWN_DAEMONS" || {
			echo "Bail out! cannot start swtpm / tpm2-abrmd (see $TPM_OWN_DAEMONS)"
			exit 1
		}
	fi
	mkdir -p "$T/tpm2-store"
	DBUS_SESSION_BUS_ADDRESS=$HSMCA_TPM_BUS
	TPM2_PKCS11_STORE=$T/tpm2-store
	TPM2_PKCS11_TCTI=tabrmd:bus_type=session
	TPM2TOOLS_TCTI=tabrmd:bus_type=session
	TPM2_PKCS11_LOG_LEVEL=0
	export HSMCA_MODULE HSMCA_MODULE_ARGS DBUS_SESSION_BUS_ADDRESS TPM2_PKCS11_STORE \
		TPM2_PKCS11_TCTI TPM2TOOLS_TCTI TPM2_PKCS11_LOG_LEVEL
	# One transient primary key per store: nothing persistent in the TPM.
	tpm2_ptool init --transient-parent tpm2-tools-ecc-default >/dev/null
}

token_teardown() {
	[ -n "${TPM_OWN_DAEMONS:-}" ] && tpm_daemons_stop "$TPM_OWN_DAEMONS"
}

# new_token LABEL: a fresh token with user PIN $PIN.
new_token() {
	tpm2_ptool addtoken --pid=1 --label="$1" --userpin="$PIN" --sopin="$SOPIN" >/dev/null
}

# token_lacks FEATURE: what this module cannot do (the reason on stdout,
# status 0), or status 1.
token_lacks() {
	case "$1" in
	ed25519) echo "tpm2-pkcs11 has no EdDSA" ;;
	rsa4096) echo "tpm2-pkcs11 makes RSA keys of 1024-3072 bits" ;;
	p521) echo "tpm2-pkcs11 writes a malformed CKA_EC_POINT for P-521 keys" ;;
	libp11) echo "the libp11 engine cannot log in to tpm2-pkcs11 (it replaces OpenSSL's RSA methods under the TPM library)" ;;
	serial) echo "tpm2-pkcs11 gives every token the serial 0000000000000000" ;;
	pss-salt) echo "tpm2-pkcs11 signs RSA-PSS only with a salt as long as the digest" ;;
	raw-rsa) echo "tpm2-pkcs11 performs a raw CKM_RSA_PKCS signature as a TPM decryption, refused for a sign-only key" ;;
	hsmca-first) echo "tpm2-pkcs11 makes EC session keys through OpenSSL in the calling process: with hsmca loaded before the default provider, OpenSSL 3.0 hands that key generation to hsmca" ;;
	*) return 1 ;;
	esac
}
