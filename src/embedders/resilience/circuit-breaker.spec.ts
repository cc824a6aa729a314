import { AppError } from 'src/common/app-error';
import { CircuitBreaker } from 'src/embedders/resilience/circuit-breaker';
import { ProviderHttpError } from 'src/embedders/resilience/provider-errors';

const fail = async (): Promise<never> => {
  throw new ProviderHttpError('Test', 503, 'down');
};
const succeed = async () => 'ok';

describe('CircuitBreaker', () => {
  let now: number;
  let breaker: CircuitBreaker;

  beforeEach(() => {
    now = 0;
    breaker = new CircuitBreaker({ name: 'Test', failureThreshold: 3, windowMs: 10_000, openMs: 5_000, clock: () => now });
  });

  async function failTimes(count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      await expect(breaker.execute(fail)).rejects.toBeInstanceOf(ProviderHttpError);
    }
  }

  it('opens after the threshold', async () => {
    await failTimes(3);

    expect(breaker.state).toBe('open');
    const error = await breaker.execute(succeed).catch((caught: AppError) => caught);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('embedder_circuit_open');
    expect((error as AppError).kind).toBe('unavailable');
    expect((error as AppError).details).toMatchObject({ retryInMs: 5_000 });
  });

  it('forgets failures outside the window', async () => {
    await failTimes(2);
    now += 10_000;
    await failTimes(2);

    expect(breaker.state).toBe('closed');
  });

  it('ignores rejected requests', async () => {
    const reject400 = async (): Promise<never> => {
      throw new ProviderHttpError('Test', 400, 'bad input');
    };
    for (let i = 0; i < 5; i += 1) {
      await expect(breaker.execute(reject400)).rejects.toBeInstanceOf(ProviderHttpError);
    }

    expect(breaker.state).toBe('closed');
  });

  it('lets one probe through when half-open', async () => {
    await failTimes(3);
    now += 5_000;
    expect(breaker.state).toBe('half-open');

    let finishProbe: (value: string) => void = () => undefined;
    const probe = breaker.execute(() => new Promise<string>((resolve) => (finishProbe = resolve)));
    await expect(breaker.execute(succeed)).rejects.toMatchObject({ code: 'embedder_circuit_open' });

    finishProbe('probe ok');
    await expect(probe).resolves.toBe('probe ok');
    expect(breaker.state).toBe('closed');
    await expect(breaker.execute(succeed)).resolves.toBe('ok');
  });

  it('reopens after a failed probe', async () => {
    await failTimes(3);
    now += 5_000;

    await failTimes(1);

    expect(breaker.state).toBe('open');
    now += 4_999;
    expect(breaker.state).toBe('open');
    now += 1;
    expect(breaker.state).toBe('half-open');
  });
});
