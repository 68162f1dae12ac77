"""Reddit listing (reference section 7, example 5): records at
data.children, the cursor is the last child's data.name, sent as "after";
the end is an empty children array.

GET /reddit/r/{sub}/new.json?limit=N&after=t3_xxx
"""
from mockcore import route, Response

POSTS = [{'kind': 't3', 'data': {'subreddit': 'redditdev', 'title': 'Post %d' % i,
                                 'name': 't3_%05x' % (0x10abc + i), 'id': '%05x' % (0x10abc + i),
                                 'created_utc': 1672531200.0 + i, 'author': 'author%d' % i,
                                 'ups': i, 'over_18': False,
                                 'preview': {'images': [{'source': {'url': 'https://i.example.com/%d.png' % i,
                                                                    'width': 640}}]},
                                 'all_awardings': []}}
         for i in range(1, 31)]


@route('/reddit/r/', prefix=True)
def listing(req):
    limit = int(req.arg('limit', '25'))
    after = req.arg('after')
    start = 0
    if after:
        names = [p['data']['name'] for p in POSTS]
        start = names.index(after) + 1 if after in names else len(POSTS)
    chunk = POSTS[start:start + limit]
    return Response.json({'kind': 'Listing',
                          'data': {'after': chunk[-1]['data']['name'] if chunk else None,
                                   'dist': len(chunk), 'modhash': '', 'before': None,
                                   'children': chunk}})
