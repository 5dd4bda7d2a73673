/**
 * Completion of templates in a step's parameters (CodeMirror 6): after `{{` it offers
 * `{{input.<name>}}` for each run input the workflow's `variables` declares, and
 * `{{steps.<id>.result}}` (and `.status`, `.error`, `.attempts`) for each step upstream of the one
 * edited — the only steps a template may read (libs/workflow refuses the others).
 *
 *   autocompletion({ override: [templateCompletionSource(() => ({ inputs: ['repo'], upstream: ['fetch'] }))] })
 *
 * The scope is read through a function at each completion, so the editor is not rebuilt when a
 * dependency or a variable changes.
 */
import type { Completion, CompletionContext, CompletionResult, CompletionSource } from '@codemirror/autocomplete';
import type { EditorView } from '@codemirror/view';

export interface TemplateScope {
  inputs: string[];
  upstream: string[];
}

/** What `steps.<id>` exposes (libs/workflow STEP_VIEW_FIELDS); `result` first, the one read most. */
const STEP_FIELDS = ['result', 'status', 'error', 'attempts'] as const;

export function templateOptions(scope: TemplateScope): Completion[] {
  return [
    ...scope.inputs.map((name) => ({ label: `{{input.${name}}}`, detail: 'run input', type: 'variable' })),
    ...scope.upstream.flatMap((id) =>
      STEP_FIELDS.map((field, rank) => ({ label: `{{steps.${id}.${field}}}`, detail: `step ${id}`, type: 'property', boost: field === 'result' ? 1 : -rank })),
    ),
  ];
}

export function templateCompletionSource(scope: () => TemplateScope): CompletionSource {
  return (context: CompletionContext): CompletionResult | null => {
    // From an opening `{{` not yet closed, up to the cursor; or anywhere when asked (Ctrl-Space).
    const typed = context.matchBefore(/\{\{[^{}"]*$/);
    if (!typed && !context.explicit) return null;
    const from = typed ? typed.from : context.pos;
    const options = templateOptions(scope()).map((o) => ({ ...o, apply: insertTemplate }));
    return { from, to: context.pos, options, validFor: /^\{\{[\w.-]*$/ };
  };
}

/** Inserts the option, over a `}}` already right after the cursor (typed or auto-closed) so it is not doubled. */
function insertTemplate(view: EditorView, completion: Completion, from: number, to: number): void {
  const end = view.state.sliceDoc(to, to + 2) === '}}' ? to + 2 : to;
  view.dispatch({ changes: { from, to: end, insert: completion.label }, selection: { anchor: from + completion.label.length }, userEvent: 'input.complete' });
}
