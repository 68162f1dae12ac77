/*-------------------------------------------------------------------------
 *
 * classcount.c
 *	  Counting each distinct key of an upsert job once, across the
 *	  checkpoints of the job (docs/config.md#checkpoint).
 *
 *	  The store remembers how it classified each record in a sort of
 *	  64-bit values (a hash of the key with the class in the two low bits,
 *	  store.c).  The sort's temporary file belongs to the transaction, so
 *	  a checkpoint, which commits, must end it.  What the ended sorts
 *	  counted is kept here: one value per distinct key (its hash and the
 *	  strongest class it had), in key-hash order, in a temporary file that
 *	  outlives the job's transactions (a BufFile opened across
 *	  transactions, closed when the job's memory context goes, whatever
 *	  ended the job).  Each checkpoint merges the sorted values of its part
 *	  of the job into it, so a key counted before a checkpoint is not
 *	  counted again after it (a stronger class moves its count), and
 *	  memory stays flat: the merge streams both sides.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/buffile.h"
#include "utils/memutils.h"
#include "utils/tuplesort.h"

#include "classcount.h"

/* A value's class (the two low bits): lower is stronger (store.c). */
#define CLASS_MASK	UINT64CONST(3)

/* The counted keys of the job's earlier parts. */
struct NangoClassCounted
{
	BufFile    *file;			/* int64 values, sorted, one per key, or NULL */
	int64		n;				/* values in file */
	MemoryContext cxt;			/* the job's: file and this struct */
	MemoryContextCallback cb;	/* closes file with the job's memory */
};

/* close_counted: the memory context callback (and the normal end). */
static void
close_counted(void *arg)
{
	NangoClassCounted *cc = (NangoClassCounted *) arg;

	if (cc->file != NULL)
		BufFileClose(cc->file);
	cc->file = NULL;
}

/*
 * counted_file: a new, empty temporary file that outlives the job's
 * transactions, in cc's context.
 */
static BufFile *
counted_file(NangoClassCounted *cc)
{
	MemoryContext old = MemoryContextSwitchTo(cc->cxt);
	BufFile    *f = BufFileCreateTemp(true);

	MemoryContextSwitchTo(old);
	return f;
}

/* count_class: one key more (delta 1) or less (-1) in class cls. */
static void
count_class(NangoCounts *c, uint64 cls, int delta)
{
	if (cls == 0)
		c->added += delta;
	else if (cls == 1)
		c->updated += delta;
	else
		c->unchanged += delta;
}

/* A source of the merge: the kept file, or the part's sort. */
typedef struct MergeInput
{
	bool		have;
	int64		v;
} MergeInput;

/* next_kept: the kept file's next value. */
static void
next_kept(NangoClassCounted *cc, int64 *left, MergeInput *in)
{
	in->have = *left > 0;
	if (!in->have)
		return;
	if (BufFileRead(cc->file, &in->v, sizeof(int64)) != sizeof(int64))
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read the job's counted keys from a temporary file")));
	(*left)--;
}

/* next_sorted: the part's sort's next value. */
static void
next_sorted(Tuplesortstate *ts, MergeInput *in)
{
	Datum		d;
	bool		isnull;

	in->have = tuplesort_getdatum(ts, true, &d, &isnull, NULL);
	if (in->have)
		in->v = DatumGetInt64(d);
}

/*
 * nango_classcount_create: see classcount.h.  The file is closed when cxt
 * is reset or deleted (a failed job included).
 */
NangoClassCounted *
nango_classcount_create(MemoryContext cxt)
{
	NangoClassCounted *cc = MemoryContextAllocZero(cxt, sizeof(NangoClassCounted));

	cc->cxt = cxt;
	cc->cb.func = close_counted;
	cc->cb.arg = cc;
	MemoryContextRegisterResetCallback(cxt, &cc->cb);
	return cc;
}

/*
 * nango_classcount_merge: see classcount.h.  Keys are groups of values
 * that differ only in the class bits; the sort and the file are both in
 * the signed order of the sort's operator, in which a group is contiguous.
 */
void
nango_classcount_merge(NangoClassCounted *cc, Tuplesortstate *ts, NangoCounts *c, bool keep)
{
	BufFile    *out = keep ? counted_file(cc) : NULL;
	int64		nout = 0;
	int64		left = cc->file ? cc->n : 0;
	MergeInput	a = {0},
				b = {0};

	if (cc->file != NULL && BufFileSeek(cc->file, 0, 0, SEEK_SET) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not rewind the job's counted keys in a temporary file")));
	next_kept(cc, &left, &a);
	next_sorted(ts, &b);
	while (a.have || b.have)
	{
		uint64		group = (uint64) (a.have && (!b.have || a.v <= b.v) ? a.v : b.v) & ~CLASS_MASK;
		uint64		best = CLASS_MASK;
		uint64		was = CLASS_MASK + 1;	/* none counted before */
		int64		entries = 0;
		int64		v;

		while (a.have && ((uint64) a.v & ~CLASS_MASK) == group)
		{
			was = (uint64) a.v & CLASS_MASK;
			best = Min(best, was);
			entries++;
			next_kept(cc, &left, &a);
		}
		while (b.have && ((uint64) b.v & ~CLASS_MASK) == group)
		{
			best = Min(best, (uint64) b.v & CLASS_MASK);
			entries++;
			next_sorted(ts, &b);
		}
		if (was <= CLASS_MASK && was != best)
			count_class(c, was, -1);
		if (was > CLASS_MASK || was != best)
			count_class(c, best, 1);
		c->duplicate += entries - 1;	/* the key came back on a later page */
		if (out != NULL)
		{
			v = (int64) (group | best);
			BufFileWrite(out, &v, sizeof(int64));
			nout++;
		}
	}
	close_counted(cc);
	cc->file = out;
	cc->n = nout;
}
