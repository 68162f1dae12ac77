/*-------------------------------------------------------------------------
 *
 * configtable.c
 *	  The name of a sync's mapped table (config key mapped_table,
 *	  docs/config.md): [schema.]table read as SQL identifiers, never one of
 *	  nango's own relations, a system schema or another sync's default
 *	  table; and the quoted name stored in nango.syncs.mapped_table.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands/extension.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "config_int.h"

/* nango's own relations in schema nango: never a mapped table. */
static const char *const nango_own_relations[] = {
	"syncs", "jobs", "raw", "_nango_syncs", "_nango_jobs", "_nango_raw",
	"syncs_id_seq", "jobs_id_seq", "raw_id_seq", NULL
};

/*
 * mapped_ident: reads one SQL identifier of a mapped_table name at *s
 * (quoted, or unquoted and then folded to lower case), advancing *s.
 */
static char *
mapped_ident(const char **s, const char *whole)
{
	StringInfoData buf;
	const char *c = *s;

	initStringInfo(&buf);
	if (*c == '"')
	{
		for (c++;; c++)
		{
			if (*c == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_NAME),
						 errmsg("config key \"mapped_table\" is not a valid table name: %s", whole),
						 errdetail("A quoted identifier is not closed."),
						 errhint("Write [schema.]table; quote a part with double quotes when it needs them, e.g. \"My Schema\".items.")));
			if (*c == '"')
			{
				if (c[1] != '"')
					break;
				c++;
			}
			appendStringInfoChar(&buf, *c);
		}
		c++;
	}
	else
	{
		for (; *c && *c != '.'; c++)
		{
			unsigned char ch = (unsigned char) *c;

			if (!(isalpha(ch) || ch == '_' || ch >= 0x80 || (buf.len > 0 && (isdigit(ch) || ch == '$'))))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_NAME),
						 errmsg("config key \"mapped_table\" is not a valid table name: %s", whole),
						 errdetail("Character \"%c\" is not allowed in an unquoted name.", *c),
						 errhint("Write [schema.]table; quote a part with double quotes when it needs them, e.g. \"My Schema\".items.")));
			appendStringInfoChar(&buf, pg_tolower(ch));
		}
	}
	if (buf.len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("config key \"mapped_table\" is not a valid table name: %s", whole),
				 errdetail("A part of the name is empty."),
				 errhint("Write [schema.]table, e.g. \"items\" or \"crm.contacts\".")));
	if (buf.len >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("config key \"mapped_table\" is not a valid table name: %s", whole),
				 errdetail("\"%s\" is longer than %d bytes.", buf.data, NAMEDATALEN - 1)));
	*s = c;
	return buf.data;
}

/*
 * is_default_table_name: true for "_nango_sync_<digits>", the name of a
 * sync's default mapped table in schema nango.  No sync may name another
 * sync's default table (it could create it first and own it).
 */
static bool
is_default_table_name(const char *name)
{
	const char *prefix = "_nango_sync_";
	const char *p;

	if (strncmp(name, prefix, strlen(prefix)) != 0)
		return false;
	p = name + strlen(prefix);
	if (*p == '\0')
		return false;
	for (; *p; p++)
		if (!isdigit((unsigned char) *p))
			return false;
	return true;
}

/*
 * config_read_mapped_table: `mapped_table`: [schema.]table, at most two parts,
 * each at most 63 bytes; never one of nango's own relations nor a system
 * schema.  Sets the resolved schema and table name.
 */
void
config_read_mapped_table(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item)
{
	NangoConfig *cfg = p->cfg;
	const char *whole = config_get_string("mapped_table", item);
	const char *s = whole;
	char	   *first;
	char	   *second = NULL;

	if (*whole == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("config key \"mapped_table\" must not be empty"),
				 errhint("Remove the key for the default nango._nango_sync_<id>, or write [schema.]table.")));
	first = mapped_ident(&s, whole);

	if (*s == '.')
	{
		s++;
		second = mapped_ident(&s, whole);
	}
	if (*s != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("config key \"mapped_table\" is not a valid table name: %s", whole),
				 errdetail("%s", *s == '.' ? "A name has at most two parts: schema and table." : "Unexpected text after the name."),
				 errhint("Write [schema.]table, e.g. \"items\" or \"crm.contacts\".")));

	cfg->mapped_table = pstrdup(whole);
	cfg->mapped_schema = second ? first : pstrdup("nango");
	cfg->mapped_name = second ? second : first;

	if (strncmp(cfg->mapped_schema, "pg_", 3) == 0 ||
		strcmp(cfg->mapped_schema, "information_schema") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_RESERVED_NAME),
				 errmsg("config key \"mapped_table\" names a table in system schema \"%s\"", cfg->mapped_schema),
				 errhint("Choose another schema, or leave the name unqualified to use schema nango.")));
	if (strcmp(cfg->mapped_schema, "nango") == 0)
	{
		bool		own = false;
		Oid			nsp = get_namespace_oid("nango", true);
		Oid			ext = get_extension_oid("nango", true);

		for (int i = 0; nango_own_relations[i]; i++)
			own |= (strcmp(cfg->mapped_name, nango_own_relations[i]) == 0);
		if (!own && OidIsValid(nsp) && OidIsValid(ext))
		{
			Oid			rel = get_relname_relid(cfg->mapped_name, nsp);

			own = OidIsValid(rel) && getExtensionOfObject(RelationRelationId, rel) == ext;
		}
		if (own)
			ereport(ERROR,
					(errcode(ERRCODE_RESERVED_NAME),
					 errmsg("config key \"mapped_table\" names nango's own table nango.%s", cfg->mapped_name),
					 errhint("Choose another name; the default is nango._nango_sync_<id>.")));
		if (is_default_table_name(cfg->mapped_name))
			ereport(ERROR,
					(errcode(ERRCODE_RESERVED_NAME),
					 errmsg("config key \"mapped_table\" names nango.%s, which is reserved for a sync's default table",
							cfg->mapped_name),
					 errhint("Remove the key to use this sync's own default table, or choose another name.")));
	}
}

/*
 * nango_config_mapped_table: the qualified, quoted name of the sync's mapped
 * table, or NULL when auto_mapping is off.
 */
char *
nango_config_mapped_table(const NangoConfig *cfg, int64 sync_id)
{
	if (!cfg->auto_mapping)
		return NULL;
	if (cfg->mapped_name == NULL)
		return psprintf("nango.%s", quote_identifier(psprintf("_nango_sync_" INT64_FORMAT, sync_id)));
	return psprintf("%s.%s", quote_identifier(cfg->mapped_schema), quote_identifier(cfg->mapped_name));
}
