import { DEFAULT_THEME, luminance } from '@mantine/core';
import { cssVariablesResolver, theme } from './theme';

const contrast = (a: string, b: string) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
};
const light = cssVariablesResolver({ ...DEFAULT_THEME, ...theme } as typeof DEFAULT_THEME).light as Record<string, string>;

describe('the console theme: text contrast of at least 4.5:1 (WCAG AA)', () => {
  it('gives every "light" variant text that reads on its background and on its hover background', () => {
    for (const [name, shades] of Object.entries(DEFAULT_THEME.colors)) {
      if (name === 'dark') continue;
      const text = light[`--mantine-color-${name}-light-color`];
      expect({ name, onLight: contrast(text, shades[1]) >= 4.5, onHover: contrast(text, shades[2]) >= 4.5 }).toEqual({ name, onLight: true, onHover: true });
    }
  });

  it('puts white text on a filled primary colour that is dark enough, and keeps dimmed text readable on white', () => {
    const shade = (theme.primaryShade as { light: number }).light;
    expect(contrast('#ffffff', DEFAULT_THEME.colors.blue[shade])).toBeGreaterThanOrEqual(4.5);
    expect(light['--mantine-color-dimmed']).toBe('var(--mantine-color-gray-7)');
    expect(contrast('#ffffff', DEFAULT_THEME.colors.gray[7])).toBeGreaterThanOrEqual(4.5);
    expect(contrast('#ffffff', DEFAULT_THEME.colors.red[8])).toBeGreaterThanOrEqual(4.5);
  });
});
