"""Rate limits: an API that records when each request arrived and one that
announces its budget as spent (docs/config.md).  State per ?id=, cleared
by POST /__reset.

/rl/pages?id=X&pages=N&page=P   N pages of 1 record (cursor "page"); every
                                request's arrival time is recorded
/rl/spent?id=X&page=P&style=S&reset=R
                                page 1 answers with the budget spent for R
                                seconds (style "x": X-RateLimit-Remaining 0 +
                                X-RateLimit-Reset as Unix time; "xs": the same
                                in seconds; "ietf": RateLimit-Remaining 0 +
                                RateLimit-Reset in seconds); a request before
                                the reset gets a 429 and is counted as early
/rl/report?id=X                 {"times": [...], "early": n, "statuses": [...],
                                 "auth": [...]}
"""
import time

from mockcore import route, on_reset, Response

STATE = {}


@on_reset
def reset():
    STATE.clear()


def state(req):
    return STATE.setdefault(req.arg('id', ''), {'times': [], 'early': 0, 'statuses': [],
                                                 'auth': [], 'reset_at': None})


@route('/rl/pages')
def pages(req):
    st = state(req)
    st['times'].append(time.time())
    st['auth'].append(req.headers.get('Authorization'))
    n = int(req.arg('pages', '20'))
    p = int(req.arg('page', '1'))
    body = {'data': [{'id': '%s-%d' % (req.arg('id', ''), p)}],
            'next': str(p + 1) if p < n else None}
    return Response.json(body)


@route('/rl/spent')
def spent(req):
    st = state(req)
    now = time.time()
    st['times'].append(now)
    p = int(req.arg('page', '1'))
    if st['reset_at'] is not None and now < st['reset_at']:
        st['early'] += 1
        st['statuses'].append(429)
        return Response.json({'message': 'rate limited'}, status=429)
    st['statuses'].append(200)
    body = {'data': [{'id': p}], 'next': str(p + 1) if p < 2 else None}
    if p == 1:
        reset = int(req.arg('reset', '3'))
        st['reset_at'] = now + reset
        style = req.arg('style', 'x')
        if style == 'x':
            headers = {'X-RateLimit-Remaining': '0',
                       'X-RateLimit-Reset': str(int(now + reset + 0.999))}
        elif style == 'xs':
            headers = {'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': str(reset)}
        else:
            headers = {'RateLimit-Remaining': '0', 'RateLimit-Reset': str(reset)}
        return Response.json(body, headers=headers)
    return Response.json(body, headers={'X-RateLimit-Remaining': '4999'})


@route('/rl/report')
def report(req):
    st = state(req)
    return Response.json({'times': st['times'], 'early': st['early'],
                          'statuses': st['statuses'], 'auth': st['auth']})
