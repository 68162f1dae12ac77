# The sync engine in a preloaded cluster: one job per sync at a time
# (55006), cancellation with pg_cancel_backend, NOTIFY nango_jobs, no
# secret in any log line, and memory that stays flat over 1,000 pages.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);

my $mock = $ENV{NANGO_MOCK_URL} or die "NANGO_MOCK_URL is not set";

my $node = PostgreSQL::Test::Cluster->new('engine');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'nango'
nango.allow_private_networks = on
nango.log_level = debug
nango.database = 'nodb'
log_min_messages = debug1
log_statement = none
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION nango');

sub add_sync
{
	my ($path, $config) = @_;
	return $node->safe_psql('postgres',
		"SELECT nango.add_sync('$mock$path', '$config')");
}

# --- secrets never reach the server log -------------------------------------
my $ok = add_sync('/hubspot/crm/v3/objects/contacts?hapikey=qs-secret-4242',
	'{"headers": {"authorization": "Bearer hdr-secret-9876", "X-Custom": "custom-secret-55"},
	  "query_params": {"limit": 3, "access_token": "param-secret-31"},
	  "paging_cursor_request_path": "after",
	  "paging_cursor_metadata_response_path": "paging.next.after",
	  "response_path": "results", "unique_key": "id", "auto_mapping": false,
	  "friendly_name": "secret test"}');
$node->safe_psql('postgres', "SELECT nango.run_sync($ok)");
is($node->safe_psql('postgres', "SELECT status FROM nango.jobs WHERE sync_id = $ok"),
	'succeeded', 'sync with secret headers succeeds');
my $bad = add_sync('/faults/status?code=500&token=qs-secret-4242',
	'{"headers": {"authorization": "Bearer hdr-secret-9876"}, "retries": 1,
	  "response_path": "data", "auto_mapping": false}');
my ($ret, $out, $err) = $node->psql('postgres', "SELECT nango.run_sync($bad)");
like($err, qr/WARNING:.*job failed: HTTP 500/, 'failed job is a WARNING');
unlike($err, qr/qs-secret-4242|hdr-secret-9876/, 'no secret in the WARNING');
my $log = slurp_file($node->logfile);
like($log, qr/fetching page 3: GET/, 'debug log shows the pages');
like($log, qr/retrying in \d+ ms/, 'log shows the retry');
for my $s ('qs-secret-4242', 'hdr-secret-9876', 'custom-secret-55', 'param-secret-31')
{
	unlike($log, qr/\Q$s\E/, "secret $s is not in the server log");
}
is($node->safe_psql('postgres',
	"SELECT count(*) FROM nango.jobs WHERE concat(error_message, error_detail) ~ 'secret-'"),
	'0', 'no secret in job rows');

# --- NOTIFY nango_jobs -------------------------------------------------------
# (PostgreSQL's own statement logging is off here: it would log the SQL
# text, secrets included, which is outside nango's control.)
($ret, $out, $err) = $node->psql('postgres',
	"LISTEN nango_jobs; SELECT nango.run_sync($ok) > 0; SELECT 1;");
like($out . $err,
	qr/Asynchronous notification "nango_jobs" with payload "\{"sync_id": $ok, "job_id": \d+, "status": "succeeded", "added": 0, "updated": 0, "unchanged": 7, "deleted": 0\}"/,
	'NOTIFY nango_jobs payload');

# --- one job per sync: 55006 naming the job; pg_cancel_backend --------------
my $slow = add_sync('/faults/slow?delay=30', '{"response_path": "data", "auto_mapping": false}');
my ($in1, $out1, $err1) = ('', '', '');
my $h = IPC::Run::start(
	[ 'psql', '-X', '-d', $node->connstr('postgres'), '-c', "SELECT nango.run_sync($slow)" ],
	'<', \$in1, '>', \$out1, '2>', \$err1);
my $pid = '';
for (1 .. 100)
{
	$pid = $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT nango.run_sync($slow)%' AND wait_event_type = 'Extension'");
	last if $pid ne '';
	usleep(100_000);
}
isnt($pid, '', 'running job waits with an Extension wait event');
($ret, $out, $err) = $node->psql('postgres', "SELECT nango.run_sync($slow)");
like($err, qr/ERROR:  sync $slow already has a running job \(in process $pid\)/,
	'second run_sync of the same sync is refused, naming the process');
($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\nSELECT nango.run_sync($slow)");
like($err, qr/55006/, 'SQLSTATE 55006');
my $t0 = time;
$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
$h->finish;
ok(time - $t0 < 10, 'cancel stops the transfer promptly');
like($err1, qr/WARNING:.*job cancelled/, 'cancelled job reported as a WARNING');
is($node->safe_psql('postgres',
	"SELECT status FROM nango.jobs WHERE sync_id = $slow ORDER BY id DESC LIMIT 1"),
	'cancelled', 'job row says cancelled');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM nango.jobs WHERE status = 'running'"), '0', 'no job left running');

# --- memory stays flat with the number of pages ------------------------------
# The backend's private memory (RssAnon of /proc/<pid>/status; VmHWM would
# count the shared buffers the inserts touch) is sampled while the job runs.
sub run_and_watch
{
	my ($sid) = @_;
	my ($i, $o, $e) = ('', '', '');
	my $sql = "SET nango.log_level = warning; SELECT nango.run_sync($sid) AS job_$sid";
	my $hh = IPC::Run::start([ 'psql', '-X', '-d', $node->connstr('postgres'), '-c', $sql ],
		'<', \$i, '>', \$o, '2>', \$e);
	my $bpid = '';
	for (1 .. 200)
	{
		$bpid = $node->safe_psql('postgres',
			"SELECT pid FROM pg_stat_activity WHERE query LIKE '%AS job_$sid'");
		last if $bpid ne '';
		usleep(20_000);
	}
	my $peak = 0;
	while ($hh->pumpable && $bpid ne '')
	{
		if (open(my $fh, '<', "/proc/$bpid/status"))
		{
			while (<$fh>)
			{
				$peak = $1 if /^RssAnon:\s+(\d+)/ && $1 > $peak;
			}
			close $fh;
		}
		usleep(20_000);
		$hh->pump_nb;
	}
	$hh->finish;
	return $peak;
}
my $cfg = '{"response_path": "results", "paging_cursor_metadata_response_path": "paging.next.after",
	  "paging_cursor_request_path": "after", "unique_key": "id", "auto_mapping": false}';
my $s100 = add_sync('/bulk/contacts?pages=100&per=50', $cfg);
my $s1000 = add_sync('/bulk/contacts?pages=1000&per=50', $cfg);
my $kb100 = run_and_watch($s100);
my $kb1000 = run_and_watch($s1000);
my $kb1000b = run_and_watch($s1000);
diag("backend peak RssAnon: 100 pages ${kb100} kB, 1,000 pages ${kb1000} kB, "
	  . "re-sync of 1,000 unchanged pages ${kb1000b} kB");
is($node->safe_psql('postgres',
	"SELECT string_agg(concat_ws('/', status, page_count, fetched_count, added_count, unchanged_count), ' ' ORDER BY id)
	   FROM nango.jobs WHERE sync_id = $s1000"),
	'succeeded/1000/50000/50000/0 succeeded/1000/50000/0/50000', '1,000 pages synced, then unchanged');
ok($kb100 > 0 && $kb1000 - $kb100 < 4 * 1024, 'peak memory grows by less than 4 MB from 100 to 1,000 pages');
ok($kb1000b - $kb100 < 4 * 1024, 'and for a re-sync of unchanged pages too');

$node->stop;
done_testing();
