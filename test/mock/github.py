"""GitHub REST v3 (reference section 7, examples 1 and 2): a top-level array
per page, paging by the Link header.

GET /github/repos/{owner}/{repo}/stargazers?per_page=N&page=P
  95 stargazers, per_page default 30 (max 100).  Link:
  <...page=2>; rel="next", <...page=4>; rel="last" (prev/first from page 2).
GET /github/users/{user}/repos?per_page=N&page=P  (overwrite example)
  12 repos with nested owner/license, ISO dates.
GET /github/odd/stargazers?page=P
  Link variations: several Link header lines, rel values unquoted and in a
  rel list ("next nofollow"), links in any order, relative URLs, spaces.
"""
from mockcore import route, Response

USERS = [{'login': 'user%d' % i, 'id': 1000 + i, 'node_id': 'MDQ6VXNlcj%d' % i,
          'avatar_url': 'https://avatars.example.com/u/%d?v=4' % i, 'gravatar_id': '',
          'url': 'https://api.github.com/users/user%d' % i,
          'html_url': 'https://github.com/user%d' % i, 'type': 'User', 'site_admin': False}
         for i in range(1, 96)]

REPOS = [{'id': 5000 + i, 'name': 'repo%d' % i, 'full_name': 'octocat/repo%d' % i,
          'private': False, 'owner': {'login': 'octocat', 'id': 1},
          'license': None if i % 3 else {'key': 'mit', 'name': 'MIT License'},
          'topics': ['api', 'sync'] if i % 2 else [],
          'created_at': '2011-01-26T19:01:12Z', 'updated_at': '2023-0%d-01T00:00:00Z' % (i % 9 + 1),
          'pushed_at': '2023-01-01T00:00:00Z', 'stargazers_count': i * 7, 'forks_count': i}
         for i in range(1, 13)]


def paginate(req, items, base):
    per_page = max(1, min(int(req.arg('per_page', '30')), 100))
    page = max(1, int(req.arg('page', '1')))
    last = max(1, (len(items) + per_page - 1) // per_page)
    chunk = items[(page - 1) * per_page: page * per_page]

    def link(p):
        return '<%s%s?per_page=%d&page=%d>' % (req.base_url, base, per_page, p)
    links = []
    if page < last:
        links.append(link(page + 1) + '; rel="next"')
        links.append(link(last) + '; rel="last"')
    if page > 1:
        links.append(link(page - 1) + '; rel="prev"')
        links.append(link(1) + '; rel="first"')
    headers = {'Link': ', '.join(links)} if links else {}
    return Response.json(chunk, headers=headers)


@route('/github/repos/', prefix=True)
def stargazers(req):
    if not req.path.endswith('/stargazers'):
        return Response.json({'message': 'Not Found'}, status=404)
    return paginate(req, USERS, req.path)


@route('/github/users/', prefix=True)
def user_repos(req):
    return paginate(req, REPOS, req.path)


@route('/github/odd/stargazers')
def odd(req):
    page = int(req.arg('page', '1'))
    chunk = USERS[(page - 1) * 10: page * 10][:10] if page <= 3 else []
    headers = {}
    if page == 1:
        # two header lines, unquoted rel in a rel list, relative URL
        headers['Link'] = ['</github/odd/stargazers?page=1>; rel=first',
                           '</github/odd/stargazers?page=3> ; rel="last",  '
                           '<stargazers?page=2>;title="a, b; c";rel="next nofollow"']
    elif page == 2:
        # next after prev, query-only relative URL, odd spacing and case
        headers['Link'] = '<?page=1>; REL="prev" ,<?page=3>;  rel = "next"'
    else:
        headers['Link'] = '</github/odd/stargazers?page=1>; rel="first"'
    return Response.json(chunk, headers=headers)
