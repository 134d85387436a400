#!/bin/sh
# Every seed of the CSR fuzz corpus (tests/fuzz/corpus/csr/) through the
# code the fuzz target drives, built like the tools: under `make test-san`
# (HSMCA_SAN=1, BUILD=build/san) with AddressSanitizer's leak detection,
# so that a leak on any seed fails the run. Among the seeds: an EC key
# whose AlgorithmIdentifier lacks its parameters, and an Ed25519 key
# (parameters absent by RFC 8410).
. "$HSMCA_TOP/tests/lib.sh"

corpus=$HSMCA_TOP/tests/fuzz/corpus/csr
replay=$HSMCA_BUILD/tests/replay_csr
n=$(ls "$corpus" | wc -l)
like "$n" '^[1-9][0-9]*$' "the CSR corpus has seeds ($n)"
[ -f "$corpus/ec-no-parameters.der" ] && ok "the corpus holds an EC key without parameters" ||
	notok "the corpus holds an EC key without parameters"
"$replay" "$corpus"/* >"$T/replay.out" 2>&1
rc=$?
is "$rc" 0 "every seed replayed, no sanitizer report (leaks included under SAN)"
[ "$rc" -eq 0 ] || diag "$(tail -n 30 "$T/replay.out")"
is "$(grep -c '^ok ' "$T/replay.out")" "$n" "one result per seed"
done_testing
