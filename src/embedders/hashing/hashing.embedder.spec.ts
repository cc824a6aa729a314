import { AppError } from 'src/common/app-error';
import { HashingEmbedder, tokenize } from 'src/embedders/hashing/hashing.embedder';

function cosine(left: number[], right: number[]): number {
  let dot = 0;
  for (let index = 0; index < left.length; index += 1) {
    dot += left[index] * right[index];
  }
  return dot;
}

function norm(vector: number[]): number {
  return Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
}

function errorOf(action: () => unknown): AppError {
  try {
    action();
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected an error');
}

describe(HashingEmbedder.name, () => {
  const sut = new HashingEmbedder();

  it('defaults to 384 dimensions', async () => {
    const [vector] = await sut.embed(['hello world'], 'document');

    expect(sut.dimensions).toBe(384);
    expect(vector).toHaveLength(384);
  });

  it('returns the same vector on every call', async () => {
    const text = 'Semantic search ranks documents by meaning.';

    const [first] = await sut.embed([text], 'document');
    const [second] = await new HashingEmbedder().embed([text], 'query');

    expect(second).toEqual(first);
  });

  it('matches vectors recorded from an earlier run', async () => {
    // Changing the tokeniser, weights, seeds or hash changes these values, and every stored
    // vector made by this embedder would then need to be re-embedded.
    const [vector] = await new HashingEmbedder({ dimensions: 16 }).embed(['Hello, world'], 'document');

    expect(vector.map((value) => Number(value.toFixed(6)))).toEqual(RECORDED_HELLO_WORLD_16);
  });

  it('returns unit-length vectors', async () => {
    const vectors = await sut.embed(['one', 'two words', 'a longer sentence with several repeated repeated words'], 'document');

    for (const vector of vectors) {
      expect(norm(vector)).toBeCloseTo(1, 10);
    }
  });

  it('returns a zero vector for text without words', async () => {
    const vectors = await sut.embed(['', '   ', '?!… — ***'], 'document');

    for (const vector of vectors) {
      expect(vector).toHaveLength(384);
      expect(vector.every((value) => value === 0)).toBe(true);
    }
  });

  it('returns one vector per text in order', async () => {
    const [alpha, beta] = await sut.embed(['alpha', 'beta'], 'document');
    const [betaAlone] = await sut.embed(['beta'], 'document');

    expect(beta).toEqual(betaAlone);
    expect(alpha).not.toEqual(beta);
    expect(await sut.embed([], 'document')).toEqual([]);
  });

  it('scores related texts above unrelated ones', async () => {
    const [query, related, unrelated] = await sut.embed(
      [
        'how do I reset my account password',
        'To reset a forgotten password, open account settings and choose reset password.',
        'The orchestra performed a symphony by Brahms in the old concert hall.',
      ],
      'document',
    );

    expect(cosine(query, related)).toBeGreaterThan(cosine(query, unrelated) + 0.2);
  });

  it('relates inflected forms through character n-grams', async () => {
    const [embeddings, embedding, banana] = await sut.embed(['embeddings', 'embedding', 'banana'], 'document');

    expect(cosine(embeddings, embedding)).toBeGreaterThan(0.4);
    expect(cosine(embeddings, banana)).toBeLessThan(0.1);
  });

  it('ignores case and Unicode compatibility forms', async () => {
    const [plain, shouted, fullWidth] = await sut.embed(['data store', 'DATA STORE', 'ｄａｔａ ｓｔｏｒｅ'], 'document');

    expect(shouted).toEqual(plain);
    expect(fullWidth).toEqual(plain);
  });

  it('uses word order through bigrams', async () => {
    const [forward, reversed] = await sut.embed(['dog bites man', 'man bites dog'], 'document');

    expect(cosine(forward, reversed)).toBeLessThan(0.999);
    expect(cosine(forward, reversed)).toBeGreaterThan(0.5);
  });

  it('dampens repeated words with sublinear term frequency', async () => {
    const [once, many, other] = await sut.embed(['apple pie', `${'apple '.repeat(50)}pie`, 'pie'], 'document');

    // Measured: with raw counts instead of 1 + ln(tf), "apple" dominates and the first
    // similarity falls to about 0.016 (0.157 with it), the second to about 0.63 (0.74).
    expect(cosine(many, other)).toBeGreaterThan(0.1);
    expect(cosine(once, many)).toBeGreaterThan(0.7);
  });

  it('embeds non-Latin scripts', async () => {
    const [russian, russianRelated, greek, japanese, japaneseRelated, arabic] = await sut.embed(
      ['поиск документов по смыслу', 'смысловой поиск документов', 'αναζήτηση εγγράφων', '東京の天気予報', '東京の天気', 'البحث الدلالي'],
      'document',
    );

    for (const vector of [russian, greek, japanese, arabic]) {
      expect(norm(vector)).toBeCloseTo(1, 10);
    }
    expect(cosine(russian, russianRelated)).toBeGreaterThan(cosine(russian, greek) + 0.2);
    expect(cosine(japanese, japaneseRelated)).toBeGreaterThan(cosine(japanese, arabic) + 0.3);
  });

  it('tokenises CJK characters one by one and other scripts by word', () => {
    expect(tokenize('Hello, 世界! naïve café-au-lait 2024 東京タワー')).toEqual([
      'hello',
      '世',
      '界',
      'naïve',
      'café',
      'au',
      'lait',
      '2024',
      '東',
      '京',
      'タ',
      'ワ',
      'ー',
    ]);
    expect(tokenize('हिन्दी भाषा')).toEqual(['हिन्दी', 'भाषा']);
  });

  it('honours the dimensions option', async () => {
    const small = new HashingEmbedder({ dimensions: 8 });
    const large = new HashingEmbedder({ dimensions: 8192 });

    const [smallVector] = await small.embed(['dimension check'], 'document');
    const [largeVector] = await large.embed(['dimension check'], 'document');

    expect(small.dimensions).toBe(8);
    expect(smallVector).toHaveLength(8);
    expect(largeVector).toHaveLength(8192);
    expect(norm(smallVector)).toBeCloseTo(1, 10);
  });

  it.each([7, 8193, 0, 100.5, Number.NaN])('rejects %p dimensions', (dimensions) => {
    const error = errorOf(() => new HashingEmbedder({ dimensions }));

    expect(error).toBeInstanceOf(AppError);
    expect(error.code).toBe('invalid_embedding_dimensions');
    expect(error.message).toContain(String(dimensions));
  });

  it.each([
    [{ wordNgrams: 0 }],
    [{ wordNgrams: 6 }],
    [{ charNgrams: [0, 3] as [number, number] }],
    [{ charNgrams: [5, 3] as [number, number] }],
    [{ charNgrams: [3, 11] as [number, number] }],
  ])('rejects options %p', (options) => {
    const error = errorOf(() => new HashingEmbedder(options));

    expect(error).toBeInstanceOf(AppError);
    expect(error.code).toBe('invalid_embedder_options');
  });

  it('changes vectors with the n-gram options', async () => {
    const text = 'feature hashing options';
    const [base] = await sut.embed([text], 'document');
    const [unigrams] = await new HashingEmbedder({ wordNgrams: 1 }).embed([text], 'document');
    const [shortGrams] = await new HashingEmbedder({ charNgrams: [2, 3] }).embed([text], 'document');

    expect(unigrams).not.toEqual(base);
    expect(shortGrams).not.toEqual(base);
  });

  it('rejects a text that is not a string', async () => {
    await expect(sut.embed(['fine', 42 as unknown as string], 'document')).rejects.toMatchObject({
      code: 'invalid_embedding_input',
    });
  });
});

// Output for 'Hello, world' at 16 dimensions, recorded in a separate Node.js process.
const RECORDED_HELLO_WORLD_16 = [
  0, 0.107933, -0.3238, -0.215866, 0, 0, -0.539666, -0.539666, -0.107933, -0.107933, 0, 0.107933, 0.107933, 0.302213,
  -0.3238, -0.107933,
];
