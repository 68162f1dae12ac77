/*-------------------------------------------------------------------------
 *
 * text.c
 *	  Small string helpers shared by the modules: replacing every
 *	  occurrence of a substring, and percent-encoding for a URL query.
 *	  Pure functions of their arguments: no SQL, no request, no state.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "lib/stringinfo.h"

#include "text.h"

/* nango_str_replace: see text.h. */
char *
nango_str_replace(const char *s, const char *from, const char *to)
{
	StringInfoData buf;
	size_t		flen = strlen(from);
	const char *hit;

	initStringInfo(&buf);
	while ((hit = strstr(s, from)) != NULL)
	{
		appendBinaryStringInfo(&buf, s, hit - s);
		appendStringInfoString(&buf, to);
		s = hit + flen;
	}
	appendStringInfoString(&buf, s);
	return buf.data;
}

/*
 * nango_url_escape: see text.h.  libcurl ignores the handle of
 * curl_easy_escape (since 7.82), so none is needed here.
 */
char *
nango_url_escape(struct NangoHttp *h, const char *s)
{
	char	   *e = curl_easy_escape(NULL, s, (int) strlen(s));
	char	   *r;

	if (e == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	r = pstrdup(e);
	curl_free(e);
	return r;
}
