/**
 * TPC-H schema (all eight tables) in the bench's neutral column kinds, with the spec's row counts.
 *
 * Decimal columns (prices, quantities, discounts, taxes, balances) are DOUBLE in every engine:
 * not every engine the bench compares supports an exact NUMERIC (see README).
 */
import type { ColumnDef, ColumnKind, TableDef } from '../table-data.js';

function cols(spec: string): ColumnDef[] {
  return spec.trim().split(/\s*,\s*/).map((part) => {
    const [name, kind] = part.split(/\s+/) as [string, ColumnKind];
    return { name, kind };
  });
}

export const TPCH_TABLES: readonly TableDef[] = [
  { name: 'region', columns: cols('r_regionkey int, r_name varchar, r_comment varchar'), primaryKey: ['r_regionkey'] },
  { name: 'nation', columns: cols('n_nationkey int, n_name varchar, n_regionkey int, n_comment varchar'), primaryKey: ['n_nationkey'] },
  {
    name: 'supplier',
    columns: cols('s_suppkey int, s_name varchar, s_address varchar, s_nationkey int, s_phone varchar, s_acctbal double, s_comment varchar'),
    primaryKey: ['s_suppkey'],
  },
  {
    name: 'part',
    columns: cols('p_partkey int, p_name varchar, p_mfgr varchar, p_brand varchar, p_type varchar, p_size int, p_container varchar, p_retailprice double, p_comment varchar'),
    primaryKey: ['p_partkey'],
  },
  {
    name: 'partsupp',
    columns: cols('ps_partkey int, ps_suppkey int, ps_availqty int, ps_supplycost double, ps_comment varchar'),
    primaryKey: ['ps_partkey', 'ps_suppkey'],
  },
  {
    name: 'customer',
    columns: cols('c_custkey int, c_name varchar, c_address varchar, c_nationkey int, c_phone varchar, c_acctbal double, c_mktsegment varchar, c_comment varchar'),
    primaryKey: ['c_custkey'],
  },
  {
    name: 'orders',
    columns: cols('o_orderkey int, o_custkey int, o_orderstatus varchar, o_totalprice double, o_orderdate date, o_orderpriority varchar, o_clerk varchar, o_shippriority int, o_comment varchar'),
    primaryKey: ['o_orderkey'],
  },
  {
    name: 'lineitem',
    columns: cols(
      'l_orderkey int, l_partkey int, l_suppkey int, l_linenumber int, l_quantity double, l_extendedprice double, l_discount double, l_tax double, ' +
        'l_returnflag varchar, l_linestatus varchar, l_shipdate date, l_commitdate date, l_receiptdate date, l_shipinstruct varchar, l_shipmode varchar, l_comment varchar',
    ),
    primaryKey: ['l_orderkey', 'l_linenumber'],
  },
];

export type TpchTableName = 'region' | 'nation' | 'supplier' | 'part' | 'partsupp' | 'customer' | 'orders' | 'lineitem';

export function tpchTable(name: TpchTableName): TableDef {
  return TPCH_TABLES.find((t) => t.name === name)!;
}

/** Spec row counts at a scale factor (lineitem is about 4x orders: 1 to 7 lines per order). */
export function tpchRowCounts(sf: number): Record<Exclude<TpchTableName, 'lineitem'>, number> {
  return {
    region: 5,
    nation: 25,
    supplier: Math.max(4, Math.round(10_000 * sf)),
    part: Math.max(1, Math.round(200_000 * sf)),
    partsupp: Math.max(4, Math.round(800_000 * sf)),
    customer: Math.max(1, Math.round(150_000 * sf)),
    orders: Math.max(1, Math.round(1_500_000 * sf)),
  };
}
