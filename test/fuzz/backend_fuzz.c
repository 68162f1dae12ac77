/*-------------------------------------------------------------------------
 *
 * backend_fuzz.c
 *	  libFuzzer inside a real PostgreSQL backend, for the parsers that work
 *	  on jsonb:
 *	  - "records": the dot-path lookup (jsonpath.c) and the response-to-
 *		records step as a job runs it (jsonb_in on the body, response_path,
 *		one record per array element, the unique_key of each record);
 *	  - "flatten": the flattener (flatten.c): a record's fields, their
 *		kinds (ISO dates and timestamps sniffed from strings), the column
 *		type they give, their values converted to that type, and column
 *		names (at most 63 bytes, distinct, never a system column's);
 *	  - "parse": the page parser (jsonparse.c) against jsonb_in: whenever
 *		the fast parser accepts a text, jsonb_in must accept it too and
 *		give the same bytes, and every path it marks as a number written
 *		with an exponent must lead to an integral number; a difference
 *		aborts (a finding).
 *
 *	  This file is built into a separate library (test/fuzz/run.sh) with
 *	  nango's jsonpath.c, flatten.c and jsonparse.c, instrumented for
 *	  libFuzzer, and
 *	  loaded into a single-user backend: nango_fuzz(...) hands control to
 *	  LLVMFuzzerRunDriver, which ends the process when its time is up.
 *	  Each input runs in its own memory context inside PG_TRY, as a job's
 *	  page does; an ERROR is an expected outcome, a crash is a finding.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "mb/pg_wchar.h"

#include "flatten.h"
#include "jsonparse.h"
#include "jsonpath.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(nango_fuzz);

extern int	LLVMFuzzerRunDriver(int *argc, char ***argv,
								int (*cb) (const uint8_t *data, size_t size));

static MemoryContext fuzz_cxt;
static bool fuzz_flatten;		/* the "flatten" target */
static bool fuzz_parse;			/* the "parse" target (else "records") */

/* the names picked so far for one record (a short list: records are small) */
typedef struct Names
{
	int			n;
	char	   *names[NANGO_MAX_DATA_COLUMNS];
} Names;

static bool
name_taken(const char *name, void *arg)
{
	Names	   *names = arg;
	int			i;

	if (nango_name_is_system(name))
		return true;
	for (i = 0; i < names->n; i++)
		if (strcmp(names->names[i], name) == 0)
			return true;
	return false;
}

/*
 * flatten: the flattener on one record (the whole input).  Every name it
 * picks must fit in NAMEDATALEN - 1 bytes and be new; a failed check is
 * an abort, i.e. a finding.
 */
static void
flatten(const char *body)
{
	Jsonb	   *jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(body)));
	NangoFlatRecord rec;
	Names		names;
	int			i;

	names.n = 0;
	nango_flatten_jsonb(jb, &rec);
	for (i = 0; i < rec.nfields; i++)
	{
		NangoField *f = &rec.fields[i];
		NangoColType col = nango_coltype_for_kinds(f->kind);
		char	   *name;

		if (nango_kind_fits(col, f->kind))
			(void) nango_field_datum(f, col);
		(void) nango_field_datum(f, NANGO_COL_TEXT);
		if (names.n >= NANGO_MAX_DATA_COLUMNS)
			continue;
		name = nango_pick_name(f->natural, f->ident, name_taken, &names);
		if (strlen(name) >= NAMEDATALEN || name_taken(name, &names))
			abort();
		names.names[names.n++] = name;
	}
}

/*
 * records: the response-to-records step.  Input: "<response_path>\n
 * <unique_key>\n<body>".
 */
static void
records(const char *path, const char *key, const char *body)
{
	Jsonb	   *jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(body)));
	JsonbValue	v;
	int			n;
	int			i;

	if (!nango_jsonb_path_get(jb, path, &v) || v.type != jbvBinary)
		return;
	if (!JsonContainerIsArray(v.val.binary.data))
	{
		(void) JsonbValueToJsonb(&v);
		return;
	}
	n = JsonContainerSize(v.val.binary.data);
	for (i = 0; i < n; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(v.val.binary.data, i);
		Jsonb	   *rec = JsonbValueToJsonb(e);
		JsonbValue	kv;

		if (nango_jsonb_path_get(rec, key, &kv))
			(void) nango_scalar_text(&kv);
	}
}

/*
 * marked_value: the value at a marked path of the parsed text, or NULL.
 */
static JsonbValue *
marked_value(Jsonb *jb, const NangoExpPath *ep)
{
	JsonbContainer *c = &jb->root;
	JsonbValue *v = NULL;

	for (int i = 0; i < ep->nseg; i++)
	{
		const NangoPathSeg *sg = &ep->segs[i];

		if (sg->key != NULL)
		{
			if (!JsonContainerIsObject(c))
				return NULL;
			v = getKeyJsonValueFromContainer(c, sg->key, sg->keylen, NULL);
		}
		else
		{
			if (!JsonContainerIsArray(c) || sg->index < 0)
				return NULL;
			v = getIthJsonbValueFromContainer(c, sg->index);
		}
		if (v == NULL)
			return NULL;
		if (i < ep->nseg - 1)
		{
			if (v->type != jbvBinary)
				return NULL;
			c = v->val.binary.data;
		}
	}
	return v;
}

/*
 * parse: the fast parser against jsonb_in (see the file header).  Input:
 * JSON text.
 */
static void
parse(const char *text, size_t len)
{
	NangoExpMarks *marks = NULL;
	Jsonb	   *volatile fast = NULL;
	Jsonb	   *ref;
	volatile bool fast_failed = false;

	if (!pg_verify_mbstr(PG_UTF8, text, (int) len, true))
		return;
	PG_TRY();
	{
		fast = nango_parse_jsonb_marks(text, len, &marks);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(fuzz_cxt);
		FlushErrorState();
		fast_failed = true;
	}
	PG_END_TRY();
	if (fast_failed)
	{
		/* an ERROR from the fast parser: jsonb_in must refuse the text too */
		PG_TRY();
		{
			(void) DirectFunctionCall1(jsonb_in, CStringGetDatum(text));
		}
		PG_CATCH();
		{
			MemoryContextSwitchTo(fuzz_cxt);
			FlushErrorState();
			return;
		}
		PG_END_TRY();
		abort();
	}
	if (fast == NULL)
	{
		if (marks != NULL)
			abort();			/* marks without a result */
		return;
	}
	/* jsonb_in must accept what the fast parser accepted */
	ref = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
	if (VARSIZE(fast) != VARSIZE(ref) || memcmp(fast, ref, VARSIZE(ref)) != 0)
		abort();
	for (int m = 0; marks != NULL && m < marks->n; m++)
	{
		JsonbValue *v = marked_value(ref, &marks->paths[m]);

		if (v == NULL || v->type != jbvNumeric ||
			!DatumGetBool(DirectFunctionCall2(numeric_eq, NumericGetDatum(v->val.numeric),
											  DirectFunctionCall2(numeric_trunc,
																  NumericGetDatum(v->val.numeric),
																  Int32GetDatum(0)))))
			abort();
	}
}

/*
 * one_input: splits the input into its lines and runs the step; the first
 * two lines are paths, the rest is the body.
 */
static int
one_input(const uint8_t *data, size_t size)
{
	MemoryContext old = MemoryContextSwitchTo(fuzz_cxt);
	char	   *buf = palloc(size + 1);
	char	   *path;
	char	   *key;
	char	   *body;

	memcpy(buf, data, size);
	buf[size] = '\0';
	path = buf;
	key = strchr(path, '\n');
	body = key ? strchr(key + 1, '\n') : NULL;
	if (fuzz_parse)
	{
		/*
		 * An ERROR out of parse is a finding (jsonb_in refused what the
		 * fast parser accepted, or accepted what it refused with an
		 * ERROR): it ends the run without the catch below.
		 */
		if (strlen(buf) == size)
			parse(buf, size);
		MemoryContextSwitchTo(old);
		MemoryContextReset(fuzz_cxt);
		return 0;
	}
	if (strlen(buf) != size ||
		(!fuzz_flatten && (key == NULL || body == NULL)))
	{
		MemoryContextSwitchTo(old);
		MemoryContextReset(fuzz_cxt);
		return 0;
	}
	if (!fuzz_flatten)
	{
		*key++ = '\0';
		*body++ = '\0';
	}
	PG_TRY();
	{
		if (fuzz_flatten)
			flatten(buf);
		else
			records(path, key, body);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(fuzz_cxt);
		FlushErrorState();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	MemoryContextReset(fuzz_cxt);
	return 0;
}

/*
 * nango_fuzz(target text, seconds int, corpus text, dict text, artifacts
 * text): runs libFuzzer; does not return (libFuzzer exits the process).
 */
Datum
nango_fuzz(PG_FUNCTION_ARGS)
{
	char	   *target = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int			secs = PG_GETARG_INT32(1);
	char	   *corpus = text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *dict = text_to_cstring(PG_GETARG_TEXT_PP(3));
	char	   *artifacts = text_to_cstring(PG_GETARG_TEXT_PP(4));
	char	   *argv0[] = {
		"nango_fuzz",
		psprintf("-max_total_time=%d", secs),
		"-max_len=8192",
		"-timeout=10",
		"-print_final_stats=1",
		psprintf("-dict=%s", dict),
		psprintf("-artifact_prefix=%s/", artifacts),
		corpus,
		NULL
	};
	char	  **argv = argv0;
	int			argc = 8;

	fuzz_flatten = strcmp(target, "flatten") == 0;
	fuzz_parse = strcmp(target, "parse") == 0;
	fuzz_cxt = AllocSetContextCreate(TopMemoryContext, "nango fuzz", ALLOCSET_DEFAULT_SIZES);
	LLVMFuzzerRunDriver(&argc, &argv, one_input);
	PG_RETURN_VOID();
}
