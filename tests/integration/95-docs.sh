#!/bin/sh
# Documentation: every tool answers --help (exit 0) and has a man page that
# renders without warnings and documents every flag its --help lists (and
# no flag the tool does not take). The example ceremony files pass
# hsmca-ceremony check.
. "$HSMCA_TOP/tests/lib.sh"

MAN=$HSMCA_TOP/man
# The tools the specification names, plus any other tools/*.c.
tools="keygen init-ca sign-subca sign-leaf revoke gen-crl two-person-approve audit"
for src in "$HSMCA_TOP"/tools/*.c; do
	n=$(basename "$src" .c)
	case " $tools " in *" $n "*) ;; *) tools="$tools $n" ;; esac
done

have_groff=0
command -v groff >/dev/null 2>&1 && have_groff=1
have_man=0
command -v man >/dev/null 2>&1 && have_man=1

# Flags in a man page source, hyphens unescaped.
man_text() { sed 's/\\-/-/g; s/\\f[BIRP]//g; s/\\(aq/'"'"'/g' "$1"; }
# Flags a --help text names.
help_flags() { grep -oE -- '--[a-z][a-z0-9-]*' "$1" | sort -u; }
# Flags the OPTIONS section of a man page documents (.TP/.TQ items).
man_option_flags() {
	man_text "$1" | awk '/^\.SH /{ opt = ($0 ~ /^\.SH OPTIONS/) } opt && prev ~ /^\.T[PQ]/ { print } { prev = $0 }' |
		grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}

render_checks() { # PAGE
	_p=$1
	_b=$(basename "$_p")
	if [ "$have_groff" = 1 ]; then
		groff -man -Tutf8 -ww -z "$_p" >"$T/groff.err" 2>&1
		_rc=$?
		if [ "$_rc" -eq 0 ] && [ ! -s "$T/groff.err" ]; then
			ok "$_b: groff -man -Tutf8 -ww reports nothing"
		else
			notok "$_b: groff -man -Tutf8 -ww reports nothing" "$(head -n 5 "$T/groff.err")"
		fi
	else
		skip "$_b: groff -ww" "groff is not installed (apt-get install groff-base)"
	fi
	if [ "$have_man" = 1 ]; then
		MANWIDTH=80 man --warnings -E UTF-8 -l -P cat "$_p" >"$T/man.out" 2>"$T/man.err"
		if [ -s "$T/man.out" ] && [ ! -s "$T/man.err" ]; then
			ok "$_b: man -l renders it without warnings"
		else
			notok "$_b: man -l renders it without warnings" "$(head -n 5 "$T/man.err")"
		fi
	else
		skip "$_b: man -l" "man is not installed (apt-get install man-db)"
	fi
}

section_checks() { # PAGE
	_b=$(basename "$1")
	_missing=''
	for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" FILES EXAMPLES "SEE ALSO"; do
		grep -q "^\.SH \"\{0,1\}$s\"\{0,1\}\$" "$1" || _missing="$_missing [$s]"
	done
	is "$_missing" "" "$_b: has NAME, SYNOPSIS, DESCRIPTION, OPTIONS, EXIT STATUS, FILES, EXAMPLES, SEE ALSO"
}

for t in $tools; do
	page=$MAN/hsmca-$t.1
	bin=$BIN/hsmca-$t
	if [ -f "$page" ]; then
		ok "hsmca-$t has a man page"
	else
		notok "hsmca-$t has a man page" "missing: man/hsmca-$t.1"
		continue
	fi
	like "$(sed -n '/^\.SH NAME/{n;p;}' "$page")" "^hsmca-$t \\\\- " "hsmca-$t.1: NAME line names the tool"
	section_checks "$page"
	render_checks "$page"
	if [ ! -x "$bin" ]; then
		skip "hsmca-$t --help" "hsmca-$t is not built"
		continue
	fi
	"$bin" --help >"$T/help.out" 2>"$T/help.err"
	rc=$?
	is "$rc" 0 "hsmca-$t --help exits 0"
	like "$(head -n 1 "$T/help.out")" "^usage: hsmca-$t " "hsmca-$t --help starts with its usage"
	is "$(cat "$T/help.err")" "" "hsmca-$t --help writes nothing on stderr"
	missing=''
	for f in $(help_flags "$T/help.out"); do
		man_text "$page" | grep -qE -- "$f([^a-z0-9-]|\$)" || missing="$missing $f"
	done
	is "$missing" "" "hsmca-$t.1 documents every flag of --help"
	extra=''
	for f in $(man_option_flags "$page"); do
		case $f in --help | --version | --allow-pin-value) continue ;; esac
		grep -qE -- "$f([^a-z0-9-]|\$)" "$T/help.out" || extra="$extra $f"
	done
	is "$extra" "" "hsmca-$t.1 documents no option --help does not list"
	# Exit codes the --help names are described in EXIT STATUS.
	codes=$(sed -n '/^Exit status:/,$p' "$T/help.out" | grep -oE '(^|[ ,:])[0-3] ' | tr -dc '0-3\n' | sort -u)
	miss=''
	for c in $codes; do
		awk '/^\.SH EXIT STATUS/{ e = 1; next } /^\.SH /{ e = 0 } e' "$page" | grep -qx "\.B $c" || miss="$miss $c"
	done
	is "$miss" "" "hsmca-$t.1 describes exit codes $(printf '%s' "$codes" | tr '\n' ' ')"
	"$bin" --version >"$T/version.out" 2>&1
	like "$(cat "$T/version.out")" "^hsmca-$t [0-9]" "hsmca-$t --version"
	if grep -q "hsmca-$t" "$HSMCA_TOP/README.md"; then ok "README.md covers hsmca-$t"; else notok "README.md covers hsmca-$t"; fi
done

# The overview page and its cross-references.
if [ -f "$MAN/hsmca.7" ]; then
	ok "hsmca.7 exists"
	render_checks "$MAN/hsmca.7"
	for t in $tools; do
		grep -q "^\.BR hsmca-$t (1)" "$MAN/hsmca.7" || notok "hsmca.7 refers to hsmca-$t(1)"
	done
	ok "hsmca.7 refers to every tool"
else
	notok "hsmca.7 exists"
fi
# SEE ALSO references resolve to pages we ship (or well-known ones).
bad=''
for p in "$MAN"/*.1 "$MAN"/*.7; do
	for r in $(man_text "$p" | sed -n '/^\.SH SEE ALSO/,$p' | grep -oE 'hsmca(-[a-z-]+)? \(([17])\)' | tr -d ' ()'); do
		n=$(echo "$r" | sed 's/[17]$//')
		s=$(echo "$r" | sed 's/.*\([17]\)$/\1/')
		[ -f "$MAN/$n.$s" ] || bad="$bad $(basename "$p")->$n($s)"
	done
done
is "$bad" "" "every hsmca page in SEE ALSO exists"

# The ceremony files shipped (installed as runbooks) and the demo.
check "ceremony/demo passes sh -n" sh -n "$HSMCA_TOP/ceremony/demo"
if [ -x "$HSMCA_TOP/ceremony/demo" ]; then ok "ceremony/demo is executable"; else notok "ceremony/demo is executable"; fi
for f in "$HSMCA_TOP"/ceremony/examples/*.yaml; do
	case $f in */env.example.yaml) continue ;; esac
	check "$(basename "$f") passes hsmca-ceremony check" "$BIN/hsmca-ceremony" check "$f"
	t=$(sed -n 's/^type: //p' "$f")
	man_text "$MAN/hsmca-ceremony.1" | grep -q "type: $t" || notok "hsmca-ceremony.1 describes type $t"
done
ok "hsmca-ceremony.1 describes every ceremony type"
# The provider section of README: the quorum bypass is stated, its
# examples use no root key, and it says how to check a provider that
# OpenSSL cannot find (tests/integration/10-provider-errors.sh runs the
# check).
prov=$(sed -n '/^## The OpenSSL provider from the stock CLI/,/^## /p' "$HSMCA_TOP/README.md")
like "$prov" "quorum-protected root key included.*no approvals.*audit log" "README: the provider can use a quorum key outside approvals and the audit log"
unlike "$prov" "object=root-key" "README: the provider examples use no root key"
like "$prov" "openssl list -providers -provider-path" "README: how to check that OpenSSL finds the provider"
cnf=$HSMCA_TOP/providers/hsmca/openssl-hsmca.cnf
is "$(grep -cE '^[[:space:]]*pkcs11-module' "$cnf")" 0 "openssl-hsmca.cnf: no active pkcs11-module line"
like "$(cat "$cnf")" "openssl list -providers" "openssl-hsmca.cnf says how to check the provider loads"
unlike "$(cat "$cnf")" "object=root-key" "openssl-hsmca.cnf: its example uses no root key"
done_testing
