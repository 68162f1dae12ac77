"""Credential scope and echoed secrets.

The mock listens on 127.0.0.1 only; "the other origin" of a request is the
same port under the other name: localhost for 127.0.0.1 and back, so a
sync on one name meets a second origin (different host) on the other.
Every request is in the log (/__requests) with its headers, Host included.

  /scope/pages?page=N       page 1 and 3: the next URL (body "next") is on
                            the other origin; page 2 there sends back to the
                            original origin; page 4 is the last.  Records
                            are {"id": N, "host": <Host header>}.
  /scope/link?page=N        the same with a Link rel="next" header.
  /scope/redirect           302 to /scope/landing on the other origin.
  /scope/bounce             302 to /scope/bounce2 on the other origin, which
                            redirects back to /scope/landing on the first one.
  /scope/landing            {"data": [{"id": 1, "host": <Host>}]}
  /scope/https-next         a next URL on https://<host>/scope/landing
                            (for syncs whose own URL is http).
  /scope/echo               500 echoing the Authorization and X-Api-Key
                            headers JSON-escaped (every '/' as \\/, '+' as
                            \\u002b and every other character as \\u00XX
                            in one copy), percent-encoded (%2F, + for space)
                            and in base64, as well as Basic user:token;
                            with ?ok=1 the same as a 200 record.
"""
import base64
import re
import urllib.parse

from mockcore import route, Response


def other_base(req):
    host = req.headers.get('Host') or ''
    name, _, port = host.rpartition(':')
    other = 'localhost' if name == '127.0.0.1' else '127.0.0.1'
    return 'http://%s:%s' % (other, port)


def record(req, n):
    return {'id': n, 'host': (req.headers.get('Host') or '').split(':')[0]}


@route('/scope/pages')
def pages(req):
    page = int(req.arg('page', '1'))
    if page >= 4:
        return Response.json({'data': [record(req, page)], 'next': None})
    base = other_base(req)
    return Response.json({'data': [record(req, page)],
                          'next': '%s/scope/pages?page=%d' % (base, page + 1)})


@route('/scope/link')
def link(req):
    page = int(req.arg('page', '1'))
    headers = {}
    if page < 4:
        headers['Link'] = '<%s/scope/link?page=%d>; rel="next"' % (other_base(req), page + 1)
    return Response.json({'data': [record(req, page)]}, headers=headers)


@route('/scope/redirect')
def redirect(req):
    return Response(302, b'', {'Location': other_base(req) + '/scope/landing'})


@route('/scope/bounce')
def bounce(req):
    return Response(302, b'', {'Location': other_base(req) + '/scope/bounce2'})


@route('/scope/bounce2')
def bounce2(req):
    return Response(302, b'', {'Location': other_base(req) + '/scope/landing'})


@route('/scope/landing')
def landing(req):
    return Response.json({'data': [record(req, 1)]})


@route('/scope/https-next')
def https_next(req):
    host = req.headers.get('Host') or ''
    return Response.json({'data': [record(req, 1)],
                          'next': 'https://%s/scope/landing' % host})


def json_all_escaped(s):
    """Every character as a \\u escape (upper-case hex for '+')."""
    return ''.join('\\u002B' if c == '+' else '\\u%04x' % ord(c) for c in s)


@route('/scope/echo')
def echo(req):
    auth = req.headers.get('Authorization') or ''
    key = req.headers.get('X-Api-Key') or ''
    token = auth[len('Bearer '):] if auth.startswith('Bearer ') else auth
    lines = [
        # JSON-escaped as many encoders write it: '/' as \/, '+' as \u002b
        '"auth_json": "%s"' % auth.replace('/', '\\/').replace('+', '\\u002b'),
        # every character escaped
        '"key_json": "%s"' % json_all_escaped(key),
        # percent-encoded query strings, '+' for a space
        '"auth_query": "%s"' % urllib.parse.quote_plus(auth),
        '"key_query": "%s"' % re.sub('%[0-9A-F]{2}', lambda m: m.group(0).lower(),
                                     urllib.parse.quote(key, safe='')),
        # base64: the token alone, and in a Basic header of user:token
        '"token_b64": "%s"' % base64.b64encode(token.encode()).decode(),
        '"basic": "Basic %s"' % base64.b64encode(('someone:' + token).encode()).decode(),
        '"key_b64url": "%s"' % base64.urlsafe_b64encode(key.encode()).decode().rstrip('='),
    ]
    if auth.startswith('Basic '):
        # the credentials decoded, as an API that reports the user may do
        plain = base64.b64decode(auth[6:]).decode()
        lines.append('"user": "%s"' % plain.replace('-', '\\u002d'))
    if req.arg('ok'):
        # the same, as a record: shows what the failing answer holds
        body = '{"data": [{"id": 1, ' + ', '.join(lines) + '}]}'
        return Response(200, body.encode(), {'Content-Type': 'application/json'})
    body = '{"error": "unauthorized", ' + ', '.join(lines) + '}'
    return Response(500, body.encode(), {'Content-Type': 'application/json'})
