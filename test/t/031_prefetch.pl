# The next page's request is sent before the current page is stored; while
# its answer is awaited (the API slow on page 2), pg_cancel_backend and
# statement_timeout end the job as cancelled and SIGTERM ends a job worker,
# both promptly; a job failing while that request is pending, run again
# and again, does not make the backend's memory grow (curl's resources are
# freed on ERROR).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep time);

my $mock = $ENV{NANGO_MOCK_URL} or plan skip_all => 'NANGO_MOCK_URL not set';

my $node = PostgreSQL::Test::Cluster->new('prefetch');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'nango'
nango.databases = 'postgres'
nango.allow_private_networks = on
nango.poll_interval = '200ms'
max_worker_processes = 16
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION nango');
# the background worker runs syncs in "postgres"; run_sync ones go to "fg"
$node->safe_psql('postgres', 'CREATE DATABASE fg');
$node->safe_psql('fg', 'CREATE EXTENSION nango');

sub sql { return $node->safe_psql('postgres', $_[0]); }
sub fg { return $node->safe_psql('fg', $_[0]); }

my $paging = '"response_path": "data", "paging_cursor_metadata_response_path": "meta.next", '
  . '"paging_cursor_request_path": "cursor"';

sub add_sync
{
	my ($db, $path, $config) = @_;
	return $node->safe_psql($db, "SELECT nango.add_sync('$mock$path', '$config')");
}

sub mock_requests
{
	my ($path) = @_;
	my $log = `curl -s --noproxy '*' '$mock/__requests?path=$path'`;
	my @q = ($log =~ /"query": "([^"]*)"/g);
	return join(' ', @q);
}

# waiting_on_page2($pid): the backend $pid waits for the API (wait event
# Extension) after the mock got the request for page 2.
sub waiting_on_page2
{
	my ($pid, $path) = @_;
	return 0 if $pid eq '';
	for (1 .. 300)
	{
		my $w = sql("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $pid");
		return 1 if $w eq 'Extension' && mock_requests($path) =~ /cursor=c2/;
		usleep(50_000);
	}
	return 0;
}

# --- pg_cancel_backend / statement_timeout in run_sync ----------------------
# The API answers page 2 after 20 seconds; the job must end long before.
for my $how ('pg_cancel_backend', 'statement_timeout')
{
	`curl -s --noproxy '*' -X POST '$mock/__reset'`;
	my $s = add_sync('fg', '/prefetch/items?slow=2&delay=20',
		qq({"auto_mapping": false, "timeout": 60, "retries": 0, $paging}));
	my ($o, $e) = ('', '');
	my $pre = $how eq 'statement_timeout' ? "SET statement_timeout = '3s'; " : '';
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-d', $node->connstr('fg'), '-c',
		  "${pre}SELECT nango.run_sync($s) AS prefetch_$s" ],
		'>', \$o, '2>', \$e);
	my $pid = '';
	for (1 .. 200)
	{
		$pid = sql("SELECT pid FROM pg_stat_activity WHERE query LIKE '%AS prefetch_$s'");
		last if $pid ne '';
		usleep(20_000);
	}
	ok(waiting_on_page2($pid, '/prefetch/items'), "$how: the job waits for page 2, requested early");
	my $t0 = time;
	sql("SELECT pg_cancel_backend($pid)") if $how eq 'pg_cancel_backend';
	$h->finish;
	my $took = time - $t0;
	is(fg("SELECT status || ' ' || page_count FROM nango.jobs WHERE sync_id = $s"), 'cancelled 1',
		"$how: the job ends cancelled");
	ok($took < 5, "$how: promptly (" . sprintf('%.1f', $took) . ' s)');
	is(fg("SELECT count(*) FROM nango.raw WHERE sync_id = $s"), '0', "$how: nothing stored");
}

# --- SIGTERM of a job worker waiting for page 2 ------------------------------
`curl -s --noproxy '*' -X POST '$mock/__reset'`;
my $w = add_sync('postgres', '/prefetch/items?slow=2&delay=20',
	qq({"auto_mapping": false, "timeout": 60, "retries": 0, "frequency": "1 hour", $paging}));
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM nango.jobs j JOIN pg_stat_activity a ON a.pid = j.pid
	  WHERE j.sync_id = $w AND j.status = 'running'"), 'the worker runs the job');
my $wpid = sql("SELECT pid FROM nango.jobs WHERE sync_id = $w AND status = 'running'");
ok(waiting_on_page2($wpid, '/prefetch/items'), 'the job worker waits for page 2, requested early');
my $t0 = time;
kill 'TERM', $wpid;
my $gone = 0;
for (1 .. 200)
{
	if (sql("SELECT count(*) FROM pg_stat_activity WHERE pid = $wpid") eq '0') { $gone = 1; last; }
	usleep(25_000);
}
my $took = time - $t0;
ok($gone && $took < 5, 'SIGTERM ends the job worker promptly (' . sprintf('%.1f', $took) . ' s)');
ok($node->poll_query_until('postgres',
	"SELECT status = 'failed' FROM nango.jobs WHERE sync_id = $w ORDER BY id LIMIT 1"),
	'its job is marked failed');
sql("SELECT nango.pause_sync($w)");
is(sql("SELECT count(*) FROM nango.raw WHERE sync_id = $w"), '0', 'nothing stored');

# --- a job failing while the next request is pending: no memory growth -------
# Page 2 breaks a CHECK constraint of the mapped table while page 3's
# request is pending.  The same backend runs the job many times (one
# transaction each); its private memory (RssAnon) stays flat.
my $f = add_sync('fg', '/prefetch/items?rev=1', qq({"unique_key": "id", $paging}));
fg("SET client_min_messages = error; SELECT nango.run_sync($f)");
fg("ALTER TABLE nango._nango_sync_$f ADD CONSTRAINT v_ok CHECK (v <> 'bad')");
fg("UPDATE nango.syncs SET url = '$mock/prefetch/items?rev=2&bad=2' WHERE id = $f");
fg(q{CREATE PROCEDURE churn(n int, sid bigint) LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..n LOOP
    PERFORM nango.run_sync(sid);
    COMMIT;
  END LOOP;
END $$});
fg(q{CREATE FUNCTION rss_anon() RETURNS int LANGUAGE sql AS
  $$ SELECT (regexp_match(pg_read_file('/proc/self/status'), 'RssAnon:\s+(\d+)'))[1]::int $$});
my $out = fg("SET client_min_messages = error; SET nango.log_level = error;
CALL churn(50, $f);
SELECT rss_anon();
CALL churn(400, $f);
SELECT rss_anon();");
my ($kb50, $kb450) = split /\n/, $out;
diag("backend RssAnon after 50 failed jobs: $kb50 kB, after 450: $kb450 kB");
is(fg("SELECT count(*) FILTER (WHERE status = 'failed' AND error_detail LIKE 'page 2, %HTTP status 203%')
	FROM nango.jobs WHERE sync_id = $f"), '450', 'every run failed on page 2 (page 3 pending)');
ok($kb50 > 0 && $kb450 - $kb50 < 2048, 'memory grows by less than 2 MB over 400 failed jobs');
is(fg("SELECT count(*) FROM nango.raw WHERE sync_id = $f AND data->>'rev' <> '1'"), '0',
	'no failed job stored anything');

$node->stop;
done_testing();
