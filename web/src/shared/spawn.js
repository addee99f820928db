// The calculator's module worker (the offline build swaps this file for spawn-inline.js).
export const spawnWorker = () => new Worker(new URL('../worker/worker.js', import.meta.url), { type: 'module' });
