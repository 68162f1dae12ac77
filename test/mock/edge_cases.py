"""Routes for record and paging edge cases (sql/24_record_edge_cases.sql,
sql/25_retry_after_cap.sql).

GET /edge/offset/{kind}?offset=O&limit=3   offset paging over 9 records;
    kind "gap": records 4-6 have no "id"; kind "partial": record 4 has none
GET /edge/pages/gap?page=P                 page numbers, page 2 keyless
GET /edge/lastrec/gap?after=C              cursor from the last record's
    "cursor"; the second page's records have no "id"
GET /edge/leak?...                         401 echoing the query (raw and
    decoded) and the headers back
GET /edge/longkey                          a record whose key is 9000 bytes
GET /edge/static                           three records, always the same
GET /edge/repeat/{kind}?cursor=C           key 1 again on page 2 (kind
    "same": same content, "diff": a new version)
GET /edge/object/{style}                   response_path "item" is one
    object per page, in every paging style
GET /edge/ratelimit?id=X                   a 429 with Retry-After: 61 once
GET /edge/many                             ten records on one page
"""
import json
import urllib.parse

from mockcore import route, on_reset, Response

STATE = {}


@on_reset
def _reset():
    STATE.clear()


def _offset_records(kind):
    recs = [{'id': i} for i in range(1, 10)]
    if kind == 'gap':
        for i in (3, 4, 5):
            recs[i] = {'x': i + 1}
    elif kind == 'partial':
        recs[3] = {'x': 4}
    return recs


@route('/edge/offset/', prefix=True)
def offset(req):
    kind = req.path.rsplit('/', 1)[1]
    off = int(req.arg('offset', '0'))
    lim = int(req.arg('limit', '3'))
    return Response.json({'items': _offset_records(kind)[off:off + lim]})


@route('/edge/pages/gap')
def pages(req):
    page = int(req.arg('page', '1'))
    return Response.json({'items': _offset_records('gap')[(page - 1) * 3: page * 3]})


@route('/edge/lastrec/gap')
def lastrec(req):
    after = req.arg('after', 'c0')
    pages = {'c0': ([{'id': 1, 'cursor': 'c1'}, {'id': 2, 'cursor': 'c1'}]),
             'c1': ([{'x': 3, 'cursor': 'c2'}, {'x': 4, 'cursor': 'c2'}]),
             'c2': ([{'id': 5, 'cursor': 'c3'}]),
             'c3': ([])}
    return Response.json({'results': pages.get(after, [])})


@route('/edge/leak')
def leak(req):
    echo = {'error': 'invalid credentials for %s' % req.raw_query,
            'decoded': {k: v[-1] for k, v in req.query.items()},
            'auth': req.headers.get('Authorization')}
    return Response(401, json.dumps(echo, ensure_ascii=False),
                    {'Content-Type': 'application/json'})


@route('/edge/longkey')
def longkey(req):
    return Response.json({'data': [{'id': 1}, {'id': 'k' * 9000}, {'id': 2}]})


@route('/edge/static')
def static(req):
    return Response.json({'data': [{'id': 1, 'v': 'a'}, {'id': 2, 'v': 'b'},
                                   {'id': 3, 'v': 'c'}]})


@route('/edge/repeat/', prefix=True)
def repeat(req):
    kind = req.path.rsplit('/', 1)[1]
    if req.arg('cursor') != 'c2':
        return Response.json({'data': [{'id': 1, 'v': 'a'}, {'id': 2, 'v': 'b'}], 'next': 'c2'})
    v = 'a' if kind == 'same' else 'z'
    return Response.json({'data': [{'id': 1, 'v': v}], 'next': None})


def _object_page(n):
    """Page n (1-based) of the object-per-page API: records 1-3, then end."""
    if n > 3:
        return {'item': [], 'next': None}
    return {'item': {'id': n, 'cursor': 'c%d' % n}, 'next': 'c%d' % n}


@route('/edge/object/', prefix=True)
def obj(req):
    style = req.path.rsplit('/', 1)[1]
    if style == 'offset':
        n = int(req.arg('offset', '0')) + 1
    elif style == 'pages':
        n = int(req.arg('page', '1'))
    elif style in ('metadata', 'lastrec'):
        n = int(req.arg('cursor', 'c0')[1:]) + 1
    else:
        n = int(req.arg('n', '1'))
    body = _object_page(n)
    headers = {}
    if style == 'url':
        body['next_url'] = '/edge/object/url?n=%d' % (n + 1) if n < 3 else None
    if style == 'link' and n < 3:
        headers['Link'] = '</edge/object/link?n=%d>; rel="next"' % (n + 1)
    if style == 'lastrec' and n == 3:
        body['item'] = {'id': 3}
    return Response.json(body, headers=headers)


@route('/edge/ratelimit')
def ratelimit(req):
    key = 'rl:' + req.arg('id', '')
    STATE[key] = STATE.get(key, 0) + 1
    if STATE[key] == 1:
        return Response.json({'message': 'slow down'}, status=429, headers={'Retry-After': '61'})
    return Response.json({'data': [{'id': 1}]})


@route('/edge/many')
def many(req):
    return Response.json({'data': [{'id': i, 'n': 'r%d' % i} for i in range(1, 11)]})
