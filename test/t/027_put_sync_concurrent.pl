# nango.put_sync of one name from two sessions at once leaves one sync:
# the second waits for the first to commit, then replaces its config.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('put_sync');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'nango'
nango.database = 'nodb'
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION nango');

# Session A adds the sync and keeps its transaction open.
my ($in_a, $out_a, $err_a) = ('', '', '');
my $a = IPC::Run::start([ 'psql', '-X', '-A', '-t', '-d', $node->connstr('postgres') ],
	'<', \$in_a, '>', \$out_a, '2>', \$err_a);
$in_a .= "BEGIN;\nSELECT 'a:' || nango.put_sync('tickets', 'https://api.example.com/a', '{\"frequency\": \"1 hour\"}');\n";
$a->pump until $out_a =~ /a:\d+/ || !$a->pumpable;
like($out_a, qr/a:\d+/, 'session A put the sync (uncommitted)');

# Session B puts the same name: it waits for A.
my ($in_b, $out_b, $err_b) = ('', '', '');
my $b = IPC::Run::start([ 'psql', '-X', '-A', '-t', '-d', $node->connstr('postgres'), '-c',
	q{SELECT 'b:' || nango.put_sync('tickets', 'https://api.example.com/b', '{"frequency": "2 hours"}')} ],
	'<', \$in_b, '>', \$out_b, '2>', \$err_b);
my $waiting = '';
for (1 .. 100)
{
	$waiting = $node->safe_psql('postgres',
		q{SELECT wait_event_type FROM pg_stat_activity WHERE query LIKE '%''b:''%' AND pid <> pg_backend_pid()});
	last if $waiting eq 'Lock';
	usleep(50_000);
}
is($waiting, 'Lock', 'session B waits for session A');

$in_a .= "COMMIT;\n\\q\n";
$a->finish;
$b->finish;
unlike($err_b, qr/ERROR/, 'session B succeeds once A has committed');
my ($ida) = $out_a =~ /a:(\d+)/;
my ($idb) = $out_b =~ /b:(\d+)/;
is($idb, $ida, 'both sessions name the same sync');
is($node->safe_psql('postgres',
	q{SELECT count(*) || ' ' || min(url) || ' ' || min(frequency::text) FROM nango.syncs WHERE friendly_name = 'tickets'}),
	'1 https://api.example.com/b 02:00:00', 'one sync, with the config of the last put_sync');

$node->stop;
done_testing();
