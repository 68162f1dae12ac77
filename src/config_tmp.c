/*-------------------------------------------------------------------------
 *
 * config_tmp.c
 *	  Interim minimal nango_config_parse (no validation) used until the
 *	  real config.c lands; removed then.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/jsonb.h"

#include "config.h"
#include "jsonpath.h"

static char *
get_str(Jsonb *jb, const char *key)
{
	JsonbValue	v;

	if (!nango_jsonb_path_get(jb, key, &v) || v.type == jbvNull)
		return NULL;
	if (v.type == jbvBinary)
		return JsonbToCString(NULL, v.val.binary.data, v.val.binary.len);
	return nango_scalar_text(&v);
}

static void
get_pairs(Jsonb *jb, const char *key, int *n, NangoPair **pairs)
{
	JsonbValue	v;
	JsonbIterator *it;
	JsonbValue	k, val;
	JsonbIteratorToken tok;
	int			cap = 16;

	*n = 0;
	*pairs = palloc(sizeof(NangoPair) * cap);
	if (!nango_jsonb_path_get(jb, key, &v) || v.type != jbvBinary)
		return;
	it = JsonbIteratorInit(v.val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			tok = JsonbIteratorNext(&it, &val, true);
			if (*n < cap && val.type != jbvBinary)
			{
				(*pairs)[*n].name = pnstrdup(k.val.string.val, k.val.string.len);
				(*pairs)[*n].value = nango_scalar_text(&val);
				(*n)++;
			}
		}
	}
}

NangoConfig *
nango_config_parse(const char *url, Jsonb *jb)
{
	NangoConfig *c = palloc0(sizeof(NangoConfig));
	char	   *s;

	c->url = pstrdup(url);
	c->method = get_str(jb, "method") ? asc_toupper(get_str(jb, "method"), 10) : "GET";
	get_pairs(jb, "headers", &c->nheaders, &c->headers);
	get_pairs(jb, "query_params", &c->nparams, &c->params);
	c->body = get_str(jb, "body");
	c->timeout_ms = (s = get_str(jb, "timeout")) ? (int) (atof(s) * 1000) : -1;
	c->retries = (s = get_str(jb, "retries")) ? atoi(s) : 5;
	c->response_path = get_str(jb, "response_path");
	c->unique_key = get_str(jb, "unique_key");
	c->max_total = (s = get_str(jb, "max_total")) ? atoll(s) : 0;
	c->paging_cursor_request_path = get_str(jb, "paging_cursor_request_path");
	if ((s = get_str(jb, "paging_cursor_metadata_response_path")))
		c->paging = NANGO_PAGING_CURSOR_METADATA, c->paging_response_path = s;
	else if ((s = get_str(jb, "paging_cursor_object_response_path")))
		c->paging = NANGO_PAGING_CURSOR_OBJECT, c->paging_response_path = s;
	else if ((s = get_str(jb, "paging_url_path")))
		c->paging = NANGO_PAGING_URL, c->paging_response_path = s;
	else if ((s = get_str(jb, "paging_header_link_rel")))
		c->paging = NANGO_PAGING_LINK, c->paging_response_path = s;
	else if ((s = get_str(jb, "paging_offset_request_path")))
	{
		c->paging = NANGO_PAGING_OFFSET;
		c->paging_offset_request_path = s;
		c->paging_limit_request_path = get_str(jb, "paging_limit_request_path");
		c->paging_limit = atoll(get_str(jb, "paging_limit"));
	}
	else if ((s = get_str(jb, "paging_number_request_path")))
		c->paging = NANGO_PAGING_NUMBER, c->paging_number_request_path = s;
	c->paging_number_start = (s = get_str(jb, "paging_number_start")) ? atoll(s) : 1;
	c->auto_mapping = (s = get_str(jb, "auto_mapping")) ? strcmp(s, "true") == 0 : true;
	c->mapped_table = get_str(jb, "mapped_table");
	c->metadata = get_str(jb, "metadata");
	c->friendly_name = get_str(jb, "friendly_name");
	c->normalized = jb;
	return c;
}
