#!/bin/sh
# PIN safety on the command line: every tool, given a known test PIN in
# the wrong places (--pin, abbreviations of --pin-source, as a PIN source,
# as an operand, in a URI, short options), refuses and never prints the
# PIN on stdout or stderr. Abbreviated long options are refused by every
# tool (getopt_long would take a unique prefix).
. "$HSMCA_TOP/tests/lib.sh"

# A PIN that cannot occur by chance in any output.
PIN=Qx7391PinNeverShown
printf '%s\n' "$PIN" >"$T/pin"
root_ca ec:p256 "CN=PIN Root"
issuing_ca "CN=PIN Issuing CA"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key \
	-subj /CN=leaf.example.com -out leaf.csr 2>/dev/null
# A PIN file holding a wrong PIN that also must never be shown.
WRONG=Wz5518WrongPinShown
printf '%s\n' "$WRONG" >"$T/wrongpin"

KEY="pkcs11:token=Issuing;object=issuing-key"
# Each tool with arguments that would otherwise work (up to the PIN).
set -- \
	"keygen|--token pkcs11:token=Issuing --label pin-test --type ec:p256" \
	"init-ca|--ca newca --key $KEY --self-sign --subject CN=x --days 10" \
	"sign-subca|--ca root --csr issuing.csr --days 10 --out sub.crt" \
	"sign-leaf|--ca issuing --csr leaf.csr --out leaf.crt" \
	"revoke|--ca issuing --serial 01" \
	"gen-crl|--ca issuing --out crl.pem" \
	"two-person-approve|sign req.json --id alice --key $KEY --out a.sig" \
	"audit|--ca issuing verify" \
	"ceremony|check $HSMCA_TOP/ceremony/examples/key.yaml"

# The wrong ways, WAY standing for where the PIN goes.
ways="--pin WAY|--pin=WAY|--pi WAY|--pin-s WAY|--pin-sourc=WAY|--pin-source WAY|--pin-source=WAY|--pin-source fd:WAY|--pin-source env:WAY|--pin-source file:WAY|--pin-source pin:WAY|--pin-value WAY|-p WAY|-pWAY|-pin WAY|--password WAY|--password=WAY|--PIN WAY|WAY"

: >all.log
runs=0
for spec in "$@"; do
	tool=${spec%%|*}
	args=${spec#*|}
	old_ifs=$IFS
	IFS='|'
	for way in $ways; do
		IFS=$old_ifs
		w=$(printf '%s' "$way" | sed "s/WAY/$PIN/g")
		# shellcheck disable=SC2086
		"hsmca-$tool" $args $w >out.txt 2>&1 </dev/null
		rc=$?
		runs=$((runs + 1))
		{ echo "### hsmca-$tool $args <$way> exit $rc"; cat out.txt; } >>all.log
		[ "$rc" -eq 0 ] && notok "hsmca-$tool with $way is refused" "$(cat out.txt)"
		IFS='|'
	done
	IFS=$old_ifs
	# A PIN inside a token URI: refused, and not echoed.
	case $args in
	*"$KEY"*)
		a=$(printf '%s' "$args" | sed "s|$KEY|$KEY;pin-value=$PIN|") # refused below
		# shellcheck disable=SC2086
		"hsmca-$tool" $a --pin-source "$PINSRC" >out.txt 2>&1 </dev/null
		rc=$?
		{ echo "### hsmca-$tool pin-value in URI exit $rc"; cat out.txt; } >>all.log
		[ "$rc" -eq 0 ] && notok "hsmca-$tool with pin-value in the key URI is refused" "$(cat out.txt)"
		runs=$((runs + 1))
		;;
	esac
	# A well-formed source holding a wrong PIN, and the right one.
	# shellcheck disable=SC2086
	"hsmca-$tool" $args --pin-source "file:$T/wrongpin" >out.txt 2>&1 </dev/null
	{ echo "### hsmca-$tool wrong PIN exit $?"; cat out.txt; } >>all.log
	# shellcheck disable=SC2086
	"hsmca-$tool" $args --pin-source "$PINSRC" --json >out.txt 2>&1 </dev/null
	{ echo "### hsmca-$tool right PIN exit $?"; cat out.txt; } >>all.log
	runs=$((runs + 2))
done
diag "$runs runs"
is "$(grep -c "$PIN" all.log)" 0 "no tool prints the PIN on stdout or stderr, whatever the mistake"
is "$(grep -c "$WRONG" all.log)" 0 "no tool prints a wrong PIN read from a PIN source"
n=$(grep -c '^### .*<--pin WAY> exit 2$' all.log)
is "$n" 9 "--pin is a usage error (exit 2) for all nine tools"
is "$(grep -c 'a PIN is never given on the command line' all.log)" 54 \
	"--pin, --pin=, --pin-value, -p, -pPIN and -pin are refused by name, by every tool"
is "$(grep -c 'a PIN is never given on the command line; use --pin-source' all.log)" 48 \
	"... pointing to --pin-source in the tools that have it"
like "$(cat all.log)" "unknown option '--pi': options are never abbreviated \(did you mean --pin-source\?\)" \
	"an abbreviation is refused and the full name suggested"
like "$(cat all.log)" "bad PIN source \(not shown\)" "a bad PIN source is reported without its text"

# Abbreviations of any option, for each tool.
expect_fail 2 "unknown option '--ca-dir'|unknown option '--c'" "prefix of --ca refused" hsmca-audit --c issuing verify
expect_fail 2 "options are never abbreviated \(did you mean --subject\?\)" "init-ca: --subj refused" \
	hsmca-init-ca --ca x --key "$KEY" --self-sign --subj CN=x --days 1
expect_fail 2 "options are never abbreviated \(did you mean --requests\?\)" "sign-leaf: --req refused" \
	hsmca-sign-leaf --ca issuing --req tls.json --csr-dir . --out-dir o
expect_fail 2 "options are never abbreviated \(did you mean --partitions\?\)" "gen-crl: --part refused" \
	hsmca-gen-crl --ca issuing --part 2 --out-dir o
expect_fail 2 "options are never abbreviated \(did you mean --reason\?\)" "revoke: --reas refused" \
	hsmca-revoke --ca issuing --serial 01 --reas keyCompromise
expect_fail 2 "options are never abbreviated \(did you mean --pathlen\?\)" "sign-subca: --path refused" \
	hsmca-sign-subca --ca root --csr issuing.csr --days 1 --path 0 --out s.crt
expect_fail 2 "options are never abbreviated \(did you mean --label\?\)" "keygen: --lab refused" \
	hsmca-keygen --token pkcs11:token=Issuing --lab k --type ec:p256
expect_fail 2 "options are never abbreviated \(did you mean --expiring\?\)" "audit: --exp refused" \
	hsmca-audit --ca issuing report --exp 30
expect_fail 2 "options are never abbreviated \(did you mean --quorum\?\)" "two-person-approve: --quo refused" \
	hsmca-two-person-approve verify req.json --quo q.json a.sig
expect_fail 2 "options are never abbreviated \(did you mean --rehearse\?\)" "ceremony: --reh refused" \
	hsmca-ceremony plan "$HSMCA_TOP/ceremony/examples/key.yaml" --reh
expect_fail 2 "option --json takes no value" "a value given to a flag is refused" hsmca-audit --ca issuing --json=yes verify
expect_fail 2 "option --ca needs a value" "a missing value is refused" hsmca-audit verify --ca
check "a full option name works" hsmca-audit --ca issuing verify
check "--name=value works" hsmca-audit --ca=issuing verify
check "-- ends the options" hsmca-audit --ca issuing -- verify
done_testing
