import { stepToolSequence, toolsOfWorkflow, workflowCard, type WorkflowDefinition } from './index';

const definition: WorkflowDefinition = {
  name: 'Refund',
  description: 'refund an order',
  category: 'billing',
  tags: ['orders'],
  source: 'learned',
  steps: [
    { id: 'find', tool: 'orders.get', parameters: {} },
    { id: 'charge', tool: 'payments.refund', parameters: {}, onFailure: { fallback: 'manual' }, compensate: { tool: 'payments.charge', parameters: {} } },
    { id: 'manual', tool: 'tickets.open', parameters: {}, dependsOn: ['find'] },
    { id: 'again', tool: 'orders.get', parameters: {} },
  ],
};

describe('toolsOfWorkflow', () => {
  it('lists every tool a run may call once, compensations and fallback steps included, in order of first use', () => {
    expect(toolsOfWorkflow(definition)).toEqual(['orders.get', 'payments.refund', 'payments.charge', 'tickets.open']);
  });
});

describe('stepToolSequence', () => {
  it('is the steps in order with repeats, without compensations', () => {
    expect(stepToolSequence(definition)).toEqual(['orders.get', 'payments.refund', 'tickets.open', 'orders.get']);
  });
});

describe('workflowCard', () => {
  it('reads the listing fields of a definition with the tools given', () => {
    expect(workflowCard('wf_1', definition, toolsOfWorkflow(definition))).toEqual({
      id: 'wf_1',
      name: 'Refund',
      description: 'refund an order',
      category: 'billing',
      tags: ['orders'],
      source: 'learned',
      tools: ['orders.get', 'payments.refund', 'payments.charge', 'tickets.open'],
    });
  });

  it('keeps a damaged stored row listable: name falls back to the id, unknown sources to user, no category key when absent', () => {
    const card = workflowCard('wf_2', { tags: ['a', 3, null] as never, source: 'imported' as never }, ['t']);
    expect(card).toEqual({ id: 'wf_2', name: 'wf_2', description: '', tags: ['a'], source: 'user', tools: ['t'] });
    expect('category' in card).toBe(false);
  });
});
