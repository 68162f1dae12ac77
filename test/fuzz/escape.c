/*-------------------------------------------------------------------------
 *
 * escape.c
 *	  escape_json, which placeholder.c calls, for fuzz targets that cannot
 *	  link the backend: PostgreSQL's function (utils/adt/json.c of
 *	  PostgreSQL 15, not in libpgcommon), copied with its behaviour: the
 *	  value in double quotes, '"' '\\' and \b \f \n \r \t as two-character
 *	  escapes, other bytes below 0x20 as \u00xx, every other byte (UTF-8
 *	  included) as it is.  (nango_url_escape is linked from
 *	  src/common/text.c.)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/json.h"

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
