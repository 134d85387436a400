#!/bin/sh
# The hsmca provider from the stock openssl CLI: every key type in both
# provider orders, RSA-PSS and SHA-384/512, CSRs, x509 -req signing a
# software CSR (the NOTES import trap), EVP_PKEY_eq through x509 -req, and
# cross-checks with certtool, pkcs11-tool and the libp11 engine.
# hsmca-test: token
. "$HSMCA_TOP/tests/lib.sh"

new_token PC
P11="$P11TOOL --token-label PC --login --pin $PIN"
# hsmca first (the README's order) where the module allows it.
FIRST=$(ossl_prov)
SECOND="-provider-path $PROVDIR -provider default -provider hsmca"
HSMCA_FIRST="-provider-path $PROVDIR -provider hsmca -provider default"
PASS="-passin file:$T/pin"

# spki_hash FILE [-pubin]: SHA-256 of the DER SubjectPublicKeyInfo
cert_spki() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1; }
pem_spki() { openssl pkey -pubin -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
der_spki() { openssl pkey -pubin -inform DER -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
sigalg() { openssl x509 -in "$1" -noout -text | sed -n 's/^ *Signature Algorithm: *//p' | head -n 1; }

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout sw.key -subj /CN=leaf.example -out sw.csr 2>/dev/null
printf 'to be signed\n' >data

made=""
while read -r label id type; do
	uri="pkcs11:token=PC;object=$label"
	if why=$(type_lacks "$type") || why=$(type_lacks "$label"); then
		skip "$label: every check of this key type" "$why"
		continue
	fi
	made="$made $label"
	check "$label: pkcs11-tool generates the key" \
		$P11 --keypairgen --key-type "$type" --label "$label" --id "$id" --usage-sign

	# hsmca first (the README's order), then default first.
	check "$label: req -x509 (hsmca, default)" \
		$OPENSSL req -new -x509 $FIRST -key "$uri" $PASS -subj "/CN=$label" -days 30 -out "$label.pem"
	check "$label: openssl verify" openssl verify -CAfile "$label.pem" "$label.pem"
	check "$label: certtool verify" \
		certtool --verify --load-ca-certificate "$label.pem" --infile "$label.pem"
	check "$label: req -x509 (default, hsmca)" \
		$OPENSSL req -new -x509 $SECOND -key "$uri" $PASS -subj "/CN=$label" -days 30 -out "$label-2.pem"
	check "$label: verify (default, hsmca)" openssl verify -CAfile "$label-2.pem" "$label-2.pem"

	# The certificate's key is the token's: provider export and pkcs11-tool.
	check "$label: provider exports the public key" \
		$OPENSSL pkey $FIRST -in "$uri" $PASS -pubout -out "$label.pub"
	is "$(cert_spki "$label.pem")" "$(pem_spki "$label.pub")" "$label: certificate key = provider public key"
	if $P11 --read-object --type pubkey --id "$id" -o "$label.p11.der" >/dev/null 2>&1 &&
		openssl pkey -pubin -inform DER -in "$label.p11.der" -noout 2>/dev/null; then
		is "$(der_spki "$label.p11.der")" "$(pem_spki "$label.pub")" "$label: provider public key = pkcs11-tool's"
	else
		skip "$label: provider public key = pkcs11-tool's" "pkcs11-tool cannot export this key type"
	fi

	# CSR with the token key, checked by openssl req -verify.
	check "$label: req -new (CSR)" $OPENSSL req -new $FIRST -key "$uri" $PASS -subj "/CN=$label" -out "$label.csr"
	check "$label: CSR self-signature verifies" openssl req -verify -noout -in "$label.csr"

	# Sign a software key's CSR: the CSR's key must not be imported into
	# our provider (its SIGNATURE cannot verify), in both orders.
	check "$label: x509 -req -CAkey (hsmca, default)" \
		$OPENSSL x509 -req $FIRST -in sw.csr -CA "$label.pem" -CAkey "$uri" $PASS -days 10 -out "leaf-$label.pem"
	check "$label: issued leaf verifies" openssl verify -CAfile "$label.pem" "leaf-$label.pem"
	check "$label: x509 -req -CAkey (default, hsmca)" \
		$OPENSSL x509 -req $SECOND -in sw.csr -CA "$label.pem" -CAkey "$uri" $PASS -days 10 -out "leaf2-$label.pem"
	check "$label: issued leaf verifies (default, hsmca)" openssl verify -CAfile "$label.pem" "leaf2-$label.pem"
done <<EOF
rsa2048 01 rsa:2048
rsa3072 02 rsa:3072
rsa4096 03 rsa:4096
p256 04 EC:prime256v1
p384 05 EC:secp384r1
p521 06 EC:secp521r1
ed25519 07 EC:edwards25519
EOF

# has LABEL: the key was made on this module
has() { case " $made " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

is "$(sigalg rsa2048.pem)" sha256WithRSAEncryption "RSA default is PKCS#1 v1.5 with SHA-256"
is "$(sigalg p256.pem)" ecdsa-with-SHA256 "ECDSA default is SHA-256"
if has ed25519; then
	is "$(sigalg ed25519.pem)" ED25519 "Ed25519 signature algorithm"
else
	skip "Ed25519 signature algorithm" "$(type_lacks ed25519)"
fi

# X509_check_private_key through EVP_PKEY_eq: a certificate of another key
# of the same type is refused.
expect_fail 1 "do not match" "x509 -req refuses a CA certificate of another key" \
	$OPENSSL x509 -req $FIRST -in sw.csr -CA rsa3072.pem -CAkey "pkcs11:token=PC;object=rsa2048" $PASS -out bad.pem
expect_fail 1 "do not match" "x509 -req refuses a CA certificate of another EC key" \
	$OPENSSL x509 -req $FIRST -in sw.csr -CA p384.pem -CAkey "pkcs11:token=PC;object=p256" $PASS -out bad.pem

# RSA-PSS (RFC 4055) and SHA-384/512 variants.
variant() { # NAME KEY ALG-PATTERN CERTTOOL(yes|no) openssl-args...
	_v=$1 _k=$2 _a=$3 _ct=$4
	shift 4
	if ! has "$_k"; then
		skip "$_v: every check" "$(type_lacks "$_k")"
		return
	fi
	case "$*" in *saltlen:max*)
		if why=$(token_lacks pss-salt); then
			skip "$_v: every check" "$why"
			return
		fi
		;;
	esac
	check "$_v: req -x509" $OPENSSL req -new -x509 $FIRST -key "pkcs11:token=PC;object=$_k" $PASS \
		-subj "/CN=$_v" -days 30 -out "$_v.pem" "$@"
	check "$_v: openssl verify" openssl verify -CAfile "$_v.pem" "$_v.pem"
	if [ "$_ct" = yes ]; then
		check "$_v: certtool verify" certtool --verify --load-ca-certificate "$_v.pem" --infile "$_v.pem"
	fi
	like "$(sigalg "$_v.pem")" "$_a" "$_v: signature algorithm"
}
variant pss256 rsa2048 rsassaPss yes -sigopt rsa_padding_mode:pss
variant pss384 rsa3072 rsassaPss yes -sha384 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest
# GnuTLS refuses the maximal salt even from OpenSSL's own software keys:
# that one is checked with openssl only.
variant pss512max rsa4096 rsassaPss no -sha512 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:max
variant rsa-sha384 rsa3072 sha384WithRSAEncryption yes -sha384
variant rsa-sha512 rsa2048 sha512WithRSAEncryption yes -sha512
variant ec-sha384 p384 ecdsa-with-SHA384 yes -sha384
variant ec-sha512 p521 ecdsa-with-SHA512 yes -sha512
variant ec256-sha512 p256 ecdsa-with-SHA512 yes -sha512
params=$(openssl x509 -in pss384.pem -noout -text | grep -A4 'rsassaPss' | head -n 5)
like "$params" "Hash Algorithm: sha384" "PSS parameters name SHA-384"
like "$params" "Salt Length: 0x30" "PSS salt length is the digest length"
if [ -f pss512max.pem ]; then
	like "$(openssl x509 -in pss512max.pem -noout -text | grep 'Salt Length' | head -n 1)" "0x01BE" \
		"PSS saltlen:max is emLen - hLen - 2 (RFC 8017 9.1.1)"
else
	skip "PSS saltlen:max is emLen - hLen - 2 (RFC 8017 9.1.1)" "$(type_lacks rsa4096 || token_lacks pss-salt)"
fi
# RSASSA-PSS AlgorithmIdentifier: the bytes OpenSSL's default provider
# writes (hash and MGF1 hash with explicit NULL parameters), same key,
# digest and salt length.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sw-rsa.key 2>/dev/null
openssl req -new -x509 -key sw-rsa.key -subj /CN=pss -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest \
	-days 30 -out sw-pss.pem
is "$(sigalg_der pss256.pem)" "$(sigalg_der sw-pss.pem)" "RSASSA-PSS AlgorithmIdentifier: the default provider's bytes (explicit NULL hash parameters)"
like "$(sigalg_der pss256.pem)" "0500a11c" "the PSS hash AlgorithmIdentifier carries NULL parameters"
check "PSS CSR" $OPENSSL req -new $FIRST -key "pkcs11:token=PC;object=rsa2048" $PASS -subj /CN=pss \
	-sigopt rsa_padding_mode:pss -out pss.csr
check "PSS CSR verifies" openssl req -verify -noout -in pss.csr
expect_fail 1 "not supported" "SHA-1 is refused" \
	$OPENSSL req -new -x509 $FIRST -key "pkcs11:token=PC;object=p256" $PASS -subj /CN=x -sha1 -out sha1.pem

# openssl dgst and pkeyutl: digest-sign, sign of a digest, Ed25519 raw.
openssl dgst -sha256 -binary -out data.sha256 data
for k in rsa2048 p256; do
	check "$k: dgst -sign" $OPENSSL dgst $FIRST -sha256 -sign "pkcs11:token=PC;object=$k" $PASS -out "$k.dsig" data
	check "$k: dgst signature verifies" openssl dgst -sha256 -verify "$k.pub" -signature "$k.dsig" data
	check "$k: pkeyutl -sign of a digest" $OPENSSL pkeyutl $FIRST -sign -inkey "pkcs11:token=PC;object=$k" $PASS \
		-in data.sha256 -pkeyopt digest:sha256 -out "$k.psig"
	check "$k: pkeyutl signature verifies" openssl pkeyutl -verify -pubin -inkey "$k.pub" -in data.sha256 \
		-sigfile "$k.psig" -pkeyopt digest:sha256
done
if has ed25519; then
	check "ed25519: pkeyutl -rawin -sign" $OPENSSL pkeyutl $FIRST -sign -rawin -inkey "pkcs11:token=PC;object=ed25519" \
		$PASS -in data -out ed.sig
	check "ed25519: signature verifies" openssl pkeyutl -verify -rawin -pubin -inkey ed25519.pub -in data -sigfile ed.sig
else
	skip "ed25519: pkeyutl -rawin -sign and verify" "$(type_lacks ed25519)"
fi

# CRLs (X509_CRL_sign) and OCSP responses (OCSP_basic_sign).
printf '[ca]\ndefault_ca = d\n[d]\ndatabase = %s/index.txt\ncrlnumber = %s/crlnumber\ndefault_md = sha384\ndefault_crl_days = 30\n' \
	"$T" "$T" >ca.cnf
: >index.txt
echo 01 >crlnumber
for k in rsa2048 p384 ed25519; do
	if ! has "$k"; then
		skip "$k: CRL and OCSP signing" "$(type_lacks "$k")"
		continue
	fi
	check "$k: ca -gencrl" $OPENSSL ca $FIRST -config ca.cnf -gencrl -keyfile "pkcs11:token=PC;object=$k" \
		-cert "$k.pem" $PASS -out "$k.crl"
	check "$k: CRL signature verifies" openssl crl -in "$k.crl" -CAfile "$k.pem" -noout
	check "$k: OCSP request" openssl ocsp -issuer "$k.pem" -cert "leaf-$k.pem" -reqout "$k.req"
	check "$k: OCSP response signed on the token" $OPENSSL ocsp $FIRST -index index.txt -rsigner "$k.pem" \
		-rkey "pkcs11:token=PC;object=$k" $PASS -CA "$k.pem" -reqin "$k.req" -respout "$k.resp"
	expect_fail 0 "Response verify OK" "$k: OCSP response verifies" \
		openssl ocsp -respin "$k.resp" -CAfile "$k.pem"
	unlike "$(cat "$T/.out")" "error:" "$k: no stray errors on a successful OCSP signing"
done

# Provider order. Both orders serve every token-key operation above. With
# hsmca first, OpenSSL 3.0 resolves an unqualified fetch of the RSA/EC/
# ED25519 KEYMGMT to hsmca (first provider wins), which cannot generate
# software keys: genpkey / req -newkey need default first (as in the
# example openssl-hsmca.cnf). See providers/hsmca/keymgmt.c.
check "default first: software key generation next to hsmca" \
	$OPENSSL genpkey $SECOND -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out gen.key
check "default first: req -newkey (software) next to hsmca" \
	$OPENSSL req -new -x509 $SECOND -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout new.key \
	-subj /CN=soft -out soft.pem
expect_exit 1 "hsmca first: software keygen is shadowed (documented 3.0 limitation)" \
	$OPENSSL genpkey $HSMCA_FIRST -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out gen2.key
check "hsmca first with -propquery ?provider=default: software keygen works" \
	$OPENSSL genpkey $HSMCA_FIRST -propquery '?provider=default' -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out gen3.key
check "hsmca first with -propquery ?provider=default: token key still signs" \
	$OPENSSL req -new -x509 $FIRST -propquery '?provider=default' -key "pkcs11:token=PC;object=p256" $PASS \
	-subj /CN=pq -out pq.pem
check "... and verifies" openssl verify -CAfile pq.pem pq.pem

# --- the libp11 engine as an independent signer -------------------------
if why=$(token_lacks libp11); then
	skip "the libp11 engine as an independent signer" "$why"
	done_testing
	exit
fi
# libp11 0.4.12 fails on tokens holding Ed25519 keys: a token of its own.
new_token EN
P11E="$P11TOOL --token-label EN --login --pin $PIN"
ENGINE_SO=$(dpkg -L libengine-pkcs11-openssl 2>/dev/null | grep '/pkcs11\.so$' | head -n 1)
cat >engine.cnf <<EOF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $ENGINE_SO
MODULE_PATH = $P11TOOL_MODULE
init = 0
EOF
ENG="env OPENSSL_CONF=$T/engine.cnf openssl"
for spec in "er 11 rsa:2048" "ee 12 EC:prime256v1"; do
	set -- $spec
	uri="pkcs11:token=EN;object=$1"
	check "engine $1: key generated" $P11E --keypairgen --key-type "$3" --label "$1" --id "$2" --usage-sign
	check "engine $1: engine exports the public key" \
		$ENG pkey -engine pkcs11 -inform engine -in "$uri" $PASS -pubout -out "$1.eng.pub"
	check "engine $1: provider exports the public key" \
		$OPENSSL pkey $FIRST -in "$uri" $PASS -pubout -out "$1.prov.pub"
	is "$(pem_spki "$1.eng.pub")" "$(pem_spki "$1.prov.pub")" "engine $1: same public key both ways"
	check "engine $1: engine signs" $ENG pkeyutl -engine pkcs11 -keyform engine -inkey "$uri" $PASS \
		-sign -in data.sha256 -pkeyopt digest:sha256 -out "$1.eng.sig"
	check "engine $1: engine signature verifies with the provider's public key" \
		openssl pkeyutl -verify -pubin -inkey "$1.prov.pub" -in data.sha256 -sigfile "$1.eng.sig" -pkeyopt digest:sha256
	check "engine $1: provider signs" $OPENSSL dgst $FIRST -sha256 -sign "$uri" $PASS -out "$1.prov.sig" data
	check "engine $1: provider signature verifies with the engine's public key" \
		openssl dgst -sha256 -verify "$1.eng.pub" -signature "$1.prov.sig" data
done

done_testing
