# scripts/poll.sh — bounded waiting, shared by the demos and the integration tests (source it).
# poll_until TENTHS COMMAND...: retry every 0.1 s for at most TENTHS tries and about TENTHS/10 s.
poll_until() {
	local tries=$1 deadline=$((SECONDS + ($1 + 9) / 10 + 1)) k
	shift
	for ((k = 0; k < tries && SECONDS < deadline; k++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
