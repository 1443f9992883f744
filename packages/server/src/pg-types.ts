/**
 * PostgreSQL type OIDs and the mapping from QuiverDB SQL type names (as `Result.columns[i].type`
 * spells them) to what a RowDescription announces: OID, typlen and typmod.
 *
 * Invariants:
 *  1. Every type name maps to some OID: unknown names fall back to text (25), so a client can
 *     always at least read the value as a string.
 *  2. typmod follows PostgreSQL: VARCHAR(n) → n + 4, NUMERIC(p,s) → ((p << 16) | s) + 4, else -1.
 */

export const Oid = {
  bool: 16,
  bytea: 17,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  json: 114,
  float4: 700,
  float8: 701,
  unknown: 705,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
} as const;

export interface PgTypeInfo {
  readonly oid: number;
  readonly typlen: number;
  readonly typmod: number;
}

const TYPLEN: Record<number, number> = {
  [Oid.bool]: 1, [Oid.int8]: 8, [Oid.int2]: 2, [Oid.int4]: 4, [Oid.oid]: 4, [Oid.float4]: 4, [Oid.float8]: 8,
  [Oid.date]: 4, [Oid.time]: 8, [Oid.timestamp]: 8, [Oid.timestamptz]: 8, [Oid.interval]: 16, [Oid.uuid]: 16,
};

const BY_NAME: Record<string, number> = {
  BOOLEAN: Oid.bool, BOOL: Oid.bool,
  BIGINT: Oid.int8, INT8: Oid.int8,
  SMALLINT: Oid.int2, INT2: Oid.int2,
  INTEGER: Oid.int4, INT: Oid.int4, INT4: Oid.int4,
  TEXT: Oid.text, NULL: Oid.text, UNKNOWN: Oid.text,
  REAL: Oid.float4, FLOAT4: Oid.float4,
  'DOUBLE PRECISION': Oid.float8, DOUBLE: Oid.float8, FLOAT8: Oid.float8, FLOAT: Oid.float8,
  VARCHAR: Oid.varchar, 'CHARACTER VARYING': Oid.varchar,
  CHAR: Oid.bpchar, CHARACTER: Oid.bpchar, BPCHAR: Oid.bpchar,
  DATE: Oid.date,
  TIME: Oid.time,
  TIMESTAMP: Oid.timestamp, 'TIMESTAMP WITHOUT TIME ZONE': Oid.timestamp,
  TIMESTAMPTZ: Oid.timestamptz, 'TIMESTAMP WITH TIME ZONE': Oid.timestamptz,
  INTERVAL: Oid.interval,
  NUMERIC: Oid.numeric, DECIMAL: Oid.numeric,
  BYTEA: Oid.bytea, JSON: Oid.json, JSONB: Oid.jsonb, UUID: Oid.uuid,
};

/** RowDescription info for a SQL type name such as 'INTEGER', 'VARCHAR(10)', 'NUMERIC(10,2)'. */
export function pgTypeOf(typeName: string): PgTypeInfo {
  const m = /^\s*([A-Za-z ]+?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$/.exec(typeName);
  const base = (m ? m[1]! : typeName).toUpperCase();
  const oid = BY_NAME[base] ?? Oid.text;
  let typmod = -1;
  if (m && m[2] !== undefined) {
    const a = Number(m[2]);
    if (oid === Oid.varchar || oid === Oid.bpchar) typmod = a + 4;
    else if (oid === Oid.numeric) typmod = ((a << 16) | Number(m[3] ?? 0)) + 4;
  }
  return { oid, typlen: TYPLEN[oid] ?? -1, typmod };
}
