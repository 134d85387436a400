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

# bench_ratio A B: A/B with three decimals, for verdicts: a ratio is judged
# as printed, and two decimals would round 0.803 down to a met 0.80.
bench_ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) print "-";
		else printf "%.3f\n", a / b }'
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

# bench_engine_so: the libp11 engine (BENCH_ENGINE_SO, else OpenSSL's
# ENGINESDIR/pkcs11.so); stops when it is missing.
bench_engine_so() {
	_so=${BENCH_ENGINE_SO:-}
	if [ -z "$_so" ]; then
		_dir=$(openssl version -e 2>/dev/null | sed -n 's/^ENGINESDIR: "\(.*\)"$/\1/p')
		_so=${_dir:-/usr/lib/x86_64-linux-gnu/engines-3}/pkcs11.so
	fi
	bench_need "$_so" "the libp11 engine (apt-get install libengine-pkcs11-openssl)"
	echo "$_so"
}

# bench_engine_conf ENGINE_SO FILE: an OpenSSL configuration (for
# OPENSSL_CONF) that loads the libp11 engine as "pkcs11" with its
# MODULE_PATH set to the SoftHSM module itself, as a user pointing the
# engine at the token would: not p11-kit's proxy, which loads every
# registered module. `openssl ... -engine pkcs11` then finds it configured.
bench_engine_conf() {
	cat >"$2" <<EOF_CONF || exit 1
openssl_conf = bench_openssl_init
[bench_openssl_init]
engines = bench_engines
[bench_engines]
pkcs11 = bench_pkcs11
[bench_pkcs11]
engine_id = pkcs11
dynamic_path = $1
MODULE_PATH = $SOFTHSM_MODULE
init = 0
EOF_CONF
}

# bench_time OUT CMD...: run CMD under tests/helpers/runtime, which writes
# "wall=S user=S sys=S maxrss_kb=KB status=N" to OUT (wall to the
# microsecond). Fails when CMD does.
bench_time() {
	_out=$1
	shift
	"$BENCH_HELPERS/runtime" "$_out" "$@"
}

# bench_stats FILE: "median min max spread" of the numbers in FILE (one a
# line); spread is (max - min) / median in percent. "- - - -" when empty.
bench_stats() {
	sort -g "$1" 2>/dev/null | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "- - - -"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		sp = m > 0 ? 100 * (v[NR] - v[1]) / m : 0
		printf "%.6g %.6g %.6g %.0f\n", m, v[1], v[NR], sp }'
}

# bench_mean FILE: the mean of the numbers in FILE ("-" when empty).
bench_mean() {
	awk '{ s += $1; n++ } END { if (n) printf "%.6g\n", s / n; else print "-" }' "$1"
}

# The summary: every figure with a target gets one line, printed where it
# is measured and collected in $BENCH_SUMMARY, which scripts/bench prints
# as one block at the end. A script run on its own prints its own block.
bench_summary_open() {
	if [ -z "${BENCH_SUMMARY:-}" ]; then
		BENCH_SUMMARY=$BT/summary
		BENCH_SUMMARY_OWNER=1
		export BENCH_SUMMARY
	fi
	: >>"$BENCH_SUMMARY" || exit 1
}

bench_summary_print() {
	[ "${BENCH_SUMMARY_OWNER:-0}" = 1 ] || return 0
	echo
	echo "==== summary: every figure, its target and its verdict ===="
	cat "$BENCH_SUMMARY"
}

# bench_note TEXT: an informative summary line (a figure without target).
bench_note() {
	_l=$(printf '%-12s %s' "" "$1")
	echo "$_l"
	[ -z "${BENCH_SUMMARY:-}" ] || echo "$_l" >>"$BENCH_SUMMARY"
}

# bench_verdict WHAT VALUE OP TARGET [UNIT [DETAIL]]: "MET" when VALUE OP
# TARGET holds (OP: ge or le), else "NOT MET"; "NOT MEASURED" when VALUE
# is empty or "-". UNIT follows both numbers ("x" for ratios).
bench_verdict() {
	_u=${5:-}
	case $3 in ge) _os=">=" ;; le) _os="<=" ;; *) bench_die "bench_verdict: operator '$3'" ;; esac
	if [ -z "$2" ] || [ "$2" = - ]; then
		_st="NOT MEASURED"
		_val="-"
	else
		_val=$2$_u
		if { [ "$3" = ge ] && bench_ge "$2" "$4"; } || { [ "$3" = le ] && bench_ge "$4" "$2"; }; then
			_st=MET
		else
			_st="NOT MET"
		fi
	fi
	_l=$(printf '%-12s %s: %s (target %s %s%s)%s' "$_st" "$1" "$_val" "$_os" "$4" "$_u" "${6:+ $6}")
	echo "$_l"
	[ -z "${BENCH_SUMMARY:-}" ] || echo "$_l" >>"$BENCH_SUMMARY"
}

# bench_callgrind PREFIX CMD...: CMD under valgrind's callgrind, children
# traced (one PREFIX.PID profile per process); its output to PREFIX.log.
# Extra callgrind options in BENCH_CG_OPTS. Fails when CMD does.
bench_callgrind() {
	_pre=$1
	shift
	# shellcheck disable=SC2086 # options, one word each
	valgrind --tool=callgrind --trace-children=yes ${BENCH_CG_OPTS:-} \
		--callgrind-out-file="$_pre.%p" --log-file="$_pre.log" "$@"
}

# bench_cg_total PREFIX: instructions executed over every profile of PREFIX.
bench_cg_total() {
	awk '/^summary:/ { s += $2 } END { if (s > 0) printf "%.0f\n", s; else print "-" }' \
		"$1".[0-9]* 2>/dev/null
}

# hsmca-sign-leaf's per-stage breakdown (scripts/bench-leaf, part insn).
# callgrind runs with --separate-callers (BENCH_CG_STAGE_OPTS): a
# function's own (exclusive) cost is kept per call chain, written as
# "fn'caller'caller'...". A chain's cost goes to the stage of the innermost
# function in it that this table names, except that a stage marked "!"
# takes everything below it (an audit entry keeps its JSON and its SQL).
# What no stage names is "rest" (start-up: it cancels out between two batch
# sizes). So stages never overlap and add up to the total. Names are globs
# over function names: ours, and the libraries' exported ones (-O2 inlines
# small static functions; name a caller that remains). When the code
# changes, a renamed function's cost moves to the stage around it or to
# "rest", and bench-leaf lists the names that matched nothing: update the
# table with the code.
#   KEY | LABEL | FUNCTION GLOBS
# shellcheck disable=SC2034 # used by the scripts that source this file
BENCH_LEAF_STAGES='
!audit     | audit entry (hash chain, its JSON and SQL)       | ca_audit_*
requests   | request file (tls.json) parse, not its JSON       | ca_requests_*
csr_read   | CSR read + decode                                | ca_csr_load ca_csr_parse
key_import | CSR key import (one key per curve, copied)      | from_params ec_from_template
key_checks | key checks                                       | ca_lint_pubkey
csr_verify | CSR signature verify                             | ASN1_item_verify_ex
policy     | request policy (subject, SANs, EKUs, validity)   | check_csr
tbs        | TBS build                                        | build_and_sign ca_x509_tbs
lint       | lint                                             | ca_lint_cert
sign_setup | signing set-up (algorithm, EVP context)          | ca_signer_algid sign_init
token      | token C_SignInit + C_Sign                        | C_SignInit C_Sign
provider   | provider, digest, signature assembly             | ca_signer_sign ca_cert_sign_der
verify     | post-sign verify                                 | ca_signed_verify
json       | JSON (requests, results, pending files)          | json_*
store      | store (SQL, commit)                              | ca_store_* sqlite3_*
files      | file writes                                      | ca_out_* write_entry put_file writer_main
chunk      | chunk bookkeeping (serials, names, PEM, frees)   | chunk_sign chunk_record chunk_next chunk_free recorder_main
'
# Deep enough for OpenSSL's call chains below a stage's function.
# shellcheck disable=SC2034 # used by the scripts that source this file
BENCH_CG_STAGE_OPTS=--separate-callers=50

# bench_cg_stages TABLE PROFILE...: "total N", one "stage KEY N" line per
# stage of TABLE and "stage rest N", then "unused GLOB" for each glob that
# matched no function, over the callgrind profiles (summed). The profiles
# are read directly (callgrind's file format: "fn=" names the function
# whose costs follow, "(id)" compresses names that fn= and cfn= share, the
# cost line after "calls=" is that call's inclusive cost and is skipped);
# callgrind_annotate takes seconds per profile of this size.
bench_cg_stages() {
	printf '%s\n' "$1" >"$BT/stages.table"
	shift
	awk '
	function glob_re(g) {
		gsub(/[.+?^${}()|\\]/, "\\\\&", g)
		gsub(/\*/, ".*", g)
		return "^" g "$"
	}
	function fname(s,   id) {
		if (match(s, /^\([0-9]+\)/)) {
			id = substr(s, 1, RLENGTH)
			if (length(s) > RLENGTH)
				names[id] = substr(s, RLENGTH + 2)
			return names[id]
		}
		return s
	}
	function stage_of(f,   i) {
		if (f in memo)
			return memo[f]
		memo[f] = ""
		for (i = 1; i <= ng; i++)
			if (f ~ gre[i]) {
				memo[f] = gst[i]
				used[i] = 1
				break
			}
		return memo[f]
	}
	# The stage of a call chain: the innermost named one, or an outer "!".
	function chain_stage(name,   n, fr, i, s, inner, outer) {
		n = split(name, fr, "\047")
		inner = ""
		outer = ""
		for (i = 1; i <= n; i++) {
			if (fr[i] ~ /^[0-9]+$/ || fr[i] ~ /^0x/)
				continue
			s = stage_of(fr[i])
			if (s == "")
				continue
			if (inner == "")
				inner = s
			if (is_greedy[s])
				outer = s
		}
		s = outer != "" ? outer : inner
		return s == "" ? "rest" : s
	}
	FNR == 1 { names_reset() }
	function names_reset(   k) {
		for (k in names)
			delete names[k]
	}
	FILENAME == ARGV[1] {
		if ($0 ~ /^[ \t]*$/)
			next
		split($0, part, "|")
		key = part[1]
		gsub(/[ \t]/, "", key)
		greedy = sub(/^!/, "", key)
		order[++ns] = key
		is_greedy[key] = greedy
		n = split(part[3], gl, " ")
		for (i = 1; i <= n; i++) {
			gre[++ng] = glob_re(gl[i])
			gname[ng] = gl[i]
			gst[ng] = key
		}
		next
	}
	/^fn=/ { cur = fname(substr($0, 4)); next }
	/^cfn=/ { fname(substr($0, 5)); next }
	/^calls=/ { skip = 1; next }
	/^[0-9+*-]/ {
		if (skip)
			skip = 0
		else
			self[cur] += $2
		next
	}
	/^summary:/ { total += $2 }
	END {
		for (f in self)
			sum[chain_stage(f)] += self[f]
		printf "total %.0f\n", total
		for (i = 1; i <= ns; i++)
			printf "stage %s %.0f\n", order[i], sum[order[i]]
		printf "stage rest %.0f\n", sum["rest"]
		for (i = 1; i <= ng; i++)
			if (!used[i])
				print "unused", gname[i]
	}' "$BT/stages.table" "$@"
}
