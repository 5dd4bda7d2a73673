import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is served by the gateway at `/`: hashed file names under /assets are cached for
// ever; index.html is not. The API client is built from its TypeScript source.
export default defineConfig({
  plugins: [react()],
  resolve: { alias: { '@toolpath/api-client': resolve(import.meta.dirname, '../../libs/api-client/src/index.ts') } },
  // The graph chunk (React Flow and elkjs's bundled layout engine, ~1.7 MB, ~0.4 MB compressed) is
  // loaded only by the pages that draw graphs; the first load stays near 120 KB compressed.
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1800 },
  server: { proxy: { '/api': 'http://127.0.0.1:3000', '/health': 'http://127.0.0.1:3000' } },
});
