"""Nested APIs for child syncs (docs/config.md): a parent list and, for
each parent record, a paged list of children.

GitHub-like (Link paging):
GET /children/gh/repos?set=a|b
  set a: octo/alpha (id 11), octo/beta (id 12), octo/gone (id 13, its
  issues answer 404), an entry without full_name (id 14); set b: alpha only.
GET /children/gh/repos/{owner}/{name}/issues?page=P[&since=T]
  two pages of two issues; issue ids 1..4 under every repository (the same
  id under two repositories); each issue has updated_at; since= keeps the
  issues updated after T.  The query string of every request is logged.

HubSpot-like (cursor in the body, after= in the query):
GET /children/hs/deals
  deals 301 and 302.
GET /children/hs/deals/{id}/associations?after=C
  deal 301: three line items on two pages; deal 302: one line item.

Slack-like (POST body cursor):
GET /children/slack/channels
  {"channels": [{"id": "C1", "name": "general"}, {"id": "C2", "name": "random"}]}
POST /children/slack/history  body {"channel": ..., "cursor": ...}
  C1: three messages on two pages (next_cursor "p2"); C2: one message.

Concurrency (chains answering out of order), state per ?run=, cleared
by POST /__reset:
GET /children/conc/parents?n=N
  N parents {"id": i, "pages": K}: K is 1 for parent 1, 7 for parents 9
  and 10, 3 for the others.
GET /children/conc/items/{id}?run=R&pages=K&page=P&step_ms=S&n=N[&gone=G][&fail=F]
  page P of K (Link paging) of two records {"n", "parent", "page"} (n
  the same under every parent), answered after (N + 1 - id) * S ms
  (default 15): later parents answer first.  Parent G answers 404, parent
  F answers 500 on its last page.  Arrival times, the most requests in
  flight at once, and the most requests for a page after the first in
  flight at once (chains paging side by side) are recorded.
GET /children/conc/report?run=R
  {"times": [...], "max_in_flight": m, "max_later_in_flight": l}

Benchmark (bench/children.sh serves the same two routes with
bench/children_mock.py, which costs less per request):
GET /children/bench/parents?n=N
  N parents {"id": i}.
GET /children/bench/items/{id}?page=P&delay_ms=D
  two pages of 5 items per parent, each answered after D ms (default 50).
"""

import threading
import time
import urllib.parse

from mockcore import route, on_reset, Response

REPO_SETS = {
    'a': [{'id': 11, 'full_name': 'octo/alpha'}, {'id': 12, 'full_name': 'octo/beta'},
          {'id': 13, 'full_name': 'octo/gone'}, {'id': 14, 'name': 'nameless'}],
    'b': [{'id': 11, 'full_name': 'octo/alpha'}],
}

@route('/children/gh/repos')
def gh_repos(req):
    return Response.json(REPO_SETS.get(req.arg('set', 'a'), []))

@route('/children/gh/repos/', prefix=True)
def gh_issues(req):
    parts = req.path.split('/')
    # /children/gh/repos/{owner}/{name}/issues
    if len(parts) != 7 or parts[6] != 'issues':
        return Response.json({'message': 'Not Found'}, status=404)
    repo = parts[4] + '/' + parts[5]
    if repo == 'octo/gone':
        return Response.json({'message': 'Not Found'}, status=404)
    page = int(req.arg('page', '1'))
    issues = [{'id': i, 'number': i, 'title': '%s #%d' % (repo, i),
               'updated_at': '2024-01-0%dT00:00:00Z' % i} for i in range(1, 5)]
    since = req.arg('since')
    if since:
        issues = [x for x in issues if x['updated_at'] > since]
    chunk = issues[(page - 1) * 2: page * 2]
    headers = {}
    if page * 2 < len(issues):
        q = 'page=%d' % (page + 1)
        if since:
            q += '&since=' + since
        headers['Link'] = '<%s%s?%s>; rel="next"' % (req.base_url, req.path, q)
    return Response.json(chunk, headers=headers)

@route('/children/hs/deals')
def hs_deals(req):
    return Response.json({'results': [{'id': '301', 'dealname': 'Big'},
                                      {'id': '302', 'dealname': 'Small'}]})

@route('/children/hs/deals/', prefix=True)
def hs_associations(req):
    deal = req.path.split('/')[4]
    items = {'301': ['9001', '9002', '9003'], '302': ['9001']}.get(deal)
    if items is None:
        return Response.json({'status': 'error'}, status=404)
    after = int(req.arg('after', '0'))
    chunk = items[after: after + 2]
    body = {'results': [{'id': i, 'type': 'deal_to_line_item'} for i in chunk]}
    if after + 2 < len(items):
        body['paging'] = {'next': {'after': str(after + 2)}}
    return Response.json(body)

@route('/children/slack/channels')
def slack_channels(req):
    return Response.json({'ok': True, 'channels': [{'id': 'C1', 'name': 'general'},
                                                   {'id': 'C2', 'name': 'random'}]})

@route('/children/slack/history')
def slack_history(req):
    body = req.json() or {}
    msgs = {'C1': ['hello', 'how are you', 'bye'], 'C2': ['random thought']}.get(body.get('channel'))
    if msgs is None:
        return Response.json({'ok': False, 'error': 'channel_not_found'}, status=404)
    start = 2 if body.get('cursor') == 'p2' else 0
    chunk = msgs[start: start + 2]
    out = {'ok': True, 'messages': [{'ts': '%s.%d' % (body['channel'], start + i), 'text': t}
                                    for i, t in enumerate(chunk)],
           'response_metadata': {'next_cursor': 'p2' if start == 0 and len(msgs) > 2 else ''}}
    return Response.json(out)

@route('/children/bench/parents')
def bench_parents(req):
    return Response.json([{'id': i} for i in range(1, int(req.arg('n', '200')) + 1)])

@route('/children/bench/items/', prefix=True)
def bench_items(req):
    pid = req.path.rsplit('/', 1)[1]
    page = int(req.arg('page', '1'))
    delay = int(req.arg('delay_ms', '50')) / 1000.0
    items = [{'id': '%s-%d-%d' % (pid, page, i), 'v': i} for i in range(5)]
    headers = {}
    if page == 1:
        headers['Link'] = '<%s%s?page=2&delay_ms=%d>; rel="next"' % (
            req.base_url, req.path, int(delay * 1000))
    return Response.json(items, headers=headers, delay=delay)


CONC = {}
CONC_LOCK = threading.Lock()


@on_reset
def conc_reset():
    with CONC_LOCK:
        CONC.clear()


@route('/children/conc/parents')
def conc_parents(req):
    n = int(req.arg('n', '10'))
    return Response.json([{'id': i, 'pages': 1 if i == 1 else 7 if i in (9, 10) else 3}
                          for i in range(1, n + 1)])


@route('/children/conc/items/', prefix=True)
def conc_items(req):
    pid = int(req.path.rsplit('/', 1)[1])
    run = req.arg('run', '')
    page = int(req.arg('page', '1'))
    pages = int(req.arg('pages', '1'))
    later = 1 if page > 1 else 0
    with CONC_LOCK:
        st = CONC.setdefault(run, {'times': [], 'in_flight': 0, 'max_in_flight': 0,
                                   'later': 0, 'max_later_in_flight': 0})
        st['times'].append(time.time())
        st['in_flight'] += 1
        st['later'] += later
        st['max_in_flight'] = max(st['max_in_flight'], st['in_flight'])
        st['max_later_in_flight'] = max(st['max_later_in_flight'], st['later'])
    try:
        n = int(req.arg('n', '10'))
        time.sleep((n + 1 - pid) * int(req.arg('step_ms', '15')) / 1000.0)
    finally:
        with CONC_LOCK:
            st['in_flight'] -= 1
            st['later'] -= later
    if str(pid) == req.arg('gone'):
        return Response.json({'message': 'Not Found'}, status=404)
    if str(pid) == req.arg('fail') and page == pages:
        return Response.json({'message': 'boom'}, status=500)
    items = [{'n': (page - 1) * 2 + i, 'parent': pid, 'page': page} for i in range(2)]
    headers = {}
    if page < pages:
        q = [(k, v) for k, v in urllib.parse.parse_qsl(req.raw_query) if k != 'page']
        q.append(('page', str(page + 1)))
        headers['Link'] = '<%s%s?%s>; rel="next"' % (req.base_url, req.path,
                                                    urllib.parse.urlencode(q))
    return Response.json(items, headers=headers)


@route('/children/conc/report')
def conc_report(req):
    with CONC_LOCK:
        st = CONC.get(req.arg('run', ''), {'times': [], 'max_in_flight': 0,
                                           'max_later_in_flight': 0})
        return Response.json({'times': list(st['times']), 'max_in_flight': st['max_in_flight'],
                              'max_later_in_flight': st['max_later_in_flight']})
