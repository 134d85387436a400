# Token harness: NSS softokn (libsoftokn3.so from libnss3). Sourced by
# tests/lib.sh.
#
# A softokn token is a database directory whose password is the user PIN;
# its label comes from the module's initialisation arguments. One process
# sees several databases only when the arguments list them all
# (tokens=<0x10=(configdir=... tokenDescription=LABEL) 0x11=(...)>), so
# new_token rewrites HSMCA_MODULE_ARGS with every token of the test.
# pkcs11-tool and the libp11 engine cannot pass initialisation arguments:
# they load build/tests/p11args.so, which forwards to softokn and passes
# HSMCA_MODULE_ARGS.

token_setup() {
	NSS_MODULE=$(dpkg -L libnss3 2>/dev/null | grep '/libsoftokn3\.so$' | head -n 1)
	HSMCA_MODULE=$NSS_MODULE
	HSMCA_P11ARGS_MODULE=$NSS_MODULE
	P11TOOL_MODULE=$HSMCA_BUILD/tests/p11args.so
	P11KIT_NAME=""
	NSS_TOKENS=""
	NSS_SLOT=16
	mkdir -p "$T/nss-tokens"
	# Before the first token: softokn's built-in slots, no database.
	NSS_ARGS_BASE="configdir='sql:$T/nss-tokens' certPrefix='' keyPrefix='' secmod='secmod.db'"
	HSMCA_MODULE_ARGS="$NSS_ARGS_BASE flags=noCertDB,noKeyDB,noModDB,readOnly"
	export HSMCA_MODULE HSMCA_MODULE_ARGS HSMCA_P11ARGS_MODULE
}

token_teardown() { :; }

# new_token LABEL: a fresh token (database) with user PIN $PIN.
new_token() {
	_db=$T/nss-tokens/$NSS_SLOT
	mkdir -p "$_db"
	printf '%s\n' "$PIN" >"$_db.pw"
	certutil -N -d "sql:$_db" -f "$_db.pw" >/dev/null || return 1
	rm -f "$_db.pw"
	NSS_TOKENS="$NSS_TOKENS $(printf '0x%x' "$NSS_SLOT")=(configdir='sql:$_db' certPrefix='' keyPrefix='' tokenDescription='$1')"
	NSS_SLOT=$((NSS_SLOT + 1))
	HSMCA_MODULE_ARGS="$NSS_ARGS_BASE flags= tokens=<${NSS_TOKENS# }>"
	export HSMCA_MODULE_ARGS
}

# token_lacks FEATURE: what this module cannot do (the reason on stdout,
# status 0), or status 1.
token_lacks() {
	case "$1" in
	ed25519) echo "NSS 3.87 softokn has no EdDSA" ;;
	serial) echo "NSS softokn gives every token the serial 0000000000000000" ;;
	pin-lock) echo "NSS softokn never locks a user PIN" ;;
	allowed-mechanisms) echo "NSS softokn refuses CKA_ALLOWED_MECHANISMS in a key template" ;;
	p11kit) echo "NSS softokn is not registered with p11-kit (it needs initialisation arguments)" ;;
	*) return 1 ;;
	esac
}
