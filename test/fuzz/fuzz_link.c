/*-------------------------------------------------------------------------
 *
 * fuzz_link.c
 *	  Fuzz target: the Link header parser (nango_link_find, paging.c), which
 *	  reads a header an API sends.  Input: "<rel>\n<header>".  Checks that
 *	  a URL found is a piece of the header.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "paging.h"
#include "shim.h"

typedef struct Args
{
	const char *header;
	const char *rel;
	char	   *found;
} Args;

static void
run(void *p)
{
	Args	   *a = p;

	a->found = nango_link_find(a->header, a->rel);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *buf = malloc(size + 1);
	char	   *nl;
	Args		a;

	memcpy(buf, data, size);
	buf[size] = '\0';
	nl = strchr(buf, '\n');
	if (nl != NULL)
	{
		*nl = '\0';
		a.rel = buf;
		a.header = nl + 1;
	}
	else
	{
		a.rel = "next";
		a.header = buf;
	}
	a.found = NULL;
	if (fuzz_try(run, &a) && a.found != NULL && strstr(a.header, a.found) == NULL)
	{
		fprintf(stderr, "nango_link_find returned text that is not in the header\n");
		abort();
	}
	fuzz_reset();
	free(buf);
	return 0;
}
