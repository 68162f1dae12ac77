"""Routes for the job outcome tests (sql/27_job_outcome.sql): records whose
keys repeat, go missing or are unusable.

/outcome/issues?n=N&users=U&per=P&cursor=C
    GitHub-like issues 1..N, P per page, {"items": [...], "next": cursor or
    null}; issue i has "id" 1000+i, "number" i and "user": {"login":
    "user<i % U>"}, so that unique_key "user.login" repeats within and
    across pages
/outcome/mismatch?cursor=C
    page 1 {"id": 1, "v": 1}, page 2 (cursor 2) {"id": 2, "v": "two"}
/outcome/keys
    5 records: two with "id", one without, one with "id": null, one with
    an object as "id"
"""
from mockcore import route, Response


def _int(req, name, default):
    try:
        return int(req.arg(name, default))
    except (TypeError, ValueError):
        return int(default)


@route('/outcome/issues')
def issues(req):
    n = min(_int(req, 'n', '87'), 1000)
    users = max(_int(req, 'users', '7'), 1)
    per = max(_int(req, 'per', '30'), 1)
    start = _int(req, 'cursor', '0')
    page = [{'id': 1000 + i, 'number': i, 'title': 'issue %d' % i,
             'user': {'login': 'user%d' % (i % users), 'type': 'User'}}
            for i in range(start + 1, min(start + per, n) + 1)]
    nxt = start + per if start + per < n else None
    return Response.json({'items': page, 'next': None if nxt is None else str(nxt)})


@route('/outcome/keys')
def keys(req):
    return Response.json({'data': [
        {'id': 1, 'name': 'one'},
        {'id': 2, 'name': 'two'},
        {'name': 'no id'},
        {'id': None, 'name': 'null id'},
        {'id': {'a': 1}, 'name': 'object id'},
    ]})


@route('/outcome/mismatch')
def mismatch(req):
    """Page 1 maps "v" as bigint; page 2 has a string there."""
    if req.arg('cursor') == '2':
        return Response.json({'data': [{'id': 2, 'v': 'two'}], 'next': None})
    return Response.json({'data': [{'id': 1, 'v': 1}], 'next': '2'})
