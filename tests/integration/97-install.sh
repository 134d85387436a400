#!/bin/sh
# make install PREFIX=...: tools as hsmca-<name>, man pages, the provider
# module and its example configuration; the installed pieces work.
# hsmca-test: token
. "$HSMCA_TOP/tests/lib.sh"

P=$T/inst
check "make install PREFIX=$P" make -C "$HSMCA_TOP" --no-print-directory BUILD="$HSMCA_BUILD" install PREFIX="$P"
like "$(cat "$T/.out")" "openssl list -providers -provider-path $P/lib/ossl-modules -provider hsmca -provider default" \
	"make install says how to check that OpenSSL loads the provider"
like "$($OPENSSL list -providers -provider-path "$P/lib/ossl-modules" -provider hsmca -provider default | tr '\n' ' ')" \
	"hsmca.*status: active" "that check lists hsmca as active"
for t in keygen init-ca sign-subca sign-leaf revoke gen-crl two-person-approve audit ceremony; do
	[ -x "$P/bin/hsmca-$t" ] && ok "hsmca-$t installed" || notok "hsmca-$t installed"
	[ -f "$P/share/man/man1/hsmca-$t.1" ] && ok "hsmca-$t.1 installed" || notok "hsmca-$t.1 installed"
done
[ -f "$P/lib/ossl-modules/hsmca.so" ] && ok "provider module installed" || notok "provider module installed"
[ -f "$P/share/hsmca/openssl-hsmca.cnf" ] && ok "example openssl.cnf installed" || notok "example openssl.cnf installed"
is "$(grep -cE '^[[:space:]]*pkcs11-module' "$P/share/hsmca/openssl-hsmca.cnf")" 0 \
	"the installed openssl-hsmca.cnf names no PKCS#11 module (no active SoftHSM line)"
like "$("$P/bin/hsmca-keygen" --version)" "^hsmca-keygen [0-9]" "installed tool runs"
for f in root key subca cross crl revoke-subca; do
	[ -f "$P/share/hsmca/ceremony/$f.yaml" ] && ok "ceremony file $f.yaml installed" || notok "ceremony file $f.yaml installed"
done
check "the installed ceremony files pass the installed hsmca-ceremony check" \
	"$P/bin/hsmca-ceremony" check "$P/share/hsmca/ceremony/subca.yaml"
check "an installed ceremony file rehearses with the installed tools" \
	"$P/bin/hsmca-ceremony" run "$P/share/hsmca/ceremony/key.yaml" --rehearse --out inst-rehearsal --non-interactive
like "$(sed -n 's/^[^ ]* RUN //p' inst-rehearsal/transcript.txt | head -n 1)" "^$P/bin/hsmca-keygen " \
	"the installed hsmca-ceremony runs the tools installed next to it"
new_token Inst
"$P/bin/hsmca-keygen" --token pkcs11:token=Inst --label k --type ec:p256 --pin-source "$PINSRC" >/dev/null
check "stock openssl loads the installed provider" $OPENSSL req -new -x509 -provider-path "$P/lib/ossl-modules" \
	-provider default -provider hsmca -key "pkcs11:token=Inst;object=k" -passin "file:$T/pin" -subj /CN=installed -days 1 -out inst.crt
check "its certificate verifies" openssl verify -CAfile inst.crt inst.crt
done_testing
