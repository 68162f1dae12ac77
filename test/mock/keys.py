"""Routes for the unique-key tests (sql/63_unique_key_bytes.sql): keys that
linguistic collations order differently from bytes, over several pages.

/keys/items?n=N&per=P&cursor=C&repeat=1&v=V
    records 0..N-1, P per page, {"data": [...], "next": cursor or null};
    record i has id KEYS[i % len(KEYS)] + str(i // len(KEYS)) and "v": V
    (default "a"); with repeat=1 the last page ends with record 0 again,
    its "v" changed to V + "-last".
"""
from mockcore import route, Response

KEYS = ['a', 'B', '\u00e9', 'e\u0301', '\u00c9', '\u00df', 'ss', ' x', 'Z', '10', '9']


def _int(req, name, default):
    try:
        return int(req.arg(name, default))
    except (TypeError, ValueError):
        return int(default)


@route('/keys/items')
def items(req):
    n = min(_int(req, 'n', '10'), 5000)
    per = max(_int(req, 'per', '4'), 1)
    start = _int(req, 'cursor', '0')
    v = req.arg('v', 'a')
    page = [{'id': KEYS[i % len(KEYS)] + str(i // len(KEYS)), 'v': v}
            for i in range(start, min(start + per, n))]
    nxt = start + per if start + per < n else None
    if nxt is None and req.arg('repeat') == '1':
        page.append({'id': KEYS[0] + '0', 'v': v + '-last'})
    return Response.json({'data': page, 'next': None if nxt is None else str(nxt)})
