#!/bin/sh
# Crash safety of batch issuance: SIGKILL a batch of 2,000 requests at random
# moments (CRASH_TRIALS times, default 20); after each kill the store is
# intact, no serial appears twice, every certificate file on disk matches a
# committed row; re-running completes the rest with no duplicates.
# hsmca-test: token
. "$HSMCA_TOP/tests/lib.sh"
N=${CRASH_N:-2000}
TRIALS=${CRASH_TRIALS:-20}
# The batch and the store behave the same on every module; the TPM signs
# through its daemon and NSS softokn's sessions are slower, and under the
# sanitizer each of their many allocations is unwound: a smaller batch
# keeps the run short there.
if [ "$HSMCA_TEST_TOKEN" != softhsm ]; then
	N=${CRASH_N:-1000}
	TRIALS=${CRASH_TRIALS:-6}
	[ "${HSMCA_SAN:-0}" = 1 ] && N=${CRASH_N:-200}
fi

new_token Issuing
keygen Issuing ca-key ec:p256 >/dev/null
hsmca-init-ca --ca ca --key "pkcs11:token=Issuing;object=ca-key" --pin-source "$PINSRC" \
	--self-sign --subject "CN=Crash Test CA" --days 3650 >/dev/null
mkdir csrs
"$HSMCA_BUILD/tests/mkcsrs" csrs "$N" || notok "made $N CSRs"
# exec: the background job's PID is the tool's own, so the kill hits it.
batch() { exec hsmca-sign-leaf --ca ca --pin-source "$PINSRC" --requests csrs/tls.json --csr-dir csrs --out-dir out; }

# on_disk_matches: every NAME.crt on disk is a committed row with those bytes.
on_disk_matches() {
	python3 - <<'PY'
import base64, glob, sqlite3, sys
db = sqlite3.connect("ca/ca.db")
committed = {bytes(r[0]) for r in db.execute("select der from certs")}
for f in glob.glob("out/*.crt"):
    pem = open(f).read()
    try:
        b64 = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
        der = base64.b64decode(b64)
    except Exception:
        print("unreadable", f); sys.exit(1)
    if der not in committed:
        print(f, "is not a committed row"); sys.exit(1)
PY
}

# How long a whole run takes here, measured on a CA like it: the kill
# moments are drawn from it (scaled to the requests still to do), so that
# they fall inside a run on a fast machine, a loaded one, under the
# sanitizers and on every module alike.
now_ms() { date +%s%3N; }
# (A CA of its own: a copy of ca/ signing would move the key's token
# anchor past ca/, which would then be refused as rolled back.)
keygen Issuing cal-key ec:p256 >/dev/null
hsmca-init-ca --ca ca.cal --key "pkcs11:token=Issuing;object=cal-key" --pin-source "$PINSRC" \
	--self-sign --subject "CN=Crash Test Calibration" --days 3650 >/dev/null
t0=$(now_ms)
hsmca-sign-leaf --ca ca.cal --pin-source "$PINSRC" --requests csrs/tls.json --csr-dir csrs --out-dir out.cal >/dev/null 2>&1 ||
	notok "a calibration run issues the batch"
full_ms=$(($(now_ms) - t0))
rm -rf ca.cal out.cal
diag "a whole run of $N requests: $full_ms ms"
bad=0
killed=0
i=0
while [ $i -lt "$TRIALS" ]; do
	i=$((i + 1))
	left=$((N - $(sqlite3 ca/ca.db "select count(*) from certs where kind = 'leaf'")))
	# A moment inside the run: at most 70% of the time the requests still
	# to do took in the calibration run (start-up comes on top).
	span=$((full_ms * left * 7 / (N * 10)))
	[ "$span" -lt 40 ] && span=40
	(batch >/dev/null 2>&1) &
	pid=$!
	sleep "$(awk -v s="$(od -An -N2 -tu2 /dev/urandom)" -v span="$span" 'BEGIN { printf "%.3f", 0.02 + (s % span) / 1000 }')"
	# Counted only when the tool was still working.
	if grep -q '^State:.*[RSD]' "/proc/$pid/status" 2>/dev/null; then
		killed=$((killed + 1))
	fi
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	integrity=$(sqlite3 ca/ca.db "pragma integrity_check")
	dups=$(sqlite3 ca/ca.db "select count(*) from (select serial from certs group by serial having count(*) > 1)")
	reqdups=$(sqlite3 ca/ca.db "select count(*) from (select request_key from certs where kind = 'leaf' group by request_key having count(*) > 1)")
	if [ "$integrity" != ok ] || [ "$dups" != 0 ] || [ "$reqdups" != 0 ]; then
		bad=$((bad + 1))
		diag "trial $i: integrity=$integrity duplicate serials=$dups duplicate requests=$reqdups"
	elif ! msg=$(on_disk_matches); then
		bad=$((bad + 1))
		diag "trial $i: $msg"
	fi
done
is "$bad" 0 "$TRIALS SIGKILL trials: store intact, no duplicate serial, files match committed rows"
[ "$killed" -ge $((TRIALS / 2)) ] && ok "the tool itself was killed mid-run ($killed of $TRIALS trials)" ||
	notok "the tool itself was killed mid-run" "every run had ended before its kill"
pgrep -f "hsmca-sign-leaf --ca ca --pin-source $PINSRC" >/dev/null && notok "no batch left running" || ok "no batch left running"
committed=$(sqlite3 ca/ca.db "select count(*) from certs where kind = 'leaf'")
diag "after $TRIALS kills: $committed of $N committed"
check "re-run completes the batch" sh -c 'hsmca-sign-leaf --ca ca --pin-source "$1" --requests csrs/tls.json --csr-dir csrs --out-dir out' sh "$PINSRC"
is "$(sqlite3 ca/ca.db "select count(*) from certs where kind = 'leaf'")" "$N" "exactly $N certificates, one per request"
is "$(sqlite3 ca/ca.db "select count(distinct request_key) from certs where kind = 'leaf'")" "$N" "no request issued twice"
is "$(ls out/*.crt | wc -l)" "$N" "a certificate file per request"
msg=$(on_disk_matches) && ok "every file matches its committed row" || notok "every file matches its committed row" "$msg"
check "audit log verifies after the kills" hsmca-audit --ca ca verify
check "the store matches its token anchor after the kills" hsmca-audit --ca ca verify --full --pin-source "$PINSRC"
done_testing
