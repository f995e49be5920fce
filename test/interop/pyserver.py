"""pyserver.py - Python's http.server for the interop matrix (test/interop/run).

    python3 pyserver.py ROOT LOG HTTP/1.0|HTTP/1.1

The standard library's ThreadingHTTPServer and SimpleHTTPRequestHandler,
serving ROOT, with protocol_version set as asked (HTTP/1.0 is the module's
default: one request per connection). Two additions only: POST /sha answers
"SHA256HEX LENGTH" of the request body, and each request is logged to LOG as
"CLIENT_PORT METHOD URI EXPECT" when its response starts (the client's port
tells its connection apart). Listens on 127.0.0.1, port chosen by the
system, and prints "port N" once it does.
"""
import hashlib
import http.server
import sys
import threading
import urllib.parse

ROOT, LOG, PROTOCOL = sys.argv[1:4]
log_lock = threading.Lock()


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = PROTOCOL

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=ROOT, **kwargs)

    def log_request(self, code="-", size="-"):
        line = "%d %s %s %s\n" % (self.client_address[1], self.command, self.path,
                                  self.headers.get("Expect", "-"))
        with log_lock, open(LOG, "a") as f:
            f.write(line)

    def log_message(self, format, *args):
        pass

    def do_POST(self):
        if urllib.parse.urlsplit(self.path).path != "/sha":
            self.send_error(404)
            return
        left = int(self.headers.get("Content-Length", "0"))
        h = hashlib.sha256()
        n = 0
        while left > 0:
            piece = self.rfile.read(min(left, 65536))
            if not piece:
                break
            h.update(piece)
            n += len(piece)
            left -= len(piece)
        body = ("%s %d\n" % (h.hexdigest(), n)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print("port %d" % server.server_address[1], flush=True)
server.serve_forever()
