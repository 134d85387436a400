# What the harnesses of tests/tokens/ share for the daemons they start
# (tpm.sh, pg.sh). Sourced by them.

# daemon_wait PID WHAT CMD...: run CMD until it succeeds (a minute at the
# most), while PID lives; WHAT names the daemon in the message of a failure.
daemon_wait() {
	_pid=$1
	_what=$2
	shift 2
	_i=0
	until "$@" >/dev/null 2>&1; do
		if ! kill -0 "$_pid" 2>/dev/null; then
			echo "$_what exited" >&2
			return 1
		fi
		_i=$((_i + 1))
		if [ "$_i" -gt 600 ]; then
			echo "$_what does not answer" >&2
			return 1
		fi
		sleep 0.1
	done
}
