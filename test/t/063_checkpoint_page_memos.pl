# Page memos with checkpoints (docs/config.md#unchanged-pages): the memos
# of the pages a checkpoint committed are committed with their records, so
# a cancelled job leaves memos that describe what nango.raw holds; the job
# that resumes the pass completes the memos, keeps the keys of the pages
# it skips for delete_mode, and the next unchanged pass skips every page
# (recognised by the hash of its body: this API sends no ETag) without
# deleting anything.  300 pages: more than one window of memos (pagememo.c).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $mock = $ENV{NANGO_MOCK_URL} or plan skip_all => 'NANGO_MOCK_URL not set';

my $node = PostgreSQL::Test::Cluster->new('checkpoint_memos');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'nango'
nango.allow_private_networks = on
nango.poll_interval = '200ms'
nango.checkpoint_interval = '1s'
max_worker_processes = 16
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION nango');

sub sql { return $node->safe_psql('postgres', $_[0]); }

sub mock_post { system("curl -s --noproxy '*' -X POST '$mock/ck/$_[0]' >/dev/null"); }

# wait_job($sync, $after): the id of the sync's first job after $after that ended
sub wait_job
{
	my ($sync, $after) = @_;
	$node->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM nango.jobs WHERE sync_id = $sync AND id > $after AND status <> 'running'")
	  or die "no job of sync $sync ended";
	return sql("SELECT min(id) FROM nango.jobs WHERE sync_id = $sync AND id > $after AND status <> 'running'");
}

my $cfg = '"response_path": "data", "unique_key": "id", "paging_cursor_metadata_response_path": "next", '
  . '"paging_cursor_request_path": "page", "checkpoint": true, "delete_mode": "hard", "frequency": "1 day"';

# --- the first pass: a memo per page ---------------------------------------
mock_post('set?id=pm&delay=0&extra=0');
my $s = sql("SELECT nango.add_sync('$mock/ck/pages?id=pm&pages=300', '{$cfg}')");
my $job = wait_job($s, 0);
is(sql("SELECT status || '/' || added_count FROM nango.jobs WHERE id = $job"), 'succeeded/600',
	'the first pass stored 600 records');
is(sql("SELECT count(*) || '/' || sum(records) || '/' || sum(cardinality(keys)) FROM nango.page_memos WHERE sync_id = $s"),
	'300/600/600', 'and wrote a memo for each of its 300 pages, with their keys');

# --- page 1 changes; a slow pass is cancelled after a checkpoint -----------
mock_post('set?id=pm&delay=0.05&extra=1');
sql("SELECT nango.trigger_sync($s)");
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM nango.checkpoints c JOIN nango.jobs j ON j.id = c.job_id
	  WHERE c.sync_id = $s AND c.page >= 10 AND j.status = 'running'")
  or die 'no checkpoint';
my ($running, $pid) = split /\|/, sql("SELECT id, pid FROM nango.jobs WHERE sync_id = $s AND status = 'running'");
sql("SELECT nango.pause_sync($s)");
sql("SELECT pg_cancel_backend($pid)");
ok($node->poll_query_until('postgres', "SELECT status = 'cancelled' FROM nango.jobs WHERE id = $running"),
	'the slow job is cancelled');
is(sql("SELECT count(*) FROM nango.raw WHERE sync_id = $s AND data->>'id' = 'pm-extra'"), '1',
	'the checkpoint committed the new record of page 1');
is(sql("SELECT records || '/' || cardinality(keys) FROM nango.page_memos WHERE sync_id = $s AND page = 1"), '3/3',
	'and the memo of page 1 that describes it');

# --- the resumed pass completes, deleting nothing it skipped ----------------
mock_post('set?id=pm&delay=0&extra=1');
sql("SELECT nango.resume_sync($s)");
$job = wait_job($s, $running);
is(sql("SELECT status || '/' || trigger FROM nango.jobs WHERE id = $job"), 'succeeded/resume_checkpoint',
	'the next job resumes the pass and succeeds');
is(sql("SELECT deleted_count FROM nango.jobs WHERE id = $job"), '0', 'it deleted nothing');
is(sql("SELECT count(*) || '/' || count(DISTINCT unique_key) FROM nango.raw WHERE sync_id = $s"), '601/601',
	'every record is stored once');
is(sql("SELECT count(*) || '/' || sum(records) FROM nango.page_memos WHERE sync_id = $s"), '300/601',
	'every page has its memo');

# --- an unchanged pass skips every page -------------------------------------
# a stored row altered behind nango's back shows that no page was compared
sql("UPDATE nango.raw SET data_hash = 'altered' WHERE sync_id = $s AND unique_key = 'pm-280-a'");
sql("SELECT nango.trigger_sync($s)");
$job = wait_job($s, $job);
is(sql("SELECT status || '/' || page_count || '/' || fetched_count || '/' || added_count || '/' || updated_count
	|| '/' || unchanged_count || '/' || deleted_count FROM nango.jobs WHERE id = $job"),
	'succeeded/300/601/0/0/601/0', 'the unchanged pass counts every record unchanged and deletes nothing');
is(sql("SELECT data_hash FROM nango.raw WHERE sync_id = $s AND unique_key = 'pm-280-a'"), 'altered',
	'without comparing the records of the skipped pages');

# --- the record of page 1 goes: exactly it is deleted -----------------------
mock_post('set?id=pm&delay=0&extra=0');
sql("SELECT nango.trigger_sync($s)");
$job = wait_job($s, $job);
is(sql("SELECT status || '/' || unchanged_count || '/' || deleted_count FROM nango.jobs WHERE id = $job"),
	'succeeded/600/1', 'a record gone from page 1 is deleted, nothing else');
is(sql("SELECT count(*) FROM nango.raw WHERE sync_id = $s"), '600', '600 records remain');

$node->stop;
done_testing();
