#!/bin/sh
# Partitioned CRLs: configuration through gen-crl, binding at issuance
# (sign-leaf), one CRL per partition with a critical IDP naming exactly its
# URL, verification with the right and the wrong partition CRL.
# hsmca-test: token
# hsmca-test: store
. "$HSMCA_TOP/tests/lib.sh"

root_ca ec:p256 "CN=Partition Test Root"
issuing_ca "CN=Partition Test Issuing CA"
db() { store_sql issuing "$1"; }
gencrl() { hsmca-gen-crl --ca issuing --pin-source "$PINSRC" "$@"; }
serial() { openssl x509 -in "$1.crt" -noout -serial | cut -d= -f2; }
lower() { echo "$1" | tr 'A-F' 'a-f'; }
URL=http://crl.example.com/issuing-

# --- configuration --------------------------------------------------------
mkdir out0 out1 out2
check "gen-crl --partitions 4 configures partitions" gencrl --partitions 4 --out-dir out0
like "$(cat issuing/ca.json)" '"partitions": 4' "ca.json crl.partitions = 4"
like "$(cat issuing/ca.json)" "\"url\": \"${URL}\\{n\\}.crl\"" "partition URL derived from crl_urls"
for f in crl-0 crl-1 crl-2 crl-3 crl-base; do
	[ -f "out0/$f.crl" ] && ok "out0/$f.crl written" || notok "out0/$f.crl written"
done
like "$(db "select entry from audit where entry like '%crl-config%'")" '"outcome":"ok"' "partition configuration audited"

# --- binding at issuance -------------------------------------------------
for n in a b c d e f g h i j; do
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$n.key" \
		-out "$n.csr" -subj "/CN=$n.example.com" 2>/dev/null
	hsmca-sign-leaf --ca issuing --pin-source "$PINSRC" --csr "$n.csr" --out "$n.crt" >/dev/null ||
		notok "leaf $n issued"
done
part() { python3 -c "print(int('$(serial "$1")', 16) % 4)"; }
good=1
for n in a b c d e f g h i j; do
	p=$(part $n)
	[ "$(db "select partition from certs where serial = '$(lower "$(serial $n)")'")" = "$p" ] || good=0
	openssl x509 -in $n.crt -noout -ext crlDistributionPoints | grep -q "URI:$URL$p.crl\$" || good=0
done
[ $good = 1 ] && ok "each leaf bound to serial mod 4, its CDP names that partition" ||
	notok "each leaf bound to serial mod 4, its CDP names that partition"

# a sub-CA of the issuing CA is bound to no partition: it goes to the base CRL
keygen Issuing sub-key ec:p256 --csr sub.csr --subject "CN=Partition Sub CA" >/dev/null
hsmca-sign-subca --ca issuing --pin-source "$PINSRC" --csr sub.csr --days 30 --out sub.crt >/dev/null
is "$(db "select coalesce(cast(partition as text), 'none') from certs where kind = 'subca'")" none "sub-CA bound to no partition"

for n in a b c d e; do hsmca-revoke --ca issuing --serial "$(serial $n)" --reason keyCompromise >/dev/null; done
hsmca-revoke --ca issuing --serial "$(serial sub)" --reason cACompromise >/dev/null
is "$(db 'select count(*) from revocations where partition is not null')" 5 "revocations keep their partition"

# --- one CRL per partition --------------------------------------------------
expect_fail 2 "--out-dir" "--out on a partitioned CA refused (exit 2)" gencrl --out x.crl
check "gen-crl --out-dir (configuration from ca.json)" gencrl --out-dir out1 --format der
numbers=""
allok=1
for p in 0 1 2 3; do
	f=out1/crl-$p.crl
	txt=$(openssl crl -inform DER -in "$f" -noout -text)
	openssl crl -inform DER -in "$f" -CAfile issuing.crt -noout 2>/dev/null || allok=0
	echo "$txt" | grep -q "X509v3 Issuing Distribution Point: critical" || allok=0
	[ "$(echo "$txt" | grep -c 'URI:')" = 1 ] || allok=0
	echo "$txt" | grep -q "URI:$URL$p.crl\$" || allok=0
	# exactly the revoked certificates of this partition
	want=$(for n in a b c d e; do [ "$(part $n)" = $p ] && serial $n; done | sort | tr '\n' ' ')
	got=$(echo "$txt" | sed -n 's/.*Serial Number: //p' | sort | tr '\n' ' ')
	[ "$want" = "$got" ] || allok=0
	numbers="$numbers $(openssl crl -inform DER -in "$f" -noout -crlnumber | cut -d= -f2)"
done
[ $allok = 1 ] && ok "each partition CRL verifies, has a critical IDP naming exactly its URL and only its entries" ||
	notok "each partition CRL verifies, has a critical IDP naming exactly its URL and only its entries" "$numbers"
btxt=$(openssl crl -inform DER -in out1/crl-base.crl -noout -text)
like "$btxt" "URI:http://crl.example.com/issuing.crl" "base CRL's IDP names ca.json crl_urls"
like "$btxt" "$(serial sub)" "base CRL lists the revoked sub-CA"
is "$(echo "$btxt" | grep -c 'Serial Number:')" 1 "base CRL lists only unpartitioned entries"
is "$(db 'select count(distinct number) from crls')" 10 "a distinct CRL number per CRL (5 + 5)"

# --- verification with the right and the wrong partition CRL --------------
verify() { # CERT CRL
	openssl verify -crl_check -CRLfile "$2" -CAfile root/ca.crt -untrusted issuing.crt "$1.crt"
}
for n in a f; do
	p=$(part $n)
	openssl crl -inform DER -in out1/crl-$p.crl -out p$p.pem
done
pa=$(part a)
pf=$(part f)
expect_fail 2 "certificate revoked" "revoked a reported revoked with its partition CRL" verify a "p$pa.pem"
check "unrevoked f good with its partition CRL" verify f "p$pf.pem"
wrong=$(((pf + 1) % 4))
openssl crl -inform DER -in out1/crl-$wrong.crl -out wrong.pem
expect_fail 2 "different CRL scope|unable to get certificate CRL" "another partition's CRL is out of scope for f" verify f wrong.pem
check "certtool --verify-crl on a partition CRL" certtool --verify-crl --load-ca-certificate issuing.crt --infile "p$pa.pem"
cat a.crt issuing.crt >a-chain.pem
certtool --verify --load-ca-certificate root/ca.crt --load-crl "p$pa.pem" --infile a-chain.pem >ct.out 2>&1
like "$(cat ct.out)" "revoked" "certtool: a revoked with its partition CRL"

# NSS does not implement the issuingDistributionPoint extension, which RFC
# 5280 5.2.5 makes critical: it refuses partition CRLs. Relying parties on
# NSS need a CA without partitions (documented).
nss_db a
if crlutil -I -d sql:nss -i "out1/crl-$pa.crl" -t 1 >nss.out 2>&1; then
	expect_fail 255 "revoked" "NSS: a revoked with its partition CRL" certutil -V -d sql:nss -n a -u V
else
	like "$(cat nss.out)" "UNKNOWN_CRITICAL_EXTENSION" "NSS refuses the critical IDP of a partition CRL (known NSS limitation)"
fi

# --- the configuration is fixed once certificates are bound -----------------
before=$(cat issuing/ca.json)
expect_fail 3 "already bound" "--partitions 5 refused once certificates are bound (exit 3)" gencrl --partitions 5 --out-dir out2
expect_fail 3 "already bound" "--partition-size refused once certificates are bound (exit 3)" gencrl --partition-size 100000 --out-dir out2
is "$(cat issuing/ca.json)" "$before" "ca.json unchanged"
check "--partitions 4 (matching) accepted" gencrl --partitions 4 --out-dir out2 --force
expect_fail 2 "--partitions and --partition-size" "both modes at once (exit 2)" gencrl --partitions 2 --partition-size 100000 --out-dir out2
expect_fail 2 "--partitions" "--partitions 0 (exit 2)" gencrl --partitions 0 --out-dir out2

# --- size mode ------------------------------------------------------------
keygen Issuing size-key ec:p256 >/dev/null
store_init hsmca-init-ca --ca sizeca --key "pkcs11:token=Issuing;object=size-key" --pin-source "$PINSRC" \
	--self-sign --subject "CN=Size CA" --days 365 >/dev/null
mkdir s0
# A gen-crl that fails changes nothing: the partition setting is written
# into ca.json only with a committed CRL.
before=$(cat sizeca/ca.json)
expect_fail 2 "not a directory" "--partitions 4 --out-dir MISSING refused (exit 2)" \
	hsmca-gen-crl --ca sizeca --pin-source "$PINSRC" --partitions 4 --partition-url 'http://crl.example.com/x/{n}.crl' --out-dir missing
is "$(cat sizeca/ca.json)" "$before" "failed gen-crl --partitions: ca.json unchanged"
unlike "$(store_sql sizeca "select entry from audit")" "crl-config" "failed gen-crl --partitions: no configuration audit entry"
check "afterwards --out still accepted (no partitions configured)" \
	hsmca-gen-crl --ca sizeca --pin-source "$PINSRC" --out s0-plain.crl
expect_fail 2 "partition-url" "size mode without crl_urls needs --partition-url (exit 2)" hsmca-gen-crl --ca sizeca --pin-source "$PINSRC" --partition-size 8192 --out-dir s0
out=$(hsmca-gen-crl --ca sizeca --pin-source "$PINSRC" --partition-size 8192 --partition-url 'http://crl.example.com/size/{n}.crl' --out-dir s0 --json)
like "$out" '"per_partition": 101' "--partition-size 8192: (8192 - overhead) / 55 = 101 per partition"
for n in k l; do
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$n.key" \
		-out "$n.csr" -subj "/CN=$n.example.com" 2>/dev/null
	hsmca-sign-leaf --ca sizeca --pin-source "$PINSRC" --csr "$n.csr" --out "size-$n.crt" >/dev/null ||
		notok "size-mode leaf $n issued"
done
is "$(store_sql sizeca "select partition from certs where kind = 'leaf'" | paste -sd,)" "0,0" "size mode fills partition 0 first"
like "$(openssl x509 -in size-k.crt -noout -ext crlDistributionPoints)" "URI:http://crl.example.com/size/0.crl" "CDP names partition 0"
check "size-mode gen-crl" hsmca-gen-crl --ca sizeca --pin-source "$PINSRC" --out-dir s0 --force
sz=$(openssl crl -in s0/crl-0.crl -outform DER | wc -c)
[ "$sz" -le 8192 ] && ok "partition CRL within 8192 bytes" || notok "partition CRL within 8192 bytes" "$sz"

# A batch places each request after those placed before it in the same
# chunk: 250 requests fill partitions 0 and 1 (101 each, with k and l) and
# open 2; with every certificate revoked, each partition CRL still fits.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout bulk.key \
	-out bulk.csr -subj "/CN=bulk.example.com" 2>/dev/null
python3 -c '
import json
print(json.dumps([{"common_name": "h%d.example.com" % i, "csr_file": "bulk.csr",
                   "force_issue": True} for i in range(250)]))' >bulk.json
mkdir bulk
hsmca-sign-leaf --ca sizeca --pin-source "$PINSRC" --requests bulk.json --csr-dir . --out-dir bulk >bulk.out 2>&1
like "$(cat bulk.out)" "issued 250," "250-request batch issued"
check "sign-leaf --check on a partitioned CA" hsmca-sign-leaf --ca sizeca --check --csr bulk.csr
is "$(store_sql sizeca "select count(*) from certs where kind = 'leaf' group by partition order by partition" | paste -sd,)" \
	"101,101,50" "size mode batch: partitions hold 101, 101, 50 (none over per_partition)"
python3 -c '
import json
s = json.load(open("bulk/summary.json"))
print(json.dumps([{"common_name": r["common_name"], "serial_number": str(int(r["serial"], 16))}
                  for r in s["results"]]))' >bulk-revoked.json
check "revoke every certificate of the batch" hsmca-revoke --ca sizeca --revoked bulk-revoked.json
mkdir s1
check "gen-crl with every batch certificate revoked" hsmca-gen-crl --ca sizeca --pin-source "$PINSRC" --out-dir s1
allfit=1
for p in 0 1 2; do
	sz=$(openssl crl -in s1/crl-$p.crl -outform DER | wc -c)
	[ "$sz" -le 8192 ] || allfit=0
done
[ $allfit = 1 ] && ok "each partition CRL within 8192 bytes with all revoked" || notok "each partition CRL within 8192 bytes with all revoked"
is "$(openssl crl -in s1/crl-0.crl -noout -text | grep -c 'Serial Number:')" 99 "partition 0 CRL lists its 99 revoked batch certificates"
check "issuing audit chain verifies" hsmca-audit --ca issuing verify
done_testing
