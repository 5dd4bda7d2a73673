import { createTheme, darken, DEFAULT_THEME, luminance, type CSSVariablesResolver } from '@mantine/core';

/**
 * Mantine's defaults with the contrast WCAG AA asks for (4.5:1 for text; axe-core checks it in the
 * browser test, test/console): filled buttons and links one shade darker (white on blue-8 is
 * 5.0:1, on the default blue-6 3.6:1); dimmed text (input descriptions) and the error colour darker
 * (gray-6 on white is 3.3:1, gray-7 8.2:1; red-6 3.3:1, red-8 4.5:1); and the text of every "light"
 * variant (badges, the active page in the navigation) dark enough on its background even when
 * hovered (green-9 on green-1 is 3.8:1, blue-9 on blue-2 4.0:1).
 */
export const theme = createTheme({ primaryShade: { light: 8, dark: 8 } });

const contrast = (a: string, b: string) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
};

/** The colour's darkest shade, darkened further until it reads on the light-hover shade (index 2). */
function readableOn(shades: readonly string[]): string {
  let amount = 0;
  while (contrast(darken(shades[9], amount), shades[2]) < 4.6 && amount < 0.9) amount += 0.05;
  return darken(shades[9], amount);
}

const lightText = Object.fromEntries(
  Object.entries(DEFAULT_THEME.colors)
    .filter(([name]) => name !== 'dark')
    .map(([name, shades]) => [`--mantine-color-${name}-light-color`, readableOn(shades)]),
);

export const cssVariablesResolver: CSSVariablesResolver = () => ({
  variables: {},
  light: { '--mantine-color-dimmed': 'var(--mantine-color-gray-7)', '--mantine-color-error': 'var(--mantine-color-red-8)', ...lightText },
  dark: {},
});
