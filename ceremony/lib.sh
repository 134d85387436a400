# shellcheck shell=sh disable=SC2034
# (SC2034: the runbooks set variables that these functions read.)
# Shared by the ceremony runbooks (root-ceremony, subca-ceremony,
# crl-ceremony). POSIX sh; sourced, never run.
#
# What every runbook does with it:
#   - prints each step and, unless --non-interactive, waits for the witness
#     to type "yes" (anything else stops the ceremony, exit 4);
#   - runs the hsmca tools with stdin closed (PIN and passphrase prompts go
#     to the terminal, never through this script) and shows their output;
#   - keeps a transcript: one line per event, each starting with the UTC
#     time, with the SHA-256 of every input and output;
#   - ends with the audit log head hash to write on paper.
#
# Transcript lines ("TIME KIND ..."):
#   BEGIN NAME VERSION host=H user=U mode=interactive|non-interactive
#   ARGS  the runbook's command line (it never holds a PIN)
#   STEP  N/TOTAL NAME TITLE          DONE N/TOTAL NAME
#   NOTE  text shown to the room      RUN  command line      > output line
#   EXIT  status of the command       CHECK ok|FAILED description
#   ASK   question to the witness     CONFIRM / REFUSED  the answer
#   SHA256 input|output HEX PATH      AUDIT-HEAD DIR entry N sha256 HEX
#   END   ok|stopped|failed exit CODE

CER_VERSION=0.1.0

# --- set-up ---------------------------------------------------------------

cer_setup() { # NAME
	CER_NAME=$1
	CER_TOP=$(cd "$(dirname "$0")/.." && pwd)
	CER_INTERACTIVE=1
	CER_STEP=0
	CER_NSTEPS=0
	CER_TRANSCRIPT=
	CER_OUT=
	CER_APPROVE_CMD=
	CER_PIN_ARGS=
	# Tools: $HSMCA_BIN, else $BUILD/bin (make demo, tests), else the
	# installed hsmca-* on PATH, else the checkout's build/bin.
	if [ -n "${HSMCA_BIN:-}" ]; then
		PATH=$HSMCA_BIN:$PATH
	elif [ -n "${BUILD:-}" ]; then
		case $BUILD in
		/*) PATH=$BUILD/bin:$PATH ;;
		*) PATH=$CER_TOP/$BUILD/bin:$PATH ;;
		esac
	elif ! command -v hsmca-keygen >/dev/null 2>&1 && [ -x "$CER_TOP/build/bin/hsmca-keygen" ]; then
		PATH=$CER_TOP/build/bin:$PATH
	fi
	export PATH
	umask 077
	CER_TMP=$(mktemp -d "${TMPDIR:-/tmp}/hsmca-$CER_NAME.XXXXXX") || exit 1
	trap 'rm -rf "$CER_TMP"' EXIT
	trap 'cer_end interrupted 130' INT TERM HUP
}

cer_die_usage() { # MESSAGE
	printf '%s: %s\nTry '\''%s --help'\''.\n' "$CER_NAME" "$1" "$CER_NAME" >&2
	exit 2
}

# cer_need TOOL...: every tool must be on PATH.
cer_need() {
	for _t in "$@"; do
		command -v "$_t" >/dev/null 2>&1 && continue
		case $_t in
		hsmca-*) printf '%s: %s not found: install hsmca (make install) or run with BUILD=build\n' "$CER_NAME" "$_t" >&2 ;;
		pkcs11-tool) printf '%s: pkcs11-tool not found: apt-get install opensc\n' "$CER_NAME" >&2 ;;
		*) printf '%s: %s not found\n' "$CER_NAME" "$_t" >&2 ;;
		esac
		exit 1
	done
}

# cer_pin_source SRC: the runbook hands the same source to several tools,
# so it must be readable more than once: file:PATH or env:NAME. Empty: each
# tool prompts on the terminal.
cer_pin_source() {
	case $1 in
	'') CER_PIN_ARGS= ;;
	file:?*)
		[ -f "${1#file:}" ] || cer_die_usage "--pin-source $1: no such file"
		CER_PIN_ARGS="--pin-source $(cer_q "file:$(cer_abs "${1#file:}")")"
		;;
	env:?*) CER_PIN_ARGS="--pin-source $(cer_q "$1")" ;;
	fd:*) cer_die_usage "--pin-source fd:N can be read only once and the ceremony logs in several times: use file:PATH, env:NAME or the prompt" ;;
	*) cer_die_usage "--pin-source must be file:PATH or env:NAME (a PIN is never given on the command line)" ;;
	esac
}

# cer_module PATH: the PKCS#11 module for the tools and pkcs11-tool.
cer_module() {
	if [ -n "$1" ]; then
		HSMCA_MODULE=$1
	elif [ -z "${HSMCA_MODULE:-}" ]; then
		for _m in /usr/lib/x86_64-linux-gnu/p11-kit-proxy.so /usr/lib/p11-kit-proxy.so \
			/usr/lib/aarch64-linux-gnu/p11-kit-proxy.so; do
			[ -f "$_m" ] && HSMCA_MODULE=$_m && break
		done
	fi
	if [ -z "${HSMCA_MODULE:-}" ] || [ ! -f "$HSMCA_MODULE" ]; then
		cer_die_usage "no PKCS#11 module: give --module PATH or set HSMCA_MODULE"
	fi
	export HSMCA_MODULE
}

# cer_begin OUTDIR "$@": create the output directory and the transcript.
cer_begin() {
	CER_OUT=$1
	shift
	if [ -e "$CER_OUT" ] && [ -n "$(ls -A "$CER_OUT" 2>/dev/null)" ]; then
		cer_die_usage "output directory $CER_OUT is not empty: every ceremony writes into a fresh directory"
	fi
	mkdir -p "$CER_OUT" || exit 1
	CER_OUT=$(cd "$CER_OUT" && pwd)
	CER_TRANSCRIPT=$CER_OUT/transcript.txt
	: >"$CER_TRANSCRIPT" || exit 1
	: >"$CER_TMP/outputs"
	_mode=interactive
	[ "$CER_INTERACTIVE" = 1 ] || _mode=non-interactive
	_v=$(hsmca-audit --version 2>/dev/null | sed 's/^hsmca-audit //')
	cer_log "BEGIN $CER_NAME ${_v:-$CER_VERSION} host=$(uname -n) user=$(id -un) mode=$_mode"
	cer_log "ARGS $(cer_qall "$@")"
	printf '%s: transcript %s\n' "$CER_NAME" "$CER_TRANSCRIPT"
}

# cer_end STATUS CODE: close the transcript and exit.
cer_end() {
	trap - INT TERM HUP
	if [ -n "$CER_TRANSCRIPT" ] && [ -f "$CER_TRANSCRIPT" ]; then
		cer_log "END $1 exit $2"
		_th=$(sha256sum "$CER_TRANSCRIPT" | cut -d' ' -f1)
		printf '%s  %s\n' "$_th" "transcript.txt" >"$CER_TRANSCRIPT.sha256"
		printf '\nTranscript: %s\nTranscript SHA-256: %s\n' "$CER_TRANSCRIPT" "$_th"
	fi
	exit "$2"
}

cer_fail() { # CODE MESSAGE
	printf '\n%s: %s\n' "$CER_NAME" "$2" >&2
	cer_log "NOTE ceremony failed: $2"
	printf 'The ceremony stops here. Nothing after this point was done.\n' >&2
	cer_end failed "$1"
}

# --- printing and the transcript --------------------------------------------

cer_now() { date -u +%Y-%m-%dT%H:%M:%SZ; }

cer_log() { printf '%s %s\n' "$(cer_now)" "$*" >>"$CER_TRANSCRIPT"; }

# cer_say TEXT...: shown to the room and kept in the transcript.
cer_say() {
	for _l in "$@"; do
		printf '%s\n' "$_l"
		cer_log "NOTE $_l"
	done
}

# Shell quoting, for commands shown and logged.
cer_q() {
	case $1 in
	'' | *[!A-Za-z0-9_./:=@%+,-]*) printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")" ;;
	*) printf '%s' "$1" ;;
	esac
}
cer_qall() {
	_sep=
	for _a in "$@"; do
		printf '%s%s' "$_sep" "$(cer_q "$_a")"
		_sep=' '
	done
}

cer_step() { # NAME TITLE
	CER_STEP=$((CER_STEP + 1))
	CER_STEP_NAME=$1
	printf '\n======== Step %d of %d: %s ========\n' "$CER_STEP" "$CER_NSTEPS" "$2"
	cer_log "STEP $CER_STEP/$CER_NSTEPS $1 $2"
}

cer_step_done() {
	cer_log "DONE $CER_STEP/$CER_NSTEPS $CER_STEP_NAME"
}

# cer_confirm QUESTION: the witness types "yes" or the ceremony stops.
cer_confirm() {
	printf '\n%s\n' "$1"
	cer_log "ASK $1"
	if [ "$CER_INTERACTIVE" != 1 ]; then
		cer_log "CONFIRM step $CER_STEP: not asked (--non-interactive)"
		return 0
	fi
	printf 'Witness, type "yes" to confirm: '
	if ! IFS= read -r _ans; then
		_ans="(end of input)"
	fi
	if [ "$_ans" = yes ]; then
		cer_log "CONFIRM step $CER_STEP: witness typed yes"
		return 0
	fi
	_ans=$(printf '%s' "$_ans" | tr -c '[:print:]' '?' | cut -c1-80)
	cer_log "REFUSED step $CER_STEP: witness typed '$_ans'"
	printf '\nThe witness did not confirm (typed '\''%s'\''): the ceremony stops at step %d.\n' "$_ans" "$CER_STEP" >&2
	cer_end stopped 4
}

# cer_run CMD...: show, log and run a command (stdin closed); its output is
# shown live and kept in the transcript. Returns the command's status.
cer_run() {
	_line=$(cer_qall "$@")
	printf '$ %s\n' "$_line"
	cer_log "RUN $_line"
	{
		"$@" </dev/null
		echo $? >"$CER_TMP/rc"
	} 2>&1 | tee "$CER_TMP/out" | sed 's/^/    /'
	_rc=$(cat "$CER_TMP/rc")
	_t=$(cer_now)
	sed "s/^/$_t > /" "$CER_TMP/out" >>"$CER_TRANSCRIPT"
	cer_log "EXIT $_rc"
	return "$_rc"
}

# cer_must CMD...: cer_run, and stop the ceremony if it fails (exit 3 when
# the tool refused by policy, else 1).
cer_must() {
	cer_run "$@" && return 0
	_rc=$?
	[ "$_rc" = 3 ] || _rc=1
	cer_fail "$_rc" "$1 failed (see its message above)"
}

# cer_check DESC CMD...: a verification; a failure stops the ceremony (3).
cer_check() {
	_d=$1
	shift
	if cer_run "$@"; then
		cer_log "CHECK ok $_d"
		printf '  OK: %s\n' "$_d"
	else
		cer_log "CHECK FAILED $_d"
		cer_fail 3 "verification failed: $_d"
	fi
}

# cer_same GOT WANT DESC: two values that must be equal.
cer_same() {
	if [ "$1" = "$2" ] && [ -n "$1" ]; then
		cer_log "CHECK ok $3 ($1)"
		printf '  OK: %s\n' "$3"
	else
		cer_log "CHECK FAILED $3 (got '$1', want '$2')"
		cer_fail 3 "verification failed: $3: got '$1', want '$2'"
	fi
}

cer_abs() {
	case $1 in
	/*) printf '%s' "$1" ;;
	*) printf '%s/%s' "$(cd "$(dirname "$1")" && pwd)" "$(basename "$1")" ;;
	esac
}

# cer_record input|output FILE: the SHA-256 of an artifact, shown and logged.
cer_record() {
	_rp=$(cer_abs "$2")
	[ -f "$_rp" ] || cer_fail 1 "expected $1 file $_rp does not exist"
	_rh=$(sha256sum "$_rp" | cut -d' ' -f1)
	printf '  %-6s sha256 %s  %s\n' "$1" "$_rh" "$_rp"
	cer_log "SHA256 $1 $_rh $_rp"
	if [ "$1" = output ] && ! grep -qxF "$_rp" "$CER_TMP/outputs"; then
		printf '%s\n' "$_rp" >>"$CER_TMP/outputs"
	fi
}

# --- values from files -----------------------------------------------------

cer_sha256() { sha256sum "$1" | cut -d' ' -f1; }

# SHA-256 of the DER SubjectPublicKeyInfo of a public key, certificate or CSR
# (the "spki sha256" the tools print).
cer_spki_pub() { openssl pkey -pubin -in "$1" -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1; }
cer_spki_cert() { openssl x509 -in "$1" -noout -pubkey 2>/dev/null | openssl pkey -pubin -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1; }
cer_spki_csr() {
	{ openssl req -in "$1" -noout -pubkey 2>/dev/null || openssl req -inform DER -in "$1" -noout -pubkey 2>/dev/null; } |
		openssl pkey -pubin -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1
}

# cer_keydesc PUBFILE: "RSA 3072 bit", "EC 256 bit prime256v1", "ED25519".
cer_keydesc() {
	openssl pkey -pubin -in "$1" -noout -text 2>/dev/null | awk '
		NR == 1 && /^ED25519|^ED448/ { t = $1 }
		NR == 1 && /Public-Key: \(/ { b = $0; sub(/.*\(/, "", b); sub(/\).*/, "", b) }
		/^Modulus/ { t = "RSA" }
		/^ASN1 OID:/ { t = "EC"; c = $3 }
		END { printf "%s%s%s", t, (b != "" ? " " b : ""), (c != "" ? " " c : "") }'
}

# SHA-256 of the signed part (TBSCertificate, TBSCertList) of a PEM file.
cer_tbs_sha256() {
	_off=$(openssl asn1parse -in "$1" 2>/dev/null | sed -n '2s/^ *\([0-9]*\):.*/\1/p')
	[ -n "$_off" ] || return 1
	openssl asn1parse -in "$1" -strparse "$_off" -noout -out "$CER_TMP/tbs.der" >/dev/null 2>&1 || return 1
	cer_sha256 "$CER_TMP/tbs.der"
}

# cer_json KEY FILE [INDENT]: a string (or number) member of the JSON the
# hsmca tools write (two-space indent, one member per line).
cer_json() {
	_ind=${3:-  }
	sed -n "s/^$_ind\"$1\": \"\{0,1\}\([^\"]*\)\"\{0,1\},\{0,1\}\$/\1/p" "$2" | head -n 1
}

# cer_token_info LABEL: finds the token by label with pkcs11-tool; sets
# CER_TOKEN_SERIAL and leaves the slot listing in $CER_TMP/token.txt.
# Exit 3 when no token or more than one carries the label.
cer_token_info() {
	pkcs11-tool --module "$HSMCA_MODULE" --list-token-slots >"$CER_TMP/slots.txt" 2>&1 ||
		cer_fail 1 "pkcs11-tool cannot list the slots of $HSMCA_MODULE"
	awk -v want="$1" '
		/^Slot [0-9]/ { if (blk != "" && lab == want) { n++; out = out blk } blk = $0 "\n"; lab = ""; next }
		{ blk = blk $0 "\n" }
		/^ *token label *:/ { l = $0; sub(/^ *token label *: ?/, "", l); sub(/ +$/, "", l); lab = l }
		END { if (blk != "" && lab == want) { n++; out = out blk } printf "%s", out; exit (n == 1 ? 0 : (n == 0 ? 2 : 3)) }
	' "$CER_TMP/slots.txt" >"$CER_TMP/token.txt"
	case $? in
	0) ;;
	2) cer_fail 3 "no token labelled '$1' (module $HSMCA_MODULE): insert it, or check the label" ;;
	*) cer_fail 3 "more than one token is labelled '$1': remove the others, labels must be unique" ;;
	esac
	CER_TOKEN_SERIAL=$(sed -n 's/^ *serial num *: *\([^ ]*\) *$/\1/p' "$CER_TMP/token.txt" | head -n 1)
	CER_TOKEN_FLAGS=$(sed -n 's/^ *token flags *: *//p' "$CER_TMP/token.txt" | head -n 1)
}

# cer_token_check LABEL EXPECTED-SERIAL: show the token, check its serial.
cer_token_check() {
	cer_token_info "$1"
	cer_say "Token '$1' as the PKCS#11 module reports it:"
	sed 's/^/    /' "$CER_TMP/token.txt"
	sed "s/^/$(cer_now) > /" "$CER_TMP/token.txt" >>"$CER_TRANSCRIPT"
	case $CER_TOKEN_FLAGS in
	*"token initialized"*) ;;
	*) cer_fail 3 "token '$1' is not initialised" ;;
	esac
	case $CER_TOKEN_FLAGS in
	*"user PIN locked"*) cer_fail 3 "the user PIN of token '$1' is locked: unlock it with the SO PIN first" ;;
	*"user PIN count low"* | *"final try"*) cer_say "WARNING: the user PIN of token '$1' has had failed attempts" ;;
	esac
	if [ -n "$2" ]; then
		cer_same "$CER_TOKEN_SERIAL" "$2" "token serial is the expected one"
	else
		cer_say "No --token-serial given: the witness compares serial $CER_TOKEN_SERIAL" \
			"with the serial on the device or its tamper-evident bag."
	fi
}

# --- the quorum file -------------------------------------------------------

# cer_quorum_parse FILE DIR: writes DIR/approvers.tsv (index, id, name) and
# DIR/N.pub (each approver's public key), prints the threshold. For display
# only: the tools load and check the file themselves.
cer_quorum_parse() {
	awk -v dir="$2" '
	function emit(k, v) {
		if (depth == 1 && k == "threshold") thr = v
		else if (depth == 3 && top == "approvers") { if (k == "id") id[na] = v; else if (k == "name") nm[na] = v; else if (k == "public_key") pk[na] = v }
	}
	BEGIN { RS = "\001" }
	{ s = s $0 }
	END {
		n = length(s); i = 1; depth = 0; na = 0
		while (i <= n) {
			c = substr(s, i, 1)
			if (c == " " || c == "\t" || c == "\n" || c == "\r") { i++; continue }
			if (c == "{" || c == "[") {
				depth++; kind[depth] = c; wantkey[depth] = (c == "{"); key[depth] = ""
				if (c == "{" && depth == 3 && top == "approvers") na++
				i++; continue
			}
			if (c == "}" || c == "]") { depth--; i++; continue }
			if (c == ":") { i++; continue }
			if (c == ",") { if (kind[depth] == "{") wantkey[depth] = 1; i++; continue }
			if (c == "\"") {
				v = ""; i++
				while (i <= n) {
					c = substr(s, i, 1)
					if (c == "\"") break
					if (c == "\\") {
						i++; e = substr(s, i, 1)
						if (e == "n") v = v "\n"; else if (e == "t") v = v "\t"; else if (e == "r") v = v "\r"
						else if (e == "u") { v = v "?"; i += 4 }
						else if (e == "b" || e == "f") v = v " "
						else v = v e
					} else v = v c
					i++
				}
				i++
				if (kind[depth] == "{" && wantkey[depth]) { key[depth] = v; wantkey[depth] = 0; if (depth == 1) top = v; continue }
				emit(key[depth], v); continue
			}
			v = ""
			while (i <= n && substr(s, i, 1) ~ /[-+.0-9A-Za-z]/) { v = v substr(s, i, 1); i++ }
			if (v == "") { i++; continue }
			emit(key[depth], v)
		}
		for (a = 1; a <= na; a++) {
			gsub(/[\t\n\r]/, " ", nm[a]); gsub(/[^A-Za-z0-9._-]/, "?", id[a])
			printf "%d\t%s\t%s\n", a, id[a], nm[a] > (dir "/approvers.tsv")
			printf "%s", pk[a] > (dir "/" a ".pub")
			close(dir "/" a ".pub")
		}
		close(dir "/approvers.tsv")
		print thr
	}' "$1"
}

# cer_quorum_load FILE: CER_QUORUM_SHA256, _M, _N and $CER_TMP/quorum/.
cer_quorum_load() {
	[ -f "$1" ] || cer_fail 2 "quorum file $1 does not exist"
	CER_QUORUM_SHA256=$(cer_sha256 "$1")
	rm -rf "$CER_TMP/quorum"
	mkdir -p "$CER_TMP/quorum"
	CER_QUORUM_M=$(cer_quorum_parse "$1" "$CER_TMP/quorum")
	[ -f "$CER_TMP/quorum/approvers.tsv" ] || : >"$CER_TMP/quorum/approvers.tsv"
	CER_QUORUM_N=$(wc -l <"$CER_TMP/quorum/approvers.tsv" | tr -d ' ')
}

# cer_quorum_show FILE: the quorum file's hash, threshold and approvers
# (with the SHA-256 of each approver's public key, which each approver
# compares with the one they wrote down when they made their key).
cer_quorum_show() {
	cer_quorum_load "$1"
	cer_say "Quorum file:     $(cer_abs "$1")" \
		"Quorum SHA-256:  $CER_QUORUM_SHA256" \
		"Threshold:       $CER_QUORUM_M of $CER_QUORUM_N approvers must approve each action of the CA" \
		"Approvers:"
	while IFS='	' read -r _i _id _name; do
		_fp=$(cer_spki_pub "$CER_TMP/quorum/$_i.pub")
		_ty=$(cer_keydesc "$CER_TMP/quorum/$_i.pub")
		cer_say "  $_id ($_name): ${_ty:-unreadable key}" "      key SHA-256 $_fp"
	done <"$CER_TMP/quorum/approvers.tsv"
	case $CER_QUORUM_M in
	'' | *[!0-9]*) cer_fail 3 "quorum file $1: no numeric threshold" ;;
	esac
	[ "$CER_QUORUM_M" -ge 2 ] || cer_say "WARNING: a threshold of $CER_QUORUM_M lets one person act alone."
}

# --- approvals ------------------------------------------------------------

# cer_approve REQUEST DIR QUORUM CHECKLIST...: tell each approver what to
# check and run, collect the approval files into DIR (with --approve-cmd, or
# by waiting for the witness), and verify them against the quorum. Sets
# CER_APPROVALS to the approval files, shell-quoted as --approval options.
cer_approve() {
	_req=$(cer_abs "$1")
	_dir=$2
	_quorum=$3
	shift 3
	mkdir -p "$_dir" || cer_fail 1 "cannot create $_dir"
	_dir=$(cd "$_dir" && pwd)
	hsmca-two-person-approve show "$_req" --json >"$CER_TMP/show.json" 2>"$CER_TMP/show.err" ||
		cer_fail 3 "cannot read the approval request $_req: $(cat "$CER_TMP/show.err")"
	_words=$(cer_json request_words "$CER_TMP/show.json")
	_rsha=$(cer_json request_sha256 "$CER_TMP/show.json")
	cer_same "$_rsha" "$(cer_sha256 "$_req")" "request digest is the SHA-256 of the request file"
	cer_say "" "Every approver, in turn, at this workstation or on their own machine:" \
		"  1. runs:  hsmca-two-person-approve show $(cer_q "$_req")" \
		"     and checks each of these against the request shown:"
	for _c in "$@"; do
		cer_say "       - $_c"
	done
	cer_say "  2. reads the request words aloud; everyone compares them with:"
	# shellcheck disable=SC2086 # one word per argument, eight a line
	printf '%s\n' $_words | awk '{ l = l (NR % 8 == 1 ? "" : " ") $0 } NR % 8 == 0 { print l; l = "" } END { if (l != "") print l }' >"$CER_TMP/words"
	while IFS= read -r _l; do cer_say "       $_l"; done <"$CER_TMP/words"
	cer_say "     (request SHA-256 $_rsha)" \
		"  3. only if everything matches, approves:"
	cer_quorum_load "$_quorum"
	while IFS='	' read -r _i _id _name; do
		cer_say "       $_id:  hsmca-two-person-approve sign $(cer_q "$_req") --id $_id --key YOUR-KEY --out $(cer_q "$_dir/$_id.sig")"
	done <"$CER_TMP/quorum/approvers.tsv"
	cer_say "     (YOUR-KEY: your PEM key file, or your token key as a pkcs11: URI;" \
		"      $CER_QUORUM_M approvals of the $CER_QUORUM_N are needed)"
	if [ -n "$CER_APPROVE_CMD" ]; then
		cer_say "Collecting approvals with: $CER_APPROVE_CMD $(cer_q "$_req") $(cer_q "$_dir")"
		cer_log "RUN $CER_APPROVE_CMD $(cer_q "$_req") $(cer_q "$_dir")"
		if [ "$CER_INTERACTIVE" = 1 ]; then
			{
				sh -c "$CER_APPROVE_CMD"' "$@"' approve-cmd "$_req" "$_dir"
				echo $? >"$CER_TMP/rc"
			} 2>&1 | tee "$CER_TMP/out" | sed 's/^/    /'
		else
			{
				sh -c "$CER_APPROVE_CMD"' "$@"' approve-cmd "$_req" "$_dir" </dev/null
				echo $? >"$CER_TMP/rc"
			} 2>&1 | tee "$CER_TMP/out" | sed 's/^/    /'
		fi
		_t=$(cer_now)
		sed "s/^/$_t > /" "$CER_TMP/out" >>"$CER_TRANSCRIPT"
		cer_log "EXIT $(cat "$CER_TMP/rc")"
		[ "$(cat "$CER_TMP/rc")" = 0 ] || cer_fail 1 "the approval command failed"
	elif [ "$CER_INTERACTIVE" != 1 ]; then
		cer_fail 2 "--non-interactive needs --approve-cmd to collect approvals"
	else
		cer_confirm "When the approval files are in $_dir (copied from the approvers' media or written here):"
	fi
	while :; do
		set --
		for _f in "$_dir"/*.sig; do
			[ -f "$_f" ] && set -- "$@" "$_f"
		done
		if [ $# -gt 0 ] && cer_run hsmca-two-person-approve verify "$_req" --quorum "$_quorum" "$@"; then
			break
		fi
		[ "$CER_INTERACTIVE" = 1 ] || cer_fail 3 "the approvals in $_dir do not meet the quorum"
		cer_say "The approvals in $_dir do not meet the quorum yet."
		cer_confirm "Type yes to check again once more approvals are in $_dir:"
	done
	cer_log "CHECK ok approvals meet the quorum"
	CER_APPROVALS=
	for _f in "$@"; do
		cer_record output "$_f"
		CER_APPROVALS="$CER_APPROVALS --approval $(cer_q "$_f")"
	done
}

# --- the end of every ceremony ---------------------------------------------

# cer_hashes: SHA-256 of every output, and SHA256SUMS in the output
# directory (paths relative to it where they are inside it).
cer_hashes() {
	: >"$CER_OUT/SHA256SUMS"
	cer_say "Artifacts of this ceremony (SHA-256):"
	while IFS= read -r _p; do
		[ -f "$_p" ] || continue
		cer_record output "$_p" >/dev/null
		_h=$(cer_sha256 "$_p")
		case $_p in
		"$CER_OUT"/*) _rel=${_p#"$CER_OUT"/} ;;
		*) _rel=$_p ;;
		esac
		printf '%s  %s\n' "$_h" "$_rel" >>"$CER_OUT/SHA256SUMS"
		printf '  %s  %s\n' "$_h" "$_p"
	done <"$CER_TMP/outputs"
	cer_record output "$CER_OUT/SHA256SUMS" >/dev/null
	cer_say "SHA256SUMS: $CER_OUT/SHA256SUMS (check a copy with: sha256sum -c SHA256SUMS)" \
		"The CA state store (ca.db) changes with every operation: the audit head below stands for it."
}

# cer_audit_head CA: verify the audit chain and print its head for paper.
cer_audit_head() {
	cer_must hsmca-audit --ca "$1" verify
	_n=$(sed -n 's/^head: entry \([0-9]*\) sha256 \([0-9a-f]*\)$/\1/p' "$CER_TMP/out")
	_h=$(sed -n 's/^head: entry \([0-9]*\) sha256 \([0-9a-f]*\)$/\2/p' "$CER_TMP/out")
	[ -n "$_h" ] || cer_fail 1 "hsmca-audit verify printed no head hash"
	cer_log "AUDIT-HEAD $(cer_abs "$1") entry $_n sha256 $_h"
	printf '\nAudit head: %s entry %s sha256 %s\n' "$(cer_abs "$1")" "$_n" "$_h"
	_bar='+-------------------------------------------------------------+'
	printf '\n  %s\n' "$_bar"
	printf '  | %-59s |\n' "WRITE ON PAPER; witness and administrator sign and date" \
		"audit log of $(basename "$1"), entry $_n, sha256:" \
		"  $(printf '%s' "$_h" | cut -c1-32 | sed 's/..../& /g')" \
		"  $(printf '%s' "$_h" | cut -c33-64 | sed 's/..../& /g')"
	printf '  %s\n' "$_bar"
}

# --- certificates and CA directories -----------------------------------------

# cer_last_pem FILE: the last PEM certificate of a file (the root of a chain).
cer_last_pem() {
	awk '/-----BEGIN CERTIFICATE-----/ { b = "" } { b = b $0 "\n" } /-----END CERTIFICATE-----/ { last = b } END { printf "%s", last }' "$1"
}

cer_subject() { # CERT
	openssl x509 -in "$1" -noout -subject -nameopt RFC2253 2>/dev/null | sed 's/^subject=//'
}

# cer_ca_check DIR: show the CA that is about to sign and check it is sound:
# its certificate, key, token and pinned quorum; the audit chain intact.
# Sets CER_CA_SUBJECT, CER_CA_SPKI, CER_CA_TOKEN, CER_CA_QUORUM (empty when
# the CA has no quorum), CER_CA_ROOT (the trust anchor, a file).
cer_ca_check() {
	if [ ! -f "$1/ca.crt" ] || [ ! -f "$1/ca.json" ] || [ ! -f "$1/ca.db" ]; then
		cer_fail 2 "$1 is not a CA directory (ca.crt, ca.json, ca.db)"
	fi
	CER_CA_SUBJECT=$(cer_subject "$1/ca.crt")
	CER_CA_SPKI=$(cer_json spki_sha256 "$1/ca.json")
	CER_CA_TOKEN=$(cer_json token_label "$1/ca.json")
	CER_CA_QUORUM=
	[ -f "$1/quorum.json" ] && CER_CA_QUORUM=$1/quorum.json
	if [ -f "$1/chain.pem" ]; then
		cer_last_pem "$1/chain.pem" >"$CER_TMP/anchor.pem"
		CER_CA_ROOT=$CER_TMP/anchor.pem
	else
		CER_CA_ROOT=$1/ca.crt
	fi
	cer_record input "$1/ca.crt"
	cer_record input "$1/ca.json"
	[ ! -f "$1/chain.pem" ] || cer_record input "$1/chain.pem"
	cer_say "CA directory:    $1" "CA subject:      $CER_CA_SUBJECT" \
		"CA key:          $(cer_json key "$1/ca.json")" "CA SPKI SHA-256: $CER_CA_SPKI"
	cer_same "$(cer_spki_cert "$1/ca.crt")" "$CER_CA_SPKI" "ca.crt holds the CA's key"
	cer_run openssl x509 -in "$1/ca.crt" -noout -serial -dates -fingerprint -sha256 ||
		cer_fail 1 "openssl cannot read $1/ca.crt"
	if [ -n "$CER_CA_QUORUM" ]; then
		cer_record input "$CER_CA_QUORUM"
		cer_quorum_show "$CER_CA_QUORUM"
	else
		cer_say "This CA has no pinned quorum: it signs without approvals."
	fi
	cer_say "The audit log must be intact before the CA signs anything:"
	cer_must hsmca-audit --ca "$1" verify
	if [ -n "$CER_CA_TOKEN" ]; then
		cer_token_check "$CER_CA_TOKEN" "${CER_EXPECT_SERIAL:-$(cer_json token_serial "$1/ca.json")}"
	fi
}

# cer_csr_check CSR: the CSR's signature, subject and key fingerprint.
cer_csr_check() {
	cer_record input "$1"
	CER_CSR_INFORM=PEM
	openssl req -in "$1" -noout >/dev/null 2>&1 || CER_CSR_INFORM=DER
	cer_check "the CSR's signature verifies (proof of possession)" \
		openssl req -inform "$CER_CSR_INFORM" -in "$1" -noout -verify -subject -nameopt RFC2253
	CER_CSR_SUBJECT=$(openssl req -inform "$CER_CSR_INFORM" -in "$1" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
	CER_CSR_FP=$(cer_spki_csr "$1")
	openssl req -inform "$CER_CSR_INFORM" -in "$1" -noout -pubkey >"$CER_TMP/csr.pub" 2>/dev/null
	_kt=$(cer_keydesc "$CER_TMP/csr.pub")
	cer_say "CSR subject:         $CER_CSR_SUBJECT" "CSR key:             $_kt" \
		"CSR key SPKI SHA-256: $CER_CSR_FP"
	if [ -n "${CER_EXPECT_CSR_FP:-}" ]; then
		cer_same "$CER_CSR_FP" "$CER_EXPECT_CSR_FP" "the CSR key is the one the subordinate CA's operator announced"
	else
		cer_say "The subordinate CA's operator compares this SPKI SHA-256 with the one" \
			"hsmca-keygen printed when the key was made (or their CA console shows)."
	fi
}

# Subordinate signing, shared by root-ceremony (step 5) and subca-ceremony.
# Set first: CER_SUB_CA, CER_SUB_CSR, CER_SUB_DAYS, CER_SUB_CERT,
# CER_SUB_EXTRA (quoted extra hsmca-sign-subca options), CER_SUB_NAME.
cer_subca_cmd() {
	eval "cer_must hsmca-sign-subca --ca $(cer_q "$CER_SUB_CA") --csr $(cer_q "$CER_SUB_CSR") \
		--days $CER_SUB_DAYS --out $(cer_q "$CER_SUB_CERT") $CER_SUB_EXTRA $CER_PIN_ARGS \"\$@\""
}

cer_subca_prepare() {
	CER_SUB_REQ=$CER_OUT/requests/$CER_SUB_NAME.json
	mkdir -p "$CER_OUT/requests"
	if [ -z "$CER_CA_QUORUM" ]; then
		cer_say "No quorum on this CA: nothing to prepare or approve."
		return 0
	fi
	cer_say "Phase 1: build the subordinate CA certificate to be signed; no private key is used."
	cer_subca_cmd --prepare "$CER_SUB_REQ" --lint-cert "$CER_OUT/requests/$CER_SUB_NAME.lint.der"
	cer_record output "$CER_SUB_REQ"
	cer_record output "$CER_OUT/requests/$CER_SUB_NAME.lint.der"
	cer_run hsmca-two-person-approve show "$CER_SUB_REQ" || cer_fail 1 "cannot show $CER_SUB_REQ"
}

cer_subca_approve() {
	if [ -z "$CER_CA_QUORUM" ]; then
		CER_APPROVALS=
		return 0
	fi
	cer_approve "$CER_SUB_REQ" "$CER_OUT/approvals/$CER_SUB_NAME" "$CER_CA_QUORUM" \
		"Action is sign-subca" \
		"Issuer is: $CER_CA_SUBJECT" \
		"CA SPKI SHA-256 is $CER_CA_SPKI (the signing CA)" \
		"Subject is: ${CER_SUB_SUBJECT:-$CER_CSR_SUBJECT}" \
		"Key SPKI SHA-256 is $CER_CSR_FP (the CSR's key)" \
		"Basic Constraints is critical CA:TRUE with the agreed pathlen" \
		"Key Usage is critical Digital Signature, Certificate Sign, CRL Sign" \
		"Name Constraints, policies, EKU and URLs are the agreed ones (if any)" \
		"Validity is the agreed one, inside the issuer's" \
		"Quorum SHA-256 is $CER_QUORUM_SHA256"
}

cer_subca_execute() {
	if [ -n "$CER_CA_QUORUM" ]; then
		cer_say "Phase 2: the token signs exactly the approved certificate."
		eval "cer_subca_cmd --request $(cer_q "$CER_SUB_REQ") $CER_APPROVALS"
	else
		cer_subca_cmd
	fi
	cer_record output "$CER_SUB_CERT"
}

cer_subca_verify() {
	_ca=$CER_SUB_CA
	cat "$_ca/ca.crt" >"$CER_TMP/untrusted.pem"
	[ ! -f "$_ca/chain.pem" ] || cat "$_ca/chain.pem" >>"$CER_TMP/untrusted.pem"
	# The subordinate's chain file: its issuers up to and including the root.
	CER_SUB_CHAIN=$CER_OUT/$CER_SUB_NAME.chain.pem
	cp "$CER_TMP/untrusted.pem" "$CER_SUB_CHAIN"
	cer_record output "$CER_SUB_CHAIN"
	cer_check "openssl verifies the subordinate CA certificate up to the root" \
		openssl verify -x509_strict -CAfile "$CER_CA_ROOT" -untrusted "$CER_TMP/untrusted.pem" "$CER_SUB_CERT"
	if command -v certtool >/dev/null 2>&1; then
		cat "$CER_SUB_CERT" "$CER_TMP/untrusted.pem" >"$CER_TMP/certtool-chain.pem"
		cer_check "certtool verifies the subordinate CA certificate up to the root" \
			certtool --verify --load-ca-certificate "$CER_CA_ROOT" --infile "$CER_TMP/certtool-chain.pem"
	else
		cer_say "certtool is not installed (gnutls-bin): its check is skipped"
	fi
	cer_same "$(cer_spki_cert "$CER_SUB_CERT")" "$CER_CSR_FP" "the certificate certifies the CSR's key"
	if [ -n "$CER_CA_QUORUM" ]; then
		cer_same "$(cer_tbs_sha256 "$CER_SUB_CERT")" "$(cer_json tbs_sha256 "$CER_SUB_REQ")" \
			"the signed TBSCertificate is byte for byte the approved one"
	fi
	cer_run openssl x509 -in "$CER_SUB_CERT" -noout -subject -issuer -serial -dates -ext basicConstraints,keyUsage,nameConstraints ||
		cer_fail 1 "openssl cannot read $CER_SUB_CERT"
}

# All of it as one step (root-ceremony step 5).
cer_subca_all() {
	cer_csr_check "$CER_SUB_CSR"
	cer_confirm "Confirm: this CSR is the subordinate CA's (subject and key SPKI SHA-256 as announced)."
	cer_subca_prepare
	cer_subca_approve
	cer_confirm "Confirm: sign the subordinate CA certificate now."
	cer_subca_execute
	cer_subca_verify
	cer_confirm "Confirm: the subordinate CA certificate is the $(cer_which) one and it verifies."
}

# "approved" on a quorum CA, else "agreed": for the witness's questions.
cer_which() {
	if [ -n "$CER_CA_QUORUM" ]; then echo approved; else echo agreed; fi
}
