#!/bin/sh
# scripts/install-deps (run by make test and make demo) calls apt-get only
# when a package is missing; a package waiting for triggers counts as
# installed; HSMCA_NO_DEPS=1 installs nothing. dpkg-query and apt-get are
# stubs on PATH: the stub apt-get records its calls.
. "$HSMCA_TOP/tests/lib.sh"

DEPS=$HSMCA_TOP/scripts/install-deps
mkdir stub
cat >stub/dpkg-query <<'EOF'
#!/bin/sh
# dpkg-query -W -f=FORMAT PKG...: "PKG STATUS" from $STUB_STATUS.
shift 2
rc=0
for p in "$@"; do
	line=$(grep "^$p " "$STUB_STATUS" | head -n 1)
	if [ -n "$line" ]; then
		printf '%s\n' "$line"
	else
		echo "dpkg-query: no packages found matching $p" >&2
		rc=1
	fi
done
exit $rc
EOF
cat >stub/apt-get <<'EOF'
#!/bin/sh
echo "apt-get $*" >>"$STUB_LOG"
EOF
cat >stub/id <<'EOF'
#!/bin/sh
echo 0
EOF
chmod 755 stub/*
export STUB_STATUS="$T/status" STUB_LOG="$T/apt.log"
deps() { env PATH="$T/stub:$PATH" "$DEPS"; }

pkgs=$("$DEPS" --list)
n=$(printf '%s\n' "$pkgs" | wc -l)
[ "$n" -ge 10 ] && ok "--list names the packages ($n)" || notok "--list names the packages" "$pkgs"
like "$pkgs" "^softhsm2$" "softhsm2 is one of them"

# Every package installed, some waiting for triggers.
i=0
: >status
for p in $pkgs; do
	i=$((i + 1))
	case $((i % 3)) in
	0) echo "$p install ok triggers-pending" ;;
	1) echo "$p install ok installed" ;;
	2) echo "$p install ok triggers-awaited" ;;
	esac >>status
done
: >apt.log
check "all installed (some triggers-pending): exit 0" deps
is "$(cat apt.log)" "" "all installed: apt-get is not called"
is "$(cat "$T/.out")" "" "all installed: nothing printed"

# make deps (what make test and make demo run first) with the same stubs.
: >apt.log
check "make deps with everything installed" env PATH="$T/stub:$PATH" make -s -C "$HSMCA_TOP" deps
is "$(cat apt.log)" "" "make deps: apt-get is not called"
like "$(make -n -C "$HSMCA_TOP" test 2>/dev/null | head -n 3)" "scripts/install-deps" "make test runs install-deps first"
like "$(make -n -C "$HSMCA_TOP" demo 2>/dev/null | head -n 3)" "scripts/install-deps" "make demo runs install-deps first"

# One package half-installed, one unknown to dpkg.
sed -i -e 's/^softhsm2 .*/softhsm2 deinstall ok config-files/' -e '/^valgrind /d' status
: >apt.log
check "missing packages: installed" deps
is "$(cat apt.log)" "apt-get update -q
apt-get install -y -q --no-install-recommends softhsm2 valgrind" "apt-get installs exactly the missing packages"
like "$(cat "$T/.out")" "installing: softhsm2 valgrind" "it says what it installs"

# A package still unpacking is not installed.
sed -i -e 's/^softhsm2 .*/softhsm2 install ok unpacked/' status
echo "valgrind install ok installed" >>status
: >apt.log
check "a package only unpacked: installed" deps
like "$(cat apt.log)" "install -y -q --no-install-recommends softhsm2$" "unpacked counts as missing"

# HSMCA_NO_DEPS=1: nothing installed, what is missing said.
: >apt.log
check "HSMCA_NO_DEPS=1: exit 0" env HSMCA_NO_DEPS=1 PATH="$T/stub:$PATH" "$DEPS"
is "$(cat apt.log)" "" "HSMCA_NO_DEPS=1: apt-get is not called"
like "$(cat "$T/.out")" "HSMCA_NO_DEPS=1: not installing: softhsm2" "HSMCA_NO_DEPS=1 says what is missing"
: >apt.log
check "make deps HSMCA_NO_DEPS=1" env HSMCA_NO_DEPS=1 PATH="$T/stub:$PATH" make -s -C "$HSMCA_TOP" deps
is "$(cat apt.log)" "" "make deps with HSMCA_NO_DEPS=1: apt-get is not called"
like "$(head -n 12 "$HSMCA_TOP/README.md")" "set .HSMCA_NO_DEPS=1. \(.make test HSMCA_NO_DEPS=1" \
	"README says, next to make test and make demo, how to skip the install step"
done_testing
