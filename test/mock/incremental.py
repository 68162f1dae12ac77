"""An API that honours an "updated since" parameter (inclusive), for
incremental syncs.  Records change between runs.

GET /incr/items?updated_since=V&page=P   records with updated_at >= V, by
    updated_at then id, pages of 3 ({"items": [...]}); without the
    parameter, every record.
GET /incr/num?since=N                    the same with a numeric "seq"
POST /incr/search body {"filter": {"since": V}}   the same as a POST
GET /incr/__step?n=N                     data set N (0, 1, 2): see below
GET /incr/__fail?page=P                  page P answers 500 (0: none)
  0: a..e updated at 01:00..05:00 (seq 8..12)
  1: c updated at 06:00 (seq 13), f new at 06:00 (seq 14), g new at
     "07:30:00+02:00" (05:30Z: later as text, earlier in time; seq 1)
  The mock filters "updated since" by text comparison.
  2: nothing changes
"""
from mockcore import route, on_reset, Response

STATE = {'step': 0, 'fail': 0}


def dataset():
    rows = [{'id': k, 'name': 'item ' + k, 'updated_at': '2024-03-01T0%d:00:00Z' % (i + 1), 'seq': i + 8}
            for i, k in enumerate('abcde')]
    if STATE['step'] >= 1:
        rows[2] = {'id': 'c', 'name': 'item c v2', 'updated_at': '2024-03-01T06:00:00Z', 'seq': 13}
        rows.append({'id': 'f', 'name': 'item f', 'updated_at': '2024-03-01T06:00:00Z', 'seq': 14})
        # 05:30Z written with an offset: later as text, earlier in time
        rows.append({'id': 'g', 'name': 'item g', 'updated_at': '2024-03-01T07:30:00+02:00', 'seq': 1})
    return sorted(rows, key=lambda r: (r['updated_at'], r['id']))


@on_reset
def reset():
    STATE.update(step=0, fail=0)


@route('/incr/__step')
def step(req):
    STATE['step'] = int(req.arg('n', '0'))
    return Response.json({'ok': True})


@route('/incr/__fail')
def fail(req):
    STATE['fail'] = int(req.arg('page', '0'))
    return Response.json({'ok': True})


def answer(rows, page):
    if STATE['fail'] == page:
        return Response.json({'error': 'down'}, status=500)
    return Response.json({'items': rows[(page - 1) * 3: page * 3]})


@route('/incr/items')
def items(req):
    since = req.arg('updated_since')
    rows = [r for r in dataset() if since is None or r['updated_at'] >= since]
    return answer(rows, int(req.arg('page', '1')))


@route('/incr/num')
def num(req):
    since = req.arg('since')
    rows = sorted([r for r in dataset() if since is None or r['seq'] >= int(since)], key=lambda r: r['seq'])
    return answer(rows, int(req.arg('page', '1')))


@route('/incr/search')
def search(req):
    body = req.json() or {}
    since = (body.get('filter') or {}).get('since')
    rows = [r for r in dataset() if since is None or r['updated_at'] >= since]
    return answer(rows, int(body.get('page', 1)))
