#!/usr/bin/env python3
"""tls-reset.py - a loopback TLS server that resets every connection mid-response.

    tls-reset.py --cert FILE --key FILE [--log FILE] [--cut-handshake]

Prints "port N" on stdout once listening on 127.0.0.1, then serves one
connection at a time until killed. On each: the TLS handshake, one request
head read, then a response head announcing 20000 bytes and the first 10000
of them; once the kernel has sent all of that, a TCP reset (SO_LINGER of
zero, then close: no close_notify, no FIN). A client still writing on the
connection, or sending close_notify as it closes, writes to a dead socket.

The log (one line each, flushed) says what each connection saw:
    accept N            a TCP connection was accepted (a probe is not
                        counted)
    handshake-failed N  the TLS handshake did not complete (for a client
                        that refuses the certificate, the only line after
                        "accept")
    reset N             the half response was sent and the connection reset
    probe               a connection began with "probe" instead of a TLS
                        ClientHello: closed at once
The test counts "accept" lines to know how many times a client dialled.
Connections are served one by one in the order they arrived, so once a
probe sent after a client has exited is logged, every connection of that
client is.

With --cut-handshake it reads the client's first bytes (its ClientHello)
and closes the connection (a FIN, no TLS alert) instead, logging "cut N":
a handshake that failed for want of a connection, not on its merits.
"""
import argparse
import select
import socket
import ssl
import struct
import sys

BODY_LEN = 20000
SENT_LEN = BODY_LEN // 2


def log_line(log, text):
    if log:
        log.write(text + "\n")
        log.flush()


def wait_sent(sock):
    """Waits (bounded) until the kernel's send queue of sock is empty, so
    that the half response is on the wire before the reset discards what is
    left. Where the queue cannot be read (not Linux), returns at once."""
    try:
        import fcntl
        import termios
        outq = termios.TIOCOUTQ
    except (ImportError, AttributeError):
        return
    for _ in range(200):
        left = struct.unpack("i", fcntl.ioctl(sock.fileno(), outq, b"\0\0\0\0"))[0]
        if left == 0:
            return
        select.select([], [], [], 0.01)


def read_head(tls):
    """Reads until the end of a request head; returns False if the client
    closed first."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = tls.recv(4096)
        if not chunk:
            return False
        data += chunk
    return True


def is_probe(raw):
    """Returns True when the connection's first bytes are "probe"."""
    try:
        return raw.recv(5, socket.MSG_PEEK) == b"probe"
    except OSError:
        return False


def serve_one(ctx, raw, n, log, cut_handshake):
    log_line(log, "accept %d" % n)
    if cut_handshake:
        try:
            raw.recv(4096)
        except OSError:
            pass
        raw.close()
        log_line(log, "cut %d" % n)
        return
    try:
        tls = ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError) as e:
        log_line(log, "handshake-failed %d %s" % (n, e.__class__.__name__))
        raw.close()
        return
    try:
        if not read_head(tls):
            tls.close()
            return
        head = "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: text/plain\r\n\r\n" % BODY_LEN
        tls.sendall(head.encode() + b"x" * SENT_LEN)
        wait_sent(tls)
        tls.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        tls.close()
        log_line(log, "reset %d" % n)
    except (ssl.SSLError, OSError) as e:
        log_line(log, "error %d %s" % (n, e.__class__.__name__))
        tls.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--log")
    ap.add_argument("--cut-handshake", action="store_true")
    a = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    log = open(a.log, "a") if a.log else None

    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    print("port %d" % ls.getsockname()[1], flush=True)

    n = 0
    while True:
        raw, _ = ls.accept()
        raw.settimeout(10)
        if is_probe(raw):
            log_line(log, "probe")
            raw.close()
            continue
        n += 1
        serve_one(ctx, raw, n, log, a.cut_handshake)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
