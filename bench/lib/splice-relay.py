"""
A zero-copy TCP relay for bench/mounts.ts: the cheapest proxy this kernel allows, and so the floor
of what any proxy (ours, rclone, socat) can reach here. Every byte goes socket -> pipe -> socket
with splice(2), never copied into user space; no HTTP, no cache, no disk.

    python3 splice-relay.py LISTEN_PORT TARGET_PORT     (both on 127.0.0.1; prints "ready")

Python because Node has no splice, and socat copies through its own buffers.
"""
import fcntl
import os
import socket
import sys
import threading

PIECE = 1 << 20
F_SETPIPE_SZ = 1031


def pump(src: socket.socket, dst: socket.socket) -> None:
    """Moves src's bytes to dst until src ends, then ends dst's writing side."""
    r, w = os.pipe()
    try:
        fcntl.fcntl(w, F_SETPIPE_SZ, PIECE)
        while True:
            n = os.splice(src.fileno(), w, PIECE)
            if n == 0:
                break
            while n:
                n -= os.splice(r, dst.fileno(), n)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        os.close(r)
        os.close(w)


def serve(client: socket.socket, target_port: int) -> None:
    target = socket.create_connection(("127.0.0.1", target_port))
    up = threading.Thread(target=pump, args=(client, target))
    up.start()
    pump(target, client)
    up.join()
    client.close()
    target.close()


def main() -> None:
    listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", listen_port))
    server.listen(16)
    print("ready", flush=True)
    while True:
        client, _ = server.accept()
        threading.Thread(target=serve, args=(client, target_port), daemon=True).start()


main()
