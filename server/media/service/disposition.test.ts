import { describe, expect, it } from 'vitest';
import { contentDisposition } from './disposition.ts';

describe('contentDisposition', () => {
  it.each([
    ['image/png', 'cat.png', 'inline; filename="cat.png"'],
    ['Image/PNG; charset=binary', null, 'inline'],
    ['text/html', 'page.html', 'attachment; filename="page.html"'],
    ['image/svg+xml', 'x.svg', 'attachment; filename="x.svg"'],
    ['application/octet-stream', null, 'attachment'],
    ['text/plain', 'naïve café.txt', "inline; filename*=utf-8''na%C3%AFve%20caf%C3%A9.txt"],
    ['text/plain', 'say "hi" (1).txt', "inline; filename*=utf-8''say%20%22hi%22%20%281%29.txt"],
  ])('%s, %s -> %s', (type, name, expected) => {
    expect(contentDisposition(type, name)).toBe(expected);
  });
});
