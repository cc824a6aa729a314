import { OverloadedError } from 'src/common/app-error';
import { BatchingQueue } from 'src/inference/batching-queue';

function deferred() {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  return { gate, release };
}

describe('BatchingQueue', () => {
  it('splits a request into batches and keeps input order', async () => {
    const batches: number[][] = [];
    const queue = new BatchingQueue(
      async (items: number[]) => {
        batches.push(items);
        return items.map((item) => item * 10);
      },
      { batchSize: 2, maxRequests: 4, modelId: 'test/model' },
    );
    await expect(queue.submit([1, 2, 3, 4, 5])).resolves.toEqual([10, 20, 30, 40, 50]);
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('puts items of concurrent requests into one batch', async () => {
    const { gate, release } = deferred();
    const batches: string[][] = [];
    const queue = new BatchingQueue(
      async (items: string[]) => {
        batches.push(items);
        if (batches.length === 1) await gate;
        return items.map((item) => item.toUpperCase());
      },
      { batchSize: 8, maxRequests: 4, modelId: 'test/model' },
    );
    const first = queue.submit(['a']);
    const second = queue.submit(['b', 'c']);
    const third = queue.submit(['d']);
    release();
    await expect(Promise.all([first, second, third])).resolves.toEqual([['A'], ['B', 'C'], ['D']]);
    expect(batches).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('rejects a request beyond the queue depth with 429 advice', async () => {
    const { gate, release } = deferred();
    const queue = new BatchingQueue(
      async (items: number[]) => {
        await gate;
        return items;
      },
      { batchSize: 1, maxRequests: 2, modelId: 'test/model', retryAfterSecs: 3 },
    );
    const running = [queue.submit([1]), queue.submit([2])];
    expect(queue.depth).toBe(2);

    const error = await queue.submit([3]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OverloadedError);
    expect((error as OverloadedError).retryAfterSecs).toBe(3);
    expect((error as OverloadedError).message).toContain('INFERENCE_MAX_QUEUE_DEPTH');

    release();
    await expect(Promise.all(running)).resolves.toEqual([[1], [2]]);
    expect(queue.depth).toBe(0);
  });

  it('fails the requests of a failed batch and goes on with the next', async () => {
    const queue = new BatchingQueue(
      async (items: number[]) => {
        if (items.includes(13)) throw new Error('graph failed');
        return items;
      },
      { batchSize: 1, maxRequests: 4, modelId: 'test/model' },
    );
    await expect(queue.submit([13])).rejects.toThrow('graph failed');
    await expect(queue.submit([7])).resolves.toEqual([7]);
  });

  it('fails only the bad item of a shared batch', async () => {
    const { gate, release } = deferred();
    let runs = 0;
    const queue = new BatchingQueue(
      async (items: number[]) => {
        runs++;
        if (runs === 1) await gate;
        if (items.includes(13)) throw new Error('position out of range');
        return items;
      },
      { batchSize: 8, maxRequests: 4, modelId: 'test/model' },
    );
    const blocker = queue.submit([0]);
    const good = queue.submit([1, 2]);
    const bad = queue.submit([13]);
    const other = queue.submit([3]);
    release();

    await expect(blocker).resolves.toEqual([0]);
    await expect(good).resolves.toEqual([1, 2]);
    await expect(bad).rejects.toThrow('position out of range');
    await expect(other).resolves.toEqual([3]);
  });

  it('admits a request before preparing it', async () => {
    const { gate, release } = deferred();
    const queue = new BatchingQueue(
      async (items: number[]) => {
        await gate;
        return items;
      },
      { batchSize: 1, maxRequests: 1, modelId: 'test/model' },
    );
    const running = queue.submit([1]);
    const prepare = jest.fn(() => [2]);

    await expect(queue.submitPrepared(prepare)).rejects.toThrow('INFERENCE_MAX_QUEUE_DEPTH');
    expect(prepare).not.toHaveBeenCalled();
    release();
    await running;
  });

  it('reports a result count that does not match', async () => {
    const queue = new BatchingQueue(async (items: number[]) => [...items, 99], { batchSize: 4, maxRequests: 4, modelId: 'test/model' });
    await expect(queue.submit([1, 2])).rejects.toThrow('returned 2 results for 1 inputs');
  });
});
