import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database, type Connection } from '../src/index.js';

/** Introspection queries in the shape ORMs and query builders send (Kysely, TypeORM, node-postgres users). */
describe('ORM introspection queries', () => {
  let db: Database;
  let c: Connection;
  const rows = async (sql: string, params: unknown[] = []) => (await c.query(sql, params)).rows;

  beforeAll(async () => {
    db = await Database.open(':memory:');
    c = db.connect();
    await c.query('CREATE TABLE users (id SERIAL PRIMARY KEY, handle VARCHAR(30) NOT NULL UNIQUE, bio TEXT)');
    await c.query('CREATE TABLE posts (id BIGINT PRIMARY KEY, user_id INTEGER REFERENCES users(id), score DOUBLE PRECISION DEFAULT 0)');
    await c.query('CREATE INDEX posts_score ON posts (score DESC)');
  });
  afterAll(async () => {
    await db.close();
  });

  it('Kysely-style column listing with serial detection', async () => {
    const r = await rows(`select a.attname as column, a.attnotnull as not_null, a.atthasdef as has_default, c.relname as table,
        c.relkind as table_type, ns.nspname as schema, typ.typname as type, dtns.nspname as type_schema,
        col_description(a.attrelid, a.attnum) as column_description,
        pg_get_serial_sequence(quote_ident(ns.nspname) || '.' || quote_ident(c.relname), a.attname) as auto_incrementing
      from pg_catalog.pg_attribute as a
      inner join pg_catalog.pg_class as c on a.attrelid = c.oid
      inner join pg_catalog.pg_namespace as ns on c.relnamespace = ns.oid
      inner join pg_catalog.pg_type as typ on a.atttypid = typ.oid
      inner join pg_catalog.pg_namespace as dtns on typ.typnamespace = dtns.oid
      where c.relkind in ('r', 'v', 'p') and ns.nspname != 'pg_catalog' and ns.nspname != 'information_schema'
        and a.attnum >= 0 and a.attisdropped != true
      order by ns.nspname, c.relname, a.attnum`);
    expect(r).toEqual([
      ['id', true, false, 'posts', 'r', 'public', 'int8', 'pg_catalog', null, null],
      ['user_id', false, false, 'posts', 'r', 'public', 'int4', 'pg_catalog', null, null],
      ['score', false, true, 'posts', 'r', 'public', 'float8', 'pg_catalog', null, null],
      ['id', true, true, 'users', 'r', 'public', 'int4', 'pg_catalog', null, 'public.users_id_seq'],
      ['handle', true, false, 'users', 'r', 'public', 'varchar', 'pg_catalog', null, null],
      ['bio', false, false, 'users', 'r', 'public', 'text', 'pg_catalog', null, null],
    ]);
  });

  it('TypeORM-style index listing (non-constraint indexes)', async () => {
    const r = await rows(`SELECT "ns"."nspname" AS "table_schema", "t"."relname" AS "table_name", "i"."relname" AS "constraint_name",
        "a"."attname" AS "column_name", CASE "ix"."indisunique" WHEN 't' THEN 'TRUE' ELSE 'FALSE' END AS "is_unique",
        pg_get_expr("ix"."indpred", "ix"."indrelid") AS "condition", "types"."typname" AS "type_name", "am"."amname" AS "index_type"
      FROM "pg_class" "t"
      INNER JOIN "pg_index" "ix" ON "ix"."indrelid" = "t"."oid"
      INNER JOIN "pg_attribute" "a" ON "a"."attrelid" = "t"."oid" AND "a"."attnum" = ANY ("ix"."indkey")
      INNER JOIN "pg_namespace" "ns" ON "ns"."oid" = "t"."relnamespace"
      INNER JOIN "pg_class" "i" ON "i"."oid" = "ix"."indexrelid"
      INNER JOIN "pg_type" "types" ON "types"."oid" = "a"."atttypid"
      INNER JOIN "pg_am" "am" ON "i"."relam" = "am"."oid"
      LEFT JOIN "pg_constraint" "cnst" ON "cnst"."conname" = "i"."relname"
      WHERE "t"."relkind" IN ('r', 'p') AND "cnst"."contype" IS NULL AND (("ns"."nspname" = 'public' AND "t"."relname" IN ('posts', 'users')))`);
    expect(r).toEqual([['public', 'posts', 'posts_score', 'score', 'FALSE', null, 'float8', 'btree']]);
  });

  it('foreign keys through pg_constraint with a bound regclass parameter', async () => {
    const r = await rows(`SELECT con.conname, att.attname, cl.relname AS ref_table, ratt.attname AS ref_column, con.confdeltype
      FROM pg_constraint con
      JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = ANY(con.conkey)
      JOIN pg_class cl ON cl.oid = con.confrelid
      JOIN pg_attribute ratt ON ratt.attrelid = con.confrelid AND ratt.attnum = ANY(con.confkey)
      WHERE con.contype = 'f' AND con.conrelid = $1::regclass`, ['posts']);
    expect(r).toEqual([['posts_user_id_fkey', 'user_id', 'users', 'id', 'a']]);
  });

  it('postgres.js-style array type loading and enum listing', async () => {
    const arrays = await rows(`select b.oid, b.typarray from pg_catalog.pg_type a
      left join pg_catalog.pg_type b on b.oid = a.typelem
      where a.typcategory = 'A' group by b.oid, b.typarray order by b.oid`);
    expect(arrays).toContainEqual([23, 1007]);
    expect(arrays).toContainEqual([25, 1009]);
    expect(arrays.every(([oid, arr]) => typeof oid === 'number' && typeof arr === 'number')).toBe(true);
    expect(await rows(`select n.nspname as enum_schema, t.typname as enum_name, e.enumlabel as enum_value, e.enumsortorder as sort_order
      from pg_type t join pg_enum e on t.oid = e.enumtypid join pg_catalog.pg_namespace n ON n.oid = t.typnamespace
      where n.nspname != 'pg_catalog' order by enum_schema, enum_name, sort_order`)).toEqual([]);
  });

  it('a table name that does not exist fails as PostgreSQL does', async () => {
    await expect(c.query("SELECT * FROM pg_attribute WHERE attrelid = 'nope'::regclass")).rejects.toMatchObject({ code: '42P01' });
  });
});
