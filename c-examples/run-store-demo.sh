#!/bin/sh
# A master in one process and a clone in another, over 127.0.0.1: c-examples/store.c run
# as both. The master listens on a port the system picks and announces it on its first
# line; the clone peers with it. Each increments the counter COUNT times, and both must
# print "counter = <2 COUNT>".
#
#   c-examples/run-store-demo.sh [BIN_DIR [COUNT]]     (build/examples, 100)
set -eu

bin=${1:-build/examples}
count=${2:-100}
want="counter = $((2 * count))"
dir=$(mktemp -d)
master=
trap 'if [ -n "$master" ]; then kill "$master" 2>/dev/null || true; fi; rm -rf "$dir"' EXIT
trap 'exit 143' INT TERM

# The master's output goes through a FIFO, so that its first line can be read as soon as
# it is written, without polling a file.
mkfifo "$dir/master.fifo"
"$bin/store" master --port 0 --count "$count" >"$dir/master.fifo" &
master=$!
exec 3<"$dir/master.fifo"
if ! read -r first <&3; then
    echo "run-store-demo: the master exited before listening" >&2
    exit 1
fi
port=${first#listening on }
case $port in
    '' | *[!0-9]*)
        echo "run-store-demo: unexpected first line from the master: $first" >&2
        exit 1
        ;;
esac
echo "master: $first"
# The rest of the master's output, kept for the check and shown as it comes.
while IFS= read -r line; do echo "master: $line"; echo "$line" >>"$dir/master.out"; done <&3 &
relay=$!

status=0
"$bin/store" clone --port "$port" --count "$count" >"$dir/clone.out" || status=$?
sed 's/^/clone: /' "$dir/clone.out"
if [ "$status" -ne 0 ]; then
    # The master still waits for the clone that failed.
    kill "$master" 2>/dev/null || true
fi
wait "$master" || status=$?
master=
wait "$relay"

for side in master clone; do
    if ! grep -qx "$want" "$dir/$side.out" 2>/dev/null; then
        echo "run-store-demo: the $side did not print \"$want\"" >&2
        status=1
    fi
done
exit "$status"
