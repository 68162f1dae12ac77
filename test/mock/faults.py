"""Faults for the engine's tests.  Counters are per ?id= and cleared by
POST /__reset.

/faults/flaky?id=X&fail=N&status=S  the first N requests answer S (500),
                                    then {"data": [...]}
/faults/ratelimit?id=X&after=V      first a 429 with Retry-After: V (seconds,
                                    or "date:N" for an HTTP date N s ahead)
/faults/status?code=S               always that status with a JSON error body
/faults/slow?delay=S                answers after S seconds
/faults/drip?chunks=N&pause=S       a body sent in N slow chunks
/faults/malformed                   truncated JSON
/faults/html                        200 with an HTML page
/faults/latin1                      200 with bytes that are not UTF-8
/faults/nul                         strings with \\u0000 escapes
/faults/big?kb=N[&gzip=1]           a valid JSON body of about N kB
/faults/redirect?n=N                N redirects, then the data
/faults/redirect-ftp                a redirect to an ftp:// URL
/faults/missing-later?cursor=C      page 1 has data and a cursor; page 2
                                    has no "data" key at all
/faults/pages?fail_page=P&id=X      5 pages of 2 (cursor "p<N>"); page P
                                    answers 500 while ?id=X is "broken"
/faults/break?id=X&on=1|0           switches "broken" for id X
/faults/deep?depth=N                records nested N levels deep
/faults/empty-later?cursor=C        page 2 is a 204 without a body
/faults/maybe-empty?id=X            DATA, or {"data": []} while X is "broken"
"""
import email.utils
import json
import time

from mockcore import route, on_reset, Response

COUNTS = {}
BROKEN = set()


@on_reset
def reset():
    COUNTS.clear()
    BROKEN.clear()


def bump(key):
    COUNTS[key] = COUNTS.get(key, 0) + 1
    return COUNTS[key]


DATA = {'data': [{'id': 1, 'name': 'one'}, {'id': 2, 'name': 'two'}]}


@route('/faults/flaky')
def flaky(req):
    n = bump('flaky:' + req.arg('id', ''))
    if n <= int(req.arg('fail', '1')):
        return Response.json({'error': 'internal error', 'attempt': n},
                             status=int(req.arg('status', '500')))
    return Response.json(DATA)


@route('/faults/ratelimit')
def ratelimit(req):
    n = bump('rl:' + req.arg('id', ''))
    after = req.arg('after', '1')
    if n == 1:
        if after.startswith('date:'):
            when = time.time() + int(after[5:])
            after = email.utils.formatdate(when, usegmt=True)
        return Response.json({'message': 'rate limited'}, status=429, headers={'Retry-After': after})
    return Response.json(DATA)


@route('/faults/status')
def status(req):
    return Response.json({'error': 'status %s' % req.arg('code')}, status=int(req.arg('code', '500')))


@route('/faults/slow')
def slow(req):
    return Response.json(DATA, delay=float(req.arg('delay', '3')))


@route('/faults/drip')
def drip(req):
    n = int(req.arg('chunks', '10'))
    pause = float(req.arg('pause', '0.5'))
    body = json.dumps(DATA).encode()
    step = max(1, len(body) // n)
    chunks = [(body[i:i + step], pause) for i in range(0, len(body), step)]
    return Response(200, body, {'Content-Type': 'application/json'}, chunks=chunks)


@route('/faults/malformed')
def malformed(req):
    return Response(200, '{"data": [{"id": 1}, {"id": 2', {'Content-Type': 'application/json'})


@route('/faults/html')
def html(req):
    return Response(200, '<html><body>Service temporarily unavailable</body></html>',
                    {'Content-Type': 'text/html'})


@route('/faults/latin1')
def latin1(req):
    return Response(200, b'{"data": [{"name": "caf\xe9"}]}', {'Content-Type': 'application/json'})


@route('/faults/nul')
def nul(req):
    return Response(200, '{"data": [{"id": 1, "text": "a\\u0000b", "esc": "\\\\u0000"}]}',
                    {'Content-Type': 'application/json'})


@route('/faults/big')
def big(req):
    kb = int(req.arg('kb', '100'))
    rows = [{'id': i, 'pad': 'x' * 1000} for i in range(kb)]
    r = Response.json({'data': rows})
    if req.arg('gzip'):
        r.gzipped()
    return r


@route('/faults/redirect')
def redirect(req):
    n = int(req.arg('n', '1'))
    if n <= 0:
        return Response.json(DATA)
    return Response(302, b'', {'Location': '/faults/redirect?n=%d' % (n - 1)})


@route('/faults/redirect-ftp')
def redirect_ftp(req):
    return Response(302, b'', {'Location': 'ftp://127.0.0.1/data.json'})


@route('/faults/missing-later')
def missing_later(req):
    if req.arg('cursor') is None:
        return Response.json({'data': [{'id': 1}, {'id': 2}], 'next': 'c2'})
    return Response.json({'status': 'done', 'next': 'c3'})


@route('/faults/pages')
def pages(req):
    page = int(req.arg('cursor', 'p1')[1:])
    if page == int(req.arg('fail_page', '0')) and req.arg('id') in BROKEN:
        return Response.json({'error': 'backend down'}, status=500)
    body = {'data': [{'id': page * 10 + 1, 'v': 'a'}, {'id': page * 10 + 2, 'v': 'b'}]}
    if page < 5:
        body['next'] = 'p%d' % (page + 1)
    return Response.json(body)


@route('/faults/break')
def brk(req):
    if req.arg('on', '1') == '1':
        BROKEN.add(req.arg('id'))
    else:
        BROKEN.discard(req.arg('id'))
    return Response.json({'ok': True})


@route('/faults/deep')
def deep(req):
    depth = int(req.arg('depth', '10000'))
    return Response(200, '{"data": [' + '{"a":' * depth + '1' + '}' * depth + ']}',
                    {'Content-Type': 'application/json'})


@route('/faults/empty-later')
def empty_later(req):
    """Page 1 has data and a cursor; page 2 is a 204 with no body."""
    if req.arg('cursor') is None:
        return Response.json({'data': [{'id': 1}, {'id': 2}], 'next': 'c2'})
    return Response(204, b'')


@route('/faults/maybe-empty')
def maybe_empty(req):
    """DATA, or a real empty array while ?id= is "broken" (see /faults/break)."""
    if req.arg('id') in BROKEN:
        return Response.json({'data': []})
    return Response.json(DATA)
