import { ScoredId, TopKHeap } from 'src/platform/vectors/top-k-heap';

describe(TopKHeap.name, () => {
  function compareBestFirst(left: ScoredId, right: ScoredId): number {
    if (left.score !== right.score) {
      return right.score - left.score;
    }
    // Code-unit order, as in TopKHeap; localeCompare could order punctuation differently.
    return left.id < right.id ? -1 : 1;
  }

  function bestBySort(entries: ScoredId[], capacity: number): ScoredId[] {
    return [...entries].sort(compareBestFirst).slice(0, capacity);
  }

  it.each([1, 3, 10, 250])('keeps the best %p of 200 entries', (capacity) => {
    const entries = Array.from({ length: 200 }, (_, index) => ({
      id: `id-${String((index * 7919) % 200).padStart(3, '0')}`,
      // Rounded so that many scores tie and the id order decides.
      score: Math.round(Math.sin(index * 12.9898) * 10) / 10,
    }));
    const sut = new TopKHeap(capacity);

    entries.forEach((entry) => sut.offer(entry));

    expect(sut.sorted()).toEqual(bestBySort(entries, capacity));
  });

  it('returns nothing when empty', () => {
    expect(new TopKHeap(5).sorted()).toEqual([]);
  });
});
