"""Routes for the tests of secrets and Pizzly connection grants
(sql/53_secrets.sql, sql/54_connection_grants.sql, test/t/051_secrets.pl).

/secrets/echo<anything>   (any method) 200 {"data": [{"id": 1}]}: the request
    log (/__requests) shows what nango sent, placeholders replaced
/secrets/fail<anything>   (any method) 500 echoing the path, query string,
    headers and body, as an API's error page may
"""
from mockcore import route, Response


@route('/secrets/echo', prefix=True)
def echo(req):
    return Response.json({'data': [{'id': 1}]})


@route('/secrets/fail', prefix=True)
def fail(req):
    return Response.json({'error': 'failed', 'path': req.path, 'query': req.raw_query,
                          'headers': {k: v for k, v in req.headers.items()},
                          'body': req.body.decode('utf-8', 'replace')},
                         status=500)
