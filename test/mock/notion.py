"""Notion-like POST query (cursor in the JSON body).

POST /notion/v1/databases/{id}/query  body {"page_size": N, "start_cursor": C}
  {"object": "list", "results": [...], "next_cursor": C|null, "has_more": bool}
POST /notion-nested/query  body {"page": {"size": N, "cursor": C}}  (nested
  body path); same answer shape.
"""
import uuid

from mockcore import route, Response

PAGES = [{'object': 'page', 'id': str(uuid.UUID(int=0x59833787 + i)),
          'created_time': '2022-03-01T19:05:00.000Z', 'last_edited_time': '2022-07-06T20:25:00.000Z',
          'archived': False,
          'properties': {'Name': {'id': 'title', 'type': 'title',
                                  'title': [{'type': 'text', 'plain_text': 'Page %d' % i}]},
                         'Price': {'id': 'BJXS', 'type': 'number', 'number': i * 2.5}}}
         for i in range(1, 11)]


def answer(size, cursor):
    ids = [p['id'] for p in PAGES]
    start = ids.index(cursor) if cursor in ids else 0
    chunk = PAGES[start:start + size]
    more = start + size < len(PAGES)
    return Response.json({'object': 'list', 'results': chunk,
                          'next_cursor': PAGES[start + size]['id'] if more else None,
                          'has_more': more, 'type': 'page_or_database'})


@route('/notion/v1/databases/', prefix=True)
def query(req):
    if req.method != 'POST':
        return Response.json({'object': 'error', 'status': 405}, status=405)
    if req.headers.get('Notion-Version') is None:
        return Response.json({'object': 'error', 'status': 400, 'code': 'missing_version'}, status=400)
    body = req.json() or {}
    return answer(int(body.get('page_size', 100)), body.get('start_cursor'))


@route('/notion-nested/query')
def nested(req):
    body = req.json() or {}
    page = body.get('page') or {}
    return answer(int(page.get('size', 100)), page.get('cursor'))
