"""Typeform responses (reference section 7, example 6): records at items,
newest first; the next page is ?before=<token of the last item>; the end
is an empty items array.

GET /typeform/forms/{form_id}/responses?page_size=N&before=TOKEN
"""
from mockcore import route, Response

ITEMS = [{'landing_id': '21085286190ffad1248d17c4135ee%03d' % i,
          'token': '21085286190ffad1248d17c4135ee%03d' % i,
          'landed_at': '2017-09-14T22:%02d:59Z' % (59 - i),
          'submitted_at': '2017-09-14T22:%02d:00Z' % (59 - i),
          'metadata': {'user_agent': 'Mozilla/5.0', 'platform': 'other',
                       'referer': 'https://user.typeform.com/to/lR6F4j', 'network_id': 'responsdent',
                       'browser': 'default'},
          'answers': [{'field': {'id': 'hVONkQcnSNRj', 'type': 'dropdown', 'ref': 'my_custom_dropdown_reference'},
                       'type': 'text', 'text': 'Job opportunities'}],
          'hidden': {}, 'calculated': {'score': i % 5}}
         for i in range(1, 12)]


@route('/typeform/forms/', prefix=True)
def responses(req):
    size = int(req.arg('page_size', '25'))
    before = req.arg('before')
    start = 0
    if before:
        tokens = [it['token'] for it in ITEMS]
        start = tokens.index(before) + 1 if before in tokens else len(ITEMS)
    chunk = ITEMS[start:start + size]
    return Response.json({'total_items': len(ITEMS), 'page_count': (len(ITEMS) + size - 1) // size,
                          'items': chunk})
