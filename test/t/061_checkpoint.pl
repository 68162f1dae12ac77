# Checkpoints of long jobs (docs/config.md#checkpoint): a worker job of a
# sync with checkpoint true, on an API of 300 slow pages, commits what it
# stored and where its paging is every second (nango.checkpoint_interval).
# When its worker is killed (SIGKILL), the server stops (immediate) or the
# job is cancelled, the next job resumes after the last checkpoint: every
# record ends up stored exactly once, no page up to the checkpoint is
# fetched twice, and delete_mode deletes only after the whole pass.  A
# config change discards the checkpoint (the next job starts at page 1), and
# a successful run_sync, which never resumes, discards it too.  A next URL
# that carries the sync's key is stored with a marker in its place and
# rebuilt with the key when the job resumes.  A record seen before and
# after a checkpoint of one job counts once in the job's counts.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $mock = $ENV{NANGO_MOCK_URL} or plan skip_all => 'NANGO_MOCK_URL not set';

my $node = PostgreSQL::Test::Cluster->new('checkpoint');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'nango'
nango.allow_private_networks = on
nango.poll_interval = '200ms'
nango.checkpoint_interval = '1s'
max_worker_processes = 16
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION nango');

sub sql { return $node->safe_psql('postgres', $_[0]); }

sub mock_post { system("curl -s --noproxy '*' -X POST '$mock/ck/$_[0]' >/dev/null"); }

# hits($id): page number => how often the mock served it
sub hits
{
	my ($id) = @_;
	my $r = `curl -s --noproxy '*' '$mock/ck/report?id=$id'`;
	return ($r =~ /"(\d+)": (\d+)/g);
}

# check_hits($id, $upto, $what): every page served, pages 1..$upto exactly
# once, the others at most twice, and few twice (those after the checkpoint)
sub check_hits
{
	my ($id, $upto, $what) = @_;
	my %h = hits($id);
	my @missing = grep { !$h{$_} } 1 .. 300;
	my @again = grep { ($h{$_} // 0) > 1 } 1 .. $upto;
	my @twice = grep { ($h{$_} // 0) == 2 } 1 .. 300;
	my @more = grep { ($h{$_} // 0) > 2 } 1 .. 300;
	is(scalar(@missing), 0, "$what: every page was served");
	is(scalar(@again), 0, "$what: no page up to the checkpoint (page $upto) was served twice")
	  or diag("served again: @again");
	cmp_ok(scalar(@twice), '<=', 25, "$what: only pages after the checkpoint were served again (" . scalar(@twice) . ')');
	is(scalar(@more), 0, "$what: no page was served three times");
}

# running_job($sync): wait for a running job of $sync past page $page; (id, pid)
sub wait_checkpoint
{
	my ($sync, $page) = @_;
	$node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM nango.checkpoints c JOIN nango.jobs j ON j.id = c.job_id
		  WHERE c.sync_id = $sync AND c.page >= $page AND j.status = 'running'")
	  or die "no checkpoint at page $page for sync $sync";
	return split /\|/, sql("SELECT id, pid FROM nango.jobs WHERE sync_id = $sync AND status = 'running'");
}

my $base = '"response_path": "data", "unique_key": "id", "paging_cursor_metadata_response_path": "next", '
  . '"paging_cursor_request_path": "page", "checkpoint": true, "frequency": "1 day"';

# --- SIGKILL of the worker at about page 150, with delete_mode ------------
mock_post('set?id=k&delay=0&extra=1');
my $k = sql("SELECT nango.add_sync('$mock/ck/pages?id=k&pages=300', '{$base, \"delete_mode\": \"hard\"}')");
ok($node->poll_query_until('postgres',
	"SELECT status = 'succeeded' FROM nango.jobs WHERE sync_id = $k ORDER BY id LIMIT 1"),
	'the first pass succeeded');
is(sql("SELECT count(*) FROM nango.raw WHERE sync_id = $k"), '601', 'it stored 601 records');
is(sql("SELECT count(*) FROM nango.checkpoints WHERE sync_id = $k"), '0',
	'a successful job leaves no checkpoint');

# the record k-extra is gone from the API: only a complete pass may delete it
mock_post('clear?id=k');
mock_post('set?id=k&delay=0.05&extra=0');
sql("SELECT nango.trigger_sync($k)");
my ($job, $pid) = wait_checkpoint($k, 140);
kill 'KILL', $pid;
ok($node->poll_query_until('postgres', "SELECT status = 'failed' FROM nango.jobs WHERE id = $job"),
	'the job whose worker got SIGKILL is marked failed');
is(sql("SELECT count(*) FROM nango.raw WHERE sync_id = $k AND data->>'id' = 'k-extra'"), '1',
	'the killed pass deleted nothing');
is(sql("SELECT added_count = 0 AND unchanged_count > 0 FROM nango.jobs WHERE id = $job"), 't',
	'the killed job shows the counts of its last checkpoint');
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $k AND id > $job AND status = 'succeeded'"),
	'the next job succeeds');
my ($trigger, $resumed, $deleted) = split /\|/,
  sql("SELECT trigger, resumed_at_page, deleted_count FROM nango.jobs WHERE sync_id = $k AND id > $job AND status = 'succeeded'");
is($trigger, 'resume_checkpoint', 'it resumed after the checkpoint (trigger resume_checkpoint)');
cmp_ok($resumed, '>=', 141, "it started at page $resumed, after the checkpoint");
is(sql("SELECT count(*) || '/' || count(DISTINCT unique_key) FROM nango.raw WHERE sync_id = $k AND deleted_at IS NULL"),
	'600/600', 'every record is stored exactly once');
is(sql("SELECT count(*) FROM nango.raw WHERE sync_id = $k AND data->>'id' = 'k-extra'"), '0',
	'the record gone from the API was deleted after the complete pass');
is($deleted, '1', 'by the job that completed the pass');
is(sql("SELECT count(*) FROM nango._nango_sync_$k"), '600', 'the mapped table holds every record once');
is(sql("SELECT count(*) FROM nango.checkpoints WHERE sync_id = $k"), '0', 'the checkpoint is gone');
is(sql("SELECT count(*) FROM nango.checkpoint_keys WHERE sync_id = $k"), '0', 'and its keys');
check_hits('k', $resumed - 1, 'SIGKILL');

# --- immediate shutdown at about page 150 ---------------------------------
mock_post('set?id=m&delay=0.05');
my $m = sql("SELECT nango.add_sync('$mock/ck/pages?id=m&pages=300', '{$base}')");
($job, $pid) = wait_checkpoint($m, 140);
$node->stop('immediate');
$node->start;
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $m AND id > $job AND status = 'succeeded'"),
	'after an immediate shutdown the next job succeeds');
($trigger, $resumed) = split /\|/,
  sql("SELECT trigger, resumed_at_page FROM nango.jobs WHERE sync_id = $m AND id > $job AND status = 'succeeded'");
is($trigger, 'resume_checkpoint', 'it resumed after the checkpoint');
cmp_ok($resumed, '>=', 141, "at page $resumed");
is(sql("SELECT count(*) || '/' || count(DISTINCT unique_key) FROM nango.raw WHERE sync_id = $m"),
	'600/600', 'every record is stored exactly once');
check_hits('m', $resumed - 1, 'immediate shutdown');

# --- a cancelled job, then a config change: the next job starts at page 1 --
mock_post('set?id=c&delay=0.05');
my $c = sql("SELECT nango.add_sync('$mock/ck/pages?id=c&pages=300', '{$base}')");
($job, $pid) = wait_checkpoint($c, 20);
sql("SELECT nango.pause_sync($c)");
sql("SELECT pg_cancel_backend($pid)");
ok($node->poll_query_until('postgres', "SELECT status = 'cancelled' FROM nango.jobs WHERE id = $job"),
	'the job is cancelled');
is(sql("SELECT count(*) FROM nango.checkpoints WHERE sync_id = $c"), '1', 'its checkpoint is kept');
cmp_ok(sql("SELECT count(*) FROM nango.raw WHERE sync_id = $c"), '>=', 40,
	'and what it stored up to there');
sql("SELECT nango.update_sync($c, '{\"metadata\": {\"v\": \"2\"}}')");
is(sql("SELECT count(*) FROM nango.checkpoints WHERE sync_id = $c"), '0',
	'update_sync discards the checkpoint');
mock_post('clear?id=c');
mock_post('set?id=c&delay=0');
sql("SELECT nango.resume_sync($c)");
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $c AND id > $job AND status = 'succeeded'"),
	'the next job succeeds');
is(sql("SELECT trigger || '/' || coalesce(resumed_at_page::text, 'page 1') FROM nango.jobs
	WHERE sync_id = $c AND id > $job AND status = 'succeeded'"), 'resume/page 1',
	'it started at page 1');
my %h = hits('c');
is($h{1}, 1, 'page 1 was fetched again');
is(sql("SELECT count(*) FROM nango.raw WHERE sync_id = $c AND metadata->>'v' = '2'"), '600',
	'every record has the new config\'s metadata');

# --- a next URL that carries the sync's key: stored without it, rebuilt ----
mock_post('set?id=e&delay=0.05');
my $ecfg = '"response_path": "data", "unique_key": "id", "paging_url_path": "next", '
  . '"query_params": {"api_key": "k3y-of-ck-sync"}, "checkpoint": true, "frequency": "1 day"';
my $e = sql("SELECT nango.add_sync('$mock/ck/echo?id=e&pages=300', '{$ecfg}')");
($job, $pid) = wait_checkpoint($e, 20);
sql("SELECT nango.pause_sync($e)");
sql("SELECT pg_cancel_backend($pid)");
$node->poll_query_until('postgres', "SELECT status = 'cancelled' FROM nango.jobs WHERE id = $job")
  or die 'the job was not cancelled';
my $paging = sql("SELECT paging->>'next_url' FROM nango.checkpoints WHERE sync_id = $e");
like($paging, qr/api_key=\{nango-secret-\d+\}/, 'the stored next URL has a marker for the key');
unlike(sql("SELECT to_jsonb(c)::text FROM nango.checkpoints c WHERE sync_id = $e"), qr/k3y-of-ck-sync/,
	'and the checkpoint does not hold the key');
mock_post('set?id=e&delay=0');
sql("SELECT nango.resume_sync($e)");
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $e AND id > $job AND status = 'succeeded'"),
	'the next job succeeds');
($trigger, $resumed) = split /\|/,
  sql("SELECT trigger, resumed_at_page FROM nango.jobs WHERE sync_id = $e AND id > $job AND status = 'succeeded'");
is($trigger, 'resume_checkpoint', 'it resumed after the checkpoint');
cmp_ok($resumed, '>=', 21, "at page $resumed");
my $r = `curl -s --noproxy '*' '$mock/ck/report?id=e'`;
like($r, qr/"bad_key": 0/, 'every request carried the key (rebuilt in the resumed next URL)');
is(sql("SELECT count(*) || '/' || count(DISTINCT unique_key) FROM nango.raw WHERE sync_id = $e"),
	'600/600', 'every record is stored exactly once');
check_hits('e', $resumed - 1, 'next URL with the key');

# --- run_sync neither resumes nor checkpoints, and discards a checkpoint ----
mock_post('set?id=c&delay=0.05');
sql("SELECT nango.trigger_sync($c)");
($job, $pid) = wait_checkpoint($c, 20);
sql("SELECT nango.pause_sync($c)");
sql("SELECT pg_cancel_backend($pid)");
$node->poll_query_until('postgres', "SELECT status = 'cancelled' FROM nango.jobs WHERE id = $job")
  or die 'the job was not cancelled';
mock_post('clear?id=c');
mock_post('set?id=c&delay=0');
sql("SELECT nango.run_sync($c)");
is(sql("SELECT trigger || '/' || status || '/' || coalesce(resumed_at_page::text, 'page 1')
	FROM nango.jobs WHERE sync_id = $c ORDER BY id DESC LIMIT 1"), 'manual/succeeded/page 1',
	'run_sync starts at page 1');
%h = hits('c');
is(scalar(grep { $h{$_} == 1 } 1 .. 300), 300, 'and fetched every page once');
is(sql("SELECT count(*) FROM nango.checkpoints WHERE sync_id = $c"), '0',
	'a successful run_sync discards the checkpoint');

# --- a record seen before and after a checkpoint counts once ---------------
mock_post('set?id=d&delay=0.05&dup=1');
my $d = sql("SELECT nango.add_sync('$mock/ck/pages?id=d&pages=100', '{$base}')");
($job, $pid) = wait_checkpoint($d, 10);
ok($node->poll_query_until('postgres', "SELECT status = 'succeeded' FROM nango.jobs WHERE id = $job"),
	'a job that checkpointed and saw d-1-a on page 1 and page 100 succeeded');
is(sql("SELECT added_count || '/' || updated_count || '/' || unchanged_count || '/' || duplicate_count
	FROM nango.jobs WHERE id = $job"), '200/0/0/1',
	'the record seen before and after a checkpoint counts once (added), and once as a duplicate');
sql("SELECT nango.trigger_sync($d)");
($job, $pid) = wait_checkpoint($d, 10);
ok($node->poll_query_until('postgres', "SELECT status = 'succeeded' FROM nango.jobs WHERE id = $job"),
	'the next pass succeeded');
is(sql("SELECT added_count || '/' || updated_count || '/' || unchanged_count || '/' || duplicate_count
	FROM nango.jobs WHERE id = $job"), '0/1/199/1',
	'the record changed twice counts once as updated, the others once as unchanged');

$node->stop;
done_testing();
