"""Routes for the extension upgrade tests (test/t/070_upgrade.pl,
071_pg_upgrade.pl): a stateless, deterministic list whose records exercise
auto-mapping (nested objects, arrays, every mapped type).

/upgrade/items?n=10&since=S&cursor=C   records 1..n (those with seq >= S
    when `since` is given), 4 per page, {"data": [...], "next": cursor or
    null}; the cursor is the index of the next record
/upgrade/items?fail=1                  HTTP 500
/upgrade/agent                         one record with the User-Agent received
"""
from mockcore import route, Response


def record(i):
    return {
        'id': i,
        'seq': i,
        'name': 'item %d' % i,
        'active': i % 2 == 0,
        'price': i * 1.25,
        'created_at': '2024-01-%02dT10:00:00Z' % i,
        'day': '2024-02-%02d' % i,
        'tags': ['t%d' % i, 'common'],
        'owner': {'email': 'user%d@example.com' % i, 'level': i % 3},
    }


def _int(req, name, default):
    try:
        return int(req.arg(name, default))
    except (TypeError, ValueError):
        return int(default)


@route('/upgrade/items')
def items(req):
    if req.arg('fail') == '1':
        return Response.json({'error': 'upstream is down'}, status=500)
    n = min(_int(req, 'n', '10'), 28)
    since = _int(req, 'since', '0')
    rows = [record(i) for i in range(1, n + 1) if i >= since]
    start = _int(req, 'cursor', '0')
    page = rows[start:start + 4]
    nxt = start + 4 if start + 4 < len(rows) else None
    return Response.json({'data': page, 'next': None if nxt is None else str(nxt)})


@route('/upgrade/agent')
def agent(req):
    return Response.json({'data': [{'id': 1, 'user_agent': req.headers.get('User-Agent')}]})
