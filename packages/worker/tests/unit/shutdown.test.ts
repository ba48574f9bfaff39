import { describe, expect, it } from 'vitest';
import { closeWorkerParts } from '../../src/shutdown.js';

describe("regression (issue 17): with Redis down the index keeper's stop hung, so the worker never began to shut down", () => {
  it('closes the worker while the keeper is still stopping', async () => {
    // Prepare: a keeper whose stop waits on a Redis that never answers
    const calls: string[] = [];
    let releaseKeeper: () => void = () => undefined;
    const keeper = {
      stop: () => {
        calls.push('keeper.stop');
        return new Promise<void>((resolve) => {
          releaseKeeper = resolve;
        });
      },
    };
    const running = {
      close: async () => {
        calls.push('running.close');
      },
    };
    const indexRedis = {
      quit: async () => {
        calls.push('indexRedis.quit');
      },
      disconnect: () => undefined,
    };

    // Act
    const closing = closeWorkerParts({ keeper, running, indexRedis });
    await new Promise((resolve) => setImmediate(resolve));
    const beforeKeeperStopped = [...calls];
    releaseKeeper();
    await closing;

    // Assess
    expect(beforeKeeperStopped).toEqual(['keeper.stop', 'running.close']);
    expect(calls).toEqual(['keeper.stop', 'running.close', 'indexRedis.quit']);
  });

  it('disconnects the index connection when QUIT fails', async () => {
    // Prepare
    let disconnected = false;

    // Act
    await closeWorkerParts({
      indexRedis: {
        quit: () => Promise.reject(new Error('Connection is closed.')),
        disconnect: () => {
          disconnected = true;
        },
      },
    });

    // Assess
    expect(disconnected).toBe(true);
  });
});
