/** Outcome values read as success (compared without case); any other non-empty value is a failure. */
export const DEFAULT_SUCCESS_VALUES = [
  'true', '1', 'yes', 'y', 'ok', 'success', 'successful', 'succeeded', 'complete', 'completed', 'done', 'pass', 'passed',
];

export interface Outcome {
  success?: boolean;
  error?: string;
}

export type OutcomeInterpreter = (raw: string | undefined) => Outcome;

/** Turns an outcome cell into success/failure; an empty cell means "not known". */
export function createOutcomeInterpreter(successValues: readonly string[] = DEFAULT_SUCCESS_VALUES): OutcomeInterpreter {
  const ok = new Set(successValues.map((v) => v.trim().toLowerCase()));
  return (raw) => {
    const value = raw?.trim();
    if (!value) return {};
    if (ok.has(value.toLowerCase())) return { success: true };
    return { success: false, error: value.length > 10_000 ? value.slice(0, 10_000) : value };
  };
}
