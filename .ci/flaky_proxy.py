"""A loopback TCP proxy for the remote-file tests: path prefix /stall/ never answers,
/reset/ closes the connection at once, /flaky/ resets every other connection, anything else
is forwarded to the upstream port (with the prefix stripped)."""
import socket
import sys
import threading

listen_port, upstream = int(sys.argv[1]), int(sys.argv[2])
count = [0]


def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def handle(c):
    head = b""
    while b"\r\n\r\n" not in head:
        d = c.recv(65536)
        if not d:
            c.close()
            return
        head += d
    path = head.split(b" ", 2)[1]
    if path.startswith(b"/stall/"):
        threading.Event().wait(3600)
        return
    if path.startswith(b"/reset/"):
        c.close()
        return
    if path.startswith(b"/flaky/"):
        count[0] += 1
        if count[0] % 2 == 1:
            c.close()
            return
        head = head.replace(b"/flaky/", b"/", 1)
    # One request per connection, so the prefix rewrite holds for every request.
    head = head.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1)
    u = socket.create_connection(("127.0.0.1", upstream))
    u.sendall(head)
    threading.Thread(target=pump, args=(u, c), daemon=True).start()
    pump(c, u)


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", listen_port))
s.listen(64)
while True:
    conn, _ = s.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
