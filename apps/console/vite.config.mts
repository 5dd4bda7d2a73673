import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is served by the gateway at `/`: hashed file names under /assets are cached for
// ever; index.html is not. The API client is built from its TypeScript source.
export default defineConfig({
  plugins: [react()],
  resolve: { alias: { '@toolpath/api-client': resolve(import.meta.dirname, '../../libs/api-client/src/index.ts') } },
  // The graph chunk (React Flow, ~190 KB, ~55 KB compressed) is loaded only by the pages that draw
  // graphs, and the layout engine (elkjs's worker script, 1.6 MB, 350 KB compressed) only by their
  // layout worker (components/graph/elkWorker.ts); the first load stays near 120 KB compressed. The
  // 1.5 MB main-thread fallback chunk (elk.bundled) is loaded only where there is no Worker.
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1800 },
  server: { proxy: { '/api': 'http://127.0.0.1:3000', '/health': 'http://127.0.0.1:3000' } },
});
