# DROP EXTENSION and DROP DATABASE during a running job complete; the
# launcher idles and comes back; a dropped owner role does not stop other
# syncs; jobs run as the sync's owner (a role without LOGIN too) and cannot
# write a table the owner cannot write.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $mock = $ENV{NANGO_MOCK_URL} or plan skip_all => 'NANGO_MOCK_URL not set';

my $node = PostgreSQL::Test::Cluster->new('drop');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'nango'
nango.allow_private_networks = on
nango.poll_interval = '200ms'
nango.database = 'nangodb'
max_worker_processes = 16
});
$node->start;

sub sql { return $node->safe_psql('nangodb', $_[0]); }

sub add_sync
{
	my ($path, $config) = @_;
	return sql("SELECT nango.add_sync('$mock$path', '$config')");
}

ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'nango supervisor'"),
	'the supervisor runs while nango.database is missing');
ok($node->wait_for_log(qr/database "nangodb" \(nango.database\) does not exist/),
	'a missing nango.database is logged');
$node->safe_psql('postgres', 'CREATE DATABASE nangodb');
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'nango launcher' AND datname = 'nangodb'"),
	'the launcher starts once the database exists');
ok($node->wait_for_log(qr/extension "nango" is not installed in database "nangodb"/),
	'a missing extension is logged');
sql('CREATE EXTENSION nango');

# --- DROP EXTENSION during a running job -----------------------------------
my $s = add_sync('/worker/slow?delay=3&n=1', '{"response_path": "data"}');
$node->poll_query_until('nangodb',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $s AND status = 'running'");
my $log_offset = -s $node->logfile;
sql('DROP EXTENSION nango');
pass('DROP EXTENSION during a running job completes');
ok($node->wait_for_log(qr/extension "nango" is not installed/, $log_offset),
	'the launcher notices and idles');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'nango launcher'"), '1',
	'the launcher is still there');
sql('CREATE EXTENSION nango');
$s = add_sync('/worker/slow?delay=0&n=1', '{"response_path": "data"}');
ok($node->poll_query_until('nangodb',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $s AND status = 'succeeded'"),
	'after CREATE EXTENSION syncs run again');

# --- roles: dropped owner, NOLOGIN owner, no write permission -------------
$node->safe_psql('postgres', q{
	CREATE ROLE nango_alice LOGIN;
	CREATE ROLE nango_bob LOGIN;
	CREATE ROLE nango_nologin NOLOGIN;
	GRANT CREATE ON DATABASE nangodb TO nango_alice, nango_bob, nango_nologin;
});
sql('CREATE TABLE public.protected (id bigint)');
sql('INSERT INTO public.protected VALUES (42)');
my $alice = sql("SET ROLE nango_alice; SELECT nango.add_sync('$mock/worker/slow?delay=0&n=1',
	'{\"response_path\": \"data\", \"frequency\": \"2 seconds\"}')");
my $bob = sql("SET ROLE nango_bob; SELECT nango.add_sync('$mock/worker/slow?delay=0&n=1',
	'{\"response_path\": \"data\", \"frequency\": \"2 seconds\"}')");
ok($node->poll_query_until('nangodb',
	"SELECT count(*) = 2 FROM nango.jobs WHERE sync_id IN ($alice, $bob) AND status = 'succeeded'"),
	'syncs of two roles run');

$log_offset = -s $node->logfile;
$node->safe_psql('nangodb', 'DROP OWNED BY nango_alice; ');
$node->safe_psql('postgres', 'DROP OWNED BY nango_alice; DROP ROLE nango_alice');
ok($node->wait_for_log(qr/sync $alice in nangodb skipped: its owner role .* no longer exists/, $log_offset),
	'a sync whose owner was dropped is skipped with a log line');
my $bob_jobs = sql("SELECT count(*) FROM nango.jobs WHERE sync_id = $bob");
ok($node->poll_query_until('nangodb',
	"SELECT count(*) > $bob_jobs + 1 FROM nango.jobs WHERE sync_id = $bob AND status = 'succeeded'"),
	'the other role\'s sync keeps running');
sql("SELECT nango.pause_sync($bob)");

my $nl = sql("SET ROLE nango_nologin; SELECT nango.add_sync('$mock/worker/slow?delay=0&n=1',
	'{\"response_path\": \"data\", \"frequency\": \"1 hour\"}')");
ok($node->poll_query_until('nangodb',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $nl AND status = 'succeeded'"),
	'a sync owned by a role without LOGIN runs');
SKIP: {
skip 'auto-mapping is not available', 3
  unless sql("SELECT to_regclass('nango._nango_sync_$nl') IS NOT NULL") eq 't';
# Code running as that owner (here a trigger on its mapped table) cannot get
# back to the superuser the job worker connected as.
sql(qq{
	CREATE TABLE public.escalation (who text);
	GRANT INSERT ON public.escalation TO PUBLIC;
	CREATE FUNCTION public.escalate() RETURNS trigger LANGUAGE plpgsql AS
	  \$\$ BEGIN RESET SESSION AUTHORIZATION;
	     INSERT INTO public.escalation VALUES (session_user); RETURN NEW; END \$\$;
	CREATE TRIGGER escalate BEFORE INSERT ON nango._nango_sync_$nl
	  FOR EACH ROW EXECUTE FUNCTION public.escalate();
});
sql("SELECT nango.trigger_sync($nl)");
ok($node->poll_query_until('nangodb',
	"SELECT count(*) >= 1 FROM nango.jobs WHERE sync_id = $nl AND status = 'failed'"),
	'the job of a NOLOGIN owner cannot switch back to the superuser');
like(sql("SELECT error_message FROM nango.jobs WHERE sync_id = $nl AND status = 'failed' ORDER BY id LIMIT 1"),
	qr/cannot set parameter "session_authorization"/, 'it fails on the restriction');
is(sql('SELECT count(*) FROM public.escalation'), '0', 'nothing ran as the superuser');
sql("DROP TRIGGER escalate ON nango._nango_sync_$nl; DROP FUNCTION public.escalate(); DROP TABLE public.escalation");
}
sql("SELECT nango.pause_sync($nl)");

# Mapped tables are written as the owner: a table the owner cannot write
# makes the job fail (or add_sync refuse it).  Needs auto-mapping.
my $mapping = sql("SELECT to_regclass('nango._nango_sync_$bob') IS NOT NULL") eq 't';
SKIP: {
skip 'auto-mapping is not available', 2 unless $mapping;
my ($ret, $out, $err) = $node->psql('nangodb', "SET ROLE nango_bob; SELECT nango.add_sync('$mock/worker/slow?delay=0&n=1',
	'{\"response_path\": \"data\", \"mapped_table\": \"public.protected\"}')");
if ($ret != 0)
{
	like($err, qr/permission denied/, 'a sync into a table its owner cannot write is refused');
}
else
{
	my $p = $out;
	ok($node->poll_query_until('nangodb',
		"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $p AND status <> 'running'"),
		'the sync into a protected table ends');
	is(sql("SELECT status FROM nango.jobs WHERE sync_id = $p"), 'failed',
		'a sync cannot write a table its owner cannot write');
}
is(sql('SELECT string_agg(id::text, \',\') FROM public.protected'), '42', 'the table is untouched');
}
sql("SELECT nango.delete_sync(id) FROM nango.syncs");

# --- CREATE DATABASE ... TEMPLATE nango.database -----------------------------
$node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'nango job'");
my ($ret, $out, $err) = $node->psql('postgres', 'CREATE DATABASE nangocopy TEMPLATE nangodb');
is($ret, 0, 'nango.database can be copied with CREATE DATABASE ... TEMPLATE') or diag($err);
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'nango launcher' AND datname = 'nangodb'"),
	'the launcher comes back after the copy');
$node->safe_psql('postgres', 'DROP DATABASE nangocopy');

# --- DROP DATABASE during a running job ------------------------------------
$s = add_sync('/worker/slow?delay=10&n=1', '{"response_path": "data"}');
$node->poll_query_until('nangodb',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $s AND status = 'running'");
($ret, $out, $err) = $node->psql('postgres', 'DROP DATABASE nangodb');
is($ret, 0, 'DROP DATABASE during a running job completes') or diag($err);
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type IN ('nango launcher', 'nango job')"),
	'the launcher and job workers are gone');
$node->safe_psql('postgres', 'CREATE DATABASE nangodb');
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'nango launcher' AND datname = 'nangodb'"),
	'the launcher comes back when the database is created again');
($ret, $out, $err) = $node->psql('postgres', 'ALTER DATABASE nangodb RENAME TO nangodb2');
is($ret, 0, 'ALTER DATABASE RENAME of nango.database works') or diag($err);
$node->safe_psql('postgres', 'DROP DATABASE nangodb2');

$node->safe_psql('postgres', 'DROP ROLE nango_bob; DROP ROLE nango_nologin');
$node->stop;
my $log = slurp_file($node->logfile);
unlike($log, qr/server process .* was terminated by signal|TRAP/, 'nothing crashed');
done_testing();
