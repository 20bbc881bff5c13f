import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchConnectivity } from '../../main/shell/connectivity';

describe('watchConnectivity', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('reports each change once and nothing while the state holds', () => {
    const states = [true, true, false, false, true];
    let online = true;
    const changes: boolean[] = [];
    const stop = watchConnectivity(() => online, (now) => changes.push(now), 1000);
    for (const state of states) {
      online = state;
      vi.advanceTimersByTime(1000);
    }
    expect(changes).toEqual([false, true]);
    stop();
    online = false;
    vi.advanceTimersByTime(5000);
    expect(changes).toEqual([false, true]);
  });
});
