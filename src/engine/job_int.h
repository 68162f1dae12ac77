/*-------------------------------------------------------------------------
 *
 * job_int.h
 *	  Internals of the job engine shared by its files: job.c (a job from its
 *	  row to its outcome), pages.c (the page loop), records.c (a page's
 *	  records), children.c (child syncs), outcome.c (the job's final row)
 *	  and preview.c (nango.preview).  Nothing outside src/engine includes
 *	  this header; other modules use job.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_JOB_INT_H
#define NANGO_JOB_INT_H

#include "postgres.h"

#include "storage/lock.h"
#include "utils/jsonb.h"
#include "utils/resowner.h"

#include "catalog.h"
#include "config.h"
#include "credentials.h"
#include "http.h"
#include "incremental.h"
#include "job.h"
#include "jsonparse.h"
#include "mapping.h"
#include "paging.h"
#include "pizzly.h"
#include "placeholder.h"
#include "store.h"

/* What a running job knows; read again by the error path. */
typedef struct JobRun
{
	int64		job_id;
	int64		sync_id;
	Oid			owner;
	Oid			caller;			/* the role the job runs for: see
								 * nango_push_owner */
	char	   *name;			/* "12 (My Sync)" or "12": see nango_sync_label */
	const NangoConfig *cfg;
	NangoSecrets secrets;
	NangoHttp  *http;
	NangoPizzly *pizzly;		/* Pizzly token source, or NULL */
	NangoFill  *fill;			/* the config's placeholders, or NULL */
	NangoCounts counts;
	int			page;			/* page being fetched (1-based), 0 before */
	char	   *url;			/* redacted URL of the current request */
	char	   *method;
	char	   *trigger;		/* the job row's trigger, or NULL */
	TimestampTz started_at;		/* the job row's started_at */
	int64		nul_replaced;	/* \u0000 escapes replaced by U+FFFD */
	int64		long_keys;		/* records skipped for a too long unique key */
	int64		key_missing;	/* records skipped: no value at unique_key */
	int64		key_unusable;	/* records skipped: null, object or array key */
	int64		keyed;			/* records with a usable unique key */
	char	   *key_suggestion; /* the key path closest to unique_key of the
								 * first record without one (outercxt) */
	bool		manual;			/* run_sync: warnings go to the caller */
	NangoIncremental *incr;		/* incremental sync, or NULL */
	bool		truncated;		/* paging stopped by max_total */
	/* a child sync (docs/config.md): the chain of the current parent record */
	const NangoConfig *chain_cfg;	/* the requests for that record, or NULL */
	const char *parent_key;		/* its unique key */
	Jsonb	   *chain_parent;	/* its record */
	bool		gone;			/* its first request answered 404 or 410 */
	int64		skipped_parents;	/* parent records without children fetched */
	int64		withheld;		/* the same count of the child job's other handles */
	MemoryContext chaincxt;		/* reset for each parent record */
	List	   *warnings;		/* distinct warning lines (outercxt) */
	bool		warnings_capped;	/* lines past NANGO_MAX_WARNINGS dropped */
	/* checkpoints (checkpoint.c): NULL when the job does not checkpoint */
	struct JobCheckpoint *ckpt;
	int64		pass_fetched;	/* records fetched by earlier jobs of the pass */
	ResourceOwner topowner;		/* of the transaction the job's
								 * subtransaction is in (a new one after
								 * each checkpoint) */
	int			pinned;			/* GUC nesting level of the search_path pin */
	MemoryContext outercxt;		/* outlives the job's subtransaction */
	MemoryContext jobcxt;
	MemoryContext pagecxt;
	/* page memos (pagememo.c): NULL when the job does not use them */
	struct JobMemo *memo;
	int64		warn_calls;		/* nango_job_warn calls, repeated lines too */
} JobRun;


/*
 * The longest usable unique key, in bytes: a btree index entry must fit in
 * a third of a page (about 2700 bytes), and the key shares it with the
 * sync id (nango.raw and the mapped table's unique constraint).
 */
#define NANGO_MAX_KEY_BYTES 2000

/* Records of a page, as separate Jsonb values. */
typedef struct PageRecords
{
	int			n;
	Jsonb	  **records;
	char	  **keys;
	NangoNumPaths **numpaths;	/* NULL, or per record its fields written as
								 * 1e3 (NULL for a record without any) */
	int			received;		/* records received, before key filtering */
	JsonbValue	last;			/* the page's last record, for the object cursor */
	uint64		hash;			/* hash of the records' content (loop check) */
	bool		missing;		/* response_path missing: end of data */
} PageRecords;

/* job.c: the credentials a job's requests carry */
extern void job_collect_secrets(JobRun *run);
extern void job_set_rate_limit(JobRun *run);
extern void job_apply_credentials(JobRun *run);

/* job.c: the lock that serializes the jobs of a sync */
extern void job_lock_tag(LOCKTAG *tag, int64 sync_id);

/* checkpoint.c: checkpoints of long jobs (docs/config.md#checkpoint) */
typedef struct JobCheckpoint JobCheckpoint;
extern void job_checkpoint_begin(JobRun *run, const char *url, Jsonb *config);
extern void job_checkpoint_restore(JobRun *run, NangoPager *pager);
extern void job_checkpoint_page(JobRun *run, NangoPager *pager, NangoStore *st);
extern char *job_checkpoint_resume_parent(JobRun *run, int *done, Jsonb **incr_done);
extern bool job_checkpoint_due(JobRun *run);
extern void job_checkpoint_parent(JobRun *run, NangoStore *st, const char *key, int done,
								  Jsonb *incr_done);
extern void job_checkpoint_seen(JobRun *run, NangoStore *st);
extern void job_checkpoint_done(JobRun *run);
extern bool job_checkpoint_failed(JobRun *run, bool *in_commit);
extern void job_checkpoint_note_start(JobRun *run);

/* pagingstate.c: a pager's state as checkpoints and page memos store it */
extern char *job_secret_encode_url(JobRun *run, const char *url);
extern char *job_secret_decode_url(JobRun *run, const char *stored);
extern char *job_paging_text(Jsonb *paging, const char *key);
extern Jsonb *job_paging_state(JobRun *run, NangoPager *pager);
extern Jsonb *job_paging_parent_state(const char *key);
extern bool job_paging_restore(JobRun *run, NangoPager *pager, Jsonb *p);

/* pagememo.c: skipping the pages unchanged since the last pass (docs/config.md#skip_unchanged_pages) */
typedef struct JobMemo JobMemo;
extern void job_memo_begin(JobRun *run);
extern void job_memo_condition(JobRun *run, int page, NangoRequest *req);
extern bool job_memo_unchanged(JobRun *run, const NangoResponse *resp);
extern void job_memo_skip(JobRun *run, NangoPager *pager, NangoStore *st);
extern void job_memo_page_done(JobRun *run, NangoPager *pager, PageRecords *pr);
extern void job_memo_page_dropped(JobRun *run);
extern void job_memo_finish(JobRun *run, bool complete);

/* checkpoint_keys.c: the keys a checkpointed pass saw, for delete_mode */
typedef struct JobCheckpointKeys JobCheckpointKeys;
extern void job_checkpoint_store_keys(void *arg, int n, char **keys);
extern JobCheckpointKeys *job_checkpoint_keys_open(int64 sync_id, MemoryContext cxt);
extern bool job_checkpoint_keys_next(void *arg, StringInfo buf);
extern void job_checkpoint_keys_close(JobCheckpointKeys *kc);

/* records.c: from a response body to the page's records */
extern Jsonb *job_parse_page(JobRun *run, const NangoResponse *resp, NangoExpMarks **marks);
extern void job_extract_records(JobRun *run, Jsonb *body, const NangoExpMarks *marks,
								PageRecords *pr);
extern void job_record_keys(JobRun *run, PageRecords *pr);

/* pages.c: the page loop of one request chain */
extern void job_build_request(JobRun *run, NangoPager *pager, NangoRequest *req, bool refreshed);
extern void job_fetch_page(JobRun *run, NangoPager *pager, NangoResponse *resp);
extern void job_start_incremental(JobRun *run, NangoPager *pager);
extern void job_save_incremental(JobRun *run);
extern void job_run_pages(JobRun *run, NangoStore *st, NangoMapTable *mt);
extern void job_store_page(JobRun *run, NangoStore *st, NangoMapTable *mt, PageRecords *pr);
extern void job_delete_unseen(JobRun *run, NangoStore *st, NangoMapTable *mt);

/* restore.c */
extern void job_restore_mapped(JobRun *run, NangoMapTable *mt);

/* children.c: the request chains of a child sync */
extern void job_run_children(JobRun *run, NangoStore *st, NangoMapTable *mt, Jsonb *meta);

/* chains.c: the request chains of a child sync in flight together */
typedef struct ChainSet ChainSet;

/* What became of a parent record's chain (chains_store_parent). */
typedef enum ChainOutcome
{
	CHAIN_STORED,				/* its pages were stored */
	CHAIN_NO_VALUE,				/* a placeholder had no value: no request */
	CHAIN_GONE					/* its first request answered 404 or 410 */
} ChainOutcome;

extern ChainSet *chains_open(JobRun *run, int nparents, char **keys, Jsonb **records);
extern ChainOutcome chains_store_parent(ChainSet *cs, int parent, NangoStore *st,
										NangoMapTable *mt, char **detail);
extern void chains_close(ChainSet *cs);

/* outcome.c: the end of a job */
extern void job_check_some_keyed(JobRun *run);
extern void job_note_outcome(JobRun *run);
extern const char *job_status_name(NangoJobStatus s);
extern char *job_failure_detail(JobRun *run, ErrorData *edata);
extern void job_finish(JobRun *run, NangoJobStatus status, const char *message,
					   const char *detail);

#endif							/* NANGO_JOB_INT_H */
