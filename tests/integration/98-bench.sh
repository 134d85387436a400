#!/bin/sh
# The benchmark still runs: `make bench` in its smoke mode (BENCH_QUICK=1,
# tiny sizes, the P-256 key only, the issuance parts without callgrind)
# ends with a summary block naming every figure with its target and a
# MET / NOT MET verdict; and the per-stage breakdown of a real callgrind
# profile of hsmca-sign-leaf adds up to the profile's total, with the
# token's C_Sign, the CSR check and the post-sign verification found where
# the table says. The figures of a smoke run mean nothing; that each is
# measured does. (Not under the sanitizers: valgrind cannot run ASan
# binaries, and the benchmark measures the optimised build.)
. "$HSMCA_TOP/tests/lib.sh"

if [ "${HSMCA_SAN:-0}" = 1 ]; then
	skip "make bench smoke run" "sanitizer build"
	skip "per-stage breakdown" "sanitizer build"
	done_testing
	exit
fi

# --- the smoke run --------------------------------------------------------
BENCH_QUICK=1 BENCH_KEYS=p256 BENCH_LEAF_PARTS="rate single rss large" TMPDIR=$T \
	"$HSMCA_TOP/scripts/bench" >bench.out 2>&1
is "$?" 0 "BENCH_QUICK=1 scripts/bench exits 0 (every run worked, every certificate and CRL verified)"
sed -n '/^==== summary/,$p' bench.out >summary
like "$(cat summary)" '^==== summary: every figure, its target and its verdict' "the run ends with one summary block"
for what in 'P-256 signing, provider vs raw C_Sign' \
	'batch issuance, two CPUs, hsmca vs openssl ca' \
	'batch issuance, pinned to one CPU, hsmca vs openssl ca' \
	'batch issuance, two CPUs, hsmca vs raw C_Sign' \
	'one certificate per process, hsmca-sign-leaf vs openssl x509 -req' \
	'peak RSS of hsmca-sign-leaf' \
	'batch issuance into a store of 2000 certificates vs an empty one' \
	'CRL of 1000 entries, hsmca-gen-crl vs openssl ca -gencrl \(wall time\)' \
	'CRL of 1000 entries, hsmca-gen-crl vs openssl ca -gencrl \(peak RSS\)' \
	'partitioned CRLs' \
	'crash safety, 1 SIGKILL trial'; do
	like "$(grep -E -- "$what" summary)" '^(MET|NOT MET) +.*: [0-9.]+x? \(target (>=|<=) [0-9.]+x?\)' \
		"summary: $(echo "$what" | tr -d '\\'), measured, with its target and verdict"
done
unlike "$(cat summary)" 'NOT MEASURED' "no figure of the summary went unmeasured"
like "$(grep '^large store:' bench.out)" '^large store: 2000 rows seeded in [0-9]+ s \([0-9]+ MB\); audit log OK: 2002 entries' \
	"the large store is seeded (tests/helpers/seedstore) and hsmca-audit verify accepts it"
like "$(grep 'two CPUs, 40 certificates' bench.out)" 'hsmca-sign-leaf [0-9]+ \[[0-9]+-[0-9]+\] \| openssl ca -notext -outdir' \
	"batch rates: medians and min-max for both tools"
like "$(grep -cE '^  rounds, hsmca: [0-9]+ [0-9]+ \| peer: [0-9]+ [0-9]+ \|' bench.out)" '^2$' \
	"two rounds of each tool, on two CPUs and pinned"

# --- the scale part's smoke run (BENCH_PARTS=scale; not in the default) ---
# 2,000 seeded rows, 200 revoked, 16 KiB partitions, on SQLite and, when
# PostgreSQL 15's server is installed, on a private cluster.
stores=sqlite
[ ! -x "${PG_BIN:-/usr/lib/postgresql/15/bin}/postgres" ] || stores="sqlite postgresql"
BENCH_QUICK=1 BENCH_SCALE_STORES=$stores TMPDIR=$T "$HSMCA_TOP/scripts/bench-scale" >scale.out 2>&1
is "$?" 0 "BENCH_QUICK=1 scripts/bench-scale exits 0 (stores seeded and accepted, batches issued, CRLs verified)"
for st in $stores; do
	case $st in sqlite) name=SQLite ;; *) name=PostgreSQL ;; esac
	for what in 'batch issuance into the seeded store vs the empty one' 'largest partition CRL' \
		'gen-crl of every partition' 'gen-crl peak RSS' 'hsmca-audit show SERIAL'; do
		like "$(grep -E "^(MET|NOT MET) +scale \($name, 2000 certificates \(200 revoked\)\): $what" scale.out | tail -n 1)" \
			': [0-9.]+x? \(target (>=|<=) [0-9.]+x?\)' "scale, $name: $what, measured, with its target and verdict"
	done
	like "$(grep -E "^ +scale \($name, " scale.out | tail -n 1)" '[0-9]+ bytes per certificate .*projected to 100000000 certificates: [0-9]+ GB' \
		"scale, $name: store size per certificate and its projection"
done
like "$(grep -cE '^hsmca-audit verify: audit log OK: 2[0-9]{3} entries' scale.out)" "^$(echo "$stores" | wc -w)\$" \
	"the seeded stores (2,000 rows, 200 revocations, their audit entries) pass hsmca-audit verify"
unlike "$(cat scale.out)" 'NOT MEASURED' "no figure of the scale part went unmeasured"
if [ "$stores" != sqlite ]; then
	pid=$(sed -n 's/^(PostgreSQL cluster in .*, postmaster PID \([0-9]*\))$/\1/p' scale.out)
	like "$pid" '^[0-9]+$' "the scale part names its cluster's postmaster"
	is "$(ps -o pid= -p "${pid:-0}" | tr -d ' ')" "" "the scale part's PostgreSQL cluster is stopped at its end"
fi

# --- the per-stage breakdown of a real profile ----------------------------
BENCH_TOP=$HSMCA_TOP
BENCH_BUILD=$HSMCA_BUILD
. "$HSMCA_TOP/scripts/bench-lib.sh"
BT=$T
if ! command -v valgrind >/dev/null; then
	skip "per-stage breakdown" "valgrind not installed (scripts/install-deps)"
	done_testing
	exit
fi
new_token Issuing
keygen Issuing ca-key ec:p256 >/dev/null
hsmca-init-ca --ca ca --key "pkcs11:token=Issuing;object=ca-key" --pin-source "$PINSRC" \
	--self-sign --subject "CN=Bench Test CA" --days 3650 >/dev/null
mkdir csrs out
"$HSMCA_BUILD/tests/mkcsrs" csrs 2 >/dev/null
BENCH_CG_OPTS=$BENCH_CG_STAGE_OPTS
check "hsmca-sign-leaf runs under callgrind" bench_callgrind "$T/cg" "$BIN/hsmca-sign-leaf" \
	--ca ca --pin-source "$PINSRC" --requests csrs/tls.json --csr-dir csrs --out-dir out
total=$(bench_cg_total "$T/cg")
bench_cg_stages "$BENCH_LEAF_STAGES" "$T"/cg.[0-9]* >stages
like "$total" '^[0-9]{7,}$' "callgrind counted the run's instructions ($total)"
is "$(sed -n 's/^total //p' stages)" "$total" "the breakdown reads the same total"
is "$(awk '$1 == "stage" { s += $3 } END { printf "%.0f\n", s }' stages)" "$total" \
	"the stages (rest included) add up to the total: no cost counted twice or lost"
is "$(grep -c '^stage ' stages)" "$(($(printf '%s\n' "$BENCH_LEAF_STAGES" | grep -c '|') + 1))" \
	"one line per stage of the table, and rest"
is "$(sed -n 's/^unused //p' stages | tr '\n' ' ')" "" \
	"every name in the stage table is a function of the run (a rename updates BENCH_LEAF_STAGES)"
for s in token csr_verify verify lint audit; do
	like "$(sed -n "s/^stage $s //p" stages)" '^[1-9][0-9]{4,}$' "stage $s holds the cost of its functions"
done
# Two signatures (two certificates) on the token: C_SignInit + C_Sign of
# SoftHSM cost about half a million instructions each.
like "$(sed -n 's/^stage token //p' stages)" '^[0-9]{6,7}$' "the token stage is two signatures' worth"

done_testing
