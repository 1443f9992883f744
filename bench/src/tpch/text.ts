/**
 * Word lists and a text pool for TPC-H comment columns, in the manner of the spec's text grammar
 * (sentences of noun phrases, verb phrases and prepositional phrases, cut at random offsets),
 * written for this repository. Also the fixed value lists the queries filter on (segments,
 * priorities, ship modes, part types, containers, nations, regions), which are part of the spec.
 */
import type { Rng } from '../rng.js';

const NOUNS = (
  'packages requests accounts deposits foxes ideas theodolites pinto beans instructions dependencies excuses ' +
  'platelets asymptotes courts dolphins multipliers sauternes warthogs frets dinos attainments somas tithes ' +
  'sheaves waters orbits gifts sentiments decoys realms pearls escapades warhorses braids hockey players'
).split(' ');
const VERBS = (
  'sleep wake are cajole haggle nag use boost affix detect integrate maintain nod was lose sublate solve thrash ' +
  'promise engage hinder print x-ray breach eat grow impress mold poach serve run dazzle snooze doze unwind kindle ' +
  'play hang believe doubt'
).split(' ');
const ADJECTIVES = (
  'special pending unusual express furious sly careful blithe quick fluffy slow quiet ruthless thin close dogged ' +
  'daring brave stealthy permanent enticing idle busy regular final ironic even bold silent'
).split(' ');
const ADVERBS = (
  'sometimes always never furiously slyly carefully blithely quickly fluffily slowly quietly ruthlessly thinly ' +
  'closely doggedly daringly bravely stealthily permanently enticingly idly busily regularly finally ironically ' +
  'evenly boldly silently'
).split(' ');
const PREPOSITIONS = (
  'about above according-to across after against along alongside-of among around at atop before behind beneath ' +
  'beside besides between beyond by despite during except for from in-place-of inside instead-of into near of on ' +
  'outside over past since through throughout to toward under until up upon without with within'
).split(' ');
const TERMINATORS = ['.', ';', ':', '?', '!', '--'];

function sentence(rng: Rng): string {
  const np = (): string => {
    switch (rng.int(0, 3)) {
      case 0: return rng.pick(NOUNS);
      case 1: return `${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)}`;
      case 2: return `${rng.pick(ADJECTIVES)}, ${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)}`;
      default: return `${rng.pick(ADVERBS)} ${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)}`;
    }
  };
  const vp = (): string => (rng.int(0, 1) === 0 ? rng.pick(VERBS) : `${rng.pick(VERBS)} ${rng.pick(ADVERBS)}`);
  const pp = (): string => `${rng.pick(PREPOSITIONS)} the ${np()}`;
  switch (rng.int(0, 3)) {
    case 0: return `${np()} ${vp()}${rng.pick(TERMINATORS)}`;
    case 1: return `${np()} ${vp()} ${pp()}${rng.pick(TERMINATORS)}`;
    case 2: return `${np()} ${vp()} ${np()}${rng.pick(TERMINATORS)}`;
    default: return `${np()} ${pp()} ${vp()} ${np()}${rng.pick(TERMINATORS)}`;
  }
}

/** A pool of generated text; comments are random slices of it (as dbgen does). */
export class TextPool {
  readonly #text: string;

  constructor(rng: Rng, size = 1 << 20) {
    const parts: string[] = [];
    let len = 0;
    while (len < size) {
      const s = sentence(rng);
      parts.push(s);
      len += s.length + 1;
    }
    this.#text = parts.join(' ');
  }

  /** A comment of a random length in [minLen, maxLen] starting at a random offset. */
  comment(rng: Rng, minLen: number, maxLen: number): string {
    const len = rng.int(minLen, maxLen);
    const start = rng.int(0, this.#text.length - len - 1);
    return this.#text.slice(start, start + len).trim();
  }
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789,. ';

/** A random alphanumeric string of length in [minLen, maxLen] (addresses). */
export function vString(rng: Rng, minLen: number, maxLen: number): string {
  const len = rng.int(minLen, maxLen);
  let s = '';
  for (let i = 0; i < len; i++) s += ALNUM[rng.int(0, ALNUM.length - 1)];
  return s;
}

export const COLORS = (
  'almond antique aquamarine azure beige bisque black blanched blue blush brown burlywood burnished chartreuse ' +
  'chiffon chocolate coral cornflower cornsilk cream cyan dark deep dim dodger drab firebrick floral forest frosted ' +
  'gainsboro ghost goldenrod green grey honeydew hot indian ivory khaki lace lavender lawn lemon light lime linen ' +
  'magenta maroon medium metallic midnight mint misty moccasin navajo navy olive orange orchid pale papaya peach ' +
  'peru pink plum powder puff purple red rose rosy royal saddle salmon sandy seashell sienna sky slate smoke snow ' +
  'spring steel tan thistle tomato turquoise violet wheat white yellow'
).split(' ');

export const TYPE_S1 = ['STANDARD', 'SMALL', 'MEDIUM', 'LARGE', 'ECONOMY', 'PROMO'];
export const TYPE_S2 = ['ANODIZED', 'BURNISHED', 'PLATED', 'POLISHED', 'BRUSHED'];
export const TYPE_S3 = ['TIN', 'NICKEL', 'BRASS', 'STEEL', 'COPPER'];
export const CONTAINER_S1 = ['SM', 'LG', 'MED', 'JUMBO', 'WRAP'];
export const CONTAINER_S2 = ['CASE', 'BOX', 'BAG', 'JAR', 'PKG', 'PACK', 'CAN', 'DRUM'];
export const SEGMENTS = ['AUTOMOBILE', 'BUILDING', 'FURNITURE', 'MACHINERY', 'HOUSEHOLD'];
export const PRIORITIES = ['1-URGENT', '2-HIGH', '3-MEDIUM', '4-NOT SPECIFIED', '5-LOW'];
export const SHIP_INSTRUCT = ['DELIVER IN PERSON', 'COLLECT COD', 'NONE', 'TAKE BACK RETURN'];
export const SHIP_MODES = ['REG AIR', 'AIR', 'RAIL', 'SHIP', 'TRUCK', 'MAIL', 'FOB'];
export const REGIONS = ['AFRICA', 'AMERICA', 'ASIA', 'EUROPE', 'MIDDLE EAST'];
/** [name, regionkey] in nationkey order. */
export const NATIONS: readonly (readonly [string, number])[] = [
  ['ALGERIA', 0], ['ARGENTINA', 1], ['BRAZIL', 1], ['CANADA', 1], ['EGYPT', 4], ['ETHIOPIA', 0], ['FRANCE', 3],
  ['GERMANY', 3], ['INDIA', 2], ['INDONESIA', 2], ['IRAN', 4], ['IRAQ', 4], ['JAPAN', 2], ['JORDAN', 4], ['KENYA', 0],
  ['MOROCCO', 0], ['MOZAMBIQUE', 0], ['PERU', 1], ['CHINA', 2], ['ROMANIA', 3], ['SAUDI ARABIA', 4], ['VIETNAM', 2],
  ['RUSSIA', 3], ['UNITED KINGDOM', 3], ['UNITED STATES', 1],
];
