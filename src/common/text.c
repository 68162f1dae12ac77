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
 * nango_url_escape: see text.h.  Every byte but the unreserved characters
 * of RFC 3986 (ASCII letters and digits, '-', '.', '_', '~') is written as
 * %XX with upper-case hex digits, as libcurl's curl_easy_escape does.
 */
char *
nango_url_escape(struct NangoHttp *h, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	StringInfoData buf;

	initStringInfo(&buf);
	for (const unsigned char *c = (const unsigned char *) s; *c; c++)
	{
		if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
			*c == '-' || *c == '.' || *c == '_' || *c == '~')
			appendStringInfoChar(&buf, (char) *c);
		else
		{
			appendStringInfoChar(&buf, '%');
			appendStringInfoChar(&buf, hex[*c >> 4]);
			appendStringInfoChar(&buf, hex[*c & 15]);
		}
	}
	return buf.data;
}
