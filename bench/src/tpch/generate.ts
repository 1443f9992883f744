/**
 * Deterministic TPC-H data generator: all eight tables at any scale factor, from a seed.
 *
 * Follows the spec's rules for keys and value distributions (clause 4.2.3), simplified where
 * no query of the bench can tell the difference:
 *  - sparse order keys (8 of every 32), customers whose key is a multiple of 3 place no orders;
 *  - o_orderdate uniform in [1992-01-01, 1998-12-31 - 151 days]; ship / commit / receipt dates
 *    at the spec's offsets; l_returnflag R/A when received by 1995-06-17, else N; l_linestatus
 *    O when shipped after 1995-06-17, else F; o_orderstatus F / O / P from its lines;
 *  - p_retailprice by the spec's formula, l_extendedprice = quantity * retail price, the spec's
 *    supplier-of-part rule for ps_suppkey and l_suppkey, o_totalprice from its lines;
 *  - comments are slices of a generated text pool (see text.ts), not the spec's exact grammar.
 *
 * Invariants:
 *  1. A pure function of (seed, sf): each table draws from its own stream `Rng.derive(seed, table)`.
 *  2. Referential integrity: every foreign key value exists in its parent table.
 */
import { Rng } from '../rng.js';
import { dateToDays, type ColumnValues, type TableData } from '../table-data.js';
import { tpchRowCounts, tpchTable, type TpchTableName } from './schema.js';
import {
  COLORS, CONTAINER_S1, CONTAINER_S2, NATIONS, PRIORITIES, REGIONS, SEGMENTS, SHIP_INSTRUCT, SHIP_MODES,
  TextPool, TYPE_S1, TYPE_S2, TYPE_S3, vString,
} from './text.js';

export const DEFAULT_SEED = 20_260_101;

const START_DATE = dateToDays('1992-01-01');
const END_DATE = dateToDays('1998-12-31');
const CURRENT_DATE = dateToDays('1995-06-17');

export type TpchData = Record<TpchTableName, TableData>;

function table(name: TpchTableName, rowCount: number, columns: ColumnValues[]): TableData {
  return { def: tpchTable(name), rowCount, columns };
}

const pad9 = (n: number): string => String(n).padStart(9, '0');
const cents = (x: number): number => Math.round(x * 100) / 100;

/** Spec 4.2.3: retail price of a part, in dollars. */
export function retailPrice(partkey: number): number {
  return (90_000 + (Math.floor(partkey / 10) % 20_001) + 100 * (partkey % 1000)) / 100;
}

/**
 * Spec 4.2.3: the i-th (0..3) supplier of a part, with S suppliers in all. At the spec's scale
 * factors the four are distinct; at tiny test scales (S < 100) the formula can repeat a
 * supplier, so a repeat moves on to the next unused key (S >= 4 required).
 */
export function supplierOfPart(partkey: number, i: number, s: number): number {
  const used: number[] = [];
  for (let j = 0; j <= i; j++) {
    let k = ((partkey + j * (Math.floor(s / 4) + Math.floor((partkey - 1) / s))) % s) + 1;
    while (used.includes(k)) k = (k % s) + 1;
    used.push(k);
  }
  return used[i]!;
}

/** Spec 4.2.3: order keys are sparse, the first 8 of every 32. `i` counts from 0. */
export function orderKey(i: number): number {
  return Math.floor(i / 8) * 32 + (i % 8) + 1;
}

function phone(rng: Rng, nationkey: number): string {
  return `${nationkey + 10}-${rng.int(100, 999)}-${rng.int(100, 999)}-${rng.int(1000, 9999)}`;
}

/** Generate all eight tables. SF 0.01 takes well under a second; SF 1 several seconds and ~1.5 GB. */
export function generateTpch(sf: number, seed = DEFAULT_SEED): TpchData {
  const n = tpchRowCounts(sf);
  const pool = new TextPool(Rng.derive(seed, 'text'));

  // region, nation
  let rng = Rng.derive(seed, 'region');
  const region = table('region', 5, [
    Int32Array.from(REGIONS.keys()),
    [...REGIONS],
    REGIONS.map(() => pool.comment(rng, 31, 115)),
  ]);
  rng = Rng.derive(seed, 'nation');
  const nation = table('nation', 25, [
    Int32Array.from(NATIONS.keys()),
    NATIONS.map(([name]) => name),
    Int32Array.from(NATIONS.map(([, r]) => r)),
    NATIONS.map(() => pool.comment(rng, 31, 114)),
  ]);

  // supplier
  rng = Rng.derive(seed, 'supplier');
  const S = n.supplier;
  const sKey = new Int32Array(S), sName: string[] = [], sAddr: string[] = [], sNation = new Int32Array(S);
  const sPhone: string[] = [], sBal = new Float64Array(S), sComment: string[] = [];
  for (let i = 0; i < S; i++) {
    const key = i + 1;
    sKey[i] = key;
    sName.push(`Supplier#${pad9(key)}`);
    sAddr.push(vString(rng, 10, 40));
    const nk = rng.int(0, 24);
    sNation[i] = nk;
    sPhone.push(phone(rng, nk));
    sBal[i] = rng.int(-99_999, 999_999) / 100;
    sComment.push(pool.comment(rng, 25, 100));
  }
  const supplier = table('supplier', S, [sKey, sName, sAddr, sNation, sPhone, sBal, sComment]);

  // part
  rng = Rng.derive(seed, 'part');
  const P = n.part;
  const pKey = new Int32Array(P), pName: string[] = [], pMfgr: string[] = [], pBrand: string[] = [], pType: string[] = [];
  const pSize = new Int32Array(P), pContainer: string[] = [], pPrice = new Float64Array(P), pComment: string[] = [];
  for (let i = 0; i < P; i++) {
    const key = i + 1;
    pKey[i] = key;
    const words = new Set<string>();
    while (words.size < 5) words.add(rng.pick(COLORS));
    pName.push([...words].join(' '));
    const m = rng.int(1, 5);
    pMfgr.push(`Manufacturer#${m}`);
    pBrand.push(`Brand#${m}${rng.int(1, 5)}`);
    pType.push(`${rng.pick(TYPE_S1)} ${rng.pick(TYPE_S2)} ${rng.pick(TYPE_S3)}`);
    pSize[i] = rng.int(1, 50);
    pContainer.push(`${rng.pick(CONTAINER_S1)} ${rng.pick(CONTAINER_S2)}`);
    pPrice[i] = retailPrice(key);
    pComment.push(pool.comment(rng, 5, 22));
  }
  const part = table('part', P, [pKey, pName, pMfgr, pBrand, pType, pSize, pContainer, pPrice, pComment]);

  // partsupp: 4 suppliers per part
  rng = Rng.derive(seed, 'partsupp');
  const PS = P * 4;
  const psPart = new Int32Array(PS), psSupp = new Int32Array(PS), psQty = new Int32Array(PS), psCost = new Float64Array(PS);
  const psComment: string[] = [];
  for (let p = 1, r = 0; p <= P; p++) {
    for (let j = 0; j < 4; j++, r++) {
      psPart[r] = p;
      psSupp[r] = supplierOfPart(p, j, S);
      psQty[r] = rng.int(1, 9999);
      psCost[r] = rng.int(100, 100_000) / 100;
      psComment.push(pool.comment(rng, 49, 198));
    }
  }
  const partsupp = table('partsupp', PS, [psPart, psSupp, psQty, psCost, psComment]);

  // customer
  rng = Rng.derive(seed, 'customer');
  const C = n.customer;
  const cKey = new Int32Array(C), cName: string[] = [], cAddr: string[] = [], cNation = new Int32Array(C), cPhone: string[] = [];
  const cBal = new Float64Array(C), cSeg: string[] = [], cComment: string[] = [];
  for (let i = 0; i < C; i++) {
    const key = i + 1;
    cKey[i] = key;
    cName.push(`Customer#${pad9(key)}`);
    cAddr.push(vString(rng, 10, 40));
    const nk = rng.int(0, 24);
    cNation[i] = nk;
    cPhone.push(phone(rng, nk));
    cBal[i] = rng.int(-99_999, 999_999) / 100;
    cSeg.push(rng.pick(SEGMENTS));
    cComment.push(pool.comment(rng, 29, 116));
  }
  const customer = table('customer', C, [cKey, cName, cAddr, cNation, cPhone, cBal, cSeg, cComment]);

  // orders + lineitem, generated together (o_totalprice and o_orderstatus come from the lines)
  rng = Rng.derive(seed, 'orders');
  const O = n.orders;
  const clerks = Math.max(1, Math.round(1000 * sf));
  const oKey = new Int32Array(O), oCust = new Int32Array(O), oStatus: string[] = [], oTotal = new Float64Array(O);
  const oDate = new Int32Array(O), oPrio: string[] = [], oClerk: string[] = [], oShipPrio = new Int32Array(O), oComment: string[] = [];
  const maxL = O * 7;
  const lOrder = new Int32Array(maxL), lPart = new Int32Array(maxL), lSupp = new Int32Array(maxL), lLine = new Int32Array(maxL);
  const lQty = new Float64Array(maxL), lPrice = new Float64Array(maxL), lDisc = new Float64Array(maxL), lTax = new Float64Array(maxL);
  const lRet: string[] = [], lStatus: string[] = [];
  const lShip = new Int32Array(maxL), lCommit = new Int32Array(maxL), lReceipt = new Int32Array(maxL);
  const lInstr: string[] = [], lMode: string[] = [], lComment: string[] = [];
  let L = 0;
  const lastOrderDate = END_DATE - 151;
  for (let i = 0; i < O; i++) {
    const ok = orderKey(i);
    oKey[i] = ok;
    let ck = rng.int(1, C);
    while (ck % 3 === 0 && C > 2) ck = rng.int(1, C);
    oCust[i] = ck;
    const od = rng.int(START_DATE, lastOrderDate);
    oDate[i] = od;
    oPrio.push(rng.pick(PRIORITIES));
    oClerk.push(`Clerk#${pad9(rng.int(1, clerks))}`);
    oShipPrio[i] = 0;
    oComment.push(pool.comment(rng, 19, 78));
    const lines = rng.int(1, 7);
    let total = 0;
    let nF = 0;
    for (let ln = 1; ln <= lines; ln++, L++) {
      const pk = rng.int(1, P);
      const qty = rng.int(1, 50);
      const disc = rng.int(0, 10) / 100;
      const tax = rng.int(0, 8) / 100;
      const ext = cents(qty * retailPrice(pk));
      const ship = od + rng.int(1, 121);
      const receipt = ship + rng.int(1, 30);
      lOrder[L] = ok;
      lPart[L] = pk;
      lSupp[L] = supplierOfPart(pk, rng.int(0, 3), S);
      lLine[L] = ln;
      lQty[L] = qty;
      lPrice[L] = ext;
      lDisc[L] = disc;
      lTax[L] = tax;
      lShip[L] = ship;
      lCommit[L] = od + rng.int(30, 90);
      lReceipt[L] = receipt;
      lRet.push(receipt <= CURRENT_DATE ? (rng.int(0, 1) === 0 ? 'R' : 'A') : 'N');
      const st = ship > CURRENT_DATE ? 'O' : 'F';
      if (st === 'F') nF++;
      lStatus.push(st);
      lInstr.push(rng.pick(SHIP_INSTRUCT));
      lMode.push(rng.pick(SHIP_MODES));
      lComment.push(pool.comment(rng, 10, 43));
      total += ext * (1 + tax) * (1 - disc);
    }
    oTotal[i] = cents(total);
    oStatus.push(nF === lines ? 'F' : nF === 0 ? 'O' : 'P');
  }
  const orders = table('orders', O, [oKey, oCust, oStatus, oTotal, oDate, oPrio, oClerk, oShipPrio, oComment]);
  const lineitem = table('lineitem', L, [
    lOrder.slice(0, L), lPart.slice(0, L), lSupp.slice(0, L), lLine.slice(0, L), lQty.slice(0, L), lPrice.slice(0, L),
    lDisc.slice(0, L), lTax.slice(0, L), lRet, lStatus, lShip.slice(0, L), lCommit.slice(0, L), lReceipt.slice(0, L),
    lInstr, lMode, lComment,
  ]);

  return { region, nation, supplier, part, partsupp, customer, orders, lineitem };
}
