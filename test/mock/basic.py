"""Basic routes: a health check and a single unpaginated list."""
from mockcore import route, Response


@route('/health')
def health(req):
    return Response.json({'ok': True})


@route('/simple/items')
def simple_items(req):
    return Response.json({'data': [{'id': i, 'name': 'item %d' % i} for i in range(1, 4)]})
