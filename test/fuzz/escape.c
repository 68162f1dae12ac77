/*-------------------------------------------------------------------------
 *
 * escape.c
 *	  The two escaping functions placeholder.c calls, for fuzz targets that
 *	  cannot link their real homes:
 *	  - escape_json: PostgreSQL's backend function (utils/adt/json.c of
 *	    PostgreSQL 15, not in libpgcommon), copied with its behaviour: the
 *	    value in double quotes, '"' '\\' and \b \f \n \r \t as two-character
 *	    escapes, other bytes below 0x20 as \u00xx, every other byte (UTF-8
 *	    included) as it is;
 *	  - nango_url_escape: the body of src/http.c's (which needs all of the
 *	    HTTP client): curl_easy_escape, copied into palloc'd memory; the
 *	    handle is unused, as when src/ calls it with NULL.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "lib/stringinfo.h"
#include "utils/json.h"

#include "http.h"

/* escape_json: str as a JSON string literal (see the banner). */
void
escape_json(StringInfo buf, const char *str)
{
	const char *p;

	appendStringInfoCharMacro(buf, '"');
	for (p = str; *p; p++)
	{
		switch (*p)
		{
			case '\b':
				appendStringInfoString(buf, "\\b");
				break;
			case '\f':
				appendStringInfoString(buf, "\\f");
				break;
			case '\n':
				appendStringInfoString(buf, "\\n");
				break;
			case '\r':
				appendStringInfoString(buf, "\\r");
				break;
			case '\t':
				appendStringInfoString(buf, "\\t");
				break;
			case '"':
				appendStringInfoString(buf, "\\\"");
				break;
			case '\\':
				appendStringInfoString(buf, "\\\\");
				break;
			default:
				if ((unsigned char) *p < ' ')
					appendStringInfo(buf, "\\u%04x", (int) *p);
				else
					appendStringInfoCharMacro(buf, *p);
				break;
		}
	}
	appendStringInfoCharMacro(buf, '"');
}

/* nango_url_escape: s percent-encoded, as src/http.c does it. */
char *
nango_url_escape(NangoHttp *h, const char *s)
{
	char	   *e = curl_easy_escape(NULL, s, (int) strlen(s));
	char	   *r;

	if (e == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	r = pstrdup(e);
	curl_free(e);
	return r;
}
