"""HubSpot CRM v3 contacts (reference section 7, example 3).

GET /hubspot/crm/v3/objects/contacts?limit=N&after=C
  {"results": [...], "paging": {"next": {"after": "C", "link": "..."}}}
  The last page has no "paging".  Requires "Authorization: Bearer <token>"
  (any token except "expired", which gets a 401 like HubSpot's).
POST /hubspot/crm/v3/objects/contacts/search  body {"limit": N, "after": C}
  Same shape plus "total".
GET /hubspot/__dataset?name=v1|v2|big&n=N switches the data set:
  v1: contacts 51..57; v2: 53 changed, 55 gone, 58 added (key order of
  every record shuffled: the content is the same for the others).
"""
import json

from mockcore import route, on_reset, Response

STATE = {'name': 'v1', 'n': 7}


def contact(i, version='v1'):
    cid = str(50 + i)
    props = {
        'createdate': '2023-01-%02dT10:17:13.451Z' % (i % 28 + 1),
        'email': 'contact%d@example.com' % i,
        'firstname': 'First%d' % i,
        'hs_object_id': cid,
        'lastmodifieddate': '2023-02-01T08:00:00.000Z',
        'lastname': 'Last%d' % i,
    }
    rec = {'id': cid, 'properties': props,
           'createdAt': props['createdate'], 'updatedAt': props['lastmodifieddate'],
           'archived': False}
    if version == 'v2':
        # same content, keys in another order
        rec = dict(reversed(list(rec.items())))
        rec['properties'] = dict(reversed(list(props.items())))
        if cid == '53':
            rec['properties']['lastname'] = 'Changed'
    return rec


def dataset():
    name = STATE['name']
    if name == 'v2':
        return [contact(i, 'v2') for i in range(1, 9) if i != 5]
    return [contact(i) for i in range(1, STATE['n'] + 1)]


@on_reset
def reset():
    STATE.update(name='v1', n=7)


@route('/hubspot/__dataset')
def set_dataset(req):
    STATE['name'] = req.arg('name', 'v1')
    STATE['n'] = int(req.arg('n', '7'))
    return Response.json({'ok': True})


def page(req, after, limit, with_total=False):
    auth = req.headers.get('Authorization') or ''
    if not auth.startswith('Bearer ') or auth == 'Bearer expired':
        return Response.json({'status': 'error', 'message': 'Authentication credentials not found.',
                              'category': 'INVALID_AUTHENTICATION'}, status=401)
    data = dataset()
    limit = max(1, min(int(limit), 100))
    start = 0
    if after:
        ids = [r['id'] for r in data]
        start = ids.index(after) if after in ids else len(data)
    chunk = data[start:start + limit]
    body = {'results': chunk}
    if with_total:
        body['total'] = len(data)
    if start + limit < len(data):
        nxt = data[start + limit]['id']
        body['paging'] = {'next': {'after': nxt,
                                   'link': req.base_url + req.path + '?after=' + nxt}}
    return Response.json(body)


@route('/hubspot/crm/v3/objects/contacts')
def contacts(req):
    return page(req, req.arg('after'), req.arg('limit', '10'))


@route('/hubspot/crm/v3/objects/contacts/search')
def search(req):
    if req.method != 'POST':
        return Response.json({'message': 'method not allowed'}, status=405)
    body = req.json() or {}
    return page(req, body.get('after'), body.get('limit', 10), with_total=True)
