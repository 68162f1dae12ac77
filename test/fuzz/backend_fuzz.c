/*-------------------------------------------------------------------------
 *
 * backend_fuzz.c
 *	  libFuzzer inside a real PostgreSQL backend, for the parsers that work
 *	  on jsonb: the dot-path lookup (jsonpath.c) and the response-to-records
 *	  step as a job runs it (jsonb_in on the body, response_path, one
 *	  record per array element, the unique_key of each record).
 *
 *	  This file is built into a separate library (test/fuzz/run.sh) with
 *	  nango's jsonpath.c, instrumented for libFuzzer, and loaded into a
 *	  single-user backend: nango_fuzz(target, seconds) hands control to
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

#include "jsonpath.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(nango_fuzz);

extern int	LLVMFuzzerRunDriver(int *argc, char ***argv,
								int (*cb) (const uint8_t *data, size_t size));

static MemoryContext fuzz_cxt;

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
	if (key == NULL || body == NULL || strlen(body + 1) != size - (body + 1 - buf))
	{
		MemoryContextSwitchTo(old);
		MemoryContextReset(fuzz_cxt);
		return 0;
	}
	*key++ = '\0';
	*body++ = '\0';
	PG_TRY();
	{
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
 * nango_fuzz(seconds int, corpus text, dict text, artifacts text): runs
 * libFuzzer; does not return (libFuzzer exits the process).
 */
Datum
nango_fuzz(PG_FUNCTION_ARGS)
{
	int			secs = PG_GETARG_INT32(0);
	char	   *corpus = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *dict = text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *artifacts = text_to_cstring(PG_GETARG_TEXT_PP(3));
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

	fuzz_cxt = AllocSetContextCreate(TopMemoryContext, "nango fuzz", ALLOCSET_DEFAULT_SIZES);
	LLVMFuzzerRunDriver(&argc, &argv, one_input);
	PG_RETURN_VOID();
}
