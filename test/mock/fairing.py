"""Fairing questions (reference section 7, example 8): one request, records
at "data", numeric ids, raw token in the Authorization header.

GET /fairing/api/questions
"""
from mockcore import route, Response


@route('/fairing/api/questions')
def questions(req):
    if not req.headers.get('Authorization'):
        return Response.json({'error': 'unauthorized'}, status=401)
    return Response.json({'data': [
        {'id': 123, 'prompt': 'How did you hear about us?', 'type': 'single_response',
         'response_options': [{'id': 1, 'value': 'Facebook'}, {'id': 2, 'value': 'Podcast'}],
         'published_at': '2022-11-02T15:00:00Z', 'inserted_at': '2022-11-01T09:30:00Z'},
        {'id': 124, 'prompt': 'What else?', 'type': 'open_ended', 'response_options': [],
         'published_at': None, 'inserted_at': '2022-11-03T09:30:00Z'},
        {'id': 18446744073709551616, 'prompt': 'Big id', 'type': 'open_ended',
         'response_options': [], 'published_at': None, 'inserted_at': '2022-11-03T09:30:00Z'}]})
