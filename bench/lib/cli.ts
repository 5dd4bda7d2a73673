/**
 * Command-line options of a bench: declared once, so `--help` and the parser cannot disagree.
 * Every bench also gets `--json <file>` and `--help`.
 */

interface IntOption {
  kind: 'int';
  default: number;
  help: string;
  min?: number;
}
interface NumberOption {
  kind: 'number';
  default: number;
  help: string;
}
interface StringOption {
  kind: 'string';
  default?: string;
  help: string;
}
interface FlagOption {
  kind: 'flag';
  help: string;
}
/** Repeatable `--x KEY=VALUE`. */
interface PairsOption {
  kind: 'pairs';
  help: string;
}
export type CliOption = IntOption | NumberOption | StringOption | FlagOption | PairsOption;

type ValueOf<O> = O extends IntOption | NumberOption
  ? number
  : O extends StringOption
    ? string | undefined
    : O extends FlagOption
      ? boolean
      : Record<string, string>;

export type Parsed<S extends Record<string, CliOption>> = { [K in keyof S]: ValueOf<S[K]> } & { json?: string };

export interface CliSpec<S extends Record<string, CliOption>> {
  /** Command line as typed, e.g. `node bench/dist/ingest.bench.js`. */
  usage: string;
  /** What the bench measures, printed by --help. */
  description: string;
  options: S;
}

const flagOf = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export function helpText<S extends Record<string, CliOption>>(spec: CliSpec<S>): string {
  const lines = [`usage: ${spec.usage} [options]`, '', spec.description.trim(), '', 'options:'];
  const entries: Array<[string, string]> = Object.entries(spec.options).map(([key, o]) => {
    const arg = o.kind === 'flag' ? '' : o.kind === 'pairs' ? ' KEY=VALUE' : o.kind === 'string' ? ' TEXT' : ' N';
    const dflt = 'default' in o && o.default !== undefined ? ` (default ${o.default})` : '';
    return [`${flagOf(key)}${arg}`, `${o.help}${dflt}`];
  });
  entries.push(['--json FILE', 'also write the figures as JSON to FILE'], ['--help', 'show this text']);
  const width = Math.max(...entries.map(([f]) => f.length)) + 2;
  for (const [f, h] of entries) lines.push(`  ${f.padEnd(width)}${h}`);
  lines.push('', 'Servers: NATS_URL, MONGO_URL (defaults nats://127.0.0.1:4222, mongodb://127.0.0.1:27017).');
  return lines.join('\n');
}

/** Parses argv; prints help and exits 0 on --help, prints the error and exits 2 on bad input. */
export function parseCli<S extends Record<string, CliOption>>(spec: CliSpec<S>, argv = process.argv.slice(2)): Parsed<S> {
  const out: Record<string, unknown> = {};
  const byFlag = new Map<string, [string, CliOption]>();
  for (const [key, o] of Object.entries(spec.options)) {
    byFlag.set(flagOf(key), [key, o]);
    if (o.kind === 'flag') out[key] = false;
    else if (o.kind === 'pairs') out[key] = {};
    else out[key] = o.default;
  }
  const fail = (msg: string): never => {
    console.error(`${msg}\n\n${helpText(spec)}`);
    process.exit(2);
  };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i];
    const [flag, inline] = raw.includes('=') && raw.startsWith('--') ? [raw.slice(0, raw.indexOf('=')), raw.slice(raw.indexOf('=') + 1)] : [raw, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) fail(`${flag} needs a value`);
      return v as string;
    };
    if (flag === '--help' || flag === '-h') {
      console.log(helpText(spec));
      process.exit(0);
    }
    if (flag === '--json') {
      out.json = value();
      continue;
    }
    const found = byFlag.get(flag);
    if (!found) fail(`unknown argument ${raw}`);
    const [key, o] = found!;
    if (o.kind === 'flag') out[key] = true;
    else if (o.kind === 'string') out[key] = value();
    else if (o.kind === 'pairs') {
      const v = value();
      const eq = v.indexOf('=');
      if (eq < 1) fail(`${flag} takes KEY=VALUE, got ${v}`);
      (out[key] as Record<string, string>)[v.slice(0, eq)] = v.slice(eq + 1);
    } else {
      const text = value();
      const n = Number(text.replace(/_/g, ''));
      if (!Number.isFinite(n)) fail(`${flag} must be a number, got ${text}`);
      if (o.kind === 'int' && (!Number.isInteger(n) || n < (o.min ?? 1))) fail(`${flag} must be an integer >= ${o.min ?? 1}, got ${text}`);
      out[key] = n;
    }
  }
  return out as Parsed<S>;
}
