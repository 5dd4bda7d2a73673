/**
 * A JSON editor (CodeMirror 6) for a step's parameters, completing `{{input.…}}` and
 * `{{steps.<id>.result…}}` (templateCompletion.ts). Tab leaves the editor as in any form field.
 *
 *   <ParamsEditor key={step.id} label="Parameters of fetch" initial={text} onChange={setText} scope={() => ({ inputs, upstream })} />
 *
 * `initial` is read once: give the component a new `key` to load other text. `label` is the
 * accessible name of the editable area.
 */
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { json } from '@codemirror/lang-json';
import { bracketMatching, defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { EditorState } from '@codemirror/state';
import { EditorView, keymap, placeholder } from '@codemirror/view';
import { useEffect, useRef } from 'react';
import { templateCompletionSource, type TemplateScope } from './templateCompletion';

export interface ParamsEditorProps {
  label: string;
  initial: string;
  onChange: (text: string) => void;
  scope: () => TemplateScope;
  /** Id of the element saying what is wrong with the text (aria-describedby). */
  describedBy?: string;
  invalid?: boolean;
}

export function ParamsEditor({ label, initial, onChange, scope, describedBy, invalid }: ParamsEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  // The editor is built once; the latest callbacks are read through refs.
  const latest = useRef({ onChange, scope });
  latest.current = { onChange, scope };

  useEffect(() => {
    if (!host.current) return;
    const view = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: initial,
        extensions: [
          history(),
          closeBrackets(),
          bracketMatching(),
          json(),
          syntaxHighlighting(defaultHighlightStyle),
          autocompletion({ override: [templateCompletionSource(() => latest.current.scope())] }),
          keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap]),
          placeholder('{ "url": "{{input.url}}" }'),
          EditorView.lineWrapping,
          EditorView.contentAttributes.of({ 'aria-label': label, ...(describedBy ? { 'aria-describedby': describedBy } : {}), 'aria-multiline': 'true', role: 'textbox' }),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) latest.current.onChange(update.state.doc.toString());
          }),
          EditorView.theme({ '&': { fontSize: '13px', minHeight: '120px' }, '.cm-content': { fontFamily: 'monospace', minHeight: '120px' }, '&.cm-focused': { outline: '2px solid #1864ab' } }),
        ],
      }),
    });
    return () => view.destroy();
    // Built once per mount: `key` the component to load other text.
  }, []);

  return <div ref={host} data-invalid={invalid || undefined} style={{ border: `1px solid ${invalid ? '#c92a2a' : '#ced4da'}`, borderRadius: 4, background: '#ffffff' }} />;
}
