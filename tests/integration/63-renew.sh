#!/bin/sh
# Renewal (hsmca-sign-leaf --renew SERIAL, tls.json "renew"): the same
# request again is "already issued"; any other request for a key this CA
# certified is refused naming --renew; a renewal issues a new certificate
# for the same key and marks the old one superseded, in the store and in
# hsmca-audit show/report, while the old one stays valid.
# hsmca-test: token
# hsmca-test: store
. "$HSMCA_TOP/tests/lib.sh"

root_ca ec:p256 "CN=Renew Root"
issuing_ca "CN=Renew Issuing CA"
csr() { openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null; }
leaf() { hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" "$@"; }
audit() { hsmca-audit --ca issuing "$@"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr A-F a-f; }
count() { store_sql issuing "select count(*) from certs where kind = 'leaf'"; }
sup() { store_sql issuing "select coalesce(superseded_by, '-') from certs where serial = '$1'"; }
days_of() { # lifetime of a certificate in whole days
	echo $((($(date -u -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s) - \
		$(date -u -d "$(openssl x509 -in "$1" -noout -startdate | cut -d= -f2)" +%s)) / 86400))
}
api_result() { json "[r for r in d['results'] if r['index'] == 1][0]$1"; }
verify() { openssl verify -CAfile root/ca.crt -untrusted issuing.crt "$1"; }

# --- single ---------------------------------------------------------------------
csr host "/CN=host.example.com"
check "issue host.example.com for 90 days" leaf --csr host.csr --days 90 --out host.crt
old=$(serial_of host.crt)
n=$(count)
check "identical request again" leaf --csr host.csr --days 90 --out host.crt
like "$(cat "$T/.out")" "^already issued: host.example.com, serial $old" "identical request: already issued, the same serial"
is "$(count)" "$n" "identical request: nothing new in the store"

expect_fail 3 "certified by this CA \(serial $old\).*--renew $old" "same CSR with --days 30: refused, naming --renew SERIAL" \
	leaf --csr host.csr --days 30 --out new.crt
[ -e new.crt ] && notok "the refused request wrote no file" || ok "the refused request wrote no file"
is "$(count)" "$n" "refused request: nothing issued"
like "$(audit log --json | tail -n 1)" '"outcome":"refused"' "refusal recorded in the audit log"
expect_fail 3 "--renew $old" "other SANs for the key: refused, naming --renew" leaf --csr host.csr --days 90 --san dns:other.example.com --out new.crt
expect_fail 3 "--renew $old" "another profile for the key: refused, naming --renew" leaf --csr host.csr --days 90 --profile server --out new.crt
expect_fail 3 "--renew $old" "default lifetime instead of 90 days: refused, naming --renew" leaf --csr host.csr --out new.crt

check "--renew issues a new certificate for the key" leaf --csr host.csr --days 30 --renew "$(openssl x509 -in host.crt -noout -serial)" --out new.crt
new=$(serial_of new.crt)
like "$(cat "$T/.out")" "^issued: host.example.com, serial $new" "renewal: the new serial printed"
like "$(cat "$T/.out")" "renews: +$old \(now superseded" "renewal: the superseded serial printed"
[ "$new" != "$old" ] && ok "renewal: a new serial" || notok "renewal: a new serial"
is "$(days_of new.crt)" 30 "renewal: the lifetime asked for (30 days)"
is "$(openssl x509 -in new.crt -noout -pubkey)" "$(openssl x509 -in host.crt -noout -pubkey)" "renewal: the same public key"
is "$(sup "$old") $(sup "$new")" "$new -" "store: the old row superseded by the new serial, the new one not superseded"
check "the renewed certificate verifies (openssl)" verify new.crt
check "the old certificate stays valid (openssl)" verify host.crt
check "the renewal again (a re-run)" leaf --csr host.csr --days 30 --renew "$old" --out new.crt
like "$(cat "$T/.out")" "^already issued: host.example.com, serial $new" "renewal re-run: already issued, the new serial"
is "$(count)" "$((n + 1))" "one certificate issued by the renewal and its re-run"
expect_fail 3 "renewed since by $new.*--renew $new" "the first request again after its renewal: refused, naming the current serial" \
	leaf --csr host.csr --days 90 --out again.crt
expect_fail 3 "certificate $old was renewed already, by $new" "--renew of a superseded certificate refused" \
	leaf --csr host.csr --days 60 --renew "$old" --out again.crt
[ -e again.crt ] && notok "refused renewals wrote no file" || ok "refused renewals wrote no file"

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout pt.key -subj "/CN=pt.example.com" \
	-addext "keyUsage=critical,digitalSignature" -out pt.csr 2>/dev/null
openssl req -new -key pt.key -subj "/CN=pt.example.com" -addext "keyUsage=critical,digitalSignature,keyAgreement" -out pt2.csr
check "csr-passthrough: the CSR's key usage" leaf --csr pt.csr --profile csr-passthrough --out pt.crt
expect_fail 3 "--renew $(serial_of pt.crt)" "csr-passthrough: a new CSR for the key asking another key usage refused, naming --renew" \
	leaf --csr pt2.csr --profile csr-passthrough --out pt2.crt

# In the reports
out=$(audit report)
like "$out" "host.example.com.*renewed: superseded by $new" "report: the old certificate marked renewed"
like "$(audit report --expiring 100)" "renewed: superseded by $new" "report --expiring: the old certificate marked renewed"
check "show the old certificate" audit show "$old"
like "$(cat "$T/.out")" "^status +superseded" "show: status superseded"
like "$(cat "$T/.out")" "^superseded +by $new" "show: superseded by the new serial"
like "$(cat "$T/.out")" "audit entries \(2\):" "show: its issue and its renewal in the audit entries"
is "$(audit show "$new" --json | json 'd["status"], d["superseded_by"]')" "valid None" "show --json: the new certificate valid, not superseded"
audit log --json | grep '"action":"sign-leaf"' | grep "\"renews\":\"$old\"" | grep -q "\"serial\":\"$new\"" &&
	ok "audit entry of the renewal: the new serial and the old (renews)" || notok "audit entry of the renewal: the new serial and the old (renews)"
like "$(audit log)" "renews $old" "the text log shows the renewed serial"

# Bad --renew
csr other "/CN=other.example.com"
check "another key" leaf --csr other.csr --out other.crt
expect_fail 3 "never issued serial 0123" "--renew of a serial this CA never issued" leaf --csr host.csr --renew 0123 --out x.crt
expect_fail 3 "is for another public key" "--renew of another key's certificate" leaf --csr host.csr --renew "$(serial_of other.crt)" --out x.crt
expect_fail 3 "is for another public key" "--renew with a new key refused (a renewal keeps the key)" leaf --csr host.csr --renew "$(serial_of other.crt)" --cn other.example.com --out x.crt
csr gone "/CN=gone.example.com"
check "a certificate to revoke" leaf --csr gone.csr --out gone.crt
hsmca-revoke --ca issuing --serial "$(serial_of gone.crt)" --reason keyCompromise >/dev/null
expect_fail 3 "is revoked" "--renew of a revoked certificate refused" leaf --csr gone.csr --days 30 --renew "$(serial_of gone.crt)" --out x.crt
expect_fail 3 "no current certificate \(revoked\)" "a revoked key's other request refused" leaf --csr gone.csr --days 30 --out x.crt
expect_fail 2 "--renew: .*not a hex digit" "--renew with a malformed serial (exit 2)" leaf --csr host.csr --renew zz --out x.crt
expect_fail 2 "exclude each other" "--renew with --force-issue (exit 2)" leaf --csr host.csr --renew "$new" --force-issue --out x.crt
[ -e x.crt ] && notok "bad renewals wrote no file" || ok "bad renewals wrote no file"
check "--renew with the very same request: only the validity is new" leaf --csr other.csr --renew "$(serial_of other.crt)" --out other2.crt
is "$(sup "$(serial_of other.crt)")" "$(serial_of other2.crt)" "the same request renewed: the old one superseded by the new one"

# --- batch (tls.json "renew") ----------------------------------------------------
mkdir csrs
csr csrs/api "/CN=api.example.com"
csr csrs/db "/CN=db.example.com"
batch() {
	_f=$1
	shift
	hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" --requests "$_f" --csr-dir csrs --out-dir out "$@"
}
printf '[{"common_name": "api.example.com", "sans": ["api.example.com"], "lifetime": 90, "csr_file": "api.csr"},
 {"common_name": "db.example.com", "sans": ["db.example.com"], "lifetime": 90, "csr_file": "db.csr"}]' >tls.json
check "a batch" batch tls.json
api=$(serial_of out/api.crt)
check "the same batch again" batch tls.json
is "$(json 'd["issued"], d["already_issued"], d["refused"]' <out/summary.json)" "0 2 0" "re-run: both already issued"
sed 's/"lifetime": 90, "csr_file": "api.csr"/"lifetime": 30, "csr_file": "api.csr"/' tls.json >tls30.json
n=$(count)
expect_fail 3 "1 of 2 requests refused" "batch: a changed lifetime for a certified key refused" batch tls30.json
is "$(api_result '["status"]' <out/summary.json)" "refused" "summary: the changed request refused"
like "$(api_result '["reason"]' <out/summary.json)" "set \"renew\": \"$api\" in the request" "summary: the reason names the renew key and the serial"
is "$(count)" "$n" "batch refusal: nothing issued"
sed "s/\"lifetime\": 30, \"csr_file\": \"api.csr\"/\"lifetime\": 30, \"renew\": \"$api\", \"csr_file\": \"api.csr\"/" tls30.json >renew.json
check "batch: renew in the request (files replaced with --force)" batch renew.json --force
api2=$(serial_of out/api.crt)
is "$(json 'd["issued"], d["already_issued"], [(r["renews"], r["serial"]) for r in d["results"] if r["index"] == 1][0]' <out/summary.json)" \
	"1 1 ('$api', '$api2')" "summary: one renewed (renews the old serial), one already issued"
is "$(sup "$api") $(days_of out/api.crt)" "$api2 30" "batch renewal: the old row superseded, the new certificate for 30 days"
check "the batch-renewed certificate verifies (openssl)" verify out/api.crt
check "the renewal batch again" batch renew.json
is "$(json 'd["issued"], d["already_issued"], d["refused"]' <out/summary.json)" "0 2 0" "renewal batch re-run: already issued"
printf '[{"common_name": "db.example.com", "sans": ["db.example.com"], "lifetime": 30, "renew": "%s", "csr_file": "db.csr"}]' "$api" >wrong.json
expect_fail 3 "1 of 1 requests refused" "batch: renew naming another key's certificate refused" batch wrong.json
like "$(api_result '["reason"]' <out/summary.json)" "^renew $api: certificate $api .* is for another public key" "summary: the bad renew serial named"
printf '[{"common_name": "db.example.com", "renew": "xyz", "csr_file": "db.csr"}]' >bad.json
expect_fail 3 "request 1: renew: .*not a hex digit" "tls.json: a malformed renew serial refused" batch bad.json
printf '[{"common_name": "db.example.com", "renew": "%s", "force_issue": true, "csr_file": "db.csr"}]' "$api2" >both.json
expect_fail 3 "not combined with force_issue" "tls.json: renew with force_issue refused" batch both.json
expect_fail 2 "no .*--renew" "--renew with --requests (exit 2)" batch tls.json --renew "$api2"
check "audit log verifies" audit verify
done_testing
