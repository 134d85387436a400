#!/bin/sh
# The layout: every #include "..." follows the layer table
# (tests/layers.txt, checked by tests/check-layers), and every header
# compiles on its own. The checker is first shown to catch each kind of
# violation in a small tree made here.
. "$HSMCA_TOP/tests/lib.sh"

CHECK=$HSMCA_TOP/tests/check-layers
LAYERS=$HSMCA_TOP/tests/layers.txt

# ---- the checker catches what it must, on a tree made for it ----------
tree=$T/tree
mkdir -p "$tree/common" "$tree/providers/hsmca/token" "$tree/tools/lib/base" \
	"$tree/tools/lib/x509" "$tree/tools/lib/store" "$tree/tools/lib/input" \
	"$tree/tools/lib/issue" "$tree/tools/lib/cli" "$tree/tools/lib/extra"
: >"$tree/common/err.h"
: >"$tree/tools/lib/base/hex.h"
: >"$tree/tools/lib/store/store.h"
: >"$tree/tools/lib/issue/leaf.h"
: >"$tree/providers/hsmca/token/token.h"
printf '#include "common/err.h"\n' >"$tree/common/err.c"
printf '#include "common/err.h"\n#include "token/token.h"\n' >"$tree/providers/hsmca/provider.c"
printf '#include "base/hex.h"\n#include "common/err.h"\n#include "providers/hsmca/token/token.h"\n' \
	>"$tree/tools/lib/issue/good.c"
printf '#include "base/hex.h"\n#include "issue/leaf.h"\n#include "cli/nothing.h"\n' >"$tree/tools/lib/cli/good.c"
: >"$tree/tools/lib/cli/nothing.h"
printf '#include <stdio.h>\n#include "issue/leaf.h"\n#include "base/hex.h"\n' >"$tree/tools/lib/cli/ok.c"
cp "$LAYERS" "$T/layers.txt"
"$CHECK" "$tree" "$T/layers.txt" >"$T/clean.out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ ! -s "$T/clean.out" ]; then
	ok "check-layers: a tree that follows the layers passes silently"
else
	notok "check-layers: a tree that follows the layers passes silently" "exit $rc" "$(head -n 5 "$T/clean.out" | sed 's/^/#   /')"
fi

# Now break every rule once.
printf '/* base */\n#include "issue/leaf.h"\n' >"$tree/tools/lib/base/up.c"
printf '#include "store/store.h"\n' >"$tree/tools/lib/x509/same.c"
printf '#include "base/hex.h"\n#include "../base/hex.h"\n' >"$tree/tools/lib/input/dots.c"
printf '#include "common/err.h"\n#include "tools/lib/base/hex.h"\n#include "base/hex.h"\n' \
	>"$tree/providers/hsmca/store.c"
printf '#include "leaf.h"\n' >"$tree/tools/lib/issue/bare.c"
: >"$tree/tools/lib/stray.c"
: >"$tree/tools/lib/extra/new.c"
# x509/tbsmark.h: only lint/ and quorum/ set a TBS's marks.
mkdir -p "$tree/tools/lib/lint"
: >"$tree/tools/lib/x509/tbsmark.h"
printf '#include "x509/tbsmark.h"\n' >"$tree/tools/lib/lint/good.c"
printf '#include "x509/tbsmark.h"\n' >"$tree/tools/lib/issue/mark.c"
"$CHECK" "$tree" "$T/layers.txt" >"$T/bad.out" 2>&1
rc=$?
if [ "$rc" -eq 1 ]; then
	ok "check-layers: exits 1 on a tree with violations"
else
	notok "check-layers: exits 1 on a tree with violations" "exit $rc" "$(sed 's/^/#   /' "$T/bad.out")"
fi
expect_line() { # DESC FIXED-STRING
	if grep -qF -- "$2" "$T/bad.out"; then
		ok "check-layers: $1"
	else
		notok "check-layers: $1" "expected a line with: $2" "got:" "$(sed 's/^/#   /' "$T/bad.out")"
	fi
}
expect_line "an upward include, named by file, line and rule" \
	'tools/lib/base/up.c:2: includes "issue/leaf.h": tools/lib/base (rank 1) includes a higher layer, tools/lib/issue (rank 6)'
expect_line "a same-rank folder" \
	'tools/lib/x509/same.c:1: includes "store/store.h": tools/lib/x509 and tools/lib/store are both rank 2: same-rank folders do not include each other'
expect_line "a ../ path" \
	'tools/lib/input/dots.c:2: includes "../base/hex.h": goes up with "../"'
expect_line "the provider including the tools' library" \
	'providers/hsmca/store.c:2: includes "tools/lib/base/hex.h": the provider includes only providers/ and common/'
expect_line "the provider cannot even reach tools/lib by layer name" \
	'providers/hsmca/store.c:3: includes "base/hex.h": resolves to no file of the tree'
expect_line "a bare name resolved next to the file" \
	'tools/lib/issue/bare.c:1: includes "leaf.h": write it as "folder/file.h"'
expect_line "a file directly in tools/lib" 'tools/lib/stray.c:1: is in no folder of layers.txt'
expect_line "a folder missing from the table" 'tools/lib/extra/new.c:1: is in no folder of layers.txt'
expect_line "a header only some folders may include (the TBS marks)" \
	'tools/lib/issue/mark.c:1: includes "x509/tbsmark.h": only the folders listed for tools/lib/x509/tbsmark.h in layers.txt include it'
n_bad=$(wc -l <"$T/bad.out")
if [ "$n_bad" -eq 9 ] && ! grep -q 'good.c\|ok.c\|common/err.c\|provider.c' "$T/bad.out"; then
	ok "check-layers: reports the 9 violations and nothing that follows the rules"
else
	notok "check-layers: reports the 9 violations and nothing that follows the rules" "$(sed 's/^/#   /' "$T/bad.out")"
fi

# ---- this tree ----------------------------------------------------------
"$CHECK" "$HSMCA_TOP" >"$T/tree.out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ ! -s "$T/tree.out" ]; then
	ok "layers: every #include in common/, providers/ and tools/ follows tests/layers.txt"
elif [ "$rc" -eq 1 ]; then
	while IFS= read -r v; do notok "layers: $v"; done <"$T/tree.out"
else
	notok "layers: tests/check-layers ran" "exit $rc" "$(head -n 5 "$T/tree.out" | sed 's/^/#   /')"
fi

# ---- every header compiles on its own -----------------------------------
cflags="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror $(pkg-config --cflags libcrypto p11-kit-1 sqlite3 jansson libpq)"
n_h=0
: >"$T/headers.out"
for h in $(cd "$HSMCA_TOP" && find common providers tools -name '*.h' | sort); do
	case "$h" in
	providers/* | common/*) inc="-I$HSMCA_TOP" ;;
	*) inc="-I$HSMCA_TOP -I$HSMCA_TOP/tools/lib" ;;
	esac
	n_h=$((n_h + 1))
	# shellcheck disable=SC2086
	if ! ${CC:-cc} $cflags $inc -fsyntax-only -x c "$HSMCA_TOP/$h" >"$T/h.err" 2>&1; then
		notok "header $h compiles on its own" "$(head -n 5 "$T/h.err" | sed 's/^/#   /')"
		echo "$h" >>"$T/headers.out"
	fi
done
if [ ! -s "$T/headers.out" ] && [ "$n_h" -gt 0 ]; then
	ok "each of the $n_h headers compiles on its own"
fi

done_testing
