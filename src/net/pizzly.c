/*-------------------------------------------------------------------------
 *
 * pizzly.c
 *	  OAuth access tokens from Pizzly (Nango's auth server).
 *
 *	  Before a job whose config names a Pizzly connection, the token is
 *	  fetched from GET {nango.pizzly_base_url}/connection/{connection_id}
 *	  ?provider_config_key={key} (Basic auth with nango.pizzly_secret_key
 *	  when set) and written into the job's in-memory config: into the
 *	  ${pizzlyAccessToken} / ${nangoAccessToken} placeholders of the URL,
 *	  the header values, the query parameter values and the body (by
 *	  placeholder.c, which writes the secrets too), or, when there is no
 *	  placeholder, as an "Authorization: Bearer" header.  The templates are
 *	  kept so that a token fetched again after a 401 replaces the first
 *	  one.  Every secret involved is added to the job's redaction set
 *	  before anything can print it.
 *
 *	  The Pizzly server is configured by a superuser, so the network guard
 *	  (nango.allow_private_networks) does not apply to it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <cjson/cJSON.h>

#include "common/base64.h"
#include "lib/stringinfo.h"
#include "utils/memutils.h"

#include "http.h"
#include "nango.h"
#include "pizzly.h"
#include "text.h"

struct NangoPizzly
{
	NangoConfig *cfg;			/* the job's config, rewritten with each token */
	NangoFill  *fill;			/* its templates (placeholder.c) */
	NangoSecrets *secrets;
	MemoryContext cxt;
	NangoHttp  *http;			/* a handle of its own (not the API's) */
	bool		placeholder;	/* some placeholder found: no Bearer header */
};

char *
nango_pizzly_token_from_json(const char *body, size_t len)
{
	cJSON	   *root = cJSON_ParseWithLength(body, len);
	cJSON	   *creds;
	cJSON	   *tok;
	char	   *token = NULL;

	if (root == NULL)
		return NULL;
	creds = cJSON_GetObjectItemCaseSensitive(root, "credentials");
	tok = cJSON_IsObject(creds) ? cJSON_GetObjectItemCaseSensitive(creds, "access_token") : NULL;
	if (cJSON_IsString(tok) && tok->valuestring != NULL && tok->valuestring[0] != '\0')
		token = pstrdup(tok->valuestring);
	cJSON_Delete(root);
	return token;
}

/*
 * check_token: a token must be one line of printable ASCII: it goes into an
 * HTTP header, and a line break there would let Pizzly's answer add headers.
 */
static bool
check_token(const char *token)
{
	const unsigned char *p;

	for (p = (const unsigned char *) token; *p; p++)
		if (*p < 0x21 || *p > 0x7e)
			return false;
	return true;
}

/*
 * pizzly_url: {nango.pizzly_base_url}/connection/{id}?provider_config_key=
 * {key}, both values URL-escaped.  "." and ".." are escaped too, so that a
 * connection id cannot move the request to another path of the server.
 */
static char *
pizzly_url(NangoPizzly *pz)
{
	const char *base = nango_pizzly_base_url;
	int			blen;
	const char *id = pz->cfg->pizzly_connection_id;
	char	   *eid;

	if (base == NULL || base[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the sync uses a Pizzly connection but nango.pizzly_base_url is not set"),
				 errhint("A superuser sets nango.pizzly_base_url (the seed's PIZZLY_BASE_URL) in postgresql.conf, "
						 "e.g. nango.pizzly_base_url = 'https://pizzly.example.com'.")));
	blen = strlen(base);
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	if (strcmp(id, ".") == 0)
		eid = pstrdup("%2E");
	else if (strcmp(id, "..") == 0)
		eid = pstrdup("%2E%2E");
	else
		eid = nango_url_escape(pz->http, id);
	return psprintf("%.*s/connection/%s?provider_config_key=%s", blen, base, eid,
					nango_url_escape(pz->http, pz->cfg->pizzly_provider_config_key));
}

/*
 * fetch_token: one request to Pizzly; returns the access token.  Errors
 * from the request are re-raised naming Pizzly, without the response body
 * (it may hold credentials).
 */
static char *
fetch_token(NangoPizzly *pz)
{
	MemoryContext cxt = CurrentMemoryContext;
	NangoRequest req;
	NangoResponse resp;
	NangoPair	auth;
	char	   *url = pizzly_url(pz);
	char	   *token;

	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.timeout_ms = pz->cfg->timeout_ms > 0 ? pz->cfg->timeout_ms : nango_http_timeout_ms;
	req.retries = 1;
	req.trusted = true;
	if (nango_pizzly_secret_key != NULL && nango_pizzly_secret_key[0] != '\0')
	{
		char	   *plain = psprintf("%s:", nango_pizzly_secret_key);
		int			plen = strlen(plain);
		int			elen = pg_b64_enc_len(plen);
		char	   *enc = palloc0(elen + 1);

		if (pg_b64_encode(plain, plen, enc, elen) < 0)
			elog(ERROR, "could not encode the Pizzly credentials");
		auth.name = "Authorization";
		auth.value = psprintf("Basic %s", enc);
		nango_secrets_add(pz->secrets, enc);
		req.headers = &auth;
		req.nheaders = 1;
	}

	PG_TRY();
	{
		nango_http_fetch(pz->http, &req, &resp);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			ReThrowError(edata);
		ereport(ERROR,
				(errcode(edata->sqlerrcode),
				 errmsg("could not get an access token from Pizzly: %s",
						nango_redact_text(edata->message, pz->secrets)),
				 errhint("Check nango.pizzly_base_url, the sync's pizzly_connection_id and pizzly_provider_config_key, "
						 "and that the Pizzly server is up.")));
	}
	PG_END_TRY();

	token = nango_pizzly_token_from_json(resp.body, resp.body_len);
	if (token == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("could not get an access token from Pizzly: the answer of GET %s has no credentials.access_token",
						nango_redact_url(url, pz->secrets)),
				 errhint("Is the connection \"%s\" of provider configuration \"%s\" authorized in Pizzly?",
						 pz->cfg->pizzly_connection_id, pz->cfg->pizzly_provider_config_key)));
	nango_secrets_add(pz->secrets, token);
	if (!check_token(token))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("could not get an access token from Pizzly: the access token contains spaces or control characters")));
	return token;
}

/*
 * apply_token: rewrites the job's config from the templates with token:
 * into its placeholders, or as the Bearer header, which replaces any
 * Authorization header of the config.
 */
static void
apply_token(NangoPizzly *pz, const char *token)
{
	NangoConfig *cfg = pz->cfg;
	MemoryContext old;
	int			n = 0;

	if (pz->placeholder)
	{
		nango_fill_apply(pz->fill, token);
		return;
	}
	nango_fill_apply(pz->fill, NULL);
	old = MemoryContextSwitchTo(pz->cxt);
	/* the config's headers array has room for one more */
	for (int i = 0; i < cfg->nheaders; i++)
		if (pg_strcasecmp(cfg->headers[i].name, "Authorization") != 0)
			cfg->headers[n++] = cfg->headers[i];
	cfg->headers[n].name = "Authorization";
	cfg->headers[n].value = psprintf("Bearer %s", token);
	cfg->nheaders = n + 1;
	MemoryContextSwitchTo(old);
}

NangoPizzly *
nango_pizzly_begin(NangoConfig *cfg, NangoFill *fill, NangoSecrets *secrets, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	NangoPizzly *pz = palloc0(sizeof(NangoPizzly));

	pz->cfg = cfg;
	pz->fill = fill;
	pz->secrets = secrets;
	pz->cxt = cxt;
	nango_secrets_add(secrets, nango_pizzly_secret_key);
	pz->http = nango_http_create(cxt, secrets);
	pz->placeholder = nango_fill_has_token_placeholder(fill);
	apply_token(pz, fetch_token(pz));
	MemoryContextSwitchTo(old);
	return pz;
}

void
nango_pizzly_refresh(NangoPizzly *pz)
{
	MemoryContext old = MemoryContextSwitchTo(pz->cxt);

	nango_log(NANGO_LOG_INFO, LOG, "nango: the API answered 401: fetching the access token from Pizzly again");
	apply_token(pz, fetch_token(pz));
	MemoryContextSwitchTo(old);
}
