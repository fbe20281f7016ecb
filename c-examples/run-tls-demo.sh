#!/bin/sh
# ping against pong with authenticated TLS: makes a CA and a certificate it signs (with the
# openssl command, in a scratch directory), then runs run-demo.sh with both sides set to
# present that certificate and to trust only that CA (Broker's broker.ssl.* options).
#
#   c-examples/run-tls-demo.sh [BIN_DIR [COUNT]]     (build/examples, 3)
set -eu

bin=${1:-build/examples}
count=${2:-3}
here=$(dirname "$0")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

ssl() { openssl "$@" >/dev/null 2>&1; }
ssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 1 \
    -subj "/CN=brook demo CA"
ssl req -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/node.csr" -subj "/CN=node"
ssl x509 -req -in "$dir/node.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -out "$dir/cert.pem" -days 1

"$here/run-demo.sh" "$bin" "$count" \
    --set "broker.ssl.certificate=$dir/cert.pem" \
    --set "broker.ssl.key=$dir/key.pem" \
    --set "broker.ssl.cafile=$dir/ca.pem"
