import { ToolError, abortableDelay, type BuiltinTool, type ToolCallContext } from './tool-error';

/** `core.delay`: { ms } → { sleptMs }; abortable. */
export class DelayTool implements BuiltinTool {
  readonly name = 'core.delay';

  async call(parameters: Record<string, unknown>, context: ToolCallContext): Promise<unknown> {
    const ms = parameters.ms;
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new ToolError('invalid_parameters', 'core.delay needs a number "ms" ≥ 0', false);
    const started = Date.now();
    await abortableDelay(ms, context.signal);
    return { sleptMs: Date.now() - started };
  }
}

/** `core.transform`: { value } → value. Templating has already done the work when it runs. */
export class TransformTool implements BuiltinTool {
  readonly name = 'core.transform';

  async call(parameters: Record<string, unknown>): Promise<unknown> {
    if (!Object.prototype.hasOwnProperty.call(parameters, 'value')) throw new ToolError('invalid_parameters', 'core.transform needs "value"', false);
    return parameters.value;
  }
}
