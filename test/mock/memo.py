"""Pages with validators, for skipping unchanged pages
(docs/config.md#skip_unchanged_pages).  State per ?id=, cleared by
POST /__reset.

/memo/items?id=X&style=S     the pages of X (3 records each, {"id": "X-P-I",
                             "page": P, "v": version of page P}) in "data",
                             paged by style S:
                               cursor  ?cursor=P, "next_cursor" in the body
                               url     "next" in the body: the next full URL
                               link    a Link header rel="next"
                               offset  ?offset=K&limit=3; an empty page ends
                             Each answer carries an ETag (a hash of the body
                             and Link header) and a Last-Modified; a request
                             whose If-None-Match is that ETag gets 304.
GET /memo/set?id=X&...       pages=N (default 6); bump=P (page P changes: its
                             version goes up); remove=KEY (a record leaves
                             its page); dup=P (page P also holds X-Q-0,
                             {"v": 99}, with dupof=Q, default 1);
                             validators=0|1 (send ETag/Last-Modified,
                             default 1); always304=1 (answer every request
                             with 304); nul=P (page P holds a \\u0000);
                             fail=P (page P answers 500; fail= : no more)
GET /memo/report?id=X        [{"hits": n, "not_modified": n,
                               "conditional": n, "full": [pages answered
                               with a body, in order]}]
GET /memo/clear?id=X         forgets the counts of X
"""
import hashlib
import json

from mockcore import route, on_reset, Response

STATE = {}
PER_PAGE = 3
LAST_MODIFIED = 'Wed, 21 Oct 2026 07:28:00 GMT'


@on_reset
def reset():
    STATE.clear()


def state(req):
    return STATE.setdefault(req.arg('id', ''), {
        'pages': 6, 'versions': {}, 'removed': set(), 'dup': None, 'validators': True,
        'always304': False, 'nul': None, 'fail': None, 'dupof': 1,
        'hits': 0, 'not_modified': 0, 'conditional': 0, 'full': []})


def page_records(st, ident, p):
    recs = [{'id': '%s-%d-%d' % (ident, p, i), 'page': p, 'v': st['versions'].get(p, 0)}
            for i in range(PER_PAGE)]
    recs = [r for r in recs if r['id'] not in st['removed']]
    if st['dup'] == p:
        recs.append({'id': '%s-%d-0' % (ident, st['dupof']), 'page': p, 'v': 99})
    if st['nul'] == p:
        recs[0]['note'] = 'a\u0000b'
    return recs


@route('/memo/items')
def items(req):
    st = state(req)
    ident = req.arg('id', '')
    style = req.arg('style', 'cursor')
    n = st['pages']
    st['hits'] += 1
    if req.headers.get('If-None-Match') or req.headers.get('If-Modified-Since'):
        st['conditional'] += 1
    if st['always304']:
        st['not_modified'] += 1
        return Response(304, b'', {})
    base = '%s/memo/items?id=%s&style=%s' % (req.base_url, ident, style)
    if st['fail'] is not None and int(req.arg('cursor', req.arg('page', '1'))) == st['fail']:
        return Response.json({'error': 'failing on purpose'}, status=500)
    headers = {}
    if style == 'offset':
        off = int(req.arg('offset', '0'))
        p = off // PER_PAGE + 1
        recs = page_records(st, ident, p) if p <= n else []
        body = {'data': recs}
    else:
        p = int(req.arg('cursor', req.arg('page', '1')))
        recs = page_records(st, ident, p)
        nxt = p + 1 if p < n else None
        body = {'data': recs}
        if style == 'cursor':
            body['next_cursor'] = str(nxt) if nxt else None
        elif style == 'url':
            body['next'] = '%s&page=%d' % (base, nxt) if nxt else None
        elif style == 'link' and nxt:
            headers['Link'] = '<%s&page=%d>; rel="next"' % (base, nxt)
    text = json.dumps(body)
    if st['validators']:
        etag = '"%s"' % hashlib.md5((text + headers.get('Link', '')).encode()).hexdigest()[:16]
        headers['ETag'] = etag
        headers['Last-Modified'] = LAST_MODIFIED
        if req.headers.get('If-None-Match') == etag:
            st['not_modified'] += 1
            return Response(304, b'', headers)
    st['full'].append(p)
    headers['Content-Type'] = 'application/json'
    return Response(200, text, headers)


@route('/memo/set')
def set_state(req):
    st = state(req)
    if req.arg('pages'):
        st['pages'] = int(req.arg('pages'))
    if req.arg('bump'):
        p = int(req.arg('bump'))
        st['versions'][p] = st['versions'].get(p, 0) + 1
    if req.arg('remove'):
        st['removed'].add(req.arg('remove'))
    if req.arg('dup') is not None:
        st['dup'] = int(req.arg('dup')) if req.arg('dup') else None
    if req.arg('dupof') is not None:
        st['dupof'] = int(req.arg('dupof'))
    if req.arg('validators') is not None:
        st['validators'] = req.arg('validators') == '1'
    if req.arg('always304') is not None:
        st['always304'] = req.arg('always304') == '1'
    if req.arg('fail') is not None:
        st['fail'] = int(req.arg('fail')) if req.arg('fail') else None
    if req.arg('nul') is not None:
        st['nul'] = int(req.arg('nul')) if req.arg('nul') else None
    return Response.json({'ok': True})


@route('/memo/clear')
def clear(req):
    st = state(req)
    st['hits'] = st['not_modified'] = st['conditional'] = 0
    st['full'] = []
    return Response.json({'ok': True})


@route('/memo/report')
def report(req):
    st = state(req)
    return Response.json([{'hits': st['hits'], 'not_modified': st['not_modified'],
                           'conditional': st['conditional'], 'full': st['full']}])
