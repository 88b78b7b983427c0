import { useEffect, useState } from 'react';

/**
 * Re-render every second while `active`, so live durations and "ago" times move
 * without asking the server.
 */
export function useSecondTicker(active: boolean): void {
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!active) {
      return;
    }
    const timer = window.setInterval(() => setTick(t => t + 1), 1000);
    return () => window.clearInterval(timer);
  }, [active]);
}
