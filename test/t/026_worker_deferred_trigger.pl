# The owner's code keeps working in the background worker (docs/security.md):
# a job worker runs as the sync's owner, so a deferred constraint trigger
# on the mapped table fires at the job's commit, as the owner, while a
# superuser's run_sync of the same sync is refused with a clear message.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $mock = $ENV{NANGO_MOCK_URL} or plan skip_all => 'NANGO_MOCK_URL not set';

my $node = PostgreSQL::Test::Cluster->new('worker_deferred');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'nango'
nango.allow_private_networks = on
nango.poll_interval = '200ms'
max_worker_processes = 16
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION nango');

sub sql { return $node->safe_psql('postgres', $_[0]); }

sql(qq{CREATE ROLE wd_owner LOGIN;
CREATE SCHEMA wd AUTHORIZATION wd_owner;
SET ROLE wd_owner;
CREATE TABLE wd.fired (who name);
CREATE FUNCTION wd.note() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN INSERT INTO wd.fired VALUES (current_user); RETURN NULL; END \$\$;
CREATE TABLE wd.items ();
CREATE CONSTRAINT TRIGGER note AFTER INSERT ON wd.items
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION wd.note();});
my $s = sql(qq{SET ROLE wd_owner; SELECT nango.add_sync('$mock/worker/slow?delay=0&n=2',
  '{"response_path": "data", "mapped_table": "wd.items", "frequency": "1 hour"}')});

ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM nango.jobs WHERE sync_id = $s AND status = 'succeeded'"),
	"the worker's job succeeds");
is(sql("SELECT string_agg(DISTINCT who, ',') || ' ' || count(*) FROM wd.fired"), 'wd_owner 2',
	'the deferred trigger fired at the job commit, as the owner');

my ($ret, $out, $err) = $node->psql('postgres', "SELECT nango.run_sync($s)");
like($err, qr/job failed: mapped_table wd\.items has a deferred trigger "note"/,
	"a superuser's run_sync is refused with a clear message");
is(sql("SELECT count(*) FROM wd.fired"), '2', 'and nothing fired for the superuser');

$node->stop;
done_testing();
