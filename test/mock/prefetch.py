"""APIs for the tests of the next page's request being sent before the
current page is stored (sql/26_prefetch.sql, test/t/031_prefetch.pl).

GET /prefetch/items?n=N&cursor=cK   cursor paging in the body (meta.next), N
  pages (default 3) of 2 records {"id", "v", "page", "rev"}.  Page K answers
  HTTP 200 for page 1, 203 for page 2, 201 for page 3 and later (so a job's
  error detail shows which page's status it has), and its body says
  "body of page K".  Options (query of the sync URL, kept on every page):
    rev=X          "rev" of every record (a new rev changes every record)
    bad=K          page K has a record with v = "bad"
    change=K       page K's records have "changed": true
    slow=K&delay=S page K (a list "2,3" for several) answers after S seconds
    close=1        every answer closes the connection
    redirect=K     page K answers 302 to the same URL with "&moved=1"
    busy=K         the first request for page K answers 429 (Retry-After: 0)
GET /prefetch/dead     one record; the next URL is on port 1 of the loopback
  address, where nothing listens (the request fails at once)
POST /prefetch/post   cursor in the JSON body at "page.cursor"; the page
  size at "page.size"; 3 pages; the body sent is in the request log.
Pizzly for the 401-on-page-2 test:
  GET /prefetch/pizzly/connection/<id>   tokens "pft_<n>_s3cr3t" (n counts
    fetches since the last reset)
  GET /prefetch/pz/items?cursor=cK       3 pages; page 1 accepts any issued
    token, later pages only a token issued after that page's first request
    (the first token "expires" once page 1 is served)
"""

from mockcore import route, on_reset, Response

STATUS = {1: 200, 2: 203}
TOKENS = {'issued': 0, 'expired_upto': 0}
SEEN = set()

@on_reset
def reset():
    TOKENS['issued'] = 0
    TOKENS['expired_upto'] = 0
    SEEN.clear()


def page_of(req, name='cursor'):
    c = req.arg(name)
    return int(c[1:]) if c else 1


@route('/prefetch/items')
def items(req):
    k = page_of(req)
    n = int(req.arg('n', '3'))
    if req.arg('redirect') == str(k) and req.arg('moved') is None:
        return Response(302, b'', {'Location': req.path + '?' + req.raw_query + '&moved=1'})
    if req.arg('busy') == str(k) and req.raw_query not in SEEN:
        SEEN.add(req.raw_query)
        return Response.json({'error': 'busy'}, status=429, headers={'Retry-After': '0'})
    recs = [{'id': 'p%dr%d' % (k, i), 'v': 'ok', 'page': k, 'rev': req.arg('rev', '0')}
            for i in (1, 2)]
    if req.arg('bad') == str(k):
        recs[1]['v'] = 'bad'
    if req.arg('change') == str(k):
        for r in recs:
            r['changed'] = True
    delay = 0.0
    if str(k) in (req.arg('slow') or '').split(','):
        delay = float(req.arg('delay', '3'))
    headers = {'Connection': 'close'} if req.arg('close') else None
    body = {'data': recs, 'note': 'body of page %d' % k,
            'meta': {'next': 'c%d' % (k + 1) if k < n else None}}
    return Response.json(body, status=STATUS.get(k, 201), headers=headers, delay=delay)

@route('/prefetch/dead')
def dead(req):
    return Response.json({'data': [{'id': 1}], 'next': 'http://127.0.0.1:1/prefetch/gone?x=1'})


@route('/prefetch/post')
def post(req):
    body = req.json() or {}
    page = body.get('page') or {}
    k = int(page.get('cursor', 'c1')[1:])
    recs = [{'id': 'q%dr%d' % (k, i)} for i in range(int(page.get('size', 2)))]
    return Response.json({'results': recs, 'next_cursor': 'c%d' % (k + 1) if k < 3 else None})

@route('/prefetch/pizzly/connection/', prefix=True)
def pizzly(req):
    TOKENS['issued'] += 1
    return Response.json({'connectionId': req.path.rsplit('/', 1)[1],
                          'credentials': {'type': 'OAUTH2',
                                          'access_token': 'pft_%d_s3cr3t' % TOKENS['issued']}})

@route('/prefetch/pz/items')
def pz_items(req):
    k = page_of(req)
    auth = req.headers.get('Authorization') or ''
    try:
        n = int(auth.split('_')[1])
    except (IndexError, ValueError):
        n = 0
    if n == 0 or n > TOKENS['issued'] or n <= TOKENS['expired_upto']:
        return Response.json({'error': 'invalid token', 'page': k}, status=401)
    if k == 1:
        TOKENS['expired_upto'] = TOKENS['issued']
    return Response.json({'data': [{'id': k, 'token': n}],
                          'meta': {'next': 'c%d' % (k + 1) if k < 3 else None}})


@route('/prefetch/signed')
def signed(req):
    """GET /prefetch/signed?p=K&sig=S[&bad=1]: page K of 3, one record (its
    "v" is "bad" on page 2 with bad=1); the body echoes the signature it
    was requested with, and the next URL carries a new signature plus nine
    secret-looking tokens (ten new secret values per page)."""
    k = int(req.arg('p', '1'))
    bad = req.arg('bad') == '1'
    recs = [{'id': 's%d' % k, 'v': 'bad' if bad and k == 2 else 'ok'}]
    nxt = None
    if k < 3:
        nxt = '/prefetch/signed?p=%d%s&sig=sig%dSECRETVALUE' % (k + 1, '&bad=1' if bad else '', k + 1)
        nxt += ''.join('&token%d=tok%d-%dVALUE' % (i, k + 1, i) for i in range(1, 10))
    return Response.json({'data': recs, 'note': 'signature received: %s' % req.arg('sig', ''),
                          'next': nxt})
