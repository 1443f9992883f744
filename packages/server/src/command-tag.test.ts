import { describe, expect, it } from 'vitest';
import { commandTag, returnsRows } from './command-tag.js';

describe('commandTag', () => {
  it('writes the tags PostgreSQL writes', () => {
    expect(commandTag({ command: 'SELECT', rowCount: 3 })).toBe('SELECT 3');
    expect(commandTag({ command: 'INSERT', rowCount: 2 })).toBe('INSERT 0 2');
    expect(commandTag({ command: 'UPDATE', rowCount: 0 })).toBe('UPDATE 0');
    expect(commandTag({ command: 'DELETE', rowCount: 5 })).toBe('DELETE 5');
    expect(commandTag({ command: 'CREATE TABLE', rowCount: 0 })).toBe('CREATE TABLE');
    expect(commandTag({ command: 'CREATE TABLE AS', rowCount: 4 })).toBe('SELECT 4');
    expect(commandTag({ command: 'BEGIN', rowCount: 0 })).toBe('BEGIN');
    expect(commandTag({ command: 'COMMIT', rowCount: 0 }, 'E')).toBe('ROLLBACK');
    expect(commandTag({ command: 'COMMIT', rowCount: 0 }, 'T')).toBe('COMMIT');
  });

  it('knows which results carry rows', () => {
    expect(returnsRows({ command: 'SELECT', columns: [] })).toBe(true);
    expect(returnsRows({ command: 'INSERT', columns: [] })).toBe(false);
    expect(returnsRows({ command: 'SHOW', columns: [{ name: 'x', type: 'TEXT' }] })).toBe(true);
  });
});
