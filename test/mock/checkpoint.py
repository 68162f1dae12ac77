"""Long paged jobs for checkpoints (docs/config.md#checkpoint): an API of N
pages that counts how often each page was served.  State per ?id=, cleared
by POST /__reset.

/ck/pages?id=X&pages=N&page=P   page P of N: two records {"id": "X-P-a"} and
                                {"id": "X-P-b"} in "data", "next" the next
                                page number (null on the last page); with
                                "extra" set, page 1 also holds {"id": "X-extra"};
                                with "dup" set, page N also holds X-1-a
                                (a record seen again, with "page" N)
POST /ck/set?id=X&delay=D&extra=0|1&dup=0|1
                                every page of X answers after D seconds
                                (default 0); extra and dup as above
                                (default 0)

Child syncs (checkpoints between parent records):
/ck/parents?id=X                {"data": [{"id": "p01"}, ..., {"id": "pNN"}]}
POST /ck/parents_set?id=X&n=N&gone=G
                                N parents (default 60); parent G (default
                                none) answers 404 to its children's requests
/ck/kids/<parent>?id=X&pages=K&page=P
                                page P of K of the parent's children: two
                                records {"id": "c-P-a"}, {"id": "c-P-b"} (the
                                same ids under every parent) and "next"; with
                                extra set, p01's page 1 also holds
                                {"id": "c-extra"}; answers after the delay of
                                /ck/set; counted in hits as "<parent>/<page>"
/ck/echo?id=X&pages=N&page=P&api_key=K
                                the same pages, "next" the full next URL,
                                api_key included (as APIs that echo the
                                caller's key in their next links); a request
                                whose api_key is not "k3y-of-ck-sync" is
                                counted in "bad_key"
/ck/report?id=X                 {"hits": {"<page>": n, ...}, "bad_key": n}
POST /ck/clear?id=X             forgets the counts of X (keeps delay, extra)
"""
from mockcore import route, on_reset, Response

STATE = {}


@on_reset
def reset():
    STATE.clear()


def state(req):
    return STATE.setdefault(req.arg('id', ''), {'hits': {}, 'delay': 0.0, 'extra': False, 'dup': False,
                                                'bad_key': 0, 'parents': 60, 'gone': ''})


@route('/ck/pages')
def pages(req):
    st = state(req)
    ident = req.arg('id', '')
    n = int(req.arg('pages', '300'))
    p = int(req.arg('page', '1'))
    st['hits'][str(p)] = st['hits'].get(str(p), 0) + 1
    data = [{'id': '%s-%d-a' % (ident, p), 'page': p}, {'id': '%s-%d-b' % (ident, p), 'page': p}]
    if p == 1 and st['extra']:
        data.append({'id': '%s-extra' % ident, 'page': p})
    if p == n and st['dup']:
        data.append({'id': '%s-1-a' % ident, 'page': p})
    body = {'data': data, 'next': str(p + 1) if p < n else None}
    return Response.json(body, delay=st['delay'])


@route('/ck/echo')
def echo(req):
    st = state(req)
    ident = req.arg('id', '')
    n = int(req.arg('pages', '300'))
    p = int(req.arg('page', '1'))
    key = req.arg('api_key', '')
    if key != 'k3y-of-ck-sync':
        st['bad_key'] += 1
        return Response.json({'message': 'bad key'}, status=403)
    st['hits'][str(p)] = st['hits'].get(str(p), 0) + 1
    data = [{'id': '%s-%d-a' % (ident, p)}, {'id': '%s-%d-b' % (ident, p)}]
    nxt = None
    if p < n:
        nxt = '%s/ck/echo?id=%s&pages=%d&page=%d&api_key=%s' % (req.base_url, ident, n, p + 1, key)
    return Response.json({'data': data, 'next': nxt}, delay=st['delay'])


@route('/ck/set')
def set_state(req):
    st = state(req)
    st['delay'] = float(req.arg('delay', '0'))
    st['extra'] = req.arg('extra', '0') == '1'
    st['dup'] = req.arg('dup', '0') == '1'
    return Response.json({'ok': True})


@route('/ck/parents_set')
def parents_set(req):
    st = state(req)
    st['parents'] = int(req.arg('n', '60'))
    st['gone'] = req.arg('gone', '')
    return Response.json({'ok': True})


@route('/ck/parents')
def parents(req):
    st = state(req)
    return Response.json({'data': [{'id': 'p%02d' % i} for i in range(1, st['parents'] + 1)]})


@route('/ck/kids/', prefix=True)
def kids(req):
    st = state(req)
    parent = req.path.split('/')[3]
    n = int(req.arg('pages', '3'))
    p = int(req.arg('page', '1'))
    hit = '%s/%d' % (parent, p)
    st['hits'][hit] = st['hits'].get(hit, 0) + 1
    if parent == st['gone']:
        return Response.json({'message': 'Not Found'}, status=404, delay=st['delay'])
    data = [{'id': 'c-%d-a' % p, 'page': p}, {'id': 'c-%d-b' % p, 'page': p}]
    if parent == 'p01' and p == 1 and st['extra']:
        data.append({'id': 'c-extra', 'page': p})
    body = {'data': data, 'next': str(p + 1) if p < n else None}
    return Response.json(body, delay=st['delay'])


@route('/ck/clear')
def clear(req):
    state(req)['hits'] = {}
    return Response.json({'ok': True})


@route('/ck/report')
def report(req):
    st = state(req)
    return Response.json({'hits': st['hits'], 'bad_key': st['bad_key']})
