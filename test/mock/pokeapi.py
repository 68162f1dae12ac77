"""PokeAPI (reference section 7, example 7): the next page URL is in the
body ("next"), absolute; null on the last page.

GET /pokeapi/api/v2/pokemon?offset=O&limit=L   (default limit 20; 45 pokemon)
GET /pokeapi-rel/pokemon?offset=O&limit=L      next is a path-absolute URL
GET /pokeapi-q/pokemon?offset=O&limit=L        next is a query-only URL
GET /pokeapi-loop/pokemon                       next is always the same URL
"""
from mockcore import route, Response

NAMES = ['bulbasaur', 'ivysaur', 'venusaur', 'charmander', 'charmeleon', 'charizard',
         'squirtle', 'wartortle', 'blastoise', 'caterpie', 'metapod', 'butterfree',
         'weedle', 'kakuna', 'beedrill', 'pidgey', 'pidgeotto', 'pidgeot', 'rattata',
         'raticate', 'spearow', 'fearow', 'ekans', 'arbok', 'pikachu', 'raichu',
         'sandshrew', 'sandslash', 'nidoran-f', 'nidorina', 'nidoqueen', 'nidoran-m',
         'nidorino', 'nidoking', 'clefairy', 'clefable', 'vulpix', 'ninetales',
         'jigglypuff', 'wigglytuff', 'zubat', 'golbat', 'oddish', 'gloom', 'vileplume']


def listing(req, style):
    offset = int(req.arg('offset', '0'))
    limit = int(req.arg('limit', '20'))
    chunk = [{'name': n, 'url': 'https://pokeapi.co/api/v2/pokemon/%d/' % (offset + i + 1)}
             for i, n in enumerate(NAMES[offset:offset + limit])]
    nxt = None
    if offset + limit < len(NAMES):
        q = '?offset=%d&limit=%d' % (offset + limit, limit)
        if style == 'abs':
            nxt = req.base_url + req.path + q
        elif style == 'rel':
            nxt = req.path + q
        elif style == 'q':
            nxt = q
    if style == 'loop':
        nxt = req.base_url + req.path + '?offset=0&limit=%d' % limit
    prev = None if offset == 0 else req.base_url + req.path + '?offset=%d&limit=%d' % (max(0, offset - limit), limit)
    return Response.json({'count': len(NAMES), 'next': nxt, 'previous': prev, 'results': chunk})


@route('/pokeapi/api/v2/pokemon')
def pokemon(req):
    return listing(req, 'abs')


@route('/pokeapi-rel/pokemon')
def pokemon_rel(req):
    return listing(req, 'rel')


@route('/pokeapi-q/pokemon')
def pokemon_q(req):
    return listing(req, 'q')


@route('/pokeapi-loop/pokemon')
def pokemon_loop(req):
    return listing(req, 'loop')
