import { AdaptiveConcurrency } from 'src/embedders/resilience/adaptive-concurrency';
import { ProviderHttpError } from 'src/embedders/resilience/provider-errors';

const overloaded = async (): Promise<never> => {
  throw new ProviderHttpError('Test', 503, 'overloaded');
};
const succeed = async () => 'ok';

describe('AdaptiveConcurrency', () => {
  let now: number;

  beforeEach(() => {
    now = 0;
  });

  function makeLimiter(maxConcurrency = 8, successesPerIncrease = 3): AdaptiveConcurrency {
    return new AdaptiveConcurrency({ maxConcurrency, successesPerIncrease, clock: () => now });
  }

  async function overloadTimes(limiter: AdaptiveConcurrency, count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      await expect(limiter.run(overloaded)).rejects.toBeInstanceOf(ProviderHttpError);
    }
  }

  it('never runs more than the limit', async () => {
    const limiter = makeLimiter(2);
    const releases: Array<() => void> = [];
    const started: number[] = [];
    const runs = [0, 1, 2, 3].map((id) =>
      limiter.run(
        () =>
          new Promise<number>((resolve) => {
            started.push(id);
            releases.push(() => resolve(id));
          }),
      ),
    );
    await Promise.resolve();

    expect(started).toEqual([0, 1]);
    expect(limiter.active).toBe(2);

    releases[0]();
    await runs[0];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);

    releases[1]();
    releases[2]();
    await Promise.resolve();
    await Promise.resolve();
    releases[3]();
    await expect(Promise.all(runs)).resolves.toEqual([0, 1, 2, 3]);
    expect(limiter.active).toBe(0);
  });

  it('halves on a 503 storm', async () => {
    const limiter = makeLimiter(8);

    await overloadTimes(limiter, 3);
    expect(limiter.limit).toBe(4);

    await overloadTimes(limiter, 3);
    expect(limiter.limit).toBe(2);
  });

  it('ignores 503s spread beyond the window', async () => {
    const limiter = makeLimiter(8);

    await overloadTimes(limiter, 2);
    now += 10_000;
    await overloadTimes(limiter, 2);

    expect(limiter.limit).toBe(8);
  });

  it('stops at the minimum', async () => {
    const limiter = makeLimiter(2);

    await overloadTimes(limiter, 9);

    expect(limiter.limit).toBe(1);
  });

  it('climbs by one per run of successes', async () => {
    const limiter = makeLimiter(8, 3);
    await overloadTimes(limiter, 3);
    expect(limiter.limit).toBe(4);

    for (let i = 0; i < 2; i += 1) {
      await limiter.run(succeed);
    }
    expect(limiter.limit).toBe(4);
    await limiter.run(succeed);
    expect(limiter.limit).toBe(5);

    for (let i = 0; i < 30; i += 1) {
      await limiter.run(succeed);
    }
    expect(limiter.limit).toBe(8);
  });

  it('resets the success run on an error', async () => {
    const limiter = makeLimiter(8, 3);
    await overloadTimes(limiter, 3);

    await limiter.run(succeed);
    await limiter.run(succeed);
    await expect(limiter.run(async () => Promise.reject(new Error('other')))).rejects.toThrow('other');
    await limiter.run(succeed);

    expect(limiter.limit).toBe(4);
  });

  it('rejects invalid bounds', () => {
    expect(() => new AdaptiveConcurrency({ maxConcurrency: 0 })).toThrow(RangeError);
    expect(() => new AdaptiveConcurrency({ maxConcurrency: 2, minConcurrency: 3 })).toThrow(RangeError);
  });
});
