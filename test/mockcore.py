"""Core of the nango mock API: routing, requests and responses.

A route module does:

    from mockcore import route, Response

    @route('/hubspot/contacts')
    def contacts(req):
        return Response.json({...})

Handlers get a Request (method, path, query, headers, body, json(), base_url)
and return a Response.  Every request is logged; GET /__requests?path=...
returns the log (newest last) and POST /__reset clears it and every module's
state (modules register reset functions with on_reset).
"""
import gzip
import json
import threading
import urllib.parse

ROUTES = []          # (path, handler)  exact path match
PREFIX_ROUTES = []   # (prefix, handler)  longest prefix wins
RESETTERS = []
LOG = []
LOCK = threading.Lock()


def route(path, prefix=False):
    def deco(fn):
        (PREFIX_ROUTES if prefix else ROUTES).append((path, fn))
        return fn
    return deco


def on_reset(fn):
    RESETTERS.append(fn)
    return fn


class Request:
    def __init__(self, method, raw_path, headers, body, base_url):
        self.method = method
        parsed = urllib.parse.urlsplit(raw_path)
        self.path = parsed.path
        self.raw_query = parsed.query
        self.query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        self.headers = headers
        self.body = body
        self.base_url = base_url

    def arg(self, name, default=None):
        v = self.query.get(name)
        return v[-1] if v else default

    def json(self):
        if not self.body:
            return None
        return json.loads(self.body.decode('utf-8'))


class Response:
    def __init__(self, status=200, body=b'', headers=None, delay=0.0, chunks=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode('utf-8')
        self.headers = dict(headers or {})
        self.delay = delay
        self.chunks = chunks  # optional list of (bytes, delay) for slow bodies

    @staticmethod
    def json(obj, status=200, headers=None, **kw):
        h = {'Content-Type': 'application/json'}
        h.update(headers or {})
        return Response(status, json.dumps(obj), h, **kw)

    def gzipped(self):
        self.body = gzip.compress(self.body)
        self.headers['Content-Encoding'] = 'gzip'
        return self


def dispatch(req):
    with LOCK:
        LOG.append({'method': req.method, 'path': req.path, 'query': req.raw_query,
                    'headers': {k.lower(): v for k, v in req.headers.items()},
                    'body': req.body.decode('utf-8', 'replace')})
    if req.path == '/__requests':
        want = req.arg('path')
        with LOCK:
            rows = [r for r in LOG if want is None or r['path'] == want]
        return Response.json(rows)
    if req.path == '/__reset':
        with LOCK:
            LOG.clear()
        for fn in RESETTERS:
            fn()
        return Response.json({'ok': True})
    for path, fn in ROUTES:
        if path == req.path:
            return fn(req)
    best = None
    for prefix, fn in PREFIX_ROUTES:
        if req.path.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, fn)
    if best:
        return best[1](req)
    return Response.json({'error': 'not found', 'path': req.path}, status=404)
