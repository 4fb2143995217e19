#!/usr/bin/env bash
# Starts a throwaway redis-server on a free loopback port, runs the Redis vs
# ets comparison (go run ./redis) against it, and stops the server. Installs
# Debian's redis-server with apt-get when it is missing. When Redis cannot be
# installed or started, it says so and exits 0: the comparison is optional.
#
#   redis/run.sh [flags of go run ./redis, e.g. -duration 1s -clients 2]
set -uo pipefail
cd "$(dirname "$0")/.."

skip() {
	echo "redis: SKIPPED: $*" >&2
	exit 0
}

if ! command -v redis-server >/dev/null; then
	echo "redis: redis-server not found; installing Debian's redis-server" >&2
	if ! command -v apt-get >/dev/null; then
		skip "no redis-server and no apt-get to install it"
	fi
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO="sudo"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >/dev/null 2>&1 ||
		{ $SUDO apt-get update -qq >/dev/null 2>&1 &&
			DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >/dev/null 2>&1; } ||
		skip "apt-get install redis-server failed"
	command -v redis-server >/dev/null || skip "redis-server still not on PATH after installing"
fi

# A free port: ask the kernel for one.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null) ||
	port=$((20000 + RANDOM % 20000))

dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
	--dir "$dir" --logfile "$dir/redis.log" --daemonize no &
pid=$!
cleanup() {
	kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

up=""
for _ in $(seq 50); do
	if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
		up=1
		break
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
[ -n "$up" ] || { cat "$dir/redis.log" >&2 2>/dev/null; skip "redis-server did not start on 127.0.0.1:$port"; }

echo "redis-server $(redis-server --version | grep -o 'v=[^ ]*') on 127.0.0.1:$port" >&2
go run ./redis -addr "127.0.0.1:$port" "$@"
