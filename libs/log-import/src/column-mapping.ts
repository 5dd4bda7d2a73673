/** Which column (CSV) or attribute key (XES) holds each part of an activity. */
export interface ColumnMapping {
  case?: string;
  activity?: string;
  timestamp?: string;
  resource?: string;
  outcome?: string;
  intent?: string;
}

export type MappedField = keyof ColumnMapping;

/** The command-line flag that sets each field, for error messages. */
export const MAPPING_FLAGS: Record<MappedField, string> = {
  case: '--case-column',
  activity: '--activity-column',
  timestamp: '--timestamp-column',
  resource: '--resource-column',
  outcome: '--outcome-column',
  intent: '--intent-column',
};

/**
 * Header names recognised when no column is given, compared without case, spaces, `_` and `-`.
 * They cover the usual process-mining exports (Disco, ProM, Celonis, pm4py) and plain logs. Outcome
 * is only taken from columns that can mean nothing else: a `status` column is as often a lifecycle.
 */
const CSV_CANDIDATES: Record<MappedField, string[]> = {
  case: ['case', 'caseid', 'case:concept:name', 'casename', 'caseidentifier', 'traceid', 'trace', 'sessionid', 'session'],
  activity: ['activity', 'concept:name', 'activityname', 'event', 'eventname', 'task', 'taskname', 'tool', 'action'],
  timestamp: ['timestamp', 'time:timestamp', 'time', 'completetimestamp', 'endtimestamp', 'endtime', 'datetime', 'date', 'starttimestamp', 'starttime', 'startedat'],
  resource: ['resource', 'org:resource', 'user', 'userid', 'performer', 'actor', 'originator'],
  outcome: ['outcome', 'success'],
  intent: ['intent'],
};

/** XES keys of the standard extensions (concept, time, org). */
export const XES_DEFAULT_MAPPING: Required<Pick<ColumnMapping, 'case' | 'activity' | 'timestamp' | 'resource'>> = {
  case: 'concept:name',
  activity: 'concept:name',
  timestamp: 'time:timestamp',
  resource: 'org:resource',
};

/** A column the log cannot be read without is missing, or a named column does not exist. */
export class LogFormatError extends Error {}

/**
 * The file stops before its end (cut download, damaged gzip data, XES without `</log>`): what
 * was read before the cut is good, but a case still open there may have lost its last
 * activities, so the importer ends no such case (a later import of the whole file ends it).
 */
export class LogTruncatedError extends LogFormatError {}

/** A header read as one column that another delimiter would split was split with the wrong one. */
function delimiterHint(names: string[]): string {
  if (names.length !== 1) return '';
  const other = [',', ';', '\t', '|'].find((d) => names[0].includes(d));
  return other === undefined ? '' : `: one column only, so the delimiter is wrong; this header looks split by ${other === '\t' ? 'tabs' : JSON.stringify(other)} (--delimiter)`;
}

/** Column index of each field in a CSV header (`undefined`: the log has no such column). */
export type ResolvedColumns = Record<MappedField, number | undefined> & { names: string[] };

function normalise(name: string): string {
  return name.trim().toLowerCase().replace(/[\s_-]+/g, '');
}

/** Finds each field's column in the header; throws `LogFormatError` naming the flag when one is missing. */
export function resolveCsvColumns(header: string[], mapping: ColumnMapping): ResolvedColumns {
  const names = header.map((h, i) => (i === 0 ? h.replace(/^\uFEFF/, '') : h));
  const exact = new Map<string, number>();
  const loose = new Map<string, number>();
  names.forEach((name, i) => {
    if (!exact.has(name)) exact.set(name, i);
    if (!loose.has(normalise(name))) loose.set(normalise(name), i);
  });
  const listed = names.map((n) => JSON.stringify(n)).join(', ') + delimiterHint(names);
  const resolved = { names } as ResolvedColumns;
  for (const field of Object.keys(CSV_CANDIDATES) as MappedField[]) {
    const wanted = mapping[field];
    if (wanted !== undefined) {
      const index = exact.get(wanted) ?? loose.get(normalise(wanted));
      if (index === undefined) throw new LogFormatError(`${MAPPING_FLAGS[field]} ${JSON.stringify(wanted)}: no such column; the header has ${listed}`);
      resolved[field] = index;
    } else {
      resolved[field] = CSV_CANDIDATES[field].map((c) => loose.get(c)).find((i) => i !== undefined);
    }
  }
  for (const field of ['case', 'activity', 'timestamp'] as const) {
    if (resolved[field] === undefined) {
      throw new LogFormatError(`no ${field} column found; name it with ${MAPPING_FLAGS[field]} (the header has ${listed})`);
    }
  }
  const used = new Map<number, MappedField>();
  for (const field of Object.keys(CSV_CANDIDATES) as MappedField[]) {
    const index = resolved[field];
    if (index === undefined) continue;
    const other = used.get(index);
    // Case and activity from one column would make every activity its own session.
    if (other !== undefined && (field === 'activity' || field === 'timestamp' || field === 'case')) {
      throw new LogFormatError(`${other} and ${field} both map to column ${JSON.stringify(names[index])}; set ${MAPPING_FLAGS[field]}`);
    }
    used.set(index, field);
  }
  return resolved;
}
