#!/usr/bin/env python3
"""nango mock API: a local HTTP server imitating the paginated JSON APIs that
nango syncs from (and their faults).  Loopback only; Python standard library
only.  Routes live in test/mock/*.py.

    python3 test/mock_api.py --port 0 --port-file /tmp/port
"""
import argparse
import importlib
import os
import pkgutil
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mockcore  # noqa: E402
import mock  # noqa: E402

for mod in pkgutil.iter_modules(mock.__path__):
    importlib.import_module('mock.' + mod.name)


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    # headers and body go out in two writes: without TCP_NODELAY the body
    # waits for the client's delayed ACK (about 40 ms per request)
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        if os.environ.get('MOCK_VERBOSE'):
            sys.stderr.write(fmt % args + '\n')

    def handle_any(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        host = self.headers.get('Host') or '127.0.0.1:%d' % self.server.server_port
        req = mockcore.Request(self.command, self.path, self.headers, body, 'http://' + host)
        try:
            resp = mockcore.dispatch(req)
        except Exception as e:  # a bug in a route must not kill the server
            resp = mockcore.Response.json({'error': 'mock failure: %r' % e}, status=599)
        if resp is None:  # the route asks to drop the connection
            self.close_connection = True
            return
        if resp.delay:
            time.sleep(resp.delay)
        try:
            self.send_response(resp.status)
            headers = dict(resp.headers)
            if resp.chunks is None:
                headers['Content-Length'] = str(len(resp.body))
            else:
                headers['Content-Length'] = str(sum(len(c) for c, _ in resp.chunks))
            for k, v in headers.items():
                if isinstance(v, (list, tuple)):
                    for one in v:
                        self.send_header(k, one)
                else:
                    self.send_header(k, v)
            self.end_headers()
            if self.command == 'HEAD':
                return
            if resp.chunks is None:
                self.wfile.write(resp.body)
            else:
                for chunk, pause in resp.chunks:
                    self.wfile.write(chunk)
                    self.wfile.flush()
                    time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    address_family = socket.AF_INET


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--port-file')
    args = ap.parse_args()
    srv = Server(('127.0.0.1', args.port), Handler)
    if args.port_file:
        with open(args.port_file + '.tmp', 'w') as f:
            f.write(str(srv.server_port))
        os.replace(args.port_file + '.tmp', args.port_file)
    print('mock API listening on 127.0.0.1:%d' % srv.server_port, flush=True)
    srv.serve_forever()


if __name__ == '__main__':
    main()
