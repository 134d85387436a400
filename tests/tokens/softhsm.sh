# Token harness: SoftHSM 2 (softhsm2). Sourced by tests/lib.sh.
# Every test has its own SOFTHSM2_CONF and token directory.

token_setup() {
	SOFTHSM_MODULE=${SOFTHSM_MODULE:-/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so}
	[ -f "$SOFTHSM_MODULE" ] ||
		SOFTHSM_MODULE=$(dpkg -L softhsm2 2>/dev/null | grep 'libsofthsm2.so$' | head -n 1)
	HSMCA_MODULE=$SOFTHSM_MODULE
	P11TOOL_MODULE=$SOFTHSM_MODULE
	P11KIT_NAME=softhsm2
	HSMCA_MODULE_ARGS=
	mkdir -p "$T/tokens"
	printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" >"$T/softhsm2.conf"
	SOFTHSM2_CONF=$T/softhsm2.conf
	export HSMCA_MODULE HSMCA_MODULE_ARGS SOFTHSM2_CONF
}

token_teardown() { :; }

# new_token LABEL: a fresh token with user PIN $PIN.
new_token() {
	softhsm2-util --init-token --free --label "$1" --pin "$PIN" --so-pin "$SOPIN" >/dev/null
}

# token_lacks FEATURE: what this module cannot do (the reason on stdout,
# status 0), or status 1.
token_lacks() {
	case "$1" in
	pin-lock) echo "SoftHSM 2.6 never locks a user PIN" ;;
	*) return 1 ;;
	esac
}
