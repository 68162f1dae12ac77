"""Routes for the background worker tests: slow pages, failing pages and a
versioned data set.

/worker/slow?delay=2&n=3[&tag=x]   n records after `delay` seconds
/worker/pages?delay=1&pages=5      `pages` pages (page=1..), each after
                                   `delay` seconds, linked by next_page;
                                   pages after the last are empty
/worker/fail                       always HTTP 500
/worker/version                    3 records carrying the current version;
                                   POST /worker/version?v=N&delay=S sets the
                                   version and the delay of later GETs
"""
from mockcore import route, on_reset, Response

STATE = {'version': 1, 'delay': 0.0}


@on_reset
def reset():
    STATE['version'] = 1
    STATE['delay'] = 0.0


def _delay(req, default='0'):
    try:
        return max(0.0, min(float(req.arg('delay', default)), 120.0))
    except ValueError:
        return 0.0


@route('/worker/slow')
def slow(req):
    n = int(req.arg('n', '3'))
    tag = req.arg('tag', '')
    data = [{'id': i, 'name': 'record %d' % i, 'tag': tag} for i in range(1, n + 1)]
    return Response.json({'data': data}, delay=_delay(req, '2'))


@route('/worker/pages')
def pages(req):
    total = int(req.arg('pages', '5'))
    page = int(req.arg('page', '1'))
    data = [{'id': page * 10 + i, 'page': page} for i in range(3)] if page <= total else []
    body = {'data': data, 'next_page': page + 1 if page < total else None}
    return Response.json(body, delay=_delay(req, '1'))


@route('/worker/fail')
def fail(req):
    return Response.json({'error': 'upstream is down'}, status=500)


@route('/worker/version')
def version(req):
    if req.method == 'POST':
        STATE['version'] = int(req.arg('v', str(STATE['version'])))
        STATE['delay'] = _delay(req, '0')
        return Response.json({'version': STATE['version'], 'delay': STATE['delay']})
    v = STATE['version']
    data = [{'id': i, 'version': v} for i in range(1, 4)]
    return Response.json({'data': data}, delay=STATE['delay'])
