#!/usr/bin/python3
"""py_service: a small HTTP service written in Python, profiled by function
name through CPython's USDT probes (tests/e2e/test_realworld_python.py).

    /usr/bin/python3 py_service.py PORT

Listens on 127.0.0.1:PORT (a thread per request) and prints "ready PORT".
  GET /orders?n=K   view_orders(K): K calls of price()
  GET /items        view_items(): one call of a function that is also named
                    view_orders, but lives in another file (/virtual/decoy.py),
                    to show that python: handlers match the file too
  GET /count        the service's own counts, as JSON (handle_one_request's
                    includes the /count request itself)
Anything else is a 404.
"""
import http.server
import json
import sys
import threading
import urllib.parse

counts = {"view_orders": 0, "view_items": 0, "price": 0, "decoy": 0, "handle_one_request": 0}
lock = threading.Lock()

# A function named like a handler, from another file name.
decoy = {}
exec(compile("def view_orders():\n    return 'decoy'\n", "/virtual/decoy.py", "exec"), decoy)


def bump(name, n=1):
    with lock:
        counts[name] += n


def price(i):
    bump("price")
    return 10 + i % 7


def view_orders(n):
    bump("view_orders")
    return {"total": sum(price(i) for i in range(n))}


def view_items():
    bump("view_items")
    decoy["view_orders"]()
    bump("decoy")
    return {"items": ["a", "b", "c"]}


class Handler(http.server.BaseHTTPRequestHandler):
    def handle_one_request(self):
        # a connection that sends no request is one too (http.server's
        # handle_one_request returns at once): the truth is this count
        bump("handle_one_request")
        super().handle_one_request()

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/orders":
            n = int(urllib.parse.parse_qs(url.query).get("n", ["1"])[0])
            body = view_orders(n)
        elif url.path == "/items":
            body = view_items()
        elif url.path == "/count":
            with lock:
                body = dict(counts)
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        pass


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("ready %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
