"""Many pages of HubSpot-like records, for memory and volume tests.

GET /bulk/contacts?pages=P&per=N&after=K
  P pages of N records (cursor in paging.next.after); pre-rendered per
  (pages, per, page) so the mock stays fast.
"""
import functools
import json

from mockcore import route, Response


def record(i):
    return {'id': str(i), 'properties': {
        'email': 'user%d@example.com' % i, 'firstname': 'First%d' % i, 'lastname': 'Last%d' % i,
        'company': 'Company %d' % (i % 97), 'phone': '+1-555-%07d' % i,
        'createdate': '2023-01-01T00:00:00.000Z', 'lastmodifieddate': '2023-02-01T00:00:00.000Z',
        'num_employees': i % 500, 'revenue': '%d.%02d' % (i, i % 100), 'is_customer': i % 2 == 0,
        'tags': ['a%d' % (i % 5), 'b%d' % (i % 7)],
        'address': {'street': '%d Main St' % i, 'city': 'Springfield', 'zip': '%05d' % (i % 99999)}},
        'createdAt': '2023-01-01T00:00:00.000Z', 'updatedAt': '2023-02-01T00:00:00.000Z',
        'archived': False}


@functools.lru_cache(maxsize=4096)
def render(pages, per, page, base):
    body = {'results': [record(page * per + j) for j in range(per)]}
    if page + 1 < pages:
        body['paging'] = {'next': {'after': str(page + 1), 'link': base + '?after=%d' % (page + 1)}}
    return json.dumps(body).encode()


@route('/bulk/contacts')
def contacts(req):
    pages = int(req.arg('pages', '10'))
    per = int(req.arg('per', '100'))
    page = int(req.arg('after', '0'))
    return Response(200, render(pages, per, page, req.base_url + req.path),
                    {'Content-Type': 'application/json'})
