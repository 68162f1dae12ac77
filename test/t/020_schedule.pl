# The background worker runs syncs on schedule: a frequency repeats, a cron
# expression is honoured, runs never pile up, trigger/pause/resume behave as
# specified, several syncs run in parallel up to nango.max_workers (changed
# with a reload), and every job end is announced with NOTIFY nango_jobs.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $mock = $ENV{NANGO_MOCK_URL} or plan skip_all => 'NANGO_MOCK_URL not set';

my $node = PostgreSQL::Test::Cluster->new('schedule');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'nango'
nango.allow_private_networks = on
nango.poll_interval = '200ms'
max_worker_processes = 16
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION nango');

# add_sync($path, $config_json): a new sync against the mock, returns its id.
sub add_sync
{
	my ($path, $config) = @_;
	return $node->safe_psql('postgres',
		"SELECT nango.add_sync('$mock$path', '$config')");
}

sub sql { return $node->safe_psql('postgres', $_[0]); }

sub jobs_with
{
	my ($sync, $status) = @_;
	return sql("SELECT count(*) FROM nango.jobs WHERE sync_id = $sync AND status = '$status'");
}

# --- a 2-second frequency runs repeatedly, without overlap ---------------
my $s1 = add_sync('/worker/slow?delay=0&n=2',
	'{"response_path": "data", "frequency": "2 seconds", "friendly_name": "Every two seconds"}');
ok($node->poll_query_until('postgres',
	"SELECT count(*) >= 3 FROM nango.jobs WHERE sync_id = $s1 AND status = 'succeeded'"),
	'a 2-second frequency runs repeatedly');
is(sql("SELECT count(*) FROM nango.jobs a JOIN nango.jobs b ON a.sync_id = b.sync_id AND a.id < b.id
	WHERE a.sync_id = $s1 AND b.started_at - a.started_at < interval '1.5 seconds'"),
	'0', 'runs of a 2-second frequency are about 2 seconds apart');
sql("SELECT nango.pause_sync($s1)");

# --- a job longer than its interval does not pile up runs ----------------
my $s2 = add_sync('/worker/slow?delay=2&n=1',
	'{"response_path": "data", "frequency": "1 second"}');
ok($node->poll_query_until('postgres',
	"SELECT count(*) >= 3 FROM nango.jobs WHERE sync_id = $s2 AND status = 'succeeded'"),
	'a slow sync with a short interval keeps running');
sql("SELECT nango.pause_sync($s2)");
$node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM nango.jobs WHERE sync_id = $s2 AND status = 'running'");
is(sql("SELECT count(*) FROM nango.jobs a JOIN nango.jobs b ON a.sync_id = b.sync_id AND a.id <> b.id
	WHERE a.sync_id = $s2 AND b.started_at >= a.started_at AND b.started_at < a.ended_at"),
	'0', 'jobs of one sync never overlap');

# --- pause: no scheduled run; resume runs now -----------------------------
my $paused_count = jobs_with($s1, 'succeeded');
sleep(3);
is(jobs_with($s1, 'succeeded') + jobs_with($s1, 'running'), $paused_count,
	'a paused sync does not run');
is(sql("SELECT status FROM nango.syncs WHERE id = $s1"), 'paused', 'status is paused');
sql("SELECT nango.resume_sync($s1)");
ok($node->poll_query_until('postgres',
	"SELECT count(*) > $paused_count FROM nango.jobs WHERE sync_id = $s1"),
	'resume_sync runs the sync again');
sql("SELECT nango.pause_sync($s1)");

# --- trigger: runs now, schedule unchanged --------------------------------
my $s3 = add_sync('/worker/slow?delay=0&n=1',
	'{"response_path": "data", "frequency": "1 hour"}');
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $s3 AND status = 'succeeded'"),
	'the first run happens right after add_sync');
my $next = sql("SELECT next_run_at FROM nango.syncs WHERE id = $s3");
ok(sql("SELECT next_run_at > now() + interval '50 minutes' FROM nango.syncs WHERE id = $s3") eq 't',
	'the next run is a frequency later');
sql("SELECT nango.trigger_sync($s3)");
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 2 FROM nango.jobs WHERE sync_id = $s3 AND status = 'succeeded'"),
	'trigger_sync runs the sync');
is(sql("SELECT next_run_at FROM nango.syncs WHERE id = $s3"), $next,
	'trigger_sync leaves the schedule unchanged');

# --- NOTIFY nango_jobs at job end -----------------------------------------
my $listener = $node->background_psql('postgres');
$listener->query_safe('LISTEN nango_jobs');
sql("SELECT nango.trigger_sync($s3)");
$node->poll_query_until('postgres',
	"SELECT count(*) = 3 FROM nango.jobs WHERE sync_id = $s3 AND status = 'succeeded'");
my $got = '';
for (1 .. 50)
{
	$got .= $listener->query('SELECT 1');
	last if $got =~ /Asynchronous notification "nango_jobs"/;
	sleep(0.2);
}
like($got, qr/Asynchronous notification "nango_jobs" with payload "\{.*"sync_id" ?: ?$s3\b.*"status" ?: ?"succeeded"/,
	'NOTIFY nango_jobs carries sync_id and status');
$listener->quit;

# --- four slow syncs run in parallel --------------------------------------
my @par = map { add_sync("/worker/slow?delay=3&n=1&tag=p$_",
	'{"response_path": "data", "frequency": "1 hour"}') } 1 .. 4;
my $list = join(',', @par);
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 4 FROM nango.jobs WHERE sync_id IN ($list) AND status = 'succeeded'"),
	'four slow syncs complete');
is(sql("SELECT max(started_at) < min(ended_at) FROM nango.jobs WHERE sync_id IN ($list)"),
	't', 'the four jobs ran at the same time');

# --- nango.max_workers changes with a reload ------------------------------
sql("ALTER SYSTEM SET nango.max_workers = 1");
$node->reload;
$node->poll_query_until('postgres', "SELECT current_setting('nango.max_workers') = '1'");
my $before = sql("SELECT coalesce(max(id), 0) FROM nango.jobs");
sql("SELECT nango.trigger_sync(id) FROM nango.syncs WHERE id IN ($list)");
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 4 FROM nango.jobs WHERE id > $before AND status = 'succeeded'"),
	'with max_workers = 1 the four syncs still complete');
is(sql("SELECT count(*) FROM nango.jobs a JOIN nango.jobs b ON a.id < b.id
	WHERE a.id > $before AND b.id > $before AND b.started_at < a.ended_at AND a.started_at < b.ended_at"),
	'0', 'with max_workers = 1 jobs run one at a time');

sql("ALTER SYSTEM SET nango.max_workers = 4");
$node->reload;
$node->poll_query_until('postgres', "SELECT current_setting('nango.max_workers') = '4'");
sleep(1);    # the launcher reloads on its next turn (poll_interval 200ms)
$before = sql("SELECT coalesce(max(id), 0) FROM nango.jobs");
sql("SELECT nango.trigger_sync(id) FROM nango.syncs WHERE id IN ($list)");
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 4 FROM nango.jobs WHERE id > $before AND status = 'succeeded'"),
	'after raising max_workers the four syncs complete');
is(sql("SELECT max(started_at) < min(ended_at) FROM nango.jobs WHERE id > $before"),
	't', 'after raising max_workers they run in parallel again');
sql("SELECT nango.pause_sync(id) FROM nango.syncs WHERE id IN ($list)");

# --- visibility in pg_stat_activity ---------------------------------------
is(sql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'nango launcher' AND datname = 'postgres'"),
	'1', 'the launcher shows in pg_stat_activity');
my $slow = add_sync('/worker/slow?delay=3&n=1',
	'{"response_path": "data", "friendly_name": "Slow one"}');
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'nango job'
	   AND application_name = 'nango job: sync $slow (Slow one) in postgres'"),
	'a job worker shows with its sync id, friendly name and database');
ok($node->poll_query_until('postgres',
	"SELECT page_count >= 0 AND pid IS NOT NULL FROM nango.jobs WHERE sync_id = $slow AND status = 'running'"),
	'the running job row names its worker pid');
$node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM nango.jobs WHERE sync_id = $slow AND status = 'running'");

# --- progress of a running job shows in its row; a wait event while fetching
my $pages = add_sync('/worker/pages?delay=1&pages=6',
	'{"response_path": "data", "paging_number_request_path": "page"}');
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $pages AND status = 'running'
	   AND page_count >= 2 AND fetched_count >= 6"),
	'page_count and fetched_count advance while the job runs');
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'nango job'
	   AND wait_event_type = 'Extension'"),
	'a job worker waiting for the API shows a wait event');
ok($node->poll_query_until('postgres',
	"SELECT status = 'succeeded' AND page_count >= 6 AND fetched_count = 18
	   FROM nango.jobs WHERE sync_id = $pages"),
	'the paged job ends with its final counts');

# --- nango.job_retention: finished jobs older than it are deleted --------
ok(sql("SELECT count(*) FROM nango.jobs WHERE status <> 'running'") > 10, 'jobs have piled up');
sql("ALTER SYSTEM SET nango.job_retention = '1s'");
$node->reload;
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM nango.jobs WHERE ended_at < now() - interval '3 seconds'"),
	'finished jobs older than nango.job_retention are deleted');
sql("ALTER SYSTEM RESET nango.job_retention");
$node->reload;

# --- a cron expression is honoured (first run now, then on the minute) ----
my $c = add_sync('/worker/slow?delay=0&n=1',
	'{"response_path": "data", "cron": "* * * * *"}');
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $c AND status = 'succeeded'"),
	'a cron sync runs right after add_sync');
is(sql("SELECT next_run_at = date_trunc('minute', now()) + interval '1 minute'
	     OR next_run_at = date_trunc('minute', now()) FROM nango.syncs WHERE id = $c"),
	't', 'its next run is the next minute boundary');
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 2 FROM nango.jobs WHERE sync_id = $c AND status = 'succeeded'"),
	'a cron sync runs again at the next tick');
is(sql("SELECT extract(second FROM max(started_at) AT TIME ZONE 'UTC') < 10
	FROM nango.jobs WHERE sync_id = $c"), 't', 'the cron run started on the minute');

$node->stop;
done_testing();
