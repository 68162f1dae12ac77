"""Google APIs (reference section 7, examples 9 and 10): Gmail messages and
Calendar events.  The cursor is "nextPageToken" sent back as "pageToken";
the last page has no nextPageToken (Calendar gives nextSyncToken instead).

GET /gmail/v1/users/{email}/messages?maxResults=N&pageToken=T
  an empty mailbox (user empty@example.com) is {"resultSizeEstimate": 0}
  with no "messages" key.
GET /calendar/v3/calendars/{id}/events?maxResults=N&pageToken=T
"""
from mockcore import route, Response

MESSAGES = [{'id': '185a1b2c3d4e%04x' % i, 'threadId': '185a1b2c3d4e%04x' % (i - i % 3)}
            for i in range(1, 18)]

EVENTS = [{'kind': 'calendar#event', 'etag': '"31811617847%05d"' % i,
           'id': '4eahs9ghkhrvkld72hogu9ph3e_2020051%dT140000Z' % i, 'status': 'confirmed',
           'created': '2020-05-18T10:07:12.000Z', 'updated': '2020-05-18T10:07:12.356Z',
           'summary': 'Meeting %d' % i, 'creator': {'email': 'me@example.com', 'self': True},
           'start': {'dateTime': '2020-05-1%dT16:00:00+02:00' % i, 'timeZone': 'Europe/Paris'},
           'end': {'date': '2020-05-2%d' % i}, 'sequence': 0, 'reminders': {'useDefault': True}}
          for i in range(1, 8)]


def token(i):
    return '%020d' % (i * 7919)


def untoken(t):
    return int(t) // 7919


@route('/gmail/v1/users/', prefix=True)
def gmail(req):
    if 'empty@example.com' in req.path:
        return Response.json({'resultSizeEstimate': 0})
    n = int(req.arg('maxResults', '100'))
    start = untoken(req.arg('pageToken')) if req.arg('pageToken') else 0
    chunk = MESSAGES[start:start + n]
    body = {'messages': chunk, 'resultSizeEstimate': len(MESSAGES)}
    if start + n < len(MESSAGES):
        body['nextPageToken'] = token(start + n)
    return Response.json(body)


@route('/calendar/v3/calendars/', prefix=True)
def calendar(req):
    n = int(req.arg('maxResults', '250'))
    start = untoken(req.arg('pageToken')) if req.arg('pageToken') else 0
    chunk = EVENTS[start:start + n]
    body = {'kind': 'calendar#events', 'summary': 'me@example.com', 'timeZone': 'Europe/Paris',
            'items': chunk}
    if start + n < len(EVENTS):
        body['nextPageToken'] = token(start + n)
    else:
        body['nextSyncToken'] = 'CPDAlvWDx70CEPDAlvWDx70CGAU='
    return Response.json(body)
