#!/bin/sh
# `make demo`: ping against pong, two processes peering over 127.0.0.1. pong listens on a
# port the system picks and announces it on its first line; ping peers with it, sends
# COUNT pings and checks every pong.
#
#   c-examples/run-demo.sh [BIN_DIR [COUNT [--set NAME=VALUE]...]]     (build/examples, 5)
#
# Options after COUNT go to both ping and pong (Broker options by name, such as
# broker.disable-ssl=true); run-tls-demo.sh passes certificates this way.
set -eu

bin=${1:-build/examples}
count=${2:-5}
shift $(( $# < 2 ? $# : 2 ))
dir=$(mktemp -d)
pong=
trap 'if [ -n "$pong" ]; then kill "$pong" 2>/dev/null || true; fi; rm -rf "$dir"' EXIT
trap 'exit 143' INT TERM

# pong's output goes through a FIFO, so that its first line can be read as soon as it is
# written, without polling a file.
mkfifo "$dir/pong.out"
"$bin/pong" --port 0 --count "$count" "$@" >"$dir/pong.out" &
pong=$!
exec 3<"$dir/pong.out"
if ! read -r first <&3; then
    echo "run-demo: pong exited before listening" >&2
    exit 1
fi
port=${first#listening on }
case $port in
    '' | *[!0-9]*)
        echo "run-demo: unexpected first line from pong: $first" >&2
        exit 1
        ;;
esac
echo "pong: $first"
while IFS= read -r line; do echo "pong: $line"; done <&3 &
relay=$!

status=0
"$bin/ping" --port "$port" --count "$count" "$@" || status=$?
if [ "$status" -ne 0 ]; then
    # pong still waits for the pings that never came.
    kill "$pong" 2>/dev/null || true
fi
wait "$pong" || status=$?
pong=
wait "$relay"
exit "$status"
