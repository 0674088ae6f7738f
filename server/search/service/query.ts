/**
 * A search term as a PostgreSQL tsquery (for to_tsquery), the way people type into a search box:
 * words are all required, `"two words"` is a phrase, `-word` excludes, `or` between two terms
 * takes either. Every word outside a phrase matches as a prefix (`feder` finds "federation"), so
 * results come while the user is still typing. Only letters and digits reach the query text:
 * to_tsquery has its own syntax (& | ! : * ' and parentheses) that a user must not be able to
 * write, and PostgreSQL's parser splits words on everything else anyway ("don't" is "don" "t").
 */

/** Past this many terms the rest of a search term is ignored: a query is not a document. */
export const MAX_TERMS = 32;

interface Term {
  /** The lexeme runs of the term: one for a word, several for a phrase or a word with punctuation. */
  words: string[];
  phrase: boolean;
  negated: boolean;
}

const WORD_RUN = /[\p{L}\p{N}\p{M}]+/gu;

function runsOf(text: string): string[] {
  return text.match(WORD_RUN) ?? [];
}

function tokenize(term: string): { terms: Term[]; ors: boolean[] } {
  const terms: Term[] = [];
  // ors[i]: the term before terms[i] is joined to it with OR.
  const ors: boolean[] = [];
  let pendingOr = false;
  const token = /(-?)"([^"]*)"?|(\S+)/gu;
  for (const m of term.matchAll(token)) {
    if (terms.length >= MAX_TERMS) break;
    const [, minus, quoted, bare] = m;
    if (quoted !== undefined) {
      const words = runsOf(quoted);
      if (words.length === 0) continue;
      terms.push({ words, phrase: true, negated: minus === '-' });
    } else {
      const raw = bare!;
      if (/^or$/iu.test(raw) && terms.length > 0) {
        pendingOr = true;
        continue;
      }
      const negated = raw.startsWith('-') && raw.length > 1;
      const words = runsOf(negated ? raw.slice(1) : raw);
      if (words.length === 0) continue;
      terms.push({ words, phrase: words.length > 1, negated });
    }
    ors.push(pendingOr);
    pendingOr = false;
  }
  return { terms, ors };
}

function termQuery(t: Term): string {
  // A phrase's words must follow each other; a lone word (or a typed word's last run) may be a prefix.
  const text = t.phrase ? `(${t.words.join(' <-> ')})` : `${t.words[0]}:*`;
  return t.negated ? `!${text}` : text;
}

/**
 * The tsquery text for a search term, or undefined when nothing in it can match (no letters or
 * digits, or only exclusions: "everything but X" over every room is not a search). Stop words
 * are only known to PostgreSQL: storage's requiresAWord catches "the -spam".
 */
export function toTsQuery(term: string): string | undefined {
  const { terms, ors } = tokenize(term);
  if (!terms.some((t) => !t.negated)) return undefined;
  // `or` binds its neighbours before the implied AND does ("a b or c" is a and (b or c));
  // tsquery's own precedence is the other way round, so each OR chain is parenthesised.
  const groups: Term[][] = [];
  terms.forEach((t, i) => {
    if (ors[i]) groups[groups.length - 1]!.push(t);
    else groups.push([t]);
  });
  return groups.map((g) => (g.length === 1 ? termQuery(g[0]!) : `(${g.map(termQuery).join(' | ')})`)).join(' & ');
}
