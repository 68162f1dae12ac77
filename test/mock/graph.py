"""Next URLs in keys with dots, and next URLs with characters a URL cannot
carry as they are.

GET /graph/v1.0/users?$top=N[&$skiptoken=T]
  Microsoft Graph: {"@odata.context", "@odata.count", "value": [...],
  "@odata.nextLink": absolute URL with $skiptoken} ; the last page has no
  nextLink.  7 users, each with "@odata.id".  The skiptoken carries an
  encoded "=" (%3D) that must come back untouched; any other token is 400.
GET /figma/v1/files/{key}/versions?page_size=N[&before=T][&api_key=K]
  Figma: {"versions": [...], "pagination": {"prev_page": URL, "next_page":
  null}}; prev_page has raw spaces ("before=2026-05-22 20:10:33 UTC").  The
  request must carry them percent-encoded (%20), else 400.  With
  api_key=K in the first URL it is repeated in prev_page; with file key
  "denied" page 2 answers 403 (its error names the URL).
"""
from mockcore import route, Response

USERS = [{'@odata.id': 'https://graph.microsoft.com/v2/tenant/directoryObjects/u%d' % i,
          'id': 'u%d' % i, 'displayName': 'User %d' % i,
          'mail': 'user%d@contoso.example' % i, 'businessPhones': ['+1 555 010%d' % i]}
         for i in range(1, 8)]


@route('/graph/v1.0/users')
def graph_users(req):
    top = int(req.arg('$top', '3'))
    raw = req.raw_query
    start = 0
    if '$skiptoken=' in raw:
        token = raw.split('$skiptoken=', 1)[1].split('&', 1)[0]
        if not token.startswith('p') or not token.endswith('%3D%3D'):
            return Response.json({'error': {'code': 'BadRequest', 'message': 'bad skiptoken ' + token}},
                                 status=400)
        start = int(token[1:-6])
    page = USERS[start:start + top]
    body = {'@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users',
            '@odata.count': len(USERS), 'value': page}
    if start + top < len(USERS):
        body['@odata.nextLink'] = '%s/graph/v1.0/users?$top=%d&$skiptoken=p%d%%3D%%3D' % (
            req.base_url, top, start + top)
    return Response.json(body)


VERSIONS = [{'id': str(900 + i), 'created_at': '2026-05-%02dT20:10:33Z' % (22 - i),
             'label': 'v%d' % i, 'user': {'handle': 'designer'}} for i in range(5)]


@route('/figma/v1/files/', prefix=True)
def figma_versions(req):
    parts = req.path.split('/')
    key = parts[4] if len(parts) > 4 else ''
    size = int(req.arg('page_size', '2'))
    raw = req.raw_query
    start = 0
    if 'before=' in raw:
        before = raw.split('before=', 1)[1].split('&', 1)[0]
        if ' ' in before or '%2020:10:33%20UTC' not in before:
            return Response.json({'status': 400, 'error': True, 'raw_before': before}, status=400)
        if key == 'denied':
            return Response.json({'status': 403, 'err': 'Invalid token'}, status=403)
        start = int(req.arg('offset', '0'))
    page = VERSIONS[start:start + size]
    pagination = {'next_page': None}
    if start + size < len(VERSIONS):
        url = '%s/figma/v1/files/%s/versions?page_size=%d&before=2026-05-%02d 20:10:33 UTC&offset=%d' % (
            req.base_url, key, size, 22 - start - size, start + size)
        if req.arg('api_key'):
            url += '&api_key=' + req.arg('api_key')
        pagination['prev_page'] = url
    return Response.json({'versions': page, 'pagination': pagination})
