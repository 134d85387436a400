# Shared pieces of the benchmarks (POSIX sh). Set BENCH_TOP (the source
# tree) and BENCH_BUILD (absolute build directory), then source this file:
#   . "$BENCH_TOP/scripts/bench-lib.sh"
# It makes a temporary directory ($BT) with its own SoftHSM configuration and
# a PIN file ($BENCH_PINSRC), removed at exit unless BENCH_KEEP=1. Tokens and
# keys are selected by label; SoftHSM renumbers slots.

SOFTHSM_MODULE=${SOFTHSM_MODULE:-/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so}
[ -f "$SOFTHSM_MODULE" ] ||
	SOFTHSM_MODULE=$(dpkg -L libsofthsm2 2>/dev/null | grep 'libsofthsm2.so$' | head -n 1)
BENCH_PIN=1234
BENCH_SOPIN=87654321
BENCH_HELPERS=$BENCH_BUILD/tests

bench_die() {
	echo "bench: $*" >&2
	exit 1
}

bench_cleanup() {
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "bench: kept $BT" >&2
	else
		rm -rf "$BT"
	fi
}

# bench_need FILE WHAT: stop unless FILE exists.
bench_need() {
	if [ -z "$1" ] || [ ! -e "$1" ]; then
		bench_die "$2 not found${1:+: $1}"
	fi
}

# bench_uint NAME VALUE MIN MAX: stop unless VALUE is a decimal in range.
bench_uint() {
	case $2 in
	'' | *[!0-9]*) bench_die "$1 must be a whole number, not '$2'" ;;
	esac
	if [ ${#2} -gt 9 ] || [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then
		bench_die "$1 must be between $3 and $4, not $2"
	fi
}

bench_init() {
	bench_need "$SOFTHSM_MODULE" "the SoftHSM module"
	command -v softhsm2-util >/dev/null || bench_die "softhsm2-util not found (apt-get install softhsm2)"
	umask 077
	BT=$(mktemp -d "${TMPDIR:-/tmp}/hsmca-bench.XXXXXX") || bench_die "cannot make a temporary directory"
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
	mkdir "$BT/tokens" || exit 1
	printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$BT" >"$BT/softhsm2.conf" || exit 1
	SOFTHSM2_CONF=$BT/softhsm2.conf
	export SOFTHSM2_CONF
	printf '%s\n' "$BENCH_PIN" >"$BT/pin" || exit 1
	BENCH_PINSRC=file:$BT/pin
}

# bench_token LABEL: a fresh token (an existing one of that label is wiped).
bench_token() {
	rm -rf "$BT/tokens" && mkdir "$BT/tokens" || exit 1
	softhsm2-util --init-token --free --label "$1" --pin "$BENCH_PIN" \
		--so-pin "$BENCH_SOPIN" >"$BT/softhsm.log" 2>&1 ||
		bench_die "cannot initialise token $1: $(tail -n 2 "$BT/softhsm.log")"
}

# bench_p11tool_type TYPE: pkcs11-tool's --key-type for an hsmca key type.
bench_p11tool_type() {
	case $1 in
	ec:p256) echo EC:prime256v1 ;;
	ec:p384) echo EC:secp384r1 ;;
	ec:p521) echo EC:secp521r1 ;;
	rsa:*) echo "$1" ;;
	*) bench_die "no pkcs11-tool key type for $1" ;;
	esac
}

# bench_keys_hsmca TOKEN "LABEL:TYPE:IDHEX ...": all keys with hsmca-keygen.
bench_keys_hsmca() {
	_tok=$1
	[ -x "$BENCH_BUILD/bin/hsmca-keygen" ] || return 1
	for _k in $2; do
		IFS=: read -r _label _kind _bits _id <<EOF
$_k
EOF
		"$BENCH_BUILD/bin/hsmca-keygen" --module "$SOFTHSM_MODULE" \
			--token "pkcs11:token=$_tok" --label "$_label" \
			--type "$_kind:$_bits" --id "$_id" \
			--pin-source "$BENCH_PINSRC" >>"$BT/keygen.log" 2>&1 || return 1
	done
}

# bench_keys_p11tool TOKEN "LABEL:TYPE:IDHEX ...": all keys with pkcs11-tool.
bench_keys_p11tool() {
	_tok=$1
	command -v pkcs11-tool >/dev/null || bench_die "pkcs11-tool not found (apt-get install opensc)"
	for _k in $2; do
		IFS=: read -r _label _kind _bits _id <<EOF
$_k
EOF
		pkcs11-tool --module "$SOFTHSM_MODULE" --token-label "$_tok" \
			--login --pin "$BENCH_PIN" --keypairgen \
			--key-type "$(bench_p11tool_type "$_kind:$_bits")" \
			--usage-sign --label "$_label" --id "$_id" \
			>>"$BT/keygen.log" 2>&1 || return 1
	done
}

# bench_keys TOKEN "LABEL:TYPE:IDHEX ...": a fresh token holding these keys,
# made by hsmca-keygen, else (fresh token again) by pkcs11-tool. Sets
# BENCH_KEYGEN to the tool used. Each key's public half, read back with
# pkcs11-tool (independent of our code), lands in $BT/LABEL.pub (DER).
bench_keys() {
	bench_token "$1"
	if [ "${BENCH_KEYGEN:-hsmca}" = hsmca ] && bench_keys_hsmca "$1" "$2"; then
		BENCH_KEYGEN=hsmca-keygen
	else
		bench_token "$1"
		bench_keys_p11tool "$1" "$2" ||
			bench_die "cannot generate keys: $(tail -n 3 "$BT/keygen.log")"
		BENCH_KEYGEN=pkcs11-tool
	fi
	for _k in $2; do
		_label=${_k%%:*}
		pkcs11-tool --module "$SOFTHSM_MODULE" --token-label "$1" \
			--read-object --type pubkey --label "$_label" \
			-o "$BT/$_label.pub" >>"$BT/keygen.log" 2>&1 ||
			bench_die "cannot read the public key $_label back: $(tail -n 2 "$BT/keygen.log")"
	done
}

# bench_run HELPER OUTFILE ARGS...: run a bench helper; its one result line
# goes to OUTFILE, its messages to OUTFILE.err. Fails when the helper does.
bench_run() {
	_helper=$BENCH_HELPERS/$1
	_out=$2
	shift 2
	"$_helper" "$@" >"$_out" 2>"$_out.err"
}

# bench_field FILE NAME: the value of NAME=value on the result line in FILE.
bench_field() {
	awk -v k="$2" '{ for (i = 1; i <= NF; i++) { n = index($i, "=");
		if (n && substr($i, 1, n - 1) == k) { print substr($i, n + 1); exit } } }' "$1"
}

# bench_div A B: A/B with two decimals ("-" when either is missing).
bench_div() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-";
		else printf "%.2f\n", a / b }'
}

# bench_max A B: the larger of two rates ("" counts as missing).
bench_max() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "") print b; else if (b == "") print a;
		else print (a + 0 >= b + 0 ? a : b) }'
}

# bench_ge A B: true when A >= B (both numbers).
bench_ge() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a != "-" && a + 0 >= b + 0) }'
}

# bench_int RATE: rounded to a whole number ("-" stays).
bench_int() {
	awk -v a="$1" 'BEGIN { if (a == "" || a == "-") print "-"; else printf "%.0f\n", a }'
}
