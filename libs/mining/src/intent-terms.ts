/**
 * Intents as terms for matching: what the user wants done, not who they are. Real intents carry
 * names, order numbers, zip codes, e-mail addresses and ids that say nothing about the procedure
 * and would make two requests of the same kind look different (or two of different kinds look
 * alike because they name the same person). They become entity slots (`<email>`, `<id>`,
 * `<num>`, `<name>`, `<quoted>`, ...), stop words go, and a light suffix stripping lets word
 * forms meet (reviews, reviewed, reviewing → review).
 */

/** Slot terms: an entity of that kind was mentioned (kept: "an order id was given" is a signal). */
export const ENTITY_SLOTS = ['<email>', '<url>', '<id>', '<code>', '<num>', '<date>', '<time>', '<money>', '<quoted>', '<name>'] as const;
export type EntitySlot = (typeof ENTITY_SLOTS)[number];

/** Words that say nothing about the task: matching on them would relate every intent to every other. */
const STOP_WORDS = new Set(
  (
    'a an the and or but nor of to in on at for from by with without into onto about as is are be been being was were am it its ' +
    'this that these those there here my our your yours their theirs his her hers him he she me us you i we they them myself yourself ' +
    'please can could would should will shall may might must do does did done doing have has had having how what which who whom whose ' +
    'when where why all any some each every both either neither no not nor only own same so than too very just also then once ' +
    'again further more most other such up down out off over under if because until while during before after above below between ' +
    'through against via per etc want wants wanted like would\'d i\'m you\'re it\'s don\'t'
  ).split(' '),
);

/** Longest intent text read (longer ones are cut): bounds the work per intent. */
const MAX_INTENT_CHARS = 2_000;
/** Terms kept per intent at most. */
const MAX_TERMS = 64;

const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.[\p{L}]{2,}/gu;
const URL = /\bhttps?:\/\/\S+|\bwww\.\S+/giu;
const QUOTED = /"[^"\n]{1,200}"|“[^”\n]{1,200}”|«[^»\n]{1,200}»|'[^'\n]{2,200}'(?!\p{L})/gu;
const DATE = /\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b/gu;
const TIME = /\b\d{1,2}:\d{2}(?::\d{2})?\s*(?:am|pm)?\b|\b\d{1,2}\s*(?:am|pm)\b/giu;
const MONEY = /[$€£¥]\s?\d[\d,]*(?:\.\d+)?|\b\d[\d,]*(?:\.\d+)?\s?(?:usd|eur|gbp|dollars?|euros?)\b/giu;

/**
 * A token is an id when it mixes letters and digits (W2378156, HAT136, credit_card_4421486,
 * a3f9-...), a code when it is a run of 2+ capitals that is not a word (JFK, SEA, NYC), a
 * number when it is digits (and separators).
 */
function slotOf(token: string): EntitySlot | undefined {
  const t = token.replace(/^#/, '');
  if (t.length === 0) return undefined;
  const digits = /\p{N}/u.test(t);
  const letters = /\p{L}/u.test(t);
  if (digits && !letters) return '<num>';
  if (digits && letters) return '<id>';
  if (/[_]/.test(t) && t.length >= 6) return '<id>';
  if (t.length >= 2 && t.length <= 6 && /^\p{Lu}+$/u.test(t)) return '<code>';
  return undefined;
}

/** Lower-case word → its stem for matching (the same rule for indexed intents and queries). */
export function stemTerm(word: string): string | null {
  let t = word.toLowerCase();
  if (t.length === 0 || STOP_WORDS.has(t)) return null;
  if (t.startsWith('<')) return t;
  if (t.length > 5 && t.endsWith('ing')) t = t.slice(0, -3);
  else if (t.length > 4 && t.endsWith('ed')) t = t.slice(0, -2);
  else if (t.length > 4 && t.endsWith('ies')) t = `${t.slice(0, -3)}y`;
  else if (t.length > 3 && t.endsWith('s') && !t.endsWith('ss')) t = t.slice(0, -1);
  if (t.length > 4 && t.endsWith('e')) t = t.slice(0, -1);
  return t.length > 0 ? t : null;
}

/**
 * Normalised terms of an intent, in order (repeats kept): entities as slots, stop words out,
 * stemmed. Proper names are capitalised words that do not open a sentence (and the words
 * following "I am" / "my name is" / "you are"); a capitalised word that also appears in lower
 * case elsewhere in the text is a word, not a name.
 */
export interface IntentTermOptions {
  /** Mask proper names (default true). Off for texts written as titles (catalog names), where capitals are not names. */
  names?: boolean;
}

export function intentTerms(text: string | undefined, opts: IntentTermOptions = {}): string[] {
  const maskNames = opts.names !== false;
  if (typeof text !== 'string' || text.length === 0) return [];
  let s = text.length > MAX_INTENT_CHARS ? text.slice(0, MAX_INTENT_CHARS) : text;
  s = s
    .replace(EMAIL, ' <email> ')
    .replace(URL, ' <url> ')
    .replace(QUOTED, ' <quoted> ')
    .replace(DATE, ' <date> ')
    .replace(MONEY, ' <money> ')
    .replace(TIME, ' <time> ');
  const lowerWords = new Set(s.match(/\p{Ll}[\p{L}'’-]*/gu) ?? []);
  const out: string[] = [];
  // Sentence starts: the first token, and tokens after . ! ? : or a newline.
  const tokens = s.split(/(?<=[.!?:;\n])\s+|\s+/u);
  let sentenceStart = true;
  let afterIntroduction = false;
  for (const raw of tokens) {
    if (out.length >= MAX_TERMS) break;
    if (raw.length === 0) continue;
    const endsSentence = /[.!?:;]["')\]]*$/u.test(raw);
    const cleaned = raw.replace(/^[^\p{L}\p{N}<#$]+|[^\p{L}\p{N}>]+$/gu, '');
    const words = cleaned.length === 0 ? [] : cleaned.startsWith('<') && cleaned.endsWith('>') ? [cleaned] : cleaned.split(/[^\p{L}\p{N}_#<>'’-]+/u);
    for (const w of words) {
      if (w.length === 0) continue;
      let term: string | null;
      if (w.startsWith('<') && w.endsWith('>')) term = w;
      else {
        const slot = slotOf(w);
        if (slot) term = slot;
        else if (maskNames && isName(w, sentenceStart, afterIntroduction, lowerWords)) term = '<name>';
        else term = stemTerm(w.replace(/['’]s$/u, '').replace(/['’]/gu, ''));
      }
      const lw = w.toLowerCase();
      afterIntroduction = (lw === 'am' || lw === 'is' || lw === 'are') && !sentenceStart ? true : term === '<name>' && afterIntroduction;
      sentenceStart = false;
      // A run of names (first and last name) is one entity.
      if (term === null || (term === '<name>' && out[out.length - 1] === '<name>')) continue;
      out.push(term);
    }
    if (endsSentence || raw.endsWith('\n')) sentenceStart = true;
  }
  return out;
}

function isName(word: string, sentenceStart: boolean, afterIntroduction: boolean, lowerWords: Set<string>): boolean {
  if (!/^\p{Lu}\p{Ll}+(?:[-'’]\p{Lu}?\p{Ll}+)*$/u.test(word)) return false;
  if (lowerWords.has(word.toLowerCase())) return false;
  if (STOP_WORDS.has(word.toLowerCase())) return false;
  return !sentenceStart || afterIntroduction;
}

/** The distinct terms of an intent (for set-based matching). */
export function intentTermSet(text: string | undefined): string[] {
  return [...new Set(intentTerms(text))];
}

/** The intent with its entities masked, as display text ("cancel order <id> for <name>"). */
export function maskedIntent(text: string | undefined): string {
  return intentTerms(text).join(' ');
}
