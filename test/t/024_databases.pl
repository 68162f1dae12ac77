# The worker serves every database with the extension (nango.databases =
# '*'): databases found at server start and ones where CREATE EXTENSION
# nango runs later (or copied from one that has it); templates and
# databases refusing connections are left alone quietly; DROP DATABASE (a
# job running) and DROP EXTENSION complete; databases take turns for job
# slots; the list form and the old nango.database restrict; a database
# that is not served gets a WARNING.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $mock = $ENV{NANGO_MOCK_URL} or plan skip_all => 'NANGO_MOCK_URL not set';

my $node = PostgreSQL::Test::Cluster->new('databases');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'nango'
nango.allow_private_networks = on
nango.poll_interval = '200ms'
max_worker_processes = 32
});
$node->start;

sub add_sync
{
	my ($db, $path, $config) = @_;
	return $node->safe_psql($db, "SELECT nango.add_sync('$mock$path', '$config')");
}

sub launcher_in
{
	my ($db) = @_;
	return "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'nango launcher'"
	  . " AND datname = '$db' AND application_name = 'nango launcher in $db'";
}

# --- three databases, default settings: every one is served ---------------
for my $db (qw(db1 db2 db3))
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	my ($ret, $out, $err) = $node->psql($db, 'CREATE EXTENSION nango');
	is($err, '', "CREATE EXTENSION in $db raises no WARNING");
}
my %sync;
for my $db (qw(db1 db2 db3))
{
	$sync{$db} = add_sync($db, '/worker/slow?delay=0&n=2',
		'{"response_path": "data", "frequency": "1 hour"}');
}
for my $db (qw(db1 db2 db3))
{
	ok($node->poll_query_until($db,
		"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $sync{$db} AND status = 'succeeded'"),
		"the sync of $db runs");
	ok($node->poll_query_until('postgres', launcher_in($db)),
		"pg_stat_activity names the launcher of $db");
}
is($node->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'nango launcher' AND datname = 'postgres'"),
	'0', 'no launcher stays in a database without the extension');

# Found at server start.
$node->restart;
for my $db (qw(db1 db2 db3))
{
	$node->safe_psql($db, "SELECT nango.trigger_sync($sync{$db})");
}
for my $db (qw(db1 db2 db3))
{
	ok($node->poll_query_until($db,
		"SELECT count(*) = 2 FROM nango.jobs WHERE sync_id = $sync{$db} AND status = 'succeeded'"),
		"after a restart the sync of $db runs again");
}

# A job's log lines name its database and sync.
ok($node->wait_for_log(qr/job \d+ succeeded[^\n]*\n[^\n]*CONTEXT:  nango job of sync $sync{db3} in db3/),
	'the lines a job logs name its sync and database');
my $fail = add_sync('db2', '/no/such/route', '{"frequency": "1 hour"}');
ok($node->wait_for_log(qr/nango: sync $fail in db2 failed/),
	'a job\'s log line names its sync and database');
$node->safe_psql('db2', "SELECT nango.delete_sync($fail)");

# --- a database given the extension while the server runs ------------------
$node->safe_psql('postgres', 'CREATE DATABASE db4');
sleep(1);	# let a probe find it without the extension first
$node->safe_psql('db4', 'CREATE EXTENSION nango');
my $t0 = time();
my $s4 = add_sync('db4', '/worker/slow?delay=0&n=1', '{"response_path": "data"}');
ok($node->poll_query_until('db4',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $s4 AND status = 'succeeded'"),
	'a database given the extension while the server runs is served');
cmp_ok(time() - $t0, '<', 10, '... within 10 seconds');

# A database copied from one with the extension (no CREATE EXTENSION ran).
$node->safe_psql('postgres', 'CREATE DATABASE db5 TEMPLATE db4');
$t0 = time();
ok($node->poll_query_until('postgres', launcher_in('db5')),
	'a database copied from one with the extension is served');
cmp_ok(time() - $t0, '<', 10, '... within 10 seconds');

# --- fairness: a backlog in db1 does not keep db2 waiting -------------------
$node->append_conf('postgresql.conf', "nango.max_workers = 2\n");
$node->reload;
$node->safe_psql('db1', "SELECT nango.pause_sync($sync{db1})");
$node->safe_psql('db2', "SELECT nango.pause_sync($sync{db2})");
$node->safe_psql('db1', "SELECT nango.add_sync('$mock/worker/slow?delay=1&n=1',
	'{\"response_path\": \"data\", \"frequency\": \"1 hour\"}') FROM generate_series(1, 14)");
ok($node->poll_query_until('db1',
	"SELECT count(*) = 2 FROM nango.jobs WHERE status = 'running'"),
	'db1 has two jobs running (nango.max_workers = 2)');
my $before = $node->safe_psql('db2', 'SELECT clock_timestamp()');
my $s2 = add_sync('db2', '/worker/slow?delay=0&n=1', '{"response_path": "data"}');
my $most = 0;
for (1 .. 600)
{
	my ($jobs, $done) = split /\|/, $node->safe_psql('db2',
		"SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'nango job'),
		        (SELECT count(*) FROM nango.jobs WHERE sync_id = $s2 AND status = 'succeeded')");
	$most = $jobs if $jobs > $most;
	last if $done;
	select(undef, undef, undef, 0.1);
}
is($node->safe_psql('db2', "SELECT status FROM nango.jobs WHERE sync_id = $s2"), 'succeeded',
	'the due sync of db2 runs');
cmp_ok($most, '<=', 2, 'never more job workers than nango.max_workers, all databases together');
my $started = $node->safe_psql('db2', "SELECT started_at FROM nango.jobs WHERE sync_id = $s2");
my $overtook = $node->safe_psql('db1',
	"SELECT count(*) FROM nango.jobs WHERE started_at > '$before' AND started_at < '$started'");
my $waiting = $node->safe_psql('db1',
	"SELECT count(*) FROM nango.syncs s WHERE NOT EXISTS (SELECT 1 FROM nango.jobs j
	   WHERE j.sync_id = s.id AND j.started_at < '$started') AND s.status = 'active'");
cmp_ok($waiting, '>', 2, "db1 still had a backlog ($waiting syncs) when db2's job started");
cmp_ok($overtook, '<=', 1, "db1 started $overtook job(s) while db2's sync waited (at most one job's turn)");
$node->safe_psql('db1', "SELECT nango.pause_sync(id) FROM nango.syncs WHERE status = 'active'");
$node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'nango job'");

# --- DROP DATABASE with a running job -----------------------------------------
my $s3 = add_sync('db3', '/worker/slow?delay=20&n=1', '{"response_path": "data"}');
ok($node->poll_query_until('db3',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $s3 AND status = 'running'"),
	'a slow job runs in db3');
$t0 = time();
my ($ret, $out, $err) = $node->psql('postgres', 'DROP DATABASE db3');
is($ret, 0, 'DROP DATABASE of a served database with a running job succeeds') or diag($err);
cmp_ok(time() - $t0, '<', 15, '... without waiting for the job');
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type LIKE 'nango%' AND datname = 'db3'"),
	'no nango process is left in it');
$s2 = add_sync('db2', '/worker/slow?delay=0&n=1', '{"response_path": "data"}');
ok($node->poll_query_until('db2',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $s2 AND status = 'succeeded'"),
	'the other databases are still served');

# --- DROP EXTENSION with a running job, then CREATE EXTENSION again --------
$s2 = add_sync('db2', '/worker/slow?delay=20&n=1', '{"response_path": "data"}');
$node->poll_query_until('db2',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $s2 AND status = 'running'");
$t0 = time();
$node->safe_psql('db2', 'DROP EXTENSION nango');
cmp_ok(time() - $t0, '<', 15, 'DROP EXTENSION during a running job completes');
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type LIKE 'nango%' AND datname = 'db2'"),
	'the launcher of a database without the extension leaves');
$node->safe_psql('db2', 'CREATE EXTENSION nango');
$s2 = add_sync('db2', '/worker/slow?delay=0&n=1', '{"response_path": "data"}');
ok($node->poll_query_until('db2',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $s2 AND status = 'succeeded'"),
	'after CREATE EXTENSION again its syncs run');

# --- templates and databases refusing connections: left alone quietly ------
$node->safe_psql('postgres', 'CREATE DATABASE noconn');
$node->safe_psql('noconn', 'CREATE EXTENSION nango');
$node->safe_psql('postgres', 'CREATE DATABASE tmpl');
$node->safe_psql('tmpl', 'CREATE EXTENSION nango');
$node->safe_psql('postgres', 'ALTER DATABASE noconn ALLOW_CONNECTIONS false');
$node->safe_psql('postgres', 'ALTER DATABASE tmpl IS_TEMPLATE true');
my $offset = -s $node->logfile;
$node->restart;
ok($node->poll_query_until('postgres', launcher_in('db1')), 'db1 is served after a restart');
sleep(6);	# a rescan of pg_database or two
is($node->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'nango launcher' AND datname IN ('noconn', 'tmpl')"),
	'0', 'no launcher in a template or a database refusing connections');
my @said = grep { /noconn|tmpl/ && !/statement:/ } split /\n/, substr(slurp_file($node->logfile), $offset);
is(join("\n", @said), '', '... and nothing about them in the log');
my $log;
($ret, $out, $err) = $node->psql('tmpl', "SELECT nango.add_sync('$mock/worker/slow', '{}')");
like($err, qr/WARNING:  the nango worker does not serve database "tmpl": its syncs will not run on a schedule\nDETAIL:  The database is not served because it is a template database/,
	'add_sync in a template warns that its syncs will not run');

# --- idle cost of many launchers (on request) --------------------------------
if ($ENV{NANGO_MEASURE_IDLE})
{
	$node->append_conf('postgresql.conf', "nango.poll_interval = '1s'\nmax_worker_processes = 48\n");
	for my $i (1 .. 20)
	{
		$node->safe_psql('postgres', "CREATE DATABASE idle$i");
		$node->safe_psql("idle$i", 'CREATE EXTENSION nango');
	}
	$node->restart;
	$node->poll_query_until('postgres',
		"SELECT count(*) >= 20 FROM pg_stat_activity WHERE backend_type = 'nango launcher' AND datname LIKE 'idle%'");
	sleep(5);
	my @pids = split /\n/, $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type IN ('nango launcher', 'nango supervisor')");
	my $ticks = sub {
		my $t = 0;
		for my $pid (@pids)
		{
			my @f = split / /, slurp_file("/proc/$pid/stat");
			$t += $f[13] + $f[14];
		}
		return $t;
	};
	my $a = $ticks->();
	sleep(60);
	my $b = $ticks->();
	diag(sprintf('%d nango processes, idle: %d clock ticks of CPU in 60 s (%.2f%% of one core)',
		scalar(@pids), $b - $a, ($b - $a) / 60));
}

$node->stop;
$log = slurp_file($node->logfile);
unlike($log, qr/server process .* was terminated by signal|TRAP/, 'nothing crashed');

# --- the list form and nango.database restrict --------------------------------
my $list = PostgreSQL::Test::Cluster->new('dblist');
$list->init;
$list->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'nango'
nango.allow_private_networks = on
nango.poll_interval = '200ms'
nango.databases = 'la, lb'
max_worker_processes = 16
});
$list->start;
my %ls;
for my $db (qw(la lb lc))
{
	$list->safe_psql('postgres', "CREATE DATABASE $db");
	($ret, $out, $err) = $list->psql($db, 'CREATE EXTENSION nango');
	if ($db eq 'lc')
	{
		like($err, qr/WARNING:  the nango worker does not serve database "lc": its syncs will not run on a schedule\nDETAIL:  The database is not served because it is not in nango.databases \("la, lb"\)/,
			'CREATE EXTENSION in a database not in nango.databases warns why');
	}
	else
	{
		is($err, '', "CREATE EXTENSION in $db (listed) does not warn");
	}
	($ret, $ls{$db}, $err) = $list->psql($db, "SELECT nango.add_sync('$mock/worker/slow?delay=0&n=1', '{\"response_path\": \"data\"}')");
	if ($db eq 'lc')
	{
		like($err, qr/WARNING:  the nango worker does not serve database "lc"/,
			'add_sync in a database not served warns');
	}
}
for my $db (qw(la lb))
{
	ok($list->poll_query_until($db,
		"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $ls{$db} AND status = 'succeeded'"),
		"a database in nango.databases ($db) is served");
}
sleep(2);
is($list->safe_psql('lc', 'SELECT count(*) FROM nango.jobs'), '0',
	'a database not in nango.databases is not served');
is($list->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'nango launcher' AND datname = 'lc'"),
	'0', '... and has no launcher');

# The deprecated nango.database wins over nango.databases.
$list->append_conf('postgresql.conf', "nango.database = 'lc'\n");
$list->restart;
ok($list->poll_query_until('lc',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $ls{lc} AND status = 'succeeded'"),
	'nango.database, when set, is the one database served');
is($list->safe_psql('postgres',
	"SELECT string_agg(datname, ',') FROM pg_stat_activity WHERE backend_type = 'nango launcher'"),
	'lc', '... and wins over nango.databases');
($ret, $out, $err) = $list->psql('la', "SELECT nango.add_sync('$mock/worker/slow', '{}')");
like($err, qr/DETAIL:  The database is not served because nango.database is set to "lc"/,
	'add_sync elsewhere says nango.database is why');
$list->stop;
done_testing();
