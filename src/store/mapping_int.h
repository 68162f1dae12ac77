/*-------------------------------------------------------------------------
 *
 * mapping_int.h
 *	  What the files of the mapped-table writer share (mapping.c,
 *	  maptable.c, mapowner.c, mapcolumns.c, mapwrite.c): the open table of
 *	  a job and the functions one file calls in another.  Not for use
 *	  outside these files: the rest of nango uses mapping.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_MAPPING_INT_H
#define NANGO_MAPPING_INT_H

#include "postgres.h"

#include "access/heapam.h"
#include "executor/spi.h"
#include "lib/bloomfilter.h"

#include "flatten.h"
#include "mapping.h"

/* One column of the mapped table. */
typedef struct MapColumn
{
	char	   *name;
	char	   *ident;			/* binding comment, NULL for system and foreign columns */
	NangoColType type;
	bool		is_data;		/* bound to a data path: counts toward the cap */
} MapColumn;

/* String -> index hash (open addressing), for paths and keys. */
typedef struct IdentSlot
{
	const char *key;
	int			val;
} IdentSlot;

typedef struct IdentIndex
{
	int			size;			/* power of two */
	int			count;
	IdentSlot  *slots;
} IdentIndex;

struct NangoMapTable
{
	MemoryContext cxt;			/* this struct and everything of the job */
	MemoryContext colcxt;		/* the column list, rebuilt when it changes */
	int64		sync_id;
	Oid			relid;
	char	   *qualname;		/* quoted schema.table */
	int			ncols;
	MapColumn  *cols;			/* every column, in attnum order */
	int			ndata;
	IdentIndex *index;			/* ident -> position in cols */
	NangoFlatRecord meta;		/* the metadata columns' values */
	MemoryContext metacxt;		/* where meta lives once set again, or NULL */
	bool		cap_logged;
	bool		trunc_logged;
	MemoryContext tmpcxt;		/* one record's flattened fields */
	bool		fresh_checked;	/* whether the sync had rows was checked */
	bloom_filter *inserted;		/* keys this job wrote into a table that
								 * had no row of the sync, or NULL */
	const NangoMapOptions *opts;	/* fields and arrays, or NULL: defaults */
	BulkInsertState ring;		/* the table's new pages (directinsert.h) */
};

/* A column the current page needs and the table lacks. */
typedef struct PendingCol
{
	const char *ident;
	const char *natural;
	int			kinds;
	bool		is_data;
	int			depth;
} PendingCol;

/* Rows per INSERT statement at most. */
#define WRITE_BATCH_ROWS 5000

/* Column arrays of one page, ready to bind. */
typedef struct PageArrays
{
	int			nrows;
	int			nbound;			/* bound columns (with ident) */
	int		   *colidx;			/* their positions in mt->cols */
	Datum	  **values;			/* [nbound][nrows] */
	bool	  **isnull;
	char	  **keys;			/* [nrows], NULL entries allowed */
} PageArrays;

/* mapping.c: the statement cache and DDL through SPI */
extern SPIPlanPtr get_plan(const char *sql, int nargs, Oid *argtypes);
extern void exec_utility(const char *sql);

/* maptable.c: creation and evolution of the table */
extern void load_columns(NangoMapTable *mt);
extern int	column_named(NangoMapTable *mt, const char *name);
extern void resolve_name(int64 sync_id, const char *mapped_table, char **nsp, char **rel);
extern void open_relation(NangoMapTable *mt, const char *mapped_table);
extern bool evolve_schema(NangoMapTable *mt, NangoFlatRecord **flats, int n);

/* mapowner.c: whose table it is, and whose code may run on it */
extern void check_table_owner(Oid relid, const char *qualname, Oid owner);
extern void check_deferred_triggers(Oid relid, const char *qualname, int16 events, const char *hint);

/* mapcolumns.c: records to fields to column values */
extern IdentIndex *ii_create(int n);
extern int	ii_lookup(IdentIndex *ii, const char *key);
extern void ii_set(IdentIndex *ii, const char *key, int val);
extern NangoFlatRecord **flatten_page(NangoMapTable *mt, Jsonb **recs,
									  const NangoNumPaths *const *nps, int n);
extern bool collect_changes(NangoMapTable *mt, NangoFlatRecord **flats, int n,
							int **kinds_out, PendingCol **pend_out, int *npend_out, bool *capped);
extern void fill_arrays(NangoMapTable *mt, int64 job_id, NangoFlatRecord **flats, PageArrays *pa,
						bool stable, NangoMapCounts *counts);

/* mapwrite.c: the page's rows into the table */
extern void write_page(NangoMapTable *mt, int64 job_id, PageArrays *pa, bool upsert,
					   NangoMapCounts *counts);

#endif							/* NANGO_MAPPING_INT_H */
