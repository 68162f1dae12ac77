"""Slack Web API conversations.history (reference section 7, example 4).

GET /slack/api/conversations.history?channel=C1&limit=N&cursor=C
  {"ok": true, "messages": [...], "has_more": true,
   "response_metadata": {"next_cursor": "..."}}; the last page has
  has_more false and next_cursor "".  Errors are HTTP 200 with
  {"ok": false, "error": "channel_not_found"} (channel other than C1).
"""
import base64

from mockcore import route, Response

MESSAGES = [{'type': 'message', 'user': 'U012AB3CD%d' % (i % 3),
             'text': 'message number %d' % i, 'ts': '1512085950.%06d' % (216 + i),
             'reactions': [{'name': 'thumbsup', 'users': ['U1'], 'count': 1}] if i % 4 == 0 else []}
            for i in range(1, 24)]


def cursor_for(i):
    return base64.b64encode(('next_ts:%d' % i).encode()).decode()


@route('/slack/api/conversations.history')
def history(req):
    if req.arg('channel') != 'C1':
        return Response.json({'ok': False, 'error': 'channel_not_found'})
    limit = int(req.arg('limit', '10'))
    start = 0
    cur = req.arg('cursor')
    if cur:
        start = int(base64.b64decode(cur).decode().split(':')[1])
    chunk = MESSAGES[start:start + limit]
    more = start + limit < len(MESSAGES)
    body = {'ok': True, 'messages': chunk, 'has_more': more, 'pin_count': 0,
            'response_metadata': {'next_cursor': cursor_for(start + limit) if more else ''}}
    return Response.json(body)
