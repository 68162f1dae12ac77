"""Example API for `make demo`: a local imitation of HubSpot's CRM contacts
endpoint (GET /crm/v3/objects/contacts), served under /demo/hubspot.

Same shapes as the real API: {"results": [...], "paging": {"next":
{"after": "...", "link": "..."}}}, no "paging" on the last page, `limit`
(default 10, at most 100) and `after` query parameters, and a bearer token
(any non-empty token is accepted; a missing one gets HubSpot's 401 body).
"""
import datetime
import random
from mockcore import route, Response

FIRST = ['Brian', 'Dharmesh', 'Ada', 'Grace', 'Linus', 'Margaret', 'Ken', 'Barbara',
         'Edsger', 'Frances', 'Alan', 'Radia', 'Donald', 'Katherine', 'Tim', 'Hedy']
LAST = ['Halligan', 'Shah', 'Lovelace', 'Hopper', 'Torvalds', 'Hamilton', 'Thompson',
        'Liskov', 'Dijkstra', 'Allen', 'Turing', 'Perlman', 'Knuth', 'Johnson',
        'Berners-Lee', 'Lamarr']
COMPANIES = ['HubSpot', 'Initech', 'Globex', 'Umbrella', 'Hooli', 'Stark Industries']
TOTAL = 120


def _contacts():
    rnd = random.Random(51)
    base = datetime.datetime(2023, 1, 9, 10, 17, 13, 451000)
    out = []
    for i in range(TOTAL):
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        created = base + datetime.timedelta(hours=7 * i, seconds=rnd.randint(0, 3600))
        modified = created + datetime.timedelta(days=rnd.randint(0, 400))
        cid = str(51 + i)
        stamp = lambda d: d.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (d.microsecond // 1000)
        out.append({
            'id': cid,
            'properties': {
                'createdate': stamp(created),
                'email': '%s.%s%d@%s.example' % (first.lower(), last.lower(), i,
                                                  rnd.choice(COMPANIES).lower().replace(' ', '')),
                'firstname': first,
                'hs_object_id': cid,
                'lastmodifieddate': stamp(modified),
                'lastname': last,
            },
            'createdAt': stamp(created),
            'updatedAt': stamp(modified),
            'archived': False,
        })
    return out


CONTACTS = _contacts()


@route('/demo/hubspot/crm/v3/objects/contacts')
def contacts(req):
    auth = req.headers.get('Authorization') or ''
    if not auth.startswith('Bearer ') or len(auth) <= len('Bearer '):
        return Response.json({
            'status': 'error',
            'message': 'Authentication credentials not found. This API supports OAuth 2.0 '
                       'authentication and you can find more details at '
                       'https://developers.hubspot.com/docs/methods/auth/oauth-overview',
            'correlationId': '4c8d4a4e-0c1f-4d6c-9a43-4e0f1b2c3d4e',
            'category': 'INVALID_AUTHENTICATION'}, status=401)
    try:
        limit = max(1, min(int(req.arg('limit', '10')), 100))
        start = int(req.arg('after', '51')) - 51
    except ValueError:
        return Response.json({'status': 'error', 'message': 'Invalid input',
                              'category': 'VALIDATION_ERROR'}, status=400)
    page = CONTACTS[max(start, 0):max(start, 0) + limit]
    body = {'results': page}
    nxt = max(start, 0) + limit
    if nxt < len(CONTACTS):
        after = str(51 + nxt)
        body['paging'] = {'next': {
            'after': after,
            'link': '%s/demo/hubspot/crm/v3/objects/contacts?limit=%d&after=%s' % (req.base_url, limit, after)}}
    return Response.json(body)
