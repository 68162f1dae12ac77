# Rows written by the direct insert (a page of new rows without an INSERT
# statement, into nango.raw and into a mapped table) reach logical
# decoding as the same INSERT changes a statement gives: one per row, with
# every column's value.  Publications need no exception to the rule.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $mock = $ENV{NANGO_MOCK_URL} or die "NANGO_MOCK_URL is not set";

my $node = PostgreSQL::Test::Cluster->new('direct_decoding');
$node->init(allows_streaming => 'logical');
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'nango'
nango.allow_private_networks = on
nango.database = 'nodb'
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION nango');
$node->safe_psql('postgres',
	"SELECT pg_create_logical_replication_slot('direct', 'test_decoding')");

# the INSERT changes decoded since the last call, for one table
sub inserts
{
	my ($table) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT string_agg(data, E'\\n' ORDER BY lsn) FROM pg_logical_slot_get_changes('direct', NULL, NULL)
		WHERE data LIKE 'table $table: INSERT:%'});
}

# nango.raw: a sync of 7 contacts in 3 pages, written by the direct insert
my $sid = $node->safe_psql('postgres', qq{SELECT nango.add_sync('$mock/hubspot/crm/v3/objects/contacts', '{
	"headers": {"authorization": "Bearer hs-secret-token-123"}, "query_params": {"limit": 3},
	"paging_cursor_request_path": "after", "paging_cursor_metadata_response_path": "paging.next.after",
	"response_path": "results", "unique_key": "id", "auto_mapping": false}')});
$node->safe_psql('postgres', "SELECT nango.pause_sync($sid)");
inserts('none');    # skip what came before
$node->safe_psql('postgres', "SELECT nango.run_sync($sid)");
is($node->safe_psql('postgres', "SELECT status FROM nango.jobs WHERE sync_id = $sid"),
	'succeeded', 'the sync ran');
my $raw = inserts('nango.raw');
my @rows = split /\n/, $raw;
is(scalar @rows, 7, 'one INSERT change per raw row');
my @stored = split /\n/, $node->safe_psql('postgres',
	"SELECT id || ' ' || unique_key FROM nango.raw WHERE sync_id = $sid ORDER BY id");
for my $i (0 .. $#stored)
{
	my ($id, $key) = split / /, $stored[$i];
	like($rows[$i] // '', qr/^table nango\.raw: INSERT: id\[bigint\]:$id sync_id\[bigint\]:$sid job_id\[bigint\]:\d+ unique_key\[text\]:'$key' data\[jsonb\]:'\{.*\}' metadata\[jsonb\]:null data_hash\[text\]:'[0-9a-f]{32}' emitted_at\[timestamp with time zone\]:'[^']+' deleted_at\[timestamp with time zone\]:null$/,
		"raw row $key decoded with every column");
}

# a mapped table, new keys: written by the direct insert
$node->safe_psql('postgres',
	q{SELECT nango._map_records(7001, NULL, NULL, 1,
	  ARRAY['{"id": 1, "v": "a"}', '{"id": 2, "v": "b"}']::jsonb[], ARRAY['1', '2'])});
inserts('none');
$node->safe_psql('postgres',
	q{SELECT nango._map_records(7001, NULL, NULL, 2,
	  ARRAY['{"id": 3, "v": "c"}', '{"id": 4, "v": "d"}', '{"id": 5, "v": "e"}']::jsonb[],
	  ARRAY['3', '4', '5'])});
my $mapped = inserts('nango._nango_sync_7001');
@rows = split /\n/, $mapped;
is(scalar @rows, 3, 'one INSERT change per mapped row');
like($rows[0] // '', qr/_nango_sync_id\[bigint\]:7001 _nango_job_id\[bigint\]:2 _nango_emitted_at\[timestamp with time zone\]:'[^']+' _nango_unique_key\[text\]:'3' _nango_deleted_at\[timestamp with time zone\]:null v\[text\]:'c' id\[bigint\]:3$/,
	'a mapped row decoded with every column');
like($rows[2] // '', qr/_nango_unique_key\[text\]:'5' .* v\[text\]:'e' id\[bigint\]:5$/, 'the last mapped row too');

# with a publication on both tables, nothing changes: still direct, still decoded
$node->safe_psql('postgres', 'CREATE PUBLICATION direct_pub FOR TABLE nango.raw, nango._nango_sync_7001');
$node->safe_psql('postgres',
	q{SELECT nango._map_records(7001, NULL, NULL, 3, ARRAY['{"id": 6, "v": "f"}']::jsonb[], ARRAY['6'])});
like(inserts('nango._nango_sync_7001'), qr/_nango_unique_key\[text\]:'6' .* v\[text\]:'f' id\[bigint\]:6$/,
	'a mapped row written with a publication is decoded');

$node->safe_psql('postgres', "SELECT pg_drop_replication_slot('direct')");
$node->stop;
done_testing();
