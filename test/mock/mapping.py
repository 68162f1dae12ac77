"""Routes for the auto-mapping tests (docs/mapping.md).

Every route answers {"data": [...], "next": <cursor or null>}: configure a
sync with response_path "data", paging_cursor_request_path "cursor" and
paging_cursor_metadata_response_path "next".  Routes that change between
runs take a `run` query parameter (set it with query_params and change it
with nango.update_sync).
"""
import hashlib
import random

from mockcore import route, Response


def paged(req, pages):
    """Serve pages (a list of record lists) by cursor: page i+1 has next i+2."""
    i = int(req.arg('cursor', '1')) - 1
    if i < 0 or i >= len(pages):
        return Response.json({'data': [], 'next': None})
    nxt = str(i + 2) if i + 1 < len(pages) else None
    return Response.json({'data': pages[i], 'next': nxt})


@route('/mapping/num_users')
def num_users(req):
    """The seed's example: num_users is a number on page 1, a string on page 2."""
    return paged(req, [
        [{'name': 'obj1', 'num_users': 23}, {'name': 'obj2', 'num_users': 182}],
        [{'name': 'obj3', 'num_users': 'nango is great'}],
    ])


@route('/mapping/seed')
def seed(req):
    """The seed's flattening example."""
    return paged(req, [[{'field': True, 'parent': {'nested': 'string_value'},
                         'nullField': None, 'list': [1, 2]}]])


@route('/mapping/evolve')
def evolve(req):
    """Schema evolution across pages (new fields on page 2) and runs
    (run 2 widens bigint to numeric and date to timestamptz, adds fields)."""
    run = int(req.arg('run', '1'))
    if run == 1:
        return paged(req, [
            [{'id': 1, 'n': 1, 'd': '2024-01-01', 's': 'a'}],
            [{'id': 2, 'n': 2, 'd': '2024-01-02', 's': 'b', 'added_p2': {'x': True}}],
        ])
    return paged(req, [
        [{'id': 3, 'n': 3.25, 'd': '2024-01-03T04:05:06+01:00', 's': 7}],
        [{'id': 4, 'n': 'not a number', 'd': 'not a date', 's': None, 'added_r2': [10, 20]}],
    ])


@route('/mapping/upsert')
def upsert(req):
    """Upsert: on run 2 key 1's fields became null or absent."""
    run = int(req.arg('run', '1'))
    if run == 1:
        return paged(req, [[{'id': 1, 'a': 'x', 'b': 1, 'c': {'d': True}},
                            {'id': 2, 'a': 'y', 'b': 2}]])
    return paged(req, [[{'id': 1, 'a': None}, {'id': 2, 'a': 'y2', 'b': 2}]])


@route('/mapping/overwrite')
def overwrite(req):
    """Overwrite: run 1 has 3 records, run 2 has 2; run 3 fails on page 2."""
    run = int(req.arg('run', '1'))
    if run == 1:
        return paged(req, [[{'v': 1}, {'v': 2}], [{'v': 3}]])
    if run == 3 and req.arg('cursor') == '2':
        return Response.json({'error': 'gone'}, status=404)
    if run == 3:
        return paged(req, [[{'v': 100, 'new_col': 'x'}], [{'v': 200}]])
    return paged(req, [[{'v': 10}], [{'v': 20}]])


HOSTILE = {
    'a"b': 1, 'x.y': 2, 'with space': 3, '\U0001F600': 4,
    'Robert"); DROP TABLE nango.syncs; --': 5, "a'b": 6, '': 7,
    '_nango_id': 8, '_nango_sync_id': 9, 'ctid': 10, 'xmin': 11, 'tableoid': 12,
    'a_b': 13, 'a': {'b': 14}, 'x as y': 15, 'SELECT': 16, 'k' * 80: 17,
    'k' * 80 + 'z': 18, 'nul': 'before\u0000after', 'back\\slash': 19,
}


@route('/mapping/hostile')
def hostile(req):
    """Keys that would break naive SQL, and a \\u0000 in a value."""
    return paged(req, [[dict(HOSTILE, id=1)], [dict(HOSTILE, id=2)]])


@route('/mapping/wide')
def wide(req):
    """Records of 600 fields: only 500 columns are made."""
    return paged(req, [
        [{('f%03d' % i): i for i in range(600)}],
        [dict({('f%03d' % i): i for i in range(600)}, late_field='x')],
    ])


def incompressible(seed, n):
    out = []
    i = 0
    while sum(len(x) for x in out) < n:
        out.append(hashlib.sha256(('%s-%d' % (seed, i)).encode()).hexdigest())
        i += 1
    return ''.join(out)[:n]


@route('/mapping/huge')
def huge(req):
    """One record too big for a mapped row (450 incompressible 2.5 kB
    fields) between two small ones."""
    big = {('c%03d' % i): incompressible(i, 2500) for i in range(450)}
    big['id'] = 'huge'
    return paged(req, [[{'id': 'small1', 'v': 1}, big, {'id': 'small2', 'v': 2}]])


@route('/mapping/huge_first')
def huge_first(req):
    """The huge record on page 1, then three pages of 40 small records: the
    pages after a page whose direct insert failed are stored too."""
    big = {('c%03d' % i): incompressible(i, 2500) for i in range(450)}
    big['id'] = 'huge'
    rest = [[{'id': 'r%03d' % (p * 40 + j), 'v': p * 40 + j} for j in range(40)] for p in range(3)]
    return paged(req, [[{'id': 'small1', 'v': 1}, big, {'id': 'small2', 'v': 2}]] + rest)


@route('/mapping/shared_a')
def shared_a(req):
    return paged(req, [[{'id': 'a1', 'src': 'a', 'only_a': 1}, {'id': 'a2', 'src': 'a'}]])


@route('/mapping/shared_b')
def shared_b(req):
    return paged(req, [[{'id': 'b1', 'src': 'b', 'only_b': True}]])


@route('/mapping/metadata')
def metadata(req):
    return paged(req, [[{'id': 1, 'company_id': 'from data'}, {'id': 2}]])


def rand_key(rng):
    pool = ['id', 'a', 'b', 'a_b', 'a.b', '', ' ', 'x' * 70, '\U0001F600', '"', "'",
            'ctid', '_nango_id', 'SELECT', 'ü', 'k1', 'k2', 'k3', 'deep', 'list']
    if rng.random() < 0.7:
        return rng.choice(pool)
    return ''.join(rng.choice('abcXYZ_.-" \'09') for _ in range(rng.randint(0, 8)))


def rand_scalar(rng):
    r = rng.random()
    if r < 0.1:
        return None
    if r < 0.2:
        return rng.random() < 0.5
    if r < 0.35:
        return rng.choice([0, -1, 2 ** 63 - 1, -2 ** 63, 2 ** 63, 2 ** 64, rng.randint(-10 ** 6, 10 ** 6)])
    if r < 0.45:
        return rng.choice([1.5, -0.25, 1e-7, 1672531200.5, 3.0])
    if r < 0.6:
        return rng.choice(['2024-01-15', '2024-02-29', '2023-02-29', '2024-01-15T10:30:00Z',
                           '2024-01-15T10:30:00.123+05:30', '2024-01-15 10:30:00', '007', '1e5'])
    return ''.join(rng.choice('abc 123\u00e9\U0001F600"\'\\') for _ in range(rng.randint(0, 12)))


def rand_value(rng, depth):
    r = rng.random()
    if depth < 12 and r < 0.2:
        return {rand_key(rng): rand_value(rng, depth + 1) for _ in range(rng.randint(0, 5))}
    if depth < 12 and r < 0.3:
        return [rand_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return rand_scalar(rng)


@route('/mapping/fuzz')
def fuzz(req):
    """Random records (fixed seed per `seed` parameter): deep nesting, random
    keys and types, 3 pages of 20 records."""
    rng = random.Random(int(req.arg('seed', '1')))
    pages = []
    for _ in range(3):
        recs = []
        for _ in range(20):
            rec = {rand_key(rng): rand_value(rng, 0) for _ in range(rng.randint(0, 8))}
            rec['id'] = rng.randint(1, 40)
            recs.append(rec)
        pages.append(recs)
    return paged(req, pages)
