# Running jobs seen and stopped from other sessions: nango.job_progress shows
# a run_sync job of another session (whose job row is not committed yet) and
# a worker's job, with page_count advancing, the current request (secrets
# redacted) and what the job waits for (the API, a retry's backoff, storing), each role seeing only its own;
# nango.sync_status shows them running; nango.cancel_job ends a run_sync job
# and a worker job as cancelled; a session that dies leaves no row behind;
# nango.delete_sync of a sync whose job runs (in the worker or in run_sync)
# returns within seconds and leaves nothing of the sync behind.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep time);

my $mock = $ENV{NANGO_MOCK_URL} or plan skip_all => 'NANGO_MOCK_URL not set';

my $node = PostgreSQL::Test::Cluster->new('progress');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'nango'
nango.allow_private_networks = on
nango.poll_interval = '200ms'
max_worker_processes = 16
lc_messages = 'C'
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION nango');
$node->safe_psql('postgres', 'CREATE ROLE alice LOGIN; CREATE ROLE bob LOGIN');
$node->safe_psql('postgres', 'GRANT CREATE ON SCHEMA nango TO alice');

sub sql { return $node->safe_psql('postgres', $_[0]); }
sub as_role { my ($role, $q) = @_; return sql("SET ROLE $role; $q"); }

my $pages = '"response_path": "data", "paging_number_request_path": "page"';

# add_paused($role, $path, $config): a sync of $role that the worker leaves
# alone (paused in the transaction that adds it), for run_sync.
sub add_paused
{
	my ($role, $path, $config) = @_;
	return sql("BEGIN; SET LOCAL ROLE $role;
SELECT nango.add_sync('$mock$path', '$config') AS id \\gset
SELECT :id FROM nango.pause_sync(:id);
COMMIT;");
}

# start_run_sync($role, $sync): run_sync in a session of its own; returns
# the harness, its output refs and the backend's pid.
sub start_run_sync
{
	my ($role, $sync) = @_;
	my ($o, $e) = ('', '');
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-d', $node->connstr('postgres'), '-U', $role, '-c',
		  "SELECT nango.run_sync($sync) AS run_$sync" ],
		'>', \$o, '2>', \$e);
	my $pid = '';
	for (1 .. 300)
	{
		$pid = sql("SELECT pid FROM pg_stat_activity WHERE query LIKE '%AS run_$sync'");
		last if $pid ne '';
		usleep(20_000);
	}
	return ($h, \$o, \$e, $pid);
}

# --- a run_sync job, watched from another session -----------------------------
my $s = add_paused('alice', '/worker/pages?delay=1&pages=30&api_key=s3cret',
	qq({"friendly_name": "slow pages", $pages}));
my ($h, $out, $err, $pid) = start_run_sync('alice', $s);
ok($pid ne '', 'run_sync runs in its own session');
ok($node->poll_query_until('postgres',
	"SELECT page_count >= 1 FROM nango.job_progress WHERE sync_id = $s"),
	'its job shows in nango.job_progress from another session');
my $job = sql("SELECT job_id FROM nango.job_progress WHERE sync_id = $s");
is(sql("SELECT count(*) FROM nango.jobs WHERE id = $job"), '0',
	'(its job row is not committed, so not visible elsewhere)');
is(sql("SELECT pid = $pid AND database = 'postgres' AND started_at <= now()
	FROM nango.job_progress WHERE job_id = $job"), 't', 'with the pid of the session and the database');
my $first = sql("SELECT page_count FROM nango.job_progress WHERE job_id = $job");
ok($node->poll_query_until('postgres',
	"SELECT page_count >= $first + 2 AND fetched_count = page_count * 3
	   FROM nango.job_progress WHERE job_id = $job"),
	'page_count and fetched_count advance while it runs');
ok($node->poll_query_until('postgres',
	"SELECT waiting_for = 'api' FROM nango.job_progress WHERE job_id = $job"),
	'waiting_for is api while the API answers');
my $req = sql("SELECT current_request FROM nango.job_progress WHERE job_id = $job");
like($req, qr{^GET http://\S+/worker/pages\?\S*page=\d+}, "current_request is the method and URL ($req)");
like($req, qr/api_key=REDACTED/, 'with its secret redacted');
unlike($req, qr/s3cret/, 'and never in clear');

# Visibility: its owner and superusers see it, another role does not.
is(as_role('alice', "SELECT count(*) FROM nango.job_progress WHERE job_id = $job"), '1',
	'the owner sees the job');
is(as_role('bob', 'SELECT count(*) FROM nango.job_progress'), '0', 'another role does not');
is(as_role('alice', "SELECT health || ' ' || (running_job_id = $job) || ' ' || (running_pages >= 1)
	|| ' ' || (running_since IS NOT NULL) FROM nango.sync_status WHERE sync_id = $s"),
	'running true true true', 'nango.sync_status shows the sync running, with its job');

# Bob may not cancel it; alice may: run_sync returns, the job cancelled.
my (undef, undef, $e2) = $node->psql('postgres', "SET ROLE bob; SELECT nango.cancel_job($job)");
like($e2, qr/permission denied to cancel job $job/, 'another role may not cancel the job');
my $t0 = time;
is(as_role('alice', "SELECT nango.cancel_job($job)"), 't', 'the owner cancels the run_sync job');
$h->finish;
my $took = time - $t0;
ok($took < 5, 'run_sync returns promptly (' . sprintf('%.1f', $took) . ' s)');
like($$err, qr/WARNING:  sync \d+ \(slow pages\): job cancelled/, 'with a WARNING that the job was cancelled');
is(sql("SELECT status FROM nango.jobs WHERE id = $job"), 'cancelled', 'the job ended as cancelled');
is(sql('SELECT count(*) FROM nango.job_progress'), '0', 'and no longer shows as running');
is(as_role('alice', "SELECT nango.cancel_job($job)"), 'f', 'cancelling it again: not running');

# --- waiting_for retry, during the backoff before a request is retried --------
my $f = add_paused('alice', '/worker/fail', '{"response_path": "data", "retries": 8}');
($h, $out, $err, $pid) = start_run_sync('alice', $f);
ok($node->poll_query_until('postgres',
	"SELECT waiting_for = 'retry' FROM nango.job_progress WHERE sync_id = $f"),
	'waiting_for is retry during the backoff before a retry');
$job = sql("SELECT job_id FROM nango.job_progress WHERE sync_id = $f");
is(sql("SELECT nango.cancel_job($job)"), 't', 'a superuser cancels it');
$h->finish;
is(sql("SELECT status FROM nango.jobs WHERE id = $job"), 'cancelled', 'it ended as cancelled');

# --- waiting_for store, while a page's rows wait for a lock on the table -----
my $w = add_paused('alice', '/worker/pages?pages=5',
	qq({"mapped_table": "store_wait", $pages}));
sql("SELECT nango.run_sync($w)");
my ($lo, $le) = ('', '');
my $locker = IPC::Run::start(
	[ 'psql', '-X', '-d', $node->connstr('postgres'), '-c',
	  'BEGIN; LOCK TABLE nango.store_wait IN SHARE MODE; SELECT pg_sleep(60) AS store_lock; COMMIT;' ],
	'>', \$lo, '2>', \$le);
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE '%AS store_lock%' AND state = 'active'
	   AND pid <> pg_backend_pid()"),
	'another session holds a lock that blocks writes to the mapped table');
($h, $out, $err, $pid) = start_run_sync('alice', $w);
ok($node->poll_query_until('postgres',
	"SELECT waiting_for = 'store' FROM nango.job_progress WHERE sync_id = $w"),
	'waiting_for is store while the page waits to be written');
sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%AS store_lock%'
	AND pid <> pg_backend_pid()");
$locker->finish;
$h->finish;
is(sql("SELECT status || ' ' || added_count FROM nango.jobs WHERE sync_id = $w ORDER BY id DESC LIMIT 1"),
	'succeeded 15', 'once the lock is gone the job stores its pages and succeeds');

# --- a session that dies while its job runs leaves no row behind ---------------
my $d = add_paused('alice', '/worker/pages?delay=1&pages=30', qq({$pages}));
($h, $out, $err, $pid) = start_run_sync('alice', $d);
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM nango.job_progress WHERE sync_id = $d"), 'a run_sync job runs');
sql("SELECT pg_terminate_backend($pid)");
$h->finish;
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM nango.job_progress"), 'its session terminated, it is gone from job_progress');

# --- a worker job ----------------------------------------------------------------
my $w = as_role('alice', "SELECT nango.add_sync('$mock/worker/pages?delay=1&pages=30',
	'{\"friendly_name\": \"worker pages\", \"frequency\": \"1 hour\", $pages}')");
ok($node->poll_query_until('postgres',
	"SELECT page_count >= 2 FROM nango.job_progress WHERE sync_id = $w"),
	'a worker job shows in nango.job_progress, its pages advancing');
$job = sql("SELECT job_id FROM nango.job_progress WHERE sync_id = $w");
is(sql("SELECT a.backend_type FROM nango.job_progress p JOIN pg_stat_activity a USING (pid)
	WHERE p.job_id = $job"), 'nango job', 'with the pid of its job worker');
is(as_role('alice', "SELECT nango.cancel_job($job)"), 't', 'its owner cancels it');
ok($node->poll_query_until('postgres',
	"SELECT status = 'cancelled' FROM nango.jobs WHERE id = $job"), 'the worker job ends as cancelled');
sql("SELECT nango.pause_sync($w)");
$node->poll_query_until('postgres', "SELECT count(*) = 0 FROM nango.job_progress");

# --- delete_sync while the worker runs a job of the sync ------------------------
my $x = as_role('alice', "SELECT nango.add_sync('$mock/worker/pages?delay=1&pages=60',
	'{\"frequency\": \"1 hour\", \"unique_key\": \"id\", $pages}')");
ok($node->poll_query_until('postgres',
	"SELECT page_count >= 2 FROM nango.job_progress WHERE sync_id = $x"),
	'a worker job of the sync has stored pages');
$job = sql("SELECT job_id FROM nango.job_progress WHERE sync_id = $x");
$t0 = time;
my ($rc, $o3, $e3) = $node->psql('postgres', "SET ROLE alice; SELECT nango.delete_sync($x)");
$took = time - $t0;
is($rc, 0, 'delete_sync succeeds');
like($e3, qr/NOTICE:  cancelling the running job $job of sync $x/, 'saying it cancels the running job');
ok($took < 5, 'delete_sync returns within seconds (' . sprintf('%.1f', $took) . ' s)');
is(sql("SELECT (SELECT count(*) FROM nango.syncs WHERE id = $x) + (SELECT count(*) FROM nango.jobs WHERE sync_id = $x)
	+ (SELECT count(*) FROM nango.raw WHERE sync_id = $x)"), '0', 'nothing of the sync remains');
is(sql("SELECT to_regclass('nango._nango_sync_$x') IS NULL"), 't', 'not even its mapped table (never committed)');
ok($node->poll_query_until('postgres', "SELECT count(*) = 0 FROM nango.job_progress"),
	'the job is gone');
my $log = slurp_file($node->logfile);
unlike($log, qr/job $job succeeded/, 'the job did not go on to succeed');

# --- delete_sync while run_sync runs a job of the sync in another session -------
my $r = add_paused('alice', '/worker/pages?delay=1&pages=60', qq({"unique_key": "id", $pages}));
($h, $out, $err, $pid) = start_run_sync('alice', $r);
ok($node->poll_query_until('postgres',
	"SELECT page_count >= 2 FROM nango.job_progress WHERE sync_id = $r"), 'a run_sync job runs');
$t0 = time;
($rc, $o3, $e3) = $node->psql('postgres', "SELECT nango.delete_sync($r)");
$took = time - $t0;
$h->finish;
is($rc, 0, 'delete_sync succeeds');
ok($took < 5, 'delete_sync returns within seconds (' . sprintf('%.1f', $took) . ' s)');
like($$err, qr/job cancelled/, 'run_sync reports its job cancelled');
is(sql("SELECT (SELECT count(*) FROM nango.syncs WHERE id = $r) + (SELECT count(*) FROM nango.jobs WHERE sync_id = $r)
	+ (SELECT count(*) FROM nango.raw WHERE sync_id = $r)"), '0', 'nothing of the sync remains');

$node->stop;
done_testing();
