# pg_upgrade of a cluster where nango is preloaded and has an active sync
# due every second: while pg_upgrade runs the old and the new server in
# binary-upgrade mode, the library starts nothing (no worker in their logs,
# no job row added); afterwards every sync, job, raw row and mapped row is in
# the new cluster, and its worker runs the sync again.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $mock = $ENV{NANGO_MOCK_URL} or die "NANGO_MOCK_URL is not set";

# pg_upgrade and the servers come from the same (private) installation: the
# one whose binaries are first in PATH.
my ($bindir) = grep { -x "$_/pg_upgrade" && -x "$_/postgres" } split /:/, $ENV{PATH};
plan skip_all => 'pg_upgrade not found in PATH' unless $bindir;

# Settings of both clusters; log_min_messages = debug1 makes the postmaster
# log every background worker it registers and starts.
my $conf = qq{
shared_preload_libraries = 'nango'
nango.database = 'appdb'
nango.allow_private_networks = on
nango.poll_interval = '100ms'
log_min_messages = debug1
lc_messages = 'C'
};
# Appended to keep the worker idle (its database does not exist) while the
# data are compared; appending $conf again undoes it.
my $idle = "nango.database = 'no_worker_database'\n";

# A launcher, a supervisor or a job worker of nango in a server log.
my $nango_worker_re = qr/background worker "nango|nango (launcher|supervisor)|nango job/;

my $old = PostgreSQL::Test::Cluster->new('old');
$old->init;
$old->append_conf('postgresql.conf', $conf);
$old->start;
$old->safe_psql('postgres', 'CREATE DATABASE appdb');
$old->safe_psql('appdb', qq{
	CREATE EXTENSION nango;
	SELECT nango.add_sync('$mock/upgrade/items', '{
	  "friendly_name": "every second", "response_path": "data", "unique_key": "id",
	  "paging_cursor_request_path": "cursor", "paging_cursor_metadata_response_path": "next",
	  "query_params": {"n": 6}, "mapped_table": "items", "frequency": "1 second"}');
	SELECT nango.add_sync('$mock/upgrade/items?n=3', '{
	  "friendly_name": "paused", "response_path": "data", "auto_mapping": false}');
});
ok($old->poll_query_until('appdb', q{
	SELECT count(*) >= 2 FROM nango.jobs j JOIN nango.syncs s ON s.id = j.sync_id
	 WHERE s.friendly_name = 'every second' AND j.status = 'succeeded'}),
	'the worker runs the sync every second in the old cluster');
ok($old->poll_query_until('appdb', q{
	SELECT count(*) = 1 FROM nango.jobs j JOIN nango.syncs s ON s.id = j.sync_id
	 WHERE s.friendly_name = 'paused' AND j.status = 'succeeded'}),
	'the second sync has run once');
$old->safe_psql('appdb', q{SELECT nango.pause_sync(id) FROM nango.syncs WHERE friendly_name = 'paused'});
like(slurp_file($old->logfile), qr/registering background worker "nango supervisor"/,
	'the log shows the nango supervisor registered at a normal start (the pattern looked for later)');
like(slurp_file($old->logfile), qr/nango launcher started in database "appdb"/,
	'... and the launcher started');
$old->stop;

# fingerprint(node): counts and md5 of every sync, job, raw row, mapped row
# and of nango's sequences.
sub fingerprint
{
	my ($node) = @_;
	my @lines;
	for my $t ('nango.syncs', 'nango.jobs', 'nango.raw', 'nango.items')
	{
		push @lines, "$t: " . $node->safe_psql('appdb', qq{
			SELECT count(*) || ' rows, md5 ' || coalesce(md5(string_agg(r, E'\\n' ORDER BY r COLLATE "C")), '-')
			  FROM (SELECT t::text AS r FROM $t t) s});
	}
	push @lines, 'sequences: ' . $node->safe_psql('appdb', q{
		SELECT string_agg(c.oid::regclass::text || ' ' || s.last_value, ', ' ORDER BY c.relname)
		  FROM pg_class c, LATERAL pg_sequence_last_value(c.oid) s(last_value)
		 WHERE c.relkind = 'S' AND c.relnamespace = 'nango'::regnamespace});
	push @lines, 'last job: ' . $node->safe_psql('appdb', q{SELECT max(id) FROM nango.jobs});
	return join("\n", @lines) . "\n";
}

# The old cluster's data, read with the worker idle; then the worker's
# database is set again, so that a worker started during pg_upgrade would
# run the sync (it is due: it runs every second).
$old->append_conf('postgresql.conf', $idle);
$old->start;
my $before = fingerprint($old);
note("old cluster:\n$before");
like($before, qr/^nango\.raw: 9 rows/m, 'raw rows of both syncs');
like($before, qr/^nango\.items: 6 rows/m, 'mapped rows');
$old->stop;
$old->append_conf('postgresql.conf', $conf);

my $new = PostgreSQL::Test::Cluster->new('new');
$new->init;
$new->append_conf('postgresql.conf', $conf);

# pg_upgrade writes scripts into the current directory and keeps its logs
# (--retain) in the new data directory's pg_upgrade_output.d.
chdir $new->basedir or die "cannot chdir: $!";
command_ok([
		'pg_upgrade', '--no-sync', '--retain',
		'-d', $old->data_dir, '-D', $new->data_dir,
		'-b', $bindir, '-B', $bindir,
		'-s', $new->host, '-p', $old->port, '-P', $new->port ],
	'pg_upgrade from the old cluster to the new one');

my @server_logs = glob($new->data_dir . '/pg_upgrade_output.d/*/log/pg_upgrade_server.log');
is(scalar @server_logs, 1, "pg_upgrade's server log is kept");
my $server_log = @server_logs ? slurp_file($server_logs[0]) : '';
my $loads = () = $server_log =~ /loaded library "nango"/g;
cmp_ok($loads, '>=', 2, "pg_upgrade's server log shows nango preloaded by the old and the new server");
my @worker_lines = grep { /$nango_worker_re/ } split /\n/, $server_log;
is(scalar @worker_lines, 0, 'no nango worker was registered or started during pg_upgrade')
  or diag(join("\n", @worker_lines[ 0 .. ($#worker_lines < 9 ? $#worker_lines : 9) ]));

# The new cluster has every sync, job and row, and no job was added.
$new->append_conf('postgresql.conf', $idle);
$new->start;
is($new->safe_psql('appdb', q{
	SELECT extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'nango')
	  FROM pg_extension WHERE extname = 'nango'}), 't', 'the extension is in the new cluster');
my $after = fingerprint($new);
ok($after eq $before, 'every sync, job, raw row and mapped row is in the new cluster; no job was added')
  or diag("old cluster:\n$before\nnew cluster:\n$after");
$new->stop;

# With its database set, the worker runs the sync in the new cluster.
$new->append_conf('postgresql.conf', $conf);
$new->start;
my ($last_job) = $before =~ /^last job: (\d+)$/m;
ok($new->poll_query_until('appdb', qq{
	SELECT count(*) >= 1 FROM nango.jobs j JOIN nango.syncs s ON s.id = j.sync_id
	 WHERE s.friendly_name = 'every second' AND j.status = 'succeeded' AND j.id > $last_job}),
	'the worker runs the sync in the new cluster');
is($new->safe_psql('appdb', q{
	SELECT count(*) || ' rows, ' || count(*) FILTER (WHERE price = id * 1.25) || ' mapped correctly'
	  FROM nango.items}),
	'6 rows, 6 mapped correctly', 'the mapped table is still written to');
like(slurp_file($new->logfile), qr/nango launcher started in database "appdb"/,
	'the launcher started in the new cluster');
$new->stop;
done_testing();
