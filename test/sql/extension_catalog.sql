-- The catalog of the installed nango extension as sorted text lines, one per
-- fact, without OIDs, so that two databases can be compared with diff:
-- every member object (pg_depend deptype 'e') and, for the member tables,
-- views, sequences, functions and types: columns (type, collation, NOT NULL,
-- default, identity, storage, column order), indexes, constraints,
-- triggers, policies, rules, view definitions, sequence parameters and
-- ownership, function definitions (security definer, SET options), owners,
-- privileges (also initial privileges, pg_init_privs), comments, the
-- schema's privileges and default privileges, and the extension's config
-- dump entries.  Used by test/t/070_upgrade.pl: a database brought to the
-- current version by ALTER EXTENSION nango UPDATE must give the same lines
-- as one where the current version was created directly.
WITH ext AS (
  SELECT e.* FROM pg_catalog.pg_extension e WHERE e.extname = 'nango'),
member AS (
  SELECT d.classid, d.objid, d.objsubid
    FROM pg_catalog.pg_depend d, ext
   WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
     AND d.refobjid = ext.oid AND d.deptype = 'e'),
rel AS (
  SELECT c.* FROM pg_catalog.pg_class c
   WHERE c.oid IN (SELECT objid FROM member WHERE classid = 'pg_catalog.pg_class'::pg_catalog.regclass)),
-- sequences owned by the member tables' columns (serial and identity)
ownedseq AS (
  SELECT c.* FROM pg_catalog.pg_class c JOIN pg_catalog.pg_depend d
      ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
     AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype IN ('a', 'i')
   WHERE c.relkind = 'S' AND d.refobjid IN (SELECT oid FROM rel)),
seq AS (SELECT * FROM rel WHERE relkind = 'S' UNION SELECT * FROM ownedseq),
idx AS (
  SELECT i.*, c.relname AS idxname, c.reloptions AS idxoptions, c.oid AS idxoid
    FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
   WHERE i.indrelid IN (SELECT oid FROM rel)),
con AS (
  SELECT c.* FROM pg_catalog.pg_constraint c
   WHERE c.conrelid IN (SELECT oid FROM rel)
      OR c.contypid IN (SELECT objid FROM member WHERE classid = 'pg_catalog.pg_type'::pg_catalog.regclass)),
trg AS (
  SELECT t.* FROM pg_catalog.pg_trigger t
   WHERE t.tgrelid IN (SELECT oid FROM rel) AND NOT t.tgisinternal),
pol AS (SELECT p.* FROM pg_catalog.pg_policy p WHERE p.polrelid IN (SELECT oid FROM rel)),
rul AS (
  SELECT r.* FROM pg_catalog.pg_rewrite r
   WHERE r.ev_class IN (SELECT oid FROM rel) AND r.rulename <> '_RETURN'),
fn AS (
  SELECT p.* FROM pg_catalog.pg_proc p
   WHERE p.oid IN (SELECT objid FROM member WHERE classid = 'pg_catalog.pg_proc'::pg_catalog.regclass)),
typ AS (
  SELECT t.* FROM pg_catalog.pg_type t
   WHERE t.oid IN (SELECT objid FROM member WHERE classid = 'pg_catalog.pg_type'::pg_catalog.regclass)),
-- every object whose comment and initial privileges are compared
obj AS (
  SELECT classid, objid FROM member
  UNION SELECT 'pg_catalog.pg_extension'::pg_catalog.regclass, oid FROM ext
  UNION SELECT 'pg_catalog.pg_namespace'::pg_catalog.regclass, extnamespace FROM ext
  UNION SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, oid FROM seq
  UNION SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, idxoid FROM idx
  UNION SELECT 'pg_catalog.pg_constraint'::pg_catalog.regclass, oid FROM con
  UNION SELECT 'pg_catalog.pg_trigger'::pg_catalog.regclass, oid FROM trg
  UNION SELECT 'pg_catalog.pg_policy'::pg_catalog.regclass, oid FROM pol
  UNION SELECT 'pg_catalog.pg_rewrite'::pg_catalog.regclass, oid FROM rul),
line AS (
  SELECT 'extension ' || extname || ': version ' || extversion || ', schema '
         || extnamespace::pg_catalog.regnamespace || ', owner ' || extowner::pg_catalog.regrole
         || ', relocatable ' || extrelocatable AS l FROM ext
  UNION ALL
  SELECT 'extension config dump: ' || c.cfg::pg_catalog.regclass || ' WHERE '
         || pg_catalog.quote_literal(coalesce(ext.extcondition[c.n], '<missing>'))
    FROM ext, unnest(ext.extconfig) WITH ORDINALITY AS c(cfg, n)
  UNION ALL
  SELECT 'schema ' || n.nspname || ': owner ' || n.nspowner::pg_catalog.regrole || ', acl '
         || coalesce((SELECT pg_catalog.string_agg(a::text, ' ' ORDER BY a::text) FROM unnest(n.nspacl) a), '<default>')
    FROM pg_catalog.pg_namespace n, ext WHERE n.oid = ext.extnamespace
  UNION ALL
  SELECT 'default acl in schema ' || d.defaclnamespace::pg_catalog.regnamespace || ' for role '
         || d.defaclrole::pg_catalog.regrole || ' on ' || d.defaclobjtype::text || ': '
         || (SELECT pg_catalog.string_agg(a::text, ' ' ORDER BY a::text) FROM unnest(d.defaclacl) a)
    FROM pg_catalog.pg_default_acl d, ext WHERE d.defaclnamespace = ext.extnamespace
  UNION ALL
  SELECT 'member: ' || pg_catalog.pg_describe_object(classid, objid, objsubid) FROM member
  UNION ALL
  SELECT 'relation ' || c.oid::pg_catalog.regclass || ': kind ' || c.relkind::text
         || ', owner ' || c.relowner::pg_catalog.regrole || ', persistence ' || c.relpersistence::text
         || ', options ' || coalesce(c.reloptions::text, '<none>')
         || ', row security ' || c.relrowsecurity || ', forced ' || c.relforcerowsecurity
         || ', replica identity ' || c.relreplident::text || ', access method '
         || coalesce((SELECT amname FROM pg_catalog.pg_am WHERE oid = c.relam), '<none>')
         || ', acl ' || coalesce((SELECT pg_catalog.string_agg(a::text, ' ' ORDER BY a::text) FROM unnest(c.relacl) a), '<default>')
    FROM (SELECT * FROM rel UNION SELECT * FROM ownedseq) c
  UNION ALL
  SELECT 'column ' || a.attrelid::pg_catalog.regclass || '.' || pg_catalog.quote_ident(a.attname) || ': '
         || pg_catalog.format_type(a.atttypid, a.atttypmod)
         || coalesce(' COLLATE ' || (SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(co.collname)
                      FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace n ON n.oid = co.collnamespace
                     WHERE co.oid = a.attcollation), '')
         || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
         || coalesce(' DEFAULT ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), '')
         || CASE a.attidentity WHEN 'a' THEN ' GENERATED ALWAYS AS IDENTITY'
                               WHEN 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY' ELSE '' END
         || CASE WHEN a.attgenerated = 's' THEN ' (stored generated)' ELSE '' END
         || ', storage ' || a.attstorage::text
         || coalesce(', compression ' || NULLIF(a.attcompression::text, ''), '')
         || coalesce(', acl ' || (SELECT pg_catalog.string_agg(x::text, ' ' ORDER BY x::text) FROM unnest(a.attacl) x), '')
    FROM pg_catalog.pg_attribute a
    LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
   WHERE a.attrelid IN (SELECT oid FROM rel WHERE relkind IN ('r', 'p', 'v', 'm', 'f')
                        UNION SELECT typrelid FROM typ WHERE typtype = 'c')
     AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'column order of ' || a.attrelid::pg_catalog.regclass || ': '
         || pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum)
    FROM pg_catalog.pg_attribute a
   WHERE a.attrelid IN (SELECT oid FROM rel WHERE relkind IN ('r', 'p', 'v', 'm', 'f')
                        UNION SELECT typrelid FROM typ WHERE typtype = 'c')
     AND a.attnum > 0 AND NOT a.attisdropped
   GROUP BY a.attrelid
  UNION ALL
  SELECT 'index ' || pg_catalog.quote_ident(idxname) || ': ' || pg_catalog.pg_get_indexdef(indexrelid)
         || CASE WHEN indisclustered THEN ' (clustered)' ELSE '' END
         || CASE WHEN indisreplident THEN ' (replica identity)' ELSE '' END
         || CASE WHEN NOT indisvalid THEN ' (invalid)' ELSE '' END
    FROM idx
  UNION ALL
  SELECT 'constraint ' || pg_catalog.quote_ident(conname) || ' on '
         || coalesce(NULLIF(conrelid, 0)::pg_catalog.regclass::text, contypid::pg_catalog.regtype::text)
         || ': ' || pg_catalog.pg_get_constraintdef(oid)
    FROM con
  UNION ALL
  SELECT 'trigger: ' || pg_catalog.pg_get_triggerdef(oid) || ' (enabled ' || tgenabled::text || ')' FROM trg
  UNION ALL
  SELECT 'policy ' || pg_catalog.quote_ident(polname) || ' on ' || polrelid::pg_catalog.regclass
         || ': ' || CASE WHEN polpermissive THEN 'permissive' ELSE 'restrictive' END
         || ', for ' || polcmd::text || ', to '
         || (SELECT pg_catalog.string_agg(CASE WHEN r = 0 THEN 'public' ELSE r::pg_catalog.regrole::text END, ', ' ORDER BY 1)
               FROM unnest(polroles) r)
         || ', using ' || coalesce(pg_catalog.pg_get_expr(polqual, polrelid), '<none>')
         || ', with check ' || coalesce(pg_catalog.pg_get_expr(polwithcheck, polrelid), '<none>')
    FROM pol
  UNION ALL
  SELECT 'rule: ' || pg_catalog.pg_get_ruledef(oid) FROM rul
  UNION ALL
  SELECT 'view ' || oid::pg_catalog.regclass || ': ' || pg_catalog.pg_get_viewdef(oid)
    FROM rel WHERE relkind IN ('v', 'm')
  UNION ALL
  SELECT 'sequence ' || s.oid::pg_catalog.regclass || ': as ' || q.seqtypid::pg_catalog.regtype
         || ' start ' || q.seqstart || ' increment ' || q.seqincrement || ' min ' || q.seqmin
         || ' max ' || q.seqmax || ' cache ' || q.seqcache || ' cycle ' || q.seqcycle
         || coalesce(' owned by ' || (SELECT pg_catalog.pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid)
                                        || ' (' || d.deptype::text || ')'
                                        FROM pg_catalog.pg_depend d
                                       WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                                         AND d.objid = s.oid AND d.refobjsubid > 0
                                         AND d.deptype IN ('a', 'i')), '')
    FROM seq s JOIN pg_catalog.pg_sequence q ON q.seqrelid = s.oid
  UNION ALL
  SELECT 'function ' || oid::pg_catalog.regprocedure || ': owner ' || proowner::pg_catalog.regrole
         || ', security definer ' || prosecdef
         || ', config ' || coalesce(proconfig::text, '<none>')
         || ', acl ' || coalesce((SELECT pg_catalog.string_agg(a::text, ' ' ORDER BY a::text) FROM unnest(proacl) a), '<default>')
         || E'\n' || CASE WHEN prokind = 'a' THEN 'aggregate' ELSE pg_catalog.pg_get_functiondef(oid) END
    FROM fn
  UNION ALL
  SELECT 'type ' || oid::pg_catalog.regtype || ': kind ' || typtype::text || ', owner ' || typowner::pg_catalog.regrole
         || coalesce(', base ' || NULLIF(typbasetype, 0)::pg_catalog.regtype, '')
         || CASE WHEN typnotnull THEN ' NOT NULL' ELSE '' END
         || coalesce(', default ' || typdefault, '')
         || coalesce(', labels ' || (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(enumlabel), ', ' ORDER BY enumsortorder)
                                       FROM pg_catalog.pg_enum WHERE enumtypid = typ.oid), '')
         || ', acl ' || coalesce((SELECT pg_catalog.string_agg(a::text, ' ' ORDER BY a::text) FROM unnest(typacl) a), '<default>')
    FROM typ
  UNION ALL
  SELECT 'comment on ' || pg_catalog.pg_describe_object(d.classoid, d.objoid, d.objsubid) || ': '
         || pg_catalog.quote_literal(d.description)
    FROM pg_catalog.pg_description d JOIN obj ON obj.classid = d.classoid AND obj.objid = d.objoid
  UNION ALL
  SELECT 'initial privileges of ' || pg_catalog.pg_describe_object(i.classoid, i.objoid, i.objsubid)
         || ' (' || i.privtype::text || '): '
         || (SELECT pg_catalog.string_agg(a::text, ' ' ORDER BY a::text) FROM unnest(i.initprivs) a)
    FROM pg_catalog.pg_init_privs i JOIN obj ON obj.classid = i.classoid AND obj.objid = i.objoid
)
SELECT l FROM line ORDER BY l COLLATE "C";
