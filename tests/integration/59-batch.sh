#!/bin/sh
# Batches under stress: a damaged chain.pem, a million refusals in bounded
# memory, an invalid tls.json reported whole, --check, SIGINT/SIGTERM, a
# full disk; every report from committed state.
# hsmca-test: token
# hsmca-test: store
. "$HSMCA_TOP/tests/lib.sh"

root_ca ec:p256 "CN=Batch Test Root"
issuing_ca "CN=Batch Test Issuing CA"
leaf() { hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" "$@"; }
db() { store_sql issuing "$1"; }
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

# --- an invalid tls.json: every error, and no summary line -------------------
cat >bad.json <<'J'
[{"common_name": "a.example.com", "csr_file": "a.csr"},
 {"common_name": "b.example.com", "csr_file": "b.csr", "colour": "red"},
 {"common_name": "c.example.com", "csr_file": "c.csr"},
 {"common_name": "d.example.com", "csr_file": "c.csr", "lifetime": "long"},
 {"common_name": "e.example.com", "csr_file": "c.csr", "sans": {"DN": "x"}}]
J
n0=$(db "select count(*) from certs")
leaf --requests bad.json --csr-dir csrs --out-dir badout >bad.out 2>&1
is "$?" 3 "invalid tls.json: exit 3, nothing issued"
like "$(cat bad.out)" "request 2: unknown key 'colour'" "request 2's error reported"
like "$(cat bad.out)" "request 4: lifetime" "request 4's error reported (its key named)"
like "$(cat bad.out)" "request 5: sans" "request 5's error reported (its key named)"
like "$(cat bad.out)" "3 of 5 requests are invalid" "the count of invalid requests"
unlike "$(cat bad.out)" "issued 0|summary.json" "no summary line, no summary.json named"
[ -e badout/summary.json ] && notok "no summary.json for an invalid file" || ok "no summary.json for an invalid file"
is "$(db "select count(*) from certs")" "$n0" "nothing issued from an invalid tls.json"
out=$(leaf --requests bad.json --csr-dir csrs --out-dir badout --json 2>/dev/null)
is "$(printf '%s' "$out" | python3 -c 'import json,sys; s = json.load(sys.stdin); print(s["invalid"], [(e["request"], e.get("key")) for e in s["errors"]])')" \
	"3 [(2, 'colour'), (4, 'lifetime'), (5, 'sans')]" "--json: each invalid request with its index and key"

# --- --check: the requests and CSRs validated, nothing signed ------------------
(cd csrs && csr d && csr e)
# a CSR whose signature does not verify: one byte of its signature changed
openssl req -in csrs/e.csr -outform DER -out e.der
python3 -c 'import sys; d = bytearray(open("e.der","rb").read()); d[-5] ^= 1; open("csrs/e-bad.csr","wb").write(d)'
cat >check.json <<'J'
[{"common_name": "d.example.com", "csr_file": "d.csr"},
 {"common_name": "e.example.com", "csr_file": "e-bad.csr"},
 {"common_name": "b.example.com", "csr_file": "b.csr", "lifetime": 5000}]
J
audit0=$(db "select count(*) from audit")
hsmca-sign-leaf --ca issuing --check --requests check.json --csr-dir csrs </dev/null >check.out 2>&1
is "$?" 3 "--check: a request that would be refused: exit 3"
like "$(cat check.out)" "checked 3: 1 valid, 2 would be refused" "--check counts"
like "$(cat check.out)" "signature" "--check: the bad CSR signature named"
like "$(cat check.out)" "lifetime of 5000 days" "--check: the lint/profile refusal named"
is "$(db "select count(*) from certs")" "$n0" "--check issued nothing"
is "$(db "select count(*) from audit")" "$audit0" "--check wrote nothing to the store"
echo '[{"common_name": "d.example.com", "csr_file": "d.csr"}]' >check-ok.json
check "--check of a valid tls.json: exit 0, no PIN asked" sh -c "hsmca-sign-leaf --ca issuing --check --requests check-ok.json --csr-dir csrs </dev/null"
check "--check of one CSR" hsmca-sign-leaf --ca issuing --check --csr csrs/d.csr --profile server
expect_fail 2 "writes nothing" "--check with --out-dir refused (exit 2)" \
	hsmca-sign-leaf --ca issuing --check --requests check-ok.json --csr-dir csrs --out-dir x

# --- SIGINT / SIGTERM: a clean stop, a re-run resumes --------------------------
N=2000
[ "$HSMCA_TEST_TOKEN" = tpm ] && N=1000
mkdir scsrs
"$HSMCA_BUILD/tests/mkcsrs" scsrs "$N" || notok "made $N CSRs"
stop_batch() { # SIGNAL OUTDIR CSRDIR
	# A background job of sh ignores SIGINT: the tool is started with it
	# restored, as from a terminal (exec keeps the PID).
	python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" \
		--requests "$3/tls.json" --csr-dir "$3" --out-dir "$2" >"$2.out" 2>"$2.err" &
	_pid=$!
	_sig=$1 _outd=$2
	# A chunk's certificate files appear once it is committed: counted
	# without starting a process, so that a fast token cannot finish the
	# batch between two looks.
	_i=0
	while :; do
		set -- "$_outd"/*.crt
		[ -e "$1" ] && [ $# -ge 256 ] && break
		[ $_i -lt 6000 ] || break
		sleep 0.05
		_i=$((_i + 1))
	done
	kill -s "$_sig" $_pid
	wait $_pid
	echo $? >"$_outd.rc"
}
mkdir sint
base=$(db "select count(*) from certs")
stop_batch INT sint scsrs
is "$(cat sint.rc)" 1 "SIGINT: the batch stops with exit 1"
like "$(cat sint.err)" "stopped by SIGINT" "SIGINT: the message says so"
like "$(cat sint.err)" "re-run the same command to continue" "SIGINT: a re-run resumes"
is "$(find sint -name '*.tmp-*' | wc -l)" 0 "SIGINT: no temporary files left"
committed=$(($(db "select count(*) from certs") - base))
[ "$committed" -gt 0 ] && [ "$committed" -lt "$N" ] && ok "SIGINT: stopped mid-batch ($committed committed)" ||
	notok "SIGINT: stopped mid-batch" "$committed committed"
like "$(cat sint.out)" "^issued $committed, already issued 0, refused 0; stopped after request $committed of $N" \
	"SIGINT: the counts are the committed ones"
is "$(python3 -c 'import json; s = json.load(open("sint/summary.json")); print(s["complete"], s["issued"], s["processed"], "SIGINT" in s["stopped"], "re-run" in s["resume"], len(s["results"]))')" \
	"False $committed $committed True True $committed" "SIGINT: summary.json says what was done and that a re-run resumes"
is "$(ls sint/*.crt | wc -l)" "$committed" "SIGINT: every committed certificate's file written"
leaf --requests scsrs/tls.json --csr-dir scsrs --out-dir sint >sint2.out 2>&1
is "$?" 0 "SIGINT: the re-run completes"
like "$(cat sint2.out)" "issued $((N - committed)), already issued $committed, refused 0" "SIGINT: the re-run issues only the rest"
mkdir sterm tcsrs
"$HSMCA_BUILD/tests/mkcsrs" tcsrs "$N" || notok "made $N CSRs"
stop_batch TERM sterm tcsrs
is "$(cat sterm.rc)" 1 "SIGTERM: the batch stops with exit 1"
like "$(cat sterm.err)" "stopped by SIGTERM" "SIGTERM: the message says so"
is "$(find sterm -name '*.tmp-*' | wc -l)" 0 "SIGTERM: no temporary files left"

# --- a full disk: the report tells what was committed -------------------------
# The CA directory on a small tmpfs: the store runs out of space mid-batch.
mkdir full
if [ "$HSMCA_TEST_STORE" != sqlite ]; then
	skip "full disk tests" "SQLite only: the store is ca.db in the CA directory on a full tmpfs"
elif mount -t tmpfs -o size=1200k tmpfs full 2>/dev/null; then
	keygen Issuing full-key ec:p256 >/dev/null
	hsmca-init-ca --ca full/ca --key "pkcs11:token=Issuing;object=full-key" --pin-source "$PINSRC" \
		--self-sign --subject "CN=Full Disk CA" --days 365 >/dev/null
	mkdir ecsrs fout
	"$HSMCA_BUILD/tests/mkcsrs" ecsrs 3000 || notok "made 3000 CSRs"
	hsmca-sign-leaf --ca full/ca --pin-source "$PINSRC" --requests ecsrs/tls.json --csr-dir ecsrs \
		--out-dir fout >full.out 2>full.err
	is "$?" 1 "full disk: the batch fails (exit 1)"
	committed=$(sqlite3 full/ca/ca.db "select count(*) from certs where kind = 'leaf'")
	diag "full disk: $committed committed; $(cat full.err)"
	[ "$committed" -lt 3000 ] && ok "full disk: stopped mid-batch" || notok "full disk: stopped mid-batch"
	like "$(cat full.out)" "^issued $committed, already issued 0, refused 0; stopped after request $committed of 3000" \
		"full disk: the counts printed are the committed ones"
	like "$(cat full.err)" "committed: requests 1 to $committed \(issued $committed" "full disk: the message says what was committed"
	like "$(cat full.err)" "requests $((committed + 1)) to 3000 were not processed" "full disk: ... and what was not"
	like "$(cat full.out)" "details: fout/summary.json" "full disk: summary.json named ..."
	is "$(python3 -c 'import json; s = json.load(open("fout/summary.json")); print(s["complete"], s["issued"], len(s["results"]))')" \
		"False $committed $committed" "... and written, with the committed results"
	is "$(ls fout/*.crt | wc -l)" "$committed" "full disk: each committed certificate's file written"
	umount full
	# One certificate when the store cannot commit: nothing reported as
	# issued. A fresh CA on its own tmpfs, filled up to the store's shared
	# memory index (32 KiB) and one page.
	mkdir full1
	mount -t tmpfs -o size=1m tmpfs full1
	keygen Issuing one-key ec:p256 >/dev/null
	hsmca-init-ca --ca full1/ca --key "pkcs11:token=Issuing;object=one-key" --pin-source "$PINSRC" \
		--self-sign --subject "CN=Full Disk CA 2" --days 365 >/dev/null
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout one.key -out one.csr \
		-subj /CN=one.example.com 2>/dev/null
	sqlite3 full1/ca/ca.db "pragma wal_checkpoint(TRUNCATE)" >/dev/null
	avail=$(df -k --output=avail full1 | tail -n 1)
	dd if=/dev/zero of=full1/filler bs=1k count=$((avail - 36)) 2>/dev/null
	hsmca-sign-leaf --ca full1/ca --pin-source "$PINSRC" --csr one.csr --out one.crt >one.out 2>one.err
	rc=$?
	[ "$rc" -eq 1 ] && ok "single issuance on a full disk fails (exit 1)" || notok "single issuance on a full disk fails (exit 1)" "exit $rc"
	like "$(cat one.err)" "disk is full" "single issuance: the store's error reported"
	unlike "$(cat one.out)" "issued" "single issuance: no 'issued:' for a certificate not committed"
	is "$(sqlite3 full1/ca/ca.db "select count(*) from certs where kind = 'leaf'")" 0 "single issuance: nothing committed"
	[ -e one.crt ] && notok "single issuance: no certificate file" || ok "single issuance: no certificate file"
	umount full1
else
	skip "full disk tests" "cannot mount a tmpfs here (needs root)"
fi

# --- a million refusals in bounded memory -------------------------------------
# Every CSR is missing: each request is refused. Refusals are streamed to
# summary.json and their audit entries aggregated per chunk; peak RSS stays
# under 100 MB (it was 1.29 GB).
# (Under the sanitizers, whose shadow memory makes RSS meaningless, 50,000;
# on PostgreSQL too: the refusals are the batch's, not the store's, and the
# million runs on SQLite.)
M=1000000
[ "${HSMCA_SAN:-0}" = 1 ] && M=50000
[ "$HSMCA_TEST_STORE" = postgresql ] && M=50000
python3 -c '
import sys
sys.stdout.write("[" + ",".join("{\"common_name\":\"m%d.example.com\",\"csr_file\":\"missing-%d.csr\"}" % (i, i)
                 for i in range(int(sys.argv[1]))) + "]")' "$M" >million.json
mkdir mout
audit0=$(db "select count(*) from audit")
/usr/bin/time -f %M -o million.rss hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" --requests million.json \
	--csr-dir csrs --out-dir mout >million.out 2>million.err
is "$?" 3 "$M refused requests: exit 3"
rss=$(tail -n 1 million.rss)
diag "$M refusals: peak RSS ${rss} KB"
if [ "${HSMCA_SAN:-0}" = 1 ]; then
	skip "a million refusals under 100 MB peak RSS" "sanitizer build (shadow memory)"
else
	[ "$rss" -lt 102400 ] && ok "$M refusals under 100 MB peak RSS" ||
		notok "$M refusals under 100 MB peak RSS" "peak RSS ${rss} KB"
fi
like "$(cat million.out)" "issued 0, already issued 0, refused $M" "summary line: $M refused"
is "$(grep -c ' refused  ' million.out)" 20 "the first 20 refusals shown"
like "$(cat million.out)" "and $((M - 20)) more refused \(all in mout/summary.json\)" "the others counted, pointing to summary.json"
is "$(python3 -c 'import json; s = json.load(open("mout/summary.json")); print(s["refused"], len(s["results"]), s["results"][-1]["index"])')" \
	"$M $M $M" "summary.json lists every refusal"
is "$(($(db "select count(*) from audit") - audit0))" $(((M + 255) / 256)) "refusals audited in one entry per chunk of 256"
like "$(db "select entry from audit order by seq desc limit 1")" "missing-$((M - 1)).csr" "the last chunk's entry names its refused requests"

done_testing
