// The page's one state. Every view reads it and draws itself from it in its render(state); every
// handler changes it through update(), which schedules one render of every view after the
// handler's synchronous work (a microtask: several updates in a row draw once), or draws at once
// with { now: true }.
export function createStore(initial, render) {
  let state = initial;
  let scheduled = false;
  const draw = () => {
    scheduled = false;
    render(state);
  };
  return {
    get state() {
      return state;
    },
    /** Merge `change` (an object, or a function of the state giving one) into the state. */
    update(change, { now = false } = {}) {
      state = { ...state, ...(typeof change === 'function' ? change(state) : change) };
      if (now) {
        draw();
      } else if (!scheduled) {
        scheduled = true;
        queueMicrotask(() => scheduled && draw());
      }
      return state;
    },
  };
}
