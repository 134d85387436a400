#!/bin/sh
# The hsmca provider's errors as the stock openssl CLI prints them, PIN
# sources, and configuration through openssl.cnf (the shipped example).
# hsmca-test: token
. "$HSMCA_TOP/tests/lib.sh"

new_token PE
$P11TOOL --token-label PE --login --pin "$PIN" \
	--keypairgen --key-type EC:prime256v1 --label k --id 01 --usage-sign >/dev/null 2>&1
FIRST=$(ossl_prov)
KEY="pkcs11:token=PE;object=k"
# req KEY-URI [args]: a self-signed certificate with the provider
req() {
	_k=$1
	shift
	$OPENSSL req -new -x509 $FIRST -key "$_k" -subj /CN=e -days 1 -out "$T/e.pem" "$@" </dev/null
}
printf '0000\n' >"$T/badpin"
chmod 600 "$T/badpin"

check "the key works with the right PIN" req "$KEY" -passin "file:$T/pin"
expect_fail 1 "hsmca:.*no token matches 'pkcs11:token=NOPE;object=k' on PKCS#11 module .*: tokens present: .*'PE'" \
	"unknown token label: the message lists the tokens present" \
	req "pkcs11:token=NOPE;object=k" -passin "file:$T/pin"
expect_fail 1 "no private key matches 'pkcs11:object=nokey.*' on token 'PE'" "unknown object" \
	req "pkcs11:token=PE;object=nokey" -passin "file:$T/pin"
expect_fail 1 "no private key matches .*id=%02.* on token 'PE'" "unknown id" \
	req "pkcs11:token=PE;id=%02" -passin "file:$T/pin"
check "the key is found by id" req "pkcs11:token=PE;id=%01" -passin "file:$T/pin"
expect_fail 1 "wrong PIN for token 'PE'" "wrong PIN" req "$KEY" -passin "file:$T/badpin"

# SoftHSM 2.6.1 and NSS softokn never lock the user PIN (and the test TPM has
# its dictionary-attack lockout raised): after many wrong PINs they still
# answer CKR_PIN_INCORRECT (SoftHSM only raises CKF_USER_PIN_COUNT_LOW), and the
# right PIN still works. CKR_PIN_LOCKED ("PIN of token 'L' is locked")
# cannot be produced with these modules.
i=0
while [ $i -lt 12 ]; do
	req "$KEY" -passin "file:$T/badpin" >/dev/null 2>&1
	i=$((i + 1))
done
expect_fail 1 "wrong PIN for token 'PE'" "after 13 wrong PINs the module still says wrong PIN (it never locks)" \
	req "$KEY" -passin "file:$T/badpin"
check "and the right PIN still works" req "$KEY" -passin "file:$T/pin"

# Modules.
expect_fail 1 "cannot load PKCS#11 module /nonexistent/libp11.so: .*No such file" \
	"HSMCA_MODULE that does not load" \
	env HSMCA_MODULE=/nonexistent/libp11.so $OPENSSL req -new -x509 $FIRST -key "$KEY" -passin "file:$T/pin" -subj /CN=e -out e.pem
expect_fail 1 "cannot load PKCS#11 module /nonexistent/m.so" "URI module-path that does not load" \
	env HSMCA_MODULE= $OPENSSL req -new -x509 $FIRST -key "pkcs11:token=PE;object=k?module-path=/nonexistent/m.so" \
	-passin "file:$T/pin" -subj /CN=e -out e.pem
check "URI module-path selects the module" \
	env HSMCA_MODULE= $OPENSSL req -new -x509 $FIRST -key "$KEY?module-path=$HSMCA_MODULE" -passin "file:$T/pin" -subj /CN=e -out e.pem
# One rule (README "Tokens"): pkcs11-module (provider) > $HSMCA_MODULE >
# the URI's module-path or module-name > p11-kit's registry.
check "HSMCA_MODULE wins over the URI's module-path" \
	$OPENSSL req -new -x509 $FIRST -key "$KEY?module-path=/nonexistent/m.so" -passin "file:$T/pin" -subj /CN=e -out e.pem
if why=$(token_lacks p11kit); then
	skip "p11-kit-proxy.so means p11-kit's registry" "$why"
	skip "a module named by its p11-kit name" "$why"
	skip "naming a module initialises that module only" "$why"
else
	check "p11-kit-proxy.so means p11-kit's registry" \
		env HSMCA_MODULE=/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so $OPENSSL req -new -x509 $FIRST -key "$KEY" \
		-passin "file:$T/pin" -subj /CN=e -out e.pem
	check "a module named by its p11-kit name" \
		env HSMCA_MODULE=$P11KIT_NAME $OPENSSL req -new -x509 $FIRST -key "$KEY" -passin "file:$T/pin" -subj /CN=e -out e.pem
	# Every other registered module stays asleep (a TPM module would
	# print its connection errors when initialised without a TPM).
	env -u TPM2_PKCS11_TCTI -u DBUS_SESSION_BUS_ADDRESS HSMCA_MODULE= $OPENSSL req -new -x509 $FIRST \
		-key "$KEY?module-name=$P11KIT_NAME" -passin "file:$T/pin" -subj /CN=e -out e.pem >"$T/named.out" 2>&1
	if [ "$P11KIT_NAME" = tpm2_pkcs11 ]; then
		named=$(grep -c 'BEGIN CERTIFICATE' e.pem)
	else
		named=$(grep -ci 'tcti\|ERROR' "$T/named.out")
	fi
	if [ "$P11KIT_NAME" = tpm2_pkcs11 ]; then
		# Without its bus the TPM module cannot start: the one named
		# is the one initialised.
		like "$(cat "$T/named.out")" "cannot load PKCS#11 module tpm2_pkcs11|no token matches" \
			"naming a module initialises that module only"
	else
		is "$named" 0 "naming a module initialises that module only"
	fi
fi

# URIs.
expect_fail 1 "malformed PKCS#11 URI 'pkcs11:token=%zz;object=k': URI encoding invalid" "malformed URI" \
	req "pkcs11:token=%zz;object=k" -passin "file:$T/pin"
expect_fail 1 "unknown attribute" "misspelt URI attribute" \
	req "pkcs11:token=PE;objekt=k" -passin "file:$T/pin"
expect_fail 1 "slot-id is not used" "slot-id refused" \
	req "pkcs11:slot-id=0;object=k" -passin "file:$T/pin"
expect_fail 1 "another object type" "type=cert refused" \
	req "pkcs11:token=PE;object=k;type=cert" -passin "file:$T/pin"
expect_fail 1 "pin-value is refused.*use pin-source" "pin-value refused" \
	req "$KEY?pin-value=$PIN" # refused without the opt-in

# PIN sources in the URI (RFC 7512 pin-source).
check "URI pin-source=file:" req "$KEY?pin-source=file:$T/pin"
check "URI pin-source as a bare path" req "$KEY?pin-source=$T/pin"
check "URI pin-source=env:" env HSMCA_TEST_PIN=$PIN $OPENSSL req -new -x509 $FIRST -key "$KEY?pin-source=env:HSMCA_TEST_PIN" -subj /CN=e -out e.pem
cp "$T/pin" "$T/grouppin"
chmod 640 "$T/grouppin"
expect_fail 1 "PIN file $T/grouppin is readable by group or others" "PIN file readable by group refused" \
	req "$KEY?pin-source=file:$T/grouppin"
expect_fail 1 "bad PIN source" "unknown pin-source scheme refused" \
	req "$KEY?pin-source=%7Ccat%20$T/pin"
expect_fail 1 "no PIN for token 'PE'" "no PIN at all" req "$KEY" -passin "pass:"

# The shipped example configuration.
conf() { # FILE [sed expression]: the example with our build and $1 changes
	sed -e "s|^# module = .*|module = $PROVDIR/hsmca.so|" \
		-e "s|^# pkcs11-module = .*|pkcs11-module = $HSMCA_MODULE|" \
		-e "${2:-s|^\$||}" "$HSMCA_TOP/providers/hsmca/openssl-hsmca.cnf" >"$T/$1"
}
conf example.cnf
CONF="env HSMCA_MODULE= OPENSSL_CONF"
check "example openssl-hsmca.cnf: req -x509 without -provider options" \
	$CONF="$T/example.cnf" $OPENSSL req -new -x509 -key "$KEY" -passin "file:$T/pin" -subj /CN=cnf -out cnf.pem
check "example openssl-hsmca.cnf: certificate verifies" openssl verify -CAfile cnf.pem cnf.pem
like "$(env OPENSSL_CONF="$T/example.cnf" $OPENSSL list -providers 2>&1 | tr '\n' ' ')" "hsmca +name: hsmca PKCS#11 provider +version: [0-9.]+ +status: active" \
	"the check README gives: openssl list -providers shows hsmca active"
conf nomodule.cnf "s|^module = .*|module = $T/nowhere/hsmca.so|"
# A configuration whose module path is wrong loads silently without
# hsmca: the check shows it missing.
unlike "$(env OPENSSL_CONF="$T/nomodule.cnf" $OPENSSL list -providers 2>&1)" "hsmca" \
	"a provider that cannot be found is missing from openssl list -providers"
conf pinsrc.cnf "s|^# pin-source = .*|pin-source = file:$T/pin|"
check "config pin-source: no -passin needed" \
	$CONF="$T/pinsrc.cnf" $OPENSSL req -new -x509 -key "$KEY" -subj /CN=cnf -out cnf.pem
conf allow.cnf "s|^# allow-pin-value = .*|allow-pin-value = yes|"
check "config allow-pin-value = yes: pin-value accepted" \
	$CONF="$T/allow.cnf" $OPENSSL req -new -x509 -key "$KEY?pin-value=$PIN" -subj /CN=cnf -out cnf.pem # insecure opt-in
conf nomod.cnf "s|^pkcs11-module = .*|pkcs11-module = /nonexistent/conf.so|"
expect_fail 1 "cannot load PKCS#11 module /nonexistent/conf.so" "config pkcs11-module that does not load" \
	$CONF="$T/nomod.cnf" $OPENSSL req -new -x509 -key "$KEY" -passin "file:$T/pin" -subj /CN=cnf -out cnf.pem
check "config pkcs11-module wins over HSMCA_MODULE" \
	env HSMCA_MODULE=/nonexistent/env.so OPENSSL_CONF="$T/example.cnf" $OPENSSL req -new -x509 -key "$KEY" \
	-passin "file:$T/pin" -subj /CN=cnf -out cnf.pem
if [ -n "$HSMCA_MODULE_ARGS" ]; then
	# NSS softokn: C_Initialize needs its arguments, from the provider
	# configuration (double quotes keep the single ones) or the environment.
	expect_fail 1 "C_Initialize: .*needs initialisation arguments" "a module that needs arguments, given none" \
		env HSMCA_MODULE_ARGS= OPENSSL_CONF="$T/example.cnf" $OPENSSL req -new -x509 -key "$KEY" \
		-passin "file:$T/pin" -subj /CN=cnf -out cnf.pem
	printf 'pkcs11-module-args = "%s"\n' "$HSMCA_MODULE_ARGS" >>"$T/example.cnf"
	check "config pkcs11-module-args initialises the module" \
		env HSMCA_MODULE_ARGS= OPENSSL_CONF="$T/example.cnf" $OPENSSL req -new -x509 -key "$KEY" \
		-passin "file:$T/pin" -subj /CN=cnf -out cnf.pem
else
	skip "a module that needs arguments, given none" "this module takes no initialisation arguments"
	skip "config pkcs11-module-args initialises the module" "this module takes no initialisation arguments"
fi
conf badsrc.cnf "s|^# pin-source = .*|pin-source = bogus|"
expect_fail 1 "hsmca provider configuration: bad PIN source \(not shown\)" "config with a bad pin-source" \
	$CONF="$T/badsrc.cnf" $OPENSSL req -new -x509 -key "$KEY" -passin "file:$T/pin" -subj /CN=cnf -out cnf.pem
unlike "$(cat "$T/.out")" "bogus" "a bad pin-source is not echoed (it may be a PIN)"
conf badallow.cnf "s|^# allow-pin-value = .*|allow-pin-value = maybe|"
expect_fail 1 "allow-pin-value must be yes or no" "config with a bad allow-pin-value" \
	$CONF="$T/badallow.cnf" $OPENSSL req -new -x509 -key "$KEY" -passin "file:$T/pin" -subj /CN=cnf -out cnf.pem

done_testing
