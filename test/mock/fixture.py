"""The original product's test fixture (reference section 8): GET
/nango-test/test?rotation=R answers test1, test2, test3, test1, ... one per
request, counted per rotation name R (cleared by POST /__reset).

test1: k1, k2, k3; test2: k2 (changed), k4; test3: k2, k4, k1 (changed).
"""
from mockcore import route, on_reset, Response

COUNTERS = {}


def rec(key, s, n, extra='x'):
    return {'unique_key': key, 'string_field': s, 'number_field': n,
            'json_field': {'string_field': extra}, 'date_field': '2022-01-0%d' % n,
            'boolean_field': n % 2 == 0}


FIXTURES = [
    [rec('k1', 'one', 1), rec('k2', 'two', 2), rec('k3', 'three', 3)],
    [rec('k2', 'two changed', 2), rec('k4', 'four', 4)],
    [rec('k2', 'two changed', 2), rec('k4', 'four', 4), rec('k1', 'one changed', 1)],
]


@on_reset
def reset():
    COUNTERS.clear()


@route('/nango-test/test')
def fixture(req):
    name = req.arg('rotation', '')
    n = COUNTERS.get(name, 0)
    COUNTERS[name] = n + 1
    return Response.json({'results': FIXTURES[n % 3], 'fixture': 'test%d' % (n % 3 + 1)})
