import { describe, expect, it } from 'vitest';
import { Settings } from './settings.js';

describe('Settings.snapshot', () => {
  it('is one map until a value changes; a handed-out snapshot never changes', () => {
    const s = new Settings();
    const a = s.snapshot();
    expect(s.snapshot()).toBe(a);
    expect(a.get('search_path')).toBe(s.get('search_path'));
    s.set('search_path', 'other');
    const b = s.snapshot();
    expect(b).not.toBe(a);
    expect(b.get('search_path')).toBe('other');
    expect(a.get('search_path')).not.toBe('other');
    s.reset('search_path');
    expect(s.snapshot().get('search_path')).toBe(a.get('search_path'));
    s.set('application_name', 'x');
    const c = s.snapshot();
    s.reset('all');
    expect(s.snapshot().get('application_name')).toBe('');
    expect(c.get('application_name')).toBe('x');
  });
});
