/*-------------------------------------------------------------------------
 *
 * extinfo.h
 *	  What the installed nango extension is: the role that owns it, and
 *	  which columns its tables have (the library may run against an older
 *	  version's tables until ALTER EXTENSION nango UPDATE).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_EXTINFO_H
#define NANGO_EXTINFO_H

#include "postgres.h"

/* Oid of the role that owns the nango extension (it writes nango's tables). */
extern Oid	nango_extension_owner(void);

/*
 * nango_has_column: whether nango.<table> has that column.  Between the
 * installation of a new library and ALTER EXTENSION nango UPDATE, the
 * library runs against the older version's tables: code that uses a column
 * added since checks for it (from the catalog cache, so it is cheap).
 */
extern bool nango_has_column(const char *table, const char *column);

#endif							/* NANGO_EXTINFO_H */
