"""Offset, page-number and stop-rule APIs (no named real API; shapes of
reference section 7.11 and FreshSales-like page numbers).

GET /offset/items?offset=O&limit=L      25 items; the server caps a page at 7
GET /offset-ignored/items?offset=O&limit=L   ignores offset (always the same page)
GET /pages/contacts?page=P&per_page=N   {"contacts": [...]} 1-based, 17 contacts
GET /pages0/contacts?page=P             0-based pages of 5
GET /pages-ignored/contacts?page=P      ignores the page (always the same page)
GET /stops/{kind}?cursor=C              page 1 gives cursor "c2"; page 2 ends
  with the cursor missing, null, "", false, or the same "c2" again (loop)
GET /lastrec/items?after=ID             cursor from the last record's "cursor"
GET /lastrec-loop/items                 the last record's cursor never changes
"""
from mockcore import route, Response

ITEMS = [{'id': i, 'name': 'item %d' % i} for i in range(1, 26)]
CONTACTS = [{'id': 'c%02d' % i, 'display_name': 'Contact %d' % i, 'email': 'c%d@example.com' % i}
            for i in range(1, 18)]


@route('/offset/items')
def offset_items(req):
    off = int(req.arg('offset', '0'))
    lim = min(int(req.arg('limit', '10')), 7)
    return Response.json({'items': ITEMS[off:off + lim], 'total': len(ITEMS)})


@route('/offset-ignored/items')
def offset_ignored(req):
    return Response.json({'items': ITEMS[:5]})


@route('/pages/contacts')
def pages(req):
    page = int(req.arg('page', '1'))
    per = int(req.arg('per_page', '5'))
    return Response.json({'contacts': CONTACTS[(page - 1) * per: page * per],
                          'meta': {'total_pages': (len(CONTACTS) + per - 1) // per}})


@route('/pages0/contacts')
def pages0(req):
    page = int(req.arg('page', '0'))
    return Response.json({'contacts': CONTACTS[page * 5:(page + 1) * 5]})


@route('/pages-ignored/contacts')
def pages_ignored(req):
    return Response.json({'contacts': CONTACTS[:5]})


@route('/stops/', prefix=True)
def stops(req):
    kind = req.path.rsplit('/', 1)[1]
    if req.arg('cursor') is None:
        return Response.json({'data': [{'id': 1}, {'id': 2}], 'meta': {'next': 'c2'}})
    if req.arg('cursor') == 'c2':
        meta = {'missing': {}, 'null': {'next': None}, 'empty': {'next': ''},
                'false': {'next': False}, 'loop': {'next': 'c2'},
                'number': {'next': 3}}[kind]
        return Response.json({'data': [{'id': 3}], 'meta': meta})
    return Response.json({'data': [{'id': 4}], 'meta': {}})


@route('/lastrec/items')
def lastrec(req):
    after = int(req.arg('after', 'cur-0').split('-')[1])
    chunk = [dict(it, cursor='cur-%d' % it['id']) for it in ITEMS if it['id'] > after][:10]
    return Response.json({'results': chunk})


@route('/lastrec-loop/items')
def lastrec_loop(req):
    return Response.json({'results': [{'id': 1, 'cursor': 'same'}]})


@route('/keys/mixed')
def keys_mixed(req):
    """Records with unusable keys, and keys repeated within and across pages
    (cursor "p2" gives page 2)."""
    if req.arg('cursor') != 'p2':
        return Response.json({'data': [
            {'id': 'a', 'v': 1}, {'v': 'no id'}, {'id': None, 'v': 'null id'},
            {'id': {'x': 1}, 'v': 'object id'}, {'id': [1], 'v': 'array id'},
            {'id': 'b', 'v': 1}, {'id': 'a', 'v': 2}, {'id': 7, 'v': 'number id'},
            {'id': True, 'v': 'boolean id'}, 'a string record'], 'next': 'p2'})
    return Response.json({'data': [{'id': 'b', 'v': 3}, {'id': 'c', 'v': 1}, {'id': 'b', 'v': 4}]})


@route('/bom/items')
def bom(req):
    """A body starting with a UTF-8 byte order mark."""
    return Response(200, b'\xef\xbb\xbf{"data": [{"id": 1}]}', {'Content-Type': 'application/json; charset=utf-8'})
