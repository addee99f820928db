// The offline single-file build's worker: its code inlined in the page and started from a Blob
// URL (a file:// page can fetch no script file), as a classic worker.
import InlineWorker from '../worker.js?worker&inline';

export const spawnWorker = () => new InlineWorker();
