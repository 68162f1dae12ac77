# ALTER EXTENSION nango UPDATE keeps every sync, job and row, and leaves
# exactly the catalog that CREATE EXTENSION of the current version creates.
#
# For every released version (each version with an install script other
# than the current one): a database is created at that version, filled with
# syncs covering the table features (upsert with auto-mapping and soft
# deletes, overwrite, paused, cron, triggered, failed, schema-qualified
# mapped table, incremental state; owned by a superuser and by an ordinary
# role, which also has a Pizzly sync) that have run, so there are jobs, raw
# rows and mapped rows; a
# fingerprint of all that data is taken; ALTER EXTENSION nango UPDATE; the
# fingerprint must be unchanged, syncs must still run, and the extension's
# catalog (test/sql/extension_catalog.sql) must be identical to the one of a
# database where the current version was created directly.  A schema change
# in src/sql/ without the matching upgrade script fails here with a diff.
# The ordinary role's Pizzly sync still runs after the update (0.3.0 grants
# it the connection it used: nango.grant_connection).
# Also: released install scripts are unchanged (checksums), every released
# version has an update path, the User-Agent names the current version, an
# update on the current version is a no-op, DROP and CREATE EXTENSION work.
use strict;
use warnings;
use Digest::MD5;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $mock = $ENV{NANGO_MOCK_URL} or die "NANGO_MOCK_URL is not set";
my $src = $ENV{NANGO_SRC} or die "NANGO_SRC is not set";
my $catalog_sql = slurp_file("$src/test/sql/extension_catalog.sql");

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
# The worker idles (its database does not exist): syncs run by run_sync only,
# so nothing changes the data between two fingerprints.
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'nango'
nango.database = 'no_worker_database'
nango.allow_private_networks = on
nango.log_level = warning
nango.pizzly_base_url = '$mock/pizzly'
lc_messages = 'C'
});
$node->start;

my $current = $node->safe_psql('postgres',
	q{SELECT default_version FROM pg_available_extensions WHERE name = 'nango'});
my @released = split /\n/, $node->safe_psql('postgres', q{
	SELECT version FROM pg_available_extension_versions
	 WHERE name = 'nango' AND version <> (SELECT default_version FROM pg_available_extensions
	                                       WHERE name = 'nango')
	 ORDER BY string_to_array(version, '.')::int[]});
ok((grep { $_ eq '0.1.0' } @released), "released versions before $current: @released");

# The install scripts of released versions are never edited (a change would
# reach new installations of that version but not the databases that
# already run it): each is checked against the checksum it shipped with.
# Freezing a version adds its line here.
my %released_md5 = ('nango--0.1.0.sql' => 'a2209b8598fe6d4be3e6903bfd92a119',
	'nango--0.2.0.sql' => '455d504f1c1c426cd2ec7b70ee9dea75');
my $extdir = $node->config_data('--sharedir') . '/extension';
for my $v (@released)
{
	my $file = "nango--$v.sql";
	open(my $fh, '<', "$extdir/$file") or die "cannot read $extdir/$file: $!";
	binmode($fh);
	is(Digest::MD5->new->addfile($fh)->hexdigest, $released_md5{$file} // 'a checksum in %released_md5',
		"$file is installed as it was released");
	close($fh);
}

# Every released version has an update path to the current one.
for my $v (@released)
{
	is($node->safe_psql('postgres', qq{
		SELECT path FROM pg_extension_update_paths('nango')
		 WHERE source = '$v' AND target = '$current' AND path IS NOT NULL}) ne '', 1,
		"an update path from $v to $current exists");
}

# catalog(db): the extension's catalog as text lines.
sub catalog
{
	my ($db) = @_;
	return $node->safe_psql($db, $catalog_sql) . "\n";
}

# catalog_diff(name, expected, got): unified diff of two catalogs ('' when equal).
sub catalog_diff
{
	my ($name, $expected, $got) = @_;
	my $dir = $node->basedir;
	my ($fa, $fb) = ("$dir/$name.expected", "$dir/$name.got");
	for ([ $fa, $expected ], [ $fb, $got ])
	{
		open(my $fh, '>', $_->[0]) or die "cannot write $_->[0]: $!";
		print $fh $_->[1];
		close($fh);
	}
	return scalar `diff -u $fa $fb 2>&1`;
}

# catalog_is(name, expected, got, message): passes when both are identical,
# otherwise fails showing the diff.
sub catalog_is
{
	my ($name, $expected, $got, $msg) = @_;
	my $diff = catalog_diff($name, $expected, $got);
	ok($diff eq '', $msg) or diag("extension catalog differs (- expected, + got):\n$diff");
}

# The reference: the current version created directly.
$node->safe_psql('postgres', q{
	CREATE DATABASE fresh;
	CREATE ROLE upg_owner LOGIN;
});
$node->safe_psql('fresh', 'CREATE EXTENSION nango');
is($node->safe_psql('fresh', q{SELECT extversion FROM pg_extension WHERE extname = 'nango'}),
	$current, "CREATE EXTENSION nango creates version $current");
my $reference = catalog('fresh');

# The User-Agent names the version of the control file (src/nango.h).
is($node->safe_psql('fresh', qq{
	SET client_min_messages = error;
	SELECT nango.add_sync('$mock/upgrade/agent', '{"response_path": "data", "auto_mapping": false}') AS id \\gset
	SELECT nango.run_sync(:id) AS job \\gset
	SELECT data->>'user_agent' FROM nango.raw WHERE sync_id = :id;
	SELECT nango.delete_sync(:id) \\gset}),
	"nango/$current (PostgreSQL extension)", 'the User-Agent names the current version');
like($reference, qr/^member: table nango\.raw$/m, 'the catalog lists the member tables');
like($reference, qr/^index raw_sync_key_idx: CREATE UNIQUE INDEX/m, 'the catalog lists indexes');

# Syncs covering the table features; $mock is the mock API's base URL.
# Run as a superuser:
my $sql_superuser = qq{
	-- overwrite (no unique_key), mapped into nango.overwrite_items, run twice
	SELECT nango.add_sync('$mock/upgrade/items?n=6', '{
	  "friendly_name": "overwrite", "response_path": "data",
	  "paging_cursor_request_path": "cursor", "paging_cursor_metadata_response_path": "next",
	  "mapped_table": "overwrite_items", "metadata": {"source": "upgrade", "account": 7},
	  "frequency": "30 seconds"}') AS id \\gset
	SELECT nango.run_sync(:id) > 0, nango.run_sync(:id) > 0;
	-- a cron schedule, run once, then paused
	SELECT nango.add_sync('$mock/upgrade/items?n=3', '{
	  "friendly_name": "paused", "response_path": "data", "unique_key": "id",
	  "cron": "0 9 * * 1", "auto_mapping": false}') AS id \\gset
	SELECT nango.run_sync(:id) > 0;
	SELECT nango.pause_sync(:id);
	-- a failing API: a failed job with its error
	SELECT nango.add_sync('$mock/upgrade/items?fail=1', '{
	  "friendly_name": "failing", "retries": 0, "auto_mapping": false}') AS id \\gset
	SET client_min_messages = error;
	SELECT nango.run_sync(:id) > 0;
};
# Run as the ordinary role upg_owner:
my $sql_owner = qq{
	-- upsert with auto-mapping into the default table, soft deletes: 10
	-- records, then 8 (9 and 10 are soft-deleted)
	SELECT nango.add_sync('$mock/upgrade/items', '{
	  "friendly_name": "upsert", "response_path": "data", "unique_key": "id",
	  "paging_cursor_request_path": "cursor", "paging_cursor_metadata_response_path": "next",
	  "query_params": {"n": 10}, "delete_mode": "soft"}') AS id \\gset
	SELECT nango.run_sync(:id) > 0;
	SELECT nango.update_sync(:id, '{"query_params": {"n": 8}}');
	SELECT nango.run_sync(:id) > 0;
	-- a schema-qualified mapped table, metadata, triggered
	SELECT nango.add_sync('$mock/upgrade/items?n=5', '{
	  "friendly_name": "crm items", "response_path": "data", "unique_key": "owner.email",
	  "paging_cursor_request_path": "cursor", "paging_cursor_metadata_response_path": "next",
	  "mapped_table": "crm.\\"Items\\"", "metadata": {"region": "eu"}, "frequency": "5 minutes"}') AS id \\gset
	SELECT nango.run_sync(:id) > 0;
	SELECT nango.trigger_sync(:id);
	-- incremental: the highest seq seen is kept in incremental_state
	SELECT nango.add_sync('$mock/upgrade/items', '{
	  "friendly_name": "incremental", "response_path": "data", "unique_key": "id",
	  "paging_cursor_request_path": "cursor", "paging_cursor_metadata_response_path": "next",
	  "incremental_cursor_path": "seq", "incremental_request_path": "since",
	  "incremental_initial_value": 3, "mapped_table": "crm.incremental"}') AS id \\gset
	SELECT nango.run_sync(:id) > 0;
};

# The tables whose data the upgrade must keep, with their columns before it
# (an upgrade may add columns; the columns that were there must keep every
# value).  Mapped tables are listed with their column types too.
sub data_tables
{
	my ($db) = @_;
	my %cols;
	my @tables = split /\n/, $node->safe_psql($db, q{
		SELECT unnest(ARRAY['nango.syncs', 'nango.jobs', 'nango.raw'])
		UNION SELECT DISTINCT mapped_table FROM nango.syncs WHERE mapped_table IS NOT NULL
		UNION SELECT c.oid::regclass::text FROM pg_class c
		       WHERE c.relkind = 'S' AND c.relnamespace = 'nango'::regnamespace});
	for my $t (@tables)
	{
		# a sequence's state is last_value and is_called (log_cnt is internal)
		$cols{$t} = $node->safe_psql($db, qq{
			SELECT CASE WHEN relkind = 'S' THEN 'last_value, is_called'
			       ELSE (SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
			              WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped) END
			  FROM pg_class c WHERE c.oid = '$t'::regclass});
	}
	return \%cols;
}

# fingerprint(db, tables): per table its row count and the md5 of all its
# rows (those columns, in a fixed order); for mapped tables also the column
# types.
sub fingerprint
{
	my ($db, $tables) = @_;
	my @lines;
	for my $t (sort keys %$tables)
	{
		my $types = $t =~ /^nango\.(syncs|jobs|raw)$/ || $tables->{$t} eq 'last_value, is_called' ? q{''} : qq{
			(SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
			   FROM pg_attribute WHERE attrelid = '$t'::regclass AND attnum > 0 AND NOT attisdropped)};
		push @lines, "$t: " . $node->safe_psql($db, qq{
			SELECT count(*) || ' rows, md5 '
			       || coalesce(md5(string_agg(r, E'\\n' ORDER BY r COLLATE "C")), '-') || ' ' || $types
			  FROM (SELECT ROW($tables->{$t})::text AS r FROM $t) s});
	}
	return join("\n", @lines) . "\n";
}

for my $v (@released)
{
	(my $db = "from_$v") =~ tr/./_/;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, qq{
		CREATE EXTENSION nango VERSION '$v';
		CREATE SCHEMA crm AUTHORIZATION upg_owner;
	});
	is($node->safe_psql($db, q{SELECT extversion FROM pg_extension WHERE extname = 'nango'}),
		$v, "$db: CREATE EXTENSION nango VERSION '$v'");

	$node->safe_psql($db, $sql_superuser);
	$node->safe_psql($db, $sql_owner, connstr => $node->connstr($db) . ' user=upg_owner');
	is($node->safe_psql($db, q{
		SELECT string_agg(s.friendly_name || ' ' || s.status || ' ' || j.status, ', ' ORDER BY j.id)
		  FROM nango.jobs j JOIN nango.syncs s ON s.id = j.sync_id}),
		'overwrite active succeeded, overwrite active succeeded, paused paused succeeded, '
		  . 'failing active failed, upsert active succeeded, upsert active succeeded, '
		  . 'crm items active succeeded, incremental active succeeded',
		"$db: the syncs ran at $v");
	is($node->safe_psql($db, q{
		SELECT (SELECT count(*) FROM nango.raw) || ' raw, '
		    || (SELECT count(*) FROM nango.raw WHERE deleted_at IS NOT NULL) || ' soft-deleted, '
		    || (SELECT count(*) FROM nango.overwrite_items) || ' overwritten, '
		    || (SELECT count(*) FROM crm."Items") || ' crm, '
		    || (SELECT count(*) FROM crm.incremental) || ' incremental, state '
		    || (SELECT incremental_state::text FROM nango.syncs WHERE friendly_name = 'incremental')
		    || ', ' || (SELECT count(*) FROM nango.syncs WHERE owner = 'upg_owner'::regrole)
		    || ' syncs of upg_owner'}),
		'32 raw, 2 soft-deleted, 6 overwritten, 5 crm, 8 incremental, state 10, 3 syncs of upg_owner',
		"$db: raw rows, mapped rows and incremental state at $v");
	# A Pizzly sync of the ordinary role (the alias keys; no grant needed
	# before 0.3.0).
	is($node->safe_psql($db, qq{
		SET client_min_messages = error;
		SELECT nango.add_sync('$mock/pizzly/api/items', '{
		  "friendly_name": "pizzly", "response_path": "data", "auto_mapping": false,
		  "nango_connection_id": "ok", "nango_provider_config_key": "github"}') AS id \\gset
		SELECT nango.run_sync(:id) AS job \\gset
		SELECT status FROM nango.jobs WHERE id = :job},
		connstr => $node->connstr($db) . ' user=upg_owner'),
		'succeeded', "$db: a Pizzly sync of upg_owner runs at $v");
	my $upsert_table = $node->safe_psql($db,
		q{SELECT mapped_table FROM nango.syncs WHERE friendly_name = 'upsert'});
	is($node->safe_psql($db, qq{
		SELECT count(*) || ' rows, ' || count(_nango_deleted_at) || ' deleted, '
		       || string_agg(DISTINCT pg_typeof(price)::text || '/' || pg_typeof(created_at)::text
		                     || '/' || pg_typeof(owner_email)::text, ',')
		  FROM $upsert_table}),
		'10 rows, 2 deleted, numeric/timestamp with time zone/text',
		"$db: auto-mapped rows of the upsert sync in $upsert_table");

	my $tables = data_tables($db);
	my $before = fingerprint($db, $tables);
	note("fingerprint at $v:\n$before");

	$node->safe_psql($db, 'ALTER EXTENSION nango UPDATE');
	is($node->safe_psql($db, q{SELECT extversion FROM pg_extension WHERE extname = 'nango'}),
		$current, "$db: ALTER EXTENSION nango UPDATE brings $v to $current");

	my $after = fingerprint($db, $tables);
	ok($after eq $before, "$db: every sync, job, raw row, mapped row and sequence is kept")
	  or diag("data fingerprint differs (- before, + after the update):\n"
		  . catalog_diff("$db-data", $before, $after));

	my $upgraded = catalog($db);
	catalog_is($db, $reference, $upgraded,
		"$db: the catalog after the update equals the one of CREATE EXTENSION nango $current");

	# The syncs still run, as their owner, and new syncs can be added.
	is($node->safe_psql($db, q{
		SET client_min_messages = error;
		SELECT nango.run_sync(id) AS job FROM nango.syncs WHERE friendly_name = 'upsert' \gset
		SELECT j.status || ' ' || j.fetched_count || ' fetched, ' || j.unchanged_count || ' unchanged'
		  FROM nango.jobs j WHERE j.id = :job},
		connstr => $node->connstr($db) . ' user=upg_owner'),
		'succeeded 8 fetched, 8 unchanged', "$db: the upsert sync runs after the update");
	is($node->safe_psql($db, q{
		SET client_min_messages = error;
		SELECT nango.run_sync(id) AS job FROM nango.syncs WHERE friendly_name = 'incremental' \gset
		SELECT j.status || ' ' || s.incremental_state::text || ' ' || j.fetched_count || ' fetched'
		  FROM nango.jobs j JOIN nango.syncs s ON s.id = j.sync_id WHERE j.id = :job},
		connstr => $node->connstr($db) . ' user=upg_owner'),
		'succeeded 10 1 fetched', "$db: the incremental sync resumes from its state");
	is($node->safe_psql($db, q{
		SELECT string_agg(g.provider_config_key || '/' || g.connection_id || ' to ' || g.grantee
		                  || (CASE WHEN g.granted_by = e.extowner::regrole THEN ' by the extension owner'
		                      ELSE ' by ' || g.granted_by END), ', ')
		  FROM nango.connection_grants g, pg_extension e WHERE e.extname = 'nango'}),
		'github/ok to upg_owner by the extension owner',
		"$db: the update granted upg_owner the Pizzly connection its sync uses");
	is($node->safe_psql($db, q{
		SET client_min_messages = error;
		SELECT nango.run_sync(id) AS job FROM nango.syncs WHERE friendly_name = 'pizzly' \gset
		SELECT status || ' ' || fetched_count || ' fetched' FROM nango.jobs WHERE id = :job},
		connstr => $node->connstr($db) . ' user=upg_owner'),
		'succeeded 1 fetched', "$db: the Pizzly sync of upg_owner runs after the update");
	is($node->safe_psql($db, qq{
		SET client_min_messages = error;
		SELECT nango.add_sync('$mock/upgrade/items?n=2', '{"response_path": "data", "mapped_table": "crm.later"}') AS id \\gset
		SELECT nango.run_sync(:id) AS job \\gset
		SELECT j.status || ' ' || j.added_count || ' added, sync ' || (j.sync_id = (SELECT max(id) FROM nango.syncs))
		  FROM nango.jobs j WHERE j.id = :job},
		connstr => $node->connstr($db) . ' user=upg_owner'),
		'succeeded 2 added, sync true', "$db: a sync added after the update runs");

	# Updating again when already current changes nothing.
	my ($ret, $out, $err) = $node->psql($db, 'ALTER EXTENSION nango UPDATE');
	is($ret, 0, "$db: ALTER EXTENSION nango UPDATE again succeeds");
	like($err, qr/version "\Q$current\E" of extension "nango" is already installed/,
		"$db: ... and says the version is already installed");
	catalog_is("$db-again", $upgraded, catalog($db), "$db: ... and leaves the catalog unchanged");

	# DROP and CREATE of the current version in the upgraded database (its
	# mapped tables stay in schema nango and crm).
	$node->safe_psql($db, 'DROP EXTENSION nango');
	$node->safe_psql($db, 'CREATE EXTENSION nango');
	catalog_is("$db-recreated", $reference, catalog($db),
		"$db: DROP and CREATE EXTENSION nango give the current catalog again");
	is($node->safe_psql($db, qq{SELECT count(*) FROM $upsert_table}), '10',
		"$db: the mapped tables stay after DROP EXTENSION");
}

# Names became unique per owner in 0.3.0: syncs of one owner that share a
# friendly_name (possible before; written directly here, as the current
# library refuses them) keep it on the oldest and get " #<id>" on the
# others; other owners' syncs of that name keep it.
for my $v (@released)
{
	(my $db = "names_$v") =~ tr/./_/;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, qq{
		CREATE EXTENSION nango VERSION '$v';
		INSERT INTO nango.syncs (owner, url, friendly_name, frequency)
		VALUES ('postgres', '$mock/upgrade/items', 'twin', '1 hour'),
		       ('postgres', '$mock/upgrade/items', 'twin', '1 hour'),
		       ('postgres', '$mock/upgrade/items', 'twin', '1 hour'),
		       ('postgres', '$mock/upgrade/items', 'single', '1 hour'),
		       ('upg_owner', '$mock/upgrade/items', 'twin', '1 hour');
	});
	$node->safe_psql($db, 'ALTER EXTENSION nango UPDATE');
	is($node->safe_psql($db, q{
		SELECT string_agg(owner::text || ' ' || friendly_name, ', ' ORDER BY id) FROM nango.syncs}),
		'postgres twin, postgres twin #2, postgres twin #3, postgres single, upg_owner twin',
		"$db: syncs sharing a name with an older sync of the same owner are renamed by the update");
	is($node->safe_psql($db, q{
		SET client_min_messages = error;
		SELECT nango.pause_sync('twin #3') \\gset
		SELECT status FROM nango.syncs WHERE id = 3}), 'paused',
		"$db: a renamed sync is found by its new name");
}

# In the reference database: an update when current is a no-op, and DROP and
# CREATE give the same catalog.
my ($ret, $out, $err) = $node->psql('fresh', 'ALTER EXTENSION nango UPDATE');
is($ret, 0, 'ALTER EXTENSION nango UPDATE on the current version succeeds');
like($err, qr/version "\Q$current\E" of extension "nango" is already installed/,
	'... and says the version is already installed');
catalog_is('fresh-again', $reference, catalog('fresh'), '... and changes nothing');
$node->safe_psql('fresh', 'DROP EXTENSION nango; CREATE EXTENSION nango;');
catalog_is('fresh-recreated', $reference, catalog('fresh'),
	'DROP and CREATE EXTENSION nango give the same catalog');

$node->safe_psql('postgres', 'DROP DATABASE fresh');
for my $v (@released)
{
	(my $db = "from_$v") =~ tr/./_/;
	$node->safe_psql('postgres', "DROP DATABASE $db");
}
$node->safe_psql('postgres', 'DROP ROLE upg_owner');
$node->stop;
done_testing();
