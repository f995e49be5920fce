"""A second real peer for bench/nodelay: Python's http.server speaking
HTTP/1.1 (keep-alive, pipelined requests read from its buffered input),
which, like socketserver under it, never sets TCP_NODELAY, and writes each
response as two sends: end_headers() sends the head, then the body.
Listens on 127.0.0.1 only, prints "port N", answers every GET with a
fixed body of BYTES (argv[1], default 100) bytes, and serves until killed."""
import http.server
import sys

body = b"p" * (int(sys.argv[1]) if len(sys.argv) > 1 else 100)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("port", server.server_address[1], flush=True)
server.serve_forever()
