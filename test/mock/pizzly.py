"""A mock Pizzly (Nango's auth server) and an API that wants its tokens,
plus the hostile responses of the security tests.

Pizzly: GET /pizzly/connection/<id>?provider_config_key=<key>
  Tokens are "pzt_<id>_<n>_s3cr3t" (n counts fetches per connection).
  <id> chooses the behaviour:
    ok, any other id      a token (valid at the API)
    stale                 the first token is not valid at the API, later ones are
    revoked               no token is ever valid at the API
    basic                 needs "Authorization: Basic base64('pzkey-s3cr3t:')" (else 401)
    slow                  answers after 5 seconds
    notoken               credentials without access_token
    badtoken              a token with a line break in it
    missing               404
  provider_config_key missing: 400.

API: /pizzly/api/items  (any method) answers 200 {"data": [{"id": 1, "where": W}]}
  when a valid token is found (W: "bearer", "header", "query", "body" or "path"),
  else 401.  /pizzly/api/p/<token>/items takes the token in the path.

Security responses:
  /sec/rawnul       a body with a raw NUL byte inside a JSON string
  /sec/deeparray?depth=N    [[[...]]] N levels deep inside "data"
  /sec/echo?...     200 {"data": [{"id": 1}]} whatever the request (for the
                    secret tests: the request log shows what was sent)
  /sec/fail?...     500 {"error": "..."} echoing the query string, headers and body
  /sec/redirect?to=URL  302 to URL
  /sec/guard        {"data": [{"id": 1}]} (only the network guard test uses it)
"""
import base64
import json

from mockcore import route, on_reset, Response

ISSUED = {}      # connection id -> fetches so far
VALID = set()


@on_reset
def reset():
    ISSUED.clear()
    VALID.clear()


@route('/pizzly/connection/', prefix=True)
def connection(req):
    cid = req.path[len('/pizzly/connection/'):]
    key = req.arg('provider_config_key')
    if not key:
        return Response.json({'error': 'missing provider_config_key'}, status=400)
    if cid == 'missing':
        return Response.json({'error': 'Unknown connection'}, status=404)
    if cid == 'basic':
        want = 'Basic ' + base64.b64encode(b'pzkey-s3cr3t:').decode()
        if req.headers.get('Authorization') != want:
            return Response.json({'error': 'bad secret key'}, status=401)
    if cid == 'notoken':
        return Response.json({'connectionId': cid, 'credentials': {'type': 'OAUTH2'}})
    n = ISSUED.get(cid, 0) + 1
    ISSUED[cid] = n
    token = 'pzt_%s_%d_s3cr3t' % (cid, n)
    if cid == 'badtoken':
        token = 'pzt_bad\r\nX-Injected: 1'
    if not (cid == 'revoked' or (cid == 'stale' and n == 1)):
        VALID.add(token)
    body = {'connectionId': cid, 'providerConfigKey': key,
            'credentials': {'type': 'OAUTH2', 'access_token': token,
                            'refresh_token': 'refresh_s3cr3t'}}
    return Response.json(body, delay=5.0 if cid == 'slow' else 0.0)


def find_token(req):
    auth = req.headers.get('Authorization') or ''
    if auth.startswith('Bearer ') and auth[7:] in VALID:
        return 'bearer'
    for k, v in req.headers.items():
        if k.lower() != 'authorization' and v in VALID:
            return 'header'
    for vals in req.query.values():
        for v in vals:
            if v in VALID:
                return 'query'
    text = req.body.decode('utf-8', 'replace')
    if any(t in text for t in VALID):
        return 'body'
    if any(t in req.path for t in VALID):
        return 'path'
    return None


@route('/pizzly/api/', prefix=True)
def api(req):
    where = find_token(req)
    if where is None:
        return Response.json({'error': 'invalid token'}, status=401)
    return Response.json({'data': [{'id': 1, 'where': where}]})


@route('/sec/rawnul')
def rawnul(req):
    return Response(200, b'{"data": [{"id": 1, "name": "a\x00b"}]}',
                    {'Content-Type': 'application/json'})


@route('/sec/deeparray')
def deeparray(req):
    depth = int(req.arg('depth', '100000'))
    return Response(200, '{"data": [' + '[' * depth + ']' * depth + ']}',
                    {'Content-Type': 'application/json'})


@route('/sec/echo')
def echo(req):
    return Response.json({'data': [{'id': 1}, {'id': 2}]})


@route('/sec/fail')
def fail(req):
    return Response.json({'error': 'failed', 'body': req.body.decode('utf-8', 'replace'),
                          'query': req.raw_query,
                          'headers': {k: v for k, v in req.headers.items()}},
                         status=500)


@route('/sec/redirect')
def redirect(req):
    return Response(302, b'', {'Location': req.arg('to', '/sec/echo')})


@route('/sec/guard')
def guard(req):
    """The network guard's target: no test but 050_netguard calls it."""
    return Response.json({'data': [{'id': 1}]})


@route('/sec/signed')
def signed(req):
    """Pages whose next URL carries a new signature each time; page 20
    fails with a 500 echoing its query (the signature of that page)."""
    page = int(req.arg('page', '1'))
    if page >= 20:
        return Response.json({'error': 'failed', 'query': req.raw_query}, status=500)
    nxt = '%s/sec/signed?page=%d&signature=nextsig-%d-S3CRET' % (req.base_url, page + 1, page + 1)
    return Response.json({'data': [{'id': page}], 'next': nxt})
