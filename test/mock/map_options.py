"""Routes for the mapping options (docs/mapping.md: fields, arrays).

GET /mapping/options?cursor=C
  {"data": [...], "next": <cursor or null>}: two pages of HubSpot-like
  contacts with nested properties, arrays of objects, arrays of scalars,
  nested arrays, an empty array and a key with a dot ("@odata.type").
"""
from mockcore import route, Response

PAGES = [
    [
        {'id': 1, '@odata.type': '#contact',
         'properties': {'email': 'ann@example.com', 'firstname': 'Ann', 'score': 7},
         'labels': [{'name': 'vip', 'color': 'red'}, {'name': 'new'}],
         'tags': ['a', 'b'], 'matrix': [[1, 2], [3]], 'archived': False},
        {'id': 2, '@odata.type': '#contact',
         'properties': {'email': 'bob@example.com', 'firstname': None},
         'labels': [], 'tags': ['c'], 'matrix': [], 'archived': True},
    ],
    [
        {'id': 3, 'properties': {'email': 'cy@example.com', 'phone': '+1 555'},
         'labels': [{'name': 'x'}], 'tags': [1.50, 'z', None, {'k': True}],
         'nested': {'deep': [1, {'k': [True]}]}},
    ],
]


@route('/mapping/options')
def options(req):
    i = int(req.arg('cursor', '1')) - 1
    if i < 0 or i >= len(PAGES):
        return Response.json({'data': [], 'next': None})
    return Response.json({'data': PAGES[i], 'next': str(i + 2) if i + 1 < len(PAGES) else None})
