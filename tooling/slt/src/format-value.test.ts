import { describe, expect, it } from 'vitest';
import { formatReal, formatValue } from './format-value.js';

describe('formatValue', () => {
  it('prints NULL for null and undefined in every type', () => {
    for (const t of ['I', 'R', 'T']) {
      expect(formatValue(null, t)).toBe('NULL');
      expect(formatValue(undefined, t)).toBe('NULL');
    }
  });

  it('I: integers as integers, reals truncated toward zero, bigints exact', () => {
    expect(formatValue(42, 'I')).toBe('42');
    expect(formatValue(-7, 'I')).toBe('-7');
    expect(formatValue(3.99, 'I')).toBe('3');
    expect(formatValue(-3.99, 'I')).toBe('-3');
    expect(formatValue(-0.5, 'I')).toBe('0');
    expect(formatValue(9223372036854775807n, 'I')).toBe('9223372036854775807');
    expect(formatValue(true, 'I')).toBe('1');
  });

  it('I: strings are read by their numeric prefix as SQLite does', () => {
    expect(formatValue('12.75', 'I')).toBe('12');
    expect(formatValue('-12.75', 'I')).toBe('-12');
    expect(formatValue('12abc', 'I')).toBe('12');
    expect(formatValue('abc', 'I')).toBe('0');
    expect(formatValue('-9223372036854775808', 'I')).toBe('-9223372036854775808');
  });

  it('R: three decimals', () => {
    expect(formatValue(1, 'R')).toBe('1.000');
    expect(formatValue(2.5, 'R')).toBe('2.500');
    expect(formatValue(-0.0001, 'R')).toBe('-0.000');
    expect(formatValue(-0, 'R')).toBe('0.000');
    expect(formatValue(1n, 'R')).toBe('1.000');
    expect(formatValue('3.14159', 'R')).toBe('3.142');
    expect(formatValue(1 / 3, 'R')).toBe('0.333');
  });

  it('R: at most 16 significant digits, like SQLite printf', () => {
    expect(formatReal(-9223372036854775808)).toBe('-9223372036854776000.000');
    expect(formatReal(12345678901234.567)).toBe('12345678901234.570');
    expect(formatReal(1e21)).toBe('1000000000000000000000.000');
    expect(formatReal(123456789012.3456)).toBe('123456789012.346');
  });

  it('T: text, (empty), @ for bytes outside printable ASCII, numbers as text', () => {
    expect(formatValue('hello world', 'T')).toBe('hello world');
    expect(formatValue('', 'T')).toBe('(empty)');
    expect(formatValue('a\tb\n', 'T')).toBe('a@b@');
    expect(formatValue('é', 'T')).toBe('@@');
    expect(formatValue(12, 'T')).toBe('12');
    expect(formatValue(1.5, 'T')).toBe('1.5');
    expect(formatValue(5n, 'T')).toBe('5');
    expect(formatValue(false, 'T')).toBe('false');
  });

  it('reads unknown type letters as T', () => {
    expect(formatValue('x', 'B')).toBe('x');
  });
});
