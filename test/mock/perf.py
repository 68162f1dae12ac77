"""Routes for the parser tests.

/perf/echo?b=B64   answers the base64url-encoded body B64 as application/json
                   (the test sends the exact JSON text it compares against)
"""
import base64

from mockcore import route, Response


@route('/perf/echo')
def echo(req):
    b = req.arg('b', '')
    body = base64.urlsafe_b64decode(b + '=' * (-len(b) % 4))
    return Response(body=body, headers={'Content-Type': 'application/json'})
