#!/bin/sh
# Every seed of the CSR fuzz corpus (tests/fuzz/corpus/csr/) through the
# code the fuzz target drives, built like the tools: under `make test-san`
# (HSMCA_SAN=1, BUILD=build/san) with AddressSanitizer's leak detection,
# so that a leak on any seed fails the run. Among the seeds: EC keys whose
# AlgorithmIdentifier parameters are absent, of type EOC (0: the copy of
# the key leaked 33 bytes per CSR) and a BOOLEAN (read as a string: a
# crash), and an Ed25519 key (parameters absent by RFC 8410).
. "$HSMCA_TOP/tests/lib.sh"

corpus=$HSMCA_TOP/tests/fuzz/corpus/csr
replay=$HSMCA_BUILD/tests/replay_csr
n=$(ls "$corpus" | wc -l)
like "$n" '^[1-9][0-9]*$' "the CSR corpus has seeds ($n)"
for f in ec-no-parameters ec-eoc-parameters ec-boolean-parameters; do
	[ -f "$corpus/$f.der" ] && ok "the corpus holds $f.der" || notok "the corpus holds $f.der"
	"$replay" "$corpus/$f.der" >"$T/one.out" 2>&1
	is "$?" 0 "$f.der replays without a leak or a crash"
done
"$replay" "$corpus"/* >"$T/replay.out" 2>&1
rc=$?
is "$rc" 0 "every seed replayed, no sanitizer report (leaks included under SAN)"
[ "$rc" -eq 0 ] || diag "$(tail -n 30 "$T/replay.out")"
is "$(grep -c '^ok ' "$T/replay.out")" "$n" "one result per seed"
done_testing
