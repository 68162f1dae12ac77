"""Routes for the exponent mapping tests (docs/mapping.md: a number written
with an exponent, such as 1e3, maps as numeric although jsonb keeps 1000).

The bodies are exact JSON text (Python's json module would rewrite the
numbers).  /exponent/pages answers {"data": [...], "next": <cursor or null>}
by `cursor` (absent: page 1) and `run` (1 or 2): configure response_path
"data", paging_cursor_request_path "cursor" and
paging_cursor_metadata_response_path "next".
"""
from mockcore import route, Response

PAGES = {
    '1': [
        # page 1: x is an integer (bigint column); a record without the
        # unique key comes first (dropped), so records shift on the page
        '{"data": [{"noid": 1e3}, {"id": 1, "x": 5, "d": 1000, "k": 1},'
        ' {"id": 2, "x": 6, "d": 2000, "dup": 1e3, "dup": 5,'
        ' "dup2": 5, "dup2": 2e3}], "next": "2"}',
        # page 2: x and k, bigint columns, get exponent values: widened
        '{"data": [{"id": 3, "x": 2e1, "d": 3000, "k": 4E0}], "next": null,'
        ' "meta": {"total": 3e0}}',
    ],
    '2': [
        # a later run: d, a bigint column, gets 12e2: widened
        '{"data": [{"id": 4, "d": 12e2, "n": 4, "x": 7}], "next": null}',
    ],
}


@route('/exponent/pages')
def pages(req):
    run = req.arg('run', '1')
    i = int(req.arg('cursor', '1')) - 1
    bodies = PAGES.get(run, [])
    body = bodies[i] if 0 <= i < len(bodies) else '{"data": [], "next": null}'
    return Response(body=body.encode(), headers={'Content-Type': 'application/json'})
