#!/bin/sh
# tls.json files written for the serverless CA issue unchanged: the
# documented examples (kept in tests/fuzz/corpus/request_json/).
# hsmca-test: token
. "$HSMCA_TOP/tests/lib.sh"
EX=$HSMCA_TOP/tests/fuzz/corpus/request_json

new_token Issuing
keygen Issuing ca-key ec:p256 >/dev/null
hsmca-init-ca --ca ca --key "pkcs11:token=Issuing;object=ca-key" --pin-source "$PINSRC" \
	--self-sign --subject "CN=Serverless Compatible CA" --days 3650 >/dev/null
# csrs_for FILE DIR: a CSR for every csr_file the file names.
csrs_for() {
	mkdir -p "$2"
	python3 -c "import json,sys; [print(r['csr_file']) for r in json.load(open(sys.argv[1])) if 'csr_file' in r]" "$1" |
		sort -u | while read -r f; do
			openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
				-subj "/CN=from-csr" -out "$2/$f" 2>/dev/null
		done
}
for ex in gitops-example cloud-ca-tls lambda-base64-csr; do
	csrs_for "$EX/$ex.json" "csrs-$ex"
	n=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$EX/$ex.json")
	check "$ex.json issues unchanged" hsmca-sign-leaf --ca ca --pin-source "$PINSRC" --requests "$EX/$ex.json" \
		--csr-dir "csrs-$ex" --out-dir "out-$ex" --force
	like "$(cat "out-$ex/summary.json")" "\"issued\": $n|\"already_issued\"" "$ex.json: all $n requests issued"
done
c=out-cloud-ca-tls/cloud-architect.crt
like "$(openssl x509 -in "$c" -noout -subject)" "CN = Cloud Architect" "request common_name overrides the CSR's"
like "$(openssl x509 -in "$c" -noout -ext extendedKeyUsage)" "TLS Web Client Authentication" "no purposes: client authentication, as the serverless CA does"
unlike "$(openssl x509 -in "$c" -noout -text)" "Subject Alternative Name" "a client certificate named by its subject needs no SAN"
check "client certificate verifies for sslclient" openssl verify -purpose sslclient -CAfile ca/ca.crt "$c"
s=out-cloud-ca-tls/server-cert-request.crt
check "server certificate verifies for sslserver" openssl verify -purpose sslserver -CAfile ca/ca.crt "$s"
like "$(openssl x509 -in "$s" -noout -ext subjectAltName)" "DNS:server.example.com, DNS:server2.example.com" "SANs as listed"
b=$(ls out-lambda-base64-csr/*.crt | head -n 1)
like "$(openssl x509 -in "$b" -noout -subject)" "C = GB, ST = New York, L = London, O = Example Company, OU = DevOps, CN = test-client-cert" "base64_csr_data: request fields override, the CSR's others stay"
like "$(openssl x509 -in "$b" -noout -ext subjectAltName)" "DNS:example.com" "SAN from the request"
days=$(( ($(date -d "$(openssl x509 -in "$b" -noout -enddate | cut -d= -f2)" +%s) - $(date +%s)) / 86400 ))
[ "$days" -ge 89 ] && [ "$days" -le 90 ] && ok "lifetime 90 days" || notok "lifetime 90 days" "$days"
# A TLS server without any name it can be reached by is still refused.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj "/CN=Not A Host" -out nohost.csr 2>/dev/null
printf '[{"common_name": "Not A Host", "purposes": ["server_auth"], "csr_file": "nohost.csr"}]' >nohost.json
expect_fail 3 "no subject alternative name" "server request without a DNS name refused" hsmca-sign-leaf --ca ca --pin-source "$PINSRC" \
	--requests nohost.json --csr-dir . --out-dir out-nohost
done_testing
