// Waits for a changing set of promises (work still being added to it resolves too)
// until it is empty or a time limit passes.

/** True when every promise in `running` settled within `ms`; false when time ran out first. */
export async function settledWithin(running: ReadonlySet<Promise<unknown>>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    while (running.size > 0) {
      if ((await Promise.race([Promise.allSettled([...running]), timedOut])) === 'timeout') return false;
    }
    return true;
  } finally {
    clearTimeout(timer);
  }
}
