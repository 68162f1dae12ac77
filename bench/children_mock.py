#!/usr/bin/env python3
"""A lean mock API for bench/children.sh: the routes of test/mock/children.py
that the child-sync benchmark uses, on asyncio (one thread, no per-request
thread, minimal HTTP/1.1 with keep-alive), so that the server's own cost per
request stays small next to the latency being measured.

GET /children/bench/parents?n=N
  N parents {"id": i}.
GET /children/bench/items/{id}?page=P&delay_ms=D
  two pages of 5 items per parent (Link rel="next" on page 1), each
  answered after D ms (default 50).

Usage: children_mock.py --port-file FILE   (listens on 127.0.0.1, any port)
"""
import argparse
import asyncio
import json
import urllib.parse


def route(target, base):
    """(status, body bytes, extra headers) and the delay in seconds."""
    u = urllib.parse.urlsplit(target)
    q = dict(urllib.parse.parse_qsl(u.query))
    if u.path == '/children/bench/parents':
        n = int(q.get('n', '200'))
        return 200, json.dumps([{'id': i} for i in range(1, n + 1)]).encode(), {}, 0.0
    if u.path.startswith('/children/bench/items/'):
        pid = u.path.rsplit('/', 1)[1]
        page = int(q.get('page', '1'))
        delay = int(q.get('delay_ms', '50'))
        items = [{'id': '%s-%d-%d' % (pid, page, i), 'v': i} for i in range(5)]
        headers = {}
        if page == 1:
            headers['Link'] = '<%s%s?page=2&delay_ms=%d>; rel="next"' % (base, u.path, delay)
        return 200, json.dumps(items).encode(), headers, delay / 1000.0
    return 404, b'{"error": "not found"}', {}, 0.0


async def handle(reader, writer, base):
    try:
        while True:
            head = await reader.readuntil(b'\r\n\r\n')
            lines = head.decode('latin-1').split('\r\n')
            method, target, _ = lines[0].split(' ', 2)
            length = 0
            for line in lines[1:]:
                if line.lower().startswith('content-length:'):
                    length = int(line.split(':', 1)[1])
            if length:
                await reader.readexactly(length)
            status, body, headers, delay = route(target, base)
            if delay:
                await asyncio.sleep(delay)
            out = ['HTTP/1.1 %d %s' % (status, 'OK' if status == 200 else 'Not Found'),
                   'Content-Type: application/json', 'Content-Length: %d' % len(body)]
            out += ['%s: %s' % kv for kv in headers.items()]
            writer.write(('\r\n'.join(out) + '\r\n\r\n').encode('latin-1') + body)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port-file', required=True)
    args = ap.parse_args()
    holder = {}
    server = await asyncio.start_server(lambda r, w: handle(r, w, holder['base']),
                                        '127.0.0.1', 0)
    port = server.sockets[0].getsockname()[1]
    holder['base'] = 'http://127.0.0.1:%d' % port
    with open(args.port_file, 'w') as f:
        f.write(str(port))
    async with server:
        await server.serve_forever()


if __name__ == '__main__':
    asyncio.run(main())
