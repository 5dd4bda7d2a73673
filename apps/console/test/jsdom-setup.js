/**
 * What the component tests' DOM (jsdom) lacks and the component library reads: media queries,
 * element sizes and ResizeObserver (Mantine, React Flow). Loaded for every jest test; it does
 * nothing outside a jsdom environment.
 */
if (typeof window !== 'undefined') {
  window.matchMedia ??= (query) => ({
    matches: false,
    media: query,
    onchange: null,
    addListener: () => undefined,
    removeListener: () => undefined,
    addEventListener: () => undefined,
    removeEventListener: () => undefined,
    dispatchEvent: () => false,
  });
  class SizeObserver {
    observe() {}
    unobserve() {}
    disconnect() {}
  }
  globalThis.ResizeObserver ??= SizeObserver;
  globalThis.DOMMatrixReadOnly ??= class {
    m22 = 1;
  };
  window.HTMLElement.prototype.scrollIntoView ??= () => undefined;
  // React Flow sizes an edge label's background from its text (jsdom lays nothing out).
  window.SVGElement.prototype.getBBox ??= () => ({ x: 0, y: 0, width: 0, height: 0 });
}
