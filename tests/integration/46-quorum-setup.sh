#!/bin/sh
# Approver set-up: hsmca-two-person-approve quorum init|add writes a quorum
# file from public keys (PEM public key, certificate, key on a token) and
# prints each key's fingerprint; the file is one a CA pins and uses; sign
# --quorum refuses a key that is not the named approver's.
. "$HSMCA_TOP/tests/lib.sh"

TPA=hsmca-two-person-approve
new_token Root
new_token Bob
keygen Root root-key ec:p256 >/dev/null
openssl genpkey -algorithm ed25519 -out alice.key 2>/dev/null
openssl pkey -in alice.key -pubout -out alice.pub
bob_spki=$(hsmca-keygen --token pkcs11:token=Bob --label bob-approval --type ec:p256 --pin-source "$PINSRC" --json |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["spki_sha256"])')
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out carol.key 2>/dev/null
openssl req -new -x509 -key carol.key -subj "/CN=Carol Example" -days 30 -out carol.crt 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out weak.key 2>/dev/null
openssl pkey -in weak.key -pubout -out weak.pub
spki() { openssl pkey -pubin -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }

# --- init ---------------------------------------------------------------------
check "quorum init writes a file with the threshold" $TPA quorum init quorum.json --threshold 2
like "$(cat "$T/.out")" "quorum.json: threshold 2, 0 approvers: add 2 more before a CA can use it" "init says what is missing"
is "$(python3 -c 'import json; d=json.load(open("quorum.json")); print(d["version"], d["threshold"], d["approvers"])')" \
	"1 2 []" "the file: version 1, threshold 2, no approvers"
expect_fail 2 "already exists" "init does not overwrite a file" $TPA quorum init quorum.json --threshold 3
expect_fail 2 "--threshold" "init needs a threshold" $TPA quorum init other.json
expect_fail 2 "0 is out of range \(1 to 100\)" "threshold 0 refused" $TPA quorum init other.json --threshold 0

# --- add ------------------------------------------------------------------------
check "add alice from a PEM public key" $TPA quorum add quorum.json --id alice --name "Alice Example" --key alice.pub
out=$(cat "$T/.out")
like "$out" "alice +Alice Example +Ed25519 +SPKI SHA-256 $(spki alice.pub)" "alice's fingerprint is her key's SPKI SHA-256"
like "$out" "add 1 more before a CA can use it" "still one approver short"
check "add bob from his key on a token (no PIN)" $TPA quorum add quorum.json --id bob --name "Bob Example" \
	--key "pkcs11:token=Bob;object=bob-approval"
like "$(cat "$T/.out")" "bob +Bob Example +EC P-256 +SPKI SHA-256 $bob_spki" "bob's fingerprint is the one keygen printed"
like "$(cat "$T/.out")" "threshold 2, 2 approvers \(2 of 2 approvals needed\)" "the quorum is complete"
openssl x509 -in carol.crt -pubkey -noout >carol.pub
check "add carol from her certificate, --json" $TPA quorum add quorum.json --id carol --name "Carol Example" --key carol.crt --json
sum=$(cat "$T/.out")
like "$sum" "\"spki_sha256\": \"$(spki carol.pub)\"" "carol's fingerprint in the JSON summary"
like "$sum" "\"sha256\": \"$(sha256 quorum.json)\"" "the summary gives the file's SHA-256 (what a CA pins)"
like "$sum" '"complete": true' "JSON: complete"
is "$(python3 -c 'import json; print(" ".join(a["id"] for a in json.load(open("quorum.json"))["approvers"]))')" \
	"alice bob carol" "three approvers in the file, in order"
h=$(sha256 quorum.json)
expect_fail 3 "approver id \"alice\" is already there" "a second ALICE refused" \
	$TPA quorum add quorum.json --id ALICE --name "Alice Again" --key weak.pub
expect_fail 3 "already approver alice's" "alice's key for someone else refused" \
	$TPA quorum add quorum.json --id dave --name "Dave Example" --key alice.pub
expect_fail 3 "RSA key of 1024 bits is refused" "a weak key refused" \
	$TPA quorum add quorum.json --id dave --name "Dave Example" --key weak.pub
expect_fail 2 "holds a private key: give the approver's public key" "a private key file refused" \
	$TPA quorum add quorum.json --id dave --name "Dave Example" --key carol.key
expect_fail 2 "needs --id, --name and --key" "add without a name refused" $TPA quorum add quorum.json --id dave --key alice.pub
is "$(sha256 quorum.json)" "$h" "refusals leave the file as it was"
# A draft may ask for more approvers than it has yet.
openssl genpkey -algorithm ed25519 -out dave.key 2>/dev/null
openssl pkey -in dave.key -pubout -out dave.pub
cp quorum.json draft.json
check "add with --threshold raises the threshold" $TPA quorum add draft.json --id dave --name "Dave Example" --key dave.pub --threshold 5
like "$(cat "$T/.out")" "threshold 5, 4 approvers: add 1 more before a CA can use it" "the draft says what is missing"
expect_fail 3 "threshold 5 is out of range" "a CA refuses the incomplete draft" \
	hsmca-init-ca --ca draftca --key "pkcs11:token=Root;object=root-key" --self-sign --subject CN=Draft --days 10 \
	--quorum draft.json --prepare draft-req.json

# --- the file in use: a CA pins it; approvals checked against it --------------
ROOT="hsmca-init-ca --ca root --key pkcs11:token=Root;object=root-key --pin-source $PINSRC --self-sign --subject CN=Setup_Root --days 3650 --quorum quorum.json"
check "a root CA prepared under the written quorum" $ROOT --prepare req.json
expect_fail 3 "carol.key is not the key of approver alice in the quorum file" "sign --quorum: another approver's key refused" \
	$TPA sign req.json --id alice --key carol.key --quorum quorum.json --out a.sig
[ -e a.sig ] && notok "nothing written for the refused key" || ok "nothing written for the refused key"
expect_fail 3 "mallory is not an approver in quorum.json" "sign --quorum: an id not in the file refused" \
	$TPA sign req.json --id mallory --key alice.key --quorum quorum.json --out m.sig
cp quorum.json other.json
printf ' ' >>other.json
expect_fail 3 "other.json is not the quorum file req.json was prepared for" "sign --quorum: another quorum file refused" \
	$TPA sign req.json --id alice --key alice.key --quorum other.json --out a.sig
check "sign --quorum: alice with her own key" $TPA sign req.json --id alice --key alice.key --quorum quorum.json --out a.sig
check "sign --quorum: bob with his token key" $TPA sign req.json --id bob --key "pkcs11:token=Bob;object=bob-approval" \
	--pin-source "$PINSRC" --quorum quorum.json --out b.sig
check "verify: 2 of 2 against the written file" $TPA verify req.json --quorum quorum.json a.sig b.sig
check "the root CA is created with the approvals" $ROOT --request req.json --approval a.sig --approval b.sig
is "$(sqlite3 root/ca.db "select value from meta where key='quorum_sha256'")" "$(sha256 quorum.json)" "the root pins the written file"
check "the root certificate verifies" openssl verify -CAfile root/ca.crt root/ca.crt
done_testing
