"""CPython peer for the multiproc-pipe interop tests.

usage:
  peer.py server ADDRESS AUTHKEY   listen (Listener), print "READY <port-or-0>", serve one client
  peer.py client ADDRESS AUTHKEY   connect (Client) and run the exchange

ADDRESS is "tcp:HOST:PORT", "unix:PATH" or "abstract:NAME". AUTHKEY is "none" or hex bytes
("" hex = empty key). After the handshake, for every size the Rust side sends pattern(size, 1),
this script checks it and answers pattern(size, 2). Exit codes: 0 ok, 3 authentication failed,
4 data mismatch.
"""
import sys
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Listener

SIZES = [0, 5, 20 * 1024, 16 * 1024 * 1024]


def pattern(size, seed):
    base = bytes((j + seed) % 251 for j in range(251))
    return (base * (size // 251 + 1))[:size]


def parse_address(text):
    kind, _, rest = text.partition(":")
    if kind == "tcp":
        host, _, port = rest.rpartition(":")
        return (host, int(port))
    if kind == "unix":
        return rest
    if kind == "abstract":
        return "\0" + rest
    raise SystemExit(f"bad address {text!r}")


def exchange(conn):
    for size in SIZES:
        got = conn.recv_bytes()
        if got != pattern(size, 1):
            print(f"MISMATCH size={size} got={len(got)}", flush=True)
            sys.exit(4)
        conn.send_bytes(pattern(size, 2))
    # Python's own pickled messages pass through untouched as bytes on the Rust side.
    conn.send_bytes(b"done")
    conn.close()


def main():
    role, address, key = sys.argv[1], parse_address(sys.argv[2]), sys.argv[3]
    authkey = None if key == "none" else bytes.fromhex(key)
    try:
        if role == "server":
            with Listener(address, authkey=authkey) as listener:
                port = listener.address[1] if isinstance(listener.address, tuple) else 0
                print(f"READY {port}", flush=True)
                conn = listener.accept()
                exchange(conn)
        else:
            exchange(Client(address, authkey=authkey))
    except AuthenticationError as e:
        print(f"AUTHFAIL {e}", flush=True)
        sys.exit(3)
    print("OK", flush=True)


if __name__ == "__main__":
    main()
