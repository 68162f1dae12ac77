/*-------------------------------------------------------------------------
 *
 * fuzz_pizzly.c
 *	  Fuzz target: reading the access token from a Pizzly answer
 *	  (nango_pizzly_token_from_json, pizzly.c) and the placeholder
 *	  replacement (nango_str_replace, text.c).  Input: the answer's body.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pizzly.h"
#include "shim.h"
#include "text.h"

typedef struct Args
{
	const char *body;
	size_t		len;
	char	   *token;
	char	   *filled;
} Args;

static void
run(void *p)
{
	Args	   *a = p;

	a->token = nango_pizzly_token_from_json(a->body, a->len);
	if (a->token != NULL)
		a->filled = nango_str_replace(a->body, NANGO_PIZZLY_PLACEHOLDER, a->token);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *buf = malloc(size + 1);
	Args		a;

	memcpy(buf, data, size);
	buf[size] = '\0';
	memset(&a, 0, sizeof(a));
	a.body = buf;
	a.len = size;
	if (fuzz_try(run, &a) && a.token != NULL && a.token[0] == '\0')
	{
		fprintf(stderr, "an empty token was accepted\n");
		abort();
	}
	fuzz_reset();
	free(buf);
	return 0;
}
