/*-------------------------------------------------------------------------
 *
 * text.h
 *	  Small string helpers shared by the modules (see text.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_TEXT_H
#define NANGO_TEXT_H

#include "postgres.h"

struct NangoHttp;

/*
 * nango_str_replace: a palloc'd copy of s with every occurrence of from
 * replaced by to.
 */
extern char *nango_str_replace(const char *s, const char *from, const char *to);

/*
 * nango_url_escape: s percent-encoded for a URL query (palloc'd), as
 * libcurl's curl_easy_escape encodes it.  h is not used; callers pass
 * their HTTP handle or NULL.
 */
extern char *nango_url_escape(struct NangoHttp *h, const char *s);

#endif							/* NANGO_TEXT_H */
