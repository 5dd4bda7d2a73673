/** A rate (0..1) as a percentage with one decimal, or a dash when it is unknown. */
export const percent = (rate: number | null | undefined): string => (rate === null || rate === undefined ? '–' : `${Math.round(rate * 1000) / 10} %`);

/** A short duration: "850 ms", "1.2 s"; a dash when it is unknown. (Runs use formatMs, which spells out minutes and hours.) */
export const duration = (ms: number | null | undefined): string => (ms === null || ms === undefined ? '–' : ms < 1000 ? `${Math.round(ms)} ms` : `${Math.round(ms / 100) / 10} s`);
