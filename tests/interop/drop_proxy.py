#!/usr/bin/env python3
"""A TCP proxy for Broker peerings that drops chosen store commands (for
broker_interop.py's loss checks; a process of its own, because Broker's Python bindings
hold the GIL while they block).

Usage: drop_proxy.py UPSTREAM_PORT c2s|s2c WHAT [N]
Forwards 127.0.0.1:<its port> to 127.0.0.1:UPSTREAM_PORT frame by frame and drops the
first N (default 1) store command envelopes going in the given direction (c2s: from the
side that connected to the proxy) that match WHAT: `#<index>` matches the
internal_command alternative <index> (12 ack_clone, 8 attach_writer, ...), anything else a
put (index 0) of that string key. Prints its port on stdout, then one line on stderr per
dropped envelope: `dropped <direction> <topic> seq=<seq> index=<index>`.
"""

import socket
import struct
import sys
import threading


def matches(frame, what):
    """True if `frame` is a command envelope whose internal_command matches `what`."""
    if len(frame) < 37 or frame[32] != 2:  # envelope type 2: command
        return False
    topic_len = struct.unpack(">H", frame[35:37])[0]
    cmd = frame[37 + topic_len:]
    # seq (8), sender (24), receiver (24), index (1), then the fields (a put's key first)
    if what.startswith(b"#"):
        return len(cmd) > 56 and cmd[56] == int(what[1:])
    want = bytes([0, 5, len(what)]) + what
    return cmd[56:56 + len(want)] == want


def describe(frame):
    topic_len = struct.unpack(">H", frame[35:37])[0]
    topic = frame[37:37 + topic_len].decode("utf-8", "replace")
    cmd = frame[37 + topic_len:]
    return f"{topic} seq={struct.unpack('>Q', cmd[:8])[0]} index={cmd[56]}"


def main():
    upstream, direction, what = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode()
    budget = [int(sys.argv[4]) if len(sys.argv) > 4 else 1]
    lock = threading.Lock()

    def pump(src, dst, d):
        buf = b""
        try:
            while True:
                chunk = src.recv(65536)
                if not chunk:
                    break
                buf += chunk
                out = []
                while len(buf) >= 4:
                    n = struct.unpack(">I", buf[:4])[0]
                    if len(buf) < 4 + n:
                        break
                    frame, buf = buf[4:4 + n], buf[4 + n:]
                    if d == direction and matches(frame, what):
                        with lock:
                            drop = budget[0] > 0
                            budget[0] -= drop
                        if drop:
                            print(f"dropped {d} {describe(frame)}", file=sys.stderr,
                                  flush=True)
                            continue
                    out.append(struct.pack(">I", n) + frame)
                if out:
                    dst.sendall(b"".join(out))
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    print(ls.getsockname()[1], flush=True)
    while True:
        c, _ = ls.accept()
        u = socket.create_connection(("127.0.0.1", upstream))
        threading.Thread(target=pump, args=(c, u, "c2s"), daemon=True).start()
        threading.Thread(target=pump, args=(u, c, "s2c"), daemon=True).start()


if __name__ == "__main__":
    main()
