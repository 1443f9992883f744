import { describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli.js';

describe('quiver-slt main()', () => {
  it('prints usage with --help and exits 0; usage errors exit 2', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['--help'])).toBe(0);
      expect(String(out.mock.calls[0]?.[0])).toMatch(/usage: quiver-slt/);
      expect(await main([])).toBe(2);
      expect(await main(['--timeout', 'soon', 'x.slt'])).toBe(2);
      expect(await main(['--no-such-flag'])).toBe(2);
      expect(await main(['/definitely/not/here.slt'])).toBe(2);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  });
});
