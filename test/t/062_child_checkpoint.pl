# Checkpoints of a child sync (docs/config.md#checkpoint): a worker job of a
# child sync with checkpoint true commits between parent records every
# second (nango.checkpoint_interval), while up to concurrency chains of later
# parents are in flight.  When its worker is killed (SIGKILL), the next job
# resumes at the first parent after the last one done: the parents done
# before the checkpoint are not requested again, every child record ends up
# stored exactly once, a parent answering 404 counts once in skipped_count,
# and delete_mode deletes (a child gone from a parent, the children of a
# parent gone, of a parent answering 404) only after the whole pass.  A
# config change between the two jobs restarts at the first parent.  An
# incremental child keeps the values of the parents done before the
# checkpoint: the state of the completed pass has every parent's.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $mock = $ENV{NANGO_MOCK_URL} or plan skip_all => 'NANGO_MOCK_URL not set';

my $node = PostgreSQL::Test::Cluster->new('child_checkpoint');
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

# hits($id): "<parent>/<page>" => how often the mock served that child page
sub hits
{
	my ($id) = @_;
	my $r = `curl -s --noproxy '*' '$mock/ck/report?id=$id'`;
	return ($r =~ /"(p\d+\/\d+)": (\d+)/g);
}

# wait_checkpoint($sync, $done): a running job of $sync checkpointed after
# at least $done parents; (job id, pid)
sub wait_checkpoint
{
	my ($sync, $done) = @_;
	$node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM nango.checkpoints c JOIN nango.jobs j ON j.id = c.job_id
		  WHERE c.sync_id = $sync AND c.page >= $done AND j.status = 'running'")
	  or die "no checkpoint after $done parents for sync $sync";
	return split /\|/, sql("SELECT id, pid FROM nango.jobs WHERE sync_id = $sync AND status = 'running'");
}

# next_job($sync, $job): the job after $job succeeded: its trigger,
# resumed_at_page, counts
sub next_job
{
	my ($sync, $job) = @_;
	$node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $sync AND id > $job AND status = 'succeeded'")
	  or die "no successful job of sync $sync after job $job";
	return split /\|/, sql("SELECT trigger, coalesce(resumed_at_page::text, 'none'), added_count, "
		  . "updated_count, unchanged_count, skipped_count, deleted_count, warnings::text "
		  . "FROM nango.jobs WHERE sync_id = $sync AND id > $job AND status = 'succeeded'");
}

my $parent_cfg = '"response_path": "data", "unique_key": "id", "delete_mode": "hard", "frequency": "1 day"';
my $child_cfg = '"response_path": "data", "unique_key": "id", "paging_cursor_metadata_response_path": "next", '
  . '"paging_cursor_request_path": "page", "checkpoint": true, "delete_mode": "hard", "concurrency": 4, '
  . '"frequency": "1 day"';

# --- 60 parents of 3 pages each; SIGKILL of the worker after 15 parents ----
mock_post('parents_set?id=k&n=60');
mock_post('set?id=k&delay=0&extra=1');
my $p = sql("SELECT nango.add_sync('$mock/ck/parents?id=k', '{$parent_cfg}')");
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $p AND status = 'succeeded'"),
	'the parent stored its records');
my $k = sql("SELECT nango.add_sync('$mock/ck/kids/\${parent.id}?id=k&pages=3',
	'{$child_cfg, \"parent\": {\"sync\": $p}}')");
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $k AND status = 'succeeded'"),
	'the child sync with checkpoint true completed its first pass');
is(sql("SELECT count(*) FROM nango.raw WHERE sync_id = $k"), '361', 'it stored 361 records');

# the next pass: parent p60 is gone, p05 answers 404 and c-extra is gone
# from p01: only the complete pass may delete their children
mock_post('parents_set?id=k&n=59&gone=p05');
sql("SELECT nango.run_sync($p)");
is(sql("SELECT count(*) FROM nango.raw WHERE sync_id = $p"), '59', 'the parent lost p60');
mock_post('clear?id=k');
mock_post('set?id=k&delay=0.2&extra=0');
sql("SELECT nango.trigger_sync($k)");
my ($job, $pid) = wait_checkpoint($k, 15);
kill 'KILL', $pid;
ok($node->poll_query_until('postgres', "SELECT status = 'failed' FROM nango.jobs WHERE id = $job"),
	'the job whose worker got SIGKILL is marked failed');
is(sql("SELECT count(*) FROM nango.raw WHERE sync_id = $k"), '361', 'the killed pass deleted nothing');
is(sql("SELECT skipped_count || '/' || (unchanged_count + updated_count > 0) FROM nango.jobs WHERE id = $job"),
	'1/true', 'the killed job shows the counts of its last checkpoint (p05 skipped)');

my ($trigger, $resumed, $added, $updated, $unchanged, $skipped, $deleted, $warnings) = next_job($k, $job);
is($trigger, 'resume_checkpoint', 'the next job resumed after the checkpoint (trigger resume_checkpoint)');
cmp_ok($resumed, '>=', 16, "it started at parent $resumed of the pass, after the checkpoint");
is(sql("SELECT count(*) || '/' || count(DISTINCT unique_key) FROM nango.raw WHERE sync_id = $k"),
	'348/348', 'every child record of the live parents is stored exactly once');
is(sql("SELECT count(DISTINCT metadata->>'_nango_parent_key') FROM nango.raw WHERE sync_id = $k"),
	'58', 'under the 58 live parents that answer');
is($deleted, '13', 'the job that completed the pass deleted the children gone (1 + 6 of p60 + 6 of p05)');
is(sql("SELECT count(*) FROM nango.raw WHERE sync_id = $k AND data->>'id' = 'c-extra'"), '0',
	'the child gone from its parent is deleted');
is($added + $updated + $unchanged, 6 * (59 - ($resumed - 1)),
	'the resumed job counted each record of the parents it did once');
is($skipped, '0', 'p05, done before the checkpoint, is not skipped again');
unlike($warnings, qr/p05/, 'nor noted again in its warnings');
is(sql("SELECT count(*) FROM nango._nango_sync_$k"), '348', 'the mapped table holds every record once');
is(sql("SELECT count(*) FROM nango.checkpoints WHERE sync_id = $k"), '0', 'the checkpoint is gone');
is(sql("SELECT count(*) FROM nango.checkpoint_keys WHERE sync_id = $k"), '0', 'and its keys');

my %h = hits('k');
my @done = map { sprintf('p%02d', $_) } 1 .. $resumed - 1;
my @again = grep { ($h{$_} // 0) != 1 } map { my $q = $_; map { "$q/$_" } 1 .. 3 } grep { $_ ne 'p05' } @done;
is(scalar(@again), 0, 'the pages of the parents done before the checkpoint were served once')
  or diag("served again or never: @again");
is($h{'p05/1'}, 1, 'and p05 (404) was asked once');
my @missing = grep { !$h{$_} } map { my $q = sprintf('p%02d', $_); map { "$q/$_" } 1 .. 3 } $resumed .. 59;
is(scalar(@missing), 0, 'every page of the later parents was served');
my @more = grep { $h{$_} > 2 } keys %h;
is(scalar(@more), 0, 'no page was served three times');

# --- a config change between the two jobs: the next job starts at p01 ------
mock_post('clear?id=k');
sql("SELECT nango.trigger_sync($k)");
($job, $pid) = wait_checkpoint($k, 10);
sql("SELECT nango.pause_sync($k)");
sql("SELECT pg_cancel_backend($pid)");
ok($node->poll_query_until('postgres', "SELECT status = 'cancelled' FROM nango.jobs WHERE id = $job"),
	'a job cancelled after a checkpoint');
is(sql("SELECT count(*) FROM nango.checkpoints WHERE sync_id = $k"), '1', 'keeps its checkpoint');
is(sql("SELECT skipped_count || '/' || (array_to_string(warnings, ' ') LIKE '%parent record p05 skipped%')
	FROM nango.jobs WHERE id = $job"), '1/true',
	'and its counts and warnings up to there (p05, done before the checkpoint, skipped)');
sql("SELECT nango.update_sync($k, '{\"metadata\": {\"v\": \"2\"}}')");
mock_post('clear?id=k');
mock_post('set?id=k&delay=0');
sql("SELECT nango.resume_sync($k)");
($trigger, $resumed) = next_job($k, $job);
is("$trigger/$resumed", 'resume/none', 'after update_sync the next job starts at the first parent');
%h = hits('k');
is($h{'p01/1'}, 1, 'p01 was requested again');
is(sql("SELECT count(*) FROM nango.raw WHERE sync_id = $k AND metadata->>'v' = '2'"), '348',
	'every child record has the new config\'s metadata');

# --- incremental: the state of a resumed pass has every parent's value ----
mock_post('parents_set?id=i&n=40');
mock_post('set?id=i&delay=0');
my $pi = sql("SELECT nango.add_sync('$mock/ck/parents?id=i', '{$parent_cfg}')");
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $pi AND status = 'succeeded'"),
	'a second parent stored its records');
my $ki = sql("SELECT nango.add_sync('$mock/ck/kids/\${parent.id}?id=i&pages=3',
	'{\"response_path\": \"data\", \"unique_key\": \"id\", \"paging_cursor_metadata_response_path\": \"next\",
	  \"paging_cursor_request_path\": \"page\", \"checkpoint\": true, \"concurrency\": 4, \"frequency\": \"1 day\",
	  \"incremental_cursor_path\": \"page\", \"incremental_request_path\": \"since\", \"parent\": {\"sync\": $pi}}')");
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $ki AND status = 'succeeded'"),
	'an incremental child completed its first pass');
sql("UPDATE nango.syncs SET incremental_state = NULL WHERE id = $ki");
mock_post('set?id=i&delay=0.2');
sql("SELECT nango.trigger_sync($ki)");
($job, $pid) = wait_checkpoint($ki, 10);
cmp_ok(sql("SELECT count(*) FROM nango.checkpoints c, jsonb_object_keys(c.incremental_highest) k
	WHERE c.sync_id = $ki"), '>=', 10, 'the checkpoint keeps the values of the parents done');
kill 'KILL', $pid;
($trigger, $resumed) = next_job($ki, $job);
is($trigger, 'resume_checkpoint', 'the next job resumed after the checkpoint');
is(sql("SELECT count(*) || '/' || count(*) FILTER (WHERE v = '3') FROM nango.syncs s,
	jsonb_each(s.incremental_state) AS e(k, v) WHERE s.id = $ki"), '40/40',
	'the state of the completed pass has the value of every parent, those done before the checkpoint too');

$node->stop;
done_testing();
