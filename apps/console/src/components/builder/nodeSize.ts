/** The size of a step on the builder's canvas: the layout and the drawing agree on it. */
export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 60;
