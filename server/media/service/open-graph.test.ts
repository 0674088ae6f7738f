import { describe, expect, it } from 'vitest';
import { parseOpenGraph } from './open-graph.ts';

describe('parseOpenGraph', () => {
  it('reads og properties in either attribute order, and leaves og:image out', () => {
    const html = `<html><head><title>Fallback</title>
      <meta property="og:title" content="Matrix &amp; friends">
      <meta content='A blog post' property='og:description'>
      <meta property="og:image" content="https://example.org/x.png">
      <meta property="og:type" content=website></head></html>`;
    expect(parseOpenGraph(html)).toEqual({ 'og:title': 'Matrix & friends', 'og:description': 'A blog post', 'og:type': 'website' });
  });

  it('falls back to <title> and the description meta tag', () => {
    const html = '<title>\n  Plain   page </title><meta name="description" content="About &#x27;it&#39;">';
    expect(parseOpenGraph(html)).toEqual({ 'og:title': 'Plain page', 'og:description': "About 'it'" });
  });

  it('is empty for a page with nothing to show', () => {
    expect(parseOpenGraph('<p>hello</p>')).toEqual({});
  });
});
